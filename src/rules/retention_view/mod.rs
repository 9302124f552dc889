//! The retention view of one audited mailbox: the evidence (messages by
//! folder, year and class) put through the retention engine
//! ([`crate::retention`]) with the class file and the audit profile, at
//! the scan date. Rules read it as `retention` beside `mailbox`, so
//! RET-001..003, RET-007 and RET-008 stay plain conditions while the
//! periods, the year-end start, BEG IV's transition and holds live in one
//! tested place. Re-evaluating a saved scan with another profile gives
//! another view of the same evidence. [`organisation`] adds the views of
//! one domain's mailboxes up for the subject `org:DOMAIN`.

mod by_class;
pub use by_class::default_class_file;
pub mod organisation;
#[cfg(test)]
mod tests;

use super::Thresholds;
use crate::evidence::{FolderRole, MailboxEvidence};
use crate::mail_class::ClassFile;
use crate::profile::AuditProfile;
pub use crate::report::assessment::{
    ClassCount, ClassSummary, ClassYear, RetentionView, YearCount,
};
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};

/// Computes the view. Each class of message gets the period the class file
/// maps it to, unless the profile names its folder ([`by_class`]). RET-001's
/// `sent_window_years` is how many finished years are checked for sent
/// mail (none without it); the profile's messages per year, else RET-007's
/// `expected_messages_per_year`, sets the expected minimum (0 without).
pub fn view(
    mailbox: &MailboxEvidence,
    profile: &AuditProfile,
    as_of: NaiveDate,
    thresholds: &Thresholds,
    classes: Option<&ClassFile>,
) -> RetentionView {
    let folders = mailbox
        .folders
        .value()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut basis = BTreeSet::new();
    let mut activity = BTreeSet::new();
    let mut other_activity = BTreeSet::new();
    let mut sent_years = BTreeSet::new();
    let mut sent_messages = 0u64;
    let mut past_deadline = Vec::new();
    let mut retained_in_trash = Vec::new();
    let mut inbox_messages = 0u64;
    let mut invoices_in_trash = Vec::new();
    let mut class_years = Vec::new();
    let invoices = invoice_classes(classes);
    let invoices_total: u64 = folders
        .iter()
        .flat_map(|f| f.classes.values())
        .flat_map(|per_class| per_class.iter())
        .filter(|(class, _)| invoices.contains(*class))
        .map(|(_, &count)| u64::from(count))
        .sum();
    for folder in folders {
        if folder.role == FolderRole::Sent {
            sent_messages += u64::from(folder.messages);
        }
        if folder.role == FolderRole::Inbox {
            inbox_messages += u64::from(folder.messages);
        }
        let in_trash = matches!(folder.role, FolderRole::Trash | FolderRole::Junk);
        let retention = profile.retention_in(&folder.display_name, &folder.name);
        for (&year, &count) in &folder.years {
            if count == 0 {
                continue;
            }
            activity.insert(year);
            // Spam says nothing about the account's own correspondence.
            match folder.role {
                FolderRole::Sent => {
                    sent_years.insert(year);
                }
                FolderRole::Junk => {}
                _ => {
                    other_activity.insert(year);
                }
            }
            let (mut due, mut kept) = (Tally::default(), Tally::default());
            for (class, n) in by_class::split(classes, folder, year, count) {
                let found = by_class::deadline_of(
                    classes, folder, &class, year, profile, &retention, as_of,
                );
                basis.insert(found.basis);
                let review_due = found.earliest_erasure <= as_of;
                if review_due {
                    due.add(n, found.earliest_erasure);
                } else {
                    kept.add(n, found.earliest_erasure);
                    if in_trash && invoices.contains(&class) {
                        invoices_in_trash.push(ClassCount {
                            folder: folder.display_name.clone(),
                            year,
                            class: class.clone(),
                            count: n,
                        });
                    }
                }
                class_years.push(ClassYear {
                    folder: folder.display_name.clone(),
                    year,
                    class,
                    count: n,
                    period: found.period,
                    retention_ends: found.retention_ends,
                    earliest_erasure: found.earliest_erasure,
                    review_due,
                });
            }
            if let Some(earliest_erasure) = due.earliest {
                past_deadline.push(YearCount {
                    folder: folder.display_name.clone(),
                    year,
                    count: due.count,
                    earliest_erasure,
                    samples: samples(folder, year),
                });
            }
            if let (true, Some(earliest_erasure)) = (in_trash, kept.earliest) {
                retained_in_trash.push(YearCount {
                    folder: folder.display_name.clone(),
                    year,
                    count: kept.count,
                    earliest_erasure,
                    samples: Vec::new(),
                });
            }
        }
    }
    // The window is `sent_window_years` finished years, ending with the
    // last finished year of activity: a scan in 2026 of a mailbox in use
    // checks 2020..=2025; one whose mail ends in 2023 checks 2018..=2023.
    let last = activity.iter().next_back().copied().unwrap_or(as_of.year());
    let last_finished = last.min(as_of.year() - 1);
    let missing_sent_years = match thresholds.sent_window_years {
        Some(window) => other_activity
            .iter()
            .copied()
            .filter(|&y| y > last_finished - window && y <= last_finished)
            .filter(|y| !sent_years.contains(y))
            .collect(),
        None => Vec::new(),
    };
    let first = activity.iter().next().copied().unwrap_or(as_of.year());
    let activity_span_years = if activity.is_empty() {
        0
    } else {
        as_of.year() - first + 1
    };
    let per_year = profile
        .pop3
        .expected_messages_per_year
        .or(thresholds.expected_messages_per_year)
        .unwrap_or(0);
    RetentionView {
        as_of,
        basis: basis.into_iter().collect(),
        activity_years: activity.into_iter().collect(),
        has_sent_folder: folders.iter().any(|f| f.role == FolderRole::Sent),
        sent_messages,
        sent_years: sent_years.into_iter().collect(),
        missing_sent_years,
        past_deadline_total: past_deadline.iter().map(|c| u64::from(c.count)).sum(),
        past_deadline,
        retained_in_trash_total: retained_in_trash.iter().map(|c| u64::from(c.count)).sum(),
        retained_in_trash,
        invoices_in_trash_total: invoices_in_trash.iter().map(|c| u64::from(c.count)).sum(),
        invoices_in_trash,
        messages_classified: mailbox.class_file.is_some(),
        invoices_total,
        classes: summarise(classes, &class_years),
        class_years,
        inbox_messages,
        activity_span_years,
        expected_minimum: u64::from(per_year) * activity_span_years.max(0) as u64,
    }
}

