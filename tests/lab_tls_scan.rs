//! The raw-handshake TLS scan against the lab (issue 4): accepted versions
//! and the verdicts of TLS-003, TLS-004, TLS-006, TLS-007 and TLS-012 per
//! subject. Needs the lab (tests/lab) to be up.

mod common;

use common::{endpoint, expect, scan_lab};

#[test]
fn the_tls_scan_finds_legacy_versions_on_bad_test_and_none_on_good_test() {
    // Given the two lab providers, when both are scanned,
    let (_, report) = scan_lab(&["good.test", "bad.test"], &[]);

    // then imap.bad.test (Dovecot, @SECLEVEL=0) accepts TLS 1.0 on 993,
    let imaps = &endpoint(&report, "imap.bad.test:993")["tls_scan"];
    assert_eq!(imaps["status"], "completed", "{imaps}");
    let versions = imaps["value"]["versions"].as_array().expect("versions");
    let accepted = |name: &str| {
        versions
            .iter()
            .find(|v| v["version"] == name)
            .map(|v| v["accepted"] == true)
            .unwrap_or(false)
    };
    assert!(accepted("TLSv1.0") && accepted("TLSv1.2") && accepted("TLSv1.3"));
    assert!(!accepted("SSLv3"));
    assert!(imaps["value"]["handshakes"].as_u64().unwrap() > 10);
    expect(
        &report,
        "TLS-004",
        "imap.bad.test:993",
        "fail",
        Some("high"),
    );
    expect(
        &report,
        "TLS-004",
        "imap.bad.test:143",
        "fail",
        Some("high"),
    );
    expect(&report, "TLS-003", "imap.bad.test:993", "pass", None);
    // static RSA suites, no forward secrecy
    expect(
        &report,
        "TLS-007",
        "imap.bad.test:993",
        "fail",
        Some("medium"),
    );
    expect(&report, "TLS-006", "imap.bad.test:993", "pass", None);
    // bad-postfix: TLS 1.0–1.2 after STARTTLS, no TLS 1.3, so TLS-012 does not apply.
    expect(&report, "TLS-004", "mx.bad.test:25", "fail", Some("high"));
    expect(&report, "TLS-012", "mx.bad.test:25", "not_applicable", None);

    // and the good provider refuses TLS 1.0/1.1 and SSLv3 on every port,
    for subject in [
        "mx.good.test:25",
        "mx.good.test:465",
        "imap.good.test:993",
        "imap.good.test:143",
    ] {
        expect(&report, "TLS-004", subject, "pass", None);
        expect(&report, "TLS-003", subject, "pass", None);
        expect(&report, "TLS-006", subject, "pass", None);
    }
    // ChaCha20 is not listed in TR-02102-2 but forward secret: low.
    expect(&report, "TLS-007", "mx.good.test:25", "fail", Some("low"));
    // OpenSSL 3.0 in the lab has no ML-KEM hybrids.
    expect(&report, "TLS-012", "mx.good.test:25", "fail", Some("info"));

    // Key exchange and TLS features from the same scan.
    for rule in ["TLS-008", "TLS-009", "TLS-010"] {
        expect(&report, rule, "mx.good.test:25", "pass", None);
    }
    // Dovecot's OpenSSL offers ffdhe2048 in TLS 1.3; bad Postfix a 2048-bit DHE prime.
    expect(
        &report,
        "TLS-008",
        "imap.good.test:993",
        "fail",
        Some("medium"),
    );
    expect(&report, "TLS-008", "mx.bad.test:25", "fail", Some("medium"));
    // The @SECLEVEL=0 servers accept CBC suites without encrypt_then_mac.
    expect(&report, "TLS-010", "mx.bad.test:25", "fail", Some("low"));
    expect(&report, "TLS-009", "imap.bad.test:993", "pass", None);
}

#[test]
fn no_tls_scan_leaves_the_scan_rules_inconclusive() {
    let (_, report) = scan_lab(&["good.test"], &["--no-tls-scan"]);
    let scan = &endpoint(&report, "mx.good.test:25")["tls_scan"];
    assert_eq!(scan["status"], "skipped");
    expect(&report, "TLS-004", "mx.good.test:25", "inconclusive", None);
}
