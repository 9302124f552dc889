//! Strike-and-split: the enumeration that the suite, group and curve steps
//! share.
//!
//! A set is offered and the server picks one item from it: a cipher suite
//! (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3), the group named in a
//! HelloRetryRequest (RFC 8446 §4.1.4) or the curve of a ServerKeyExchange
//! (RFC 8422 §5.4). The pick is struck and the rest is offered again, until
//! the server refuses (testssl.sh enumerates the same way).
//!
//! Offering one list again and again makes a chain as long as the number of
//! accepted items, one round trip after another; behind 25 ms of latency a
//! legacy endpoint's 61 TLS 1.2 suites took seconds while four of the five
//! permitted connections sat idle. So while a connection is idle, a
//! remainder longer than [`SPLIT_ABOVE`] is split into two halves offered
//! side by side. A half that holds nothing acceptable costs one refused
//! handshake, so no remainder is split while every connection is busy:
//! then the limit, not a chain's round trips, bounds the time, and a split
//! would only add handshakes. The halves keep the offered order, so a
//! server that follows the client's order still picks from the front.

use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::HashSet;
use std::future::Future;

/// Remainders longer than this are split in two.
pub(super) const SPLIT_ABOVE: usize = 4;

/// The answer to one offered set.
pub(super) enum Pick<T> {
    /// The server picked this item; `T` is whatever else the answer told.
    Picked(u16, T),
    /// The server refused the set, or no handshake was possible.
    Refused,
}

/// What an enumeration found.
pub(super) struct Found<T> {
    /// Each accepted item, in the order found, with its answer's extra.
    pub items: Vec<(u16, T)>,
    /// Each offered set with the item the server picked from it.
    pub picks: Vec<(Vec<u16>, u16)>,
    /// Items the server picked that were not offered (a broken server);
    /// the set they came from is not offered again.
    pub strays: Vec<u16>,
}

impl<T> Found<T> {
    /// The accepted items, sorted by their position in `order`.
    pub fn sorted_by(&self, order: &[u16]) -> Vec<u16> {
        let mut ids: Vec<u16> = self.items.iter().map(|(id, _)| *id).collect();
        ids.sort_by_key(|id| order.iter().position(|o| o == id).unwrap_or(usize::MAX));
        ids
    }

    /// Whether a pick proves that the server overrode the client's order:
    /// an item it accepts was offered before the one it picked.
    pub fn overrode_client_order(&self) -> bool {
        let accepted: HashSet<u16> = self.items.iter().map(|(id, _)| *id).collect();
        self.picks.iter().any(|(set, pick)| {
            set.iter()
                .take_while(|id| *id != pick)
                .any(|id| accepted.contains(id))
        })
    }
}

/// Offers each of `sets` and every remainder after a pick, concurrently;
/// `offer` makes one handshake, and `idle` tells whether a connection is
/// free for a split-off half. Ends when every remainder is refused or
/// empty. Each successful handshake strikes one item, so there are at most
/// twice as many handshakes as offered items, plus one per initial set.
pub(super) async fn enumerate<T, F, Fut>(
    sets: Vec<Vec<u16>>,
    idle: impl Fn() -> bool,
    offer: F,
) -> Found<T>
where
    F: Fn(Vec<u16>) -> Fut,
    Fut: Future<Output = Pick<T>>,
{
    let attempt = |set: Vec<u16>| {
        let answer = offer(set.clone());
        async move { (set, answer.await) }
    };
    let mut pending = FuturesUnordered::new();
    for set in sets.into_iter().filter(|s| !s.is_empty()) {
        pending.push(attempt(set));
    }
    let mut found = Found {
        items: Vec::new(),
        picks: Vec::new(),
        strays: Vec::new(),
    };
    while let Some((mut set, pick)) = pending.next().await {
        let Pick::Picked(item, extra) = pick else {
            continue;
        };
        let Some(position) = set.iter().position(|id| *id == item) else {
            found.strays.push(item);
            continue;
        };
        found.picks.push((set.clone(), item));
        set.remove(position);
        found.items.push((item, extra));
        let parts = if idle() { halves(set) } else { vec![set] };
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            pending.push(attempt(part));
        }
    }
    found
}

