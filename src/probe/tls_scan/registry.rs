//! The cipher suites and key-exchange groups the scan offers, loaded from
//! the embedded `registry.toml`: IANA code points with the facts the scan
//! needs to read an answer (key exchange, forward secrecy, group size).
//!
//! No class is kept here: whether a suite is recommended by BSI
//! TR-02102-2 is a judgement under a dated edition, applied by the rules
//! stage (`rules/tables/tr-02102-2.toml`), never written into the evidence.
//! Suite and group code points are the IANA registry values (RFC 8446
//! §B.4, RFC 5246 §A.5, RFC 8422 §5.1.1, RFC 7919 §2).

use serde::Deserialize;
use std::sync::OnceLock;

const TABLE: &str = include_str!("registry.toml");

/// How a suite establishes its keys; decides how a ServerKeyExchange reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyExchange {
    Tls13,
    Ecdhe,
    Dhe,
    Rsa,
    Ecdh,
    DhAnon,
    EcdhAnon,
}

/// One cipher suite of the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteEntry {
    pub id: u16,
    pub name: String,
    pub kx: KeyExchange,
    pub forward_secrecy: bool,
}

/// One key-exchange group of the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    pub id: u16,
    pub name: String,
    /// `ec`, `ffdhe` or `hybrid`.
    pub kind: String,
    pub bits: u32,
}

/// The whole table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub source: String,
    pub suite: Vec<SuiteEntry>,
    pub group: Vec<GroupEntry>,
}

impl Table {
    /// The suite with code point `id`.
    pub fn suite(&self, id: u16) -> Option<&SuiteEntry> {
        self.suite.iter().find(|s| s.id == id)
    }

    /// The group with code point `id`.
    pub fn group(&self, id: u16) -> Option<&GroupEntry> {
        self.group.iter().find(|g| g.id == id)
    }

    /// Suites for TLS 1.0–1.2 (and SSLv3), in table order.
    pub fn legacy_suites(&self) -> Vec<u16> {
        self.suite
            .iter()
            .filter(|s| s.kx != KeyExchange::Tls13)
            .map(|s| s.id)
            .collect()
    }

    /// TLS 1.3 suites (RFC 8446 §B.4).
    pub fn tls13_suites(&self) -> Vec<u16> {
        self.suite
            .iter()
            .filter(|s| s.kx == KeyExchange::Tls13)
            .map(|s| s.id)
            .collect()
    }

    /// Suites with the given key exchange.
    pub fn suites_with(&self, kx: KeyExchange) -> Vec<u16> {
        self.suite
            .iter()
            .filter(|s| s.kx == kx)
            .map(|s| s.id)
            .collect()
    }

    /// Groups of one kind (`ec`, `ffdhe`, `hybrid`).
    pub fn groups_of(&self, kind: &str) -> Vec<u16> {
        self.group
            .iter()
            .filter(|g| g.kind == kind)
            .map(|g| g.id)
            .collect()
    }

    /// Every group, in table order.
    pub fn all_groups(&self) -> Vec<u16> {
        self.group.iter().map(|g| g.id).collect()
    }
}

/// The embedded table, parsed once. It is checked by the unit tests, so a
/// parse error here is a build defect.
pub fn table() -> &'static Table {
    static PARSED: OnceLock<Table> = OnceLock::new();
    PARSED.get_or_init(|| {
        toml::from_str(TABLE).unwrap_or_else(|e| panic!("registry.toml is malformed: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::tls_scan::hello::{ProtocolVersion, signature_algorithms};
    use std::collections::HashSet;

    #[test]
    fn the_table_loads_with_source_and_unique_ids() {
        let table = table();
        assert!(table.source.contains("IANA"));
        let ids: HashSet<u16> = table.suite.iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), table.suite.len(), "duplicate suite ids");
        let groups: HashSet<u16> = table.group.iter().map(|g| g.id).collect();
        assert_eq!(groups.len(), table.group.len(), "duplicate group ids");
        assert!(!signature_algorithms().is_empty());
    }

    #[test]
    fn every_offered_suite_and_group_is_listed() {
        let table = table();
        for version in ProtocolVersion::ALL {
            for id in version.default_suites() {
                assert!(
                    table.suite(id).is_some(),
                    "suite {id:#06x} not in registry.toml"
                );
            }
        }
        for id in table.all_groups() {
            assert!(table.group(id).is_some());
        }
    }
}
