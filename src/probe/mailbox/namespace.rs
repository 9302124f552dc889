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
//! tagged completion, then parsed by a small bounded parser.

use super::folders::decode_mutf7;
use super::imap_audit::{Session, timed};
use crate::evidence::{Attempt, ImapNamespace, ImapNamespaces};
use crate::probe::connection::literal_length;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Most bytes read for one NAMESPACE answer (real ones are under 200).
const MAX_ANSWER: usize = 64 << 10;
/// Most response lines before the tagged completion.
const MAX_LINES: usize = 100;
/// Most namespaces of one kind kept.
const MAX_NAMESPACES: usize = 64;
/// Deepest nesting of extension data skipped inside a namespace.
const MAX_DEPTH: usize = 8;

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

/// Parses `* NAMESPACE personal other-users shared` (the grammar of RFC
/// 2342 as updated by RFC 4466, and RFC 9051 §9 `namespace-response`).
/// Each part is NIL or a list of `(prefix separator *extension)`; strings
/// may be quoted (with `\` escapes) or literals. The separator should be
/// one quoted character; any string is taken. Never panics; bounded by the
/// input's length.
pub fn parse(response: &[u8]) -> Result<ImapNamespaces, NamespaceError> {
    let mut cursor = Cursor {
        bytes: response,
        at: 0,
    };
    cursor.expect(b'*', "expected '*'")?;
    cursor.spaces();
    if !cursor.keyword("NAMESPACE") {
        return Err(cursor.error("expected NAMESPACE"));
    }
    let mut kinds = Vec::with_capacity(3);
    for _ in 0..3 {
        if !cursor.spaces() {
            return Err(cursor.error("expected a space before a namespace"));
        }
        kinds.push(cursor.namespace_list()?);
    }
    cursor.spaces();
    cursor.eat(b'\r');
    cursor.eat(b'\n');
    if cursor.at != response.len() {
        return Err(cursor.error("unexpected data after the third namespace"));
    }
    let shared = kinds.pop().unwrap_or_default();
    let other_users = kinds.pop().unwrap_or_default();
    let personal = kinds.pop().unwrap_or_default();
    Ok(ImapNamespaces {
        personal,
        other_users,
        shared,
    })
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn error(&self, what: &'static str) -> NamespaceError {
        NamespaceError::Malformed { at: self.at, what }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), NamespaceError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// Skips spaces; true when there was at least one. Lenient: some
    /// servers pad with more than the one space the grammar has.
    fn spaces(&mut self) -> bool {
        let start = self.at;
        while self.eat(b' ') {}
        self.at > start
    }

    /// A case-insensitive keyword that ends at a delimiter.
    fn keyword(&mut self, word: &str) -> bool {
        let end = self.at + word.len();
        let matches = self
            .bytes
            .get(self.at..end)
            .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()))
            && !self
                .bytes
                .get(end)
                .is_some_and(|b| b.is_ascii_alphanumeric());
        if matches {
            self.at = end;
        }
        matches
    }

    /// NIL or `(` one or more namespace descriptions `)`.
    fn namespace_list(&mut self) -> Result<Vec<ImapNamespace>, NamespaceError> {
        if self.keyword("NIL") {
            return Ok(Vec::new());
        }
        self.expect(b'(', "expected NIL or '('")?;
        let mut list = Vec::new();
        loop {
            self.spaces();
            if self.eat(b')') {
                return Ok(list);
            }
            let namespace = self.description()?;
            if list.len() < MAX_NAMESPACES {
                list.push(namespace);
            }
        }
    }

    /// `(` prefix SP separator *(SP extension) `)`.
    fn description(&mut self) -> Result<ImapNamespace, NamespaceError> {
        self.expect(b'(', "expected '(' to open a namespace")?;
        self.spaces();
        let prefix = self.string()?;
        if !self.spaces() {
            return Err(self.error("expected a space after the prefix"));
        }
        let separator = if self.keyword("NIL") {
            None
        } else {
            Some(self.string()?)
        };
        // Namespace-Response-Extensions (RFC 2342, RFC 4466; e.g. the
        // TRANSLATION of RFC 5255) are skipped: they do not change names.
        loop {
            self.spaces();
            if self.eat(b')') {
                break;
            }
            self.skip_value(0)?;
        }
        Ok(ImapNamespace {
            prefix: String::from_utf8_lossy(&prefix).into_owned(),
            separator: separator.map(|s| String::from_utf8_lossy(&s).into_owned()),
        })
    }

    /// A quoted string (with `\` escapes) or a literal.
    fn string(&mut self) -> Result<Vec<u8>, NamespaceError> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                let mut out = Vec::new();
                loop {
                    match self.peek() {
                        Some(b'"') => {
                            self.at += 1;
                            return Ok(out);
                        }
                        Some(b'\\') => {
                            self.at += 1;
                            match self.peek() {
                                Some(b'\r' | b'\n') | None => {
                                    return Err(self.error("unterminated quoted string"));
                                }
                                Some(byte) => out.push(byte),
                            }
                            self.at += 1;
                        }
                        Some(b'\r' | b'\n') | None => {
                            return Err(self.error("unterminated quoted string"));
                        }
                        Some(byte) => {
                            out.push(byte);
                            self.at += 1;
                        }
                    }
                }
            }
            Some(b'{') => {
                let close = self.bytes[self.at..]
                    .iter()
                    .position(|&b| b == b'}')
                    .map(|offset| self.at + offset)
                    .ok_or_else(|| self.error("unterminated literal length"))?;
                let length = literal_length(&self.bytes[self.at..=close])
                    .ok_or_else(|| self.error("bad literal length"))?;
                self.at = close + 1;
                self.expect(b'\r', "expected CRLF after a literal length")?;
                self.expect(b'\n', "expected CRLF after a literal length")?;
                let end = self
                    .at
                    .checked_add(length)
                    .filter(|&end| end <= self.bytes.len())
                    .ok_or_else(|| self.error("literal longer than the response"))?;
                let out = self.bytes[self.at..end].to_vec();
                self.at = end;
                Ok(out)
            }
            _ => Err(self.error("expected a quoted string or a literal")),
        }
    }

    /// Any value inside extension data: a string, an atom or NIL, or a
    /// parenthesised list of values.
    fn skip_value(&mut self, depth: usize) -> Result<(), NamespaceError> {
        match self.peek() {
            Some(b'"' | b'{') => self.string().map(drop),
            Some(b'(') => {
                if depth >= MAX_DEPTH {
                    return Err(self.error("extension data nested too deep"));
                }
                self.at += 1;
                loop {
                    self.spaces();
                    if self.eat(b')') {
                        return Ok(());
                    }
                    self.skip_value(depth + 1)?;
                }
            }
            _ => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b' ' | b'(' | b')' | b'"' | b'\r' | b'\n'))
                {
                    self.at += 1;
                }
                if self.at == start {
                    Err(self.error("expected a value"))
                } else {
                    Ok(())
                }
            }
        }
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
    use super::*;

    fn ns(prefix: &str, separator: Option<&str>) -> ImapNamespace {
        ImapNamespace {
            prefix: prefix.into(),
            separator: separator.map(Into::into),
        }
    }

    fn cyrus() -> ImapNamespaces {
        parse(b"* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))\r\n").unwrap()
    }

    #[test]
    fn dovecot_and_cyrus_answers_parse() {
        let dovecot = parse(b"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n").unwrap();
        assert_eq!(
            dovecot,
            ImapNamespaces {
                personal: vec![ns("", Some("/"))],
                other_users: vec![],
                shared: vec![],
            }
        );
        assert_eq!(
            cyrus(),
            ImapNamespaces {
                personal: vec![ns("INBOX.", Some("."))],
                other_users: vec![ns("user.", Some("."))],
                shared: vec![ns("", Some("."))],
            }
        );
    }

    #[test]
    fn several_namespaces_escapes_literals_nil_and_extensions_parse() {
        // Given two personal namespaces, a separator that needs an escape,
        // a literal prefix, a NIL separator and a TRANSLATION extension
        // (RFC 5255)
        let answer = b"* namespace ((\"\" \"\\\\\")(\"#mh/\" NIL)) \
            (({6}\r\nOther. \".\" \"TRANSLATION\" (\"Andere.\"))) NIL";
        let parsed = parse(answer).unwrap();
        assert_eq!(parsed.personal, vec![ns("", Some("\\")), ns("#mh/", None)]);
        assert_eq!(parsed.other_users, vec![ns("Other.", Some("."))]);
        assert!(parsed.shared.is_empty());
        let quoted_quote = parse(b"* NAMESPACE ((\"a\\\"b\" \"/\")) NIL NIL").unwrap();
        assert_eq!(quoted_quote.personal, vec![ns("a\"b", Some("/"))]);
    }

    #[test]
    fn malformed_answers_are_errors_never_panics() {
        for answer in [
            &b""[..],
            b"*",
            b"* NAMESPACE",
            b"* NAMESPACE NIL NIL",
            b"* NAMESPACE ((\"\" \"/\")) NIL NIL garbage",
            b"* NAMESPACE ((\"unterminated \"/\")) NIL NIL",
            b"* NAMESPACE (({99}\r\nshort \"/\")) NIL NIL",
            b"* NAMESPACE (({99999999999}\r\nx \"/\")) NIL NIL",
            b"* NAMESPACE ((\"\" \"/\" ((((((((((((x))))))))))))) NIL NIL",
            b"* NAMESPACE ((\"\" \"/\" NIL NIL",
            b"* NAMESPACES NIL NIL NIL",
            b"* NAMESPACE ((\"\\",
        ] {
            assert!(
                parse(answer).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(answer)
            );
        }
        // Every prefix of a valid answer fails or parses, and never panics.
        let full = b"* NAMESPACE ((\"INBOX.\" \".\" \"X\" (\"a\" {1}\r\nb))) ((\"user.\" \".\")) ((\"\" \".\"))\r\n";
        for end in 0..full.len() {
            let _ = parse(&full[..end]);
        }
        assert!(parse(full).is_ok());
    }

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
