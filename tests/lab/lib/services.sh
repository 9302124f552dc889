# shellcheck shell=bash
# Starting, stopping and checking the lab services. A "service" is what the
# tests name (good-postfix, ...); it consists of one or more daemon
# processes ("procs"), each recorded as run/pids/PROC.pid. Every daemon
# forks into its own session, so run/pids/PROC.sid lets `stop` also reap
# children that outlive their master, without ever matching by name.

LAB_SERVICES=(dns resolver good-postfix good-dovecot good-nginx bad-postfix bad-dovecot bad-pop3 "${LAB_LEGACY_SERVICES[@]}" "${LAB_ORG_SERVICES[@]}" "${LAB_CYRUS_SERVICES[@]}" "${LAB_EXIM_SERVICES[@]}" "${LAB_REVOC_SERVICES[@]}" "${LAB_RELAY_SERVICES[@]}" "${LAB_PG_SERVICES[@]}")

lab_service_procs() {
	case $1 in
	dns | resolver | good-dovecot | good-nginx | bad-dovecot | bad-pop3 | legacy-dovecot | legacy-tls13 | org-dovecot | cyrus | exim | history-postgres) echo "$1" ;;
	revocation-nginx | revocation-exim) echo "$1" ;;
	relay-open-postfix | relay-mynet-postfix | relay-closed-postfix | relay-outside-postfix) echo "$1" ;; # no SASL
	good-postfix | bad-postfix | legacy-postfix) echo "$1-sasl $1" ;; # SASL first: smtpd needs it
	*) lab_die "unknown service '$1' (known: ${LAB_SERVICES[*]})" ;;
	esac
}

lab_service_ports() {
	case $1 in
	dns) echo "$LAB_DNS_ADDR:53" ;;
	resolver) echo "$LAB_RESOLVER_ADDR:53" ;;
	good-postfix) echo "$LAB_GOOD_MX:25 $LAB_GOOD_MX:465 $LAB_GOOD_MX:587" ;;
	good-dovecot) echo "$LAB_GOOD_IMAP:143 $LAB_GOOD_IMAP:993 $LAB_GOOD_IMAP:4190" ;;
	good-nginx) echo "$LAB_GOOD_WEB:80 $LAB_GOOD_WEB:443" ;;
	bad-postfix) echo "$LAB_BAD_MX:25 $LAB_BAD_MX:587" ;;
	bad-dovecot) echo "$LAB_BAD_IMAP:143 $LAB_BAD_IMAP:993 $LAB_BAD_IMAP:4190" ;;
	bad-pop3) echo "$LAB_BAD_POP:110" ;;
	legacy-postfix) echo "$LAB_LEGACY_MX:25 $LAB_LEGACY_MX:465 $LAB_LEGACY_MX:587 $LAB_LEGACY_LIMITED:25" ;;
	legacy-dovecot) echo "$LAB_LEGACY_IMAP:143 $LAB_LEGACY_IMAP:993 $LAB_LEGACY_IMAP:110 $LAB_LEGACY_IMAP:995 $LAB_LEGACY_IMAP:4190" ;;
	legacy-tls13) echo "$LAB_LEGACY_TLS13:143 $LAB_LEGACY_TLS13:993" ;;
	org-dovecot) echo "$LAB_ORG_IMAP:143 $LAB_ORG_IMAP:993" ;;
	cyrus) echo "$LAB_CYRUS_ADDR:143 $LAB_CYRUS_ADDR:993 $LAB_CYRUS_ADDR:110 $LAB_CYRUS_ADDR:995 $LAB_CYRUS_ADDR:4190" ;;
	exim) echo "$LAB_EXIM_ADDR:25 $LAB_EXIM_ADDR:587" ;;
	revocation-nginx) echo "$LAB_REVOC_WEB:80" ;;
	revocation-exim) echo "$LAB_REVOC_GOOD:25 $LAB_REVOC_REVOKED:25 $LAB_REVOC_STAPLED:25 $LAB_REVOC_MUST_STAPLE:25 $LAB_REVOC_UNREACHABLE:25" ;;
	relay-open-postfix) echo "$LAB_RELAY_OPEN:25" ;;
	relay-mynet-postfix) echo "$LAB_RELAY_MYNET:25" ;;
	relay-closed-postfix) echo "$LAB_RELAY_CLOSED:25" ;;
	relay-outside-postfix) echo "$LAB_RELAY_OUTSIDE:25" ;;
	history-postgres) echo "$LAB_PG_ADDR:$LAB_PG_PORT" ;;
	esac
}

