//! DNS lookups for discovery with hickory-resolver: MX, A/AAAA and SRV.
//!
//! A lookup that got an answer — including "no such name" and "no records" —
//! completes; only a lookup without an answer (timeout, SERVFAIL, refused)
//! fails. Names are queried fully qualified so no search list applies.

use crate::evidence::{Attempt, MxEvidence, MxRecord, SrvRecord};
use crate::target::normalize_host;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why the resolver could not be set up.
#[derive(Debug, Error)]
#[error("cannot set up DNS resolution: {0}")]
pub struct ResolverError(String);

/// A resolver bound to one server, or to the system configuration.
pub struct Dns {
    resolver: TokioResolver,
    /// `system` or the server's address, recorded in the evidence.
    pub description: String,
}

/// An answer, or the fact that there was none.
enum Answer {
    Records(Vec<RData>),
    NoRecords { nxdomain: bool },
}

impl Dns {
    /// Sends every query to `server` when given, else uses /etc/resolv.conf.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Dns, ResolverError> {
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 2;
        options.ndots = 0;
        let (builder, description) = match server {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
                name_server.connections = vec![udp, tcp];
                let config = ResolverConfig::from_parts(None, vec![], vec![name_server]);
                (
                    Resolver::builder_with_config(config, TokioRuntimeProvider::default()),
                    server.to_string(),
                )
            }
            None => (
                Resolver::builder_tokio()
                    .map_err(|e| ResolverError(format!("system resolver configuration: {e}")))?,
                "system".to_string(),
            ),
        };
        let resolver = builder
            .with_options(options)
            .build()
            .map_err(|e| ResolverError(e.to_string()))?;
        Ok(Dns {
            resolver,
            description,
        })
    }

    async fn query(&self, name: &str, record_type: RecordType) -> Result<Answer, String> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.resolver.lookup(fqdn.as_str(), record_type).await {
            Ok(lookup) => Ok(Answer::Records(
                lookup
                    .answers()
                    .iter()
                    .map(|record| record.data.clone())
                    .collect(),
            )),
            Err(NetError::Dns(DnsError::NoRecordsFound(no_records))) => Ok(Answer::NoRecords {
                nxdomain: no_records.response_code == ResponseCode::NXDomain,
            }),
            Err(error) => Err(format!("{record_type} lookup for {name} failed: {error}")),
        }
    }

    /// The MX RRset of `domain`.
    pub async fn mx(&self, domain: &str) -> Attempt<MxEvidence> {
        let started = Instant::now();
        let attempt = match self.query(domain, RecordType::MX).await {
            Ok(Answer::Records(data)) => {
                let mut records: Vec<MxRecord> = data
                    .into_iter()
                    .filter_map(|d| match d {
                        RData::MX(mx) => Some(MxRecord {
                            preference: mx.preference,
                            exchange: normalize_host(&mx.exchange.to_ascii()),
                        }),
                        _ => None,
                    })
                    .collect();
                records
                    .sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
                // RFC 7505: a single MX with an empty exchange (".") is a null MX.
                let null_mx = records.len() == 1 && records[0].exchange.is_empty();
                Attempt::completed(MxEvidence {
                    nxdomain: false,
                    null_mx,
                    records,
                })
            }
            Ok(Answer::NoRecords { nxdomain }) => Attempt::completed(MxEvidence {
                nxdomain,
                null_mx: false,
                records: Vec::new(),
            }),
            Err(reason) => Attempt::failed(reason),
        };
        attempt.timed(started)
    }

    /// A and AAAA of `host`, A first. Completed with an empty list when the
    /// name has no addresses.
    pub async fn addresses(&self, host: &str) -> Attempt<Vec<IpAddr>> {
        let started = Instant::now();
        let (v4, v6) = tokio::join!(
            self.query(host, RecordType::A),
            self.query(host, RecordType::AAAA)
        );
        let mut addresses = Vec::new();
        let mut failures = Vec::new();
        for answer in [v4, v6] {
            match answer {
                Ok(Answer::Records(data)) => {
                    addresses.extend(data.into_iter().filter_map(|d| match d {
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                        _ => None,
                    }))
                }
                Ok(Answer::NoRecords { .. }) => {}
                Err(reason) => failures.push(reason),
            }
        }
        let attempt = if addresses.is_empty() && !failures.is_empty() {
            Attempt::failed(failures.join("; "))
        } else {
            Attempt::completed(addresses)
        };
        attempt.timed(started)
    }

    /// The SRV records at `name`.
    pub async fn srv(&self, name: &str) -> Attempt<Vec<SrvRecord>> {
        let started = Instant::now();
        let attempt = match self.query(name, RecordType::SRV).await {
            Ok(Answer::Records(data)) => Attempt::completed(
                data.into_iter()
                    .filter_map(|d| match d {
                        RData::SRV(srv) => Some(SrvRecord {
                            priority: srv.priority,
                            weight: srv.weight,
                            port: srv.port,
                            target: normalize_host(&srv.target.to_ascii()),
                        }),
                        _ => None,
                    })
                    .collect(),
            ),
            Ok(Answer::NoRecords { .. }) => Attempt::completed(Vec::new()),
            Err(reason) => Attempt::failed(reason),
        };
        attempt.timed(started)
    }
}
