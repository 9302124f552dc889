//! The retention view's tests: periods, holds, Sent gaps and classes.

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
        deep_checked: 0,
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
    let v = view(
        &m,
        &AuditProfile::default(),
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
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
    let v = view(
        &m,
        &profile,
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    assert_eq!(
        v.past_deadline.iter().map(|c| c.year).collect::<Vec<_>>(),
        [2015]
    );
    profile.organisation.financial_sector = false;
    profile.retention.holds.push(ProfileHold {
        until: day(2027, 6, 30),
        reason: "tax audit".into(),
        folders: vec![],
    });
    let v = view(
        &m,
        &profile,
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
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
    let v = view(
        &m,
        &profile,
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
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
    let v = view(
        &m,
        &AuditProfile::default(),
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    assert_eq!(v.missing_sent_years, [2020, 2021, 2022, 2023, 2024, 2025]);
    // A mailbox whose mail ends in 2023 is judged on 2018..=2023.
    let dormant: Vec<(i32, u32)> = (2016..=2023).map(|y| (y, 2)).collect();
    let m = mailbox(vec![folder("INBOX", FolderRole::Inbox, &dormant)]);
    let v = view(
        &m,
        &AuditProfile::default(),
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
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
    let v = view(
        &m,
        &profile,
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    assert_eq!(v.past_deadline_total, 3, "no hold: due for review");
    profile.retention.holds.push(ProfileHold {
        until: day(2027, 12, 31),
        reason: "Rechtsstreit".into(),
        folders: vec![],
    });
    // Then nothing in it is due before the hold ends.
    let v = view(
        &m,
        &profile,
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
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
    let v = view(
        &m,
        &AuditProfile::default(),
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    // Then only the invoice classes are named, by folder and year (the
    // newsletter, kept 1 year by the class file, is retained but no invoice).
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

fn classified(
    name: &str,
    role: FolderRole,
    year: i32,
    classes: &[(&str, u32)],
    total: u32,
) -> FolderEvidence {
    let mut f = folder(name, role, &[(year, total)]);
    f.classes.insert(
        year,
        classes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
    );
    f
}

#[test]
fn each_class_gets_the_period_of_the_class_file() {
    // Given 10 messages of 2018: 2 e-invoices, 3 newsletters, 1 calendar
    // invitation and 4 the probe found no class for.
    let m = mailbox(vec![classified(
        "INBOX",
        FolderRole::Inbox,
        2018,
        &[("e_invoice", 2), ("bulk", 3), ("calendar", 1)],
        10,
    )]);
    let v = view(
        &m,
        &AuditProfile::default(),
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    let summary: Vec<(&str, u64, u64, Option<NaiveDate>)> = v
        .classes
        .iter()
        .map(|c| (c.class.as_str(), c.messages, c.review_due, c.keep_until))
        .collect();
    // Then the voucher classes are kept to the end of 2026 (8 years),
    // the Handelsbrief was due in 2025 (6 years) and the newsletters in
    // 2020 (no statutory period; the class file's own 1 year).
    assert_eq!(
        summary,
        [
            ("e_invoice", 2, 0, Some(day(2026, 12, 31))),
            ("calendar", 1, 1, None),
            ("bulk", 3, 3, None),
            ("unclassified", 4, 0, Some(day(2026, 12, 31))),
        ]
    );
    assert_eq!(v.past_deadline_total, 4);
    assert_eq!(v.past_deadline[0].earliest_erasure, day(2020, 1, 1));
    assert_eq!(v.classes[0].next_review, Some(day(2027, 1, 1)));
    assert_eq!(v.classes[0].title_de, "E-Rechnung");
    let calendar = v
        .class_years
        .iter()
        .find(|c| c.class == "calendar")
        .unwrap();
    assert_eq!(
        (calendar.period.as_str(), calendar.earliest_erasure),
        ("handelsbrief", day(2025, 1, 1))
    );
}

#[test]
fn the_profile_names_a_period_for_a_folder_and_for_unclassified_mail() {
    let m = mailbox(vec![
        classified("Rechnungen", FolderRole::Other, 2018, &[("bulk", 3)], 3),
        folder("INBOX", FolderRole::Inbox, &[(2018, 4)]),
    ]);
    let mut profile = AuditProfile::default();
    profile
        .retention
        .folder_periods
        .insert("Rechnungen".into(), "voucher".into());
    profile.retention.unclassified_period = Some("handelsbrief".into());
    let v = view(
        &m,
        &profile,
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    // The newsletters in "Rechnungen" are kept like vouchers; the
    // unclassified INBOX mail like Handelsbriefe, so it is due.
    let due: Vec<(&str, u32)> = v
        .past_deadline
        .iter()
        .map(|c| (c.folder.as_str(), c.count))
        .collect();
    assert_eq!(due, [("INBOX", 4)]);
    let kept = v
        .class_years
        .iter()
        .find(|c| c.folder == "Rechnungen")
        .unwrap();
    assert_eq!((kept.period.as_str(), kept.review_due), ("voucher", false));
}

#[test]
fn counts_the_evidence_cannot_split_stay_unclassified() {
    // Class counts that add up to more than the year's count are capped.
    let m = mailbox(vec![classified(
        "INBOX",
        FolderRole::Inbox,
        2025,
        &[("e_invoice", 5)],
        3,
    )]);
    let v = view(
        &m,
        &AuditProfile::default(),
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    let total: u64 = v.classes.iter().map(|c| c.messages).sum();
    assert_eq!(total, 3);
}

#[test]
fn a_hold_named_for_a_folder_covers_that_folder_only() {
    let m = mailbox(vec![
        folder("Rechtsstreit", FolderRole::Other, &[(2015, 2)]),
        folder("INBOX", FolderRole::Inbox, &[(2015, 3)]),
    ]);
    let mut profile = AuditProfile::default();
    profile.retention.holds.push(ProfileHold {
        until: day(2027, 12, 31),
        reason: "Rechtsstreit".into(),
        folders: vec!["Rechtsstreit".into()],
    });
    let v = view(
        &m,
        &profile,
        day(2026, 11, 26),
        &THRESHOLDS,
        default_class_file(),
    );
    let due: Vec<(&str, u32)> = v
        .past_deadline
        .iter()
        .map(|c| (c.folder.as_str(), c.count))
        .collect();
    assert_eq!(due, [("INBOX", 3)]);
    let held = v
        .class_years
        .iter()
        .find(|c| c.folder == "Rechtsstreit")
        .unwrap();
    assert_eq!(held.earliest_erasure, day(2028, 1, 1));
}
