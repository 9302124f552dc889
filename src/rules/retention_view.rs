//! The retention view of one audited mailbox: the evidence (messages by
//! folder and year) put through the retention engine ([`crate::retention`])
//! with the audit profile, at the scan date. Rules read it as `retention`
//! beside `mailbox`, so RET-001..003 and RET-007 stay plain conditions while
//! the periods, the year-end start, BEG IV's transition and holds live in
//! one tested place. Re-evaluating a saved scan with another profile gives
//! another view of the same evidence.

use super::Thresholds;
use crate::evidence::{FolderRole, MailboxEvidence};
use crate::mail_class::ClassFile;
use crate::profile::AuditProfile;
pub use crate::report::assessment::{ClassCount, RetentionView, YearCount};
use crate::retention::{RetentionClass, deadline, own_period_erasure};
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeSet;

/// Computes the view. Folders the profile names as non-business get the
/// organisation's own period instead of a statutory one. RET-001's
/// `sent_window_years` is how many finished years are checked for sent
/// mail (none without it); the profile's messages per year, else RET-007's
/// `expected_messages_per_year`, sets the expected minimum (0 without).
pub fn view(
    mailbox: &MailboxEvidence,
    profile: &AuditProfile,
    as_of: NaiveDate,
    thresholds: &Thresholds,
) -> RetentionView {
    let retention = profile.retention();
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
    let invoices = invoice_classes();
    let invoices_total: u64 = folders
        .iter()
        .flat_map(|f| f.classes.values())
        .flat_map(|per_class| per_class.iter())
        .filter(|(class, _)| invoices.contains(*class))
        .map(|(_, &count)| u64::from(count))
        .sum();
    for folder in folders {
        let own_period = profile
            .retention
            .non_business_folders
            .get(&folder.display_name)
            .or_else(|| profile.retention.non_business_folders.get(&folder.name));
        if folder.role == FolderRole::Sent {
            sent_messages += u64::from(folder.messages);
        }
        if folder.role == FolderRole::Inbox {
            inbox_messages += u64::from(folder.messages);
        }
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
            let earliest_erasure = match own_period {
                Some(&years) => {
                    let (due, why) = own_period_erasure(year, years, &retention);
                    basis.insert(format!("{}: {why}", folder.display_name));
                    due
                }
                None => {
                    let date = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(as_of);
                    let found = deadline(RetentionClass::Unclassified, date, &retention, as_of);
                    basis.insert(found.basis.clone());
                    found.earliest_erasure
                }
            };
            let entry = YearCount {
                folder: folder.display_name.clone(),
                year,
                count,
                earliest_erasure,
                samples: folder
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
                    .unwrap_or_default(),
            };
            if earliest_erasure <= as_of {
                past_deadline.push(entry);
            } else if matches!(folder.role, FolderRole::Trash | FolderRole::Junk) {
                retained_in_trash.push(entry);
                let classes = folder.classes.get(&year).into_iter().flatten();
                for (class, &count) in classes.filter(|(c, _)| invoices.contains(*c)) {
                    invoices_in_trash.push(ClassCount {
                        folder: folder.display_name.clone(),
                        year,
                        class: class.clone(),
                        count,
                    });
                }
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
        inbox_messages,
        activity_span_years,
        expected_minimum: u64::from(per_year) * activity_span_years.max(0) as u64,
    }
}

/// The invoice classes of the embedded class file: every class kept for
/// the voucher period (§ 147(1) Nr. 4, (3) AO) except the fallback, which
/// gets that period only because doubt must not shorten a period.
fn invoice_classes() -> BTreeSet<String> {
    let Ok(file) = ClassFile::defaults() else {
        return BTreeSet::new();
    };
    file.classes
        .iter()
        .filter(|c| c.period == "voucher" && c.id != file.fallback)
        .map(|c| c.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Attempt, FolderEvidence, RoleSource};
    use crate::profile::ProfileHold;
    use std::collections::BTreeMap;

    /// What the default rule files declare (RET-001, RET-007).
    const THRESHOLDS: Thresholds = Thresholds {
        expiring_days: Some(30),
        sent_window_years: Some(6),
        expected_messages_per_year: Some(50),
    };

    fn folder(name: &str, role: FolderRole, years: &[(i32, u32)]) -> FolderEvidence {
        FolderEvidence {
            name: name.into(),
            display_name: name.into(),
            role,
            role_source: RoleSource::Name,
            attributes: vec![],
            messages: years.iter().map(|(_, c)| c).sum(),
            unseen: None,
            years: years.iter().copied().collect::<BTreeMap<_, _>>(),
            outside_years: 0,
            oldest: None,
            newest: None,
            my_rights: Attempt::skipped("test"),
            acl: Attempt::skipped("test"),
            samples: BTreeMap::new(),
            classes: BTreeMap::new(),
            class_reasons: BTreeMap::new(),
            unclassified_undated: 0,
        }
    }

    fn mailbox(folders: Vec<FolderEvidence>) -> MailboxEvidence {
        MailboxEvidence {
            user: "u@example.org".into(),
            user_domain: "example.org".into(),
            server: "imaps://imap.example.org:993".into(),
            certificate_verified: true,
            login: Attempt::skipped("test"),
            namespaces: Attempt::skipped("test"),
            folders: Attempt::completed(folders),
            quota: Attempt::skipped("test"),
            sieve: Attempt::skipped("test"),
            pop3: Attempt::skipped("test"),
            commands: vec![],
            class_file: None,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn unclassified_mail_is_due_after_eight_years_from_year_end() {
        // 2017 + 8 = 2025: retention ends 31 Dec 2025, erasable 1 Jan 2026.
        let m = mailbox(vec![folder(
            "INBOX",
            FolderRole::Inbox,
            &[(2017, 3), (2018, 4), (2026, 1)],
        )]);
        let v = view(&m, &AuditProfile::default(), day(2026, 11, 26), &THRESHOLDS);
        assert_eq!(v.past_deadline.len(), 1);
        assert_eq!(v.past_deadline[0].year, 2017);
        assert_eq!(v.past_deadline[0].earliest_erasure, day(2026, 1, 1));
        assert_eq!(v.past_deadline_total, 3);
    }

    #[test]
    fn the_financial_sector_and_holds_keep_mail_longer() {
        let m = mailbox(vec![folder(
            "INBOX",
            FolderRole::Inbox,
            &[(2015, 2), (2017, 3)],
        )]);
        let mut profile = AuditProfile::default();
        profile.organisation.financial_sector = true;
        let v = view(&m, &profile, day(2026, 11, 26), &THRESHOLDS);
        assert_eq!(
            v.past_deadline.iter().map(|c| c.year).collect::<Vec<_>>(),
            [2015]
        );
        profile.organisation.financial_sector = false;
        profile.retention.holds.push(ProfileHold {
            until: day(2027, 6, 30),
            reason: "tax audit".into(),
        });
        let v = view(&m, &profile, day(2026, 11, 26), &THRESHOLDS);
        assert!(v.past_deadline.is_empty());
    }

    #[test]
    fn sent_gaps_trash_and_non_business_folders() {
        let m = mailbox(vec![
            folder(
                "INBOX",
                FolderRole::Inbox,
                &[(2021, 5), (2022, 5), (2023, 5), (2024, 5), (2026, 1)],
            ),
            folder("Sent", FolderRole::Sent, &[(2021, 1), (2024, 1)]),
            folder("Trash", FolderRole::Trash, &[(2025, 7)]),
            folder("Newsletter", FolderRole::Other, &[(2024, 9)]),
        ]);
        let mut profile = AuditProfile::default();
        profile
            .retention
            .non_business_folders
            .insert("Newsletter".into(), 1);
        let v = view(&m, &profile, day(2026, 11, 26), &THRESHOLDS);
        // 2025 has mail in Trash only: still a year without sent mail.
        assert_eq!(v.missing_sent_years, [2022, 2023, 2025]);
        assert_eq!(v.retained_in_trash_total, 7);
        assert_eq!(
            v.past_deadline
                .iter()
                .map(|c| c.folder.as_str())
                .collect::<Vec<_>>(),
            ["Newsletter"]
        );
        assert!(v.has_sent_folder);
        assert_eq!(v.activity_span_years, 6);
        assert_eq!(v.expected_minimum, 300);
        assert_eq!(v.inbox_messages, 21);
    }

    #[test]
    fn the_sent_window_covers_all_six_finished_years() {
        // Given mail in every year 2019..=2026 and sent mail in none of them.
        let years: Vec<(i32, u32)> = (2019..=2026).map(|y| (y, 2)).collect();
        let m = mailbox(vec![
            folder("INBOX", FolderRole::Inbox, &years),
            folder("Sent", FolderRole::Sent, &[]),
        ]);
        // When scanned in 2026, the six finished years 2020..=2025 count.
        let v = view(&m, &AuditProfile::default(), day(2026, 11, 26), &THRESHOLDS);
        assert_eq!(v.missing_sent_years, [2020, 2021, 2022, 2023, 2024, 2025]);
        // A mailbox whose mail ends in 2023 is judged on 2018..=2023.
        let dormant: Vec<(i32, u32)> = (2016..=2023).map(|y| (y, 2)).collect();
        let m = mailbox(vec![folder("INBOX", FolderRole::Inbox, &dormant)]);
        let v = view(&m, &AuditProfile::default(), day(2026, 11, 26), &THRESHOLDS);
        assert_eq!(v.missing_sent_years, [2018, 2019, 2020, 2021, 2022, 2023]);
    }

    #[test]
    fn a_legal_hold_covers_non_business_folders_too() {
        // Given a private folder with no period of its own, and a hold.
        let m = mailbox(vec![folder("Privat", FolderRole::Other, &[(2018, 3)])]);
        let mut profile = AuditProfile::default();
        profile
            .retention
            .non_business_folders
            .insert("Privat".into(), 0);
        let v = view(&m, &profile, day(2026, 11, 26), &THRESHOLDS);
        assert_eq!(v.past_deadline_total, 3, "no hold: due for review");
        profile.retention.holds.push(ProfileHold {
            until: day(2027, 12, 31),
            reason: "Rechtsstreit".into(),
        });
        // Then nothing in it is due before the hold ends.
        let v = view(&m, &profile, day(2026, 11, 26), &THRESHOLDS);
        assert!(v.past_deadline.is_empty(), "{:?}", v.past_deadline);
        assert!(v.basis.iter().any(|b| b.contains("held until 2027-12-31")));
    }

    #[test]
    fn invoices_in_trash_are_named_by_class() {
        // Given a Trash with an e-invoice, a likely invoice, a newsletter
        // and unclassified mail in 2025.
        let mut trash = folder("Trash", FolderRole::Trash, &[(2025, 6)]);
        trash.classes.insert(
            2025,
            [
                ("e_invoice", 1),
                ("likely_invoice", 2),
                ("bulk", 1),
                ("unclassified", 2),
            ]
            .into_iter()
            .map(|(c, n)| (c.to_string(), n))
            .collect(),
        );
        let m = mailbox(vec![trash]);
        let v = view(&m, &AuditProfile::default(), day(2026, 11, 26), &THRESHOLDS);
        // Then only the invoice classes are named, by folder and year.
        assert_eq!(v.retained_in_trash_total, 6);
        assert_eq!(v.invoices_in_trash_total, 3);
        let named: Vec<(&str, i32, &str, u32)> = v
            .invoices_in_trash
            .iter()
            .map(|c| (c.folder.as_str(), c.year, c.class.as_str(), c.count))
            .collect();
        assert_eq!(
            named,
            [
                ("Trash", 2025, "e_invoice", 1),
                ("Trash", 2025, "likely_invoice", 2)
            ]
        );
    }
}
