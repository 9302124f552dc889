//! The relay test's pure parts (vantage, enhanced codes) and its dialogue
//! against scripted servers: what is sent, in which order, and that no
//! reply, however hostile, makes it send DATA or panic.

use super::*;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn the_vantage_point_is_loopback_same_network_or_outside() {
    // Given mailaudit on the server's host
    let local = vantage(ip("127.0.0.1"), ip("127.0.40.25"), false);
    assert!(local.loopback && !local.same_network);
    assert_eq!(local.network_prefix, 24);
    // Given mailaudit in the server's /24
    let lan = vantage(ip("192.0.2.7"), ip("192.0.2.25"), true);
    assert!(!lan.loopback && lan.same_network && lan.source_chosen);
    // Given mailaudit elsewhere on the internet
    let outside = vantage(ip("198.51.100.9"), ip("192.0.2.25"), false);
    assert!(!outside.loopback && !outside.same_network);
    // IPv6 compares the /64; an IPv4-mapped source counts as IPv4
    let v6 = vantage(ip("2001:db8:1:2::7"), ip("2001:db8:1:2::25"), false);
    assert!(v6.same_network && v6.network_prefix == 64);
    let v6_outside = vantage(ip("2001:db8:1:3::7"), ip("2001:db8:1:2::25"), false);
    assert!(!v6_outside.same_network);
    let mapped = vantage(ip("::ffff:192.0.2.7"), ip("192.0.2.25"), false);
    assert_eq!(mapped.source_address, ip("192.0.2.7"));
    assert!(mapped.same_network);
    assert!(vantage(ip("::1"), ip("::1"), false).loopback);
}

#[test]
fn an_enhanced_code_counts_only_in_the_replys_class() {
    assert_eq!(
        enhanced_code(554, "5.7.1 <x@y.invalid>: Relay access denied").as_deref(),
        Some("5.7.1")
    );
    assert_eq!(enhanced_code(250, "2.1.5 Ok").as_deref(), Some("2.1.5"));
    assert_eq!(
        enhanced_code(450, "4.1.2 Domain not found").as_deref(),
        Some("4.1.2")
    );
    // A class that contradicts the code, a short or overlong part, or plain
    // text is no enhanced code.
    assert_eq!(enhanced_code(554, "4.7.1 try later"), None);
    assert_eq!(enhanced_code(550, "5.7 denied"), None);
    assert_eq!(enhanced_code(550, "5.1234.1 denied"), None);
    assert_eq!(enhanced_code(550, "5.7.1.2 denied"), None);
    assert_eq!(enhanced_code(550, "relay not permitted"), None);
    assert_eq!(enhanced_code(550, ""), None);
    assert_eq!(enhanced_code(550, "é.7.1"), None);
}

#[test]
fn a_long_reply_text_is_bounded() {
    let lines = vec!["x".repeat(1000), "y".repeat(1000)];
    let bounded = reply(250, &lines);
    assert_eq!(bounded.text.chars().count(), MAX_TEXT + 1);
    assert!(bounded.text.ends_with('…'));
}

/// A scripted SMTP server: the greeting, then `answer(line)` for each line
/// the client sends (`None` closes the connection). Returns the lines the
/// client sent.
fn server(
    greeting: &'static [u8],
    answer: impl Fn(&str) -> Option<Vec<u8>> + Send + 'static,
) -> (DuplexStream, Arc<Mutex<Vec<String>>>) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = sent.clone();
    tokio::spawn(async move {
        let (read, mut write) = tokio::io::split(server);
        if write.write_all(greeting).await.is_err() {
            return;
        }
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            seen.lock().unwrap().push(line.clone());
            match answer(&line) {
                Some(bytes) => {
                    if write.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                None => return,
            }
        }
    });
    (client, sent)
}

