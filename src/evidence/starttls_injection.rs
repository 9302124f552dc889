//! Evidence of the STARTTLS command injection test (TLS-011): a command
//! pipelined behind STARTTLS in the same write, and whether the server
//! answered it once TLS was up. Collected by `probe::starttls_injection`.

use serde::{Deserialize, Serialize};

/// What one pipelined STARTTLS showed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StarttlsInjectionEvidence {
    /// The commands written in one segment, e.g. `STARTTLS`, `NOOP`.
    pub pipelined: Vec<String>,
    /// The server's reply to the pipelined STARTTLS.
    pub starttls_reply: String,
    /// The server agreed and the TLS handshake completed.
    pub upgraded: bool,
    /// Why there was no upgrade: the refusal, or that the server closed the
    /// connection instead of starting TLS (Dovecot's defence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// What the server sent in the clear after its STARTTLS reply and before
    /// the handshake (an answer to the injected command in plaintext, a
    /// separate fact), bounded; never interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext_before_handshake: Option<String>,
    /// The injected command was answered inside TLS: the server kept the
    /// plaintext across the upgrade (vulnerable).
    pub answered_inside_tls: bool,
    /// The answer, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_inside_tls: Option<String>,
    /// The answer came unprompted, before we sent a command of our own (true),
    /// or only ahead of the answer to our own command (false).
    #[serde(default)]
    pub answered_unprompted: bool,
    /// How long we waited inside TLS for an unprompted answer.
    pub wait_ms: u64,
    /// The conversation, client lines `C:`, server lines `S:`, bounded.
    pub transcript: Vec<String>,
}
