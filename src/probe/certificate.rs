//! Certificate analysis with x509-parser: turns each DER certificate of a
//! served chain into [`CertificateEvidence`], and describes the chain's
//! structure (order, completeness, name coverage).
//!
//! Name matching follows RFC 9525 §6.3: DNS-ID only (the CN is ignored), case
//! insensitive, with a wildcard allowed only as the whole left-most label.

use crate::evidence::{CertificateEvidence, ChainStructure, PublicKeyEvidence, SignatureEvidence};
use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;
use x509_parser::signature_algorithm::SignatureAlgorithm;

/// Parses one certificate. `now` is the scan time used for `days_left`.
pub fn analyse(
    position: usize,
    der: &[u8],
    now: DateTime<Utc>,
) -> Result<CertificateEvidence, String> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("certificate {position} does not parse: {e}"))?;
    let not_before = timestamp(cert.validity().not_before.timestamp());
    let not_after = timestamp(cert.validity().not_after.timestamp());
    let san_dns = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(dns.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    Ok(CertificateEvidence {
        position,
        subject: rfc4514(cert.subject()),
        issuer: rfc4514(cert.issuer()),
        serial: cert.raw_serial_as_string(),
        not_before: not_before.to_rfc3339(),
        not_after: not_after.to_rfc3339(),
        days_left: (not_after - now).num_days() - i64::from(not_after < now),
        san_dns,
        common_name,
        self_signed: is_self_signed(&cert),
        is_ca: cert.is_ca(),
        key: public_key(&cert),
        signature: signature(&cert),
        sha256: hex(&Sha256::digest(der)),
        spki_sha256: hex(&Sha256::digest(cert.public_key().raw)),
        der_base64: base64::engine::general_purpose::STANDARD.encode(der),
    })
}

/// A distinguished name as an RFC 4514 string, the form `openssl x509
/// -nameopt RFC2253` prints: the RDNs from last to first (RFC 4514 §2.1, so
/// the most specific, usually the CN, comes first), joined by `,`; the
/// attributes of a multi-valued RDN joined by `+` (§2.2).
///
/// x509-parser's `Display` prints the RDNs in encoded order with `, `, so a
/// leaf with a lone CN looked right while an intermediate such as
/// `C=US, O=…, CN=R3` read backwards next to it.
pub fn rfc4514(name: &X509Name) -> String {
    let mut rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            let mut attributes: Vec<String> = rdn.iter().map(attribute).collect();
            attributes.reverse();
            attributes.join("+")
        })
        .collect();
    rdns.reverse();
    rdns.join(",")
}

/// One `type=value` pair (RFC 4514 §2.3, §2.4).
fn attribute(attribute: &AttributeTypeAndValue) -> String {
    let oid = attribute.attr_type().to_id_string();
    // RFC 4514 §3 short names, plus two that certificates commonly carry
    // and OpenSSL also names; any other type in dotted-decimal form (§2.3).
    let name = match oid.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "2.5.4.5" => "serialNumber",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => oid.as_str(),
    };
    format!("{name}={}", attribute_value(attribute.attr_value()))
}

/// A value as a string when it is one; otherwise `#` and the hex of its DER
/// encoding (RFC 4514 §2.4).
fn attribute_value(value: &x509_parser::der_parser::asn1_rs::Any) -> String {
    use x509_parser::der_parser::asn1_rs::{Tag, ToDer};
    let text = match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::T61String => std::str::from_utf8(value.data).ok().map(str::to_string),
        // UCS-2 big-endian.
        Tag::BmpString => {
            let units: Vec<u16> = value
                .data
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    };
    match text {
        Some(text) => escape_value(&text),
        None => format!("#{}", hex(&value.to_der_vec().unwrap_or_default())),
    }
}

/// Escapes an attribute value (RFC 4514 §2.4): the special characters
/// anywhere, a space or `#` at the start, a space at the end, and NUL.
fn escape_value(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut escaped = String::with_capacity(value.len());
    for (index, character) in value.chars().enumerate() {
        match character {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                escaped.push('\\');
                escaped.push(character);
            }
            '#' if index == 0 => escaped.push_str("\\#"),
            ' ' if index == 0 || index == last => escaped.push_str("\\ "),
            '\0' => escaped.push_str("\\00"),
            _ => escaped.push(character),
        }
    }
    escaped
}

