//! The rule file format (TOML), one file per catalogue ID, and its checks.
//!
//! ```toml
//! id = "TLS-001"
//! area = "transport"
//! subject = "endpoint"            # or "domain"
//! severity = "critical"
//! references = ["BSI TR-03108-1", "DSGVO Art. 32(1)(a)"]
//! [[bind]]                        # optional: name a sub-view
//! name = "leaf"
//! value = "endpoint.tls.value.chain[0]"
//! applies = "endpoint.port == 25" # CEL; false gives not_applicable
//! requires = ["endpoint.dialogue"] # attempts that must have completed
//! title = { de = "…", en = "…" }
//! remediation = { de = "…", en = "…" }
//! pass = { de = "…", en = "…" }
//! [[fail]]                         # first matching check fails the rule
//! when = "!endpoint.dialogue.value.starttls_offered"
//! severity = "critical"            # optional, defaults to the rule's
//! detail = { de = "… {{ cel }} …", en = "…" }
//! [[adjust]]                       # optional: re-grade a failure
//! when = "endpoint.role == 'mx'"
//! severity = "medium"
//! detail = { de = "…", en = "…" }
//! [[inconclusive]]                 # optional, after no check failed:
//! when = "…"                       # evidence missing for part of the
//! reason = { de = "…", en = "…" }  # subject, so no pass
//! [parameters]                     # optional: named numbers, read in CEL
//! expiring_days = 30               # as parameters.expiring_days
//! [[example]]                      # fixtures run by the test suite
//! expect = "fail"
//! endpoint = { … }
//! ```

use crate::finding::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A text in both report languages.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub de: String,
    pub en: String,
}

impl Text {
    /// The text for the language code `de` or `en` (`en` otherwise).
    pub fn get_str(&self, language: &str) -> &str {
        if language == "de" { &self.de } else { &self.en }
    }

    /// The text in `language` (`de` or `en`).
    pub fn get(&self, language: crate::Language) -> &str {
        match language {
            crate::Language::De => &self.de,
            crate::Language::En => &self.en,
        }
    }
}

/// A rule file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub id: String,
    pub area: String,
    pub subject: SubjectKind,
    pub severity: String,
    pub references: Vec<String>,
    /// Named sub-views computed before anything else, e.g. the location
    /// entry of this endpoint; later bindings and all expressions can use
    /// them, and `requires` can name attempts inside them.
    #[serde(default)]
    pub bind: Vec<BindFile>,
    #[serde(default)]
    pub applies: Option<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    pub title: Text,
    pub remediation: Text,
    pub pass: Text,
    pub fail: Vec<CheckFile>,
    /// Severity changes for a failed subject, first match wins (the
    /// catalogue's "medium, low when DANE is valid" and the like); `detail`
    /// is appended to the finding's detail.
    #[serde(default)]
    pub adjust: Vec<CheckFile>,
    /// Conditions under which the rule is inconclusive when no `[[fail]]`
    /// matched: part of the evidence is missing (one folder's ACL could not
    /// be read), so what was seen cannot pass the subject. They come after
    /// the checks because a failure the available evidence shows stands.
    #[serde(default)]
    pub inconclusive: Vec<InconclusiveFile>,
    #[serde(default)]
    pub example: Vec<Example>,
    /// Named numbers: CEL reads them as `parameters.NAME`, and the rules
    /// stage reads the thresholds it owns (`rules::Thresholds`).
    #[serde(default)]
    pub parameters: BTreeMap<String, i64>,
}

/// One condition that leaves the rule inconclusive, with the reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InconclusiveFile {
    pub when: String,
    pub reason: Text,
}

/// One named binding: `name = CEL expression`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindFile {
    pub name: String,
    pub value: String,
}

/// One failing condition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    pub when: String,
    #[serde(default)]
    pub severity: Option<String>,
    pub detail: Text,
}

/// What kind of subject a rule is evaluated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// `dns:DOMAIN`; variables `domain`, `now`.
    Domain,
    /// `HOST:PORT`; variables `endpoint`, `host`, `domain`, `now`.
    Endpoint,
    /// `mailbox:USER`; variables `mailbox`, `retention` (the retention
    /// view at the scan date), `domain`, `profile`, `now`.
    Mailbox,
}

/// A fixture: variables and the status the rule must give.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    pub expect: String,
    #[serde(default)]
    pub severity: Option<String>,
    /// RFC 3339 scan time; defaults to 2026-11-26T00:00:00Z.
    #[serde(default)]
    pub now: Option<String>,
    #[serde(flatten)]
    pub variables: BTreeMap<String, toml::Value>,
}

pub use crate::finding::AREAS;

/// Prefixes a reference must start with (the short forms of rule-catalogue.md
/// written out so a reader can look them up).
pub const REFERENCE_PREFIXES: [&str; 11] = [
    "DSGVO Art. ",
    "BDSG § ",
    "HGB § 257",
    "AO § 147",
    "GoBD",
    "BSI TR-02102-",
    "BSI TR-03108-1",
    "BSI TR-03116-4",
    "DSK Orientierungshilfe E-Mail",
    "RFC ",
    "UStG § 14b",
];

/// Technical guidelines a reference must cite with the edition the rule
/// implements, in parentheses: `BSI TR-02102-2 (2026-01)`. The BSI revises
/// TR-02102 every year and a finding is only as good as the edition behind
/// it (legal-basis.md: TR-02102-2 edition 2026-01, TR-03108-1 version 2).
/// TR-03116-4 is not listed: legal-basis.md records no edition for it.
pub const EDITION_REQUIRED: [&str; 2] = ["BSI TR-02102-", "BSI TR-03108-1"];

/// Checks a reference's form; `None` when it is well formed.
pub fn reference_problem(reference: &str) -> Option<String> {
    let Some(prefix) = REFERENCE_PREFIXES
        .iter()
        .find(|p| reference.starts_with(*p))
    else {
        return Some(format!(
            "reference '{reference}' does not start with a known source ({})",
            REFERENCE_PREFIXES.join(", ")
        ));
    };
    let rest = &reference[prefix.len()..];
    let needs_number = matches!(*prefix, "DSGVO Art. " | "BDSG § " | "RFC ");
    if needs_number && !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!(
            "reference '{reference}' must name a number after '{}'",
            prefix.trim()
        ));
    }
    if EDITION_REQUIRED.contains(prefix) {
        // "2 (2026-01)" after "BSI TR-02102-", " (version 2)" after
        // "BSI TR-03108-1": a part number where the prefix ends in '-',
        // then the edition, which names at least a year or a number.
        let (part, edition) = rest.split_once(" (").unwrap_or((rest, ""));
        let part_ok = if prefix.ends_with('-') {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_digit())
        } else {
            part.is_empty()
        };
        let edition_ok = edition
            .strip_suffix(')')
            .is_some_and(|e| e.chars().any(|c| c.is_ascii_digit()));
        if !part_ok || !edition_ok {
            return Some(format!(
                "reference '{reference}' must name the edition it applies, e.g. 'BSI TR-02102-2 (2026-01)' or 'BSI TR-03108-1 (version 2)' (the editions are in legal-basis.md)"
            ));
        }
    }
    None
}

/// Parses a severity name, for rule files.
pub fn parse_severity(name: &str) -> Result<Severity, String> {
    name.parse()
}
