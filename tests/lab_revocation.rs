//! CRT-006 to CRT-008 against the lab's revocation provider
//! (tests/lab/lib/revocation.sh): one Exim on 127.0.50.11–15 serving, per
//! address, a leaf of the lab's revocation CA whose OCSP responder and CRL
//! live on revocation-nginx (127.0.50.80), or on 127.0.50.81 where nothing
//! listens. The domains (good, revoked, stapled, muststaple and
//! unreachable.revocation.test) are served by a DNS server of the test
//! itself (tests/hostile/dns.rs), so the shared lab DNS needs no zone.

mod common;
mod hostile;

use hostile::dns::{self, Data, Record, Reply};
use serde_json::Value;
use std::net::Ipv4Addr;
use std::time::Duration;

/// The revocation domains and their MX addresses.
const DOMAINS: [(&str, Ipv4Addr); 5] = [
    ("good.revocation.test", Ipv4Addr::new(127, 0, 50, 11)),
    ("revoked.revocation.test", Ipv4Addr::new(127, 0, 50, 12)),
    ("stapled.revocation.test", Ipv4Addr::new(127, 0, 50, 13)),
    ("muststaple.revocation.test", Ipv4Addr::new(127, 0, 50, 14)),
    ("unreachable.revocation.test", Ipv4Addr::new(127, 0, 50, 15)),
];

/// DNS for the revocation domains: MX and A records, NXDOMAIN for the rest.
fn revocation_dns() -> dns::DnsServer {
    dns::start(|question, _| {
        for (domain, address) in DOMAINS {
            let mx = format!("mx.{domain}");
            if question.name == domain {
                return if question.qtype == dns::TYPE_MX {
                    Reply::Answer(vec![Record::new(domain, Data::Mx(10, mx))])
                } else {
                    Reply::Code(0)
                };
            }
            if question.name == mx {
                return if question.qtype == dns::TYPE_A {
                    Reply::Answer(vec![Record::new(&mx, Data::A(address))])
                } else {
                    Reply::Code(0)
                };
            }
        }
        Reply::Code(dns::NXDOMAIN)
    })
}

/// Scans every revocation domain and returns the report.
fn scan(extra: &[&str]) -> Value {
    let server = revocation_dns();
    let output = common::mailaudit()
        .arg("scan")
        .args(DOMAINS.map(|(domain, _)| domain))
        .args(["--resolver", &server.resolver(), "--timeout", "3"])
        .args(["--no-location", "--no-tls-scan", "--no-active-tls-checks"])
        .arg("--ca-file")
        .arg(common::lab_ca())
        .args(["--format", "json", "--out", "-", "--lang", "en"])
        .args(extra)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("mailaudit runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "exit {:?}; stderr: {stderr}",
        output.status.code()
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}); stderr: {stderr}"))
}

fn subject(name: &str) -> String {
    format!("mx.{name}.revocation.test:25")
}

fn revocation<'a>(report: &'a Value, name: &str) -> &'a Value {
    let revocation = &common::endpoint(report, &subject(name))["revocation"];
    assert_eq!(revocation["status"], "completed", "{revocation}");
    &revocation["value"]
}

#[test]
fn revocation_verdicts_follow_the_responders_and_the_crl() {
    let report = scan(&[]);

    // Given a revoked leaf, when OCSP and the CRL both say so, then CRT-006
    // fails critical.
    common::expect(
        &report,
        "CRT-006",
        &subject("revoked"),
        "fail",
        Some("critical"),
    );
    let revoked = revocation(&report, "revoked");
    assert_eq!(revoked["ocsp"][0]["status"], "revoked", "{revoked}");
    assert_eq!(revoked["ocsp"][0]["revocation_reason"], "keyCompromise");
    assert_eq!(revoked["crl"][0]["status"], "revoked", "{revoked}");
    let detail = common::finding(&report, "CRT-006", &subject("revoked"))["detail"].to_string();
    assert!(
        detail.contains("http://127.0.50.80/ocsp/revoked"),
        "{detail}"
    );

    // A good leaf passes, and asks for no staple.
    common::expect(&report, "CRT-006", &subject("good"), "pass", None);
    let good = revocation(&report, "good");
    assert_eq!(good["ocsp"][0]["status"], "good", "{good}");
    assert_eq!(good["ocsp"][0]["signed_by"], "issuer");
    assert_eq!(good["crl"][0]["status"], "good", "{good}");
    assert_eq!(good["must_staple"], false);
    common::expect(&report, "CRT-007", &subject("good"), "not_applicable", None);
    common::expect(&report, "CRT-008", &subject("good"), "pass", None);

    // Exim staples a response signed by a delegated responder.
    let stapled = revocation(&report, "stapled");
    assert_eq!(stapled["stapled"]["status"], "good", "{stapled}");
    assert!(
        stapled["stapled"]["signed_by"]
            .as_str()
            .is_some_and(|s| s.starts_with("delegated responder CN=mailaudit lab OCSP responder")),
        "{stapled}"
    );
    common::expect(
        &report,
        "CRT-008",
        &subject("stapled"),
        "fail",
        Some("info"),
    );
    let detail = common::finding(&report, "CRT-008", &subject("stapled"))["detail"].to_string();
    assert!(detail.contains("good"), "{detail}");
    common::expect(&report, "CRT-006", &subject("stapled"), "pass", None);

    // Must-Staple, but Exim has no response to staple for it: an MX, so
    // medium.
    assert_eq!(revocation(&report, "muststaple")["must_staple"], true);
    common::expect(
        &report,
        "CRT-007",
        &subject("muststaple"),
        "fail",
        Some("medium"),
    );

    // Nothing listens where the last leaf points: inconclusive, with why.
    let unreachable = revocation(&report, "unreachable");
    assert_eq!(
        unreachable["ocsp"][0]["status"], "unavailable",
        "{unreachable}"
    );
    assert_eq!(
        unreachable["crl"][0]["status"], "unavailable",
        "{unreachable}"
    );
    common::expect(
        &report,
        "CRT-006",
        &subject("unreachable"),
        "inconclusive",
        None,
    );
    let reason = common::finding(&report, "CRT-006", &subject("unreachable"))["detail"].to_string();
    assert!(reason.contains("127.0.50.81"), "{reason}");
}

#[test]
fn no_revocation_leaves_crt_006_inconclusive_with_the_reason() {
    let report = scan(&["--no-revocation"]);
    for name in ["good", "revoked"] {
        let attempt = &common::endpoint(&report, &subject(name))["revocation"];
        assert_eq!(attempt["status"], "skipped", "{attempt}");
        common::expect(&report, "CRT-006", &subject(name), "inconclusive", None);
        let detail = common::finding(&report, "CRT-006", &subject(name))["detail"].to_string();
        assert!(detail.contains("--no-revocation"), "{detail}");
    }
    // Stapling is read from the handshake, which still happened.
    common::expect(
        &report,
        "CRT-008",
        &subject("stapled"),
        "fail",
        Some("info"),
    );
}
