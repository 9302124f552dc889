//! The active TLS checks (TLS-110 Heartbleed, TLS-111 CCS injection)
//! against in-test responders on 127.0.0.1 (`support/vulnerable_tls.rs`):
//! deliberately vulnerable ones prove "affected", a fixed one with
//! heartbeats "not affected", and hostile ones (garbage, a truncated
//! record, a huge length, silence) never panic and leave both checks
//! "not tested" (the rules inconclusive) within the timeout. A rustls
//! server that takes 0-RTT proves TLS-113's failing side (the lab's
//! Postfix and Dovecot refuse it). For TLS-114 (client-initiated
//! renegotiation) a rustls TLS 1.2 server checks the probe's own handshake:
//! rustls refuses renegotiation with a warning alert (pass), and the same
//! server answering garbage after its Finished leaves the check not tested
//! (inconclusive), as do the hostile hello answers above. An RSA key
//! exchange that answers bad padding differently (`support/robot_tls.rs`)
//! fails TLS-115 (ROBOT). Needs no lab.

mod common;
#[path = "support/robot_tls.rs"]
mod robot_tls;
#[path = "support/vulnerable_tls.rs"]
mod vulnerable_tls;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use vulnerable_tls::{LEAKED_MEMORY, serve};

/// How a responder serves one connection.
type Behaviour = fn(std::net::TcpStream);

/// Scans one `--host` endpoint with a 1 s step timeout; DNS goes to a
/// closed local port so it fails fast.
fn scan(host: &str) -> (Value, String, Duration) {
    let started = Instant::now();
    let output = common::mailaudit()
        .args([
            "scan",
            "hostile.test",
            "--resolver",
            "127.0.0.1:9",
            "--timeout",
            "1",
            "--no-location",
            "--lang",
            "en",
        ])
        .args(["--format", "json", "--out", "-", "--host", host])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.code().is_some(), "killed by a signal");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    (
        serde_json::from_str(&stdout).expect("JSON report"),
        stdout,
        elapsed,
    )
}

/// The endpoint's active checks, which must have run.
fn active<'a>(report: &'a Value, subject: &str) -> &'a Value {
    let attempt = &common::endpoint(report, subject)["tls_active"];
    assert_eq!(attempt["status"], "completed", "{attempt}");
    &attempt["value"]
}

