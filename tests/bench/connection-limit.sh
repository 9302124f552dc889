#!/usr/bin/env bash
# Issue 20: the added wall time of the TLS scan's backoff against a server
# at its connection limit. tests/bench/relay.py stands in front of the lab's
# legacy Dovecot (IMAPS, TLS 1.0-1.3, 104 suites) with Exim's defaults: at
# most LIMIT (20) connections from one client at once, each slot held HOLD
# ms (500) after its connection ends, a plain-text busy line beyond that.
# The same scan runs straight at Dovecot and through the relay, RUNS times
# each, alternating; prints each run's wall time (/usr/bin/time; most of it
# is the DNS of the made-up domain timing out, the same for both) and the TLS
# scan's own duration from the evidence, their medians, and checks that both
# scans proved the same facts.
#
#   bash tests/bench/connection-limit.sh   (lab up: tests/lab/lab.sh up)
#
# Loopback only: the relay listens on 127.0.0.1, mailaudit's DNS goes to a
# closed local port (the endpoint is given with --host).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
LIMIT=${LIMIT:-20}
HOLD=${HOLD:-500}
PORT=${PORT:-19993}
UPSTREAM=127.0.14.143:993
OUT=$(mktemp -d)
trap 'kill "$RELAY" 2>/dev/null || true; rm -rf "$OUT"' EXIT

# MAILAUDIT_BIN: a binary to time instead of the release build.
BIN=${MAILAUDIT_BIN:-}
if [[ -z $BIN ]]; then
	cargo build --release --quiet --bin mailaudit
	BIN="${CARGO_TARGET_DIR:-target}/release/mailaudit"
fi
python3 tests/bench/relay.py --delay-ms 0 --tcp "127.0.0.1:$PORT=$UPSTREAM" \
	--limit "$LIMIT" --hold-ms "$HOLD" --busy "* BYE Too many connections" \
	--stats "$OUT/relay.json" >"$OUT/relay.out" &
RELAY=$!
until grep -q ready "$OUT/relay.out" 2>/dev/null; do sleep 0.1; done

scan() { # HOST OUTPUT
	/usr/bin/time -f %e -o "$2.time" "$BIN" scan limit.test --resolver 127.0.0.1:9 \
		--timeout 5 --no-location --format json --out - --host "imaps://$1" >"$2" 2>/dev/null || true
}
for ((i = 1; i <= RUNS; i++)); do
	scan "$UPSTREAM" "$OUT/direct.$i.json"
	scan "127.0.0.1:$PORT" "$OUT/limited.$i.json"
	printf 'run %d: direct %s s, limited %s s\n' "$i" "$(cat "$OUT/direct.$i.json.time")" "$(cat "$OUT/limited.$i.json.time")"
done
kill -TERM "$RELAY"
wait "$RELAY" 2>/dev/null || true
python3 - "$OUT" "$RUNS" "$UPSTREAM" "$PORT" <<'PY'
import json, statistics, sys
out, runs, upstream, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def times(kind):
    return [float(open(f"{out}/{kind}.{i}.json.time").read().split()[-1]) for i in range(1, runs + 1)]
def tls_scan(kind, i, subject):
    report = json.load(open(f"{out}/{kind}.{i}.json"))
    endpoint = next(e for t in report["targets"] for e in t["evidence"]["endpoints"] if e["subject"] == subject)
    return endpoint["tls_scan"]
def facts(kind, i, subject):
    scan = tls_scan(kind, i, subject)
    if scan["status"] != "completed":
        return scan["status"], scan.get("reason", "")[:200]
    value = scan["value"]
    return (
        [(v["version"], v["accepted"], [s["id"] for s in v["suites"]]) for v in value["versions"]],
        value["tls13_groups"], value["ecdhe_curves"], value["dhe_prime_bits"],
    )
direct, limited = times("direct"), times("limited")
scan_direct = [tls_scan("direct", i, upstream)["duration_ms"] / 1000 for i in range(1, runs + 1)]
scan_limited = [tls_scan("limited", i, f"127.0.0.1:{port}")["duration_ms"] / 1000 for i in range(1, runs + 1)]
print(f"TLS scan duration: direct {scan_direct}, limited {scan_limited}; median "
      f"{statistics.median(scan_direct):.1f} s vs {statistics.median(scan_limited):.1f} s")
same = all(facts("direct", i, upstream) == facts("limited", i, f"127.0.0.1:{port}") for i in range(1, runs + 1))
stats = json.load(open(f"{out}/relay.json"))
print(f"median wall time: direct {statistics.median(direct):.1f} s, limited {statistics.median(limited):.1f} s "
      f"(+{statistics.median(limited) - statistics.median(direct):.1f} s); busy answers: "
      f"{sum(h['busy_refused'] for h in stats.values())}; same facts in every run: {same}")
sys.exit(0 if same else 1)
PY
