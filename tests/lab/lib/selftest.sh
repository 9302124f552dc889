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
	st_expect "delv: expired.test fails validation" 'resolution failed' "$("${delv[@]}" MX expired.test 2>&1)"
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

	st_mailboxes
	st_org

	echo "# legacy.test"
	local L=$LAB_LEGACY_MX LI=$LAB_LEGACY_IMAP LT=$LAB_LEGACY_TLS13
	st_expect "legacy 25: verifies as mx.legacy.test, TLS 1.0 accepted" 'Protocol *: TLSv1$' \
		"$(st_tls -connect "$L:25" -starttls smtp -verify_hostname mx.legacy.test -tls1 "${weak[@]}")"
	st_expect "legacy 25: NULL suite accepted" 'Cipher *: NULL-SHA$' \
		"$(st_tls -connect "$L:25" -starttls smtp -tls1_2 -cipher NULL-SHA@SECLEVEL=0)"
	st_expect "legacy 25: static RSA accepted" 'Cipher *: AES128-SHA$' \
		"$(st_tls -connect "$L:25" -starttls smtp -tls1_2 -cipher AES128-SHA@SECLEVEL=0)"
	st_expect "legacy 25: 1024-bit DHE group" 'Server Temp Key: DH, 1024 bits' \
		"$(st_tls -connect "$L:25" -starttls smtp -tls1_2 -cipher DHE@SECLEVEL=0)"
	st_expect "legacy 25: TLS 1.3 refused" 'alert protocol version' "$(st_tls -connect "$L:25" -starttls smtp -tls1_3)"
	st_expect "legacy 587: ffdhe2048 for DHE" 'Server Temp Key: DH, 2048 bits' \
		"$(st_tls -connect "$L:587" -starttls smtp -tls1_2)"
	st_expect "legacy 587: ECDHE refused" 'Cipher *: ECDHE' \
		"$(st_tls -connect "$L:587" -starttls smtp -tls1_2 -cipher ECDHE:DHE)" !
	st_expect "legacy 465: TLS 1.3 accepted" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$L:465" -tls1_3 -verify_hostname mx.legacy.test)"
	st_expect "legacy 465: TLS 1.2 refused" 'alert protocol version' "$(st_tls -connect "$L:465" -tls1_2)"
	st_expect "legacy 993: TLS 1.1 with a 1024-bit DHE group" 'Server Temp Key: DH, 1024 bits' \
		"$(st_tls -connect "$LI:993" -verify_hostname imap.legacy.test -tls1_1 -cipher DHE@SECLEVEL=0)"
	st_expect "legacy 995: NULL-MD5 accepted" 'Cipher *: NULL-MD5$' \
		"$(st_tls -connect "$LI:995" -tls1_2 -cipher NULL-MD5@SECLEVEL=0)"
	st_expect "legacy 110: STLS, TLS 1.3 with ffdhe2048" 'Server Temp Key: DH, 2048 bits' \
		"$(st_tls -connect "$LI:110" -starttls pop3 -tls1_3 -groups ffdhe2048 | tr -d '\000')"
	st_expect "legacy 4190: STARTTLS, TLS 1.0 accepted" 'Protocol *: TLSv1$' \
		"$(st_tls -connect "$LI:4190" -starttls sieve -tls1 "${weak[@]}")"
	st_expect "legacy tls13 993: TLS 1.3 verifies" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$LT:993" -tls1_3 -verify_hostname tls13.legacy.test)"
	st_expect "legacy tls13 993: TLS 1.2 refused" 'Cipher is \(NONE\)|Cipher *: 0000' "$(st_tls -connect "$LT:993" -tls1_2)"
	st_expect "legacy tls13 143: ChaCha20 refused" 'Cipher is \(NONE\)' \
		"$(st_tls -connect "$LT:143" -starttls imap -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256)"
	st_expect "legacy tls13 993: ffdhe2048 refused" 'Server Temp Key' \
		"$(st_tls -connect "$LT:993" -tls1_3 -groups ffdhe2048)" !
	st_expect "legacy: SRV names tls13.legacy.test" '0 1 993 tls13.legacy.test.' \
		"$(dig +short @"$LAB_DNS_ADDR" SRV _imaps._tcp.legacy.test)"

	st_interop
	st_relay
	st_revocation

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

