#!/usr/bin/env python3
"""Compare the TLS facts of mailaudit, testssl.sh and sslyze per lab endpoint.

Called by tests/peers/compare.sh, which runs the three tools and passes the
file locations. For every endpoint it compares the accepted protocol
versions and, per version both sides accept, the accepted cipher suites,
normalised to IANA code points:

- mailaudit: `tls_scan` evidence of report.json (suite ids "0x009c");
- testssl.sh: `protocols` (offered / not offered) and `-E` results, whose
  ids carry the code point ("cipher-tls1_2_x9c");
- sslyze: `*_cipher_suites` results, IANA names mapped to code points with
  testssl.sh's cipher-mapping.txt (an independent table).

A difference is "explained" when a line of explained.tsv matches it
(endpoint, tool, version, kind, suite; `*` and shell globs allowed). Prints a
table per endpoint and every difference; exits 1 if one is unexplained.
"""

import argparse
import fnmatch
import json
import sys
from pathlib import Path

VERSIONS = ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
TESTSSL_VERSION = {
    "SSLv2": "SSLv2",
    "SSLv3": "SSLv3",
    "TLS1": "TLSv1.0",
    "TLS1_1": "TLSv1.1",
    "TLS1_2": "TLSv1.2",
    "TLS1_3": "TLSv1.3",
}
TESTSSL_CIPHER_PREFIX = {
    "cipher-ssl2": "SSLv2",
    "cipher-ssl3": "SSLv3",
    "cipher-tls1": "TLSv1.0",
    "cipher-tls1_1": "TLSv1.1",
    "cipher-tls1_2": "TLSv1.2",
    "cipher-tls1_3": "TLSv1.3",
}
SSLYZE_KEY = {
    "SSLv2": "ssl_2_0_cipher_suites",
    "SSLv3": "ssl_3_0_cipher_suites",
    "TLSv1.0": "tls_1_0_cipher_suites",
    "TLSv1.1": "tls_1_1_cipher_suites",
    "TLSv1.2": "tls_1_2_cipher_suites",
    "TLSv1.3": "tls_1_3_cipher_suites",
}


class Facts:
    """What one tool found on one endpoint: accepted versions and suites."""

    def __init__(self, probed, accepted, suites, error=None):
        self.probed = probed  # versions the tool tests at all
        self.accepted = accepted  # set of version names
        self.suites = suites  # version -> set of code points
        self.error = error


def load_mapping(path):
    """IANA name -> code point, from testssl.sh's cipher-mapping.txt."""
    names = {}
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].startswith("0x"):
            continue
        octets = [int(o, 16) for o in fields[0].split(",")]
        if len(octets) != 2:
            continue  # SSLv2 three-byte codes
        names.setdefault(fields[3], octets[0] << 8 | octets[1])
        names.setdefault(fields[2], octets[0] << 8 | octets[1])
    return names


def mailaudit_facts(report, subject):
    for target in report["targets"]:
        for endpoint in target["evidence"]["endpoints"]:
            if endpoint["subject"] != subject:
                continue
            scan = endpoint.get("tls_scan") or {}
            if scan.get("status") != "completed":
                return Facts(set(), set(), {}, f"tls_scan {scan.get('status')}: {scan.get('reason')}")
            value = scan["value"]
            accepted, suites, probed = set(), {}, set()
            for version in value["versions"]:
                probed.add(version["version"])
                if version["accepted"]:
                    accepted.add(version["version"])
                    suites[version["version"]] = {int(s["id"], 16) for s in version.get("suites", [])}
            return Facts(probed, accepted, suites)
    return Facts(set(), set(), {}, f"no endpoint {subject} in report.json")


