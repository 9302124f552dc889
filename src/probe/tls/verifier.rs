//! The one certificate verifier of every rustls handshake the probes make:
//! the endpoint probe, the STARTTLS injection test and the mailbox login
//! (the TLS scan writes raw hellos and verifies nothing). It asks the trust
//! store's webpki verifier and records the verdict, then follows its
//! [`Policy`]: the probes that only look go on whatever the verdict, so the
//! chain is captured even when it is expired, misnamed or untrusted; the
//! login that sends a password stops on a failed verification unless the
//! user accepted invalid certificates (`--accept-invalid-certs`).

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use x509_parser::prelude::{FromDer, X509Certificate};

/// What a failed verification does to the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Record the verdict and go on: nothing secret is sent. A handshake
    /// signature webpki refuses (for example made with a 1024-bit RSA
    /// key) is recorded, not fatal.
    Record,
    /// Stop the handshake on a failed verification, unless
    /// `accept_invalid` (then the failure is still recorded).
    Enforce { accept_invalid: bool },
}

/// What the verifier saw during one handshake.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// The chain as served, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// Why the full verification (chain, time, name) failed.
    pub error: Option<String>,
    /// Why the chain alone failed (policy [`Policy::Record`] only).
    pub chain_error: Option<String>,
    /// Why a handshake signature failed.
    pub signature_error: Option<String>,
    /// The full verification passed.
    pub verified: bool,
    /// The OCSP response the server stapled (RFC 6066 §8), empty when none;
    /// judged by `probe::revocation`, not here.
    pub ocsp_response: Vec<u8>,
}

/// The trust store's verifier, recording its verdicts under a policy.
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    policy: Policy,
    record: Mutex<Record>,
}

impl RecordingVerifier {
    pub(crate) fn new(inner: Arc<rustls::client::WebPkiServerVerifier>, policy: Policy) -> Self {
        RecordingVerifier {
            inner,
            policy,
            record: Mutex::new(Record::default()),
        }
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        // A poisoned lock only means another thread panicked mid-write; the
        // record is still the best evidence we have.
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A failed handshake signature: recorded, and fatal only when the
    /// policy enforces and invalid certificates were not accepted (or the
    /// certificate itself verified, so the signature is the only fault).
    fn signature(
        &self,
        result: Result<HandshakeSignatureValid, rustls::Error>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match (result, self.policy) {
            (Ok(valid), _) => Ok(valid),
            (Err(error), Policy::Record) => {
                self.lock().signature_error = Some(error.to_string());
                Ok(HandshakeSignatureValid::assertion())
            }
            (Err(_), Policy::Enforce { accept_invalid })
                if accept_invalid && !self.lock().verified =>
            {
                Ok(HandshakeSignatureValid::assertion())
            }
            (Err(error), Policy::Enforce { .. }) => Err(error),
        }
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
        let mut record = self.lock();
        record.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        record.verified = full.is_ok();
        record.ocsp_response = ocsp_response.to_vec();
        record.error = full.as_ref().err().map(|e| e.to_string());
        match self.policy {
            Policy::Record => {
                drop(record);
                let chain_only =
                    self.chain_only(end_entity, intermediates, server_name, ocsp_response);
                self.lock().chain_error = chain_only.err().map(|e| e.to_string());
                Ok(ServerCertVerified::assertion())
            }
            Policy::Enforce { accept_invalid } => match full {
                Ok(verified) => Ok(verified),
                Err(_) if accept_invalid => Ok(ServerCertVerified::assertion()),
                Err(error) => Err(error),
            },
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(self.inner.verify_tls12_signature(message, cert, dss))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(self.inner.verify_tls13_signature(message, cert, dss))
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

impl RecordingVerifier {
    /// Judges the chain alone: at a moment inside the leaf's validity, and
    /// counting a name mismatch as a pass (webpki checks the name last).
    fn chain_only(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
    ) -> Result<(), rustls::Error> {
        match validity_midpoint(end_entity) {
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
        }
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
