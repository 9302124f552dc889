//! The relay test (ACC-002), opt-in with `--relay-test`: does an MX accept
//! mail for a foreign domain from an unauthenticated client? An open relay
//! lets anyone send mail under the provider's name and reputation
//! (RFC 5321 §7.9, RFC 2505 §2.1).
//!
//! One connection per MX endpoint (port 25), through the SMTP protocol
//! layer: greeting, EHLO, `MAIL FROM:<nobody@mailaudit.invalid>`,
//! `RCPT TO:<relay-test@relay-target.invalid>`, then always `RSET` and
//! `QUIT` (RFC 5321 Appendix D.2, an aborted transaction). `DATA` is never
//! sent, so no message can come into being; the reply to RCPT TO is the
//! whole answer.
//!
//! Both addresses are under `.invalid`, the name RFC 2606 §2 reserves for
//! names constructed online that must be sure to be invalid: no server can
//! own the recipient's domain (an accept can only mean relaying, never local
//! delivery, as it could for `example.net`, which some test setups treat as
//! their own), and no bounce or message can ever reach anyone. A server that
//! checks the recipient's or the sender's domain before its relay decision
//! refuses such an address as unroutable (an X.1.x enhanced code); the rule
//! reads that as inconclusive, not as a refusal to relay.
//!
//! The test runs in plaintext, without STARTTLS: a relay decision is made on
//! the client's address and authentication, and TLS without a client
//! certificate gives an anonymous client no more rights. An abuser needs no
//! TLS either, so plaintext shows what the least-equipped client can do, and
//! an auditor's packet capture can verify every command sent. A public MX
//! must accept mail without STARTTLS (RFC 3207 §4); one that demands it
//! refuses MAIL, and the test is then inconclusive.
//!
//! Every read is bounded by `connection`'s line limits and the step
//! timeout; whatever the server sends is at most a failed attempt.

use crate::evidence::{
    Attempt, EndpointEvidence, PortState, RelayTestEvidence, RelayVantage, SmtpReply,
};
use crate::probe::connection::{DialogueError, LineConnection};
use crate::probe::context::{ProbeContext, RelayTestSettings};
use crate::probe::protocol::MailProtocol;
use crate::probe::protocol::smtp::{self, Smtp};
use crate::target::Role;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};

/// The reverse-path: a non-existent mailbox at a reserved name (RFC 2606 §2).
pub const MAIL_FROM: &str = "nobody@mailaudit.invalid";
/// The forward-path: a mailbox in a domain foreign to every server.
pub const RCPT_TO: &str = "relay-test@relay-target.invalid";
/// Why the test did not run without the flag.
pub const NOT_OPTED_IN: &str = "the relay test was not run: it is opt-in (--relay-test), because it sends MAIL FROM and RCPT TO to the MX";
/// Most characters of a reply's text kept as evidence.
const MAX_TEXT: usize = 300;

/// Tests one endpoint, if it is an MX whose port 25 answered and the user
/// opted in.
pub async fn probe(
    endpoint: &EndpointEvidence,
    context: &ProbeContext,
) -> Attempt<RelayTestEvidence> {
    let Some(settings) = &context.relay_test else {
        return Attempt::skipped(NOT_OPTED_IN);
    };
    if endpoint.role != Role::Mx {
        return Attempt::skipped("the relay test runs on MX endpoints (port 25) only");
    }
    let Some(address) = endpoint
        .tcp
        .value()
        .filter(|t| t.state == PortState::Open)
        .map(|t| t.address)
    else {
        return Attempt::skipped(match &endpoint.tcp.reason {
            Some(reason) => format!("no open port to test: {reason}"),
            None => "no open port to test".to_string(),
        });
    };
    let started = Instant::now();
    let stream = match connect(address, settings, context.connect_timeout).await {
        Ok(stream) => stream,
        Err(reason) => return Attempt::failed(reason).timed(started),
    };
    let local = stream.local_addr().unwrap_or(address);
    let vantage = vantage(local.ip(), address.ip(), settings.source.is_some());
    let mut connection = LineConnection::new(stream, context.step_timeout);
    Attempt::from(run(&mut connection, local, vantage).await).timed(started)
}

/// Connects from the chosen source address, or from the one routing picks.
async fn connect(
    address: SocketAddr,
    settings: &RelayTestSettings,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let connecting = async {
        match settings.source {
            None => TcpStream::connect(address).await,
            Some(source) => {
                let socket = if source.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                socket.bind(SocketAddr::new(source, 0))?;
                socket.connect(address).await
            }
        }
    };
    if let Some(source) = settings.source
        && source.is_ipv4() != address.is_ipv4()
    {
        return Err(format!(
            "the relay test's source address {source} (--relay-test-source) cannot reach {address}: the address families differ"
        ));
    }
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(error)) => Err(match settings.source {
            Some(source) => {
                format!("connect to {address} from {source} (--relay-test-source) failed: {error}")
            }
            None => format!("connect to {address} failed: {error}"),
        }),
        Err(_) => Err(format!(
            "connect to {address}: no answer within {timeout:?}"
        )),
    }
}

