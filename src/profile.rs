//! The audit profile (`mailaudit.toml`, `--profile`): what the scanner
//! cannot know and the organisation declares. Whether it is a Kaufmann or in
//! the financial sector, whether a GoBD archive exists, whether POP3 clients
//! are in use, how non-business folders are kept, legal holds, and whether
//! an AVV (Art. 28 DSGVO) with the provider exists. The report prints the
//! profile it used as its assumptions; without a file every field has its
//! cautious default, and the rules that need a declaration say so.
//!
//! `docs/mailaudit.example.toml` is the commented example.

use crate::finding::{Acceptance, Finding, Status};
use crate::retention::{Hold, RetentionProfile};
use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// The whole profile. Unknown keys are errors, so a typo is not silently
/// ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AuditProfile {
    /// True when the profile came from a file; false for the defaults.
    /// Set by [`AuditProfile::load`], whatever the file says.
    pub declared: bool,
    pub organisation: Organisation,
    pub archive: Archive,
    pub pop3: Pop3Use,
    pub retention: RetentionPolicy,
    pub provider: Provider,
    /// Failures accepted for a while (risk acceptance): shown, marked, and
    /// not failing the build until they expire.
    pub accepted: Vec<AcceptedFinding>,
    /// The consultant's name, logo and colour on the report.
    pub branding: Branding,
    /// How often the domains are audited (GOV-001).
    pub audit: AuditSchedule,
}

/// `[audit]`: the regular testing Art. 32(1)(d) DSGVO asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSchedule {
    /// How often every domain is scanned: `monthly`, `quarterly`,
    /// `half-yearly`, `yearly`, or a number of days (`"45 days"`).
    pub interval: Option<String>,
    /// The interval in days, computed from `interval` when the profile is
    /// loaded (the longest such calendar period: a quarter is 92 days), so
    /// a saved report is judged again without parsing it.
    pub interval_days: Option<u32>,
    /// The domains to be audited regularly: `mailaudit history check`
    /// reports each that the history holds no scan of (normalised when the
    /// profile is loaded).
    pub domains: Vec<String>,
}

impl AuditSchedule {
    /// Days in an interval as the profile writes it.
    pub fn days_of(interval: &str) -> Option<u32> {
        let text = interval.trim().to_ascii_lowercase();
        match text.as_str() {
            "monthly" => Some(31),
            "quarterly" => Some(92),
            "half-yearly" | "half_yearly" | "semi-annually" => Some(184),
            "yearly" | "annually" => Some(366),
            other => {
                let number = other
                    .strip_suffix("days")
                    .or_else(|| other.strip_suffix("day"))
                    .unwrap_or(other)
                    .trim();
                number.parse::<u32>().ok().filter(|&days| days > 0)
            }
        }
    }
}

/// `[branding]`: who hands the report over, and how it looks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Branding {
    /// The auditor or consultancy named on the cover and in the footer.
    pub auditor: Option<String>,
    /// A PNG, JPEG or SVG file (at most 512 KiB), relative to the profile.
    pub logo: Option<String>,
    /// The accent colour, `#rrggbb`.
    pub colour: Option<String>,
    /// The logo as a `data:` URI, read when the profile is loaded, so a
    /// saved report renders again without the file.
    pub logo_data_uri: Option<String>,
}

/// Largest logo embedded.
const MAX_LOGO: u64 = 512 << 10;

/// `[[accepted]]`: a failure the organisation has decided to live with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedFinding {
    /// The rule ID, e.g. `DNS-003`.
    pub rule: String,
    /// The subject, e.g. `mx.example.org:25`; absent for every subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Why, and who decided (shown in the report).
    pub reason: String,
    /// The last day the acceptance holds; after it the failure counts again.
    pub until: NaiveDate,
}

/// Who is audited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Organisation {
    /// Shown on the report's cover.
    pub name: Option<String>,
    /// Kaufmann under §§ 1–6 HGB: § 257 HGB applies. Unknown counts as yes
    /// (the cautious reading).
    pub kaufmann: Option<bool>,
    /// Banks, insurers, securities firms: vouchers are kept 10 years.
    pub financial_sector: bool,
}

/// Archiving outside the mailbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Archive {
    /// A journaling or GoBD archive keeps every message independently of
    /// the mailbox (RET-004 then passes).
    pub gobd_archive: bool,
    /// What it is, for the report (product, operator).
    pub description: Option<String>,
}

/// POP3 use (RET-007).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Pop3Use {
    /// Mail clients fetch this mailbox over POP3.
    pub clients_in_use: bool,
    /// Expected messages per year of activity; fewer on the server suggests
    /// clients delete after download (default 50).
    pub expected_messages_per_year: Option<u32>,
}

/// How long mail is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionPolicy {
    /// Folders that hold no business mail, with how many years the
    /// organisation keeps them (0: erase any time). They get no statutory
    /// period. A folder is named as the report shows it (`Archive/2015`,
    /// without a personal namespace prefix such as Cyrus's `INBOX.`) or as
    /// the server sends it (`INBOX.Archive.2015`).
    pub non_business_folders: BTreeMap<String, u32>,
    /// Folders whose every message is kept for one period of the class
    /// file (`books`, `voucher`, `handelsbrief`, `no_statutory_period`),
    /// whatever its class: `"Rechnungen" = "voucher"`. Named like
    /// `non_business_folders`, which take precedence.
    pub folder_periods: BTreeMap<String, String>,
    /// The period for mail no class pattern matched (the class file's
    /// fallback), instead of the cautious default, the voucher period.
    pub unclassified_period: Option<String>,
    /// Legal holds and open tax assessments: nothing is erasable before.
    pub holds: Vec<ProfileHold>,
}

