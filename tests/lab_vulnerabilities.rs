//! The named TLS vulnerabilities (TLS-101 to TLS-109: POODLE, SWEET32,
//! FREAK, Logjam, DROWN, BEAST, RC4, CRIME, Lucky13) judged on the lab's
//! real servers, per endpoint subject: legacy.test (TLS 1.0–1.2, CBC suites
//! in the client's order, a 1024-bit DHE group) is affected by Logjam,
//! BEAST and Lucky13; good.test and the TLS-1.3-only endpoints are not
//! affected by any; a scan without the TLS scan leaves every rule
//! inconclusive, never pass. Needs the lab (tests/lab) to be up.
//!
//! The active checks (TLS-110 Heartbleed, TLS-111 CCS injection) find
//! every real Postfix and Dovecot endpoint not affected, each with the
//! answer that proves it; their affected side is proven against in-test
//! responders (`tests/hostile_active_tls.rs`). Session resumption (TLS-112)
//! is reported per version, and no implicit TLS port takes 0-RTT data
//! (TLS-113). Client-initiated renegotiation (TLS-114) is refused by every
//! real server (OpenSSL 3's default: a warning alert no_renegotiation)
//! except legacy.test's port 25, whose Postfix allows it
//! (`tls_ssl_options = 0x100` in tests/lab/conf/postfix/legacy-master.cf.in).
//! ROBOT (TLS-115): where static RSA is offered (legacy.test's port 25 and
//! Dovecot), OpenSSL 3 answers every ClientKeyExchange variant alike;
//! elsewhere no RSA key exchange is accepted at all.
//!
//! Debian's OpenSSL 3 has no SSLv2, SSLv3, 3DES, RC4, EXPORT suites or
//! compression left, so POODLE, SWEET32, FREAK, DROWN, RC4 and CRIME are
//! "not affected" everywhere in the lab; their failing side is shown by
//! the rule files' examples (`cargo test --test rules`).

mod common;

use common::{expect, scan_lab};
use serde_json::Value;
use std::sync::OnceLock;

/// The named rules, in catalogue order.
const NAMED: [&str; 9] = [
    "TLS-101", "TLS-102", "TLS-103", "TLS-104", "TLS-105", "TLS-106", "TLS-107", "TLS-108",
    "TLS-109",
];

/// The rules of the active checks: Heartbleed and CCS injection.
const ACTIVE: [&str; 2] = ["TLS-110", "TLS-111"];
/// Every rule that reads the active checks and applies to STARTTLS ports
/// too: those two, session resumption (informational) and client-initiated
/// renegotiation, and ROBOT.
const ALL_ACTIVE: [&str; 5] = ["TLS-110", "TLS-111", "TLS-112", "TLS-114", "TLS-115"];

/// legacy.test's endpoints with TLS 1.0–1.2, CBC suites and a 1024-bit
/// DHE group (tests/lab/lib/legacy.sh).
const LEGACY_WEAK: [&str; 6] = [
    "mx.legacy.test:25",
    "imap.legacy.test:110",
    "imap.legacy.test:143",
    "imap.legacy.test:993",
    "imap.legacy.test:995",
    "imap.legacy.test:4190",
];

/// legacy.test's strict endpoints: 465 and tls13.legacy.test speak TLS 1.3
/// only, 587 TLS 1.2 with DHE-AES-GCM on ffdhe2048.
const LEGACY_STRICT: [&str; 4] = [
    "mx.legacy.test:465",
    "mx.legacy.test:587",
    "tls13.legacy.test:143",
    "tls13.legacy.test:993",
];

/// good.test's endpoints that answer with TLS.
const GOOD: [&str; 12] = [
    "mx.good.test:25",
    "mx.good.test:465",
    "mx.good.test:587",
    "mail.good.test:25",
    "mail.good.test:465",
    "mail.good.test:587",
    "smtp.good.test:25",
    "smtp.good.test:465",
    "smtp.good.test:587",
    "imap.good.test:143",
    "imap.good.test:993",
    "imap.good.test:4190",
];

/// One scan of legacy.test and good.test shared by the tests of this file.
fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| scan_lab(&["legacy.test", "good.test"], &[]).1)
}

