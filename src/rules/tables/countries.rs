//! The country table: EEA members and Art. 45 DSGVO adequacy decisions.
//! A country's class is a lookup here; LOC-001 and GOV-002 judge it.

use super::{Checked, date_problem};
use serde::{Deserialize, Serialize};

/// Where a country stands under Art. 44 ff. DSGVO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CountryClass {
    /// EU or EEA: no transfer in the sense of Art. 44.
    Eea,
    /// A third country with an Art. 45 adequacy decision.
    Adequacy,
    /// Any other country: transfers need Art. 46 safeguards.
    ThirdCountry,
}

/// The table as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryTable {
    pub source: String,
    pub edition: String,
    /// The legal state the lists describe (`YYYY-MM-DD`).
    pub date: String,
    /// Ids in `rules/references/references.toml`.
    pub references: Vec<String>,
    pub eea: Vec<String>,
    #[serde(default)]
    pub eea_territories: Vec<String>,
    pub adequacy: Vec<Adequacy>,
}

/// One adequacy decision.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// Classifies an ISO 3166-1 alpha-2 code (any case).
    pub fn classify(&self, country: &str) -> Classified {
        let code = country.trim().to_ascii_uppercase();
        let unlisted = |class| Classified {
            class,
            decision: None,
            note: None,
        };
        if self
            .eea
            .iter()
            .chain(&self.eea_territories)
            .any(|c| *c == code)
        {
            return unlisted(CountryClass::Eea);
        }
        match self.adequacy.iter().find(|a| a.code == code) {
            Some(adequacy) => Classified {
                class: CountryClass::Adequacy,
                decision: Some(adequacy.decision.clone()),
                note: Some(adequacy.note.clone()),
            },
            None => unlisted(CountryClass::ThirdCountry),
        }
    }
}

impl Checked for CountryTable {
    fn cited(&self) -> &[String] {
        &self.references
    }

    fn problem(&self) -> Option<String> {
        let codes = self
            .eea
            .iter()
            .chain(&self.eea_territories)
            .chain(self.adequacy.iter().map(|a| &a.code));
        for code in codes {
            if !(code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase())) {
                return Some(format!(
                    "'{code}' is not an upper-case ISO 3166-1 alpha-2 code"
                ));
            }
        }
        date_problem("date", &self.date)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Tables;
    use super::*;

    #[test]
    fn the_embedded_table_is_complete() {
        let table = Tables::embedded().unwrap().countries;
        assert_eq!(table.eea.len(), 30, "EU 27 + IS, LI, NO");
        assert_eq!(table.adequacy.len(), 15);
    }

    #[test]
    fn countries_are_classified() {
        let table = Tables::embedded().unwrap().countries;
        assert_eq!(table.classify("DE").class, CountryClass::Eea);
        assert_eq!(table.classify("no").class, CountryClass::Eea);
        assert_eq!(table.classify("GR").class, CountryClass::Eea);
        let us = table.classify("US");
        assert_eq!(us.class, CountryClass::Adequacy);
        assert_eq!(us.decision.as_deref(), Some("(EU) 2023/1795"));
        assert!(us.note.unwrap().contains("certified"));
        assert_eq!(table.classify("CH").class, CountryClass::Adequacy);
        assert_eq!(table.classify("CN").class, CountryClass::ThirdCountry);
        assert_eq!(table.classify("ZZ").class, CountryClass::ThirdCountry);
    }
}
