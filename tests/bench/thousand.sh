#!/usr/bin/env bash
# The batch benchmark of issue 7: 1,000 lab domains scanned in one
# `mailaudit scan --targets … --format jsonl` behind an added latency, with
# wall time, peak memory, connections per provider address and a check that
# every domain has its result.
#
# The domains: tests/bench/thousand_zones.py writes one zone per customer
# domain (d0001.test … d1000.test; SOA, NS, MX, SPF, DMARC and, where the
# provider publishes them, RFC 6186 SRV records) whose MX and SRV records
# name the shared hosts of the lab's three providers (mx.good.test,
# imap.bad.test, tls13.legacy.test, …: the names the lab's certificates
# carry), 50 % good, 30 % bad, 20 % legacy. A root and a test. zone,
# signed here with keys of the run, delegate to all of them without DS, so
# the scanner (--dnssec-anchor on that root) finds every domain provably
# insecure, as on the internet; a resolver that refuses the root would make
# the DNSSEC step record "bogus" instead (see tests/bench/README.md). A Knot
# instance of this script's own (not the lab's) serves them on 127.0.20.53,
# so the lab's zones are untouched. Every address in the zones is a relay
# address in 198.18.1.0/24.
#
# The latency: this kernel has no netem qdisc, so, as in tls-peers.sh, the
# scanner runs in a network namespace of its own (mailaudit-bench1k, veth
# pair mab1k-host/mab1k-ns, 198.18.1.0/24, no default route: nothing but
# that /24 is reachable from inside) and reaches DNS and the providers
# through tests/bench/relay.py on the host side of the veth, which delays
# every chunk and datagram by DELAY ms in each direction and holds each new
# TCP connection for one round trip. Relay listeners (host side):
#   198.18.1.53:53 udp+tcp  -> this script's Knot 127.0.20.53
#   198.18.1.11 good-postfix 127.0.11.25     198.18.1.12 good-dovecot 127.0.11.143
#   198.18.1.21 bad-postfix 127.0.12.25      198.18.1.22 bad-dovecot 127.0.12.143
#   198.18.1.23 bad-pop3 127.0.12.110        198.18.1.31 legacy-postfix 127.0.14.25
#   198.18.1.32 legacy-dovecot 127.0.14.143  198.18.1.33 legacy-tls13 127.0.14.13
# each on the ports its lab server listens on. The relay counts the TCP
# connections per provider address and the most open at once (relay.py
# --stats), which the per-address limit must bound.
#
# The checks (exit 1 if one fails): report.jsonl has one line per domain,
# every target exactly once, each with findings and its MX resolved to its
# provider's host; peak RSS (/usr/bin/time -v) under MAX_RSS_MB; at most
# --connections-per-host connections open at once at every provider
# address; mailaudit's exit code 0 or 1 (findings), not 2 or 3.
#
# Usage: bash tests/bench/thousand.sh   (root; lab up: tests/lab/lab.sh up)
# Env: DOMAINS (1000), DELAYS ("0 25"), CONCURRENCY (32), PER_HOST (5),
#   MAX_RSS_MB (300), MAILAUDIT_BIN (default: a release build without the PDF
#   engine, copied to the run directory), MAILAUDIT_ARGS (extra scan flags),
#   BENCH_OUT (tests/lab/run/bench1k). Quick check: DOMAINS=50 DELAYS=25.
# Results: BENCH_OUT/results.md (one table row per delay) and, per delay,
#   out-DELAY/ (report.jsonl, report.json), time-DELAY.txt, rss-DELAY.txt
#   (time, RSS in KiB, JSONL bytes; twice a second), relay-DELAY.json,
#   stderr-DELAY.txt. Stops its relay and Knot by PID and removes the
#   namespace and veth on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
PATH="$PATH:/usr/sbin:/sbin"

NS=mailaudit-bench1k
HOST_IF=mab1k-host
NS_IF=mab1k-ns
DNS_ADDR=127.0.20.53
OUT=${BENCH_OUT:-"$(pwd)/tests/lab/run/bench1k"}
DOMAINS=${DOMAINS:-1000}
read -r -a DELAYS <<<"${DELAYS:-0 25}"
CONCURRENCY=${CONCURRENCY:-32}
PER_HOST=${PER_HOST:-5}
MAX_RSS_MB=${MAX_RSS_MB:-300}

die() {
	printf 'bench1k: ERROR: %s\n' "$*" >&2
	exit 2
}
log() { printf 'bench1k: %s\n' "$*" >&2; }