/// The detail of `rule`'s finding on `subject`.
fn detail<'a>(report: &'a Value, rule: &str, subject: &str) -> &'a str {
    common::finding(report, rule, subject)["detail"]
        .as_str()
        .expect("detail")
}

#[test]
fn legacy_weak_endpoints_are_affected_by_logjam_beast_and_lucky13_only() {
    // Given legacy.test's weak endpoints scanned once,
    let report = report();
    for subject in LEGACY_WEAK {
        // then the 1024-bit DHE group is Logjam (medium: not export-grade),
        expect(report, "TLS-104", subject, "fail", Some("medium"));
        assert!(
            detail(report, "TLS-104", subject).contains("1024-bit"),
            "{subject}: {}",
            detail(report, "TLS-104", subject)
        );
        // TLS 1.0 gives a CBC suite to a client that prefers one (the server
        // follows the client's order), which is BEAST,
        expect(report, "TLS-106", subject, "fail", Some("low"));
        assert!(
            detail(report, "TLS-106", subject).contains("TLSv1.0")
                && detail(report, "TLS-106", subject).contains("client order"),
            "{subject}: {}",
            detail(report, "TLS-106", subject)
        );
        // CBC suites on TLS 1.0 to 1.2 are Lucky13, informational,
        expect(report, "TLS-109", subject, "fail", Some("info"));
        assert!(
            detail(report, "TLS-109", subject).contains("TLSv1.2"),
            "{subject}: {}",
            detail(report, "TLS-109", subject)
        );
        // and what OpenSSL 3 cannot do any more is proven absent.
        for rule in [
            "TLS-101", "TLS-102", "TLS-103", "TLS-105", "TLS-107", "TLS-108",
        ] {
            expect(report, rule, subject, "pass", None);
        }
    }
}

#[test]
fn legacy_strict_endpoints_are_not_affected() {
    // Given legacy.test's TLS-1.3-only and DHE-2048-GCM endpoints,
    let report = report();
    for subject in LEGACY_STRICT {
        // then no named vulnerability applies to them (a TLS-1.3-only
        // server has no compression, CBC or DHE prime to judge).
        for rule in NAMED {
            expect(report, rule, subject, "pass", None);
        }
    }
}

#[test]
fn good_endpoints_are_not_affected_by_any_named_vulnerability() {
    // Given good.test (TLS 1.2 and 1.3, AEAD suites in server order, a
    // 4096-bit DHE group on IMAP), every named rule says "not affected".
    let report = report();
    for subject in GOOD {
        for rule in NAMED {
            expect(report, rule, subject, "pass", None);
        }
    }
}

#[test]
fn without_the_tls_scan_every_named_rule_is_inconclusive_never_pass() {
    // Given good.test scanned with --no-tls-scan, the facts are missing:
    let (_, report) = scan_lab(&["good.test"], &["--no-tls-scan"]);
    for subject in GOOD {
        for rule in NAMED {
            // then every named rule is inconclusive and names the reason.
            expect(&report, rule, subject, "inconclusive", None);
            assert!(
                detail(&report, rule, subject).contains("--no-tls-scan"),
                "{rule} on {subject}: {}",
                detail(&report, rule, subject)
            );
        }
        // The active checks run with the TLS scan, so they are off too.
        for rule in ALL_ACTIVE {
            expect(&report, rule, subject, "inconclusive", None);
            assert!(
                detail(&report, rule, subject).contains("--no-tls-scan"),
                "{rule} on {subject}: {}",
                detail(&report, rule, subject)
            );
        }
    }
}

/// The outcome and the observed answer of `check` on `subject`.
fn active_check<'a>(report: &'a Value, subject: &str, check: &str) -> (&'a str, &'a str) {
    let attempt = &common::endpoint(report, subject)["tls_active"];
    assert_eq!(attempt["status"], "completed", "{subject}: {attempt}");
    let found = &attempt["value"][check];
    (
        found["outcome"].as_str().expect("outcome"),
        found["observed"].as_str().expect("observed"),
    )
}

