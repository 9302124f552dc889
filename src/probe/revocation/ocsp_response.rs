//! Reads a DER OCSPResponse (RFC 6960 §4.2.1) about one certificate and
//! judges it: the `SingleResponse` whose `CertID` matches the request, its
//! status and times, and whether the `BasicOCSPResponse` signature
//! verifies with the issuer's key or with a delegated responder's
//! certificate that the issuer signed for OCSP signing (§4.2.2.2).
//!
//! The same reader serves a stapled response and one fetched from a
//! responder. Every length is the DER's own and every read is inside the
//! bytes given, so a hostile answer can only fail to parse.

use super::time_of;
use crate::evidence::{RevocationSource, RevocationStatus};
use chrono::{DateTime, Duration, Utc};
use x509_parser::der_parser::asn1_rs::{Any, BitString, Class, FromDer, Tag};
use x509_parser::prelude::X509Certificate;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
const BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
/// Clock skew tolerated for a thisUpdate in the future.
const SKEW_MINUTES: i64 = 5;

/// One DER element, its whole encoding, and what follows it.
type Element<'a> = (Any<'a>, &'a [u8], &'a [u8]);

fn element(input: &[u8]) -> Result<Element<'_>, String> {
    let (rest, any) = Any::from_der(input).map_err(|e| format!("not DER: {e}"))?;
    Ok((any, &input[..input.len() - rest.len()], rest))
}

fn is_context(any: &Any<'_>, number: u32) -> bool {
    any.header.class() == Class::ContextSpecific && any.header.tag() == Tag(number)
}

/// issuerNameHash, issuerKeyHash and serialNumber of a `CertID`.
type CertIdKey<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// The `CertID` fields a match compares: issuerNameHash, issuerKeyHash and
/// serialNumber (the hash algorithm's parameters may be encoded either
/// with or without NULL).
fn cert_id_key(cert_id: &[u8]) -> Result<CertIdKey<'_>, String> {
    let (sequence, _, _) = element(cert_id)?;
    let (_, _, rest) = element(sequence.data)?;
    let (name, _, rest) = element(rest)?;
    let (key, _, rest) = element(rest)?;
    let (serial, _, _) = element(rest)?;
    Ok((name.data, key.data, serial.data))
}

/// Reads and judges `der` about the certificate with `cert_id` issued by
/// `issuer`, as of `now`.
pub fn judge(
    der: &[u8],
    cert_id: &[u8],
    issuer: &X509Certificate<'_>,
    now: DateTime<Utc>,
) -> RevocationSource {
    let mut source = match read(der, cert_id, issuer, now) {
        Ok(source) => source,
        Err(problem) => RevocationSource::without_answer(
            None,
            RevocationStatus::Unknown,
            format!("the OCSP response is unusable: {problem}"),
        ),
    };
    source.bytes = Some(der.len() as u64);
    source
}

fn read(
    der: &[u8],
    cert_id: &[u8],
    issuer: &X509Certificate<'_>,
    now: DateTime<Utc>,
) -> Result<RevocationSource, String> {
    let (response, _, _) = element(der)?;
    let (status, _, rest) = element(response.data)?;
    if status.header.tag() != Tag::Enumerated {
        return Err("no responseStatus".into());
    }
    match status.data {
        [0] => {}
        [code] => {
            return Ok(RevocationSource::without_answer(
                None,
                RevocationStatus::Unknown,
                format!("the responder answered {} ({code})", response_status(*code)),
            ));
        }
        _ => return Err("a malformed responseStatus".into()),
    }
    let (bytes, _, _) = element(rest).map_err(|_| "successful, but no responseBytes")?;
    let (inner, _, _) = element(bytes.data)?;
    let (kind, _, rest) = element(inner.data)?;
    let kind = x509_parser::der_parser::oid::Oid::new(kind.data.into()).to_id_string();
    if kind != BASIC {
        return Err(format!("response type {kind}, not id-pkix-ocsp-basic"));
    }
    let (basic, _, _) = element(rest)?;
    let (basic, _, _) = element(basic.data)?;
    let (tbs, tbs_raw, rest) = element(basic.data)?;
    let (_, algorithm_raw, rest) = element(rest)?;
    let (_, signature_raw, rest) = element(rest)?;
    let (_, algorithm) = AlgorithmIdentifier::from_der(algorithm_raw)
        .map_err(|e| format!("signature algorithm: {e}"))?;
    let (_, signature) =
        BitString::from_der(signature_raw).map_err(|e| format!("signature: {e}"))?;
    let certs = match element(rest) {
        Ok((certs, _, _)) if is_context(&certs, 0) => element(certs.data)?.0.data,
        _ => &[][..],
    };
    let mut source = single_response(tbs.data, cert_id)?;
    let signed = Signed {
        algorithm,
        signature,
        data: tbs_raw,
    };
    let signer = if signed.verifies(issuer.public_key()) {
        Some("issuer".to_string())
    } else {
        delegated_signer(certs, issuer, now, &signed)
    };
    let (this_update, next_update) = (source.this_update.clone(), source.next_update.clone());
    let at = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    };
    let stale = at(&next_update).is_some_and(|next| next < now);
    let early = at(&this_update).is_some_and(|this| this > now + Duration::minutes(SKEW_MINUTES));
    let said = source.observed.clone();
    match (&signer, stale, early) {
        (None, ..) => {
            source.status = RevocationStatus::Unknown;
            source.observed = format!(
                "{said}, but its signature verifies neither with the issuer's key nor with a delegated responder certificate the issuer signed"
            );
        }
        (Some(_), true, _) => {
            source.status = RevocationStatus::Unknown;
            source.observed = format!("{said}, but the answer is stale (nextUpdate passed)");
        }
        (Some(_), _, true) => {
            source.status = RevocationStatus::Unknown;
            source.observed = format!("{said}, but its thisUpdate lies in the future");
        }
        _ => {}
    }
    source.signed_by = signer;
    Ok(source)
}

