//! Version discovery: one ClientHello per protocol version, each offering
//! every suite of that version, plus the SSLv2 CLIENT-HELLO of [`sslv2`];
//! and the features of the ServerHello (TR-02102-2 §3.4) seen on the
//! highest version below TLS 1.3.
//!
//! [`sslv2`]: super::sslv2

use super::answer::{Answer, ServerHello};
use super::hello::{ProtocolVersion, version_name};
use super::sslv2::{self, Sslv2Answer};
use super::{Scanner, accepted, groups::default_groups, transport};
use crate::evidence::{HelloFeatures, SuiteResult, VersionResult};
use futures::future::join_all;

/// What the versions step found.
pub(super) struct Versions {
    /// One result per version, SSLv2 first, oldest first.
    pub results: Vec<VersionResult>,
    /// Accepted versions (SSLv3 to TLS 1.3) with the suite first picked
    /// and whether that ServerHello echoed encrypt_then_mac.
    pub chains: Vec<(ProtocolVersion, u16, bool)>,
    pub features: Option<HelloFeatures>,
}

impl Scanner {
    pub(super) async fn versions(&self) -> Versions {
        let tls = join_all(ProtocolVersion::ALL.map(|version| {
            let spec = self.spec(
                version,
                version.default_suites(),
                default_groups(version),
                vec![29],
            );
            self.hello(spec, false, "versions")
        }));
        let (sslv2, first) = tokio::join!(self.sslv2(), tls);
        let mut results = vec![sslv2];
        let mut chains = Vec::new();
        let mut features = None;
        for (version, answer) in ProtocolVersion::ALL.into_iter().zip(&first) {
            let accepted = answer.as_ref().and_then(|a| accepted(a, version));
            if let (Some(hello), true) = (accepted, version != ProtocolVersion::Tls13) {
                features = Some(hello_features(version, hello));
            }
            if let Some(hello) = accepted {
                chains.push((version, hello.suite, hello.extensions.contains(&22)));
            }
            results.push(VersionResult {
                version: version.name().to_string(),
                accepted: accepted.is_some(),
                answer: answer
                    .as_ref()
                    .map(|a| describe(a, version))
                    .unwrap_or_else(|| "no handshake possible (see notes)".to_string()),
                suites: Vec::new(),
                server_order: None,
            });
        }
        Versions {
            results,
            chains,
            features,
        }
    }

    /// The SSLv2 CLIENT-HELLO: accepted when a SERVER-HELLO shares a
    /// cipher kind; the kinds are its suites (all MD5-based, so broken).
    async fn sslv2(&self) -> VersionResult {
        let answer = self
            .with_retries(
                "SSLv2 version",
                || transport::sslv2_handshake(&self.target),
                || Sslv2Answer::Other(Answer::Closed),
            )
            .await;
        let suites = match &answer {
            Some(Sslv2Answer::ServerHello { cipher_kinds, .. }) if answer_accepted(&answer) => {
                cipher_kinds
                    .iter()
                    .map(|kind| SuiteResult {
                        id: format!("{kind:#08x}"),
                        name: sslv2::cipher_kind_name(*kind),
                        forward_secrecy: false,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        VersionResult {
            version: "SSLv2".to_string(),
            accepted: answer_accepted(&answer),
            answer: answer
                .as_ref()
                .map(sslv2::describe)
                .unwrap_or_else(|| "no handshake possible (see notes)".to_string()),
            suites,
            server_order: None,
        }
    }
}

fn answer_accepted(answer: &Option<Sslv2Answer>) -> bool {
    answer.as_ref().is_some_and(Sslv2Answer::accepted)
}

fn describe(answer: &Answer, offered: ProtocolVersion) -> String {
    match answer {
        Answer::Hello(hello) => {
            let kind = if hello.hello_retry {
                "HelloRetryRequest"
            } else {
                "ServerHello"
            };
            let version = version_name(hello.version);
            if hello.version == offered.wire() {
                format!("{kind} {version}")
            } else {
                format!("{kind} {version}, not the {} offered", offered.name())
            }
        }
        Answer::Alert { level, description } => format!(
            "{} alert {} ({description})",
            if *level == 2 { "fatal" } else { "warning" },
            tls_parser::TlsAlertDescription(*description)
        ),
        Answer::Closed => "connection closed".to_string(),
        Answer::Malformed(problem) => problem.clone(),
    }
}

fn hello_features(version: ProtocolVersion, hello: &ServerHello) -> HelloFeatures {
    let has = |kind: u16| hello.extensions.contains(&kind);
    HelloFeatures {
        version: version.name().to_string(),
        compression: hello.compression != 0,
        secure_renegotiation: has(0xff01),
        extended_master_secret: has(23),
        encrypt_then_mac: has(22),
        heartbeat: has(15),
    }
}
