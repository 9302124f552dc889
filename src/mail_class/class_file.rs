//! Loading and validating the class file (`rules/classes/mail-classes.toml`,
//! embedded as the default): the classes with their patterns, in priority
//! order, and the retention period each class maps to, with its legal
//! reference. A data-protection officer edits this file, so every mistake
//! is reported as `FILE:LINE: what is wrong, and how to fix it`.

use super::pattern::Pattern;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;
use toml::Spanned;

/// The default class file, embedded in the binary.
pub const DEFAULT_CLASS_FILE: &str = include_str!("../../rules/classes/mail-classes.toml");
/// Where the default comes from, for error messages.
pub const DEFAULT_CLASS_FILE_NAME: &str = "rules/classes/mail-classes.toml";
/// The `schema` this code reads.
pub const SCHEMA: u32 = 1;
/// The period keys the retention engine knows.
pub const PERIOD_KEYS: [&str; 4] = ["books", "voucher", "handelsbrief", "no_statutory_period"];

/// A class file that cannot be used.
#[derive(Debug, Error)]
pub enum ClassFileError {
    #[error("{file}:{line}: {reason}")]
    Invalid {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("cannot read class file {path}: {reason}")]
    Read { path: String, reason: String },
}

/// The loaded, validated class file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassFile {
    /// Where it was read from (`rules/classes/mail-classes.toml` for the
    /// embedded default), and the SHA-256 of its text, hex: what the
    /// evidence records of the file that sorted the messages.
    pub name: String,
    pub sha256: String,
    pub legal_snapshot: NaiveDate,
    pub edition: String,
    /// The class of unmatched and malformed messages.
    pub fallback: String,
    /// Period key → period.
    pub periods: BTreeMap<String, Period>,
    /// In priority order: the first match wins.
    pub classes: Vec<MailClass>,
}

/// A retention period and its legal basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub years: u32,
    /// Banks, insurers, securities firms (vouchers only).
    pub financial_sector_years: Option<u32>,
    /// The period before BEG IV and the day it took effect (vouchers only).
    pub before_beg_iv: Option<(u32, NaiveDate)>,
    pub reference: String,
    pub note: String,
}

/// One class.
#[derive(Debug, Clone, PartialEq)]
pub struct MailClass {
    pub id: String,
    pub title_de: String,
    pub title_en: String,
    /// A key of [`ClassFile::periods`].
    pub period: String,
    pub reference: String,
    /// Alternatives: the class matches when any of them does.
    pub when: Vec<Condition>,
}

/// One alternative of a class: every given part holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Condition {
    /// Some part has one of these MIME types …
    pub part_type: Vec<Pattern>,
    /// … and that part's file name matches one of these …
    pub file_name: Vec<Pattern>,
    /// … and that part embeds a file with one of these names (deep check).
    pub embedded_file: Vec<Pattern>,
    /// This header is present (lower case) …
    pub header: Option<String>,
    /// … with one of these values.
    pub value: Vec<Pattern>,
}

impl Condition {
    /// True when the condition looks at parts at all.
    pub fn needs_part(&self) -> bool {
        !(self.part_type.is_empty() && self.file_name.is_empty() && self.embedded_file.is_empty())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: Spanned<u32>,
    legal_snapshot: Spanned<String>,
    edition: String,
    fallback: Spanned<String>,
    periods: BTreeMap<String, Spanned<RawPeriod>>,
    #[serde(rename = "class")]
    classes: Vec<RawClass>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    years: Spanned<u32>,
    financial_sector_years: Option<u32>,
    years_before_beg_iv: Option<u32>,
    beg_iv_in_force: Option<Spanned<String>>,
    reference: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    id: Spanned<String>,
    de: String,
    en: String,
    period: Spanned<String>,
    reference: String,
    #[serde(default)]
    when: Vec<Spanned<RawCondition>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    #[serde(default)]
    part_type: Vec<Spanned<String>>,
    #[serde(default)]
    file_name: Vec<Spanned<String>>,
    #[serde(default)]
    embedded_file: Vec<Spanned<String>>,
    header: Option<Spanned<String>>,
    #[serde(default)]
    value: Vec<Spanned<String>>,
}

impl ClassFile {
    /// The embedded default.
    pub fn defaults() -> Result<ClassFile, ClassFileError> {
        ClassFile::parse(DEFAULT_CLASS_FILE_NAME, DEFAULT_CLASS_FILE)
    }

    /// Reads and validates a class file.
    pub fn load(path: &Path) -> Result<ClassFile, ClassFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ClassFileError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        ClassFile::parse(&path.display().to_string(), &text)
    }

