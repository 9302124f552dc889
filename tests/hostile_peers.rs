//! Peers no real server imitates: silent, garbage-speaking, or flooding.
//! The scan must finish within its timeouts, never panic, and record a failed
//! attempt with a precise reason. The servers are tiny threads on 127.0.0.1.

mod common;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Serves every connection with `behaviour`, in a background thread.
fn serve(behaviour: fn(std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    port
}

/// Scans one `--host` endpoint; DNS goes to a closed local port so it fails fast.
fn scan(host: &str) -> (Value, Duration) {
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
        ])
        .args(["--format", "json", "--out", "-", "--host", host])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.code().is_some(),
        "the process was killed by a signal"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        serde_json::from_slice(&output.stdout).expect("JSON report"),
        elapsed,
    )
}

fn attempt<'a>(report: &'a Value, subject: &str, step: &str) -> &'a Value {
    &common::endpoint(report, subject)[step]
}

#[test]
fn a_server_that_never_speaks_times_out_with_a_reason() {
    let port = serve(|stream| {
        std::thread::sleep(Duration::from_secs(30));
        drop(stream);
    });
    let subject = format!("127.0.0.1:{port}");
    let (report, elapsed) = scan(&format!("smtp://{subject}"));
    let dialogue = attempt(&report, &subject, "dialogue");
    assert_eq!(dialogue["status"], "failed");
    assert!(
        dialogue["reason"]
            .as_str()
            .unwrap()
            .contains("no complete answer within"),
        "{dialogue}"
    );
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[test]
fn garbage_instead_of_a_greeting_is_an_unexpected_response() {
    let port = serve(|mut stream| {
        let _ = stream.write_all(b"\x00\xff\xfeHELLO? not imap\r\n");
        let mut buf = [0u8; 64];
        let _ = stream.read(&mut buf);
    });
    let subject = format!("127.0.0.1:{port}");
    let (report, _) = scan(&format!("imap://{subject}"));
    let dialogue = attempt(&report, &subject, "dialogue");
    assert_eq!(dialogue["status"], "failed");
    assert!(
        dialogue["reason"]
            .as_str()
            .unwrap()
            .contains("unexpected response"),
        "{dialogue}"
    );
}

#[test]
fn an_endless_banner_line_is_cut_off() {
    let port = serve(|mut stream| {
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..160 {
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let subject = format!("127.0.0.1:{port}");
    let (report, _) = scan(&format!("pop3://{subject}"));
    let dialogue = attempt(&report, &subject, "dialogue");
    assert_eq!(dialogue["status"], "failed");
    assert!(
        dialogue["reason"].as_str().unwrap().contains("exceeded"),
        "{dialogue}"
    );
}

#[test]
fn garbage_instead_of_a_tls_record_fails_the_handshake() {
    let port = serve(|mut stream| {
        let mut buf = [0u8; 512];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(b"220 this is not TLS at all\r\n");
        std::thread::sleep(Duration::from_secs(2));
    });
    let subject = format!("127.0.0.1:{port}");
    let (report, _) = scan(&format!("imaps://{subject}"));
    let tls = attempt(&report, &subject, "tls");
    assert_eq!(tls["status"], "failed");
    assert!(
        tls["reason"]
            .as_str()
            .unwrap()
            .contains("TLS handshake failed"),
        "{tls}"
    );
    assert_eq!(attempt(&report, &subject, "dialogue")["status"], "skipped");
    let finding = common::finding(&report, "TLS-005", &subject);
    assert_eq!(finding["status"], "inconclusive", "{finding}");
}