#[test]
fn the_real_servers_are_not_affected_by_heartbleed_or_ccs_injection() {
    // Given every TLS endpoint of legacy.test and good.test,
    let report = report();
    for subject in LEGACY_WEAK.iter().chain(&LEGACY_STRICT).chain(&GOOD) {
        // Heartbleed is ruled out by the answer: Debian's OpenSSL speaks
        // no heartbeats, and the TLS-1.3-only endpoints refuse the hello,
        let (outcome, observed) = active_check(report, subject, "heartbleed");
        assert_eq!(outcome, "not_affected", "{subject}: {observed}");
        assert!(
            observed.contains("does not echo the heartbeat extension")
                || observed.contains("TLS 1.0 to 1.2")
                || observed.contains("TLS 1.0–1.2 hello"),
            "{subject}: {observed}"
        );
        // an early ChangeCipherSpec is refused (Postfix: unexpected_message;
        // Dovecot closes the connection),
        let (outcome, observed) = active_check(report, subject, "ccs_injection");
        assert_eq!(outcome, "not_affected", "{subject}: {observed}");
        // and both rules pass.
        for rule in ACTIVE {
            expect(report, rule, subject, "pass", None);
        }
    }
    // Postfix answers the early ChangeCipherSpec with the alert the
    // published checks expect from a fixed OpenSSL.
    let (_, observed) = active_check(report, "mx.good.test:25", "ccs_injection");
    assert!(observed.contains("UnexpectedMessage (10)"), "{observed}");
    // A TLS-1.3-only Postfix refuses the TLS 1.0–1.2 hello by its alert.
    let (_, observed) = active_check(report, "mx.legacy.test:465", "heartbleed");
    assert!(observed.contains("ProtocolVersion (70)"), "{observed}");
}

#[test]
fn without_the_active_checks_their_rules_are_inconclusive_and_the_scan_still_runs() {
    // Given good.test scanned with --no-active-tls-checks,
    let (_, report) = scan_lab(&["good.test"], &["--no-active-tls-checks"]);
    for subject in GOOD {
        // then TLS-110 to TLS-112, TLS-114 and TLS-115 are inconclusive and
        // name the flag,
        for rule in ALL_ACTIVE {
            expect(&report, rule, subject, "inconclusive", None);
            assert!(
                detail(&report, rule, subject).contains("--no-active-tls-checks"),
                "{rule} on {subject}: {}",
                detail(&report, rule, subject)
            );
        }
        // while the TLS scan's named findings are still judged.
        expect(&report, "TLS-108", subject, "pass", None);
    }
}

/// The resumption result of `version` on `subject`.
fn resumption<'a>(report: &'a Value, subject: &str, version: &str) -> &'a str {
    let attempt = &common::endpoint(report, subject)["tls_active"];
    attempt["value"]["resumption"]
        .as_array()
        .expect("resumption")
        .iter()
        .find(|r| r["version"] == version)
        .and_then(|r| r["outcome"].as_str())
        .unwrap_or_else(|| panic!("{subject}: no {version} in {attempt}"))
}

#[test]
fn session_resumption_is_reported_per_version_postfix_resumes_dovecot_does_not() {
    let report = report();
    // Given good.test's Postfix (session cache and tickets on by default),
    // both versions resume, and TLS-112 says so (informational).
    for subject in ["mx.good.test:25", "mx.good.test:465", "smtp.good.test:587"] {
        assert_eq!(
            resumption(report, subject, "TLSv1.3"),
            "resumed",
            "{subject}"
        );
        assert_eq!(
            resumption(report, subject, "TLSv1.2"),
            "resumed",
            "{subject}"
        );
        expect(report, "TLS-112", subject, "fail", Some("info"));
        let text = detail(report, "TLS-112", subject);
        assert!(
            text.contains("TLSv1.3") && text.contains("TLSv1.2"),
            "{subject}: {text}"
        );
    }
    // A TLS-1.3-only Postfix resumes with a ticket; its TLS 1.2 is not tried.
    assert_eq!(
        resumption(report, "mx.legacy.test:465", "TLSv1.3"),
        "resumed"
    );
    assert_eq!(
        resumption(report, "mx.legacy.test:465", "TLSv1.2"),
        "not_tested"
    );
    // Dovecot (a login process per connection, no tickets) resumes none.
    for subject in [
        "imap.good.test:143",
        "imap.good.test:993",
        "tls13.legacy.test:993",
    ] {
        assert_eq!(
            resumption(report, subject, "TLSv1.3"),
            "not_resumed",
            "{subject}"
        );
        expect(report, "TLS-112", subject, "pass", None);
    }
    // DHE-only TLS 1.2 (rustls has no DHE) and no TLS 1.3: nothing to tell.
    expect(
        report,
        "TLS-112",
        "mx.legacy.test:587",
        "inconclusive",
        None,
    );
}

