//! Classifying a folder's messages by retention class (issue 12), after
//! EXAMINE: `UID SEARCH ALL`, then `UID FETCH` of metadata only
//! ([`fetch::fetch_items`]: UID, INTERNALDATE, RFC822.SIZE, BODYSTRUCTURE
//! and a few header fields with `BODY.PEEK`, so `\Seen` is never set) in
//! batches of [`BATCH`] UIDs, and the pure classifier ([`mail_class`]).
//!
//! The FETCH answers are read raw from the stream under the session (the
//! read-only guard), one response with its literals at a time, bounded in
//! size ([`super::fetch_stream`]), and parsed by the bounded parsers of
//! [`mail_class`]. Not through
//! async-imap: its BODYSTRUCTURE parser recurses without a bound, and one
//! malformed structure fails the whole response stream. Here a response
//! that cannot be read counts as the fallback class with its reason, and
//! only a broken connection fails the folder (and so the mailbox).

use super::deep_check;
use super::fetch_stream::{is_fetch, read_batch};
use super::imap_session::{Plan, Session, timed};
use crate::evidence::{ClassFileUsed, FolderEvidence};
use crate::mail_class::{self, ClassFile, fetch};
use chrono::Datelike;
use std::collections::{BTreeMap, HashSet};

/// UIDs per FETCH command.
pub(super) const BATCH: usize = 500;
/// Most bytes of one FETCH response with its literals: the header fields
/// and BODYSTRUCTURE of one message are a few KiB; a huge one is cut off.
const MAX_RESPONSE: usize = 1 << 20;
/// The embedded class file (`rules/classes/mail-classes.toml`); `None`
/// only if it were invalid, which its unit tests rule out.
pub(super) fn default_class_file() -> Option<ClassFile> {
    match ClassFile::defaults() {
        Ok(file) => Some(file),
        Err(error) => {
            tracing::warn!(%error, "the embedded class file does not load; messages stay unclassified");
            None
        }
    }
}

/// What the evidence records of the class file that sorted the messages.
pub(super) fn used(file: &ClassFile) -> ClassFileUsed {
    ClassFileUsed {
        file: file.name.clone(),
        edition: file.edition.clone(),
        legal_snapshot: file.legal_snapshot,
        sha256: file.sha256.clone(),
    }
}

/// Classifies every message of the folder open in `session` into
/// `folder.classes`, `class_reasons` and `unclassified_undated`. An error
/// means the connection can no longer be trusted.
pub(super) async fn classify_folder(
    session: &mut Session,
    plan: &Plan,
    classes: &ClassFile,
    folder: &mut FolderEvidence,
) -> Result<(), String> {
    let step = plan.step;
    let mut uids: Vec<u32> = timed(step, session.uid_search("ALL"))
        .await?
        .map_err(|e| format!("UID SEARCH ALL: {e}"))?
        .into_iter()
        .collect();
    uids.sort_unstable();
    let items = fetch::fetch_items(&mail_class::header_fields(classes));
    let mut tally = Tally::default();
    for batch in uids.chunks(BATCH) {
        let set = uid_set(batch);
        let tag = timed(
            step,
            session.run_command(format!("UID FETCH {set} {items}")),
        )
        .await?
        .map_err(|e| format!("UID FETCH: {e}"))?;
        let mut wanted: HashSet<u32> = batch.iter().copied().collect();
        let completion = timed(
            step,
            read_batch(session.get_mut(), &tag.0, MAX_RESPONSE, |response| {
                tally.add(response, classes, &mut wanted, plan.deep_invoice_check)
            }),
        )
        .await?
        .map_err(|e| e.to_string())?;
        if !completion.eq_ignore_ascii_case("OK") {
            tracing::debug!(folder = %folder.display_name, %completion, "UID FETCH refused");
        }
        // Messages expunged meanwhile, or left out by a refusal: counted,
        // undated, with the reason.
        for _ in &wanted {
            tally.undated("not_returned");
        }
    }
    if plan.deep_invoice_check {
        folder.deep_checked = deep_check::run(
            session,
            step,
            classes,
            &mut tally.candidates,
            &mut tally.by_year,
        )
        .await?;
    }
    folder.classes = tally.by_year;
    folder.class_reasons = tally.reasons;
    folder.unclassified_undated = tally.undated;
    Ok(())
}

/// The counts of one folder.
#[derive(Default)]
struct Tally {
    by_year: BTreeMap<i32, BTreeMap<String, u32>>,
    reasons: BTreeMap<String, u32>,
    undated: u32,
    /// Messages for the deep check, when it is on.
    candidates: Vec<deep_check::Candidate>,
}

impl Tally {
    /// Counts one untagged response if it is a FETCH of a wanted UID.
    fn add(&mut self, response: &[u8], classes: &ClassFile, wanted: &mut HashSet<u32>, deep: bool) {
        if !is_fetch(response) {
            return;
        }
        match fetch::parse_response(response) {
            Ok(meta) => {
                // A FETCH of a UID not asked for (a flag update) is not ours.
                if !meta.uid.is_some_and(|uid| wanted.remove(&uid)) {
                    return;
                }
                let classification = mail_class::classify(&meta, classes);
                *self
                    .reasons
                    .entry(classification.reason.kind().to_string())
                    .or_default() += 1;
                match meta.internal_date {
                    // The year as INTERNALDATE writes it, like the year
                    // counts (SEARCH SINCE/BEFORE compare that date).
                    Some(date) => {
                        *self
                            .by_year
                            .entry(date.year())
                            .or_default()
                            .entry(classification.class.clone())
                            .or_default() += 1;
                        if deep {
                            self.candidates.extend(deep_check::Candidate::of(
                                meta,
                                date.year(),
                                classification.class,
                                classes,
                            ));
                        }
                    }
                    None => self.undated += 1,
                }
            }
            Err(error) => {
                tracing::debug!(%error, "unreadable FETCH response");
                if error.uid.is_some_and(|uid| wanted.remove(&uid)) {
                    self.undated("unreadable_fetch_response");
                }
            }
        }
    }

    fn undated(&mut self, reason: &str) {
        *self.reasons.entry(reason.to_string()).or_default() += 1;
        self.undated += 1;
    }
}

/// Sorted UIDs as a compact set: runs become `a:b`.
fn uid_set(sorted: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    while index < sorted.len() {
        let start = sorted[index];
        let mut end = start;
        while index + 1 < sorted.len() && sorted[index + 1] == end + 1 {
            index += 1;
            end = sorted[index];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        index += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests;
