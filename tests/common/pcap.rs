//! Reading what `tcpdump -w` captured on `lo`: the IPv4 packets of a pcap
//! file, and the client-to-server text of TCP connections. Shared by the
//! packet-capture tests (lab_dns_capture.rs, lab_open_relay.rs).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The IPv4 packets of a pcap file (link layer of `lo`: Ethernet, or Linux
/// cooked capture v1/v2), in capture order.
pub fn ipv4_packets(pcap: &[u8]) -> Vec<&[u8]> {
    assert!(pcap.len() >= 24, "no pcap header");
    let little = pcap[..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let word = |at: usize| {
        let bytes = [pcap[at], pcap[at + 1], pcap[at + 2], pcap[at + 3]];
        if little {
            u32::from_le_bytes(bytes)
        } else {
            u32::from_be_bytes(bytes)
        }
    };
    let link = match word(20) {
        1 => 14,
        113 => 16,
        276 => 20,
        other => panic!("unexpected link type {other}"),
    };
    let mut found = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let length = word(at + 8) as usize;
        let packet = &pcap[at + 16..(at + 16 + length).min(pcap.len())];
        at += 16 + length;
        if let Some(ip) = packet.get(link..)
            && ip.first().is_some_and(|v| v >> 4 == 4)
        {
            found.push(ip);
        }
    }
    found
}

/// The bytes each TCP connection's client sent, keyed by (client, server),
/// for the packets captured in one direction (a `dst port` filter).
pub fn tcp_streams(pcap: &[u8]) -> BTreeMap<(SocketAddrV4, SocketAddrV4), Vec<u8>> {
    let mut streams: BTreeMap<(SocketAddrV4, SocketAddrV4), Vec<u8>> = BTreeMap::new();
    for ip in ipv4_packets(pcap) {
        if ip.len() < 20 || ip[9] != 6 {
            continue;
        }
        let header = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
        let Some(tcp) = ip.get(header..total) else {
            continue;
        };
        if tcp.len() < 20 {
            continue;
        }
        let offset = usize::from(tcp[12] >> 4) * 4;
        let address = |at: usize| Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
        let port = |at: usize| u16::from_be_bytes([tcp[at], tcp[at + 1]]);
        let key = (
            SocketAddrV4::new(address(12), port(0)),
            SocketAddrV4::new(address(16), port(2)),
        );
        streams
            .entry(key)
            .or_default()
            .extend_from_slice(tcp.get(offset..).unwrap_or_default());
    }
    streams
}
