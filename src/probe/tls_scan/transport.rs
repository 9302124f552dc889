//! One raw handshake on a fresh connection: TCP connect, the STARTTLS
//! upgrade where the port needs one (the protocol layer's one plaintext
//! path, `probe::protocol::upgrade`), the ClientHello (or the SSLv2 CLIENT-HELLO), and a bounded, timed read of
//! the answer.
//!
//! RFC 3207 §4 (SMTP), RFC 3501 §6.2.1 (IMAP), RFC 2595 §4 (POP3 STLS) and
//! RFC 5804 §2.2 (ManageSieve): the TLS negotiation starts right after the
//! server's positive reply, so the hello is the next thing written.

use super::answer::{Answer, MAX_ANSWER, Progress, interpret};
use super::hello::{HelloSpec, client_hello};
use super::registry::{KeyExchange, table};
use super::sslv2::{self, Sslv2Answer};
use crate::probe::connection::LineConnection;
use crate::probe::protocol::upgrade::{self, UpgradeFailure};
use crate::probe::protocol::{MailProtocol, dispatch};
use crate::target::{Protocol, TlsMode};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Where and how to connect for each handshake.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    pub address: SocketAddr,
    pub protocol: Protocol,
    /// SNI; none for IP literals.
    pub server_name: Option<String>,
    pub connect_timeout: Duration,
    /// Limit for the STARTTLS steps and for the answer to the hello.
    pub step_timeout: Duration,
}

/// Why a handshake could not be tried; the caller backs off and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The TCP connect failed or timed out.
    Connect(String),
    /// The dialogue before TLS failed (a reset, a refusal).
    Upgrade(String),
    /// The server said it is busy instead of answering: a plain-text `4xx`
    /// (SMTP, RFC 5321 §3.8), `-ERR` (POP3), `* BYE` (IMAP) or `NO`/`BYE`
    /// (ManageSieve), before STARTTLS or where a ServerHello was due. Not
    /// an answer about TLS: the caller backs off and tries again.
    Busy(String),
    /// The connection closed before any byte came back. Servers at their
    /// connection limit do that too, so it is tried again; only when every
    /// try ends this way is it read as a refusal.
    ClosedSilently,
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Connect(reason) => write!(f, "connect failed: {reason}"),
            TransportError::Upgrade(reason) => write!(f, "STARTTLS failed: {reason}"),
            TransportError::Busy(line) => write!(f, "the server is busy: {line}"),
            TransportError::ClosedSilently => {
                f.write_str("the connection closed before any answer")
            }
        }
    }
}

/// Sends one ClientHello on a new connection and reads the answer.
/// `want_key_exchange` asks for the ServerKeyExchange to be read too.
pub async fn handshake(
    target: &ScanTarget,
    spec: &HelloSpec,
    want_key_exchange: bool,
) -> Result<Answer, TransportError> {
    let lookup = |suite: u16| table().suite(suite).map(|s| s.kx);
    let family: Option<&dyn Fn(u16) -> Option<KeyExchange>> = if want_key_exchange {
        Some(&lookup)
    } else {
        None
    };
    exchange(
        target,
        &client_hello(spec),
        |buffer, ended| match interpret(buffer, family, ended) {
            Progress::Done(answer) => Some(answer),
            Progress::NeedMore => None,
        },
        Answer::Malformed,
    )
    .await
}

/// Sends the SSLv2 CLIENT-HELLO on a new connection and reads the answer.
pub async fn sslv2_handshake(target: &ScanTarget) -> Result<Sslv2Answer, TransportError> {
    let challenge: [u8; 16] = super::hello::random_bytes()[..16]
        .try_into()
        .unwrap_or([0x5a; 16]);
    exchange(
        target,
        &sslv2::client_hello(challenge),
        sslv2::interpret,
        |problem| Sslv2Answer::Other(Answer::Malformed(problem)),
    )
    .await
}

/// Connects (and upgrades where the port needs it), writes `hello`, and
/// reads at most [`MAX_ANSWER`] bytes until `decide` has an answer, the
/// peer closes, or the step deadline passes (`silent` describes that).
async fn exchange<T>(
    target: &ScanTarget,
    hello: &[u8],
    mut decide: impl FnMut(&[u8], bool) -> Option<T>,
    silent: impl FnOnce(String) -> T,
) -> Result<T, TransportError> {
    let stream = match tokio::time::timeout(
        target.connect_timeout,
        TcpStream::connect(target.address),
    )
    .await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return Err(TransportError::Connect(error.to_string())),
        Err(_) => {
            return Err(TransportError::Connect(format!(
                "no answer within {:?}",
                target.connect_timeout
            )));
        }
    };
    let _ = stream.set_nodelay(true);
    let mut stream = match target.protocol.tls_mode() {
        TlsMode::Implicit => stream,
        TlsMode::Starttls => upgrade(target, stream).await?,
    };
    if stream.write_all(hello).await.is_err() {
        return Err(TransportError::ClosedSilently);
    }
    let deadline = Instant::now() + target.step_timeout;
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await;
        let ended = match read {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(count)) => {
                let room = MAX_ANSWER.saturating_sub(buffer.len());
                buffer.extend_from_slice(&chunk[..count.min(room)]);
                buffer.len() >= MAX_ANSWER
            }
            Err(_) if buffer.is_empty() => {
                return Ok(silent(format!(
                    "no answer within {:?}",
                    target.step_timeout
                )));
            }
            Err(_) => true,
        };
        if let Some(line) = busy_line(&buffer, ended) {
            return Err(TransportError::Busy(line));
        }
        if buffer.is_empty() && ended {
            return Err(TransportError::ClosedSilently);
        }
        if let Some(answer) = decide(&buffer, ended) {
            return Ok(answer);
        }
        if ended {
            return Ok(silent(
                "an answer that could not be interpreted".to_string(),
            ));
        }
    }
}

