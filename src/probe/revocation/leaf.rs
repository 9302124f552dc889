//! What a leaf certificate says about its own revocation checking: the
//! OCSP responders in its Authority Information Access (RFC 5280
//! §4.2.2.1, access method id-ad-ocsp), the CRLs in its CRL distribution
//! points (RFC 5280 §4.2.1.13, full names only), and whether it demands a
//! stapled OCSP response (RFC 7633 TLS feature `status_request`).
//!
//! These are the only places the revocation probe fetches from: it never
//! guesses a responder or follows a redirect.

use x509_parser::der_parser::asn1_rs::{Any, FromDer, Tag};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::X509Certificate;

/// id-ad-ocsp (RFC 5280 §4.2.2.1).
const ACCESS_OCSP: &str = "1.3.6.1.5.5.7.48.1";
/// id-pe-tlsfeature (RFC 7633 §6).
const TLS_FEATURE: &str = "1.3.6.1.5.5.7.1.24";
/// The TLS extension number of `status_request` (RFC 6066 §8).
const STATUS_REQUEST: u8 = 5;

/// Where the leaf points for its revocation status.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pointers {
    pub ocsp: Vec<String>,
    pub crl: Vec<String>,
    pub must_staple: bool,
}

/// Reads the pointers out of `leaf`.
pub fn pointers(leaf: &X509Certificate<'_>) -> Pointers {
    let mut found = Pointers::default();
    for extension in leaf.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(access) => {
                for description in access.iter() {
                    if description.access_method.to_id_string() == ACCESS_OCSP
                        && let GeneralName::URI(uri) = &description.access_location
                    {
                        found.ocsp.push((*uri).to_string());
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        found.crl.extend(names.iter().filter_map(|name| match name {
                            GeneralName::URI(uri) => Some((*uri).to_string()),
                            _ => None,
                        }));
                    }
                }
            }
            _ if extension.oid.to_id_string() == TLS_FEATURE => {
                found.must_staple = lists_status_request(extension.value);
            }
            _ => {}
        }
    }
    found
}

/// `Features ::= SEQUENCE OF INTEGER` (RFC 7633 §4.2): does it list 5?
fn lists_status_request(value: &[u8]) -> bool {
    let Ok((_, sequence)) = Any::from_der(value) else {
        return false;
    };
    if sequence.header.tag() != Tag::Sequence {
        return false;
    }
    let mut rest = sequence.data;
    while !rest.is_empty() {
        let Ok((after, item)) = Any::from_der(rest) else {
            return false;
        };
        if item.header.tag() == Tag::Integer && item.data == [STATUS_REQUEST] {
            return true;
        }
        rest = after;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::lists_status_request;

    #[test]
    fn the_tls_feature_list_names_status_request() {
        // SEQUENCE { INTEGER 5 }, as `openssl req -addext tlsfeature=status_request`.
        assert!(lists_status_request(&[0x30, 0x03, 0x02, 0x01, 0x05]));
        // SEQUENCE { INTEGER 17 } (status_request_v2 only).
        assert!(!lists_status_request(&[0x30, 0x03, 0x02, 0x01, 0x11]));
        assert!(!lists_status_request(&[0x30, 0x05, 0x02, 0x01]));
    }
}
