//! TLS with rustls: one handshake per endpoint, recording what was negotiated
//! and the chain as served, and the one way every probe starts rustls TLS
//! ([`establish`]) with the one verifier ([`verifier`]).
//!
//! The endpoint probe and the injection test record the verifier's verdict
//! and let the handshake go on, so the chain is captured even when it is
//! expired, misnamed or untrusted. Nothing secret is ever sent over those
//! connections; the mailbox login, which sends a password, enforces the
//! verdict ([`Policy::Enforce`]).

pub(crate) mod verifier;

use super::certificate;
use super::trust::TrustStore;
use crate::evidence::{Attempt, TlsEvidence, Validation};
use chrono::{DateTime, Utc};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
pub(crate) use verifier::{Policy, Record, RecordingVerifier};

/// Why a rustls handshake did not give an encrypted stream.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// The host is no valid TLS server name (message ready for evidence).
    Name(String),
    /// rustls refused the configuration.
    Configuration(String),
    /// The handshake did not finish within the step timeout.
    Timeout(Duration),
    /// The handshake failed (rustls's reason).
    Failed(String),
}

/// Starts TLS 1.2 or 1.3 over `stream` for `host` with the trust store's
/// verifier under `policy`. Returns the stream (or why not) and what the
/// verifier recorded either way.
pub(crate) async fn establish(
    stream: TcpStream,
    host: &str,
    trust: &TrustStore,
    policy: Policy,
    timeout: Duration,
) -> (Result<TlsStream<TcpStream>, HandshakeError>, Record) {
    let verifier = Arc::new(RecordingVerifier::new(trust.verifier.clone(), policy));
    let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
    let config = match client_config(trust, verifier.clone(), &versions) {
        Ok(config) => config,
        Err(error) => return (Err(error), Record::default()),
    };
    let result = connect(Arc::new(config), stream, host, timeout).await;
    let record = std::mem::take(&mut *verifier.lock());
    (result, record)
}

/// A rustls client configuration for `versions` with `verifier`. Its
/// session store is rustls's default in-memory one, so connections made
/// with one configuration resume each other's sessions (the active
/// resumption check relies on that).
pub(crate) fn client_config(
    trust: &TrustStore,
    verifier: Arc<RecordingVerifier>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<rustls::ClientConfig, HandshakeError> {
    rustls::ClientConfig::builder_with_provider(trust.provider.clone())
        .with_protocol_versions(versions)
        .map(|builder| {
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth()
        })
        .map_err(|error| HandshakeError::Configuration(format!("TLS configuration: {error}")))
}

/// The rustls handshake over `stream` for `host` with `config`, within
/// `timeout`.
pub(crate) async fn connect(
    config: Arc<rustls::ClientConfig>,
    stream: TcpStream,
    host: &str,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, HandshakeError> {
    let server_name = ServerName::try_from(host.to_string()).map_err(|error| {
        HandshakeError::Name(format!("{host} is not a valid TLS server name: {error}"))
    })?;
    let connector = TlsConnector::from(config);
    match tokio::time::timeout(timeout, connector.connect(server_name, stream)).await {
        Err(_) => Err(HandshakeError::Timeout(timeout)),
        Ok(Err(error)) => Err(HandshakeError::Failed(error.to_string())),
        Ok(Ok(tls)) => Ok(tls),
    }
}

/// Runs a TLS handshake over `stream` for `host`. Returns the evidence and,
/// when the handshake completed, the encrypted stream.
pub async fn handshake(
    stream: TcpStream,
    host: &str,
    trust: &TrustStore,
    timeout: Duration,
    scan_time: DateTime<Utc>,
) -> (Attempt<TlsEvidence>, Option<TlsStream<TcpStream>>) {
    let started = Instant::now();
    let (result, record) = establish(stream, host, trust, Policy::Record, timeout).await;
    let tls = match result {
        Ok(tls) => tls,
        Err(HandshakeError::Name(reason) | HandshakeError::Configuration(reason)) => {
            return (Attempt::failed(reason), None);
        }
        Err(HandshakeError::Timeout(timeout)) => {
            return (
                Attempt::failed(format!("TLS handshake did not finish within {timeout:?}"))
                    .timed(started),
                None,
            );
        }
        Err(HandshakeError::Failed(error)) => {
            return (
                Attempt::failed(format!("TLS handshake failed: {error}")).timed(started),
                None,
            );
        }
    };
    let (_, session) = tls.get_ref();
    let version = match session.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_string(),
    };
    let cipher_suite = session
        .negotiated_cipher_suite()
        .map(|s| iana_suite_name(s.suite()))
        .unwrap_or_else(|| "unknown".to_string());
    let key_exchange_group = session
        .negotiated_key_exchange_group()
        .map(|g| format!("{:?}", g.name()));
    let mut chain = Vec::new();
    for (position, der) in record.chain.iter().enumerate() {
        match certificate::analyse(position, der, scan_time) {
            Ok(evidence) => chain.push(evidence),
            Err(error) => {
                return (
                    Attempt::failed(format!("the served chain is unusable: {error}"))
                        .timed(started),
                    None,
                );
            }
        }
    }
    let evidence = TlsEvidence {
        server_name: host.to_string(),
        version,
        cipher_suite,
        key_exchange_group,
        chain_structure: certificate::chain_structure(&record.chain, host, &trust.anchor_subjects),
        chain,
        validation: Validation {
            valid: record.error.is_none() && !record.chain.is_empty(),
            error: record.error,
            chain_trusted: record.chain_error.is_none() && !record.chain.is_empty(),
            chain_error: record.chain_error,
            handshake_signature_error: record.signature_error,
            trust_sources: trust.sources.clone(),
        },
        stapled_ocsp: (!record.ocsp_response.is_empty()).then(|| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&record.ocsp_response)
        }),
    };
    (Attempt::completed(evidence).timed(started), Some(tls))
}

/// The IANA name of a suite, as the TLS scan names it: looked up by code
/// point in the same table, so that `tls.cipher_suite` and `tls_scan` agree.
/// rustls's own names prefix TLS 1.3 suites with `TLS13_`, where the IANA
/// registry (RFC 8446 §B.4) has `TLS_`.
fn iana_suite_name(suite: rustls::CipherSuite) -> String {
    let code_point = u16::from(suite);
    if let Some(entry) = crate::probe::tls_scan::registry::table().suite(code_point) {
        return entry.name.clone();
    }
    let rustls_name = format!("{suite:?}");
    match rustls_name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => rustls_name,
    }
}

#[cfg(test)]
mod tests {
    use super::iana_suite_name;
    use rustls::CipherSuite;

    #[test]
    fn suites_carry_the_iana_names_the_tls_scan_uses() {
        assert_eq!(
            iana_suite_name(CipherSuite::TLS13_AES_256_GCM_SHA384),
            "TLS_AES_256_GCM_SHA384"
        );
        assert_eq!(
            iana_suite_name(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256),
            "TLS_CHACHA20_POLY1305_SHA256"
        );
        assert_eq!(
            iana_suite_name(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
    }
}
