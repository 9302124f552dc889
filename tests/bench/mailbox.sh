#!/usr/bin/env bash
# Benchmark of the mailbox audit (issue 5): one scan of good.test with
# --mailbox bulk@good.test, whose Maildir holds 100,000 messages in 10
# folders dated 2010..this year. Target: < 3 s wall on loopback, < 100 MB
# peak RSS. Not a timed test.
#
#   tests/bench/mailbox.sh                 generate (if missing), warm up, measure
#   tests/bench/mailbox.sh --prepare-only  generate (if missing) and warm up only
#   tests/bench/mailbox.sh --regenerate    throw the bulk Maildir away first
#
# The lab must be up (tests/lab/lab.sh up); needs root (the Maildir belongs
# to uid 65534, like every lab mailbox). `lab.sh up` never creates this
# mailbox: it exists only once this script has run. Environment: MESSAGES,
# FOLDERS, FROM_YEAR (generation), RUNS (hyperfine). Only loopback
# addresses are contacted.
set -euo pipefail
cd "$(dirname "$0")/../.."

prepare_only=0 regenerate=0
for arg in "$@"; do
	case $arg in
	--prepare-only) prepare_only=1 ;;
	--regenerate) regenerate=1 ;;
	*)
		echo "usage: $0 [--prepare-only] [--regenerate]" >&2
		exit 2
		;;
	esac
done

lab=tests/lab
user=bulk@good.test
home=$lab/run/mail/good.test/bulk
conf=$lab/run/good-dovecot/dovecot.conf
doveadm=(doveadm -c "$conf")
export MA_PW=lab-secret-bulk
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
[[ -f $conf ]] || {
	echo "the lab is not set up: run $lab/lab.sh up" >&2
	exit 1
}

# 1. The mailbox (python3 stdlib; deterministic, so a rerun gives the same).
if ((regenerate)) && [[ -d $home ]]; then
	rm -rf "$home"
fi
if [[ ! -d $home/Maildir ]]; then
	echo "generating ${MESSAGES:-100000} messages in ${FOLDERS:-10} folders for $user ..."
	start=$EPOCHREALTIME
	python3 "$lab/lib/maildir.py" --home "$home" --user "$user" --owner 65534:65534 \
		--folders "${FOLDERS:-10}" --messages "${MESSAGES:-100000}" --from-year "${FROM_YEAR:-2010}"
	echo "generation: $(since "$start") s wall"
else
	echo "$home/Maildir exists (--regenerate to rebuild it)"
fi

# 2. Warm-up, read-only: Dovecot builds its uidlist and indexes on first
# access; searching by date pulls every message's INTERNALDATE (the file's
# mtime) once, so the measured runs see a mailbox as a client-visited
# server would. Neither changes a message file.
start=$EPOCHREALTIME
"${doveadm[@]}" mailbox status -u "$user" messages '*' | sort
echo "warm-up (index build): $(since "$start") s wall"
start=$EPOCHREALTIME
echo "messages since 1-Jan-$(date +%Y): $("${doveadm[@]}" search -u "$user" mailbox '*' SINCE "1-Jan-$(date +%Y)" | wc -l)"
echo "warm-up (date search over all folders): $(since "$start") s wall"
((prepare_only)) && exit 0

# 3. The audit itself: wall time with hyperfine, peak memory with time -v.
command -v hyperfine >/dev/null || apt-get install -y --no-install-recommends hyperfine
[[ -x /usr/bin/time ]] || apt-get install -y --no-install-recommends time
# The PDF engine plays no part in the audit: skip its long build.
cargo build --release --quiet --no-default-features
bin=target/release/mailaudit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scan=("$bin" scan good.test --resolver 127.0.10.53 --ca-file "$lab/run/ca/ca.pem"
	--dnssec-anchor "$lab/run/dns/root.anchor" --no-location --no-tls-scan
	--mailbox "$user" --password-env MA_PW --format json --out "$tmp")

base=("${scan[@]::${#scan[@]}-8}" --format json --out "$tmp")

# Exit code 1 (findings) is expected, hence -i. The same scan without
# --mailbox is the baseline: the difference is the mailbox audit.
hyperfine --warmup 1 --runs "${RUNS:-10}" -i -n "with --mailbox (100k messages)" "${scan[*]}" \
	-n "without --mailbox (baseline)" "${base[*]}"
/usr/bin/time -v "${scan[@]}" >/dev/null 2>"$tmp/time.txt" || true
grep -E 'Elapsed \(wall clock\)|Maximum resident set size' "$tmp/time.txt"
