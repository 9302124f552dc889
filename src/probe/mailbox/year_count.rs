//! Counting a folder's messages by year from its UIDs in arrival order
//! (`UID SORT (ARRIVAL)`, RFC 5256: by INTERNALDATE) and a few known
//! dates, without fetching every message.
//!
//! A server answers each date search (`SINCE`/`BEFORE`) with a pass over
//! the whole folder, which on a Maildir means one `stat` per message and
//! search. Sorting once and then fetching INTERNALDATE only for about a
//! hundred evenly spaced messages, plus the messages between two samples
//! whose years differ, gives the exact count per year: between two samples
//! of the same year every message has that year, because the order is by
//! date. So a folder costs three round trips and touches every message
//! once, not once per year.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// Samples taken from a folder in arrival order.
pub const SAMPLES: usize = 100;

/// Positions (in arrival order) of the evenly spaced samples, first and
/// last included.
pub fn sample_positions(len: usize) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    let step = (len / SAMPLES).max(1);
    let mut positions: Vec<usize> = (0..len).step_by(step).collect();
    if positions.last() != Some(&(len - 1)) {
        positions.push(len - 1);
    }
    positions
}

/// The positions still to fetch: those strictly between two consecutive
/// known positions whose years differ (a year boundary lies there).
pub fn gaps_to_fetch(known: &[(usize, i32)]) -> Vec<Range<usize>> {
    known
        .windows(2)
        .filter(|pair| pair[0].1 != pair[1].1 && pair[1].0 > pair[0].0 + 1)
        .map(|pair| pair[0].0 + 1..pair[1].0)
        .collect()
}

/// The year of every position, from the years known at some positions.
/// `None` when a gap between two different years is not fully known.
pub fn years_in_order(len: usize, known: &HashMap<usize, i32>) -> Option<Vec<i32>> {
    let mut anchors: Vec<(usize, i32)> = known.iter().map(|(&p, &y)| (p, y)).collect();
    anchors.sort_unstable();
    let (&(first, _), &(last, _)) = (anchors.first()?, anchors.last()?);
    if first != 0 || last != len - 1 {
        return None;
    }
    let mut years = Vec::with_capacity(len);
    for pair in anchors.windows(2) {
        let ((from, year), (to, next)) = (pair[0], pair[1]);
        years.push(year);
        for position in from + 1..to {
            match known.get(&position) {
                Some(&y) => years.push(y),
                None if year == next => years.push(year),
                None => return None,
            }
        }
    }
    years.push(anchors.last()?.1);
    (years.len() == len).then_some(years)
}

/// Counts per year.
pub fn count(years: &[i32]) -> BTreeMap<i32, u32> {
    let mut counts = BTreeMap::new();
    for &year in years {
        *counts.entry(year).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of `len` messages with a year boundary every `per_year`.
    fn folder(len: usize, per_year: usize) -> Vec<i32> {
        (0..len).map(|i| 2010 + (i / per_year) as i32).collect()
    }

    /// The protocol, with a closure standing for the FETCH.
    fn run(truth: &[i32]) -> (Vec<i32>, usize) {
        let mut known = HashMap::new();
        let mut fetched = 0;
        for p in sample_positions(truth.len()) {
            known.insert(p, truth[p]);
            fetched += 1;
        }
        let mut anchors: Vec<(usize, i32)> = known.iter().map(|(&p, &y)| (p, y)).collect();
        anchors.sort_unstable();
        for gap in gaps_to_fetch(&anchors) {
            for p in gap {
                known.insert(p, truth[p]);
                fetched += 1;
            }
        }
        (years_in_order(truth.len(), &known).unwrap(), fetched)
    }

    #[test]
    fn counts_are_exact_and_most_messages_are_not_fetched() {
        let truth = folder(10_000, 588);
        let (years, fetched) = run(&truth);
        assert_eq!(years, truth);
        assert_eq!(count(&years).len(), 18);
        assert!(fetched < 2_000, "fetched {fetched}");
    }

    #[test]
    fn small_and_odd_folders() {
        for (len, per_year) in [(1, 1), (2, 1), (7, 3), (101, 50), (250, 1), (1_003, 999)] {
            let truth = folder(len, per_year);
            assert_eq!(run(&truth).0, truth, "{len} {per_year}");
        }
        assert!(sample_positions(0).is_empty());
    }

    #[test]
    fn an_unknown_gap_between_years_is_refused() {
        let known = HashMap::from([(0, 2010), (9, 2011)]);
        assert_eq!(years_in_order(10, &known), None);
        let known = HashMap::from([(0, 2010), (9, 2010)]);
        assert_eq!(years_in_order(10, &known), Some(vec![2010; 10]));
    }
}
