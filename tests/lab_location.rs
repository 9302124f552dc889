//! Data location (LOC-001) against the lab RDAP registry on rdap.test
//! (tests/lab/conf/nginx/rdap.conf.in): good.test's addresses are in DE,
//! bad.test's in the US (adequacy, medium) except pop.bad.test in CN (third
//! country, high), and 127.0.11.80 has no record (404, inconclusive). Every
//! request goes to the lab: the bootstrap is passed explicitly.

mod common;

use common::{expect, finding, scan_lab};
use serde_json::Value;
use std::sync::OnceLock;

const BOOTSTRAP: &str = "https://rdap.test/bootstrap/";

/// One scan of both providers plus an endpoint on the address without a record.
fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        scan_lab(
            &["good.test", "bad.test"],
            &["--rdap-bootstrap", BOOTSTRAP, "--host", "127.0.11.80:25"],
        )
        .1
    })
}

fn location<'a>(report: &'a Value, domain: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["domain"] == domain)
        .map(|t| &t["evidence"]["location"])
        .unwrap_or_else(|| panic!("no target {domain}"))
}

#[test]
fn good_test_is_in_the_eea() {
    let report = report();
    for subject in [
        "mx.good.test:25",
        "smtp.good.test:465",
        "smtp.good.test:587",
        "imap.good.test:143",
        "imap.good.test:993",
    ] {
        expect(report, "LOC-001", subject, "pass", None);
    }
    let evidence = location(report, "good.test");
    assert_eq!(evidence["status"], "completed");
    assert_eq!(evidence["value"]["bootstrap"], BOOTSTRAP);
    // The country table is the rules stage's: the evidence holds facts.
    assert!(evidence["value"].get("table_snapshot").is_none());
    let mx = evidence["value"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "127.0.11.25")
        .expect("the MX address is looked up");
    assert_eq!(mx["rdap"]["value"]["country"], "DE");
    assert!(mx["rdap"]["value"].get("classification").is_none());
    assert_eq!(mx["rdap"]["value"]["handle"], "LAB-GOOD-DE");
    assert!(
        mx["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "mx.good.test")
    );
}

#[test]
fn bad_test_is_in_the_us_and_a_third_country() {
    let report = report();
    for subject in ["mx.bad.test:25", "smtp.bad.test:587", "imap.bad.test:993"] {
        expect(report, "LOC-001", subject, "fail", Some("medium"));
        let detail = finding(report, "LOC-001", subject)["detail"]
            .as_str()
            .unwrap();
        assert!(
            detail.contains("US") && detail.contains("2023/1795") && detail.contains("2026-11-26"),
            "{detail}"
        );
    }
    expect(report, "LOC-001", "pop.bad.test:110", "fail", Some("high"));
    let detail = finding(report, "LOC-001", "pop.bad.test:110")["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("CN"), "{detail}");
    let evidence = location(report, "bad.test");
    let pop = evidence["value"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "127.0.12.110")
        .unwrap();
    assert_eq!(pop["rdap"]["value"]["country"], "CN");
    assert!(pop["rdap"]["value"].get("classification").is_none());
}

#[test]
fn an_address_without_a_record_is_inconclusive() {
    let report = report();
    expect(report, "LOC-001", "127.0.11.80:25", "inconclusive", None);
    let evidence = location(report, "good.test");
    let missing = evidence["value"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "127.0.11.80")
        .unwrap();
    assert_eq!(missing["rdap"]["status"], "failed");
    assert!(
        missing["rdap"]["reason"].as_str().unwrap().contains("404"),
        "{missing}"
    );
}

#[test]
fn no_location_skips_rdap_and_is_inconclusive() {
    let (_, report) = scan_lab(&["good.test"], &[]);
    let detail = finding(&report, "LOC-001", "mx.good.test:25")["detail"]
        .as_str()
        .unwrap();
    assert_eq!(
        finding(&report, "LOC-001", "mx.good.test:25")["status"],
        "inconclusive"
    );
    assert!(detail.contains("skipped: --no-location"), "{detail}");
}

#[test]
fn a_host_given_on_the_command_line_is_no_mx_unless_the_mx_records_name_it() {
    // Given `--host 127.0.11.80:25`, which no MX record of either domain names
    let given = common::endpoint(report(), "127.0.11.80:25");
    assert_eq!(
        given["sources"],
        serde_json::json!([{ "kind": "command-line" }])
    );
    // Then it is a relay, and the MX rules do not apply to it
    assert_eq!(given["role"], "relay");
    expect(
        report(),
        "TLS-001",
        "127.0.11.80:25",
        "not_applicable",
        None,
    );
    expect(
        report(),
        "DNS-003",
        "127.0.11.80:25",
        "not_applicable",
        None,
    );
}
