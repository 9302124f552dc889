//! The fixed report texts in German and English, from
//! `report-templates/i18n.toml` (embedded at build time).

use crate::Language;
use std::collections::BTreeMap;
use std::sync::OnceLock;

type Table = BTreeMap<String, BTreeMap<String, String>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The file is part of the build and checked by a unit test, so a
        // parse failure here is a build defect, not user input.
        toml::from_str(include_str!("../../report-templates/i18n.toml")).unwrap_or_default()
    })
}

/// All texts of one language.
pub fn all(language: Language) -> &'static BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    let key = match language {
        Language::De => "de",
        Language::En => "en",
    };
    table().get(key).unwrap_or(&EMPTY)
}

/// One text; the key itself when it is missing.
pub fn get(language: Language, key: &str) -> String {
    all(language)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let de: Vec<&String> = all(Language::De).keys().collect();
        let en: Vec<&String> = all(Language::En).keys().collect();
        assert!(de.len() > 40, "the i18n table did not load");
        assert_eq!(de, en);
    }
}
