//! Public-key discovery for end-to-end encryption (E2E-001): whether a
//! sender can find a recipient's key without asking.
//!
//! - Web Key Directory (draft-koch-openpgp-webkey-service §3.1): the policy
//!   file of the advanced method (`https://openpgpkey.DOMAIN/.well-known/openpgpkey/DOMAIN/policy`)
//!   and of the direct method (`https://DOMAIN/.well-known/openpgpkey/policy`).
//!   A client decides that a directory exists by this file, so it is what
//!   we fetch; no key is requested.
//! - OPENPGPKEY (RFC 7929 §3) and SMIMEA (RFC 8162 §3) records: their owner
//!   names hash a local part, so they are looked up only for the mailboxes
//!   given with `--key-lookup`.
//!
//! Fetches go through [`super::https`] (our resolver and trust, no
//! redirects, 64 KiB, a timeout).

use super::client_config::fetch;
use super::context::ProbeContext;
use super::dns::{Answer, Dns};
use crate::evidence::{
    Attempt, HttpsAnswer, KeyDiscoveryEvidence, KeyRecord, KeyRecordLookup, WkdPolicyEvidence,
};
use hickory_resolver::proto::rr::{RData, RecordType};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Instant;

/// Fetches the WKD policies of `domain` and looks up the key records of
/// every `--key-lookup` address at `domain`.
pub async fn probe(context: &ProbeContext, dns: &Dns, domain: &str) -> KeyDiscoveryEvidence {
    let advanced_host = format!("openpgpkey.{domain}");
    let mailboxes: Vec<&str> = context
        .key_lookups
        .iter()
        .filter(|address| {
            address
                .rsplit_once('@')
                .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain))
        })
        .map(String::as_str)
        .collect();
    let lookups = mailboxes.iter().flat_map(|address| {
        [
            key_records(dns, domain, address, RecordType::OPENPGPKEY),
            key_records(dns, domain, address, RecordType::SMIMEA),
        ]
    });
    let advanced_path = format!("/.well-known/openpgpkey/{domain}/policy");
    let (advanced, direct, records) = tokio::join!(
        wkd(context, dns, "advanced", &advanced_host, &advanced_path),
        wkd(
            context,
            dns,
            "direct",
            domain,
            "/.well-known/openpgpkey/policy"
        ),
        futures::future::join_all(lookups),
    );
    // DNS answers are cached per scan, so asking again costs nothing.
    let mut unanswered = Vec::new();
    let mut count = records.len();
    for host in [advanced_host.as_str(), domain] {
        count += 1;
        let addresses = dns.addresses(host).await;
        if !addresses.is_completed() {
            unanswered.push(addresses.reason.unwrap_or_else(|| host.to_string()));
        }
    }
    unanswered.extend(records.iter().filter_map(|r| r.records.reason.clone()));
    KeyDiscoveryEvidence {
        wkd: vec![advanced, direct],
        records,
        answers: if unanswered.is_empty() {
            Attempt::completed(count)
        } else {
            Attempt::failed(unanswered.join("; "))
        },
    }
}

async fn wkd(
    context: &ProbeContext,
    dns: &Dns,
    method: &str,
    host: &str,
    path: &str,
) -> WkdPolicyEvidence {
    let started = Instant::now();
    let mut evidence = WkdPolicyEvidence {
        method: method.to_string(),
        url: format!("https://{host}{path}"),
        response: Attempt::skipped("not fetched"),
        found: false,
        entries: Vec::new(),
        errors: Vec::new(),
    };
    match fetch(context, dns, host, path).await {
        Err(reason) => evidence.response = Attempt::failed(reason).timed(started),
        Ok((addresses, response)) => {
            evidence.found = response.status == 200;
            if evidence.found {
                (evidence.entries, evidence.errors) =
                    parse_policy(&String::from_utf8_lossy(&response.body));
            }
            evidence.response = Attempt::completed(HttpsAnswer {
                addresses: addresses.iter().map(IpAddr::to_string).collect(),
                status: response.status,
                content_type: response.content_type,
                location: response.location,
                size: response.body.len(),
            })
            .timed(started);
        }
    }
    evidence
}

