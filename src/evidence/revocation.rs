//! Evidence of the revocation check of each endpoint's leaf certificate
//! (issue 17, part 3): what the stapled OCSP response, the OCSP responders
//! named in the leaf's Authority Information Access and the CRLs named in
//! its CRL distribution points said about it. Collected by
//! `probe::revocation`; judged by CRT-006 (revoked), CRT-007 (Must-Staple
//! without a staple) and CRT-008 (stapling present). Schema 1.10.
//!
//! Each source is one [`RevocationSource`] with its own status, so an
//! unreachable CRL leaves a good OCSP answer standing. A `revoked` or
//! `good` status is recorded only for an answer whose signature verified
//! and that was current at the scan time; anything else is `unknown` or
//! `unavailable` with the reason in `observed`.

use serde::{Deserialize, Serialize};

/// The revocation facts of one endpoint's leaf certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RevocationEvidence {
    /// The leaf's serial number, colon-separated hex as in the chain.
    pub serial: String,
    /// The leaf carries the TLS feature extension (RFC 7633, OID
    /// 1.3.6.1.5.5.7.1.24) with `status_request` (5): OCSP Must-Staple.
    pub must_staple: bool,
    /// The OCSP response the server stapled in the handshake (RFC 6066 §8),
    /// when it stapled one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stapled: Option<RevocationSource>,
    /// One per OCSP responder URL in the leaf's Authority Information
    /// Access (RFC 6960), in certificate order.
    #[serde(default)]
    pub ocsp: Vec<RevocationSource>,
    /// One per CRL URL in the leaf's CRL distribution points (RFC 5280 §5).
    #[serde(default)]
    pub crl: Vec<RevocationSource>,
}

/// What one source said about the leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStatus {
    /// A current, verified answer: not revoked.
    Good,
    /// A current, verified answer: revoked.
    Revoked,
    /// An answer that decides nothing: the responder does not know the
    /// certificate, the signature does not verify, the answer is stale, or
    /// it does not parse (named in `observed`).
    Unknown,
    /// No answer: unreachable, timed out, an HTTP error, oversized, or an
    /// unsupported URL scheme (named in `observed`).
    Unavailable,
}

/// One revocation source and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RevocationSource {
    /// The URL fetched; absent for a stapled response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub status: RevocationStatus,
    /// What was seen, in words (the reason for `unknown` and `unavailable`).
    pub observed: String,
    /// The answer's thisUpdate, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub this_update: Option<String>,
    /// The answer's nextUpdate, RFC 3339 UTC, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_update: Option<String>,
    /// When the certificate was revoked, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The CRLReason given (RFC 5280 §5.3.1), e.g. `keyCompromise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// Who signed the answer when its signature verified: `issuer`, or
    /// `delegated responder CN=…` (RFC 6960 §4.2.2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// Bytes of the answer as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl RevocationSource {
    /// A source that gave no usable answer, with the reason.
    pub fn without_answer(
        url: Option<String>,
        status: RevocationStatus,
        observed: impl Into<String>,
    ) -> RevocationSource {
        RevocationSource {
            url,
            status,
            observed: observed.into(),
            this_update: None,
            next_update: None,
            revoked_at: None,
            revocation_reason: None,
            signed_by: None,
            bytes: None,
        }
    }
}