/// Describes the served chain. `anchor_subjects` are the DER subjects of the
/// trust anchors in use (public roots and `--ca-file`).
pub fn chain_structure(
    chain: &[Vec<u8>],
    host: &str,
    anchor_subjects: &[Vec<u8>],
) -> ChainStructure {
    let parsed: Vec<X509Certificate> = chain
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .collect();
    if parsed.len() != chain.len() || parsed.is_empty() {
        return ChainStructure {
            ordered: false,
            complete: false,
            covers_host: false,
            leaf_self_signed: false,
        };
    }
    let ordered = parsed
        .windows(2)
        .all(|pair| pair[0].issuer().as_raw() == pair[1].subject().as_raw());
    let last = parsed.last().expect("non-empty");
    let issuer = last.issuer().as_raw();
    let complete = ordered
        && (is_self_signed(last)
            || anchor_subjects.iter().any(|anchor| {
                anchor.as_slice() == issuer || anchor.as_slice() == der_content(issuer)
            }));
    let leaf = &parsed[0];
    let names: Vec<String> = match leaf.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some(d.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    ChainStructure {
        ordered,
        complete,
        covers_host: names.iter().any(|name| name_matches(name, host)),
        leaf_self_signed: is_self_signed(leaf),
    }
}

/// RFC 9525 §6.3 DNS-ID matching.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(suffix) = pattern.strip_prefix("*.") {
        // The wildcard stands for exactly one whole label, and never for a
        // label of a public suffix-like two-label name (`*.org`).
        match host.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest == suffix && suffix.contains('.'),
            None => false,
        }
    } else {
        pattern == host
    }
}

/// The contents of a DER TLV (without tag and length), for comparing a
/// Name's full encoding with the content-only form webpki keeps for anchors.
fn der_content(tlv: &[u8]) -> &[u8] {
    if tlv.len() < 2 {
        return tlv;
    }
    let first = tlv[1];
    let header = if first & 0x80 == 0 {
        2
    } else {
        2 + usize::from(first & 0x7f)
    };
    tlv.get(header..).unwrap_or(tlv)
}

fn is_self_signed(cert: &X509Certificate) -> bool {
    if cert.subject().as_raw() != cert.issuer().as_raw() {
        return false;
    }
    match cert.verify_signature(None) {
        Ok(()) => true,
        // An algorithm the verifier does not support (e.g. MD5): fall back to
        // the key identifiers, which a self-signed certificate repeats.
        Err(_) => {
            let ski = cert
                .extensions()
                .iter()
                .find_map(|e| match e.parsed_extension() {
                    ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                    _ => None,
                });
            let aki = cert
                .extensions()
                .iter()
                .find_map(|e| match e.parsed_extension() {
                    ParsedExtension::AuthorityKeyIdentifier(a) => {
                        a.key_identifier.as_ref().map(|id| id.0.to_vec())
                    }
                    _ => None,
                });
            aki.is_none() || aki == ski
        }
    }
}

fn public_key(cert: &X509Certificate) -> PublicKeyEvidence {
    let spki = cert.public_key();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .and_then(|oid| curve_name(&oid.to_id_string()));
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => PublicKeyEvidence {
            algorithm: "rsa".into(),
            bits: rsa.key_size() as u32,
            curve: None,
        },
        Ok(PublicKey::EC(point)) => PublicKeyEvidence {
            algorithm: "ec".into(),
            bits: curve
                .as_deref()
                .map(curve_bits)
                .unwrap_or(point.key_size() as u32),
            curve,
        },
        Ok(PublicKey::DSA(_)) => PublicKeyEvidence {
            algorithm: "dsa".into(),
            bits: 0,
            curve: None,
        },
        _ => match spki.algorithm.algorithm.to_id_string().as_str() {
            "1.3.101.112" => PublicKeyEvidence {
                algorithm: "ed25519".into(),
                bits: 256,
                curve: None,
            },
            "1.3.101.113" => PublicKeyEvidence {
                algorithm: "ed448".into(),
                bits: 448,
                curve: None,
            },
            _ => PublicKeyEvidence {
                algorithm: "unknown".into(),
                bits: 0,
                curve: None,
            },
        },
    }
}

fn curve_name(oid: &str) -> Option<String> {
    let name = match oid {
        "1.2.840.10045.3.1.7" => "secp256r1",
        "1.3.132.0.34" => "secp384r1",
        "1.3.132.0.35" => "secp521r1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        "1.2.840.10045.3.1.1" => "secp192r1",
        "1.3.132.0.33" => "secp224r1",
        _ => return None,
    };
    Some(name.to_string())
}

fn curve_bits(curve: &str) -> u32 {
    // The first run of digits in the name is the field size: secp384r1, brainpoolP256r1.
    let digits: String = curve
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().unwrap_or(0)
}

fn signature(cert: &X509Certificate) -> SignatureEvidence {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let (algorithm, hash) = match oid.as_str() {
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", "md5"),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", "sha1"),
        // SHA-224 is named so that CRT-005 can see it (TR-02102-2 allows
        // SHA-256/384/512 only); as "unknown" it passed unnoticed.
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", "sha224"),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", "sha256"),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", "sha384"),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", "sha512"),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", "sha1"),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", "sha224"),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", "sha256"),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", "sha384"),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", "sha512"),
        "1.2.840.10040.4.3" => ("dsa-with-sha1", "sha1"),
        "1.3.101.112" => ("Ed25519", "none"),
        "1.3.101.113" => ("Ed448", "none"),
        "1.2.840.113549.1.1.10" => ("RSASSA-PSS", pss_hash(cert)),
        _ => ("unknown", "unknown"),
    };
    SignatureEvidence {
        algorithm: algorithm.to_string(),
        oid,
        hash: hash.to_string(),
    }
}

