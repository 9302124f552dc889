//! One raw handshake on a fresh connection: TCP connect, the STARTTLS
//! upgrade where the port needs one (reusing the dialogues of
//! `probe::{smtp, imap, pop3, sieve}` through [`MailDialogue`]), the
//! ClientHello, and a bounded, timed read of the answer.
//!
//! RFC 3207 §4 (SMTP), RFC 3501 §6.2.1 (IMAP), RFC 2595 §4 (POP3 STLS) and
//! RFC 5804 §2.2 (ManageSieve): the TLS negotiation starts right after the
//! server's positive reply, so the hello is the next thing written.

use super::answer::{Answer, MAX_ANSWER, Progress, interpret};
use super::classification::{KeyExchange, table};
use super::hello::{HelloSpec, client_hello};
use crate::probe::connection::LineConnection;
use crate::probe::dialogue::MailDialogue;
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
    /// The dialogue before TLS failed (a 421, a reset, a refusal).
    Upgrade(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Connect(reason) => write!(f, "connect failed: {reason}"),
            TransportError::Upgrade(reason) => write!(f, "STARTTLS failed: {reason}"),
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
    if stream.write_all(&client_hello(spec)).await.is_err() {
        return Ok(Answer::Closed);
    }
    let deadline = Instant::now() + target.step_timeout;
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let lookup = |suite: u16| table().suite(suite).map(|s| s.kx);
    let family: Option<&dyn Fn(u16) -> Option<KeyExchange>> = if want_key_exchange {
        Some(&lookup)
    } else {
        None
    };
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
                return Ok(Answer::Malformed(format!(
                    "no answer within {:?}",
                    target.step_timeout
                )));
            }
            Err(_) => true,
        };
        if let Progress::Done(answer) = interpret(&buffer, family, ended) {
            return Ok(answer);
        }
    }
}

async fn upgrade(target: &ScanTarget, stream: TcpStream) -> Result<TcpStream, TransportError> {
    use crate::probe::{imap::Imap, pop3::Pop3, sieve::Sieve, smtp::Smtp};
    match target.protocol {
        Protocol::Smtp | Protocol::Submission | Protocol::Submissions => {
            upgrade_with::<Smtp>(target, stream).await
        }
        Protocol::Imap | Protocol::Imaps => upgrade_with::<Imap>(target, stream).await,
        Protocol::Pop3 | Protocol::Pop3s => upgrade_with::<Pop3>(target, stream).await,
        Protocol::Sieve => upgrade_with::<Sieve>(target, stream).await,
    }
}

async fn upgrade_with<P: MailDialogue>(
    target: &ScanTarget,
    stream: TcpStream,
) -> Result<TcpStream, TransportError> {
    let local = stream.local_addr().unwrap_or(target.address);
    let mut connection = LineConnection::new(stream, target.step_timeout);
    let opening = P::open(&mut connection, local)
        .await
        .map_err(|e| TransportError::Upgrade(e.to_string()))?;
    if !P::offers_starttls(&opening.capabilities) {
        return Err(TransportError::Upgrade(format!(
            "{} is not offered any more",
            P::UPGRADE_CAPABILITY
        )));
    }
    P::starttls(&mut connection)
        .await
        .map_err(|e| TransportError::Upgrade(e.to_string()))?;
    let (stream, _leftover, _transcript) = connection.into_parts();
    Ok(stream)
}