    /// Parses and validates `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<ClassFile, ClassFileError> {
        let at = |offset: usize, reason: String| ClassFileError::Invalid {
            file: file.to_string(),
            line: line_at(text, offset),
            reason,
        };
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().to_string()))?;
        if *raw.schema.get_ref() != SCHEMA {
            return Err(at(
                raw.schema.span().start,
                format!(
                    "schema {} is unknown; this mailaudit reads schema {SCHEMA}",
                    raw.schema.get_ref()
                ),
            ));
        }
        let legal_snapshot =
            date(&raw.legal_snapshot).map_err(|r| at(raw.legal_snapshot.span().start, r))?;

        let mut periods = BTreeMap::new();
        for (key, spanned) in raw.periods {
            let start = spanned.span().start;
            if !PERIOD_KEYS.contains(&key.as_str()) {
                return Err(at(
                    start,
                    format!(
                        "unknown period '{key}'; use one of {}",
                        PERIOD_KEYS.join(", ")
                    ),
                ));
            }
            let period = spanned.into_inner();
            if *period.years.get_ref() > 30 {
                return Err(at(
                    period.years.span().start,
                    format!(
                        "{} years is more than any period of HGB or AO (at most 30)",
                        period.years.get_ref()
                    ),
                ));
            }
            let before_beg_iv = match (period.years_before_beg_iv, &period.beg_iv_in_force) {
                (None, None) => None,
                (Some(years), Some(day)) => {
                    Some((years, date(day).map_err(|r| at(day.span().start, r))?))
                }
                _ => {
                    return Err(at(
                        start,
                        "years_before_beg_iv and beg_iv_in_force go together; give both or neither"
                            .into(),
                    ));
                }
            };
            periods.insert(
                key,
                Period {
                    years: period.years.into_inner(),
                    financial_sector_years: period.financial_sector_years,
                    before_beg_iv,
                    reference: period.reference,
                    note: period.note,
                },
            );
        }

        let mut classes: Vec<MailClass> = Vec::new();
        for raw_class in raw.classes {
            let id_start = raw_class.id.span().start;
            let id = raw_class.id.into_inner();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(at(
                    id_start,
                    format!(
                        "class id '{id}' must be lower case letters, digits and _ (e.g. likely_invoice)"
                    ),
                ));
            }
            if classes.iter().any(|c| c.id == id) {
                return Err(at(id_start, format!("class '{id}' is defined twice")));
            }
            if !periods.contains_key(raw_class.period.get_ref()) {
                return Err(at(
                    raw_class.period.span().start,
                    format!(
                        "class '{id}' names period '{}', which [periods] does not define (defined: {})",
                        raw_class.period.get_ref(),
                        periods.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let mut when = Vec::new();
            for spanned in raw_class.when {
                let start = spanned.span().start;
                when.push(condition(spanned.into_inner()).map_err(|(offset, reason)| {
                    at(offset.unwrap_or(start), format!("class '{id}': {reason}"))
                })?);
            }
            classes.push(MailClass {
                id,
                title_de: raw_class.de,
                title_en: raw_class.en,
                period: raw_class.period.into_inner(),
                reference: raw_class.reference,
                when,
            });
        }

        let fallback_start = raw.fallback.span().start;
        let fallback = raw.fallback.into_inner();
        match classes.iter().find(|c| c.id == fallback) {
            None => {
                return Err(at(
                    fallback_start,
                    format!("fallback '{fallback}' is not a class defined below"),
                ));
            }
            Some(class) if !class.when.is_empty() => {
                return Err(at(
                    fallback_start,
                    format!(
                        "the fallback class '{fallback}' must have no [[class.when]]: it takes what nothing else matches"
                    ),
                ));
            }
            Some(_) => {}
        }
        if let Some(empty) = classes
            .iter()
            .find(|c| c.id != fallback && c.when.is_empty())
        {
            let offset = text.find(&format!("\"{}\"", empty.id)).unwrap_or(0);
            return Err(at(
                offset,
                format!(
                    "class '{}' has no [[class.when]], so it can never match",
                    empty.id
                ),
            ));
        }
        let digest = <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes());
        Ok(ClassFile {
            name: file.to_string(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            legal_snapshot,
            edition: raw.edition,
            fallback,
            periods,
            classes,
        })
    }

    /// The class with `id`.
    pub fn class(&self, id: &str) -> Option<&MailClass> {
        self.classes.iter().find(|c| c.id == id)
    }

    /// The period a class maps to.
    pub fn period_of(&self, id: &str) -> Option<&Period> {
        self.class(id).and_then(|c| self.periods.get(&c.period))
    }
}

type ConditionError = (Option<usize>, String);

fn condition(raw: RawCondition) -> Result<Condition, ConditionError> {
    let patterns = |list: Vec<Spanned<String>>| -> Result<Vec<Pattern>, ConditionError> {
        list.into_iter()
            .map(|s| Pattern::new(s.get_ref()).map_err(|reason| (Some(s.span().start), reason)))
            .collect()
    };
    for part_type in &raw.part_type {
        if !part_type.get_ref().contains('/') {
            return Err((
                Some(part_type.span().start),
                format!(
                    "part_type '{}' is not a MIME type like application/pdf",
                    part_type.get_ref()
                ),
            ));
        }
    }
    let header = match raw.header {
        Some(name) => {
            let text = name.get_ref();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                return Err((
                    Some(name.span().start),
                    format!("header '{text}' is not a header field name like List-Id"),
                ));
            }
            Some(text.to_ascii_lowercase())
        }
        None => None,
    };
    if header.is_none() && !raw.value.is_empty() {
        return Err((
            raw.value.first().map(|v| v.span().start),
            "value needs a header to look at".into(),
        ));
    }
    let condition = Condition {
        part_type: patterns(raw.part_type)?,
        file_name: patterns(raw.file_name)?,
        embedded_file: patterns(raw.embedded_file)?,
        header,
        value: patterns(raw.value)?,
    };
    if !condition.needs_part() && condition.header.is_none() {
        return Err((None, "an empty [[class.when]] would match every message; give part_type, file_name or header".into()));
    }
    Ok(condition)
}

fn date(value: &Spanned<String>) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value.get_ref(), "%Y-%m-%d")
        .map_err(|_| format!("'{}' is not a date like 2026-11-26", value.get_ref()))
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
#[path = "class_file_tests.rs"]
mod tests;
