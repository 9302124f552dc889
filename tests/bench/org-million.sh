#!/usr/bin/env bash
# The organisation-wide mailbox audit of issue 12 at scale: 200 mailboxes ×
# 5,000 messages (1,000,000, generated once) on one Dovecot of this
# script's own, opened with its master user, classified by
# `mailaudit scan --mailboxes LIST --admin auditor`. Wall time, peak RSS,
# messages per second and the server's CPU, per --sessions-per-server
# value. Targets: ≤ 60 s and ≤ 200 MB on the 2-core machine. Not a timed
# test.
#
#   tests/bench/org-million.sh                  generate (if missing), measure
#   tests/bench/org-million.sh --cold           forget Dovecot's indexes first
#   tests/bench/org-million.sh --prepare-only   generate and set up only
#   tests/bench/org-million.sh --perf           one extra run under perf record -a
#   tests/bench/org-million.sh --rawfetch       the same FETCHes by a minimal client
#
# Environment: BENCH_CORPUS (default ../bench-corpus beside the checkout,
# outside any git tree; about 5 GB), USERS (200), MESSAGES (5000, per
# mailbox), SESSIONS ("2 4 8", --sessions-per-server values), RUNS (3 per
# value), MAILAUDIT_BIN (default: a release build without the PDF engine,
# `cargo build --release --no-default-features`, copied into the corpus
# directory so that a rebuild during the run changes nothing).
#
# The Dovecot (2.3, the lab's package) listens on 127.0.17.143 (IMAPS 993,
# IMAP 143 with STARTTLS), has its config, base_dir, logs and indexes under
# BENCH_CORPUS/dovecot and BENCH_CORPUS/index, and is stopped by its PID
# when the script ends. Its certificate names 127.0.17.143 and
# imap.bench.test and is signed by the lab's issuing CA (read, not changed:
# `openssl x509 -req`, no CA database), so the client trusts it with the
# lab's --ca-file. The master user `auditor` opens every mailbox as in the
# lab's org-dovecot. The mailboxes name their server
# (imaps://userNNN%40bench.test@imap.bench.test), so the master password
# goes there only. The scanner's resolver is a minimal DNS server of the
# script's (org_million.py dns, 127.0.17.53): imap.bench.test has the A
# record 127.0.17.143, every other name (bench.test too) is NXDOMAIN, so
# the domain part of the scan is short. Needs root (Dovecot, port 53, the
# Maildirs of uid 65534) and the lab's CA (tests/lab/lab.sh up). Only
# loopback is contacted.
set -euo pipefail
trap 'echo "org-million: ERROR: line $LINENO: $BASH_COMMAND failed" >&2' ERR
cd "$(dirname "$0")/../.."
repo=$(pwd)

cold=0 prepare_only=0 perf=0 rawfetch=0
for arg in "$@"; do
	case $arg in
	--cold) cold=1 ;;
	--prepare-only) prepare_only=1 ;;
	--perf) perf=1 ;;
	--rawfetch) rawfetch=1 ;;
	*)
		echo "usage: $0 [--cold] [--prepare-only] [--perf] [--rawfetch]" >&2
		exit 2
		;;
	esac
done

CORPUS=${BENCH_CORPUS:-$(dirname "$repo")/bench-corpus}
USERS=${USERS:-200}
MESSAGES=${MESSAGES:-5000}
read -r -a SESSIONS <<<"${SESSIONS:-2 4 8}"
RUNS=${RUNS:-3}
ADDR=127.0.17.143
DNS_ADDR=127.0.17.53
DOMAIN=bench.test
HOST=imap.$DOMAIN
lab=tests/lab
ca=$repo/$lab/run/ca

die() {
	printf 'org-million: ERROR: %s\n' "$*" >&2
	exit 2
}
log() { printf 'org-million: %s\n' "$*" >&2; }

