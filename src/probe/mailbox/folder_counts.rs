//! Counting a folder's messages by year, with its oldest and newest
//! INTERNALDATE and, with `--show-messages`, the first messages of each
//! year: by arrival order where the server has SORT ([`super::year_count`]),
//! otherwise with one `UID SEARCH SINCE/BEFORE` per year (RFC 9051 §6.4.4).

use super::imap_session::{Plan, Session, timed};
use super::year_count;
use crate::evidence::{FolderEvidence, MessageSample};
use async_imap::imap_proto::{MailboxDatum, Response};
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// The first year searched; older messages count as outside the years.
const FIRST_YEAR: i32 = 1990;
/// Most INTERNALDATEs fetched to find a folder's oldest or newest message.
const MAX_DATE_FETCH: usize = 2000;
/// Messages shown per folder and year with `--show-messages`.
const SAMPLES_PER_YEAR: usize = 3;

/// One search per year, newest first, until every message is counted.
pub(super) async fn count_years(
    session: &mut Session,
    plan: &Plan,
    folder: &mut FolderEvidence,
) -> Result<(), String> {
    if plan.sort && count_years_sorted(session, plan, folder).await? {
        return Ok(());
    }
    let (step, this_year) = (plan.step, plan.now.year());
    let mut sampled: BTreeMap<u32, i32> = BTreeMap::new();
    let future = uid_search(session, step, &format!("SINCE 1-Jan-{}", this_year + 1)).await?;
    let mut counted = future.len() as u32;
    folder.outside_years = counted;
    let mut newest_year: Option<(i32, HashSet<u32>)> = None;
    let mut oldest_year: Option<(i32, HashSet<u32>)> = None;
    let mut year = this_year;
    while counted < folder.messages && year >= FIRST_YEAR {
        let uids = uid_search(
            session,
            step,
            &format!("SINCE 1-Jan-{year} BEFORE 1-Jan-{}", year + 1),
        )
        .await?;
        if !uids.is_empty() {
            counted += uids.len() as u32;
            folder.years.insert(year, uids.len() as u32);
            if plan.show_messages {
                let mut first: Vec<u32> = uids.iter().copied().collect();
                first.sort_unstable();
                sampled.extend(
                    first
                        .into_iter()
                        .take(SAMPLES_PER_YEAR)
                        .map(|uid| (uid, year)),
                );
            }
            if newest_year.is_none() {
                newest_year = Some((year, uids.clone()));
            }
            oldest_year = Some((year, uids));
        }
        year -= 1;
    }
    folder.outside_years += folder.messages.saturating_sub(counted);
    if let Some((_, uids)) = oldest_year {
        folder.oldest = extreme_date(session, step, &uids, true).await?;
    }
    if let Some((_, uids)) = newest_year {
        folder.newest = extreme_date(session, step, &uids, false).await?;
    }
    if !sampled.is_empty() {
        folder.samples = samples(session, step, &sampled).await?;
    }
    Ok(())
}

/// Counts by year from the arrival order (see [`year_count`]): one UID
/// SORT, one FETCH of INTERNALDATE for the samples and one for the gaps
/// around year boundaries. False when the answers do not add up (then the
/// per-year searches count instead).
async fn count_years_sorted(
    session: &mut Session,
    plan: &Plan,
    folder: &mut FolderEvidence,
) -> Result<bool, String> {
    let step = plan.step;
    let sorted = uid_sort_arrival(session, step).await?;
    if sorted.len() != folder.messages as usize || sorted.is_empty() {
        return Ok(false);
    }
    let mut dates: HashMap<u32, DateTime<FixedOffset>> = HashMap::new();
    let positions = year_count::sample_positions(sorted.len());
    dates.extend(fetch_dates(session, step, positions.iter().map(|&p| sorted[p])).await?);
    // Years as INTERNALDATE writes them (SEARCH SINCE/BEFORE compare that
    // date, RFC 9051 §6.4.4), not in UTC.
    let year_at = |dates: &HashMap<u32, DateTime<FixedOffset>>, p: usize| {
        dates.get(&sorted[p]).map(|d| d.year())
    };
    let anchors: Vec<(usize, i32)> = positions
        .iter()
        .filter_map(|&p| year_at(&dates, p).map(|y| (p, y)))
        .collect();
    let gaps: Vec<u32> = year_count::gaps_to_fetch(&anchors)
        .into_iter()
        .flatten()
        .map(|p| sorted[p])
        .collect();
    dates.extend(fetch_dates(session, step, gaps.into_iter()).await?);
    let known: HashMap<usize, i32> = (0..sorted.len())
        .filter_map(|p| year_at(&dates, p).map(|y| (p, y)))
        .collect();
    let Some(years) = year_count::years_in_order(sorted.len(), &known) else {
        return Ok(false);
    };
    let this_year = plan.now.year();
    let mut sampled: BTreeMap<u32, i32> = BTreeMap::new();
    for (year, count) in year_count::count(&years) {
        if (FIRST_YEAR..=this_year).contains(&year) {
            folder.years.insert(year, count);
        } else {
            folder.outside_years += count;
        }
    }
    if plan.show_messages {
        let mut taken: HashMap<i32, usize> = HashMap::new();
        for (p, &year) in years.iter().enumerate() {
            let seen = taken.entry(year).or_insert(0);
            if *seen < SAMPLES_PER_YEAR && folder.years.contains_key(&year) {
                *seen += 1;
                sampled.insert(sorted[p], year);
            }
        }
    }
    let utc = |uid: &u32| dates.get(uid).map(|d| d.with_timezone(&Utc));
    folder.oldest = sorted.first().and_then(utc);
    folder.newest = sorted.last().and_then(utc);
    if !sampled.is_empty() {
        folder.samples = samples(session, step, &sampled).await?;
    }
    Ok(true)
}

