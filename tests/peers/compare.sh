#!/usr/bin/env bash
# Compare mailaudit's TLS enumeration with testssl.sh and sslyze on every lab
# TLS endpoint (good.test, bad.test, legacy.test): accepted protocol versions
# and, per version, accepted cipher suites as IANA code points. Prints one row
# per endpoint and every difference, and exits 1 if a difference is not
# listed with its reason in tests/peers/explained.tsv.
#
#   bash tests/peers/compare.sh              run all three tools, then compare
#   bash tests/peers/compare.sh --reuse      compare the outputs of the last run
#   bash tests/peers/compare.sh --reuse-peers run mailaudit again, reuse the peers' outputs
#   bash tests/peers/compare.sh --only GLOB  only endpoints whose subject matches
#   bash tests/peers/compare.sh --install    only install testssl.sh and sslyze
#   bash tests/peers/compare.sh --vulnerable compare the named vulnerability
#                                            verdicts instead (testssl.sh -U,
#                                            sslyze's heartbleed, CCS, ROBOT,
#                                            renegotiation and compression);
#                                            differences explained in
#                                            tests/peers/vulnerable-explained.tsv
#   bash tests/peers/compare.sh --if-changed do nothing when the prober
#                                            (src/probe/tls_scan/) has the hash
#                                            in tests/peers/compared.sha256
#
# Needs the lab up (tests/lab/lab.sh up) and root (apt). Installs testssl.sh
# from Debian and sslyze from PyPI into its own venv under
# ~/.cache/mailaudit-peers/ (sslyze pins a cryptography version that other
# tools do not want). Endpoints are addressed by IP, so neither peer needs the
# lab's DNS. Outputs: tests/lab/run/peers/{mailaudit,testssl,sslyze}/ and
# comparison.json. After a comparison without unexplained differences, the
# prober's hash is written to tests/peers/compared.sha256 (commit it).
#
# testssl.sh takes 1.5-3 minutes per endpoint; the endpoints run
# PEERS_JOBS (default 4) at a time, so a full run takes about 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
PATH="$PATH:/usr/sbin:/sbin"

PEERS_DIR=tests/peers
OUT=tests/lab/run/peers
VENV="${HOME:-/root}/.cache/mailaudit-peers/sslyze"
SSLYZE_VERSION=6.3.1
JOBS=${PEERS_JOBS:-4}
HASH_FILE=$PEERS_DIR/compared.sha256

# subject, address, port, STARTTLS protocol ("-" for implicit TLS).
ENDPOINTS=(
	"mx.good.test 127.0.11.25 25 smtp"
	"mx.good.test 127.0.11.25 465 -"
	"mx.good.test 127.0.11.25 587 smtp"
	"imap.good.test 127.0.11.143 143 imap"
	"imap.good.test 127.0.11.143 993 -"
	"imap.good.test 127.0.11.143 4190 sieve"
	"mx.bad.test 127.0.12.25 25 smtp"
	"mx.bad.test 127.0.12.25 587 smtp"
	"imap.bad.test 127.0.12.143 143 imap"
	"imap.bad.test 127.0.12.143 993 -"
	"imap.bad.test 127.0.12.143 4190 sieve"
	"mx.legacy.test 127.0.14.25 25 smtp"
	"mx.legacy.test 127.0.14.25 465 -"
	"mx.legacy.test 127.0.14.25 587 smtp"
	"imap.legacy.test 127.0.14.143 143 imap"
	"imap.legacy.test 127.0.14.143 993 -"
	"imap.legacy.test 127.0.14.143 110 pop3"
	"imap.legacy.test 127.0.14.143 995 -"
	"imap.legacy.test 127.0.14.143 4190 sieve"
	"tls13.legacy.test 127.0.14.13 143 imap"
	"tls13.legacy.test 127.0.14.13 993 -"
)

log() { printf 'peers: %s\n' "$*" >&2; }
die() {
	printf 'peers: ERROR: %s\n' "$*" >&2
	exit 2
}

prober_hash() { git ls-files -s src/probe/tls_scan | sha256sum | cut -d' ' -f1; }

