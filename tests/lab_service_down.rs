//! With a service stopped, the rules about it are inconclusive, never
//! passed. This file holds one test because it stops a lab service; cargo
//! runs test binaries one after another, so no other scan sees the gap.

mod common;

use common::{expect, repo, scan_lab};
use std::process::Command;

fn lab(action: &str, service: &str) {
    let status = Command::new("bash")
        .arg(repo("tests/lab/lab.sh"))
        .args([action, service])
        .status()
        .expect("lab.sh runs");
    assert!(status.success(), "lab.sh {action} {service} failed");
}

/// Restarts the service even when an assertion fails.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        lab("start", "good-dovecot");
    }
}

#[test]
fn a_stopped_imap_server_makes_its_rules_inconclusive() {
    lab("stop", "good-dovecot");
    let _restart = Restart;
    let (_, report) = scan_lab(&["good.test"], &[]);
    for rule in [
        "TLS-005", "CRT-001", "CRT-002", "CRT-003", "CRT-004", "CRT-005",
    ] {
        expect(&report, rule, "imap.good.test:993", "inconclusive", None);
    }
    expect(
        &report,
        "TLS-002",
        "imap.good.test:143",
        "inconclusive",
        None,
    );
    expect(
        &report,
        "ACC-001",
        "imap.good.test:4190",
        "inconclusive",
        None,
    );
    let detail = common::finding(&report, "CRT-001", "imap.good.test:993")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("refused"), "the reason is quoted: {detail}");
    // The SMTP side is unaffected.
    expect(&report, "TLS-001", "mx.good.test:25", "pass", None);
}
