//! The validating resolver of the DNSSEC probe: one validated lookup gives
//! the RRset's status (secure, insecure, bogus, indeterminate) with the
//! reason hickory's proof gives, and the records; a "bogus" verdict while
//! the root's keys cannot be fetched is no verdict at all.

use super::anchors::trust_anchors;
use super::diagnosis::Diagnosis;
use crate::evidence::{Security, ValidatedAnswer, ValidationSetup};
use crate::probe::context::ProbeContext;
use crate::probe::dns::{Dns, ScanResolver};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::Proof;
use hickory_resolver::proto::dnssec::rdata::DNSSECRData;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

/// The validator named in the evidence.
const VALIDATOR: &str = "hickory-resolver 0.26 (in-process DNSSEC validation)";

/// The validating resolver and a description of its set-up.
pub(super) struct Validator {
    resolver: ScanResolver,
    pub(super) setup: ValidationSetup,
    /// Why the root's DNSKEY RRset cannot be had from the resolver (an
    /// internal authoritative server answers REFUSED for `.`): then no chain
    /// of trust can be fetched, and a "bogus" verdict proves nothing.
    root_unavailable: Option<String>,
    /// Reads the records behind a bogus verdict to say why (None when no
    /// server address is known).
    diagnosis: Option<Diagnosis>,
}

impl Validator {
    pub(super) async fn new(context: &ProbeContext, dns: &Dns) -> Result<Validator, String> {
        let (anchors, descriptions) = trust_anchors(&context.dnssec_anchors, dns).await?;
        let resolver = dns.validating(anchors)?;
        let root_unavailable = match dns.query(".", RecordType::DNSKEY).await {
            Ok(answer) if !answer.records().is_empty() => None,
            Ok(_) => Some("the resolver has no DNSKEY records for the root".to_string()),
            Err(reason) => Some(reason),
        };
        let diagnosis = dns
            .server()
            .map(|server| Diagnosis::new(server, dns.timeout(), chrono::Utc::now()));
        Ok(Validator {
            resolver,
            root_unavailable,
            diagnosis,
            setup: ValidationSetup {
                validator: VALIDATOR.to_string(),
                resolver: dns.description.clone(),
                trust_anchors: descriptions,
            },
        })
    }

    /// One validated lookup: the status and the records of the asked type,
    /// or why there was no answer at all. "Bogus" while the root's keys
    /// cannot be fetched is no answer: the chain was never checked.
    pub(super) async fn lookup(
        &self,
        name: &str,
        record_type: RecordType,
    ) -> Result<(ValidatedAnswer, Vec<RData>), String> {
        let result = self.validated(name, record_type).await;
        match (result, &self.root_unavailable, &self.diagnosis) {
            (Ok((answer, _)), Some(reason), _) if answer.security == Security::Bogus => {
                Err(format!(
                    "{record_type} {name}: the chain of trust could not be fetched ({reason}), so the status is undecided"
                ))
            }
            (Ok((mut answer, data)), None, Some(diagnosis))
                if answer.security == Security::Bogus =>
            {
                let cause = diagnosis.cause(name, record_type).await;
                answer.reason = format!("DNSSEC validation failed: {}", cause.detail);
                answer.bogus_cause = Some(cause);
                Ok((answer, data))
            }
            (result, _, _) => result,
        }
    }

    async fn validated(
        &self,
        name: &str,
        record_type: RecordType,
    ) -> Result<(ValidatedAnswer, Vec<RData>), String> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let answer =
            |security: Proof, records: usize, nxdomain: bool, reason: String| ValidatedAnswer {
                security: security_of(security),
                records,
                nxdomain,
                reason,
                bogus_cause: None,
            };
        match self.resolver.lookup(fqdn.as_str(), record_type).await {
            Ok(lookup) => {
                // The weakest proof over the answer's data (CNAMEs included,
                // signatures left out) is the RRset's status.
                let relevant: Vec<_> = lookup
                    .answers()
                    .iter()
                    .filter(|r| !matches!(r.data, RData::DNSSEC(DNSSECRData::RRSIG(_))))
                    .collect();
                let proof = relevant
                    .iter()
                    .map(|r| r.proof)
                    .min()
                    .unwrap_or(Proof::Indeterminate);
                let mut data: Vec<RData> = relevant
                    .iter()
                    .filter(|r| r.record_type() == record_type)
                    .map(|r| r.data.clone())
                    .collect();
                // RRset order means nothing (RFC 2181 §5.1); the report keeps one.
                crate::probe::dns::canonical_order(&mut data);
                let reason = positive_reason(proof);
                Ok((answer(proof, data.len(), false, reason), data))
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(no_records))) => {
                let nxdomain = no_records.response_code == ResponseCode::NXDomain;
                // The denial's status travels on its SOA (and NSEC) records;
                // hickory has already checked the NSEC proof when secure.
                let proof = no_records
                    .soa
                    .as_ref()
                    .map(|soa| soa.proof)
                    .or_else(|| {
                        no_records
                            .authorities
                            .as_ref()
                            .and_then(|a| a.iter().map(|r| r.proof).min())
                    })
                    .unwrap_or(Proof::Indeterminate);
                let what = if nxdomain {
                    "the name does not exist"
                } else {
                    "no records of this type"
                };
                let reason = format!("{what}; {}", negative_reason(proof));
                Ok((answer(proof, 0, nxdomain, reason), Vec::new()))
            }
            Err(NetError::Dns(DnsError::Nsec { proof, .. })) => {
                let reason = format!(
                    "the denial of existence (NSEC/NSEC3) could not be validated: {proof}"
                );
                Ok((answer(proof, 0, false, reason), Vec::new()))
            }
            Err(NetError::Dns(DnsError::DnssecBogus)) => Ok((
                answer(
                    Proof::Bogus,
                    0,
                    false,
                    "DNSSEC validation failed: signatures or the chain of trust (DS → DNSKEY) do not verify".to_string(),
                ),
                Vec::new(),
            )),
            Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))) => Err(format!(
                "{record_type} {name}: SERVFAIL (a validating upstream resolver also answers SERVFAIL for bogus data, so the status is undecided)"
            )),
            Err(error) => Err(format!("{record_type} {name}: {error}")),
        }
    }
}

fn security_of(proof: Proof) -> Security {
    match proof {
        Proof::Secure => Security::Secure,
        Proof::Insecure => Security::Insecure,
        Proof::Bogus => Security::Bogus,
        Proof::Indeterminate => Security::Indeterminate,
    }
}

fn positive_reason(proof: Proof) -> String {
    match proof {
        Proof::Secure => "validated along the chain of trust from the trust anchor",
        Proof::Insecure => "provably unsigned: a validated denial of the DS record above it",
        Proof::Bogus => "the signatures do not validate",
        Proof::Indeterminate => "the validator could not decide (DNSSEC records missing)",
    }
    .to_string()
}

fn negative_reason(proof: Proof) -> String {
    match proof {
        Proof::Secure => "the denial is validated (NSEC/NSEC3)",
        Proof::Insecure => "the denial comes from a provably unsigned zone",
        Proof::Bogus => "the denial does not validate",
        Proof::Indeterminate => "the validator could not decide on the denial",
    }
    .to_string()
}
