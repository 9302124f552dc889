//! TLS-011, STARTTLS command injection (CVE-2011-0411 and its kin): a
//! command written in the same segment as STARTTLS must not be answered
//! once TLS is up. RFC 3207 §4.2 asks the server to discard any knowledge
//! obtained from the client before TLS, RFC 2920 §3.1 makes STARTTLS the
//! last command of a pipelined group, and RFC 3501 §6.2.1, RFC 2595 §4 and
//! RFC 5804 §2.2 say the same for IMAP, POP3 and ManageSieve. A server that
//! buffers the plaintext across the upgrade lets a man in the middle inject
//! commands into the encrypted session.
//!
//! One fresh connection per endpoint: the plaintext dialogue, then
//! `STARTTLS` and a harmless command (`NOOP`) in one write, the handshake,
//! a bounded wait for an unprompted answer inside TLS, then a command of our
//! own whose answer tells, by the protocol's ordering or tags, whether the
//! injected command was answered ahead of it. Every read is bounded by the
//! line limits of `connection` and a deadline; nothing that goes wrong is
//! more than a failed attempt.

pub(crate) mod judge;

use crate::evidence::{Attempt, EndpointEvidence, StarttlsInjectionEvidence};
use crate::probe::connection::{DialogueError, LineConnection};
use crate::probe::context::ProbeContext;
use crate::probe::protocol::upgrade::{self, UpgradeFailure};
use crate::probe::protocol::{MailProtocol, dispatch};
use crate::probe::tls;
use crate::target::TlsMode;
use judge::{Judge, Watch};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Longest wait for an unprompted answer inside TLS.
const WAIT: Duration = Duration::from_millis(800);
/// Longest wait for plaintext after the STARTTLS reply, before the hello.
const PLAINTEXT_WAIT: Duration = Duration::from_millis(250);
/// Most characters of plaintext kept as evidence.
const MAX_PLAINTEXT: usize = 300;

/// Tests one endpoint, if it is a STARTTLS endpoint whose upgrade worked.
pub async fn probe(
    endpoint: &EndpointEvidence,
    context: &ProbeContext,
) -> Attempt<StarttlsInjectionEvidence> {
    if endpoint.tls_mode != TlsMode::Starttls {
        return Attempt::skipped("implicit TLS: there is no STARTTLS to inject behind");
    }
    if !endpoint
        .dialogue
        .value()
        .is_some_and(|d| d.starttls_offered)
    {
        return Attempt::skipped("the server does not offer STARTTLS");
    }
    if !endpoint.tls.is_completed() {
        return Attempt::skipped("the STARTTLS upgrade did not work in the endpoint probe");
    }
    let Some(address) = endpoint.tcp.value().map(|t| t.address) else {
        return Attempt::skipped("no TCP connection");
    };
    let started = Instant::now();
    let outcome = dispatch!(endpoint.protocol, P => run::<P>(endpoint, address, context).await);
    Attempt::from(outcome).timed(started)
}

