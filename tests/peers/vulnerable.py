#!/usr/bin/env python3
"""Compare mailaudit's named vulnerability verdicts with testssl.sh's
(`-U`, --vulnerable) and sslyze's (where it has the check) on every lab
endpoint.

Each tool's answer per endpoint and vulnerability is reduced to one of
`affected`, `not affected` or `unknown`:

- mailaudit: the rule's finding on the endpoint: fail = affected, pass and
  not applicable = not affected, inconclusive = unknown; no finding =
  unknown (the rule is not in this rule set);
- testssl.sh: severity OK = not affected; LOW, MEDIUM, HIGH, CRITICAL =
  affected; INFO counts as not affected when its text says "not
  vulnerable", else unknown; WARN = unknown;
- sslyze: its boolean or ROBOT enum.

A difference between two known answers is an error unless
tests/peers/vulnerable-explained.tsv lists it (tool, vulnerability, endpoint
glob, reason). Prints a table per endpoint and exits 1 on an unexplained
difference.
"""

import argparse
import fnmatch
import json
import pathlib
import sys

# vulnerability: (mailaudit rule, testssl.sh ids, sslyze reader)
CHECKS = {
    "Heartbleed": ("TLS-110", ["heartbleed"], "heartbleed"),
    "CCS injection": ("TLS-111", ["CCS"], "ccs"),
    "client renegotiation": ("TLS-114", ["secure_client_renego"], "reneg"),
    "ROBOT": ("TLS-115", ["ROBOT"], "robot"),
    "CRIME": ("TLS-108", ["CRIME_TLS"], "compression"),
    "POODLE": ("TLS-101", ["POODLE_SSL"], None),
    "SWEET32": ("TLS-102", ["SWEET32"], None),
    "FREAK": ("TLS-103", ["FREAK"], None),
    "LOGJAM": ("TLS-104", ["LOGJAM"], None),
    "DROWN": ("TLS-105", ["DROWN"], None),
    "BEAST": ("TLS-106", ["BEAST"], None),
    "RC4": ("TLS-107", ["RC4"], None),
    "Lucky13": ("TLS-109", ["LUCKY13"], None),
}

AFFECTED, NOT_AFFECTED, UNKNOWN = "affected", "not affected", "unknown"


def mailaudit_verdicts(report_path):
    report = json.loads(pathlib.Path(report_path).read_text())
    verdicts = {}
    for finding in report.get("findings", []):
        status = finding.get("status")
        verdict = {
            "fail": AFFECTED,
            "pass": NOT_AFFECTED,
            "not_applicable": NOT_AFFECTED,
        }.get(status, UNKNOWN)
        verdicts[(finding["rule"], finding["subject"])] = verdict
    return verdicts


def testssl_verdict(entries, ids):
    found = [e for e in entries if e.get("id") in ids]
    if not found:
        return UNKNOWN, "no answer"
    verdicts = []
    for entry in found:
        severity = entry.get("severity", "")
        text = entry.get("finding", "")
        if severity == "OK":
            verdicts.append(NOT_AFFECTED)
        elif severity in ("LOW", "MEDIUM", "HIGH", "CRITICAL"):
            verdicts.append(AFFECTED)
        elif severity == "INFO" and "not vulnerable" in text.lower():
            verdicts.append(NOT_AFFECTED)
        else:
            verdicts.append(UNKNOWN)
    text = "; ".join(f"{e.get('severity')}: {e.get('finding', '')}" for e in found)
    if AFFECTED in verdicts:
        return AFFECTED, text
    if UNKNOWN in verdicts:
        return UNKNOWN, text
    return NOT_AFFECTED, text


def testssl_entries(path):
    data = json.loads(path.read_text())
    # --jsonfile-pretty: {"scanResult": [{"vulnerabilities": [...]}]}
    entries = []
    for result in data.get("scanResult", []):
        entries.extend(result.get("vulnerabilities", []))
    return entries


