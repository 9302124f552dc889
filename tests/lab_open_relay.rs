//! ACC-002 (open relay) against the lab's three relay-test MXs
//! (tests/lab/lib/relay.sh): relay-open-postfix (127.0.40.25) relays for
//! everyone, relay-mynet-postfix (127.0.40.26) only for its /24,
//! relay-closed-postfix (127.0.40.27) for nobody. Their domains
//! (open.relay.test, mynet.relay.test, closed.relay.test) are served by a DNS
//! server of the test itself (tests/hostile/dns.rs), so the shared lab DNS
//! needs no zone for them.
//!
//! Loopback addresses are ones MTAs trust by default, so against these three
//! mailaudit tests from inside a likely trusted network: an accept is
//! "relay allowed from this network" (low). The verdict follows the server
//! and the vantage point: from 127.0.0.1 the network-only relay refuses,
//! from 127.0.40.1 (`--relay-test-source`, inside its mynetworks) it
//! accepts. A fourth open relay, relay-outside-postfix, runs in the lab's
//! network namespace at 203.0.113.25 and is reached from 198.51.100.1: from
//! outside its networks its accept is an "open relay" (critical).
//!
//! A packet capture (tcpdump on `lo`, root only; the test says SKIPPED for
//! the capture otherwise) shows what went over the wire: MAIL FROM and RCPT
//! TO, then RSET and QUIT, and never DATA; without `--relay-test`, no MAIL
//! FROM at all.

mod common;
mod hostile;

use hostile::dns::{self, Data, Record, Reply};
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The relay-test domains and their MX addresses.
const RELAYS: [(&str, Ipv4Addr); 3] = [
    ("open.relay.test", Ipv4Addr::new(127, 0, 40, 25)),
    ("mynet.relay.test", Ipv4Addr::new(127, 0, 40, 26)),
    ("closed.relay.test", Ipv4Addr::new(127, 0, 40, 27)),
];

/// Scans must not overlap a capture: every test talks to the same relays.
static CAPTURE: Mutex<()> = Mutex::new(());

/// The open relay in the lab's network namespace (tests/lab/lib/relay.sh),
/// reached from 198.51.100.1 over a veth pair.
const OUTSIDE: (&str, Ipv4Addr) = ("outside.relay.test", Ipv4Addr::new(203, 0, 113, 25));

