//! TLS records without cryptography, for the active checks: the ClientHello
//! they send, the splitting of what a server sends into records (RFC 5246
//! §6.2.1 `TLSPlaintext`) and handshake messages (§7.4, reassembled across
//! records), and the ServerHello's version and extensions (§7.4.1.3).
//!
//! Server bytes are untrusted: every function here is pure, bounded by the
//! input it is given, and answers malformed input with an error in words,
//! never a panic. Nothing here keeps what a heartbeat response carried
//! beyond its length.

use crate::probe::tls_scan::registry::table;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// RFC 5246 §6.2.1 content types.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
/// RFC 6520 §3.
pub const HEARTBEAT: u8 = 24;
/// RFC 6520 §2: the extension type of `heartbeat`.
pub const HEARTBEAT_EXTENSION: u16 = 15;
/// RFC 5246 §7.4: handshake message types read here.
const SERVER_HELLO: u8 = 2;
const SERVER_HELLO_DONE: u8 = 14;
/// Longest record fragment accepted: 2^14 plus the expansion a protected
/// record may carry (RFC 5246 §6.2.3).
const MAX_FRAGMENT: usize = 16384 + 2048;

/// The header of one record, and where its fragment lies in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHead {
    pub content_type: u8,
    pub version: u16,
    /// Length of the fragment.
    pub length: usize,
}

/// The first record of `bytes`: `Ok(None)` while it is incomplete, `Err`
/// when the header cannot be a TLS record (plain text, SSLv2, a length
/// beyond the limit).
pub fn split_record(bytes: &[u8]) -> Result<Option<(RecordHead, &[u8])>, String> {
    let Some(header) = bytes.get(..5) else {
        return Ok(None);
    };
    let head = RecordHead {
        content_type: header[0],
        version: u16::from_be_bytes([header[1], header[2]]),
        length: usize::from(u16::from_be_bytes([header[3], header[4]])),
    };
    if !(CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&head.content_type) || header[1] != 3 {
        return Err(describe_garbage(bytes));
    }
    if head.length > MAX_FRAGMENT {
        return Err(format!(
            "a record claiming {} bytes, more than TLS allows ({MAX_FRAGMENT})",
            head.length
        ));
    }
    Ok(bytes
        .get(5..5 + head.length)
        .map(|fragment| (head, fragment)))
}

/// Bytes that are not a TLS record, described without echoing more than a
/// short printable start.
pub fn describe_garbage(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(40)];
    if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        format!(
            "a non-TLS answer \"{}\"",
            String::from_utf8_lossy(head).trim_end().escape_default()
        )
    } else {
        let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("a non-TLS answer starting {}", hex.join(" "))
    }
}

/// What the server's hello flight told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The version the server chose (RFC 5246 §7.4.1.3 `server_version`).
    pub version: u16,
    pub suite: u16,
    /// Extension types the server returned, in order.
    pub extensions: Vec<u16>,
}

/// Handshake messages gathered from records until the ServerHelloDone.
#[derive(Debug, Default)]
pub struct Flight {
    buffer: Vec<u8>,
    /// Bytes of `buffer` already walked.
    walked: usize,
    pub hello: Option<ServerHello>,
    /// The ServerHelloDone arrived: the server waits for the client.
    pub done: bool,
}

impl Flight {
    /// Adds one handshake record's fragment and reads every message it
    /// completes. `Err` when the ServerHello is malformed or a message
    /// other than a ServerHello comes first.
    pub fn push(&mut self, fragment: &[u8]) -> Result<(), String> {
        self.buffer.extend_from_slice(fragment);
        loop {
            let rest = &self.buffer[self.walked..];
            let Some(header) = rest.get(..4) else {
                return Ok(());
            };
            let length = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
            let Some(body) = rest.get(4..4 + length) else {
                return Ok(());
            };
            match (header[0], &self.hello) {
                (SERVER_HELLO, None) => self.hello = Some(parse_server_hello(body)?),
                (kind, None) => {
                    return Err(format!(
                        "handshake message type {kind} before the ServerHello"
                    ));
                }
                (SERVER_HELLO_DONE, Some(_)) => self.done = true,
                _ => {}
            }
            self.walked += 4 + length;
        }
    }
}

