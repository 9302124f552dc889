//! What every mail protocol provides: the [`MailProtocol`] trait (greeting
//! and capabilities, the STARTTLS verb and its reply, NOOP for the injection
//! test, SASL details, a polite close) and the helpers the protocol files
//! share. It imports no protocol and no probe, so the protocol files and
//! the probes that use them form no circle.

use crate::evidence::AuthExposure;
use crate::probe::connection::{DialogueError, LineConnection};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// What a server says before any upgrade: its greeting and capabilities.
#[derive(Debug, Clone, Default)]
pub struct Opening {
    pub greeting: String,
    pub capabilities: Vec<String>,
}

/// The three commands of the STARTTLS injection test (TLS-011): the
/// upgrade and a harmless command written in one segment, and a command of
/// our own inside TLS whose answer tells, by order or tag, whether the
/// injected one was answered ahead of it.
#[derive(Debug, Clone, Copy)]
pub struct InjectionCommands {
    pub starttls: &'static str,
    pub injected: &'static str,
    pub own: &'static str,
}

/// One mail protocol's side of a connection.
pub(crate) trait MailProtocol {
    /// Reads the greeting and asks for capabilities.
    async fn open<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        local: SocketAddr,
    ) -> Result<Opening, DialogueError>;

    /// The capability that announces the upgrade (`STARTTLS`, POP3's `STLS`).
    const UPGRADE_CAPABILITY: &'static str = "STARTTLS";

    /// Whether the capabilities announce the upgrade command.
    fn offers_starttls(capabilities: &[String]) -> bool {
        capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(Self::UPGRADE_CAPABILITY))
    }

    /// Sends the upgrade command; `Ok(reply)` when the server agreed.
    async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<String, DialogueError>;

    /// The commands of the STARTTLS injection test.
    const INJECTION: InjectionCommands;

    /// Reads the reply to [`InjectionCommands::starttls`] sent pipelined
    /// with the injected command: every line of it, the deciding one last.
    async fn read_pipelined_starttls_reply<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
    ) -> Result<Vec<String>, DialogueError>;

    /// Whether the last line of the pipelined STARTTLS reply agrees.
    fn accepts_pipelined_starttls(last: &str) -> bool;

    /// Capabilities once TLS is up.
    async fn capabilities_after_tls<S: AsyncRead + AsyncWrite + Unpin>(
        connection: &mut LineConnection<S>,
        local: SocketAddr,
    ) -> Result<Vec<String>, DialogueError>;

    /// What the plaintext capabilities expose for authentication.
    fn auth_exposure(capabilities: &[String]) -> AuthExposure;

    /// SASL mechanisms in a capability list.
    fn sasl_mechanisms(capabilities: &[String]) -> Vec<String>;

    /// Ends the session politely (errors ignored).
    async fn close<S: AsyncRead + AsyncWrite + Unpin>(connection: &mut LineConnection<S>);
}

/// SASL mechanisms in the order the server announced them, each once (the
/// first time it appears, case aside). The order is evidence: servers list
/// their preference, and Postfix with `broken_sasl_auth_clients` or Exim
/// repeat the list in an `AUTH=` line, which is why duplicates occur.
pub(crate) fn in_announced_order(mechanisms: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for mechanism in mechanisms {
        let mechanism = mechanism.to_ascii_uppercase();
        if !seen.contains(&mechanism) {
            seen.push(mechanism);
        }
    }
    seen
}

/// Whether `line` starts with `prefix`, case aside (and never panicking on
/// a multi-byte character at the cut).
pub(crate) fn starts_with(line: &str, prefix: &str) -> bool {
    line.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// `250-…`: an SMTP reply line that more lines follow (RFC 5321 §4.2.1).
pub(crate) fn smtp_continues(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 3 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'-'
}
