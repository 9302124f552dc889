//! MTA-STS (RFC 8461): the `_mta-sts.DOMAIN` TXT record (§3.1), the policy
//! fetched over HTTPS (§3.3, see [`super::mta_sts_policy`]), and whether every
//! MX of the domain is covered by one of its `mx` patterns (§4.1).
//!
//! DNS-005's catalogue severity drops to low when DANE is valid; DANE
//! evidence (`domain.dnssec`) comes from the DNSSEC probe, whose shape was
//! not settled when this was written, so the downgrade is not implemented.

use super::mta_sts_policy::{self, pattern_matches};
use super::tags;
use super::{Lookup, records_with_version};
use crate::evidence::{Attempt, DnsEvidence, MtaStsEvidence, MxCoverage};
use crate::probe::context::ProbeContext;
use crate::probe::dns::Dns;

/// The MTA-STS evidence of `domain`; failed when the TXT lookup or the
/// resolution of the policy host had no answer.
pub async fn probe(
    context: &ProbeContext,
    dns: &Dns,
    domain: &str,
    dns_evidence: &DnsEvidence,
) -> Attempt<MtaStsEvidence> {
    let name = format!("_mta-sts.{domain}");
    let txt = match dns.txt(&name).await {
        Ok(txt) => txt,
        Err(reason) => return Attempt::failed(reason),
    };
    let mut evidence = MtaStsEvidence {
        records: records_with_version(&txt, "v=STSv1"),
        name,
        id: None,
        record_errors: Vec::new(),
        policy: Attempt::skipped("there is no v=STSv1 record, so senders do not fetch a policy"),
        mx_coverage: Attempt::skipped("there is no policy to compare the MX hosts with"),
        uncovered_mx: Vec::new(),
    };
    check_record(&mut evidence);
    if evidence.records.is_empty() {
        return Attempt::completed(evidence);
    }
    let host = format!("mta-sts.{domain}");
    let addresses = dns.addresses(&host).await;
    let Some(addresses) = addresses.value().cloned() else {
        return Attempt::failed(
            addresses
                .reason
                .unwrap_or_else(|| format!("{host}: no answer")),
        );
    };
    if addresses.is_empty() {
        evidence.policy = Attempt::failed(format!(
            "{host} has no address, so the policy cannot be fetched"
        ));
        return Attempt::completed(evidence);
    }
    evidence.policy = mta_sts_policy::fetch(context, domain, &addresses)
        .await
        .into();
    if let Some(policy) = evidence.policy.value() {
        evidence.mx_coverage = match dns_evidence.mx.value() {
            Some(mx) => {
                let coverage: Vec<MxCoverage> = mx
                    .records
                    .iter()
                    .filter(|r| !r.exchange.is_empty())
                    .map(|r| MxCoverage {
                        exchange: r.exchange.clone(),
                        pattern: policy
                            .mx
                            .iter()
                            .find(|p| pattern_matches(p, &r.exchange))
                            .cloned(),
                    })
                    .collect();
                evidence.uncovered_mx = coverage
                    .iter()
                    .filter(|c| c.pattern.is_none())
                    .map(|c| c.exchange.clone())
                    .collect();
                Attempt::completed(coverage)
            }
            None => Attempt::skipped(format!(
                "the MX lookup did not complete: {}",
                dns_evidence.mx.reason.as_deref().unwrap_or("no answer")
            )),
        };
    }
    Attempt::completed(evidence)
}

/// RFC 8461 §3.1: exactly one `v=STSv1; id=...` record, `id` 1 to 32
/// letters and digits.
pub(crate) fn check_record(evidence: &mut MtaStsEvidence) {
    match evidence.records.as_slice() {
        [] => {}
        [record] => {
            let list = tags::parse(record);
            evidence.record_errors.extend(list.errors.iter().cloned());
            if list.first_name() != Some("v") || list.get("v") != Some("STSv1") {
                evidence
                    .record_errors
                    .push("the record must start with v=STSv1".to_string());
            }
            match list.get("id") {
                Some(id)
                    if (1..=32).contains(&id.len())
                        && id.chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    evidence.id = Some(id.to_string());
                }
                Some(id) => evidence
                    .record_errors
                    .push(format!("id={id} is not 1 to 32 letters and digits")),
                None => evidence
                    .record_errors
                    .push("the required tag id= is missing".to_string()),
            }
        }
        several => evidence.record_errors.push(format!(
            "{} records start with v=STSv1; RFC 8461 §3.1 then means no policy",
            several.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(records: &[&str]) -> MtaStsEvidence {
        let mut evidence = MtaStsEvidence {
            name: "_mta-sts.example.org".into(),
            records: records.iter().map(|r| r.to_string()).collect(),
            id: None,
            record_errors: Vec::new(),
            policy: Attempt::skipped("test"),
            mx_coverage: Attempt::skipped("test"),
            uncovered_mx: Vec::new(),
        };
        check_record(&mut evidence);
        evidence
    }

    #[test]
    fn the_record_needs_one_id() {
        let good = evidence(&["v=STSv1; id=20261126"]);
        assert_eq!(good.id.as_deref(), Some("20261126"));
        assert!(good.record_errors.is_empty());
        assert!(evidence(&["v=STSv1;"]).record_errors[0].contains("id= is missing"));
        assert!(evidence(&["v=STSv1; id=a-b"]).record_errors[0].contains("id=a-b"));
        assert!(
            evidence(&["v=STSv1; id=1", "v=STSv1; id=2"]).record_errors[0].contains("2 records")
        );
    }
}