def testssl_facts(path):
    if not path.exists():
        return Facts(set(), set(), {}, "no output")
    try:
        data = json.loads(path.read_text())
        results = data["scanResult"][0]
    except (ValueError, KeyError, IndexError) as error:
        return Facts(set(), set(), {}, f"unreadable output: {error}")
    accepted, probed = set(), set()
    for item in results.get("protocols", []):
        version = TESTSSL_VERSION.get(item["id"])
        if version is None:
            continue
        finding = item["finding"].lower()
        if finding.startswith("offered"):
            accepted.add(version)
            probed.add(version)
        elif finding.startswith("not offered"):
            probed.add(version)
    if not probed:
        return Facts(set(), set(), {}, "no protocol results")
    suites = {v: set() for v in accepted}
    for item in results.get("cipherTests", []):
        prefix, _, code = item["id"].rpartition("_x")
        version = TESTSSL_CIPHER_PREFIX.get(prefix)
        if version:
            suites.setdefault(version, set()).add(int(code, 16))
    return Facts(probed, accepted, suites)


def sslyze_facts(path, mapping):
    if not path.exists():
        return Facts(set(), set(), {}, "no output")
    try:
        result = json.loads(path.read_text())["server_scan_results"][0]
    except (ValueError, KeyError, IndexError) as error:
        return Facts(set(), set(), {}, f"unreadable output: {error}")
    if result.get("connectivity_status") != "COMPLETED":
        return Facts(set(), set(), {}, f"connectivity {result.get('connectivity_error_trace')}")
    accepted, suites, probed = set(), {}, set()
    for version, key in SSLYZE_KEY.items():
        attempt = result["scan_result"].get(key) or {}
        if attempt.get("status") != "COMPLETED":
            continue
        probed.add(version)
        found = attempt["result"]["accepted_cipher_suites"]
        if found:
            accepted.add(version)
            codes = set()
            for suite in found:
                name = suite["cipher_suite"]["name"]
                codes.add(mapping.get(name, name))
            suites[version] = codes
    return Facts(probed, accepted, suites)


def load_explained(path):
    rules = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 6 or not fields[5].strip():
            sys.exit(f"{path}:{number}: want 6 tab-separated fields with a reason: {line!r}")
        rules.append(fields)
    return rules


def explanation(rules, difference, used):
    for number, rule in enumerate(rules):
        if all(fnmatch.fnmatchcase(value, pattern) for value, pattern in zip(difference, rule[:5])):
            used.add(number)
            return rule[5]
    return None


def suite_label(code, names):
    if isinstance(code, str):
        return code
    return f"0x{code:04x} {names.get(code, '?')}"


def compare(endpoint, ours, peer, tool, names):
    """Differences as (endpoint, tool, version, kind, suite, detail)."""
    if peer.error:
        return [(endpoint, tool, "*", "error", "*", peer.error)]
    if ours.error:
        return [(endpoint, tool, "*", "mailaudit-error", "*", ours.error)]
    out = []
    for version in VERSIONS:
        if version not in ours.probed or version not in peer.probed:
            continue
        a, b = version in ours.accepted, version in peer.accepted
        if a != b:
            detail = f"mailaudit {'accepts' if a else 'refuses'}, {tool} {'accepts' if b else 'refuses'}"
            out.append((endpoint, tool, version, "version", "*", detail))
            continue
        if not a:
            continue
        mine, theirs = ours.suites.get(version, set()), peer.suites.get(version, set())
        for code in sorted(theirs - mine, key=str):
            out.append((endpoint, tool, version, "missing", hex4(code), suite_label(code, names)))
        for code in sorted(mine - theirs, key=str):
            out.append((endpoint, tool, version, "extra", hex4(code), suite_label(code, names)))
    return out


def hex4(code):
    return code if isinstance(code, str) else f"0x{code:04x}"


def versions_text(facts):
    if facts is None:
        return "-"
    if facts.error:
        return "error"
    short = {"SSLv2": "S2", "SSLv3": "S3", "TLSv1.0": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}
    return " ".join(short[v] for v in VERSIONS if v in facts.accepted) or "none"


