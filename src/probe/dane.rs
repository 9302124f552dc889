//! DANE matching (RFC 6698 §2.1, RFC 7672 §3): compares TLSA records with the
//! certificate chain an endpoint actually served. A pure function, so it is
//! unit-tested without a network.
//!
//! - Usage 3 (DANE-EE) matches the leaf only; name and dates are not checked
//!   (RFC 7672 §3.1.1).
//! - Usage 2 (DANE-TA) matches any certificate the server sent *above* the
//!   leaf, as a trust anchor (RFC 7672 §3.1.2). This module does **not**
//!   validate the path from that anchor down to the leaf (signatures, name,
//!   dates); the TLS evidence's `chain_structure.ordered` tells whether the
//!   served chain is in issuer order.
//! - Usages 0 and 1 (PKIX-TA, PKIX-EE) are unusable for SMTP (RFC 7672
//!   §3.1.3), as are unknown usages, selectors and matching types.

use crate::evidence::{DaneMatch, TlsaOutcome, TlsaRecord, TlsaResult};
use sha2::{Digest, Sha256, Sha512};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Compares `records` with `chain` (DER, in the order served, leaf first).
pub fn match_chain(records: &[TlsaRecord], chain: &[Vec<u8>]) -> DaneMatch {
    let outcomes: Vec<TlsaOutcome> = records.iter().map(|r| outcome(r, chain)).collect();
    let matched_record = outcomes
        .iter()
        .position(|o| o.result == TlsaResult::Matched);
    DaneMatch {
        matched: matched_record.is_some(),
        matched_record,
        usable_records: outcomes
            .iter()
            .filter(|o| o.result != TlsaResult::Unusable)
            .count(),
        outcomes,
        chain_length: chain.len(),
    }
}

fn outcome(record: &TlsaRecord, chain: &[Vec<u8>]) -> TlsaOutcome {
    let unusable = |note: &str| TlsaOutcome {
        result: TlsaResult::Unusable,
        certificate: None,
        note: note.to_string(),
    };
    let candidates = match record.usage {
        0 | 1 => {
            return unusable(
                "usages 0 (PKIX-TA) and 1 (PKIX-EE) are unusable for SMTP (RFC 7672 §3.1.3)",
            );
        }
        2 => 1..chain.len(),
        3 => 0..chain.len().min(1),
        _ => return unusable("unknown certificate usage"),
    };
    if record.selector > 1 {
        return unusable("unknown selector");
    }
    if record.matching_type > 2 {
        return unusable("unknown matching type");
    }
    let wanted = record.data.to_ascii_lowercase();
    for index in candidates {
        let Some(selected) = select(&chain[index], record.selector) else {
            continue;
        };
        let association = match record.matching_type {
            0 => hex(&selected),
            1 => hex(&Sha256::digest(&selected)),
            _ => hex(&Sha512::digest(&selected)),
        };
        if association == wanted {
            let note = if record.usage == 3 {
                "DANE-EE: the leaf matches (name and dates are not checked, RFC 7672 §3.1.1)"
            } else {
                "DANE-TA: a served CA certificate matches as trust anchor; the path from it to the leaf was not validated here"
            };
            return TlsaOutcome {
                result: TlsaResult::Matched,
                certificate: Some(index),
                note: note.to_string(),
            };
        }
    }
    let note = match (record.usage, chain.len()) {
        (2, 0 | 1) => "DANE-TA: the server sent no certificate above the leaf to match",
        (2, _) => "DANE-TA: no certificate above the leaf matches",
        _ => "DANE-EE: the leaf does not match",
    };
    TlsaOutcome {
        result: TlsaResult::NotMatched,
        certificate: None,
        note: note.to_string(),
    }
}

