//! The dated tables the rules judge by: the BSI TR-02102-2 class of each
//! cipher suite and key-exchange group (`rules/tables/tr-02102-2.toml`) and
//! the EEA/adequacy class of each country (`rules/tables/countries.toml`).
//!
//! The evidence holds facts only (code points, country codes); the classes
//! are judgements under an edition of a guideline or a list of decisions,
//! so they are applied here, at evaluation time ([`view`]). A report saved
//! last year and judged again with this year's table gets this year's
//! verdicts. A table travels with its rule set: the embedded defaults, each
//! replaced by a file of the same name in `--rules DIR/tables/`, so a DPO
//! can point to an adapted table.

mod countries;
mod e_invoicing;
pub mod schema;
mod tls;
pub mod view;

pub use countries::{Adequacy, CountryClass, CountryTable};
pub use e_invoicing::{After, EInvoicingTable};
pub use tls::{GroupClass, GroupRow, SuiteClass, SuiteRow, TlsTable};

use super::RuleError;
use super::spans::{Position, Spans};
use crate::mail_class::{ClassFile, ClassFileError};
use serde::de::DeserializeOwned;
use std::path::Path;

/// The file name of the TLS table under `rules/tables/`.
pub const TLS_FILE: &str = "tr-02102-2.toml";
/// The file name of the country table under `rules/tables/`.
pub const COUNTRIES_FILE: &str = "countries.toml";
pub const E_INVOICING_FILE: &str = "e-invoicing.toml";
/// The class file's place in a rules directory: `DIR/classes/NAME`.
pub const CLASSES_FILE: &str = "mail-classes.toml";

/// The tables of one rule set.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    pub tls: TlsTable,
    pub countries: CountryTable,
    pub e_invoicing: EInvoicingTable,
    /// The message classes and the period each maps to (issue 12).
    pub classes: ClassFile,
}

impl Tables {
    /// The tables embedded in the binary (`rules/tables/`).
    pub fn embedded() -> Result<Tables, RuleError> {
        Ok(Tables {
            tls: parse(
                &format!("rules/tables/{TLS_FILE}"),
                include_str!("../../../rules/tables/tr-02102-2.toml"),
            )?,
            countries: parse(
                &format!("rules/tables/{COUNTRIES_FILE}"),
                include_str!("../../../rules/tables/countries.toml"),
            )?,
            e_invoicing: parse(
                &format!("rules/tables/{E_INVOICING_FILE}"),
                include_str!("../../../rules/tables/e-invoicing.toml"),
            )?,
            classes: ClassFile::defaults().map_err(class_file_error)?,
        })
    }

    /// The embedded tables, each replaced by `dir/tables/NAME` where such
    /// a file exists. Returns whether any was replaced.
    pub fn with_overrides(dir: &Path) -> Result<(Tables, bool), RuleError> {
        let mut tables = Tables::embedded()?;
        let mut replaced = false;
        let tables_dir = dir.join("tables");
        if let Some(tls) = read(&tables_dir.join(TLS_FILE))? {
            tables.tls = tls;
            replaced = true;
        }
        if let Some(countries) = read(&tables_dir.join(COUNTRIES_FILE))? {
            tables.countries = countries;
            replaced = true;
        }
        if let Some(e_invoicing) = read(&tables_dir.join(E_INVOICING_FILE))? {
            tables.e_invoicing = e_invoicing;
            replaced = true;
        }
        let classes = dir.join("classes").join(CLASSES_FILE);
        if classes.is_file() {
            tables.classes = ClassFile::load(&classes).map_err(class_file_error)?;
            replaced = true;
        }
        Ok((tables, replaced))
    }

    /// Whether `dir/tables/` holds a table file.
    pub fn present_in(dir: &Path) -> bool {
        [TLS_FILE, COUNTRIES_FILE, E_INVOICING_FILE]
            .iter()
            .any(|name| dir.join("tables").join(name).is_file())
            || dir.join("classes").join(CLASSES_FILE).is_file()
    }

    /// Every reference catalogue id the tables cite, each with its table's
    /// file name, for `rules check`.
    pub fn references(&self) -> Vec<(&'static str, &str)> {
        self.tls
            .references
            .iter()
            .map(|r| (TLS_FILE, r.as_str()))
            .chain(
                self.countries
                    .references
                    .iter()
                    .map(|r| (COUNTRIES_FILE, r.as_str())),
            )
            .chain(
                self.e_invoicing
                    .references
                    .iter()
                    .map(|r| (E_INVOICING_FILE, r.as_str())),
            )
            .collect()
    }
}