/// The signed part of a `BasicOCSPResponse` with its signature.
struct Signed<'a> {
    algorithm: AlgorithmIdentifier<'a>,
    signature: BitString<'a>,
    data: &'a [u8],
}

impl Signed<'_> {
    fn verifies(&self, key: &SubjectPublicKeyInfo<'_>) -> bool {
        x509_parser::verify::verify_signature(key, &self.algorithm, &self.signature, self.data)
            .is_ok()
    }
}

/// A certificate from the response's `certs` that the issuer signed, that
/// is valid now, that carries the id-kp-OCSPSigning extended key usage and
/// whose key verifies the response.
fn delegated_signer(
    certs: &[u8],
    issuer: &X509Certificate<'_>,
    now: DateTime<Utc>,
    signed: &Signed<'_>,
) -> Option<String> {
    let mut rest = certs;
    while !rest.is_empty() {
        let (_, raw, after) = element(rest).ok()?;
        rest = after;
        let Ok((_, cert)) = X509Certificate::from_der(raw) else {
            continue;
        };
        let signed_by_issuer = cert.verify_signature(Some(issuer.public_key())).is_ok();
        let for_ocsp = matches!(cert.extended_key_usage(), Ok(Some(eku)) if eku.value.ocsp_signing);
        let valid = cert
            .validity()
            .is_valid_at(x509_parser::time::ASN1Time::from_timestamp(now.timestamp()).ok()?);
        if signed_by_issuer && for_ocsp && valid && signed.verifies(cert.public_key()) {
            return Some(format!(
                "delegated responder {}",
                crate::probe::certificate::rfc4514(cert.subject())
            ));
        }
    }
    None
}

/// Finds the `SingleResponse` for `cert_id` in `ResponseData` and reads it.
fn single_response(tbs: &[u8], cert_id: &[u8]) -> Result<RevocationSource, String> {
    let wanted = cert_id_key(cert_id)?;
    let (mut item, _, mut rest) = element(tbs)?;
    if is_context(&item, 0) {
        (item, _, rest) = element(rest)?;
    }
    if !(is_context(&item, 1) || is_context(&item, 2)) {
        return Err("no responderID".into());
    }
    let (_, _, rest) = element(rest)?; // producedAt
    let (responses, _, _) = element(rest)?;
    let mut list = responses.data;
    while !list.is_empty() {
        let (single, _, after) = element(list)?;
        list = after;
        let (id, id_raw, rest) = element(single.data)?;
        if id.header.tag() != Tag::Sequence || cert_id_key(id_raw)? != wanted {
            continue;
        }
        return status_of(rest);
    }
    Err("no SingleResponse for the certificate asked about".into())
}

/// `certStatus`, `thisUpdate` and `nextUpdate` of a `SingleResponse`.
fn status_of(fields: &[u8]) -> Result<RevocationSource, String> {
    let (status, _, rest) = element(fields)?;
    let (_, this_raw, rest) = element(rest)?;
    let this_update = time_of(this_raw).ok_or("thisUpdate is no time")?;
    let next_update = match element(rest) {
        Ok((next, _, _)) if is_context(&next, 0) => {
            Some(time_of(next.data).ok_or("nextUpdate is no time")?)
        }
        _ => None,
    };
    let mut source = RevocationSource::without_answer(None, RevocationStatus::Unknown, "");
    source.this_update = Some(this_update.to_rfc3339());
    source.next_update = next_update.map(|t| t.to_rfc3339());
    if status.header.class() != Class::ContextSpecific {
        return Err("a certStatus that is no CHOICE".into());
    }
    match status.header.tag().0 {
        0 => {
            source.status = RevocationStatus::Good;
            source.observed = "the OCSP response says good".into();
        }
        1 => {
            let (_, time_raw, rest) = element(status.data)?;
            let revoked_at = time_of(time_raw).ok_or("revocationTime is no time")?;
            source.status = RevocationStatus::Revoked;
            source.revoked_at = Some(revoked_at.to_rfc3339());
            if let Ok((reason, _, _)) = element(rest)
                && let Ok((code, _, _)) = element(reason.data)
                && let [code] = code.data
            {
                source.revocation_reason = Some(reason_name(*code));
            }
            source.observed = format!("the OCSP response says revoked on {revoked_at}");
        }
        2 => source.observed = "the responder does not know the certificate (unknown)".into(),
        other => return Err(format!("certStatus [{other}]")),
    }
    Ok(source)
}

/// RFC 6960 §4.2.1 `OCSPResponseStatus`.
fn response_status(code: u8) -> &'static str {
    match code {
        1 => "malformedRequest",
        2 => "internalError",
        3 => "tryLater",
        5 => "sigRequired",
        6 => "unauthorized",
        _ => "an unassigned status",
    }
}

/// RFC 5280 §5.3.1 `CRLReason`.
pub(super) fn reason_name(code: u8) -> String {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => return format!("reason {code}"),
    }
    .to_string()
}
