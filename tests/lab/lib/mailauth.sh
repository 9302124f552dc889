# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# DKIM keys for the mail-authentication checks (DNS-008), rendered into the
# zones as TXT records: good.test gets an RSA-2048 key at the common
# selector "mail" and an Ed25519 key at "lab-ed25519" (found only with
# --dkim-selector); dkim-1024.bad.test and dkim-512.bad.test get weak RSA
# keys at "default". Keys are generated once per run/ and kept, like the
# DNSSEC keys, so the zones only change when run/ is deleted.

LAB_MAILAUTH="$LAB_RUN/mailauth"

# lab_dkim_key NAME TYPE -> generates run/mailauth/NAME.key once (rsaBITS
# or ed25519) and prints the base64 of the public key as DKIM wants it:
# SubjectPublicKeyInfo for RSA (RFC 6376 §3.6.1), the raw 32 bytes for
# Ed25519 (RFC 8463 §4.2).
lab_dkim_key() {
	local name=$1 type=$2 key="$LAB_MAILAUTH/$1.key"
	if [[ ! -s $key ]]; then
		(
			umask 077
			case $type in
			ed25519) openssl genpkey -algorithm ed25519 -out "$key.tmp" ;;
			rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${type#rsa}" -out "$key.tmp" ;;
			esac
		) 2>>"$LAB_LOGS/pki.log"
		mv -f "$key.tmp" "$key"
	fi
	case $type in
	ed25519) openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0 ;;
	*) openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | base64 -w0 ;;
	esac
}

# lab_txt_strings TEXT -> the zone-file form of a TXT value: quoted strings
# of at most 255 bytes each (RFC 1035 §3.3), which DKIM joins again.
lab_txt_strings() {
	local text=$1 out=""
	while ((${#text} > 0)); do
		out+="\"${text:0:255}\" "
		text=${text:255}
	done
	printf '%s' "${out% }"
}

lab_mailauth() {
	mkdir -p "$LAB_MAILAUTH"
	LAB_DKIM_GOOD_MAIL=$(lab_txt_strings "v=DKIM1; k=rsa; p=$(lab_dkim_key good-mail rsa2048)")
	LAB_DKIM_GOOD_ED25519=$(lab_txt_strings "v=DKIM1; k=ed25519; p=$(lab_dkim_key good-ed25519 ed25519)")
	LAB_DKIM_BAD_1024=$(lab_txt_strings "v=DKIM1; k=rsa; p=$(lab_dkim_key bad-1024 rsa1024)")
	LAB_DKIM_BAD_512=$(lab_txt_strings "v=DKIM1; k=rsa; p=$(lab_dkim_key bad-512 rsa512)")
}
