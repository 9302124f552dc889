//! Group enumeration and the key exchange: TLS 1.3 groups through
//! HelloRetryRequests (RFC 8446 §4.1.4), ECDHE curves below TLS 1.3 and the
//! DHE prime from the ServerKeyExchange (RFC 8422 §5.4, RFC 5246 §7.4.3),
//! and how the server signed that key exchange (read by CRT-005).

use super::hello::ProtocolVersion;
use super::key_exchange::{self, KeyExchangeGroup, KeyExchangeSignature, ServerKeyExchange};
use super::registry::{KeyExchange, table};
use super::strike::{self, Pick};
use super::{Scanner, accepted};
use crate::evidence::{GroupResult, KeyExchangeResult};

/// What the group step found.
pub(super) struct Groups {
    pub tls13: Vec<GroupResult>,
    pub ecdhe_curves: Vec<GroupResult>,
    pub dhe_prime_bits: Option<u32>,
    pub key_exchanges: Vec<KeyExchangeResult>,
}

impl Scanner {
    /// TLS 1.3 groups, ECDHE curves and the DHE prime, concurrently and
    /// right after the versions step. The ECDHE and DHE probes use the
    /// highest accepted version below TLS 1.3 and offer only suites of
    /// their family: a server without such a suite refuses the first
    /// offer, which is the answer.
    pub(super) async fn groups(&self, legacy: Option<ProtocolVersion>, tls13: bool) -> Groups {
        let (tls13_groups, (ecdhe_curves, ecdhe), dhe) = tokio::join!(
            async {
                if tls13 {
                    self.tls13_groups().await
                } else {
                    Vec::new()
                }
            },
            async {
                match legacy {
                    Some(v) => self.ecdhe_curves(v).await,
                    None => (Vec::new(), None),
                }
            },
            async {
                match legacy {
                    Some(v) => self.dhe_prime(v).await,
                    None => None,
                }
            },
        );
        Groups {
            tls13: tls13_groups.into_iter().map(group_result).collect(),
            ecdhe_curves: ecdhe_curves.into_iter().map(group_result).collect(),
            dhe_prime_bits: dhe.as_ref().and_then(|d| match d.exchange.group {
                KeyExchangeGroup::DhPrime(bits) => Some(bits),
                KeyExchangeGroup::NamedCurve(_) => None,
            }),
            key_exchanges: ecdhe.into_iter().chain(dhe).map(|k| k.into()).collect(),
        }
    }

    /// TLS 1.3 groups: no key share, so the server names its choice in a
    /// HelloRetryRequest (RFC 8446 §4.1.4); strike it and offer the rest.
    async fn tls13_groups(&self) -> Vec<u16> {
        let all = table().all_groups();
        let version = ProtocolVersion::Tls13;
        let found = strike::enumerate(
            vec![all.clone()],
            || self.idle(),
            |set| async move {
                let spec = self.spec(version, version.default_suites(), set, Vec::new());
                let answer = self.hello(spec, false, "groups").await;
                match answer
                    .as_ref()
                    .and_then(|a| accepted(a, version))
                    .and_then(|h| h.group)
                {
                    Some(group) => Pick::Picked(group, ()),
                    None => Pick::Refused,
                }
            },
        )
        .await;
        for stray in &found.strays {
            self.note(format!(
                "TLSv1.3: the server selected group {stray:#06x}, which was not offered"
            ));
        }
        found.sorted_by(&all)
    }

    /// ECDHE curves below TLS 1.3, read from the ServerKeyExchange
    /// (RFC 8422 §5.4): offer only ECDHE suites and strike each curve used.
    /// Also returns the key exchange made when every curve was offered,
    /// with the server's preferred curve.
    async fn ecdhe_curves(&self, version: ProtocolVersion) -> (Vec<u16>, Option<SignedExchange>) {
        let all = legacy_curves();
        let found = strike::enumerate(
            vec![all.clone()],
            || self.idle(),
            |set| async move {
                let spec = self.spec(
                    version,
                    table().suites_with(KeyExchange::Ecdhe),
                    set,
                    Vec::new(),
                );
                let answer = self.hello(spec, true, "ECDHE curves").await;
                let Some(hello) = answer.as_ref().and_then(|a| accepted(a, version)) else {
                    return Pick::Refused;
                };
                match hello.key_exchange {
                    Some(exchange) => match exchange.group {
                        KeyExchangeGroup::NamedCurve(curve) => Pick::Picked(
                            curve,
                            SignedExchange {
                                version,
                                suite: hello.suite,
                                exchange,
                            },
                        ),
                        KeyExchangeGroup::DhPrime(_) => Pick::Refused,
                    },
                    None => Pick::Refused,
                }
            },
        )
        .await;
        let curves = found.sorted_by(&all);
        // The first pick answered the only initial set: every curve.
        (
            curves,
            found.items.into_iter().next().map(|(_, exchange)| exchange),
        )
    }

