//! The ServerKeyExchange of TLS 1.2 and older: the group the server chose
//! for DHE or ECDHE, and the algorithm it signed those parameters with.
//!
//! - ECDHE: `ServerECDHParams` then the signature, RFC 8422 §5.4 (TLS 1.2)
//!   and RFC 4492 §5.4 (TLS 1.0/1.1).
//! - DHE: `ServerDHParams` (`dh_p`, `dh_g`, `dh_Ys`) then `signed_params`,
//!   RFC 5246 §7.4.3; anonymous suites send no signature.
//! - The signature: in TLS 1.2 a `digitally-signed` struct that starts with
//!   the `SignatureAndHashAlgorithm` (RFC 5246 §4.7 and §7.4.1.4.1, code
//!   points as in RFC 8446 §4.2.3 and RFC 8734); in TLS 1.0/1.1 the hash is
//!   fixed by the protocol, MD5+SHA-1 for RSA and SHA-1 for DSA/ECDSA
//!   (RFC 4346 §7.4.3, RFC 4492 §5.4), so no algorithm is sent.
//!
//! Parsing is bounded by the message body and never panics: a field that
//! does not fit leaves what follows it unread.

use super::registry::KeyExchange;

/// What a ServerKeyExchange said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerKeyExchange {
    pub group: KeyExchangeGroup,
    pub signature: KeyExchangeSignature,
}

/// The ephemeral group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchangeGroup {
    /// ECDHE with a named curve (RFC 8422 §5.4).
    NamedCurve(u16),
    /// DHE with a prime of this many bits (RFC 5246 §7.4.3).
    DhPrime(u32),
}

/// How the parameters were signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchangeSignature {
    /// A TLS 1.2 `SignatureAndHashAlgorithm` / `SignatureScheme` code point.
    Scheme(u16),
    /// TLS 1.0/1.1: the hash is fixed by the protocol.
    Legacy,
    /// An anonymous suite: nothing is signed.
    Anonymous,
    /// The signature did not fit in the message.
    Missing,
}

/// Parses a ServerKeyExchange body for a suite of `family` negotiated at
/// `version`; `None` when the family has no ServerKeyExchange we read.
pub fn parse(body: &[u8], family: Option<KeyExchange>, version: u16) -> Option<ServerKeyExchange> {
    let family = family?;
    let (group, rest) = match family {
        KeyExchange::Ecdhe | KeyExchange::EcdhAnon => match body {
            // curve_type named_curve (3), the NamedCurve, then the point.
            [3, high, low, rest @ ..] => {
                let curve = u16::from_be_bytes([*high, *low]);
                let rest = rest
                    .split_first()
                    .and_then(|(length, point)| point.get(usize::from(*length)..));
                (KeyExchangeGroup::NamedCurve(curve), rest)
            }
            _ => return None,
        },
        KeyExchange::Dhe | KeyExchange::DhAnon => {
            let (prime, rest) = vector16(body)?;
            let leading = prime.iter().take_while(|b| **b == 0).count();
            let significant = &prime[leading..];
            let bits = significant
                .first()
                .map(|b| (significant.len() as u32) * 8 - b.leading_zeros())
                .unwrap_or(0);
            // dh_g and dh_Ys follow the prime.
            let rest = vector16(rest)
                .and_then(|(_, rest)| vector16(rest))
                .map(|(_, rest)| rest);
            (KeyExchangeGroup::DhPrime(bits), rest)
        }
        _ => return None,
    };
    let signature = if matches!(family, KeyExchange::DhAnon | KeyExchange::EcdhAnon) {
        KeyExchangeSignature::Anonymous
    } else {
        match rest {
            Some([high, low, _, _, ..]) if version >= 0x0303 => {
                KeyExchangeSignature::Scheme(u16::from_be_bytes([*high, *low]))
            }
            Some([_, _, ..]) if version < 0x0303 => KeyExchangeSignature::Legacy,
            _ => KeyExchangeSignature::Missing,
        }
    };
    Some(ServerKeyExchange { group, signature })
}

/// An `opaque<1..2^16-1>` vector and what follows it.
fn vector16(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let length = usize::from(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]));
    let data = bytes.get(2..2 + length)?;
    Some((data, &bytes[2 + length..]))
}