install_peers() {
	if ! command -v testssl >/dev/null 2>&1; then
		log "installing testssl.sh (Debian)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends testssl.sh >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends testssl.sh >/dev/null; }
	fi
	if [[ ! -x $VENV/bin/sslyze ]] || [[ $("$VENV/bin/pip" show sslyze 2>/dev/null | sed -n 's/^Version: //p') != "$SSLYZE_VERSION" ]]; then
		log "installing sslyze $SSLYZE_VERSION into $VENV"
		# Debian's python3 has venv (and ensurepip) in a package of its own.
		python3 -c 'import ensurepip, venv' 2>/dev/null ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv >/dev/null
		python3 -m venv "$VENV"
		"$VENV/bin/pip" install -q "sslyze==$SSLYZE_VERSION"
	fi
}

# testssl.sh --vulnerable (-U): every named check it has, one JSON per
# endpoint (the same ManageSieve limit as below).
run_testssl_vulnerable() {
	local address=$1 port=$2 starttls=$3 out="$OUT/testssl-vulnerable/$1_$2.json"
	local args=(--quiet --warnings off --color 0 --connect-timeout 10 --openssl-timeout 10 -U)
	rm -f "$out" "${out%.json}.unsupported"
	if [[ $starttls != - ]] && ! testssl --help 2>&1 | grep -q "protocol is <.*$starttls"; then
		echo "testssl.sh has no --starttls $starttls" >"${out%.json}.unsupported"
		return 0
	fi
	[[ $starttls == - ]] || args+=(--starttls "$starttls")
	testssl "${args[@]}" --jsonfile-pretty "$out" "$address:$port" >"$OUT/testssl-vulnerable/$1_$2.log" 2>&1 || true
}

# sslyze: the vulnerability checks it has.
run_sslyze_vulnerable() {
	local address=$1 port=$2 starttls=$3 out="$OUT/sslyze-vulnerable/$1_$2.json"
	rm -f "$out" "${out%.json}.unsupported"
	if [[ $starttls == sieve ]]; then
		echo "sslyze has no ManageSieve STARTTLS" >"${out%.json}.unsupported"
		return 0
	fi
	local args=(--quiet --heartbleed --openssl_ccs --robot --reneg --compression)
	[[ $starttls == - ]] || args+=(--starttls "$starttls")
	"$VENV/bin/sslyze" "${args[@]}" --json_out "$out" "$address:$port" >"$OUT/sslyze-vulnerable/$1_$2.log" 2>&1 || true
}

# testssl.sh: protocols (-p) and every cipher per protocol (-E). Debian 12's
# testssl.sh 3.0.8 has no ManageSieve STARTTLS (3.2 has): such an endpoint
# gets a .unsupported marker instead, and compare.py skips the tool there.
run_testssl() {
	local address=$1 port=$2 starttls=$3 out="$OUT/testssl/$1_$2.json"
	local args=(--quiet --warnings off --color 0 --connect-timeout 10 --openssl-timeout 10 -p -E)
	rm -f "$out" "${out%.json}.unsupported"
	if [[ $starttls != - ]] && ! testssl --help 2>&1 | grep -q "protocol is <.*$starttls"; then
		echo "testssl.sh $(testssl --version 2>/dev/null | grep -o '3\.[0-9.a-z+~-]*' | head -n 1) has no --starttls $starttls" >"${out%.json}.unsupported"
		return 0
	fi
	[[ $starttls == - ]] || args+=(--starttls "$starttls")
	testssl "${args[@]}" --jsonfile-pretty "$out" "$address:$port" >"$OUT/testssl/$1_$2.log" 2>&1 || true
}

# sslyze: every version's suites; --starttls by name (it has no ManageSieve).
run_sslyze() {
	local address=$1 port=$2 starttls=$3 out="$OUT/sslyze/$1_$2.json"
	rm -f "${out%.json}.unsupported"
	if [[ $starttls == sieve ]]; then
		echo "sslyze has no ManageSieve STARTTLS" >"${out%.json}.unsupported"
		return 0
	fi
	local args=(--quiet --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --elliptic_curves)
	[[ $starttls == - ]] || args+=(--starttls "$starttls")
	rm -f "$out"
	"$VENV/bin/sslyze" "${args[@]}" --json_out "$out" "$address:$port" >"$OUT/sslyze/$1_$2.log" 2>&1 || true
}

run_mailaudit() {
	local bin=${MAILAUDIT_BIN:-}
	if [[ -z $bin ]]; then
		cargo build --quiet --bin mailaudit
		bin="${CARGO_TARGET_DIR:-target}/debug/mailaudit"
	fi
	local rc=0
	"$bin" scan good.test bad.test legacy.test --resolver 127.0.10.53 \
		--ca-file tests/lab/run/ca/ca.pem --dnssec-anchor tests/lab/run/dns/root.anchor \
		--no-location --lang en --format json --out "$OUT/mailaudit" >"$OUT/mailaudit/scan.log" 2>&1 || rc=$?
	# 1 only means that findings failed, which the lab is built for.
	((rc <= 1)) || die "mailaudit scan failed (exit $rc), see $OUT/mailaudit/scan.log"
}

