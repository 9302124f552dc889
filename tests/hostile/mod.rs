//! The hostile network suite's shared parts (issue 7, section 5): a tiny DNS
//! server ([`dns`]), TCP peers that misbehave ([`peer`]), and a scan that
//! checks what every hostile case must hold: the scan ends within a
//! generous bound, exits 0, 1 or 3 (never 101, a panic), and prints no panic.

#![allow(dead_code)]

pub mod dns;
pub mod peer;

use serde_json::Value;
use std::time::{Duration, Instant};

/// A safety net, not a timing test: every case sets `--timeout 1`.
pub const BOUND: Duration = Duration::from_secs(30);

/// The outcome of one scan.
pub struct Scan {
    pub code: i32,
    pub report: Value,
    pub elapsed: Duration,
    pub stderr: String,
}

impl Scan {
    /// The evidence of the (only) target.
    pub fn evidence(&self) -> &Value {
        &self.report["targets"][0]["evidence"]
    }
}

/// Scans `domain` with every DNS query sent to `resolver`, `--timeout 1`,
/// no RDAP and no raw TLS scan, and the JSON report on stdout; `extra` adds
/// arguments (`--host …`).
pub fn scan(domain: &str, resolver: &str, extra: &[&str]) -> Scan {
    let started = Instant::now();
    let output = crate::common::mailaudit()
        .args(["scan", domain, "--resolver", resolver])
        .args(["--timeout", "1", "--no-location", "--no-tls-scan"])
        .args(["--format", "json", "--out", "-", "--lang", "en"])
        .args(extra)
        .timeout(BOUND * 2)
        .output()
        .expect("mailaudit runs");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code().unwrap_or(-1);
    assert!(
        [0, 1, 3].contains(&code),
        "exit code {code} (101 is a panic, -1 a signal); stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(elapsed < BOUND, "the scan took {elapsed:?}");
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}); stderr: {stderr}"));
    Scan {
        code,
        report,
        elapsed,
        stderr,
    }
}

/// The reason of a failed attempt, asserting that it failed.
pub fn failed_reason(attempt: &Value) -> &str {
    assert_eq!(attempt["status"], "failed", "{attempt}");
    attempt["reason"]
        .as_str()
        .expect("a failed attempt has a reason")
}