def suite_count(facts):
    if facts is None:
        return "-"
    if facts.error:
        return "error"
    return str(sum(len(s) for s in facts.suites.values()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", required=True, help="TSV: subject address port starttls")
    parser.add_argument("--mailaudit", required=True, help="report.json")
    parser.add_argument("--testssl-dir", required=True)
    parser.add_argument("--sslyze-dir", required=True)
    parser.add_argument("--mapping", required=True, help="testssl.sh cipher-mapping.txt")
    parser.add_argument("--explained", required=True)
    parser.add_argument("--summary", required=True, help="write the comparison as JSON here")
    args = parser.parse_args()

    mapping = load_mapping(args.mapping)
    names = {code: name for name, code in mapping.items() if name.startswith("TLS_")}
    report = json.loads(Path(args.mailaudit).read_text())
    rules = load_explained(args.explained)

    rows, differences, used = [], [], set()
    for line in Path(args.endpoints).read_text().splitlines():
        subject, address, port, starttls = line.split("\t")
        stem = f"{address}_{port}"
        ours = mailaudit_facts(report, subject)
        # A tool that cannot speak this STARTTLS left a .unsupported marker.
        testssl = sslyze = None
        if not (Path(args.testssl_dir) / f"{stem}.unsupported").exists():
            testssl = testssl_facts(Path(args.testssl_dir) / f"{stem}.json")
        if not (Path(args.sslyze_dir) / f"{stem}.unsupported").exists():
            sslyze = sslyze_facts(Path(args.sslyze_dir) / f"{stem}.json", mapping)
        found = []
        for facts, tool in ((testssl, "testssl"), (sslyze, "sslyze")):
            if facts is not None:
                found += compare(subject, ours, facts, tool, names)
        explained = [(d, explanation(rules, d[:5], used)) for d in found]
        differences += explained
        rows.append(
            {
                "endpoint": subject,
                "starttls": starttls,
                "versions": [versions_text(f) for f in (ours, testssl, sslyze)],
                "suites": [suite_count(f) for f in (ours, testssl, sslyze)],
                "explained": sum(1 for _, why in explained if why),
                "unexplained": sum(1 for _, why in explained if not why),
            }
        )

    header = f"{'endpoint':<24} {'tls':<8} {'versions mailaudit / testssl.sh / sslyze':<52} {'suites m/t/s':<14} result"
    print(header)
    print("-" * len(header))
    for row in rows:
        versions = " / ".join(row["versions"])
        suites = "/".join(row["suites"])
        if row["versions"][1:] == ["-", "-"]:
            result = "no peer speaks this STARTTLS"
        elif row["unexplained"]:
            result = f"DIFFER ({row['unexplained']} unexplained, {row['explained']} explained)"
        elif row["explained"]:
            result = f"differ, all {row['explained']} explained"
        else:
            result = "agree"
        print(f"{row['endpoint']:<24} {row['starttls']:<8} {versions:<52} {suites:<14} {result}")

    if differences:
        print("\ndifferences (endpoint, tool, version, kind, suite: detail -> reason):")
    for (endpoint, tool, version, kind, suite, detail), why in differences:
        mark = "  explained  " if why else "  UNEXPLAINED"
        print(f"{mark} {endpoint} {tool} {version} {kind} {suite}: {detail}" + (f" -> {why}" if why else ""))

    Path(args.summary).write_text(
        json.dumps(
            {
                "rows": rows,
                "differences": [
                    dict(zip(["endpoint", "tool", "version", "kind", "suite", "detail"], d), reason=why)
                    for d, why in differences
                ],
            },
            indent=2,
        )
    )
    unexplained = sum(row["unexplained"] for row in rows)
    stale = [rule for number, rule in enumerate(rules) if number not in used]
    if stale and len(rows) > 1:
        print("\nexplained.tsv lines that matched nothing (fixed? then delete them):")
        for rule in stale:
            print("  " + " ".join(rule[:5]))
    print(f"\n{len(rows)} endpoints, {len(differences)} differences, {unexplained} unexplained")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
