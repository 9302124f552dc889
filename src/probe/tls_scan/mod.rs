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
mod groups;
mod hello;
mod key_exchange;
pub(crate) mod registry;
pub(crate) mod sslv2;
mod strike;
mod suites;
mod transport;
mod versions;

pub use registry::{Table, table};
pub use transport::ScanTarget;

use crate::evidence::TlsScanEvidence;
use crate::probe::context::AddressLimit;
use answer::Answer;
use futures::future::join_all;
use hello::{HelloSpec, ProtocolVersion};
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use transport::TransportError;

/// Tries per handshake when the connection or STARTTLS fails, or the
/// server answers that it is busy: the budget before a fact is missing.
const TRIES: u32 = 6;
/// Tries when the connection closes without a byte. A server at its limit
/// may close that way, so it is retried after a pause; but a server that
/// refuses a hello by closing (OpenSSL does so for an SSLv2 CLIENT-HELLO)
/// closes every time, and three silent closes in a row are its answer.
const CLOSED_TRIES: u32 = 3;
/// First pause before a retry; doubled each time, up to [`MAX_PAUSE`], and
/// jittered by ±50 % so parallel chains do not come back in step.
const BACK_OFF: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(4);
/// Backoffs noted one by one in the evidence; the rest are counted.
const MAX_BACKOFF_NOTES: u32 = 30;

/// Scans one endpoint. `limit` is shared by every endpoint on the address.
/// `Err` names the facts that stayed unproven when a handshake's retry
/// budget was spent (the server stayed busy): a partial scan is not
/// evidence that anything was refused, so no rule may judge it.
pub async fn scan(target: ScanTarget, limit: Arc<AddressLimit>) -> Result<TlsScanEvidence, String> {
    let scanner = Scanner {
        target,
        limit,
        handshakes: AtomicU32::new(0),
        notes: Mutex::new(Vec::new()),
        missing: Mutex::new(Vec::new()),
        busy: Mutex::new(Busy::default()),
    };
    let evidence = scanner.run().await;
    let missing = scanner
        .missing
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    if missing.is_empty() {
        return Ok(evidence);
    }
    let mut unique = missing.clone();
    unique.sort();
    unique.dedup();
    Err(format!(
        "incomplete: {} of {} handshakes got no usable answer within {TRIES} tries each, so the scan cannot tell what the server refuses. Missing: {}. Proven before that: {}. {}",
        missing.len(),
        evidence.handshakes,
        unique.join(", "),
        proven(&evidence),
        evidence.notes.join(" ")
    ))
}

/// What a partial scan did prove, in words: accepted versions with the
/// suites found, groups and curves.
fn proven(evidence: &TlsScanEvidence) -> String {
    let mut parts: Vec<String> = evidence
        .versions
        .iter()
        .filter(|v| v.accepted)
        .map(|v| format!("{} accepted ({} suites found)", v.version, v.suites.len()))
        .collect();
    parts.push(format!(
        "{} TLS 1.3 groups, {} ECDHE curves",
        evidence.tls13_groups.len(),
        evidence.ecdhe_curves.len()
    ));
    parts.join(", ")
}

/// The busy answers seen during one endpoint's scan.
#[derive(Debug, Default)]
struct Busy {
    /// Retries after a busy answer, a failed connect or STARTTLS (not
    /// after a silent close).
    backoffs: u32,
    /// The last busy answer, as the server wrote it.
    last: Option<String>,
    /// The address's limit before and after lowering, when lowered.
    lowered: Option<(usize, usize)>,
}

struct Scanner {
    target: ScanTarget,
    limit: Arc<AddressLimit>,
    handshakes: AtomicU32,
    notes: Mutex<Vec<String>>,
    /// What each handshake that spent its retry budget would have shown.
    missing: Mutex<Vec<String>>,
    busy: Mutex<Busy>,
}

