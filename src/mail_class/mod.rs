//! Sorting mail into retention classes without reading it (issue 12).
//!
//! Input is the metadata the mailbox probe fetches per message
//! (`UID FETCH … (UID INTERNALDATE RFC822.SIZE BODYSTRUCTURE
//! BODY.PEEK[HEADER.FIELDS (…)])`, see [`fetch`]): a few header fields, the
//! MIME structure, the arrival date and the size. Output is a class from
//! the class file (`rules/classes/mail-classes.toml`, [`ClassFile`]) and the
//! reason, which names the alternative and the pattern that matched, never
//! a subject, an address or a file name (data minimisation, Art. 5(1)(c)
//! DSGVO).
//!
//! - Classes are tried in the file's order; the first match wins. The file
//!   lists longer periods first, so doubt never shortens a period.
//! - A message whose BODYSTRUCTURE is malformed gets the fallback class
//!   with [`Reason::MalformedStructure`], so a report can count them.
//! - Pure: no I/O (loading the file aside), no clock. Periods and deadlines
//!   stay with [`crate::retention`]; this module only says which class.
//!
//! The modules below are bounded parsers for what a server sends
//! ([`sexp`], [`bodystructure`], [`headers`], [`fetch`]), the decoders for
//! encoded file names ([`encoded`]), the patterns ([`pattern`]) and the
//! opt-in deep check of a PDF for an embedded invoice ([`embedded`]).

pub mod bodystructure;
pub mod class_file;
pub mod embedded;
pub mod encoded;
pub mod fetch;
pub mod headers;
pub mod pattern;
pub mod sexp;

pub use bodystructure::{BodyStructureError, BodySummary, Part};
pub use class_file::{ClassFile, ClassFileError, Condition, MailClass, PERIOD_KEYS, Period};
pub use headers::Headers;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// The header fields a class may need; the probe fetches exactly these
/// with `BODY.PEEK[HEADER.FIELDS (…)]` (plus any a custom class file names,
/// see [`header_fields`]).
pub const HEADER_FIELDS: [&str; 6] = [
    "List-Id",
    "List-Unsubscribe",
    "Precedence",
    "Auto-Submitted",
    "Content-Type",
    "Message-ID",
];

/// What the probe knows about one message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageMeta {
    pub uid: Option<u32>,
    /// INTERNALDATE: when the server received the message.
    pub internal_date: Option<DateTime<FixedOffset>>,
    /// RFC822.SIZE in bytes.
    pub size: Option<u64>,
    pub headers: Headers,
    /// The parsed BODYSTRUCTURE, or why it could not be read.
    pub body: Result<BodySummary, BodyStructureError>,
    /// From the opt-in deep check: (section, file name) of files embedded
    /// in a PDF part. Empty without it.
    pub embedded_files: Vec<(String, String)>,
}

/// The class of one message and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// A class id from the class file.
    pub class: String,
    pub reason: Reason,
}

/// Why a message got its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reason {
    /// Alternative `alternative` (1-based, in file order) of the class
    /// matched; `evidence` says what matched, by pattern, without the
    /// message's own file name or header value.
    Matched {
        alternative: usize,
        evidence: String,
    },
    /// No class matched: the fallback.
    NoMatch,
    /// The BODYSTRUCTURE could not be read: the fallback.
    MalformedStructure { error: String },
}

impl Reason {
    /// A stable key for counting reasons in a report.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Matched { .. } => "matched",
            Reason::NoMatch => "no_match",
            Reason::MalformedStructure { .. } => "malformed_bodystructure",
        }
    }
}

/// Every header field `classes` looks at, [`HEADER_FIELDS`] first, for the
/// FETCH's `HEADER.FIELDS` list.
pub fn header_fields(classes: &ClassFile) -> Vec<String> {
    let mut fields: Vec<String> = HEADER_FIELDS.iter().map(|f| f.to_string()).collect();
    for condition in classes.classes.iter().flat_map(|c| &c.when) {
        if let Some(header) = &condition.header
            && !fields.iter().any(|f| f.eq_ignore_ascii_case(header))
        {
            fields.push(header.clone());
        }
    }
    fields
}

