//! Retention periods and deadlines under § 257 HGB and § 147 AO (GoBD), as
//! summarised in the project's legal basis (snapshot 2026-11-26). Pure
//! functions: no I/O, no clock; the caller passes the evaluation date.
//!
//! - Periods (§ 257(4) HGB, § 147(3) AO, since BEG IV from 1 Jan 2025):
//!   books 10 years, vouchers (Buchungsbelege) 8 years (10 for banks,
//!   insurers and securities firms, and 10 under the old law), received and
//!   sent Handelsbriefe 6 years.
//! - Start (§ 257(5) HGB, § 147(4) AO): the end of the calendar year of the
//!   message. For year Y and period N, retention ends on 31 Dec Y+N and the
//!   earliest erasure date is 1 Jan Y+N+1.
//! - Transition (BEG IV): the 8-year period applies to every voucher whose
//!   old 10-year period had not ended by 31 Dec 2024; such a voucher may be
//!   erased from 1 Jan 2025 at the earliest, even where 8 years ended before.
//! - Unclassified mail (most of it) gets the longest period mail can have:
//!   that of vouchers. So the tool never calls mail erasable that may still
//!   have to be kept.
//! - Holds (legal holds, open tax assessments, § 147(3) AO) push the
//!   earliest erasure date past their end.
//!
//! The result is "erasure review due", never "delete": whether a message
//! is a Handelsbrief at all is for the controller to decide.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The day BEG IV's shorter voucher period took effect.
pub fn beg_iv_in_force() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date")
}

/// What a message is, for retention purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionClass {
    /// Books, inventories, annual accounts (10 years).
    Books,
    /// Buchungsbelege, invoices included (§ 14b UStG): 8 years, or 10.
    Voucher,
    /// Received Handelsbriefe, § 257(1) Nr. 2 HGB (6 years).
    HandelsbriefIn,
    /// Copies of sent Handelsbriefe, § 257(1) Nr. 3 HGB (6 years).
    HandelsbriefOut,
    /// Not classified: treated like a voucher, the longest period for mail.
    Unclassified,
}

/// What the scanner cannot know and the audit profile declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionProfile {
    /// Banks, insurers, securities firms keep vouchers 10 years.
    pub financial_sector: bool,
    /// Legal holds and open tax assessments.
    pub holds: Vec<Hold>,
}

/// A period during which nothing may be erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Last day of the hold.
    pub until: NaiveDate,
    pub reason: String,
}

/// The retention deadline of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub class: RetentionClass,
    pub period_years: i32,
    /// 31 Dec of the last year of retention.
    pub retention_ends: NaiveDate,
    /// The first day erasure may be considered, holds included.
    pub earliest_erasure: NaiveDate,
    /// Why the period and date are what they are, for the report.
    pub basis: String,
}

impl Deadline {
    /// True when erasure review is due on `as_of` (Art. 5(1)(e), 17 DSGVO).
    pub fn review_due(&self, as_of: NaiveDate) -> bool {
        self.earliest_erasure <= as_of
    }
}

/// The deadline of a message of `class` dated `date`, judged on `as_of`.
pub fn deadline(
    class: RetentionClass,
    date: NaiveDate,
    profile: &RetentionProfile,
    as_of: NaiveDate,
) -> Deadline {
    let year = date.year();
    let voucher_like = matches!(
        class,
        RetentionClass::Voucher | RetentionClass::Unclassified
    );
    let (period_years, mut basis) = match class {
        RetentionClass::Books => (
            10,
            "books: 10 years (§ 257(4) HGB, § 147(3) AO)".to_string(),
        ),
        RetentionClass::HandelsbriefIn | RetentionClass::HandelsbriefOut => {
            (6, "Handelsbrief: 6 years (§ 257(4) HGB)".to_string())
        }
        _ if profile.financial_sector => (10, "voucher, financial sector: 10 years".to_string()),
        _ if as_of < beg_iv_in_force() => (
            10,
            "voucher under the law before BEG IV: 10 years".to_string(),
        ),
        // The old period ended by 31 Dec 2024: it stays what it was.
        _ if year + 10 <= 2024 => (
            10,
            "voucher whose 10-year period ended before BEG IV".to_string(),
        ),
        _ => (
            8,
            "voucher: 8 years since BEG IV (§ 147(3) AO, § 257(4) HGB)".to_string(),
        ),
    };
    if class == RetentionClass::Unclassified {
        basis = format!("unclassified, kept like a {basis}");
    }
    let retention_ends = end_of_year(year + period_years);
    let mut earliest_erasure = first_of_year(year + period_years + 1);
    if voucher_like && period_years == 8 && earliest_erasure < beg_iv_in_force() {
        // BEG IV shortened periods that were still running; it did not make
        // erasure lawful before it took effect.
        earliest_erasure = beg_iv_in_force();
        basis.push_str("; erasable from BEG IV's entry into force");
    }
    apply_holds(&mut earliest_erasure, &mut basis, profile);
    Deadline {
        class,
        period_years,
        retention_ends,
        earliest_erasure,
        basis,
    }
}

