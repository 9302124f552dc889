//! Endpoint results shared by every domain of a run: many domains on one
//! provider name the same MX and IMAP hosts, and each of those endpoints is
//! probed (and TLS-scanned) once per run, not once per domain. The first
//! domain to need an endpoint probes it; the others wait for that result.

use crate::evidence::{
    Attempt, EndpointEvidence, RelayTestEvidence, RevocationEvidence, StarttlsInjectionEvidence,
    TlsActiveEvidence, TlsScanEvidence,
};
use crate::target::Endpoint;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::OnceCell;

/// An endpoint at one address.
pub type EndpointKey = (Endpoint, Option<IpAddr>);

/// What the TLS phase adds to an endpoint.
pub type TlsPhase = (
    Attempt<TlsScanEvidence>,
    Attempt<StarttlsInjectionEvidence>,
    Attempt<TlsActiveEvidence>,
);

type Cells<V> = Arc<Mutex<HashMap<EndpointKey, Arc<OnceCell<V>>>>>;

/// The run's endpoint results, cloned cheaply into every domain's scan.
#[derive(Clone, Default)]
pub struct EndpointCache {
    probes: Cells<EndpointEvidence>,
    tls: Cells<TlsPhase>,
    relay: Cells<Attempt<RelayTestEvidence>>,
    revocation: Cells<Attempt<RevocationEvidence>>,
}

fn cell<V>(cells: &Cells<V>, key: EndpointKey) -> Arc<OnceCell<V>> {
    // A poisoned lock only means another task panicked while inserting; the
    // map is still consistent.
    let mut cells = cells.lock().unwrap_or_else(PoisonError::into_inner);
    cells.entry(key).or_default().clone()
}

impl EndpointCache {
    /// The cell holding the connection probe (TCP, dialogue, TLS) of `key`.
    pub fn probe(&self, key: EndpointKey) -> Arc<OnceCell<EndpointEvidence>> {
        cell(&self.probes, key)
    }

    /// The cell holding the TLS scan, the STARTTLS injection test and the
    /// active TLS checks of `key`.
    pub fn tls(&self, key: EndpointKey) -> Arc<OnceCell<TlsPhase>> {
        cell(&self.tls, key)
    }

    /// The cell holding the relay test of `key` (an MX tested once per run,
    /// however many domains name it).
    pub fn relay(&self, key: EndpointKey) -> Arc<OnceCell<Attempt<RelayTestEvidence>>> {
        cell(&self.relay, key)
    }

    /// The cell holding the revocation check of the leaf `key` served, so
    /// its responders and CRLs are asked once per run.
    pub fn revocation(&self, key: EndpointKey) -> Arc<OnceCell<Attempt<RevocationEvidence>>> {
        cell(&self.revocation, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Protocol;

    #[tokio::test]
    async fn a_shared_endpoint_is_probed_once() {
        let cache = EndpointCache::default();
        let key = || {
            (
                Endpoint {
                    host: "mx.provider.example".into(),
                    port: 25,
                    protocol: Protocol::Smtp,
                },
                Some("192.0.2.25".parse().unwrap()),
            )
        };
        let runs = std::sync::atomic::AtomicUsize::new(0);
        let probe = || async {
            runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (
                Attempt::skipped("test"),
                Attempt::skipped("test"),
                Attempt::skipped("test"),
            )
        };
        let first = cache.tls(key());
        let second = cache.tls(key());
        let (a, b) = tokio::join!(first.get_or_init(probe), second.get_or_init(probe));
        assert_eq!(a.0.reason, b.0.reason);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
