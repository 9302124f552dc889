//! Telling, line by line, which server line answers the command injected
//! behind STARTTLS, which answers our own command, and which is neither
//! (TLS-011; the flow is in the parent module).

use crate::probe::connection::{DialogueError, LineConnection};
use crate::target::Protocol;

pub(super) fn starts_with(line: &str, prefix: &str) -> bool {
    line.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// `250-…`: an SMTP reply line that more lines follow (RFC 5321 §4.2.1).
pub(super) fn smtp_continues(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 3 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'-'
}

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
}

impl Judge {
    pub(crate) fn new(protocol: Protocol) -> Self {
        Judge {
            protocol,
            own_sent: false,
            own_lines: 0,
            sieve_quoted: false,
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

    /// `None`: keep reading.
    fn line(&mut self, line: &str) -> Option<Watch> {
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
                    None // untagged data
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
                let upper = line.to_ascii_uppercase();
                if upper.contains("(TAG \"MAILAUDIT\")") {
                    Some(Watch::Ours)
                } else if std::mem::take(&mut self.sieve_quoted) {
                    None // the end of the re-issued capabilities
                } else {
                    injected()
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
