//! Mailbox credentials for the read-only audit (`--mailbox`).
//!
//! A password is never a command-line argument (it would sit in the shell
//! history and in `ps`). It comes from an environment variable, a file, or
//! a prompt without echo. [`Password`] cannot be printed, serialised or
//! debug-formatted into anything but `‹redacted›`, and its memory is wiped
//! when dropped, so it reaches no log, evidence, report or panic message.

use std::fmt;
use std::path::PathBuf;
use thiserror::Error;
use zeroize::Zeroizing;

/// A password. Only [`Password::expose`] gives the text, for the login.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(text: String) -> Password {
        Password(Zeroizing::new(text))
    }

    /// The password itself: only for writing it to an authenticated,
    /// encrypted connection.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("‹redacted›")
    }
}

/// One `--mailbox USER[@HOST[:PORT]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSpec {
    /// The login name, e.g. `alice@example.com`.
    pub user: String,
    /// The IMAP server, when given; otherwise the scanned domain's.
    pub host: Option<String>,
    pub port: Option<u16>,
}

impl MailboxSpec {
    /// The domain part of the login name, lower case.
    pub fn user_domain(&self) -> Option<String> {
        self.user
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_ascii_lowercase())
    }
}

/// A mailbox with its password.
#[derive(Debug, Clone)]
pub struct MailboxLogin {
    pub spec: MailboxSpec,
    pub password: Password,
}

/// Where passwords come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// `--password-env VAR`.
    Environment(String),
    /// `--password-file FILE`: one line for every mailbox, or `USER:PASSWORD`
    /// lines.
    File(PathBuf),
    /// A prompt on the terminal, without echo.
    Prompt,
}

/// Why credentials could not be read.
#[derive(Debug, Error)]
pub enum CredentialError {
    #[error(
        "--mailbox '{0}': give the login name, USER (e.g. alice@example.com), optionally followed by @HOST or @HOST:PORT for the IMAP server"
    )]
    BadSpec(String),
    #[error(
        "environment variable {0} is not set or empty: export it with the mailbox password (--password-env names the variable, never the password)"
    )]
    MissingEnvironment(String),
    #[error("cannot read --password-file {path}: {error}")]
    File { path: String, error: String },
    #[error(
        "--password-file {path} has no password for {user}: give one line with the password, or USER:PASSWORD lines"
    )]
    NoPasswordFor { path: String, user: String },
    #[error(
        "--mailbox needs a password: use --password-env VAR or --password-file FILE (stdin is not a terminal, so there is no prompt)"
    )]
    NoSource,
    #[error("reading the password from the terminal: {0}")]
    Prompt(String),
}

/// Parses `USER[@HOST[:PORT]]`. The login name may itself contain one `@`
/// (`alice@example.com`); a second `@` starts the server.
pub fn parse_mailbox(text: &str) -> Result<MailboxSpec, CredentialError> {
    let bad = || CredentialError::BadSpec(text.to_string());
    let text = text.trim();
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let parts: Vec<&str> = text.split('@').collect();
    let (user, server) = match parts.as_slice() {
        [user] => (user.to_string(), None),
        [local, domain] => (format!("{local}@{domain}"), None),
        [local, domain, server] => (format!("{local}@{domain}"), Some(*server)),
        _ => return Err(bad()),
    };
    if user.starts_with('@') || user.ends_with('@') {
        return Err(bad());
    }
    let (host, port) = match server {
        None => (None, None),
        Some(server) => {
            let (host, port) = match server.rsplit_once(':') {
                Some((host, port)) => (host, Some(port.parse::<u16>().map_err(|_| bad())?)),
                None => (server, None),
            };
            if host.is_empty() {
                return Err(bad());
            }
            (Some(host.to_ascii_lowercase()), port)
        }
    };
    Ok(MailboxSpec { user, host, port })
}

/// Reads the password of every mailbox from `source`.
pub fn read_passwords(
    specs: Vec<MailboxSpec>,
    source: &PasswordSource,
) -> Result<Vec<MailboxLogin>, CredentialError> {
    let file = match source {
        PasswordSource::File(path) => Some((
            path.display().to_string(),
            Zeroizing::new(std::fs::read_to_string(path).map_err(|error| {
                CredentialError::File {
                    path: path.display().to_string(),
                    error: error.to_string(),
                }
            })?),
        )),
        _ => None,
    };
    specs
        .into_iter()
        .map(|spec| {
            let password = match (source, &file) {
                (PasswordSource::Environment(variable), _) => std::env::var(variable)
                    .ok()
                    .filter(|value| !value.is_empty())
                    .map(Password::new)
                    .ok_or_else(|| CredentialError::MissingEnvironment(variable.clone()))?,
                (PasswordSource::File(_), Some((path, text))) => from_file(text, &spec.user)
                    .ok_or_else(|| CredentialError::NoPasswordFor {
                        path: path.clone(),
                        user: spec.user.clone(),
                    })?,
                _ => Password::new(
                    rpassword::prompt_password(format!("Password for {}: ", spec.user))
                        .map_err(|error| CredentialError::Prompt(error.to_string()))?,
                ),
            };
            Ok(MailboxLogin { spec, password })
        })
        .collect()
}

/// A file holds one line with the password for every mailbox, or
/// `USER:PASSWORD` lines (the first `:` after a login name that matches).
fn from_file(text: &str, user: &str) -> Option<Password> {
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty())
        .collect();
    for line in &lines {
        if let Some(rest) = line.strip_prefix(user)
            && let Some(password) = rest.strip_prefix(':')
        {
            return Some(Password::new(password.to_string()));
        }
    }
    // One line is the password for every mailbox, unless it is another
    // user's `USER:PASSWORD` line (never send that as a password).
    let is_user_line = |line: &str| line.split_once(':').is_some_and(|(u, _)| u.contains('@'));
    match lines.as_slice() {
        [only] if !is_user_line(only) => Some(Password::new(only.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_specs_parse() {
        assert_eq!(
            parse_mailbox("alice@good.test").unwrap(),
            MailboxSpec {
                user: "alice@good.test".into(),
                host: None,
                port: None
            }
        );
        let spec = parse_mailbox("alice@good.test@IMAP.good.test:993").unwrap();
        assert_eq!(spec.host.as_deref(), Some("imap.good.test"));
        assert_eq!(spec.port, Some(993));
        assert_eq!(spec.user_domain().as_deref(), Some("good.test"));
        assert_eq!(parse_mailbox("bob").unwrap().user_domain(), None);
        for bad in ["", "a b@c", "@x", "a@b@c@d", "a@b@", "a@b@h:99999"] {
            assert!(parse_mailbox(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_files_hold_one_or_per_user_lines() {
        assert_eq!(from_file("s3cret\n", "a@b").unwrap().expose(), "s3cret");
        let text = "a@b:one:two\nc@d:three\n";
        assert_eq!(from_file(text, "a@b").unwrap().expose(), "one:two");
        assert_eq!(from_file(text, "c@d").unwrap().expose(), "three");
        assert!(from_file(text, "e@f").is_none());
        assert!(
            from_file("c@d:three\n", "a@b").is_none(),
            "another user's line"
        );
        assert_eq!(from_file("pa:ss\n", "a@b").unwrap().expose(), "pa:ss");
    }

    #[test]
    fn a_password_never_prints() {
        let login = MailboxLogin {
            spec: parse_mailbox("a@b").unwrap(),
            password: Password::new("hunter2".into()),
        };
        assert!(!format!("{login:?}").contains("hunter2"));
        assert!(format!("{login:?}").contains("‹redacted›"));
    }
}