#[test]
fn a_server_that_returns_what_the_heartbeat_claimed_fails_tls_110_and_keeps_no_leaked_byte() {
    // Given an IMAPS server answering like OpenSSL 1.0.1f
    let port = serve(vulnerable_tls::vulnerable_with_alert);
    let subject = format!("127.0.0.1:{port}");
    // When it is scanned
    let (report, text, _) = scan(&format!("imaps://{subject}"));
    // Then the heartbeat response's length is recorded, not its bytes,
    let heartbleed = &active(&report, &subject)["heartbleed"];
    assert_eq!(heartbleed["outcome"], "affected", "{heartbleed}");
    assert_eq!(heartbleed["version"], "TLSv1.2", "{heartbleed}");
    assert_eq!(heartbleed["returned_bytes"], 3 + 16384 + 16, "{heartbleed}");
    let leaked = String::from_utf8_lossy(LEAKED_MEMORY);
    assert!(
        !text.contains(leaked.as_ref()),
        "leaked bytes in the report"
    );
    // and TLS-110 fails as critical.
    common::expect(&report, "TLS-110", &subject, "fail", Some("critical"));
    let detail = common::finding(&report, "TLS-110", &subject)["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("16403 bytes"), "{detail}");
}

#[test]
fn a_server_that_accepts_an_early_change_cipher_spec_fails_tls_111() {
    // Given servers that stay silent after an early ChangeCipherSpec and
    // answer the second with bad_record_mac, or not at all,
    for behaviour in [
        vulnerable_tls::vulnerable_with_alert as Behaviour,
        vulnerable_tls::vulnerable_silent,
    ] {
        let port = serve(behaviour);
        let subject = format!("127.0.0.1:{port}");
        // when they are scanned,
        let (report, _, _) = scan(&format!("pop3s://{subject}"));
        // then CCS injection is affected and TLS-111 fails as high.
        let ccs = &active(&report, &subject)["ccs_injection"];
        assert_eq!(ccs["outcome"], "affected", "{ccs}");
        assert!(
            ccs["observed"]
                .as_str()
                .unwrap()
                .starts_with("no alert within"),
            "{ccs}"
        );
        common::expect(&report, "TLS-111", &subject, "fail", Some("high"));
    }
}

#[test]
fn a_fixed_server_with_heartbeats_passes_both() {
    // Given a server that echoes the heartbeat extension but discards the
    // overlong request and refuses an early ChangeCipherSpec
    let port = serve(vulnerable_tls::fixed_with_heartbeat);
    let subject = format!("127.0.0.1:{port}");
    let (report, _, _) = scan(&format!("imaps://{subject}"));
    let checks = active(&report, &subject);
    // Then the heartbeat request went unanswered within the timeout
    assert_eq!(checks["heartbleed"]["outcome"], "not_affected", "{checks}");
    assert!(
        checks["heartbleed"]["observed"]
            .as_str()
            .unwrap()
            .contains("discarded"),
        "{checks}"
    );
    // and the early ChangeCipherSpec met unexpected_message.
    assert_eq!(checks["ccs_injection"]["outcome"], "not_affected");
    assert!(
        checks["ccs_injection"]["observed"]
            .as_str()
            .unwrap()
            .contains("UnexpectedMessage (10)"),
        "{checks}"
    );
    common::expect(&report, "TLS-110", &subject, "pass", None);
    common::expect(&report, "TLS-111", &subject, "pass", None);
}

#[test]
fn hostile_answers_leave_both_checks_not_tested_within_the_timeout() {
    let cases: [(Behaviour, &str); 4] = [
        (vulnerable_tls::huge_length, "65535 bytes"),
        (
            vulnerable_tls::truncated,
            "a record cut off by the end of the connection",
        ),
        (vulnerable_tls::garbage, "non-TLS answer"),
        (vulnerable_tls::silent, "did not end within 1s"),
    ];
    let handles: Vec<_> = cases
        .into_iter()
        .map(|(behaviour, expected)| {
            std::thread::spawn(move || {
                // Given a server that answers the hello with `behaviour`
                let port = serve(behaviour);
                let subject = format!("127.0.0.1:{port}");
                // When it is scanned
                let (report, _, elapsed) = scan(&format!("imaps://{subject}"));
                // Then both checks are not tested, with the reason,
                let checks = active(&report, &subject);
                for check in ["heartbleed", "ccs_injection", "client_renegotiation"] {
                    assert_eq!(checks[check]["outcome"], "not_tested", "{checks}");
                    let observed = checks[check]["observed"].as_str().unwrap();
                    assert!(observed.contains(expected), "{expected}: {observed}");
                }
                // the rules are inconclusive, never pass,
                for rule in ["TLS-110", "TLS-111", "TLS-114"] {
                    common::expect(&report, rule, &subject, "inconclusive", None);
                }
                // and the scan ends within its bounds.
                assert!(elapsed < Duration::from_secs(40), "took {elapsed:?}");
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("no case failed");
    }
}

/// A rustls server configuration that issues TLS 1.3 tickets permitting
/// 16 KiB of early data and accepts it (tests/fixtures/hostile-tls).
fn early_data_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let certs =
                CertificateDer::pem_slice_iter(include_bytes!("fixtures/hostile-tls/cert.pem"))
                    .collect::<Result<Vec<_>, _>>()
                    .expect("test certificate");
            let key = PrivateKeyDer::from_pem_slice(include_bytes!("fixtures/hostile-tls/key.pem"))
                .expect("test key");
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("server config");
            config.max_early_data_size = 16384;
            Arc::new(config)
        })
        .clone()
}

/// IMAPS that accepts 0-RTT: a greeting, CAPABILITY and LOGOUT answered,
/// everything else refused; early data is read and dropped.
fn imaps_with_early_data(stream: std::net::TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(connection) = rustls::ServerConnection::new(early_data_config()) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    while tls.conn.is_handshaking() {
        if tls.conn.complete_io(&mut tls.sock).is_err() {
            return;
        }
    }
    if let Some(mut early) = tls.conn.early_data() {
        let mut dropped = Vec::new();
        let _ = early.read_to_end(&mut dropped);
    }
    if tls.write_all(b"* OK early.test ready\r\n").is_err() {
        return;
    }
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while tls.read(&mut byte).is_ok_and(|n| n == 1) {
        if byte[0] != b'\n' {
            line.push(byte[0]);
            continue;
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end()
            .to_ascii_uppercase();
        let tag = text.split(' ').next().unwrap_or("*").to_string();
        line.clear();
        let reply = if text.ends_with(" CAPABILITY") {
            format!("* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")
        } else if text.ends_with(" LOGOUT") {
            let _ = tls.write_all(format!("* BYE\r\n{tag} OK bye\r\n").as_bytes());
            return;
        } else {
            format!("{tag} BAD not here\r\n")
        };
        if tls.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn a_server_that_accepts_tls13_early_data_fails_tls_113() {
    // Given an IMAPS server whose tickets permit early data and which
    // accepts it on a resumed session
    let port = serve(imaps_with_early_data);
    let subject = format!("127.0.0.1:{port}");
    // When it is scanned
    let (report, _, _) = scan(&format!("imaps://{subject}"));
    let checks = active(&report, &subject);
    // Then TLS 1.3 resumed, the harmless NOOP went out as early data and
    // was accepted,
    let early = &checks["early_data"];
    assert_eq!(early["outcome"], "accepted", "{checks}");
    assert_eq!(early["command"], "b NOOP", "{early}");
    let resumed = checks["resumption"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["version"] == "TLSv1.3" && r["outcome"] == "resumed");
    assert!(resumed, "{checks}");
    // and TLS-113 fails as medium, while TLS-112 reports the resumption.
    common::expect(&report, "TLS-113", &subject, "fail", Some("medium"));
    common::expect(&report, "TLS-112", &subject, "fail", Some("info"));
}

/// The test certificate with TLS 1.2 only, as rustls serves it (ECDHE-ECDSA
/// with AES-GCM, extended master secret, renegotiation_info).
fn tls12_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let certs =
                CertificateDer::pem_slice_iter(include_bytes!("fixtures/hostile-tls/cert.pem"))
                    .collect::<Result<Vec<_>, _>>()
                    .expect("test certificate");
            let key = PrivateKeyDer::from_pem_slice(include_bytes!("fixtures/hostile-tls/key.pem"))
                .expect("test key");
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS12])
                .expect("TLS 1.2")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("server config");
            Arc::new(config)
        })
        .clone()
}

