#!/usr/bin/env python3
"""Deterministic Maildir++ generator for the mailaudit lab (stdlib only).

Two modes:

  Spec mode (lab.sh up):
    maildir.py --spec conf/mailboxes/bob.json --home run/mail/bad.test/bob \
               --year 2026 [--owner 65534:65534] [--force]
  The spec (JSON) names the user, a seed, the folders with their messages
  per year, ACL entries, Sieve scripts and an optional quota fill level.
  Years are absolute (2010) or relative to --year ("Y", "Y-3"). The home
  is only rewritten when a stamp (this file, the spec, the Sieve scripts,
  the year) changed. Prints one line: "unchanged ..." or "generated ...",
  both ending in "quota_kb=N" when the spec asks for a quota fill level.

  Bulk mode (benchmarks):
    maildir.py --home DIR --folders 10 --messages 100000 --from-year 2010 \
               [--to-year Y] [--user bulk@good.test] [--seed N] [--owner U:G]
  Spreads the messages evenly over the folders and years. Refuses to touch
  an existing DIR/Maildir unless --force is given.

Every message goes to cur/ (never new/) as <time>.M<n>P<k>.lab:2,<flags>,
where <time> is the message date, and the file's mtime is set to that date
(Dovecot takes a Maildir message's INTERNALDATE from the mtime). About 20 %
of the messages carry no \\Seen flag. Addresses and subjects are fake: every
domain is under .example or the lab's own .test domains.
"""

import argparse
import calendar
import hashlib
import json
import os
import random
import shutil
import sys
import time

# Bump when the output format changes in a way the code hash would not show.
GENERATOR_VERSION = "1"
STAMP_FILE = ".lab-stamp"

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONATE = ("Januar", "Februar", "Maerz", "April", "Mai", "Juni", "Juli", "August",
          "September", "Oktober", "November", "Dezember")

# (display name, address) of correspondents. All fake.
CONTACTS = (
    ("Stadtwerke Musterstadt", "rechnung@stadtwerke-musterstadt.example"),
    ("Mueller Buerobedarf GmbH", "buchhaltung@mueller-buerobedarf.example"),
    ("Kanzlei Schmidt & Partner", "sekretariat@kanzlei-schmidt.example"),
    ("Anna Becker", "a.becker@becker-consulting.example"),
    ("Thomas Wagner", "t.wagner@wagner-bau.example"),
    ("Julia Hoffmann", "julia.hoffmann@hoffmann-design.example"),
    ("Logistik Nord GmbH", "versand@logistik-nord.example"),
    ("Musterbank AG", "service@musterbank.example"),
    ("Webhost24 Support", "support@webhost24.example"),
    ("Steuerbuero Klein", "info@steuerbuero-klein.example"),
    ("Peter Schulz", "p.schulz@schulz-elektro.example"),
    ("Sabine Fischer", "sabine.fischer@fischer-immobilien.example"),
)
NEWSLETTERS = (
    ("Fachverlag Buero & Recht", "newsletter@fachverlag.example", "<news.fachverlag.example>"),
    ("IHK-Infodienst (Lab)", "infodienst@kammer-musterstadt.example", "<info.kammer-musterstadt.example>"),
)
SPAMMERS = (
    ("Gewinnspiel-Team", "winner@gewinn-24.example"),
    ("Account Security", "no-reply@secure-login-check.example"),
    ("Paketdienst", "zustellung@paket-verfolgung.example"),
    ("Crypto Profit", "invest@profit-now.example"),
)
# Subjects of business mail. {y} year, {n} running number, {d}/{m} day/month,
# {w} calendar week, {mon} German month name.
SUBJECTS_IN = (
    "Rechnung {y}-{n:04d}",
    "Rechnung {y}-{n:04d}",
    "Mahnung zu Rechnung {y}-{n:04d}",
    "Angebot Nr. {y}-{n:03d}",
    "=?UTF-8?Q?Auftragsbest=C3=A4tigung?= {y}-{n:04d}",
    "Lieferschein {y}-{n:04d}",
    "Re: Termin am {d:02d}.{m:02d}.",
    "Protokoll Projektbesprechung KW {w:02d}",
    "Kontoauszug {m:02d}/{y}",
    "Vertragsunterlagen {y}",
    "Your invoice INV-{y}{n:05d}",
    "Gutschrift {y}-{n:04d}",
)
SUBJECTS_OUT = (
    "Rechnung {y}-{n:04d}",
    "Re: Angebot Nr. {y}-{n:03d}",
    "Bestellung {y}-{n:03d}",
    "Re: Termin am {d:02d}.{m:02d}.",
    "Unterlagen wie besprochen",
    "Re: Vertragsunterlagen {y}",
    "Stornierung Auftrag {y}-{n:04d}",
    "Fwd: Kontoauszug {m:02d}/{y}",
)
SUBJECTS_DRAFT = (
    "Antwort an Kanzlei Schmidt (Entwurf)",
    "Angebot {y}-{n:03d} (Entwurf)",
)
SUBJECTS_JUNK = (
    "Sie haben gewonnen!",
    "Ihr Konto wurde gesperrt",
    "Ihr Paket wartet auf Zustellung",
    "Verdoppeln Sie Ihr Geld in 7 Tagen",
)
BODY_IN = (
    "anbei erhalten Sie die Unterlagen zu unserem Vorgang.\nBitte pruefen Sie die Angaben und melden Sie sich bei Rueckfragen.",
    "wie telefonisch besprochen sende ich Ihnen die Aufstellung.\nDie Zahlung ist innerhalb von 14 Tagen faellig.",
    "vielen Dank fuer Ihre Nachricht.\nDen Termin bestaetigen wir gern.",
    "please find the document attached as discussed.\nLet us know if anything is missing.",
)
BODY_OUT = (
    "vielen Dank fuer Ihr Angebot, wir nehmen es gern an.",
    "anbei wie besprochen die Unterlagen.\nBitte bestaetigen Sie kurz den Eingang.",
    "koennen wir den Termin um eine Woche verschieben?",
)
BODY_JUNK = (
    "Klicken Sie jetzt auf den Link, um Ihren Gewinn abzuholen!",
    "Ihr Konto wird in 24 Stunden geloescht, wenn Sie nicht bestaetigen.",
)
GRUSS = "Mit freundlichen Gr\u00fc\u00dfen"

