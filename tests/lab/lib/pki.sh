# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# The lab PKI: a root CA (the trust anchor tests pass with --ca-file), an
# issuing intermediate, and one leaf per endpoint. Good endpoints get modern,
# valid certificates; bad.test gets the classic mistakes (expired,
# self-signed, weak key + SHA-1 + wrong name). Everything is generated once
# and kept; only leaves that are about to expire are renewed.

LAB_CA_DIR="$LAB_RUN/ca"
LAB_CERTS="$LAB_RUN/certs"
# openssl-ca.cnf reads the SAN from $ENV::LAB_SAN and refuses to parse when it
# is unset, even for commands that do not use it; leaves override it.
export LAB_SAN=DNS:unused.invalid

lab_openssl_ca() { openssl ca -batch -notext -preserveDN -config "$LAB_CA_DIR/openssl-ca.cnf" "$@" 2>>"$LAB_LOGS/pki.log"; }

# ECDSA P-256 or RSA-N private key, written 0600 (only root-run daemon
# masters read keys, before they drop privileges).
lab_new_key() {
	local out=$1 type=$2
	(
		umask 077
		case $type in
		ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out" ;;
		rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${type#rsa}" -out "$out" ;;
		esac
	) 2>>"$LAB_LOGS/pki.log"
}

lab_pki_ca() {
	mkdir -p "$LAB_CA_DIR/db/newcerts" "$LAB_CERTS"
	lab_render pki/openssl-ca.cnf.in "$LAB_CA_DIR/openssl-ca.cnf"
	[[ -f $LAB_CA_DIR/ca.pem && -f $LAB_CA_DIR/issuing.pem ]] && return 0
	lab_log "generating lab CA"
	rm -f "$LAB_CA_DIR"/db/index.txt* "$LAB_CA_DIR"/db/newcerts/*
	: >"$LAB_CA_DIR/db/index.txt"
	echo 1000 >"$LAB_CA_DIR/db/serial"
	# Root: RSA-3072/SHA-256, dated from 2019 so that even the deliberately
	# expired 2020 leaf chains to a CA that was valid when it was issued.
	lab_new_key "$LAB_CA_DIR/ca.key" rsa3072
	openssl req -new -config "$LAB_CA_DIR/openssl-ca.cnf" -key "$LAB_CA_DIR/ca.key" \
		-subj "/O=mailaudit lab/CN=mailaudit lab root CA" -out "$LAB_CA_DIR/ca.csr"
	lab_openssl_ca -selfsign -keyfile "$LAB_CA_DIR/ca.key" -in "$LAB_CA_DIR/ca.csr" \
		-extensions ext_root -startdate 20190101000000Z -enddate 20450101000000Z \
		-out "$LAB_CA_DIR/ca.pem"
	lab_new_key "$LAB_CA_DIR/issuing.key" rsa3072
	openssl req -new -config "$LAB_CA_DIR/openssl-ca.cnf" -key "$LAB_CA_DIR/issuing.key" \
		-subj "/O=mailaudit lab/CN=mailaudit lab issuing CA" -out "$LAB_CA_DIR/issuing.csr"
	lab_openssl_ca -cert "$LAB_CA_DIR/ca.pem" -keyfile "$LAB_CA_DIR/ca.key" \
		-in "$LAB_CA_DIR/issuing.csr" -extensions ext_issuing \
		-startdate 20190101000000Z -enddate 20440101000000Z -out "$LAB_CA_DIR/issuing.pem"
	# Any leaf made by an older CA is now useless.
	rm -f "$LAB_CERTS"/*.pem
	LAB_CHANGED["all"]=1
}

# lab_pki_leaf NAME KEYTYPE SAN MODE [openssl-ca options...]
#   MODE=ca: issued by the intermediate; NAME.fullchain.pem = leaf+issuing.
#   MODE=self: self-signed (for bad.test's submission port).
# Existing leaves are kept unless they expire within 30 days (except when
# they are meant to be expired, which the caller signals with
# LAB_KEEP_EXPIRED=1).
lab_pki_leaf() {
	local name=$1 keytype=$2 san=$3 mode=$4
	shift 4
	local key="$LAB_CERTS/$name.key" crt="$LAB_CERTS/$name.pem"
	if [[ -f $key && -f $crt && -f $LAB_CERTS/$name.fullchain.pem ]]; then
		if [[ ${LAB_KEEP_EXPIRED:-0} == 1 ]] || openssl x509 -in "$crt" -noout -checkend 2592000 >/dev/null; then
			return 0
		fi
	fi
	lab_log "generating certificate $name ($san)"
	[[ -f $key ]] || lab_new_key "$key" "$keytype"
	local cn=${san%%,*}
	cn=${cn#DNS:}
	if [[ $mode == self ]]; then
		LAB_SAN=$san openssl req -new -x509 -config "$LAB_CA_DIR/openssl-ca.cnf" \
			-key "$key" -subj "/O=bad.test/CN=$cn" -days 3650 -sha256 \
			-addext "subjectAltName=$san" -addext "basicConstraints=critical,CA:true" \
			-out "$crt" 2>>"$LAB_LOGS/pki.log"
		cp "$crt" "$LAB_CERTS/$name.fullchain.pem"
	else
		openssl req -new -config "$LAB_CA_DIR/openssl-ca.cnf" -key "$key" \
			-subj "/O=mailaudit lab/CN=$cn" -out "$LAB_CERTS/$name.csr" 2>>"$LAB_LOGS/pki.log"
		LAB_SAN=$san lab_openssl_ca -cert "$LAB_CA_DIR/issuing.pem" -keyfile "$LAB_CA_DIR/issuing.key" \
			-in "$LAB_CERTS/$name.csr" -extensions ext_server "$@" -out "$crt"
		cat "$crt" "$LAB_CA_DIR/issuing.pem" >"$LAB_CERTS/$name.fullchain.pem"
	fi
	LAB_CHANGED["all"]=1
}

lab_pki() {
	lab_pki_ca
	local now_minus_1d
	now_minus_1d=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
	# good.test: ECDSA for the MX and web, RSA-3072 for IMAP (both kinds get
	# exercised), one year of validity.
	lab_pki_leaf good-mx ec "DNS:mx.good.test,DNS:smtp.good.test,DNS:mail.good.test" ca \
		-startdate "$now_minus_1d" -days 365
	lab_pki_leaf good-imap rsa3072 "DNS:imap.good.test" ca -startdate "$now_minus_1d" -days 365
	lab_pki_leaf good-web ec "DNS:mta-sts.good.test,DNS:autoconfig.good.test" ca \
		-startdate "$now_minus_1d" -days 365
	# bad.test MX: issued by the lab CA but expired since 2021.
	LAB_KEEP_EXPIRED=1 lab_pki_leaf bad-mx-expired rsa2048 "DNS:mx.bad.test,DNS:smtp.bad.test" ca \
		-startdate 20200101000000Z -enddate 20210101000000Z
	# bad.test submission: self-signed, not chaining to the lab CA.
	lab_pki_leaf bad-submission-selfsigned rsa2048 "DNS:smtp.bad.test,DNS:mx.bad.test" self
	# bad.test IMAP: RSA-1024, SHA-1 signature, and a name that does not match.
	lab_pki_leaf bad-imap-weak rsa1024 "DNS:mail.wrong.test" ca -md sha1 \
		-startdate "$now_minus_1d" -days 365
	# sts.bad.test's MTA-STS policy host: a valid certificate, so the policy
	# is fetched and judged on its content (mode testing, wrong mx).
	lab_pki_leaf bad-sts-web ec "DNS:mta-sts.sts.bad.test" ca -startdate "$now_minus_1d" -days 365
	# Client-config and key discovery (tests/lab_discovery.rs): good.test's
	# WKD and autodiscover hosts; bad.test's autoconfig that declares POP3.
	lab_pki_leaf good-keys-web ec "DNS:openpgpkey.good.test,DNS:autodiscover.good.test" ca \
		-startdate "$now_minus_1d" -days 365
	lab_pki_leaf bad-autoconfig-web ec "DNS:autoconfig.bad.test,DNS:autoconfig.pop-config.bad.test" ca -startdate "$now_minus_1d" -days 365
	# The lab RDAP registry (lib/rdap.sh, LOC-001).
	lab_pki_leaf rdap-web ec "DNS:rdap.test" ca -startdate "$now_minus_1d" -days 365
	# DKIM keys (lib/mailauth.sh) are key material too, and the zones
	# rendered next need them.
	lab_mailauth
}

# SHA-256 of the SubjectPublicKeyInfo: the "3 1 1" TLSA association data.
lab_spki_sha256() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}
