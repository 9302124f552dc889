//! Suite enumeration per accepted version: strike-and-repeat chains, one
//! per key-exchange family so that they run concurrently, and whether the
//! server enforces its own order (RFC 5246 §7.4.1.3 lets it choose).

use super::classification::{KeyExchange, table};
use super::groups::default_groups;
use super::hello::ProtocolVersion;
use super::{MAX_CHAIN, Scanner, accepted, suites_with};
use crate::evidence::{SuiteClass, SuiteResult};
use futures::future::join_all;

impl Scanner {
    /// Strike-and-repeat over the suites of `version`, one chain per key
    /// exchange family so that they run concurrently.
    pub(super) async fn suites(&self, version: ProtocolVersion, first: u16) -> Vec<u16> {
        let families: Vec<Vec<u16>> = if version == ProtocolVersion::Tls13 {
            vec![version.default_suites()]
        } else {
            let all = version.default_suites();
            vec![
                suites_with(&all, &[KeyExchange::Ecdhe]),
                suites_with(&all, &[KeyExchange::Dhe]),
                suites_with(&all, &[KeyExchange::Rsa]),
                suites_with(
                    &all,
                    &[
                        KeyExchange::Ecdh,
                        KeyExchange::DhAnon,
                        KeyExchange::EcdhAnon,
                    ],
                ),
            ]
        };
        let chains = join_all(families.into_iter().map(|mut remaining| async move {
            let mut found = Vec::new();
            if let Some(position) = remaining.iter().position(|s| *s == first) {
                remaining.remove(position);
                found.push(first);
            }
            for _ in 0..MAX_CHAIN {
                if remaining.is_empty() {
                    break;
                }
                let spec = self.spec(
                    version,
                    remaining.clone(),
                    default_groups(version),
                    vec![29],
                );
                let answer = self.hello(spec, false).await;
                let Some(hello) = answer.as_ref().and_then(|a| accepted(a, version)) else {
                    break;
                };
                let Some(position) = remaining.iter().position(|s| *s == hello.suite) else {
                    self.note(format!(
                        "{}: the server picked {:#06x}, which was not offered",
                        version.name(),
                        hello.suite
                    ));
                    break;
                };
                found.push(remaining.remove(position));
            }
            found
        }))
        .await;
        chains.into_iter().flatten().collect()
    }

    /// Offers the first two suites found in reverse order: a server that
    /// still picks the first one enforces its own order.
    pub(super) async fn order(&self, version: ProtocolVersion, suites: &[u16]) -> Option<bool> {
        let [preferred, other, ..] = suites else {
            return None;
        };
        let spec = self.spec(
            version,
            vec![*other, *preferred],
            default_groups(version),
            vec![29],
        );
        let answer = self.hello(spec, false).await?;
        let hello = accepted(&answer, version)?;
        Some(hello.suite == *preferred)
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
