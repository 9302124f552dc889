# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are consumed by templates (lab_render)
# Three Postfix MXs for the relay test (ACC-002, `--relay-test`): one that
# relays for everyone, one that relays only for its own network, and one
# that refuses relaying. Each is its own instance (config, queue, log), with
# no SASL and no STARTTLS: the relay test runs in plaintext.
#
#   relay-open-postfix   127.0.40.25  25  smtpd_relay_restrictions = permit
#   relay-mynet-postfix  127.0.40.26  25  permit_mynetworks with
#                                         mynetworks = 127.0.40.0/24 (its /24)
#   relay-closed-postfix 127.0.40.27  25  reject_unauth_destination, no
#                                         trusted network at all
#
# What relaying would deliver still cannot leave the machine: every
# transport but the discard of the instance's own domain is `error:`, and
# no delivery agent is configured (main-common.cf.in, master-common.cf.in).
# The relay test never sends DATA anyway.
#
# DNS: no lab zone. tests/lab_open_relay.rs serves open.relay.test,
# mynet.relay.test and closed.relay.test (MX and A) from a DNS server of its
# own, so the relays need nothing from the shared `dns` service. Every lab
# address is a loopback address, which servers trust by default, so from
# the lab mailaudit always stands inside a "likely trusted network"; the
# test varies its source address with --relay-test-source instead
# (127.0.0.1 is outside relay-mynet's mynetworks, 127.0.40.1 inside).

LAB_RELAY_OPEN=127.0.40.25
LAB_RELAY_MYNET=127.0.40.26
LAB_RELAY_CLOSED=127.0.40.27
LAB_RELAY_NETWORK=127.0.40.0/24
LAB_RELAY_SERVICES=(relay-open-postfix relay-mynet-postfix relay-closed-postfix)

# lab_relay_instance SIDE ADDRESS: render relay-SIDE-postfix.
lab_relay_instance() {
	local side=$1
	LAB_RELAY_ADDR=$2
	LAB_RELAY_DOMAIN="$side.relay.test"
	LAB_PF_NAME="relay-$side-postfix"
	LAB_PF_DIR="$LAB_RUN/$LAB_PF_NAME"
	LAB_PF_QUEUE="$LAB_SHORT/$LAB_PF_NAME/queue"
	mkdir -p "$LAB_PF_DIR/etc" "$LAB_PF_QUEUE" "$LAB_PF_DIR/data"
	lab_render_cat "$LAB_PF_DIR/etc/main.cf" "$LAB_PF_NAME" \
		postfix/main-common.cf.in postfix/relay-main.cf.in "postfix/relay-$side.cf.in"
	lab_render_cat "$LAB_PF_DIR/etc/master.cf" "$LAB_PF_NAME" \
		postfix/master-common.cf.in postfix/relay-master.cf.in
	chown postfix "$LAB_PF_DIR/data"
}

# Called by lab_generate; needs nothing else of the lab (no PKI, no DNS).
lab_relay() {
	mkdir -p "$LAB_PIDS" "$LAB_LOGS"
	lab_relay_instance open "$LAB_RELAY_OPEN"
	lab_relay_instance mynet "$LAB_RELAY_MYNET"
	lab_relay_instance closed "$LAB_RELAY_CLOSED"
}