/// The first day mail dated in `year` is due for erasure review in a folder
/// the organisation keeps `years` years under its own policy (a
/// non-business folder of the audit profile; no statutory period applies),
/// with the basis for the report.
///
/// - `years = 0` means no retention period, "erase any time" as the profile
///   documents it: the mail is due from 1 Jan of its own year, so anything
///   dated up to the scan is due at once (Art. 5(1)(e) DSGVO).
/// - `years = N` counts like the statutory periods, from the end of the
///   calendar year: due from 1 Jan of `year + N + 1`.
/// - Holds cover every folder: nothing is due before a hold ends.
pub fn own_period_erasure(
    year: i32,
    years: u32,
    profile: &RetentionProfile,
) -> (NaiveDate, String) {
    policy_erasure(year, years, "non-business folder", profile)
}

/// Like [`own_period_erasure`], for any mail no statutory period covers
/// (`what` names it in the basis: a non-business folder, or a class such
/// as newsletters that the class file maps to no statutory period).
pub fn policy_erasure(
    year: i32,
    years: u32,
    what: &str,
    profile: &RetentionProfile,
) -> (NaiveDate, String) {
    let (mut due, mut basis) = if years == 0 {
        (
            first_of_year(year),
            format!("{what}, no retention period by the organisation's policy"),
        )
    } else {
        (
            first_of_year(year.saturating_add_unsigned(years).saturating_add(1)),
            format!(
                "{what}, kept {years} year{} by the organisation's policy",
                if years == 1 { "" } else { "s" }
            ),
        )
    };
    apply_holds(&mut due, &mut basis, profile);
    (due, basis)
}

/// Pushes `due` past every hold that ends later (§ 147(3) AO, legal holds).
fn apply_holds(due: &mut NaiveDate, basis: &mut String, profile: &RetentionProfile) {
    for hold in &profile.holds {
        let after = hold.until.succ_opt().unwrap_or(hold.until);
        if after > *due {
            *due = after;
            basis.push_str(&format!("; held until {}: {}", hold.until, hold.reason));
        }
    }
}