async fn run<P: MailProtocol>(
    endpoint: &EndpointEvidence,
    address: SocketAddr,
    context: &ProbeContext,
) -> Result<StarttlsInjectionEvidence, String> {
    let stream =
        match tokio::time::timeout(context.connect_timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(format!("connect failed: {error}")),
            Err(_) => {
                return Err(format!(
                    "connect: no answer within {:?}",
                    context.connect_timeout
                ));
            }
        };
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().unwrap_or(address);
    let protocol = endpoint.protocol;
    let commands = P::INJECTION;
    let mut connection = LineConnection::new(stream, context.step_timeout);
    let reply = upgrade::pipelined_starttls::<P, _>(&mut connection, local, commands.injected)
        .await
        .map(|(_, reply)| reply)
        .map_err(|failure| match failure {
            UpgradeFailure::Opening(e) => format!("the plaintext dialogue failed: {e}"),
            UpgradeFailure::NotOffered(_) => format!(
                "{} is not offered on this connection",
                P::UPGRADE_CAPABILITY
            ),
            UpgradeFailure::Unsent(_, e) => {
                format!("the pipelined STARTTLS could not be sent: {e}")
            }
            UpgradeFailure::Refused(_, e) => format!("no reply to the pipelined STARTTLS: {e}"),
        })?;
    let mut evidence = StarttlsInjectionEvidence {
        pipelined: vec![commands.starttls.to_string(), commands.injected.to_string()],
        wait_ms: WAIT.min(context.step_timeout).as_millis() as u64,
        starttls_reply: reply.lines.join(" / "),
        ..Default::default()
    };
    if !reply.accepted {
        evidence.refusal = Some(format!(
            "the server refused the pipelined STARTTLS: {}",
            evidence.starttls_reply
        ));
        P::close(&mut connection).await;
        evidence.transcript = connection.transcript().to_vec();
        return Ok(evidence);
    }
    let (mut stream, mut leftover, mut transcript) = connection.into_parts_with_buffer();
    if leftover.is_empty() {
        // A server that answers the injected command in the clear does so
        // right after its STARTTLS reply; one that closes refuses pipelining.
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout(
            PLAINTEXT_WAIT.min(context.step_timeout),
            stream.read(&mut chunk),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => {
                transcript.push(
                    "-- the server closed the connection instead of starting TLS".to_string(),
                );
                evidence.refusal = Some("the server closed the connection after its STARTTLS reply instead of starting TLS (it refuses pipelined input)".to_string());
                evidence.transcript = transcript;
                return Ok(evidence);
            }
            Ok(Ok(count)) => leftover.extend_from_slice(&chunk[..count]),
            Err(_) => {}
        }
    }
    if !leftover.is_empty() {
        let text: String = String::from_utf8_lossy(&leftover)
            .chars()
            .take(MAX_PLAINTEXT)
            .collect();
        transcript.push(format!(
            "S (plaintext after the STARTTLS reply): {}",
            text.escape_debug()
        ));
        evidence.plaintext_before_handshake = Some(text);
    }
    let (tls, secure) = tls::handshake(
        stream,
        &endpoint.host,
        &context.trust,
        context.step_timeout,
        context.scan_time,
    )
    .await;
    let Some(secure) = secure else {
        let plaintext = evidence
            .plaintext_before_handshake
            .as_ref()
            .map(|p| {
                format!(
                    "; before it the server sent in the clear: {}",
                    p.escape_debug()
                )
            })
            .unwrap_or_default();
        return Err(format!(
            "the TLS handshake after the pipelined STARTTLS failed: {}{plaintext}",
            tls.reason.unwrap_or_default()
        ));
    };
    evidence.upgraded = true;
    transcript.push(format!(
        "-- TLS established; waiting {} ms for an unprompted answer",
        evidence.wait_ms
    ));
    let mut judge = Judge::new(protocol);
    let mut connection = LineConnection::resume(secure, WAIT.min(context.step_timeout), transcript);
    connection.begin_step();
    match judge.watch(&mut connection, "an unprompted answer").await {
        Watch::Injected(line) => {
            evidence.answered_inside_tls = true;
            evidence.answered_unprompted = true;
            evidence.answer_inside_tls = Some(line);
        }
        Watch::Ended(DialogueError::Timeout(..)) => {
            let (secure, _, transcript) = connection.into_parts();
            connection = LineConnection::resume(secure, context.step_timeout, transcript);
            judge.own_command_sent();
            match connection.send(commands.own).await {
                Ok(()) => match judge
                    .watch(&mut connection, "the answer to our own command")
                    .await
                {
                    Watch::Injected(line) => {
                        evidence.answered_inside_tls = true;
                        evidence.answer_inside_tls = Some(line);
                    }
                    Watch::Ours => {}
                    Watch::Ended(error) => {
                        connection.note(&format!("no answer to our own command: {error}"))
                    }
                },
                Err(error) => {
                    connection.note(&format!("our own command could not be sent: {error}"))
                }
            }
        }
        Watch::Ended(error) => connection.note(&format!("inside TLS: {error}")),
        Watch::Ours => {}
    }
    P::close(&mut connection).await;
    evidence.transcript = connection.transcript().to_vec();
    Ok(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::probe::protocol::{imap::Imap, pop3::Pop3, sieve::Sieve, smtp::Smtp, starts_with};

    #[test]
    fn the_reply_to_starttls_is_judged_per_protocol() {
        assert!(Smtp::accepts_pipelined_starttls(
            "220 2.0.0 Ready to start TLS"
        ));
        assert!(!Smtp::accepts_pipelined_starttls(
            "554 5.5.0 Error: SMTP protocol synchronization"
        ));
        assert!(Imap::accepts_pipelined_starttls(
            "a OK Begin TLS negotiation now."
        ));
        assert!(!Pop3::accepts_pipelined_starttls(
            "-ERR TLS support isn't enabled."
        ));
        assert!(Sieve::accepts_pipelined_starttls(
            "OK \"Begin TLS negotiation now.\""
        ));
        assert!(!starts_with("é", "OK"));
    }
}