/// A legal hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileHold {
    pub until: NaiveDate,
    pub reason: String,
    /// The folders the hold covers, named as in `non_business_folders`;
    /// empty (the default): every folder of every mailbox.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<String>,
}

/// The mail provider as a processor (GOV-002).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Provider {
    /// A data-processing agreement (AVV, Art. 28(3) DSGVO) exists.
    pub avv: Option<bool>,
    /// For servers outside the EEA: the transfer basis (Art. 45 adequacy
    /// decision, Art. 46 standard contractual clauses, …).
    pub transfer_basis: Option<String>,
}

/// Why a profile could not be read.
#[derive(Debug, Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {error}")]
    Read { path: String, error: String },
    #[error("profile {path} is not valid: {error}(docs/mailaudit.example.toml shows every key)")]
    Parse { path: String, error: String },
}

impl AuditProfile {
    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<AuditProfile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|error| ProfileError::Read {
            path: path.display().to_string(),
            error: error.to_string(),
        })?;
        let mut profile: AuditProfile =
            toml::from_str(&text).map_err(|error| ProfileError::Parse {
                path: path.display().to_string(),
                error: error.to_string(),
            })?;
        profile.declared = true;
        let bad = |error: String| ProfileError::Parse {
            path: path.display().to_string(),
            error,
        };
        let periods = crate::mail_class::PERIOD_KEYS;
        let named = profile.retention.folder_periods.iter();
        let unclassified = profile.retention.unclassified_period.iter();
        for (place, key) in named
            .map(|(folder, key)| (format!("[retention.folder_periods] \"{folder}\""), key))
            .chain(unclassified.map(|key| ("[retention] unclassified_period".to_string(), key)))
        {
            if !periods.contains(&key.as_str()) {
                return Err(bad(format!(
                    "{place} = \"{key}\" is not a period of the class file; use one of {}; ",
                    periods.join(", ")
                )));
            }
        }
        if let Some(interval) = &profile.audit.interval {
            profile.audit.interval_days = Some(AuditSchedule::days_of(interval).ok_or_else(|| {
                bad(format!(
                    "[audit] interval '{interval}' is not monthly, quarterly, half-yearly, yearly or a number of days such as \"45 days\"; "
                ))
            })?);
        }
        for domain in &mut profile.audit.domains {
            *domain = crate::target::parse_domain(domain)
                .map_err(|error| bad(format!("[audit] domains: {error}; ")))?;
        }
        if let Some(colour) = &profile.branding.colour {
            let hex = colour.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "[branding] colour '{colour}' is not #rrggbb; "
                )));
            }
        }
        if let Some(logo) = &profile.branding.logo {
            let file = path.parent().unwrap_or(Path::new(".")).join(logo);
            let mime = match file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("png") => "image/png",
                Some("jpg" | "jpeg") => "image/jpeg",
                Some("svg") => "image/svg+xml",
                _ => {
                    return Err(bad(format!(
                        "[branding] logo '{logo}' must be a .png, .jpg or .svg file; "
                    )));
                }
            };
            let size = std::fs::metadata(&file)
                .map_err(|e| bad(format!("[branding] logo {}: {e}; ", file.display())))?
                .len();
            if size > MAX_LOGO {
                return Err(bad(format!(
                    "[branding] logo {} has {size} bytes, more than {MAX_LOGO}; ",
                    file.display()
                )));
            }
            let bytes = std::fs::read(&file)
                .map_err(|e| bad(format!("[branding] logo {}: {e}; ", file.display())))?;
            profile.branding.logo_data_uri = Some(format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ));
        }
        Ok(profile)
    }

    /// Marks the failed findings an unexpired `[[accepted]]` entry covers,
    /// judged on `on` (the scan date).
    pub fn accept(&self, findings: &mut [Finding], on: NaiveDate) {
        for finding in findings.iter_mut().filter(|f| f.status == Status::Fail) {
            finding.accepted = self
                .accepted
                .iter()
                .find(|a| {
                    a.rule == finding.rule
                        && a.subject.as_ref().is_none_or(|s| *s == finding.subject)
                        && a.until >= on
                })
                .map(|a| Acceptance {
                    reason: a.reason.clone(),
                    until: a.until,
                });
        }
    }

    /// The retention engine's view of the profile, with every hold.
    pub fn retention(&self) -> RetentionProfile {
        self.retention_where(|_| true)
    }

    /// The retention engine's view of the profile for one folder, named as
    /// the report shows it (`display_name`) and as the server sends it:
    /// the holds that cover it.
    pub fn retention_in(&self, display_name: &str, name: &str) -> RetentionProfile {
        self.retention_where(|hold| {
            hold.folders.is_empty() || hold.folders.iter().any(|f| f == display_name || f == name)
        })
    }

    fn retention_where(&self, covers: impl Fn(&ProfileHold) -> bool) -> RetentionProfile {
        RetentionProfile {
            financial_sector: self.organisation.financial_sector,
            holds: self
                .retention
                .holds
                .iter()
                .filter(|h| covers(h))
                .map(|h| Hold {
                    until: h.until,
                    reason: h.reason.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
