//! The raw-handshake TLS scan against the lab (issue 4): accepted versions
//! and the verdicts of TLS-003, TLS-004, TLS-006 to TLS-012 and CRT-005 per
//! subject, SSLv2 refused, and STARTTLS command injection (TLS-011). Needs
//! the lab (tests/lab) to be up.

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
    // The @SECLEVEL=0 servers accept CBC suites and send encrypt_then_mac
    // when one is negotiated (issue 20: it was read from the AEAD handshake).
    let features = &endpoint(&report, "mx.bad.test:25")["tls_scan"]["value"]["features"];
    assert_eq!(features["encrypt_then_mac"], true, "{features}");
    expect(&report, "TLS-010", "mx.bad.test:25", "pass", None);
    expect(&report, "TLS-009", "imap.bad.test:993", "pass", None);

    // SSLv2: Debian's OpenSSL 3 has none, so the v2 CLIENT-HELLO is refused
    // (Postfix with an alert, Dovecot by closing).
    for subject in ["mx.good.test:25", "imap.bad.test:993"] {
        let sslv2 = &endpoint(&report, subject)["tls_scan"]["value"]["versions"][0];
        assert_eq!(sslv2["version"], "SSLv2", "{subject}: {sslv2}");
        assert_eq!(sslv2["accepted"], false, "{subject}: {sslv2}");
    }

    // The TLS 1.2 key exchange is signed with SHA-2, so CRT-005 adds nothing.
    let exchanges = &endpoint(&report, "mx.bad.test:25")["tls_scan"]["value"]["key_exchanges"];
    let exchanges = exchanges.as_array().expect("key_exchanges");
    assert!(
        exchanges
            .iter()
            .any(|k| k["kind"] == "DHE" && k["group_bits"] == 2048),
        "{exchanges:?}"
    );
    assert!(
        exchanges.iter().all(|k| k["hash"] == "sha256"),
        "{exchanges:?}"
    );
    expect(&report, "CRT-005", "mx.bad.test:25", "pass", None);
}

#[test]
fn postfix_and_dovecot_do_not_answer_commands_pipelined_behind_starttls() {
    // Given the lab's Postfix (discards the pipelined NOOP) and Dovecot
    // (closes the connection instead of starting TLS),
    let (_, report) = scan_lab(&["good.test", "bad.test"], &["--no-tls-scan"]);
    // then TLS-011 passes on every STARTTLS endpoint,
    for subject in [
        "mx.good.test:25",
        "mx.good.test:587",
        "mx.bad.test:25",
        "mx.bad.test:587",
        "imap.good.test:143",
        "imap.good.test:4190",
        "imap.bad.test:143",
        "imap.bad.test:4190",
    ] {
        expect(&report, "TLS-011", subject, "pass", None);
    }
    let postfix = &endpoint(&report, "mx.good.test:25")["starttls_injection"]["value"];
    assert_eq!(postfix["upgraded"], true, "{postfix}");
    assert_eq!(postfix["answered_inside_tls"], false, "{postfix}");
    let dovecot = &endpoint(&report, "imap.good.test:143")["starttls_injection"]["value"];
    assert_eq!(dovecot["upgraded"], false, "{dovecot}");
    assert!(
        dovecot["refusal"].as_str().unwrap().contains("closed"),
        "{dovecot}"
    );
    // and it does not apply to implicit TLS or to POP3 without STLS.
    expect(
        &report,
        "TLS-011",
        "imap.good.test:993",
        "not_applicable",
        None,
    );
    expect(
        &report,
        "TLS-011",
        "pop.bad.test:110",
        "not_applicable",
        None,
    );
}

#[test]
fn no_tls_scan_leaves_the_scan_rules_inconclusive() {
    let (_, report) = scan_lab(&["good.test"], &["--no-tls-scan"]);
    let scan = &endpoint(&report, "mx.good.test:25")["tls_scan"];
    assert_eq!(scan["status"], "skipped");
    expect(&report, "TLS-004", "mx.good.test:25", "inconclusive", None);
}
