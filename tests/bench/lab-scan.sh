#!/usr/bin/env bash
# Wall time of full scans of the lab's providers, with hyperfine (Debian
# package), on a release build. The lab must be up (tests/lab/lab.sh up).
# Also counts the DNS queries one scan of good.test sends, with tcpdump on lo.
# Only loopback addresses are contacted.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v hyperfine >/dev/null || apt-get install -y --no-install-recommends hyperfine
# The PDF engine plays no part in a scan: skip its long build.
cargo build --release --quiet --no-default-features
bin=target/release/mailaudit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
lab=(--resolver 127.0.10.53 --ca-file tests/lab/run/ca/ca.pem
	--dnssec-anchor tests/lab/run/dns/root.anchor
	--rdap-bootstrap https://rdap.test/bootstrap/ --format json --out "$out")

# Exit code 1 (findings) is expected, hence -i.
hyperfine --warmup 2 --runs "${RUNS:-15}" -i \
	"$bin scan -q ${lab[*]} good.test" \
	"$bin scan -q ${lab[*]} bad.test" \
	"$bin scan -q ${lab[*]} good.test bad.test" \
	"$bin scan -q --no-tls-scan ${lab[*]} good.test" \
	"$bin scan -q --no-tls-scan ${lab[*]} bad.test" \
	"$bin scan -q ${lab[*]} legacy.test" \
	"$bin scan -q ${lab[*]} good.test bad.test legacy.test"

if command -v tcpdump >/dev/null; then
	pcap="$out/dns.pcap"
	tcpdump -i lo -n -w "$pcap" 'dst host 127.0.10.53 and dst port 53' 2>/dev/null &
	dump=$!
	sleep 1
	"$bin" scan "${lab[@]}" -v good.test >/dev/null 2>"$out/log" || true
	sleep 1
	kill "$dump"
	wait "$dump" 2>/dev/null || true
	echo "DNS queries on the wire for good.test: $(tcpdump -r "$pcap" -n 2>/dev/null | wc -l)"
	tcpdump -r "$pcap" -n -tt 2>/dev/null |
		awk 'NR==1 { first = $1 } { last = $1 } END { printf "DNS activity window: %.3f s\n", last - first }'
	grep -o 'dns_queries=[0-9]* elapsed_ms=[0-9]*' "$out/log" | sed 's/^/cached resolver: /'
fi
