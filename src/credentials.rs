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

/// How TLS starts on the IMAP server a user named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapTls {
    /// TLS from the first byte (`imaps://`, port 993).
    Implicit,
    /// `STARTTLS` after the greeting (`imap://`, port 143).
    Starttls,
}

/// One `--mailbox`: `USER`, `USER@HOST[:PORT]` after a login name with `@`,
/// or the unambiguous URL `imaps://USER@HOST[:PORT]` / `imap://USER@HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSpec {
    /// The login name, e.g. `alice@example.com`.
    pub user: String,
    /// The IMAP server the user named. When it is given, the password goes
    /// to this host and no other (IMAP, POP3 and ManageSieve alike);
    /// otherwise to the servers the scanned domain announces.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// How TLS starts, when the URL form said so; otherwise by the port
    /// (993 implicit, anything else STARTTLS).
    pub tls: Option<ImapTls>,
}

impl MailboxSpec {
    /// The domain part of the login name, lower case.
    pub fn user_domain(&self) -> Option<String> {
        self.user
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_ascii_lowercase())
    }

    /// How TLS starts on the named server: the URL's scheme, else the port.
    pub fn imap_tls(&self) -> ImapTls {
        match (self.tls, self.port) {
            (Some(tls), _) => tls,
            (None, None | Some(993)) => ImapTls::Implicit,
            (None, Some(_)) => ImapTls::Starttls,
        }
    }

    /// The IMAP port on the named server.
    pub fn imap_port(&self) -> u16 {
        self.port.unwrap_or(match self.imap_tls() {
            ImapTls::Implicit => 993,
            ImapTls::Starttls => 143,
        })
    }

    /// `USER@DOMAIN` without a server is ambiguous unless DOMAIN is one of
    /// the scanned domains: `carol@cyrus.example` may mean the user
    /// `carol@cyrus.example`, or `carol` on the server `cyrus.example`.
    /// Returns the error to show, naming both unambiguous forms.
    pub fn check_unambiguous(&self, text: &str, domains: &[String]) -> Result<(), CredentialError> {
        match (&self.host, self.user_domain()) {
            (None, Some(at)) if !domains.iter().any(|d| d.eq_ignore_ascii_case(&at)) => {
                let (local, _) = self.user.rsplit_once('@').unwrap_or((&self.user, ""));
                Err(CredentialError::Ambiguous {
                    text: text.to_string(),
                    domain: at.clone(),
                    as_user: format!("imaps://{}@HOST", encode_user(&self.user)),
                    as_server: format!("imaps://{}@{at}", encode_user(local)),
                })
            }
            _ => Ok(()),
        }
    }
}

