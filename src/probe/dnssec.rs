//! DNSSEC status (secure, insecure, bogus) of the domain's MX, A/AAAA and
//! TLSA RRsets, and DANE matching of TLSA records against served chains.

use super::ProbeContext;
use super::dns::Dns;
use crate::evidence::{DnsEvidence, DnssecEvidence, EndpointEvidence};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::dnssec::TrustAnchors;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Resolver, TokioResolver};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Builds the validating resolver (experiment).
pub fn validating(server: SocketAddr, anchor: &str, timeout: Duration) -> TokioResolver {
    let mut options = ResolverOpts::default();
    options.timeout = timeout;
    options.attempts = 2;
    options.ndots = 0;
    options.validate = true;
    let mut udp = ConnectionConfig::udp();
    udp.port = server.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = server.port();
    let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
    name_server.connections = vec![udp, tcp];
    let config = ResolverConfig::from_parts(None, vec![], vec![name_server]);
    Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .with_trust_anchor(Arc::new(TrustAnchors::from_str(anchor).unwrap()))
        .build()
        .unwrap()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[ignore]
    async fn experiment() {
        let anchor = std::fs::read_to_string(std::env::var("ANCHOR").unwrap()).unwrap();
        let resolver = validating(
            "127.0.10.53:53".parse().unwrap(),
            &anchor,
            Duration::from_secs(3),
        );
        for (name, rtype) in [
            ("good.test.", RecordType::MX),
            ("mx.good.test.", RecordType::A),
            ("_25._tcp.mx.good.test.", RecordType::TLSA),
            ("_25._tcp.smtp.good.test.", RecordType::TLSA),
            ("bad.test.", RecordType::MX),
            ("_25._tcp.mx.bad.test.", RecordType::TLSA),
            ("broken.test.", RecordType::MX),
            ("nonexistent.good.test.", RecordType::A),
        ] {
            match resolver.lookup(name, rtype).await {
                Ok(lookup) => {
                    for r in lookup.answers() {
                        println!("{name} {rtype}: {} proof={}", r.data, r.proof);
                    }
                }
                Err(e) => println!("{name} {rtype}: ERR {e:?}"),
            }
        }
    }
}