/// Completes a TLS 1.2 handshake with rustls; `None` when it failed.
fn tls12_handshake(
    stream: std::net::TcpStream,
) -> Option<rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let connection = rustls::ServerConnection::new(tls12_config()).ok()?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).ok()?;
    }
    Some(tls)
}

/// IMAPS over rustls TLS 1.2: a greeting, then whatever comes is read, so
/// that rustls answers a renegotiating ClientHello (with its warning alert
/// no_renegotiation).
fn tls12_refusing(stream: std::net::TcpStream) {
    let Some(mut tls) = tls12_handshake(stream) else {
        return;
    };
    if tls.write_all(b"* OK rustls ready\r\n").is_err() {
        return;
    }
    let mut buffer = [0u8; 512];
    while tls.read(&mut buffer).is_ok_and(|n| n > 0) {}
}

/// The same, but bytes that are no TLS record right after the handshake.
fn tls12_then_garbage(stream: std::net::TcpStream) {
    let Some(mut tls) = tls12_handshake(stream) else {
        return;
    };
    let _ = tls
        .sock
        .write_all(b"\x00\xff\xfe garbage after the Finished\r\n");
    std::thread::sleep(Duration::from_secs(3));
}

#[test]
fn a_tls12_server_that_refuses_renegotiation_passes_tls_114() {
    // Given a rustls TLS 1.2 server (it never renegotiates)
    let port = serve(tls12_refusing);
    let subject = format!("127.0.0.1:{port}");
    // When it is scanned
    let (report, _, _) = scan(&format!("imaps://{subject}"));
    // Then the probe's own handshake completed (ECDHE-ECDSA, extended
    // master secret) and the second ClientHello met the warning alert.
    let check = &active(&report, &subject)["client_renegotiation"];
    assert_eq!(check["outcome"], "not_affected", "{check}");
    assert_eq!(check["version"], "TLSv1.2", "{check}");
    let observed = check["observed"].as_str().unwrap();
    assert!(observed.contains("NoRenegotiation (100)"), "{observed}");
    assert!(
        observed.contains("extended master secret offered"),
        "{observed}"
    );
    common::expect(&report, "TLS-114", &subject, "pass", None);
}

#[test]
fn garbage_after_the_finished_leaves_renegotiation_not_tested_within_the_timeout() {
    // Given a TLS 1.2 server that sends garbage after its Finished
    let port = serve(tls12_then_garbage);
    let subject = format!("127.0.0.1:{port}");
    // When it is scanned
    let (report, _, elapsed) = scan(&format!("imaps://{subject}"));
    // Then the check is not tested, with what was seen,
    let check = &active(&report, &subject)["client_renegotiation"];
    assert_eq!(check["outcome"], "not_tested", "{check}");
    let observed = check["observed"].as_str().unwrap();
    assert!(
        observed.contains("non-TLS answer") && observed.contains("renegotiating ClientHello"),
        "{observed}"
    );
    // TLS-114 is inconclusive, never pass, and the scan stays bounded.
    common::expect(&report, "TLS-114", &subject, "inconclusive", None);
    assert!(elapsed < Duration::from_secs(40), "took {elapsed:?}");
}

#[test]
fn a_padding_oracle_on_rsa_key_exchange_fails_tls_115_within_ten_connections() {
    // Given an RSA key exchange that answers bad PKCS#1 padding with
    // decrypt_error and good padding with bad_record_mac
    let port = serve(robot_tls::vulnerable);
    let subject = format!("127.0.0.1:{port}");
    // When it is scanned
    let (report, _, elapsed) = scan(&format!("imaps://{subject}"));
    // Then the five variants were answered differently, twice alike,
    let robot = &active(&report, &subject)["robot"];
    assert_eq!(robot["outcome"], "affected", "{robot}");
    assert_eq!(robot["connections"], 10, "{robot}");
    let observed = robot["observed"].as_str().unwrap();
    assert!(
        observed.contains("correct padding: fatal alert BadRecordMac (20)")
            && observed.contains("wrong first bytes: fatal alert DecryptError (51)")
            && observed.contains("no 0x00 separator: fatal alert DecryptError (51)"),
        "{observed}"
    );
    // and TLS-115 fails as critical.
    common::expect(&report, "TLS-115", &subject, "fail", Some("critical"));
    assert!(elapsed < Duration::from_secs(40), "took {elapsed:?}");
}