[[ $(id -u) == 0 ]] || die "needs root (Dovecot, Maildirs of uid 65534)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install time)"
command -v dovecot >/dev/null || die "dovecot missing (tests/lab/lab.sh install)"
[[ -s $ca/ca.pem && -s $ca/issuing.key ]] || die "no lab CA under $ca (tests/lab/lab.sh up)"
case $CORPUS in "$repo"/*) die "BENCH_CORPUS=$CORPUS is inside the checkout; put it outside any git tree" ;; esac
mkdir -p "$CORPUS"
CORPUS=$(cd "$CORPUS" && pwd)

# 1. The corpus, once: orgmail.py --bench leaves a corpus with the same
# parameters alone. About 21 MB on disk per 5,000 messages (one 4 KiB
# block per message file), plus Dovecot's indexes.
manifest=$CORPUS/mail/bench-manifest.json
need_kb=$((USERS * MESSAGES * 5))
if [[ ! -s $manifest ]]; then
	free_kb=$(df -Pk "$CORPUS" | awk 'NR == 2 { print $4 }')
	((free_kb > need_kb + 4 * 1024 * 1024)) ||
		die "about $((need_kb / 1024 / 1024)) GB needed for the corpus, $((free_kb / 1024 / 1024)) GB free (and 4 GB kept free)"
	# A new corpus makes the old indexes meaningless.
	rm -rf "$CORPUS/index"
fi
start=$EPOCHREALTIME
nice -n 5 python3 $lab/lib/orgmail.py --bench --root "$CORPUS/mail" --users "$USERS" \
	--messages "$MESSAGES" --domain "$DOMAIN" --owner 65534:65534 --jobs 2 >&2
log "corpus: $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s; $(du -sh "$CORPUS/mail" | cut -f1) on disk"

# 2. The certificate (once): EC P-256, signed by the lab's issuing CA.
pki=$CORPUS/pki
if [[ ! -s $pki/imap.fullchain.pem ]] || ! openssl x509 -in "$pki/imap.pem" -noout -checkend 86400 >/dev/null; then
	mkdir -p "$pki"
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/imap.key" 2>/dev/null)
	openssl req -new -key "$pki/imap.key" -subj "/O=mailaudit bench/CN=imap.$DOMAIN" -out "$pki/imap.csr"
	printf 'subjectAltName=DNS:imap.%s,IP:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:false\n' \
		"$DOMAIN" "$ADDR" >"$pki/ext.cnf"
	openssl x509 -req -in "$pki/imap.csr" -CA "$ca/issuing.pem" -CAkey "$ca/issuing.key" \
		-set_serial "0x$(openssl rand -hex 12)" -days 365 -sha256 -extfile "$pki/ext.cnf" \
		-out "$pki/imap.pem" 2>/dev/null
	cat "$pki/imap.pem" "$ca/issuing.pem" >"$pki/imap.fullchain.pem"
fi

# 3. Dovecot's config: the lab's org-dovecot (master user, TLS >= 1.2, no
# login before TLS, the same namespace) with paths of its own. Indexes
# live apart from the Maildirs (INDEX=), so --cold can drop them.
dc=$CORPUS/dovecot
mkdir -p "$dc/state" "$CORPUS/index"
chown 65534:65534 "$CORPUS/index"
master_password=bench-secret-master
user_hash=$(openssl passwd -6 -salt mailauditbench "bench-secret-user")
{
	echo "auditor:$(openssl passwd -6 -salt mailauditbench "$master_password")"
} >"$dc/masters"
for ((i = 1; i <= USERS; i++)); do
	printf 'user%03d@%s:%s:65534:65534::%s/mail/user%03d::\n' "$i" "$DOMAIN" "$user_hash" "$CORPUS" "$i"
done >"$dc/users"
cat >"$dc/dovecot.conf" <<EOF
# Written by tests/bench/org-million.sh: the benchmark's own Dovecot.
base_dir = $dc/run
instance_name = mailaudit-bench-org
state_dir = $dc/state
log_path = $dc/dovecot.log
protocols = imap
listen = $ADDR
first_valid_uid = 65534
first_valid_gid = 65534
mail_location = maildir:~/Maildir:INDEX=$CORPUS/index/%n

ssl = required
disable_plaintext_auth = yes
ssl_cert = <$pki/imap.fullchain.pem
ssl_key = <$pki/imap.key
ssl_min_protocol = TLSv1.2

auth_mechanisms = plain login
auth_master_user_separator = *
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT $dc/masters
  master = yes
  result_success = continue
}
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT $dc/users
}
userdb {
  driver = passwd-file
  args = $dc/users
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
  }
  mailbox Archive {
    special_use = \\Archive
  }
}
EOF
(umask 077 && printf 'auditor:%s\n' "$master_password" >"$CORPUS/admin.pw")
for ((i = 1; i <= USERS; i++)); do
	printf 'imaps://user%03d%%40%s@%s\n' "$i" "$DOMAIN" "$HOST"
done >"$CORPUS/mailboxes.txt"

# 4. The binary, copied.
bin=$CORPUS/mailaudit
if [[ -n ${MAILAUDIT_BIN:-} ]]; then
	cp "$MAILAUDIT_BIN" "$bin.tmp"
	built="a copy of $MAILAUDIT_BIN"
else
	cargo build --release --no-default-features --quiet
	target_dir=${CARGO_TARGET_DIR:-target}
	[[ $target_dir == /* ]] || target_dir="$repo/$target_dir"
	cp "$target_dir/release/mailaudit" "$bin.tmp"
	built="release without PDF, commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' with uncommitted changes in src/')"
fi
mv -f "$bin.tmp" "$bin"
log "binary: $("$bin" --version) ($built)"

# 5. Dovecot and the DNS server up; stopped by their PIDs whatever happens.
pidfile=$dc/run/master.pid
if [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	log "stopping the benchmark Dovecot left running (PID $(cat "$pidfile"))"
	kill "$(cat "$pidfile")"
	while kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; do sleep 0.1; done
fi
rm -f "$pidfile"
if ((cold)); then
	log "--cold: dropping Dovecot's indexes ($CORPUS/index)"
	rm -rf "$CORPUS/index"
	mkdir -p "$CORPUS/index"
	chown 65534:65534 "$CORPUS/index"
fi
# Dovecot forks into the background and writes its PID a moment later;
# neither server keeps this script's stdout (a pipe would never close).
dovecot -c "$dc/dovecot.conf" </dev/null >/dev/null 2>&1
for _ in $(seq 100); do
	[[ -s $pidfile ]] && break
	sleep 0.1
done
[[ -s $pidfile ]] || die "Dovecot did not start; see $dc/dovecot.log"
dovecot_pid=$(cat "$pidfile")
python3 tests/bench/org_million.py dns --listen "$DNS_ADDR" --name "$HOST" --address "$ADDR" \
	</dev/null >"$dc/dns.log" 2>&1 &
dns_pid=$!
# shellcheck disable=SC2317 # run by the EXIT trap
stop_servers() {
	kill "$dns_pid" 2>/dev/null || true
	kill "$dovecot_pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$dovecot_pid" 2>/dev/null || return 0
		sleep 0.1
	done
}
trap stop_servers EXIT
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/$ADDR/993") 2>/dev/null && break
	sleep 0.1
done
log "dovecot: PID $dovecot_pid on $ADDR:993"
((prepare_only)) && exit 0

# 6. The runs.
out=$CORPUS/results
mkdir -p "$out"
results=$out/results.md
scan=("$bin" scan "$DOMAIN" -q --resolver "$DNS_ADDR" --ca-file "$ca/ca.pem" --no-location --no-tls-scan
	--timeout 30 --mailboxes "$CORPUS/mailboxes.txt" --admin auditor --password-file "$CORPUS/admin.pw"
	--format json)
total=$((USERS * MESSAGES))
load() { cut -d' ' -f1-3 /proc/loadavg; }
cpu() { python3 tests/bench/org_million.py cpu "$dovecot_pid"; }

# run NAME SESSIONS: one measured run; a line of the table.
run() {
	local name=$1 sessions=$2 dir=$out/$1 before_cpu after_cpu before_load rc=0
	rm -rf "$dir"
	mkdir -p "$dir"
	before_load=$(load)
	before_cpu=$(cpu)
	/usr/bin/time -v -o "$dir/time.txt" "${scan[@]}" --sessions-per-server "$sessions" --out "$dir" \
		2>"$dir/stderr.txt" &
	local time_pid=$! child="" started=$EPOCHREALTIME
	# RSS over time (seconds since start, KiB), twice a second. The process
	# may end between the test and the read: a failed read is no error.
	while kill -0 "$time_pid" 2>/dev/null; do
		[[ -n $child ]] || child=$(pgrep -P "$time_pid" || true)
		if [[ -n $child ]]; then
			awk -v a="$started" -v b="$EPOCHREALTIME" '/^VmRSS/ { printf "%.1f %s\n", b - a, $2 }' \
				"/proc/$child/status" 2>/dev/null >>"$dir/rss.txt" || true
		fi
		sleep 0.5
	done
	wait "$time_pid" || rc=$?
	after_cpu=$(cpu)
	local wall rss user sys check
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$dir/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 * 1024 / 1e6 }' "$dir/time.txt")
	user=$(awk -F': ' '/User time/ { print $2 }' "$dir/time.txt")
	sys=$(awk -F': ' '/System time/ { print $2 }' "$dir/time.txt")
	if check=$(python3 tests/bench/org_million.py check "$dir/report.json" "$manifest" 2>&1); then
		check="all $USERS mailboxes, class counts = manifest"
	else
		printf '%s\n' "$check" >&2
		check="MISMATCH (see $dir)"
	fi
	printf '| %s | %s | %.1f s | %s MB | %s | %.1f + %.1f s | %.1f s | %s → %s | %s | %s |\n' \
		"$name" "$sessions" "$wall" "$rss" "$(awk -v t="$total" -v w="$wall" 'BEGIN { printf "%.0f", t / w }')" \
		"$user" "$sys" "$(awk -v a="$before_cpu" -v b="$after_cpu" 'BEGIN { print b - a }')" \
		"$before_load" "$(load)" "$rc" "$check" | tee -a "$results"
}

{
	echo
	echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $("$bin" --version), $USERS × $MESSAGES messages"
	echo
	echo "| run | sessions per server | wall | peak RSS | messages/s | mailaudit CPU (user + sys) | Dovecot CPU | load (1, 5, 15 min) before → after | exit | check |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} | tee -a "$results"
# The scan without mailboxes: what the domain part (DNS, NXDOMAIN here),
# loading the rules and writing the report cost on their own.
mkdir -p "$out/baseline"
/usr/bin/time -f '%e s wall, %M KiB peak RSS' -o "$out/baseline/time.txt" \
	"${scan[@]::${#scan[@]}-8}" --format json --out "$out/baseline" 2>/dev/null || true
log "without --mailboxes: $(tail -1 "$out/baseline/time.txt")"
if [[ -z $(find "$CORPUS/index" -mindepth 1 -maxdepth 1 -print -quit) ]]; then
	run "cold-s${SESSIONS[0]}" "${SESSIONS[0]}"
fi
for sessions in "${SESSIONS[@]}"; do
	for ((r = 1; r <= RUNS; r++)); do
		run "warm-s$sessions-$r" "$sessions"
	done
done

# 7. Where the time goes: every process on the machine sampled (perf's
# software clock, which works in a VM), by command and by shared object.
if ((perf)); then
	command -v perf >/dev/null || die "perf missing (apt-get install linux-perf)"
	dir=$out/perf
	rm -rf "$dir"
	mkdir -p "$dir"
	perf record -a -e cpu-clock -F 499 -g -o "$dir/perf.data" -- \
		"${scan[@]}" --sessions-per-server "${SESSIONS[0]}" --out "$dir" 2>"$dir/stderr.txt" >/dev/null || true
	# Shares of all samples by command; then, within mailaudit and within
	# imap, by function (self time: the release build has no frame
	# pointers, so call graphs are not reliable).
	report() { perf report -i "$dir/perf.data" --no-children --stdio -g none "$@" 2>/dev/null | grep '%' | head -40 || true; }
	report --sort comm >"$dir/by-comm.txt"
	report --sort comm,dso >"$dir/by-dso.txt"
	report --comms mailaudit --sort sym --percentage relative >"$dir/mailaudit-symbols.txt"
	report --comms imap --sort dso,sym --percentage relative >"$dir/imap-symbols.txt"
	report --comms imap-login --sort dso --percentage relative >"$dir/imap-login-dso.txt"
	log "perf: $dir/by-comm.txt, by-dso.txt, mailaudit-symbols.txt, imap-symbols.txt, imap-login-dso.txt"
	cat "$dir/by-comm.txt" >&2
fi

# 8. The same logins and FETCHes by a minimal client that parses nothing.
if ((rawfetch)); then
	# The items of the classifying UID FETCH: mail_class::fetch::fetch_items
	# with mail_class::HEADER_FIELDS and the class file's header fields.
	items='(UID INTERNALDATE RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (LIST-ID LIST-UNSUBSCRIBE PRECEDENCE AUTO-SUBMITTED CONTENT-TYPE MESSAGE-ID)])'
	log "rawfetch items: $items"
	for sessions in "${SESSIONS[@]}"; do
		before_cpu=$(cpu)
		/usr/bin/time -f '%e s wall, %M KiB, %U + %S s CPU' python3 tests/bench/org_million.py rawfetch \
			--host "$ADDR" --ca "$ca/ca.pem" --list "$CORPUS/mailboxes.txt" --password-file "$CORPUS/admin.pw" \
			--items "$items" --sessions "$sessions" 2>&1 | tee -a "$out/rawfetch.txt"
		echo "Dovecot CPU: $(awk -v a="$before_cpu" -v b="$(cpu)" 'BEGIN { print b - a }') s; load $(load)" | tee -a "$out/rawfetch.txt"
	done
fi
log "results: $results"
