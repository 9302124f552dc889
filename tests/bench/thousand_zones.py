#!/usr/bin/env python3
"""Zones, Knot config, targets and relay map for tests/bench/thousand.sh.

Writes into OUT (deterministic: the same N gives the same files):

  zones/dNNNN.test.zone   one zone per customer domain d0001.test ... dN.test
  zones/good.test.zone    the three providers' host names (mx.good.test,
  zones/bad.test.zone     imap.bad.test, ...), the names the lab's
  zones/legacy.test.zone  certificates carry, at the relay's addresses
  zones/root.zone         a root and test. delegating to all of the above,
  zones/test.zone         without DS; thousand.sh signs these two (like the
                          lab's root), so a validator walks . -> test. and
                          finds every domain provably insecure, as most
                          domains on the internet are
  knot.conf               a Knot instance of its own serving all of them
  targets.txt             the N customer domains, one per line
  expected.json           domain -> provider and MX host, for the checks
  relay.args              relay.py --tcp/--udp mappings, one per line

Every customer domain is a zone of its own, as registered domains are: an
SOA and NS at its apex, an MX naming its provider's shared MX host, an SPF
and a DMARC record (what a provider's control panel writes), and for the
providers that publish them the RFC 6186 SRV records naming the provider's
shared IMAP/submission hosts. So several hundred domains share each
provider's servers, as on a real hoster, and the scanner's endpoint cache
and per-address limit are exercised the way they are in the field.

Providers, by domain number (i % 10): 0-4 good, 5-7 bad, 8-9 legacy.

Addresses: the provider hosts resolve to relay listeners in 198.18.1.0/24,
which exist only on the host side of the benchmark's own veth pair; the
relay passes them on to the lab's servers on 127.0.x.y. No record names an
address outside 198.18.1.0/24.

    thousand_zones.py --domains 1000 --out DIR --dns-listen 127.0.20.53
"""

import argparse
import json
from pathlib import Path

RELAY_DNS = "198.18.1.53"

# Relay listener -> lab server, and the ports each lab server listens on
# (tests/lab/lab.sh status).
SERVERS = {
    "198.18.1.11": ("127.0.11.25", [25, 465, 587]),  # good-postfix
    "198.18.1.12": ("127.0.11.143", [143, 993, 4190]),  # good-dovecot
    "198.18.1.21": ("127.0.12.25", [25, 587]),  # bad-postfix
    "198.18.1.22": ("127.0.12.143", [143, 993, 4190]),  # bad-dovecot
    "198.18.1.23": ("127.0.12.110", [110]),  # bad-pop3
    "198.18.1.31": ("127.0.14.25", [25, 465, 587]),  # legacy-postfix
    "198.18.1.32": ("127.0.14.143", [143, 993, 110, 995, 4190]),  # legacy-dovecot
    "198.18.1.33": ("127.0.14.13", [143, 993]),  # legacy-tls13
}

# Provider zone -> host name -> relay address.
PROVIDER_HOSTS = {
    "good.test": {"mx": "198.18.1.11", "smtp": "198.18.1.11", "imap": "198.18.1.12"},
    "bad.test": {"mx": "198.18.1.21", "imap": "198.18.1.22", "pop": "198.18.1.23"},
    "legacy.test": {"mx": "198.18.1.31", "imap": "198.18.1.32", "tls13": "198.18.1.33"},
}

# What each provider writes into its customers' zones.
CUSTOMER_RECORDS = {
    "good.test": [
        "@ IN TXT \"v=spf1 include:_spf.good.test -all\"",
        "_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}\"",
        "_submission._tcp IN SRV 0 1 587 smtp.good.test.",
        "_submissions._tcp IN SRV 0 1 465 smtp.good.test.",
        "_imap._tcp IN SRV 0 1 143 imap.good.test.",
        "_imaps._tcp IN SRV 0 1 993 imap.good.test.",
        "_sieve._tcp IN SRV 0 1 4190 imap.good.test.",
        "_pop3._tcp IN SRV 0 0 0 .",
        "_pop3s._tcp IN SRV 0 0 0 .",
    ],
    "bad.test": [
        "@ IN TXT \"v=spf1 +all\"",
        "_imap._tcp IN SRV 0 1 143 imap.bad.test.",
        "_pop3._tcp IN SRV 0 1 110 pop.bad.test.",
    ],
    "legacy.test": [
        "@ IN TXT \"v=spf1 mx ~all\"",
        "_dmarc IN TXT \"v=DMARC1; p=none\"",
        "_imap._tcp IN SRV 0 1 143 imap.legacy.test.",
        "_imaps._tcp IN SRV 0 1 993 tls13.legacy.test.",
        "_pop3s._tcp IN SRV 0 1 995 imap.legacy.test.",
    ],
}


