#!/usr/bin/env python3
"""Compare mailaudit's SPF and DMARC evidence with checkdmarc's (issue 16).

    checkdmarc_compare.py MAILAUDIT.json CHECKDMARC.json EXPLAINED.tsv

MAILAUDIT.json is one `mailaudit scan --format json` report over the lab
domains, CHECKDMARC.json checkdmarc's JSON list for the same domains. Per
domain and field it prints both values and exits 1 if a difference is not
listed in EXPLAINED.tsv (domain, field, reason; tab-separated, # comments).

Fields, each reduced to what both tools state:
  spf        none | permerror | temperror | valid (one usable record)
  spf_all    the qualifier of the `all` that ends evaluation (pass, fail,
             softfail, neutral), when the record is valid
  spf_lookups  DNS-querying terms counted (RFC 7208 §4.6.4)
  dmarc      none | invalid | valid
  dmarc_p    the policy that applies to the domain (p, or sp when the
             record came from the organisational domain)
  dmarc_unauthorized  report destinations outside the domain that publish
             no authorization record (RFC 7489 §7.1), "-" for none
"""

import json
import sys

ALL = {"-all": "fail", "~all": "softfail", "?all": "neutral", "+all": "pass"}


def mailaudit_fields(target):
    auth = target["evidence"]["mail_auth"]
    fields = {}
    spf = auth["spf"]
    if spf["status"] != "completed":
        fields["spf"] = "temperror"
    else:
        value = spf["value"]
        if not value["records"]:
            fields["spf"] = "none"
        elif value["errors"] or value["dns_lookups"] > 10 or value["void_lookups"] > 2:
            fields["spf"] = "permerror"
        elif value["temp_errors"]:
            fields["spf"] = "temperror"
        else:
            fields["spf"] = "valid"
            fields["spf_all"] = ALL.get(value.get("all") or "", "neutral")
        if value["records"]:
            fields["spf_lookups"] = value["dns_lookups"]
    dmarc = auth["dmarc"]
    if dmarc["status"] != "completed":
        fields["dmarc"] = "temperror"
    else:
        value = dmarc["value"]
        if not value["records"]:
            fields["dmarc"] = "none"
        elif value["errors"]:
            fields["dmarc"] = "invalid"
        else:
            fields["dmarc"] = "valid"
            fields["dmarc_p"] = value.get("policy")
            fields["dmarc_unauthorized"] = ",".join(sorted({
                a["domain"] for a in value["rua"] + value["ruf"]
                if a.get("external") and a.get("authorized") is False})) or "-"
    return fields


def checkdmarc_fields(result):
    fields = {}
    spf = result["spf"]
    error = (spf.get("error") or "").lower()
    if spf.get("valid"):
        fields["spf"] = "valid"
        fields["spf_all"] = spf["parsed"]["all"]
    elif "does not exist" in error or "not have an spf" in error or "no spf" in error:
        fields["spf"] = "none"
    elif "timed out" in error or "temporary" in error or "servfail" in error:
        fields["spf"] = "temperror"
    else:
        fields["spf"] = "permerror"
    if spf.get("record"):
        fields["spf_lookups"] = spf.get("dns_lookups")
    dmarc = result["dmarc"]
    derror = (dmarc.get("error") or "").lower()
    if dmarc.get("valid"):
        fields["dmarc"] = "valid"
        tags = dmarc.get("tags", {})
        subdomain = dmarc.get("location") not in (None, result["domain"])
        tag = "sp" if subdomain and "sp" in tags else "p"
        fields["dmarc_p"] = tags.get(tag, {}).get("value")
        marker = " does not indicate that it accepts dmarc reports"
        fields["dmarc_unauthorized"] = ",".join(sorted({
            w[:w.lower().index(marker)].strip() for w in dmarc.get("warnings", [])
            if marker in w.lower()})) or "-"
    elif "does not exist" in derror:
        fields["dmarc"] = "none"
    elif "timed out" in derror:
        fields["dmarc"] = "temperror"
    else:
        fields["dmarc"] = "invalid"
    return fields, spf.get("error"), dmarc.get("error")


def main():
    mailaudit = json.load(open(sys.argv[1]))
    checkdmarc = json.load(open(sys.argv[2]))
    if isinstance(checkdmarc, dict):
        checkdmarc = [checkdmarc]
    explained = {}
    for line in open(sys.argv[3]):
        if line.strip() and not line.startswith("#"):
            domain, field, reason = line.rstrip("\n").split("\t", 2)
            explained[(domain, field)] = reason
    theirs = {r["domain"]: r for r in checkdmarc}
    unexplained, used, rows = [], set(), []
    for target in mailaudit["targets"]:
        domain = target["domain"]
        ours = mailaudit_fields(target)
        other, spf_error, dmarc_error = checkdmarc_fields(theirs[domain])
        for field in ("spf", "spf_all", "spf_lookups", "dmarc", "dmarc_p", "dmarc_unauthorized"):
            a, b = ours.get(field), other.get(field)
            # The class fields always compare; a detail only where both
            # state it (checkdmarc counts no lookups once a record fails).
            if a is None and b is None or field not in ("spf", "dmarc") and None in (a, b):
                continue
            same = a == b
            note = ""
            if not same:
                key = (domain, field)
                if key in explained:
                    used.add(key)
                    note = "explained: " + explained[key]
                else:
                    detail = spf_error if field.startswith("spf") else dmarc_error
                    note = f"UNEXPLAINED (checkdmarc: {detail})"
                    unexplained.append(f"{domain}\t{field}\tmailaudit {a}, checkdmarc {b}; {detail}")
            rows.append((domain, field, a, b, "agree" if same else note))
    width = max(len(r[0]) for r in rows)
    print(f"{'domain':<{width}}  {'field':<11}  {'mailaudit':<10}  {'checkdmarc':<10}  verdict")
    for domain, field, a, b, verdict in rows:
        print(f"{domain:<{width}}  {field:<11}  {str(a):<10}  {str(b):<10}  {verdict}")
    agree = sum(1 for r in rows if r[4] == "agree")
    print(f"\n{agree} of {len(rows)} values agree, {len(rows) - agree - len(unexplained)} differences explained, "
          f"{len(unexplained)} unexplained")
    stale = sorted(set(explained) - used)
    for domain, field in stale:
        print(f"stale explanation (they agree now): {domain} {field}")
    for line in unexplained:
        print("unexplained:", line)
    sys.exit(1 if unexplained or stale else 0)


if __name__ == "__main__":
    main()
