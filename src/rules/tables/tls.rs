//! The TR-02102-2 table: a class and, where the edition gives one, a
//! "recommended until" date for every cipher suite and key-exchange group
//! the TLS scan can record. Code points are the IANA registry values
//! (RFC 8446 §B.4, RFC 5246 §A.5, RFC 8422 §5.1.1, RFC 7919 §2).

use super::{Checked, date_problem};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The class of a cipher suite under BSI TR-02102-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuiteClass {
    /// Listed by the guideline.
    Recommended,
    /// Not listed, so not conformant (static RSA, SHA-1 MAC, ChaCha20, …).
    NotListed,
    /// Never acceptable (NULL, EXPORT, anon, RC4, DES, 3DES, MD5).
    Broken,
}

/// The class of a key-exchange group under BSI TR-02102-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupClass {
    Recommended,
    NotListed,
    /// Below the guideline's sizes (ffdhe2048, EC below 250 bit).
    TooSmall,
    /// Not listed, but only worth a note (X25519, hybrid ML-KEM groups).
    Info,
}

/// One cipher suite.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteRow {
    pub id: u16,
    pub name: String,
    pub class: SuiteClass,
    /// The last day the edition recommends it (`YYYY-MM-DD`).
    #[serde(default)]
    pub recommended_until: Option<String>,
}

/// One key-exchange group.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRow {
    pub id: u16,
    pub name: String,
    pub class: GroupClass,
    #[serde(default)]
    pub recommended_until: Option<String>,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsTable {
    pub source: String,
    pub edition: String,
    /// Date of the edition (`YYYY-MM-DD`).
    pub date: String,
    /// Ids in `rules/references/references.toml`.
    pub references: Vec<String>,
    /// The class of every SSLv2 cipher kind (RFC 6176 prohibits SSLv2).
    pub sslv2_class: SuiteClass,
    pub suite: Vec<SuiteRow>,
    pub group: Vec<GroupRow>,
}

impl TlsTable {
    /// The suite with code point `id`.
    pub fn suite(&self, id: u16) -> Option<&SuiteRow> {
        self.suite.iter().find(|s| s.id == id)
    }

    /// The group with code point `id`.
    pub fn group(&self, id: u16) -> Option<&GroupRow> {
        self.group.iter().find(|g| g.id == id)
    }

    /// "source, edition", as a finding or the report names the table.
    pub fn label(&self) -> String {
        format!("{}, {}", self.source, self.edition)
    }
}

impl Checked for TlsTable {
    fn cited(&self) -> &[String] {
        &self.references
    }

    fn problem(&self) -> Option<String> {
        let mut suites = HashSet::new();
        if let Some(row) = self.suite.iter().find(|s| !suites.insert(s.id)) {
            return Some(format!("suite {:#06x} is listed twice", row.id));
        }
        let mut groups = HashSet::new();
        if let Some(row) = self.group.iter().find(|g| !groups.insert(g.id)) {
            return Some(format!("group {:#06x} is listed twice", row.id));
        }
        date_problem("date", &self.date)
            .or_else(|| {
                self.suite.iter().find_map(|s| {
                    s.recommended_until
                        .as_deref()
                        .and_then(|d| date_problem(&format!("{} recommended_until", s.name), d))
                })
            })
            .or_else(|| {
                self.group.iter().find_map(|g| {
                    g.recommended_until
                        .as_deref()
                        .and_then(|d| date_problem(&format!("{} recommended_until", g.name), d))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Tables;
    use super::*;

    #[test]
    fn the_classes_follow_the_guideline() {
        let table = Tables::embedded().unwrap().tls;
        let class = |id| table.suite(id).unwrap().class;
        assert_eq!(class(0xc02f), SuiteClass::Recommended); // ECDHE-RSA-AES128-GCM
        assert_eq!(class(0x000a), SuiteClass::Broken); // 3DES
        assert_eq!(class(0x009c), SuiteClass::NotListed); // static RSA
        assert_eq!(class(0x1303), SuiteClass::NotListed); // ChaCha20
        assert_eq!(class(0x1304), SuiteClass::Recommended); // AES_128_CCM
        for suite in &table.suite {
            let name = &suite.name;
            let weak = ["NULL", "EXPORT", "anon", "RC4", "_DES_", "3DES", "MD5"];
            if weak.iter().any(|w| name.contains(w)) {
                assert_eq!(suite.class, SuiteClass::Broken, "{name}");
            }
        }
        assert_eq!(table.group(256).unwrap().class, GroupClass::TooSmall);
        assert_eq!(table.group(29).unwrap().class, GroupClass::Info);
        assert_eq!(table.sslv2_class, SuiteClass::Broken);
    }

    #[test]
    fn tls_1_2_suites_and_classical_groups_are_recommended_until_the_end_of_2031() {
        let table = Tables::embedded().unwrap().tls;
        let until = |id| table.suite(id).unwrap().recommended_until.as_deref();
        assert_eq!(until(0xc02f), Some("2031-12-31")); // TLS 1.2 ECDHE
        assert_eq!(until(0x009e), Some("2031-12-31")); // TLS 1.2 DHE
        assert_eq!(until(0x1301), None); // TLS 1.3
        assert_eq!(until(0x000a), None); // never recommended
        let group = |id| table.group(id).unwrap().recommended_until.as_deref();
        assert_eq!(group(0x0017), Some("2031-12-31")); // secp256r1
        assert_eq!(group(0x11ec), None); // X25519MLKEM768
    }
}
