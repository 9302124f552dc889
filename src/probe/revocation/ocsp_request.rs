//! The DER OCSPRequest of RFC 6960 §4.1.1 for one certificate: a single
//! `Request` whose `CertID` names the issuer by SHA-1 hashes of its name
//! and key (the hash every responder must accept, RFC 5019 §2.1.1), with
//! no nonce and no signature, so a responder may answer from a
//! pre-signed cache.
//!
//! The encoding is built by hand: four nested SEQUENCEs, two OCTET STRINGs
//! and the serial as it appears in the certificate.

use sha1::{Digest, Sha1};
use x509_parser::prelude::X509Certificate;

/// id-sha1 with NULL parameters: `SEQUENCE { OID 1.3.14.3.2.26, NULL }`.
const SHA1_ALGORITHM: [u8; 11] = [
    0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00,
];

/// The `CertID` of `leaf` under `issuer`, DER. The response's `CertID` is
/// compared with it byte for byte.
pub fn cert_id(leaf: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> Vec<u8> {
    let name_hash = Sha1::digest(issuer.subject().as_raw());
    // The hash of the BIT STRING's value, without tag, length and the
    // unused-bits octet (RFC 6960 §4.1.1 issuerKeyHash).
    let key_hash = Sha1::digest(issuer.public_key().subject_public_key.data.as_ref());
    let mut content = SHA1_ALGORITHM.to_vec();
    content.extend(tlv(0x04, &name_hash));
    content.extend(tlv(0x04, &key_hash));
    content.extend(tlv(0x02, leaf.raw_serial()));
    tlv(0x30, &content)
}

/// `OCSPRequest { tbsRequest { requestList { Request { reqCert } } } }`.
pub fn request(cert_id: &[u8]) -> Vec<u8> {
    tlv(0x30, &tlv(0x30, &tlv(0x30, &tlv(0x30, cert_id))))
}

/// One DER tag-length-value with a definite length.
pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|byte| *byte == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::tlv;

    #[test]
    fn lengths_use_the_short_and_the_long_form() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = tlv(0x30, &[0; 200]);
        assert_eq!(&long[..3], &[0x30, 0x81, 200]);
        let longer = tlv(0x30, &[0; 300]);
        assert_eq!(&longer[..4], &[0x30, 0x82, 0x01, 0x2c]);
        assert_eq!(longer.len(), 304);
    }
}
