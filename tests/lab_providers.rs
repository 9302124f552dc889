//! End to end against the lab's two providers (tests/lab): the real binary,
//! real Postfix, Dovecot, Knot and nginx on 127.0.x.y. Each rule implemented
//! so far is asserted per subject on both providers.

mod common;

use common::{endpoint, expect, scan_lab};
use std::sync::OnceLock;

/// One scan of both providers, shared by the tests in this file.
fn report() -> &'static (i32, serde_json::Value) {
    static REPORT: OnceLock<(i32, serde_json::Value)> = OnceLock::new();
    REPORT.get_or_init(|| scan_lab(&["good.test", "bad.test"], &[]))
}

#[test]
fn the_report_has_the_versioned_top_level_fields() {
    let (code, report) = report();
    for field in [
        "schema_version",
        "tool_version",
        "started_at",
        "finished_at",
        "targets",
        "findings",
    ] {
        assert!(report.get(field).is_some(), "missing {field}");
    }
    assert_eq!(report["targets"][0]["domain"], "good.test");
    assert_eq!(report["targets"][1]["domain"], "bad.test");
    // bad.test has critical failures, and --fail-on defaults to high.
    assert_eq!(*code, 1);
    for finding in report["findings"].as_array().unwrap() {
        for field in [
            "rule",
            "subject",
            "status",
            "severity",
            "title",
            "detail",
            "references",
            "remediation",
        ] {
            assert!(
                finding.get(field).is_some(),
                "finding without {field}: {finding}"
            );
        }
    }
}

#[test]
fn discovery_uses_mx_srv_and_usual_names() {
    let (_, report) = report();
    let good = &report["targets"][0]["evidence"];
    assert_eq!(
        good["dns"]["mx"]["value"]["records"][0]["exchange"],
        "mx.good.test"
    );
    let imaps = endpoint(report, "imap.good.test:993");
    assert!(
        imaps["sources"].to_string().contains("_imaps._tcp"),
        "{}",
        imaps["sources"]
    );
    assert_eq!(imaps["expected"], true);
    // pop.bad.test is found only through its usual name.
    let pop = endpoint(report, "pop.bad.test:110");
    assert!(
        pop["sources"].to_string().contains("usual-name"),
        "{}",
        pop["sources"]
    );
}

#[test]
fn the_good_provider_passes_transport_certificate_and_access_rules() {
    let (_, report) = report();
    expect(report, "DNS-011", "dns:good.test", "pass", None);
    expect(report, "ACC-004", "dns:good.test", "pass", None);
    for subject in [
        "mx.good.test:25",
        "smtp.good.test:465",
        "smtp.good.test:587",
        "imap.good.test:993",
        "imap.good.test:143",
        "imap.good.test:4190",
    ] {
        for rule in [
            "TLS-005", "CRT-001", "CRT-002", "CRT-003", "CRT-004", "CRT-005",
        ] {
            expect(report, rule, subject, "pass", None);
        }
    }
    expect(report, "TLS-001", "mx.good.test:25", "pass", None);
    for subject in [
        "smtp.good.test:587",
        "imap.good.test:143",
        "imap.good.test:4190",
    ] {
        expect(report, "TLS-002", subject, "pass", None);
    }
    for subject in [
        "mx.good.test:25",
        "smtp.good.test:587",
        "imap.good.test:143",
        "imap.good.test:4190",
    ] {
        expect(report, "ACC-001", subject, "pass", None);
    }
    expect(report, "ACC-003", "mx.good.test:25", "pass", None);
    // Plaintext 143 next to 993 is unneeded exposure even when done right.
    expect(report, "ACC-003", "imap.good.test:143", "fail", Some("low"));
}

#[test]
fn the_good_provider_evidence_records_tls_and_the_chain() {
    let (_, report) = report();
    let mx = endpoint(report, "mx.good.test:25");
    let dialogue = &mx["dialogue"]["value"];
    assert_eq!(dialogue["starttls_offered"], true);
    assert!(dialogue["capabilities_after_tls"].is_array());
    let tls = &mx["tls"]["value"];
    assert_eq!(tls["version"], "TLSv1.3");
    assert_eq!(tls["validation"]["valid"], true, "{}", tls["validation"]);
    let chain = tls["chain"].as_array().unwrap();
    assert!(!chain.is_empty());
    assert!(chain[0]["der_base64"].as_str().unwrap().len() > 100);
    assert!(chain[0]["san_dns"].to_string().contains("mx.good.test"));
    let imap = endpoint(report, "imap.good.test:143");
    let capabilities = imap["dialogue"]["value"]["capabilities_before_tls"].to_string();
    assert!(capabilities.contains("LOGINDISABLED"), "{capabilities}");
}