/// Percent-encodes the characters of a login name that a URL's userinfo
/// cannot hold as they are (RFC 3986 §3.2.1).
fn encode_user(user: &str) -> String {
    let mut out = String::new();
    for byte in user.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` on a broken escape or bytes that are not
/// UTF-8.
fn decode_user(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A mailbox with its password.
#[derive(Debug, Clone)]
pub struct MailboxLogin {
    pub spec: MailboxSpec,
    /// The password of `spec.user`, or of `admin` when there is one.
    pub password: Password,
    /// An admin or master identity (`--admin`) that logs in on the user's
    /// behalf: SASL PLAIN with `spec.user` as authorization identity and
    /// this as authentication identity (RFC 4616 §2).
    pub admin: Option<String>,
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
        "--mailbox '{0}': give the login name, USER (e.g. alice@example.com), optionally followed by @HOST or @HOST:PORT for the IMAP server, or the URL imaps://USER@HOST[:PORT] with @ in USER written %40"
    )]
    BadSpec(String),
    #[error(
        "--mailbox: the URL holds a password (USER:PASSWORD@HOST); passwords never go on the command line. Write imaps://USER@HOST and use --password-env, --password-file or the prompt (a ':' in the login name is written %3A)"
    )]
    PasswordInUrl,
    #[error(
        "--mailbox '{text}' is ambiguous: {domain} is not a scanned domain, so it may be the user's domain or the IMAP server. For the user '{text}' on a server you name, write --mailbox {as_user}; for the user on the server {domain}, write --mailbox {as_server}"
    )]
    Ambiguous {
        text: String,
        domain: String,
        as_user: String,
        as_server: String,
    },
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
    #[error("cannot read --mailboxes {path}: {error}")]
    MailboxList { path: String, error: String },
}

/// The entries of a `--mailboxes` list: one per line, without blank lines
/// and `#` comments, each in a form of `--mailbox`.
pub fn mailbox_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Parses `USER[@HOST[:PORT]]` or `imaps://USER@HOST[:PORT]`. In the first
/// form the login name may itself contain one `@` (`alice@example.com`); a
/// second `@` starts the server. In the URL form the user is
/// percent-encoded (`carol%40example.com`), so the last `@` starts the
/// server.
pub fn parse_mailbox(text: &str) -> Result<MailboxSpec, CredentialError> {
    let bad = || CredentialError::BadSpec(text.to_string());
    let text = text.trim();
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let lower = text.to_ascii_lowercase();
    let url = [
        ("imaps://", ImapTls::Implicit),
        ("imap://", ImapTls::Starttls),
    ]
    .into_iter()
    .find(|(scheme, _)| lower.starts_with(scheme));
    let (user, server, tls) = match url {
        Some((scheme, tls)) => {
            let rest = text[scheme.len()..].trim_end_matches('/');
            let (user, server) = rest.rsplit_once('@').ok_or_else(bad)?;
            // `USER:PASSWORD@` would put the password on the command line;
            // refuse it without echoing the argument.
            if user.contains(':') {
                return Err(CredentialError::PasswordInUrl);
            }
            if server.contains(['/', '?', '#']) {
                return Err(bad());
            }
            let user = decode_user(user).ok_or_else(bad)?;
            (user, Some(server), Some(tls))
        }
        None => {
            if text.contains("://") {
                return Err(bad());
            }
            let parts: Vec<&str> = text.split('@').collect();
            match parts.as_slice() {
                [user] => (user.to_string(), None, None),
                [local, domain] => (format!("{local}@{domain}"), None, None),
                [local, domain, server] => (format!("{local}@{domain}"), Some(*server), None),
                _ => return Err(bad()),
            }
        }
    };
    if user.is_empty() || user.starts_with('@') || user.ends_with('@') {
        return Err(bad());
    }
    let (host, port) = match server {
        None => (None, None),
        Some(server) => {
            let (host, port) = match server.rsplit_once(':') {
                Some((host, port)) => (host, Some(port.parse::<u16>().map_err(|_| bad())?)),
                None => (server, None),
            };
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            if host.is_empty() || port == Some(0) {
                return Err(bad());
            }
            (Some(host), port)
        }
    };
    Ok(MailboxSpec {
        user,
        host,
        port,
        tls,
    })
}

/// Reads the password of every mailbox from `source`; with `admin`, the
/// admin's password once, for every mailbox.
pub fn read_passwords(
    specs: Vec<MailboxSpec>,
    source: &PasswordSource,
    admin: Option<&str>,
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
    let read = |user: &str, what: &str| -> Result<Password, CredentialError> {
        Ok(match (source, &file) {
            (PasswordSource::Environment(variable), _) => std::env::var(variable)
                .ok()
                .filter(|value| !value.is_empty())
                .map(Password::new)
                .ok_or_else(|| CredentialError::MissingEnvironment(variable.clone()))?,
            (PasswordSource::File(_), Some((path, text))) => {
                from_file(text, user).ok_or_else(|| CredentialError::NoPasswordFor {
                    path: path.clone(),
                    user: user.to_string(),
                })?
            }
            _ => Password::new(
                rpassword::prompt_password(format!("Password for {what}{user}: "))
                    .map_err(|error| CredentialError::Prompt(error.to_string()))?,
            ),
        })
    };
    if let Some(admin) = admin {
        let password = read(admin, "the admin ")?;
        return Ok(specs
            .into_iter()
            .map(|spec| MailboxLogin {
                spec,
                password: password.clone(),
                admin: Some(admin.to_string()),
            })
            .collect());
    }
    specs
        .into_iter()
        .map(|spec| {
            let password = read(&spec.user, "")?;
            Ok(MailboxLogin {
                spec,
                password,
                admin: None,
            })
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
#[path = "credentials_tests.rs"]
mod tests;