#[test]
fn no_implicit_tls_port_accepts_0_rtt_and_starttls_ports_are_not_judged() {
    let report = report();
    // Given the implicit TLS ports: Postfix's tickets allow no early data,
    // Dovecot issues no ticket; either way nothing is accepted.
    for subject in [
        "mx.good.test:465",
        "smtp.good.test:465",
        "imap.good.test:993",
        "mx.legacy.test:465",
        "imap.legacy.test:993",
        "imap.legacy.test:995",
        "tls13.legacy.test:993",
    ] {
        let early = &common::endpoint(report, subject)["tls_active"]["value"]["early_data"];
        assert_eq!(early["outcome"], "refused", "{subject}: {early}");
        assert!(
            early.get("command").is_none(),
            "{subject}: nothing was sent"
        );
        expect(report, "TLS-113", subject, "pass", None);
    }
    let postfix = &common::endpoint(report, "mx.good.test:465")["tls_active"]["value"];
    assert!(
        postfix["early_data"]["observed"]
            .as_str()
            .unwrap()
            .contains("max_early_data_size 0"),
        "{postfix}"
    );
    // STARTTLS ports are not tried, and the rule does not apply to them.
    for subject in ["mx.good.test:25", "imap.good.test:143"] {
        let early = &common::endpoint(report, subject)["tls_active"]["value"]["early_data"];
        assert_eq!(early["outcome"], "not_tested", "{subject}: {early}");
        expect(report, "TLS-113", subject, "not_applicable", None);
    }
}

#[test]
fn without_the_tls_scan_0_rtt_is_inconclusive_on_implicit_tls_ports() {
    let (_, report) = scan_lab(&["good.test"], &["--no-tls-scan"]);
    for subject in ["mx.good.test:465", "imap.good.test:993"] {
        expect(&report, "TLS-113", subject, "inconclusive", None);
        assert!(
            detail(&report, "TLS-113", subject).contains("--no-tls-scan"),
            "{}",
            detail(&report, "TLS-113", subject)
        );
    }
}

/// The SHA-256 of a certificate's SubjectPublicKeyInfo as OpenSSL computes
/// it (`openssl x509 -pubkey | openssl pkey -pubin -outform DER`).
fn openssl_spki_sha256(der_base64: &str) -> String {
    use base64::Engine;
    use std::io::Write;
    use std::process::{Command, Stdio};
    let der = base64::engine::general_purpose::STANDARD
        .decode(der_base64)
        .expect("certificate base64");
    let run = |args: &[&str], input: &[u8]| -> Vec<u8> {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl");
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "openssl {args:?}");
        out.stdout
    };
    let pem = run(&["x509", "-inform", "DER", "-pubkey", "-noout"], &der);
    let spki = run(&["pkey", "-pubin", "-outform", "DER"], &pem);
    let digest = run(&["dgst", "-sha256", "-r"], &spki);
    String::from_utf8(digest).unwrap()[..64].to_string()
}

