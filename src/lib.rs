//! mailaudit: audits a mail provider for transport security, data protection
//! and retention compliance.
//!
//! The flow runs one way: [`target`] → [`probe`] → [`evidence`] → [`rules`] →
//! [`finding`] → [`report`].

pub mod batch;
pub mod cli;
pub mod command;
pub mod credentials;
pub mod dnssec_anchor;
pub mod evidence;
pub mod finding;
#[cfg(feature = "fuzz-api")]
#[doc(hidden)]
pub mod fuzz_api;
pub mod history;
pub mod mail_class;
pub mod probe;
pub mod profile;
pub mod report;
pub mod retention;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod target;

/// The language of a report.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// German, the default: the reports are for German data-protection officers.
    De,
    /// English.
    En,
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input.to_ascii_lowercase().as_str() {
            "de" => Ok(Language::De),
            "en" => Ok(Language::En),
            _ => Err(format!("unknown language '{input}'; use de or en")),
        }
    }
}
