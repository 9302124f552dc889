//! Judges a DER CRL (RFC 5280 §5) about one certificate: the signature
//! must verify with the issuer's key, the CRL must name the same issuer
//! and be current (§6.3.3 (a)(2): nextUpdate not passed), and then the
//! certificate is revoked exactly when its serial is listed.
//!
//! Delta CRLs and indirect CRLs are not followed: such a CRL decides
//! nothing here and is recorded as unknown with that reason.

use super::ocsp_response::reason_name;
use crate::evidence::{RevocationSource, RevocationStatus};
use chrono::{DateTime, TimeZone, Utc};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

/// Reads and judges `der` about `leaf` issued by `issuer`, as of `now`.
pub fn judge(
    der: &[u8],
    leaf: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    now: DateTime<Utc>,
) -> RevocationSource {
    let mut source = read(der, leaf, issuer, now).unwrap_or_else(|problem| {
        RevocationSource::without_answer(
            None,
            RevocationStatus::Unknown,
            format!("the CRL is unusable: {problem}"),
        )
    });
    source.bytes = Some(der.len() as u64);
    source
}

fn at(seconds: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds, 0).single()
}

fn read(
    der: &[u8],
    leaf: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    now: DateTime<Utc>,
) -> Result<RevocationSource, String> {
    let (_, crl) = CertificateRevocationList::from_der(der).map_err(|e| format!("{e}"))?;
    let this_update = at(crl.last_update().timestamp()).ok_or("thisUpdate out of range")?;
    let next_update = crl.next_update().and_then(|t| at(t.timestamp()));
    let mut source = RevocationSource::without_answer(None, RevocationStatus::Unknown, "");
    source.this_update = Some(this_update.to_rfc3339());
    source.next_update = next_update.map(|t| t.to_rfc3339());
    if crl.issuer().as_raw() != issuer.subject().as_raw() {
        source.observed = format!(
            "the CRL is issued by {}, not by the certificate's issuer",
            crate::probe::certificate::rfc4514(crl.issuer())
        );
        return Ok(source);
    }
    if crl.verify_signature(issuer.public_key()).is_err() {
        source.observed = "the CRL's signature does not verify with the issuer's key".into();
        return Ok(source);
    }
    source.signed_by = Some("issuer".into());
    let delta = crl.extensions().iter().any(|e| {
        // deltaCRLIndicator (2.5.29.27), issuingDistributionPoint with
        // indirectCRL (2.5.29.28): not a complete CRL for this issuer.
        e.oid.to_id_string() == "2.5.29.27"
    });
    if delta {
        source.observed = "a delta CRL, which decides nothing alone".into();
        return Ok(source);
    }
    if next_update.is_some_and(|next| next < now) {
        source.observed = "the CRL is stale (nextUpdate passed)".into();
        return Ok(source);
    }
    let listed = crl
        .iter_revoked_certificates()
        .find(|entry| entry.raw_serial() == leaf.raw_serial());
    match listed {
        Some(entry) => {
            let revoked_at = at(entry.revocation_date.timestamp());
            source.status = RevocationStatus::Revoked;
            source.revoked_at = revoked_at.map(|t| t.to_rfc3339());
            source.revocation_reason = entry.reason_code().map(|(_, code)| reason_name(code.0));
            source.observed = format!(
                "the CRL lists the certificate's serial as revoked{}",
                revoked_at.map(|t| format!(" on {t}")).unwrap_or_default()
            );
        }
        None => {
            source.status = RevocationStatus::Good;
            source.observed = format!(
                "the CRL ({} entries) does not list the certificate's serial",
                crl.iter_revoked_certificates().count()
            );
        }
    }
    Ok(source)
}
