# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# exim.test (issue 16): Exim 4.96 beside Postfix, for the SMTP probes
# (STARTTLS, banner, AUTH before TLS, the STARTTLS injection test).
#
#   exim 127.0.30.25  25 (MX, STARTTLS)  587 (submission, STARTTLS; AUTH
#                     PLAIN/LOGIN only after TLS, for frank@exim.test)
#
# exim4-daemon-light conflicts with postfix (mail-transport-agent), so
# `lab.sh install` unpacks it and exim4-base with dpkg-deb into run/opt/exim
# and creates only the system user Debian's binary is built for
# ("Debian-exim", as exim4-base's postinst would).

LAB_EXIM_ADDR=127.0.30.25
LAB_EXIM_DIR="$LAB_RUN/exim"
LAB_EXIM_BIN="$LAB_RUN/opt/exim/usr/sbin/exim4"
LAB_EXIM_SERVICES=(exim)

# Part of `lab.sh install`.
lab_exim_install() {
	# The daemon's shared libraries (exim4-daemon-light's dependencies that
	# postfix does not already bring).
	lab_apt_install libgnutls-dane0 libidn12 libgnutls30 libpcre2-8-0 libdb5.3
	local version
	version=$(apt-cache policy exim4-daemon-light | awk '/Candidate:/ { print $2 }')
	[[ -n $version && $version != "(none)" ]] || lab_die "no exim4-daemon-light package available"
	lab_opt_unpack "$LAB_RUN/opt/exim" "exim4-daemon-light=$version" "exim4-base=$version"
	if ! getent group Debian-exim >/dev/null; then groupadd --system Debian-exim; fi
	if ! getent passwd Debian-exim >/dev/null; then
		useradd --system --gid Debian-exim --home-dir /nonexistent --no-create-home \
			--shell /usr/sbin/nologin Debian-exim
	fi
}

# Called by lab_generate.
lab_exim() {
	[[ -x $LAB_EXIM_BIN ]] && getent passwd Debian-exim >/dev/null ||
		lab_die "Exim is not installed -- run: $LAB_DIR/lab.sh install"
	local all_before=${LAB_CHANGED[all]:-} now_minus_1d
	now_minus_1d=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
	lab_pki_leaf exim-mx ec "DNS:mx.exim.test,DNS:smtp.exim.test,DNS:mx.cyrus.test" ca \
		-startdate "$now_minus_1d" -days 365
	if [[ -z $all_before && -n ${LAB_CHANGED[all]:-} ]]; then
		LAB_CHANGED[all]=
		LAB_CHANGED[exim]=1
	fi
	mkdir -p "$LAB_EXIM_DIR/spool" "$LAB_EXIM_DIR/tls"
	lab_put "$LAB_EXIM_DIR/tls/exim.pem" exim <"$LAB_CERTS/exim-mx.fullchain.pem"
	lab_put "$LAB_EXIM_DIR/tls/exim.key" exim <"$LAB_CERTS/exim-mx.key"
	chmod 640 "$LAB_EXIM_DIR/tls/exim.key"
	lab_render exim/exim.conf.in "$LAB_EXIM_DIR/exim.conf" exim
	chown -R Debian-exim:Debian-exim "$LAB_EXIM_DIR/spool" "$LAB_EXIM_DIR/tls"
	# Exim appends to its logs as Debian-exim.
	touch "$LAB_LOGS/exim-main.log" "$LAB_LOGS/exim-reject.log" "$LAB_LOGS/exim-panic.log"
	chown Debian-exim "$LAB_LOGS"/exim-*.log
}

lab_exim_launch() {
	rm -f "$LAB_PIDS/exim.pid"
	lab_detached "$LAB_LOGS/exim.start.log" "$LAB_EXIM_BIN" -C "$LAB_EXIM_DIR/exim.conf" -bd
	lab_proc_record exim "$LAB_PIDS/exim.pid"
}
