//! What the rules stage concluded besides the findings, stored in the
//! report so that renderers only format it: the overall grade, which
//! certificates expire soon, each audited mailbox's retention view, and the
//! period unclassified mail is kept under the audit profile.
//!
//! The rules stage fills it (`rules::assess`); a report written before
//! schema 1.4 has none, and `rules::reevaluate` computes it again from the
//! saved evidence.

use crate::finding::Severity;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The judgements a renderer shows beside the findings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Assessment {
    /// The overall grade; none in a report written before schema 1.4
    /// (re-evaluate it with `mailaudit report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// Days left below which a certificate counts as expiring (CRT-001's
    /// `expiring_days`); none when the rule set has no CRT-001.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiring_days: Option<i64>,
    /// Each distinct leaf certificate of the scanned endpoints.
    #[serde(default)]
    pub certificates: Vec<CertificateExpiry>,
    /// Each audited mailbox, in the order of the targets' evidence.
    #[serde(default)]
    pub mailboxes: Vec<MailboxRetention>,
    /// Each domain with audited mailboxes: their views added up.
    #[serde(default)]
    pub organisations: Vec<OrganisationRetention>,
    /// The years unclassified mail is kept (like vouchers, BEG IV's
    /// transition and the financial sector included) at the scan date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unclassified_retention_years: Option<i32>,
    /// The works the findings cite, once each, in order of first citation:
    /// the sources the appendix lists.
    #[serde(default)]
    pub sources: Vec<crate::finding::Work>,
}

impl Assessment {
    /// The expiry judgement of the leaf certificate with this SHA-256.
    pub fn certificate(&self, sha256: &str) -> Option<&CertificateExpiry> {
        self.certificates.iter().find(|c| c.sha256 == sha256)
    }

    /// The retention view of the mailbox `user` on `server`.
    pub fn mailbox(&self, user: &str, server: &str) -> Option<&RetentionView> {
        self.mailboxes
            .iter()
            .find(|m| m.user == user && m.server == server)
            .map(|m| &m.retention)
    }
}

/// The overall grade: the worst failed severity, A (nothing above info) to
/// F (critical). Inconclusive checks do not lower it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Grade {
    A,
    B,
    C,
    D,
    F,
}

impl Grade {
    /// The grade a worst failed severity (none: nothing failed) gives.
    pub fn of(worst: Option<Severity>) -> Grade {
        match worst {
            None | Some(Severity::Info) => Grade::A,
            Some(Severity::Low) => Grade::B,
            Some(Severity::Medium) => Grade::C,
            Some(Severity::High) => Grade::D,
            Some(Severity::Critical) => Grade::F,
        }
    }

    /// The letter.
    pub fn letter(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        }
    }
}

/// Whether one leaf certificate expires soon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateExpiry {
    pub sha256: String,
    /// Days from the scan to `not_after`, as the probe recorded them.
    pub days_left: i64,
    /// Fewer days left than [`Assessment::expiring_days`] (expired ones too).
    pub expiring: bool,
}

/// The retention view of one audited mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MailboxRetention {
    pub user: String,
    pub server: String,
    pub retention: RetentionView,
}

/// Messages of one folder and year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct YearCount {
    pub folder: String,
    pub year: i32,
    pub count: u32,
    /// The first day erasure may be reviewed.
    pub earliest_erasure: NaiveDate,
    /// Examples from `--show-messages` ("folder year: date, sender,
    /// subject"); empty without it.
    pub samples: Vec<String>,
}

/// Messages of one class in one folder and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClassCount {
    pub folder: String,
    pub year: i32,
    /// A class id of the class file the evidence names.
    pub class: String,
    pub count: u32,
}

