# shellcheck shell=bash
# `lab.sh selftest`: check that the running lab really shows the behaviour
# the Rust integration tests rely on (README.md, "Behaviour matrix"), using
# only stock tools (openssl, dig, delv, curl, bash /dev/tcp). Ends with the
# line "N passed, N failed" and exits non-zero if anything failed.
# It stops and restarts good-dovecot once, to check `stop`/`start`.

ST_PASS=0
ST_FAIL=0

# st_expect DESCRIPTION REGEX TEXT [!]: TEXT must (or with "!" must not)
# match the extended REGEX.
st_expect() {
	local desc=$1 re=$2 text=$3 neg=${4:-}
	if { [[ -z $neg ]] && grep -Eq -- "$re" <<<"$text"; } ||
		{ [[ -n $neg ]] && ! grep -Eq -- "$re" <<<"$text"; }; then
		ST_PASS=$((ST_PASS + 1))
		printf 'ok   %s\n' "$desc"
	else
		ST_FAIL=$((ST_FAIL + 1))
		printf 'FAIL %s\n' "$desc"
		sed 's/^/     | /' <<<"$text" | head -n 15
	fi
}

# Plain-text dialogue: read the greeting, send each command, collect every
# reply line (a reply ends when the server stays quiet for half a second).
st_chat() {
	local host=$1 port=$2 fd line out=""
	shift 2
	{ exec {fd}<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 0
	while IFS= read -r -t 0.5 -u "$fd" line; do out+="${line%$'\r'}"$'\n'; done
	for cmd in "$@"; do
		printf '%s\r\n' "$cmd" >&"$fd"
		while IFS= read -r -t 0.5 -u "$fd" line; do out+="${line%$'\r'}"$'\n'; done
	done
	exec {fd}>&-
	printf '%s' "$out"
}

# TLS handshake summary (certificate verification against the lab CA).
st_tls() {
	timeout 10 openssl s_client -CAfile "$LAB_RUN/ca/ca.pem" "$@" </dev/null 2>&1 || true
}

# EHLO as seen after STARTTLS.
st_ehlo_tls() {
	{ sleep 1; printf 'EHLO selftest.test\r\n'; sleep 1; printf 'QUIT\r\n'; } |
		timeout 10 openssl s_client -quiet -connect "$1" -starttls smtp -ign_eof 2>/dev/null || true
}

st_ports() {
	local out="" ep
	for ep in "$@"; do
		if lab_port_open "${ep%:*}" "${ep##*:}"; then out+="$ep open"$'\n'; else out+="$ep refused"$'\n'; fi
	done
	printf '%s' "$out"
}

cmd_selftest() {
	local G=$LAB_GOOD_MX GI=$LAB_GOOD_IMAP B=$LAB_BAD_MX BI=$LAB_BAD_IMAP out
	local weak=(-cipher DEFAULT@SECLEVEL=0)

	echo "# DNS"
	out=$(dig +norec +dnssec @"$LAB_DNS_ADDR" MX good.test)
	st_expect "good.test MX answered with RRSIG" 'RRSIG[[:space:]]+MX' "$out"
	st_expect "good.test submission SRV" '0 1 587 smtp.good.test.' "$(dig +short @"$LAB_DNS_ADDR" SRV _submission._tcp.good.test)"
	st_expect "good.test pop3 SRV says 'not offered'" '^0 0 0 \.$' "$(dig +short @"$LAB_DNS_ADDR" SRV _pop3._tcp.good.test)"
	st_expect "TLSA matches mx.good.test's key" "3 1 1 $(lab_spki_sha256 "$LAB_RUN/certs/good-mx.pem")" \
		"$(dig +short @"$LAB_DNS_ADDR" TLSA _25._tcp.mx.good.test | tr -d ' ' | sed 's/^311/3 1 1 /' | tr 'A-F' 'a-f')"
	local delv=(delv @"$LAB_DNS_ADDR" -a "$LAB_RUN/dns/root.delv" +root=.)
	st_expect "delv: good.test fully validated" '^; fully validated' "$("${delv[@]}" MX good.test 2>&1)"
	st_expect "delv: bad.test unsigned (insecure)" '^; unsigned answer' "$("${delv[@]}" MX bad.test 2>&1)"
	st_expect "delv: broken.test fails validation" 'resolution failed' "$("${delv[@]}" MX broken.test 2>&1)"
	st_expect "delv: dane.test TLSA fully validated" '^; fully validated' "$("${delv[@]}" TLSA _25._tcp.mx.dane.test 2>&1)"
	st_expect "dane.test: mx2 has no TLSA" '^$' "$(dig +short @"$LAB_DNS_ADDR" TLSA _25._tcp.mx2.dane.test)"

	echo "# good.test"
	st_expect "good 25: verifies as mx.good.test" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$G:25" -starttls smtp -verify_hostname mx.good.test)"
	st_expect "good 465: implicit TLS verifies" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$G:465" -verify_hostname smtp.good.test)"
	st_expect "good 587: verifies, chain includes issuing CA" 'depth=1 .*issuing CA' \
		"$(st_tls -connect "$G:587" -starttls smtp -verify_hostname smtp.good.test)"
	st_expect "good 25: TLS 1.1 refused" 'alert protocol version|no protocols available' \
		"$(st_tls -connect "$G:25" -starttls smtp -tls1_1 "${weak[@]}")"
	out=$(st_chat "$G" 25 "EHLO selftest.test" QUIT)
	st_expect "good 25: STARTTLS offered" '^250[- ]STARTTLS' "$out"
	st_expect "good 25: no AUTH before TLS" '^250[- ]AUTH' "$out" !
	out=$(st_ehlo_tls "$G:25")
	st_expect "good 25: EHLO answered inside TLS" '^250 ' "$out"
	st_expect "good 25: no AUTH after TLS" '^250[- ]AUTH' "$out" !
	out=$(st_chat "$G" 587 "EHLO selftest.test" QUIT)
	st_expect "good 587: STARTTLS offered" '^250[- ]STARTTLS' "$out"
	st_expect "good 587: no AUTH before TLS" '^250[- ]AUTH' "$out" !
	st_expect "good 587: AUTH after STARTTLS" '^250[- ]AUTH PLAIN LOGIN' "$(st_ehlo_tls "$G:587")"
	out=$(st_chat "$GI" 143 "a CAPABILITY" "b LOGOUT")
	st_expect "good 143: STARTTLS + LOGINDISABLED" 'STARTTLS.*LOGINDISABLED' "$out"
	st_expect "good 993: verifies as imap.good.test" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$GI:993" -verify_hostname imap.good.test)"
	st_expect "good 4190: no SASL before STARTTLS" '^"SASL" ""' "$(st_chat "$GI" 4190 LOGOUT)"
	st_expect "good: no POP3 listener" 'open' "$(st_ports "$GI:110" "$GI:995")" !
	st_expect "good web: MTA-STS policy over HTTPS" 'mode: enforce' \
		"$(curl -sS --cacert "$LAB_RUN/ca/ca.pem" --resolve "mta-sts.good.test:443:$LAB_GOOD_WEB" \
			https://mta-sts.good.test/.well-known/mta-sts.txt 2>&1)"
	st_expect "good web: autoconfig XML" '<hostname>imap.good.test</hostname>' \
		"$(curl -sS --cacert "$LAB_RUN/ca/ca.pem" --resolve "autoconfig.good.test:443:$LAB_GOOD_WEB" \
			https://autoconfig.good.test/mail/config-v1.1.xml 2>&1)"

	echo "# bad.test"
	st_expect "bad 25: certificate expired" 'certificate has expired' \
		"$(st_tls -connect "$B:25" -starttls smtp -verify_hostname mx.bad.test)"
	st_expect "bad 25: TLS 1.3 refused" 'alert protocol version' "$(st_tls -connect "$B:25" -starttls smtp -tls1_3)"
	st_expect "bad 25: TLS 1.0 accepted" 'Protocol *: TLSv1$' \
		"$(st_tls -connect "$B:25" -starttls smtp -tls1 "${weak[@]}")"
	st_expect "bad 25: AUTH before TLS" '^250[- ]AUTH ' "$(st_chat "$B" 25 "EHLO selftest.test" QUIT)"
	st_expect "bad 587: self-signed" 'self-signed certificate' \
		"$(st_tls -connect "$B:587" -starttls smtp -verify_hostname smtp.bad.test)"
	st_expect "bad 587: AUTH before TLS" '^250[- ]AUTH ' "$(st_chat "$B" 587 "EHLO selftest.test" QUIT)"
	st_expect "bad: no port 465" 'open' "$(st_ports "$B:465")" !
	out=$(st_tls -connect "$BI:993" -verify_hostname imap.bad.test "${weak[@]}")
	st_expect "bad 993: hostname mismatch" 'hostname mismatch' "$out"
	st_expect "bad 993: 1024-bit key" 'Server public key is 1024 bit' "$out"
	st_expect "bad 993: SHA-1 signature" 'sha1WithRSAEncryption' \
		"$(openssl x509 -noout -text <<<"$(st_tls -connect "$BI:993" "${weak[@]}")")"
	st_expect "bad 993: TLS 1.0 accepted" 'Protocol *: TLSv1$' "$(st_tls -connect "$BI:993" -tls1 "${weak[@]}")"
	out=$(st_chat "$BI" 143 "a CAPABILITY" "b LOGOUT")
	st_expect "bad 143: STARTTLS offered" 'STARTTLS' "$out"
	st_expect "bad 143: no LOGINDISABLED" 'LOGINDISABLED' "$out" !
	st_expect "bad 4190: SASL offered before TLS" '^"SASL" "PLAIN' "$(st_chat "$BI" 4190 LOGOUT)"
	out=$(st_chat "$LAB_BAD_POP" 110 CAPA QUIT)
	st_expect "bad 110: USER offered" '^USER$' "$out"
	st_expect "bad 110: no STLS" '^STLS' "$out" !
	st_expect "bad 110: login in clear works" '^\+OK Logged in' \
		"$(st_chat "$LAB_BAD_POP" 110 "USER bob@bad.test" "PASS lab-secret-bob" QUIT)"
	st_expect "bad: no POP3S" 'open' "$(st_ports "$LAB_BAD_POP:995")" !

	echo "# stop/start"
	"$LAB_DIR/lab.sh" stop good-dovecot 2>/dev/null
	out=$(st_ports "$GI:143" "$GI:993" "$GI:4190")
	st_expect "stop good-dovecot: its ports refuse" 'open' "$out" !
	st_expect "stop good-dovecot: good SMTP still up" 'open' "$(st_ports "$G:587")"
	"$LAB_DIR/lab.sh" start good-dovecot 2>/dev/null
	st_expect "start good-dovecot: its ports are back" 'refused' "$(st_ports "$GI:143" "$GI:993" "$GI:4190")" !

	echo "$ST_PASS passed, $ST_FAIL failed"
	((ST_FAIL == 0))
}