fn end_of_year(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

fn first_of_year(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn erasure(
        class: RetentionClass,
        date: NaiveDate,
        profile: &RetentionProfile,
        as_of: NaiveDate,
    ) -> NaiveDate {
        deadline(class, date, profile, as_of).earliest_erasure
    }

    const SCAN: (i32, u32, u32) = (2026, 11, 26);

    fn scan() -> NaiveDate {
        day(SCAN.0, SCAN.1, SCAN.2)
    }

    #[test]
    fn the_legal_basis_example_a_handelsbrief_of_february_2026() {
        // "a Handelsbrief received on 3 Feb 2026 may be erased from 1 Jan 2033"
        let d = deadline(
            RetentionClass::HandelsbriefIn,
            day(2026, 2, 3),
            &RetentionProfile::default(),
            scan(),
        );
        assert_eq!(d.retention_ends, day(2032, 12, 31));
        assert_eq!(d.earliest_erasure, day(2033, 1, 1));
        assert!(!d.review_due(scan()));
    }

    #[test]
    fn the_period_starts_at_the_end_of_the_calendar_year() {
        let profile = RetentionProfile::default();
        let january = erasure(
            RetentionClass::HandelsbriefOut,
            day(2019, 1, 1),
            &profile,
            scan(),
        );
        let december = erasure(
            RetentionClass::HandelsbriefOut,
            day(2019, 12, 31),
            &profile,
            scan(),
        );
        assert_eq!(january, day(2026, 1, 1));
        assert_eq!(january, december);
        assert!(
            deadline(
                RetentionClass::HandelsbriefOut,
                day(2019, 5, 1),
                &profile,
                scan()
            )
            .review_due(scan())
        );
    }

    #[test]
    fn vouchers_keep_8_years_since_beg_iv() {
        let profile = RetentionProfile::default();
        let d = deadline(RetentionClass::Voucher, day(2018, 3, 1), &profile, scan());
        assert_eq!(d.period_years, 8);
        assert_eq!(d.earliest_erasure, day(2027, 1, 1));
        assert_eq!(
            erasure(RetentionClass::Voucher, day(2016, 6, 1), &profile, scan()),
            day(2025, 1, 1)
        );
    }

    #[test]
    fn transition_vouchers_still_running_on_31_december_2024_are_erasable_from_2025() {
        let profile = RetentionProfile::default();
        // 2015: the old period would have run to 31 Dec 2025; 8 years ended
        // 31 Dec 2023, but erasure is lawful only from 1 Jan 2025.
        let d = deadline(RetentionClass::Voucher, day(2015, 3, 1), &profile, scan());
        assert_eq!(d.period_years, 8);
        assert_eq!(d.retention_ends, day(2023, 12, 31));
        assert_eq!(d.earliest_erasure, day(2025, 1, 1));
        assert!(d.basis.contains("BEG IV"));
        // 2014: the old period ended on 31 Dec 2024 and stays 10 years.
        let d = deadline(RetentionClass::Voucher, day(2014, 7, 1), &profile, scan());
        assert_eq!(d.period_years, 10);
        assert_eq!(d.earliest_erasure, day(2025, 1, 1));
        assert_eq!(
            erasure(RetentionClass::Voucher, day(2013, 7, 1), &profile, scan()),
            day(2024, 1, 1)
        );
    }

    #[test]
    fn before_2025_vouchers_kept_10_years() {
        let d = deadline(
            RetentionClass::Voucher,
            day(2016, 6, 1),
            &RetentionProfile::default(),
            day(2024, 6, 1),
        );
        assert_eq!(d.period_years, 10);
        assert_eq!(d.earliest_erasure, day(2027, 1, 1));
    }

    #[test]
    fn the_financial_sector_keeps_vouchers_10_years() {
        let profile = RetentionProfile {
            financial_sector: true,
            ..RetentionProfile::default()
        };
        assert_eq!(
            erasure(RetentionClass::Voucher, day(2020, 1, 15), &profile, scan()),
            day(2031, 1, 1)
        );
        assert_eq!(
            erasure(
                RetentionClass::Unclassified,
                day(2020, 1, 15),
                &profile,
                scan()
            ),
            day(2031, 1, 1)
        );
        // Handelsbriefe are not affected.
        assert_eq!(
            erasure(
                RetentionClass::HandelsbriefIn,
                day(2020, 1, 15),
                &profile,
                scan()
            ),
            day(2027, 1, 1)
        );
    }

    #[test]
    fn unclassified_mail_is_kept_like_a_voucher() {
        let d = deadline(
            RetentionClass::Unclassified,
            day(2018, 11, 2),
            &RetentionProfile::default(),
            scan(),
        );
        assert_eq!(d.period_years, 8);
        assert_eq!(d.earliest_erasure, day(2027, 1, 1));
        assert!(d.basis.starts_with("unclassified"));
        assert!(!d.review_due(scan()));
    }

    #[test]
    fn books_keep_10_years() {
        assert_eq!(
            erasure(
                RetentionClass::Books,
                day(2015, 12, 31),
                &RetentionProfile::default(),
                scan()
            ),
            day(2026, 1, 1)
        );
    }

    #[test]
    fn a_non_business_folder_kept_0_years_is_due_for_review_at_once() {
        // The profile documents `0` as "erase any time": no retention
        // period, so this year's mail is due on the scan date already.
        let profile = RetentionProfile::default();
        let (due, basis) = own_period_erasure(2026, 0, &profile);
        assert!(due <= scan(), "due {due}");
        assert!(due <= day(2026, 1, 1), "due {due}");
        assert!(basis.contains("no retention period"), "{basis}");
        // A period of N years still starts at the end of the calendar year.
        assert_eq!(own_period_erasure(2024, 1, &profile).0, day(2026, 1, 1));
        assert_eq!(own_period_erasure(2025, 1, &profile).0, day(2027, 1, 1));
    }

    #[test]
    fn holds_cover_non_business_folders_too() {
        let profile = RetentionProfile {
            financial_sector: false,
            holds: vec![Hold {
                until: day(2027, 6, 30),
                reason: "litigation".into(),
            }],
        };
        let (due, basis) = own_period_erasure(2020, 0, &profile);
        assert_eq!(due, day(2027, 7, 1));
        assert!(basis.contains("litigation"), "{basis}");
    }

    #[test]
    fn holds_push_erasure_past_their_end() {
        let profile = RetentionProfile {
            financial_sector: false,
            holds: vec![Hold {
                until: day(2030, 6, 30),
                reason: "tax audit 2019-2021".into(),
            }],
        };
        let d = deadline(
            RetentionClass::HandelsbriefIn,
            day(2019, 4, 1),
            &profile,
            scan(),
        );
        assert_eq!(d.earliest_erasure, day(2030, 7, 1));
        assert!(d.basis.contains("tax audit"));
        assert!(!d.review_due(scan()));
        // A hold that ended earlier changes nothing.
        let short = RetentionProfile {
            financial_sector: false,
            holds: vec![Hold {
                until: day(2020, 1, 1),
                reason: "old".into(),
            }],
        };
        assert_eq!(
            erasure(
                RetentionClass::HandelsbriefIn,
                day(2019, 4, 1),
                &short,
                scan()
            ),
            day(2026, 1, 1)
        );
    }
}
