//! The references catalogue, `rules/references/references.toml`: every law,
//! guideline and RFC a rule may cite, as *works* (full title, edition,
//! official URL) and *entries* (one article, paragraph, chapter or section
//! of a work, with the parts below it that exist).
//!
//! A rule cites an entry by id, followed by a pinpoint when the entry has
//! parts: `"dsgvo-art-32 Abs. 1 lit. b"`, `"hgb-257 Abs. 1 Nr. 3"`,
//! `"tr-02102-2-3.3.1"`. So every citation ends up with an edition (from the
//! work) and a section (from the entry, narrowed by the pinpoint), and a
//! pinpoint that the catalogue does not list is refused rather than
//! trusted: issue 14 found 45 of 117 free-text references too vague for a
//! lawyer to check ("HGB § 257", "GoBD", TRs without edition).
//!
//! The catalogue lives in a sub-directory so that the rule loader, which
//! reads every `rules/*.toml` as a rule, does not see it.

use crate::finding::Citation;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use toml::Spanned;

/// Where the embedded catalogue comes from, for messages.
pub const CATALOGUE_FILE: &str = "rules/references/references.toml";

/// Hosts an entry's URL may point to: the official publishers of the
/// sources (federal law, EU law, BSI, DSK, BMF, RFC Editor, CVE Program).
pub const OFFICIAL_HOSTS: [&str; 7] = [
    "www.gesetze-im-internet.de",
    "eur-lex.europa.eu",
    "www.bsi.bund.de",
    "www.datenschutzkonferenz-online.de",
    "www.bundesfinanzministerium.de",
    "www.rfc-editor.org",
    // The CVE Program's own site, for the records of TLS-101 to TLS-111.
    "www.cve.org",
];

static EMBEDDED: LazyLock<Result<Catalogue, Located>> = LazyLock::new(|| {
    Catalogue::parse(
        CATALOGUE_FILE,
        include_str!("../../rules/references/references.toml"),
    )
});

/// A problem at a place in a TOML file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct Located {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl Located {
    fn at(file: &str, text: &str, offset: usize, reason: String) -> Located {
        let before = &text[..offset.min(text.len())];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Located {
            file: file.to_string(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            reason,
        }
    }
}

pub use crate::finding::Work;

/// One citable unit of a work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub work: String,
    /// `Art. 32`, `§ 257`, `Abschn. 3.3.1`, `Rz. 119–122`, `Section 3`.
    pub section: String,
    /// The section's heading, where it has one.
    pub heading: Option<String>,
    /// The parts below the section a citation must choose from; empty when
    /// the section is cited as a whole.
    pub parts: Vec<String>,
    /// The URL of this section, when the publisher has one per section.
    pub url: Option<String>,
}

/// The catalogue: works and entries by id.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    works: BTreeMap<String, Work>,
    entries: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    work: Vec<WorkFile>,
    #[serde(default)]
    entry: Vec<EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkFile {
    id: Spanned<String>,
    short: Spanned<String>,
    title: Spanned<String>,
    edition: Spanned<String>,
    url: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    id: Spanned<String>,
    work: Spanned<String>,
    section: Spanned<String>,
    #[serde(default)]
    heading: Option<String>,
    #[serde(default)]
    parts: Vec<Spanned<String>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
}

/// A rule file's `references`, with their places.
#[derive(Deserialize)]
struct CitingFile {
    #[serde(default)]
    references: Vec<Spanned<String>>,
}

impl Catalogue {
    /// The catalogue embedded in the binary.
    pub fn embedded() -> Result<&'static Catalogue, &'static Located> {
        EMBEDDED.as_ref()
    }

