//! Evidence for one endpoint (host and port): reachability, the protocol
//! dialogue before and after TLS, and the TLS session.

use super::{
    Attempt, RelayTestEvidence, RevocationEvidence, StarttlsInjectionEvidence, TlsActiveEvidence,
    TlsEvidence, TlsScanEvidence,
};
use crate::target::{Protocol, Role, Source, TlsMode};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Everything seen on one host and port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EndpointEvidence {
    /// Subject form `host:port`.
    pub subject: String,
    pub host: String,
    pub port: u16,
    pub protocol: Protocol,
    pub tls_mode: TlsMode,
    /// `mx` only for SMTP on a host the MX records name (or the implicit MX).
    pub role: Role,
    /// Where the endpoint was learnt from.
    pub sources: Vec<Source>,
    /// Declared by MX, SRV or `--host`, so it should answer.
    pub expected: bool,
    /// The implicit-TLS port with the same purpose (RFC 8314), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implicit_tls_counterpart: Option<u16>,
    /// TCP connect.
    pub tcp: Attempt<TcpEvidence>,
    /// The protocol dialogue (greeting, capabilities, STARTTLS).
    pub dialogue: Attempt<DialogueEvidence>,
    /// The TLS handshake.
    pub tls: Attempt<TlsEvidence>,
    /// The raw-handshake scan of versions, suites and groups; evidence from
    /// before it existed reads as skipped.
    #[serde(default = "tls_scan_not_recorded")]
    pub tls_scan: Attempt<TlsScanEvidence>,
    /// STARTTLS with a command pipelined behind it (TLS-011); evidence from
    /// before it existed reads as skipped.
    #[serde(default = "starttls_injection_not_recorded")]
    pub starttls_injection: Attempt<StarttlsInjectionEvidence>,
    /// The relay test (ACC-002): only with `--relay-test`, only on MX
    /// endpoints; evidence from before it existed reads as skipped.
    #[serde(default = "relay_test_not_recorded")]
    pub relay_test: Attempt<RelayTestEvidence>,
    /// The active checks (Heartbleed, CCS injection, session resumption,
    /// 0-RTT), run with the TLS scan unless `--no-active-tls-checks`;
    /// evidence from before they existed reads as skipped. Schema 1.9.
    #[serde(default = "tls_active_not_recorded")]
    pub tls_active: Attempt<TlsActiveEvidence>,
    /// The revocation check of the leaf (stapled OCSP, OCSP responders,
    /// CRLs), unless `--no-revocation`; evidence from before it existed
    /// reads as skipped. Schema 1.10.
    #[serde(default = "revocation_not_recorded")]
    pub revocation: Attempt<RevocationEvidence>,
}

fn revocation_not_recorded() -> Attempt<RevocationEvidence> {
    Attempt::skipped("the evidence holds no revocation check (recorded by an older version)")
}

fn tls_active_not_recorded() -> Attempt<TlsActiveEvidence> {
    Attempt::skipped("the evidence holds no active TLS checks (recorded by an older version)")
}

fn relay_test_not_recorded() -> Attempt<RelayTestEvidence> {
    Attempt::skipped("the evidence holds no relay test (recorded by an older version)")
}

fn starttls_injection_not_recorded() -> Attempt<StarttlsInjectionEvidence> {
    Attempt::skipped("the evidence holds no STARTTLS injection test (recorded by an older version)")
}

fn tls_scan_not_recorded() -> Attempt<TlsScanEvidence> {
    Attempt::skipped("the evidence holds no TLS scan (recorded by an older version)")
}

/// The state of a TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// The handshake completed.
    Open,
    /// The peer answered with a reset (connection refused).
    Closed,
    /// No answer within the connect timeout.
    Filtered,
}

/// The outcome of a TCP connect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TcpEvidence {
    pub address: SocketAddr,
    pub state: PortState,
    /// How long connecting took, or how long we waited.
    pub connect_ms: u64,
}

/// The plaintext and post-TLS conversation with the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DialogueEvidence {
    /// The greeting or banner, first line.
    pub greeting: String,
    /// Capabilities announced before TLS (empty for implicit TLS).
    pub capabilities_before_tls: Vec<String>,
    /// STARTTLS / STLS was announced (always false for implicit TLS).
    pub starttls_offered: bool,
    /// The server's reply to STARTTLS / STLS, when it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls_reply: Option<String>,
    /// Capabilities announced after TLS was established, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities_after_tls: Option<Vec<String>>,
    /// What the server offers for authentication before TLS.
    pub auth_before_tls: AuthExposure,
    /// SASL mechanisms offered after TLS, in the server's order (each once).
    pub sasl_after_tls: Vec<String>,
    /// Bytes the server sent after its STARTTLS reply but before the TLS
    /// handshake (they were discarded, never interpreted).
    pub bytes_before_handshake: usize,
    /// The conversation, client lines prefixed `C:` and server lines `S:`,
    /// bounded in length.
    pub transcript: Vec<String>,
}

/// Authentication a client could use over plaintext.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthExposure {
    /// True when a password could be sent before TLS.
    pub plaintext_auth_offered: bool,
    /// The capability or its absence that shows it, e.g. `AUTH PLAIN LOGIN`,
    /// `USER`, or `no LOGINDISABLED`.
    pub indicators: Vec<String>,
    /// SASL mechanisms announced before TLS, in the server's order (each once).
    pub mechanisms: Vec<String>,
}