/// Messages counted with the first day they become due.
#[derive(Default)]
struct Tally {
    count: u32,
    earliest: Option<NaiveDate>,
}

impl Tally {
    fn add(&mut self, count: u32, due: NaiveDate) {
        self.count += count;
        self.earliest = Some(self.earliest.map_or(due, |d| d.min(due)));
    }
}

/// The `--show-messages` examples of one folder and year.
fn samples(folder: &crate::evidence::FolderEvidence, year: i32) -> Vec<String> {
    folder
        .samples
        .get(&year)
        .map(|list| {
            list.iter()
                .map(|m| {
                    format!(
                        "{} {year}: {}, {}, {}",
                        folder.display_name, m.date, m.from, m.subject
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Each class over `class_years`, in the class file's order (unknown
/// classes last): messages, how many are due, and until when the rest is
/// kept.
pub fn summarise(classes: Option<&ClassFile>, class_years: &[ClassYear]) -> Vec<ClassSummary> {
    let mut by_class: BTreeMap<&str, ClassSummary> = BTreeMap::new();
    for row in class_years {
        let summary = by_class.entry(&row.class).or_insert_with(|| {
            let known = classes.and_then(|f| f.class(&row.class));
            ClassSummary {
                class: row.class.clone(),
                title_de: known.map_or_else(|| row.class.clone(), |c| c.title_de.clone()),
                title_en: known.map_or_else(|| row.class.clone(), |c| c.title_en.clone()),
                messages: 0,
                review_due: 0,
                keep_until: None,
                next_review: None,
            }
        });
        summary.messages += u64::from(row.count);
        if row.review_due {
            summary.review_due += u64::from(row.count);
        } else {
            summary.keep_until = summary.keep_until.max(Some(row.retention_ends));
            summary.next_review = Some(
                summary
                    .next_review
                    .map_or(row.earliest_erasure, |d| d.min(row.earliest_erasure)),
            );
        }
    }
    let order = |class: &str| {
        classes
            .and_then(|f| f.classes.iter().position(|c| c.id == class))
            .unwrap_or(usize::MAX)
    };
    let mut list: Vec<ClassSummary> = by_class.into_values().collect();
    list.sort_by_key(|c| (order(&c.class), c.class.clone()));
    list
}

/// The invoice classes of the embedded class file: every class kept for
/// the voucher period (§ 147(1) Nr. 4, (3) AO) except the fallback, which
/// gets that period only because doubt must not shorten a period.
fn invoice_classes(classes: Option<&ClassFile>) -> BTreeSet<String> {
    let Some(file) = classes else {
        return BTreeSet::new();
    };
    file.classes
        .iter()
        .filter(|c| c.period == "voucher" && c.id != file.fallback)
        .map(|c| c.id.clone())
        .collect()
}
