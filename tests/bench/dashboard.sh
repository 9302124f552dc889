#!/usr/bin/env bash
# The dashboard at scale (issue 13): a SQLite history of DOMAINS client
# domains x SCANS scans each (default 1,000 x 20 = 20,000 recorded scans),
# made by dashboard-store.py from real lab scans of good.test, bad.test and
# legacy.test, recorded with `mailaudit history import` one scan round at a
# time. Prints the import time and the history's size per recorded scan,
# then serves it with `mailaudit serve` and times every page with curl
# (RUNS requests each after one warm-up; median and slowest).
#
#   bash tests/lab/lab.sh up
#   MAILAUDIT_BIN=<release build> bash tests/bench/dashboard.sh
#
# Contacts only the lab (127.0.10.53 and the providers) and the dashboard on
# 127.0.0.1. The store is kept in WORK for reruns (delete it to rebuild).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MAILAUDIT_BIN:-$repo/target/release/mailaudit}
DOMAINS=${DOMAINS:-1000}
SCANS=${SCANS:-20}
RUNS=${RUNS:-20}
PORT=${PORT:-8472}
WORK=${WORK:-$repo/target/bench-dashboard}
store=$WORK/history-$DOMAINS-$SCANS.sqlite
lab=$repo/tests/lab/run
mkdir -p "$WORK/base"
[ -x "$BIN" ] || { echo "no mailaudit binary at $BIN: cargo build --release, or set MAILAUDIT_BIN" >&2; exit 2; }

for provider in good bad legacy; do
    [ -s "$WORK/base/$provider.json" ] && continue
    echo "scanning $provider.test for the base report"
    "$BIN" scan "$provider.test" --resolver 127.0.10.53 --ca-file "$lab/ca/ca.pem" \
        --dnssec-anchor "$lab/dns/root.anchor" --no-location --no-history \
        --format json --out - --quiet > "$WORK/base/$provider.json" || [ $? -le 1 ]
done

size() { python3 - "$1" <<'PY'
import os, sys
print(sum(os.path.getsize(sys.argv[1] + s) for s in ("", "-wal") if os.path.exists(sys.argv[1] + s)))
PY
}

if [ ! -s "$store" ]; then
    echo "recording $DOMAINS domains x $SCANS scans into $store"
    for scan in $(seq 0 $((SCANS - 1))); do
        rm -rf "$WORK/round"
        python3 "$repo/tests/bench/dashboard-store.py" "$WORK/base" "$WORK/round" "$DOMAINS" "$SCANS" "$scan" > /dev/null
        start=$(date +%s.%N)
        "$BIN" history import --history="$store" --quiet "$WORK/round"/*.json
        end=$(date +%s.%N)
        printf 'round %2d: %d reports imported in %.1f s; history %d bytes\n' \
            "$scan" "$DOMAINS" "$(echo "$end - $start" | bc)" "$(size "$store")"
    done
    rm -rf "$WORK/round"
fi

python3 - "$store" "$DOMAINS" "$SCANS" <<'PY'
import sqlite3, sys
path, domains, scans = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(path)
pages, page_size = db.execute("PRAGMA page_count").fetchone()[0], db.execute("PRAGMA page_size").fetchone()[0]
n = db.execute("SELECT COUNT(*) FROM scan_domains").fetchone()[0]
doc = db.execute("SELECT SUM(LENGTH(content)), SUM(bytes) FROM report_documents").fetchone()
ev = db.execute("SELECT SUM(LENGTH(evidence_deflated)) FROM scan_domains").fetchone()[0] or 0
fi, rows = db.execute("SELECT SUM(LENGTH(finding)), COUNT(*) FROM findings").fetchone()
print(f"history: {pages * page_size / 1e9:.2f} GB for {n} recorded domain scans = {pages * page_size / n / 1024:.0f} KiB per scan of one domain")
print(f"  report.json {doc[0] / n / 1024:.0f} KiB stored ({doc[1] / n / 1024:.0f} KiB before deflating), evidence {ev / n / 1024:.0f} KiB, findings {fi / n / 1024:.0f} KiB ({rows / n:.0f} rows), the rest indexes")
PY

# The first open after an upgrade applies the store's migrations (0003
# builds each domain's latest scan and open findings from the history).
start=$(date +%s.%N)
"$BIN" history --history="$store" --format json > /dev/null
printf 'first open (migrations) and the history list: %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"

"$BIN" serve --history="$store" --listen "127.0.0.1:$PORT" --interval quarterly --lang en --quiet &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
home=$(curl -s "http://127.0.0.1:$PORT/")
echo "/ shows $(grep -o 'id="domain-count">[0-9]*' <<<"$home" | grep -o '[0-9]*$') domains, $(grep -c 'data-domain=' <<<"$home") of them on page 1"

domain=c0500.example
ids=$("$BIN" history "$domain" --history="$store" --format json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[0]["scan_id"], s[1]["scan_id"])')
last=${ids% *}; previous=${ids#* }
echo
echo "page                                         median ms  slowest ms  bytes"
for page in / "/?page=10" /certificates /findings "/findings?page=100" "/findings?severity=critical" \
    "/findings?domain=$domain" "/domains/$domain" "/scans/$last" "/scans/$last/report.html" \
    "/scans/$last/report.json" "/diff?from=$previous&to=$last"; do
    curl -s -o /dev/null "http://127.0.0.1:$PORT$page"
    times=$(for _ in $(seq "$RUNS"); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT$page"; done | sort -n)
    bytes=$(curl -s "http://127.0.0.1:$PORT$page" | wc -c)
    median=$(echo "$times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] * 1000}')
    slowest=$(echo "$times" | tail -1 | awk '{print $1 * 1000}')
    printf '%-44s %9.0f  %10.0f  %s\n' "$page" "$median" "$slowest" "$bytes"
done
