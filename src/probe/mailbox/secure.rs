//! The encrypted connection a password may travel over: TCP under the
//! connect timeout, STARTTLS where the port needs it (the protocol layer's
//! one plaintext path, `probe::protocol::upgrade`: bounded lines, timed
//! steps), then TLS 1.2+ with the scan's trust store and the one verifier
//! (`probe::tls`) enforcing its verdict. The password is never sent in
//! clear, and only over a verified certificate unless the user passed
//! `--accept-invalid-certs` (recorded in the evidence).

use super::scope::Server;
use crate::probe::connection::LineConnection;
use crate::probe::context::ProbeContext;
use crate::probe::protocol::upgrade::{self, UpgradeFailure};
use crate::probe::protocol::{MailProtocol, dispatch};
use crate::probe::tls::{self, HandshakeError, Policy};
use crate::target::Protocol;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// How TLS starts on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// TLS from the first byte (993, 995).
    Implicit,
    /// IMAP `STARTTLS` (RFC 9051 §6.2.1).
    ImapStarttls,
    /// POP3 `STLS` (RFC 2595 §4).
    Pop3Stls,
    /// ManageSieve `STARTTLS` after the capability greeting (RFC 5804 §2.2).
    SieveStarttls,
}

impl Start {
    /// The protocol whose STARTTLS dialogue comes first; none for
    /// implicit TLS.
    fn upgrade(self) -> Option<Protocol> {
        match self {
            Start::Implicit => None,
            Start::ImapStarttls => Some(Protocol::Imap),
            Start::Pop3Stls => Some(Protocol::Pop3),
            Start::SieveStarttls => Some(Protocol::Sieve),
        }
    }
}

/// An encrypted, possibly verified connection.
pub struct Secured {
    pub stream: TlsStream<TcpStream>,
    /// The certificate verified against the trust store for the host name.
    pub verified: bool,
    /// Capability lines a ManageSieve server sends again after STARTTLS are
    /// left for the caller to read.
    pub description: String,
}

/// Connects to `server` and starts TLS. Errors are reasons for evidence.
pub async fn connect(
    server: &Server,
    start: Start,
    context: &ProbeContext,
    accept_invalid: bool,
) -> Result<Secured, String> {
    let host = server.host();
    let port = server.address().port();
    let tcp = tokio::time::timeout(
        context.connect_timeout,
        TcpStream::connect(server.address()),
    )
    .await
    .map_err(|_| {
        format!(
            "{host}:{port}: no TCP connection within {:?}",
            context.connect_timeout
        )
    })?
    .map_err(|error| format!("{host}:{port} ({}): {error}", server.address().ip()))?;
    let tcp = match start.upgrade() {
        None => tcp,
        Some(protocol) => dispatch!(protocol, P => starttls::<P>(tcp, server, context).await)?,
    };
    let policy = Policy::Enforce { accept_invalid };
    let (result, record) =
        tls::establish(tcp, host, &context.trust, policy, context.step_timeout).await;
    let stream = match result {
        Ok(stream) => stream,
        Err(HandshakeError::Name(reason) | HandshakeError::Configuration(reason)) => {
            return Err(reason);
        }
        Err(HandshakeError::Timeout(timeout)) => {
            return Err(format!(
                "{host}:{port}: TLS handshake did not finish within {timeout:?}"
            ));
        }
        Err(HandshakeError::Failed(error)) => {
            let why = match record.error {
                Some(e) => format!(
                    "the certificate did not verify ({e}); no password is sent over unverified TLS unless --accept-invalid-certs is given"
                ),
                None => format!("TLS handshake failed: {error}"),
            };
            return Err(format!("{host}:{port}: {why}"));
        }
    };
    let scheme = match start {
        Start::Implicit if port == 995 => "pop3s",
        Start::Implicit => "imaps",
        Start::ImapStarttls => "imap",
        Start::Pop3Stls => "pop3",
        Start::SieveStarttls => "sieve",
    };
    Ok(Secured {
        stream,
        verified: record.verified,
        description: format!("{scheme}://{host}:{port}"),
    })
}

/// The plaintext part: greeting, capabilities, the STARTTLS command, its
/// OK. Nothing the server sent after the OK may be kept (RFC 9051 §6.2.1:
/// it must be discarded), and a server that sends anything there is not
/// trusted with a password.
async fn starttls<P: MailProtocol>(
    tcp: TcpStream,
    server: &Server,
    context: &ProbeContext,
) -> Result<TcpStream, String> {
    let local = tcp.local_addr().unwrap_or(server.address());
    let mut line = LineConnection::new(tcp, context.step_timeout);
    match upgrade::starttls::<P, _>(&mut line, local).await {
        Ok(_) => {}
        Err(UpgradeFailure::Opening(error)) => return Err(format!("before STARTTLS: {error}")),
        Err(UpgradeFailure::NotOffered(_)) => {
            return Err(format!(
                "before STARTTLS: the server does not announce {}; no password is sent without TLS",
                P::UPGRADE_CAPABILITY
            ));
        }
        Err(UpgradeFailure::Unsent(_, error) | UpgradeFailure::Refused(_, error)) => {
            return Err(format!("STARTTLS refused: {error}"));
        }
    }
    let (tcp, unread, _) = line.into_parts();
    if unread > 0 {
        return Err(format!(
            "the server sent {unread} bytes after its STARTTLS reply, before TLS (injection risk); the audit stops here"
        ));
    }
    Ok(tcp)
}

/// A ManageSieve response ends with an OK, NO or BYE line.
pub fn is_sieve_end(line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    upper.starts_with("OK") || upper.starts_with("NO") || upper.starts_with("BYE")
}
