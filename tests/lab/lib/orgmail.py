#!/usr/bin/env python3
"""Deterministic mailboxes of org.test (issue 12: classes, master user), stdlib only.

    orgmail.py --root run/mail/org.test --year 2026 [--owner 65534:65534] [--force]

Writes USERS mailboxes (user01..user22@org.test) as Maildir++ under ROOT,
each with the same folders (FOLDERS) and counts that differ per user, and
ROOT/manifest.json: the exact number of messages per mailbox, folder, year
and class (without and with the opt-in deep check), so lab tests can
assert class counts exactly. The kinds of mail and their classes are in
orgmime.KINDS.

- Years Y-9..Y (2017..2026 in 2026). A message's date is its file's mtime
  (Dovecot's INTERNALDATE) and its file name's time; dates stay between
  2 Jan and 30 Dec at noon UTC, so no time zone moves one into another year,
  and in the current year they stay before the day of generation.
- "Entwürfe" is stored in modified UTF-7 (.Entw&APw-rfe); "Leer" has no
  message; "Privat" is the private folder; every message in "Rechtsstreit"
  carries the keyword $LegalHold (Maildir flag letter a, dovecot-keywords),
  and the lab's audit profile (conf/org/profile.toml) declares the hold.
- Output is deterministic: one random stream per user and folder, seeded
  from their names. ROOT/.org-stamp keeps a hash of this code and the year;
  an unchanged stamp leaves ROOT alone. Prints "unchanged ..." or
  "generated ...".

    orgmail.py --bench --root DIR --users 200 --messages 5000 [--year Y] [--owner 65534:65534] [--jobs 2]

The benchmark corpus (tests/bench/org-million.sh, issue 12): USERS
mailboxes user001..@bench.test of exactly MESSAGES messages each, with the
folders of BENCH_FOLDERS and a business mailbox's mix of kinds drawn by
weight, dated over the ten years Y-9..Y like the lab's. The messages are
the lab's (orgmime), so small (0.3 to 5.7 KB) but real MIME structures.
DIR/bench-manifest.json holds the parameters and the class totals (per
mailbox and per year); a manifest with the same parameters and format
leaves DIR alone ("unchanged ..."), whatever the year or this code.
"""

import argparse
import base64
import calendar
import datetime
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import sys

import orgmime

USERS = [f"user{i:02d}@org.test" for i in range(1, 23)]
STAMP_FILE = ".org-stamp"

# folder -> (special-use, keyword, [(kind, (min, max) per year, (first, last) years back)])
FOLDERS = {
    "INBOX": (None, None, [
        ("plain", (2, 4), (9, 0)), ("offer_pdf", (0, 1), (9, 0)), ("sitemap_xml", (0, 1), (5, 0)),
        ("invoice_pdf", (0, 2), (9, 0)), ("xrechnung_ubl", (0, 1), (6, 0)), ("xrechnung_cii", (0, 1), (6, 0)),
        ("zugferd_named_pdf", (0, 1), (7, 0)), ("facturx_hidden_pdf", (0, 1), (7, 0)),
        ("newsletter", (1, 3), (9, 0)), ("delivery_report", (0, 1), (9, 0)),
        ("read_receipt", (0, 1), (9, 0)), ("auto_reply", (0, 1), (9, 0)), ("calendar", (0, 2), (9, 0)),
    ]),
    "Sent": ("\\Sent", None, [("plain", (1, 3), (9, 0)), ("invoice_pdf", (0, 1), (9, 0))]),
    "Rechnungen": (None, None, [
        ("xrechnung_ubl", (1, 2), (6, 0)), ("xrechnung_cii", (0, 2), (6, 0)),
        ("facturx_hidden_pdf", (0, 1), (7, 0)), ("invoice_pdf", (1, 3), (9, 0)),
    ]),
    "Newsletter": (None, None, [("newsletter", (1, 4), (4, 0))]),
    "Trash": ("\\Trash", None, [("newsletter", (0, 2), (2, 0)), ("invoice_pdf", (0, 1), (2, 0)),
                                ("xrechnung_ubl", (0, 1), (1, 0))]),
    "Junk": ("\\Junk", None, [("newsletter", (0, 3), (1, 0))]),
    "Privat": (None, None, [("plain", (0, 2), (9, 0))]),
    "Entwürfe": (None, None, [("plain", (0, 1), (1, 0))]),
    "Rechtsstreit": (None, "$LegalHold", [("plain", (1, 2), (8, 6)), ("invoice_pdf", (0, 1), (8, 6))]),
    "Archive": ("\\Archive", None, [("plain", (1, 3), (9, 1)), ("invoice_pdf", (0, 1), (9, 1))]),
    "Leer": (None, None, []),
    # Dovecot would create it anyway (common.conf: auto = subscribe).
    "Drafts": ("\\Drafts", None, []),
}

