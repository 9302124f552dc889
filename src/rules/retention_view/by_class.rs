//! The deadline of each class of message in one folder and year.
//!
//! The class file (`rules/classes/mail-classes.toml`) maps each class to a
//! period: vouchers (e-invoices, likely invoices), Handelsbriefe (calendar
//! invitations), or no statutory period (newsletters, automatic messages).
//! The audit profile overrides it in this order:
//! 1. a non-business folder keeps the organisation's own period for
//!    everything in it;
//! 2. `folder_periods` gives every message of a folder one period;
//! 3. `unclassified_period` gives the fallback class another period.
//!
//! Messages the evidence holds no class for (evidence from before schema
//! 1.5, or folders the probe could not classify) count as the fallback
//! class, so doubt never shortens a period. The class file is the rule
//! set's (`Tables::classes`: the embedded one, `DIR/classes/` of `--rules
//! DIR`, or `--class-file FILE`).

use crate::evidence::{FolderEvidence, FolderRole};
use crate::mail_class::ClassFile;
use crate::profile::AuditProfile;
use crate::retention::{RetentionClass, RetentionProfile, deadline, policy_erasure};
use chrono::NaiveDate;
use std::sync::OnceLock;

/// The embedded class file, parsed once: the one to use where no rule set
/// names another (a rule parsed alone); `None` only if it were broken (a
/// unit test keeps it whole), and then every message is the fallback.
pub fn default_class_file() -> Option<&'static ClassFile> {
    static FILE: OnceLock<Option<ClassFile>> = OnceLock::new();
    FILE.get_or_init(|| ClassFile::defaults().ok()).as_ref()
}

/// The fallback class id of `file` ("unclassified" without one).
fn fallback(file: Option<&ClassFile>) -> &str {
    file.map_or("unclassified", |f| f.fallback.as_str())
}

/// One folder's `count` messages of `year`, by class: the classified
/// counts in the class file's order, and the rest as the fallback class.
pub fn split(
    file: Option<&ClassFile>,
    folder: &FolderEvidence,
    year: i32,
    count: u32,
) -> Vec<(String, u32)> {
    let mut parts: Vec<(String, u32)> = Vec::new();
    let mut left = count;
    if let Some(classes) = folder.classes.get(&year) {
        let order = |class: &str| {
            file.and_then(|f| f.classes.iter().position(|c| c.id == class))
                .unwrap_or(usize::MAX)
        };
        let mut known: Vec<(&String, &u32)> = classes.iter().collect();
        known.sort_by_key(|(class, _)| order(class));
        for (class, &n) in known {
            let n = n.min(left);
            if n > 0 {
                parts.push((class.clone(), n));
                left -= n;
            }
        }
    }
    if left > 0 {
        match parts.iter_mut().find(|(c, _)| c == fallback(file)) {
            Some((_, n)) => *n += left,
            None => parts.push((fallback(file).to_string(), left)),
        }
    }
    parts
}

/// When messages of one class, folder and year are due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassDeadline {
    /// The period key, or `organisation` for a non-business folder.
    pub period: String,
    pub retention_ends: NaiveDate,
    pub earliest_erasure: NaiveDate,
    pub basis: String,
}

/// The deadline of messages of `class` dated in `year` in `folder`.
pub fn deadline_of(
    file: Option<&ClassFile>,
    folder: &FolderEvidence,
    class: &str,
    year: i32,
    profile: &AuditProfile,
    retention: &RetentionProfile,
    as_of: NaiveDate,
) -> ClassDeadline {
    let named = |map: &std::collections::BTreeMap<String, _>| {
        map.get(&folder.display_name).is_some() || map.get(&folder.name).is_some()
    };
    let policy = &profile.retention;
    if named(&policy.non_business_folders) {
        let years = policy
            .non_business_folders
            .get(&folder.display_name)
            .or_else(|| policy.non_business_folders.get(&folder.name))
            .copied()
            .unwrap_or(0);
        let (due, why) = policy_erasure(year, years, "non-business folder", retention);
        return ClassDeadline {
            period: "organisation".into(),
            retention_ends: due.pred_opt().unwrap_or(due),
            earliest_erasure: due,
            basis: format!("{}: {why}", folder.display_name),
        };
    }
    let known = file.and_then(|f| f.class(class));
    let is_fallback = class == fallback(file) || known.is_none();
    let period = policy
        .folder_periods
        .get(&folder.display_name)
        .or_else(|| policy.folder_periods.get(&folder.name))
        .or(if is_fallback {
            policy.unclassified_period.as_ref()
        } else {
            None
        })
        .cloned()
        .or_else(|| known.map(|c| c.period.clone()))
        .unwrap_or_else(|| "voucher".into());
    let date = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(as_of);
    let engine = |kind| {
        let found = deadline(kind, date, retention, as_of);
        (found.retention_ends, found.earliest_erasure, found.basis)
    };
    let (retention_ends, earliest_erasure, basis) = match period.as_str() {
        "books" => engine(RetentionClass::Books),
        "handelsbrief" if folder.role == FolderRole::Sent => {
            engine(RetentionClass::HandelsbriefOut)
        }
        "handelsbrief" => engine(RetentionClass::HandelsbriefIn),
        "no_statutory_period" => {
            let years = file
                .and_then(|f| f.periods.get("no_statutory_period"))
                .map_or(0, |p| p.years);
            let what = format!("{class} (no statutory period)");
            let (due, why) = policy_erasure(year, years, &what, retention);
            (due.pred_opt().unwrap_or(due), due, why)
        }
        // The fallback with the voucher period is "unclassified, kept like
        // a voucher"; a named voucher class is a voucher.
        _ if is_fallback && policy.unclassified_period.is_none() => {
            engine(RetentionClass::Unclassified)
        }
        _ => engine(RetentionClass::Voucher),
    };
    ClassDeadline {
        period,
        retention_ends,
        earliest_erasure,
        basis,
    }
}
