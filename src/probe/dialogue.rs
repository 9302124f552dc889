//! The protocol dialogue of one endpoint: greeting and capabilities, the
//! STARTTLS upgrade, and capabilities again over TLS.
//!
//! Each mail protocol is one file in [`super::protocol`]; the flow here is
//! shared, and the protocol is picked by that layer's one list
//! ([`dispatch!`]).

use super::connection::LineConnection;
use super::context::ProbeContext;
use super::discovery::PlannedEndpoint;
use super::protocol::upgrade::{self, UpgradeFailure};
use super::protocol::{MailProtocol, dispatch};
use super::{tcp, tls};
use crate::evidence::{
    Attempt, AuthExposure, DialogueEvidence, EndpointEvidence, PortState, TlsEvidence,
};
use crate::target::{Endpoint, TlsMode};
use std::net::SocketAddr;
use std::time::Instant;

/// Probes one endpoint: TCP, dialogue, TLS.
pub async fn probe_endpoint(planned: PlannedEndpoint, context: &ProbeContext) -> EndpointEvidence {
    let endpoint = &planned.endpoint;
    let address = planned.address.map(|ip| SocketAddr::new(ip, endpoint.port));
    let (tcp, dialogue, tls) = match address {
        None => (
            Attempt::failed(format!("{} has no address", endpoint.host)),
            Attempt::skipped("no TCP connection: the host has no address"),
            Attempt::skipped("no TCP connection: the host has no address"),
        ),
        Some(address) => {
            dispatch!(endpoint.protocol, P => run::<P>(endpoint, address, context).await)
        }
    };
    assemble(&planned, tcp, dialogue, tls)
}

/// Puts the attempts of one endpoint together with what discovery knew.
pub(crate) fn assemble(
    planned: &PlannedEndpoint,
    tcp: Attempt<crate::evidence::TcpEvidence>,
    dialogue: Attempt<DialogueEvidence>,
    tls: Attempt<TlsEvidence>,
) -> EndpointEvidence {
    let endpoint = &planned.endpoint;
    EndpointEvidence {
        subject: endpoint.subject(),
        host: endpoint.host.clone(),
        port: endpoint.port,
        protocol: endpoint.protocol,
        tls_mode: endpoint.protocol.tls_mode(),
        role: endpoint.protocol.role(&planned.sources),
        sources: planned.sources.clone(),
        expected: planned.expected,
        implicit_tls_counterpart: endpoint.protocol.implicit_tls_counterpart(),
        tcp,
        dialogue,
        tls,
        // Filled in by the TLS scan once every endpoint has been probed.
        tls_scan: Attempt::skipped("the TLS scan did not run"),
        // Filled in with the TLS scan (TLS-011).
        starttls_injection: Attempt::skipped("the STARTTLS injection test did not run"),
        // Filled in with the TLS scan when `--relay-test` is given (ACC-002).
        relay_test: Attempt::skipped("the relay test did not run"),
        // Filled in with the TLS scan (TLS-110, TLS-111).
        tls_active: Attempt::skipped("the active TLS checks did not run"),
        revocation: Attempt::skipped("the revocation check did not run"),
    }
}

type Outcome = (
    Attempt<crate::evidence::TcpEvidence>,
    Attempt<DialogueEvidence>,
    Attempt<TlsEvidence>,
);

async fn run<P: MailProtocol>(
    endpoint: &Endpoint,
    address: SocketAddr,
    context: &ProbeContext,
) -> Outcome {
    let (tcp, stream) = tcp::connect(address, context.connect_timeout).await;
    let Some(stream) = stream else {
        let reason = tcp::not_open_reason(&tcp, context.connect_timeout);
        return (
            tcp,
            Attempt::skipped(reason.clone()),
            Attempt::skipped(reason),
        );
    };
    debug_assert!(matches!(
        tcp.value().map(|t| t.state),
        Some(PortState::Open)
    ));
    let local = stream.local_addr().unwrap_or(address);
    let started = Instant::now();
    let (dialogue, tls) = match endpoint.protocol.tls_mode() {
        TlsMode::Starttls => starttls_flow::<P>(endpoint, stream, local, context).await,
        TlsMode::Implicit => implicit_flow::<P>(endpoint, stream, local, context).await,
    };
    (tcp, dialogue.timed(started), tls)
}