/// Messages of one class in one folder and year, with the period they are
/// kept for and when they are due for erasure review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClassYear {
    pub folder: String,
    pub year: i32,
    pub class: String,
    pub count: u32,
    /// The period key (`voucher`, `handelsbrief`, `books`,
    /// `no_statutory_period`), or `organisation` for a non-business folder
    /// of the audit profile.
    pub period: String,
    /// The last day of retention ("keep until").
    pub retention_ends: NaiveDate,
    /// The first day erasure may be reviewed, holds included.
    pub earliest_erasure: NaiveDate,
    /// `earliest_erasure` is on or before the scan date.
    pub review_due: bool,
}

/// One class over a mailbox (or an organisation): what must still be
/// kept, until when, and what is due for erasure review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClassSummary {
    pub class: String,
    /// The class's name in the class file, German and English.
    pub title_de: String,
    pub title_en: String,
    pub messages: u64,
    /// Messages whose earliest erasure date has passed.
    pub review_due: u64,
    /// The latest last day of retention of the messages still kept; none
    /// when every message of the class is due.
    pub keep_until: Option<NaiveDate>,
    /// The next day more of the class becomes due for review; none when
    /// every message is due.
    pub next_review: Option<NaiveDate>,
}

/// The retention view of every audited mailbox of one domain together,
/// judged as the subject `org:DOMAIN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrganisationRetention {
    pub domain: String,
    /// Mailboxes named for the domain, and of those, whose folders were read.
    pub mailboxes: u32,
    pub audited: u32,
    /// The mailboxes that could not be audited, with why.
    pub incomplete: Vec<MailboxProblem>,
    /// Their views added up: counts summed by folder name, year and class.
    pub retention: RetentionView,
}

/// A mailbox the audit could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MailboxProblem {
    pub user: String,
    pub reason: String,
}

/// What the retention rules read (as `retention`) and the report shows:
/// the evidence of one mailbox put through the retention engine with the
/// audit profile at the scan date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RetentionView {
    pub as_of: NaiveDate,
    /// Why the periods are what they are (period, class, holds).
    pub basis: Vec<String>,
    /// Years with any message in any folder.
    pub activity_years: Vec<i32>,
    pub has_sent_folder: bool,
    pub sent_messages: u64,
    pub sent_years: Vec<i32>,
    /// Years inside RET-001's window (`sent_window_years`) with mail in
    /// folders other than Sent and Junk but none in Sent. The current year
    /// is left out: it has not ended.
    pub missing_sent_years: Vec<i32>,
    /// Messages whose earliest erasure date has passed (RET-002).
    pub past_deadline: Vec<YearCount>,
    pub past_deadline_total: u64,
    /// Messages in Trash or Junk still inside their period (RET-003).
    pub retained_in_trash: Vec<YearCount>,
    pub retained_in_trash_total: u64,
    /// Of those, the invoices (classes with the voucher period other than
    /// the fallback class, e.g. `e_invoice`, `likely_invoice`), by folder,
    /// year and class (RET-003). Empty without classes in the evidence.
    #[serde(default)]
    pub invoices_in_trash: Vec<ClassCount>,
    #[serde(default)]
    pub invoices_in_trash_total: u64,
    /// Whether the evidence holds the classes of the mailbox's messages
    /// (recorded since schema 1.5); RET-008 requires it.
    #[serde(default)]
    pub messages_classified: bool,
    /// Messages of the invoice classes in every folder (RET-008).
    #[serde(default)]
    pub invoices_total: u64,
    /// Messages by folder, year and class with their deadlines (since
    /// schema 1.6; without classes in the evidence, one fallback class).
    #[serde(default)]
    pub class_years: Vec<ClassYear>,
    /// Each class over the mailbox, in the class file's order (RET-002).
    #[serde(default)]
    pub classes: Vec<ClassSummary>,
    /// Messages in INBOX, and the span of activity in years (RET-007).
    pub inbox_messages: u64,
    pub activity_span_years: i32,
    /// Messages a mailbox of this age is expected to keep at least.
    pub expected_minimum: u64,
}
