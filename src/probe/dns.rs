//! DNS lookups for discovery with hickory-resolver: MX, A/AAAA and SRV.
//!
//! A lookup that got an answer — including "no such name" and "no records" —
//! completes; only a lookup without an answer (timeout, SERVFAIL, refused)
//! fails. Names are queried fully qualified so no search list applies.
//! Every answer's records come in canonical order ([`canonical_order`]).

use super::checking_disabled::CheckingDisabled;
use crate::evidence::{Attempt, MxEvidence, MxRecord, SrvRecord};
use crate::target::normalize_host;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{Resolver, ResolverBuilder};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::OnceCell;

/// Why the resolver could not be set up.
#[derive(Debug, Error)]
#[error("cannot set up DNS resolution: {0}")]
pub struct ResolverError(String);

/// Most CNAMEs followed when looking for a loop (hickory follows 8).
const MAX_ALIASES: usize = 8;

/// Most answers the scan's cache holds before finished ones are dropped: a
/// batch of 10,000 domains would otherwise keep every name it ever asked
/// for (about 12 KB per domain). 32 domains in flight ask for about 1,500
/// names, so the answers a scan still shares stay in.
const CACHE_ENTRIES: usize = 4096;

/// A resolver bound to one server, or to the system configuration. Answers
/// are cached for the scan, so a name asked for twice (an MX host that is
/// also an SRV target, an SPF include seen twice) costs one query; the
/// cache is bounded ([`CACHE_ENTRIES`]), so a long batch does not grow.
pub struct Dns {
    resolver: ScanResolver,
    /// The server every query goes to (`--resolver`), or none for the
    /// system's configuration. The validating resolver of the DNSSEC probe
    /// is built from it ([`Dns::validating`]), so the address travels one
    /// road.
    server: Option<SocketAddr>,
    /// The timeout of each query.
    timeout: Duration,
    /// `system` or the server's address, recorded in the evidence.
    pub description: String,
    cache: Mutex<HashMap<(String, RecordType), CachedAnswer>>,
    queries: AtomicUsize,
}

/// One cached lookup, filled by the first caller and shared by the rest.
type CachedAnswer = Arc<OnceCell<Result<Answer, String>>>;

/// Drops the answers no lookup is waiting for: those already filled, or
/// abandoned, that only the cache still holds. Lookups in flight keep
/// theirs, so two callers of one name still share one query.
fn drop_finished<K>(cache: &mut HashMap<K, CachedAnswer>) {
    cache.retain(|_, cell| Arc::strong_count(cell) > 1 && !cell.initialized());
}

/// Resolver options shared by discovery and validation: our own timeout,
/// two attempts, and names always taken as fully qualified.
fn options(timeout: Duration) -> ResolverOpts {
    let mut options = ResolverOpts::default();
    options.timeout = timeout;
    options.attempts = 2;
    options.ndots = 0;
    // Evidence comes from DNS, not from this machine's /etc/hosts. (hickory
    // still answers RFC 6761 special-use names such as 127.in-addr.arpa
    // itself.)
    options.use_hosts_file = ResolveHosts::Never;
    options
}

/// The resolver type of the scan: every query leaves with CD set
/// ([`CheckingDisabled`]), since mailaudit validates DNSSEC itself.
pub type ScanResolver = Resolver<CheckingDisabled>;

/// A resolver builder that sends every query to `server` over UDP and TCP,
/// or uses the system configuration; with CD set on every query.
fn builder(server: Option<SocketAddr>) -> Result<ResolverBuilder<CheckingDisabled>, String> {
    match server {
        Some(server) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = server.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = server.port();
            let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
            name_server.connections = vec![udp, tcp];
            let config = ResolverConfig::from_parts(None, vec![], vec![name_server]);
            Ok(Resolver::builder_with_config(
                config,
                CheckingDisabled::default(),
            ))
        }
        None => Resolver::builder(CheckingDisabled::default())
            .map_err(|e| format!("system resolver configuration: {e}")),
    }
}

/// Puts records in one fixed order: by type, then by their wire form as
/// unsigned octets (the canonical order of RFC 4034 §6.3). The order of an
/// RRset carries no meaning (RFC 2181 §5.1), and a resolver rotates it
/// (unbound's round-robin), so evidence keeps this order and two scans of
/// the same zones give the same report (issue 18).
pub fn canonical_order(records: &mut [RData]) {
    use hickory_resolver::proto::serialize::binary::BinEncodable;
    records.sort_by_cached_key(|record| {
        (
            u16::from(record.record_type()),
            record.to_bytes().unwrap_or_default(),
        )
    });
}

