//! TLS with rustls: one handshake per endpoint, recording what was negotiated
//! and the chain as served.
//!
//! The verifier records its verdict and then lets the handshake go on, so the
//! chain is captured even when it is expired, misnamed or untrusted. For the
//! same reason a handshake signature that webpki refuses (for example made
//! with a 1024-bit RSA key) is recorded, not fatal. Nothing secret is ever
//! sent over these connections; the strict verifier is for anything that
//! sends credentials.

use super::certificate;
use super::trust::TrustStore;
use crate::evidence::{Attempt, TlsEvidence, Validation};
use chrono::{DateTime, Utc};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use x509_parser::prelude::{FromDer, X509Certificate};

/// What the verifier saw during one handshake.
#[derive(Debug, Default)]
struct Record {
    chain: Vec<Vec<u8>>,
    error: Option<String>,
    chain_error: Option<String>,
    signature_error: Option<String>,
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    record: Mutex<Record>,
}

impl RecordingVerifier {
    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        // A poisoned lock only means another thread panicked mid-write; the
        // record is still the best evidence we have.
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let full = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        // Judge the chain alone: at a moment inside the leaf's validity, and
        // counting a name mismatch as a pass (webpki checks the name last).
        let chain_only = match validity_midpoint(end_entity) {
            Some(midpoint) => {
                match self.inner.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    midpoint,
                ) {
                    Err(rustls::Error::InvalidCertificate(
                        rustls::CertificateError::NotValidForName
                        | rustls::CertificateError::NotValidForNameContext { .. },
                    )) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::BadEncoding,
            )),
        };
        let mut record = self.lock();
        record.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        record.error = full.err().map(|e| e.to_string());
        record.chain_error = chain_only.err().map(|e| e.to_string());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Err(error) = self.inner.verify_tls12_signature(message, cert, dss) {
            self.lock().signature_error = Some(error.to_string());
        }
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Err(error) = self.inner.verify_tls13_signature(message, cert, dss) {
            self.lock().signature_error = Some(error.to_string());
        }
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn validity_midpoint(der: &CertificateDer<'_>) -> Option<UnixTime> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let from = cert.validity().not_before.timestamp();
    let to = cert.validity().not_after.timestamp();
    let middle = from + (to - from) / 2;
    Some(UnixTime::since_unix_epoch(Duration::from_secs(
        u64::try_from(middle).ok()?,
    )))
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
    let server_name = match ServerName::try_from(host.to_string()) {
        Ok(name) => name,
        Err(error) => {
            return (
                Attempt::failed(format!("{host} is not a valid TLS server name: {error}")),
                None,
            );
        }
    };
    let verifier = Arc::new(RecordingVerifier {
        inner: trust.verifier.clone(),
        record: Mutex::new(Record::default()),
    });
    let config = match rustls::ClientConfig::builder_with_provider(trust.provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    {
        Ok(builder) => builder
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth(),
        Err(error) => return (Attempt::failed(format!("TLS configuration: {error}")), None),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let tls = match tokio::time::timeout(timeout, connector.connect(server_name, stream)).await {
        Err(_) => {
            return (
                Attempt::failed(format!("TLS handshake did not finish within {timeout:?}"))
                    .timed(started),
                None,
            );
        }
        Ok(Err(error)) => {
            return (
                Attempt::failed(format!("TLS handshake failed: {error}")).timed(started),
                None,
            );
        }
        Ok(Ok(tls)) => tls,
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
    let record = std::mem::take(&mut *verifier.lock());
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
    };
    (Attempt::completed(evidence).timed(started), Some(tls))
}

/// The IANA name of a suite, as the TLS scan names it: looked up by code
/// point in the same table, so that `tls.cipher_suite` and `tls_scan` agree.
/// rustls's own names prefix TLS 1.3 suites with `TLS13_`, where the IANA
/// registry (RFC 8446 §B.4) has `TLS_`.
fn iana_suite_name(suite: rustls::CipherSuite) -> String {
    let code_point = u16::from(suite);
    if let Some(entry) = crate::probe::tls_scan::table().suite(code_point) {
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
