//! DMARC (RFC 7489): the policy at `_dmarc.DOMAIN`, or at the
//! organisational domain when the domain has none (§6.6.3), its tags (§6.3),
//! and whether external report destinations agreed to receive reports
//! (§7.1: `DOMAIN._report._dmarc.DESTINATION` holds `v=DMARC1`).

use super::tags;
use super::{Lookup, organisational_domain, records_with_version};
use crate::evidence::{Attempt, DmarcEvidence, DmarcReportAddress};
use crate::target::normalize_host;

/// The DMARC evidence of `domain`; failed when a policy lookup had no answer.
pub async fn probe(dns: &impl Lookup, domain: &str) -> Attempt<DmarcEvidence> {
    let mut evidence = DmarcEvidence {
        pct: 100,
        ..DmarcEvidence::default()
    };
    let organisational = organisational_domain(domain);
    let mut candidates = vec![normalize_host(domain)];
    if organisational != candidates[0] && !organisational.is_empty() {
        candidates.push(organisational);
    }
    let mut policy_domain = None;
    for (index, candidate) in candidates.iter().enumerate() {
        let name = format!("_dmarc.{candidate}");
        evidence.queried.push(name.clone());
        let txt = match dns.txt(&name).await {
            Ok(txt) => txt,
            Err(reason) => return Attempt::failed(reason),
        };
        let records = records_with_version(&txt, "v=DMARC1");
        if !records.is_empty() {
            evidence.found_at = Some(name);
            evidence.inherited = index > 0;
            evidence.records = records;
            policy_domain = Some(candidate.clone());
            break;
        }
    }
    let Some(policy_domain) = policy_domain else {
        return Attempt::completed(evidence);
    };
    if evidence.records.len() > 1 {
        evidence.errors.push(format!(
            "{} records start with v=DMARC1; RFC 7489 §6.6.3 then applies no policy",
            evidence.records.len()
        ));
        return Attempt::completed(evidence);
    }
    let record = evidence.records[0].clone();
    parse_into(&record, &mut evidence);
    for address in evidence.rua.iter_mut().chain(evidence.ruf.iter_mut()) {
        authorize(dns, &policy_domain, address).await;
    }
    Attempt::completed(evidence)
}

/// Fills p, sp, pct, rua, ruf and the errors from one record.
pub(crate) fn parse_into(record: &str, evidence: &mut DmarcEvidence) {
    let list = tags::parse(record);
    evidence.errors.extend(list.errors.iter().cloned());
    if list.first_name() != Some("v") || list.get("v") != Some("DMARC1") {
        evidence
            .errors
            .push("the record must start with v=DMARC1".to_string());
    }
    let policy = |tag: &str, errors: &mut Vec<String>| {
        list.get(tag).map(|value| {
            let lower = value.to_ascii_lowercase();
            if !matches!(lower.as_str(), "none" | "quarantine" | "reject") {
                errors.push(format!("{tag}={value} is not none, quarantine or reject"));
            }
            lower
        })
    };
    evidence.p = policy("p", &mut evidence.errors);
    evidence.sp = policy("sp", &mut evidence.errors);
    evidence.policy = match (&evidence.sp, evidence.inherited) {
        (Some(sp), true) => Some(sp.clone()),
        _ => evidence.p.clone(),
    };
    if evidence.p.is_none() {
        evidence
            .errors
            .push("the required tag p= is missing".to_string());
    }
    if let Some(pct) = list.get("pct") {
        match pct.parse::<u32>() {
            Ok(value) if value <= 100 => evidence.pct = value,
            _ => evidence
                .errors
                .push(format!("pct={pct} is not a whole number from 0 to 100")),
        }
    }
    evidence.rua = report_addresses(list.get("rua"), "rua", &mut evidence.errors);
    evidence.ruf = report_addresses(list.get("ruf"), "ruf", &mut evidence.errors);
}