# Mailboxes generated by lib/maildir.py (conf/mailboxes/*.json): counts per
# folder and year, quota, ACL and Sieve state seen through each Dovecot
# instance's own config, and proof that a read-only IMAP/POP3 session
# leaves every message file (name = flags) as it was.
st_mailboxes() {
	local Y GC="$LAB_RUN/good-dovecot/dovecot.conf" BC="$LAB_RUN/bad-dovecot/dovecot.conf" out y
	Y=$(date +%Y)
	local good=(doveadm -c "$GC") bad=(doveadm -c "$BC")
	local mail="$LAB_RUN/mail"
	echo "# mailboxes"
	st_expect "no message file in any new/" '.' \
		"$(find "$mail/good.test/alice" "$mail/bad.test" -path '*/new/*' -type f)" !
	out=$("${good[@]}" mailbox status -u alice@good.test messages '*' 2>&1)
	st_expect "alice: exactly INBOX 300, Sent 150, Drafts 2, Trash 0, Archive 200" \
		'^Archive messages=200\|Drafts messages=2\|INBOX messages=300\|Sent messages=150\|Trash messages=0$' \
		"$(sort <<<"$out" | paste -sd'|')"
	out=""
	for ((y = Y - 5; y <= Y; y++)); do
		out+="$y:$("${good[@]}" search -u alice@good.test mailbox Sent SINCE "1-Jan-$y" BEFORE "1-Jan-$((y + 1))" | wc -l) "
	done
	st_expect "alice: Sent has mail in each of Y-5..Y" ':0 ' "$out" !
	st_expect "alice: nothing older than Y-5" '^0$' \
		"$("${good[@]}" search -u alice@good.test mailbox '*' BEFORE "1-Jan-$((Y - 5))" | wc -l)"
	st_expect "alice: quota under 50 %" '^Quota name=User quota Type=STORAGE .* %=([0-9]|[1-4][0-9])$' \
		"$("${good[@]}" -f flow quota get -u alice@good.test 2>&1)"
	out=$(for y in INBOX Sent Drafts Trash Archive; do "${good[@]}" acl get -u alice@good.test "$y"; done 2>&1)
	st_expect "alice: no ACL entries for anyone else" '^(anyone|authenticated|user=|group)' "$out" !
	out=$("${good[@]}" sieve list -u alice@good.test 2>&1)
	st_expect "alice: Sieve main active, old inactive" '^main ACTIVE' "$out"
	st_expect "alice: Sieve old is inactive" '^old ACTIVE' "$out" !
	st_expect "alice: old exists" '^old' "$out"
	out=$(st_imaps "$LAB_GOOD_IMAP:993" alice@good.test lab-secret-alice 'b LIST (SPECIAL-USE) "" "*"')
	st_expect "alice: Archive is \\Archive (IMAPS LIST)" '\\Archive\) "/" Archive' "$out"

	out=$("${bad[@]}" mailbox status -u bob@bad.test messages '*' 2>&1)
	st_expect "bob: INBOX 1800, Sent 500, Trash 300, Junk 50, Archiv 300, Projekte 50" \
		'^Archiv messages=300\|INBOX messages=1800\|Junk messages=50\|Projekte messages=50\|Sent messages=500\|Trash messages=300$' \
		"$(sort <<<"$out" | paste -sd'|')"
	st_expect "bob: mail since 2010" '^[1-9]' \
		"$("${bad[@]}" search -u bob@bad.test mailbox INBOX BEFORE 1-Jan-2011 | wc -l)"
	st_expect "bob: no Sent mail in Y-3 and Y-2" '^0$' \
		"$("${bad[@]}" search -u bob@bad.test mailbox Sent SINCE "1-Jan-$((Y - 3))" BEFORE "1-Jan-$((Y - 1))" | wc -l)"
	st_expect "bob: Sent mail in Y-4 and Y-1" '^[1-9][0-9]* [1-9]' \
		"$("${bad[@]}" search -u bob@bad.test mailbox Sent SINCE "1-Jan-$((Y - 4))" BEFORE "1-Jan-$((Y - 3))" | wc -l) $("${bad[@]}" search -u bob@bad.test mailbox Sent SINCE "1-Jan-$((Y - 1))" BEFORE "1-Jan-$Y" | wc -l)"
	st_expect "bob: quota 92-97 % full" '^Quota name=User quota Type=STORAGE .* %=9[2-7]$' \
		"$("${bad[@]}" -f flow quota get -u bob@bad.test 2>&1)"
	st_expect "bob: Projekte shared to anyone (lr)" '^anyone +lookup read *$' \
		"$("${bad[@]}" acl get -u bob@bad.test Projekte 2>&1)"
	st_expect "bob: Sieve main active" '^main ACTIVE' "$("${bad[@]}" sieve list -u bob@bad.test 2>&1)"
	st_expect "bob: main redirects to an external domain" '^redirect "bob@private-mail.example";' \
		"$("${bad[@]}" sieve get -u bob@bad.test main 2>&1)"
	st_expect "bob: ManageSieve LISTSCRIPTS" '^"main" ACTIVE' \
		"$(st_chat "$LAB_BAD_IMAP" 4190 "AUTHENTICATE \"PLAIN\" \"$(printf '\0bob@bad.test\0lab-secret-bob' | base64)\"" LISTSCRIPTS LOGOUT)"
	st_expect "dave: INBOX only (100), no Sent" '^INBOX messages=100$' \
		"$("${bad[@]}" mailbox status -u dave@bad.test messages '*' 2>&1 | paste -sd'|')"

	# Read-only sessions must not rename (re-flag) or move any message file.
	local before after
	before=$(find "$mail/good.test/alice" "$mail/bad.test" \( -path '*/cur/*' -o -path '*/new/*' \) -printf '%P %T@\n' | sort)
	out=$(st_chat "$LAB_BAD_IMAP" 143 "a LOGIN bob@bad.test lab-secret-bob" \
		'b LIST "" "*" RETURN (SPECIAL-USE)' "c EXAMINE INBOX" "d UID FETCH 1:* (FLAGS BODY.PEEK[HEADER])" \
		"e GETQUOTAROOT INBOX" "f MYRIGHTS INBOX" "g GETACL Projekte" "h LOGOUT")
	st_expect "bob IMAP: EXAMINE is read-only" '^c OK \[READ-ONLY\]' "$out"
	st_expect "bob IMAP: Sent is \\Sent" '^\* LIST \([^)]*\\Sent\) "/" Sent$' "$out"
	st_expect "bob IMAP: Archiv has no special-use" '^\* LIST \((\\HasNoChildren|\\Marked|\\UnMarked| )*\) "/" Archiv$' "$out"
	st_expect "bob IMAP: quota root" '^\* QUOTA "User quota" \(STORAGE [0-9]+ [0-9]+\)' "$out"
	st_expect "bob IMAP: GETACL Projekte lists anyone" '^\* ACL Projekte .*anyone lr' "$out"
	st_expect "bob IMAP: MYRIGHTS (owner may expunge)" '^\* MYRIGHTS INBOX [a-z]*e' "$out"
	out=$(st_chat "$LAB_BAD_POP" 110 "USER bob@bad.test" "PASS lab-secret-bob" STAT UIDL "TOP 1 0" QUIT)
	st_expect "bob POP3: STAT 1800 messages" '^\+OK 1800 ' "$out"
	st_imaps "$LAB_GOOD_IMAP:993" alice@good.test lab-secret-alice "c EXAMINE Sent" \
		"d UID FETCH 1:* (INTERNALDATE RFC822.SIZE ENVELOPE BODY.PEEK[HEADER])" >/dev/null
	after=$(find "$mail/good.test/alice" "$mail/bad.test" \( -path '*/cur/*' -o -path '*/new/*' \) -printf '%P %T@\n' | sort)
	st_expect "read-only IMAP/POP3 sessions changed no message file" 'changed' \
		"$([[ $before == "$after" ]] || { echo changed; diff <(echo "$before") <(echo "$after") | head; })" !
}

