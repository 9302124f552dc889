//! The rule file format (TOML), one file per catalogue ID, and its checks.
//!
//! ```toml
//! id = "TLS-001"
//! area = "transport"
//! subject = "endpoint"            # or "domain"
//! severity = "critical"
//! references = ["tr-03108-1-3.2", "dsgvo-art-32 Abs. 1 lit. a"]
//!                                 # entries of rules/references/references.toml
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
//! title = { de = "…", en = "…" }    # optional: the finding's title when
//!                                  # this check fails (ACC-002's accept from
//!                                  # inside is not an "open relay")
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
    /// A mailbox rule judged a second time per domain, on `org:DOMAIN`,
    /// over the retention views of all its audited mailboxes added up. In
    /// that scope `retention` is the added-up view, `organisation` says how
    /// many mailboxes were audited and which were not, and `mailbox` holds
    /// only `folders` (completed when at least one mailbox was read), so
    /// such a rule reads `retention` and requires at most `mailbox.folders`.
    #[serde(default)]
    pub organisation: bool,
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
    /// `[[fail]]` only: the finding's title when this check fails, in place
    /// of the rule's.
    #[serde(default)]
    pub title: Option<Text>,
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

/// Checks one citation against the references catalogue
/// (`rules/references/references.toml`, see [`super::references`]); `None`
/// when it resolves to an entry with edition and section.
pub fn reference_problem(reference: &str) -> Option<String> {
    match super::references::Catalogue::embedded() {
        Ok(catalogue) => catalogue.resolve(reference).err(),
        Err(broken) => Some(format!("the references catalogue is broken: {broken}")),
    }
}

/// Parses a severity name, for rule files.
pub fn parse_severity(name: &str) -> Result<Severity, String> {
    name.parse()
}
