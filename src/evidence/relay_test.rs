//! Evidence of the relay test (ACC-002, opt-in with `--relay-test`): what an
//! MX answered to a mail transaction from a non-existent sender to a
//! recipient in a foreign domain, and where mailaudit stood when it asked.
//! Collected by `probe::relay_test`; judged by `rules/ACC-002.toml`.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One relay test: the envelope sent, the server's replies and the vantage
/// point. It is recorded only when the server answered RCPT TO; a dialogue
/// that ended earlier is a failed attempt naming the step and the reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RelayTestEvidence {
    /// Where the test ran from, in the server's eyes.
    pub vantage: RelayVantage,
    /// The greeting, first line, e.g. `220 mx.example.org ESMTP`.
    pub greeting: String,
    /// The reverse-path of `MAIL FROM` (an address at an RFC 2606 name).
    pub mail_from: String,
    /// The reply to `MAIL FROM`.
    pub mail_reply: SmtpReply,
    /// The forward-path of `RCPT TO`, in a domain foreign to every server.
    pub rcpt_to: String,
    /// The reply to `RCPT TO`: 2xx means the server would relay.
    pub rcpt_reply: SmtpReply,
    /// The reply to `RSET`, when one came (the transaction is always reset
    /// and the session ended with `QUIT`; `DATA` is never sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rset_reply: Option<SmtpReply>,
    /// The conversation, client lines `C:`, server lines `S:`, bounded.
    pub transcript: Vec<String>,
}

/// One SMTP reply, bounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SmtpReply {
    /// The three-digit reply code (RFC 5321 §4.2).
    pub code: u16,
    /// The enhanced status code at the start of the text, e.g. `5.7.1`
    /// (RFC 3463), when the server sent one whose class matches the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enhanced_code: Option<String>,
    /// The text of every line, joined with ` / `, at most 300 characters.
    pub text: String,
}

/// The vantage point of the relay test: servers relay for networks they
/// trust (Postfix's `mynetworks`, Exim's `relay_from_hosts`), so an accepted
/// RCPT means an open relay only when mailaudit stood outside them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RelayVantage {
    /// mailaudit's local address on the connection.
    pub source_address: IpAddr,
    /// The MX address connected to.
    pub server_address: IpAddr,
    /// The source is a loopback address (127.0.0.0/8, ::1): mailaudit runs
    /// on the server's own host, which MTAs trust by default.
    pub loopback: bool,
    /// Source and server share their first `network_prefix` bits (the same
    /// /24 for IPv4, /64 for IPv6): a network the server is likely to trust.
    pub same_network: bool,
    /// The prefix length compared: 24 (IPv4) or 64 (IPv6).
    pub network_prefix: u8,
    /// The source address was chosen with `--relay-test-source`, not by the
    /// system's routing.
    #[serde(default)]
    pub source_chosen: bool,
}