/// An answer, or the fact that there was none.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The records of the answer section.
    Records(Vec<RData>),
    /// The name exists without records of this type, or (nxdomain) does not exist.
    NoRecords { nxdomain: bool },
}

impl Answer {
    /// The records; empty for a negative answer.
    pub fn records(&self) -> &[RData] {
        match self {
            Answer::Records(records) => records,
            Answer::NoRecords { .. } => &[],
        }
    }
}

/// The fully qualified name to ask for. Host names go through IDNA as
/// usual; a name IDNA refuses (an SPF domain-spec may hold `:` or `/`, RFC
/// 7208 §7.1, and a DNS label any octet, RFC 2181 §11) is sent with its
/// labels as written. `None` only for an empty label or one over 63 octets.
fn query_name(name: &str) -> Option<Name> {
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    if let Ok(parsed) = Name::from_utf8(&fqdn) {
        return Some(parsed);
    }
    let trimmed = name.trim_end_matches('.');
    let mut raw = Name::from_labels(trimmed.split('.').map(str::as_bytes)).ok()?;
    raw.set_fqdn(true);
    Some(raw)
}

impl Dns {
    /// Sends every query to `server` when given, else uses /etc/resolv.conf.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Dns, ResolverError> {
        let options = options(timeout);
        let builder = builder(server).map_err(ResolverError)?;
        let description = server.map_or_else(|| "system".to_string(), |s| s.to_string());
        let resolver = builder
            .with_options(options)
            .build()
            .map_err(|e| ResolverError(e.to_string()))?;
        Ok(Dns {
            resolver,
            server,
            timeout,
            description,
            cache: Mutex::new(HashMap::new()),
            queries: AtomicUsize::new(0),
        })
    }

    /// A resolver asking the same server with the same timeout that
    /// validates DNSSEC itself from `anchors` (RFC 4035 §5), with CD set on
    /// every query like this one's ([`CheckingDisabled`]). Its answers are
    /// not cached here: hickory keeps its own cache of validated RRsets.
    pub fn validating(
        &self,
        anchors: hickory_resolver::proto::dnssec::TrustAnchors,
    ) -> Result<ScanResolver, String> {
        let mut options = options(self.timeout);
        options.validate = true;
        builder(self.server)?
            .with_options(options)
            .with_trust_anchor(Arc::new(anchors))
            .build()
            .map_err(|e| format!("cannot set up the validating resolver: {e}"))
    }

    /// The server queries go to: `--resolver`, else the system's first
    /// name server (None when the system configuration names none).
    pub fn server(&self) -> Option<SocketAddr> {
        self.server.or_else(|| {
            let (config, _) = hickory_resolver::system_conf::read_system_conf().ok()?;
            let server = config.name_servers().first()?;
            Some(SocketAddr::new(server.ip, 53))
        })
    }

    /// The timeout of each query.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many queries went to the network so far (cache misses).
    pub fn queries_sent(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// One lookup, cached for the scan: the answer (possibly negative), or
    /// why there was none (timeout, SERVFAIL, refused…).
    pub async fn query(&self, name: &str, record_type: RecordType) -> Result<Answer, String> {
        let key = (normalize_host(name), record_type);
        let cell = {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if cache.len() >= CACHE_ENTRIES && !cache.contains_key(&key) {
                drop_finished(&mut cache);
            }
            cache.entry(key).or_default().clone()
        };
        cell.get_or_init(|| self.query_uncached(name, record_type))
            .await
            .clone()
    }

    async fn query_uncached(&self, name: &str, record_type: RecordType) -> Result<Answer, String> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let Some(query_name) = query_name(name) else {
            return Err(format!(
                "{record_type} lookup for {name} failed: not a name DNS can carry"
            ));
        };
        match self.resolver.lookup(query_name, record_type).await {
            Ok(lookup) => {
                let mut records: Vec<RData> = lookup
                    .answers()
                    .iter()
                    .map(|record| record.data.clone())
                    .collect();
                canonical_order(&mut records);
                Ok(Answer::Records(records))
            }
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
        let mut nxdomain = false;
        for answer in [v4, v6] {
            match answer {
                Ok(Answer::Records(data)) => {
                    addresses.extend(data.into_iter().filter_map(|d| match d {
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                        _ => None,
                    }))
                }
                Ok(Answer::NoRecords { nxdomain: gone }) => nxdomain |= gone,
                Err(reason) => failures.push(reason),
            }
        }
        let attempt = if addresses.is_empty() && !failures.is_empty() {
            Attempt::failed(failures.join("; "))
        } else if let Some(chain) = self.cname_loop(host, &addresses, nxdomain).await {
            Attempt::failed(format!("CNAME loop: {}", chain.join(" -> ")))
        } else {
            Attempt::completed(addresses)
        };
        attempt.timed(started)
    }

    /// The CNAME target of `name`, if it is an alias (normalised).
    pub async fn cname(&self, name: &str) -> Result<Option<String>, String> {
        let answer = self.query(name, RecordType::CNAME).await?;
        Ok(answer.records().iter().find_map(|r| match r {
            RData::CNAME(target) => Some(normalize_host(&target.0.to_ascii())),
            _ => None,
        }))
    }

    /// When `host` exists but has no address, whether that is because its
    /// CNAMEs form a loop (RFC 1034 §3.6.2 forbids it; resolvers give up
    /// after a few steps and answer with nothing): the names up to the one
    /// repeated. Follows at most [`MAX_ALIASES`] CNAMEs, one cached query
    /// each; a name that does not exist costs no query.
    async fn cname_loop(
        &self,
        host: &str,
        addresses: &[IpAddr],
        nxdomain: bool,
    ) -> Option<Vec<String>> {
        if !addresses.is_empty() || nxdomain {
            return None;
        }
        let mut chain = vec![normalize_host(host)];
        for _ in 0..MAX_ALIASES {
            let current = chain.last()?.clone();
            let target = self.cname(&current).await.ok()??;
            let repeated = chain.contains(&target);
            chain.push(target);
            if repeated {
                return Some(chain);
            }
        }
        None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_drops_finished_answers_and_keeps_lookups_in_flight() {
        let mut cache: HashMap<&str, CachedAnswer> = HashMap::new();
        let finished: CachedAnswer = Arc::default();
        finished
            .set(Ok(Answer::NoRecords { nxdomain: true }))
            .unwrap();
        cache.insert("finished", finished);
        let waiting: CachedAnswer = Arc::default();
        cache.insert("waiting", waiting.clone());
        cache.insert("abandoned", Arc::default());
        drop_finished(&mut cache);
        // Only the lookup someone still waits for stays.
        assert_eq!(cache.keys().copied().collect::<Vec<_>>(), vec!["waiting"]);
        drop(waiting);
        drop_finished(&mut cache);
        assert!(cache.is_empty());
    }

    #[test]
    fn names_idna_refuses_are_sent_with_their_labels_as_written() {
        // Given an SPF target with ':' and '/' (RFC 7208 §7.1)
        let name = query_name("foo:bar/baz.example.com").expect("a name");
        // Then it is queried as three labels, fully qualified
        assert!(name.is_fqdn());
        let labels: Vec<&[u8]> = name.iter().collect();
        assert_eq!(labels, vec![&b"foo:bar/baz"[..], b"example", b"com"]);
        // while host names still go through IDNA
        assert_eq!(
            query_name("mx.example.com").unwrap().to_string(),
            "mx.example.com."
        );
        assert_eq!(
            query_name("bücher.example").unwrap().to_ascii(),
            "xn--bcher-kva.example."
        );
        // and what DNS cannot carry is refused
        assert!(query_name(&format!("{}.example", "a".repeat(64))).is_none());
        assert!(query_name("a..example").is_none());
    }

    use hickory_resolver::proto::rr::rdata::{A, TXT};

    #[test]
    fn an_rrset_in_any_order_comes_out_in_one_order() {
        let records = vec![
            RData::TXT(TXT::new(vec!["v=spf1 -all".into()])),
            RData::A(A::new(127, 0, 0, 9)),
            RData::A(A::new(127, 0, 0, 10)),
            RData::TXT(TXT::new(vec!["google-site-verification=x".into()])),
        ];
        let mut forward = records.clone();
        let mut backward: Vec<RData> = records.into_iter().rev().collect();
        canonical_order(&mut forward);
        canonical_order(&mut backward);
        assert_eq!(forward, backward);
        // A (type 1) before TXT (type 16); within a type by wire octets,
        // so the shorter TXT string (its length octet) first.
        assert_eq!(forward[0], RData::A(A::new(127, 0, 0, 9)));
        assert_eq!(forward[1], RData::A(A::new(127, 0, 0, 10)));
        assert!(matches!(&forward[2], RData::TXT(t) if t.to_string().contains("spf1")));
    }
}