/// Name and hash of a signature code point. TLS 1.2's
/// `SignatureAndHashAlgorithm` is a hash byte and a signature byte
/// (RFC 5246 §7.4.1.4.1); TLS 1.3 renamed them `SignatureScheme` and added
/// RSA-PSS and EdDSA (RFC 8446 §4.2.3), brainpool curves came with RFC 8734.
pub fn scheme(id: u16) -> (String, &'static str) {
    let named = |name: &str, hash| (name.to_string(), hash);
    match id {
        0x0804 => named("rsa_pss_rsae_sha256", "sha256"),
        0x0805 => named("rsa_pss_rsae_sha384", "sha384"),
        0x0806 => named("rsa_pss_rsae_sha512", "sha512"),
        0x0809 => named("rsa_pss_pss_sha256", "sha256"),
        0x080a => named("rsa_pss_pss_sha384", "sha384"),
        0x080b => named("rsa_pss_pss_sha512", "sha512"),
        0x0807 => named("ed25519", "intrinsic"),
        0x0808 => named("ed448", "intrinsic"),
        0x081a => named("ecdsa_brainpoolP256r1tls13_sha256", "sha256"),
        0x081b => named("ecdsa_brainpoolP384r1tls13_sha384", "sha384"),
        0x081c => named("ecdsa_brainpoolP512r1tls13_sha512", "sha512"),
        _ => {
            let [hash, signature] = id.to_be_bytes();
            let hash = match hash {
                1 => "md5",
                2 => "sha1",
                3 => "sha224",
                4 => "sha256",
                5 => "sha384",
                6 => "sha512",
                _ => "unknown",
            };
            let algorithm = match signature {
                1 => "rsa_pkcs1",
                2 => "dsa",
                3 => "ecdsa",
                _ => return (format!("unknown {id:#06x}"), "unknown"),
            };
            (format!("{algorithm}_{hash}"), hash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dhe(prime_bytes: usize, signature: &[u8]) -> Vec<u8> {
        let mut body = (prime_bytes as u16).to_be_bytes().to_vec();
        body.extend(std::iter::repeat_n(0xff, prime_bytes));
        body.extend_from_slice(&[0, 1, 2]); // g = 2
        body.extend_from_slice(&[0, 2, 0xab, 0xcd]); // Ys
        body.extend_from_slice(signature);
        body
    }

    #[test]
    fn a_tls12_dhe_exchange_gives_its_prime_and_signature_scheme() {
        // rsa_pkcs1_sha1 (0x0201), then a 2-byte signature length and a body.
        let body = dhe(256, &[2, 1, 0, 2, 9, 9]);
        let found = parse(&body, Some(KeyExchange::Dhe), 0x0303).unwrap();
        assert_eq!(found.group, KeyExchangeGroup::DhPrime(2048));
        assert_eq!(found.signature, KeyExchangeSignature::Scheme(0x0201));
        assert_eq!(scheme(0x0201), ("rsa_pkcs1_sha1".to_string(), "sha1"));
    }

    #[test]
    fn a_tls10_exchange_has_the_fixed_legacy_hash() {
        let body = dhe(128, &[0, 2, 9, 9]);
        let found = parse(&body, Some(KeyExchange::Dhe), 0x0301).unwrap();
        assert_eq!(found.signature, KeyExchangeSignature::Legacy);
    }

    #[test]
    fn an_ecdhe_exchange_gives_curve_and_scheme() {
        // secp256r1, a 3-byte "point", rsa_pss_rsae_sha256.
        let body = [3, 0, 23, 3, 4, 1, 2, 8, 4, 0, 1, 0];
        let found = parse(&body, Some(KeyExchange::Ecdhe), 0x0303).unwrap();
        assert_eq!(found.group, KeyExchangeGroup::NamedCurve(23));
        assert_eq!(found.signature, KeyExchangeSignature::Scheme(0x0804));
        assert_eq!(scheme(0x0804).1, "sha256");
        assert_eq!(scheme(0x0101), ("rsa_pkcs1_md5".to_string(), "md5"));
    }

    #[test]
    fn anonymous_and_truncated_exchanges_are_told_apart() {
        let anonymous = parse(&dhe(64, &[]), Some(KeyExchange::DhAnon), 0x0303).unwrap();
        assert_eq!(anonymous.signature, KeyExchangeSignature::Anonymous);
        let truncated = parse(&[3, 0, 23, 65], Some(KeyExchange::Ecdhe), 0x0303).unwrap();
        assert_eq!(truncated.group, KeyExchangeGroup::NamedCurve(23));
        assert_eq!(truncated.signature, KeyExchangeSignature::Missing);
        assert_eq!(parse(&[0, 200, 1], Some(KeyExchange::Dhe), 0x0303), None);
        assert_eq!(parse(&[], Some(KeyExchange::Ecdhe), 0x0303), None);
        for cut in 0..20 {
            let body = dhe(8, &[4, 1, 0, 1, 0]);
            let _ = parse(&body[..cut.min(body.len())], Some(KeyExchange::Dhe), 0x0303);
        }
    }
}
