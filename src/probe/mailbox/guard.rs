//! The read-only guard: a stream wrapper under the IMAP client that checks
//! every command line before it leaves, and bounds what the server may send.
//!
//! Only these commands pass (issue 5, RFC 9051 and extensions): CAPABILITY,
//! ID (RFC 2971), AUTHENTICATE (and its continuation lines), NAMESPACE
//! (RFC 2342, RFC 9051 §6.3.10), LIST, LSUB, STATUS (any items: it reports
//! counts and never sets `\Seen`, RFC 9051 §6.3.11), EXAMINE, UID SEARCH,
//! UID SORT (RFC 5256), UID FETCH without a body part that sets `\Seen`
//! (only `BODY.PEEK[…]`, never `BODY[…]`, `RFC822` or `RFC822.TEXT`;
//! RFC 3501 §6.4.5), GETQUOTAROOT and GETQUOTA (RFC 9208),
//! MYRIGHTS and GETACL (RFC 4314), NOOP and LOGOUT. SELECT, STORE, COPY,
//! MOVE, EXPUNGE, APPEND, CREATE, DELETE and everything else fail with a
//! `PermissionDenied` error before a byte is sent. The verbs sent are kept
//! (never their arguments, which hold the credentials) as the audit trail.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes the server may send in one audit session: far above what the
/// year searches of a large mailbox return, far below what would hurt.
pub const MAX_READ: u64 = 256 << 20;
/// Longest command line the client may send.
const MAX_COMMAND: usize = 64 << 10;

/// The audit trail: command verbs in the order they were sent.
pub type Trail = Arc<Mutex<Vec<String>>>;

/// A stream that lets only read-only IMAP commands through.
#[derive(Debug)]
pub struct ReadOnlyGuard<S> {
    inner: S,
    /// The command being assembled (async-imap writes a tag, a space, the
    /// command and CRLF in separate writes).
    pending: Vec<u8>,
    /// Checked bytes not yet accepted by the inner stream.
    outgoing: Vec<u8>,
    read: u64,
    /// The next line is the client's answer to a `+` continuation of
    /// AUTHENTICATE, not a command.
    in_authenticate: bool,
    trail: Trail,
}

impl<S> ReadOnlyGuard<S> {
    pub fn new(inner: S, trail: Trail) -> Self {
        ReadOnlyGuard {
            inner,
            pending: Vec::new(),
            outgoing: Vec::new(),
            read: 0,
            in_authenticate: false,
            trail,
        }
    }

    /// Checks one complete line (CRLF included) and queues it.
    fn admit(&mut self, line: Vec<u8>) -> io::Result<()> {
        if self.in_authenticate {
            // The SASL response (base64) to the server's continuation.
            self.in_authenticate = false;
            self.outgoing.extend_from_slice(&line);
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let verb = command_verb(&text).ok_or_else(|| refuse("an empty or untagged command"))?;
        check(&verb, &text)?;
        if verb == "AUTHENTICATE" {
            self.in_authenticate = true;
        }
        if let Ok(mut trail) = self.trail.lock() {
            trail.push(verb);
        }
        self.outgoing.extend_from_slice(&line);
        Ok(())
    }
}

fn refuse(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("read-only guard: {what} is not allowed in a mailbox audit"),
    )
}

/// `a1 UID FETCH 1:* (…)` → `UID FETCH`; `a2 EXAMINE INBOX` → `EXAMINE`.
fn command_verb(line: &str) -> Option<String> {
    let mut words = line.split_ascii_whitespace();
    let _tag = words.next()?;
    let first = words.next()?.to_ascii_uppercase();
    if first == "UID" {
        Some(format!("UID {}", words.next()?.to_ascii_uppercase()))
    } else {
        Some(first)
    }
}

/// The allowlist.
fn check(verb: &str, line: &str) -> io::Result<()> {
    match verb {
        "CAPABILITY" | "ID" | "AUTHENTICATE" | "NAMESPACE" | "LIST" | "LSUB" | "STATUS"
        | "EXAMINE" | "UID SEARCH" | "UID SORT" | "GETQUOTAROOT" | "GETQUOTA" | "MYRIGHTS"
        | "GETACL" | "NOOP" | "LOGOUT" => Ok(()),
        "UID FETCH" => {
            let upper = line.to_ascii_uppercase();
            // BODY[…] and RFC822 / RFC822.TEXT set \Seen; BODY.PEEK[…],
            // RFC822.SIZE and RFC822.HEADER do not (RFC 3501 §6.4.5).
            let sets_seen = upper.contains("BODY[")
                || upper
                    .match_indices("RFC822")
                    .any(|(at, _)| !matches!(&upper[at + 6..], rest if rest.starts_with(".SIZE") || rest.starts_with(".HEADER")));
            if sets_seen {
                Err(refuse("a FETCH that would set \\Seen"))
            } else {
                Ok(())
            }
        }
        other => Err(refuse(other)),
    }
}

