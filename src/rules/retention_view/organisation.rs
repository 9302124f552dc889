//! The organisation's view: the retention views of one domain's audited
//! mailboxes added up, for the subject `org:DOMAIN` and the report's
//! organisation tables. Counts are summed by folder name, year and class;
//! nothing names a user except the list of mailboxes that could not be
//! audited, which the data-protection officer needs to follow up.
//!
//! A mailbox whose folders were not read adds nothing to the counts and is
//! listed in `incomplete`: the engine keeps such an organisation from
//! passing (missing evidence is never a pass).

use super::{ClassCount, ClassYear, RetentionView, YearCount, summarise};
use crate::Language;
use crate::evidence::MailboxEvidence;
use crate::finding::{Finding, Status};
use crate::mail_class::ClassFile;
pub use crate::report::assessment::{MailboxProblem, OrganisationRetention};
use std::collections::{BTreeMap, BTreeSet};

/// Adds up the views of `mailboxes` (each with its view) of `domain`.
/// `None` with fewer than two: one mailbox is its own organisation view,
/// and a second subject would only repeat its findings.
pub fn aggregate(
    classes: Option<&ClassFile>,
    domain: &str,
    mailboxes: &[(&MailboxEvidence, &RetentionView)],
) -> Option<OrganisationRetention> {
    if mailboxes.len() < 2 {
        return None;
    }
    let (_, first) = mailboxes.first()?;
    let mut incomplete = Vec::new();
    let mut audited: Vec<&RetentionView> = Vec::new();
    for (mailbox, view) in mailboxes {
        if mailbox.folders.value().is_some() {
            audited.push(view);
        } else {
            incomplete.push(MailboxProblem {
                user: mailbox.user.clone(),
                reason: mailbox
                    .folders
                    .reason
                    .clone()
                    .unwrap_or_else(|| "the folders were not read".into()),
            });
        }
    }
    let sum = |f: fn(&RetentionView) -> u64| audited.iter().map(|v| f(v)).sum::<u64>();
    let union = |f: fn(&RetentionView) -> &Vec<i32>| {
        audited
            .iter()
            .flat_map(|v| f(v).iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    };
    let class_years = merge_class_years(&audited);
    let retention = RetentionView {
        as_of: first.as_of,
        basis: audited
            .iter()
            .flat_map(|v| v.basis.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        activity_years: union(|v| &v.activity_years),
        has_sent_folder: audited.iter().all(|v| v.has_sent_folder) && !audited.is_empty(),
        sent_messages: sum(|v| v.sent_messages),
        sent_years: union(|v| &v.sent_years),
        missing_sent_years: union(|v| &v.missing_sent_years),
        past_deadline: merge_years(audited.iter().flat_map(|v| &v.past_deadline)),
        past_deadline_total: sum(|v| v.past_deadline_total),
        retained_in_trash: merge_years(audited.iter().flat_map(|v| &v.retained_in_trash)),
        retained_in_trash_total: sum(|v| v.retained_in_trash_total),
        invoices_in_trash: merge_classes(audited.iter().flat_map(|v| &v.invoices_in_trash)),
        invoices_in_trash_total: sum(|v| v.invoices_in_trash_total),
        messages_classified: !audited.is_empty() && audited.iter().all(|v| v.messages_classified),
        invoices_total: sum(|v| v.invoices_total),
        classes: summarise(classes, &class_years),
        class_years,
        inbox_messages: sum(|v| v.inbox_messages),
        activity_span_years: audited
            .iter()
            .map(|v| v.activity_span_years)
            .max()
            .unwrap_or(0),
        expected_minimum: sum(|v| v.expected_minimum),
    };
    Some(OrganisationRetention {
        domain: domain.to_string(),
        mailboxes: u32::try_from(mailboxes.len()).unwrap_or(u32::MAX),
        audited: u32::try_from(audited.len()).unwrap_or(u32::MAX),
        incomplete,
        retention,
    })
}

/// An organisation finding over part of its mailboxes: a pass becomes
/// inconclusive (what was not read cannot pass), a failure stands and
/// says how many mailboxes it covers.
pub fn qualify(finding: &mut Finding, org: &OrganisationRetention, language: Language) {
    if org.incomplete.is_empty() || org.audited == 0 {
        return;
    }
    let missing = org.incomplete.len();
    let names: Vec<String> = org
        .incomplete
        .iter()
        .map(|p| format!("{}: {}", p.user, p.reason))
        .collect();
    let german = language == Language::De;
    let note = if german {
        format!(
            "{missing} von {} Postfächern konnten nicht geprüft werden ({}).",
            org.mailboxes,
            names.join("; ")
        )
    } else {
        format!(
            "{missing} of {} mailboxes could not be audited ({}).",
            org.mailboxes,
            names.join("; ")
        )
    };
    if finding.status == Status::Pass {
        finding.status = Status::Inconclusive;
        finding.detail = note;
    } else if finding.status == Status::Fail {
        finding.detail.push(' ');
        finding.detail.push_str(&note);
    }
}

/// Folder-year counts summed by folder and year; the earliest date wins;
/// samples are not carried over (they name people).
fn merge_years<'v>(rows: impl Iterator<Item = &'v YearCount>) -> Vec<YearCount> {
    let mut merged: BTreeMap<(String, i32), YearCount> = BTreeMap::new();
    for row in rows {
        merged
            .entry((row.folder.clone(), row.year))
            .and_modify(|m| {
                m.count = m.count.saturating_add(row.count);
                m.earliest_erasure = m.earliest_erasure.min(row.earliest_erasure);
            })
            .or_insert_with(|| YearCount {
                samples: Vec::new(),
                ..row.clone()
            });
    }
    merged.into_values().collect()
}

fn merge_classes<'v>(rows: impl Iterator<Item = &'v ClassCount>) -> Vec<ClassCount> {
    let mut merged: BTreeMap<(String, i32, String), ClassCount> = BTreeMap::new();
    for row in rows {
        merged
            .entry((row.folder.clone(), row.year, row.class.clone()))
            .and_modify(|m| m.count = m.count.saturating_add(row.count))
            .or_insert_with(|| row.clone());
    }
    merged.into_values().collect()
}