async fn starttls_flow<P: MailProtocol>(
    endpoint: &Endpoint,
    stream: tokio::net::TcpStream,
    local: SocketAddr,
    context: &ProbeContext,
) -> (Attempt<DialogueEvidence>, Attempt<TlsEvidence>) {
    let mut connection = LineConnection::new(stream, context.step_timeout);
    // The upgrade's outcome: the server's agreement, or `None` when it is
    // not announced, or the error of the command.
    let (opening, upgraded) = match upgrade::starttls::<P, _>(&mut connection, local).await {
        Ok((opening, reply)) => (opening, Ok(reply)),
        Err(UpgradeFailure::NotOffered(opening)) => (opening, Err(None)),
        Err(UpgradeFailure::Unsent(opening, error) | UpgradeFailure::Refused(opening, error)) => {
            (opening, Err(Some(error)))
        }
        Err(UpgradeFailure::Opening(error)) => {
            return (
                Attempt::failed(format!("{} dialogue failed: {error}", endpoint.protocol)),
                Attempt::skipped("the plaintext dialogue failed before STARTTLS"),
            );
        }
    };
    let mut evidence = DialogueEvidence {
        greeting: opening.greeting.clone(),
        capabilities_before_tls: opening.capabilities.clone(),
        starttls_offered: P::offers_starttls(&opening.capabilities),
        starttls_reply: None,
        capabilities_after_tls: None,
        auth_before_tls: P::auth_exposure(&opening.capabilities),
        sasl_after_tls: Vec::new(),
        bytes_before_handshake: 0,
        transcript: Vec::new(),
    };
    match upgraded {
        Ok(reply) => evidence.starttls_reply = Some(reply),
        Err(None) => {
            P::close(&mut connection).await;
            evidence.transcript = connection.transcript().to_vec();
            return (
                Attempt::completed(evidence),
                Attempt::skipped("the server does not offer STARTTLS"),
            );
        }
        Err(Some(error)) => {
            evidence.starttls_reply = Some(error.to_string());
            P::close(&mut connection).await;
            evidence.transcript = connection.transcript().to_vec();
            return (
                Attempt::completed(evidence),
                Attempt::failed(format!("the STARTTLS upgrade failed: {error}")),
            );
        }
    }
    let (stream, leftover, mut transcript) = connection.into_parts();
    evidence.bytes_before_handshake = leftover;
    let (tls, secure) = tls::handshake(
        stream,
        &endpoint.host,
        &context.trust,
        context.step_timeout,
        context.scan_time,
    )
    .await;
    if let Some(secure) = secure {
        transcript.push("-- TLS established".to_string());
        let mut connection = LineConnection::resume(secure, context.step_timeout, transcript);
        match P::capabilities_after_tls(&mut connection, local).await {
            Ok(capabilities) => {
                evidence.sasl_after_tls = P::sasl_mechanisms(&capabilities);
                evidence.capabilities_after_tls = Some(capabilities);
            }
            Err(error) => connection.note(&format!("capabilities after TLS failed: {error}")),
        }
        P::close(&mut connection).await;
        evidence.transcript = connection.transcript().to_vec();
    } else {
        transcript.push("-- TLS handshake failed".to_string());
        evidence.transcript = transcript;
    }
    (Attempt::completed(evidence), tls)
}

async fn implicit_flow<P: MailProtocol>(
    endpoint: &Endpoint,
    stream: tokio::net::TcpStream,
    local: SocketAddr,
    context: &ProbeContext,
) -> (Attempt<DialogueEvidence>, Attempt<TlsEvidence>) {
    let (tls, secure) = tls::handshake(
        stream,
        &endpoint.host,
        &context.trust,
        context.step_timeout,
        context.scan_time,
    )
    .await;
    let Some(secure) = secure else {
        return (Attempt::skipped("the implicit TLS handshake failed"), tls);
    };
    let mut connection = LineConnection::new(secure, context.step_timeout);
    connection.note("TLS established");
    let dialogue = match P::open(&mut connection, local).await {
        Ok(opening) => {
            P::close(&mut connection).await;
            Attempt::completed(DialogueEvidence {
                greeting: opening.greeting,
                capabilities_before_tls: Vec::new(),
                starttls_offered: false,
                starttls_reply: None,
                sasl_after_tls: P::sasl_mechanisms(&opening.capabilities),
                capabilities_after_tls: Some(opening.capabilities),
                auth_before_tls: AuthExposure::default(),
                bytes_before_handshake: 0,
                transcript: connection.transcript().to_vec(),
            })
        }
        Err(error) => Attempt::failed(format!(
            "{} dialogue over TLS failed: {error}",
            endpoint.protocol
        )),
    };
    (dialogue, tls)
}