SENDERS = ("rechnung@lieferant.example", "news@news.lab.example", "a.becker@kunde.example",
           "mailer-daemon@mx.org.test", "kalender@kunde.example")


def mutf7(name):
    """RFC 3501 §5.1.3 modified UTF-7."""
    out, run = [], []

    def flush():
        if run:
            data = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)


def message_time(rng, year, now):
    start = datetime.datetime(year, 1, 2, 12, tzinfo=datetime.timezone.utc)
    end = datetime.datetime(year, 12, 30, 12, tzinfo=datetime.timezone.utc)
    limit = now - datetime.timedelta(days=1)
    if end > limit:
        end = max(start, limit.replace(hour=12, minute=0, second=0, microsecond=0))
    days = (end - start).days
    return start + datetime.timedelta(days=rng.randint(0, max(days, 0)))


def render(user, folder, kind, n, when, rng):
    day = when.strftime("%Y-%m-%d")
    extra, mime = orgmime.body(kind, n, when.year, day, rng)
    sent = folder == "Sent"
    sender = f"{user.split('@')[0]}@org.test" if sent else SENDERS[n % len(SENDERS)]
    recipient = "kunde@kunde.example" if sent else user
    headers = [
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        f"From: {sender}",
        f"To: {recipient}",
        f"Subject: Lab {kind} {n}",
        f"Message-ID: <org-{user.split('@')[0]}-{orgmime_folder_id(folder)}-{n}@org.test>",
        "MIME-Version: 1.0",
    ] + extra
    return orgmime.crlf("\n".join(headers) + "\n" + mime).encode()


def orgmime_folder_id(folder):
    return hashlib.sha1(folder.encode()).hexdigest()[:8]


def generate_user(root, user, year, now, owner):
    home = os.path.join(root, user.split("@")[0])
    maildir = os.path.join(home, "Maildir")
    summary = {}
    for index, (folder, (special, keyword, plan)) in enumerate(FOLDERS.items()):
        path = folder_path(maildir, folder, keyword)
        rng = random.Random(f"org:{user}:{folder}")
        counts, deep, n = {}, {}, 0
        for kind, (low, high), (first, last) in plan:
            for y in range(year - first, year - last + 1):
                for _ in range(rng.randint(low, high)):
                    n += 1
                    write_message(path, index, user, folder, keyword, kind, n, message_time(rng, y, now), rng)
                    count_class(counts, deep, kind, y)
        summary[folder] = {
            "imap_name": mutf7(folder),
            "special_use": special,
            "keyword": keyword,
            "messages": n,
            "classes": sort_years(counts),
            "classes_deep": sort_years(deep),
        }
    if owner:
        chown_tree(home, owner)
    return summary


def folder_path(maildir, folder, keyword):
    """Creates the Maildir++ folder (cur, new, tmp; maildirfolder and
    dovecot-keywords where they belong) and returns its path."""
    path = maildir if folder == "INBOX" else os.path.join(maildir, "." + mutf7(folder))
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    if folder != "INBOX":
        open(os.path.join(path, "maildirfolder"), "w").close()
    if keyword:
        with open(os.path.join(path, "dovecot-keywords"), "w") as f:
            f.write(f"0 {keyword}\n")
    return path


def write_message(path, index, user, folder, keyword, kind, n, when, rng, host="org"):
    """Writes message n of a folder into cur/, dated `when` by its mtime
    (INTERNALDATE) and its file name; flags in the name (a = keyword 0)."""
    data = render(user, folder, kind, n, when, rng)
    flags = "a" if keyword else ""
    flags += "D" if folder == "Entwürfe" else ""
    flags += "S" if rng.random() < 0.8 else ""
    stamp = int(when.timestamp())
    file = os.path.join(path, "cur", f"{stamp}.M{n}P{index}.{host}:2,{''.join(sorted(flags))}")
    with open(file, "wb") as f:
        f.write(data)
    os.utime(file, (stamp, stamp))


def count_class(counts, deep, kind, year):
    plain_class, deep_class = orgmime.KINDS[kind]
    for table, cls in ((counts, plain_class), (deep, deep_class)):
        table.setdefault(str(year), {}).setdefault(cls, 0)
        table[str(year)][cls] += 1


def chown_tree(home, owner):
    for directory, _dirs, files in os.walk(home):
        os.chown(directory, *owner)
        for name in files:
            os.chown(os.path.join(directory, name), *owner)


