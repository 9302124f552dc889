//! A line-oriented connection with hard bounds, shared by the SMTP, IMAP, POP3
//! and ManageSieve dialogues.
//!
//! Servers on the internet can be slow, broken or hostile, so every read is
//! bounded three ways: a deadline per protocol step (a server dripping one
//! byte per second still ends the step on time), a maximum line length, and a
//! maximum number of lines per response. Bytes that are not UTF-8 are kept
//! lossily. IMAP literals (`{N}`) are never honoured, so a claimed
//! `{4294967295}` cannot make us allocate.

use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Longest line accepted. RFC 5321 §4.5.3.1.5 allows 512 octets for a reply
/// line; IMAP capability lines are longer in practice.
pub const MAX_LINE: usize = 8192;
/// Most lines accepted in one response (an endless multi-line EHLO stops here).
pub const MAX_LINES: usize = 256;
/// Most transcript entries kept as evidence.
const MAX_TRANSCRIPT: usize = 200;
/// Longest transcript entry kept.
const MAX_TRANSCRIPT_LINE: usize = 300;

/// Any byte stream the dialogues can run over: plain TCP or TLS.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Why a dialogue step failed. The message is what ends up in the evidence.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DialogueError {
    #[error("no complete answer within {0:?} while waiting for {1}")]
    Timeout(Duration, &'static str),
    #[error("the server closed the connection while we waited for {0}")]
    Closed(&'static str),
    #[error("a response line exceeded {MAX_LINE} bytes")]
    LineTooLong,
    #[error("a response exceeded {MAX_LINES} lines")]
    TooManyLines,
    #[error("I/O error: {0}")]
    Io(String),
    #[error("unexpected response to {command}: {reply}")]
    Unexpected {
        command: &'static str,
        reply: String,
    },
}

/// A connection that reads lines under a deadline and records a transcript.
pub struct LineConnection<S> {
    stream: S,
    buffer: Vec<u8>,
    step_timeout: Duration,
    deadline: Instant,
    transcript: Vec<String>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> LineConnection<S> {
    /// Wraps `stream`; each protocol step gets `step_timeout`.
    pub fn new(stream: S, step_timeout: Duration) -> Self {
        LineConnection {
            stream,
            buffer: Vec::new(),
            step_timeout,
            deadline: Instant::now() + step_timeout,
            transcript: Vec::new(),
        }
    }

    /// Starts a new protocol step: the next reads share one fresh deadline.
    pub fn begin_step(&mut self) {
        self.deadline = Instant::now() + self.step_timeout;
    }

    /// Sends one command line (CRLF appended) and starts a new step.
    pub async fn send(&mut self, line: &str) -> Result<(), DialogueError> {
        self.send_pipelined(&[line]).await
    }

    /// Sends several command lines in one write (CRLF after each), as a
    /// client pipelining them would, and starts a new step. Used only to
    /// test STARTTLS command injection (TLS-011).
    pub async fn send_pipelined(&mut self, lines: &[&str]) -> Result<(), DialogueError> {
        self.begin_step();
        let mut bytes = Vec::new();
        for line in lines {
            self.record("C: ", line);
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        let write = async {
            self.stream.write_all(&bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout_at(self.deadline, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(DialogueError::Io(error.to_string())),
            Err(_) => Err(DialogueError::Timeout(
                self.step_timeout,
                "the send to finish",
            )),
        }
    }

    /// Reads one line without its line ending, under the current deadline.
    pub async fn read_line(&mut self, waiting_for: &'static str) -> Result<String, DialogueError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.buffer.drain(..=end).collect();
                let text = String::from_utf8_lossy(&raw)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                self.record("S: ", &text);
                return Ok(text);
            }
            if self.buffer.len() > MAX_LINE {
                return Err(DialogueError::LineTooLong);
            }
            self.fill(waiting_for).await?;
        }
    }

    /// Reads lines until `is_last` says a line ends the response, at most
    /// [`MAX_LINES`].
    pub async fn read_until(
        &mut self,
        waiting_for: &'static str,
        is_last: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, DialogueError> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(waiting_for).await?;
            let last = is_last(&line);
            lines.push(line);
            if last {
                return Ok(lines);
            }
            if lines.len() >= MAX_LINES {
                return Err(DialogueError::TooManyLines);
            }
        }
    }

    /// Reads exactly `count` bytes (a literal's content, e.g. ManageSieve
    /// GETSCRIPT), under the current deadline. The caller bounds `count`.
    pub async fn read_bytes(
        &mut self,
        count: usize,
        waiting_for: &'static str,
    ) -> Result<Vec<u8>, DialogueError> {
        while self.buffer.len() < count {
            self.fill(waiting_for).await?;
        }
        Ok(self.buffer.drain(..count).collect())
    }

    /// Reads one more chunk into the buffer, under the current deadline.
    async fn fill(&mut self, waiting_for: &'static str) -> Result<(), DialogueError> {
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout_at(self.deadline, self.stream.read(&mut chunk)).await;
        match read {
            Err(_) => Err(DialogueError::Timeout(self.step_timeout, waiting_for)),
            Ok(Err(error)) => Err(DialogueError::Io(error.to_string())),
            Ok(Ok(0)) => Err(DialogueError::Closed(waiting_for)),
            Ok(Ok(n)) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &[String] {
        &self.transcript
    }

    /// Gives back the stream, how many bytes were buffered but unread (they
    /// are dropped: after STARTTLS they must not be interpreted), and the
    /// transcript.
    pub fn into_parts(self) -> (S, usize, Vec<String>) {
        (self.stream, self.buffer.len(), self.transcript)
    }

    /// Like [`Self::into_parts`], but gives back the unread bytes themselves
    /// (for TLS-011, which records what a server sent in the clear after its
    /// STARTTLS reply; the bytes are shown, never interpreted).
    pub fn into_parts_with_buffer(self) -> (S, Vec<u8>, Vec<String>) {
        (self.stream, self.buffer, self.transcript)
    }

    /// Starts a connection over a new stream, continuing `transcript`.
    pub fn resume(stream: S, step_timeout: Duration, transcript: Vec<String>) -> Self {
        let mut connection = LineConnection::new(stream, step_timeout);
        connection.transcript = transcript;
        connection
    }

    /// Appends a note (not protocol text) to the transcript.
    pub fn note(&mut self, text: &str) {
        self.record("-- ", text);
    }

    fn record(&mut self, prefix: &str, line: &str) {
        if self.transcript.len() >= MAX_TRANSCRIPT {
            return;
        }
        let mut entry = String::from(prefix);
        entry.extend(line.chars().take(MAX_TRANSCRIPT_LINE));
        if line.chars().count() > MAX_TRANSCRIPT_LINE {
            entry.push('…');
        }
        self.transcript.push(entry);
    }
}

/// The length of a literal announced at the end of `line`: `{12}`, or
/// `{12+}` (RFC 9051 §4.3, RFC 7888; ManageSieve RFC 5804 §4). IMAP and
/// ManageSieve readers that must step over literal data share this one
/// reading of the announcement; at most 9 digits, so it never overflows.
pub fn literal_length(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"}")?;
    let line = line.strip_suffix(b"+").unwrap_or(line);
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = &line[open + 1..];
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn reads_lines_and_keeps_invalid_utf8_lossily() {
        let (client, mut server) = tokio::io::duplex(1024);
        server
            .write_all(b"220 hi\r\n250-a\xff\r\n250 b\r\n")
            .await
            .unwrap();
        let mut connection = LineConnection::new(client, Duration::from_secs(1));
        assert_eq!(connection.read_line("greeting").await.unwrap(), "220 hi");
        let lines = connection
            .read_until("EHLO", |l| l.starts_with("250 "))
            .await
            .unwrap();
        assert_eq!(
            lines,
            vec!["250-a\u{fffd}".to_string(), "250 b".to_string()]
        );
        assert_eq!(connection.transcript().len(), 3);
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let (client, _server) = tokio::io::duplex(1024);
        let mut connection = LineConnection::new(client, Duration::from_millis(50));
        let error = connection.read_line("greeting").await.unwrap_err();
        assert!(
            matches!(error, DialogueError::Timeout(_, "greeting")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_overlong_line_is_refused() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let _ = server.write_all(&vec![b'a'; 3 * MAX_LINE]).await;
        });
        let mut connection = LineConnection::new(client, Duration::from_secs(2));
        assert_eq!(
            connection.read_line("greeting").await.unwrap_err(),
            DialogueError::LineTooLong
        );
    }

    #[tokio::test]
    async fn an_endless_response_is_cut() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            for _ in 0..(MAX_LINES + 10) {
                if server.write_all(b"250-x\r\n").await.is_err() {
                    break;
                }
            }
        });
        let mut connection = LineConnection::new(client, Duration::from_secs(2));
        let error = connection
            .read_until("EHLO", |l| l.starts_with("250 "))
            .await;
        assert_eq!(error.unwrap_err(), DialogueError::TooManyLines);
    }

    #[tokio::test]
    async fn a_closed_connection_is_reported() {
        let (client, server) = tokio::io::duplex(64);
        drop(server);
        let mut connection = LineConnection::new(client, Duration::from_secs(1));
        assert_eq!(
            connection.read_line("greeting").await.unwrap_err(),
            DialogueError::Closed("greeting")
        );
    }
}
