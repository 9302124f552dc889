# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# A validating resolver in front of the lab (issue 18): Debian's unbound on
# 127.0.10.54, iterating from the lab root (127.0.10.53) with the lab's root
# KSK as its only trust anchor, as a user's company or system resolver would
# sit between mailaudit and the internet. It answers SERVFAIL for bogus
# zones (broken.test) unless the query has CD=1.

LAB_RESOLVER_ADDR=127.0.10.54
LAB_RESOLVER_DIR="$LAB_RUN/resolver"

# Called by lab_generate after lab_dns (which writes root.anchor).
lab_resolver() {
	mkdir -p "$LAB_RESOLVER_DIR"
	lab_render dns/root.hints.in "$LAB_RESOLVER_DIR/root.hints" resolver
	lab_render dns/unbound.conf.in "$LAB_RESOLVER_DIR/unbound.conf" resolver
	# The anchor changes when the lab's keys are made anew.
	lab_put "$LAB_RESOLVER_DIR/root.anchor" resolver <"$LAB_DNS/root.anchor"
}
