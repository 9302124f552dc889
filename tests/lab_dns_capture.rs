//! Issue 18 on the wire: a packet capture (tcpdump on `lo`) of a scan
//! behind the lab's validating unbound (127.0.10.54) shows CD=1 on every
//! query mailaudit sends for the bogus zones, so the resolver hands their
//! data over instead of answering SERVFAIL (RFC 4035 §3.2.2).
//!
//! Capturing needs root: the test skips with a message otherwise. As root
//! it needs tcpdump (`bash tests/lab/lab.sh install` brings it) and fails
//! without it.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The octet of the DNS header holding CD, and its bit (RFC 4035 §3.2.2).
const FLAGS_OCTET: usize = 3;
const CD: u8 = 0x10;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A DNS query seen in the capture: its name and whether CD was set.
#[derive(Debug)]
struct Query {
    name: String,
    checking_disabled: bool,
}

/// The DNS messages of a pcap file of UDP packets over IPv4.
fn queries(pcap: &[u8]) -> Vec<Query> {
    let mut found = Vec::new();
    for ip in common::pcap::ipv4_packets(pcap) {
        let header = usize::from(ip[0] & 0x0f) * 4;
        // UDP header (8 octets), then the DNS message.
        let Some(dns) = ip.get(header + 8..) else {
            continue;
        };
        if dns.len() < 13 {
            continue;
        }
        found.push(Query {
            name: qname(&dns[12..]),
            checking_disabled: dns[FLAGS_OCTET] & CD != 0,
        });
    }
    found
}

/// The question's name (uncompressed in a query), dotted.
fn qname(mut wire: &[u8]) -> String {
    let mut labels = Vec::new();
    while let Some((&length, rest)) = wire.split_first() {
        let length = usize::from(length);
        if length == 0 || length > rest.len() {
            break;
        }
        labels.push(String::from_utf8_lossy(&rest[..length]).to_lowercase());
        wire = &rest[length..];
    }
    labels.join(".")
}

#[test]
fn every_query_to_a_validating_resolver_has_cd_set() {
    if !is_root() {
        eprintln!("SKIPPED: capturing packets on lo needs root; run the lab tests as root");
        return;
    }
    assert!(
        Command::new("tcpdump").arg("--version").output().is_ok(),
        "tcpdump is missing: run `bash tests/lab/lab.sh install`"
    );
    let directory = tempfile::tempdir().expect("temporary directory");
    let file = directory.path().join("dns.pcap");
    let resolver = common::LAB_VALIDATING_RESOLVER;
    let mut tcpdump = Command::new("tcpdump")
        .args(["-i", "lo", "-n", "-U", "-s", "0", "-w"])
        .arg(&file)
        .arg(format!("udp and dst host {resolver} and dst port 53"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump starts");
    wait_for_capture(&file);

    let (_, report) = common::scan_lab_with(
        resolver,
        &["broken.test", "expired.test"],
        &["--no-tls-scan"],
    );
    // Let the last datagrams reach the capture, then stop our tcpdump.
    std::thread::sleep(Duration::from_millis(500));
    tcpdump.kill().expect("stop tcpdump");
    tcpdump.wait().expect("tcpdump ends");
    common::expect(&report, "DNS-002", "dns:broken.test", "fail", Some("high"));

    let capture = std::fs::read(&file).expect("the capture");
    // Other users of the shared lab may ask the resolver too: only names in
    // the scanned zones count.
    let ours: Vec<Query> = queries(&capture)
        .into_iter()
        .filter(|q| q.name.ends_with("broken.test") || q.name.ends_with("expired.test"))
        .collect();
    assert!(
        ours.len() >= 10,
        "too few queries captured for the bogus zones: {ours:?}"
    );
    let without: Vec<&Query> = ours.iter().filter(|q| !q.checking_disabled).collect();
    assert!(without.is_empty(), "queries without CD: {without:?}");
}

/// tcpdump writes the pcap header once it listens.
fn wait_for_capture(file: &Path) {
    let started = Instant::now();
    while std::fs::metadata(file).map_or(true, |m| m.len() < 24) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "tcpdump did not start capturing"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn the_pcap_reader_sees_the_cd_bit() {
    // Given a pcap (Ethernet) holding one query for mx.broken.test with CD
    let mut dns = vec![0, 1, 0x01, CD, 0, 1, 0, 0, 0, 0, 0, 0];
    dns.extend_from_slice(b"\x02mx\x06broken\x04test\x00\x00\x01\x00\x01");
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 10, 54,
    ];
    ip.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 0, 0, 0]);
    ip.extend_from_slice(&dns);
    let mut packet = vec![0u8; 14];
    packet.extend_from_slice(&ip);
    let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&65535u32.to_le_bytes());
    pcap.extend_from_slice(&1u32.to_le_bytes());
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&(packet.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&(packet.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&packet);
    // When it is read, then the query and its CD bit are found
    let found = queries(&pcap);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "mx.broken.test");
    assert!(found[0].checking_disabled);
    // and a query without CD is told apart.
    let at = pcap.len() - dns.len() + FLAGS_OCTET;
    pcap[at] = 0;
    assert!(!queries(&pcap)[0].checking_disabled);
}
