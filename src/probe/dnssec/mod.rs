//! DNSSEC status (secure, insecure, bogus) of the domain's MX, the MX hosts'
//! A/AAAA and the endpoints' TLSA RRsets, and DANE matching of the TLSA
//! records against the chains the endpoints served (see [`super::dane`]).
//!
//! # Approach: hickory's own validator, in process
//!
//! A second hickory resolver with `validate = true`, built by the scan's
//! [`Dns`] ([`Dns::validating`]) so it asks the same server as discovery
//! (`--resolver` or the system's), sends queries with the DO bit, fetches DNSKEY
//! and DS itself and walks the chain of trust from the anchors down, exactly
//! like a validating stub. Evidence that this works: against the lab
//! (`tests/lab`, signed root `.` → `test.` → `good.test.`, one Knot server
//! authoritative for all of them) it returns `Secure` for good.test's MX, A
//! and TLSA (matching `delv`'s "fully validated"), `Insecure` for bad.test
//! (DS absence proved by test.'s NSEC; `delv`: "unsigned answer") with the
//! proof on the denial's SOA for negative answers, and
//! `DnssecBogus` for broken.test (`delv`: "broken trust chain"). The earlier
//! "bogus for everything" note (dependencies.md §1) came from anchoring a
//! single zone below an unsigned root; with a root anchor hickory walks the
//! DS chain as intended. So no external validator (unbound) is needed, and
//! no verdict depends on a resolver's AD bit.
//!
//! Trust anchors: without `--dnssec-anchor`, hickory's built-in IANA root
//! keys. With it, the file's anchors replace the root keys when one of them
//! is for `.`, and are added to the public root otherwise. DNSKEY anchors
//! are used as given; a DS anchor is turned into the owner's DNSKEY that it
//! hashes to (fetched from the same server; a key that matches the DS digest
//! is by definition the anchored key).
//!
//! Limits: hickory decides per RRset, so a bogus answer comes back as an
//! error without records (we record it as `bogus` with zero records), and
//! without the cause: [`diagnosis`] reads the DS, DNSKEY and RRSIG records
//! itself and names it (`bogus_cause`). Every query carries CD=1
//! ([`super::checking_disabled`]), so a validating upstream resolver hands
//! bogus data over instead of answering SERVFAIL (RFC 4035 §3.2.2). The TLSA
//! base name is the MX host name as published; CNAME expansion of the TLSA
//! base (RFC 7672 §2.2.2) is not followed.
//!
//! Findings for MX hosts are reported per domain (DNS-001, DNS-002 on
//! `dns:DOMAIN`), naming the host, because the catalogue's subject for DNS
//! rules is the domain and a host shared by several domains is then judged
//! in each domain's context.
//!
//! The validating lookups are in [`validator`], the trust anchors in
//! [`anchors`], the causes of bogus answers in [`diagnosis`].

mod anchors;
mod diagnosis;
mod validator;

use super::context::ProbeContext;
use super::dane;
use super::dns::Dns;
use crate::evidence::{
    Attempt, DaneEvidence, DnsEvidence, DnssecEvidence, EndpointEvidence, RrsetRole, RrsetSecurity,
    Security, TlsaRecord, TlsaRrset, ValidatedAnswer,
};
use crate::target::{Role, Source};
use base64::Engine;
use hickory_resolver::proto::rr::{RData, RecordType};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Instant;
use validator::Validator;

/// Runs the DNSSEC and DANE checks for `domain` once its endpoints are probed.
pub async fn probe(
    context: &ProbeContext,
    dns: &Dns,
    domain: &str,
    dns_evidence: &DnsEvidence,
    endpoints: &[EndpointEvidence],
) -> DnssecEvidence {
    let started = Instant::now();
    let validator = match Validator::new(context, dns).await {
        Ok(validator) => validator,
        Err(reason) => {
            return DnssecEvidence {
                validation: Attempt::failed(reason).timed(started),
                ..DnssecEvidence::default()
            };
        }
    };

    // What to validate: the domain's MX, each MX host's addresses, and TLSA
    // for every MX on port 25 and every other endpoint that completed TLS.
    let mut lookups: Vec<(String, RecordType, RrsetRole)> =
        vec![(domain.to_string(), RecordType::MX, RrsetRole::Domain)];
    for host in mx_hosts(domain, dns_evidence, endpoints) {
        lookups.push((host.clone(), RecordType::A, RrsetRole::MxHost));
        lookups.push((host, RecordType::AAAA, RrsetRole::MxHost));
    }
    let dane_endpoints: Vec<&EndpointEvidence> = endpoints
        .iter()
        .filter(|e| (e.role == Role::Mx && e.port == 25) || e.tls.is_completed())
        .collect();
    for endpoint in &dane_endpoints {
        if endpoint.host.parse::<IpAddr>().is_err() {
            lookups.push((tlsa_name(endpoint), RecordType::TLSA, RrsetRole::Tlsa));
        }
    }
    let limit = context.step_timeout * 4;
    let results = futures::future::join_all(lookups.iter().map(|(name, record_type, _)| {
        let validator = &validator;
        async move {
            let started = Instant::now();
            let result = tokio::time::timeout(limit, validator.lookup(name, *record_type))
                .await
                .unwrap_or_else(|_| {
                    Err(format!(
                        "{record_type} {name}: no validated answer within {limit:?}"
                    ))
                });
            (result, started)
        }
    }))
    .await;

    let mut rrsets = Vec::new();
    let mut tlsa_answers: BTreeMap<String, Result<(ValidatedAnswer, Vec<TlsaRecord>), String>> =
        BTreeMap::new();
    for ((name, record_type, role), (result, started)) in lookups.into_iter().zip(results) {
        let lookup: Attempt<ValidatedAnswer> = match &result {
            Ok((answer, _)) => Attempt::completed(answer.clone()),
            Err(reason) => Attempt::failed(reason.clone()),
        };
        if role == RrsetRole::Tlsa {
            tlsa_answers.insert(
                name.clone(),
                result.map(|(answer, data)| (answer, tlsa_records(&data))),
            );
        }
        rrsets.push(RrsetSecurity {
            name,
            record_type: record_type.to_string(),
            role,
            lookup: lookup.timed(started),
        });
    }
    let dane = dane_endpoints
        .into_iter()
        .map(|endpoint| {
            (
                endpoint.subject.clone(),
                dane_for(endpoint, tlsa_answers.get(&tlsa_name(endpoint))),
            )
        })
        .collect();
    DnssecEvidence {
        validation: Attempt::completed(validator.setup).timed(started),
        rrsets,
        dane,
    }
}

