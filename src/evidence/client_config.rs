//! Client configuration discovery: the files a mail client reads to set
//! itself up (Thunderbird autoconfig, Microsoft autodiscover) and the
//! RFC 6186 / RFC 8314 SRV records, with the servers each declares.
//!
//! A fetch is an [`Attempt`]: completed when the server answered over
//! validated HTTPS with any status, failed with the reason otherwise (no
//! address, refused, certificate, timeout, too large).

use super::Attempt;
use serde::{Deserialize, Serialize};

/// Everything client configuration discovery found for one domain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClientConfigEvidence {
    /// The files fetched: autoconfig at `autoconfig.DOMAIN`, the ISP-hosted
    /// autoconfig under `DOMAIN/.well-known/`, and autodiscover.
    pub documents: Vec<ConfigDocument>,
    /// Every server declared, by the documents and by SRV records.
    pub declared: Vec<DeclaredServer>,
}

/// One configuration file and what it declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConfigDocument {
    /// `autoconfig`, `autoconfig-well-known` or `autodiscover`.
    pub source: String,
    pub url: String,
    /// The GET, as answered.
    pub response: Attempt<HttpsAnswer>,
    /// The servers the file declares; empty unless it was served with 200.
    pub servers: Vec<DeclaredServer>,
    /// Why the file could not be read as expected.
    pub errors: Vec<String>,
}

/// What a web server answered to a GET.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HttpsAnswer {
    /// The addresses the request was sent to.
    pub addresses: Vec<String>,
    pub status: u16,
    pub content_type: String,
    /// A redirect target, recorded and not followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Body size in bytes.
    pub size: usize,
}

/// A server a client is told to use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeclaredServer {
    /// `autoconfig`, `autoconfig-well-known`, `autodiscover` or `srv`.
    pub source: String,
    /// `imap`, `pop3` or `smtp`, lower case.
    pub protocol: String,
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `SSL`, `STARTTLS` or `plain` as declared (Thunderbird's
    /// `socketType`, autodiscover's `SSL`/`Encryption`, the SRV label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_type: Option<String>,
}
