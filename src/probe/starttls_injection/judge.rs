//! Telling, line by line, which server line answers the command injected
//! behind STARTTLS, which answers our own command, and which is neither
//! (TLS-011; the flow is in the parent module).

use crate::probe::connection::{DialogueError, LineConnection, literal_length};
use crate::probe::protocol::{smtp_continues, starts_with};
use crate::target::Protocol;

/// How a watch over the server's lines ended.
pub(crate) enum Watch {
    /// A line that answers the injected command.
    Injected(String),
    /// The answer to our own command, with nothing injected before it.
    Ours,
    Ended(DialogueError),
}

/// Tells, line by line, what answers the injected command. Servers answer
/// in order (RFC 5321 §4.1, RFC 1939 §3), IMAP by tag, ManageSieve echoes
/// NOOP's tag; ManageSieve re-issues its capabilities unprompted after TLS
/// (RFC 5804 §2.2), which is expected and not an answer.
pub(crate) struct Judge {
    protocol: Protocol,
    own_sent: bool,
    /// Lines of the answer to our own command so far (POP3 CAPA).
    own_lines: usize,
    /// ManageSieve: quoted capability lines seen since the last status line.
    sieve_quoted: bool,
    /// A literal (IMAP, ManageSieve) whose octets the next lines carry.
    literal: Option<Literal>,
}

/// The rest of a literal announced with `{N}` or `{N+}` at the end of a
/// line (RFC 9051 §4.3, RFC 5804 §4): its octets are data, never the start
/// of a response, however they look.
struct Literal {
    remaining: usize,
    /// The literal is ManageSieve's `TAG` response code: collect its text.
    tag: Option<Vec<u8>>,
}

/// Longest literal a tag or an untagged response may announce here: more
/// is not a NOOP answer, and bounds what is collected.
const MAX_LITERAL: usize = 1 << 16;

/// `N` of a line ending in a literal announcement `{N}` or `{N+}`.
fn literal_at_end(line: &str) -> Option<usize> {
    literal_length(line.as_bytes())
}

/// The `TAG` response code of a ManageSieve status line (RFC 5804 §2.13:
/// `OK (TAG string)`), where the string is quoted or a literal.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SieveTag {
    /// No TAG code on this line.
    Absent,
    /// `(TAG "text")`, with `\"` and `\\` unescaped.
    Quoted(String),
    /// `(TAG {N}`: the tag is the first N octets of what follows.
    Literal(usize),
}

pub(super) fn sieve_tag(line: &str) -> SieveTag {
    let upper = line.to_ascii_uppercase();
    let status = ["OK", "NO", "BYE"]
        .into_iter()
        .find(|word| upper.starts_with(word));
    let Some(status) = status else {
        return SieveTag::Absent;
    };
    let rest = line[status.len()..].trim_start();
    let Some(code) = rest.strip_prefix('(') else {
        return SieveTag::Absent;
    };
    if !starts_with(code, "TAG ") {
        return SieveTag::Absent;
    }
    let value = code[4..].trim_start();
    if let Some(quoted) = value.strip_prefix('"') {
        let mut text = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return SieveTag::Quoted(text),
                '\\' => text.push(chars.next().unwrap_or('\\')),
                c => text.push(c),
            }
        }
        return SieveTag::Absent; // unterminated: not a tag
    }
    if value.starts_with('{')
        && let Some(length) = literal_at_end(value)
        && value.len() == value.find('}').map_or(0, |end| end + 1)
    {
        return SieveTag::Literal(length);
    }
    SieveTag::Absent
}

impl Judge {
    pub(crate) fn new(protocol: Protocol) -> Self {
        Judge {
            protocol,
            own_sent: false,
            own_lines: 0,
            sieve_quoted: false,
            literal: None,
        }
    }

    pub(crate) fn own_command_sent(&mut self) {
        self.own_sent = true;
    }