/// Class-year rows summed by folder, year, class and period; a row keeps
/// the earliest erasure date of its parts (holds are organisation-wide,
/// so the parts agree unless folders' own periods differ).
fn merge_class_years(views: &[&RetentionView]) -> Vec<ClassYear> {
    let mut merged: BTreeMap<(String, i32, String, String), ClassYear> = BTreeMap::new();
    for row in views.iter().flat_map(|v| &v.class_years) {
        let key = (
            row.folder.clone(),
            row.year,
            row.class.clone(),
            row.period.clone(),
        );
        merged
            .entry(key)
            .and_modify(|m| {
                m.count = m.count.saturating_add(row.count);
                m.earliest_erasure = m.earliest_erasure.min(row.earliest_erasure);
                m.retention_ends = m.retention_ends.max(row.retention_ends);
            })
            .or_insert_with(|| row.clone());
    }
    merged.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Attempt;
    use chrono::NaiveDate;

    fn mailbox(user: &str, read: bool) -> MailboxEvidence {
        MailboxEvidence {
            user: user.into(),
            user_domain: "example.org".into(),
            server: "imaps://imap.example.org:993".into(),
            certificate_verified: true,
            login: Attempt::skipped("test"),
            namespaces: Attempt::skipped("test"),
            folders: if read {
                Attempt::completed(vec![])
            } else {
                Attempt::failed("NO [AUTHORIZATIONFAILED] not allowed")
            },
            quota: Attempt::skipped("test"),
            sieve: Attempt::skipped("test"),
            pop3: Attempt::skipped("test"),
            commands: vec![],
            class_file: None,
        }
    }

    fn view(due: u32, class: &str) -> RetentionView {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let row = ClassYear {
            folder: "INBOX".into(),
            year: 2015,
            class: class.into(),
            count: due,
            period: "voucher".into(),
            retention_ends: day.pred_opt().unwrap(),
            earliest_erasure: day,
            review_due: true,
        };
        RetentionView {
            as_of: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            basis: vec!["voucher".into()],
            activity_years: vec![2015],
            has_sent_folder: true,
            sent_messages: 0,
            sent_years: vec![],
            missing_sent_years: vec![],
            past_deadline: vec![YearCount {
                folder: "INBOX".into(),
                year: 2015,
                count: due,
                earliest_erasure: day,
                samples: vec!["INBOX 2015: someone".into()],
            }],
            past_deadline_total: u64::from(due),
            retained_in_trash: vec![],
            retained_in_trash_total: 0,
            invoices_in_trash: vec![],
            invoices_in_trash_total: 0,
            messages_classified: true,
            invoices_total: u64::from(due),
            classes: summarise(None, std::slice::from_ref(&row)),
            class_years: vec![row],
            inbox_messages: u64::from(due),
            activity_span_years: 12,
            expected_minimum: 0,
        }
    }

    #[test]
    fn counts_add_up_and_an_unread_mailbox_is_listed_not_counted() {
        let (a, b, c) = (
            mailbox("a@example.org", true),
            mailbox("b@example.org", true),
            mailbox("c@example.org", false),
        );
        let (va, vb, vc) = (view(2, "e_invoice"), view(3, "e_invoice"), view(50, "bulk"));
        let org = aggregate(None, "example.org", &[(&a, &va), (&b, &vb), (&c, &vc)]).unwrap();
        assert_eq!((org.mailboxes, org.audited), (3, 2));
        assert_eq!(org.incomplete[0].user, "c@example.org");
        assert!(org.incomplete[0].reason.contains("AUTHORIZATIONFAILED"));
        assert_eq!(org.retention.past_deadline_total, 5);
        assert_eq!(org.retention.past_deadline.len(), 1);
        assert_eq!(org.retention.past_deadline[0].count, 5);
        assert!(org.retention.past_deadline[0].samples.is_empty());
        assert_eq!(org.retention.class_years.len(), 1);
        assert_eq!(org.retention.classes[0].review_due, 5);
        assert!(aggregate(None, "example.org", &[]).is_none());
        assert!(aggregate(None, "example.org", &[(&a, &va)]).is_none());
    }
}