/// DNS for the relay domains: MX and A records, NXDOMAIN for anything else.
fn relay_dns() -> dns::DnsServer {
    dns::start(|question, _| {
        for (domain, address) in RELAYS.into_iter().chain([OUTSIDE]) {
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

/// Scans the three relay domains through `resolver` and returns the report.
fn scan(resolver: &str, extra: &[&str]) -> Value {
    scan_domains(&RELAYS.map(|(domain, _)| domain), resolver, extra)
}

/// Scans `domains` through `resolver` and returns the report.
fn scan_domains(domains: &[&str], resolver: &str, extra: &[&str]) -> Value {
    let output = common::mailaudit()
        .arg("scan")
        .args(domains)
        .args(["--resolver", resolver, "--timeout", "3"])
        .args(["--no-location", "--no-tls-scan"])
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

fn subject(domain: &str) -> String {
    format!("mx.{domain}:25")
}

fn relay_test<'a>(report: &'a Value, domain: &str) -> &'a Value {
    &common::endpoint(report, &subject(domain))["relay_test"]
}

/// A running tcpdump on `lo` for client-to-MX packets of the relays.
struct Capture {
    tcpdump: Child,
    file: PathBuf,
    _directory: tempfile::TempDir,
}

impl Capture {
    /// Starts capturing, or `None` (with a note) when not root.
    fn start() -> Option<Capture> {
        Capture::on("lo", "tcp and dst net 127.0.40.0/24 and dst port 25")
    }

    /// Starts capturing on `interface` with `filter`, or `None` (with a
    /// note) when not root.
    fn on(interface: &str, filter: &str) -> Option<Capture> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !root {
            eprintln!("SKIPPED (capture only): capturing on {interface} needs root");
            return None;
        }
        assert!(
            Command::new("tcpdump").arg("--version").output().is_ok(),
            "tcpdump is missing: run `bash tests/lab/lab.sh install`"
        );
        let directory = tempfile::tempdir().expect("temporary directory");
        let file = directory.path().join("relay.pcap");
        let tcpdump = Command::new("tcpdump")
            // Immediate mode: each packet reaches the file at once, not when
            // the capture buffer's timeout fires.
            .args([
                "-i",
                interface,
                "-n",
                "-U",
                "--immediate-mode",
                "-s",
                "0",
                "-w",
            ])
            .arg(&file)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tcpdump starts");
        let started = Instant::now();
        while std::fs::metadata(&file).map_or(true, |m| m.len() < 24) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "tcpdump did not start capturing"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        Some(Capture {
            tcpdump,
            file,
            _directory: directory,
        })
    }

    /// Each connection's server and client lines, as captured so far.
    fn connections(&self) -> Vec<(SocketAddrV4, Vec<String>)> {
        let pcap = std::fs::read(&self.file).expect("the capture");
        common::pcap::tcp_streams(&pcap)
            .into_iter()
            .map(|((_, server), bytes)| {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let lines = text
                    .split("\r\n")
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
                (server, lines)
            })
            .collect()
    }

    /// Waits (at most 15 s: tcpdump may lag on a busy machine) until the
    /// capture holds `complete` connections that ended with QUIT, stops our
    /// tcpdump with SIGTERM so it writes out what it holds, and returns each
    /// connection's client lines.
    fn stop(mut self, complete: usize) -> Vec<(SocketAddrV4, Vec<String>)> {
        let started = Instant::now();
        let quit = |connections: &[(SocketAddrV4, Vec<String>)]| {
            connections
                .iter()
                .filter(|(_, lines)| lines.last().is_some_and(|l| l == "QUIT"))
                .count()
        };
        while quit(&self.connections()) < complete && started.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(100));
        }
        // Anything still in flight lands, and nothing more is expected.
        std::thread::sleep(Duration::from_millis(300));
        let stopped = Command::new("kill")
            .args(["-TERM", &self.tcpdump.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            self.tcpdump.kill().expect("stop tcpdump");
        }
        self.tcpdump.wait().expect("tcpdump ends");
        self.connections()
    }
}

/// The commands a capture saw that would start a message.
fn message_commands(connections: &[(SocketAddrV4, Vec<String>)]) -> Vec<String> {
    connections
        .iter()
        .flat_map(|(_, lines)| lines)
        .filter(|l| {
            let upper = l.trim().to_ascii_uppercase();
            upper == "DATA" || upper.starts_with("BDAT")
        })
        .cloned()
        .collect()
}

#[test]
fn acc_002_follows_the_server_and_the_vantage_point_and_data_is_never_sent() {
    let _one_capture = CAPTURE.lock().unwrap_or_else(|e| e.into_inner());
    let server = relay_dns();
    let capture = Capture::start();

    // Given mailaudit on the relays' host, from 127.0.0.1 (routing's pick)
    let from_host = scan(&server.resolver(), &["--relay-test"]);
    // Given mailaudit from 127.0.40.1, inside relay-mynet's mynetworks
    let from_lan = scan(
        &server.resolver(),
        &["--relay-test", "--relay-test-source", "127.0.40.1"],
    );

    // Then the open relay accepts from both, and from this loopback vantage
    // point that is "relay allowed from this network", at low severity
    for report in [&from_host, &from_lan] {
        let open = subject("open.relay.test");
        common::expect(report, "ACC-002", &open, "fail", Some("low"));
        let finding = common::finding(report, "ACC-002", &open);
        assert_eq!(finding["title"], "relay allowed from this network");
        assert_eq!(
            relay_test(report, "open.relay.test")["value"]["rcpt_reply"]["code"],
            250
        );
        // And the closed one refuses from both: 554 5.7.1, a pass
        common::expect(
            report,
            "ACC-002",
            &subject("closed.relay.test"),
            "pass",
            None,
        );
        let closed = &relay_test(report, "closed.relay.test")["value"]["rcpt_reply"];
        assert_eq!(closed["code"], 554, "{closed}");
        assert_eq!(closed["enhanced_code"], "5.7.1", "{closed}");
    }
    // And the network-only relay refuses the host outside its /24 …
    common::expect(
        &from_host,
        "ACC-002",
        &subject("mynet.relay.test"),
        "pass",
        None,
    );
    let vantage = &relay_test(&from_host, "mynet.relay.test")["value"]["vantage"];
    assert_eq!(vantage["source_address"], "127.0.0.1", "{vantage}");
    assert_eq!(vantage["loopback"], true, "{vantage}");
    assert_eq!(vantage["same_network"], false, "{vantage}");
    assert_eq!(vantage["source_chosen"], false, "{vantage}");
    // … and relays for the address inside it, which the evidence says
    common::expect(
        &from_lan,
        "ACC-002",
        &subject("mynet.relay.test"),
        "fail",
        Some("low"),
    );
    let mynet = common::finding(&from_lan, "ACC-002", &subject("mynet.relay.test"));
    assert!(
        mynet["detail"].as_str().unwrap().contains("127.0.40.1"),
        "{mynet}"
    );
    let vantage = &relay_test(&from_lan, "mynet.relay.test")["value"]["vantage"];
    assert_eq!(vantage["source_address"], "127.0.40.1", "{vantage}");
    assert_eq!(vantage["same_network"], true, "{vantage}");
    assert_eq!(vantage["network_prefix"], 24, "{vantage}");
    assert_eq!(vantage["source_chosen"], true, "{vantage}");

    // And on the wire: each relay test sent MAIL FROM and RCPT TO at the
    // reserved names, then RSET and QUIT, and no connection ever sent DATA
    let Some(capture) = capture else { return };
    // Per scan: an endpoint probe and a relay test per relay.
    let connections = capture.stop(12);
    let relay_tests: Vec<&Vec<String>> = connections
        .iter()
        .filter(|(_, lines)| lines.iter().any(|l| l.starts_with("MAIL FROM")))
        .map(|(_, lines)| lines)
        .collect();
    assert_eq!(
        relay_tests.len(),
        6,
        "three relays tested from two vantage points: {connections:?}"
    );
    for lines in &relay_tests {
        let verbs: Vec<&str> = lines
            .iter()
            .map(|l| l.split([' ', ':']).next().unwrap_or(""))
            .collect();
        assert_eq!(verbs, ["EHLO", "MAIL", "RCPT", "RSET", "QUIT"], "{lines:?}");
        assert_eq!(lines[1], "MAIL FROM:<nobody@mailaudit.invalid>");
        assert_eq!(lines[2], "RCPT TO:<relay-test@relay-target.invalid>");
    }
    for (_, address) in RELAYS {
        assert!(
            connections
                .iter()
                .any(|(server, lines)| *server.ip() == address
                    && lines.iter().any(|l| l.starts_with("RCPT TO"))),
            "no relay test of {address} in the capture"
        );
    }
    assert_eq!(message_commands(&connections), Vec::<String>::new());
}

#[test]
fn without_the_flag_acc_002_is_inconclusive_and_no_envelope_is_sent() {
    let _one_capture = CAPTURE.lock().unwrap_or_else(|e| e.into_inner());
    let server = relay_dns();
    let capture = Capture::start();
    // Given a scan of the three relays without --relay-test
    let report = scan(&server.resolver(), &[]);
    // Then ACC-002 is inconclusive on every MX and says why: never a pass
    for (domain, _) in RELAYS {
        common::expect(&report, "ACC-002", &subject(domain), "inconclusive", None);
        let detail = common::finding(&report, "ACC-002", &subject(domain))["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(detail.contains("opt-in (--relay-test)"), "{detail}");
        assert_eq!(relay_test(&report, domain)["status"], "skipped");
    }
    // And the MXs were still probed (EHLO), but no MAIL FROM went out
    let Some(capture) = capture else { return };
    let connections = capture.stop(3);
    assert!(
        connections
            .iter()
            .any(|(_, lines)| lines.iter().any(|l| l.starts_with("EHLO"))),
        "the endpoint probe's EHLO is missing from the capture: {connections:?}"
    );
    let envelopes: Vec<&String> = connections
        .iter()
        .flat_map(|(_, lines)| lines)
        .filter(|l| l.starts_with("MAIL") || l.starts_with("RCPT"))
        .collect();
    assert!(envelopes.is_empty(), "{envelopes:?}");
    assert_eq!(message_commands(&connections), Vec::<String>::new());
}

#[test]
fn a_source_address_that_is_not_ours_leaves_acc_002_inconclusive_naming_the_flag() {
    // Its endpoint probes would show up in another test's capture.
    let _one_capture = CAPTURE.lock().unwrap_or_else(|e| e.into_inner());
    let server = relay_dns();
    // Given a source address of no interface here (TEST-NET-1, RFC 5737)
    let report = scan(
        &server.resolver(),
        &["--relay-test", "--relay-test-source", "192.0.2.1"],
    );
    // Then the relay test failed before any envelope, saying why
    for (domain, _) in RELAYS {
        common::expect(&report, "ACC-002", &subject(domain), "inconclusive", None);
        let attempt = relay_test(&report, domain);
        assert_eq!(attempt["status"], "failed", "{attempt}");
        let reason = attempt["reason"].as_str().unwrap();
        assert!(
            reason.contains("from 192.0.2.1 (--relay-test-source) failed"),
            "{reason}"
        );
    }
}

#[test]
fn from_outside_its_networks_an_open_relay_is_an_open_relay() {
    let _one_capture = CAPTURE.lock().unwrap_or_else(|e| e.into_inner());
    // Given the open relay in the lab's network namespace, and a route to
    // it over the lab's veth pair (never the default route off the host).
    let (domain, address) = OUTSIDE;
    let route = Command::new("ip")
        .args(["route", "get", &address.to_string()])
        .output()
        .expect("ip runs");
    let route = String::from_utf8_lossy(&route.stdout);
    assert!(
        route.contains("dev ma-lab0") && route.contains("src 198.51.100.1"),
        "no route to {address} over the lab's veth pair ({route}); run `bash tests/lab/lab.sh up`"
    );
    let server = relay_dns();
    let capture = Capture::on("ma-lab0", "tcp and dst port 25");
    // When mailaudit tests it from 198.51.100.1
    let report = scan_domains(&[domain], &server.resolver(), &["--relay-test"]);
    // Then the accept is an open relay, critical, and the evidence says
    // the vantage point was neither loopback nor in the relay's network
    let mx = subject(domain);
    common::expect(&report, "ACC-002", &mx, "fail", Some("critical"));
    assert_eq!(
        common::finding(&report, "ACC-002", &mx)["title"],
        "open relay"
    );
    let test = relay_test(&report, domain);
    assert_eq!(test["value"]["rcpt_reply"]["code"], 250, "{test}");
    let vantage = &test["value"]["vantage"];
    assert_eq!(vantage["source_address"], "198.51.100.1", "{vantage}");
    assert_eq!(vantage["loopback"], false, "{vantage}");
    assert_eq!(vantage["same_network"], false, "{vantage}");
    // And on the wire, still no DATA
    let Some(capture) = capture else { return };
    let connections = capture.stop(2);
    assert!(
        connections.iter().any(|(_, lines)| lines
            .iter()
            .any(|l| l == "RCPT TO:<relay-test@relay-target.invalid>")),
        "{connections:?}"
    );
    assert_eq!(message_commands(&connections), Vec::<String>::new());
}