def sort_years(table):
    return {y: dict(sorted(table[y].items())) for y in sorted(table)}


def totals(mailboxes, key):
    out = {}
    for folders in mailboxes.values():
        for folder in folders.values():
            for per_class in folder[key].values():
                for cls, count in per_class.items():
                    out[cls] = out.get(cls, 0) + count
    return dict(sorted(out.items()))


# Benchmark corpus: folder -> (special-use, keyword, messages of 5,000,
# (first, last) years back, [(kind, weight)]). INBOX takes the remainder,
# so every mailbox has exactly --messages. Classes (orgmime.KINDS): about
# 57 % unclassified, 21 % bulk, 10 % likely invoice, 3.5 % e-invoice,
# 3.4 % automatic, 5 % calendar (200 × 5,000).
BENCH_FORMAT = 1
BENCH_FOLDERS = {
    "INBOX": (None, None, None, (9, 0), [
        ("plain", 50), ("newsletter", 14), ("invoice_pdf", 6), ("offer_pdf", 3), ("sitemap_xml", 1),
        ("xrechnung_ubl", 2), ("xrechnung_cii", 1), ("zugferd_named_pdf", 1), ("facturx_hidden_pdf", 1),
        ("delivery_report", 3), ("read_receipt", 2), ("auto_reply", 3), ("calendar", 8),
    ]),
    "Sent": ("\\Sent", None, 900, (9, 0), [("plain", 90), ("invoice_pdf", 5), ("calendar", 5)]),
    "Archive": ("\\Archive", None, 800, (9, 1), [
        ("plain", 75), ("invoice_pdf", 10), ("offer_pdf", 5), ("calendar", 5), ("newsletter", 5),
    ]),
    "Rechnungen": (None, None, 300, (9, 0), [
        ("invoice_pdf", 60), ("xrechnung_ubl", 15), ("xrechnung_cii", 10), ("zugferd_named_pdf", 5),
        ("facturx_hidden_pdf", 10),
    ]),
    "Newsletter": (None, None, 400, (4, 0), [("newsletter", 1)]),
    "Trash": ("\\Trash", None, 250, (2, 0), [("newsletter", 60), ("plain", 30), ("invoice_pdf", 10)]),
    "Junk": ("\\Junk", None, 150, (1, 0), [("newsletter", 1)]),
    "Privat": (None, None, 120, (9, 0), [("plain", 1)]),
    "Entwürfe": (None, None, 20, (1, 0), [("plain", 1)]),
    "Rechtsstreit": (None, "$LegalHold", 60, (8, 6), [("plain", 80), ("invoice_pdf", 20)]),
    "Leer": (None, None, 0, (0, 0), []),
    "Drafts": ("\\Drafts", None, 0, (0, 0), []),
}
BENCH_MANIFEST = "bench-manifest.json"


def bench_counts(messages):
    """Messages per folder: the shares of 5,000 scaled, INBOX the rest."""
    counts = {f: round(share * messages / 5000) for f, (_, _, share, _, _) in BENCH_FOLDERS.items() if share is not None}
    counts["INBOX"] = messages - sum(counts.values())
    if counts["INBOX"] < 0:
        raise ValueError(f"--messages {messages} is too small for the folder shares")
    return counts


def generate_bench_user(job):
    root, user, messages, year, now, owner = job
    home = os.path.join(root, user.split("@")[0])
    shutil.rmtree(home, ignore_errors=True)
    maildir = os.path.join(home, "Maildir")
    counts_per_folder = bench_counts(messages)
    classes, by_year = {}, {}
    for index, (folder, (_special, keyword, _share, (first, last), plan)) in enumerate(BENCH_FOLDERS.items()):
        path = folder_path(maildir, folder, keyword)
        rng = random.Random(f"bench:{user}:{folder}")
        kinds = [kind for kind, _ in plan]
        weights = [weight for _, weight in plan]
        for n in range(1, counts_per_folder[folder] + 1):
            kind = rng.choices(kinds, weights)[0]
            y = rng.randint(year - first, year - last)
            write_message(path, index, user, folder, keyword, kind, n, message_time(rng, y, now), rng, "bench")
            cls = orgmime.KINDS[kind][0]
            classes[cls] = classes.get(cls, 0) + 1
            by_year.setdefault(str(y), {}).setdefault(cls, 0)
            by_year[str(y)][cls] += 1
    if owner:
        chown_tree(home, owner)
    return user, {"messages": messages, "folders": counts_per_folder,
                  "classes": dict(sorted(classes.items())), "classes_by_year": sort_years(by_year)}


