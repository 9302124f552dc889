//! Suite enumeration per accepted version with [`strike`], and whether the
//! server enforces its own order (RFC 5246 §7.4.1.3 lets it choose).
//!
//! [`strike`]: super::strike

use super::groups::default_groups;
use super::hello::ProtocolVersion;
use super::registry::table;
use super::strike::{self, Pick};
use super::{Scanner, accepted};
use crate::evidence::SuiteResult;

impl Scanner {
    /// The suites of `version` that the server accepts, in the table's
    /// order, and whether it enforces its own order. `first` is the suite
    /// it picked when the versions step offered them all, and `first_etm`
    /// whether that ServerHello echoed encrypt_then_mac.
    pub(super) async fn suites(
        &self,
        version: ProtocolVersion,
        first: u16,
        first_etm: bool,
    ) -> SuitesFound {
        let all = version.default_suites();
        let rest: Vec<u16> = all.iter().copied().filter(|s| *s != first).collect();
        let mut found = strike::enumerate(
            strike::halves(rest),
            || self.idle(),
            |set| async move {
                let spec = self.spec(version, set, default_groups(version), vec![29]);
                match self.hello(spec, false, "suites").await {
                    Some(answer) => match accepted(&answer, version) {
                        Some(hello) => Pick::Picked(hello.suite, hello.extensions.contains(&22)),
                        None => Pick::Refused,
                    },
                    None => Pick::Refused,
                }
            },
        )
        .await;
        for stray in &found.strays {
            self.note(format!(
                "{}: the server picked {stray:#06x}, which was not offered",
                version.name()
            ));
        }
        if all.contains(&first) {
            found.items.insert(0, (first, first_etm));
            found.picks.insert(0, (all.clone(), first));
        }
        let suites = found.sorted_by(&all);
        // The picks often prove a server order already; otherwise one
        // more handshake asks.
        let order = if found.overrode_client_order() {
            Some(true)
        } else {
            let other = suites.iter().copied().find(|s| *s != first);
            match other {
                Some(other) => self.order(version, first, other).await,
                None => None,
            }
        };
        SuitesFound {
            encrypt_then_mac: encrypt_then_mac_on_cbc(&found.items),
            suites,
            order,
        }
    }

    /// Offers `other` before `preferred` (which the server picked while
    /// both were offered in the other order): a server that still picks
    /// `preferred` enforces its own order.
    async fn order(&self, version: ProtocolVersion, preferred: u16, other: u16) -> Option<bool> {
        let spec = self.spec(
            version,
            vec![other, preferred],
            default_groups(version),
            vec![29],
        );
        let answer = self.hello(spec, false, "server order").await?;
        let hello = accepted(&answer, version)?;
        Some(hello.suite == preferred)
    }
}

/// What the suites step found for one version.
pub(super) struct SuitesFound {
    /// Accepted suites, in the table's order.
    pub suites: Vec<u16>,
    /// Whether the server enforces its own order; `None` when unknown.
    pub order: Option<bool>,
    /// Whether every handshake that negotiated a CBC suite echoed
    /// encrypt_then_mac; `None` when no CBC suite was negotiated.
    pub encrypt_then_mac: Option<bool>,
}

/// encrypt_then_mac as seen on the handshakes that negotiated a CBC suite.
/// RFC 7366 §2: a server must not echo the extension when it picks an AEAD
/// or stream suite, so only CBC handshakes can tell whether it is used.
pub(super) fn encrypt_then_mac_on_cbc(picks: &[(u16, bool)]) -> Option<bool> {
    picks
        .iter()
        .filter(|(id, _)| is_cbc(*id))
        .map(|(_, etm)| *etm)
        .reduce(|a, b| a && b)
}

/// A block-cipher suite in CBC mode, by its IANA name.
fn is_cbc(id: u16) -> bool {
    table()
        .suite(id)
        .is_some_and(|entry| entry.name.contains("_CBC_"))
}

pub(super) fn suite_result(id: u16) -> SuiteResult {
    match table().suite(id) {
        Some(entry) => SuiteResult {
            id: format!("{id:#06x}"),
            name: entry.name.clone(),
            forward_secrecy: entry.forward_secrecy,
        },
        // Only offered suites can be accepted, and they are all listed.
        None => SuiteResult {
            id: format!("{id:#06x}"),
            name: format!("unknown suite {id:#06x}"),
            forward_secrecy: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_then_mac_is_read_only_from_cbc_handshakes() {
        // 0xc02f ECDHE-RSA-AES128-GCM-SHA256, 0xc013 ECDHE-RSA-AES128-SHA (CBC)
        assert_eq!(encrypt_then_mac_on_cbc(&[(0xc02f, false)]), None);
        assert_eq!(
            encrypt_then_mac_on_cbc(&[(0xc02f, false), (0xc013, true)]),
            Some(true),
            "the AEAD handshake without the extension does not count"
        );
        assert_eq!(
            encrypt_then_mac_on_cbc(&[(0xc013, true), (0x002f, false)]),
            Some(false)
        );
    }
}
