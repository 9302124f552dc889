//! Unit tests of the OCSP request and response and the CRL reader, against
//! fixtures made by the lab's revocation CA (`tests/lab/lib/revocation.sh`):
//! `openssl ocsp -reqout` requests, `openssl ocsp -index` responses (the
//! stapled one signed by a delegated responder) and `openssl ca -gencrl`.

use super::{crl, leaf, ocsp_request, ocsp_response};
use crate::evidence::RevocationStatus;
use chrono::{DateTime, Utc};
use x509_parser::pem::parse_x509_pem;
use x509_parser::prelude::{FromDer, X509Certificate};

const CA: &[u8] = include_bytes!("../../../tests/fixtures/revocation/ca.pem");
const GOOD: &[u8] = include_bytes!("../../../tests/fixtures/revocation/good.pem");
const REVOKED: &[u8] = include_bytes!("../../../tests/fixtures/revocation/revoked.pem");
const STAPLED: &[u8] = include_bytes!("../../../tests/fixtures/revocation/stapled.pem");
const GOOD_REQUEST: &[u8] = include_bytes!("../../../tests/fixtures/revocation/good.req");
const GOOD_OCSP: &[u8] = include_bytes!("../../../tests/fixtures/revocation/good.ocsp");
const REVOKED_OCSP: &[u8] = include_bytes!("../../../tests/fixtures/revocation/revoked.ocsp");
const STAPLED_OCSP: &[u8] = include_bytes!("../../../tests/fixtures/revocation/stapled.ocsp");
const CRL: &[u8] = include_bytes!("../../../tests/fixtures/revocation/revocation-ca.crl");

/// Between the fixtures' thisUpdate and nextUpdate.
fn now() -> DateTime<Utc> {
    "2026-12-07T00:00:00Z".parse().unwrap()
}

fn der(pem: &[u8]) -> Vec<u8> {
    parse_x509_pem(pem).unwrap().1.contents
}

fn with_certs<T>(leaf: &[u8], run: impl FnOnce(&X509Certificate, &X509Certificate) -> T) -> T {
    let (leaf, ca) = (der(leaf), der(CA));
    let (_, leaf) = X509Certificate::from_der(&leaf).unwrap();
    let (_, ca) = X509Certificate::from_der(&ca).unwrap();
    run(&leaf, &ca)
}

#[test]
fn the_request_is_the_one_openssl_builds() {
    with_certs(GOOD, |leaf, ca| {
        let request = ocsp_request::request(&ocsp_request::cert_id(leaf, ca));
        assert_eq!(request, GOOD_REQUEST);
    });
}

#[test]
fn a_good_answer_signed_by_the_issuer_is_good() {
    with_certs(GOOD, |leaf, ca| {
        let id = ocsp_request::cert_id(leaf, ca);
        let source = ocsp_response::judge(GOOD_OCSP, &id, ca, now());
        assert_eq!(source.status, RevocationStatus::Good, "{}", source.observed);
        assert_eq!(source.signed_by.as_deref(), Some("issuer"));
        assert!(
            source
                .this_update
                .as_deref()
                .unwrap()
                .starts_with("2026-12-06")
        );
        assert!(source.next_update.is_some());
        assert_eq!(source.bytes, Some(GOOD_OCSP.len() as u64));
    });
}

#[test]
fn a_revoked_answer_carries_time_and_reason() {
    with_certs(REVOKED, |leaf, ca| {
        let id = ocsp_request::cert_id(leaf, ca);
        let source = ocsp_response::judge(REVOKED_OCSP, &id, ca, now());
        assert_eq!(
            source.status,
            RevocationStatus::Revoked,
            "{}",
            source.observed
        );
        assert_eq!(source.revocation_reason.as_deref(), Some("keyCompromise"));
        assert!(source.revoked_at.is_some());
    });
}

#[test]
fn a_delegated_responder_signed_by_the_issuer_is_accepted() {
    with_certs(STAPLED, |leaf, ca| {
        let id = ocsp_request::cert_id(leaf, ca);
        let source = ocsp_response::judge(STAPLED_OCSP, &id, ca, now());
        assert_eq!(source.status, RevocationStatus::Good, "{}", source.observed);
        assert_eq!(
            source.signed_by.as_deref(),
            Some("delegated responder CN=mailaudit lab OCSP responder,O=mailaudit lab")
        );
    });
}

