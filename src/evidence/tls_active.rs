//! Evidence of the active TLS checks (issue 17, part 2): probes that send a
//! server something a correct implementation refuses and record how it
//! answered. Collected by `probe::tls_active`; judged by TLS-110
//! (Heartbleed), TLS-111 (CCS injection), TLS-112 (session resumption,
//! informational), TLS-113 (TLS 1.3 0-RTT) and TLS-114 (client-initiated
//! renegotiation) and TLS-115 (ROBOT). Schema 1.10.
//!
//! Each check has its own outcome, so one that could not be tried (the
//! server stayed busy, it speaks no TLS below 1.3 for CCS) leaves the other
//! standing. The bytes a server leaks are never kept: only their count.

use serde::{Deserialize, Serialize};

/// The active checks of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsActiveEvidence {
    /// Heartbleed (CVE-2014-0160): a heartbeat request claiming more
    /// payload than it carries, sent before the handshake finishes.
    pub heartbleed: ActiveCheck,
    /// CCS injection (CVE-2014-0224): a ChangeCipherSpec sent right after
    /// the server's hello flight, before any key exchange.
    pub ccs_injection: ActiveCheck,
    /// Session resumption (TLS-112, informational): per version, whether a
    /// second connection resumed the first one's session.
    #[serde(default)]
    pub resumption: Vec<ResumptionCheck>,
    /// TLS 1.3 0-RTT (TLS-113): whether the server accepted early data on
    /// a resumed session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_data: Option<EarlyDataCheck>,
    /// Client-initiated renegotiation (TLS-114): a ClientHello sent inside
    /// an established TLS 1.2 session. `affected`: the server answered with
    /// a ServerHello (it accepts); `not_affected`: it refused with an alert
    /// or a close, or speaks TLS 1.3 only. Absent in evidence before
    /// schema 1.10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_renegotiation: Option<ActiveCheck>,
    /// ROBOT (CVE-2017-13099, TLS-115): the answers to five
    /// ClientKeyExchange variants on RSA key exchange. `affected`: they
    /// differ with the padding, the same in two rounds; `not_affected`: all
    /// the same, or no RSA key exchange. Absent before schema 1.10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot: Option<ActiveCheck>,
}

/// Whether the server accepted 0-RTT data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EarlyDataOutcome {
    /// The server accepted the early data (RFC 8446 §4.2.10 `early_data`
    /// in its EncryptedExtensions).
    Accepted,
    /// No early data possible or accepted: no TLS 1.3 ticket, a ticket
    /// without `max_early_data_size`, or early data rejected.
    Refused,
    /// Not tried, or no second TLS 1.3 handshake (named in `observed`).
    NotTested,
}

/// TLS 1.3 0-RTT, tried with rustls on a resumed session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EarlyDataCheck {
    pub outcome: EarlyDataOutcome,
    /// What happened, in words.
    pub observed: String,
    /// The harmless command sent as early data, when some was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// Whether a second connection resumed the session of the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResumptionOutcome {
    /// An abbreviated handshake: TLS 1.2 by session ID or ticket (RFC 5246
    /// §7.3, RFC 5077), TLS 1.3 by a PSK from a ticket (RFC 8446 §2.2).
    Resumed,
    /// A full handshake again.
    NotResumed,
    /// No two handshakes in this version (named in `observed`).
    NotTested,
}

/// Session resumption in one TLS version, tried with rustls: two
/// connections with one session store, the second asking to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResumptionCheck {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: String,
    pub outcome: ResumptionOutcome,
    /// What happened, in words.
    pub observed: String,
}

/// The outcome of one active check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActiveOutcome {
    /// The server gave the vulnerable answer.
    Affected,
    /// The server gave an answer that rules the flaw out (named in
    /// `observed`).
    NotAffected,
    /// No answer that decides either way (named in `observed`).
    NotTested,
}

/// What one active check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ActiveCheck {
    pub outcome: ActiveOutcome,
    /// The server's answer that decided, or why nothing was decided, in words.
    pub observed: String,
    /// The TLS version the server chose for the probe's hello, when it
    /// answered with a ServerHello (`TLSv1.2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Heartbleed: the length in bytes of the heartbeat response record the
    /// server returned, when one came. The bytes themselves are discarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_bytes: Option<u32>,
    /// Connections opened for this check, retries after a busy answer
    /// included.
    pub connections: u32,
}

impl ActiveCheck {
    /// A check that could not decide, with the reason.
    pub fn not_tested(reason: impl Into<String>, connections: u32) -> ActiveCheck {
        ActiveCheck {
            outcome: ActiveOutcome::NotTested,
            observed: reason.into(),
            version: None,
            returned_bytes: None,
            connections,
        }
    }
}