#[test]
fn each_leaf_key_hash_is_its_subject_public_key_info_as_openssl_hashes_it() {
    // Given every TLS endpoint of good.test and legacy.test
    let report = report();
    let mut leaves = Vec::new();
    for target in report["targets"].as_array().unwrap() {
        for endpoint in target["evidence"]["endpoints"].as_array().unwrap() {
            if let Some(leaf) = endpoint["tls"]["value"]["chain"].get(0) {
                leaves.push((endpoint["subject"].as_str().unwrap(), leaf));
            }
        }
    }
    assert!(leaves.len() >= 20, "{} endpoints with TLS", leaves.len());
    // Then each leaf's key hash (what DROWN, TLS-105, compares) is OpenSSL's
    for (subject, leaf) in &leaves {
        assert_eq!(
            leaf["spki_sha256"].as_str().unwrap(),
            openssl_spki_sha256(leaf["der_base64"].as_str().unwrap()),
            "{subject}"
        );
    }
    // And endpoints serving one certificate share one key hash
    let key = |subject: &str| {
        leaves.iter().find(|(s, _)| *s == subject).unwrap().1["spki_sha256"]
            .as_str()
            .unwrap()
    };
    assert_eq!(key("mx.good.test:25"), key("mx.good.test:465"));
    assert_ne!(key("mx.good.test:25"), key("imap.legacy.test:993"));
}

#[test]
fn client_renegotiation_is_refused_everywhere_but_on_legacy_port_25() {
    let report = report();
    let accepting = "mx.legacy.test:25";
    // Every endpoint but legacy.test's port 25 refuses: those with TLS 1.2 by the warning alert
    // no_renegotiation (Postfix, Dovecot; ECDHE, or DHE only on 587),
    // the TLS-1.3-only ones by refusing the TLS 1.2 hello (Postfix with
    // protocol_version, Dovecot by closing).
    for subject in LEGACY_WEAK.iter().chain(&LEGACY_STRICT).chain(&GOOD) {
        if *subject == accepting {
            continue;
        }
        let (outcome, observed) = active_check(report, subject, "client_renegotiation");
        assert_eq!(outcome, "not_affected", "{subject}: {observed}");
        assert!(
            observed.contains("NoRenegotiation (100)")
                || observed.contains("only TLS 1.3")
                || observed.contains("TLS 1.0–1.2 hello"),
            "{subject}: {observed}"
        );
        expect(report, "TLS-114", subject, "pass", None);
    }
    for (subject, answer) in [
        ("mx.legacy.test:587", "suite 0x009e"),
        ("mx.legacy.test:465", "only TLS 1.3"),
        ("imap.good.test:4190", "NoRenegotiation (100)"),
    ] {
        let (_, observed) = active_check(report, subject, "client_renegotiation");
        assert!(observed.contains(answer), "{subject}: {observed}");
    }
    // Given legacy.test's port 25, whose Postfix sets OpenSSL 3's
    // SSL_OP_ALLOW_CLIENT_RENEGOTIATION, the probe's own TLS 1.2 handshake
    // completes and the second ClientHello is answered with a ServerHello:
    let (outcome, observed) = active_check(report, accepting, "client_renegotiation");
    assert_eq!(outcome, "affected", "{observed}");
    assert!(observed.contains("a ServerHello"), "{observed}");
    expect(report, "TLS-114", accepting, "fail", Some("medium"));
}

#[test]
fn robot_finds_no_oracle_on_the_real_servers() {
    let report = report();
    // Given every TLS endpoint of legacy.test and good.test, none is a
    // Bleichenbacher oracle, and TLS-115 passes,
    for subject in LEGACY_WEAK.iter().chain(&LEGACY_STRICT).chain(&GOOD) {
        let (outcome, observed) = active_check(report, subject, "robot");
        assert_eq!(outcome, "not_affected", "{subject}: {observed}");
        expect(report, "TLS-115", subject, "pass", None);
    }
    // where static RSA is offered, because OpenSSL 3 answers all five
    // variants alike (it goes on with a random premaster secret),
    for subject in ["mx.legacy.test:25", "imap.legacy.test:993"] {
        let (_, observed) = active_check(report, subject, "robot");
        assert!(
            observed.contains("every ClientKeyExchange variant was answered the same"),
            "{subject}: {observed}"
        );
    }
    // and elsewhere because no RSA key exchange suite is accepted.
    for subject in [
        "mx.legacy.test:587",
        "mx.good.test:25",
        "imap.good.test:993",
    ] {
        let (_, observed) = active_check(report, subject, "robot");
        assert!(
            observed.contains("no RSA key exchange") || observed.contains("accepts none"),
            "{subject}: {observed}"
        );
    }
}
