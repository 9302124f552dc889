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

# A fourth MX, relay-outside-postfix, is the open relay seen from outside
# its networks: it runs in a network namespace the lab creates
# (mailaudit-lab) at 203.0.113.25 (TEST-NET-3, RFC 5737), joined to the
# host by a veth pair whose host end has 198.51.100.1 (TEST-NET-2). Each
# end has a /32 and a route to the other, so traffic between them never
# leaves the pair, and the scan's source address is neither loopback nor in
# the relay's /24: ACC-002's "open relay" verdict, on a real Postfix.

LAB_RELAY_OPEN=127.0.40.25
LAB_RELAY_MYNET=127.0.40.26
LAB_RELAY_CLOSED=127.0.40.27
LAB_RELAY_NETWORK=127.0.40.0/24
LAB_RELAY_OUTSIDE=203.0.113.25
LAB_RELAY_VANTAGE=198.51.100.1
LAB_RELAY_NETNS=mailaudit-lab
LAB_RELAY_SERVICES=(relay-open-postfix relay-mynet-postfix relay-closed-postfix relay-outside-postfix)

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
	lab_relay_instance outside "$LAB_RELAY_OUTSIDE"
	# The route to 203.0.113.25 must exist before anything (a port check,
	# a test) connects there, or the packet would follow the default route
	# off the machine.
	lab_relay_netns
}

# lab_relay_netns: create the namespace and its veth pair (idempotent).
lab_relay_netns() {
	if ! ip netns list | grep -qx "$LAB_RELAY_NETNS\( .*\)\?"; then
		ip netns add "$LAB_RELAY_NETNS" || lab_die "cannot create network namespace $LAB_RELAY_NETNS"
	fi
	if ! ip link show ma-lab0 >/dev/null 2>&1; then
		ip link add ma-lab0 type veth peer name ma-lab1 netns "$LAB_RELAY_NETNS" ||
			lab_die "cannot create the veth pair for $LAB_RELAY_NETNS"
	fi
	ip addr replace "$LAB_RELAY_VANTAGE/32" dev ma-lab0
	ip link set ma-lab0 up
	ip route replace "$LAB_RELAY_OUTSIDE/32" dev ma-lab0 src "$LAB_RELAY_VANTAGE"
	ip -n "$LAB_RELAY_NETNS" link set lo up
	ip -n "$LAB_RELAY_NETNS" addr replace "$LAB_RELAY_OUTSIDE/32" dev ma-lab1
	ip -n "$LAB_RELAY_NETNS" link set ma-lab1 up
	ip -n "$LAB_RELAY_NETNS" route replace "$LAB_RELAY_VANTAGE/32" dev ma-lab1 src "$LAB_RELAY_OUTSIDE"
}

# lab_relay_netns_down: remove the namespace (and with it the veth pair).
lab_relay_netns_down() {
	if ip netns list | grep -qx "$LAB_RELAY_NETNS\( .*\)\?"; then
		ip netns del "$LAB_RELAY_NETNS" || true
	fi
	ip link del ma-lab0 2>/dev/null || true
}
