//! Session resumption (TLS-112, informational), with rustls: per version,
//! two connections with one client configuration and so one session store
//! (rustls's default in-memory cache). The first makes a full handshake and
//! talks briefly, the second asks to resume, and rustls's `handshake_kind`
//! tells whether the server agreed.
//!
//! TLS 1.2 resumes by session ID or ticket (RFC 5246 §7.3, RFC 5077); TLS
//! 1.3 by a PSK from a NewSessionTicket (RFC 8446 §2.2, §4.6.1), which the
//! server sends after the handshake. So the first connection reads the
//! greeting (implicit TLS) or asks for the capabilities again (after
//! STARTTLS) before it closes: the ticket comes with that answer. Nothing
//! but the protocol's greeting, capability and logout commands is sent.

use crate::evidence::{ResumptionCheck, ResumptionOutcome};
use crate::probe::connection::LineConnection;
use crate::probe::context::AddressLimit;
use crate::probe::protocol::upgrade::{self, UpgradeFailure};
use crate::probe::protocol::{MailProtocol, dispatch};
use crate::probe::tls::{self, HandshakeError, Policy, RecordingVerifier};
use crate::probe::tls_scan::ScanTarget;
use crate::probe::trust::TrustStore;
use crate::target::TlsMode;
use rustls::{HandshakeKind, SupportedProtocolVersion};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// Both versions, TLS 1.3 first.
pub(super) async fn check(
    target: &ScanTarget,
    trust: &TrustStore,
    limit: &AddressLimit,
) -> Vec<ResumptionCheck> {
    let mut checks = Vec::new();
    for (name, version) in [
        ("TLSv1.3", &rustls::version::TLS13),
        ("TLSv1.2", &rustls::version::TLS12),
    ] {
        checks.push(resume(target, trust, limit, name, version).await);
    }
    checks
}

async fn resume(
    target: &ScanTarget,
    trust: &TrustStore,
    limit: &AddressLimit,
    name: &str,
    version: &'static SupportedProtocolVersion,
) -> ResumptionCheck {
    let result = |outcome, observed: String| ResumptionCheck {
        version: name.to_string(),
        outcome,
        observed,
    };
    // The verdict on the chain is recorded elsewhere (the endpoint probe);
    // nothing secret goes over these connections.
    let verifier = Arc::new(RecordingVerifier::new(
        trust.verifier.clone(),
        Policy::Record,
    ));
    let config = match tls::client_config(trust, verifier, &[version]) {
        Ok(config) => Arc::new(config),
        Err(error) => return result(ResumptionOutcome::NotTested, describe(error)),
    };
    if let Err(reason) = session(target, config.clone(), limit).await {
        return result(
            ResumptionOutcome::NotTested,
            format!("the first {name} connection: {reason}"),
        );
    }
    match session(target, config, limit).await {
        Ok(Some(HandshakeKind::Resumed)) => result(
            ResumptionOutcome::Resumed,
            if version == &rustls::version::TLS13 {
                "the second connection resumed the first one's session with a PSK from its ticket"
            } else {
                "the second connection resumed the first one's session by session ID or ticket"
            }
            .to_string(),
        ),
        Ok(_) => result(
            ResumptionOutcome::NotResumed,
            "the second connection needed a full handshake: the server issued no session or ticket, or did not accept it".to_string(),
        ),
        Err(reason) => result(
            ResumptionOutcome::NotTested,
            format!("the second {name} connection: {reason}"),
        ),
    }
}

/// One connection under `limit`: connect, upgrade where needed, handshake
/// with `config`, the greeting or capabilities, a polite close. Returns
/// the kind of handshake.
pub(super) async fn session(
    target: &ScanTarget,
    config: Arc<rustls::ClientConfig>,
    limit: &AddressLimit,
) -> Result<Option<HandshakeKind>, String> {
    let permit = limit.acquire().await;
    let result = async {
        let stream =
            tokio::time::timeout(target.connect_timeout, TcpStream::connect(target.address))
                .await
                .map_err(|_| {
                    format!(
                        "connect failed: no answer within {:?}",
                        target.connect_timeout
                    )
                })?
                .map_err(|error| format!("connect failed: {error}"))?;
        let local = stream.local_addr().unwrap_or(target.address);
        dispatch!(target.protocol, P => run::<P>(target, config, stream, local).await)
    }
    .await;
    limit.release(permit).await;
    result
}

async fn run<P: MailProtocol>(
    target: &ScanTarget,
    config: Arc<rustls::ClientConfig>,
    stream: TcpStream,
    local: SocketAddr,
) -> Result<Option<HandshakeKind>, String> {
    let implicit = target.protocol.tls_mode() == TlsMode::Implicit;
    let stream = if implicit {
        stream
    } else {
        let mut connection = LineConnection::new(stream, target.step_timeout);
        upgrade::starttls::<P, _>(&mut connection, local)
            .await
            .map_err(|failure| match failure {
                UpgradeFailure::NotOffered(_) => "STARTTLS is not offered".to_string(),
                UpgradeFailure::Opening(error)
                | UpgradeFailure::Unsent(_, error)
                | UpgradeFailure::Refused(_, error) => format!("STARTTLS failed: {error}"),
            })?;
        connection.into_parts().0
    };
    let host = target
        .server_name
        .clone()
        .unwrap_or_else(|| target.address.ip().to_string());
    let tls = tls::connect(config, stream, &host, target.step_timeout)
        .await
        .map_err(describe)?;
    let kind = tls.get_ref().1.handshake_kind();
    // A TLS 1.3 ticket arrives after the handshake, ahead of the server's
    // first words; an error here only means no ticket was read.
    let mut connection = LineConnection::new(tls, target.step_timeout);
    let _ = if implicit {
        P::open(&mut connection, local).await.map(|_| ())
    } else {
        P::capabilities_after_tls(&mut connection, local)
            .await
            .map(|_| ())
    };
    P::close(&mut connection).await;
    Ok(kind)
}

pub(super) fn describe(error: HandshakeError) -> String {
    match error {
        HandshakeError::Name(reason) | HandshakeError::Configuration(reason) => reason,
        HandshakeError::Timeout(timeout) => {
            format!("the TLS handshake did not finish within {timeout:?}")
        }
        HandshakeError::Failed(reason) => format!("the TLS handshake failed: {reason}"),
    }
}
