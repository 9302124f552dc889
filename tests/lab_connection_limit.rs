//! Issue 20: the TLS scan under a server's connection limit, on two
//! implementations. First, a relay on
//! 127.0.0.1 stands in front of the lab's legacy.test Dovecot (IMAPS, TLS
//! 1.0 to 1.3, many suites) and behaves like Exim's defaults do for SMTP:
//! beyond a few concurrent connections, and for a while after each one
//! ends, it answers in plain text that it is busy and closes, where the
//! client waits for a ServerHello. Second, the lab's legacy Postfix with
//! its own per-client connection limit on 127.0.14.26:25.
//!
//! Then the scan either proves the same versions, suites, groups and curves
//! as a scan of the server without the relay, or says which facts are
//! missing, and no TLS rule passes on them. Needs the lab (tests/run.sh).

mod common;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// legacy.test's Dovecot, IMAPS.
const UPSTREAM: &str = "127.0.14.143:993";

/// What the relay counted.
#[derive(Default)]
struct Counts {
    relayed: AtomicUsize,
    refused: AtomicUsize,
}

/// A relay to [`UPSTREAM`] admitting `limit` connections at once; each
/// slot stays taken `hold` after its connection ends. Beyond that it
/// writes `refusal` and closes.
fn limited_relay(limit: usize, hold: Duration, refusal: &'static str) -> (u16, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Counts::default());
    let slots = Arc::new(Mutex::new(0usize));
    let shared = counts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (slots, counts) = (slots.clone(), shared.clone());
            std::thread::spawn(move || {
                let admitted = {
                    let mut taken = slots.lock().unwrap();
                    (*taken < limit).then(|| *taken += 1).is_some()
                };
                if !admitted {
                    counts.refused.fetch_add(1, Ordering::SeqCst);
                    let mut client = client;
                    let _ = client.write_all(refusal.as_bytes());
                    return;
                }
                counts.relayed.fetch_add(1, Ordering::SeqCst);
                relay(client, refusal);
                std::thread::sleep(hold);
                *slots.lock().unwrap() -= 1;
            });
        }
    });
    (port, counts)
}

