# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# org.test (issue 12): one organisation's mail server for the retention
# audit of every mailbox with one admin login.
#
#   org-dovecot 127.0.16.143  143 (STARTTLS), 993: IMAP only, TLS >= 1.2,
#                             no login before TLS
#
# 22 mailboxes user01..user22@org.test (password lab-secret-org), generated
# by lib/orgmail.py with e-invoices, invoice PDFs, newsletters, reports,
# invitations and plain mail over ten years, and the exact class counts in
# run/mail/org.test/manifest.json. The master user `auditor`
# (lab-secret-master) may act as any of them: `LOGIN user01@org.test*auditor`
# or SASL PLAIN with authzid user01@org.test and authcid auditor (RFC 4616).
# A user that does not exist cannot be opened this way (the user passdb is
# consulted after the master one). conf/org/profile.toml is the audit
# profile that declares the legal hold on the "Rechtsstreit" folders.
#
# The certificate names imap.org.test; no DNS zone is needed, clients
# connect to the address.

LAB_ORG_IMAP=127.0.16.143
LAB_ORG_SERVICES=(org-dovecot)

# Called by lab_generate after the other providers are rendered.
lab_org() {
	local all_before=${LAB_CHANGED[all]:-} now_minus_1d out
	now_minus_1d=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
	lab_pki_leaf org-imap ec "DNS:imap.org.test,IP:$LAB_ORG_IMAP" ca -startdate "$now_minus_1d" -days 365
	# A new leaf restarts org-dovecot only, not the whole lab.
	if [[ -z $all_before && -n ${LAB_CHANGED[all]:-} ]]; then
		LAB_CHANGED[all]=
		LAB_CHANGED[org-dovecot]=1
	fi
	LAB_ORG_USER_HASH=$(openssl passwd -6 -salt mailauditlab lab-secret-org)
	LAB_ORG_MASTER_HASH=$(openssl passwd -6 -salt mailauditlab lab-secret-master)
	mkdir -p "$LAB_RUN/mail/org.test"
	out=$(python3 "$LAB_DIR/lib/orgmail.py" --root "$LAB_RUN/mail/org.test" \
		--year "$(date +%Y)" --owner 65534:65534) || lab_die "org.test mailboxes could not be generated"
	if [[ $out == generated* ]]; then
		lab_log "mailbox: $out"
		LAB_CHANGED[org-dovecot]=1
	fi
	lab_render_dovecot org-dovecot org-dovecot.conf.in org-users.in
	lab_render dovecot/org-masters.in "$LAB_RUN/org-dovecot/masters" org-dovecot
}
