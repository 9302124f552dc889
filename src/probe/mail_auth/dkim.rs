//! DKIM keys (RFC 6376 §3.6.1) at `SELECTOR._domainkey.DOMAIN`. DNS cannot
//! list selectors, so we try those given with `--dkim-selector` and a short
//! list of common ones. The key size comes from the RSA modulus in `p=`
//! (SubjectPublicKeyInfo, or a bare PKCS#1 RSAPublicKey as some publish);
//! Ed25519 keys (RFC 8463) are 32 raw bytes.

use super::tags;
use super::{Lookup, records_with_version};
use crate::evidence::{Attempt, DkimEvidence, DkimKey};
use base64::Engine;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::{PublicKey, RSAPublicKey};
use x509_parser::x509::SubjectPublicKeyInfo;

/// Selectors big providers and common software use by default. Kept short:
/// each one is a DNS query per scanned domain.
pub const COMMON_SELECTORS: [&str; 15] = [
    "default",
    "dkim",
    "mail",
    "selector1",
    "selector2",
    "google",
    "k1",
    "k2",
    "s1",
    "s2",
    "smtp",
    "mx",
    "20230601",
    "20221208",
    "20210112",
];

/// The DKIM evidence of `domain`: failed when no key was found and some
/// selector lookups had no answer.
pub async fn probe(dns: &impl Lookup, domain: &str, flagged: &[String]) -> Attempt<DkimEvidence> {
    let mut selectors: Vec<(String, bool)> = Vec::new();
    for (selector, from_flag) in flagged
        .iter()
        .map(|s| (s.as_str(), true))
        .chain(COMMON_SELECTORS.iter().map(|s| (*s, false)))
    {
        if !selectors.iter().any(|(known, _)| known == selector) {
            selectors.push((selector.to_string(), from_flag));
        }
    }
    let names: Vec<String> = selectors
        .iter()
        .map(|(selector, _)| format!("{selector}._domainkey.{domain}"))
        .collect();
    let answers = futures::future::join_all(names.iter().map(|name| dns.txt(name))).await;
    let mut evidence = DkimEvidence {
        selectors_tried: selectors.iter().map(|(s, _)| s.clone()).collect(),
        ..DkimEvidence::default()
    };
    for ((selector, from_flag), answer) in selectors.into_iter().zip(answers) {
        match answer {
            Ok(txt) => {
                // v= is optional in a key record, so a record with p= counts
                // too; other TXT data at the name does not.
                for record in txt.iter().filter(|r| is_key_record(r)) {
                    let mut key = parse_key(record);
                    key.selector = selector.clone();
                    key.from_flag = from_flag;
                    evidence.keys.push(key);
                }
            }
            Err(reason) => evidence
                .failed_lookups
                .push(format!("{selector}: {reason}")),
        }
    }
    let usable: Vec<&DkimKey> = evidence
        .keys
        .iter()
        .filter(|k| !k.revoked && k.error.is_none())
        .collect();
    evidence.valid_keys = usable.len();
    evidence.weakest_rsa_bits = usable
        .iter()
        .filter(|k| k.key_type == "rsa")
        .filter_map(|k| k.bits)
        .min();
    if evidence.valid_keys == 0 && !evidence.failed_lookups.is_empty() {
        return Attempt::failed(format!(
            "no DKIM key found, and some selector lookups had no answer: {}",
            evidence.failed_lookups.join("; ")
        ));
    }
    Attempt::completed(evidence)
}

fn is_key_record(record: &str) -> bool {
    !records_with_version(std::slice::from_ref(&record.to_string()), "v=DKIM1").is_empty()
        || tags::parse(record).get("p").is_some()
}

/// Parses one key record (RFC 6376 §3.6.1 tags v, k, p, t).
pub fn parse_key(record: &str) -> DkimKey {
    let list = tags::parse(record);
    let mut key = DkimKey {
        record: record.to_string(),
        key_type: list.get("k").unwrap_or("rsa").to_ascii_lowercase(),
        testing: list
            .get("t")
            .is_some_and(|t| t.split(':').any(|f| f.trim().eq_ignore_ascii_case("y"))),
        ..DkimKey::default()
    };
    let mut errors = list.errors.clone();
    if list.get("v").is_some() && (list.first_name() != Some("v") || list.get("v") != Some("DKIM1"))
    {
        errors.push("v= must be the first tag and read DKIM1".to_string());
    }
    match list.get("p") {
        None => errors.push("the required tag p= is missing".to_string()),
        Some(p) => {
            let base64: String = p.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            if base64.is_empty() {
                key.revoked = true;
            } else {
                match base64::engine::general_purpose::STANDARD.decode(&base64) {
                    Ok(der) => match key_bits(&key.key_type, &der) {
                        Ok(bits) => key.bits = Some(bits),
                        Err(error) => errors.push(error),
                    },
                    Err(error) => errors.push(format!("p= is not valid base64: {error}")),
                }
            }
        }
    }
    if !errors.is_empty() {
        key.error = Some(errors.join("; "));
    }
    key
}

