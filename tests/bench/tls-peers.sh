#!/usr/bin/env bash
# Wall time of a full TLS enumeration, mailaudit against testssl.sh and
# sslyze in the same run, first with no added latency and then with 25 ms
# added in each direction. Four scopes:
#   endpoint       imap.legacy.test:993, the worst case: it accepts 104 suites
#                  in four versions, 10 TLS 1.3 groups and 5 ECDHE curves
#   modern         imap.good.test:993, a current configuration
#   provider       legacy.test: 10 TLS endpoints on 3 servers
#   provider-good  good.test: 6 TLS endpoints on 2 servers
# Besides the time, the runs without added latency count each tool's
# connections (SYNs to the relay addresses, with tcpdump on the host side of
# the veth): the handshakes it needed, since every probe is a fresh
# connection.
#
# How the latency is made: this kernel has no netem qdisc, so the benchmark
# creates a network namespace (mailaudit-bench) joined to the host by a veth
# pair in 198.18.0.0/24 (the benchmarking range, used only on these two
# interfaces), and runs all three tools inside it. They reach the lab
# through tests/bench/relay.py, a userspace TCP/UDP relay on the host side of
# the veth that delays every chunk by DELAY ms in each direction, in order.
# The lab's servers themselves stay where tests/lab/lab.sh runs them (on
# 127.0.x.y in the host namespace): moving running, PID-tracked daemons into a
# namespace would mean a second copy of the lab's state, so the clients move
# instead. The path is the same either way: tool -> veth -> relay (delay) ->
# server. The 0 ms rows use the same relay with no delay, so both rows carry
# the same relay overhead and differ only by the latency.
#
# Addresses on the host side (relay listeners):
#   198.18.0.99:993                -> 127.0.14.143:993 (the single endpoint)
#   198.18.0.25:{25,465,587}       -> legacy-postfix 127.0.14.25
#   198.18.0.143:{143,993,110,995,4190} -> legacy-dovecot 127.0.14.143
#   198.18.0.13:{143,993}          -> legacy-tls13 127.0.14.13
#   198.18.0.98:993                -> 127.0.11.143:993 (the modern endpoint)
#   198.18.0.111:{25,465,587}      -> good-postfix 127.0.11.25
#   198.18.0.112:{143,993,4190}    -> good-dovecot 127.0.11.143
#   198.18.0.53:53 udp+tcp         -> the lab DNS 127.0.10.53
# Nothing else is reachable from the namespace (no default route).
#
# The cheapest mailaudit invocation that scans one endpoint: a domain that
# does not exist (bench.invalid: the DNS steps end in one NXDOMAIN each),
# the endpoint as --host, --no-location. --host probes every mail port of
# its host, so the relay address 198.18.0.99 listens on 993 only; the other
# seven ports are refused at once. What each tool collects:
#   mailaudit  scan (versions, suites per version, server order, groups,
#              DHE size, extensions, plus the certificate and dialogue)
#   sslyze     --sslv2 ... --tlsv1_3 --elliptic_curves (versions, suites, curves)
#   testssl.sh -p -E -f (versions, suites per version, groups)
# Connection limits: mailaudit allows 5 connections per address
# (--connections-per-host), across all ports of that address; sslyze allows
# 5 per host:port, so on a provider it opens up to 5 per port at once (20 on
# legacy.test's Dovecot address). The provider rows therefore add a
# mailaudit run with --connections-per-host 20, the most sslyze had open on
# one address here.
#
# Usage: bash tests/bench/tls-peers.sh  (root; lab up; peers installed by
# tests/peers/compare.sh --install). Env: DELAYS ("0 25"), RUNS_MAILAUDIT
# (10), RUNS_SSLYZE (3), RUNS_TESTSSL (1), TOOLS ("mailaudit sslyze testssl"),
# SCOPES ("endpoint modern provider provider-good"), MAILAUDIT_BIN (default: a fresh release build),
# MAILAUDIT_ARGS (extra scan flags), BENCH_OUT (results directory).
# Results: tests/lab/run/bench/*.json (hyperfine) and a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
PATH="$PATH:/usr/sbin:/sbin"

