#!/usr/bin/env bash
# Compare mailaudit's SPF and DMARC verdicts with checkdmarc's on every lab
# domain (issue 16), as tests/peers/compare.sh does for TLS: prints one row
# per domain and field, and exits 1 if a difference is not listed with its
# reason in tests/peers/checkdmarc-explained.tsv.
#
#   bash tests/peers/checkdmarc.sh            install checkdmarc if needed, run both, compare
#   bash tests/peers/checkdmarc.sh --install  only install checkdmarc
#
# Needs the lab up and root. checkdmarc comes from PyPI into its own venv
# under ~/.cache/mailaudit-peers/checkdmarc. Both tools ask the lab's Knot
# (127.0.10.53) directly; checkdmarc also fetches MTA-STS policies through
# the system resolver, so it runs in a private mount namespace whose
# /etc/resolv.conf names the lab's Knot too: nothing leaves 127.0.0.0/8.
# --skip-tls: checkdmarc opens no SMTP connection. Outputs:
# tests/lab/run/peers/checkdmarc/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PATH="$PATH:/usr/sbin:/sbin"

VENV="${HOME:-/root}/.cache/mailaudit-peers/checkdmarc"
CHECKDMARC_VERSION=6.0.4
OUT=tests/lab/run/peers/checkdmarc
DNS=127.0.10.53
DOMAINS=(
	good.test bad.test broken.test dane.test legacy.test cyrus.test exim.test
	spf-chain.bad.test spf-void.bad.test spf-syntax.bad.test spf-multi.bad.test
	dmarc-none.bad.test dmarc-pct.bad.test dkim-1024.bad.test dkim-512.bad.test
	sts.bad.test sts-cert.bad.test cname-mx.bad.test v6-mx.bad.test pop-config.bad.test
)

log() { printf 'checkdmarc: %s\n' "$*" >&2; }

install_checkdmarc() {
	if [[ -x $VENV/bin/checkdmarc ]] &&
		[[ $("$VENV/bin/pip" show checkdmarc 2>/dev/null | sed -n 's/^Version: //p') == "$CHECKDMARC_VERSION" ]]; then
		return 0
	fi
	log "installing checkdmarc $CHECKDMARC_VERSION into $VENV"
	python3 -c 'import ensurepip, venv' 2>/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv >/dev/null
	python3 -m venv "$VENV"
	"$VENV/bin/pip" install -q "checkdmarc==$CHECKDMARC_VERSION"
}

install_checkdmarc
[[ ${1:-} == --install ]] && exit 0

mkdir -p "$OUT"
bin=${MAILAUDIT_BIN:-}
if [[ -z $bin ]]; then
	cargo build --quiet --bin mailaudit
	bin="${CARGO_TARGET_DIR:-target}/debug/mailaudit"
fi
log "mailaudit on ${#DOMAINS[@]} domains"
"$bin" scan "${DOMAINS[@]}" --resolver "$DNS" --no-tls-scan --no-location --timeout 5 \
	--ca-file tests/lab/run/ca/ca.pem --dnssec-anchor tests/lab/run/dns/root.anchor \
	--format json --out - --lang en >"$OUT/mailaudit.json" || [[ $? == 1 ]]

log "checkdmarc $CHECKDMARC_VERSION on ${#DOMAINS[@]} domains"
printf 'nameserver %s\n' "$DNS" >"$OUT/resolv.conf"
unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$OUT/resolv.conf" \
	env PYTHONWARNINGS=ignore "$VENV/bin/checkdmarc" --skip-tls -n "$DNS" -t 2 -f json "${DOMAINS[@]}" \
	>"$OUT/checkdmarc.json" 2>"$OUT/checkdmarc.log"

python3 tests/peers/checkdmarc_compare.py "$OUT/mailaudit.json" "$OUT/checkdmarc.json" \
	tests/peers/checkdmarc-explained.tsv
