# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# Render every daemon's configuration from conf/ into run/, create state
# directories and seed the mailboxes. Each file is only rewritten when its
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

# Seed a Maildir with a few messages (only when it does not exist yet: after
# that it belongs to Dovecot, which adds its own index and uidlist files).
lab_seed_maildir() {
	local home=$1 user=$2 domain=$3
	[[ -d $home/Maildir ]] && return 0
	local md="$home/Maildir" t=1794000000
	mkdir -p "$md"/{cur,new,tmp} "$md"/.Sent/{cur,new,tmp} "$home/sieve"
	LAB_MAIL_USER=$user LAB_MAIL_DOMAIN=$domain
	# Maildir names: <time>.<unique>.<host>[:2,<flags>]; S = seen.
	lab_render mail/welcome.eml "$md/cur/$t.M1P1.lab:2,S"
	lab_render mail/report.eml "$md/new/$((t + 1)).M2P1.lab"
	lab_render mail/sent.eml "$md/.Sent/cur/$((t + 2)).M3P1.lab:2,S"
	printf 'Sent\nDrafts\nTrash\n' >"$md/subscriptions"
	chown -R 65534:65534 "$home"
	chmod -R u+rwX,go-rwx "$home"
}

lab_render_all() {
	mkdir -p "$LAB_PIDS" "$LAB_LOGS" "$LAB_SOCK"

	# good.test passwords: SHA512-CRYPT with a fixed salt, so the rendered
	# file is identical on every run (and nothing restarts needlessly).
	LAB_ALICE_HASH=$(openssl passwd -6 -salt mailauditlab lab-secret-alice)
	lab_render_postfix good good-users.in "plain login" SHA512-CRYPT yes
	lab_render_postfix bad bad-users.in "plain login cram-md5" PLAIN no
	lab_render_dovecot good-dovecot good-dovecot.conf.in good-users.in
	lab_render_dovecot bad-dovecot bad-dovecot.conf.in bad-users.in
	lab_render_dovecot bad-pop3 bad-pop3.conf.in bad-users.in
	mkdir -p "$LAB_RUN/bad-pop3/index"
	chown 65534:65534 "$LAB_RUN/bad-pop3/index"

	lab_seed_maildir "$LAB_RUN/mail/good.test/alice" alice@good.test good.test
	lab_seed_maildir "$LAB_RUN/mail/bad.test/bob" bob@bad.test bad.test

	mkdir -p "$LAB_RUN/good-nginx/tmp" "$LAB_RUN/www/good/.well-known" "$LAB_RUN/www/good/mail"
	lab_render nginx/nginx.conf.in "$LAB_RUN/good-nginx/nginx.conf" good-nginx
	# RFC 8461 policy lines end in CRLF.
	sed 's/$/\r/' "$LAB_CONF/www/mta-sts.txt" | lab_put "$LAB_RUN/www/good/.well-known/mta-sts.txt"
	lab_put "$LAB_RUN/www/good/mail/config-v1.1.xml" <"$LAB_CONF/www/config-v1.1.xml"
}