/// The selected content: the whole certificate (0) or its
/// SubjectPublicKeyInfo (1). `None` when the DER does not parse.
fn select(der: &[u8], selector: u8) -> Option<Vec<u8>> {
    if selector == 0 {
        return Some(der.to_vec());
    }
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    Some(certificate.tbs_certificate.subject_pki.raw.to_vec())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// An ECDSA P-256 leaf (CN=dane.example) issued by `CA`, generated once
    /// with openssl for these tests.
    const LEAF: &str = "MIIBFjCBvgIBAjAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxEQU5FLVRlc3QtQ0EwIBcNMjYxMTI2MTUxNzMxWhgPMjEyNjExMDIxNTE3MzFaMBcxFTATBgNVBAMMDGRhbmUuZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLspNYUujvLCdVo1UeWM9/C3OsCmH6djuL67whs2UHM4movT178gf9umagMIZwDDti4deWwd01KRCyOYcLDQ50swCgYIKoZIzj0EAwIDRwAwRAIgV8L3cI/w1MqJNLBZGvNzd3662ka2a703AEGjYXMYCrUCIErW92yiwq4vEr4+HL1HLqFchWD9hR1j24kqz5A/r0H8";
    /// The CA (CN=DANE-Test-CA) that issued `LEAF`.
    const CA: &str = "MIIBhDCCASugAwIBAgIUD9fxS6cTtOaAe8wvgH+dE+NIl8gwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMREFORS1UZXN0LUNBMCAXDTI2MTEyNjE1MTczMVoYDzIxMjYxMTAyMTUxNzMxWjAXMRUwEwYDVQQDDAxEQU5FLVRlc3QtQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR4L6ITDwtY9QXcjDotJHTEGKUnz8gbf4791gP2i8Tm3UYPTUW0ErDlOPK59OXTOKVeFRTuOPN8/k0Exm+SI1lGo1MwUTAdBgNVHQ4EFgQUM0vn/YJNya1Fj18FGb9l6HgXM2AwHwYDVR0jBBgwFoAUM0vn/YJNya1Fj18FGb9l6HgXM2AwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAtFW2pBMEg1CVXWAkF30HNOyh5UozbAIChwRTgDoFBGgIgMKp/QjTkK3gu1W+bSuNusXdDTRzImbPZzBScoprM3S0=";

    fn der(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(text.split_whitespace().collect::<String>())
            .unwrap()
    }

    fn record(usage: u8, selector: u8, matching_type: u8, data: String) -> TlsaRecord {
        TlsaRecord {
            usage,
            selector,
            matching_type,
            data,
        }
    }

    fn spki(der: &[u8]) -> Vec<u8> {
        select(der, 1).unwrap()
    }

    #[test]
    fn dane_ee_matches_the_leaf_by_spki_and_full_certificate_with_every_matching_type() {
        let leaf = der(LEAF);
        let chain = vec![leaf.clone()];
        for r in [
            record(3, 1, 1, hex(&Sha256::digest(spki(&leaf)))),
            record(3, 1, 2, hex(&Sha512::digest(spki(&leaf)))),
            record(3, 1, 0, hex(&spki(&leaf))),
            record(3, 0, 1, hex(&Sha256::digest(&leaf)).to_uppercase()),
            record(3, 0, 0, hex(&leaf)),
        ] {
            let result = match_chain(std::slice::from_ref(&r), &chain);
            assert!(result.matched, "{r:?}: {:?}", result.outcomes);
            assert_eq!(result.outcomes[0].certificate, Some(0));
        }
    }

    #[test]
    fn a_wrong_digest_does_not_match_and_names_the_first_matching_record() {
        let leaf = der(LEAF);
        let wrong = record(3, 1, 1, "00".repeat(32));
        let right = record(3, 1, 1, hex(&Sha256::digest(spki(&leaf))));
        let result = match_chain(std::slice::from_ref(&wrong), std::slice::from_ref(&leaf));
        assert!(!result.matched);
        assert_eq!(result.outcomes[0].result, TlsaResult::NotMatched);
        let result = match_chain(&[wrong, right], &[leaf]);
        assert_eq!(result.matched_record, Some(1));
        assert_eq!(result.usable_records, 2);
    }

    #[test]
    fn dane_ta_matches_only_above_the_leaf() {
        let leaf = der(LEAF);
        let ca = der(CA);
        let ta = record(2, 0, 1, hex(&Sha256::digest(&ca)));
        let result = match_chain(std::slice::from_ref(&ta), &[leaf.clone(), ca.clone()]);
        assert!(result.matched);
        assert_eq!(result.outcomes[0].certificate, Some(1));
        // The leaf's own digest as usage 2 must not match: the leaf is no anchor.
        let leaf_as_ta = record(2, 0, 1, hex(&Sha256::digest(&leaf)));
        assert!(!match_chain(&[leaf_as_ta], &[leaf.clone(), ca.clone()]).matched);
        // A CA digest as usage 3 must not match either.
        let ca_as_ee = record(3, 0, 1, hex(&Sha256::digest(&ca)));
        assert!(!match_chain(&[ca_as_ee], &[leaf, ca]).matched);
    }

    #[test]
    fn pkix_usages_and_unknown_parameters_are_unusable() {
        let leaf = der(LEAF);
        let digest = hex(&Sha256::digest(spki(&leaf)));
        for r in [
            record(0, 1, 1, digest.clone()),
            record(1, 1, 1, digest.clone()),
            record(4, 1, 1, digest.clone()),
            record(3, 2, 1, digest.clone()),
            record(3, 1, 3, digest.clone()),
        ] {
            let result = match_chain(std::slice::from_ref(&r), std::slice::from_ref(&leaf));
            assert!(!result.matched);
            assert_eq!(result.usable_records, 0);
            assert_eq!(result.outcomes[0].result, TlsaResult::Unusable, "{r:?}");
        }
    }

    #[test]
    fn garbage_and_empty_chains_never_match_or_panic() {
        let r = record(3, 1, 1, "00".repeat(32));
        assert!(!match_chain(std::slice::from_ref(&r), &[]).matched);
        assert!(!match_chain(&[r], &[vec![0x30, 0x03, 0x02, 0x01]]).matched);
        let ta = record(2, 1, 1, "00".repeat(32));
        assert!(!match_chain(&[ta], &[vec![1, 2, 3]]).matched);
    }
}
