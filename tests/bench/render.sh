#!/usr/bin/env bash
# Render time of the HTML and the PDF report (offline `mailaudit report` on a
# saved report.json), with hyperfine, on a release build: a one-domain report
# (the lab's bad.test) and a 100-domain batch made from it by renaming the
# domain in every string of its evidence (bad-001.test … bad-100.test), so
# endpoints, certificates and findings are 100 times as many.
# The lab must be up (tests/lab/lab.sh up); only loopback is contacted.
# Prints hyperfine's Markdown table; RUNS sets the runs per command.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in hyperfine jq; do
	command -v "$tool" >/dev/null || apt-get install -y -q --no-install-recommends "$tool"
done
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/mailaudit"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" scan -q bad.test --resolver 127.0.10.53 --ca-file tests/lab/run/ca/ca.pem \
	--dnssec-anchor tests/lab/run/dns/root.anchor --no-location \
	--format json --out - >"$work/one.json" || [[ $? == 1 ]]
jq '.targets[0] as $t
	| .targets = [range(1; 101) as $i
		| ($i | tostring | ("00" + .)[-3:]) as $n
		| $t | walk(if type == "string" then gsub("bad\\.test"; "bad-\($n).test") else . end)]' \
	"$work/one.json" >"$work/hundred.json"
echo "one domain: $(jq '.targets | length' "$work/one.json") target, $(wc -c <"$work/one.json") bytes;" \
	"batch: $(jq '.targets | length' "$work/hundred.json") targets, $(wc -c <"$work/hundred.json") bytes"

# Exit code 1 (findings) is expected, hence -i.
render() { echo "$bin report -q $1 --format $2 --out $work/out-$2"; }
hyperfine -i --warmup 1 --runs "${RUNS:-10}" --export-markdown "$work/one.md" \
	-n "html, 1 domain" "$(render "$work/one.json" html)" \
	-n "pdf, 1 domain" "$(render "$work/one.json" pdf)" >&2
hyperfine -i --warmup 1 --runs "${RUNS_BATCH:-3}" --export-markdown "$work/hundred.md" \
	-n "html, 100 domains" "$(render "$work/hundred.json" html)" \
	-n "pdf, 100 domains" "$(render "$work/hundred.json" pdf)" >&2
cat "$work/one.md"
echo
cat "$work/hundred.md"
"$bin" report -q "$work/hundred.json" --format pdf,html --out "$work/sizes" || true
echo
echo "100-domain outputs: report.pdf $(pdfinfo "$work/sizes/report.pdf" 2>/dev/null | awk '/^Pages:/ { print $2 }') pages," \
	"$(du -h "$work/sizes/report.pdf" | cut -f1); report.html $(du -h "$work/sizes/report.html" | cut -f1)"