/// `dmarc-uri *(*WSP "," *WSP dmarc-uri)`, each `URI [ "!" size ]` (§6.4).
fn report_addresses(
    value: Option<&str>,
    tag: &str,
    errors: &mut Vec<String>,
) -> Vec<DmarcReportAddress> {
    let Some(value) = value else {
        return Vec::new();
    };
    let mut addresses = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let uri = item.split('!').next().unwrap_or(item).to_string();
        let domain = uri
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
            .and_then(|_| uri[7..].rsplit_once('@'))
            .map(|(_, domain)| normalize_host(domain.split('?').next().unwrap_or(domain)))
            .filter(|domain| !domain.is_empty());
        if domain.is_none() && !uri.contains(':') {
            errors.push(format!(
                "{tag}: '{item}' is not a URI (mailto:address@domain)"
            ));
        }
        addresses.push(DmarcReportAddress {
            uri,
            domain,
            ..DmarcReportAddress::default()
        });
    }
    addresses
}

/// RFC 7489 §7.1: a destination outside the policy's organisational domain
/// must publish `POLICYDOMAIN._report._dmarc.DESTINATION` with `v=DMARC1`.
async fn authorize(dns: &impl Lookup, policy_domain: &str, address: &mut DmarcReportAddress) {
    let Some(destination) = address.domain.clone() else {
        return;
    };
    if organisational_domain(&destination) == organisational_domain(policy_domain) {
        return;
    }
    address.external = true;
    let name = format!("{policy_domain}._report._dmarc.{destination}");
    match dns.txt(&name).await {
        Ok(txt) => {
            address.authorized = Some(!records_with_version(&txt, "v=DMARC1").is_empty());
        }
        Err(reason) => address.authorization_error = Some(reason),
    }
    address.authorization_name = Some(name);
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeDns;
    use super::*;

    fn run(dns: &FakeDns, domain: &str) -> Attempt<DmarcEvidence> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(probe(dns, domain))
    }

    #[test]
    fn the_organisational_domain_is_the_fallback() {
        let dns = FakeDns::default().with_txt(
            "_dmarc.example.org",
            &["v=DMARC1; p=reject; sp=quarantine; pct=100"],
        );
        let dmarc = run(&dns, "lists.example.org").value.unwrap();
        assert_eq!(
            dmarc.queried,
            vec!["_dmarc.lists.example.org", "_dmarc.example.org"]
        );
        assert!(dmarc.inherited);
        assert_eq!(dmarc.found_at.as_deref(), Some("_dmarc.example.org"));
        assert_eq!(dmarc.p.as_deref(), Some("reject"));
        assert_eq!(dmarc.sp.as_deref(), Some("quarantine"));
        assert_eq!(dmarc.policy.as_deref(), Some("quarantine"));
        assert!(dmarc.errors.is_empty(), "{:?}", dmarc.errors);
    }

    #[test]
    fn external_destinations_need_authorization() {
        let dns = FakeDns::default()
            .with_txt(
                "_dmarc.a.example.org",
                &[
                    "v=DMARC1; p=none; pct=50; rua=mailto:d@example.org,mailto:r@ok.test!10m; ruf=mailto:f@nope.test",
                ],
            )
            .with_txt("a.example.org._report._dmarc.ok.test", &["v=DMARC1"]);
        let dmarc = run(&dns, "a.example.org").value.unwrap();
        assert_eq!((dmarc.p.as_deref(), dmarc.pct), (Some("none"), 50));
        assert!(!dmarc.rua[0].external);
        assert_eq!(dmarc.rua[1].uri, "mailto:r@ok.test");
        assert_eq!(dmarc.rua[1].authorized, Some(true));
        assert_eq!(dmarc.ruf[0].authorized, Some(false));
        assert_eq!(
            dmarc.ruf[0].authorization_name.as_deref(),
            Some("a.example.org._report._dmarc.nope.test")
        );
    }

    #[test]
    fn several_records_and_bad_tags_are_errors() {
        let dns = FakeDns::default()
            .with_txt(
                "_dmarc.two.test",
                &["v=DMARC1; p=reject", "v=DMARC1; p=none"],
            )
            .with_txt(
                "_dmarc.bad.test",
                &["v=DMARC1; p=maybe; pct=150; rua=nonsense"],
            )
            .failing("_dmarc.gone.test");
        assert!(run(&dns, "two.test").value.unwrap().errors[0].contains("2 records"));
        let bad = run(&dns, "bad.test").value.unwrap();
        assert_eq!(bad.errors.len(), 3, "{:?}", bad.errors);
        assert_eq!(bad.pct, 100);
        assert!(run(&dns, "none.test").value.unwrap().records.is_empty());
        assert!(!run(&dns, "gone.test").is_completed());
    }
}
