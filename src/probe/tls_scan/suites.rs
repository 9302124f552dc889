//! Suite enumeration per accepted version with [`strike`], and whether the
//! server enforces its own order (RFC 5246 §7.4.1.3 lets it choose).
//!
//! [`strike`]: super::strike

use super::classification::table;
use super::groups::default_groups;
use super::hello::ProtocolVersion;
use super::strike::{self, Pick};
use super::{Scanner, accepted};
use crate::evidence::{SuiteClass, SuiteResult};

impl Scanner {
    /// The suites of `version` that the server accepts, in the table's
    /// order, and whether it enforces its own order. `first` is the suite
    /// it picked when the versions step offered them all.
    pub(super) async fn suites(
        &self,
        version: ProtocolVersion,
        first: u16,
    ) -> (Vec<u16>, Option<bool>) {
        let all = version.default_suites();
        let rest: Vec<u16> = all.iter().copied().filter(|s| *s != first).collect();
        let mut found = strike::enumerate(
            strike::halves(rest),
            || self.idle(),
            |set| async move {
                let spec = self.spec(version, set, default_groups(version), vec![29]);
                match self.hello(spec, false).await {
                    Some(answer) => match accepted(&answer, version) {
                        Some(hello) => Pick::Picked(hello.suite, ()),
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
            found.items.insert(0, (first, ()));
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
        (suites, order)
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
        let answer = self.hello(spec, false).await?;
        let hello = accepted(&answer, version)?;
        Some(hello.suite == preferred)
    }
}

pub(super) fn suite_result(id: u16) -> SuiteResult {
    match table().suite(id) {
        Some(entry) => SuiteResult {
            id: format!("{id:#06x}"),
            name: entry.name.clone(),
            class: entry.class,
            forward_secrecy: entry.forward_secrecy,
        },
        // Only offered suites can be accepted, and they are all classified.
        None => SuiteResult {
            id: format!("{id:#06x}"),
            name: format!("unknown suite {id:#06x}"),
            class: SuiteClass::NotListed,
            forward_secrecy: false,
        },
    }
}
