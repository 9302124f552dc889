#!/usr/bin/env python3
"""erin@cyrus.test on the lab's Cyrus IMAP (stdlib only; lib/cyrus.sh).

  Seed mode (lab.sh, once the server is up):
    cyrus_seed.py --addr 127.0.30.143 --ca run/ca/ca.pem --stamp FILE \
                  --sieve conf/sieve
  Creates the folders, messages (APPEND with fixed flags and INTERNALDATE),
  the ACL, the quota and the Sieve scripts below through IMAPS and
  ManageSieve, exactly as a mail client would. Skipped when FILE holds the
  hash of this script and the Sieve sources; otherwise erin's mailbox is
  deleted by the admin and created afresh.

  Snapshot mode (tests/lab_cyrus.rs):
    cyrus_seed.py --addr 127.0.30.143 --ca run/ca/ca.pem --snapshot
  Prints, as JSON, every folder of erin with UIDVALIDITY, UIDNEXT and each
  UID's FLAGS, read with EXAMINE by the admin acting as erin (SASL PLAIN
  with an authorization identity): the state an audit must not change.

Every date is absolute, so the facts the tests assert never move.
"""

import argparse
import base64
import hashlib
import imaplib
import json
import os
import re
import socket
import ssl
import sys

USER = "erin@cyrus.test"
PASSWORD = "lab-secret-erin"
ADMIN = "cyrus"
ADMIN_PASSWORD = "lab-secret-cyrus-admin"
# Bump when the mailbox below changes in a way the code hash would not show.
VERSION = "1"

# (folder, special use, [(year, count)]). Personal folders live under
# "INBOX." (Debian's Cyrus: separator ".", altnamespace off).
FOLDERS = [
    ("INBOX", None, [(2019, 4), (2023, 8), (2024, 8), (2025, 10)]),
    ("INBOX.Sent", "\\Sent", [(2024, 5), (2025, 5)]),
    ("INBOX.Drafts", "\\Drafts", [(2025, 1)]),
    ("INBOX.Trash", "\\Trash", []),
    ("INBOX.Archive", "\\Archive", []),
    ("INBOX.Archive.2015", None, [(2015, 6)]),
    ("INBOX.Projekte", None, [(2025, 3)]),
]
# Shared with everyone, read-only: RET-006.
ACL = [("INBOX.Projekte", "anyone", "lr")]
QUOTA_KB = 10240
SIEVE = [("main", "erin-main.sieve", True), ("old", "erin-old.sieve", False)]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def messages(folder, years):
    """Yields (internaldate, flags, rfc822 bytes); every third is unseen."""
    n = 0
    for year, count in years:
        for i in range(count):
            month = 1 + (i * 11) // max(count, 1)
            day = 1 + (i * 7) % 27
            date = f"{day:02d}-{MONTHS[month - 1]}-{year} 10:{i % 60:02d}:00 +0000"
            header_date = f"{day} {MONTHS[month - 1]} {year} 10:{i % 60:02d}:00 +0000"
            subject = f"Rechnung {year}-{i + 1:04d}" if i % 2 == 0 else f"Projekt {folder} {year}/{i + 1}"
            sent = folder == "INBOX.Sent"
            sender, to = ("erin@cyrus.test", "kunde@kunde.example") if sent else (
                "rechnung@lieferant.example", "erin@cyrus.test")
            flags = [] if n % 3 == 2 else ["\\Seen"]
            if folder == "INBOX.Drafts":
                flags.append("\\Draft")
            body = (f"Date: {header_date}\r\nFrom: <{sender}>\r\nTo: <{to}>\r\n"
                    f"Subject: {subject}\r\nMessage-ID: <{folder}.{year}.{i}@lab.cyrus.test>\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                    f"Lab message {n} in {folder}.\r\n")
            n += 1
            yield date, flags, body.encode()


def context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False  # addresses, not names: the lab DNS may be elsewhere
    return ctx


def plain(authz, authc, password):
    raw = f"{authz}\0{authc}\0{password}".encode()
    return lambda _challenge: raw


def imap(addr, ca, authz, authc, password):
    conn = imaplib.IMAP4_SSL(addr, 993, ssl_context=context(ca), timeout=20)
    conn.authenticate("PLAIN", plain(authz, authc, password))
    return conn


def check(result, what):
    typ, data = result
    if typ != "OK":
        raise SystemExit(f"{what}: {typ} {data}")
    return data


class Sieve:
    """Just enough ManageSieve (RFC 5804): STARTTLS, PLAIN, PUTSCRIPT,
    SETACTIVE, DELETESCRIPT, LOGOUT."""

    def __init__(self, addr, ca):
        self.sock = socket.create_connection((addr, 4190), timeout=20)
        self.file = self.sock.makefile("rb")
        self.response()
        self.command(b"STARTTLS\r\n")
        self.sock = context(ca).wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")
        self.response()
        token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())
        self.command(b'AUTHENTICATE "PLAIN" "' + token + b'"\r\n')

    def response(self):
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                raise SystemExit("ManageSieve: connection closed")
            literal = re.search(rb"\{(\d+)\+?\}\r\n$", line)
            if literal:
                line += self.file.read(int(literal.group(1)))
                continue
            lines.append(line)
            if line.startswith((b"OK", b"NO", b"BYE")):
                return line, lines

    def command(self, data, ok=True):
        self.sock.sendall(data)
        line, lines = self.response()
        if ok and not line.startswith(b"OK"):
            raise SystemExit(f"ManageSieve {data[:40]!r}: {line!r}")
        return line

    def put(self, name, script):
        self.command(b'PUTSCRIPT "%s" {%d+}\r\n%s\r\n' % (name.encode(), len(script), script))