/// Copies both ways until either side closes (bounded by a timeout).
fn relay(mut client: TcpStream, refusal: &str) {
    let Ok(upstream) =
        TcpStream::connect_timeout(&UPSTREAM.parse().unwrap(), Duration::from_secs(2))
    else {
        // Dovecot itself at its limit: the relay says so, as a server would.
        let _ = client.write_all(refusal.as_bytes());
        return;
    };
    for stream in [&client, &upstream] {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    }
    let (mut client_read, mut upstream_write) =
        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let forward = std::thread::spawn(move || {
        let _ = copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(std::net::Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let _ = copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Both);
    let _ = forward.join();
}

fn copy(from: &mut TcpStream, to: &mut TcpStream) -> std::io::Result<()> {
    let mut buffer = [0u8; 16384];
    loop {
        let read = from.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        to.write_all(&buffer[..read])?;
    }
}

/// Scans one `--host` endpoint only (DNS goes to a closed local port).
fn scan(host: &str, extra: &[&str]) -> Value {
    let mut arguments = vec!["--host", host];
    arguments.extend(extra);
    common::scan_lab_with("127.0.0.1:9", &["limit.test"], &arguments).1
}

/// The facts the rules read: accepted versions with their suites, TLS 1.3
/// groups, ECDHE curves and the DH prime.
fn facts(scan: &Value) -> Value {
    let versions: Vec<Value> = scan["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            serde_json::json!({
                "version": v["version"],
                "accepted": v["accepted"],
                "suites": v["suites"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "versions": versions,
        "tls13_groups": scan["tls13_groups"],
        "ecdhe_curves": scan["ecdhe_curves"],
        "dhe_prime_bits": scan["dhe_prime_bits"],
    })
}

fn findings_on<'a>(report: &'a Value, subject: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"] == subject && f["rule"].as_str().unwrap().starts_with("TLS-"))
        .collect()
}

/// The rules that read the TLS scan's facts.
const SCAN_RULES: [&str; 7] = [
    "TLS-003", "TLS-004", "TLS-006", "TLS-007", "TLS-008", "TLS-010", "TLS-012",
];

/// Given `truth`, the scan of the server without a limit, `limited` is the
/// scan of `subject` under one: either every fact equals the truth and the
/// backoff is recorded, or the scan says what is missing and no rule that
/// reads it passes.
fn assert_same_facts_or_inconclusive(truth: &Value, limited: &Value, subject: &str) {
    let tls_scan = &common::endpoint(limited, subject)["tls_scan"];
    match tls_scan["status"].as_str() {
        Some("completed") => {
            assert_eq!(facts(&tls_scan["value"]), facts(&truth["value"]));
            let notes = tls_scan["value"]["notes"].to_string();
            assert!(notes.contains("busy"), "the backoff is recorded: {notes}");
        }
        Some("failed") => {
            let reason = tls_scan["reason"].as_str().unwrap();
            assert!(
                reason.contains("incomplete") && reason.contains("Missing:"),
                "{reason}"
            );
            let findings = findings_on(limited, subject);
            for rule in SCAN_RULES {
                for finding in findings.iter().filter(|f| f["rule"] == rule) {
                    assert_ne!(finding["status"], "pass", "{finding}");
                }
            }
        }
        other => panic!("unexpected TLS scan status {other:?}: {tls_scan}"),
    }
    // The active checks (TLS-110, TLS-111, TLS-114) share the address's limit: a
    // busy answer is retried and never read as the server's answer, so
    // each is not affected, as without the limit, or not tested.
    let active = &common::endpoint(limited, subject)["tls_active"];
    assert_eq!(active["status"], "completed", "{active}");
    for check in ["heartbleed", "ccs_injection", "client_renegotiation"] {
        let found = &active["value"][check];
        eprintln!("{check}: {found}");
        match found["outcome"].as_str() {
            Some("not_affected") => {}
            Some("not_tested") => assert!(
                found["observed"].as_str().unwrap().contains("busy"),
                "{found}"
            ),
            _ => panic!("{check} under the limit: {found}"),
        }
    }
}

fn check_limited(refusal: &'static str) {
    // Given the server's facts without a limit
    let direct = scan(&format!("imaps://{UPSTREAM}"), &[]);
    let truth = &common::endpoint(&direct, UPSTREAM)["tls_scan"];
    assert_eq!(truth["status"], "completed", "{truth}");
    // When the same server is scanned through a relay that admits 3
    // connections at once and holds each slot 300 ms after it ends
    let (port, counts) = limited_relay(3, Duration::from_millis(300), refusal);
    let subject = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let limited = scan(
        &format!("imaps://{subject}"),
        &["--connections-per-host", "8"],
    );
    let elapsed = started.elapsed();
    let refused = counts.refused.load(Ordering::SeqCst);
    let tls_scan = &common::endpoint(&limited, &subject)["tls_scan"];
    eprintln!(
        "{refusal:?}: {refused} refused, {} relayed, {elapsed:?}, status {} {}",
        counts.relayed.load(Ordering::SeqCst),
        tls_scan["status"],
        tls_scan["reason"]
    );
    assert!(
        refused > 0,
        "the relay refused no connection: the case was not exercised"
    );
    // Then the facts are the same, or missing and judged by no rule
    assert_same_facts_or_inconclusive(truth, &limited, &subject);
}

/// The second implementation: Postfix's own limit (anvil,
/// `smtpd_client_connection_count_limit = 2` on 127.0.14.26:25 of the
/// legacy Postfix, the same server as 127.0.14.25:25 without the limit).
/// Postfix answers `421 4.7.0 … too many connections` instead of its
/// greeting, so the STARTTLS upgrade meets it.
#[test]
fn postfix_at_its_connection_limit_is_busy_not_refusing_suites() {
    let direct = scan("smtp://127.0.14.25:25", &[]);
    let truth = &common::endpoint(&direct, "127.0.14.25:25")["tls_scan"];
    assert_eq!(truth["status"], "completed", "{truth}");
    let log = common::repo("tests/lab/run/logs/legacy-postfix.log");
    let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let limited = scan("smtp://127.0.14.26:25", &["--connections-per-host", "6"]);
    std::thread::sleep(Duration::from_millis(500));
    let text = std::fs::read(&log).expect("the legacy Postfix log");
    let refusals = String::from_utf8_lossy(&text[before as usize..])
        .matches("Connection concurrency limit exceeded")
        .count();
    let tls_scan = &common::endpoint(&limited, "127.0.14.26:25")["tls_scan"];
    eprintln!(
        "postfix: {refusals} refusals, status {} {}",
        tls_scan["status"], tls_scan["reason"]
    );
    assert!(refusals > 0, "Postfix refused no connection: not exercised");
    assert_same_facts_or_inconclusive(truth, &limited, "127.0.14.26:25");
}

#[test]
fn a_plain_text_421_on_an_implicit_tls_port_is_busy_not_a_refused_suite() {
    check_limited("421 Too many concurrent SMTP connections; please try again later.\r\n");
}

#[test]
fn an_imap_bye_under_load_is_busy_not_a_refused_suite() {
    check_limited("* BYE Too many connections from your IP\r\n");
}