#[test]
fn an_answer_about_another_certificate_decides_nothing() {
    with_certs(REVOKED, |leaf, ca| {
        let id = ocsp_request::cert_id(leaf, ca);
        let source = ocsp_response::judge(GOOD_OCSP, &id, ca, now());
        assert_eq!(source.status, RevocationStatus::Unknown);
        assert!(
            source.observed.contains("no SingleResponse"),
            "{}",
            source.observed
        );
    });
}

#[test]
fn a_broken_signature_stale_answer_or_garbage_is_unknown() {
    with_certs(REVOKED, |leaf, ca| {
        let id = ocsp_request::cert_id(leaf, ca);
        // One letter of the responderID inside the signed data: still DER,
        // no longer what was signed.
        let mut tampered = REVOKED_OCSP.to_vec();
        let name = b"revocation CA";
        let at = tampered
            .windows(name.len())
            .position(|w| w == name)
            .expect("responder name");
        tampered[at] = b'R';
        let source = ocsp_response::judge(&tampered, &id, ca, now());
        assert_eq!(source.status, RevocationStatus::Unknown);
        assert!(
            source.observed.contains("signature verifies neither"),
            "{}",
            source.observed
        );
        let later = now() + chrono::Duration::days(30);
        let stale = ocsp_response::judge(REVOKED_OCSP, &id, ca, later);
        assert_eq!(stale.status, RevocationStatus::Unknown);
        assert!(stale.observed.contains("stale"), "{}", stale.observed);
        for garbage in [
            &b""[..],
            b"HTTP/1.1 200 OK",
            &[0x30, 0x82, 0xff, 0xff, 0x0a],
        ] {
            let source = ocsp_response::judge(garbage, &id, ca, now());
            assert_eq!(source.status, RevocationStatus::Unknown);
        }
        // OCSPResponse { responseStatus tryLater (3) }.
        let busy = ocsp_response::judge(&[0x30, 0x03, 0x0a, 0x01, 0x03], &id, ca, now());
        assert_eq!(busy.status, RevocationStatus::Unknown);
        assert!(busy.observed.contains("tryLater"), "{}", busy.observed);
    });
}

#[test]
fn the_crl_lists_the_revoked_serial_only() {
    with_certs(REVOKED, |leaf, ca| {
        let source = crl::judge(CRL, leaf, ca, now());
        assert_eq!(
            source.status,
            RevocationStatus::Revoked,
            "{}",
            source.observed
        );
        assert_eq!(source.revocation_reason.as_deref(), Some("keyCompromise"));
        assert_eq!(source.signed_by.as_deref(), Some("issuer"));
    });
    with_certs(GOOD, |leaf, ca| {
        let source = crl::judge(CRL, leaf, ca, now());
        assert_eq!(source.status, RevocationStatus::Good, "{}", source.observed);
        let stale = crl::judge(CRL, leaf, ca, now() + chrono::Duration::days(60));
        assert_eq!(stale.status, RevocationStatus::Unknown);
    });
    // A CRL judged against the wrong issuer decides nothing.
    let (good, revoked) = (der(GOOD), der(REVOKED));
    let (_, good) = X509Certificate::from_der(&good).unwrap();
    let (_, revoked) = X509Certificate::from_der(&revoked).unwrap();
    let source = crl::judge(CRL, &revoked, &good, now());
    assert_eq!(source.status, RevocationStatus::Unknown);
    assert_eq!(
        crl::judge(b"junk", &revoked, &good, now()).status,
        RevocationStatus::Unknown
    );
}

#[test]
fn the_leaf_names_its_responder_and_crl() {
    with_certs(GOOD, |leaf, _| {
        let pointers = leaf::pointers(leaf);
        assert_eq!(pointers.ocsp, ["http://127.0.50.80/ocsp/good"]);
        assert_eq!(pointers.crl, ["http://127.0.50.80/crl/revocation-ca.crl"]);
        assert!(!pointers.must_staple);
    });
}
