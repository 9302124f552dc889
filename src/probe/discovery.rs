//! Discovery: which endpoints belong to a domain.
//!
//! Sources, in order: the MX records (or the domain's own address as implicit
//! MX, RFC 5321 §5.1), the RFC 6186/8314 SRV records, the usual host names
//! (`imap.`, `pop.`, `pop3.`, `smtp.`, `mail.`) when they resolve, and `--host`.
//! Every host found is probed on all [`MAIL_PORTS`].

use super::dns::Dns;
use crate::evidence::{DnsEvidence, HostAddresses, SrvLookup};
use crate::target::{Endpoint, MAIL_PORTS, Protocol, Source};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// SRV service labels of RFC 6186 and RFC 8314, plus ManageSieve (RFC 5804).
pub const SRV_SERVICES: [&str; 7] = [
    "imap",
    "imaps",
    "pop3",
    "pop3s",
    "submission",
    "submissions",
    "sieve",
];
/// Host names commonly used for mail services under a domain.
pub const USUAL_NAMES: [&str; 5] = ["imap", "pop", "pop3", "smtp", "mail"];

/// An endpoint to probe, with how it was found.
#[derive(Debug, Clone)]
pub struct PlannedEndpoint {
    pub endpoint: Endpoint,
    pub sources: Vec<Source>,
    /// The domain declares it (MX, SRV, `--host`): silence is not a pass.
    pub expected: bool,
    /// First address of the host, if any.
    pub address: Option<IpAddr>,
}

/// What discovery knows of one host: its sources, and the ports they declare.
type HostPlan = (Vec<Source>, Vec<(u16, Protocol)>);

/// Runs discovery for `domain`.
pub async fn discover(
    dns: &Dns,
    domain: &str,
    extra: &[Endpoint],
) -> (DnsEvidence, Vec<PlannedEndpoint>) {
    let srv_names: Vec<String> = SRV_SERVICES
        .iter()
        .map(|s| format!("_{s}._tcp.{domain}"))
        .collect();
    let usual: Vec<String> = USUAL_NAMES
        .iter()
        .map(|n| format!("{n}.{domain}"))
        .collect();
    let (mx, addresses, srv_answers, usual_answers) = tokio::join!(
        dns.mx(domain),
        dns.addresses(domain),
        futures::future::join_all(srv_names.iter().map(|name| dns.srv(name))),
        futures::future::join_all(usual.iter().map(|name| dns.addresses(name))),
    );

    let mut hosts: BTreeMap<String, HostPlan> = BTreeMap::new();
    let mut add = |host: &str, source: Source, declared: Option<(u16, Protocol)>| {
        let entry = hosts.entry(host.to_string()).or_default();
        if !entry.0.contains(&source) {
            entry.0.push(source);
        }
        if let Some(declared) = declared
            && !entry.1.contains(&declared)
        {
            entry.1.push(declared);
        }
    };
    if let Some(mx) = mx.value() {
        for record in mx.records.iter().filter(|r| !r.exchange.is_empty()) {
            add(&record.exchange, Source::Mx, Some((25, Protocol::Smtp)));
        }
        let has_address = addresses.value().is_some_and(|a| !a.is_empty());
        if mx.records.is_empty() && !mx.nxdomain && has_address {
            add(domain, Source::ImplicitMx, Some((25, Protocol::Smtp)));
        }
    }
    let mut srv = Vec::new();
    for ((service, name), records) in SRV_SERVICES.iter().zip(srv_names).zip(srv_answers) {
        if let (Some(list), Some(protocol)) = (records.value(), Protocol::from_name(service)) {
            // A target of "." says the service is not offered (RFC 6186 §4).
            for record in list.iter().filter(|r| !r.target.is_empty() && r.port != 0) {
                add(
                    &record.target,
                    Source::Srv(format!("_{service}._tcp")),
                    Some((record.port, protocol)),
                );
            }
        }
        srv.push(SrvLookup {
            service: service.to_string(),
            name,
            records,
        });
    }
    let mut known: BTreeMap<String, crate::evidence::Attempt<Vec<IpAddr>>> = BTreeMap::new();
    for (name, answer) in usual.iter().zip(usual_answers) {
        if answer.value().is_some_and(|a| !a.is_empty()) {
            add(name, Source::UsualName, None);
            known.insert(name.clone(), answer);
        }
    }
    for endpoint in extra {
        add(
            &endpoint.host,
            Source::CommandLine,
            Some((endpoint.port, endpoint.protocol)),
        );
    }
    if hosts.contains_key(domain) {
        known.insert(domain.to_string(), addresses.clone());
    }

    // An address given as host (`--host smtp://127.0.0.1:2525`) needs no lookup.
    for host in hosts.keys() {
        if let Ok(ip) = host.parse::<IpAddr>() {
            known.insert(host.clone(), crate::evidence::Attempt::completed(vec![ip]));
        }
    }
    // Resolve every host not resolved yet, concurrently.
    let missing: Vec<String> = hosts
        .keys()
        .filter(|h| !known.contains_key(*h))
        .cloned()
        .collect();
    let answers = futures::future::join_all(missing.iter().map(|h| dns.addresses(h))).await;
    known.extend(missing.into_iter().zip(answers));

    let mut planned = Vec::new();
    for (host, (sources, declared)) in &hosts {
        let address = known
            .get(host)
            .and_then(|a| a.value())
            .and_then(|a| a.first().copied());
        let mut ports: Vec<(u16, Protocol)> = MAIL_PORTS
            .iter()
            .filter_map(|&port| Protocol::for_port(port).map(|protocol| (port, protocol)))
            .collect();
        for declared_port in declared {
            if !ports.iter().any(|(port, _)| *port == declared_port.0) {
                ports.push(*declared_port);
            }
        }
        for (port, protocol) in ports {
            planned.push(PlannedEndpoint {
                endpoint: Endpoint {
                    host: host.clone(),
                    port,
                    protocol,
                },
                sources: sources.clone(),
                expected: declared.iter().any(|(p, _)| *p == port),
                address,
            });
        }
    }
    let evidence = DnsEvidence {
        resolver: dns.description.clone(),
        mx,
        addresses,
        srv,
        hosts: known
            .into_iter()
            .map(|(host, addresses)| HostAddresses { host, addresses })
            .collect(),
    };
    (evidence, planned)
}
