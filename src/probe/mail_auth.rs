//! SPF, DMARC, DKIM, MTA-STS and TLS-RPT lookups for a domain.

use super::ProbeContext;
use super::dns::Dns;
use crate::evidence::{DnsEvidence, MailAuthEvidence};

/// Looks up and parses the mail-authentication records of `domain`.
pub async fn probe(
    _context: &ProbeContext,
    _dns: &Dns,
    _domain: &str,
    _dns_evidence: &DnsEvidence,
) -> MailAuthEvidence {
    MailAuthEvidence::default()
}
