//! TLS 1.3 0-RTT (TLS-113): does the server accept early data on a
//! resumed session? Early data can be replayed by anyone who recorded it
//! (RFC 8446 §2.3, §8), which is why TR-03116-4 and TR-02102-2 keep it out
//! of government and recommended use.
//!
//! Two rustls connections with one TLS 1.3 configuration that allows early
//! data: the first makes a full handshake and reads the greeting, so that
//! the server's tickets arrive (the resumption check's [`session`]); the
//! second is driven by hand, because only a bare `ClientConnection` tells
//! before the handshake whether a ticket permits early data. If one does,
//! the protocol layer's harmless command (IMAP `b NOOP`, SMTP `NOOP`,
//! POP3 `NOOP`) goes out as early data; never anything that changes state,
//! and never mail. The handshake is completed, `is_early_data_accepted`
//! read, and the connection closed without reading the answer.
//!
//! Only implicit TLS ports (465, 993, 995) are tried. After STARTTLS the
//! first bytes inside TLS would have to follow a second plaintext dialogue
//! on a new connection, and the command the protocol asks for there (EHLO
//! after STARTTLS, RFC 3207 §4.2) is not one we want replayable; servers
//! share one TLS configuration across their ports, so the implicit port
//! speaks for them.

use super::resumption::{describe, session};
use crate::evidence::{EarlyDataCheck, EarlyDataOutcome};
use crate::probe::context::AddressLimit;
use crate::probe::protocol::{MailProtocol, dispatch};
use crate::probe::tls::{self, Policy, RecordingVerifier};
use crate::probe::tls_scan::ScanTarget;
use crate::probe::trust::TrustStore;
use crate::target::TlsMode;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, HandshakeKind};
use std::io::Write;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Tries 0-RTT on `target`, two connections under `limit`.
pub(super) async fn check(
    target: &ScanTarget,
    trust: &TrustStore,
    limit: &AddressLimit,
) -> EarlyDataCheck {
    let result = |outcome, observed: String, command: Option<String>| EarlyDataCheck {
        outcome,
        observed,
        command,
    };
    if target.protocol.tls_mode() != TlsMode::Implicit {
        return result(
            EarlyDataOutcome::NotTested,
            "0-RTT is tried on implicit TLS ports only (465, 993, 995)".into(),
            None,
        );
    }
    let verifier = Arc::new(RecordingVerifier::new(
        trust.verifier.clone(),
        Policy::Record,
    ));
    let mut config = match tls::client_config(trust, verifier, &[&rustls::version::TLS13]) {
        Ok(config) => config,
        Err(error) => return result(EarlyDataOutcome::NotTested, describe(error), None),
    };
    config.enable_early_data = true;
    let config = Arc::new(config);
    if let Err(reason) = session(target, config.clone(), limit).await {
        return result(
            EarlyDataOutcome::NotTested,
            format!("the first TLSv1.3 connection: {reason}"),
            None,
        );
    }
    let command = dispatch!(target.protocol, P => P::INJECTION.injected);
    let permit = limit.acquire().await;
    let second = early(target, config, command).await;
    limit.release(permit).await;
    match second {
        Err(reason) => result(
            EarlyDataOutcome::NotTested,
            format!("the second TLSv1.3 connection: {reason}"),
            None,
        ),
        Ok(Early {
            sent: false, kind, ..
        }) => result(
            EarlyDataOutcome::Refused,
            if kind == Some(HandshakeKind::Resumed) {
                "the server's ticket allows no early data (max_early_data_size 0), so none was sent"
            } else {
                "the server issued no TLS 1.3 ticket that could be resumed, so no early data is possible"
            }
            .into(),
            None,
        ),
        Ok(Early {
            sent: true,
            accepted: true,
            ..
        }) => result(
            EarlyDataOutcome::Accepted,
            format!("the server accepted \"{command}\" as 0-RTT early data on a resumed session"),
            Some(command.to_string()),
        ),
        Ok(Early { sent: true, .. }) => result(
            EarlyDataOutcome::Refused,
            "the ticket allowed early data, but the server rejected it in the handshake".into(),
            Some(command.to_string()),
        ),
    }
}

/// What the 0-RTT connection showed.
struct Early {
    /// Early data went out (a ticket permitted it).
    sent: bool,
    accepted: bool,
    kind: Option<HandshakeKind>,
}

/// The second connection: a bare rustls client, early data written before
/// the ClientHello leaves, records pumped until the handshake ends.
async fn early(
    target: &ScanTarget,
    config: Arc<rustls::ClientConfig>,
    command: &str,
) -> Result<Early, String> {
    let host = target
        .server_name
        .clone()
        .unwrap_or_else(|| target.address.ip().to_string());
    let name = ServerName::try_from(host.clone())
        .map_err(|error| format!("{host} is not a valid TLS server name: {error}"))?;
    let mut connection =
        ClientConnection::new(config, name).map_err(|error| format!("rustls: {error}"))?;
    let sent = match connection.early_data() {
        Some(mut early) => early.write_all(format!("{command}\r\n").as_bytes()).is_ok(),
        None => false,
    };
    let mut stream =
        tokio::time::timeout(target.connect_timeout, TcpStream::connect(target.address))
            .await
            .map_err(|_| {
                format!(
                    "connect failed: no answer within {:?}",
                    target.connect_timeout
                )
            })?
            .map_err(|error| format!("connect failed: {error}"))?;
    let deadline = tokio::time::Instant::now() + target.step_timeout;
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        while connection.wants_write() {
            let mut out = Vec::new();
            connection
                .write_tls(&mut out)
                .map_err(|error| format!("rustls: {error}"))?;
            stream
                .write_all(&out)
                .await
                .map_err(|error| format!("the connection failed: {error}"))?;
        }
        if !connection.is_handshaking() {
            break;
        }
        let read = tokio::time::timeout_at(deadline, stream.read(&mut buffer))
            .await
            .map_err(|_| {
                format!(
                    "the TLS handshake did not finish within {:?}",
                    target.step_timeout
                )
            })?
            .map_err(|error| format!("the connection failed: {error}"))?;
        if read == 0 {
            return Err("the server closed the connection during the handshake".into());
        }
        connection
            .read_tls(&mut &buffer[..read])
            .map_err(|error| format!("rustls: {error}"))?;
        connection
            .process_new_packets()
            .map_err(|error| format!("the TLS handshake failed: {error}"))?;
    }
    let early = Early {
        sent,
        accepted: connection.is_early_data_accepted(),
        kind: connection.handshake_kind(),
    };
    connection.send_close_notify();
    let mut out = Vec::new();
    if connection.write_tls(&mut out).is_ok() {
        let _ = stream.write_all(&out).await;
    }
    Ok(early)
}