/// Where mailaudit stands in the server's eyes: on its host (loopback), in
/// the same /24 (IPv4) or /64 (IPv6), or outside. IPv4-mapped IPv6
/// addresses count as IPv4.
pub fn vantage(source: IpAddr, server: IpAddr, chosen: bool) -> RelayVantage {
    let (source, server) = (source.to_canonical(), server.to_canonical());
    let (same_network, network_prefix) = match (source, server) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (a.octets()[..3] == b.octets()[..3], 24),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.octets()[..8] == b.octets()[..8], 64),
        (IpAddr::V4(_), IpAddr::V6(_)) => (false, 24),
        (IpAddr::V6(_), IpAddr::V4(_)) => (false, 64),
    };
    RelayVantage {
        source_address: source,
        server_address: server,
        loopback: source.is_loopback(),
        same_network,
        network_prefix,
        source_chosen: chosen,
    }
}

/// The dialogue on an open connection; `Err` names the step that ended it
/// before RCPT TO was answered.
async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    local: SocketAddr,
    vantage: RelayVantage,
) -> Result<RelayTestEvidence, String> {
    let opening = match Smtp::open(connection, local).await {
        Ok(opening) => opening,
        Err(error) => {
            end(connection, Some(&error)).await;
            return Err(format!("the greeting or EHLO failed: {error}"));
        }
    };
    let mail_from = format!("MAIL FROM:<{MAIL_FROM}>");
    let mail_reply = match smtp::command(connection, &mail_from, "the MAIL FROM reply").await {
        Ok((code, lines)) => reply(code, &lines),
        Err(error) => {
            end(connection, Some(&error)).await;
            return Err(format!("no reply to {mail_from}: {error}"));
        }
    };
    if !(200..300).contains(&mail_reply.code) {
        let stopped = format!(
            "the server refused {mail_from}, so RCPT TO was not tried: {} {}",
            mail_reply.code, mail_reply.text
        );
        end(connection, None).await;
        return Err(stopped);
    }
    let rcpt_to = format!("RCPT TO:<{RCPT_TO}>");
    let rcpt_reply = match smtp::command(connection, &rcpt_to, "the RCPT TO reply").await {
        Ok((code, lines)) => reply(code, &lines),
        Err(error) => {
            end(connection, Some(&error)).await;
            return Err(format!("no reply to {rcpt_to}: {error}"));
        }
    };
    let rset_reply = smtp::command(connection, "RSET", "the RSET reply")
        .await
        .ok()
        .map(|(code, lines)| reply(code, &lines));
    Smtp::close(connection).await;
    Ok(RelayTestEvidence {
        vantage,
        greeting: opening.greeting,
        mail_from: MAIL_FROM.to_string(),
        mail_reply,
        rcpt_to: RCPT_TO.to_string(),
        rcpt_reply,
        rset_reply,
        transcript: connection.transcript().to_vec(),
    })
}

/// Ends a session that stopped early with RSET and QUIT, as every session
/// ends; only a connection the server closed (or that broke) gets nothing
/// more. `error` is what stopped it, `None` for a refusal.
async fn end<S: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut LineConnection<S>,
    error: Option<&DialogueError>,
) {
    if matches!(error, Some(DialogueError::Closed(_) | DialogueError::Io(_))) {
        return;
    }
    let _ = smtp::command(connection, "RSET", "the RSET reply").await;
    Smtp::close(connection).await;
}

/// One reply as evidence: the code, the enhanced status code when the text
/// starts with one of the code's class (RFC 3463 §2, RFC 2034 §4), and the
/// text, bounded.
fn reply(code: u16, lines: &[String]) -> SmtpReply {
    let joined = lines.join(" / ");
    let mut text: String = joined.chars().take(MAX_TEXT).collect();
    if joined.chars().count() > MAX_TEXT {
        text.push('…');
    }
    SmtpReply {
        code,
        enhanced_code: enhanced_code(code, lines.first().map(String::as_str).unwrap_or("")),
        text,
    }
}

/// `5.7.1` from `5.7.1 Relay access denied` when the class (2, 4 or 5)
/// matches the reply code's first digit and subject and detail have 1 to 3
/// digits.
fn enhanced_code(code: u16, text: &str) -> Option<String> {
    let token = text.split_whitespace().next()?;
    let mut parts = token.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let digits =
        |part: &str| (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none()
        && ["2", "4", "5"].contains(&class)
        && class == (code / 100).to_string()
        && digits(subject)
        && digits(detail))
    .then(|| token.to_string())
}

#[cfg(test)]
mod tests;