/// The lines of a WKD policy file (draft-koch-openpgp-webkey-service §4.5):
/// `keyword` or `keyword: value`, `#` comments; an empty file is valid.
/// Returns the entries (keyword lower-cased) and the lines that are not
/// entries.
pub fn parse_policy(text: &str) -> (Vec<String>, Vec<String>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (keyword, value) = match line.split_once(':') {
            Some((keyword, value)) => (keyword.trim(), Some(value.trim())),
            None => (line, None),
        };
        let valid = !keyword.is_empty()
            && keyword
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            errors.push(format!(
                "line {}: '{line}' is not a policy entry",
                number + 1
            ));
            continue;
        }
        let keyword = keyword.to_ascii_lowercase();
        entries.push(match value {
            Some(value) => format!("{keyword}: {value}"),
            None => keyword,
        });
    }
    (entries, errors)
}

/// The owner name of `address`'s OPENPGPKEY (RFC 7929 §3) or SMIMEA
/// (RFC 8162 §3) record: the SHA-256 of the local part as given, truncated
/// to 28 octets, in hex, under `_openpgpkey` or `_smimecert`.
pub fn owner_name(local_part: &str, domain: &str, record_type: RecordType) -> String {
    let digest = Sha256::digest(local_part.as_bytes());
    let hex: String = digest[..28].iter().map(|b| format!("{b:02x}")).collect();
    let label = if record_type == RecordType::SMIMEA {
        "_smimecert"
    } else {
        "_openpgpkey"
    };
    format!("{hex}.{label}.{domain}")
}

async fn key_records(
    dns: &Dns,
    domain: &str,
    address: &str,
    record_type: RecordType,
) -> KeyRecordLookup {
    let started = Instant::now();
    let local_part = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let name = owner_name(local_part, domain, record_type);
    let records = match dns.query(&name, record_type).await {
        Ok(Answer::Records(data)) => Attempt::completed(
            data.iter()
                .filter_map(|d| match d {
                    RData::OPENPGPKEY(key) => Some(summary(&key.public_key, None)),
                    RData::SMIMEA(smimea) => Some(summary(
                        &smimea.0.cert_data,
                        Some([
                            u8::from(smimea.0.cert_usage),
                            u8::from(smimea.0.selector),
                            u8::from(smimea.0.matching),
                        ]),
                    )),
                    _ => None,
                })
                .collect(),
        ),
        Ok(Answer::NoRecords { .. }) => Attempt::completed(Vec::new()),
        Err(reason) => Attempt::failed(reason),
    };
    KeyRecordLookup {
        address: address.to_string(),
        record_type: record_type.to_string(),
        name,
        records: records.timed(started),
    }
}

fn summary(data: &[u8], parameters: Option<[u8; 3]>) -> KeyRecord {
    KeyRecord {
        usage: parameters.map(|p| p[0]),
        selector: parameters.map(|p| p[1]),
        matching_type: parameters.map(|p| p[2]),
        data_length: data.len(),
        data_sha256: Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_names_follow_rfc_7929_and_8162() {
        // RFC 7929 §6 example: "hugh" → c93f1e40...
        assert_eq!(
            owner_name("hugh", "example.com", RecordType::OPENPGPKEY),
            "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.com"
        );
        assert!(
            owner_name("hugh", "example.com", RecordType::SMIMEA)
                .ends_with("._smimecert.example.com")
        );
    }

    #[test]
    fn policy_files_are_keywords_with_optional_values() {
        let (entries, errors) = parse_policy(
            "# WKD policy\nmailbox-only\nProtocol-Version: 5\n\nsubmission-address: key-submit@example.org\nno good line\n",
        );
        assert_eq!(
            entries,
            [
                "mailbox-only",
                "protocol-version: 5",
                "submission-address: key-submit@example.org"
            ]
        );
        assert_eq!(errors, ["line 6: 'no good line' is not a policy entry"]);
        assert_eq!(parse_policy(""), (vec![], vec![]));
    }
}