/// Version, suite and extension types of a ServerHello body (RFC 5246
/// §7.4.1.3; TLS 1.0 and 1.1 have the same layout).
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, String> {
    let malformed = || "a malformed ServerHello".to_string();
    let version_bytes = body.get(..2).ok_or_else(malformed)?;
    let version = u16::from_be_bytes([version_bytes[0], version_bytes[1]]);
    let session_length = usize::from(*body.get(34).ok_or_else(malformed)?);
    let at = 35 + session_length;
    let suite_bytes = body.get(at..at + 2).ok_or_else(malformed)?;
    let suite = u16::from_be_bytes([suite_bytes[0], suite_bytes[1]]);
    // One compression byte, then the optional extensions block.
    let mut rest = body.get(at + 3..).ok_or_else(malformed)?;
    let mut extensions = Vec::new();
    if rest.len() >= 2 {
        let total = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        rest = rest.get(2..2 + total).ok_or_else(malformed)?;
        while !rest.is_empty() {
            let header = rest.get(..4).ok_or_else(malformed)?;
            let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
            extensions.push(u16::from_be_bytes([header[0], header[1]]));
            rest = rest.get(4 + length..).ok_or_else(malformed)?;
        }
    }
    Ok(ServerHello {
        version,
        suite,
        extensions,
    })
}

/// A TLS 1.0–1.2 ClientHello (RFC 5246 §7.4.1.2) offering every suite the
/// registry knows below TLS 1.3 and the heartbeat extension (RFC 6520 §2,
/// `peer_allowed_to_send`), so that a server that speaks heartbeats says
/// so in its ServerHello. `client_version` 0x0303 without
/// `supported_versions` lets the server pick TLS 1.2 or lower. The
/// handshake is never finished, so the random need not be secret.
pub fn client_hello(server_name: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(1024);
    put_u16(&mut body, 0x0303);
    body.extend_from_slice(&random_bytes());
    body.push(0); // no session ID: a full handshake
    let suites = table().legacy_suites();
    put_u16(&mut body, (suites.len() * 2) as u16);
    for suite in suites {
        put_u16(&mut body, suite);
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut extensions = Vec::new();
    if let Some(name) = server_name {
        let name = name.as_bytes();
        let mut data = Vec::new();
        put_u16(&mut data, (name.len() + 3) as u16);
        data.push(0); // host_name (RFC 6066 §3)
        put_u16(&mut data, name.len() as u16);
        data.extend_from_slice(name);
        put_extension(&mut extensions, 0, &data);
    }
    // supported_groups (RFC 8422 §5.1.1): X25519, P-256, P-384, P-521,
    // ffdhe2048/3072 (RFC 7919).
    let groups: [u16; 6] = [29, 23, 24, 25, 256, 257];
    let mut data = Vec::new();
    put_u16(&mut data, (groups.len() * 2) as u16);
    for group in groups {
        put_u16(&mut data, group);
    }
    put_extension(&mut extensions, 10, &data);
    put_extension(&mut extensions, 11, &[1, 0]); // ec_point_formats: uncompressed
    // signature_algorithms (RFC 5246 §7.4.1.4.1): SHA-2 and SHA-1 with
    // ECDSA, RSA-PSS and RSA PKCS#1, so that old servers answer too.
    let algorithms: [u16; 11] = [
        0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
    ];
    let mut data = Vec::new();
    put_u16(&mut data, (algorithms.len() * 2) as u16);
    for algorithm in algorithms {
        put_u16(&mut data, algorithm);
    }
    put_extension(&mut extensions, 13, &data);
    put_extension(&mut extensions, HEARTBEAT_EXTENSION, &[1]);
    put_extension(&mut extensions, 0xff01, &[0]); // renegotiation_info (RFC 5746)
    put_u16(&mut body, extensions.len() as u16);
    body.extend_from_slice(&extensions);
    let mut handshake = vec![1]; // client_hello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    // Record version 0x0301, as common clients send it.
    record(HANDSHAKE, 0x0301, &handshake)
}

/// One record of `content_type` carrying `fragment`.
pub fn record(content_type: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fragment.len() + 5);
    out.push(content_type);
    put_u16(&mut out, version);
    put_u16(&mut out, fragment.len() as u16);
    out.extend_from_slice(fragment);
    out
}