# Folder kinds: who writes the mail and what it looks like.
KINDS = ("received", "sent", "drafts", "junk", "trash")

BULK_FOLDERS = ("INBOX", "Sent", "Archive", "Trash", "Junk", "Drafts",
                "Projekte", "Rechnungen", "Kunden", "Newsletter")
BULK_KINDS = {"Sent": "sent", "Drafts": "drafts", "Junk": "junk", "Trash": "trash"}


def rfc5322_date(t):
    tm = time.gmtime(t)
    return "%s, %02d %s %04d %02d:%02d:%02d +0000" % (
        WEEKDAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec)


def display(name, addr):
    return '"%s" <%s>' % (name.replace('"', ""), addr)


def user_name(user):
    local = user.split("@", 1)[0]
    return local[:1].upper() + local[1:]


class Writer:
    """Writes messages into one Maildir tree; counts messages and vsize."""

    def __init__(self, maildir, owner):
        self.maildir = maildir
        self.owner = owner
        self.messages = 0
        self.vsize = 0

    def mkdir(self, path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        if self.owner:
            os.chown(path, *self.owner)

    def folder_dir(self, name):
        if name == "INBOX":
            return self.maildir
        # Maildir++: ".Name", with "/" hierarchy separators as ".".
        return os.path.join(self.maildir, "." + name.replace("/", "."))

    def create_folder(self, name):
        d = self.folder_dir(name)
        self.mkdir(d)
        for sub in ("cur", "new", "tmp"):
            self.mkdir(os.path.join(d, sub))
        if name != "INBOX":
            self.write_file(os.path.join(d, "maildirfolder"), b"")
        return d

    def write_file(self, path, data, mtime=None):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            if self.owner:
                os.fchown(fd, *self.owner)
            if mtime is not None:
                os.utime(fd, (mtime, mtime))
        finally:
            os.close(fd)

    def message(self, cur, t, n, k, flags, data):
        # <n> counts within the folder, <k> numbers the folder: unique names.
        name = "%d.M%dP%d.lab:2,%s" % (t, n, k, flags)
        self.write_file(os.path.join(cur, name), data, t)
        self.messages += 1
        # Dovecot's virtual size counts line ends as CRLF.
        self.vsize += len(data) + data.count(b"\n")


def year_bounds(year, cutoff):
    start = calendar.timegm((year, 1, 1, 0, 0, 0))
    end = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    end = min(end, cutoff)
    if end <= start:
        end = start + 3600
    return start, end


def compose(rng, kind, user, t, seq):
    """One RFC 5322 message (bytes) of the given folder kind."""
    tm = time.gmtime(t)
    fields = {"y": tm.tm_year, "n": rng.randint(1, 999), "d": rng.randint(1, 28),
              "m": rng.randint(1, 12), "w": rng.randint(1, 52), "mon": MONATE[tm.tm_mon - 1]}
    me = display(user_name(user), user)
    domain = user.split("@", 1)[1]
    extra = ""
    if kind == "trash":
        kind = "sent" if rng.random() < 0.3 else "received"
    if kind == "received" and rng.random() < 0.12:
        name, addr, list_id = NEWSLETTERS[rng.randrange(len(NEWSLETTERS))]
        sender = display(name, addr)
        subject = "Newsletter %s %d" % (fields["mon"], tm.tm_year)
        extra = "List-Id: %s\nList-Unsubscribe: <https://%s/unsubscribe>\n" % (
            list_id, addr.split("@", 1)[1])
        body = "die neuen Beitraege des Monats %s finden Sie online." % fields["mon"]
        frm, to, ret = sender, me, addr
    elif kind == "received":
        name, addr = CONTACTS[rng.randrange(len(CONTACTS))]
        subject = SUBJECTS_IN[rng.randrange(len(SUBJECTS_IN))].format(**fields)
        body = BODY_IN[rng.randrange(len(BODY_IN))]
        frm, to, ret = display(name, addr), me, addr
        body = "Guten Tag,\n\n%s\n\n%s\n%s\n" % (body, GRUSS, name)
    elif kind == "junk":
        name, addr = SPAMMERS[rng.randrange(len(SPAMMERS))]
        subject = SUBJECTS_JUNK[rng.randrange(len(SUBJECTS_JUNK))]
        body = BODY_JUNK[rng.randrange(len(BODY_JUNK))]
        frm, to, ret = display(name, addr), me, addr
    else:  # sent, drafts
        name, addr = CONTACTS[rng.randrange(len(CONTACTS))]
        table = SUBJECTS_DRAFT if kind == "drafts" else SUBJECTS_OUT
        subject = table[rng.randrange(len(table))].format(**fields)
        body = "Guten Tag,\n\n%s\n\n%s\n%s\n" % (
            BODY_OUT[rng.randrange(len(BODY_OUT))], GRUSS, user_name(user))
        frm, to, ret = me, display(name, addr), None
    sender_domain = (ret or user).split("@", 1)[1] if kind != "drafts" else domain
    msgid = "<%d.%d.%08x@%s>" % (t, seq, rng.getrandbits(32), sender_domain)
    head = ""
    if ret:
        head += "Return-Path: <%s>\n" % ret
    head += ("Date: %s\nFrom: %s\nTo: %s\nSubject: %s\nMessage-ID: %s\n%s"
             "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
             "Content-Transfer-Encoding: 8bit\n\n") % (
                 rfc5322_date(t), frm, to, subject, msgid, extra)
    if not body.endswith("\n"):
        body += "\n"
    return (head + body).encode("utf-8")


def flags_for(rng, kind):
    r = rng.random()
    if kind == "drafts":
        return "D" if r < 0.2 else "DS"
    if r < 0.2:
        return ""  # unseen: an audit must never set \Seen on these
    if kind == "received" and r > 0.9:
        return "RS"
    return "S"


def fill_folder(w, name, k, kind, user, seed, per_year, cutoff):
    """per_year: list of (year, count)."""
    d = w.create_folder(name)
    cur = os.path.join(d, "cur")
    rng = random.Random("%s/%s" % (seed, name))
    seq = 0
    for year, count in per_year:
        start, end = year_bounds(year, cutoff)
        span = end - start
        for _ in range(count):
            t = start + int(rng.random() * span)
            seq += 1
            data = compose(rng, kind, user, t, seq)
            w.message(cur, t, seq, k, flags_for(rng, kind), data)
    return w.messages, w.vsize


def _fill_job(job):
    maildir, owner, args = job
    return fill_folder(Writer(maildir, owner), *args)


def fill_folders(w, jobs):
    """Fill folders (fill_folder argument tuples), in parallel when there are
    many messages: each folder has its own random stream, so the result is
    the same either way."""
    total = sum(c for job in jobs for _, c in job[5])
    if total >= 20000 and len(jobs) > 1 and (os.cpu_count() or 1) > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
            results = pool.map(_fill_job, [(w.maildir, w.owner, j) for j in jobs], chunksize=1)
    else:
        results = [fill_folder(Writer(w.maildir, w.owner), *j) for j in jobs]
    for messages, vsize in results:
        w.messages += messages
        w.vsize += vsize


def parse_year(v, year):
    if isinstance(v, int):
        return v
    v = str(v).strip()
    if v == "Y":
        return year
    if v.startswith("Y-"):
        return year - int(v[2:])
    if v.startswith("Y+"):
        return year + int(v[2:])
    return int(v)


def distribute(ranges, skip, year):
    """[[from, to, total], ...] -> {year: count}; totals spread evenly over
    the years of a range that are not skipped, remainder to the newest."""
    out = {}
    for frm, to, total in ranges:
        a, b = parse_year(frm, year), parse_year(to, year)
        years = [y for y in range(a, b + 1) if y not in skip]
        if not years:
            continue
        base, rest = divmod(int(total), len(years))
        for i, y in enumerate(years):
            out[y] = out.get(y, 0) + base + (1 if i >= len(years) - rest else 0)
    return out


def parse_owner(s):
    if not s:
        return None
    u, _, g = s.partition(":")
    return (int(u), int(g or u))


def write_subscriptions(w, names):
    w.write_file(os.path.join(w.maildir, "subscriptions"),
                 "".join(n + "\n" for n in names).encode())


def generate_spec(spec, spec_dir, home, year, cutoff, owner):
    user = spec["user"]
    seed = spec.get("seed", 1)
    tmp = home.rstrip("/") + ".generating"
    if os.path.lexists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp, mode=0o700)
    if owner:
        os.chown(tmp, *owner)
    w = Writer(os.path.join(tmp, "Maildir"), owner)
    w.mkdir(w.maildir)
    summary = {}
    subscribed = []
    jobs = []
    for k, f in enumerate(spec["folders"], start=1):
        name = f["name"]
        skip = {parse_year(s, year) for s in f.get("skip", [])}
        counts = distribute(f.get("years", []), skip, year)
        per_year = sorted((y, c) for y, c in counts.items() if c > 0)
        jobs.append((name, k, f.get("kind", "received"), user, seed, per_year, cutoff))
        summary[name] = {str(y): c for y, c in per_year}
    fill_folders(w, jobs)
    for f in spec["folders"]:
        name = f["name"]
        if f.get("acl"):
            w.write_file(os.path.join(w.folder_dir(name), "dovecot-acl"),
                         "".join(line + "\n" for line in f["acl"]).encode())
        if name != "INBOX" and f.get("subscribe", True):
            subscribed.append(name)
    write_subscriptions(w, subscribed)

    sieve = spec.get("sieve")
    if sieve:
        sdir = os.path.join(tmp, "sieve")
        w.mkdir(sdir)
        for script, path in sorted(sieve.get("scripts", {}).items()):
            with open(os.path.join(spec_dir, path), "rb") as fh:
                w.write_file(os.path.join(sdir, script + ".sieve"), fh.read())
        active = sieve.get("active")
        if active:
            # What ManageSieve's SETACTIVE leaves behind: a relative symlink.
            link = os.path.join(tmp, ".dovecot.sieve")
            os.symlink("sieve/%s.sieve" % active, link)
            if owner:
                os.lchown(link, *owner)

    result = {"user": user, "year": year, "cutoff": cutoff, "messages": w.messages,
              "vsize": w.vsize, "folders": summary}
    pct = spec.get("quota_percent")
    if pct:
        # Limit such that the generated mail fills pct % of it.
        result["quota_kb"] = -(-w.vsize * 100 // (pct * 1024))
    return tmp, result


def stamp_of(spec_path, spec, spec_dir, year):
    h = hashlib.sha256()
    h.update(GENERATOR_VERSION.encode())
    with open(os.path.abspath(__file__), "rb") as fh:
        h.update(fh.read())
    with open(spec_path, "rb") as fh:
        h.update(fh.read())
    for _, path in sorted(spec.get("sieve", {}).get("scripts", {}).items()):
        with open(os.path.join(spec_dir, path), "rb") as fh:
            h.update(fh.read())
    h.update(str(year).encode())
    return h.hexdigest()


def read_stamp(home):
    try:
        with open(os.path.join(home, STAMP_FILE)) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def quota_suffix(result):
    return " quota_kb=%d" % result["quota_kb"] if "quota_kb" in result else ""


def cutoff_for(year, now):
    """Latest message date: now (rounded down to the day, so one day's runs
    agree), but at least an hour into the year; never after the year."""
    start = calendar.timegm((year, 1, 1, 0, 0, 0))
    end = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    day = int(now) // 86400 * 86400
    return min(end, max(day, min(int(now), start + 3600)))


def main_spec(args):
    with open(args.spec) as fh:
        spec = json.load(fh)
    spec_dir = os.path.dirname(os.path.abspath(args.spec))
    year = args.year or time.gmtime().tm_year
    owner = parse_owner(args.owner)
    stamp = stamp_of(args.spec, spec, spec_dir, year)
    old = read_stamp(args.home)
    if not args.force and old and old.get("stamp") == stamp and os.path.isdir(os.path.join(args.home, "Maildir")):
        print("unchanged %s: %d messages%s" % (old["user"], old["messages"], quota_suffix(old)))
        return 0
    cutoff = cutoff_for(year, args.now if args.now is not None else time.time())
    started = time.monotonic()
    tmp, result = generate_spec(spec, spec_dir, args.home, year, cutoff, owner)
    result["stamp"] = stamp
    w = Writer(tmp, owner)
    w.write_file(os.path.join(tmp, STAMP_FILE),
                 (json.dumps(result, indent=1, sort_keys=True) + "\n").encode())
    if os.path.lexists(args.home):
        shutil.rmtree(args.home)
    os.rename(tmp, args.home)
    print("generated %s: %d messages in %.2f s%s" % (
        result["user"], result["messages"], time.monotonic() - started, quota_suffix(result)))
    return 0


def main_bulk(args):
    year = args.to_year or args.year or time.gmtime().tm_year
    owner = parse_owner(args.owner)
    maildir = os.path.join(args.home, "Maildir")
    if os.path.exists(maildir) and not args.force:
        print("exists %s (use --force to regenerate)" % maildir)
        return 0
    if os.path.lexists(maildir):
        shutil.rmtree(maildir)
    if not os.path.isdir(args.home):
        os.makedirs(args.home, mode=0o700)
    if owner:
        os.chown(args.home, *owner)
    names = list(BULK_FOLDERS[:args.folders])
    names += ["Ordner%02d" % i for i in range(len(names) + 1, args.folders + 1)]
    years = list(range(args.from_year, year + 1))
    cutoff = cutoff_for(year, args.now if args.now is not None else time.time())
    started = time.monotonic()
    w = Writer(maildir, owner)
    w.mkdir(maildir)
    per_folder, extra = divmod(args.messages, len(names))
    jobs = []
    for k, name in enumerate(names, start=1):
        n = per_folder + (1 if k <= extra else 0)
        base, rest = divmod(n, len(years))
        per_year = [(y, base + (1 if i >= len(years) - rest else 0)) for i, y in enumerate(years)]
        jobs.append((name, k, BULK_KINDS.get(name, "received"), args.user, args.seed,
                     per_year, cutoff))
    fill_folders(w, jobs)
    write_subscriptions(w, [n for n in names if n != "INBOX"])
    print("generated %s: %d messages in %d folders (%d-%d), %.1f MB, %.2f s" % (
        args.user, w.messages, len(names), years[0], years[-1], w.vsize / 1e6,
        time.monotonic() - started))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", required=True, help="the user's home; the Maildir is HOME/Maildir")
    p.add_argument("--spec", help="JSON mailbox spec (spec mode)")
    p.add_argument("--year", type=int, help="current year (default: this year, UTC)")
    p.add_argument("--now", type=float, help="latest message date, epoch seconds (default: now)")
    p.add_argument("--owner", help="UID:GID for every file (needs root)")
    p.add_argument("--force", action="store_true", help="regenerate even if up to date / present")
    p.add_argument("--folders", type=int, default=10, help="bulk: number of folders")
    p.add_argument("--messages", type=int, default=100000, help="bulk: total messages")
    p.add_argument("--from-year", type=int, default=2010, help="bulk: first year")
    p.add_argument("--to-year", type=int, help="bulk: last year (default: --year)")
    p.add_argument("--user", default="bulk@good.test", help="bulk: mailbox owner address")
    p.add_argument("--seed", default="bulk", help="bulk: random seed")
    args = p.parse_args(argv)
    if args.spec:
        return main_spec(args)
    if args.folders < 1 or args.messages < 0:
        p.error("--folders must be >= 1 and --messages >= 0")
    return main_bulk(args)


if __name__ == "__main__":
    sys.exit(main())