[[ $(id -u) == 0 ]] || die "needs root (network namespace, port 53)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install time)"
for tool in knotd kdig ldns-keygen ldns-signzone ldns-key2ds; do
	command -v "$tool" >/dev/null || die "$tool missing (tests/lab/lab.sh install)"
done
bash tests/lab/lab.sh status >/dev/null || die "the lab is not (fully) up: run tests/lab/lab.sh up"
[[ -s tests/lab/run/ca/ca.pem ]] || die "no lab CA at tests/lab/run/ca/ca.pem (tests/lab/lab.sh up)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The binary is copied: other work may rebuild the same target directory
# while the benchmark runs.
bin=$OUT/mailaudit
if [[ -n ${MAILAUDIT_BIN:-} ]]; then
	cp "$MAILAUDIT_BIN" "$bin.tmp"
else
	cargo build --release --no-default-features --quiet
	target_dir=${CARGO_TARGET_DIR:-target}
	[[ $target_dir == /* ]] || target_dir="$(pwd)/$target_dir"
	cp "$target_dir/release/mailaudit" "$bin.tmp"
fi
mv -f "$bin.tmp" "$bin"
if [[ -n ${MAILAUDIT_BIN:-} ]]; then
	log "binary: $bin ($("$bin" --version), a copy of $MAILAUDIT_BIN)"
else
	log "binary: $bin ($("$bin" --version), built from commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' with uncommitted changes in src/'))"
fi

# 1. The zones, Knot's config, the targets and the relay's map.
run=$OUT/zones-$DOMAINS
rm -rf "$run"
python3 tests/bench/thousand_zones.py --domains "$DOMAINS" --out "$run" --dns-listen "$DNS_ADDR"
mkdir -p "$run/knot/db" "$run/keys"
# Sign the root and test. with keys of this run (ECDSA P-256, as the lab
# does); the root's KSK is the scanner's only trust anchor.
dns_key() { (cd "$run/keys" && ldns-keygen -a ECDSAP256SHA256 "$@"); }
root_ksk=$run/keys/$(dns_key -k .)
root_zsk=$run/keys/$(dns_key .)
test_ksk=$run/keys/$(dns_key -k test.)
test_zsk=$run/keys/$(dns_key test.)
now=$(date -u +%s)
sign_zone() {
	ldns-signzone -i "$((now - 86400))" -e "$((now + 30 * 86400))" -o "$1" \
		-f "$run/zones/$2.signed" "$run/zones/$2" "$3" "$4"
}
sign_zone test. test.zone "$test_ksk" "$test_zsk"
ldns-key2ds -n -2 "$test_ksk.key" >>"$run/zones/root.zone"
sign_zone . root.zone "$root_ksk" "$root_zsk"
# ".<TAB>IN<TAB>DNSKEY<TAB>257 3 13 <b64> ;{comment}" -> fields 4..7
anchor=$(sed 's/;.*//' "$root_ksk.key" | awk '$3 == "DNSKEY" { print $4, $5, $6, $7 }')
printf '. 3600 IN DNSKEY %s\n' "$anchor" >"$run/root.anchor"
mapfile -t relay_maps <"$run/relay.args"
mapfile -t listeners < <(grep -o '^198\.18\.1\.[0-9]*' "$run/relay.args" | sort -u)

relay=""
knot=""
stop_pid() {
	[[ -n $1 ]] || return 0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
teardown_net() {
	ip link del "$HOST_IF" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	stop_pid "$relay"
	stop_pid "$knot"
	teardown_net
}
trap cleanup EXIT

# 2. This script's own Knot; ready when the last zone answers.
if [[ -n $(ss -Hlnu "src $DNS_ADDR:53") ]]; then
	die "$DNS_ADDR:53 is in use (another run of this benchmark?)"
fi
knotd -c "$run/knot.conf" 2>"$run/knot.log" &
knot=$!
last=$(tail -n1 "$run/targets.txt")
for _ in $(seq 100); do
	[[ $(kdig +short +time=1 +tries=1 @"$DNS_ADDR" "$last" MX 2>/dev/null) == *mx.* ]] && break
	kill -0 "$knot" 2>/dev/null || die "knotd exited: $(cat "$run/knot.log")"
	sleep 0.2
done
[[ $(kdig +short @"$DNS_ADDR" "$last" MX) == *mx.* ]] || die "knotd does not answer for $last"
log "knotd (pid $knot) serves $((DOMAINS + 3)) zones on $DNS_ADDR"

# The namespace and the veth pair (left over from an interrupted run: made
# afresh); the host side carries the relay addresses. No default route and
# no IPv6 inside: the scanner can reach 198.18.1.0/24 and nothing else.
teardown_net
ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$NS_IF"
ip link set "$NS_IF" netns "$NS"
ip addr add 198.18.1.1/24 dev "$HOST_IF"
for a in "${listeners[@]}"; do ip addr add "$a/24" dev "$HOST_IF"; done
ip link set "$HOST_IF" up
in_ns() { ip netns exec "$NS" "$@"; }
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
in_ns ip addr add 198.18.1.2/24 dev "$NS_IF"
in_ns ip link set "$NS_IF" up
in_ns ip link set lo up
routes=$(in_ns ip -4 route show | sed "s/ *$//")
[[ $routes == "198.18.1.0/24 dev $NS_IF proto kernel scope link src 198.18.1.2" ]] ||
	die "unexpected routes in $NS: $routes"

start_relay() {
	stop_pid "$relay"
	relay=""
	coproc RELAY { exec python3 tests/bench/relay.py --delay-ms "$1" --stats "$2" "${relay_maps[@]}"; }
	relay=$RELAY_PID
	local line
	if ! read -r -t 10 line <&"${RELAY[0]}" || [[ $line != ready ]]; then die "relay did not start"; fi
}

printf '| domains | added latency | concurrency | wall time | peak RSS | max connections open per provider address (limit %s) | domains with result | mailaudit exit |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n' \
	"$PER_HOST" >"$OUT/results.md.tmp"
failed=0
for delay in "${DELAYS[@]}"; do
	stats=$OUT/relay-$delay.json
	rm -f "$stats"
	log "relay delay $delay ms per direction, $DOMAINS domains, --concurrency $CONCURRENCY"
	start_relay "$delay" "$stats"
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_ns bash -c 'start=$(date +%s%N); exec 3<>/dev/tcp/198.18.1.11/25; read -r -u 3 greeting; echo "bench1k: SMTP greeting through the relay after $((($(date +%s%N) - start) / 1000000)) ms" >&2'
	in_ns kdig @198.18.1.53 d0001.test MX | sed -n 's/^;; From \(.*\)/bench1k: DNS query through the relay: \1/p' >&2
	out=$OUT/out-$delay
	rm -rf "$out"
	# Started in the namespace under /usr/bin/time (peak RSS); the wall
	# time is taken around it.
	log "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
	set +e
	started=$(date +%s%N)
	# shellcheck disable=SC2086 # MAILAUDIT_ARGS is a list of flags
	ip netns exec "$NS" /usr/bin/time -v -o "$OUT/time-$delay.txt" "$bin" scan -q --targets "$run/targets.txt" \
		--format jsonl --out "$out" --resolver 198.18.1.53 --concurrency "$CONCURRENCY" \
		--connections-per-host "$PER_HOST" --no-location --ca-file tests/lab/run/ca/ca.pem \
		--dnssec-anchor "$run/root.anchor" \
		${MAILAUDIT_ARGS:-} 2>"$OUT/stderr-$delay.txt" &
	timer=$!
	# RSS and JSONL size twice a second (ip netns exec execs time, whose
	# child is mailaudit): shows how much of the peak comes after the last
	# domain, while report.json is written.
	sleep 0.2
	scanner=$(pgrep -P "$timer" || true)
	[[ -z $scanner || $(cat "/proc/$scanner/comm" 2>/dev/null) == mailaudit ]] ||
		die "the process under /usr/bin/time is not mailaudit: $(cat "/proc/$scanner/comm")"
	while [[ -n $scanner ]] && kill -0 "$scanner" 2>/dev/null; do
		printf '%s %s %s\n' "$(date +%s.%N)" "$(awk '/^VmRSS/ { print $2 }' "/proc/$scanner/status" 2>/dev/null)" \
			"$(stat -c %s "$out/report.jsonl" 2>/dev/null || echo 0)"
		sleep 0.5
	done >"$OUT/rss-$delay.txt"
	wait "$timer"
	code=$?
	finished=$(date +%s%N)
	set -e
	log "load average after the run (2 cores; other work on the machine counts): $(cut -d' ' -f1-3 /proc/loadavg)"
	stop_pid "$relay"
	relay=""
	[[ -s $stats ]] || die "the relay wrote no statistics to $stats"
	python3 - "$run/expected.json" "$out/report.jsonl" "$OUT/time-$delay.txt" "$stats" "$OUT/rss-$delay.txt" \
		"$((finished - started))" "$code" "$delay" "$CONCURRENCY" "$PER_HOST" "$MAX_RSS_MB" \
		>>"$OUT/results.md.tmp" <<'EOF' || failed=1
import json, sys
from collections import Counter
from pathlib import Path

expected_path, jsonl, time_path, stats_path, samples_path, wall_ns, code, delay, concurrency, per_host, max_rss = sys.argv[1:]
expected = json.loads(Path(expected_path).read_text())
problems = []

# Every domain exactly once, with findings and its MX resolved.
lines = Path(jsonl).read_text().splitlines() if Path(jsonl).exists() else []
seen = Counter()
with_result = 0
for raw in lines:
    line = json.loads(raw)
    domain = line["domain"]
    seen[domain] += 1
    want = expected.get(domain)
    mx = line["evidence"]["dns"]["mx"]
    exchanges = [r["exchange"] for r in (mx.get("value") or {}).get("records", [])]
    if want is None:
        problems.append(f"{domain}: not a target")
    elif not line["findings"]:
        problems.append(f"{domain}: no findings")
    elif mx.get("status") != "completed" or exchanges != [want["mx"]]:
        problems.append(f"{domain}: MX {mx.get('status')} {exchanges} ({mx.get('reason')}), expected {want['mx']}")
    else:
        with_result += 1
duplicates = sorted(d for d, n in seen.items() if n > 1)
missing = sorted(set(expected) - set(seen))
if len(lines) != len(expected):
    problems.append(f"{len(lines)} JSONL lines for {len(expected)} domains")
if duplicates:
    problems.append(f"{len(duplicates)} domains more than once: {duplicates[:5]}")
if missing:
    problems.append(f"{len(missing)} domains missing: {missing[:5]}")

# Peak memory.
rss_kb = next(int(l.split(":")[1]) for l in Path(time_path).read_text().splitlines() if "Maximum resident" in l)
rss_mb = rss_kb * 1024 / 1e6
# The sampled RSS up to the first sample that saw the whole JSONL: the
# scan's own peak, before report.json is assembled and written.
final_size = Path(jsonl).stat().st_size if Path(jsonl).exists() else 0
scan_kb = 0
for sample in Path(samples_path).read_text().split("\n"):
    fields = sample.split()
    if len(fields) == 3 and fields[1].isdigit():
        scan_kb = max(scan_kb, int(fields[1]))
        if int(fields[2]) >= final_size:
            break
scan_mb = scan_kb * 1024 / 1e6
if rss_mb >= float(max_rss):
    problems.append(f"peak RSS {rss_mb:.0f} MB, limit {max_rss} MB")

# Connections per provider address (the DNS relay is not a provider).
stats = json.loads(Path(stats_path).read_text())
cells, worst = [], 0
for upstream, s in stats.items():
    if upstream.startswith("127.0.20."):
        continue
    listener = s["listeners"][0].rsplit(":", 1)[0]
    worst = max(worst, s["max_open"])
    cells.append(f"{listener}: {s['max_open']} ({s['connections']})")
    if s["max_open"] > int(per_host):
        problems.append(f"{listener} ({upstream}): {s['max_open']} connections open at once, limit {per_host}")
    if s["connections"] == 0:
        problems.append(f"{listener} ({upstream}): never connected")
if code not in ("0", "1"):
    problems.append(f"mailaudit exited with {code}")

wall = int(wall_ns) / 1e9
print(
    f"| {len(expected)} | {delay} ms | {concurrency} | {wall:.1f} s | {rss_mb:.0f} MB ({scan_mb:.0f} MB when the last line was written) | "
    f"max {worst}: {', '.join(cells)} | {with_result} / {len(expected)} | {code} |"
)
report = sys.stderr
print(f"bench1k: {delay} ms: wall {wall:.1f} s, peak RSS {rss_mb:.1f} MB (limit {max_rss}; sampled {scan_mb:.1f} MB "
      f"until the last JSONL line), exit {code}", file=report)
print(f"bench1k: {delay} ms: {len(lines)} lines, {with_result} of {len(expected)} domains with findings and their MX", file=report)
for upstream, s in stats.items():
    print(f"bench1k: {delay} ms: {', '.join(s['listeners'])} -> {upstream}: {s['connections']} connections, "
          f"at most {s['max_open']} open (relay side {s['max_relay_open']}), upstream refused {s['upstream_refused']}", file=report)
for problem in problems:
    print(f"bench1k: {delay} ms: CHECK FAILED: {problem}", file=report)
if not problems:
    print(f"bench1k: {delay} ms: all checks passed", file=report)
sys.exit(1 if problems else 0)
EOF
done
mv -f "$OUT/results.md.tmp" "$OUT/results.md"
cat "$OUT/results.md"
exit "$failed"
