//! Hostile mail peers (issue 7, section 5) not covered by hostile_peers.rs:
//! an IMAP literal `{4294967295}`, a reset right after STARTTLS, a banner
//! dripped one byte per second, an endless multi-line EHLO, invalid UTF-8,
//! and a TLS alert on every hello. Each is a thread on 127.0.0.1; DNS goes
//! to the suite's DNS server, which knows no name.

mod common;
mod hostile;

use hostile::dns::{self, Reply};
use hostile::peer::{read_line, serve};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Scans `hostile.test` plus the `--host` endpoint `url` (e.g.
/// `smtp://127.0.0.1:PORT`), and returns the endpoint's evidence and the scan.
fn scan_endpoint(url: &str) -> (serde_json::Value, hostile::Scan) {
    let server = dns::start(|_, _| Reply::Code(dns::NXDOMAIN));
    let scan = hostile::scan("hostile.test", &server.resolver(), &["--host", url]);
    let subject = url.split("://").nth(1).unwrap();
    (common::endpoint(&scan.report, subject).clone(), scan)
}

/// IMAP whose CAPABILITY answer announces a 4 GiB literal and then, without
/// sending it, completes the command.
fn imap_huge_literal(mut stream: TcpStream) {
    let _ = stream.write_all(b"* OK hostile.test IMAP ready\r\n");
    while let Some(line) = read_line(&mut stream) {
        let tag = line.split(' ').next().unwrap_or("*").to_string();
        let reply = if line.to_ascii_uppercase().ends_with(" CAPABILITY") {
            format!("* CAPABILITY IMAP4rev1 {{4294967295}}\r\n{tag} OK done\r\n")
        } else {
            format!("* BYE\r\n{tag} OK bye\r\n")
        };
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn an_imap_literal_of_4_gib_is_never_read() {
    // Given an IMAP server announcing a {4294967295} literal it never sends
    let port = serve(imap_huge_literal);
    // When it is scanned
    let (endpoint, _) = scan_endpoint(&format!("imap://127.0.0.1:{port}"));
    // Then the literal is not honoured: the tagged OK on the next line ends
    // the command, and the dialogue completes with the capabilities as sent.
    let dialogue = &endpoint["dialogue"];
    assert_eq!(dialogue["status"], "completed", "{dialogue}");
    assert_eq!(
        dialogue["value"]["capabilities_before_tls"],
        serde_json::json!(["IMAP4rev1", "{4294967295}"]),
        "{dialogue}"
    );
    let transcript = dialogue["value"]["transcript"].as_array().unwrap();
    assert!(transcript.contains(&"S: a1 OK done".into()), "{dialogue}");
}

/// SMTP that agrees to STARTTLS, waits for the ClientHello and resets the
/// connection: closing a socket with unread data sends an RST (RFC 1122 §4.2.2.13).
fn smtp_reset_after_starttls(mut stream: TcpStream) {
    let _ = stream.write_all(b"220 hostile.test ESMTP\r\n");
    while let Some(line) = read_line(&mut stream) {
        let verb = line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-hostile.test\r\n250 STARTTLS\r\n",
            "STARTTLS" => {
                let _ = stream.write_all(b"220 2.0.0 go ahead\r\n");
                std::thread::sleep(Duration::from_millis(300));
                return;
            }
            _ => b"502 5.5.2 not here\r\n",
        };
        if stream.write_all(reply).is_err() {
            return;
        }
    }
}

#[test]
fn a_reset_right_after_starttls_fails_the_handshake() {
    let port = serve(smtp_reset_after_starttls);
    let (endpoint, _) = scan_endpoint(&format!("smtp://127.0.0.1:{port}"));
    // The plaintext part completed and offered STARTTLS,
    let dialogue = &endpoint["dialogue"];
    assert_eq!(dialogue["status"], "completed", "{dialogue}");
    assert_eq!(dialogue["value"]["starttls_offered"], true, "{dialogue}");
    assert_eq!(dialogue["value"]["starttls_reply"], "220 2.0.0 go ahead");
    // and the handshake failed naming the reset.
    let reason = hostile::failed_reason(&endpoint["tls"]);
    assert!(reason.starts_with("TLS handshake failed"), "{reason}");
    assert!(reason.contains("reset"), "{reason}");
}

/// SMTP greeting dripped one byte per second.
fn smtp_one_byte_per_second(mut stream: TcpStream) {
    for byte in b"220 hostile.test ESMTP slowly\r\n" {
        if stream.write_all(&[*byte]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_banner_dripped_one_byte_per_second_ends_at_the_step_timeout() {
    let port = serve(smtp_one_byte_per_second);
    let (endpoint, _) = scan_endpoint(&format!("smtp://127.0.0.1:{port}"));
    // The greeting's step deadline (--timeout 1) ends the read, although
    // every single read returned a byte in time.
    let reason = hostile::failed_reason(&endpoint["dialogue"]);
    assert_eq!(
        reason,
        "smtp dialogue failed: no complete answer within 1s while waiting for the SMTP banner"
    );
    assert_eq!(endpoint["tls"]["status"], "skipped", "{endpoint}");
}

/// SMTP whose EHLO answer never ends.
fn smtp_endless_ehlo(mut stream: TcpStream) {
    let _ = stream.write_all(b"220 hostile.test ESMTP\r\n");
    if read_line(&mut stream).is_none() {
        return;
    }
    for index in 0..100_000 {
        if stream
            .write_all(format!("250-X-ENDLESS-{index}\r\n").as_bytes())
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn an_endless_multi_line_ehlo_is_cut() {
    let port = serve(smtp_endless_ehlo);
    let (endpoint, _) = scan_endpoint(&format!("smtp://127.0.0.1:{port}"));
    let reason = hostile::failed_reason(&endpoint["dialogue"]);
    assert_eq!(
        reason,
        "smtp dialogue failed: a response exceeded 256 lines"
    );
}

/// POP3 with bytes that are not UTF-8 in its greeting and CAPA answer.
fn pop3_invalid_utf8(mut stream: TcpStream) {
    let _ = stream.write_all(b"+OK hostile\xff\xfe\xc3\x28 ready\r\n");
    while let Some(line) = read_line(&mut stream) {
        let reply: &[u8] = match line.to_ascii_uppercase().as_str() {
            "CAPA" => b"+OK\r\nUSER\r\nIMPLEMENTATION \xc0\xaf\xed\xa0\x80\r\n.\r\n",
            "QUIT" => b"+OK bye\r\n",
            _ => b"-ERR \xff\r\n",
        };
        if stream.write_all(reply).is_err() {
            return;
        }
    }
}

#[test]
fn invalid_utf8_from_the_server_is_kept_lossily() {
    let port = serve(pop3_invalid_utf8);
    let (endpoint, _) = scan_endpoint(&format!("pop3://127.0.0.1:{port}"));
    // The dialogue completes; each invalid sequence became U+FFFD.
    let dialogue = &endpoint["dialogue"];
    assert_eq!(dialogue["status"], "completed", "{dialogue}");
    assert_eq!(
        dialogue["value"]["greeting"],
        "+OK hostile\u{fffd}\u{fffd}\u{fffd}( ready"
    );
    let capabilities = &dialogue["value"]["capabilities_before_tls"];
    assert_eq!(capabilities[0], "USER", "{dialogue}");
    assert!(
        capabilities[1]
            .as_str()
            .unwrap()
            .starts_with("IMPLEMENTATION \u{fffd}"),
        "{dialogue}"
    );
}

/// Implicit TLS that answers every ClientHello with a fatal
/// handshake_failure alert (RFC 8446 §6: level 2, description 40).
fn tls_alert_on_every_hello(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut hello = [0u8; 512];
    if matches!(stream.read(&mut hello), Ok(n) if n > 0) {
        let _ = stream.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
    }
}

#[test]
fn a_tls_alert_on_every_hello_fails_the_handshake_with_the_alert() {
    let port = serve(tls_alert_on_every_hello);
    let (endpoint, _) = scan_endpoint(&format!("imaps://127.0.0.1:{port}"));
    let reason = hostile::failed_reason(&endpoint["tls"]);
    assert_eq!(
        reason,
        "TLS handshake failed: received fatal alert: HandshakeFailure"
    );
    assert_eq!(endpoint["dialogue"]["status"], "skipped", "{endpoint}");
}
