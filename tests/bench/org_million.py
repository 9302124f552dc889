#!/usr/bin/env python3
"""Helpers of org-million.sh (issue 12's benchmark), stdlib only.

    org_million.py cpu PID
        CPU seconds (user + system) of the process PID and every process
        below it, living or reaped: a Dovecot master's utime, stime,
        cutime and cstime, plus those of its living children. Sampled
        before and after a run, the difference is what the server spent.
    org_million.py check REPORT MANIFEST
        Whether the report.json of a run audited every mailbox of the
        generator's manifest (login completed, folders completed) and
        recorded exactly its class counts per year; prints the totals,
        exit 1 on a difference.
    org_million.py rawfetch --host H --port P --ca CA --list LIST --password-file F
                            --items ITEMS [--sessions N] [--batch 500]
        The server's side alone: the same logins (SASL PLAIN, the mailbox
        as authorization identity, RFC 4616), EXAMINE of every folder and
        UID FETCH of ITEMS in batches, without parsing the answers (read
        until the tagged completion). Prints wall time, messages and bytes.

    org_million.py dns --listen 127.0.17.53 --name imap.bench.test --address 127.0.17.143
        A minimal authoritative DNS server (UDP) for the benchmark: NAME has
        the A record ADDRESS; every other name is NXDOMAIN. The scanner
        resolves the server named in the mailbox list with it (mailaudit
        looks a named server up in DNS, even an address literal).

Only the addresses given are contacted (loopback in the benchmark).
"""

import argparse
import base64
import json
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

TICKS = os.sysconf("SC_CLK_TCK")