fn pss_hash(cert: &X509Certificate) -> &'static str {
    match SignatureAlgorithm::try_from(&cert.signature_algorithm) {
        Ok(SignatureAlgorithm::RSASSA_PSS(params)) => {
            match params.hash_algorithm_oid().to_id_string().as_str() {
                "1.3.14.3.2.26" => "sha1",
                "2.16.840.1.101.3.4.2.4" => "sha224",
                "2.16.840.1.101.3.4.2.1" => "sha256",
                "2.16.840.1.101.3.4.2.2" => "sha384",
                "2.16.840.1.101.3.4.2.3" => "sha512",
                _ => "unknown",
            }
        }
        _ => "unknown",
    }
}

fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_left_most_label_only() {
        assert!(name_matches("mx.example.org", "MX.example.org."));
        assert!(name_matches("*.example.org", "mx.example.org"));
        assert!(!name_matches("*.example.org", "a.mx.example.org"));
        assert!(!name_matches("*.example.org", "example.org"));
        assert!(!name_matches("*.org", "example.org"));
        assert!(!name_matches("mail.wrong.test", "imap.bad.test"));
    }

    #[test]
    fn curve_bits_come_from_the_name() {
        assert_eq!(curve_bits("secp256r1"), 256);
        assert_eq!(curve_bits("secp521r1"), 521);
        assert_eq!(curve_bits("brainpoolP384r1"), 384);
    }

    #[test]
    fn der_content_strips_short_and_long_headers() {
        assert_eq!(der_content(&[0x30, 0x02, 0xaa, 0xbb]), &[0xaa, 0xbb]);
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend(std::iter::repeat_n(0u8, 0x80));
        assert_eq!(der_content(&long).len(), 0x80);
    }

    /// An ECDSA P-256 intermediate generated once with openssl for this test:
    /// subject `/C=DE/O=Beispiel, Inc./OU=Mail\+Transport/CN=Lab
    /// Intermediate CA+serialNumber=7` (a multi-valued last RDN), issued by
    /// `/C=DE/O=mailaudit lab/CN=Lab Root CA`.
    const INTERMEDIATE: &str = "MIIBjDCCATICAQIwCgYIKoZIzj0EAwIwOzELMAkGA1UEBhMCREUxFjAUBgNVBAoMDW1haWxhdWRpdCBsYWIxFDASBgNVBAMMC0xhYiBSb290IENBMCAXDTI2MTIwNjEzMDEwNFoYDzIxMjYxMTEyMTMwMTA0WjBnMQswCQYDVQQGEwJERTEXMBUGA1UECgwOQmVpc3BpZWwsIEluYy4xFzAVBgNVBAsMDk1haWwrVHJhbnNwb3J0MSYwCAYDVQQFEwE3MBoGA1UEAwwTTGFiIEludGVybWVkaWF0ZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABK4Yy5oY4RzxA8i0Fv1o8BZvJ07H2BkXfuTvw/W/HVNtNAIzUz6EolW47szlBDzfsUFSKAESsk0uM2HACwHROpAwCgYIKoZIzj0EAwIDSAAwRQIhAOcOWqLTGeKG9F89sWfWlLRrb1KkEi2IhnVVdPJzNzrfAiAHWomrEl9sAkiG2EK9C/v0NlLatz0kYUK0nzhEFYcHUg==";

    #[test]
    fn names_read_in_rfc_4514_order_like_openssl_rfc2253() {
        let der = base64::engine::general_purpose::STANDARD
            .decode(INTERMEDIATE)
            .unwrap();
        let certificate = analyse(1, &der, Utc::now()).unwrap();
        // `openssl x509 -noout -subject -issuer -nameopt RFC2253` prints these.
        assert_eq!(
            certificate.subject,
            r"CN=Lab Intermediate CA+serialNumber=7,OU=Mail\+Transport,O=Beispiel\, Inc.,C=DE"
        );
        assert_eq!(certificate.issuer, "CN=Lab Root CA,O=mailaudit lab,C=DE");
    }

    #[test]
    fn special_characters_are_escaped_per_rfc_4514() {
        assert_eq!(
            escape_value("a,b+c\"d\\e<f>g;h"),
            r#"a\,b\+c\"d\\e\<f\>g\;h"#
        );
        assert_eq!(escape_value(" #lead"), r"\ #lead");
        assert_eq!(escape_value("#x"), r"\#x");
        assert_eq!(escape_value("trail "), r"trail\ ");
        assert_eq!(escape_value("nul\0"), r"nul\00");
    }

    #[test]
    fn garbage_does_not_parse_and_does_not_panic() {
        assert!(analyse(0, b"not a certificate", Utc::now()).is_err());
        let structure = chain_structure(&[b"junk".to_vec()], "x.test", &[]);
        assert!(!structure.complete && !structure.covers_host);
    }
}