    pub(crate) async fn watch<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
        &mut self,
        connection: &mut LineConnection<S>,
        waiting_for: &'static str,
    ) -> Watch {
        loop {
            let line = match connection.read_line(waiting_for).await {
                Ok(line) => line,
                Err(error) => return Watch::Ended(error),
            };
            if let Some(watch) = self.line(&line) {
                return watch;
            }
        }
    }

    /// Consumes `line` as octets of the pending literal. `None`: the whole
    /// line was literal data. Otherwise what follows the literal on this
    /// line, or the judgement when the literal was the ManageSieve tag.
    fn literal_octets<'a>(&mut self, line: &'a str) -> Option<Result<&'a str, Watch>> {
        let mut literal = self.literal.take()?;
        let bytes = line.as_bytes();
        if bytes.len() < literal.remaining {
            if let Some(tag) = literal.tag.as_mut() {
                tag.extend_from_slice(bytes);
                tag.extend_from_slice(b"\r\n");
            }
            // The line's CRLF is literal data too.
            literal.remaining = literal.remaining.saturating_sub(bytes.len() + 2);
            self.literal = Some(literal);
            return Some(Ok(""));
        }
        let (data, rest) = bytes.split_at(literal.remaining);
        if let Some(mut tag) = literal.tag {
            tag.extend_from_slice(data);
            return Some(Err(if tag.eq_ignore_ascii_case(b"mailaudit") {
                Watch::Ours
            } else {
                Watch::Injected(line.chars().take(200).collect())
            }));
        }
        // `data` ended on a character boundary unless the server lied about
        // the length; then the rest is not text worth judging.
        Some(Ok(std::str::from_utf8(rest).unwrap_or("")))
    }

    /// `None`: keep reading.
    fn line(&mut self, line: &str) -> Option<Watch> {
        let line = match self.literal_octets(line) {
            None => line,
            Some(Err(watch)) => return Some(watch),
            Some(Ok(rest)) => {
                // The response the literal belongs to goes on; it may
                // announce another literal.
                if let Some(length) = literal_at_end(rest).filter(|&n| n <= MAX_LITERAL) {
                    self.literal = Some(Literal {
                        remaining: length,
                        tag: None,
                    });
                }
                return None;
            }
        };
        let injected = || Some(Watch::Injected(line.chars().take(200).collect()));
        match self.protocol {
            Protocol::Smtp | Protocol::Submission | Protocol::Submissions => {
                if !self.own_sent || line.starts_with("250") {
                    injected()
                } else if smtp_continues(line) {
                    None
                } else {
                    Some(Watch::Ours)
                }
            }
            Protocol::Imap | Protocol::Imaps => {
                if starts_with(line, "b ") {
                    injected()
                } else if starts_with(line, "c ") {
                    Some(Watch::Ours)
                } else {
                    // Untagged data; a literal in it may hold lines that
                    // look like "c OK" and are not.
                    if let Some(length) = literal_at_end(line).filter(|&n| n <= MAX_LITERAL) {
                        self.literal = Some(Literal {
                            remaining: length,
                            tag: None,
                        });
                    }
                    None
                }
            }
            Protocol::Pop3 | Protocol::Pop3s => {
                self.own_lines += usize::from(self.own_sent);
                let status = starts_with(line, "+OK") || starts_with(line, "-ERR");
                if !self.own_sent || (status && (self.own_lines > 1 || starts_with(line, "-ERR"))) {
                    injected()
                } else if line == "." {
                    Some(Watch::Ours)
                } else {
                    None
                }
            }
            Protocol::Sieve => {
                if line.starts_with('"') {
                    self.sieve_quoted = true;
                    return None;
                }
                match sieve_tag(line) {
                    SieveTag::Quoted(tag) if tag.eq_ignore_ascii_case("mailaudit") => {
                        Some(Watch::Ours)
                    }
                    // Cyrus answers `NOOP "mailaudit"` with the tag as a
                    // literal: `OK (TAG {9}` CRLF `mailaudit) "Done"`.
                    SieveTag::Literal(length) if length <= MAX_LITERAL => {
                        self.literal = Some(Literal {
                            remaining: length,
                            tag: Some(Vec::new()),
                        });
                        None
                    }
                    _ if std::mem::take(&mut self.sieve_quoted) => {
                        None // the end of the re-issued capabilities
                    }
                    _ => injected(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(protocol: Protocol, before: &[&str], after: &[&str]) -> &'static str {
        let mut judge = Judge::new(protocol);
        for line in before {
            match judge.line(line) {
                Some(Watch::Injected(_)) => return "injected",
                Some(_) => return "ours",
                None => {}
            }
        }
        judge.own_command_sent();
        for line in after {
            match judge.line(line) {
                Some(Watch::Injected(_)) => return "injected",
                Some(Watch::Ours) => return "ours",
                Some(Watch::Ended(_)) | None => {}
            }
        }
        "undecided"
    }

    #[test]
    fn smtp_answers_are_told_apart_by_order_and_code() {
        assert_eq!(feed(Protocol::Smtp, &["250 2.0.0 Ok"], &[]), "injected");
        assert_eq!(feed(Protocol::Smtp, &[], &["500 5.5.2 Error"]), "ours");
        assert_eq!(feed(Protocol::Smtp, &[], &["214-help", "214 end"]), "ours");
        assert_eq!(
            feed(Protocol::Smtp, &[], &["250 2.0.0 Ok", "214 help"]),
            "injected"
        );
    }

    #[test]
    fn imap_answers_are_told_apart_by_tag() {
        assert_eq!(
            feed(
                Protocol::Imap,
                &["* OK still here"],
                &["c OK NOOP completed."]
            ),
            "ours"
        );
        assert_eq!(
            feed(Protocol::Imap, &[], &["b OK NOOP completed.", "c OK"]),
            "injected"
        );
    }

    #[test]
    fn sieve_tags_parse_quoted_and_literal() {
        assert_eq!(
            sieve_tag("OK (TAG \"mailaudit\") \"Done\""),
            SieveTag::Quoted("mailaudit".into())
        );
        assert_eq!(
            sieve_tag("ok (tag \"a\\\"b\")"),
            SieveTag::Quoted("a\"b".into())
        );
        assert_eq!(sieve_tag("OK (TAG {9}"), SieveTag::Literal(9));
        assert_eq!(sieve_tag("OK (TAG {9+}"), SieveTag::Literal(9));
        assert_eq!(sieve_tag("OK (TAG {9} x"), SieveTag::Absent);
        assert_eq!(sieve_tag("OK \"NOOP completed\""), SieveTag::Absent);
        assert_eq!(sieve_tag("OK (TAG \"open"), SieveTag::Absent);
        assert_eq!(literal_at_end("* 1 FETCH (BODY[] {12}"), Some(12));
        assert_eq!(literal_at_end("x {}"), None);
        assert_eq!(literal_at_end("x {99999999999}"), None);
    }

    #[test]
    fn cyrus_answers_the_sieve_tag_as_a_literal() {
        // Issue 16: Cyrus's reply to our own NOOP "mailaudit" is ours.
        let caps = ["\"IMPLEMENTATION\" \"Cyrus timsieved v3.6\"", "OK"];
        assert_eq!(
            feed(
                Protocol::Sieve,
                &caps,
                &["OK (TAG {9}", "mailaudit) \"Done\""]
            ),
            "ours"
        );
        // A literal tag that is not ours answers the injected command.
        assert_eq!(
            feed(Protocol::Sieve, &[], &["OK (TAG {5}", "other) \"Done\""]),
            "injected"
        );
        // A literal spanning lines is collected whole.
        assert_eq!(
            feed(Protocol::Sieve, &[], &["OK (TAG {11}", "mail", "audit)"]),
            "injected",
            "mail CRLF audit is not mailaudit"
        );
    }

    #[test]
    fn imap_literal_data_is_not_a_tagged_answer() {
        // An untagged response whose literal holds a line starting "b OK"
        assert_eq!(
            feed(
                Protocol::Imap,
                &[],
                &["* 1 FETCH (BODY[] {8}", "b OK hi)", "c OK NOOP completed."]
            ),
            "ours"
        );
    }

    #[test]
    fn pop3_and_sieve_answers_are_told_apart() {
        assert_eq!(
            feed(Protocol::Pop3, &[], &["+OK", "TOP", "STLS", "."]),
            "ours"
        );
        assert_eq!(
            feed(Protocol::Pop3, &[], &["-ERR Unknown command.", "+OK"]),
            "injected"
        );
        assert_eq!(
            feed(Protocol::Pop3, &[], &["+OK", "+OK caps", "TOP", "."]),
            "injected"
        );
        let caps = [
            "\"IMPLEMENTATION\" \"x\"",
            "\"VERSION\" \"1.0\"",
            "OK \"TLS negotiation successful.\"",
        ];
        assert_eq!(
            feed(Protocol::Sieve, &caps, &["OK (TAG \"mailaudit\") \"Done\""]),
            "ours"
        );
        let mut injected = caps.to_vec();
        injected.push("OK \"NOOP completed\"");
        assert_eq!(feed(Protocol::Sieve, &injected, &[]), "injected");
        assert_eq!(
            feed(
                Protocol::Sieve,
                &[],
                &["OK \"NOOP\"", "OK (TAG \"mailaudit\")"]
            ),
            "injected"
        );
    }
}