fn key_bits(key_type: &str, der: &[u8]) -> Result<u32, String> {
    match key_type {
        "rsa" => {
            let modulus = match SubjectPublicKeyInfo::from_der(der) {
                Ok((_, spki)) => match spki.parsed() {
                    Ok(PublicKey::RSA(rsa)) => rsa.modulus.to_vec(),
                    Ok(_) => return Err("p= holds a key that is not RSA, but k=rsa".to_string()),
                    Err(error) => return Err(format!("p= RSA key does not parse: {error}")),
                },
                // Some publish the bare PKCS#1 RSAPublicKey.
                Err(_) => match RSAPublicKey::from_der(der) {
                    Ok((_, rsa)) => rsa.modulus.to_vec(),
                    Err(_) => {
                        return Err(
                            "p= is neither a SubjectPublicKeyInfo nor an RSAPublicKey".to_string()
                        );
                    }
                },
            };
            Ok(modulus_bits(&modulus))
        }
        // RFC 8463 §4.2: the raw 32-byte public key.
        "ed25519" if der.len() == 32 => Ok(256),
        "ed25519" => Err(format!(
            "an Ed25519 key is 32 bytes, this p= has {}",
            der.len()
        )),
        other => Err(format!("unknown key type k={other}")),
    }
}

/// Significant bits of a big-endian unsigned integer.
fn modulus_bits(modulus: &[u8]) -> u32 {
    let significant: Vec<u8> = modulus.iter().copied().skip_while(|b| *b == 0).collect();
    match significant.first() {
        Some(first) => (significant.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeDns;
    use super::*;

    // `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512`, public part.
    const RSA_512: &str = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKvESd63jTd+JHZjFs0g1kBTCoxLlAUbBF+qZvZF5WXA/6b3g5SAJeXcT6JSJTFwEbZhQdyUW/+MEBnxhIvy51cCAwEAAQ==";
    // The same key as a bare PKCS#1 RSAPublicKey.
    const RSA_512_PKCS1: &str = "MEgCQQCrxEnet403fiR2YxbNINZAUwqMS5QFGwRfqmb2ReVlwP+m94OUgCXl3E+iUiUxcBG2YUHclFv/jBAZ8YSL8udXAgMBAAE=";

    #[test]
    fn rsa_sizes_come_from_the_modulus() {
        let key = parse_key(&format!("v=DKIM1; k=rsa; p={RSA_512}"));
        assert_eq!((key.bits, key.error.as_deref()), (Some(512), None));
        let bare = parse_key(&format!("p={RSA_512_PKCS1}"));
        assert_eq!(bare.bits, Some(512), "{:?}", bare.error);
        assert_eq!(modulus_bits(&[0, 0x01, 0xff]), 9);
        assert_eq!(modulus_bits(&[0x80; 256]), 2048);
    }

    #[test]
    fn revoked_ed25519_and_broken_keys() {
        let revoked = parse_key("v=DKIM1; p=");
        assert!(revoked.revoked && revoked.error.is_none());
        let ed = parse_key("v=DKIM1; k=ed25519; p=JOM+zfWSR7lpD8SxJk5QzYt3ClqSPnzVdBoA7tWaEXo=");
        assert_eq!((ed.key_type.as_str(), ed.bits), ("ed25519", Some(256)));
        assert!(
            parse_key("v=DKIM1; p=!!!")
                .error
                .unwrap()
                .contains("base64")
        );
        assert!(parse_key("v=DKIM1; p=AAAA").error.is_some());
        assert!(
            parse_key("k=rsa; v=DKIM1; p=")
                .error
                .unwrap()
                .contains("first tag")
        );
        assert!(parse_key("v=DKIM1; t=y; k=dsa; p=AAAA").testing);
    }

    #[test]
    fn selectors_from_the_flag_come_first_and_the_weakest_rsa_key_is_named() {
        let lab_key = format!("v=DKIM1; p={RSA_512}");
        let dns = FakeDns::default()
            .with_txt("lab._domainkey.example.org", &[&lab_key])
            .with_txt("s1._domainkey.example.org", &["v=DKIM1; p="])
            .with_txt("mail._domainkey.example.org", &["some other text"]);
        let flagged = vec!["lab".to_string(), "mail".to_string()];
        let dkim = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(probe(&dns, "example.org", &flagged))
            .value
            .unwrap();
        assert_eq!(&dkim.selectors_tried[..3], ["lab", "mail", "default"]);
        assert_eq!(dkim.selectors_tried.len(), 16);
        assert_eq!(dkim.keys.len(), 2);
        assert!(dkim.keys[0].from_flag);
        assert_eq!((dkim.valid_keys, dkim.weakest_rsa_bits), (1, Some(512)));
    }
}
