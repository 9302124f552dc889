//! Client-configuration and key discovery against the lab (ACC-004's
//! autoconfig check, E2E-001): good.test publishes a WKD policy and
//! alice@good.test's OPENPGPKEY and SMIMEA records; bad.test publishes
//! nothing and an autoconfig that declares POP3 without TLS;
//! pop-config.bad.test has the same autoconfig and no POP3 server.

mod common;

use common::{expect, finding, scan_lab};
use serde_json::Value;
use std::sync::OnceLock;

fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        scan_lab(
            &["good.test", "bad.test", "pop-config.bad.test"],
            &["--key-lookup", "alice@good.test"],
        )
        .1
    })
}

fn evidence<'a>(report: &'a Value, domain: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| &t["evidence"])
        .find(|e| e["domain"] == domain)
        .unwrap_or_else(|| panic!("no evidence for {domain}"))
}

fn declared(report: &Value, domain: &str) -> Vec<String> {
    evidence(report, domain)["client_config"]["declared"]
        .as_array()
        .expect("declared servers")
        .iter()
        .map(|s| {
            format!(
                "{} {} {}:{} {}",
                s["source"].as_str().unwrap(),
                s["protocol"].as_str().unwrap(),
                s["hostname"].as_str().unwrap(),
                s["port"],
                s["socket_type"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn good_test_publishes_keys_by_wkd_and_dns() {
    let report = report();
    expect(report, "E2E-001", "dns:good.test", "pass", None);
    let keys = &evidence(report, "good.test")["key_discovery"];
    assert_eq!(keys["wkd"][0]["method"], "advanced");
    assert_eq!(keys["wkd"][0]["found"], true);
    assert_eq!(keys["wkd"][0]["entries"][0], "protocol-version: 5");
    for (index, kind) in ["OPENPGPKEY", "SMIMEA"].iter().enumerate() {
        let lookup = &keys["records"][index];
        assert_eq!(lookup["record_type"], *kind);
        assert_eq!(lookup["address"], "alice@good.test");
        assert_eq!(lookup["records"]["value"].as_array().unwrap().len(), 1);
    }
    assert_eq!(keys["answers"]["status"], "completed");
}

#[test]
fn bad_test_publishes_no_keys() {
    let report = report();
    expect(report, "E2E-001", "dns:bad.test", "fail", Some("info"));
    let detail = finding(report, "E2E-001", "dns:bad.test")["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("openpgpkey.bad.test"), "{detail}");
}

#[test]
fn declared_servers_are_listed_per_source() {
    let report = report();
    let good = declared(report, "good.test");
    for server in [
        "autoconfig imap imap.good.test:993 SSL",
        "autoconfig smtp smtp.good.test:465 SSL",
        "srv imap imap.good.test:143 STARTTLS",
        "srv smtp smtp.good.test:587 STARTTLS",
    ] {
        assert!(good.contains(&server.to_string()), "{server} in {good:?}");
    }
    assert!(!good.iter().any(|s| s.contains("pop3")), "{good:?}");
    let autodiscover = &evidence(report, "good.test")["client_config"]["documents"][2];
    assert_eq!(autodiscover["source"], "autodiscover");
    assert_eq!(autodiscover["response"]["value"]["status"], 401);
    assert_eq!(
        declared(report, "bad.test"),
        [
            "autoconfig pop3 pop.bad.test:110 plain",
            "autoconfig smtp smtp.bad.test:587 STARTTLS"
        ]
    );
}

#[test]
fn an_autoconfig_declaring_pop3_fails_acc_004() {
    let report = report();
    expect(report, "ACC-004", "dns:good.test", "pass", None);
    expect(
        report,
        "ACC-004",
        "dns:pop-config.bad.test",
        "fail",
        Some("info"),
    );
    let detail = finding(report, "ACC-004", "dns:pop-config.bad.test")["detail"]
        .as_str()
        .unwrap();
    assert!(
        detail.contains("https://autoconfig.pop-config.bad.test/mail/config-v1.1.xml"),
        "{detail}"
    );
}

#[test]
fn a_key_lookup_that_is_no_address_is_a_usage_error() {
    for bad in [
        "alice",
        "@good.test",
        "alice@",
        "al ice@good.test",
        "alice@bad_domain-.test",
    ] {
        common::mailaudit()
            .args(["scan", "good.test", "--key-lookup", bad])
            .assert()
            .code(2);
    }
}
