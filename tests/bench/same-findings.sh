#!/usr/bin/env bash
# Do two builds judge the lab the same? Scans the lab's providers (and the
# mailbox audits of alice@good.test, bob@ and dave@bad.test) with OLD and NEW
# and compares the findings, sorted, as "rule subject status severity".
# Exit 0 when they agree, 1 with the difference otherwise.
#
#   bash tests/bench/same-findings.sh OLD_BINARY NEW_BINARY
#
# The lab must be up (tests/lab/lab.sh up). Only loopback is contacted.
# Used to show that a reshaping (issue 15) changed no finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
(($# == 2)) || {
	echo "usage: $0 OLD_BINARY NEW_BINARY" >&2
	exit 2
}
old=$1 new=$2
for bin in "$old" "$new"; do
	[[ -x $bin ]] || {
		echo "not an executable: $bin" >&2
		exit 2
	}
done
command -v jq >/dev/null || {
	echo "jq is needed (apt-get install jq)" >&2
	exit 2
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf 'lab-secret-alice\n' >"$out/alice.pw"
printf 'bob@bad.test:lab-secret-bob\ndave@bad.test:lab-secret-dave\n' >"$out/bad.pw"
printf '[archive]\ngobd_archive = true\n[provider]\navv = true\n' >"$out/good.toml"
printf '[pop3]\nclients_in_use = true\n' >"$out/bad.toml"
lab=(--resolver 127.0.10.53 --ca-file tests/lab/run/ca/ca.pem
	--dnssec-anchor tests/lab/run/dns/root.anchor --no-location
	--format json --out - --lang en --timeout 5 -q)

# name | arguments
runs=(
	"providers|good.test bad.test legacy.test dane.test broken.test"
	"good-mailbox|good.test --mailbox alice@good.test --password-file $out/alice.pw --profile $out/good.toml"
	"bad-mailbox|bad.test --mailbox bob@bad.test --mailbox dave@bad.test --password-file $out/bad.pw --accept-invalid-certs --profile $out/bad.toml"
)
status=0
for run in "${runs[@]}"; do
	name=${run%%|*}
	read -r -a args <<<"${run#*|}"
	for side in old new; do
		bin=$old
		[[ $side == new ]] && bin=$new
		"$bin" scan "${lab[@]}" "${args[@]}" >"$out/$name.$side.json" 2>"$out/$name.$side.err" || true
		jq -r '.findings[] | "\(.rule) \(.subject) \(.status) \(.severity // "-")"' \
			"$out/$name.$side.json" | sort >"$out/$name.$side.txt"
	done
	count=$(wc -l <"$out/$name.old.txt")
	if diff -u "$out/$name.old.txt" "$out/$name.new.txt" >"$out/$name.diff"; then
		echo "$name: $count findings, the same"
	else
		echo "$name: findings differ (old $count, new $(wc -l <"$out/$name.new.txt")):"
		cat "$out/$name.diff"
		status=1
	fi
done
exit "$status"
