//! DNSSEC and DANE evidence: validation status of the RRsets a mail domain
//! depends on, the TLSA records, and how they match the served chains.
//!
//! Every validated lookup is listed in [`DnssecEvidence::rrsets`] with its
//! role, so DNS-001 (domain and MX-host zones secure) and DNS-002 (anything
//! bogus) read one list. DANE results are keyed by endpoint subject
//! (`HOST:PORT`) so an endpoint rule reaches its own entry with
//! `domain.dnssec.dane[endpoint.subject]`.

use super::Attempt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the DNSSEC and DANE probe saw for one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnssecEvidence {
    /// Whether validation could run at all: the validating resolver and its
    /// trust anchors.
    pub validation: Attempt<ValidationSetup>,
    /// Every RRset looked up with validation, in lookup order.
    #[serde(default)]
    pub rrsets: Vec<RrsetSecurity>,
    /// DANE per endpoint subject (`HOST:PORT`): every MX on port 25, and every
    /// other endpoint that completed TLS.
    #[serde(default)]
    pub dane: BTreeMap<String, DaneEvidence>,
}

impl Default for DnssecEvidence {
    fn default() -> Self {
        DnssecEvidence {
            validation: Attempt::skipped("the DNSSEC probe did not run"),
            rrsets: Vec::new(),
            dane: BTreeMap::new(),
        }
    }
}

/// How validation was set up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ValidationSetup {
    /// The validator, e.g. `hickory-resolver 0.26 (in-process)`.
    pub validator: String,
    /// The server the queries went to (`system` or `IP:PORT`).
    pub resolver: String,
    /// The trust anchors used, e.g. `. DNSKEY 257 3 13 (key tag 12348)`.
    pub trust_anchors: Vec<String>,
}

/// The DNSSEC status of an RRset (RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// A chain of signed DNSKEY and DS records leads from a trust anchor to it.
    Secure,
    /// Provably unsigned: a validated denial of the DS on the way down.
    Insecure,
    /// It should validate but does not (bad signature, DS without key, …).
    Bogus,
    /// The validator could not decide (missing DNSSEC records).
    Indeterminate,
}

/// What an RRset is looked up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RrsetRole {
    /// The mail domain's MX RRset (or its validated absence).
    Domain,
    /// A or AAAA of an MX host (the domain itself for an implicit MX).
    MxHost,
    /// TLSA of an endpoint.
    Tlsa,
}

/// One validated lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RrsetSecurity {
    /// The owner name, no trailing dot.
    pub name: String,
    /// `MX`, `A`, `AAAA` or `TLSA`.
    pub record_type: String,
    pub role: RrsetRole,
    /// The validated answer; failed when there was no answer at all.
    pub lookup: Attempt<ValidatedAnswer>,
}

/// A validated answer or denial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ValidatedAnswer {
    pub security: Security,
    /// Records of the asked type (0 for a denial or a bogus answer).
    pub records: usize,
    /// The name does not exist (validated NXDOMAIN).
    pub nxdomain: bool,
    /// How the status was reached, in words.
    pub reason: String,
    /// Why a bogus answer is bogus, read from the records themselves (the
    /// validator says only "bogus"); absent for every other status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bogus_cause: Option<BogusCause>,
}

/// Where the chain of trust breaks for a bogus answer (issue 18), found by
/// checking the DS and DNSKEY records and the signatures' validity periods
/// from the trust anchor down to the RRset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BogusCause {
    pub kind: BogusKind,
    /// The zone where the chain breaks, no trailing dot (`.` for the root).
    pub zone: String,
    /// The RRset whose signature or key is at fault, e.g. `DNSKEY` or `MX`.
    pub record_type: String,
    /// When the signature expired (`signature_expired`) or becomes valid
    /// (`signature_not_yet_valid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::DateTime<chrono::Utc>>,
    /// The cause in words, with key tags and dates.
    pub detail: String,
}

/// The kinds of breaks in a chain of trust (RFC 4035 §5, RFC 6840 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BogusKind {
    /// The parent's DS records match none of the zone's DNSKEYs.
    NoMatchingDs,
    /// Every signature over the RRset has expired.
    SignatureExpired,
    /// Every signature over the RRset lies in the future (inception).
    SignatureNotYetValid,
    /// The RRset has no RRSIG although its zone is signed.
    MissingSignature,
    /// A negative answer whose NSEC/NSEC3 records do not prove the denial.
    DenialNotProven,
    /// DS, keys and validity periods are in order, so the signatures
    /// themselves do not verify (or the records could not be fetched).
    Undetermined,
}

/// DANE for one endpoint (RFC 7672, RFC 6698).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DaneEvidence {
    pub host: String,
    pub port: u16,
    /// The TLSA owner name, `_PORT._tcp.HOST`.
    pub tlsa_name: String,
    /// The TLSA RRset; completed only when it is secure or provably insecure
    /// (bogus and undecided answers fail, with the reason).
    pub tlsa: Attempt<TlsaRrset>,
    /// The comparison with the chain the endpoint served; skipped when there
    /// is nothing to compare (no secure TLSA records, no TLS session).
    pub matching: Attempt<DaneMatch>,
}

/// The TLSA RRset of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsaRrset {
    /// `secure` or `insecure`; DANE counts only when secure (RFC 7672 §2.2).
    pub security: Security,
    /// The records, as published (empty when there are none).
    pub records: Vec<TlsaRecord>,
}

/// One TLSA record (RFC 6698 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsaRecord {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// 0 full certificate, 1 SubjectPublicKeyInfo.
    pub selector: u8,
    /// 0 exact, 1 SHA-256, 2 SHA-512.
    pub matching_type: u8,
    /// The certificate association data, lower-case hex.
    pub data: String,
}

/// How the TLSA records compare with the served chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DaneMatch {
    /// At least one usable record matches.
    pub matched: bool,
    /// Index (into `tlsa.records`) of the first matching record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_record: Option<usize>,
    /// Records usable for SMTP: usage 2 or 3, selector 0 or 1, matching type
    /// 0, 1 or 2 (RFC 7672 §3.1.3 makes usages 0 and 1 unusable).
    pub usable_records: usize,
    /// One outcome per TLSA record, in record order.
    pub outcomes: Vec<TlsaOutcome>,
    /// Certificates in the served chain.
    pub chain_length: usize,
}

/// The outcome of one TLSA record against the served chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsaOutcome {
    pub result: TlsaResult,
    /// Index in the served chain of the certificate that matched (0 = leaf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<usize>,
    /// Why the record is unusable, or what a match means.
    pub note: String,
}

/// What one TLSA record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TlsaResult {
    Matched,
    NotMatched,
    Unusable,
}
