//! The TLS scan (issue 4): raw handshakes that find which protocol
//! versions, cipher suites and key-exchange groups an endpoint accepts,
//! including the ones rustls cannot speak (SSLv3, TLS 1.0/1.1, broken
//! suites).
//!
//! Like testssl.sh, suites are enumerated by offering a set, striking the
//! suite the server picked and offering again until the server refuses
//! (RFC 5246 §7.4.1.3: the server picks one suite from the client's list).
//! Each handshake is a fresh connection; the endpoint's per-address
//! semaphore bounds how many run at once, and failed connections are retried
//! after a growing pause, since providers run fail2ban and SMTP servers
//! answer 421 when busy (RFC 5321 §3.8). A ServerHello only counts when its
//! version is the one offered: servers answer a higher offer with a lower
//! version (RFC 5246 §E.1).

mod answer;
mod classification;
mod hello;
mod transport;

pub use classification::{Table, table};
pub use transport::ScanTarget;

use crate::evidence::{GroupResult, HelloFeatures, SuiteResult, TlsScanEvidence, VersionResult};
use answer::{Answer, ServerHello, ServerKeyExchange};
use classification::KeyExchange;
use futures::future::join_all;
use hello::{HelloSpec, ProtocolVersion, version_name};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Most handshakes one strike-and-repeat chain makes (there are fewer
/// suites in the table; this guards against a server that loops).
const MAX_CHAIN: usize = 128;
/// Tries per handshake when the connection or STARTTLS fails.
const TRIES: u32 = 3;
/// First pause before a retry; doubled each time.
const BACK_OFF: Duration = Duration::from_millis(250);

/// Scans one endpoint. `limit` is shared by every endpoint on the address.
pub async fn scan(target: ScanTarget, limit: Arc<Semaphore>) -> TlsScanEvidence {
    let scanner = Scanner {
        target,
        limit,
        handshakes: AtomicU32::new(0),
        notes: Mutex::new(Vec::new()),
    };
    scanner.run().await
}

struct Scanner {
    target: ScanTarget,
    limit: Arc<Semaphore>,
    handshakes: AtomicU32,
    notes: Mutex<Vec<String>>,
}

impl Scanner {
    async fn run(&self) -> TlsScanEvidence {
        // 1. Versions: every version with every suite, all at once.
        let first = join_all(ProtocolVersion::ALL.map(|version| {
            let spec = self.spec(
                version,
                version.default_suites(),
                default_groups(version),
                vec![29],
            );
            self.hello(spec, false)
        }))
        .await;
        let mut versions = Vec::new();
        let mut chains = Vec::new();
        let mut features = None;
        for (version, answer) in ProtocolVersion::ALL.into_iter().zip(&first) {
            let accepted = answer.as_ref().and_then(|a| accepted(a, version));
            if let (Some(hello), true) = (accepted, version != ProtocolVersion::Tls13) {
                features = Some(hello_features(version, hello));
            }
            if let Some(hello) = accepted {
                chains.push((version, hello.suite));
            }
            versions.push(VersionResult {
                version: version.name().to_string(),
                accepted: accepted.is_some(),
                answer: answer
                    .as_ref()
                    .map(|a| describe(a, version))
                    .unwrap_or_else(|| "no handshake possible (see notes)".to_string()),
                suites: Vec::new(),
                server_order: None,
            });
        }
        // 2. Suites per accepted version, the versions concurrently.
        let found = join_all(chains.iter().map(|(v, first)| self.suites(*v, *first))).await;
        // 3. Server order, with the first two suites found.
        let orders = join_all(
            chains
                .iter()
                .zip(&found)
                .map(|((v, _), suites)| self.order(*v, suites)),
        )
        .await;
        for (((version, _), suites), order) in chains.iter().zip(&found).zip(orders) {
            if let Some(result) = versions.iter_mut().find(|r| r.version == version.name()) {
                result.suites = suites.iter().map(|s| suite_result(*s)).collect();
                result.server_order = order;
            }
        }
        // 4. Groups: TLS 1.3 groups, ECDHE curves and the DHE prime size.
        let legacy = chains
            .iter()
            .zip(&found)
            .filter(|((v, _), _)| *v != ProtocolVersion::Tls13)
            .max_by_key(|((v, _), _)| *v);
        let uses = |kx: &[KeyExchange]| {
            legacy.and_then(|((v, _), suites)| {
                suites
                    .iter()
                    .any(|s| table().suite(*s).is_some_and(|e| kx.contains(&e.kx)))
                    .then_some(*v)
            })
        };
        let tls13 = chains.iter().any(|(v, _)| *v == ProtocolVersion::Tls13);
        let (tls13_groups, ecdhe_curves, dhe_prime_bits) = tokio::join!(
            async {
                if tls13 {
                    self.tls13_groups().await
                } else {
                    Vec::new()
                }
            },
            async {
                match uses(&[KeyExchange::Ecdhe]) {
                    Some(v) => self.ecdhe_curves(v).await,
                    None => Vec::new(),
                }
            },
            async {
                match uses(&[KeyExchange::Dhe]) {
                    Some(v) => self.dhe_prime(v).await,
                    None => None,
                }
            },
        );
        let classification = table();
        TlsScanEvidence {
            versions,
            tls13_groups: tls13_groups.into_iter().map(group_result).collect(),
            ecdhe_curves: ecdhe_curves.into_iter().map(group_result).collect(),
            dhe_prime_bits,
            features,
            handshakes: self.handshakes.load(Ordering::Relaxed),
            classification: format!("{} ({})", classification.source, classification.date),
            notes: self.notes.lock().map(|n| n.clone()).unwrap_or_default(),
        }
    }

    fn spec(
        &self,
        version: ProtocolVersion,
        suites: Vec<u16>,
        groups: Vec<u16>,
        key_shares: Vec<u16>,
    ) -> HelloSpec {
        HelloSpec {
            version,
            suites,
            groups,
            key_shares,
            server_name: self.target.server_name.clone(),
        }
    }

    /// One handshake within the per-address limit, retried with back-off
    /// when the connection or the upgrade fails; `None` after the last try.
    async fn hello(&self, spec: HelloSpec, key_exchange: bool) -> Option<Answer> {
        let mut pause = BACK_OFF;
        for attempt in 1..=TRIES {
            let result = {
                let _permit = self.limit.acquire().await.ok();
                self.handshakes.fetch_add(1, Ordering::Relaxed);
                transport::handshake(&self.target, &spec, key_exchange).await
            };
            match result {
                Ok(answer) => return Some(answer),
                Err(error) if attempt == TRIES => {
                    if let Ok(mut notes) = self.notes.lock() {
                        notes.push(format!(
                            "{} hello gave up after {TRIES} tries: {error}",
                            spec.version.name()
                        ));
                    }
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
        None
    }

    /// Strike-and-repeat over the suites of `version`, one chain per key
    /// exchange family so that they run concurrently.
    async fn suites(&self, version: ProtocolVersion, first: u16) -> Vec<u16> {
        let families: Vec<Vec<u16>> = if version == ProtocolVersion::Tls13 {
            vec![version.default_suites()]
        } else {
            let all = version.default_suites();
            let family = |kx: &[KeyExchange]| -> Vec<u16> {
                all.iter()
                    .copied()
                    .filter(|s| table().suite(*s).is_some_and(|e| kx.contains(&e.kx)))
                    .collect()
            };
            vec![
                family(&[KeyExchange::Ecdhe]),
                family(&[KeyExchange::Dhe]),
                family(&[KeyExchange::Rsa]),
                family(&[
                    KeyExchange::Ecdh,
                    KeyExchange::DhAnon,
                    KeyExchange::EcdhAnon,
                ]),
            ]
        };
        let chains = join_all(families.into_iter().map(|mut remaining| async move {
            let mut found = Vec::new();
            if let Some(position) = remaining.iter().position(|s| *s == first) {
                remaining.remove(position);
                found.push(first);
            }
            for _ in 0..MAX_CHAIN {
                if remaining.is_empty() {
                    break;
                }
                let spec = self.spec(
                    version,
                    remaining.clone(),
                    default_groups(version),
                    vec![29],
                );
                let answer = self.hello(spec, false).await;
                let Some(hello) = answer.as_ref().and_then(|a| accepted(a, version)) else {
                    break;
                };
                let Some(position) = remaining.iter().position(|s| *s == hello.suite) else {
                    self.note(format!(
                        "{}: the server picked {:#06x}, which was not offered",
                        version.name(),
                        hello.suite
                    ));
                    break;
                };
                found.push(remaining.remove(position));
            }
            found
        }))
        .await;
        chains.into_iter().flatten().collect()
    }

    /// Offers the first two suites found in reverse order: a server that
    /// still picks the first one enforces its own order.
    async fn order(&self, version: ProtocolVersion, suites: &[u16]) -> Option<bool> {
        let [preferred, other, ..] = suites else {
            return None;
        };
        let spec = self.spec(
            version,
            vec![*other, *preferred],
            default_groups(version),
            vec![29],
        );
        let answer = self.hello(spec, false).await?;
        let hello = accepted(&answer, version)?;
        Some(hello.suite == *preferred)
    }

    /// TLS 1.3 groups: no key share, so the server names its choice in a
    /// HelloRetryRequest (RFC 8446 §4.1.4); strike it and repeat.
    async fn tls13_groups(&self) -> Vec<u16> {
        let mut remaining = table().all_groups();
        let mut found = Vec::new();
        for _ in 0..MAX_CHAIN {
            if remaining.is_empty() {
                break;
            }
            let version = ProtocolVersion::Tls13;
            let spec = self.spec(
                version,
                version.default_suites(),
                remaining.clone(),
                Vec::new(),
            );
            let answer = self.hello(spec, false).await;
            let Some(group) = answer
                .as_ref()
                .and_then(|a| accepted(a, version))
                .and_then(|h| h.group)
            else {
                break;
            };
            let Some(position) = remaining.iter().position(|g| *g == group) else {
                self.note(format!(
                    "TLSv1.3: the server selected group {group:#06x}, which was not offered"
                ));
                break;
            };
            found.push(remaining.remove(position));
        }
        found
    }

    /// ECDHE curves below TLS 1.3, read from the ServerKeyExchange
    /// (RFC 8422 §5.4): offer only ECDHE suites and strike each curve used.
    async fn ecdhe_curves(&self, version: ProtocolVersion) -> Vec<u16> {
        let mut remaining = legacy_curves();
        let mut found = Vec::new();
        for _ in 0..MAX_CHAIN {
            if remaining.is_empty() {
                break;
            }
            let spec = self.spec(
                version,
                table().suites_with(KeyExchange::Ecdhe),
                remaining.clone(),
                Vec::new(),
            );
            let answer = self.hello(spec, true).await;
            let curve = answer
                .as_ref()
                .and_then(|a| accepted(a, version))
                .and_then(|h| match h.key_exchange {
                    Some(ServerKeyExchange::NamedCurve(curve)) => Some(curve),
                    _ => None,
                });
            let Some(position) = curve.and_then(|c| remaining.iter().position(|g| *g == c)) else {
                break;
            };
            found.push(remaining.remove(position));
        }
        found
    }

    /// The DH prime size of a DHE suite (RFC 5246 §7.4.3).
    async fn dhe_prime(&self, version: ProtocolVersion) -> Option<u32> {
        let spec = self.spec(
            version,
            table().suites_with(KeyExchange::Dhe),
            legacy_curves(),
            Vec::new(),
        );
        let answer = self.hello(spec, true).await?;
        match accepted(&answer, version)?.key_exchange {
            Some(ServerKeyExchange::DhPrime(bits)) => Some(bits),
            _ => None,
        }
    }

    fn note(&self, text: String) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.push(text);
        }
    }
}

/// The ServerHello if it accepts exactly `version`.
fn accepted(answer: &Answer, version: ProtocolVersion) -> Option<&ServerHello> {
    match answer {
        Answer::Hello(hello) if hello.version == version.wire() => Some(hello),
        _ => None,
    }
}

/// Groups for the versions probe and the suite chains.
fn default_groups(version: ProtocolVersion) -> Vec<u16> {
    if version == ProtocolVersion::Tls13 {
        table().all_groups()
    } else {
        legacy_curves()
    }
}

/// Named curves usable below TLS 1.3: the `ec` groups without the TLS 1.3
/// brainpool code points (RFC 8734 §2).
fn legacy_curves() -> Vec<u16> {
    table()
        .groups_of("ec")
        .into_iter()
        .filter(|g| !(31..=33).contains(g))
        .collect()
}

fn describe(answer: &Answer, offered: ProtocolVersion) -> String {
    match answer {
        Answer::Hello(hello) => {
            let kind = if hello.hello_retry {
                "HelloRetryRequest"
            } else {
                "ServerHello"
            };
            let version = version_name(hello.version);
            if hello.version == offered.wire() {
                format!("{kind} {version}")
            } else {
                format!("{kind} {version}, not the {} offered", offered.name())
            }
        }
        Answer::Alert { level, description } => format!(
            "{} alert {} ({description})",
            if *level == 2 { "fatal" } else { "warning" },
            tls_parser::TlsAlertDescription(*description)
        ),
        Answer::Closed => "connection closed".to_string(),
        Answer::Malformed(problem) => problem.clone(),
    }
}

fn hello_features(version: ProtocolVersion, hello: &ServerHello) -> HelloFeatures {
    let has = |kind: u16| hello.extensions.contains(&kind);
    HelloFeatures {
        version: version.name().to_string(),
        compression: hello.compression != 0,
        secure_renegotiation: has(0xff01),
        extended_master_secret: has(23),
        encrypt_then_mac: has(22),
        heartbeat: has(15),
    }
}

fn suite_result(id: u16) -> SuiteResult {
    match table().suite(id) {
        Some(entry) => SuiteResult {
            id: format!("{id:#06x}"),
            name: entry.name.clone(),
            class: entry.class,
            forward_secrecy: entry.forward_secrecy,
        },
        // Only offered suites can be accepted, and they are all classified.
        None => SuiteResult {
            id: format!("{id:#06x}"),
            name: format!("unknown suite {id:#06x}"),
            class: crate::evidence::SuiteClass::NotListed,
            forward_secrecy: false,
        },
    }
}

fn group_result(id: u16) -> GroupResult {
    match table().group(id) {
        Some(entry) => GroupResult {
            id: format!("{id:#06x}"),
            name: entry.name.clone(),
            bits: entry.bits,
            class: entry.class,
        },
        None => GroupResult {
            id: format!("{id:#06x}"),
            name: format!("unknown group {id:#06x}"),
            bits: 0,
            class: crate::evidence::GroupClass::NotListed,
        },
    }
}