# The executable name each proc must have; guards against a stale pid file
# pointing at an unrelated process that reused the pid.
lab_proc_comm() {
	case $1 in
	dns) echo knotd ;;
	resolver) echo unbound ;;
	*-postfix | cyrus) echo master ;;
	exim | revocation-exim) echo exim4 ;;
	history-postgres) echo postgres ;;
	*-nginx) echo nginx ;;
	*) echo dovecot ;;
	esac
}

# Print the pid of a running proc; clean up and fail if it is not running.
lab_proc_pid() {
	local proc=$1 f="$LAB_PIDS/$1.pid" pid
	[[ -f $f ]] || return 1
	pid=$(tr -dc '0-9' <"$f")
	if [[ -n $pid ]] && lab_pid_alive "$pid" &&
		[[ $(ps -o comm= -p "$pid" 2>/dev/null) == "$(lab_proc_comm "$proc")" ]]; then
		echo "$pid"
		return 0
	fi
	# Keep PROC.sid: `stop` still has to reap what the dead master left.
	rm -f "$f"
	return 1
}

# Wait for a daemon's own pid file, then record pid and session id.
lab_proc_record() {
	local proc=$1 src=$2 i pid=""
	for ((i = 0; i < 150; i++)); do
		[[ -s $src ]] && pid=$(tr -dc '0-9' <"$src") && [[ -n $pid ]] && lab_pid_alive "$pid" && break
		pid=""
		sleep 0.1
	done
	[[ -n $pid ]] || return 1
	[[ $src == "$LAB_PIDS/$proc.pid" ]] || echo "$pid" >"$LAB_PIDS/$proc.pid"
	# Only a session this daemon leads may be reaped later; never record
	# a session we share with someone else (e.g. the caller's shell).
	local sid
	sid=$(ps -o sid= -p "$pid" | tr -d ' ')
	if [[ $sid == "$pid" ]]; then echo "$sid" >"$LAB_PIDS/$proc.sid"; else rm -f "$LAB_PIDS/$proc.sid"; fi
}

# Launch one proc. Daemons detach themselves; their stdio goes to a log so a
# caller reading our output through a pipe never waits on a daemon.
lab_proc_launch() {
	local proc=$1 out="$LAB_LOGS/$1.start.log"
	case $proc in
	dns)
		rm -f "$LAB_PIDS/dns.pid"
		lab_detached "$out" knotd -d -c "$LAB_RUN/dns/knot.conf"
		lab_proc_record dns "$LAB_PIDS/dns.pid"
		;;
	resolver)
		rm -f "$LAB_PIDS/resolver.pid"
		lab_detached "$out" unbound -c "$LAB_RESOLVER_DIR/unbound.conf"
		lab_proc_record resolver "$LAB_PIDS/resolver.pid"
		;;
	cyrus) lab_cyrus_launch ;;
	exim) lab_exim_launch ;;
	revocation-exim) lab_revocation_exim_launch ;;
	history-postgres) lab_postgres_launch ;;
	*-postfix)
		local dir="$LAB_RUN/$proc" queue="$LAB_SHORT/$proc/queue" netns=()
		if [[ $proc == relay-outside-postfix ]]; then
			# Its own network namespace (lib/relay.sh).
			lab_relay_netns
			netns=(ip netns exec "$LAB_RELAY_NETNS")
		fi
		rm -f "$queue/pid/master.pid"
		if ! lab_detached "$out" "${netns[@]}" postfix -c "$dir/etc" start ||
			! lab_proc_record "$proc" "$queue/pid/master.pid"; then
			# Postfix prints fatal start-up errors only to syslog (absent
			# here) or a terminal: replay the check on a pseudo-terminal so
			# the reason ends up in the log shown to the user.
			script -qec "postfix -c '$dir/etc' check" /dev/null </dev/null >>"$out" 2>&1 || true
			return 1
		fi
		;;
	*-nginx)
		rm -f "$LAB_PIDS/$proc.pid"
		lab_detached "$out" nginx -e "$LAB_LOGS/$proc.log" -c "$LAB_RUN/$proc/nginx.conf"
		lab_proc_record "$proc" "$LAB_PIDS/$proc.pid"
		;;
	*)
		# Dovecot refuses to start twice on one base_dir; a master found
		# there (e.g. run/pids was wiped) is ours, so adopt it instead.
		local master="$LAB_SOCK/$proc/master.pid"
		local mpid
		mpid=$(tr -dc '0-9' 2>/dev/null <"$master" || true)
		if [[ -n $mpid ]] && lab_pid_alive "$mpid" && [[ $(ps -o comm= -p "$mpid") == dovecot ]]; then
			lab_proc_record "$proc" "$master"
			return
		fi
		rm -f "$master"
		lab_detached "$out" dovecot -c "$LAB_RUN/$proc/dovecot.conf"
		lab_proc_record "$proc" "$master"
		;;
	esac
}

