# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# revocation.test (issue 17, part 3): certificates whose revocation status
# mailaudit checks (CRT-006 to CRT-008).
#
#   revocation-nginx 127.0.50.80:80  the revocation CA's CRL (/crl/) and one
#                                    pre-signed OCSP response per leaf
#                                    (/ocsp/NAME, answered to any POST)
#   (nothing)        127.0.50.81:80  the unreachable responder and CRL
#   revocation-exim  127.0.50.11-15:25  one MX per leaf, STARTTLS:
#     .11 mx.good.revocation.test         good (OCSP and CRL)
#     .12 mx.revoked.revocation.test      revoked (OCSP and CRL)
#     .13 mx.stapled.revocation.test      good, OCSP response stapled (signed
#                                         by a delegated responder)
#     .14 mx.muststaple.revocation.test   Must-Staple, nothing stapled
#     .15 mx.unreachable.revocation.test  AIA and CDP point at .81
#
# The leaves come from a revocation CA of their own (an intermediate under
# the lab root, so --ca-file of the lab root trusts them) with its own
# `openssl ca` database; OCSP responses are made by `openssl ocsp -index`
# from that database and renewed by `up` when a day old. `openssl ocsp
# -port` would bind every address (OpenSSL 3.0 takes a port only), so the
# responses are served pre-signed by nginx instead. revocation.test has no
# zone in the lab DNS: tests/lab_revocation.rs serves it from its own DNS
# server.

LAB_REVOC_DIR="$LAB_RUN/revocation"
LAB_REVOC_WEB=127.0.50.80
LAB_REVOC_DOWN=127.0.50.81
LAB_REVOC_GOOD=127.0.50.11
LAB_REVOC_REVOKED=127.0.50.12
LAB_REVOC_STAPLED=127.0.50.13
LAB_REVOC_MUST_STAPLE=127.0.50.14
LAB_REVOC_UNREACHABLE=127.0.50.15
LAB_REVOC_SERVICES=(revocation-nginx revocation-exim)
# openssl-ca.cnf reads these for leaves and refuses to parse when they are
# unset, even for commands that do not use them; leaves override them.
export LAB_REVOC_SAN=DNS:unused.invalid LAB_REVOC_OCSP=http://unused.invalid/ LAB_REVOC_CRL=http://unused.invalid/

lab_revoc_ca_cmd() { openssl ca -batch -notext -config "$LAB_REVOC_DIR/openssl-ca.cnf" "$@" 2>>"$LAB_LOGS/pki.log"; }

