# shellcheck shell=bash
# Lab RDAP registry for LOC-001 (data location): nginx's server block for
# rdap.test (conf/nginx/rdap.conf.in) goes into run/good-nginx/extra/, which
# nginx.conf includes; the bootstrap and answer files (conf/www/rdap/) into
# run/www/rdap/. The certificate (rdap-web) is made by lib/pki.sh and the
# A record rdap.test -> 127.0.11.80 is in conf/dns/test.zone.in.

lab_rdap() {
	local file
	mkdir -p "$LAB_RUN/good-nginx/extra" "$LAB_RUN/www/rdap"
	lab_render nginx/rdap.conf.in "$LAB_RUN/good-nginx/extra/rdap.conf" good-nginx
	for file in "$LAB_CONF"/www/rdap/*.json; do
		lab_put "$LAB_RUN/www/rdap/${file##*/}" <"$file"
	done
}
