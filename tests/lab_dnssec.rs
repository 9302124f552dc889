//! DNSSEC and DANE against the lab (tests/lab): a signed root `.` → `test.`
//! → `good.test.` / `dane.test.` chain, unsigned `bad.test.` and bogus
//! `broken.test.`, validated from the lab's root anchor. Rules DNS-001 to
//! DNS-004 are asserted per subject, with the evidence behind them.

mod common;

use common::{expect, repo, scan_lab};
use serde_json::Value;
use std::sync::OnceLock;

/// One scan of the four lab domains with the lab's DNSSEC anchor.
fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        let anchor = repo("tests/lab/run/dns/root.anchor");
        let anchor = anchor.to_str().expect("UTF-8 path");
        let (_, report) = scan_lab(
            &["good.test", "bad.test", "broken.test", "dane.test"],
            &["--dnssec-anchor", anchor],
        );
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

fn security<'a>(dnssec: &'a Value, name: &str, record_type: &str) -> &'a Value {
    let rrset = dnssec["rrsets"]
        .as_array()
        .expect("rrsets")
        .iter()
        .find(|r| r["name"] == name && r["record_type"] == record_type)
        .unwrap_or_else(|| panic!("no validated {record_type} {name}: {dnssec}"));
    &rrset["lookup"]["value"]["security"]
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
    let domains = ["good.test", "bad.test", "broken.test", "dane.test"];
    let direct = report();
    let (_, behind) = common::scan_lab_with(
        common::LAB_VALIDATING_RESOLVER,
        &domains,
        &["--no-tls-scan"],
    );
    let (direct_verdicts, behind_verdicts) = (dns_verdicts(direct), dns_verdicts(&behind));
    assert!(direct_verdicts.len() > 40, "{direct_verdicts:?}");
    assert_eq!(direct_verdicts, behind_verdicts);
    // broken.test is bogus both ways (not "inconclusive" from a SERVFAIL),
    expect(&behind, "DNS-002", "dns:broken.test", "fail", Some("high"));
    // and its MX was found through the resolver and probed.
    let probed = common::endpoint(&behind, "mx.broken.test:25");
    assert!(probed["tcp"]["status"].is_string(), "{probed}");
}
