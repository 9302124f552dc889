//! Mail-authentication and policy records of a domain: SPF, DMARC, DKIM,
//! MTA-STS (TXT and policy) and TLS-RPT, raw and parsed.
//!
//! Every record is kept as served (the strings of one TXT record joined,
//! RFC 7208 §3.3 / RFC 6376 §3.6.2.2) next to its parsed fields, so a reader
//! can check each verdict by eye. Each part is an [`Attempt`]: it completes
//! when DNS answered (also "no such record"), and fails only when there was
//! no answer (timeout, SERVFAIL), which makes its rule inconclusive.

use super::Attempt;
use serde::{Deserialize, Serialize};

/// Everything the mail-authentication probe saw for one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MailAuthEvidence {
    /// SPF (RFC 7208) at the domain, with includes and redirects followed.
    pub spf: Attempt<SpfEvidence>,
    /// DMARC (RFC 7489) at `_dmarc.DOMAIN` or the organisational domain.
    pub dmarc: Attempt<DmarcEvidence>,
    /// DKIM keys (RFC 6376) at the selectors tried.
    pub dkim: Attempt<DkimEvidence>,
    /// MTA-STS (RFC 8461): `_mta-sts` TXT and the HTTPS policy.
    pub mta_sts: Attempt<MtaStsEvidence>,
    /// SMTP TLS reporting (RFC 8460) at `_smtp._tls.DOMAIN`.
    pub tls_rpt: Attempt<TlsRptEvidence>,
}

impl Default for MailAuthEvidence {
    fn default() -> Self {
        let reason = "the mail-authentication probe did not run";
        MailAuthEvidence {
            spf: Attempt::skipped(reason),
            dmarc: Attempt::skipped(reason),
            dkim: Attempt::skipped(reason),
            mta_sts: Attempt::skipped(reason),
            tls_rpt: Attempt::skipped(reason),
        }
    }
}

/// SPF of a domain and of every record its evaluation can reach.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpfEvidence {
    /// The domain whose TXT records were read.
    pub domain: String,
    /// The TXT records at the domain that start with `v=spf1` (RFC 7208
    /// §4.5); more than one is a permanent error.
    pub records: Vec<String>,
    /// Every record reached, in evaluation order: the domain's own first,
    /// then each `include:` and `redirect=` target.
    pub walk: Vec<SpfWalkStep>,
    /// Terms that cost a DNS query (RFC 7208 §4.6.4: include, a, mx, ptr,
    /// exists, redirect), each as `term (in domain)`, over the whole tree:
    /// the worst case a receiver can reach. More than 10 is a permerror.
    pub lookup_terms: Vec<String>,
    /// Number of `lookup_terms`.
    pub dns_lookups: usize,
    /// Terms whose lookup found nothing (NXDOMAIN or no records); more than
    /// 2 is a permerror (RFC 7208 §4.6.4).
    pub void_lookup_terms: Vec<String>,
    /// Number of `void_lookup_terms`.
    pub void_lookups: usize,
    /// The `all` that ends evaluation, with its qualifier (`-all`, `~all`,
    /// `?all`, `+all`), from the domain's record or the record its
    /// `redirect=` leads to. Absent: no `all`, which evaluates like `?all`
    /// (neutral, RFC 7208 §4.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<String>,
    /// Syntax and structural errors, each naming the record and the term:
    /// permanent errors (RFC 7208 §2.6.7).
    pub errors: Vec<String>,
    /// Lookups that got no answer (time-out, SERVFAIL), each naming the term:
    /// a receiver meeting them returns temperror (RFC 7208 §2.6.6, §4.4,
    /// §5.2), and what lies behind them was not read. Absent in reports
    /// before schema 1.3.
    #[serde(default)]
    pub temp_errors: Vec<String>,
}

/// One SPF record reached while walking includes and redirects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpfWalkStep {
    pub domain: String,
    /// The term that led here (`include:x (in y)`); absent for the domain itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The record as served; absent when the target had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

/// DMARC policy of a domain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmarcEvidence {
    /// The names queried, in order (`_dmarc.DOMAIN`, then the
    /// organisational domain's when the first had no record).
    pub queried: Vec<String>,
    /// The name whose record applies; absent when none was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_at: Option<String>,
    /// True when the record came from the organisational domain.
    pub inherited: bool,
    /// The records at `found_at` that start with `v=DMARC1` (RFC 7489
    /// §6.6.3); more than one means no policy applies.
    pub records: Vec<String>,
    /// `p=`: none, quarantine or reject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    /// `sp=` for sub-domains; absent means it follows `p`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp: Option<String>,
    /// The policy that applies to the scanned domain: `sp` when the record
    /// was inherited from the organisational domain and has one, else `p`
    /// (RFC 7489 §6.3, §6.6.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `pct=`, 100 when absent (RFC 7489 §6.3).
    pub pct: u32,
    pub rua: Vec<DmarcReportAddress>,
    pub ruf: Vec<DmarcReportAddress>,
    /// Syntax errors of the record that applies, or "several records".
    pub errors: Vec<String>,
}