/// Postfix's answers, with `rcpt` as the reply to RCPT TO.
fn postfix(rcpt: &'static [u8]) -> impl Fn(&str) -> Option<Vec<u8>> + Send + 'static {
    move |line: &str| {
        let verb = line
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        Some(match verb.as_str() {
            "EHLO" => b"250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n".to_vec(),
            "MAIL" => b"250 2.1.0 Ok\r\n".to_vec(),
            "RCPT" => rcpt.to_vec(),
            "RSET" => b"250 2.0.0 Ok\r\n".to_vec(),
            "QUIT" => b"221 2.0.0 Bye\r\n".to_vec(),
            _ => b"502 5.5.2 Error: command not recognized\r\n".to_vec(),
        })
    }
}

const LOCAL: &str = "127.0.0.1:40000";

async fn test(stream: DuplexStream) -> Result<RelayTestEvidence, String> {
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut connection = LineConnection::new(stream, Duration::from_secs(2));
    run(
        &mut connection,
        local,
        vantage(local.ip(), ip("127.0.40.27"), false),
    )
    .await
}

fn verbs(sent: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    sent.lock()
        .unwrap()
        .iter()
        .map(|l| l.split([' ', ':']).next().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn a_refused_relay_is_recorded_and_the_session_is_reset_and_quit() {
    // Given Postfix refusing to relay
    let (stream, sent) = server(
        b"220 mx.test ESMTP\r\n",
        postfix(b"554 5.7.1 <relay-test@relay-target.invalid>: Relay access denied\r\n"),
    );
    // When the relay test runs
    let evidence = test(stream).await.expect("RCPT was answered");
    // Then exactly EHLO, MAIL, RCPT, RSET and QUIT were sent, never DATA
    assert_eq!(verbs(&sent), ["EHLO", "MAIL", "RCPT", "RSET", "QUIT"]);
    let lines = sent.lock().unwrap().clone();
    assert_eq!(lines[1], "MAIL FROM:<nobody@mailaudit.invalid>");
    assert_eq!(lines[2], "RCPT TO:<relay-test@relay-target.invalid>");
    // And the replies are evidence
    assert_eq!(evidence.greeting, "220 mx.test ESMTP");
    assert_eq!(evidence.mail_reply.code, 250);
    assert_eq!(evidence.rcpt_reply.code, 554);
    assert_eq!(evidence.rcpt_reply.enhanced_code.as_deref(), Some("5.7.1"));
    assert!(evidence.rcpt_reply.text.contains("Relay access denied"));
    assert_eq!(evidence.rset_reply.as_ref().map(|r| r.code), Some(250));
    assert!(evidence.transcript.iter().any(|l| l == "C: QUIT"));
}

#[tokio::test]
async fn an_accepted_relay_is_still_never_followed_by_data() {
    let (stream, sent) = server(b"220 open ESMTP\r\n", postfix(b"250 2.1.5 Ok\r\n"));
    let evidence = test(stream).await.expect("RCPT was answered");
    assert_eq!(evidence.rcpt_reply.code, 250);
    assert_eq!(verbs(&sent), ["EHLO", "MAIL", "RCPT", "RSET", "QUIT"]);
}

#[tokio::test]
async fn a_refused_sender_ends_the_test_before_rcpt_with_rset_and_quit() {
    // Given a server that checks the sender's domain at MAIL FROM
    let (stream, sent) = server(b"220 strict ESMTP\r\n", |line: &str| {
        Some(if line.starts_with("MAIL") {
            b"550 5.1.8 <nobody@mailaudit.invalid>: Sender address rejected\r\n".to_vec()
        } else if line.starts_with("EHLO") {
            b"250 strict\r\n".to_vec()
        } else {
            b"250 Ok\r\n".to_vec()
        })
    });
    let reason = test(stream).await.unwrap_err();
    // Then the attempt names the step and the reply, RCPT was never tried,
    // and the session still ended with RSET and QUIT
    assert!(reason.contains("refused MAIL FROM"), "{reason}");
    assert!(reason.contains("550 5.1.8"), "{reason}");
    assert_eq!(verbs(&sent), ["EHLO", "MAIL", "RSET", "QUIT"]);
}

#[tokio::test]
async fn garbage_after_rcpt_is_a_failed_step_not_a_panic() {
    let (stream, sent) = server(b"220 odd ESMTP\r\n", |line: &str| {
        Some(if line.starts_with("RCPT") {
            b"\xff\xfe not a reply\r\n".to_vec()
        } else if line.starts_with("EHLO") {
            b"250 odd\r\n".to_vec()
        } else {
            b"250 Ok\r\n".to_vec()
        })
    });
    let reason = test(stream).await.unwrap_err();
    assert!(reason.contains("no reply to RCPT TO"), "{reason}");
    assert!(!verbs(&sent).iter().any(|v| v.eq_ignore_ascii_case("DATA")));
    assert_eq!(verbs(&sent).last().map(String::as_str), Some("QUIT"));
}

#[tokio::test]
async fn a_server_that_hangs_up_after_the_greeting_fails_the_attempt() {
    let (stream, sent) = server(b"220 bye\r\n", |_| None);
    let reason = test(stream).await.unwrap_err();
    assert!(reason.contains("the greeting or EHLO failed"), "{reason}");
    // Nothing is sent on a closed connection beyond the EHLO it cut off.
    assert_eq!(verbs(&sent), ["EHLO"]);
}

#[tokio::test]
async fn a_refused_greeting_fails_the_attempt_with_the_reply() {
    let (stream, _) = server(b"554 5.7.1 no service for you\r\n", postfix(b"250 Ok\r\n"));
    let reason = test(stream).await.unwrap_err();
    assert!(reason.contains("554 5.7.1 no service for you"), "{reason}");
}