main() {
	local reuse=0 reuse_peers=0 only="*" if_changed=0 vulnerable=0
	while (($#)); do
		case $1 in
		--reuse) reuse=1 ;;
		--reuse-peers) reuse_peers=1 ;;
		--only) only=$2; shift ;;
		--if-changed) if_changed=1 ;;
		--install) install_peers; return 0 ;;
		--vulnerable) vulnerable=1 ;;
		*) die "unknown argument $1 (see the header of $0)" ;;
		esac
		shift
	done
	if ((if_changed)) && [[ -f $HASH_FILE ]] && [[ $(prober_hash) == "$(tr -d ' \n' <"$HASH_FILE")" ]]; then
		log "prober unchanged since the last comparison ($HASH_FILE); nothing to do"
		return 0
	fi
	bash tests/lab/lab.sh status >/dev/null || die "the lab is not (fully) up: run tests/lab/lab.sh up"
	mkdir -p "$OUT/mailaudit" "$OUT/testssl" "$OUT/sslyze" "$OUT/testssl-vulnerable" "$OUT/sslyze-vulnerable"

	local line subject address port starttls selected=()
	: >"$OUT/endpoints.tsv"
	for line in "${ENDPOINTS[@]}"; do
		read -r subject address port starttls <<<"$line"
		# shellcheck disable=SC2053 # $only is a glob on purpose
		[[ $subject:$port == $only ]] || continue
		selected+=("$line")
		printf '%s\t%s\t%s\t%s\n' "$subject:$port" "$address" "$port" "$starttls" >>"$OUT/endpoints.tsv"
	done
	((${#selected[@]})) || die "no endpoint matches $only"

	if ((!reuse)); then
		install_peers
		log "mailaudit: scanning good.test bad.test legacy.test"
		run_mailaudit
	fi
	if ((vulnerable)); then
		if ((!reuse && !reuse_peers)); then
			log "testssl.sh -U and sslyze: ${#selected[@]} endpoints, $JOBS at a time"
			export OUT VENV
			export -f run_testssl_vulnerable run_sslyze_vulnerable
			local started=$SECONDS
			for line in "${selected[@]}"; do
				read -r subject address port starttls <<<"$line"
				printf '%s %s %s\n' "$address" "$port" "$starttls"
			done | xargs -P "$JOBS" -L 1 bash -c 'run_sslyze_vulnerable "$@"; run_testssl_vulnerable "$@"' _
			log "peers done in $((SECONDS - started)) s"
		fi
		python3 "$PEERS_DIR/vulnerable.py" --endpoints "$OUT/endpoints.tsv" \
			--mailaudit "$OUT/mailaudit/report.json" --testssl-dir "$OUT/testssl-vulnerable" \
			--sslyze-dir "$OUT/sslyze-vulnerable" --explained "$PEERS_DIR/vulnerable-explained.tsv" \
			--summary "$OUT/vulnerable.json"
		return
	fi
	if ((!reuse && !reuse_peers)); then
		log "testssl.sh and sslyze: ${#selected[@]} endpoints, $JOBS at a time"
		export OUT VENV
		export -f run_testssl run_sslyze
		local started=$SECONDS
		for line in "${selected[@]}"; do
			read -r subject address port starttls <<<"$line"
			printf '%s %s %s\n' "$address" "$port" "$starttls"
		done | xargs -P "$JOBS" -L 1 bash -c 'run_sslyze "$@"; run_testssl "$@"' _
		log "peers done in $((SECONDS - started)) s"
	fi

	local rc=0
	python3 "$PEERS_DIR/compare.py" --endpoints "$OUT/endpoints.tsv" \
		--mailaudit "$OUT/mailaudit/report.json" --testssl-dir "$OUT/testssl" \
		--sslyze-dir "$OUT/sslyze" --mapping /etc/testssl/cipher-mapping.txt \
		--explained "$PEERS_DIR/explained.tsv" --summary "$OUT/comparison.json" || rc=$?
	if ((rc == 0)) && [[ $only == "*" ]]; then
		prober_hash >"$HASH_FILE"
		log "no unexplained difference; prober hash written to $HASH_FILE"
	fi
	return $rc
}

main "$@"