/// The class of `message` under `classes`.
pub fn classify(message: &MessageMeta, classes: &ClassFile) -> Classification {
    let body = match &message.body {
        Ok(body) => body,
        Err(error) => {
            return Classification {
                class: classes.fallback.clone(),
                reason: Reason::MalformedStructure {
                    error: error.to_string(),
                },
            };
        }
    };
    for class in &classes.classes {
        for (index, condition) in class.when.iter().enumerate() {
            if let Some(evidence) = holds(condition, message, body) {
                return Classification {
                    class: class.id.clone(),
                    reason: Reason::Matched {
                        alternative: index + 1,
                        evidence,
                    },
                };
            }
        }
    }
    Classification {
        class: classes.fallback.clone(),
        reason: Reason::NoMatch,
    }
}

/// The parts the opt-in deep check should fetch for `message`, which got
/// `current` under `classes`: those a condition with `embedded_file` of a
/// class tried before `current` could match if the part embedded the right
/// file (its type, file name and size fit). Empty when no earlier class
/// asks about embedded files, or the structure is unreadable.
pub fn deep_check_parts<'m>(
    message: &'m MessageMeta,
    classes: &ClassFile,
    current: &str,
) -> Vec<&'m Part> {
    let Ok(body) = &message.body else {
        return Vec::new();
    };
    let earlier = classes.classes.iter().take_while(|c| c.id != current);
    let conditions: Vec<&Condition> = earlier
        .flat_map(|c| &c.when)
        .filter(|w| !w.embedded_file.is_empty())
        .collect();
    body.parts
        .iter()
        .filter(|part| {
            part.octets
                .is_none_or(|n| n <= embedded::MAX_ENCODED_BYTES as u64)
                && conditions.iter().any(|condition| {
                    let fits = |patterns: &[pattern::Pattern], text: Option<&str>| {
                        patterns.is_empty()
                            || text.is_some_and(|t| patterns.iter().any(|p| p.matches(t)))
                    };
                    condition.header.is_none()
                        && fits(&condition.part_type, Some(&part.mime_type))
                        && fits(&condition.file_name, part.file_name.as_deref())
                })
        })
        .collect()
}

/// What makes `condition` hold for the message, or `None`.
fn holds(condition: &Condition, message: &MessageMeta, body: &BodySummary) -> Option<String> {
    let mut evidence = Vec::new();
    if let Some(header) = &condition.header {
        let mut values = message.headers.values(header);
        if condition.value.is_empty() {
            values.next()?;
            evidence.push(format!("header {header} present"));
        } else {
            let pattern = values.find_map(|v| {
                condition
                    .value
                    .iter()
                    .find(|p| p.matches(v.trim()))
                    .map(|p| p.as_str().to_string())
            })?;
            evidence.push(format!("header {header} matches '{pattern}'"));
        }
    }
    if condition.needs_part() {
        let found = body
            .parts
            .iter()
            .find_map(|part| part_holds(condition, part, &message.embedded_files))?;
        evidence.push(found);
    }
    Some(evidence.join(", "))
}

fn part_holds(
    condition: &Condition,
    part: &Part,
    embedded_files: &[(String, String)],
) -> Option<String> {
    let first = |patterns: &[pattern::Pattern], text: &str| {
        patterns
            .iter()
            .find(|p| p.matches(text))
            .map(|p| p.as_str().to_string())
    };
    let mut evidence = format!("part {} {}", display_section(&part.section), part.mime_type);
    if !condition.part_type.is_empty() {
        first(&condition.part_type, &part.mime_type)?;
    }
    if !condition.file_name.is_empty() {
        let pattern = first(&condition.file_name, part.file_name.as_deref()?)?;
        evidence.push_str(&format!(", file name matches '{pattern}'"));
    }
    if !condition.embedded_file.is_empty() {
        let pattern = embedded_files
            .iter()
            .filter(|(section, _)| *section == part.section)
            .find_map(|(_, name)| first(&condition.embedded_file, name))?;
        evidence.push_str(&format!(", embeds a file matching '{pattern}'"));
    }
    Some(evidence)
}

fn display_section(section: &str) -> &str {
    if section.is_empty() {
        "(message)"
    } else {
        section
    }
}

#[cfg(test)]
mod tests;