def proc_times(pid):
    """(ppid, utime + stime + cutime + cstime ticks) of one process."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11.
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def tree_cpu(root):
    parents, own = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                parents[int(name)], own[int(name)] = proc_times(name)
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += own.get(pid, 0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total / TICKS


def check(report_path, manifest_path):
    with open(report_path) as f:
        report = json.load(f)
    with open(manifest_path) as f:
        manifest = json.load(f)
    audited = {}
    for target in report["targets"]:
        for mailbox in target["evidence"].get("mailboxes", []):
            audited[mailbox["user"]] = mailbox
    problems, totals, messages = [], {}, 0
    for user in manifest["mailboxes"]:
        mailbox = audited.get(user)
        if mailbox is None:
            problems.append(f"{user}: not in the report")
            continue
        if mailbox["login"]["status"] != "completed" or mailbox["folders"]["status"] != "completed":
            problems.append(f"{user}: login {mailbox['login']['status']}, folders {mailbox['folders']['status']}: "
                            f"{mailbox['login'].get('reason') or mailbox['folders'].get('reason')}")
            continue
        for folder in mailbox["folders"]["value"]:
            messages += folder.get("messages", 0)
            for year, per_class in folder.get("classes", {}).items():
                for cls, count in per_class.items():
                    totals.setdefault(year, {}).setdefault(cls, 0)
                    totals[year][cls] += count
    expected = manifest["totals"]["classes_by_year"]
    if totals != expected:
        problems.append(f"class counts per year differ: recorded {json.dumps(totals, sort_keys=True)}, "
                        f"expected {json.dumps(expected, sort_keys=True)}")
    if messages != manifest["totals"]["messages"]:
        problems.append(f"{messages} messages recorded, {manifest['totals']['messages']} expected")
    by_class = {}
    for per_class in totals.values():
        for cls, count in per_class.items():
            by_class[cls] = by_class.get(cls, 0) + count
    print(f"mailboxes audited: {len(audited)}, messages: {messages}, classes: {json.dumps(dict(sorted(by_class.items())))}")
    for problem in problems[:20]:
        print(f"MISMATCH {problem}")
    return 1 if problems else 0


class Session:
    """A minimal IMAP client over implicit TLS: commands and raw answers,
    read from one buffer with a read position (no copying per line)."""

    def __init__(self, host, port, context):
        raw = socket.create_connection((host, port), timeout=60)
        self.sock = context.wrap_socket(raw, server_hostname=host)
        self.buffer, self.pos = b"", 0
        self.counter = 0
        self.bytes = 0
        self.read_line()  # greeting

    def fill(self):
        data = self.sock.recv(1 << 18)
        if not data:
            raise ConnectionError("closed")
        self.bytes += len(data)
        self.buffer = self.buffer[self.pos:] + data
        self.pos = 0

    def read_line(self):
        while (end := self.buffer.find(b"\r\n", self.pos)) < 0:
            self.fill()
        line = self.buffer[self.pos:end]
        self.pos = end + 2
        return line

    def skip(self, count):
        while len(self.buffer) - self.pos < count:
            count -= len(self.buffer) - self.pos
            self.pos = len(self.buffer)
            self.fill()
        self.pos += count

    def command(self, text):
        """Sends one command; returns (untagged lines, FETCH responses, status)."""
        self.counter += 1
        tag = f"R{self.counter} ".encode()
        self.sock.sendall(tag + text.encode() + b"\r\n")
        lines, fetches = [], 0
        while True:
            line = self.read_line()
            if line.startswith(tag):
                return lines, fetches, line[len(tag):].split(b" ", 1)[0].decode()
            if b" FETCH " in line[:30]:
                fetches += 1
            else:
                lines.append(line)
            # Literals: skip their bytes without looking into them.
            while line.endswith(b"}") and (m := LITERAL.search(line)):
                self.skip(int(m.group(1)))
                line = self.read_line()


LITERAL = re.compile(rb"\{(\d+)\+?\}$")


def rawfetch(args):
    context = ssl.create_default_context(cafile=args.ca)
    with open(args.password_file) as f:
        admin, password = f.read().strip().split(":", 1)
    with open(args.list) as f:
        users = [urllib.parse.unquote(urllib.parse.urlparse(line.strip()).username or "")
                 for line in f if line.strip() and not line.startswith("#")]
    queue, lock, totals = list(users), threading.Lock(), {"messages": 0, "bytes": 0, "errors": 0}

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                user = queue.pop()
            try:
                session = Session(args.host, args.port, context)
                token = base64.b64encode(f"{user}\0{admin}\0{password}".encode()).decode()
                _, _, status = session.command(f"AUTHENTICATE PLAIN {token}")
                if status != "OK":
                    raise RuntimeError(f"login {status}")
                lines, _, _ = session.command('LIST "" "*"')
                folders = [re.search(rb'"([^"]*)"$|(\S+)$', line) for line in lines if line.startswith(b"* LIST")]
                messages = 0
                for match in folders:
                    name = (match.group(1) or match.group(2)).decode()
                    session.command(f'EXAMINE "{name}"')
                    lines, _, _ = session.command("UID SEARCH ALL")
                    uids = sorted(int(u) for line in lines if line.startswith(b"* SEARCH")
                                  for u in line.split()[2:])
                    for start in range(0, len(uids), args.batch):
                        chunk = uids[start:start + args.batch]
                        _, fetched, _ = session.command(f"UID FETCH {chunk[0]}:{chunk[-1]} {args.items}")
                        messages += fetched
                session.command("LOGOUT")
                with lock:
                    totals["messages"] += messages
                    totals["bytes"] += session.bytes
            except Exception as error:  # noqa: BLE001 - counted and shown
                with lock:
                    totals["errors"] += 1
                print(f"{user}: {error}", file=sys.stderr)

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - start
    print(f"rawfetch: {len(users)} mailboxes, {totals['messages']} messages, {totals['bytes']} bytes received, "
          f"{totals['errors']} errors, {wall:.2f} s wall, {args.sessions} sessions")
    return 1 if totals["errors"] else 0


def dns_name(packet, offset):
    """(lower-case name, offset after it) of an uncompressed query name."""
    labels = []
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1:offset + 1 + length].decode("ascii", "replace").lower())
        offset += 1 + length
    return ".".join(labels), offset + 1


def dns_answer(packet, name, address):
    """The answer to one query: A of `name`, NOERROR without data for its
    other types, NXDOMAIN for any other name; FORMERR when unreadable."""
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    try:
        if qdcount != 1:
            raise ValueError
        qname, end = dns_name(packet, 12)
        qtype, qclass = struct.unpack("!HH", packet[end:end + 4])
    except (ValueError, IndexError, struct.error):
        return struct.pack("!HHHHHH", ident, 0x8001, 0, 0, 0, 0)
    question = packet[12:end + 4]
    rd = flags & 0x0100
    if qname == name and qtype == 1 and qclass == 1:
        record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(address)
        return struct.pack("!HHHHHH", ident, 0x8400 | rd, 1, 1, 0, 0) + question + record
    rcode = 0 if qname == name else 3
    return struct.pack("!HHHHHH", ident, 0x8400 | rd | rcode, 1, 0, 0, 0) + question


def dns(args):
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((args.listen, 53))
    name = args.name.lower().rstrip(".")
    while True:
        packet, peer = server.recvfrom(4096)
        if len(packet) >= 12 and not packet[2] & 0x80:
            server.sendto(dns_answer(packet, name, args.address), peer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    cpu = sub.add_parser("cpu")
    cpu.add_argument("pid", type=int)
    chk = sub.add_parser("check")
    chk.add_argument("report")
    chk.add_argument("manifest")
    raw = sub.add_parser("rawfetch")
    raw.add_argument("--host", required=True)
    raw.add_argument("--port", type=int, default=993)
    raw.add_argument("--ca", required=True)
    raw.add_argument("--list", required=True)
    raw.add_argument("--password-file", required=True)
    raw.add_argument("--items", required=True)
    raw.add_argument("--sessions", type=int, default=2)
    raw.add_argument("--batch", type=int, default=500)
    server = sub.add_parser("dns")
    server.add_argument("--listen", required=True)
    server.add_argument("--name", required=True)
    server.add_argument("--address", required=True)
    args = parser.parse_args()
    if args.verb == "dns":
        return dns(args)
    if args.verb == "cpu":
        print(f"{tree_cpu(args.pid):.2f}")
        return 0
    if args.verb == "check":
        return check(args.report, args.manifest)
    return rawfetch(args)


if __name__ == "__main__":
    sys.exit(main())
