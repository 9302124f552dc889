//! Discovery: which endpoints belong to a domain.
//!
//! Sources, in order: the MX records (or the domain's own address as implicit
//! MX, RFC 5321 §5.1), the RFC 6186/8314 SRV records, the usual host names
//! (`imap.`, `pop.`, `pop3.`, `smtp.`, `mail.`) when they resolve, and `--host`.
//! Every host found is probed on all [`MAIL_PORTS`].

use super::dns::Dns;
use crate::evidence::{DnsEvidence, HostAddresses, MxEvidence, SrvLookup};
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

/// Most MX hosts probed per domain. RFC 5321 sets no limit on the MX RRset,
/// but senders try only a few (Postfix: `smtp_mx_address_limit = 5`); a
/// hostile zone with thousands of MX records would otherwise plan eight
/// endpoints and a dozen lookups for each. The MX evidence keeps every record.
pub const MAX_MX_HOSTS: usize = 10;

/// The distinct MX exchanges that are probed: the first [`MAX_MX_HOSTS`] by
/// preference (the records are sorted), without the null MX's ".".
pub fn probed_mx_hosts(mx: &MxEvidence) -> Vec<&str> {
    let mut hosts: Vec<&str> = Vec::new();
    for record in mx.records.iter().filter(|r| !r.exchange.is_empty()) {
        if hosts.len() == MAX_MX_HOSTS {
            break;
        }
        if !hosts.contains(&record.exchange.as_str()) {
            hosts.push(&record.exchange);
        }
    }
    hosts
}

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
        let probed = probed_mx_hosts(mx);
        if mx.records.len() > probed.len()
            && mx
                .records
                .iter()
                .any(|r| !r.exchange.is_empty() && !probed.contains(&r.exchange.as_str()))
        {
            tracing::warn!(
                "{domain}: only the first {MAX_MX_HOSTS} of {} MX records (by preference) are probed",
                mx.records.len()
            );
        }
        for exchange in probed {
            add(exchange, Source::Mx, Some((25, Protocol::Smtp)));
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

#[cfg(test)]
mod tests {
    use super::{MAX_MX_HOSTS, probed_mx_hosts};
    use crate::evidence::{MxEvidence, MxRecord};

    #[test]
    fn only_the_first_distinct_mx_hosts_by_preference_are_probed() {
        let record = |preference, exchange: &str| MxRecord {
            preference,
            exchange: exchange.to_string(),
        };
        let mut records = vec![record(0, "a.test"), record(5, "a.test")];
        records.extend((0..3_000).map(|i| record(10, &format!("mx{i:04}.test"))));
        let mx = MxEvidence {
            nxdomain: false,
            null_mx: false,
            records,
        };
        let hosts = probed_mx_hosts(&mx);
        assert_eq!(hosts.len(), MAX_MX_HOSTS);
        assert_eq!(hosts[..3], ["a.test", "mx0000.test", "mx0001.test"]);
    }
}
