//! Where the JSON Lines of a batch go: the `--resume` file (appended to,
//! never truncated), `DIR/report.jsonl` (refused when it already holds
//! lines) or stdout for `--out -`, and which domains a resumed file
//! already holds.

use super::line::LineReader;
use super::{BatchError, DomainLine};
use crate::report::Target;
use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Why the JSONL stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(
        "{}:{line} is incomplete (the file was cut while it was written); delete that last line and run again",
        path.display()
    )]
    Incomplete { path: PathBuf, line: usize },
    #[error(
        "{p} already holds results; continue it with --resume {p}, or move it away or choose another --out",
        p = path.display()
    )]
    HoldsResults { path: PathBuf },
    #[error("cannot open {} to append to it", path.display())]
    Open {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot append to {}", path.display())]
    Append {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot create {}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error(transparent)]
    Lines(#[from] BatchError),
}

/// The JSON Lines of a batch, and the domains a `--resume` file already
/// holds.
pub struct Stream {
    pub writer: Box<dyn Write + Send>,
    /// The file's path, or `stdout`.
    pub label: String,
    /// The file the lines go to; `None` for stdout.
    pub file: Option<PathBuf>,
    /// Domains with a line in the resumed file.
    pub skip: HashSet<String>,
    /// Their evidence, when asked to keep it (`open`'s `keep_done`).
    pub done: Vec<Target>,
}

/// Opens the JSONL stream, if the scan has one: `resume`, else (when
/// `jsonl` is asked for) `out_dir/report.jsonl` or stdout without one.
/// `keep_done` also reads the resumed domains' evidence.
pub fn open(
    resume: Option<&Path>,
    jsonl: bool,
    out_dir: Option<&Path>,
    keep_done: bool,
) -> Result<Option<Stream>, StreamError> {
    if let Some(path) = resume {
        let unterminated = check_last_line(path)?;
        let mut skip = HashSet::new();
        let mut done = Vec::new();
        // Each line is read whole, so a damaged file is refused before the
        // scan; only one line is held at a time unless `keep_done`.
        for read in LineReader::<DomainLine>::open(path, true)? {
            let (_, line) = read?;
            if skip.insert(line.domain.clone()) && keep_done {
                done.push(Target {
                    domain: line.domain,
                    evidence: line.evidence,
                });
            }
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| StreamError::Open {
                path: path.to_path_buf(),
                error,
            })?;
        if unterminated {
            // A whole last line without its newline: end it, so the next
            // line does not join it.
            file.write_all(b"\n").map_err(|error| StreamError::Append {
                path: path.to_path_buf(),
                error,
            })?;
        }
        return Ok(Some(Stream {
            writer: Box::new(file),
            label: path.display().to_string(),
            file: Some(path.to_path_buf()),
            skip,
            done,
        }));
    }
    if !jsonl {
        return Ok(None);
    }
    Ok(Some(match out_dir {
        None => Stream {
            writer: Box::new(std::io::stdout()),
            label: "stdout".to_string(),
            file: None,
            skip: HashSet::new(),
            done: Vec::new(),
        },
        Some(dir) => {
            let path = dir.join("report.jsonl");
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                return Err(StreamError::HoldsResults { path });
            }
            let file = File::create(&path).map_err(|error| StreamError::Create {
                path: path.clone(),
                error,
            })?;
            Stream {
                writer: Box::new(file),
                label: path.display().to_string(),
                file: Some(path),
                skip: HashSet::new(),
                done: Vec::new(),
            }
        }
    }))
}

/// True when the file's last line has no newline but is whole; an error
/// when it was cut mid-line. Reads only the tail of the file (and counts
/// its newlines for the message), never the whole file at once.
fn check_last_line(path: &Path) -> Result<bool, StreamError> {
    let Ok(mut file) = File::open(path) else {
        return Ok(false);
    };
    let io = |error| BatchError::Io {
        source_name: path.display().to_string(),
        error,
    };
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8];
    file.seek(SeekFrom::End(-1))
        .and_then(|_| file.read_exact(&mut last))
        .map_err(io)?;
    if last[0] == b'\n' {
        return Ok(false);
    }
    // The start of the last line: after the last newline before the end.
    let mut start = len;
    let mut chunk = vec![0u8; 1 << 16];
    'search: while start > 0 {
        let from = start.saturating_sub(chunk.len() as u64);
        let size = (start - from) as usize;
        file.seek(SeekFrom::Start(from))
            .and_then(|_| file.read_exact(&mut chunk[..size]))
            .map_err(io)?;
        if let Some(at) = chunk[..size].iter().rposition(|&b| b == b'\n') {
            start = from + at as u64 + 1;
            break 'search;
        }
        start = from;
    }
    let mut tail = Vec::with_capacity((len - start) as usize);
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.read_to_end(&mut tail))
        .map_err(io)?;
    if serde_json::from_slice::<DomainLine>(&tail).is_ok() {
        return Ok(true);
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut newlines = 0;
    let mut reader = std::io::BufReader::new(file);
    loop {
        let buffer = std::io::BufRead::fill_buf(&mut reader).map_err(io)?;
        if buffer.is_empty() {
            break;
        }
        newlines += buffer.iter().filter(|&&b| b == b'\n').count();
        let consumed = buffer.len();
        std::io::BufRead::consume(&mut reader, consumed);
    }
    Err(StreamError::Incomplete {
        path: path.to_path_buf(),
        line: newlines + 1,
    })
}
