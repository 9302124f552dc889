# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# cyrus.test (issue 16): Cyrus IMAP 3.6 beside Dovecot, for the mailbox audit
# against a second IMAP/POP3/ManageSieve implementation.
#
#   cyrus 127.0.30.143  143 (STARTTLS) 993  110 (STLS) 995  4190 (STARTTLS)
#
# Debian's cyrus-imapd and cyrus-pop3d conflict with dovecot-imapd and
# dovecot-pop3d as packages, so `lab.sh install` apt-installs only the parts
# that do not (cyrus-common: master, timsieved, ctl_cyrusdb; sasl2-bin) and
# unpacks the two others with dpkg-deb into run/opt/cyrus (lab_opt_unpack).
# The mailbox erin@cyrus.test is created through IMAP and ManageSieve by
# lib/cyrus_seed.py once the server is up (stamp: run/cyrus/.lab-stamp).

LAB_CYRUS_ADDR=127.0.30.143
LAB_CYRUS_DIR="$LAB_RUN/cyrus"
LAB_CYRUS_BIN="$LAB_RUN/opt/cyrus/usr/lib/cyrus/bin"
LAB_CYRUS_SOCK="$LAB_SOCK/cyrus"
LAB_CYRUS_SERVICES=(cyrus)
# The Cyrus packages apt may install (nothing in them conflicts with Dovecot).
LAB_CYRUS_PACKAGES=(cyrus-common cyrus-admin cyrus-clients sasl2-bin libsasl2-modules)

# lab_opt_unpack DEST PACKAGE=VERSION...: apt-get download the packages and
# unpack them into DEST (run/opt/NAME) -- never dpkg -i, so nothing on the
# machine changes. Skipped when DEST/.unpacked lists exactly these packages.
lab_opt_unpack() {
	local dest=$1 want tmp deb
	shift
	want=$(printf '%s\n' "$@")
	[[ -f $dest/.unpacked && $(cat "$dest/.unpacked") == "$want" ]] && return 0
	lab_log "unpacking $* into $dest"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q "$@" >/dev/null 2>&1) || {
		apt-get update -q >/dev/null || true
		(cd "$tmp" && apt-get download -q "$@") || lab_die "apt-get download $* failed"
	}
	rm -rf "$dest"
	mkdir -p "$dest"
	for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
	rm -rf "$tmp"
	printf '%s\n' "$want" >"$dest/.unpacked"
}

# Part of `lab.sh install`.
lab_cyrus_install() {
	lab_apt_install "${LAB_CYRUS_PACKAGES[@]}"
	local version
	version=$(dpkg-query -W -f='${Version}' cyrus-common)
	lab_opt_unpack "$LAB_RUN/opt/cyrus" "cyrus-imapd=$version" "cyrus-pop3d=$version"
}

# Called by lab_generate: certificate, configuration, directories, users.
lab_cyrus() {
	[[ -x $LAB_CYRUS_BIN/imapd && -x /usr/lib/cyrus/bin/master ]] ||
		lab_die "Cyrus is not installed -- run: $LAB_DIR/lab.sh install"
	local all_before=${LAB_CHANGED[all]:-} now_minus_1d d
	now_minus_1d=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
	lab_pki_leaf cyrus-imap rsa2048 "DNS:imap.cyrus.test" ca -startdate "$now_minus_1d" -days 365
	if [[ -z $all_before && -n ${LAB_CHANGED[all]:-} ]]; then
		LAB_CHANGED[all]=
		LAB_CHANGED[cyrus]=1
	fi
	for d in lib lib/db lib/log lib/lock lib/proc lib/socket spool sieve tls; do
		mkdir -p "$LAB_CYRUS_DIR/$d"
	done
	mkdir -p "$LAB_CYRUS_SOCK"
	# erin's sessions are logged by Cyrus itself (protocol telemetry).
	mkdir -p "$LAB_CYRUS_DIR/lib/log/erin@cyrus.test" "$LAB_CYRUS_DIR/lib/log/erin"
	# Cyrus runs as the Debian user "cyrus": its key must be readable by it.
	lab_put "$LAB_CYRUS_DIR/tls/cyrus.pem" cyrus <"$LAB_CERTS/cyrus-imap.fullchain.pem"
	lab_put "$LAB_CYRUS_DIR/tls/cyrus.key" cyrus <"$LAB_CERTS/cyrus-imap.key"
	lab_put "$LAB_CYRUS_DIR/tls/ca.pem" cyrus <"$LAB_CA_DIR/ca.pem"
	chmod 600 "$LAB_CYRUS_DIR/tls/cyrus.key"
	lab_render cyrus/imapd.conf.in "$LAB_CYRUS_DIR/imapd.conf" cyrus
	lab_render cyrus/cyrus.conf.in "$LAB_CYRUS_DIR/cyrus.conf" cyrus
	# Passwords: the admin (cyrus) and erin, in the lab's own sasldb.
	if [[ ! -s $LAB_CYRUS_DIR/sasldb2 ]]; then
		echo lab-secret-cyrus-admin | saslpasswd2 -p -c -f "$LAB_CYRUS_DIR/sasldb2" -u imap.cyrus.test cyrus
		echo lab-secret-erin | saslpasswd2 -p -c -f "$LAB_CYRUS_DIR/sasldb2" -u cyrus.test erin
	fi
	chown -R cyrus:mail "$LAB_CYRUS_DIR" "$LAB_CYRUS_SOCK"
}

lab_cyrus_launch() {
	rm -f "$LAB_PIDS/cyrus.pid"
	lab_detached "$LAB_LOGS/cyrus.start.log" /usr/lib/cyrus/bin/master \
		-C "$LAB_CYRUS_DIR/imapd.conf" -M "$LAB_CYRUS_DIR/cyrus.conf" \
		-p "$LAB_PIDS/cyrus.pid" -d -L "$LAB_LOGS/cyrus.log"
	lab_proc_record cyrus "$LAB_PIDS/cyrus.pid"
}

# After the ports are open: create erin's mailbox unless the stamp says it
# is there already (lib/cyrus_seed.py).
lab_cyrus_seed() {
	python3 "$LAB_DIR/lib/cyrus_seed.py" --addr "$LAB_CYRUS_ADDR" --ca "$LAB_CA_DIR/ca.pem" \
		--stamp "$LAB_CYRUS_DIR/.lab-stamp" \
		--sieve "$LAB_CONF/sieve" >>"$LAB_LOGS/cyrus-seed.log" 2>&1 ||
		{ tail -n 20 "$LAB_LOGS/cyrus-seed.log" >&2; lab_die "cyrus: seeding erin@cyrus.test failed"; }
}
