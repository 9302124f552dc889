# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# Render every daemon's configuration from conf/ into run/, create state
# directories and generate the mailboxes. Each file is only rewritten when its
# content changes, and the owning service is noted in LAB_CHANGED so that a
# second `up` restarts only what actually changed.

# lab_render_cat DEST SERVICE TEMPLATE... : several templates into one file.
lab_render_cat() {
	local dest=$1 service=$2 t parts=()
	shift 2
	for t in "$@"; do
		lab_render "$t" "$dest.part.${#parts[@]}"
		parts+=("$dest.part.${#parts[@]}")
	done
	lab_put "$dest" "$service" < <(cat "${parts[@]}")
	rm -f "${parts[@]}"
}

# One Postfix instance, plus the auth-only Dovecot that gives it SASL.
lab_render_postfix() {
	local side=$1 users=$2 mechs=$3 scheme=$4 plaintext_off=$5
	LAB_PF_NAME="$side-postfix"
	LAB_PF_DIR="$LAB_RUN/$LAB_PF_NAME"
	LAB_PF_QUEUE="$LAB_SHORT/$LAB_PF_NAME/queue"
	mkdir -p "$LAB_PF_DIR/etc" "$LAB_PF_QUEUE" "$LAB_PF_DIR/data"
	lab_render_cat "$LAB_PF_DIR/etc/main.cf" "$LAB_PF_NAME" \
		postfix/main-common.cf.in "postfix/$side-main.cf.in"
	lab_render_cat "$LAB_PF_DIR/etc/master.cf" "$LAB_PF_NAME" \
		postfix/master-common.cf.in "postfix/$side-master.cf.in"
	# Postfix wants its data directory owned by the mail owner.
	chown postfix "$LAB_PF_DIR/data"

	LAB_SASL_MECHS=$mechs LAB_SASL_SCHEME=$scheme LAB_SASL_PLAINTEXT_OFF=$plaintext_off
	lab_render_dovecot "$LAB_PF_NAME-sasl" sasl.conf.in "$users" "$LAB_PF_NAME"
}

# lab_render_dovecot NAME TEMPLATE USERS-TEMPLATE [SERVICE]
lab_render_dovecot() {
	local name=$1 tmpl=$2 users=$3 service=${4:-$1}
	LAB_DC_NAME=$name
	LAB_DC_DIR="$LAB_RUN/$name"
	mkdir -p "$LAB_DC_DIR/state" "$LAB_SOCK"
	lab_render dovecot/common.conf.in "$LAB_DC_DIR/common.conf" "$service"
	lab_render "dovecot/$tmpl" "$LAB_DC_DIR/dovecot.conf" "$service"
	lab_render "dovecot/$users" "$LAB_DC_DIR/users" "$service"
}

# Generate one lab mailbox with lib/maildir.py from conf/mailboxes/SPEC.json
# (folders, messages per year, ACL files, Sieve scripts; years relative to the
# current one). The generator keeps a stamp of its code, the spec, the Sieve
# scripts and the year in HOME/.lab-stamp and only rewrites HOME when that
# changed; then the Dovecot services named after HOME are marked for a
# restart. Sets LAB_QUOTA_KB when the spec asks for a quota fill level.
lab_seed_mailbox() {
	local spec=$1 home=$2 out
	shift 2
	mkdir -p "${home%/*}"
	out=$(python3 "$LAB_DIR/lib/maildir.py" --spec "$LAB_CONF/mailboxes/$spec.json" \
		--home "$home" --year "$(date +%Y)" --owner 65534:65534) ||
		lab_die "mailbox $spec could not be generated"
	LAB_QUOTA_KB=""
	[[ $out =~ quota_kb=([0-9]+) ]] && LAB_QUOTA_KB=${BASH_REMATCH[1]}
	if [[ $out == generated* ]]; then
		lab_log "mailbox: $out"
		local svc
		# shellcheck disable=SC2004 # LAB_CHANGED is associative (common.sh)
		for svc in "$@"; do LAB_CHANGED[$svc]=1; done
	fi
}

lab_seed_mailboxes() {
	lab_seed_mailbox alice "$LAB_RUN/mail/good.test/alice" good-dovecot
	lab_seed_mailbox dave "$LAB_RUN/mail/bad.test/dave" bad-dovecot bad-pop3
	lab_seed_mailbox bob "$LAB_RUN/mail/bad.test/bob" bad-dovecot bad-pop3
	LAB_BOB_QUOTA_KB=$LAB_QUOTA_KB
	# bad-pop3 keeps its own index of the shared Maildirs: a regenerated
	# mailbox needs a fresh one.
	if [[ -n ${LAB_CHANGED[bad-pop3]:-} ]]; then
		rm -rf "$LAB_RUN/bad-pop3/index/bob@bad.test" "$LAB_RUN/bad-pop3/index/dave@bad.test"
	fi
}

lab_render_all() {
	mkdir -p "$LAB_PIDS" "$LAB_LOGS" "$LAB_SOCK"

	# good.test passwords: SHA512-CRYPT with a fixed salt, so the rendered
	# file is identical on every run (and nothing restarts needlessly).
	LAB_ALICE_HASH=$(openssl passwd -6 -salt mailauditlab lab-secret-alice)
	LAB_BULK_HASH=$(openssl passwd -6 -salt mailauditlab lab-secret-bulk)
	# Mailboxes first: bob's quota limit in the users file depends on them.
	lab_seed_mailboxes
	lab_render_postfix good good-users.in "plain login" SHA512-CRYPT yes
	lab_render_postfix bad bad-users.in "plain login cram-md5" PLAIN no
	lab_render_dovecot good-dovecot good-dovecot.conf.in good-users.in
	lab_render_dovecot bad-dovecot bad-dovecot.conf.in bad-users.in
	lab_render_dovecot bad-pop3 bad-pop3.conf.in bad-users.in
	mkdir -p "$LAB_RUN/bad-pop3/index"
	chown 65534:65534 "$LAB_RUN/bad-pop3/index"

	mkdir -p "$LAB_RUN/good-nginx/tmp" "$LAB_RUN/www/good/.well-known" "$LAB_RUN/www/good/mail"
	lab_render nginx/nginx.conf.in "$LAB_RUN/good-nginx/nginx.conf" good-nginx
	# RFC 8461 policy lines end in CRLF.
	sed 's/$/\r/' "$LAB_CONF/www/mta-sts.txt" | lab_put "$LAB_RUN/www/good/.well-known/mta-sts.txt"
	lab_put "$LAB_RUN/www/good/mail/config-v1.1.xml" <"$LAB_CONF/www/config-v1.1.xml"
}
