//! The DNSSEC trust anchors: hickory's built-in IANA root keys, or those
//! of `--dnssec-anchor` (RFC 7958 style DNSKEY or DS lines). A DS anchor
//! becomes the owner's DNSKEY that it hashes to, fetched through the scan's
//! resolver.

use crate::dnssec_anchor::Anchor;
use crate::probe::dns::{Answer, Dns};
use base64::Engine;
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_resolver::proto::dnssec::{
    Algorithm, DigestType, PublicKeyBuf, TrustAnchors, Verifier,
};
use hickory_resolver::proto::rr::{LowerName, Name, RData, RecordType};

/// The anchors for hickory and their descriptions for the evidence.
pub(super) async fn trust_anchors(
    anchors: &[Anchor],
    dns: &Dns,
) -> Result<(TrustAnchors, Vec<String>), String> {
    if anchors.is_empty() {
        return Ok((
            TrustAnchors::default(),
            vec!["IANA root KSKs 20326 and 38696 (hickory built-in)".to_string()],
        ));
    }
    // A root anchor from the file replaces the public root; anchors for
    // other zones add to it (internal zones under the public tree).
    let mut trust = if anchors.iter().any(|a| a.owner == ".") {
        TrustAnchors::empty()
    } else {
        TrustAnchors::default()
    };
    let mut descriptions = Vec::new();
    for anchor in anchors {
        let owner = Name::from_ascii(&anchor.owner)
            .map_err(|e| format!("trust anchor {anchor}: bad owner name: {e}"))?;
        let keys = match anchor.kind.as_str() {
            "DNSKEY" => vec![dnskey_of(anchor)?],
            _ => keys_for_ds(anchor, &owner, dns).await?,
        };
        for key in keys {
            let tag = key.calculate_key_tag().unwrap_or_default();
            trust.insert_with_name(key.public_key(), LowerName::from(&owner));
            descriptions.push(format!(
                "{} DNSKEY {} 3 {} (key tag {tag}, from the {} anchor)",
                anchor.owner,
                key.flags(),
                u8::from(key.algorithm()),
                anchor.kind
            ));
        }
    }
    Ok((trust, descriptions))
}

fn dnskey_of(anchor: &Anchor) -> Result<DNSKEY, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&anchor.data)
        .map_err(|e| format!("trust anchor {anchor}: the key is not base64: {e}"))?;
    let flags = u16::try_from(anchor.fields[0])
        .map_err(|_| format!("trust anchor {anchor}: flags out of range"))?;
    let algorithm = Algorithm::from_u8(small(anchor, 2)?);
    Ok(DNSKEY::with_flags(
        flags,
        PublicKeyBuf::new(bytes, algorithm),
    ))
}

/// The owner's DNSKEYs that the DS anchor hashes to (RFC 4034 §5.1.4).
async fn keys_for_ds(anchor: &Anchor, owner: &Name, dns: &Dns) -> Result<Vec<DNSKEY>, String> {
    let digest = decode_hex(&anchor.data)
        .ok_or_else(|| format!("trust anchor {anchor}: the digest is not hex"))?;
    let key_tag = u16::try_from(anchor.fields[0])
        .map_err(|_| format!("trust anchor {anchor}: key tag out of range"))?;
    let ds = DS::new(
        key_tag,
        Algorithm::from_u8(small(anchor, 1)?),
        DigestType::from(small(anchor, 2)?),
        digest,
    );
    let name = owner.to_ascii();
    let answer = dns
        .query(&name, RecordType::DNSKEY)
        .await
        .map_err(|e| format!("trust anchor {anchor}: cannot fetch the DNSKEY it names: {e}"))?;
    let keys: Vec<DNSKEY> = match answer {
        Answer::Records(data) => data
            .into_iter()
            .filter_map(|d| match d {
                RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key),
                _ => None,
            })
            .filter(|key| ds.covers(owner, key).unwrap_or(false))
            .collect(),
        Answer::NoRecords { .. } => Vec::new(),
    };
    if keys.is_empty() {
        return Err(format!(
            "trust anchor {anchor}: none of the DNSKEY records served for {name} matches this DS; check the anchor file"
        ));
    }
    Ok(keys)
}

fn small(anchor: &Anchor, index: usize) -> Result<u8, String> {
    u8::try_from(anchor.fields[index])
        .map_err(|_| format!("trust anchor {anchor}: field {} out of range", index + 1))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digests_decode() {
        assert_eq!(decode_hex("00ffA0"), Some(vec![0, 255, 160]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn dnskey_anchor_lines_become_keys_with_their_tag() {
        let anchor = crate::dnssec_anchor::parse(
            ". 3600 IN DNSKEY 257 3 13 Z0WF8p9cG2ncGU9l2STk5mDyzcX2dUAOHgF5a/LT+ENFdnRiKDF41LVR3V6AvM01pWtbsDEAZsibUKvCVrbFEA==\n",
        )
        .unwrap();
        let key = dnskey_of(&anchor[0]).unwrap();
        assert!(key.secure_entry_point());
        assert_eq!(key.algorithm(), Algorithm::ECDSAP256SHA256);
    }
}
