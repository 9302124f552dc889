# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# legacy.test (issue 4): a third provider whose TLS settings are from another
# decade, for the raw TLS enumeration and the peer comparison
# (tests/peers/compare.sh).
#
#   legacy-postfix 127.0.14.25   25  STARTTLS, TLS 1.0-1.2, NULL, anonymous and
#                                    static-RSA suites, 1024-bit DHE group,
#                                    client-initiated renegotiation allowed
#                                587 STARTTLS, TLS 1.2, DHE suites only, ffdhe2048
#                                465 implicit TLS 1.3 only
#                 127.0.14.26   25  the same as 127.0.14.25:25, but at most 2
#                                    connections per client at once (issue 20:
#                                    a real server's 421 under load)
#   legacy-dovecot 127.0.14.143  143 993 110 995 4190: TLS 1.0-1.3, the same
#                                    suites and 1024-bit group as port 25
#   legacy-tls13   127.0.14.13   143 993: TLS 1.3 only, AES-GCM, EC groups
#
# Certificates are lab-CA leaves (RSA for the two legacy services, so static
# RSA works; ECDSA for the TLS 1.3 one). 127.0.14.0/24 keeps clear of
# broken.test's 127.0.13.25, where nothing may listen.

LAB_LEGACY_MX=127.0.14.25
LAB_LEGACY_LIMITED=127.0.14.26
LAB_LEGACY_IMAP=127.0.14.143
LAB_LEGACY_TLS13=127.0.14.13
LAB_LEGACY_SERVICES=(legacy-postfix legacy-dovecot legacy-tls13)

# DH parameters: a 1024-bit prime of our own (generated once, like a key)
# and the fixed RFC 7919 ffdhe2048 group.
lab_legacy_dh() {
	local dh1024="$LAB_CERTS/legacy-dh1024.pem" ffdhe="$LAB_CERTS/legacy-ffdhe2048.pem"
	if [[ ! -s $dh1024 ]]; then
		lab_log "generating 1024-bit DH group for legacy.test"
		openssl dhparam -out "$dh1024.tmp" 1024 2>>"$LAB_LOGS/pki.log"
		mv -f "$dh1024.tmp" "$dh1024"
		LAB_CHANGED["legacy-postfix"]=1 LAB_CHANGED["legacy-dovecot"]=1
	fi
	lab_put "$ffdhe" legacy-postfix < <(openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 2>>"$LAB_LOGS/pki.log")
}

# Leaves for legacy.test. A new leaf only restarts the legacy services, not
# the whole lab (lab_pki_leaf would mark "all").
lab_legacy_pki() {
	local all_before=${LAB_CHANGED[all]:-} now_minus_1d
	now_minus_1d=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
	lab_pki_leaf legacy-mx rsa2048 "DNS:mx.legacy.test" ca -startdate "$now_minus_1d" -days 365
	lab_pki_leaf legacy-imap rsa2048 "DNS:imap.legacy.test" ca -startdate "$now_minus_1d" -days 365
	lab_pki_leaf legacy-tls13 ec "DNS:tls13.legacy.test" ca -startdate "$now_minus_1d" -days 365
	if [[ -z $all_before && -n ${LAB_CHANGED[all]:-} ]]; then
		LAB_CHANGED[all]=
		local svc
		# shellcheck disable=SC2004 # LAB_CHANGED is associative (common.sh)
		for svc in "${LAB_LEGACY_SERVICES[@]}"; do LAB_CHANGED[$svc]=1; done
	fi
}

# Called by lab_generate after the other providers are rendered.
lab_legacy() {
	lab_legacy_pki
	lab_legacy_dh
	LAB_CAROL_HASH=$(openssl passwd -6 -salt mailauditlab lab-secret-carol)
	mkdir -p "$LAB_RUN/mail/legacy.test"
	# carol's mailbox: the mailbox audit's POP3 view (STAT/UIDL over TLS).
	lab_seed_mailbox carol "$LAB_RUN/mail/legacy.test/carol" legacy-dovecot legacy-tls13
	lab_render_postfix legacy legacy-users.in "plain login" SHA512-CRYPT yes
	lab_render_dovecot legacy-dovecot legacy-dovecot.conf.in legacy-users.in
	lab_render_dovecot legacy-tls13 legacy-tls13.conf.in legacy-users.in
}
