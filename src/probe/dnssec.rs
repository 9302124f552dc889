//! DNSSEC status (secure, insecure, bogus) of the domain's MX, A/AAAA and
//! TLSA RRsets, and DANE matching of TLSA records against served chains.

use super::ProbeContext;
use super::dns::Dns;
use crate::evidence::{DnsEvidence, DnssecEvidence, EndpointEvidence};

/// Runs the DNSSEC and DANE checks for `domain` once its endpoints are probed.
pub async fn probe(
    _context: &ProbeContext,
    _dns: &Dns,
    _domain: &str,
    _dns_evidence: &DnsEvidence,
    _endpoints: &[EndpointEvidence],
) -> DnssecEvidence {
    DnssecEvidence::default()
}
