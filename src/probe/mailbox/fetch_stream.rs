//! Reading a FETCH answer raw from the stream under an IMAP session (the
//! read-only guard): one response with its literals at a time (RFC 9051
//! §4.3), each bounded in size, up to the command's tagged completion.
//! The metadata classification (`classes.rs`) and the opt-in PDF part
//! fetch (`deep_check.rs`) read their answers here, each with its bound.

use crate::probe::connection::literal_length;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

/// Most response lines per batch besides the FETCH responses (EXISTS,
/// EXPUNGE, FLAGS updates the server may interleave).
const MAX_OTHER_LINES: usize = 10_000;

/// Why a batch could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub(super) enum BatchError {
    #[error("reading the FETCH answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection during UID FETCH")]
    Closed,
    #[error("a FETCH response is longer than its bound")]
    TooLong,
    #[error("the FETCH answer has more than {MAX_OTHER_LINES} lines that are not FETCH responses")]
    TooManyLines,
    #[error("the server sent data after completing UID FETCH")]
    Trailing,
}

/// `* N FETCH …`
pub(super) fn is_fetch(response: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&response[..response.len().min(40)]).to_ascii_uppercase();
    let mut words = head.split_ascii_whitespace();
    words.next() == Some("*")
        && words
            .next()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        && words.next().is_some_and(|w| w.starts_with("FETCH"))
}

/// Reads responses up to the one tagged `tag`, hands every untagged one to
/// `each`, and returns the completion's status word. Nothing after the
/// tagged line may be buffered (it would be lost to the session).
pub(super) async fn read_batch<R: AsyncRead + Unpin>(
    stream: &mut R,
    tag: &str,
    max: usize,
    mut each: impl FnMut(&[u8]),
) -> Result<String, BatchError> {
    let mut reader = BufReader::new(stream);
    let tagged = format!("{tag} ");
    let mut other = 0;
    loop {
        let unit = read_unit(&mut reader, max).await?;
        if let Some(rest) = unit.strip_prefix(tagged.as_bytes()) {
            if !reader.buffer().is_empty() {
                return Err(BatchError::Trailing);
            }
            let text = String::from_utf8_lossy(rest);
            return Ok(text
                .split(' ')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string());
        }
        if is_fetch(&unit) {
            each(&unit);
        } else {
            other += 1;
            if other > MAX_OTHER_LINES {
                return Err(BatchError::TooManyLines);
            }
        }
    }
}

/// One response line with its literals (RFC 9051 §4.3), CRLF included.
async fn read_unit<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> Result<Vec<u8>, BatchError> {
    let mut unit = Vec::new();
    loop {
        let start = unit.len();
        let limit = max.saturating_sub(start) as u64;
        let read = (&mut *reader)
            .take(limit)
            .read_until(b'\n', &mut unit)
            .await?;
        if read == 0 {
            return Err(BatchError::Closed);
        }
        if !unit.ends_with(b"\n") {
            return Err(if unit.len() >= max {
                BatchError::TooLong
            } else {
                BatchError::Closed
            });
        }
        let line = unit[start..].strip_suffix(b"\n").unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(length) = literal_length(line) else {
            return Ok(unit);
        };
        if unit.len().saturating_add(length) > max {
            return Err(BatchError::TooLong);
        }
        let at = unit.len();
        unit.resize(at + length, 0);
        reader.read_exact(&mut unit[at..]).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                BatchError::Closed
            } else {
                BatchError::Io(e)
            }
        })?;
    }
}
