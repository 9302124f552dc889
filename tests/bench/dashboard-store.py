#!/usr/bin/env python3
"""Writes the report.json files of a dashboard benchmark history: DOMAINS
client domains x SCANS scans each, one report per domain and scan (the way a
consultant scans each client), made from real lab scans of the three
providers (good.test, bad.test, legacy.test) with the domain renamed.

Between scans a few failed findings of each domain pass for a while (so
open findings have different ages), scans are a week apart and end now, and
each domain's first certificate ends on a day within the next 90 days (so
the calendar has work). One call writes one scan's DOMAINS files into
OUT_DIR, for one `mailaudit history import` at a time.

usage: dashboard-store.py BASE_DIR OUT_DIR DOMAINS SCANS SCAN
BASE_DIR holds good.json, bad.json, legacy.json (mailaudit scan --format json).
"""
import datetime
import json
import os
import random
import sys

base_dir, out_dir, domains, scans, scan = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
random.seed(13)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
bases = []
for name in ("good", "bad", "legacy"):
    with open(os.path.join(base_dir, f"{name}.json")) as f:
        report = json.load(f)
    assert len(report["targets"]) == 1, f"{name}.json must hold one domain"
    domain = report["targets"][0]["domain"]
    # The first endpoint with a certificate gets a placeholder end date
    for endpoint in report["targets"][0]["evidence"]["endpoints"]:
        chain = ((endpoint.get("tls") or {}).get("value") or {}).get("chain") or []
        if chain:
            chain[0]["not_after"] = "@NOT_AFTER@"
            break
    findings = [json.dumps(f) for f in report.pop("findings")]
    target = json.dumps(report.pop("targets"))
    failed = [i for i, f in enumerate(findings) if '"status": "fail"' in f]
    bases.append((domain, json.dumps(report), target, findings, failed))

count = 0
os.makedirs(out_dir, exist_ok=True)
for scan in [scan]:
    started = now - datetime.timedelta(days=7 * (scans - 1 - scan), minutes=5)
    for index in range(domains):
        name, head, target, findings, failed = bases[index % 3]
        client = f"c{index:04d}.example"
        rng = random.Random(index * 1000 + scan // 4)
        # a few failures pass for four scans at a time
        passing = set(rng.sample(failed, min(3, len(failed))))
        items = [
            f.replace('"status": "fail"', '"status": "pass"') if i in passing else f
            for i, f in enumerate(findings)
        ]
        not_after = (now + datetime.timedelta(days=(index * 7) % 90 - 5)).isoformat()
        text = (
            head[:-1]
            + ', "targets": ' + target.replace("@NOT_AFTER@", not_after)
            + ', "findings": [' + ", ".join(items) + "]}"
        ).replace(name, client)
        report = json.loads(text)
        report["started_at"] = (started + datetime.timedelta(seconds=index)).isoformat()
        report["finished_at"] = (started + datetime.timedelta(seconds=index + 30)).isoformat()
        with open(os.path.join(out_dir, f"s{scan:02d}-{client}.json"), "w") as f:
            json.dump(report, f)
        count += 1
print(count)