/// `UID SORT (ARRIVAL) UTF-8 ALL` (RFC 5256): every UID, oldest first.
async fn uid_sort_arrival(session: &mut Session, step: Duration) -> Result<Vec<u32>, String> {
    let id = timed(step, session.run_command("UID SORT (ARRIVAL) UTF-8 ALL"))
        .await?
        .map_err(|e| format!("UID SORT: {e}"))?;
    let mut uids = Vec::new();
    loop {
        let response = timed(step, session.read_response())
            .await?
            .map_err(|e| format!("UID SORT: {e}"))?
            .ok_or("UID SORT: the server closed the connection")?;
        match response.parsed() {
            Response::MailboxData(MailboxDatum::Sort(found)) => uids.extend_from_slice(found),
            Response::Done { tag, status, .. } if *tag == id => {
                return match status {
                    async_imap::imap_proto::Status::Ok => Ok(uids),
                    other => Err(format!("UID SORT: {other:?}")),
                };
            }
            _ => {}
        }
    }
}

/// INTERNALDATE of `uids` in one FETCH.
async fn fetch_dates(
    session: &mut Session,
    step: Duration,
    uids: impl Iterator<Item = u32>,
) -> Result<HashMap<u32, DateTime<FixedOffset>>, String> {
    let set = uids.map(|u| u.to_string()).collect::<Vec<_>>().join(",");
    if set.is_empty() {
        return Ok(HashMap::new());
    }
    let stream = timed(step, session.uid_fetch(&set, "(UID INTERNALDATE)"))
        .await?
        .map_err(|e| format!("UID FETCH INTERNALDATE: {e}"))?;
    let fetched: Vec<_> = timed(step, stream.collect::<Vec<_>>()).await?;
    Ok(fetched
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|f| Some((f.uid?, f.internal_date()?)))
        .collect())
}

/// ENVELOPE of the sampled messages (`--show-messages`), by year.
async fn samples(
    session: &mut Session,
    step: Duration,
    sampled: &BTreeMap<u32, i32>,
) -> Result<BTreeMap<i32, Vec<MessageSample>>, String> {
    let set = sampled
        .keys()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let stream = timed(step, session.uid_fetch(&set, "(UID ENVELOPE)"))
        .await?
        .map_err(|e| format!("UID FETCH ENVELOPE: {e}"))?;
    let fetched: Vec<_> = timed(step, stream.collect::<Vec<_>>()).await?;
    let mut by_year: BTreeMap<i32, Vec<MessageSample>> = BTreeMap::new();
    for fetch in fetched.into_iter().filter_map(Result::ok) {
        let (Some(uid), Some(envelope)) = (fetch.uid, fetch.envelope()) else {
            continue;
        };
        let Some(&year) = sampled.get(&uid) else {
            continue;
        };
        let text = |bytes: &Option<std::borrow::Cow<'_, [u8]>>| {
            bytes
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).chars().take(200).collect())
                .unwrap_or_default()
        };
        let from = envelope
            .from
            .as_ref()
            .and_then(|list| list.first())
            .map(|a| format!("{}@{}", text(&a.mailbox), text(&a.host)))
            .unwrap_or_default();
        by_year.entry(year).or_default().push(MessageSample {
            uid,
            date: text(&envelope.date),
            from,
            subject: text(&envelope.subject),
        });
    }
    Ok(by_year)
}

async fn uid_search(
    session: &mut Session,
    step: Duration,
    query: &str,
) -> Result<HashSet<u32>, String> {
    timed(step, session.uid_search(query))
        .await?
        .map_err(|e| format!("UID SEARCH {query}: {e}"))
}

/// The oldest or newest INTERNALDATE among `uids` (the lowest or highest
/// UIDs when there are very many: UIDs grow with arrival).
async fn extreme_date(
    session: &mut Session,
    step: Duration,
    uids: &HashSet<u32>,
    oldest: bool,
) -> Result<Option<DateTime<Utc>>, String> {
    let mut sorted: Vec<u32> = uids.iter().copied().collect();
    sorted.sort_unstable();
    if !oldest {
        sorted.reverse();
    }
    sorted.truncate(MAX_DATE_FETCH);
    let set = sorted
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let stream = timed(step, session.uid_fetch(&set, "(UID INTERNALDATE)"))
        .await?
        .map_err(|e| format!("UID FETCH INTERNALDATE: {e}"))?;
    let fetched: Vec<_> = timed(step, stream.collect::<Vec<_>>()).await?;
    let dates = fetched
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|f| f.internal_date())
        .map(|d| d.with_timezone(&Utc));
    Ok(if oldest { dates.min() } else { dates.max() })
}
