//! mailaudit's SPF judgement against the RFC 7208 test suite (issue 16).
//!
//! `tests/conformance/spf_suite.py` serves each scenario's zone data from
//! its own DNS server and scans the domain each test starts from; it runs in
//! a network namespace this test creates (`unshare --net`, only `lo` up), so
//! no query or connection can leave the machine, or even reach the lab. The
//! suite itself comes from Debian's python3-spf, unpacked by
//! `tests/lab/lab.sh install` into `tests/lab/run/opt/spf-suite/`.
//!
//! What is compared (see the script and README.md, "Conformance: the RFC
//! 7208 test suite"): the suite's expected check_host() result, reduced to
//! its class (the record was evaluated, none, permerror, temperror), with
//! the class mailaudit's SPF evidence gives the domain. Every test must
//! agree, except the differences listed in `EXPLAINED` with their RFC
//! section; an unexplained difference, or an explained one that went away,
//! fails this test.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

/// Tests of the suite where mailaudit's class differs, and why.
const EXPLAINED: &[(&str, &str)] = &[
    // §4.3: check_host() returns "none" for a malformed or non-FQDN domain;
    // mailaudit refuses such a name as its input (exit 2) or finds nothing
    // to scan at a single-label name (exit 3): no SPF verdict either way.
    (
        "toolonglabel",
        "§4.3: a label over 63 octets is refused as input",
    ),
    ("emptylabel", "§4.3: an empty label is refused as input"),
    (
        "helo-not-fqdn",
        "§4.3: a single-label name has nothing to scan",
    ),
    (
        "helo-domain-literal",
        "§4.3: an address literal is not a domain",
    ),
    ("domain-literal", "§4.3: an address literal is not a domain"),
    // §4.4: only the TXT query is answered; MX and A time out, so the
    // domain has no mail entry mailaudit can reach and the scan stops
    // before judging SPF (exit 3), where a receiver needs only the TXT.
    ("spftimeout", "§4.4: every query but TXT times out"),
    // §4.6.4: the suite's client matches ip4:1.2.3.4 before the 11th
    // DNS-querying term is reached; mailaudit counts the whole record
    // (every sender that does not match early hits the limit).
    (
        "include-at-limit",
        "§4.6.4: worst case over the whole record",
    ),
];

#[test]
fn the_rfc_7208_test_suite_agrees_except_where_explained() {
    let suite =
        common::repo("tests/lab/run/opt/spf-suite/usr/share/doc/python3-spf/rfc7208-tests.yml.gz");
    assert!(
        suite.exists(),
        "{} is missing: run `tests/lab/lab.sh install` (it unpacks Debian's python3-spf)",
        suite.display()
    );
    let binary = assert_cmd::cargo::cargo_bin("mailaudit");
    let script = common::repo("tests/conformance/spf_suite.py");
    // A namespace with nothing but a loopback interface.
    let output = Command::new("unshare")
        .args(["--net", "--", "sh", "-c"])
        .arg(r#"ip link set lo up && exec /usr/bin/python3 "$0" --mailaudit "$1" --suite "$2""#)
        .arg(&script)
        .arg(&binary)
        .arg(&suite)
        .output()
        .expect("unshare runs");
    assert!(
        output.status.success(),
        "the suite driver failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(result["tests"], 203, "the 2014.04 suite has 203 tests");

    let explained: BTreeMap<&str, &str> = EXPLAINED.iter().copied().collect();
    let differences = result["differences"].as_array().unwrap();
    let mut unexplained = Vec::new();
    let mut found = Vec::new();
    for difference in differences {
        let test = difference["test"].as_str().unwrap();
        found.push(test.to_string());
        if !explained.contains_key(test) {
            unexplained.push(difference.to_string());
        }
    }
    assert!(
        unexplained.is_empty(),
        "differences without an explanation:\n{}",
        unexplained.join("\n")
    );
    for test in explained.keys() {
        assert!(
            found.iter().any(|f| f == test),
            "{test} agrees now: drop it from EXPLAINED and README.md"
        );
    }
    // The numbers README.md reports per bucket.
    let buckets = &result["buckets"];
    eprintln!("{buckets}");
    for (bucket, tests, agree) in [
        ("valid", 112, 110),
        ("permerror", 74, 74),
        ("permerror/valid", 4, 4),
        ("none", 8, 3),
        ("temperror", 5, 5),
    ] {
        assert_eq!(buckets[bucket]["tests"], tests, "{bucket}: {buckets}");
        assert_eq!(buckets[bucket]["agree"], agree, "{bucket}: {buckets}");
    }
}