fn put_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put_u16(out, kind);
    put_u16(out, data.len() as u16);
    out.extend_from_slice(data);
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// 32 bytes that differ per hello: SHA-256 of the time and a counter.
pub(super) fn random_bytes() -> [u8; 32] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_be_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    hasher.finalize().into()
}

/// An alert in words: `fatal alert UnexpectedMessage (10)`.
pub fn alert_name(level: u8, description: u8) -> String {
    format!(
        "{} alert {} ({description})",
        if level == 2 { "fatal" } else { "warning" },
        tls_parser::TlsAlertDescription(description)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello(version: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[2, 0xaa, 0xbb]); // a 2-byte session ID
        body.extend_from_slice(&0xc02fu16.to_be_bytes());
        body.push(0);
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
        let mut message = vec![SERVER_HELLO];
        message.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        message.extend(body);
        message
    }

    #[test]
    fn the_client_hello_parses_and_offers_heartbeat_below_tls13() {
        let bytes = client_hello(Some("mx.example.org"));
        let (rest, parsed) = tls_parser::parse_tls_plaintext(&bytes).expect("a valid record");
        assert!(rest.is_empty());
        let tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(hello)) =
            &parsed.msg[0]
        else {
            panic!("not a ClientHello");
        };
        assert_eq!(hello.version.0, 0x0303);
        let extensions = tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap())
            .unwrap()
            .1;
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, tls_parser::TlsExtension::Heartbeat(1)))
        );
        assert!(
            !extensions
                .iter()
                .any(|e| matches!(e, tls_parser::TlsExtension::SupportedVersions(_)))
        );
    }

    #[test]
    fn a_flight_split_across_records_ends_at_server_hello_done() {
        // heartbeat (15) and renegotiation_info echoed
        let mut messages = server_hello(0x0302, &[0, 15, 0, 1, 1, 0xff, 1, 0, 1, 0]);
        messages.extend_from_slice(&[11, 0, 0, 3, 0, 0, 0]); // empty Certificate
        messages.extend_from_slice(&[SERVER_HELLO_DONE, 0, 0, 0]);
        let mut flight = Flight::default();
        for piece in messages.chunks(7) {
            assert!(!flight.done);
            flight.push(piece).expect("well formed");
        }
        assert!(flight.done);
        let hello = flight.hello.expect("hello");
        assert_eq!((hello.version, hello.suite), (0x0302, 0xc02f));
        assert_eq!(hello.extensions, vec![15, 0xff01]);
    }

    #[test]
    fn records_are_split_and_garbage_is_refused() {
        let bytes = record(ALERT, 0x0303, &[2, 10]);
        let (head, fragment) = split_record(&bytes).unwrap().unwrap();
        assert_eq!((head.content_type, head.length), (ALERT, 2));
        assert_eq!(fragment, &[2, 10]);
        assert_eq!(split_record(&bytes[..4]), Ok(None));
        assert_eq!(split_record(&bytes[..6]), Ok(None));
        assert!(
            split_record(b"421 4.7.0 too busy\r\n")
                .unwrap_err()
                .contains("421")
        );
        assert!(split_record(&[0x80, 0x2e, 1, 3, 1]).is_err(), "SSLv2");
        assert!(
            split_record(&[22, 3, 3, 0xff, 0xff])
                .unwrap_err()
                .contains("65535")
        );
    }

    #[test]
    fn malformed_hellos_are_errors_never_panics() {
        let good = server_hello(0x0303, &[0, 15, 0, 1, 1]);
        for cut in 0..good.len() {
            let mut flight = Flight::default();
            let _ = flight.push(&good[..cut]);
            let _ = parse_server_hello(&good[4..cut.max(4)]);
        }
        // An extension overrunning its block, a message before the hello.
        assert!(parse_server_hello(&good[4..good.len() - 1]).is_err());
        let mut flight = Flight::default();
        assert!(flight.push(&[11, 0, 0, 0]).is_err());
        // A deterministic pseudo-random walk over byte strings.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut bytes = vec![SERVER_HELLO, 0, 0];
            for _ in 0..(state % 90) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(state as u8);
            }
            let mut flight = Flight::default();
            let _ = flight.push(&bytes);
            let _ = split_record(&bytes);
        }
    }
}
