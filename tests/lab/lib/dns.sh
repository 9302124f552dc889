# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# DNS material for Knot: DNSSEC keys, rendered zones signed bottom-up with
# ldns-signzone (children first, so their DS can go into the parent), the
# Knot config, and trust-anchor files for validators.
#
# Keys are generated once and kept, so the trust anchor never changes for a
# given run/ directory. Zones are re-signed only when their content changed
# or their signatures get within 90 days of expiry (they last one year).

LAB_DNS="$LAB_RUN/dns"
LAB_ZONES="$LAB_DNS/zones"
LAB_DNSKEYS="$LAB_DNS/keys"
LAB_SIG_VALIDITY_DAYS=365
LAB_SIG_RENEW_DAYS=90

# lab_dns_key LABEL ZONE ksk|zsk -> prints the key's basename (path without
# .key/.private), generating it on first use. ECDSA P-256 (algorithm 13).
lab_dns_key() {
	local label=$1 zone=$2 kind=$3 base
	if [[ ! -s $LAB_DNSKEYS/$label.name ]]; then
		local flag=()
		[[ $kind == ksk ]] && flag=(-k)
		base=$(cd "$LAB_DNSKEYS" && ldns-keygen -a ECDSAP256SHA256 "${flag[@]}" "$zone")
		rm -f "$LAB_DNSKEYS/$base.ds"
		echo "$base" >"$LAB_DNSKEYS/$label.name"
	fi
	echo "$LAB_DNSKEYS/$(cat "$LAB_DNSKEYS/$label.name")"
}

# DS (SHA-256) of a KSK as a zone-file line.
lab_dns_ds() { ldns-key2ds -n -2 "$1.key" | tr -s ' \t' ' '; }