/// `_PORT._tcp.HOST` (RFC 6698 §3, RFC 7672 §2.2.3).
fn tlsa_name(endpoint: &EndpointEvidence) -> String {
    format!("_{}._tcp.{}", endpoint.port, endpoint.host)
}

/// The MX hosts: the MX exchanges, the domain itself when it has no MX
/// (implicit MX, RFC 5321 §5.1), and port-25 hosts given with `--host`.
/// Usual names on port 25 (`smtp.DOMAIN`) are not MX hosts.
fn mx_hosts(domain: &str, dns: &DnsEvidence, endpoints: &[EndpointEvidence]) -> BTreeSet<String> {
    let mut hosts = BTreeSet::new();
    if let Some(mx) = dns.mx.value() {
        hosts.extend(
            super::discovery::probed_mx_hosts(mx)
                .into_iter()
                .map(String::from),
        );
        if mx.records.is_empty() && !mx.nxdomain {
            hosts.insert(domain.to_string());
        }
    }
    hosts.extend(
        endpoints
            .iter()
            .filter(|e| is_mx(e) && e.host.parse::<IpAddr>().is_err())
            .map(|e| e.host.clone()),
    );
    hosts
}

/// An endpoint that is an MX of the domain (published or implicit); a
/// `--host` endpoint is one only when the MX records name its host too.
fn is_mx(endpoint: &EndpointEvidence) -> bool {
    endpoint.role == Role::Mx
        && endpoint
            .sources
            .iter()
            .any(|s| matches!(s, Source::Mx | Source::ImplicitMx))
}

fn tlsa_records(data: &[RData]) -> Vec<TlsaRecord> {
    data.iter()
        .filter_map(|d| match d {
            RData::TLSA(tlsa) => Some(TlsaRecord {
                usage: u8::from(tlsa.cert_usage),
                selector: u8::from(tlsa.selector),
                matching_type: u8::from(tlsa.matching),
                data: dane::hex(&tlsa.cert_data),
            }),
            _ => None,
        })
        .collect()
}

/// The DANE evidence of one endpoint from its TLSA lookup.
fn dane_for(
    endpoint: &EndpointEvidence,
    answer: Option<&Result<(ValidatedAnswer, Vec<TlsaRecord>), String>>,
) -> DaneEvidence {
    let tlsa: Attempt<TlsaRrset> = match answer {
        None => Attempt::skipped(
            "the endpoint is an IP address; TLSA records live under host names (RFC 7672 §2.2.3)",
        ),
        Some(Err(reason)) => Attempt::failed(reason.clone()),
        Some(Ok((answer, records))) => match answer.security {
            Security::Secure | Security::Insecure => Attempt::completed(TlsaRrset {
                security: answer.security,
                records: records.clone(),
            }),
            Security::Bogus | Security::Indeterminate => Attempt::failed(format!(
                "the TLSA RRset at {} is {:?}: {}",
                tlsa_name(endpoint),
                answer.security,
                answer.reason
            )),
        },
    };
    let matching = match (&tlsa.value, &endpoint.tls.value) {
        (None, _) => Attempt::skipped("no validated TLSA RRset"),
        (Some(rrset), _) if rrset.security != Security::Secure => {
            Attempt::skipped("the TLSA RRset is not DNSSEC-secure, so DANE does not apply")
        }
        (Some(rrset), _) if rrset.records.is_empty() => Attempt::skipped("no TLSA records"),
        (Some(_), None) => Attempt::skipped(format!(
            "no TLS session, so no served chain to compare: {}",
            endpoint
                .tls
                .reason
                .as_deref()
                .unwrap_or("TLS did not complete")
        )),
        (Some(rrset), Some(tls)) => {
            let chain: Result<Vec<Vec<u8>>, _> = tls
                .chain
                .iter()
                .map(|c| base64::engine::general_purpose::STANDARD.decode(&c.der_base64))
                .collect();
            match chain {
                Ok(chain) => Attempt::completed(dane::match_chain(&rrset.records, &chain)),
                Err(e) => Attempt::failed(format!("the served chain's DER is unreadable: {e}")),
            }
        }
    };
    DaneEvidence {
        host: endpoint.host.clone(),
        port: endpoint.port,
        tlsa_name: tlsa_name(endpoint),
        tlsa,
        matching,
    }
}
