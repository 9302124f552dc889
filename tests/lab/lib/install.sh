# shellcheck shell=bash
# `lab.sh install`: bring the Debian packages the lab needs onto the machine
# without letting their maintainer scripts start system-wide daemons, which
# would grab ports (25, 53, 80, 143, ...) on every address and possibly try to
# talk to the outside world.

# Everything the lab runs or uses to check itself.
LAB_PACKAGES=(
	postfix
	dovecot-core dovecot-imapd dovecot-pop3d dovecot-managesieved dovecot-sieve
	knot knot-dnsutils bind9-dnsutils ldnsutils
	# the validating resolver in front of the lab (lib/resolver.sh)
	unbound
	# lab_dnssec.rs captures mailaudit's queries to it, to see CD=1 (issue 18)
	tcpdump
	nginx-light
	openssl curl iproute2 procps
	# lib/maildir.py generates the lab mailboxes (stdlib only)
	python3
	# the scan history's PostgreSQL backend (lib/postgres.sh, issue 13); the
	# lab runs its own cluster, never the package's system one
	postgresql
)

# Debian system services of exactly these daemons. They must never run while
# the lab does; anything else on the machine is not ours to touch.
# cyrus-common brings Debian's cyrus-imapd unit (its master would listen on
# every address); the lab runs its own master from run/cyrus instead.
LAB_SYSTEM_SERVICES=(postfix dovecot knot nginx unbound cyrus-imapd)

# What the tests use to check the reports the way a reader would: poppler's
# pdftotext/pdfinfo/pdfdetach for report.pdf, headless Chromium for
# report.html. Not needed to run the lab, so `install` leaves them out and
# `install-test-tools` (called by tests/run.sh) brings them.
TEST_TOOL_PACKAGES=(poppler-utils chromium)

# Prints each of the given packages that is not installed, one per line.
lab_missing_packages() {
	local p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $status == "install ok installed" ]] || printf '%s\n' "$p"
	done
}

# apt-get installs the given packages that are missing, and nothing else:
# the plan is simulated first and refused if it would remove any package
# (cyrus-imapd removes dovecot-imapd, exim4 removes postfix; the lab must
# never take a package off the machine).
lab_apt_install() {
	local missing created_policy=0
	mapfile -t missing < <(lab_missing_packages "$@")
	if ((${#missing[@]} == 0)); then
		lab_log "all packages already installed: $*"
		return 0
	fi
	lab_log "installing: ${missing[*]}"
	# Only refresh the package lists when something actually has to be
	# installed, so a re-run on a prepared machine needs no network.
	apt-get update -q || lab_die "apt-get update failed"
	local plan removals
	plan=$(DEBIAN_FRONTEND=noninteractive apt-get -s install -y -q --no-install-recommends "${missing[@]}") ||
		lab_die "apt-get cannot plan the install of: ${missing[*]}"
	removals=$(grep '^Remv ' <<<"$plan" || true)
	if [[ -n $removals ]]; then
		lab_die "refusing to install ${missing[*]}: apt would remove packages:
$removals"
	fi
	# policy-rc.d answering 101 ("action forbidden") makes invoke-rc.d skip
	# service starts during package configuration. A container image may
	# already ship one; only remove it if this run created it.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# temporary, created by mailaudit tests/lab/lab.sh install\nexit 101\n' \
			>/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		created_policy=1
	fi
	# "No configuration" leaves /etc/postfix/main.cf absent, so even a
	# started system postfix would refuse to run; the lab brings its own.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	local rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
	if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
	((rc == 0)) || lab_die "apt-get install failed (exit $rc)"
}

cmd_install() {
	lab_apt_install "${LAB_PACKAGES[@]}"
	lab_cyrus_install
	lab_exim_install
	lab_conformance_install
	lab_stop_system_services
}

# The RFC 7208 SPF test suite (tests/spf_conformance.rs) ships in Debian's
# python3-spf as /usr/share/doc/python3-spf/rfc7208-tests.yml.gz: the package
# is only downloaded and unpacked into run/opt/spf-suite, never installed,
# and the suite's text never enters the repository. python3-yaml reads it.
LAB_SPF_SUITE="$LAB_RUN/opt/spf-suite/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"
lab_conformance_install() {
	lab_apt_install python3-yaml
	local version
	version=$(apt-cache policy python3-spf | awk '/Candidate:/ { print $2 }')
	[[ -n $version && $version != "(none)" ]] || lab_die "no python3-spf package available"
	lab_opt_unpack "$LAB_RUN/opt/spf-suite" "python3-spf=$version"
	[[ -s $LAB_SPF_SUITE ]] || lab_die "python3-spf $version has no $LAB_SPF_SUITE"
}

cmd_install_test_tools() {
	lab_apt_install "${TEST_TOOL_PACKAGES[@]}"
}

# Stop system instances of postfix/dovecot/knot/nginx that a package or an
# earlier boot may have started. We identify them by their Debian pid files
# (not by process name) so that lab instances, whose pid files live under
# tests/lab/run/, are never hit.
lab_stop_system_services() {
	local svc
	for svc in "${LAB_SYSTEM_SERVICES[@]}"; do
		if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
			systemctl stop "$svc" >/dev/null 2>&1 || true
			systemctl disable "$svc" >/dev/null 2>&1 || true
		fi
	done
	# Postfix: the default instance uses /etc/postfix; ask it politely.
	if [[ -f /etc/postfix/main.cf ]] && [[ -f /var/spool/postfix/pid/master.pid ]]; then
		postfix stop >/dev/null 2>&1 || true
	fi
	local pidfile
	for pidfile in /var/spool/postfix/pid/master.pid /run/dovecot/master.pid \
		/run/knot/knot.pid /run/nginx.pid /run/unbound.pid; do
		lab_kill_pidfile_system "$pidfile"
	done
}

# Kill the process named in a *system* pid file if it is still alive and
# really is one of the four daemons.
lab_kill_pidfile_system() {
	local pidfile=$1 pid comm
	[[ -f $pidfile ]] || return 0
	pid=$(tr -dc '0-9' <"$pidfile")
	[[ -n $pid ]] || return 0
	comm=$(ps -o comm= -p "$pid" 2>/dev/null || true)
	case $comm in
	master | dovecot | knotd | nginx | unbound)
		lab_log "stopping system $comm (pid $pid from $pidfile)"
		kill -TERM "$pid" 2>/dev/null || true
		lab_wait_pid_gone "$pid" 15 || kill -KILL "$pid" 2>/dev/null || true
		;;
	esac
}
