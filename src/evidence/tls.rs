//! The outcome of one TLS handshake made with rustls: what was negotiated, the
//! chain as served, and the validation verdict with its reason.

use super::certificate::CertificateEvidence;
use serde::{Deserialize, Serialize};

/// A completed TLS handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsEvidence {
    /// The name sent as SNI and checked against the certificate.
    pub server_name: String,
    /// `TLSv1.2` or `TLSv1.3` (rustls offers nothing older; legacy versions
    /// are a separate probe).
    pub version: String,
    /// IANA name of the negotiated suite, e.g. `TLS_AES_256_GCM_SHA384`: the
    /// name the TLS scan's table gives its code point.
    pub cipher_suite: String,
    /// Negotiated key-exchange group, e.g. `X25519`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_exchange_group: Option<String>,
    /// The chain in the order the server sent it.
    pub chain: Vec<CertificateEvidence>,
    /// Facts about the chain's structure.
    pub chain_structure: ChainStructure,
    /// Validation against the public roots plus `--ca-file`.
    pub validation: Validation,
    /// The OCSP response the server stapled in the handshake (RFC 6066 §8
    /// `status_request`, which rustls always sends), standard base64 of
    /// the DER; absent when none was stapled. Read by
    /// `probe::revocation`. Schema 1.10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stapled_ocsp: Option<String>,
}

/// How the served chain is put together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChainStructure {
    /// Each certificate is issued by the next one.
    pub ordered: bool,
    /// The last certificate served is a root, or is issued by a known trust anchor.
    pub complete: bool,
    /// The leaf's SAN covers the host connected to (RFC 9525 rules, wildcard
    /// only in the left-most label).
    pub covers_host: bool,
    /// The leaf is self-signed.
    pub leaf_self_signed: bool,
}

/// The certificate validation verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Validation {
    /// Full verification for the host name at scan time succeeded.
    pub valid: bool,
    /// Why full verification failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The chain leads to a trust anchor, judged with time and name set aside
    /// (checked at a moment inside the leaf's validity, for a name it covers).
    pub chain_trusted: bool,
    /// Why the chain does not lead to a trust anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_error: Option<String>,
    /// The server's handshake signature could not be verified (for example a
    /// key too small for the verifier); the handshake was completed anyway to
    /// record evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_signature_error: Option<String>,
    /// Names of the trust sources used: `webpki-roots` and any `--ca-file`.
    pub trust_sources: Vec<String>,
}