NS=mailaudit-bench
HOST_IF=mab-host
NS_IF=mab-ns
OUT=${BENCH_OUT:-"$(pwd)/tests/lab/run/bench"}
VENV="${HOME:-/root}/.cache/mailaudit-peers/sslyze"
read -r -a DELAYS <<<"${DELAYS:-0 25}"
RUNS_MAILAUDIT=${RUNS_MAILAUDIT:-10}
RUNS_SSLYZE=${RUNS_SSLYZE:-3}
RUNS_TESTSSL=${RUNS_TESTSSL:-1}
read -r -a TOOLS <<<"${TOOLS:-mailaudit sslyze testssl}"
read -r -a SCOPES <<<"${SCOPES:-endpoint modern provider provider-good}"

die() {
	printf 'bench: ERROR: %s\n' "$*" >&2
	exit 2
}
log() { printf 'bench: %s\n' "$*" >&2; }

command -v hyperfine >/dev/null || die "hyperfine missing (apt-get install hyperfine)"
command -v tcpdump >/dev/null || die "tcpdump missing (apt-get install tcpdump)"
if ! command -v testssl >/dev/null || [[ ! -x $VENV/bin/sslyze ]]; then
	die "peers missing: run bash tests/peers/compare.sh --install"
fi
bash tests/lab/lab.sh status >/dev/null || die "the lab is not (fully) up: run tests/lab/lab.sh up"
bin=${MAILAUDIT_BIN:-}
if [[ -z $bin ]]; then
	cargo build --release --quiet
	target_dir=${CARGO_TARGET_DIR:-target}
	[[ $target_dir == /* ]] || target_dir="$(pwd)/$target_dir"
	bin=$target_dir/release/mailaudit
fi
mkdir -p "$OUT"
scratch=$(mktemp -d)
relay=""

teardown_net() {
	ip link del "$HOST_IF" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}
cleanup() {
	[[ -z $relay ]] || { kill "$relay" 2>/dev/null || true; wait "$relay" 2>/dev/null || true; }
	teardown_net
	rm -rf "$scratch"
}
trap cleanup EXIT

# The namespace and the veth pair (left over from an interrupted run: made
# afresh); the host side carries the relay addresses.
teardown_net
ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$NS_IF"
ip link set "$NS_IF" netns "$NS"
for a in 1 13 25 53 98 99 111 112 143; do ip addr add "198.18.0.$a/24" dev "$HOST_IF"; done
ip link set "$HOST_IF" up
ip netns exec "$NS" ip addr add 198.18.0.2/24 dev "$NS_IF"
ip netns exec "$NS" ip link set "$NS_IF" up
ip netns exec "$NS" ip link set lo up

relay_maps=(--tcp 198.18.0.99:993=127.0.14.143:993
	--udp 198.18.0.53:53=127.0.10.53:53 --tcp 198.18.0.53:53=127.0.10.53:53)
for p in 25 465 587; do relay_maps+=(--tcp "198.18.0.25:$p=127.0.14.25:$p"); done
for p in 143 993 110 995 4190; do relay_maps+=(--tcp "198.18.0.143:$p=127.0.14.143:$p"); done
for p in 143 993; do relay_maps+=(--tcp "198.18.0.13:$p=127.0.14.13:$p"); done
relay_maps+=(--tcp 198.18.0.98:993=127.0.11.143:993)
for p in 25 465 587; do relay_maps+=(--tcp "198.18.0.111:$p=127.0.11.25:$p"); done
for p in 143 993 4190; do relay_maps+=(--tcp "198.18.0.112:$p=127.0.11.143:$p"); done

start_relay() {
	[[ -z $relay ]] || { kill "$relay"; wait "$relay" 2>/dev/null || true; }
	coproc RELAY { exec python3 tests/bench/relay.py --delay-ms "$1" "${relay_maps[@]}"; }
	relay=$RELAY_PID
	local line
	if ! read -r -t 10 line <&"${RELAY[0]}" || [[ $line != ready ]]; then die "relay did not start"; fi
}

# In the namespace; hyperfine runs each command with sh -c there.
in_ns() { ip netns exec "$NS" "$@"; }

ma="$bin scan -q bench.invalid --resolver 198.18.0.53 --no-location --timeout 10 --format json --out $scratch/ma ${MAILAUDIT_ARGS:-}"
sslyze="$VENV/bin/sslyze --quiet --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --elliptic_curves"
testssl="testssl --quiet --warnings off --color 0 --nodns none -p -E -f"

# legacy.test as the tools see it through the relay: sslyze takes one
# --starttls per run, so it runs three invocations side by side.
provider_ma="$ma --host smtp://198.18.0.25:25 --host imaps://198.18.0.143:993 --host imaps://198.18.0.13:993"
provider_sslyze="$sslyze --starttls smtp 198.18.0.25:25 198.18.0.25:587 & $sslyze --starttls imap 198.18.0.143:143 198.18.0.13:143 & $sslyze --starttls pop3 198.18.0.143:110 & $sslyze 198.18.0.25:465 198.18.0.143:993 198.18.0.143:995 198.18.0.13:993; wait"
cat >"$scratch/targets" <<EOF
--starttls smtp 198.18.0.25:25
--starttls smtp 198.18.0.25:587
198.18.0.25:465
--starttls imap 198.18.0.143:143
198.18.0.143:993
--starttls pop3 198.18.0.143:110
198.18.0.143:995
--starttls imap 198.18.0.13:143
198.18.0.13:993
EOF
# testssl.sh 3.0.8 (Debian 12) has no ManageSieve STARTTLS, and one line it
# cannot parse ends the whole batch: 4190 is left out of its list.
provider_testssl="testssl --quiet --color 0 --nodns none -p -E -f --parallel --file $scratch/targets"

# good.test the same way.
good_ma="$ma --host smtp://198.18.0.111:25 --host imaps://198.18.0.112:993"
good_sslyze="$sslyze --starttls smtp 198.18.0.111:25 198.18.0.111:587 & $sslyze --starttls imap 198.18.0.112:143 & $sslyze 198.18.0.111:465 198.18.0.112:993; wait"
cat >"$scratch/good-targets" <<EOF
--starttls smtp 198.18.0.111:25
--starttls smtp 198.18.0.111:587
198.18.0.111:465
--starttls imap 198.18.0.112:143
198.18.0.112:993
EOF
good_testssl="testssl --quiet --color 0 --nodns none -p -E -f --parallel --file $scratch/good-targets"

# Connections to the relay's mail ports (the lab DNS on port 53 is left
# out): SYNs seen on the host side of the veth while hyperfine runs, divided
# by the number of runs.
start_count() {
	tcpdump -i "$HOST_IF" -n -U -w "$scratch/count.pcap" \
		'tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0 and not port 53' 2>/dev/null &
	dump=$!
	sleep 1
}
stop_count() { # name runs
	sleep 1
	kill "$dump" 2>/dev/null || true
	wait "$dump" 2>/dev/null || true
	echo $(($(tcpdump -r "$scratch/count.pcap" -n 2>/dev/null | wc -l) / $2)) >"$OUT/$1.connections"
}

for delay in "${DELAYS[@]}"; do
	log "relay delay ${delay} ms per direction"
	start_relay "$delay"
	# Round trip as the tools see it, for the record.
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_ns bash -c 'start=$(date +%s%N); exec 3<>/dev/tcp/198.18.0.99/993; echo "bench: TCP connect through the relay: $((($(date +%s%N) - start) / 1000000)) ms" >&2'
	for scope in "${SCOPES[@]}"; do
		for tool in "${TOOLS[@]}"; do
			case $scope/$tool in
			endpoint/mailaudit) runs=$RUNS_MAILAUDIT command="$ma --host imaps://198.18.0.99:993" ;;
			endpoint/sslyze) runs=$RUNS_SSLYZE command="$sslyze 198.18.0.99:993" ;;
			endpoint/testssl) runs=$RUNS_TESTSSL command="$testssl 198.18.0.99:993 >$OUT/endpoint-testssl-$delay.log 2>&1" ;;
			modern/mailaudit) runs=$RUNS_MAILAUDIT command="$ma --host imaps://198.18.0.98:993" ;;
			modern/sslyze) runs=$RUNS_SSLYZE command="$sslyze 198.18.0.98:993" ;;
			modern/testssl) runs=$RUNS_TESTSSL command="$testssl 198.18.0.98:993 >$OUT/modern-testssl-$delay.log 2>&1" ;;
			provider/mailaudit) runs=$RUNS_MAILAUDIT command=$provider_ma ;;
			provider/sslyze) runs=$RUNS_SSLYZE command=$provider_sslyze ;;
			provider/testssl) runs=$RUNS_TESTSSL command="cd $scratch && $provider_testssl >$OUT/provider-testssl-$delay.log 2>&1" ;;
			provider-good/mailaudit) runs=$RUNS_MAILAUDIT command=$good_ma ;;
			provider-good/sslyze) runs=$RUNS_SSLYZE command=$good_sslyze ;;
			provider-good/testssl) runs=$RUNS_TESTSSL command="cd $scratch && $good_testssl >$OUT/provider-good-testssl-$delay.log 2>&1" ;;
			*) die "unknown scope/tool $scope/$tool" ;;
			esac
			# -i: mailaudit exits 1 when findings fail, which legacy.test is built for.
			name=$scope-${tool/mailaudit/ma}
			# The connection count does not depend on the delay.
			count=0
			[[ $delay != "${DELAYS[0]}" ]] || { count=1 && start_count; }
			in_ns hyperfine -i --runs "$runs" --export-json "$OUT/$name-$delay.json" \
				-n "$tool $scope ${delay} ms" "$command"
			((!count)) || stop_count "$name" "$runs"
			# sslyze opens up to 5 connections per port; mailaudit at the
			# same count per address (see the top of this file).
			if [[ $scope == provider* && $tool == mailaudit ]]; then
				in_ns hyperfine -i --runs "$runs" --export-json "$OUT/$scope-ma20-$delay.json" \
					-n "mailaudit $scope ${delay} ms, 20 per address" "$command --connections-per-host 20"
			fi
		done
	done
done

# One Markdown table from the hyperfine exports.
python3 - "$OUT" "${DELAYS[@]}" <<'EOF'
import json, sys
from pathlib import Path
out, delays = Path(sys.argv[1]), sys.argv[2:]
def cell(name):
    path = out / f"{name}.json"
    if not path.exists():
        return None, "not run"
    result = json.loads(path.read_text())["results"][0]
    mean, sd, runs = result["mean"], result.get("stddev") or 0.0, len(result["times"])
    return mean, (f"{mean:.2f} s ± {sd:.2f} ({runs})" if runs > 1 else f"{mean:.1f} s (1)")
def conns(name):
    path = out / f"{name}.connections"
    return path.read_text().strip() if path.exists() else "–"
print("| target | latency | mailaudit | sslyze | testssl.sh | sslyze ÷ mailaudit | testssl.sh ÷ mailaudit | connections (mailaudit / sslyze / testssl.sh) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
scopes = (
    ("endpoint", "imap.legacy.test:993 (worst case)"),
    ("modern", "imap.good.test:993"),
    ("provider", "legacy.test, 10 TLS endpoints"),
    ("provider-good", "good.test, 6 TLS endpoints"),
)
for scope, label in scopes:
    for delay in delays:
        variants = [("ma", "")]
        if (out / f"{scope}-ma20-{delay}.json").exists():
            variants.append(("ma20", ", mailaudit at 20 per address"))
        for ma, suffix in variants:
            (m, mt), (s, st), (t, tt) = (cell(f"{scope}-{tool}-{delay}") for tool in (ma, "sslyze", "testssl"))
            if m is None and s is None and t is None:
                continue
            ratio = lambda x: f"{x / m:.1f}×" if x and m else "–"
            count = " / ".join(conns(f"{scope}-{tool}") for tool in ("ma", "sslyze", "testssl"))
            print(f"| {label}{suffix} | {delay} ms | {mt} | {st} | {tt} | {ratio(s)} | {ratio(t)} | {count} |")
EOF
