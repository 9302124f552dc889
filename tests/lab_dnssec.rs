//! DNSSEC and DANE against the lab (tests/lab): a signed root `.` → `test.`
//! → `good.test.` / `dane.test.` chain, unsigned `bad.test.`, and bogus
//! `broken.test.` (DS of no key) and `expired.test.` (signatures expired in
//! 2025), validated from the lab's root anchor. Rules DNS-001 to DNS-004 are
//! asserted per subject, with the evidence behind them, straight at the
//! authoritative server and behind the lab's validating unbound.

mod common;

use common::{expect, repo, scan_lab};
use serde_json::Value;

/// The lab domains of the DNSSEC tests.
const DOMAINS: [&str; 5] = [
    "good.test",
    "bad.test",
    "broken.test",
    "expired.test",
    "dane.test",
];
use std::sync::OnceLock;

/// One scan of the four lab domains with the lab's DNSSEC anchor.
fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        let anchor = repo("tests/lab/run/dns/root.anchor");
        let anchor = anchor.to_str().expect("UTF-8 path");
        let (_, report) = scan_lab(&DOMAINS, &["--dnssec-anchor", anchor]);
        report
    })
}

fn dnssec<'a>(report: &'a Value, domain: &str) -> &'a Value {
    let target = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["domain"] == domain)
        .unwrap_or_else(|| panic!("no target {domain}"));
    &target["evidence"]["dnssec"]
}

fn rrset<'a>(dnssec: &'a Value, name: &str, record_type: &str) -> &'a Value {
    dnssec["rrsets"]
        .as_array()
        .expect("rrsets")
        .iter()
        .find(|r| r["name"] == name && r["record_type"] == record_type)
        .unwrap_or_else(|| panic!("no validated {record_type} {name}: {dnssec}"))
}

fn security<'a>(dnssec: &'a Value, name: &str, record_type: &str) -> &'a Value {
    &rrset(dnssec, name, record_type)["lookup"]["value"]["security"]
}

#[test]
fn validation_runs_from_the_lab_root_anchor() {
    let good = dnssec(report(), "good.test");
    assert_eq!(good["validation"]["status"], "completed", "{good}");
    let anchors = good["validation"]["value"]["trust_anchors"].to_string();
    assert!(anchors.contains(". DNSKEY 257 3 13"), "{anchors}");
}

#[test]
fn a_signed_domain_is_secure_and_passes_dns_001_and_002() {
    let report = report();
    let good = dnssec(report, "good.test");
    assert_eq!(security(good, "good.test", "MX"), "secure");
    assert_eq!(security(good, "mx.good.test", "A"), "secure");
    assert_eq!(security(good, "_25._tcp.mx.good.test", "TLSA"), "secure");
    expect(report, "DNS-001", "dns:good.test", "pass", None);
    expect(report, "DNS-002", "dns:good.test", "pass", None);
}

#[test]
fn an_unsigned_domain_is_insecure_and_fails_dns_001() {
    let report = report();
    let bad = dnssec(report, "bad.test");
    assert_eq!(security(bad, "bad.test", "MX"), "insecure");
    expect(report, "DNS-001", "dns:bad.test", "fail", Some("medium"));
    expect(report, "DNS-002", "dns:bad.test", "pass", None);
    // DANE cannot exist in an unsigned zone: DNS-001 says so, not DNS-003/004.
    expect(report, "DNS-003", "mx.bad.test:25", "not_applicable", None);
    expect(report, "DNS-004", "mx.bad.test:25", "not_applicable", None);
}

