//! The server's namespaces (NAMESPACE, RFC 2342; part of IMAP4rev2, RFC
//! 9051 §6.3.10) and the folder names shown in reports.
//!
//! Cyrus puts the user's folders under the personal prefix `INBOX.` with
//! the separator `.`, so LIST says `INBOX.Archive.2015` where a user sees
//! "Archive/2015". [`display_name`] strips the personal prefix and joins the
//! levels with `/`, whatever the server's separator; the raw name stays in
//! the evidence. Other users' and shared folders keep their full name, so
//! they cannot be mistaken for the user's own.
//!
//! async-imap 0.12 has no NAMESPACE call and imap-proto 0.17 cannot parse
//! the answer (its parse error would stay in the session's buffer and wedge
//! every later command). So the command goes out through the session (the
//! read-only guard checks it like any other) and the answer is read here,
//! byte by byte, from the stream under the session, up to and including the
//! tagged completion, then parsed by a small bounded parser ([`parse`]).

mod parse;

use super::folders::decode_mutf7;
use super::imap_session::{Session, timed};
use crate::evidence::{Attempt, ImapNamespace, ImapNamespaces};
use crate::probe::connection::literal_length;
pub use parse::parse;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Most bytes read for one NAMESPACE answer (real ones are under 200).
const MAX_ANSWER: usize = 64 << 10;
/// Most response lines before the tagged completion.
const MAX_LINES: usize = 100;

/// Why the namespaces could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("sending NAMESPACE: {0}")]
    Send(String),
    #[error("reading the NAMESPACE answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("the NAMESPACE answer is longer than {MAX_ANSWER} bytes or {MAX_LINES} lines")]
    TooLong,
    #[error("the server refused NAMESPACE: {0}")]
    Refused(String),
    #[error("the server completed NAMESPACE without a NAMESPACE response")]
    Missing,
    #[error("malformed NAMESPACE response at byte {at}: {what}")]
    Malformed { at: usize, what: &'static str },
}

/// Sends NAMESPACE and reads the answer; every failure is an attempt with
/// a reason. Run only where nothing else is outstanding on the session.
pub(super) async fn query(session: &mut Session, step: Duration) -> Attempt<ImapNamespaces> {
    let started = Instant::now();
    let attempt = match timed(step, exchange(session)).await {
        Ok(Ok(namespaces)) => Attempt::completed(namespaces),
        Ok(Err(error)) => Attempt::failed(error.to_string()),
        Err(reason) => Attempt::failed(format!("NAMESPACE: {reason}")),
    };
    attempt.timed(started)
}

async fn exchange(session: &mut Session) -> Result<ImapNamespaces, NamespaceError> {
    let tag = session
        .run_command("NAMESPACE")
        .await
        .map_err(|e| NamespaceError::Send(e.to_string()))?;
    answer(session.get_mut(), &tag.0).await
}

/// Reads response lines up to the one tagged `tag` and returns the parsed
/// `* NAMESPACE` response. Other untagged data is not ours and is dropped.
/// Reads one byte at a time so nothing after the tagged line is consumed.
pub(super) async fn answer<R: AsyncRead + Unpin>(
    reader: &mut R,
    tag: &str,
) -> Result<ImapNamespaces, NamespaceError> {
    let mut budget = MAX_ANSWER;
    let mut found = None;
    let tagged = format!("{tag} ");
    for _ in 0..MAX_LINES {
        let unit = read_unit(reader, &mut budget).await?;
        if let Some(rest) = unit.strip_prefix(tagged.as_bytes()) {
            let text = String::from_utf8_lossy(rest).trim().to_string();
            let status = text.split(' ').next().unwrap_or_default();
            return if status.eq_ignore_ascii_case("OK") {
                found.ok_or(NamespaceError::Missing)
            } else {
                Err(NamespaceError::Refused(text.chars().take(200).collect()))
            };
        }
        let head = unit.get(..12).unwrap_or_default();
        if head.eq_ignore_ascii_case(b"* NAMESPACE ") {
            found = Some(parse(&unit)?);
        }
    }
    Err(NamespaceError::TooLong)
}

/// One response line with its literals (RFC 9051 §4.3: `{n}` CRLF and n
/// bytes), CRLF included.
async fn read_unit<R: AsyncRead + Unpin>(
    reader: &mut R,
    budget: &mut usize,
) -> Result<Vec<u8>, NamespaceError> {
    let mut unit = Vec::new();
    loop {
        if *budget == 0 {
            return Err(NamespaceError::TooLong);
        }
        *budget -= 1;
        unit.push(reader.read_u8().await?);
        if !unit.ends_with(b"\r\n") {
            continue;
        }
        let Some(length) = literal_length(&unit[..unit.len() - 2]) else {
            return Ok(unit);
        };
        if length > *budget {
            return Err(NamespaceError::TooLong);
        }
        *budget -= length;
        let start = unit.len();
        unit.resize(start + length, 0);
        reader.read_exact(&mut unit[start..]).await?;
    }
}

