#!/usr/bin/env bash
# Entry point of the mailaudit test lab: real Postfix, Dovecot, Knot and nginx
# instances on loopback addresses, playing a well-configured provider
# (good.test) and a badly configured one (bad.test). See README.md.
#
# Everything binds to 127.0.0.0/8 only, and Postfix has no delivery agent
# that could send mail anywhere: the lab never generates outside traffic.
set -euo pipefail

# Daemons and their tools live in sbin, which a test runner's PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"
# Resolve our own directory so the lab works from any current directory.
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
for lib in common install pki mailauth rdap legacy org cyrus exim revocation relay postgres dns resolver render services selftest; do
	# shellcheck source=/dev/null
	. "$LAB_DIR/lib/$lib.sh"
done

usage() {
	cat <<USAGE
usage: $0 COMMAND
  install          apt-get install everything the lab needs (idempotent)
  install-test-tools
                   apt-get install what the tests check reports with
                   (poppler-utils, chromium; idempotent)
  up               generate what is missing under run/ and start all services
  down             stop every process the lab started
  start SERVICE    start one service and wait for its ports
  stop SERVICE     stop one service
  status           show each service and its ports (exit 3 if any is down)
  env              print export lines for the Rust integration tests
  selftest         check the running lab against the behaviour matrix
services: ${LAB_SERVICES[*]}
USAGE
}

# Serialise commands that change state: parallel test binaries may all call
# `up` at once, and must end up sharing one set of daemons.
lab_lock() {
	mkdir -p "$LAB_RUN"
	exec 9>"$LAB_RUN/.lock"
	flock -w 120 9 || lab_die "another lab.sh is still running (lock $LAB_RUN/.lock)"
}

lab_require_tools() {
	local t missing=()
	for t in postfix dovecot knotd unbound nginx ldns-keygen ldns-signzone ldns-key2ds openssl dig flock pgrep ss python3; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	((${#missing[@]} == 0)) || lab_die "missing tools: ${missing[*]} -- run: $0 install"
}

# Generate all material; afterwards LAB_CHANGED names services whose
# configuration (or, via "all", certificates) changed.
lab_generate() {
	lab_require_tools
	mkdir -p "$LAB_PIDS" "$LAB_LOGS"
	lab_pki
	lab_dns
	lab_resolver
	lab_render_all
	lab_legacy
	lab_org
	lab_rdap
	lab_cyrus
	lab_exim
	lab_revocation
	lab_relay
	lab_postgres
}

# Start SERVICE, or leave it running -- unless what it reads was just
# regenerated, in which case restart it cleanly.
lab_service_ensure() {
	local svc=$1
	if [[ -n ${LAB_CHANGED[$svc]:-}${LAB_CHANGED[all]:-} ]] && lab_service_running "$svc"; then
		lab_log "$svc: configuration changed, restarting"
		lab_service_stop "$svc"
	fi
	lab_service_start "$svc"
	# Cyrus's mailbox is created through the running server (once).
	[[ $svc != cyrus ]] || lab_cyrus_seed
}

cmd_up() {
	lab_lock
	lab_generate
	local svc
	for svc in "${LAB_SERVICES[@]}"; do lab_service_ensure "$svc"; done
	lab_log "all services up ($SECONDS s)"
}

cmd_down() {
	lab_lock
	# Services are independent of each other, and each daemon takes a
	# second or two to wind down: stop them all in parallel.
	local svc jobs=() j rc=0
	for svc in "${LAB_SERVICES[@]}"; do
		lab_service_stop "$svc" &
		jobs+=($!)
	done
	for j in "${jobs[@]}"; do wait "$j" || rc=1; done
	((rc == 0)) || lab_die "some services could not be stopped (see messages above)"
	lab_relay_netns_down
	lab_log "all lab processes stopped"
}

cmd_start() {
	[[ $# -eq 1 ]] || { usage; exit 2; }
	lab_service_procs "$1" >/dev/null
	lab_lock
	lab_generate
	lab_service_ensure "$1"
}

cmd_stop() {
	[[ $# -eq 1 ]] || { usage; exit 2; }
	lab_service_procs "$1" >/dev/null
	lab_lock
	lab_service_stop "$1"
	lab_log "$1 stopped"
}

cmd_status() {
	local svc p ep pids state rc=0 ports
	for svc in "${LAB_SERVICES[@]}"; do
		pids="" state=running ports=""
		for p in $(lab_service_procs "$svc"); do
			if pid=$(lab_proc_pid "$p"); then pids+="${pids:+,}$pid"; else state=stopped; fi
		done
		for ep in $(lab_service_ports "$svc"); do
			if lab_port_open "${ep%:*}" "${ep##*:}"; then ports+=" $ep:open"; else
				ports+=" $ep:closed"
				state=${state/running/degraded}
			fi
		done
		[[ $state == running ]] || rc=3
		printf '%-14s %-9s pid %-13s%s\n' "$svc" "$state" "${pids:--}" "$ports"
	done
	return $rc
}

cmd_env() {
	printf 'export MAILAUDIT_LAB_RESOLVER=%q\n' "$LAB_DNS_ADDR"
	printf 'export MAILAUDIT_LAB_CA=%q\n' "$LAB_RUN/ca/ca.pem"
	printf 'export MAILAUDIT_LAB_ANCHOR=%q\n' "$LAB_RUN/dns/root.anchor"
	printf 'export MAILAUDIT_LAB_POSTGRES=%q\n' "postgres://mailaudit@$LAB_PG_ADDR:$LAB_PG_PORT/postgres"
}

main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	install) cmd_install "$@" ;;
	install-test-tools) cmd_install_test_tools "$@" ;;
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	status) cmd_status "$@" ;;
	env) cmd_env "$@" ;;
	selftest) cmd_selftest "$@" ;;
	-h | --help | help) usage ;;
	*) usage >&2; exit 2 ;;
	esac
}

main "$@"