    /// Parses and checks a catalogue: every work has a title, an edition
    /// that names a year or version, and an official https URL; every entry
    /// belongs to a known work and names its section; ids are unique.
    /// The first problem is returned with file, line and column.
    pub fn parse(file: &str, text: &str) -> Result<Catalogue, Located> {
        let at = |offset: usize, reason: String| Located::at(file, text, offset, reason);
        let raw: CatalogueFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim().to_string())
        })?;
        let filled = |value: &Spanned<String>, what: &str| {
            if value.get_ref().trim().is_empty() {
                Err(at(value.span().start, format!("{what} must not be empty")))
            } else {
                Ok(value.get_ref().trim().to_string())
            }
        };
        let mut catalogue = Catalogue::default();
        for work in &raw.work {
            let id = checked_id(&work.id, &at)?;
            let edition = filled(&work.edition, "a work's edition")?;
            if !edition.chars().any(|c| c.is_ascii_digit()) {
                return Err(at(
                    work.edition.span().start,
                    format!("the edition of '{id}' must name a date, year or version number"),
                ));
            }
            let parsed = Work {
                short: filled(&work.short, "a work's short form")?,
                title: filled(&work.title, "a work's title")?,
                edition,
                url: official_url(&work.url, &at)?,
                id: id.clone(),
            };
            if catalogue.works.insert(id.clone(), parsed).is_some() {
                return Err(at(
                    work.id.span().start,
                    format!("work '{id}' is listed twice"),
                ));
            }
        }
        for entry in &raw.entry {
            let id = checked_id(&entry.id, &at)?;
            let work = entry.work.get_ref().clone();
            if !catalogue.works.contains_key(&work) {
                return Err(at(
                    entry.work.span().start,
                    format!("entry '{id}' belongs to unknown work '{work}'"),
                ));
            }
            let mut parts = Vec::new();
            for part in &entry.parts {
                let part = filled(part, "a part")?;
                if parts.contains(&part) {
                    return Err(at(
                        entry.id.span().start,
                        format!("entry '{id}' lists part '{part}' twice"),
                    ));
                }
                parts.push(part);
            }
            let parsed = Entry {
                section: filled(&entry.section, "an entry's section")?,
                heading: entry.heading.clone(),
                parts,
                url: entry
                    .url
                    .as_ref()
                    .map(|u| official_url(u, &at))
                    .transpose()?,
                work,
                id: id.clone(),
            };
            if catalogue.works.contains_key(&id)
                || catalogue.entries.insert(id.clone(), parsed).is_some()
            {
                return Err(at(
                    entry.id.span().start,
                    format!("id '{id}' is listed twice"),
                ));
            }
        }
        Ok(catalogue)
    }

    /// The works, by id.
    pub fn works(&self) -> impl Iterator<Item = &Work> {
        self.works.values()
    }

    /// The entries, by id.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Resolves a citation `ID` or `ID PINPOINT`; the error says what is
    /// wrong and how to cite instead.
    pub fn resolve(&self, citation: &str) -> Result<Citation, String> {
        let citation = citation.trim();
        let (id, pinpoint) = citation
            .split_once(' ')
            .map_or((citation, ""), |(id, rest)| (id, rest.trim()));
        let Some(entry) = self.entries.get(id) else {
            let hint = self
                .entries
                .keys()
                .find(|known| known.starts_with(&id.to_ascii_lowercase()))
                .map(|known| format!(" (did you mean '{known}'?)"))
                .unwrap_or_default();
            return Err(format!(
                "reference '{citation}' does not start with the id of an entry of {CATALOGUE_FILE}{hint}; cite an entry by id, with a pinpoint where it has parts, e.g. 'dsgvo-art-32 Abs. 1 lit. b'"
            ));
        };
        let Some(work) = self.works.get(&entry.work) else {
            return Err(format!("entry '{id}' belongs to no work"));
        };
        let name = format!("{} {}", work.short, entry.section);
        if entry.parts.is_empty() && !pinpoint.is_empty() {
            return Err(format!(
                "reference '{citation}': {name} is cited as a whole; drop '{pinpoint}', or list it as a part of '{id}' in {CATALOGUE_FILE} once checked"
            ));
        }
        if !entry.parts.is_empty() && !entry.parts.iter().any(|p| p == pinpoint) {
            let what = if pinpoint.is_empty() {
                "is too vague".to_string()
            } else {
                format!("names '{pinpoint}', which is not listed")
            };
            return Err(format!(
                "reference '{citation}' {what}: {name} must be cited with one of its parts: {}",
                entry.parts.join(", ")
            ));
        }
        let pinpoint = if pinpoint.is_empty() {
            entry.section.clone()
        } else {
            format!("{} {pinpoint}", entry.section)
        };
        Ok(Citation {
            id: entry.id.clone(),
            work: work.id.clone(),
            label: format!("{} {pinpoint}", work.short),
            title: work.title.clone(),
            edition: work.edition.clone(),
            pinpoint,
            url: entry.url.clone().unwrap_or_else(|| work.url.clone()),
        })
    }
}

/// Checks the `references` of one rule file against the embedded catalogue
/// and returns every citation that does not resolve, with file, line and
/// column (the place of the string in `references = [...]`).
pub fn citation_problems(file: &str, text: &str) -> Vec<Located> {
    let at = |offset: usize, reason: String| Located::at(file, text, offset, reason);
    let catalogue = match Catalogue::embedded() {
        Ok(catalogue) => catalogue,
        Err(broken) => return vec![broken.clone()],
    };
    let raw: CitingFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            return vec![at(offset, e.message().trim().to_string())];
        }
    };
    raw.references
        .iter()
        .filter_map(|citation| {
            catalogue
                .resolve(citation.get_ref())
                .err()
                .map(|reason| at(citation.span().start, reason))
        })
        .collect()
}

/// Resolves `citations` with the embedded catalogue; a citation that does
/// not resolve (the loader refuses those, so only a broken build) is left
/// out rather than shown without its edition.
pub fn resolve_all(citations: &[String]) -> Vec<Citation> {
    let Ok(catalogue) = Catalogue::embedded() else {
        return Vec::new();
    };
    citations
        .iter()
        .filter_map(|c| catalogue.resolve(c).ok())
        .collect()
}

/// The works cited by `citations`, once each, in order of first citation:
/// the list of sources a report's appendix prints.
pub fn works_cited<'a>(citations: impl IntoIterator<Item = &'a Citation>) -> Vec<Work> {
    let mut seen = std::collections::HashSet::new();
    let Ok(catalogue) = Catalogue::embedded() else {
        return Vec::new();
    };
    citations
        .into_iter()
        .filter(|c| seen.insert(c.work.clone()))
        .filter_map(|c| catalogue.works.get(&c.work).cloned())
        .collect()
}

fn checked_id(
    id: &Spanned<String>,
    at: &dyn Fn(usize, String) -> Located,
) -> Result<String, Located> {
    let text = id.get_ref();
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if valid {
        Ok(text.clone())
    } else {
        Err(at(
            id.span().start,
            format!("id '{text}' must be lower-case letters, digits, '-' and '.'"),
        ))
    }
}

fn official_url(
    url: &Spanned<String>,
    at: &dyn Fn(usize, String) -> Located,
) -> Result<String, Located> {
    let text = url.get_ref();
    let host = text
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next());
    match host {
        Some(host) if OFFICIAL_HOSTS.contains(&host) => Ok(text.clone()),
        _ => Err(at(
            url.span().start,
            format!(
                "URL '{text}' must be https on an official publisher: {}",
                OFFICIAL_HOSTS.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests;