/// `set` as one remainder, or two halves in order when it is longer than
/// [`SPLIT_ABOVE`]; nothing when it is empty.
pub(super) fn halves(mut set: Vec<u16>) -> Vec<Vec<u16>> {
    if set.is_empty() {
        Vec::new()
    } else if set.len() > SPLIT_ABOVE {
        let back = set.split_off(set.len() / 2);
        vec![set, back]
    } else {
        vec![set]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A pretend server: accepts `accepted`, picks by client order or by
    /// its own, and counts the handshakes.
    fn server<'a>(
        accepted: &'static [u16],
        own_order: bool,
        log: &'a Mutex<Vec<Vec<u16>>>,
    ) -> impl Fn(Vec<u16>) -> std::future::Ready<Pick<()>> + 'a {
        move |set: Vec<u16>| {
            log.lock().unwrap().push(set.clone());
            let pick = if own_order {
                accepted.iter().find(|a| set.contains(a)).copied()
            } else {
                set.iter().find(|s| accepted.contains(s)).copied()
            };
            std::future::ready(match pick {
                Some(id) => Pick::Picked(id, ()),
                None => Pick::Refused,
            })
        }
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn finds_every_accepted_item_and_nothing_else() {
        let log = Mutex::new(Vec::new());
        static ACCEPTED: [u16; 7] = [3, 9, 10, 11, 27, 28, 40];
        let all: Vec<u16> = (1..=40).collect();
        let found = block_on(enumerate(
            vec![all.clone()],
            || true,
            server(&ACCEPTED, false, &log),
        ));
        assert_eq!(found.sorted_by(&all), ACCEPTED.to_vec());
        assert!(found.strays.is_empty());
        assert!(!found.overrode_client_order());
        // One success per item, and at most one refusal per split remainder.
        let handshakes = log.lock().unwrap().len();
        assert!((7..=15).contains(&handshakes), "{handshakes} handshakes");
    }

    #[test]
    fn an_all_accepting_server_is_never_refused_and_chains_stay_short() {
        let log = Mutex::new(Vec::new());
        static ALL: [u16; 64] = {
            let mut all = [0u16; 64];
            let mut i = 0;
            while i < 64 {
                all[i] = i as u16 + 1;
                i += 1;
            }
            all
        };
        let found = block_on(enumerate(
            vec![ALL.to_vec()],
            || true,
            server(&ALL, false, &log),
        ));
        assert_eq!(found.items.len(), 64);
        // Every handshake succeeds: no refused half exists.
        assert_eq!(log.lock().unwrap().len(), 64);
        // After the splits no remainder offered is longer than the first
        // split's halves.
        assert!(log.lock().unwrap()[1..].iter().all(|s| s.len() <= 32));
    }

    #[test]
    fn a_server_with_its_own_order_is_recognised_from_the_picks() {
        let log = Mutex::new(Vec::new());
        static PREFERRED: [u16; 3] = [30, 2, 17];
        let all: Vec<u16> = (1..=30).collect();
        let found = block_on(enumerate(
            vec![all.clone()],
            || true,
            server(&PREFERRED, true, &log),
        ));
        assert_eq!(found.sorted_by(&all), vec![2, 17, 30]);
        assert!(found.overrode_client_order());
    }

    #[test]
    fn an_item_that_was_not_offered_ends_that_remainder() {
        let found = block_on(enumerate(
            vec![vec![1, 2, 3]],
            || true,
            |_set: Vec<u16>| std::future::ready(Pick::Picked(99, ())),
        ));
        assert!(found.items.is_empty());
        assert_eq!(found.strays, vec![99]);
    }

    #[test]
    fn halves_keep_the_order_and_only_split_long_sets() {
        assert!(halves(Vec::new()).is_empty());
        assert_eq!(halves(vec![1, 2, 3]), vec![vec![1, 2, 3]]);
        let long: Vec<u16> = (1..=10).collect();
        assert_eq!(
            halves(long),
            vec![vec![1, 2, 3, 4, 5], vec![6, 7, 8, 9, 10]]
        );
    }

    #[test]
    fn without_an_idle_connection_a_remainder_is_never_split() {
        let log = Mutex::new(Vec::new());
        static ACCEPTED: [u16; 3] = [5, 20, 35];
        let all: Vec<u16> = (1..=40).collect();
        let found = block_on(enumerate(
            vec![all.clone()],
            || false,
            server(&ACCEPTED, false, &log),
        ));
        assert_eq!(found.sorted_by(&all), ACCEPTED.to_vec());
        // One chain: three picks and the one refusal that ends it.
        assert_eq!(log.lock().unwrap().len(), 4);
    }
}