impl Scanner {
    async fn run(&self) -> TlsScanEvidence {
        // 1. Versions: every version with every suite, all at once.
        let found = self.versions().await;
        let mut versions = found.results;
        let chains = found.chains;
        let legacy = chains
            .iter()
            .map(|(v, _, _)| *v)
            .filter(|v| *v != ProtocolVersion::Tls13)
            .max();
        let tls13 = chains.iter().any(|(v, _, _)| *v == ProtocolVersion::Tls13);
        // 2. Suites per accepted version and the server's order, and 3. the
        // groups and the key exchange: all at once, so that the connection
        // limit, not one chain's round trips, bounds the time.
        let (suites, groups) = tokio::join!(
            join_all(
                chains
                    .iter()
                    .map(|(v, first, etm)| self.suites(*v, *first, *etm))
            ),
            self.groups(legacy, tls13),
        );
        let mut features = found.features;
        let mut cbc_encrypt_then_mac: Option<bool> = None;
        for ((version, _, _), found) in chains.iter().zip(suites) {
            if *version != ProtocolVersion::Tls13
                && let Some(etm) = found.encrypt_then_mac
            {
                cbc_encrypt_then_mac = Some(cbc_encrypt_then_mac.unwrap_or(true) && etm);
            }
            if let Some(result) = versions.iter_mut().find(|r| r.version == version.name()) {
                result.suites = found
                    .suites
                    .iter()
                    .map(|s| suites::suite_result(*s))
                    .collect();
                result.server_order = found.order;
            }
        }
        // The features handshake offered every suite, and a server that
        // picks AEAD must not echo encrypt_then_mac (RFC 7366 §2): read it
        // from the handshakes that negotiated CBC instead, where there were.
        if let (Some(features), Some(etm)) = (features.as_mut(), cbc_encrypt_then_mac) {
            features.encrypt_then_mac = etm;
        }
        self.busy_note();
        TlsScanEvidence {
            versions,
            tls13_groups: groups.tls13,
            ecdhe_curves: groups.ecdhe_curves,
            dhe_prime_bits: groups.dhe_prime_bits,
            key_exchanges: groups.key_exchanges,
            features,
            handshakes: self.handshakes.load(Ordering::Relaxed),
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
    /// when the connection or the upgrade fails or the server is busy;
    /// `None` after the last try, with `purpose` noted as missing.
    async fn hello(&self, spec: HelloSpec, key_exchange: bool, purpose: &str) -> Option<Answer> {
        let label = format!("{} {purpose}", spec.version.name());
        self.with_retries(
            &label,
            || transport::handshake(&self.target, &spec, key_exchange),
            || Answer::Closed,
        )
        .await
    }

    /// Runs `attempt` within the per-address limit. A busy answer lowers
    /// the address's limit and is retried after a jittered, doubling pause,
    /// up to [`TRIES`] times; then `label` is noted as missing. A close
    /// without a byte [`CLOSED_TRIES`] times in a row is the answer
    /// `closed`.
    async fn with_retries<T, F, Fut>(
        &self,
        label: &str,
        mut attempt: F,
        closed: impl Fn() -> T,
    ) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        let mut pause = BACK_OFF;
        let mut closed_tries = 0;
        for tries in 1..=TRIES {
            let result = {
                let permit = self.limit.acquire().await;
                self.handshakes.fetch_add(1, Ordering::Relaxed);
                let result = attempt().await;
                match (&result, permit) {
                    (Err(TransportError::Busy(line)), Some(permit)) => {
                        let before = self.limit.capacity();
                        let lowered = self.limit.lower(permit);
                        if let Ok(mut busy) = self.busy.lock() {
                            busy.last = Some(line.clone());
                            if let Some(after) = lowered {
                                let first = busy.lowered.map_or(before, |(first, _)| first);
                                busy.lowered = Some((first, after));
                            }
                        }
                    }
                    (_, permit) => self.limit.release(permit).await,
                }
                result
            };
            let error = match result {
                Ok(answer) => return Some(answer),
                Err(error) => error,
            };
            if error == TransportError::ClosedSilently {
                closed_tries += 1;
                if closed_tries >= CLOSED_TRIES {
                    return Some(closed());
                }
            } else {
                closed_tries = 0;
            }
            if tries == TRIES {
                self.note(format!(
                    "{label} hello gave up after {TRIES} tries: {error}"
                ));
                if let Ok(mut missing) = self.missing.lock() {
                    missing.push(label.to_string());
                }
                break;
            }
            let wait = jittered(pause);
            // Each backoff is evidence; past the first few a count suffices.
            // A silent close is usually the server's answer (three in a row
            // are taken as one), so its retries are not noted.
            let recorded = (error != TransportError::ClosedSilently)
                .then(|| {
                    self.busy.lock().ok().map(|mut busy| {
                        busy.backoffs += 1;
                        busy.backoffs
                    })
                })
                .flatten();
            if recorded.is_some_and(|n| n <= MAX_BACKOFF_NOTES) {
                self.note(format!(
                    "{label}: {error}; try {} of {TRIES} after {} ms",
                    tries + 1,
                    wait.as_millis()
                ));
            }
            tokio::time::sleep(wait).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
        None
    }

    /// One note on the busy answers, for the evidence.
    fn busy_note(&self) {
        let Ok(busy) = self.busy.lock() else { return };
        if busy.backoffs == 0 && busy.last.is_none() {
            return;
        }
        let mut text = format!("backed off and retried {} times", busy.backoffs);
        if let Some(last) = &busy.last {
            text.push_str(&format!("; the server said it was busy (last: \"{last}\")"));
        }
        if let Some((before, after)) = busy.lowered {
            text.push_str(&format!(
                "; connections to {} lowered from {before} to {after} at once for the rest of the run, each keeping its slot {:?} after it ends",
                self.target.address.ip(),
                crate::probe::context::address_limit::PACE
            ));
        }
        drop(busy);
        self.note(text);
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

/// `pause` ±50 %, from the handshake randomness source.
fn jittered(pause: Duration) -> Duration {
    let random = hello::random_bytes();
    let fraction = f64::from(u16::from_be_bytes([random[0], random[1]])) / f64::from(u16::MAX);
    pause.mul_f64(0.5 + fraction)
}

/// The ServerHello if it accepts exactly `version`.
fn accepted(answer: &Answer, version: ProtocolVersion) -> Option<&answer::ServerHello> {
    match answer {
        Answer::Hello(hello) if hello.version == version.wire() => Some(hello),
        _ => None,
    }
}