/// One `rua`/`ruf` destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmarcReportAddress {
    /// The URI as written, without a `!size` suffix.
    pub uri: String,
    /// The destination's domain (for `mailto:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// True when the destination lies outside the policy's organisational domain.
    pub external: bool,
    /// For external destinations: the RFC 7489 §7.1 authorization record
    /// name (`DOMAIN._report._dmarc.DESTINATION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_name: Option<String>,
    /// For external destinations: whether that name holds `v=DMARC1`.
    /// Absent when internal or when the lookup had no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized: Option<bool>,
    /// Why the authorization could not be checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_error: Option<String>,
}

/// DKIM keys found at the selectors tried.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DkimEvidence {
    /// Every selector tried: `--dkim-selector` values first, then the built-in list.
    pub selectors_tried: Vec<String>,
    /// Selectors whose lookup had no answer, with the reason.
    pub failed_lookups: Vec<String>,
    /// Every key record found.
    pub keys: Vec<DkimKey>,
    /// Usable keys: parsed and not revoked.
    pub valid_keys: usize,
    /// Smallest RSA modulus among the usable keys, in bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weakest_rsa_bits: Option<u32>,
}

/// One DKIM key record (`SELECTOR._domainkey.DOMAIN`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DkimKey {
    pub selector: String,
    /// True when the selector came from `--dkim-selector`.
    pub from_flag: bool,
    /// The record as served.
    pub record: String,
    /// `k=`: rsa (the default) or ed25519.
    pub key_type: String,
    /// RSA modulus size, or 256 for Ed25519; absent when the key did not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    /// `p=` is empty: the key is revoked (RFC 6376 §3.6.1).
    pub revoked: bool,
    /// `t=y`: the domain is testing DKIM.
    pub testing: bool,
    /// Why the record or key is unusable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// MTA-STS record and policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MtaStsEvidence {
    /// `_mta-sts.DOMAIN`.
    pub name: String,
    /// Records there that start with `v=STSv1`; exactly one is required
    /// (RFC 8461 §3.1).
    pub records: Vec<String>,
    /// `id=` of the record, when exactly one parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Problems with the TXT record.
    pub record_errors: Vec<String>,
    /// The policy from `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`:
    /// failed when it cannot be fetched over valid HTTPS, skipped when
    /// there is no record.
    pub policy: Attempt<MtaStsPolicy>,
    /// Each MX of the domain and the policy pattern covering it (RFC 8461 §4.1).
    pub mx_coverage: Attempt<Vec<MxCoverage>>,
    /// The MX hosts no pattern covers.
    pub uncovered_mx: Vec<String>,
}

/// An MTA-STS policy file (RFC 8461 §3.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MtaStsPolicy {
    pub url: String,
    /// The addresses `mta-sts.DOMAIN` resolved to through our resolver.
    pub addresses: Vec<String>,
    pub content_type: String,
    /// The body as served (lossy UTF-8, at most 64 KiB).
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// enforce, testing or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    pub mx: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// Syntax errors; senders do not apply a policy with errors.
    pub errors: Vec<String>,
}

/// Whether one MX host is covered by the policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MxCoverage {
    pub exchange: String,
    /// The first `mx:` pattern that matches; absent when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// SMTP TLS reporting record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsRptEvidence {
    /// `_smtp._tls.DOMAIN`.
    pub name: String,
    /// Records there that start with `v=TLSRPTv1`; exactly one is required
    /// (RFC 8460 §3).
    pub records: Vec<String>,
    /// The valid `rua` addresses (mailto: or https:) of the record.
    pub rua: Vec<String>,
    /// Problems with the record, each naming the offending part.
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_evidence_of_schema_1_2_reads_without_temp_errors() {
        // Given SPF evidence as schema 1.2 wrote it, before temp_errors
        let saved = serde_json::json!({
            "domain": "example.org",
            "records": ["v=spf1 mx -all"],
            "walk": [],
            "lookup_terms": ["mx (in example.org)"],
            "dns_lookups": 1,
            "void_lookup_terms": [],
            "void_lookups": 0,
            "all": "-all",
            "errors": []
        });
        // Then it reads, with no temperrors
        let spf: SpfEvidence = serde_json::from_value(saved).expect("reads");
        assert!(spf.temp_errors.is_empty());
        assert_eq!(spf.all.as_deref(), Some("-all"));
    }
}