/// Issue 20: the facts read as the servers and the DNS state them.
#[test]
fn the_evidence_keeps_names_orders_and_roles_as_served() {
    let (_, report) = report();
    let mx = endpoint(report, "mx.good.test:25");
    let tls = &mx["tls"]["value"];
    // The suite carries the IANA name the TLS scan uses for the same suite.
    let suite = tls["cipher_suite"].as_str().unwrap();
    assert!(suite.starts_with("TLS_"), "{suite}");
    let scanned = mx["tls_scan"]["value"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == tls["version"])
        .expect("the negotiated version was scanned");
    assert!(
        scanned["suites"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == suite),
        "{suite} not in {scanned}"
    );
    // Every name in RFC 4514 order, as `openssl x509 -nameopt RFC2253`.
    let chain = tls["chain"].as_array().unwrap();
    assert_eq!(chain[0]["subject"], "CN=mx.good.test,O=mailaudit lab");
    assert_eq!(
        chain[0]["issuer"],
        "CN=mailaudit lab issuing CA,O=mailaudit lab"
    );
    assert_eq!(
        chain[1]["subject"],
        "CN=mailaudit lab issuing CA,O=mailaudit lab"
    );
    assert_eq!(
        chain[1]["issuer"],
        "CN=mailaudit lab root CA,O=mailaudit lab"
    );
    // Postfix announces `AUTH PLAIN LOGIN`: that order, not sorted.
    let submission = endpoint(report, "smtp.good.test:587");
    assert_eq!(
        submission["dialogue"]["value"]["sasl_after_tls"],
        serde_json::json!(["PLAIN", "LOGIN"])
    );
    // Only the host the MX record names is an MX; port 25 under a usual
    // name is a relay, and TLS-001 (STARTTLS at the MX) does not apply.
    assert_eq!(mx["role"], "mx");
    assert_eq!(endpoint(report, "smtp.good.test:25")["role"], "relay");
    expect(
        report,
        "TLS-001",
        "smtp.good.test:25",
        "not_applicable",
        None,
    );
}

#[test]
fn the_bad_provider_fails_where_it_is_misconfigured() {
    let (_, report) = report();
    expect(report, "DNS-011", "dns:bad.test", "pass", None);
    expect(report, "ACC-004", "dns:bad.test", "fail", Some("info"));
    // Port 25: STARTTLS works, but no TLS 1.3, an expired certificate, and AUTH in the clear.
    expect(report, "TLS-001", "mx.bad.test:25", "pass", None);
    expect(report, "TLS-005", "mx.bad.test:25", "fail", Some("low"));
    expect(report, "CRT-001", "mx.bad.test:25", "fail", Some("high"));
    expect(
        report,
        "ACC-001",
        "mx.bad.test:25",
        "fail",
        Some("critical"),
    );
    expect(report, "ACC-003", "mx.bad.test:25", "fail", Some("medium"));
    // Submission with a self-signed certificate and AUTH before STARTTLS.
    expect(report, "CRT-003", "smtp.bad.test:587", "fail", Some("high"));
    expect(
        report,
        "ACC-001",
        "smtp.bad.test:587",
        "fail",
        Some("critical"),
    );
    // IMAP: plaintext LOGIN allowed; certificate for another name, RSA-1024, SHA-1.
    expect(
        report,
        "ACC-001",
        "imap.bad.test:143",
        "fail",
        Some("critical"),
    );
    for subject in ["imap.bad.test:143", "imap.bad.test:993"] {
        expect(report, "CRT-002", subject, "fail", Some("high"));
        expect(report, "CRT-004", subject, "fail", Some("critical"));
        expect(report, "CRT-005", subject, "fail", Some("high"));
    }
    // POP3 without STLS and without 995: plaintext USER/PASS.
    expect(
        report,
        "TLS-002",
        "pop.bad.test:110",
        "fail",
        Some("critical"),
    );
    expect(
        report,
        "ACC-001",
        "pop.bad.test:110",
        "fail",
        Some("critical"),
    );
}

#[test]
fn a_failed_validation_still_captures_the_chain_with_its_reason() {
    let (_, report) = report();
    let tls = &endpoint(report, "mx.bad.test:25")["tls"]["value"];
    assert_eq!(tls["validation"]["valid"], false);
    let error = tls["validation"]["error"].as_str().unwrap().to_lowercase();
    assert!(error.contains("expired"), "{error}");
    assert_eq!(
        tls["validation"]["chain_trusted"], true,
        "issued by the lab CA"
    );
    assert!(tls["chain"][0]["days_left"].as_i64().unwrap() < 0);
    let self_signed = &endpoint(report, "smtp.bad.test:587")["tls"]["value"];
    assert_eq!(self_signed["chain_structure"]["leaf_self_signed"], true);
    assert!(self_signed["chain"][0]["der_base64"].is_string());
}

#[test]
fn closed_undeclared_ports_are_evidence_but_not_subjects() {
    let (_, report) = report();
    let closed = endpoint(report, "pop.bad.test:995");
    assert_eq!(closed["tcp"]["value"]["state"], "closed");
    assert_eq!(closed["dialogue"]["status"], "skipped");
    let subjects: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["subject"].as_str())
        .collect();
    assert!(!subjects.contains(&"pop.bad.test:995"));
}