# lab_dns_zone ZONE FILE [KEY...]: render conf/dns/FILE.in into run/ and,
# when keys are given, (re)sign it if needed.
lab_dns_zone() {
	local zone=$1 file=$2
	shift 2
	local unsigned="$LAB_ZONES/$file" signed="$LAB_ZONES/$file.signed"
	LAB_CHANGED["dns-zone"]=
	lab_render "dns/$file.in" "$unsigned" dns-zone
	(($#)) || { [[ -z ${LAB_CHANGED["dns-zone"]} ]] || LAB_CHANGED["dns"]=1; return 0; }
	local now expires=0
	now=$(date -u +%s)
	[[ -f $signed.expires ]] && expires=$(cat "$signed.expires")
	if [[ -n ${LAB_CHANGED["dns-zone"]} || ! -s $signed ]] ||
		((expires - now < LAB_SIG_RENEW_DAYS * 86400)); then
		lab_log "signing zone $zone"
		expires=$((now + LAB_SIG_VALIDITY_DAYS * 86400))
		# Inception one day back tolerates clock skew between test hosts.
		ldns-signzone -i "$((now - 86400))" -e "$expires" -o "$zone" \
			-f "$signed.tmp" "$unsigned" "$@"
		mv -f "$signed.tmp" "$signed"
		echo "$expires" >"$signed.expires"
		LAB_CHANGED["dns"]=1
	fi
}

# Fixed validity of expired.test's signatures: long past, so the zone is
# bogus with "signature expired" (issue 18), and fixed, so it is signed once
# and not again on every `up`.
LAB_EXPIRED_INCEPTION=20250101000000
LAB_EXPIRED_EXPIRATION=20250201000000

# lab_dns_zone_expired ZONE FILE KEY...: like lab_dns_zone, but signed with
# signatures that expired on LAB_EXPIRED_EXPIRATION; re-signed only when the
# zone's content changed.
lab_dns_zone_expired() {
	local zone=$1 file=$2
	shift 2
	local unsigned="$LAB_ZONES/$file" signed="$LAB_ZONES/$file.signed"
	LAB_CHANGED["dns-zone"]=
	lab_render "dns/$file.in" "$unsigned" dns-zone
	if [[ -n ${LAB_CHANGED["dns-zone"]} || ! -s $signed ]]; then
		lab_log "signing zone $zone with signatures that expired on $LAB_EXPIRED_EXPIRATION"
		ldns-signzone -i "$LAB_EXPIRED_INCEPTION" -e "$LAB_EXPIRED_EXPIRATION" -o "$zone" \
			-f "$signed.tmp" "$unsigned" "$@"
		mv -f "$signed.tmp" "$signed"
		LAB_CHANGED["dns"]=1
	fi
}

lab_dns() {
	mkdir -p "$LAB_ZONES" "$LAB_DNSKEYS" "$LAB_DNS/db"
	local root_ksk root_zsk test_ksk test_zsk good_ksk good_zsk broken_ksk broken_zsk decoy dane_ksk dane_zsk
	root_ksk=$(lab_dns_key root-ksk . ksk)
	root_zsk=$(lab_dns_key root-zsk . zsk)
	test_ksk=$(lab_dns_key test-ksk test. ksk)
	test_zsk=$(lab_dns_key test-zsk test. zsk)
	good_ksk=$(lab_dns_key good-ksk good.test. ksk)
	good_zsk=$(lab_dns_key good-zsk good.test. zsk)
	broken_ksk=$(lab_dns_key broken-ksk broken.test. ksk)
	broken_zsk=$(lab_dns_key broken-zsk broken.test. zsk)
	# Never published in broken.test; only its DS goes into test.
	decoy=$(lab_dns_key broken-decoy-ksk broken.test. ksk)
	dane_ksk=$(lab_dns_key dane-ksk dane.test. ksk)
	dane_zsk=$(lab_dns_key dane-zsk dane.test. zsk)
	local expired_ksk expired_zsk
	expired_ksk=$(lab_dns_key expired-ksk expired.test. ksk)
	expired_zsk=$(lab_dns_key expired-zsk expired.test. zsk)

	LAB_TLSA_GOOD_MX=$(lab_spki_sha256 "$LAB_RUN/certs/good-mx.pem")
	lab_dns_zone good.test. good.test.zone "$good_ksk" "$good_zsk"
	lab_dns_zone broken.test. broken.test.zone "$broken_ksk" "$broken_zsk"
	lab_dns_zone_expired expired.test. expired.test.zone "$expired_ksk" "$expired_zsk"
	# A fixed digest of no key in the lab: dane.test's DANE-EE record must not match.
	LAB_TLSA_WRONG=$(printf 'mailaudit lab: no such key' | sha256sum | cut -d' ' -f1)
	lab_dns_zone dane.test. dane.test.zone "$dane_ksk" "$dane_zsk"
	lab_dns_zone bad.test. bad.test.zone
	lab_dns_zone legacy.test. legacy.test.zone
	lab_dns_zone cyrus.test. cyrus.test.zone
	lab_dns_zone exim.test. exim.test.zone
	lab_dns_zone org.test. org.test.zone
	LAB_DS_GOOD=$(lab_dns_ds "$good_ksk")
	LAB_DS_BROKEN=$(lab_dns_ds "$decoy")
	LAB_DS_EXPIRED=$(lab_dns_ds "$expired_ksk")
	LAB_DS_DANE=$(lab_dns_ds "$dane_ksk")
	lab_dns_zone test. test.zone "$test_ksk" "$test_zsk"
	LAB_DS_TEST=$(lab_dns_ds "$test_ksk")
	lab_dns_zone . root.zone "$root_ksk" "$root_zsk"

	lab_render dns/knot.conf.in "$LAB_DNS/knot.conf" dns
	lab_dns_anchors "$root_ksk"
}

# Trust anchors for the lab root, in the forms different validators want:
#   root.anchor  DNSKEY zone-file line (MAILAUDIT_LAB_ANCHOR)
#   root.ds      DS zone-file line
#   root.delv    BIND trust-anchors clause, for `delv -a`
lab_dns_anchors() {
	local ksk=$1 key
	# ".<TAB>IN<TAB>DNSKEY<TAB>257 3 13 <b64> ;{comment}" -> fields 4..7
	key=$(sed 's/;.*//' "$ksk.key" | awk '$3 == "DNSKEY" { print $4, $5, $6, $7 }')
	printf '. 3600 IN DNSKEY %s\n' "$key" | lab_put "$LAB_DNS/root.anchor"
	lab_dns_ds "$ksk" | lab_put "$LAB_DNS/root.ds"
	# shellcheck disable=SC2086 # $key is four fields on purpose
	printf 'trust-anchors {\n\t. static-key %s %s %s "%s";\n};\n' $key | lab_put "$LAB_DNS/root.delv"
}