    /// The DH prime of a DHE suite and its signature (RFC 5246 §7.4.3).
    async fn dhe_prime(&self, version: ProtocolVersion) -> Option<SignedExchange> {
        let spec = self.spec(
            version,
            table().suites_with(KeyExchange::Dhe),
            legacy_curves(),
            Vec::new(),
        );
        let answer = self.hello(spec, true, "DHE prime").await?;
        let hello = accepted(&answer, version)?;
        let exchange = hello.key_exchange?;
        matches!(exchange.group, KeyExchangeGroup::DhPrime(_)).then_some(SignedExchange {
            version,
            suite: hello.suite,
            exchange,
        })
    }
}

/// One ServerKeyExchange with the version and suite it was made for.
pub(super) struct SignedExchange {
    version: ProtocolVersion,
    suite: u16,
    exchange: ServerKeyExchange,
}

impl From<SignedExchange> for KeyExchangeResult {
    fn from(signed: SignedExchange) -> Self {
        let suite = table()
            .suite(signed.suite)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("{:#06x}", signed.suite));
        let (kind, group, group_bits) = match signed.exchange.group {
            KeyExchangeGroup::NamedCurve(curve) => {
                let group = group_result(curve);
                ("ECDHE", group.name, group.bits)
            }
            KeyExchangeGroup::DhPrime(bits) => ("DHE", format!("{bits}-bit prime"), bits),
        };
        let (signature, signature_id, hash) = match signed.exchange.signature {
            KeyExchangeSignature::Scheme(id) => {
                let (name, hash) = key_exchange::scheme(id);
                (name, Some(format!("{id:#06x}")), hash)
            }
            // RFC 4492 §5.4 and RFC 4346 §7.4.3: SHA-1 for (EC)DSA,
            // MD5 and SHA-1 concatenated for RSA.
            KeyExchangeSignature::Legacy
                if suite.contains("_ECDSA_") || suite.contains("_DSS_") =>
            {
                (
                    "legacy SHA-1 (fixed by TLS 1.0/1.1)".to_string(),
                    None,
                    "sha1",
                )
            }
            KeyExchangeSignature::Legacy => (
                "legacy MD5+SHA-1 (fixed by TLS 1.0/1.1)".to_string(),
                None,
                "md5_sha1",
            ),
            KeyExchangeSignature::Anonymous => ("none (anonymous suite)".to_string(), None, "none"),
            KeyExchangeSignature::Missing => ("not read".to_string(), None, "unknown"),
        };
        KeyExchangeResult {
            version: signed.version.name().to_string(),
            kind: kind.to_string(),
            suite,
            group,
            group_bits,
            signature,
            signature_id,
            hash: hash.to_string(),
        }
    }
}

/// Groups for the versions probe and the suite chains.
pub(super) fn default_groups(version: ProtocolVersion) -> Vec<u16> {
    if version == ProtocolVersion::Tls13 {
        table().all_groups()
    } else {
        legacy_curves()
    }
}

/// Named curves usable below TLS 1.3: the `ec` groups without the TLS 1.3
/// brainpool code points (RFC 8734 §2).
fn legacy_curves() -> Vec<u16> {
    table()
        .groups_of("ec")
        .into_iter()
        .filter(|g| !(31..=33).contains(g))
        .collect()
}

fn group_result(id: u16) -> GroupResult {
    match table().group(id) {
        Some(entry) => GroupResult {
            id: format!("{id:#06x}"),
            name: entry.name.clone(),
            bits: entry.bits,
        },
        None => GroupResult {
            id: format!("{id:#06x}"),
            name: format!("unknown group {id:#06x}"),
            bits: 0,
        },
    }
}
