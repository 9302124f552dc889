//! The Evidence model: plain serde types holding everything the probes saw,
//! and every probe that could not run with its reason. Rules read only this.
//!
//! The model is versioned with [`SCHEMA_VERSION`]; bump it on any change that
//! alters the JSON shape.

mod attempt;
mod certificate;
mod dns;
mod dnssec;
mod endpoint;
mod mail_auth;
mod mx_host;
mod tls;

pub use attempt::{Attempt, AttemptStatus};
pub use certificate::{CertificateEvidence, PublicKeyEvidence, SignatureEvidence};
pub use dns::{DnsEvidence, HostAddresses, MxEvidence, MxRecord, SrvLookup, SrvRecord};
pub use dnssec::{
    DaneEvidence, DaneMatch, DnssecEvidence, RrsetRole, RrsetSecurity, Security, TlsaOutcome,
    TlsaRecord, TlsaResult, TlsaRrset, ValidatedAnswer, ValidationSetup,
};
pub use endpoint::{AuthExposure, DialogueEvidence, EndpointEvidence, PortState, TcpEvidence};
pub use mail_auth::{
    DkimEvidence, DkimKey, DmarcEvidence, DmarcReportAddress, MailAuthEvidence, MtaStsEvidence,
    MtaStsPolicy, MxCoverage, SpfEvidence, SpfWalkStep, TlsRptEvidence,
};
pub use mx_host::{CaaRecord, MxHostEvidence, ReverseEvidence};
pub use tls::{ChainStructure, TlsEvidence, Validation};

use serde::{Deserialize, Serialize};

/// Version of the evidence and report JSON shape.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// The evidence of one scanned domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvidence {
    /// The domain as given, normalised (lower case, no trailing dot).
    pub domain: String,
    pub dns: DnsEvidence,
    /// Every endpoint probed, sorted by host and port.
    pub endpoints: Vec<EndpointEvidence>,
    /// MX host sanity: aliases, IPv6, reverse DNS.
    #[serde(default)]
    pub mx_hosts: Vec<MxHostEvidence>,
    /// CAA records of the domain.
    pub caa: Attempt<Vec<CaaRecord>>,
    /// DNSSEC status and DANE.
    #[serde(default)]
    pub dnssec: DnssecEvidence,
    /// SPF, DMARC, DKIM, MTA-STS and TLS-RPT.
    #[serde(default)]
    pub mail_auth: MailAuthEvidence,
}
