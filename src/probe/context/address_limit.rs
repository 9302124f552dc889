//! The connection limit of one server address, shared by every port and
//! every probe on it for the whole run (`--connections-per-host`).
//!
//! Servers limit concurrent connections per client (Exim's default is 20,
//! Postfix has `smtpd_client_connection_count_limit`) and answer beyond it
//! with a plain-text `421` (RFC 5321 §3.8), `-ERR` or `* BYE`, even where
//! the client waits for a ServerHello. From then on, for the rest of the
//! run, every connection keeps its slot for [`PACE`] after it ends, since
//! servers count a slot as taken for a while after a connection closes (Exim holds it about 0.5 s after a failed
//! handshake), so concurrency alone would keep provoking them. Busy
//! answers that still come while paced lower the limit one step each,
//! never below one connection.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a slot stays taken after its connection ended, once the server
/// said it is busy.
pub const PACE: Duration = Duration::from_millis(600);

/// A per-address semaphore whose capacity can be lowered while in use.
#[derive(Debug)]
pub struct AddressLimit {
    semaphore: Semaphore,
    /// Permits in existence: held plus available.
    capacity: AtomicUsize,
    /// The server said it is busy at least once: pace the connections.
    paced: AtomicBool,
}

impl AddressLimit {
    /// A limit of `permits` connections (at least one).
    pub fn new(permits: usize) -> AddressLimit {
        let permits = permits.max(1);
        AddressLimit {
            semaphore: Semaphore::new(permits),
            capacity: AtomicUsize::new(permits),
            paced: AtomicBool::new(false),
        }
    }

    /// Waits for a connection slot; `None` only if the semaphore closed,
    /// which this type never does.
    pub async fn acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.semaphore.acquire().await.ok()
    }

    /// Slots free right now.
    pub fn available_permits(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// Connections allowed at once now.
    pub fn capacity(&self) -> usize {
        self.capacity.load(Ordering::SeqCst)
    }

    /// Whether connections keep their slot for [`PACE`] after they end.
    pub fn paced(&self) -> bool {
        self.paced.load(Ordering::SeqCst)
    }

    /// Gives `permit` back, after [`PACE`] once the server was seen busy.
    pub async fn release(&self, permit: Option<SemaphorePermit<'_>>) {
        if permit.is_some() && self.paced() {
            tokio::time::sleep(PACE).await;
        }
        drop(permit);
    }

    /// The server said it is busy while `permit` was held. The first time,
    /// connections are paced from then on; after that, keep that slot from
    /// coming back, unless it is the last one. Returns the new capacity
    /// when it was lowered.
    pub fn lower(&self, permit: SemaphorePermit<'_>) -> Option<usize> {
        // The first busy answer only turns pacing on: a server that holds
        // slots after a close (Exim) is usually satisfied by that, and its
        // limit is often above ours. Busy answers while paced lower it.
        if !self.paced.swap(true, Ordering::SeqCst) {
            return None;
        }
        let lowered = self
            .capacity
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                (c > 1).then(|| c - 1)
            })
            .ok()?;
        permit.forget();
        Some(lowered - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_busy_answer_paces_later_ones_lower_the_limit_never_to_zero() {
        let limit = AddressLimit::new(3);
        let permit = limit.acquire().await.unwrap();
        assert!(!limit.paced());
        assert_eq!(limit.lower(permit), None, "the first busy answer paces");
        assert!(limit.paced(), "connections are paced from now on");
        assert_eq!(limit.available_permits(), 3);
        let permit = limit.acquire().await.unwrap();
        assert_eq!(limit.lower(permit), Some(2));
        assert_eq!(limit.available_permits(), 2);
        let permit = limit.acquire().await.unwrap();
        assert_eq!(limit.lower(permit), Some(1));
        let permit = limit.acquire().await.unwrap();
        assert_eq!(limit.lower(permit), None, "the last slot stays");
        assert_eq!(limit.capacity(), 1);
        assert_eq!(limit.available_permits(), 1);
        assert!(limit.acquire().await.is_some());
    }
}