impl<S: AsyncWrite + Unpin> ReadOnlyGuard<S> {
    /// Writes queued bytes; Ready(Ok) once all are out.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.outgoing.is_empty() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.outgoing) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.outgoing.drain(..n);
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ReadOnlyGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Earlier lines go out first, so memory stays bounded.
        if let Poll::Ready(Err(error)) = self.drain(cx) {
            return Poll::Ready(Err(error));
        }
        if !self.outgoing.is_empty() {
            return Poll::Pending;
        }
        let this = &mut *self;
        this.pending.extend_from_slice(buf);
        while let Some(end) = this.pending.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = this.pending.drain(..end + 2).collect();
            this.admit(line)?;
        }
        if this.pending.len() > MAX_COMMAND {
            return Poll::Ready(Err(refuse("a command line this long")));
        }
        let _ = this.drain(cx);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadOnlyGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.read >= MAX_READ {
            return Poll::Ready(Err(io::Error::other(format!(
                "the server sent more than {} MiB in one audit session",
                MAX_READ >> 20
            ))));
        }
        let before = buf.filled().len();
        let outcome = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.read += (buf.filled().len() - before) as u64;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    async fn send(lines: &[&str]) -> (io::Result<()>, Vec<u8>, Vec<String>) {
        let trail = Trail::default();
        let mut guard = ReadOnlyGuard::new(Vec::new(), trail.clone());
        let mut outcome = Ok(());
        for line in lines {
            outcome = guard.write_all(line.as_bytes()).await;
            if outcome.is_ok() {
                outcome = guard.flush().await;
            }
            if outcome.is_err() {
                break;
            }
        }
        let trail = trail.lock().unwrap().clone();
        (outcome, guard.inner, trail)
    }

    #[tokio::test]
    async fn read_only_commands_pass_and_are_recorded() {
        let (outcome, sent, trail) = send(&[
            "A1 EXAMINE INBOX\r\n",
            "A2 UID SEARCH SINCE 1-Jan-2020 BEFORE 1-Jan-2021\r\n",
            "A3 UID FETCH 1:5 (INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE)])\r\n",
            "A4 AUTHENTICATE PLAIN\r\n",
            "AGFsaWNlAHNlY3JldA==\r\n",
        ])
        .await;
        outcome.unwrap();
        assert!(String::from_utf8_lossy(&sent).contains("A3 UID FETCH"));
        assert_eq!(
            trail,
            ["EXAMINE", "UID SEARCH", "UID FETCH", "AUTHENTICATE"]
        );
    }

    #[tokio::test]
    async fn namespace_and_status_unseen_pass() {
        // Given the commands the folder names and unseen counts need
        let (outcome, sent, trail) = send(&[
            "A0005 NAMESPACE\r\n",
            "A0006 STATUS \"INBOX.Archive.2015\" (UNSEEN)\r\n",
            "A0007 status Sent (MESSAGES UIDNEXT UNSEEN)\r\n",
        ])
        .await;
        // Then they leave and are recorded
        outcome.unwrap();
        assert!(String::from_utf8_lossy(&sent).contains("(UNSEEN)"));
        assert_eq!(trail, ["NAMESPACE", "STATUS", "STATUS"]);
    }

    #[tokio::test]
    async fn writing_commands_never_leave() {
        for line in [
            "A1 SELECT INBOX\r\n",
            "A1 UID STORE 1 +FLAGS (\\Seen)\r\n",
            "A1 EXPUNGE\r\n",
            "A1 UID FETCH 1 (BODY[])\r\n",
            "A1 UID FETCH 1 RFC822\r\n",
            "A1 UID FETCH 1 (RFC822.TEXT)\r\n",
            "A1 COPY 1 Trash\r\n",
            "A1 APPEND INBOX {3}\r\n",
            "A1 LOGIN alice secret\r\n",
            "A1 SETMETADATA INBOX (/private/comment \"x\")\r\n",
            "A1 CREATE INBOX.Archive.2015\r\n",
            "A1 RENAME INBOX.Sent INBOX.Old\r\n",
            "A1 SUBSCRIBE INBOX.Sent\r\n",
            "A1 SETACL INBOX anyone lr\r\n",
            "A1 UID EXPUNGE 1\r\n",
        ] {
            let (outcome, sent, trail) = send(&[line]).await;
            let error = outcome.expect_err(line);
            assert_eq!(error.kind(), io::ErrorKind::PermissionDenied, "{line}");
            assert!(sent.is_empty(), "{line} was sent");
            assert!(trail.is_empty());
        }
    }

    #[tokio::test]
    async fn commands_split_over_writes_are_checked_whole() {
        let (outcome, sent, _) = send(&["A1", " ", "SELECT INBOX", "\r\n"]).await;
        assert!(outcome.is_err());
        assert!(sent.is_empty());
    }
}