/// The name shown in reports for the folder the server calls `raw`.
///
/// INBOX stays "INBOX" (its name is case-insensitive, RFC 9051 §5.1). Under
/// the personal namespace the prefix goes and the levels are joined with
/// `/`; a folder under another user's or a shared namespace (the longest
/// matching prefix decides) keeps its full name. Without namespaces the
/// name is only decoded from modified UTF-7.
pub fn display_name(raw: &str, namespaces: Option<&ImapNamespaces>) -> String {
    if raw.eq_ignore_ascii_case("INBOX") {
        return "INBOX".to_string();
    }
    let Some(namespaces) = namespaces else {
        return decode_mutf7(raw);
    };
    let mut best: Option<(&ImapNamespace, bool)> = None;
    for (list, personal) in [
        (&namespaces.personal, true),
        (&namespaces.other_users, false),
        (&namespaces.shared, false),
    ] {
        for namespace in list {
            let longer = best.is_none_or(|(b, _)| namespace.prefix.len() > b.prefix.len());
            if longer && has_prefix(raw, &namespace.prefix) {
                best = Some((namespace, personal));
            }
        }
    }
    let Some((namespace, true)) = best else {
        return decode_mutf7(raw);
    };
    let rest = raw.get(namespace.prefix.len()..).unwrap_or_default();
    if rest.is_empty() {
        return decode_mutf7(raw);
    }
    // Splitting before decoding is safe: modified UTF-7 encodes with
    // letters, digits, '+' and ',' only (RFC 3501 §5.1.3), never '.' or '/'.
    match namespace.separator.as_deref().filter(|s| !s.is_empty()) {
        Some(separator) => rest
            .split(separator)
            .map(decode_mutf7)
            .collect::<Vec<_>>()
            .join("/"),
        None => decode_mutf7(rest),
    }
}

/// Whether `name` starts with `prefix`, with INBOX compared without regard
/// to case (RFC 9051 §5.1: "inbox.Sent" is under "INBOX.").
fn has_prefix(name: &str, prefix: &str) -> bool {
    let Some(head) = name.get(..prefix.len()) else {
        return false;
    };
    if head == prefix {
        return true;
    }
    match (head.get(..5), prefix.get(..5)) {
        (Some(a), Some(b)) => {
            a.eq_ignore_ascii_case("INBOX")
                && b.eq_ignore_ascii_case("INBOX")
                && head[5..] == prefix[5..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::parse::tests::{cyrus, ns};
    use super::*;

    #[test]
    fn cyrus_names_lose_the_personal_prefix_and_show_slashes() {
        let cyrus = cyrus();
        for (raw, shown) in [
            ("INBOX", "INBOX"),
            ("inbox", "INBOX"),
            ("INBOX.Sent", "Sent"),
            ("INBOX.Archive.2015", "Archive/2015"),
            ("inbox.Entw&APw-rfe", "Entwürfe"),
            // other users' and shared folders keep their full name
            ("user.bob.Sent", "user.bob.Sent"),
            ("Shared Folders.Buchhaltung", "Shared Folders.Buchhaltung"),
        ] {
            assert_eq!(display_name(raw, Some(&cyrus)), shown, "{raw}");
        }
    }

    #[test]
    fn dovecot_names_are_unchanged() {
        let dovecot = parse(b"* NAMESPACE ((\"\" \"/\")) NIL ((\"shared/\" \"/\"))").unwrap();
        for (raw, shown) in [
            ("INBOX", "INBOX"),
            ("Sent", "Sent"),
            ("Archive/2015", "Archive/2015"),
            ("Entw&APw-rfe", "Entwürfe"),
            ("shared/team/INBOX", "shared/team/INBOX"),
        ] {
            assert_eq!(display_name(raw, Some(&dovecot)), shown, "{raw}");
        }
    }

    #[test]
    fn alternate_namespace_and_no_namespace() {
        // Cyrus with altnamespace: personal "" with "." and other users
        // under "Other Users."
        let alternate = ImapNamespaces {
            personal: vec![ns("", Some("."))],
            other_users: vec![ns("Other Users.", Some("."))],
            shared: vec![ns("Shared Folders.", Some("."))],
        };
        assert_eq!(
            display_name("Archive.2015", Some(&alternate)),
            "Archive/2015"
        );
        assert_eq!(
            display_name("Other Users.bob.Sent", Some(&alternate)),
            "Other Users.bob.Sent"
        );
        // Without NAMESPACE nothing is stripped or replaced.
        assert_eq!(
            display_name("INBOX.Archive.2015", None),
            "INBOX.Archive.2015"
        );
        // A flat personal namespace (NIL separator) only loses its prefix.
        let flat = ImapNamespaces {
            personal: vec![ns("#mh/", None)],
            ..ImapNamespaces::default()
        };
        assert_eq!(display_name("#mh/a.b", Some(&flat)), "a.b");
        // The prefix alone keeps its name.
        assert_eq!(display_name("INBOX.", Some(&cyrus())), "INBOX.");
    }

    #[tokio::test]
    async fn the_answer_is_read_to_the_tagged_line_with_literals() {
        // Given a Cyrus answer with a literal prefix, an unrelated untagged
        // line, and bytes after the tagged completion
        let wire = b"* OK [ALERT] hello\r\n* NAMESPACE (({6}\r\nINBOX. \".\")) NIL NIL\r\nA0005 OK Completed\r\nA0006 rest";
        let mut reader = &wire[..];
        let parsed = answer(&mut reader, "A0005").await.unwrap();
        assert_eq!(parsed.personal, vec![ns("INBOX.", Some("."))]);
        // Then nothing after the tagged line was consumed
        assert_eq!(reader, b"A0006 rest");
        let mut refused = &b"A1 BAD unknown command\r\n"[..];
        assert!(matches!(
            answer(&mut refused, "A1").await,
            Err(NamespaceError::Refused(_))
        ));
        let mut missing = &b"A1 OK done\r\n"[..];
        assert!(matches!(
            answer(&mut missing, "A1").await,
            Err(NamespaceError::Missing)
        ));
        let mut closed = &b"* NAMESPACE NIL NIL NIL\r\n"[..];
        assert!(matches!(
            answer(&mut closed, "A1").await,
            Err(NamespaceError::Io(_))
        ));
        let huge = format!("* NAMESPACE {{{}}}\r\n", MAX_ANSWER);
        let mut huge = huge.as_bytes();
        assert!(matches!(
            answer(&mut huge, "A1").await,
            Err(NamespaceError::TooLong)
        ));
    }
}
