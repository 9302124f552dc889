//! The Evidence model: plain serde types holding everything the probes saw,
//! and every probe that could not run with its reason. Rules read only this.
//!
//! The model is versioned with [`SCHEMA_VERSION`]; bump it on any change that
//! alters the JSON shape.

mod attempt;
mod certificate;
mod client_config;
mod dns;
mod dnssec;
mod endpoint;
mod history;
mod key_discovery;
mod location;
mod mail_auth;
mod mailbox;
mod mx_host;
mod relay_test;
mod starttls_injection;
mod tls;
mod tls_active;
mod tls_scan;

pub use attempt::{Attempt, AttemptStatus};
pub use certificate::{CertificateEvidence, PublicKeyEvidence, SignatureEvidence};
pub use client_config::{ClientConfigEvidence, ConfigDocument, DeclaredServer, HttpsAnswer};
pub use dns::{DnsEvidence, HostAddresses, MxEvidence, MxRecord, SrvLookup, SrvRecord};
pub use dnssec::{
    BogusCause, BogusKind, DaneEvidence, DaneMatch, DnssecEvidence, RrsetRole, RrsetSecurity,
    Security, TlsaOutcome, TlsaRecord, TlsaResult, TlsaRrset, ValidatedAnswer, ValidationSetup,
};
pub use endpoint::{AuthExposure, DialogueEvidence, EndpointEvidence, PortState, TcpEvidence};
pub use history::{AuditHistoryEvidence, history_not_consulted};
pub use key_discovery::{KeyDiscoveryEvidence, KeyRecord, KeyRecordLookup, WkdPolicyEvidence};
pub use location::{AddressLocation, LocationEvidence, RdapNetwork, location_not_recorded};
pub use mail_auth::{
    DkimEvidence, DkimKey, DmarcEvidence, DmarcReportAddress, MailAuthEvidence, MtaStsEvidence,
    MtaStsPolicy, MxCoverage, SpfEvidence, SpfWalkStep, TlsRptEvidence,
};
pub use mailbox::{
    AclEntry, ClassFileUsed, FolderEvidence, FolderRole, ImapNamespace, ImapNamespaces,
    MailboxEvidence, MailboxLogin, MessageSample, Pop3View, QuotaResource, Redirect, RoleSource,
    SieveEvidence, SieveScript,
};
pub use mx_host::{CaaRecord, MxHostEvidence, ReverseEvidence};
pub use relay_test::{RelayTestEvidence, RelayVantage, SmtpReply};
pub use starttls_injection::StarttlsInjectionEvidence;
pub use tls::{ChainStructure, TlsEvidence, Validation};
pub use tls_active::{
    ActiveCheck, ActiveOutcome, EarlyDataCheck, EarlyDataOutcome, ResumptionCheck,
    ResumptionOutcome, TlsActiveEvidence,
};
pub use tls_scan::{
    GroupResult, HelloFeatures, KeyExchangeResult, SuiteResult, TlsScanEvidence, VersionResult,
};

use serde::{Deserialize, Serialize};

/// Version of the evidence and report JSON shape.
pub const SCHEMA_VERSION: &str = "1.10.0";

/// The evidence of one scanned domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Autoconfig, autodiscover and SRV: the servers clients are told to use.
    #[serde(default)]
    pub client_config: ClientConfigEvidence,
    /// WKD, OPENPGPKEY and SMIMEA.
    #[serde(default)]
    pub key_discovery: KeyDiscoveryEvidence,
    /// Data location (RDAP country) of every endpoint and MX address.
    #[serde(default = "location_not_recorded")]
    pub location: Attempt<LocationEvidence>,
    /// The read-only audits of the mailboxes given with `--mailbox`.
    #[serde(default)]
    pub mailboxes: Vec<MailboxEvidence>,
    /// The earlier scans of the domain in the history store (GOV-001),
    /// filled by the command layer before the rules run; skipped without
    /// a store. Schema 1.6.
    #[serde(default = "history_not_consulted")]
    pub history: Attempt<AuditHistoryEvidence>,
}
