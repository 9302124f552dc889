//! Peers no real server imitates: silent, garbage-speaking, or flooding,
//! and TLS servers with flaws the lab's cannot have (STARTTLS command
//! injection, SSLv2).
//! The scan must finish within its timeouts, never panic, and record a failed
//! attempt with a precise reason. The servers are tiny threads on 127.0.0.1.

mod common;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
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

// --- Peers that speak TLS (rustls with the self-signed certificate in
// tests/fixtures/hostile-tls, made once with `openssl req -x509`).

fn tls_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let certs = CertificateDer::pem_slice_iter(HOSTILE_CERT)
                .collect::<Result<Vec<_>, _>>()
                .expect("test certificate");
            let key = PrivateKeyDer::from_pem_slice(HOSTILE_KEY).expect("test key");
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("server config");
            Arc::new(config)
        })
        .clone()
}

const HOSTILE_CERT: &[u8] = include_bytes!("fixtures/hostile-tls/cert.pem");
const HOSTILE_KEY: &[u8] = include_bytes!("fixtures/hostile-tls/key.pem");

/// The next line from `pending`, reading more from `stream` when needed
/// (at most 8 KiB buffered); `None` at the end of the stream.
fn next_line(stream: &mut impl Read, pending: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            return Some(String::from_utf8_lossy(&line).trim_end().to_string());
        }
        let mut chunk = [0u8; 1024];
        match stream.read(&mut chunk) {
            Ok(count) if count > 0 && pending.len() < 8192 => {
                pending.extend_from_slice(&chunk[..count])
            }
            _ => return None,
        }
    }
}

/// SMTP that keeps what was pipelined behind STARTTLS and answers it inside
/// TLS: the CVE-2011-0411 flaw. Returns true when STARTTLS was agreed.
fn smtp_commands(stream: &mut (impl Read + Write), pending: &mut Vec<u8>, plaintext: bool) -> bool {
    while let Some(line) = next_line(stream, pending) {
        let verb = line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if plaintext => b"250-hostile.test\r\n250 STARTTLS\r\n",
            "EHLO" => b"250-hostile.test\r\n250 PIPELINING\r\n",
            "STARTTLS" if plaintext => {
                let _ = stream.write_all(b"220 2.0.0 go ahead\r\n");
                return true;
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "HELP" => b"214 2.0.0 no help here\r\n",
            "QUIT" => {
                let _ = stream.write_all(b"221 2.0.0 bye\r\n");
                return false;
            }
            _ => b"502 5.5.2 not here\r\n",
        };
        if stream.write_all(reply).is_err() {
            return false;
        }
    }
    false
}

fn vulnerable_smtp(mut stream: std::net::TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.write_all(b"220 hostile.test ESMTP\r\n");
    let mut pending = Vec::new();
    if !smtp_commands(&mut stream, &mut pending, true) {
        return;
    }
    let Ok(connection) = rustls::ServerConnection::new(tls_config()) else {
        return;
    };
    // `pending` still holds the pipelined plaintext: that is the flaw.
    let mut tls = rustls::StreamOwned::new(connection, stream);
    smtp_commands(&mut tls, &mut pending, false);
}

#[test]
fn a_server_that_answers_a_command_pipelined_behind_starttls_fails_tls_011() {
    // Given an SMTP server that answers the NOOP sent with STARTTLS inside TLS
    let port = serve(vulnerable_smtp);
    let subject = format!("127.0.0.1:{port}");
    // When it is scanned
    let (report, _) = scan(&format!("smtp://{subject}"));
    // Then the injection is recorded and TLS-011 fails
    let injection = attempt(&report, &subject, "starttls_injection");
    assert_eq!(injection["status"], "completed", "{injection}");
    assert_eq!(injection["value"]["upgraded"], true, "{injection}");
    assert_eq!(
        injection["value"]["answered_inside_tls"], true,
        "{injection}"
    );
    assert_eq!(injection["value"]["answer_inside_tls"], "250 2.0.0 Ok");
    let finding = common::finding(&report, "TLS-011", &subject);
    assert_eq!(finding["status"], "fail", "{finding}");
    assert_eq!(finding["severity"], "high", "{finding}");
}

