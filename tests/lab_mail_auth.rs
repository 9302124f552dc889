//! Mail-authentication and policy records against the lab (DNS-005..009):
//! good.test passes all five; sub-domains of bad.test each break one thing
//! (tests/lab/conf/dns/bad.test.zone.in) and must fail for that reason.

mod common;

use common::{expect, finding, scan_lab};
use serde_json::Value;
use std::sync::OnceLock;

const TARGETS: [&str; 12] = [
    "good.test",
    "bad.test",
    "spf-chain.bad.test",
    "spf-void.bad.test",
    "spf-syntax.bad.test",
    "spf-multi.bad.test",
    "dmarc-none.bad.test",
    "dmarc-pct.bad.test",
    "dkim-1024.bad.test",
    "dkim-512.bad.test",
    "sts.bad.test",
    "sts-cert.bad.test",
];

/// One scan of every target, with the Ed25519 selector good.test publishes
/// outside the built-in list.
fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| scan_lab(&TARGETS, &["--dkim-selector", "lab-ed25519"]).1)
}

fn mail_auth<'a>(report: &'a Value, domain: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["domain"] == domain)
        .map(|t| &t["evidence"]["mail_auth"])
        .unwrap_or_else(|| panic!("no target {domain}"))
}

/// Asserts a failed finding whose detail contains `needle`.
fn fails_with(report: &Value, rule: &str, domain: &str, severity: &str, needle: &str) {
    let subject = format!("dns:{domain}");
    expect(report, rule, &subject, "fail", Some(severity));
    let detail = finding(report, rule, &subject)["detail"]
        .as_str()
        .unwrap_or("");
    assert!(detail.contains(needle), "{rule} on {domain}: {detail}");
}

#[test]
fn the_good_provider_passes_every_mail_authentication_rule() {
    let report = report();
    for rule in ["DNS-005", "DNS-006", "DNS-007", "DNS-008", "DNS-009"] {
        expect(report, rule, "dns:good.test", "pass", None);
    }
    let good = mail_auth(report, "good.test");
    let policy = &good["mta_sts"]["value"]["policy"]["value"];
    assert_eq!(policy["mode"], "enforce");
    assert_eq!(policy["addresses"][0], "127.0.11.80");
    assert_eq!(
        good["mta_sts"]["value"]["mx_coverage"]["value"][0]["pattern"],
        "mx.good.test"
    );
    assert_eq!(good["spf"]["value"]["all"], "-all");
    assert_eq!(good["dmarc"]["value"]["p"], "reject");
    assert_eq!(
        good["tls_rpt"]["value"]["rua"][0],
        "mailto:tlsrpt@good.test"
    );
}

#[test]
fn dkim_keys_are_sized_and_the_flag_selector_is_tried_first() {
    let report = report();
    let dkim = &mail_auth(report, "good.test")["dkim"]["value"];
    assert_eq!(dkim["selectors_tried"][0], "lab-ed25519");
    let keys = dkim["keys"].as_array().expect("keys");
    let key = |selector: &str| {
        keys.iter()
            .find(|k| k["selector"] == selector)
            .unwrap_or_else(|| panic!("no key at {selector}: {keys:?}"))
    };
    assert_eq!(key("mail")["bits"], 2048);
    assert_eq!(key("lab-ed25519")["key_type"], "ed25519");
    assert_eq!(key("lab-ed25519")["from_flag"], true);
    assert_eq!(key("s1")["revoked"], true);
    fails_with(
        report,
        "DNS-008",
        "dkim-1024.bad.test",
        "low",
        "default (1024 bit)",
    );
    fails_with(
        report,
        "DNS-008",
        "dkim-512.bad.test",
        "high",
        "default (512 bit)",
    );
    fails_with(
        report,
        "DNS-008",
        "bad.test",
        "medium",
        "lab-ed25519, default",
    );
}

#[test]
fn spf_failures_name_the_record_and_term() {
    let report = report();
    fails_with(report, "DNS-007", "bad.test", "medium", "\"+all\"");
    fails_with(
        report,
        "DNS-007",
        "spf-chain.bad.test",
        "medium",
        "the eleventh is mx:bad.test (in i3.spf-chain.bad.test)",
    );
    let chain = &mail_auth(report, "spf-chain.bad.test")["spf"]["value"];
    assert_eq!(chain["dns_lookups"], 11);
    assert_eq!(chain["walk"].as_array().map(Vec::len), Some(4));
    fails_with(
        report,
        "DNS-007",
        "spf-void.bad.test",
        "medium",
        "mx:nx3.spf-void.bad.test (in spf-void.bad.test)",
    );
    fails_with(
        report,
        "DNS-007",
        "spf-syntax.bad.test",
        "medium",
        "'ipv4:127.0.12.25': unknown mechanism 'ipv4'",
    );
    fails_with(
        report,
        "DNS-007",
        "spf-multi.bad.test",
        "medium",
        "several SPF records",
    );
    fails_with(
        report,
        "DNS-007",
        "dmarc-pct.bad.test",
        "medium",
        "no SPF record",
    );
    expect(report, "DNS-007", "dns:dmarc-none.bad.test", "pass", None);
}

#[test]
fn dmarc_failures_and_report_authorization() {
    let report = report();
    fails_with(report, "DNS-009", "bad.test", "medium", "_dmarc.bad.test");
    // No record of its own, none at the organisational domain either.
    fails_with(
        report,
        "DNS-009",
        "spf-chain.bad.test",
        "medium",
        "_dmarc.spf-chain.bad.test, _dmarc.bad.test",
    );
    fails_with(
        report,
        "DNS-009",
        "dmarc-none.bad.test",
        "medium",
        "\"none\"",
    );
    fails_with(report, "DNS-009", "dmarc-pct.bad.test", "medium", "50 %");
    let dmarc = &mail_auth(report, "dmarc-none.bad.test")["dmarc"]["value"];
    assert_eq!(dmarc["rua"][0]["external"], false);
    assert_eq!(dmarc["rua"][1]["authorized"], true);
    assert_eq!(
        dmarc["rua"][1]["authorization_name"],
        "dmarc-none.bad.test._report._dmarc.good.test"
    );
    assert_eq!(dmarc["ruf"][0]["authorized"], false);
}

#[test]
fn mta_sts_and_tls_rpt_failures() {
    let report = report();
    fails_with(report, "DNS-005", "bad.test", "medium", "_mta-sts.bad.test");
    fails_with(report, "DNS-005", "sts.bad.test", "medium", "mode: testing");
    let sts = &mail_auth(report, "sts.bad.test")["mta_sts"]["value"];
    assert_eq!(sts["uncovered_mx"][0], "mx.bad.test");
    assert_eq!(sts["policy"]["value"]["mx"][0], "mail.bad.test");
    fails_with(
        report,
        "DNS-005",
        "sts-cert.bad.test",
        "medium",
        "certificate not valid for name \"mta-sts.sts-cert.bad.test\"",
    );
    fails_with(report, "DNS-006", "bad.test", "low", "_smtp._tls.bad.test");
    fails_with(
        report,
        "DNS-006",
        "sts.bad.test",
        "low",
        "'ftp://reports.bad.test'",
    );
}
