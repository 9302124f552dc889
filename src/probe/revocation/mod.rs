//! Revocation of each endpoint's leaf certificate (issue 17, part 3):
//! evidence only, judged by CRT-006 to CRT-008.
//!
//! For the leaf the endpoint probe recorded (`TlsEvidence::chain[0]`) and
//! its issuer (the served certificate whose subject is the leaf's issuer):
//! - the OCSP response the server stapled in the handshake, recorded by
//!   the one verifier (`probe/tls/verifier.rs`) and read here
//!   ([`ocsp_response`]);
//! - each OCSP responder in the leaf's Authority Information Access, asked
//!   with an RFC 6960 request ([`ocsp_request`]) over HTTP POST;
//! - each CRL in the leaf's CRL distribution points, fetched over HTTP GET
//!   ([`crl`]);
//! - whether the leaf demands stapling (Must-Staple, [`leaf`]).
//!
//! Fetches go only where the certificate points ([`fetch`]: http only, no
//! redirects, timeout and size limit, names resolved by the scan's
//! resolver). The probe runs once the endpoints are probed, beside DANE
//! and the location lookups; `--no-revocation` records it as skipped.

mod crl;
pub mod fetch;
mod leaf;
mod ocsp_request;
mod ocsp_response;

use crate::evidence::{
    Attempt, RevocationEvidence, RevocationSource, RevocationStatus, TlsEvidence,
};
use crate::probe::dns::Dns;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
pub use fetch::Limits;
use fetch::Request;
use std::time::Instant;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The reason recorded when the user turned the check off.
pub const TURNED_OFF: &str = "the revocation check was turned off (--no-revocation)";

/// Checks the revocation status of the leaf `tls` recorded.
pub async fn probe(
    tls: &Attempt<TlsEvidence>,
    dns: &Dns,
    limits: Limits,
    now: DateTime<Utc>,
) -> Attempt<RevocationEvidence> {
    let Some(tls) = tls.value() else {
        return Attempt::skipped(match &tls.reason {
            Some(reason) => format!("no certificate to check, the TLS handshake failed: {reason}"),
            None => "no certificate to check: no TLS handshake".to_string(),
        });
    };
    let started = Instant::now();
    let decode = |text: &str| base64::engine::general_purpose::STANDARD.decode(text).ok();
    let chain: Vec<Vec<u8>> = tls
        .chain
        .iter()
        .filter_map(|c| decode(&c.der_base64))
        .collect();
    let Some(Ok((_, leaf))) = chain.first().map(|der| X509Certificate::from_der(der)) else {
        return Attempt::failed("the leaf certificate does not parse").timed(started);
    };
    let issuer = chain
        .iter()
        .skip(1)
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .find(|c| c.subject().as_raw() == leaf.issuer().as_raw());
    let pointers = leaf::pointers(&leaf);
    let stapled = tls.stapled_ocsp.as_deref().and_then(decode);
    let Some(issuer) = issuer else {
        let missing = |url: Option<String>| {
            RevocationSource::without_answer(
                url,
                RevocationStatus::Unknown,
                "the server did not send the leaf's issuer, so no answer about the leaf can be verified",
            )
        };
        return Attempt::completed(RevocationEvidence {
            serial: tls.chain[0].serial.clone(),
            must_staple: pointers.must_staple,
            stapled: stapled.map(|_| missing(None)),
            ocsp: pointers.ocsp.into_iter().map(Some).map(missing).collect(),
            crl: pointers.crl.into_iter().map(Some).map(missing).collect(),
        })
        .timed(started);
    };
    let cert_id = ocsp_request::cert_id(&leaf, &issuer);
    let request = ocsp_request::request(&cert_id);
    let ocsp = futures::future::join_all(pointers.ocsp.iter().map(|url| async {
        let mut source = match fetch::fetch(dns, url, Request::Ocsp(&request), limits).await {
            Ok(body) => ocsp_response::judge(&body, &cert_id, &issuer, now),
            Err(reason) => RevocationSource::without_answer(
                None,
                RevocationStatus::Unavailable,
                format!("no OCSP answer: {reason}"),
            ),
        };
        source.url = Some(url.clone());
        source
    }));
    let crl = futures::future::join_all(pointers.crl.iter().map(|url| async {
        let mut source = match fetch::fetch(dns, url, Request::Crl, limits).await {
            Ok(body) => crl::judge(&body, &leaf, &issuer, now),
            Err(reason) => RevocationSource::without_answer(
                None,
                RevocationStatus::Unavailable,
                format!("no CRL: {reason}"),
            ),
        };
        source.url = Some(url.clone());
        source
    }));
    let (ocsp, crl) = tokio::join!(ocsp, crl);
    Attempt::completed(RevocationEvidence {
        serial: tls.chain[0].serial.clone(),
        must_staple: pointers.must_staple,
        stapled: stapled.map(|der| ocsp_response::judge(&der, &cert_id, &issuer, now)),
        ocsp,
        crl,
    })
    .timed(started)
}

/// A DER UTCTime or GeneralizedTime (its whole encoding) as UTC.
fn time_of(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, time) = x509_parser::time::ASN1Time::from_der(der).ok()?;
    Utc.timestamp_opt(time.timestamp(), 0).single()
}

#[cfg(test)]
mod tests;