def seed(args):
    sources = [open(os.path.join(args.sieve, f), "rb").read() for _, f, _ in SIEVE]
    digest = hashlib.sha256(VERSION.encode() + open(__file__, "rb").read() + b"".join(sources)).hexdigest()
    if os.path.exists(args.stamp) and open(args.stamp).read().strip() == digest:
        print("unchanged erin@cyrus.test")
        return
    admin = imap(args.addr, args.ca, "", ADMIN, ADMIN_PASSWORD)
    root = "user.erin@cyrus.test"
    typ, _ = admin.list('""', root)
    if typ == "OK" and admin.list('""', root)[1] != [None]:
        check(admin.setacl(root, ADMIN, "lrswipkxtecda"), "SETACL admin")
        check(admin.delete(root), "DELETE")
    check(admin.create(root), "CREATE user")
    check(admin._simple_command("SETQUOTA", root, f"(STORAGE {QUOTA_KB})"), "SETQUOTA")
    admin.logout()

    conn = imap(args.addr, args.ca, "", USER, PASSWORD)
    total = 0
    for folder, use, years in FOLDERS:
        if folder != "INBOX":
            if use:
                check(conn._simple_command("CREATE", folder, f"(USE ({use}))"), f"CREATE {folder}")
            else:
                check(conn.create(folder), f"CREATE {folder}")
            check(conn.subscribe(folder), f"SUBSCRIBE {folder}")
        for date, flags, body in messages(folder, years):
            check(conn.append(folder, "(" + " ".join(flags) + ")", f'"{date}"', body), f"APPEND {folder}")
            total += 1
    for folder, who, rights in ACL:
        check(conn.setacl(folder, who, rights), f"SETACL {folder}")
    conn.logout()

    sieve = Sieve(args.addr, args.ca)
    for (name, _, active), source in zip(SIEVE, sources):
        sieve.put(name, source)
        if active:
            sieve.command(b'SETACTIVE "%s"\r\n' % name.encode())
    sieve.command(b"LOGOUT\r\n", ok=False)

    with open(args.stamp, "w") as f:
        f.write(digest + "\n")
    print(f"generated erin@cyrus.test: {total} messages")


def snapshot(args):
    conn = imap(args.addr, args.ca, USER, ADMIN, ADMIN_PASSWORD)
    state = {}
    for folder, _, _ in FOLDERS:
        check(conn.select(folder, readonly=True), f"EXAMINE {folder}")
        uidvalidity = conn.untagged_responses.get("UIDVALIDITY", [b"?"])[-1].decode()
        uidnext = conn.untagged_responses.get("UIDNEXT", [b"?"])[-1].decode()
        flags = {}
        typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        for item in data or []:
            if not item:
                continue
            text = item.decode() if isinstance(item, bytes) else item[0].decode()
            m = re.search(r"UID (\d+)", text)
            f = re.search(r"FLAGS \(([^)]*)\)", text)
            if m and f:
                flags[m.group(1)] = sorted(f.group(1).split())
        state[folder] = {"uidvalidity": uidvalidity, "uidnext": uidnext, "flags": flags}
        conn.close()
    conn.logout()
    json.dump(state, sys.stdout, sort_keys=True)
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--addr", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--stamp")
    parser.add_argument("--sieve")
    parser.add_argument("--year")
    parser.add_argument("--snapshot", action="store_true")
    args = parser.parse_args()
    if args.snapshot:
        snapshot(args)
    else:
        seed(args)


if __name__ == "__main__":
    main()