#[test]
fn a_broken_chain_is_bogus_and_fails_dns_002() {
    let report = report();
    let broken = dnssec(report, "broken.test");
    assert_eq!(security(broken, "broken.test", "MX"), "bogus");
    expect(report, "DNS-002", "dns:broken.test", "fail", Some("high"));
    expect(report, "DNS-001", "dns:broken.test", "not_applicable", None);
    // Whether a TLSA record exists cannot be known from bogus data.
    expect(report, "DNS-003", "mx.broken.test:25", "inconclusive", None);
    expect(report, "DNS-004", "mx.broken.test:25", "inconclusive", None);
    // Issue 18: the cause, in the evidence and in DNS-002's words.
    let cause = &rrset(broken, "broken.test", "MX")["lookup"]["value"]["bogus_cause"];
    assert_eq!(cause["kind"], "no_matching_ds", "{cause}");
    assert_eq!(cause["zone"], "broken.test", "{cause}");
    let detail = common::finding(report, "DNS-002", "dns:broken.test")["detail"].to_string();
    assert!(detail.contains("no DS record of broken.test"), "{detail}");
    assert!(detail.contains("matches one of its DNSKEYs"), "{detail}");
}

#[test]
fn expired_signatures_are_bogus_and_dns_002_gives_the_date() {
    let report = report();
    let expired = dnssec(report, "expired.test");
    assert_eq!(security(expired, "expired.test", "MX"), "bogus");
    expect(report, "DNS-002", "dns:expired.test", "fail", Some("high"));
    expect(
        report,
        "DNS-001",
        "dns:expired.test",
        "not_applicable",
        None,
    );
    let cause = &rrset(expired, "expired.test", "MX")["lookup"]["value"]["bogus_cause"];
    assert_eq!(cause["kind"], "signature_expired", "{cause}");
    assert_eq!(cause["zone"], "expired.test", "{cause}");
    assert_eq!(cause["date"], "2025-02-01T00:00:00Z", "{cause}");
    let detail = common::finding(report, "DNS-002", "dns:expired.test")["detail"].to_string();
    assert!(detail.contains("expired on 2025-02-01"), "{detail}");
}

#[test]
fn a_matching_tlsa_record_passes_dns_003_and_004() {
    let report = report();
    expect(report, "DNS-003", "mx.good.test:25", "pass", None);
    expect(report, "DNS-004", "mx.good.test:25", "pass", None);
    let dane = &dnssec(report, "good.test")["dane"]["mx.good.test:25"];
    assert_eq!(dane["matching"]["value"]["matched"], true, "{dane}");
    assert_eq!(dane["matching"]["value"]["matched_record"], 0);
    assert_eq!(dane["matching"]["value"]["outcomes"][0]["certificate"], 0);
    assert_eq!(dane["tlsa"]["value"]["records"][0]["usage"], 3);
    // Usual names on port 25 are not MX hosts.
    expect(
        report,
        "DNS-003",
        "smtp.good.test:25",
        "not_applicable",
        None,
    );
}

#[test]
fn a_tlsa_record_that_matches_nothing_fails_dns_004() {
    let report = report();
    expect(report, "DNS-001", "dns:dane.test", "pass", None);
    expect(report, "DNS-003", "mx.dane.test:25", "pass", None);
    expect(
        report,
        "DNS-004",
        "mx.dane.test:25",
        "fail",
        Some("critical"),
    );
    let dane = &dnssec(report, "dane.test")["dane"]["mx.dane.test:25"];
    let outcomes = dane["matching"]["value"]["outcomes"].to_string();
    // The PKIX-EE record hashes the real key but is unusable for SMTP.
    assert!(outcomes.contains("unusable"), "{outcomes}");
    assert!(outcomes.contains("not_matched"), "{outcomes}");
}

#[test]
fn a_secure_zone_without_tlsa_fails_dns_003() {
    let report = report();
    expect(
        report,
        "DNS-003",
        "mx2.dane.test:25",
        "fail",
        Some("medium"),
    );
    expect(
        report,
        "DNS-004",
        "mx2.dane.test:25",
        "not_applicable",
        None,
    );
}

/// Every DNS rule's verdict per subject, sorted: (rule, subject, status, severity).
fn dns_verdicts(report: &Value) -> Vec<(String, String, String, String)> {
    let mut verdicts: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("DNS-")))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    verdicts.sort();
    verdicts
}