async fn upgrade(target: &ScanTarget, stream: TcpStream) -> Result<TcpStream, TransportError> {
    dispatch!(target.protocol, P => upgrade_with::<P>(target, stream).await)
}

async fn upgrade_with<P: MailProtocol>(
    target: &ScanTarget,
    stream: TcpStream,
) -> Result<TcpStream, TransportError> {
    let local = stream.local_addr().unwrap_or(target.address);
    let mut connection = LineConnection::new(stream, target.step_timeout);
    match upgrade::starttls::<P, _>(&mut connection, local).await {
        Ok(_) => {}
        Err(UpgradeFailure::NotOffered(_)) => {
            return Err(TransportError::Upgrade(format!(
                "{} is not offered any more",
                P::UPGRADE_CAPABILITY
            )));
        }
        Err(
            UpgradeFailure::Opening(error)
            | UpgradeFailure::Unsent(_, error)
            | UpgradeFailure::Refused(_, error),
        ) => return Err(upgrade_error(error.to_string())),
    }
    let (stream, _leftover, _transcript) = connection.into_parts();
    Ok(stream)
}

/// A failed dialogue before STARTTLS whose text is a busy reply (a greeting
/// of `421`, `-ERR`, `* BYE`) is [`TransportError::Busy`]; anything else
/// stays an upgrade failure.
fn upgrade_error(text: String) -> TransportError {
    // DialogueError quotes or appends the reply: "…: 421 Too many …".
    let busy = text
        .split(['"', '\'', '`'])
        .chain(text.split(": "))
        .any(|part| is_busy_reply(part.trim()));
    if busy {
        TransportError::Busy(text)
    } else {
        TransportError::Upgrade(text)
    }
}

/// Whether a plain-text line refuses service for now: an SMTP `4xx` (RFC
/// 5321 §4.2.1: transient), POP3 `-ERR`, IMAP `* BYE`/`* NO`, ManageSieve
/// `NO`/`BYE`.
fn is_busy_reply(line: &str) -> bool {
    let bytes = line.as_bytes();
    let smtp_transient = bytes.len() >= 3
        && bytes[0] == b'4'
        && bytes[1..3].iter().all(u8::is_ascii_digit)
        && bytes.get(3).is_none_or(|b| *b == b' ' || *b == b'-');
    let upper = line.to_ascii_uppercase();
    smtp_transient
        || upper.starts_with("-ERR")
        || upper.starts_with("* BYE")
        || upper.starts_with("* NO")
        || upper.starts_with("BYE")
        || upper.starts_with("NO ")
}

/// The first line of `buffer` when it is a plain-text busy reply where a
/// TLS record was due. TLS records start with a content type of 20 to 23
/// and SSLv2 records with a length byte of 0x80 or more, so a printable
/// first byte is text. Waits for the line's end unless the peer is done.
pub(super) fn busy_line(buffer: &[u8], ended: bool) -> Option<String> {
    let first = *buffer.first()?;
    if !first.is_ascii_graphic() {
        return None;
    }
    let end = buffer.iter().position(|b| *b == b'\n');
    if end.is_none() && !ended && buffer.len() < 512 {
        return None;
    }
    let line = &buffer[..end.unwrap_or(buffer.len()).min(512)];
    let text: String = String::from_utf8_lossy(line)
        .trim_end()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    is_busy_reply(&text).then_some(text)
}

#[cfg(test)]
mod busy_tests {
    use super::*;

    #[test]
    fn plain_text_refusals_are_busy_not_tls_answers() {
        for line in [
            "421 Too many concurrent SMTP connections; please try again later.\r\n",
            "421-mx busy\r\n",
            "-ERR [SYS/TEMP] too many connections\r\n",
            "* BYE Too many connections\r\n",
            "BYE \"Too many connections\"\r\n",
        ] {
            assert!(busy_line(line.as_bytes(), false).is_some(), "{line}");
        }
        // A TLS alert, a ServerHello and a misconfigured plain-text banner
        // on a TLS port are answers, not busy signals
        assert_eq!(busy_line(&[21, 3, 3, 0, 2, 2, 40], true), None);
        assert_eq!(busy_line(&[22, 3, 3, 0, 80], false), None);
        assert_eq!(busy_line(b"220 mx.example ESMTP\r\n", true), None);
        assert_eq!(busy_line(b"554 no service\r\n", true), None);
        // An incomplete line waits for more, unless the peer is done
        assert_eq!(busy_line(b"421 Too ma", false), None);
        assert!(busy_line(b"421 Too ma", true).is_some());
    }

    #[test]
    fn a_421_greeting_before_starttls_is_busy() {
        assert!(matches!(
            upgrade_error("the greeting: \"421 4.7.0 Too many connections\"".into()),
            TransportError::Busy(_)
        ));
        assert!(matches!(
            upgrade_error("unexpected response to EHLO: 421 4.3.2 Service shutting down".into()),
            TransportError::Busy(_)
        ));
        assert!(matches!(
            upgrade_error("STARTTLS refused: \"502 5.5.1 not implemented\"".into()),
            TransportError::Upgrade(_)
        ));
    }
}
