//! Shared helpers for the integration tests: run the real binary against the
//! lab (tests/lab) and look up findings by rule and subject.

#![allow(dead_code)]

pub mod browser;
pub mod history_store;
pub mod pcap;

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

/// The lab's DNS server (tests/lab/README.md).
pub const LAB_RESOLVER: &str = "127.0.10.53";

/// The lab's validating resolver, unbound in front of [`LAB_RESOLVER`].
pub const LAB_VALIDATING_RESOLVER: &str = "127.0.10.54";

/// Path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The lab CA, which must exist: the lab is brought up by `.ci/run` or
/// `tests/lab/lab.sh up`.
pub fn lab_ca() -> PathBuf {
    let ca = repo("tests/lab/run/ca/ca.pem");
    assert!(
        ca.exists(),
        "the lab is not set up ({} missing): run `tests/lab/lab.sh install && tests/lab/lab.sh up` first, or use .ci/run",
        ca.display()
    );
    ca
}

/// The lab's DNSSEC trust anchor: the DNSKEY of its signed root zone.
pub fn lab_anchor() -> PathBuf {
    let anchor = repo("tests/lab/run/dns/root.anchor");
    assert!(
        anchor.exists(),
        "the lab is not set up ({} missing)",
        anchor.display()
    );
    anchor
}

/// The binary under test.
pub fn mailaudit() -> Command {
    Command::cargo_bin("mailaudit").expect("binary built")
}

/// Scans `domains` against the lab and returns the exit code and the JSON report.
pub fn scan_lab(domains: &[&str], extra: &[&str]) -> (i32, Value) {
    scan_lab_with(LAB_RESOLVER, domains, extra)
}

/// [`scan_lab`] with its DNS queries sent to `resolver`.
pub fn scan_lab_with(resolver: &str, domains: &[&str], extra: &[&str]) -> (i32, Value) {
    let ca = lab_ca();
    let mut command = mailaudit();
    command
        .arg("scan")
        .args(domains)
        .args([
            "--resolver",
            resolver,
            "--format",
            "json",
            "--out",
            "-",
            "--lang",
            "en",
            "--timeout",
            "5",
        ])
        .arg("--ca-file")
        .arg(&ca)
        .arg("--dnssec-anchor")
        .arg(lab_anchor())
        .args(extra);
    // RDAP's default bootstrap is IANA on the internet: tests never use it.
    // Tests of LOC-001 pass --rdap-bootstrap at the lab registry instead.
    if !extra.contains(&"--rdap-bootstrap") {
        command.arg("--no-location");
    }
    let output = command.output().expect("mailaudit runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 report");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

/// The finding for `rule` on `subject`.
pub fn finding<'a>(report: &'a Value, rule: &str, subject: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule && f["subject"] == subject)
        .unwrap_or_else(|| panic!("no finding {rule} for {subject}"))
}

/// Asserts the status (and, for failures, the severity) of a finding.
pub fn expect(report: &Value, rule: &str, subject: &str, status: &str, severity: Option<&str>) {
    let found = finding(report, rule, subject);
    assert_eq!(
        found["status"], status,
        "{rule} on {subject}: {}",
        found["detail"]
    );
    if let Some(severity) = severity {
        assert_eq!(
            found["severity"], severity,
            "{rule} on {subject}: {}",
            found["detail"]
        );
    }
}

/// The evidence of one endpoint.
pub fn endpoint<'a>(report: &'a Value, subject: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .flat_map(|t| {
            t["evidence"]["endpoints"]
                .as_array()
                .expect("endpoints")
                .iter()
        })
        .find(|e| e["subject"] == subject)
        .unwrap_or_else(|| panic!("no endpoint {subject}"))
}
