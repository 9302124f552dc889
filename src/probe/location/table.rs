//! The dated country table (`countries.toml`, embedded): EEA members and
//! Art. 45 DSGVO adequacy decisions. A classification is a lookup here, not
//! a judgement; LOC-001 judges it.

use crate::evidence::CountryClass;
use serde::Deserialize;

/// The embedded table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryTable {
    pub snapshot: String,
    pub source: String,
    pub eea: Vec<String>,
    #[serde(default)]
    pub eea_territories: Vec<String>,
    pub adequacy: Vec<Adequacy>,
}

/// One adequacy decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adequacy {
    pub code: String,
    pub decision: String,
    pub note: String,
}

/// A country's class, with the decision and note for `adequacy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub class: CountryClass,
    pub decision: Option<String>,
    pub note: Option<String>,
}

impl CountryTable {
    /// The embedded table. Its validity is checked by a unit test, so this
    /// cannot fail in a released binary; a broken edit shows as an error.
    pub fn embedded() -> Result<CountryTable, String> {
        toml::from_str(include_str!("countries.toml"))
            .map_err(|e| format!("the embedded country table is broken: {e}"))
    }

    /// Classifies an ISO 3166-1 alpha-2 code (any case).
    pub fn classify(&self, country: &str) -> Classified {
        let code = country.trim().to_ascii_uppercase();
        if self
            .eea
            .iter()
            .chain(&self.eea_territories)
            .any(|c| *c == code)
        {
            return Classified {
                class: CountryClass::Eea,
                decision: None,
                note: None,
            };
        }
        match self.adequacy.iter().find(|a| a.code == code) {
            Some(adequacy) => Classified {
                class: CountryClass::Adequacy,
                decision: Some(adequacy.decision.clone()),
                note: Some(adequacy.note.clone()),
            },
            None => Classified {
                class: CountryClass::ThirdCountry,
                decision: None,
                note: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_is_complete() {
        let table = CountryTable::embedded().unwrap();
        assert_eq!(table.eea.len(), 30, "EU 27 + IS, LI, NO");
        assert_eq!(table.adequacy.len(), 15);
        assert!(chrono::NaiveDate::parse_from_str(&table.snapshot, "%Y-%m-%d").is_ok());
        for code in table.eea.iter().chain(
            &table
                .adequacy
                .iter()
                .map(|a| a.code.clone())
                .collect::<Vec<_>>(),
        ) {
            assert!(
                code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()),
                "{code}"
            );
        }
    }

    #[test]
    fn countries_are_classified() {
        let table = CountryTable::embedded().unwrap();
        assert_eq!(table.classify("DE").class, CountryClass::Eea);
        assert_eq!(table.classify("no").class, CountryClass::Eea);
        assert_eq!(table.classify("GR").class, CountryClass::Eea);
        let us = table.classify("US");
        assert_eq!(us.class, CountryClass::Adequacy);
        assert_eq!(us.decision.as_deref(), Some("(EU) 2023/1795"));
        assert!(us.note.unwrap().contains("certified"));
        assert_eq!(table.classify("CH").class, CountryClass::Adequacy);
        assert_eq!(table.classify("CN").class, CountryClass::ThirdCountry);
        assert_eq!(table.classify("IN").class, CountryClass::ThirdCountry);
        assert_eq!(table.classify("ZZ").class, CountryClass::ThirdCountry);
    }
}
