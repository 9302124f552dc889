//! What every probe of a run shares: the settings and state in
//! [`ProbeContext`], the per-address connection limits
//! ([`AddressLimits`], [`address_limit`]) and the [`Progress`] callbacks.
//! Child probes import these from here, not from the scheduler in
//! `probe/mod.rs`, so no probe depends on the scheduler that calls it.
//!
//! The DNS server (`--resolver`) is not here: it travels inside the
//! [`Dns`](crate::probe::dns::Dns) handed to each probe, the one road to it.

pub mod address_limit;

use crate::evidence::EndpointEvidence;
use crate::probe::endpoint_cache::EndpointCache;
use crate::probe::location::cache::RdapCache;
use crate::probe::trust::TrustStore;
pub use address_limit::AddressLimit;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Shared settings and state for every probe of a scan.
#[derive(Clone)]
pub struct ProbeContext {
    pub trust: TrustStore,
    /// Limit for a TCP connect ("short": a filtered port costs this much).
    pub connect_timeout: Duration,
    /// Limit for each protocol step (one command and its reply, a handshake).
    pub step_timeout: Duration,
    /// Most simultaneous connections to one IP address.
    pub connections_per_address: usize,
    /// Most endpoints probed at once.
    pub concurrency: usize,
    /// The moment the scan started; certificate ages are measured from it.
    pub scan_time: DateTime<Utc>,
    /// DNSSEC trust anchors from `--dnssec-anchor`; empty means the public root.
    pub dnssec_anchors: Vec<crate::dnssec_anchor::Anchor>,
    /// DKIM selectors from `--dkim-selector`, tried before the built-in ones.
    pub dkim_selectors: Vec<String>,
    /// Mailboxes from `--key-lookup` whose OPENPGPKEY and SMIMEA records
    /// are looked up (at the scanned domain matching their domain part).
    pub key_lookups: Vec<String>,
    /// RDAP settings and the per-scan answer cache (LOC-001).
    pub location: RdapCache,
    /// Run the raw-handshake TLS scan (`--no-tls-scan` turns it off).
    pub tls_scan: bool,
    /// Run the active TLS checks with the TLS scan (Heartbleed, CCS
    /// injection, session resumption, 0-RTT; `--no-active-tls-checks`
    /// turns them off).
    pub active_tls_checks: bool,
    /// The revocation check's limits; `None` when `--no-revocation`
    /// turned it off.
    pub revocation: Option<RevocationLimits>,
    /// The per-address connection limits, shared by every domain of the run:
    /// many domains on one provider share its limit.
    pub address_limits: AddressLimits,
    /// Mailbox audits at once per IMAP server address (`--sessions-per-server`),
    /// shared by every domain of the run.
    pub mailbox_sessions: AddressLimits,
    /// Endpoint results of the run: an endpoint several domains share is
    /// probed once.
    pub endpoints: EndpointCache,
    /// The relay test (ACC-002), only when the user opted in
    /// (`--relay-test`); `None` leaves every MX untested.
    pub relay_test: Option<RelayTestSettings>,
}

/// How the opt-in relay test runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelayTestSettings {
    /// The local address to connect from (`--relay-test-source`); `None`
    /// lets routing pick it.
    pub source: Option<IpAddr>,
}

/// One semaphore per IP address for the whole run, created on first use
/// with `connections_per_address` permits.
#[derive(Clone, Default)]
pub struct AddressLimits {
    limits: Arc<std::sync::Mutex<HashMap<IpAddr, Arc<AddressLimit>>>>,
}

impl AddressLimits {
    /// The connection limit of `address`.
    pub fn of(&self, address: IpAddr, permits: usize) -> Arc<AddressLimit> {
        // A poisoned lock only means another task panicked while inserting;
        // the map itself is still consistent.
        let mut limits = self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        limits
            .entry(address)
            .or_insert_with(|| Arc::new(AddressLimit::new(permits)))
            .clone()
    }
}

/// Something to tell the user while a scan runs.
pub trait Progress: Send + Sync {
    /// Discovery found `count` endpoints for `domain`.
    fn discovered(&self, domain: &str, count: usize);
    /// One endpoint is done.
    fn endpoint_done(&self, evidence: &EndpointEvidence);
    /// All of `domain` is probed.
    fn domain_done(&self, _domain: &str) {}
    /// The one login attempt of the mailbox audit is about to go to
    /// `server` (e.g. `imaps://imap.example.org:993 (192.0.2.1)`) as `user`.
    fn mailbox_login(&self, _user: &str, _server: &str) {}
}

/// Limits of one revocation fetch (`probe::revocation`), kept here with
/// the other settings of a scan so the context needs no probe module.
#[derive(Debug, Clone, Copy)]
pub struct RevocationLimits {
    /// The whole exchange, connect included (the scan sets `--timeout`).
    pub timeout: Duration,
    /// Largest OCSP response read.
    pub ocsp_bytes: usize,
    /// Largest CRL read (a CA's CRL may list many thousand serials).
    pub crl_bytes: usize,
}

impl Default for RevocationLimits {
    fn default() -> RevocationLimits {
        RevocationLimits {
            timeout: Duration::from_secs(10),
            ocsp_bytes: 64 * 1024,
            crl_bytes: 10 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn address_limits_are_one_semaphore_per_address_for_the_whole_run() {
        // Given the limits of one run, shared (cloned) by two domains' scans
        let run = AddressLimits::default();
        let first_domain = run.clone();
        let second_domain = run.clone();
        let provider: IpAddr = "127.0.12.25".parse().unwrap();
        // Then both get the same semaphore for the provider's address
        let a = first_domain.of(provider, 4);
        let b = second_domain.of(provider, 9);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(b.available_permits(), 4, "the first limit holds");
        // And permits taken by one domain are missing for the other
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(a.acquire().await.expect("a permit"));
        }
        assert_eq!(b.available_permits(), 0);
        let other: IpAddr = "127.0.13.25".parse().unwrap();
        assert_eq!(run.of(other, 4).available_permits(), 4);
    }
}