/// Reads one table file, if it exists.
/// A class file that cannot be used, as a rule-set error.
pub fn class_file_error(error: ClassFileError) -> RuleError {
    match error {
        ClassFileError::Invalid { file, line, reason } => RuleError::Invalid {
            file,
            line,
            column: 1,
            reason,
        },
        ClassFileError::Read { path, reason } => RuleError::Read { path, reason },
    }
}

fn read<T: DeserializeOwned + Checked>(path: &Path) -> Result<Option<T>, RuleError> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| RuleError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse(&path.display().to_string(), &text).map(Some)
}

/// What a table checks beyond its shape: dates, duplicate rows, and that
/// its references resolve in the catalogue (edition and section).
trait Checked {
    fn problem(&self) -> Option<String>;
    fn cited(&self) -> &[String];
}

fn parse<T: DeserializeOwned + Checked>(file: &str, text: &str) -> Result<T, RuleError> {
    let spans = Spans::parse(text);
    let table: T = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map_or(Position::START, |span| spans.position(span.start));
        RuleError::Invalid {
            file: file.to_string(),
            line: at.line,
            column: at.column,
            reason: e.message().to_string(),
        }
    })?;
    let unresolved = || {
        let catalogue = super::references::Catalogue::embedded().map_err(|e| e.to_string());
        table.cited().iter().find_map(|citation| match &catalogue {
            Ok(catalogue) => catalogue.resolve(citation).err(),
            Err(broken) => Some(broken.clone()),
        })
    };
    match table.problem().or_else(unresolved) {
        Some(reason) => Err(RuleError::Invalid {
            file: file.to_string(),
            line: 1,
            column: 1,
            reason,
        }),
        None => Ok(table),
    }
}

/// A `YYYY-MM-DD` date, or a reason naming `what`.
fn date_problem(what: &str, date: &str) -> Option<String> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .err()
        .map(|_| format!("{what} '{date}' is not a date like 2026-01-01"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tables_load_with_source_edition_date_and_references() {
        let tables = Tables::embedded().unwrap();
        assert!(tables.tls.source.contains("TR-02102-2"));
        assert_eq!(tables.tls.edition, "Version 2026-01");
        assert!(tables.countries.date.starts_with("2026"));
        let catalogue = crate::rules::references::Catalogue::embedded().unwrap();
        for (file, id) in tables.references() {
            assert!(
                catalogue.resolve(id).is_ok(),
                "{file}: unknown reference {id}"
            );
        }
    }

    #[test]
    fn a_class_file_in_dir_classes_replaces_the_embedded_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("classes")).unwrap();
        let text = crate::mail_class::class_file::DEFAULT_CLASS_FILE
            .replace("edition = \"2026-12\"", "edition = \"ours 2027\"");
        std::fs::write(dir.path().join("classes").join(CLASSES_FILE), &text).unwrap();
        assert!(Tables::present_in(dir.path()));
        let (tables, replaced) = Tables::with_overrides(dir.path()).unwrap();
        assert!(replaced);
        assert_eq!(tables.classes.edition, "ours 2027");
        assert!(tables.classes.name.ends_with("classes/mail-classes.toml"));
        std::fs::write(
            dir.path().join("classes").join(CLASSES_FILE),
            "schema = 9\n",
        )
        .unwrap();
        let error = Tables::with_overrides(dir.path()).unwrap_err().to_string();
        assert!(error.contains("mail-classes.toml:1:"), "{error}");
    }

    #[test]
    fn a_table_in_dir_tables_replaces_the_embedded_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tables")).unwrap();
        let text = include_str!("../../../rules/tables/countries.toml")
            .replace("\"CH\", decision", "\"XX\", decision");
        std::fs::write(dir.path().join("tables").join(COUNTRIES_FILE), text).unwrap();
        let (tables, replaced) = Tables::with_overrides(dir.path()).unwrap();
        assert!(replaced);
        assert_eq!(
            tables.countries.classify("CH").class,
            CountryClass::ThirdCountry
        );
        assert_eq!(tables.tls, Tables::embedded().unwrap().tls);
    }

    #[test]
    fn a_broken_table_is_refused_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tables")).unwrap();
        let text = include_str!("../../../rules/tables/tr-02102-2.toml").replacen(
            "class = \"recommended\"",
            "class = \"fine\"",
            1,
        );
        std::fs::write(dir.path().join("tables").join(TLS_FILE), text).unwrap();
        let error = Tables::with_overrides(dir.path()).unwrap_err().to_string();
        assert!(error.contains("tr-02102-2.toml:"), "{error}");
        assert!(error.contains("fine"), "{error}");
    }
}