/// The SSLv2 SERVER-HELLO (message 4) of an old OpenSSL: session-id-hit 0,
/// an X.509 certificate, version 2, RC4-MD5 and DES-EDE3-MD5, a connection id.
fn sslv2_server_hello() -> Vec<u8> {
    let certificate = CertificateDer::pem_slice_iter(HOSTILE_CERT)
        .next()
        .and_then(Result::ok)
        .expect("test certificate");
    let mut body = vec![4, 0, 1, 0, 2];
    body.extend_from_slice(&(certificate.len() as u16).to_be_bytes());
    body.extend_from_slice(&[0, 6, 0, 16]);
    body.extend_from_slice(&certificate);
    body.extend_from_slice(&[0x01, 0x00, 0x80, 0x07, 0x00, 0xc0]);
    body.extend_from_slice(&[0x42; 16]);
    let mut record = (body.len() as u16 | 0x8000).to_be_bytes().to_vec();
    record.extend(body);
    record
}

/// Implicit TLS that also answers an SSLv2 CLIENT-HELLO (message 1 in a
/// record with the high bit set), as servers did before RFC 6176.
fn sslv2_imaps(mut stream: std::net::TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = [0u8; 3];
    for _ in 0..50 {
        match stream.peek(&mut head) {
            Ok(3) => break,
            Ok(0) | Err(_) => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    if head[0] & 0x80 != 0 && head[2] == 1 {
        let _ = stream.write_all(&sslv2_server_hello());
        return;
    }
    let Ok(connection) = rustls::ServerConnection::new(tls_config()) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    if tls.write_all(b"* OK hostile.test ready\r\n").is_err() {
        return;
    }
    let mut pending = Vec::new();
    while let Some(line) = next_line(&mut tls, &mut pending) {
        let tag = line.split(' ').next().unwrap_or("*").to_string();
        let upper = line.to_ascii_uppercase();
        let reply = if upper.ends_with(" CAPABILITY") {
            format!("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n")
        } else if upper.ends_with(" LOGOUT") {
            let _ = tls.write_all(format!("* BYE\r\n{tag} OK bye\r\n").as_bytes());
            return;
        } else {
            format!("{tag} BAD unknown\r\n")
        };
        if tls.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn a_server_that_answers_an_sslv2_hello_fails_tls_003() {
    // Given an IMAPS server that still answers SSLv2 CLIENT-HELLOs
    let port = serve(sslv2_imaps);
    let subject = format!("127.0.0.1:{port}");
    // When it is scanned
    let (report, _) = scan(&format!("imaps://{subject}"));
    // Then SSLv2 is accepted with its two cipher kinds, and TLS-003 fails
    let scan = attempt(&report, &subject, "tls_scan");
    assert_eq!(scan["status"], "completed", "{scan}");
    let sslv2 = &scan["value"]["versions"][0];
    assert_eq!(sslv2["version"], "SSLv2", "{sslv2}");
    assert_eq!(sslv2["accepted"], true, "{sslv2}");
    let suites: Vec<&str> = sslv2["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        suites,
        [
            "SSL_CK_RC4_128_WITH_MD5",
            "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
        ]
    );
    let finding = common::finding(&report, "TLS-003", &subject);
    assert_eq!(finding["status"], "fail", "{finding}");
    assert!(
        finding["detail"].as_str().unwrap().contains("SSLv2"),
        "{finding}"
    );
    // and rustls itself speaks TLS 1.2 and 1.3 only, so SSLv3 stays refused.
    assert_eq!(scan["value"]["versions"][1]["accepted"], false);
}
