//! One X.509 certificate as served, with the facts rules need already parsed
//! out (validity, names, key, signature) next to the DER itself.

use serde::{Deserialize, Serialize};

/// A certificate from a served chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateEvidence {
    /// Position in the chain as served, 0 = leaf.
    pub position: usize,
    /// The subject as an RFC 4514 string, most specific RDN first
    /// (`CN=mx.example.org,O=Example,C=DE`), as `openssl -nameopt RFC2253`.
    pub subject: String,
    /// The issuer, in the same form as `subject`.
    pub issuer: String,
    pub serial: String,
    /// RFC 3339 UTC.
    pub not_before: String,
    /// RFC 3339 UTC.
    pub not_after: String,
    /// Whole days from the scan time to `not_after`; negative when expired.
    pub days_left: i64,
    /// DNS names in the subjectAltName extension.
    pub san_dns: Vec<String>,
    /// The subject common name, if any (not used for name matching, RFC 9525 §6.4.4).
    pub common_name: Option<String>,
    /// Issuer equals subject and the signature verifies with its own key.
    pub self_signed: bool,
    /// basicConstraints cA=TRUE.
    pub is_ca: bool,
    pub key: PublicKeyEvidence,
    pub signature: SignatureEvidence,
    /// Lower-case hex SHA-256 over the DER.
    pub sha256: String,
    /// Lower-case hex SHA-256 over the DER SubjectPublicKeyInfo: the key,
    /// whichever certificate carries it (DROWN follows the key). Empty in
    /// evidence recorded before schema 1.10.0.
    #[serde(default)]
    pub spki_sha256: String,
    /// Standard base64 of the DER as served.
    pub der_base64: String,
}

/// The subject public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PublicKeyEvidence {
    /// `rsa`, `ec`, `ed25519`, `ed448`, `dsa` or `unknown`.
    pub algorithm: String,
    /// Modulus size for RSA, field size for EC.
    pub bits: u32,
    /// Named curve for EC keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
}

/// The signature the issuer put on this certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SignatureEvidence {
    /// Readable algorithm name, e.g. `sha256WithRSAEncryption`.
    pub algorithm: String,
    /// The dotted OID.
    pub oid: String,
    /// The hash: `md5`, `sha1`, `sha256`, `sha384`, `sha512`, `none` (EdDSA) or `unknown`.
    pub hash: String,
}