# The revocation CA, signed by the lab root without touching the root's
# database (`openssl x509 -req` with a random serial).
lab_revoc_ca() {
	local ca="$LAB_REVOC_DIR/ca"
	mkdir -p "$ca/newcerts"
	lab_render revocation/openssl-ca.cnf.in "$LAB_REVOC_DIR/openssl-ca.cnf"
	[[ -f $ca/ca.pem && -f $ca/responder.pem ]] && return 0
	lab_log "generating the revocation CA"
	rm -f "$ca"/index.txt* "$ca"/newcerts/* "$LAB_REVOC_DIR"/leaves/*
	: >"$ca/index.txt"
	echo 2000 >"$ca/serial"
	echo 01 >"$ca/crlnumber"
	lab_new_key "$ca/ca.key" ec
	openssl req -new -config "$LAB_REVOC_DIR/openssl-ca.cnf" -key "$ca/ca.key" \
		-subj "/O=mailaudit lab/CN=mailaudit lab revocation CA" -out "$ca/ca.csr" 2>>"$LAB_LOGS/pki.log"
	openssl x509 -req -in "$ca/ca.csr" -CA "$LAB_CA_DIR/ca.pem" -CAkey "$LAB_CA_DIR/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 3650 -sha256 \
		-extfile "$LAB_REVOC_DIR/openssl-ca.cnf" -extensions ext_ca -out "$ca/ca.pem" 2>>"$LAB_LOGS/pki.log"
	# A delegated OCSP responder (RFC 6960 §4.2.2.2) for the stapled leaf.
	lab_new_key "$ca/responder.key" ec
	openssl req -new -config "$LAB_REVOC_DIR/openssl-ca.cnf" -key "$ca/responder.key" \
		-subj "/O=mailaudit lab/CN=mailaudit lab OCSP responder" -out "$ca/responder.csr" 2>>"$LAB_LOGS/pki.log"
	lab_revoc_ca_cmd -in "$ca/responder.csr" -extensions ext_responder -days 3650 -out "$ca/responder.pem"
	LAB_CHANGED[revocation-exim]=1
}

# lab_revoc_leaf NAME EXTENSIONS RESPONDER_ADDRESS: mx.NAME.revocation.test,
# its OCSP responder and CRL at RESPONDER_ADDRESS.
lab_revoc_leaf() {
	local name=$1 extensions=$2 responder=$3 dir="$LAB_REVOC_DIR/leaves"
	mkdir -p "$dir"
	if [[ -f $dir/$name.pem ]] && openssl x509 -in "$dir/$name.pem" -noout -checkend 2592000 >/dev/null; then
		return 0
	fi
	lab_log "generating revocation leaf $name"
	[[ -f $dir/$name.key ]] || lab_new_key "$dir/$name.key" ec
	openssl req -new -config "$LAB_REVOC_DIR/openssl-ca.cnf" -key "$dir/$name.key" \
		-subj "/O=mailaudit lab/CN=mx.$name.revocation.test" -out "$dir/$name.csr" 2>>"$LAB_LOGS/pki.log"
	LAB_REVOC_SAN="DNS:mx.$name.revocation.test" LAB_REVOC_OCSP="http://$responder/ocsp/$name" \
		LAB_REVOC_CRL="http://$responder/crl/revocation-ca.crl" \
		lab_revoc_ca_cmd -in "$dir/$name.csr" -extensions "$extensions" \
		-startdate "$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)" -days 365 -out "$dir/$name.pem"
	[[ $name != revoked ]] || lab_revoc_ca_cmd -revoke "$dir/$name.pem" -crl_reason keyCompromise
	rm -f "$dir/$name.ocsp"
	LAB_CHANGED[revocation-exim]=1
}

# The OCSP response for leaf NAME, pre-signed from the CA database; renewed
# when older than a day (responses are valid for 7).
lab_revoc_ocsp() {
	local name=$1 signer=$2 dir="$LAB_REVOC_DIR/leaves" ca="$LAB_REVOC_DIR/ca"
	[[ -n $(find "$dir/$name.ocsp" -mmin -1440 2>/dev/null) ]] && return 0
	openssl ocsp -issuer "$ca/ca.pem" -cert "$dir/$name.pem" -no_nonce -reqout "$dir/$name.req" 2>>"$LAB_LOGS/pki.log"
	openssl ocsp -index "$ca/index.txt" -CA "$ca/ca.pem" -rsigner "$ca/$signer.pem" -rkey "$ca/$signer.key" \
		-reqin "$dir/$name.req" -respout "$dir/$name.ocsp" -ndays 7 >>"$LAB_LOGS/pki.log" 2>&1
}

# Called by lab_generate.
lab_revocation() {
	lab_revoc_ca
	lab_revoc_leaf good ext_leaf "$LAB_REVOC_WEB"
	lab_revoc_leaf revoked ext_leaf "$LAB_REVOC_WEB"
	lab_revoc_leaf stapled ext_leaf "$LAB_REVOC_WEB"
	lab_revoc_leaf muststaple ext_leaf_must_staple "$LAB_REVOC_WEB"
	lab_revoc_leaf unreachable ext_leaf "$LAB_REVOC_DOWN"
	local ca="$LAB_REVOC_DIR/ca" www="$LAB_REVOC_DIR/www" tls="$LAB_REVOC_DIR/exim/tls" name address
	mkdir -p "$www/crl" "$www/ocsp" "$tls" "$LAB_REVOC_DIR/exim/spool" "$LAB_RUN/revocation-nginx/tmp"
	lab_revoc_ocsp good ca
	lab_revoc_ocsp revoked ca
	lab_revoc_ocsp muststaple ca
	lab_revoc_ocsp stapled responder
	for name in good revoked muststaple stapled; do
		cp "$LAB_REVOC_DIR/leaves/$name.ocsp" "$www/ocsp/$name"
	done
	# The CRL, renewed with the responses (valid for 30 days).
	if [[ -z $(find "$www/crl/revocation-ca.crl" -mmin -1440 2>/dev/null) ]]; then
		lab_revoc_ca_cmd -gencrl -out "$ca/crl.pem"
		openssl crl -in "$ca/crl.pem" -outform DER -out "$www/crl/revocation-ca.crl" 2>>"$LAB_LOGS/pki.log"
	fi
	chmod -R a+rX "$www"
	for name in good revoked stapled muststaple unreachable; do
		case $name in
		good) address=$LAB_REVOC_GOOD ;;
		revoked) address=$LAB_REVOC_REVOKED ;;
		stapled) address=$LAB_REVOC_STAPLED ;;
		muststaple) address=$LAB_REVOC_MUST_STAPLE ;;
		unreachable) address=$LAB_REVOC_UNREACHABLE ;;
		esac
		lab_put "$tls/$address.pem" revocation-exim < <(cat "$LAB_REVOC_DIR/leaves/$name.pem" "$ca/ca.pem")
		lab_put "$tls/$address.key" revocation-exim <"$LAB_REVOC_DIR/leaves/$name.key"
		chmod 640 "$tls/$address.key"
	done
	# Only the stapled MX staples; Exim reads the file per connection.
	cp "$LAB_REVOC_DIR/leaves/stapled.ocsp" "$tls/$LAB_REVOC_STAPLED.ocsp"
	lab_render revocation/exim.conf.in "$LAB_REVOC_DIR/exim/exim.conf" revocation-exim
	lab_render revocation/nginx.conf.in "$LAB_RUN/revocation-nginx/nginx.conf" revocation-nginx
	chown -R Debian-exim:Debian-exim "$LAB_REVOC_DIR/exim/spool" "$tls"
	touch "$LAB_LOGS/revocation-exim-main.log" "$LAB_LOGS/revocation-exim-reject.log" "$LAB_LOGS/revocation-exim-panic.log"
	chown Debian-exim "$LAB_LOGS"/revocation-exim-*.log
}

lab_revocation_exim_launch() {
	rm -f "$LAB_PIDS/revocation-exim.pid"
	lab_detached "$LAB_LOGS/revocation-exim.start.log" "$LAB_EXIM_BIN" -C "$LAB_REVOC_DIR/exim/exim.conf" -bd
	lab_proc_record revocation-exim "$LAB_PIDS/revocation-exim.pid"
}
