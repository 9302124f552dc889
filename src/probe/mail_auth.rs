//! SPF, DMARC, DKIM, MTA-STS and TLS-RPT lookups for a domain.
//!
//! Every DNS lookup goes through [`Dns::query`] (our resolver, cached per
//! scan); the MTA-STS policy is fetched with reqwest over HTTPS validated
//! against our trust store, with addresses from the same resolver.
//!
//! # Why the record parsers are our own
//!
//! The dependency notes suggest mail-auth 0.13.3
//! (`mail_auth::common::parse::TxtRecordParser`). Its dependency graph would
//! be fine: in a trial crate with our hickory-resolver 0.26.3, rustls 0.23,
//! x509-parser 0.18 and reqwest 0.13.5, `cargo tree -d` shows no second
//! hickory, aws-lc or rustls, and it adds about 20 crates (mail-parser,
//! mail-builder, flate2, zip, quick-xml, similar, …). Its API does not fit
//! an audit, though:
//!
//! - DMARC: its `Dmarc` follows DMARCbis and has no `pct` field, but the
//!   catalogue fails DNS-009 on `pct` below 100;
//! - DKIM: `DomainKey.p` is a `Box<dyn VerifyingKey>` without key type or
//!   size, needs a crypto backend, and a revoked key is only an error;
//! - SPF: a bad record is `Error::ParseError` with no position, and terms
//!   come back as macro trees, not as written; we must name the offending
//!   term and count lookups over includes, so the walk is ours anyway;
//! - MTA-STS TXT and TLS-RPT are ten-line tag lists, and there is no parser
//!   for the MTA-STS policy file.
//!
//! So these are small parsers, each citing its RFC grammar, with unit tests.

pub(crate) mod dkim;
pub(crate) mod dmarc;
pub(crate) mod mta_sts;
pub(crate) mod mta_sts_policy;
#[cfg(test)]
mod rfc_examples;
pub(crate) mod spf;
pub(crate) mod spf_syntax;
pub(crate) mod tags;
pub(crate) mod tls_rpt;

use super::context::ProbeContext;
use super::dns::{Answer, Dns};
use crate::evidence::{DnsEvidence, MailAuthEvidence};
use hickory_resolver::proto::rr::{RData, RecordType};
use std::time::Instant;

/// Looks up and parses the mail-authentication records of `domain`.
pub async fn probe(
    context: &ProbeContext,
    dns: &Dns,
    domain: &str,
    dns_evidence: &DnsEvidence,
) -> MailAuthEvidence {
    // All five start together, so each duration is that check's own.
    let started = Instant::now();
    let (spf, dmarc, dkim, mta_sts, tls_rpt) = tokio::join!(
        async { spf::probe(dns, domain).await.timed(started) },
        async { dmarc::probe(dns, domain).await.timed(started) },
        async {
            dkim::probe(dns, domain, &context.dkim_selectors)
                .await
                .timed(started)
        },
        async {
            mta_sts::probe(context, dns, domain, dns_evidence)
                .await
                .timed(started)
        },
        async { tls_rpt::probe(dns, domain).await.timed(started) },
    );
    MailAuthEvidence {
        spf,
        dmarc,
        dkim,
        mta_sts,
        tls_rpt,
    }
}

/// The DNS questions the record checks ask; [`Dns`] answers them, and unit
/// tests answer them from a table.
pub(crate) trait Lookup {
    /// The TXT records at `name`, each record's strings joined (RFC 7208
    /// §3.3, RFC 6376 §3.6.2.2); empty when the name has none or does not
    /// exist. `Err` when there was no answer.
    async fn txt(&self, name: &str) -> Result<Vec<String>, String>;

    /// Whether `name` has at least one record of any of `types`.
    async fn has_records(&self, name: &str, types: &[RecordType]) -> Result<bool, String>;

    /// The exchanges of the MX records at `name`; empty when the name has
    /// none or does not exist. `Err` when there was no answer.
    async fn mx_hosts(&self, name: &str) -> Result<Vec<String>, String>;
}

