//! MX host sanity: alias or address-literal exchanges, IPv6 presence,
//! reverse DNS with forward confirmation, and the domain's CAA records.
//! Runs concurrently for all MX hosts; every lookup goes through the
//! scan's cached resolver.

use super::dns::{Answer, Dns};
use crate::evidence::{Attempt, CaaRecord, DnsEvidence, MxHostEvidence, ReverseEvidence};
use crate::target::normalize_host;
use hickory_resolver::proto::rr::{RData, RecordType};
use std::net::IpAddr;
use std::time::Instant;

/// Evidence for every MX host of the domain.
pub async fn probe(dns: &Dns, dns_evidence: &DnsEvidence) -> Vec<MxHostEvidence> {
    let hosts: Vec<String> = dns_evidence
        .mx
        .value()
        .map(|mx| {
            super::discovery::probed_mx_hosts(mx)
                .into_iter()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    futures::future::join_all(hosts.into_iter().map(|host| mx_host(dns, host))).await
}

async fn mx_host(dns: &Dns, host: String) -> MxHostEvidence {
    let ip_literal = host.parse::<IpAddr>().is_ok();
    let (cname, addresses) = if ip_literal {
        let address = host.parse::<IpAddr>().ok().into_iter().collect();
        (
            Attempt::skipped("the exchange is an IP address"),
            Attempt::completed(address),
        )
    } else {
        let started = Instant::now();
        let cname = match dns.cname(&host).await {
            Ok(target) => Attempt::completed(target),
            Err(reason) => Attempt::failed(reason),
        };
        (cname.timed(started), dns.addresses(&host).await)
    };
    let list = addresses.value().cloned().unwrap_or_default();
    let reverse =
        futures::future::join_all(list.iter().map(|address| reverse(dns, *address))).await;
    MxHostEvidence {
        has_ipv6: list.iter().any(IpAddr::is_ipv6),
        host,
        ip_literal,
        cname,
        addresses,
        reverse,
    }
}

async fn reverse(dns: &Dns, address: IpAddr) -> ReverseEvidence {
    let started = Instant::now();
    let ptr = match dns.query(&reverse_name(address), RecordType::PTR).await {
        Ok(answer) => Attempt::completed(
            answer
                .records()
                .iter()
                .filter_map(|r| match r {
                    RData::PTR(name) => Some(normalize_host(&name.0.to_ascii())),
                    _ => None,
                })
                .collect::<Vec<String>>(),
        ),
        Err(reason) => Attempt::failed(reason),
    }
    .timed(started);
    let mut forward_confirmed = false;
    for name in ptr.value().cloned().unwrap_or_default() {
        if dns
            .addresses(&name)
            .await
            .value()
            .is_some_and(|forward| forward.contains(&address))
        {
            forward_confirmed = true;
            break;
        }
    }
    ReverseEvidence {
        address,
        ptr,
        forward_confirmed,
    }
}

/// The CAA RRset at the domain (RFC 8659; no tree climbing here).
pub async fn caa(dns: &Dns, domain: &str) -> Attempt<Vec<CaaRecord>> {
    let started = Instant::now();
    match dns.query(domain, RecordType::CAA).await {
        Ok(Answer::Records(records)) => Attempt::completed(
            records
                .iter()
                .filter_map(|r| match r {
                    RData::CAA(caa) => Some(CaaRecord {
                        critical: caa.issuer_critical,
                        tag: caa.tag.clone(),
                        value: String::from_utf8_lossy(&caa.value).into_owned(),
                    }),
                    _ => None,
                })
                .collect(),
        ),
        Ok(Answer::NoRecords { .. }) => Attempt::completed(Vec::new()),
        Err(reason) => Attempt::failed(reason),
    }
    .timed(started)
}

/// The PTR owner name of an address (RFC 1035 §3.5, RFC 3596 §2.5).
pub fn reverse_name(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut name = String::new();
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0x0f, byte >> 4));
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reverse_name;

    #[test]
    fn reverse_names_follow_rfc_1035_and_3596() {
        assert_eq!(
            reverse_name("127.0.11.25".parse().unwrap()),
            "25.11.0.127.in-addr.arpa"
        );
        let v6 = reverse_name("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0.0.0.0.0."), "{v6}");
        assert!(v6.ends_with("8.b.d.0.1.0.0.2.ip6.arpa"), "{v6}");
    }
}