def sslyze_verdict(data, reader):
    try:
        results = data["server_scan_results"][0]["scan_result"]
    except (KeyError, IndexError, TypeError):
        results = None
    if not results:
        return UNKNOWN, "no scan result (sslyze could not connect)"

    def result(name):
        attempt = results.get(name) or {}
        if attempt.get("status") != "COMPLETED":
            return None
        return attempt.get("result")

    if reader == "heartbleed":
        r = result("heartbleed")
        if r is None:
            return UNKNOWN, "not completed"
        return (AFFECTED if r["is_vulnerable_to_heartbleed"] else NOT_AFFECTED), str(r)
    if reader == "ccs":
        r = result("openssl_ccs_injection")
        if r is None:
            return UNKNOWN, "not completed"
        return (AFFECTED if r["is_vulnerable_to_ccs_injection"] else NOT_AFFECTED), str(r)
    if reader == "reneg":
        r = result("session_renegotiation")
        if r is None:
            return UNKNOWN, "not completed"
        return (
            AFFECTED if r["is_vulnerable_to_client_renegotiation_dos"] else NOT_AFFECTED
        ), str(r)
    if reader == "robot":
        r = result("robot")
        if r is None:
            return UNKNOWN, "not completed"
        answer = r["robot_result"]
        if answer.startswith("VULNERABLE"):
            return AFFECTED, answer
        if answer.startswith("NOT_VULNERABLE"):
            return NOT_AFFECTED, answer
        return UNKNOWN, answer
    if reader == "compression":
        r = result("tls_compression")
        if r is None:
            return UNKNOWN, "not completed"
        return (AFFECTED if r["supports_compression"] else NOT_AFFECTED), str(r)
    return UNKNOWN, "no such check"


def load_explained(path):
    explained = []
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        tool, check, glob, reason = line.split("\t", 3)
        explained.append((tool, check, glob, reason))
    return explained


def explanation(explained, tool, check, subject):
    for e_tool, e_check, glob, reason in explained:
        if e_tool == tool and e_check == check and fnmatch.fnmatch(subject, glob):
            return reason
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", required=True)
    parser.add_argument("--mailaudit", required=True)
    parser.add_argument("--testssl-dir", required=True)
    parser.add_argument("--sslyze-dir", required=True)
    parser.add_argument("--explained", required=True)
    parser.add_argument("--summary", required=True)
    args = parser.parse_args()

    ours = mailaudit_verdicts(args.mailaudit)
    explained = load_explained(args.explained)
    rows, unexplained, explained_count, agreed = [], [], 0, 0
    for line in pathlib.Path(args.endpoints).read_text().splitlines():
        subject, address, port, _starttls = line.split("\t")
        base = f"{address}_{port}"
        testssl_path = pathlib.Path(args.testssl_dir) / f"{base}.json"
        sslyze_path = pathlib.Path(args.sslyze_dir) / f"{base}.json"
        testssl = testssl_entries(testssl_path) if testssl_path.exists() else None
        sslyze = json.loads(sslyze_path.read_text()) if sslyze_path.exists() else None
        for check, (rule, testssl_ids, sslyze_reader) in CHECKS.items():
            mine = ours.get((rule, subject), UNKNOWN)
            peers = {}
            if testssl is not None:
                peers["testssl.sh"] = testssl_verdict(testssl, testssl_ids)
            if sslyze is not None and sslyze_reader:
                peers["sslyze"] = sslyze_verdict(sslyze, sslyze_reader)
            for tool, (theirs, text) in peers.items():
                row = {
                    "endpoint": subject,
                    "check": check,
                    "rule": rule,
                    "tool": tool,
                    "mailaudit": mine,
                    "peer": theirs,
                    "peer_text": text,
                }
                if UNKNOWN in (mine, theirs) or mine == theirs:
                    row["result"] = "agree" if mine == theirs else "one side unknown"
                    agreed += mine == theirs
                else:
                    reason = explanation(explained, tool, check, subject)
                    if reason:
                        row["result"] = "explained: " + reason
                        explained_count += 1
                    else:
                        row["result"] = "DIFFERENT"
                        unexplained.append(row)
                rows.append(row)
                print(
                    f"{subject:26} {check:21} {tool:10} mailaudit={mine:13} "
                    f"{tool}={theirs:13} {row['result'][:60]}"
                )
    summary = {
        "rows": rows,
        "agreed": agreed,
        "explained": explained_count,
        "unexplained": len(unexplained),
    }
    pathlib.Path(args.summary).write_text(json.dumps(summary, indent=2))
    print(
        f"\n{agreed} agree, {explained_count} explained differences, "
        f"{len(unexplained)} unexplained, "
        f"{sum(r['result'] == 'one side unknown' for r in rows)} with one side unknown"
    )
    for row in unexplained:
        print(
            f"UNEXPLAINED: {row['endpoint']} {row['check']}: mailaudit says {row['mailaudit']}, "
            f"{row['tool']} says {row['peer']} ({row['peer_text'][:200]})",
            file=sys.stderr,
        )
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