impl Lookup for Dns {
    async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        match self.query(name, RecordType::TXT).await? {
            Answer::Records(records) => Ok(records
                .iter()
                .filter_map(|data| match data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Answer::NoRecords { .. } => Ok(Vec::new()),
        }
    }

    async fn has_records(&self, name: &str, types: &[RecordType]) -> Result<bool, String> {
        let mut failure = None;
        for record_type in types {
            match self.query(name, *record_type).await {
                Ok(answer) if !answer.records().is_empty() => return Ok(true),
                Ok(_) => {}
                Err(reason) => failure = Some(reason),
            }
        }
        match failure {
            Some(reason) => Err(reason),
            None => Ok(false),
        }
    }

    async fn mx_hosts(&self, name: &str) -> Result<Vec<String>, String> {
        let answer = self.query(name, RecordType::MX).await?;
        Ok(answer
            .records()
            .iter()
            .filter_map(|data| match data {
                RData::MX(mx) => Some(crate::target::normalize_host(&mx.exchange.to_ascii())),
                _ => None,
            })
            .collect())
    }
}

/// The organisational domain (RFC 7489 §3.2). Exact would be the Public
/// Suffix List; this simple rule takes the last two labels, which is right
/// for the lab (`*.bad.test` → `bad.test`) and for names directly under a
/// TLD such as `.de`, but wrong under multi-label suffixes (`co.uk`).
pub(crate) fn organisational_domain(domain: &str) -> String {
    let labels: Vec<&str> = domain
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .collect();
    let keep = labels.len().min(2);
    labels[labels.len() - keep..].join(".").to_ascii_lowercase()
}

/// The records whose text starts with the version tag `prefix`
/// (case-insensitive), followed by the end, a `;` or white space: how a
/// record type is picked among the TXT records at a name.
pub(crate) fn records_with_version(records: &[String], prefix: &str) -> Vec<String> {
    records
        .iter()
        .filter(|record| {
            let text = record.trim_start();
            text.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
                && text[prefix.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ';' || c.is_ascii_whitespace())
        })
        .cloned()
        .collect()
}

#[cfg(test)]
pub(crate) mod fake {
    //! A table of DNS answers for unit tests.

    use super::Lookup;
    use hickory_resolver::proto::rr::RecordType;
    use std::collections::HashMap;

    #[derive(Default)]
    pub struct FakeDns {
        txt: HashMap<String, Vec<String>>,
        hosts: Vec<String>,
        mx: HashMap<String, Vec<String>>,
        failing: Vec<String>,
    }

    impl FakeDns {
        pub fn with_txt(mut self, name: &str, records: &[&str]) -> Self {
            self.txt.insert(
                name.to_string(),
                records.iter().map(|r| r.to_string()).collect(),
            );
            self
        }

        /// A name with addresses and MX records.
        pub fn with_host(mut self, name: &str) -> Self {
            self.hosts.push(name.to_string());
            self
        }

        /// A name with these MX hosts (and no addresses).
        pub fn with_mx(mut self, name: &str, hosts: &[&str]) -> Self {
            self.mx.insert(
                name.to_string(),
                hosts.iter().map(|h| h.to_string()).collect(),
            );
            self
        }

        /// A name whose lookups get no answer.
        pub fn failing(mut self, name: &str) -> Self {
            self.failing.push(name.to_string());
            self
        }
    }

    impl Lookup for FakeDns {
        async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
            if self.failing.iter().any(|f| f == name) {
                return Err(format!("TXT lookup for {name} failed: timed out"));
            }
            Ok(self.txt.get(name).cloned().unwrap_or_default())
        }

        async fn has_records(&self, name: &str, types: &[RecordType]) -> Result<bool, String> {
            if self.failing.iter().any(|f| f == name) {
                return Err(format!("{types:?} lookup for {name} failed: timed out"));
            }
            if types.contains(&RecordType::MX) && self.mx.contains_key(name) {
                return Ok(true);
            }
            Ok(self.hosts.iter().any(|h| h == name))
        }

        async fn mx_hosts(&self, name: &str) -> Result<Vec<String>, String> {
            if self.failing.iter().any(|f| f == name) {
                return Err(format!("MX lookup for {name} failed: timed out"));
            }
            if let Some(hosts) = self.mx.get(name) {
                return Ok(hosts.clone());
            }
            let host = self.hosts.iter().find(|h| *h == name);
            Ok(host.map(|h| vec![h.clone()]).unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisational_domain_takes_the_last_two_labels() {
        assert_eq!(organisational_domain("dmarc-none.bad.test"), "bad.test");
        assert_eq!(organisational_domain("Good.Test."), "good.test");
        assert_eq!(organisational_domain("test"), "test");
        assert_eq!(organisational_domain(""), "");
    }

    #[test]
    fn the_version_tag_must_end_at_a_separator() {
        let records: Vec<String> = ["v=spf1 mx -all", "v=spf10 mx", "V=SPF1", "x=1", "é", ""]
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            records_with_version(&records, "v=spf1"),
            vec!["v=spf1 mx -all".to_string(), "V=SPF1".to_string()]
        );
    }
}
