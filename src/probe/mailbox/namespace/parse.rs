//! The bounded parser of a NAMESPACE response (RFC 2342 as updated by RFC
//! 4466, RFC 9051 §9): three parts, each NIL or a list of namespaces, with
//! quoted strings, literals and extension data skipped to a fixed depth.
//! Never panics; the work is bounded by the input's length.

use super::NamespaceError;
use crate::evidence::{ImapNamespace, ImapNamespaces};
use crate::probe::connection::literal_length;

/// Most namespaces of one kind kept.
const MAX_NAMESPACES: usize = 64;
/// Deepest nesting of extension data skipped inside a namespace.
const MAX_DEPTH: usize = 8;

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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::probe::mailbox::namespace) fn ns(
        prefix: &str,
        separator: Option<&str>,
    ) -> ImapNamespace {
        ImapNamespace {
            prefix: prefix.into(),
            separator: separator.map(Into::into),
        }
    }

    pub(in crate::probe::mailbox::namespace) fn cyrus() -> ImapNamespaces {
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
}