/// Issue 18: behind the lab's validating unbound (127.0.10.54), which
/// answers SERVFAIL for broken.test unless a query has CD=1, mailaudit
/// sets CD on its queries, judges the data itself, and reaches the same
/// verdict on every DNS rule and subject as straight at the authoritative
/// server; broken.test's MX is still found and probed.
#[test]
fn every_dns_verdict_is_the_same_behind_a_validating_resolver() {
    let direct = report();
    let (_, behind) = common::scan_lab_with(
        common::LAB_VALIDATING_RESOLVER,
        &DOMAINS,
        &["--no-tls-scan"],
    );
    let (direct_verdicts, behind_verdicts) = (dns_verdicts(direct), dns_verdicts(&behind));
    assert!(direct_verdicts.len() > 40, "{direct_verdicts:?}");
    assert_eq!(direct_verdicts, behind_verdicts);
    // broken.test is bogus both ways (not "inconclusive" from a SERVFAIL),
    expect(&behind, "DNS-002", "dns:broken.test", "fail", Some("high"));
    expect(&behind, "DNS-002", "dns:expired.test", "fail", Some("high"));
    // and their MX were found through the resolver and probed,
    for subject in ["mx.broken.test:25", "mx.expired.test:25"] {
        let probed = common::endpoint(&behind, subject);
        assert!(probed["tcp"]["status"].is_string(), "{probed}");
    }
    // with the same cause in DNS-002's words both ways.
    for subject in ["dns:broken.test", "dns:expired.test"] {
        assert_eq!(
            common::finding(direct, "DNS-002", subject)["detail"],
            common::finding(&behind, "DNS-002", subject)["detail"],
        );
    }
}

/// Issue 18, scope 3: no finding on the lab speaks CEL or engine internals;
/// an inconclusive one names the evidence and quotes the probe's reason.
#[test]
fn no_finding_detail_carries_an_internal_message() {
    let report = report();
    for finding in report["findings"].as_array().expect("findings") {
        let detail = finding["detail"].as_str().unwrap_or_default();
        for internal in [
            "No such key",
            "is absent",
            "could not be evaluated",
            "‹unavailable›",
        ] {
            assert!(
                !detail.contains(internal),
                "{} on {}: {detail}",
                finding["rule"],
                finding["subject"]
            );
        }
    }
    let dane = common::finding(report, "DNS-003", "mx.broken.test:25")["detail"].to_string();
    assert!(dane.contains("tlsa failed"), "{dane}");
    assert!(dane.contains("no DS record of broken.test"), "{dane}");
}

/// Removes what differs between two runs by nature: times and durations,
/// including the clock rustls quotes in an expired certificate's error
/// ("verification time 1796572072 (UNIX) … (187112872 seconds ago)").
fn without_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !(key.ends_with("_ms") || key.ends_with("_at")));
            map.values_mut().for_each(without_times);
        }
        Value::Array(items) => items.iter_mut().for_each(without_times),
        Value::String(text) if text.contains("verification time") => {
            *text = text
                .split(|c: char| c.is_ascii_digit())
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("#");
        }
        _ => {}
    }
}

/// The first place two JSON values differ, as a path.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys()
                .chain(y.keys())
                .find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, format!("{at}.{k}")),
                    _ => Some(format!("{at}.{k} (only in one)")),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

/// Issue 18, scope 4: behind a resolver that rotates record sets
/// (unbound's round-robin), two scans of the same lab give the same
/// report, times and durations aside: record sets are kept in canonical
/// order (RFC 2181 §5.1, RFC 4034 §6.3).
#[test]
fn two_scans_behind_the_resolver_give_the_same_report() {
    let scan = || {
        let (_, mut report) = common::scan_lab_with(
            common::LAB_VALIDATING_RESOLVER,
            &DOMAINS,
            &["--no-tls-scan"],
        );
        without_times(&mut report);
        report
    };
    let (first, second) = (scan(), scan());
    assert!(
        first["findings"].as_array().is_some_and(|f| f.len() > 100),
        "{first}"
    );
    assert_eq!(
        first_difference(&first, &second, String::new()),
        None,
        "two scans of the same lab differ"
    );
}
