//! The TLS scan (issue 4): raw handshakes that find which protocol
//! versions, cipher suites and key-exchange groups an endpoint accepts,
//! including the ones rustls cannot speak (SSLv2, SSLv3, TLS 1.0/1.1,
//! broken suites).
//!
//! Like testssl.sh, suites are enumerated by offering a set, striking the
//! suite the server picked and offering again until the server refuses
//! (RFC 5246 §7.4.1.3: the server picks one suite from the client's list);
//! [`strike`] splits long remainders so that the chains run side by side.
//! Each handshake is a fresh connection; the endpoint's per-address
//! semaphore bounds how many run at once, and failed connections are retried
//! after a growing pause, since providers run fail2ban and SMTP servers
//! answer 421 when busy (RFC 5321 §3.8). A ServerHello only counts when its
//! version is the one offered: servers answer a higher offer with a lower
//! version (RFC 5246 §E.1).
//!
//! The steps live in their own modules: [`versions`] (which versions are
//! accepted, SSLv2 included), [`suites`] (suites per version and server
//! order) and [`groups`] (TLS 1.3 groups, ECDHE curves, the DHE prime and
//! how the key exchange is signed). This module runs the versions step,
//! then everything else at once, and holds the retry logic they share.

pub(crate) mod answer;
pub(crate) mod classification;
mod groups;
mod hello;
mod key_exchange;
pub(crate) mod sslv2;
mod strike;
mod suites;
mod transport;
mod versions;

pub use classification::{Table, table};
pub use transport::ScanTarget;

use crate::evidence::TlsScanEvidence;
use answer::Answer;
use futures::future::join_all;
use hello::{HelloSpec, ProtocolVersion};
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use transport::TransportError;

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
        let found = self.versions().await;
        let mut versions = found.results;
        let chains = found.chains;
        let legacy = chains
            .iter()
            .map(|(v, _)| *v)
            .filter(|v| *v != ProtocolVersion::Tls13)
            .max();
        let tls13 = chains.iter().any(|(v, _)| *v == ProtocolVersion::Tls13);
        // 2. Suites per accepted version and the server's order, and 3. the
        // groups and the key exchange: all at once, so that the connection
        // limit, not one chain's round trips, bounds the time.
        let (suites, groups) = tokio::join!(
            join_all(chains.iter().map(|(v, first)| self.suites(*v, *first))),
            self.groups(legacy, tls13),
        );
        for ((version, _), (suites, order)) in chains.iter().zip(suites) {
            if let Some(result) = versions.iter_mut().find(|r| r.version == version.name()) {
                result.suites = suites.iter().map(|s| suites::suite_result(*s)).collect();
                result.server_order = order;
            }
        }
        let classification = table();
        TlsScanEvidence {
            versions,
            tls13_groups: groups.tls13,
            ecdhe_curves: groups.ecdhe_curves,
            dhe_prime_bits: groups.dhe_prime_bits,
            key_exchanges: groups.key_exchanges,
            features: found.features,
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
        self.with_retries(spec.version.name(), || {
            transport::handshake(&self.target, &spec, key_exchange)
        })
        .await
    }

    /// Runs `attempt` within the per-address limit, up to [`TRIES`] times
    /// with a doubling pause; notes the last error under `label`.
    async fn with_retries<T, F, Fut>(&self, label: &str, mut attempt: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        let mut pause = BACK_OFF;
        for tries in 1..=TRIES {
            let result = {
                let _permit = self.limit.acquire().await.ok();
                self.handshakes.fetch_add(1, Ordering::Relaxed);
                attempt().await
            };
            match result {
                Ok(answer) => return Some(answer),
                Err(error) if tries == TRIES => {
                    self.note(format!(
                        "{label} hello gave up after {TRIES} tries: {error}"
                    ));
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
        None
    }

    /// Whether a connection within the limit would sit idle: a released
    /// permit goes straight to a waiting handshake, and the chain asking
    /// takes one free permit itself, so a second free one is idle.
    fn idle(&self) -> bool {
        self.limit.available_permits() > 1
    }

    fn note(&self, text: String) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.push(text);
        }
    }
}

/// The ServerHello if it accepts exactly `version`.
fn accepted(answer: &Answer, version: ProtocolVersion) -> Option<&answer::ServerHello> {
    match answer {
        Answer::Hello(hello) if hello.version == version.wire() => Some(hello),
        _ => None,
    }
}
