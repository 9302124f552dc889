//! Deliberately vulnerable and hostile TLS responders for the active checks
//! (TLS-110, TLS-111). Debian's OpenSSL has neither Heartbleed nor the CCS
//! flaw, so these tiny threads on 127.0.0.1 reproduce the answers the
//! published checks (testssl.sh, nmap) describe for an affected OpenSSL
//! 1.0.1f: a heartbeat response as long as the request *claimed*, and
//! silence after an early ChangeCipherSpec. No cryptography: the handshake
//! never gets past the server's hello flight.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// What fills the "memory" an affected server leaks; the report must never
/// contain it.
pub const LEAKED_MEMORY: &[u8] = b"SECRET-SERVER-MEMORY:";

/// Serves every connection with `behaviour`, in a background thread.
pub fn serve(behaviour: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    port
}

/// One record: content type and fragment; `None` at the end or on
/// anything that is not a TLS record.
fn read_record(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).ok()?;
    if header[1] != 3 {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut fragment = vec![0u8; length];
    stream.read_exact(&mut fragment).ok()?;
    Some((header[0], fragment))
}

fn record(content_type: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    out.extend_from_slice(fragment);
    out
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// What a ClientHello offered.
pub struct Offer {
    pub version: u16,
    pub suites: Vec<u16>,
    pub extensions: Vec<u16>,
}

/// Reads the ClientHello record; `None` if the first record is not one.
pub fn read_client_hello(stream: &mut TcpStream) -> Option<Offer> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let (22, body) = read_record(stream)? else {
        return None;
    };
    let hello = body.get(4..)?;
    let version = u16::from_be_bytes([*hello.first()?, *hello.get(1)?]);
    let mut at = 34;
    at += 1 + usize::from(*hello.get(at)?);
    let suites_length = usize::from(u16::from_be_bytes([*hello.get(at)?, *hello.get(at + 1)?]));
    let suites = hello
        .get(at + 2..at + 2 + suites_length)?
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    at += 2 + suites_length;
    at += 1 + usize::from(*hello.get(at)?);
    let mut extensions = Vec::new();
    let mut rest = hello.get(at + 2..).unwrap_or_default();
    while rest.len() >= 4 {
        extensions.push(u16::from_be_bytes([rest[0], rest[1]]));
        let length = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        rest = rest.get(4 + length..).unwrap_or_default();
    }
    Some(Offer {
        version,
        suites,
        extensions,
    })
}

/// TLS_RSA_WITH_AES_128_GCM_SHA256: the one suite the responder takes.
const SUITE: u16 = 0x009c;

/// Answers the hello as OpenSSL 1.0.1f would, up to ServerHelloDone (with
/// an empty certificate list: nothing here checks it). Returns the version
/// chosen, or `None` after refusing the hello.
fn server_flight(stream: &mut TcpStream, offer: &Offer) -> Option<u16> {
    if offer.version < 0x0301 || !offer.suites.contains(&SUITE) {
        let _ = stream.write_all(&record(21, 0x0301, &[2, 40]));
        return None;
    }
    let version = offer.version.min(0x0303);
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&SUITE.to_be_bytes());
    body.push(0);
    let mut extensions = Vec::new();
    if offer.extensions.contains(&0xff01) {
        extensions.extend_from_slice(&[0xff, 0x01, 0, 1, 0]);
    }
    if offer.extensions.contains(&15) {
        extensions.extend_from_slice(&[0, 15, 0, 1, 1]); // peer_allowed_to_send
    }
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut flight = handshake(2, &body);
    flight.extend(handshake(11, &[0, 0, 0]));
    flight.extend(handshake(14, &[]));
    stream.write_all(&record(22, version, &flight)).ok()?;
    Some(version)
}

/// OpenSSL 1.0.1f: a heartbeat response carries as many bytes as the
/// request's payload_length claims (CVE-2014-0160), and an early
/// ChangeCipherSpec switches keys silently; the next record then fails its
/// MAC check (CVE-2014-0224). `second_ccs_alert` chooses between the
/// bad_record_mac alert and silence after the second ChangeCipherSpec.
fn vulnerable(mut stream: TcpStream, second_ccs_alert: bool) {
    let Some(offer) = read_client_hello(&mut stream) else {
        return;
    };
    let Some(version) = server_flight(&mut stream, &offer) else {
        return;
    };
    let mut change_cipher_specs = 0;
    while let Some((content_type, fragment)) = read_record(&mut stream) {
        match content_type {
            24 if fragment.first() == Some(&1) && fragment.len() >= 3 => {
                let claimed = usize::from(u16::from_be_bytes([fragment[1], fragment[2]]));
                let mut response = vec![2, fragment[1], fragment[2]];
                response.extend(LEAKED_MEMORY.iter().cycle().take(claimed));
                response.extend_from_slice(&[0; 16]); // padding
                if stream.write_all(&record(24, version, &response)).is_err() {
                    return;
                }
            }
            20 => {
                change_cipher_specs += 1;
                if change_cipher_specs == 2 && second_ccs_alert {
                    let _ = stream.write_all(&record(21, version, &[2, 20]));
                    return;
                }
            }
            _ => return,
        }
    }
}

pub fn vulnerable_with_alert(stream: TcpStream) {
    vulnerable(stream, true);
}

pub fn vulnerable_silent(stream: TcpStream) {
    vulnerable(stream, false);
}

/// A fixed server with heartbeats: the overlong request is discarded
/// silently (RFC 6520 §4) and an early ChangeCipherSpec is refused with
/// unexpected_message.
pub fn fixed_with_heartbeat(mut stream: TcpStream) {
    let Some(offer) = read_client_hello(&mut stream) else {
        return;
    };
    let Some(version) = server_flight(&mut stream, &offer) else {
        return;
    };
    while let Some((content_type, _)) = read_record(&mut stream) {
        if content_type == 20 {
            let _ = stream.write_all(&record(21, version, &[2, 10]));
            return;
        }
    }
}

/// After the hello: a record header claiming 65535 bytes, then garbage.
pub fn huge_length(mut stream: TcpStream) {
    if read_client_hello(&mut stream).is_some() {
        let mut bytes = vec![22, 3, 3, 0xff, 0xff];
        bytes.extend_from_slice(&[0xee; 200]);
        let _ = stream.write_all(&bytes);
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// After the hello: a ServerHello record cut off by the close.
pub fn truncated(mut stream: TcpStream) {
    if read_client_hello(&mut stream).is_some() {
        let _ = stream.write_all(&[22, 3, 3, 0, 200, 2, 0, 0, 196, 3, 3, 1, 2, 3]);
    }
}

/// After the hello: bytes that are no TLS at all.
pub fn garbage(mut stream: TcpStream) {
    if read_client_hello(&mut stream).is_some() {
        let _ = stream.write_all(b"\x00\xff\xfe garbage instead of a ServerHello\r\n");
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// After the hello: nothing, for longer than any step's timeout.
pub fn silent(mut stream: TcpStream) {
    if read_client_hello(&mut stream).is_some() {
        std::thread::sleep(Duration::from_secs(30));
    }
}