lab_proc_stop() {
	local proc=$1 pid
	if pid=$(lab_proc_pid "$proc"); then
		if [[ $proc == *-postfix ]]; then
			lab_detached "$LAB_LOGS/$proc.start.log" postfix -c "$LAB_RUN/$proc/etc" stop || true
		elif [[ $proc == history-postgres ]]; then
			# SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients).
			kill -INT "$pid" 2>/dev/null || true
		else
			kill -TERM "$pid" 2>/dev/null || true
		fi
		if ! lab_wait_pid_gone "$pid" 15; then
			lab_log "$proc (pid $pid) ignored SIGTERM; killing"
			kill -KILL "$pid" 2>/dev/null || true
			lab_wait_pid_gone "$pid" 5 || true
		fi
	fi
	lab_proc_reap "$proc"
	rm -f "$LAB_PIDS/$proc.pid" "$LAB_PIDS/$proc.sid"
}

# Once a master is gone, end whatever is left in the session it led (for
# example login processes still holding a listening socket after the master
# was killed with SIGKILL). Only sessions recorded at start are touched, and
# only after their leader -- our daemon -- has exited.
lab_proc_reap() {
	local sid left
	sid=$(tr -dc '0-9' 2>/dev/null <"$LAB_PIDS/$1.sid" || true)
	[[ -n $sid ]] && ((sid > 1)) || return 0
	lab_pid_alive "$sid" && return 0
	left=$(pgrep -s "$sid" || true)
	[[ -n $left ]] || return 0
	# shellcheck disable=SC2086
	kill -TERM $left 2>/dev/null || true
	sleep 0.5
	left=$(pgrep -s "$sid" || true)
	# shellcheck disable=SC2086
	[[ -z $left ]] || kill -KILL $left 2>/dev/null || true
}

lab_service_running() {
	local p
	for p in $(lab_service_procs "$1"); do lab_proc_pid "$p" >/dev/null || return 1; done
}

# Show the end of every log that may explain why SERVICE failed.
lab_service_logs() {
	local p f
	for p in $(lab_service_procs "$1"); do
		for f in "$LAB_LOGS/$p.start.log" "$LAB_LOGS/$p.log"; do
			[[ -s $f ]] || continue
			printf -- '--- tail of %s\n' "$f" >&2
			tail -n 20 "$f" >&2
		done
	done
}

# The DNS server is only useful once every zone is loaded, not merely when
# the port is open: ask each zone for its SOA.
lab_dns_ready() {
	local z
	for z in . test. good.test. bad.test. broken.test. expired.test. dane.test. legacy.test. cyrus.test. exim.test.; do
		dig +norec +time=1 +tries=1 @"$LAB_DNS_ADDR" SOA "$z" 2>/dev/null | grep -q 'status: NOERROR' || return 1
	done
}

lab_service_wait() {
	local svc=$1 timeout=${LAB_TIMEOUT:-30} start=$SECONDS ep pending
	while :; do
		pending=""
		for ep in $(lab_service_ports "$svc"); do
			lab_port_open "${ep%:*}" "${ep##*:}" || pending+=" $ep"
		done
		if [[ -z $pending && $svc == dns ]] && ! lab_dns_ready; then pending=" zones"; fi
		[[ -n $pending ]] || return 0
		if ! lab_service_running "$svc" || ((SECONDS - start >= timeout)); then
			lab_service_logs "$svc"
			lab_die "service $svc did not come up (not ready:$pending)"
		fi
		sleep 0.2
	done
}

# Refuse to start when someone else already holds one of our ports: the
# tests would silently talk to the wrong server.
lab_service_check_ports_free() {
	local ep
	for ep in $(lab_service_ports "$1"); do
		if lab_port_open "${ep%:*}" "${ep##*:}"; then
			ss -ltnp "( sport = :${ep##*:} )" >&2 || true
			lab_die "cannot start $1: $ep is already in use by a process the lab did not start"
		fi
	done
}

lab_service_start() {
	local svc=$1 p
	if lab_service_running "$svc"; then
		lab_service_wait "$svc"
		return 0
	fi
	# A half-started service (e.g. SASL without Postfix) is restarted whole.
	lab_service_stop "$svc"
	lab_service_check_ports_free "$svc"
	for p in $(lab_service_procs "$svc"); do
		if ! lab_proc_launch "$p"; then
			lab_service_logs "$svc"
			lab_die "service $svc: $p did not start"
		fi
	done
	lab_service_wait "$svc"
	lab_log "$svc up"
}

lab_service_stop() {
	local procs p
	read -r -a procs <<<"$(lab_service_procs "$1")"
	for ((p = ${#procs[@]} - 1; p >= 0; p--)); do lab_proc_stop "${procs[p]}"; done
}
