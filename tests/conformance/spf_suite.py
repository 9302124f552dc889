#!/usr/bin/python3
"""mailaudit's SPF judgement against the RFC 7208 test suite (issue 16).

Run inside a network namespace of its own (tests/spf_conformance.rs does:
`unshare --net`, then `ip link set lo up`): the DNS server below binds
127.0.0.53 of that namespace, and nothing can reach any other host.

For every scenario of the suite (rfc7208-tests.yml from Debian's
python3-spf, unpacked by `tests/lab/lab.sh install`, never copied into the
repository) its zone data is served by a small authoritative DNS server
(UDP and TCP, stdlib only), and `mailaudit scan DOMAIN` is run for the
domain each test's check_host() starts from (the MAIL FROM domain, or the
HELO name when MAIL FROM is empty).

What is compared, and why: the suite evaluates check_host(ip, domain,
sender) for one client address and expects pass/fail/softfail/neutral/
none/permerror/temperror. mailaudit judges a domain's record for every
sender at once, without a client address: it reports whether there is a
record (none), whether evaluating it can end in a permanent error (syntax,
several records, more than 10 DNS-querying terms or 2 void lookups, an mx
over 10 hosts, an include/redirect without record, a loop) or a temporary
one (a lookup without answer), and otherwise that the record is usable.
So each expected result is mapped to one of four classes:

  valid      pass, fail, softfail, neutral (the record was evaluated)
  none       none
  permerror  permerror
  temperror  temperror

and mailaudit's class is read from `evidence.mail_auth.spf` (see
`classify`). A test agrees when mailaudit's class is one of the classes of
its acceptable results. Prints one JSON document: per bucket (the expected
classes) the number of tests and agreements, and every disagreement with
scenario, test, spec section, domain, record and mailaudit's errors.
"""

import argparse
import gzip
import json
import socket
import struct
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import yaml

ADDRESS = "127.0.0.53"
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SPF": 99}
CLASS = {"pass": "valid", "fail": "valid", "softfail": "valid", "neutral": "valid",
         "none": "none", "permerror": "permerror", "temperror": "temperror"}


def encode_text(text):
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split(".") if name.strip(".") else []:
        raw = encode_text(label)[:63]
        out += bytes([len(raw)]) + raw
    return out + b"\0"


class Zone:
    """One scenario's zone data, with the test suite's conventions (those of
    pyspf's driver): entries are read in order, and a query meets "TIMEOUT"
    -- no answer at all -- unless a record of its type came before it; SPF
    (type 99) records are also served as TXT, after all other entries, where
    the name has no TXT of its own and does not say "TXT: NONE"."""

    def __init__(self, data):
        self.names = {}
        for name, entries in (data or {}).items():
            key = name.lower().rstrip(".")
            ordered, copies, own_txt = [], [], False
            for entry in entries:
                if entry == "TIMEOUT":
                    ordered.append(("TIMEOUT", None))
                    continue
                ((kind, value),) = entry.items()
                if kind == "TXT":
                    own_txt = True
                    if value == "NONE":
                        continue
                rdata = self.rdata(kind, value)
                if rdata is None:
                    continue
                ordered.append((kind, rdata))
                if kind == "SPF":
                    copies.append(("TXT", rdata))
            if not own_txt:
                ordered.extend(copies)
            self.names[key] = ordered

    @staticmethod
    def rdata(kind, value):
        if kind in ("TXT", "SPF"):
            strings = value if isinstance(value, list) else [value]
            if not strings:
                return None
            out = b""
            for s in strings:
                raw = encode_text(s)
                chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
                for chunk in chunks:
                    out += bytes([len(chunk)]) + chunk
            return out
        if kind == "A":
            return socket.inet_pton(socket.AF_INET, value)
        if kind == "AAAA":
            return socket.inet_pton(socket.AF_INET6, value)
        if kind == "MX":
            return struct.pack("!H", value[0]) + encode_name(value[1])
        if kind in ("PTR", "CNAME"):
            return encode_name(value)
        raise SystemExit(f"unknown record type {kind}")

    def lookup(self, name, qtype):
        """The rdata of `qtype` at `name`, or None when the query times out."""
        found = []
        for kind, rdata in self.names.get(name, []):
            if kind == "TIMEOUT":
                if not found:
                    return None
                break
            if TYPES[kind] == qtype:
                found.append(rdata)
        return found

    def answer(self, qname, qtype):
        """(rcode, [(name, type, rdata)]) or None for no answer at all."""
        if qname not in self.names:
            return 3, []
        out, name = [], qname
        for _ in range(8):
            cname = self.lookup(name, TYPES["CNAME"])
            if cname is None:
                return None
            if cname and qtype != TYPES["CNAME"]:
                out.append((name, TYPES["CNAME"], cname[0]))
                name = decode_name(cname[0])
                if name not in self.names:
                    break
                continue
            records = self.lookup(name, qtype)
            if records is None:
                return None
            out.extend((name, qtype, r) for r in records)
            break
        return 0, out


def decode_name(wire):
    labels, i = [], 0
    while wire[i]:
        labels.append(wire[i + 1:i + 1 + wire[i]].decode("latin-1"))
        i += 1 + wire[i]
    return ".".join(labels).lower()


