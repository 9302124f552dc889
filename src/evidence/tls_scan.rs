//! Evidence of the raw-handshake TLS scan (issue 4): which protocol versions,
//! cipher suites and key-exchange groups an endpoint accepts, by code point,
//! and a few features seen in the ServerHello. Collected by
//! `probe::tls_scan`; judged by TLS-003 to TLS-013. The TR-02102-2 class of
//! a suite or group is not a fact of the scan: the rules stage adds it from
//! its dated table (`rules/tables/tr-02102-2.toml`) when it judges, so a
//! saved report is judged again under a newer edition. Reports of schema
//! 1.3/1.4 wrote `class` and `classification` here; they still load, and
//! the saved classes are ignored.

use serde::{Deserialize, Serialize};

/// Everything the scan found on one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsScanEvidence {
    /// One entry per version offered, oldest (SSLv2) first.
    pub versions: Vec<VersionResult>,
    /// Groups a TLS 1.3 server selected, in the order found (empty when
    /// TLS 1.3 was refused).
    #[serde(default)]
    pub tls13_groups: Vec<GroupResult>,
    /// Named curves a TLS 1.2 (or older) server used for ECDHE.
    #[serde(default)]
    pub ecdhe_curves: Vec<GroupResult>,
    /// Size of the DH prime the server used for a DHE suite, when it
    /// accepted one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhe_prime_bits: Option<u32>,
    /// The signed ServerKeyExchange of the server's preferred ECDHE curve
    /// and of a DHE suite, below TLS 1.3 (judged by CRT-005).
    #[serde(default)]
    pub key_exchanges: Vec<KeyExchangeResult>,
    /// Features of the ServerHello for the highest version below TLS 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<HelloFeatures>,
    /// How many handshakes the scan made.
    pub handshakes: u32,
    /// Steps that could not be completed (timeouts, resets), for the report.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One ServerKeyExchange of TLS 1.2 or older (RFC 5246 §7.4.3, RFC 8422
/// §5.4): the ephemeral group and how the server signed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyExchangeResult {
    /// The version it was made with, `TLSv1.2`.
    pub version: String,
    /// `ECDHE` or `DHE`.
    pub kind: String,
    /// The suite the server picked.
    pub suite: String,
    /// The curve's name, or `2048-bit prime` for DHE.
    pub group: String,
    pub group_bits: u32,
    /// The signature algorithm, e.g. `rsa_pss_rsae_sha256`; in TLS 1.0/1.1
    /// the protocol's fixed hash, for anonymous suites `none`.
    pub signature: String,
    /// The TLS 1.2 SignatureAndHashAlgorithm code point (RFC 8446 §4.2.3
    /// numbering), `0x0804`; absent below TLS 1.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_id: Option<String>,
    /// The hash that signature uses: `sha256`, `sha1`, `md5`, `md5_sha1`
    /// (TLS 1.0/1.1 with RSA), `intrinsic` (EdDSA), `none` or `unknown`.
    pub hash: String,
}

/// The answer to one protocol version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VersionResult {
    /// `SSLv2`, `SSLv3`, `TLSv1.0`, `TLSv1.1`, `TLSv1.2` or `TLSv1.3`.
    pub version: String,
    pub accepted: bool,
    /// The server's answer, e.g. `alert protocol_version (70)`, `closed`,
    /// `ServerHello TLSv1.0` (a lower version than offered).
    pub answer: String,
    /// Accepted suites, in the order the server picked them; for SSLv2 the
    /// cipher kinds of the SERVER-HELLO (3-byte ids, `0x010080`).
    #[serde(default)]
    pub suites: Vec<SuiteResult>,
    /// Whether the server picks by its own order (two suites offered in both
    /// orders gave the same choice); absent with fewer than two suites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_order: Option<bool>,
}

/// One accepted cipher suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SuiteResult {
    /// The IANA code point, `0xc02f`.
    pub id: String,
    pub name: String,
    pub forward_secrecy: bool,
}

/// One supported key-exchange group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupResult {
    pub id: String,
    pub name: String,
    pub bits: u32,
}

/// What the ServerHello says about TLS features (TR-02102-2 §3.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HelloFeatures {
    /// The version the features were seen on.
    pub version: String,
    /// The server chose DEFLATE (RFC 3749) over null compression.
    pub compression: bool,
    /// renegotiation_info returned (RFC 5746).
    pub secure_renegotiation: bool,
    /// extended_master_secret returned (RFC 7627).
    pub extended_master_secret: bool,
    /// encrypt_then_mac returned (RFC 7366).
    pub encrypt_then_mac: bool,
    /// heartbeat returned (RFC 6520).
    pub heartbeat: bool,
}
