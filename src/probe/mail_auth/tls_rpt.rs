//! SMTP TLS reporting (RFC 8460 §3): `_smtp._tls.DOMAIN` holds
//! `v=TLSRPTv1; rua=URI[,URI]` with mailto: or https: addresses. Records not
//! starting with `v=TLSRPTv1` are ignored; if not exactly one remains,
//! senders assume the domain does not take reports.

use super::tags;
use super::{Lookup, records_with_version};
use crate::evidence::{Attempt, TlsRptEvidence};

/// The TLS-RPT evidence of `domain`; failed when the lookup had no answer.
pub async fn probe(dns: &impl Lookup, domain: &str) -> Attempt<TlsRptEvidence> {
    let name = format!("_smtp._tls.{domain}");
    let txt = match dns.txt(&name).await {
        Ok(txt) => txt,
        Err(reason) => return Attempt::failed(reason),
    };
    let records = records_with_version(&txt, "v=TLSRPTv1");
    let mut evidence = TlsRptEvidence {
        name,
        records: records.clone(),
        ..TlsRptEvidence::default()
    };
    match records.as_slice() {
        [] => {}
        [record] => parse_into(record, &mut evidence),
        _ => evidence.errors.push(format!(
            "{} records start with v=TLSRPTv1; RFC 8460 §3 then means no reporting",
            records.len()
        )),
    }
    Attempt::completed(evidence)
}

pub(crate) fn parse_into(record: &str, evidence: &mut TlsRptEvidence) {
    let list = tags::parse(record);
    evidence.errors.extend(list.errors.iter().cloned());
    if list.first_name() != Some("v") || list.get("v") != Some("TLSRPTv1") {
        evidence
            .errors
            .push("the record must start with v=TLSRPTv1".to_string());
    }
    let Some(rua) = list.get("rua") else {
        evidence
            .errors
            .push("the required tag rua= is missing".to_string());
        return;
    };
    for uri in rua.split(',').map(str::trim) {
        let lower = uri.to_ascii_lowercase();
        // The prefixes are ASCII, so byte offsets are character boundaries.
        let valid = (lower.starts_with("mailto:") && uri[7..].contains('@') && !uri.ends_with('@'))
            || (lower.starts_with("https://") && uri.len() > 8);
        if valid {
            evidence.rua.push(uri.to_string());
        } else {
            evidence.errors.push(format!(
                "rua: '{uri}' is neither a mailto: address nor an https: URL"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeDns;
    use super::*;

    fn run(dns: &FakeDns, domain: &str) -> TlsRptEvidence {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(probe(dns, domain))
            .value
            .unwrap()
    }

    #[test]
    fn mailto_and_https_addresses_are_accepted() {
        let dns = FakeDns::default().with_txt(
            "_smtp._tls.example.org",
            &[
                "v=TLSRPTv1; rua=mailto:tls@example.org, https://r.example.net/v1",
                "other",
            ],
        );
        let rpt = run(&dns, "example.org");
        assert_eq!(
            rpt.rua,
            vec!["mailto:tls@example.org", "https://r.example.net/v1"]
        );
        assert!(rpt.errors.is_empty(), "{:?}", rpt.errors);
    }

    #[test]
    fn bad_addresses_missing_rua_and_duplicates_are_errors() {
        let dns = FakeDns::default()
            .with_txt("_smtp._tls.a.test", &["v=TLSRPTv1; rua=ftp://x.test"])
            .with_txt("_smtp._tls.b.test", &["v=TLSRPTv1;"])
            .with_txt(
                "_smtp._tls.c.test",
                &[
                    "v=TLSRPTv1; rua=mailto:a@c.test",
                    "v=TLSRPTv1; rua=mailto:b@c.test",
                ],
            );
        assert!(run(&dns, "a.test").errors[0].contains("'ftp://x.test'"));
        assert!(run(&dns, "b.test").errors[0].contains("rua= is missing"));
        assert!(run(&dns, "c.test").errors[0].contains("2 records"));
        assert!(run(&dns, "d.test").records.is_empty());
    }
}