class Server:
    def __init__(self):
        self.zone = Zone({})
        # names whose queries got no answer (TIMEOUT), since the last reset
        self.timed_out = set()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((ADDRESS, 53))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((ADDRESS, 53))
        self.tcp.listen(64)
        threading.Thread(target=self.serve_udp, daemon=True).start()
        threading.Thread(target=self.serve_tcp, daemon=True).start()

    def reply(self, query, limit):
        if len(query) < 12:
            return None
        qid, flags, qdcount = struct.unpack("!HHH", query[:6])
        if qdcount != 1:
            return None
        i, labels = 12, []
        while i < len(query) and query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode("latin-1"))
            i += 1 + query[i]
        question = query[12:i + 5]
        qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
        qname = ".".join(labels).lower()
        result = self.zone.answer(qname, qtype)
        if result is None:
            self.timed_out.add(qname)
            return None  # TIMEOUT: the client hears nothing
        rcode, answers = result
        body = b"".join(encode_name(n) + struct.pack("!HHIH", t, 1, 60, len(r)) + r
                        for n, t, r in answers)
        head_flags = 0x8400 | (flags & 0x0100) | rcode
        message = struct.pack("!HHHHHH", qid, head_flags, 1, len(answers), 0, 0) + question + body
        if len(message) > limit:
            message = struct.pack("!HHHHHH", qid, head_flags | 0x0200, 1, 0, 0, 0) + question
        return message

    def serve_udp(self):
        while True:
            query, peer = self.udp.recvfrom(4096)
            message = self.reply(query, 512)
            if message:
                self.udp.sendto(message, peer)

    def serve_tcp(self):
        while True:
            conn, _ = self.tcp.accept()
            threading.Thread(target=self.serve_conn, args=(conn,), daemon=True).start()

    def serve_conn(self, conn):
        with conn:
            try:
                while True:
                    head = conn.recv(2, socket.MSG_WAITALL)
                    if len(head) < 2:
                        return
                    query = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
                    message = self.reply(query, 65535)
                    if message:
                        conn.sendall(struct.pack("!H", len(message)) + message)
            except OSError:
                return


def start_domain(test):
    mailfrom = test.get("mailfrom") or ""
    if "@" in mailfrom:
        return mailfrom.rsplit("@", 1)[1]
    return mailfrom or test["helo"]


def classify(report):
    """mailaudit's class for the scanned domain, and the SPF evidence."""
    if report is None:
        return "not scanned", None
    spf = report["targets"][0]["evidence"]["mail_auth"]["spf"]
    if spf["status"] != "completed":
        return "temperror", spf
    value = spf["value"]
    if not value["records"]:
        return "none", value
    if value["errors"] or value["dns_lookups"] > 10 or value["void_lookups"] > 2:
        return "permerror", value
    if value["temp_errors"]:
        return "temperror", value
    return "valid", value


def scan(binary, domain):
    """(exit code, report or None, last stderr line)."""
    output = subprocess.run(
        [binary, "scan", domain, "--resolver", ADDRESS, "--timeout", "1", "--no-location",
         "--no-tls-scan", "--format", "json", "--out", "-", "--lang", "en"],
        capture_output=True, timeout=120)
    last = output.stderr.decode(errors="replace").strip().splitlines()[-1:]
    if output.returncode not in (0, 1):
        return output.returncode, None, last
    return output.returncode, json.loads(output.stdout), last


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mailaudit", required=True)
    parser.add_argument("--suite", required=True, help="rfc7208-tests.yml(.gz)")
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    opener = gzip.open if args.suite.endswith(".gz") else open
    with opener(args.suite, "rt", encoding="utf-8") as f:
        scenarios = list(yaml.safe_load_all(f))
    server = Server()
    buckets, differences, total = {}, [], 0
    for scenario in scenarios:
        server.zone = Zone(scenario.get("zonedata"))
        server.timed_out.clear()
        tests = list(scenario["tests"].items())
        domains = sorted({start_domain(test) for _, test in tests})
        # Scans of one scenario run side by side; each is its own process.
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = dict(zip(domains, pool.map(lambda d: scan(args.mailaudit, d), domains)))
        for name, test in tests:
            total += 1
            expected = test["result"] if isinstance(test["result"], list) else [test["result"]]
            classes = sorted({CLASS[r] for r in expected})
            bucket = "/".join(classes)
            domain = start_domain(test)
            code, report, error = results[domain]
            if code == 3 and domain.lower() in server.timed_out:
                # not one lookup for the domain was answered: what a
                # receiver calls a temperror (RFC 7208 §4.4)
                got, spf = "temperror", None
            else:
                got, spf = classify(report)
            entry = buckets.setdefault(bucket, {"tests": 0, "agree": 0})
            entry["tests"] += 1
            if got in classes:
                entry["agree"] += 1
                continue
            differences.append({
                "scenario": scenario["description"], "test": name, "spec": str(test.get("spec", "")),
                "domain": domain, "expected": expected, "mailaudit": got,
                "records": spf.get("records") if isinstance(spf, dict) else None,
                "errors": (spf.get("errors", []) + spf.get("temp_errors", []))
                if isinstance(spf, dict) and "errors" in spf else error,
            })
    json.dump({"tests": total, "buckets": buckets, "differences": differences},
              sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