def provider_of(number):
    rest = number % 10
    return "good.test" if rest < 5 else "bad.test" if rest < 8 else "legacy.test"


def soa(zone):
    return [
        f"$ORIGIN {zone}.",
        "$TTL 3600",
        f"@ IN SOA ns.test. hostmaster.{zone}. 2026112601 3600 900 1209600 300",
        "@ IN NS ns.test.",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dns-listen", default="127.0.20.53")
    args = parser.parse_args()
    if not 1 <= args.domains <= 99999:
        parser.error("--domains takes 1 to 99999")
    zones_dir = args.out / "zones"
    zones_dir.mkdir(parents=True, exist_ok=True)
    for old in zones_dir.glob("*.zone"):
        old.unlink()

    zones = []
    for provider, hosts in PROVIDER_HOSTS.items():
        lines = soa(provider)
        lines += [f"{name} IN A {address}" for name, address in hosts.items()]
        if provider == "good.test":
            lines.append("_spf IN TXT \"v=spf1 ip4:198.18.1.11 -all\"")
        (zones_dir / f"{provider}.zone").write_text("\n".join(lines) + "\n")
        zones.append(provider)

    expected = {}
    targets = []
    for number in range(1, args.domains + 1):
        # d0001.test … d9999.test; five digits from 10,000 domains on.
        domain = f"d{number:0{max(4, len(str(args.domains)))}d}.test"
        provider = provider_of(number)
        lines = soa(domain) + [f"@ IN MX 10 mx.{provider}."]
        lines += [record.format(domain=domain) for record in CUSTOMER_RECORDS[provider]]
        (zones_dir / f"{domain}.zone").write_text("\n".join(lines) + "\n")
        zones.append(domain)
        targets.append(domain)
        expected[domain] = {"provider": provider, "mx": f"mx.{provider}"}

    # The parents. The root's DS for test. is appended by thousand.sh once
    # test.'s key exists.
    root = [
        "$ORIGIN .",
        "$TTL 3600",
        ". IN SOA ns.test. hostmaster.test. 2026112601 3600 900 1209600 300",
        ". IN NS ns.test.",
        "test. IN NS ns.test.",
        f"ns.test. IN A {RELAY_DNS}",
    ]
    (zones_dir / "root.zone").write_text("\n".join(root) + "\n")
    test = soa("test") + [f"ns IN A {RELAY_DNS}"]
    test += [f"{zone.removesuffix('.test')} IN NS ns.test." for zone in zones]
    (zones_dir / "test.zone").write_text("\n".join(test) + "\n")

    run = args.out.resolve()
    conf = [
        "# Generated by tests/bench/thousand_zones.py; served by tests/bench/thousand.sh.",
        "server:",
        f'    rundir: "{run}/knot"',
        f'    pidfile: "{run}/knot/knot.pid"',
        f"    listen: {args.dns_listen}@53",
        "database:",
        f'    storage: "{run}/knot/db"',
        "control:",
        f'    listen: "{run}/knot/knot.sock"',
        "log:",
        "  - target: stderr",
        "    any: warning",
        "template:",
        "  - id: default",
        f'    storage: "{run}/zones"',
        '    file: "%s.zone"',
        "    zonefile-load: whole",
        "    zonefile-sync: -1",
        "    journal-content: none",
        "    semantic-checks: on",
        "zone:",
        "  - domain: .",
        "    file: root.zone.signed",
        "  - domain: test.",
        "    file: test.zone.signed",
    ]
    conf += [f"  - domain: {zone}." for zone in zones]
    (args.out / "knot.conf").write_text("\n".join(conf) + "\n")
    (args.out / "targets.txt").write_text("\n".join(targets) + "\n")
    (args.out / "expected.json").write_text(json.dumps(expected, indent=0, sort_keys=True) + "\n")

    relay = [f"--udp\n{RELAY_DNS}:53={args.dns_listen}:53", f"--tcp\n{RELAY_DNS}:53={args.dns_listen}:53"]
    for listen, (target, ports) in SERVERS.items():
        relay += [f"--tcp\n{listen}:{port}={target}:{port}" for port in ports]
    (args.out / "relay.args").write_text("\n".join(relay) + "\n")


if __name__ == "__main__":
    main()