# IMAP over implicit TLS: LOGIN, the given commands, LOGOUT; prints the
# server's answers (lab CA verified).
st_imaps() {
	local ep=$1 user=$2 pass=$3 cmd
	shift 3
	{
		sleep 0.5
		printf 'a LOGIN %s %s\r\n' "$user" "$pass"
		for cmd in "$@"; do
			sleep 0.3
			printf '%s\r\n' "$cmd"
		done
		sleep 0.5
		printf 'z LOGOUT\r\n'
		sleep 0.3
	} | timeout 15 openssl s_client -quiet -CAfile "$LAB_RUN/ca/ca.pem" -connect "$ep" 2>/dev/null | tr -d '\r' || true
}

# org.test (lib/org.sh): the master user opens every mailbox, a refused
# identity stays refused, and the folder counts are the manifest's.
st_org() {
	local OC="$LAB_RUN/org-dovecot/dovecot.conf" manifest="$LAB_RUN/mail/org.test/manifest.json" out want
	echo "# org.test"
	out=$(st_imaps "$LAB_ORG_IMAP:993" 'user01@org.test*auditor' lab-secret-master \
		'b LIST "" "*"' 'c EXAMINE "Entw&APw-rfe"' 'd EXAMINE Leer' 'e UID SEARCH KEYWORD $LegalHold')
	st_expect "org: master user logs in as user01" '^a OK' "$out"
	st_expect "org: Entwürfe is listed in modified UTF-7" '^\* LIST \([^)]*\) "/" Entw&APw-rfe$' "$out"
	st_expect "org: EXAMINE is read-only" '^c OK \[READ-ONLY\]' "$out"
	st_expect "org: Leer has no message" '^\* 0 EXISTS' "$out"
	out=$(st_imaps "$LAB_ORG_IMAP:993" 'ghost@org.test*auditor' lab-secret-master)
	st_expect "org: the master user cannot open a mailbox that does not exist" '^a NO' "$out"
	want=$(python3 -c 'import json,sys
m=json.load(open(sys.argv[1]))["mailboxes"]["user07@org.test"]
print("\n".join(k + " messages=" + str(v["messages"]) for k, v in m.items()))' "$manifest" | sort | paste -sd'|')
	out=$(doveadm -c "$OC" mailbox status -u user07@org.test messages '*' 2>&1 | sort | paste -sd'|')
	st_expect "org: user07's folder counts are the manifest's" "^$(sed 's/[|$&]/\\&/g' <<<"$want")\$" "$out"
}

# cyrus.test and exim.test (issue 16): Cyrus IMAP and Exim beside Dovecot
# and Postfix, logins only inside TLS; erin's mailbox as the admin sees it.
st_interop() {
	local C=$LAB_CYRUS_ADDR E=$LAB_EXIM_ADDR out
	echo "# cyrus.test, exim.test"
	st_expect "cyrus.test MX is Exim's" '^10 mx.cyrus.test.$' "$(dig +short @"$LAB_DNS_ADDR" MX cyrus.test)"
	st_expect "cyrus.test sieve SRV" '0 1 4190 imap.cyrus.test.' "$(dig +short @"$LAB_DNS_ADDR" SRV _sieve._tcp.cyrus.test)"
	out=$(st_chat "$C" 143 "a CAPABILITY" "b LOGOUT")
	st_expect "cyrus 143: STARTTLS + LOGINDISABLED" 'STARTTLS.*LOGINDISABLED|LOGINDISABLED.*STARTTLS' "$out"
	st_expect "cyrus 993: verifies as imap.cyrus.test" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$C:993" -verify_hostname imap.cyrus.test)"
	out=$(st_chat "$C" 110 CAPA QUIT)
	st_expect "cyrus 110: STLS offered" '^STLS' "$out"
	st_expect "cyrus 110: no USER before TLS" '^USER' "$out" !
	st_expect "cyrus 995: verifies" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$C:995" -verify_hostname imap.cyrus.test)"
	out=$(st_chat "$C" 4190 LOGOUT)
	st_expect "cyrus 4190: Cyrus timsieved" '^"IMPLEMENTATION" "Cyrus timsieved' "$out"
	st_expect "cyrus 4190: no SASL before STARTTLS" '^"SASL" ""' "$out"
	st_expect "cyrus 4190: STARTTLS verifies" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$C:4190" -starttls sieve -verify_hostname imap.cyrus.test)"
	st_expect "cyrus: erin's INBOX has 30 messages (admin EXAMINE)" '"INBOX": \{"flags": \{("[0-9]+": \[[^]]*\], ){29}"[0-9]+"' \
		"$(python3 "$LAB_DIR/lib/cyrus_seed.py" --addr "$C" --ca "$LAB_RUN/ca/ca.pem" --snapshot 2>&1)"
	out=$(st_chat "$E" 25 "EHLO selftest.test" "MAIL FROM:<a@selftest.test>" "RCPT TO:<x@elsewhere.example>" "AUTH PLAIN AGZyYW5rQGV4aW0udGVzdABsYWItc2VjcmV0LWZyYW5r" QUIT)
	st_expect "exim 25: Exim banner" '^220 mx.exim.test ESMTP Exim 4\.96' "$out"
	st_expect "exim 25: STARTTLS offered" '^250[- ]STARTTLS' "$out"
	st_expect "exim 25: no AUTH before TLS" '^250[- ]AUTH' "$out" !
	st_expect "exim 25: relaying refused" '^550 relay not permitted' "$out"
	st_expect "exim 25: AUTH refused before TLS" '^503 AUTH command used when not advertised' "$out"
	st_expect "exim 25: verifies as mx.exim.test" 'Verify return code: 0 \(ok\)' \
		"$(st_tls -connect "$E:25" -starttls smtp -verify_hostname mx.exim.test)"
	st_expect "exim 587: AUTH after STARTTLS" '^250[- ]AUTH PLAIN LOGIN' "$(st_ehlo_tls "$E:587")"
	st_expect "exim 587: no AUTH before TLS" '^250[- ]AUTH' "$(st_chat "$E" 587 "EHLO selftest.test" QUIT)" !
}

# The relay-test MXs (lib/relay.sh), asked from 127.0.0.1 (bash's /dev/tcp
# cannot choose a source address; the inside case is tests/lab_open_relay.rs).
st_relay() {
	local envelope=("EHLO selftest.test" "MAIL FROM:<nobody@mailaudit.invalid>" "RCPT TO:<relay-test@relay-target.invalid>" RSET QUIT)
	echo "# relay-test MXs"
	st_expect "relay-open 25: relays for 127.0.0.1" '^250 2\.1\.5 Ok' \
		"$(st_chat "$LAB_RELAY_OPEN" 25 "${envelope[@]}")"
	st_expect "relay-mynet 25: refuses 127.0.0.1 (outside its /24)" '^554 5\.7\.1 .*Relay access denied' \
		"$(st_chat "$LAB_RELAY_MYNET" 25 "${envelope[@]}")"
	st_expect "relay-closed 25: refuses relaying" '^554 5\.7\.1 .*Relay access denied' \
		"$(st_chat "$LAB_RELAY_CLOSED" 25 "${envelope[@]}")"
}

# revocation.test (lib/revocation.sh): the responses nginx serves, the CRL,
# what each Exim address staples, and the unreachable responder.
st_revocation() {
	local ca="$LAB_REVOC_DIR/ca/ca.pem" leaves="$LAB_REVOC_DIR/leaves" name serial
	echo "# revocation.test"
	for name in good revoked; do
		st_expect "revocation-nginx: OCSP for $name says $name" "$name.pem: $name" \
			"$(openssl ocsp -issuer "$ca" -cert "$leaves/$name.pem" -url "http://$LAB_REVOC_WEB/ocsp/$name" \
				-CAfile "$LAB_CA_DIR/ca.pem" -VAfile "$ca" -no_nonce 2>&1 || true)"
	done
	serial=$(openssl x509 -in "$leaves/revoked.pem" -noout -serial | cut -d= -f2)
	st_expect "revocation-nginx: the CRL lists the revoked serial" "Serial Number: $serial" \
		"$(curl -s "http://$LAB_REVOC_WEB/crl/revocation-ca.crl" | openssl crl -inform DER -noout -text 2>&1 || true)"
	st_expect "revocation-exim .13: staples a good response" 'Cert Status: good' \
		"$(timeout 10 openssl s_client -connect "$LAB_REVOC_STAPLED:25" -starttls smtp -status </dev/null 2>&1 || true)"
	st_expect "revocation-exim .14: Must-Staple leaf, nothing stapled" 'OCSP response: no response sent' \
		"$(timeout 10 openssl s_client -connect "$LAB_REVOC_MUST_STAPLE:25" -starttls smtp -status </dev/null 2>&1 || true)"
	st_expect "revocation: the Must-Staple leaf has the TLS feature" 'status_request' \
		"$(openssl x509 -in "$leaves/muststaple.pem" -noout -text)"
	st_expect "revocation: nothing listens at the unreachable responder" 'refused' "$(st_ports "$LAB_REVOC_DOWN:80")"
}