def bench_main(args, owner):
    """--bench: the benchmark corpus (see the module docs)."""
    manifest_path = os.path.join(args.root, BENCH_MANIFEST)
    params = {"format": BENCH_FORMAT, "users": args.users, "messages_per_mailbox": args.messages,
              "domain": args.domain}
    if not args.force and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            if json.load(f).get("parameters") == params:
                print(f"unchanged {args.root}")
                return 0
        os.remove(manifest_path)
    year = args.year or datetime.datetime.now(datetime.timezone.utc).year
    now = datetime.datetime.now(datetime.timezone.utc)
    if now.year != year:
        now = datetime.datetime(year, 12, 1, tzinfo=datetime.timezone.utc)
    users = [f"user{i:03d}@{args.domain}" for i in range(1, args.users + 1)]
    os.makedirs(args.root, exist_ok=True)
    jobs = [(args.root, user, args.messages, year, now, owner) for user in users]
    with multiprocessing.Pool(args.jobs) as pool:
        mailboxes = dict(pool.imap(generate_bench_user, jobs))
    totals, by_year = {}, {}
    for mailbox in mailboxes.values():
        for cls, count in mailbox["classes"].items():
            totals[cls] = totals.get(cls, 0) + count
        for y, per_class in mailbox["classes_by_year"].items():
            for cls, count in per_class.items():
                by_year.setdefault(y, {}).setdefault(cls, 0)
                by_year[y][cls] += count
    manifest = {
        "generator": "tests/lab/lib/orgmail.py --bench",
        "parameters": params,
        "year": year,
        "years": [year - 9, year],
        "master_user": "auditor",
        "totals": {"messages": args.users * args.messages, "classes": dict(sorted(totals.items())),
                   "classes_by_year": sort_years(by_year)},
        "mailboxes": mailboxes,
    }
    # Written last: a run cut short leaves no manifest and starts again.
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(manifest_path + ".tmp", manifest_path)
    print(f"generated {args.root}: {args.users} mailboxes, {manifest['totals']['messages']} messages")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--year", type=int, help="required without --bench")
    parser.add_argument("--owner", help="uid:gid")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--bench", action="store_true", help="the benchmark corpus instead of the lab's")
    parser.add_argument("--users", type=int, default=200, help="with --bench")
    parser.add_argument("--messages", type=int, default=5000, help="per mailbox, with --bench")
    parser.add_argument("--domain", default="bench.test", help="with --bench")
    parser.add_argument("--jobs", type=int, default=2, help="processes, with --bench")
    args = parser.parse_args()
    owner = tuple(int(x) for x in args.owner.split(":")) if args.owner else None
    if args.bench:
        return bench_main(args, owner)
    if args.year is None:
        parser.error("--year is required")

    code = b""
    for name in ("orgmail.py", "orgmime.py"):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), "rb") as f:
            code += f.read()
    stamp = hashlib.sha256(code + str(args.year).encode()).hexdigest()
    stamp_path = os.path.join(args.root, STAMP_FILE)
    manifest_path = os.path.join(args.root, "manifest.json")
    if not args.force and os.path.exists(manifest_path) and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            if f.read().strip() == stamp:
                print(f"unchanged {args.root}")
                return 0

    now = datetime.datetime.now(datetime.timezone.utc)
    if now.year != args.year:
        # Generating for another year (tests): pretend it is 1 Dec of it.
        now = datetime.datetime(args.year, 12, 1, tzinfo=datetime.timezone.utc)
    for user in USERS:
        shutil.rmtree(os.path.join(args.root, user.split("@")[0]), ignore_errors=True)
    os.makedirs(args.root, exist_ok=True)
    mailboxes = {user: generate_user(args.root, user, args.year, now, owner) for user in USERS}
    manifest = {
        "generator": "tests/lab/lib/orgmail.py",
        "year": args.year,
        "years": [args.year - 9, args.year],
        "class_file": "rules/classes/mail-classes.toml",
        "server": "127.0.16.143",
        "master_user": "auditor",
        "master_separator": "*",
        "kinds": {kind: {"class": c, "class_deep": d} for kind, (c, d) in orgmime.KINDS.items()},
        "mailboxes": mailboxes,
        "totals": {"classes": totals(mailboxes, "classes"), "classes_deep": totals(mailboxes, "classes_deep"),
                   "messages": sum(f["messages"] for m in mailboxes.values() for f in m.values())},
    }
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    os.replace(manifest_path + ".tmp", manifest_path)
    with open(stamp_path, "w") as f:
        f.write(stamp + "\n")
    if owner:
        os.chown(args.root, *owner)
    print(f"generated {args.root}: {len(USERS)} mailboxes, {manifest['totals']['messages']} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
