//! One connection of an active check: TCP connect, the STARTTLS upgrade
//! where the port needs one (the protocol layer's one plaintext path,
//! `probe::protocol::upgrade`), then raw records written and read with a
//! deadline per read and at most [`MAX_READ`] bytes per connection.
//!
//! RFC 3207 §4, RFC 9051 §6.2.1, RFC 2595 §4, RFC 5804 §2.2: after the
//! server's positive reply to STARTTLS the next bytes are the client's hello.

use super::records::{RecordHead, split_record};
use crate::probe::connection::LineConnection;
use crate::probe::protocol::upgrade::{self, UpgradeFailure};
use crate::probe::protocol::{MailProtocol, dispatch};
use crate::probe::tls_scan::ScanTarget;
use crate::target::TlsMode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most bytes read on one connection (a hello flight with its certificate
/// chain and a heartbeat response fit).
pub const MAX_READ: usize = 64 * 1024;

/// Why no TLS record could be exchanged; the caller may try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The TCP connect or the dialogue before TLS failed.
    Unreachable(String),
    /// The server said it is busy (a plain-text `4xx`, `-ERR`, `* BYE`).
    Busy(String),
}

/// What the next read gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Record(RecordHead, Vec<u8>),
    /// The peer closed the connection (or reset it).
    Closed,
    /// Nothing complete within the wait.
    Timeout,
    /// Bytes that are not a TLS record, described.
    Garbage(String),
    /// The connection's byte limit was reached.
    Bound,
}

/// A connection that speaks raw records.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    read: usize,
}

impl Connection {
    /// Connects to `target` and upgrades where its port needs STARTTLS.
    pub async fn open(target: &ScanTarget) -> Result<Connection, OpenError> {
        let stream =
            match tokio::time::timeout(target.connect_timeout, TcpStream::connect(target.address))
                .await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    return Err(OpenError::Unreachable(format!("connect failed: {error}")));
                }
                Err(_) => {
                    return Err(OpenError::Unreachable(format!(
                        "connect failed: no answer within {:?}",
                        target.connect_timeout
                    )));
                }
            };
        let _ = stream.set_nodelay(true);
        let stream = match target.protocol.tls_mode() {
            TlsMode::Implicit => stream,
            TlsMode::Starttls => {
                dispatch!(target.protocol, P => upgrade_with::<P>(target, stream).await)?
            }
        };
        Ok(Connection {
            stream,
            buffer: Vec::new(),
            read: 0,
        })
    }

    /// Writes `bytes`; `false` when the peer is gone.
    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// The next complete record, waiting at most `wait`.
    pub async fn next(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match split_record(&self.buffer) {
                Err(problem) => return Next::Garbage(problem),
                Ok(Some((head, fragment))) => {
                    let fragment = fragment.to_vec();
                    self.buffer.drain(..5 + head.length);
                    return Next::Record(head, fragment);
                }
                Ok(None) => {}
            }
            if self.read >= MAX_READ {
                return Next::Bound;
            }
            let mut chunk = [0u8; 4096];
            let room = (MAX_READ - self.read).min(chunk.len());
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk[..room])).await {
                Ok(Ok(0)) | Ok(Err(_)) if self.buffer.is_empty() => return Next::Closed,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    return Next::Garbage(format!(
                        "a record cut off by the end of the connection ({} bytes)",
                        self.buffer.len()
                    ));
                }
                Ok(Ok(count)) => {
                    self.read += count;
                    self.buffer.extend_from_slice(&chunk[..count]);
                }
                Err(_) => return Next::Timeout,
            }
        }
    }
}

async fn upgrade_with<P: MailProtocol>(
    target: &ScanTarget,
    stream: TcpStream,
) -> Result<TcpStream, OpenError> {
    let local = stream.local_addr().unwrap_or(target.address);
    let mut connection = LineConnection::new(stream, target.step_timeout);
    match upgrade::starttls::<P, _>(&mut connection, local).await {
        Ok(_) => {
            // Bytes the server sent after its reply are dropped unread.
            let (stream, _unread, _transcript) = connection.into_parts();
            Ok(stream)
        }
        Err(UpgradeFailure::NotOffered(_)) => Err(OpenError::Unreachable(format!(
            "STARTTLS failed: {} is not offered",
            P::UPGRADE_CAPABILITY
        ))),
        Err(
            UpgradeFailure::Opening(error)
            | UpgradeFailure::Unsent(_, error)
            | UpgradeFailure::Refused(_, error),
        ) => {
            let text = error.to_string();
            if busy_text(&text) {
                Err(OpenError::Busy(text))
            } else {
                Err(OpenError::Unreachable(format!("STARTTLS failed: {text}")))
            }
        }
    }
}

/// Whether a failed dialogue or a non-TLS answer quotes a busy reply: an
/// SMTP `421` (RFC 5321 §3.8), POP3 `-ERR`, IMAP `* BYE`, ManageSieve
/// `BYE`. The TLS scan reads busy answers the same way
/// (`tls_scan/transport.rs`), so both back off on the same signals.
pub fn busy_text(text: &str) -> bool {
    text.split(['"', '\'', '`'])
        .chain(text.split(": "))
        .map(str::trim)
        .any(|part| {
            let upper = part.to_ascii_uppercase();
            let bytes = part.as_bytes();
            (bytes.len() >= 3
                && bytes[0] == b'4'
                && bytes[1..3].iter().all(u8::is_ascii_digit)
                && bytes.get(3).is_none_or(|b| *b == b' ' || *b == b'-'))
                || upper.starts_with("-ERR")
                || upper.starts_with("* BYE")
                || upper.starts_with("BYE")
        })
}

/// A non-TLS answer where a record was due, as [`OpenError::Busy`] when it
/// is a busy reply.
pub fn busy_answer(problem: &str) -> Option<OpenError> {
    busy_text(problem).then(|| OpenError::Busy(problem.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_replies_are_recognised_in_dialogue_errors_and_answers() {
        assert!(busy_text(
            "the greeting: \"421 4.7.0 Too many connections\""
        ));
        assert!(busy_text("a non-TLS answer \"* BYE Too many connections\""));
        assert!(busy_text("a non-TLS answer \"-ERR [SYS/TEMP] busy\""));
        assert!(!busy_text(
            "STARTTLS refused: \"502 5.5.1 not implemented\""
        ));
        assert!(!busy_text("a non-TLS answer starting 80 2e 04"));
    }
}
