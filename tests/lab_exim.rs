//! The SMTP probes against Exim 4.96, the lab's second SMTP implementation
//! beside Postfix (issue 16; tests/lab: `exim`, 127.0.30.25, domain
//! exim.test). Exim offers STARTTLS on 25 and 587 and announces AUTH PLAIN
//! and LOGIN only after TLS, on both ports.

mod common;

use common::{endpoint, expect, scan_lab};
use std::process::Command;
use std::sync::OnceLock;

fn report() -> &'static serde_json::Value {
    static REPORT: OnceLock<serde_json::Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        assert_zone_served("exim.test");
        scan_lab(&["exim.test"], &["--no-tls-scan"]).1
    })
}

/// The lab's Knot must serve `zone`: it is added by tests/lab/lib/dns.sh,
/// and a lab started before that change serves it only after a restart of
/// its DNS service.
fn assert_zone_served(zone: &str) {
    let output = Command::new("dig")
        .args(["+short", "+norec", "@127.0.10.53", "SOA", zone])
        .output()
        .expect("dig runs");
    assert!(
        !output.stdout.is_empty(),
        "the lab DNS does not serve {zone}: restart it with the current tests/lab \
         (`bash tests/lab/lab.sh stop dns && bash tests/lab/lab.sh start dns`)"
    );
}

#[test]
fn the_exim_mx_offers_starttls_and_auth_only_inside_tls() {
    let report = report();
    let mx = "mx.exim.test:25";
    expect(report, "TLS-001", mx, "pass", None);
    // no AUTH before TLS ...
    expect(report, "ACC-001", mx, "pass", None);
    // ... but AUTH on the MX at all, after TLS: needless exposure
    expect(report, "ACC-003", mx, "fail", Some("medium"));
    expect(report, "CRT-001", mx, "pass", None);
    expect(report, "CRT-002", mx, "pass", None);
    expect(report, "CRT-003", mx, "pass", None);
    expect(report, "TLS-005", mx, "pass", None);

    let dialogue = &endpoint(report, mx)["dialogue"]["value"];
    let greeting = dialogue["greeting"].as_str().unwrap();
    assert!(
        greeting.starts_with("220 mx.exim.test ESMTP Exim 4.96"),
        "{greeting}"
    );
    assert_eq!(dialogue["starttls_offered"], true);
    assert_eq!(dialogue["starttls_reply"], "220 TLS go ahead");
    let before: Vec<&str> = dialogue["capabilities_before_tls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(before.contains(&"STARTTLS"), "{before:?}");
    assert!(!before.iter().any(|c| c.starts_with("AUTH")), "{before:?}");
    assert_eq!(
        dialogue["auth_before_tls"]["plaintext_auth_offered"], false,
        "{dialogue}"
    );
    assert_eq!(
        dialogue["sasl_after_tls"],
        serde_json::json!(["PLAIN", "LOGIN"])
    );
}

#[test]
fn exim_submission_requires_tls_before_auth() {
    let report = report();
    let submission = "smtp.exim.test:587";
    expect(report, "TLS-002", submission, "pass", None);
    expect(report, "ACC-001", submission, "pass", None);
    expect(report, "ACC-005", submission, "pass", None);
    let dialogue = &endpoint(report, submission)["dialogue"]["value"];
    let after: Vec<&str> = dialogue["capabilities_after_tls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(after.contains(&"AUTH PLAIN LOGIN"), "{after:?}");
    assert!(!after.contains(&"STARTTLS"), "{after:?}");
}

/// TLS-011: Exim discards what was pipelined behind STARTTLS (CVE-2011-0411
/// class); the injection test must pass on both ports, against Exim's own
/// wording of replies.
#[test]
fn the_starttls_injection_test_passes_on_exim() {
    let report = report();
    for subject in ["mx.exim.test:25", "smtp.exim.test:587"] {
        expect(report, "TLS-011", subject, "pass", None);
    }
}

#[test]
fn exim_test_spf_and_dmarc_records_are_judged() {
    let report = report();
    expect(report, "DNS-007", "dns:exim.test", "pass", None);
    expect(report, "DNS-009", "dns:exim.test", "pass", None);
    let dmarc = &report["targets"][0]["evidence"]["mail_auth"]["dmarc"]["value"];
    assert_eq!(dmarc["p"], "reject");
    assert_eq!(dmarc["sp"], "quarantine");
}
