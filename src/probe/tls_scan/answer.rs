//! Reading the server's answer to a ClientHello: a ServerHello (RFC 5246
//! §7.4.1.3, RFC 8446 §4.1.3, where a HelloRetryRequest is a ServerHello
//! with a fixed random), an Alert (RFC 5246 §7.2, RFC 8446 §6), a close, or
//! something else.
//!
//! Server bytes are untrusted: [`interpret`] is a pure function over a
//! bounded buffer that never panics, records are split by their headers
//! (RFC 5246 §6.2.1) and handshake messages reassembled across records
//! (§6.2.1 allows fragmentation), and the ServerHello body is parsed with
//! `tls-parser`. When the key exchange is wanted, reading goes on to the
//! ServerKeyExchange, parsed in `key_exchange`.

use super::key_exchange::{self, ServerKeyExchange};
use super::registry::KeyExchange;
use tls_parser::parse_tls_handshake_server_hello;

/// Most bytes read for one answer (a ServerHello plus a certificate chain
/// and a ServerKeyExchange fit; anything longer is cut off).
pub const MAX_ANSWER: usize = 32 * 1024;

/// RFC 8446 §4.1.3: the random of a HelloRetryRequest, SHA-256 of
/// "HelloRetryRequest".
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What a ServerHello told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version: `supported_versions` if present (RFC 8446
    /// §4.2.1), else the hello's version field.
    pub version: u16,
    pub suite: u16,
    /// A TLS 1.3 HelloRetryRequest rather than a real ServerHello.
    pub hello_retry: bool,
    /// The group of the key_share extension (TLS 1.3 only).
    pub group: Option<u16>,
    /// Compression method (0 null, 1 DEFLATE).
    pub compression: u8,
    /// Extension types the server returned, in order.
    pub extensions: Vec<u16>,
    /// What the ServerKeyExchange said, when it was read.
    pub key_exchange: Option<ServerKeyExchange>,
}

/// How the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Hello(ServerHello),
    /// A fatal or warning alert before any ServerHello.
    Alert {
        level: u8,
        description: u8,
    },
    /// The connection ended without a byte.
    Closed,
    /// Bytes that are not a TLS answer, or a truncated one (described).
    Malformed(String),
}

/// Result of looking at the bytes read so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Done(Answer),
    NeedMore,
}

/// Interprets `bytes`. `key_exchange` is the suite family to read a
/// ServerKeyExchange for (`None`: stop at the ServerHello). `ended` is true
/// when no more bytes will come (close, timeout or the size bound).
pub fn interpret(
    bytes: &[u8],
    key_exchange: Option<&dyn Fn(u16) -> Option<KeyExchange>>,
    ended: bool,
) -> Progress {
    if bytes.is_empty() {
        return if ended {
            Progress::Done(Answer::Closed)
        } else {
            Progress::NeedMore
        };
    }
    let mut handshake = Vec::new();
    let mut hello: Option<ServerHello> = None;
    let mut rest = bytes;
    while rest.len() >= 5 {
        let content_type = rest[0];
        let length = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if !(20..=23).contains(&content_type) || rest[1] != 3 || length > 16384 + 2048 {
            return Progress::Done(Answer::Malformed(describe(bytes)));
        }
        let Some(payload) = rest.get(5..5 + length) else {
            break; // record incomplete
        };
        rest = &rest[5 + length..];
        match content_type {
            21 if hello.is_none() => {
                if payload.len() < 2 {
                    return Progress::Done(Answer::Malformed(
                        "an alert record shorter than 2 bytes".into(),
                    ));
                }
                return Progress::Done(Answer::Alert {
                    level: payload[0],
                    description: payload[1],
                });
            }
            22 => handshake.extend_from_slice(payload),
            _ => {}
        }
        // Walk the complete handshake messages gathered so far.
        let mut messages = handshake.as_slice();
        while messages.len() >= 4 {
            let kind = messages[0];
            let length = u32::from_be_bytes([0, messages[1], messages[2], messages[3]]) as usize;
            let Some(body) = messages.get(4..4 + length) else {
                break;
            };
            messages = &messages[4 + length..];
            match (kind, hello.as_mut()) {
                (2, None) => match parse_hello(body) {
                    Ok(parsed) => {
                        let wanted = key_exchange.and_then(|f| f(parsed.suite));
                        let needs_more = !parsed.hello_retry
                            && parsed.version < 0x0304
                            && matches!(
                                wanted,
                                Some(
                                    KeyExchange::Ecdhe
                                        | KeyExchange::Dhe
                                        | KeyExchange::DhAnon
                                        | KeyExchange::EcdhAnon
                                )
                            );
                        if !needs_more {
                            return Progress::Done(Answer::Hello(parsed));
                        }
                        hello = Some(parsed);
                    }
                    Err(problem) => return Progress::Done(Answer::Malformed(problem)),
                },
                (12, Some(found)) => {
                    let family = key_exchange.and_then(|f| f(found.suite));
                    found.key_exchange = key_exchange::parse(body, family, found.version);
                    return Progress::Done(Answer::Hello(found.clone()));
                }
                (14, Some(found)) => return Progress::Done(Answer::Hello(found.clone())),
                (_, None) => {
                    return Progress::Done(Answer::Malformed(format!(
                        "handshake message type {kind} before any ServerHello"
                    )));
                }
                _ => {}
            }
        }
    }
    if ended {
        return Progress::Done(match hello {
            Some(found) => Answer::Hello(found),
            None => Answer::Malformed(format!("truncated answer: {}", describe(bytes))),
        });
    }
    Progress::NeedMore
}

fn parse_hello(body: &[u8]) -> Result<ServerHello, String> {
    let (_, contents) = parse_tls_handshake_server_hello(body)
        .map_err(|e| format!("a ServerHello that does not parse ({e:?})"))?;
    let hello_retry = contents.random == HELLO_RETRY_RANDOM;
    let mut found = ServerHello {
        version: contents.version.0,
        suite: contents.cipher.0,
        hello_retry,
        group: None,
        compression: contents.compression.0,
        extensions: Vec::new(),
        key_exchange: None,
    };
    let mut extensions = contents.ext.unwrap_or_default();
    while extensions.len() >= 4 {
        let kind = u16::from_be_bytes([extensions[0], extensions[1]]);
        let length = usize::from(u16::from_be_bytes([extensions[2], extensions[3]]));
        let Some(data) = extensions.get(4..4 + length) else {
            return Err(format!("a ServerHello extension {kind} overruns the hello"));
        };
        extensions = &extensions[4 + length..];
        found.extensions.push(kind);
        match kind {
            // supported_versions in a ServerHello: one version (§4.2.1).
            43 if data.len() == 2 => found.version = u16::from_be_bytes([data[0], data[1]]),
            // key_share: the group first, in both ServerHello and HRR (§4.2.8).
            51 if data.len() >= 2 => found.group = Some(u16::from_be_bytes([data[0], data[1]])),
            _ => {}
        }
    }
    Ok(found)
}

/// A short, printable description of unexpected bytes.
fn describe(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(24)];
    let printable = head
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\r' || *b == b'\n');
    if printable {
        format!(
            "non-TLS answer \"{}\"",
            String::from_utf8_lossy(head).trim_end().escape_default()
        )
    } else {
        let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("non-TLS answer {} ({} bytes)", hex.join(" "), bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::tls_scan::key_exchange::KeyExchangeGroup;

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 3];
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    fn server_hello(version: u16, random: [u8; 32], suite: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&random);
        body.push(0);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
        handshake(2, &body)
    }

    fn done(bytes: &[u8]) -> Answer {
        match interpret(bytes, None, true) {
            Progress::Done(answer) => answer,
            Progress::NeedMore => panic!("undecided"),
        }
    }

    #[test]
    fn an_alert_is_read_as_an_alert() {
        let answer = done(&record(21, &[2, 70]));
        assert_eq!(
            answer,
            Answer::Alert {
                level: 2,
                description: 70
            }
        );
    }

    #[test]
    fn a_tls12_hello_gives_version_and_suite() {
        let hello = server_hello(0x0303, [7; 32], 0xc02f, &[0xff, 0x01, 0, 1, 0, 0, 23, 0, 0]);
        let Answer::Hello(found) = done(&record(22, &hello)) else {
            panic!("no hello");
        };
        assert_eq!(
            (found.version, found.suite, found.hello_retry),
            (0x0303, 0xc02f, false)
        );
        assert_eq!(found.extensions, vec![0xff01, 23]);
    }

    #[test]
    fn a_hello_retry_request_names_version_and_group() {
        // supported_versions 0x0304, key_share selected_group secp384r1.
        let extensions = [0, 43, 0, 2, 3, 4, 0, 51, 0, 2, 0, 24];
        let hello = server_hello(0x0303, HELLO_RETRY_RANDOM, 0x1302, &extensions);
        let Answer::Hello(found) = done(&record(22, &hello)) else {
            panic!("no hello");
        };
        assert!(found.hello_retry);
        assert_eq!((found.version, found.group), (0x0304, Some(24)));
    }

    #[test]
    fn a_hello_split_across_records_is_reassembled() {
        let hello = server_hello(0x0301, [1; 32], 0x002f, &[]);
        let (first, second) = hello.split_at(10);
        let mut bytes = record(22, first);
        assert_eq!(interpret(&bytes, None, false), Progress::NeedMore);
        bytes.extend(record(22, second));
        let Answer::Hello(found) = done(&bytes) else {
            panic!("no hello");
        };
        assert_eq!(found.version, 0x0301);
    }

    #[test]
    fn the_key_exchange_is_read_when_asked_for() {
        let mut bytes = record(22, &server_hello(0x0303, [1; 32], 0x009e, &[]));
        bytes.extend(record(22, &handshake(11, &[0, 0, 0])));
        let mut prime = vec![0, 128];
        prime.extend_from_slice(&[0xff; 128]);
        bytes.extend(record(22, &handshake(12, &prime)));
        let family = |_suite: u16| Some(KeyExchange::Dhe);
        let Progress::Done(Answer::Hello(found)) = interpret(&bytes, Some(&family), false) else {
            panic!("undecided");
        };
        let group = found.key_exchange.map(|k| k.group);
        assert_eq!(group, Some(KeyExchangeGroup::DhPrime(1024)));
        let mut ecdhe = record(22, &server_hello(0x0303, [1; 32], 0xc02f, &[]));
        ecdhe.extend(record(22, &handshake(12, &[3, 0, 23, 65])));
        let family = |_suite: u16| Some(KeyExchange::Ecdhe);
        let Progress::Done(Answer::Hello(found)) = interpret(&ecdhe, Some(&family), false) else {
            panic!("undecided");
        };
        let group = found.key_exchange.map(|k| k.group);
        assert_eq!(group, Some(KeyExchangeGroup::NamedCurve(23)));
    }

    #[test]
    fn nothing_is_closed_and_garbage_is_malformed() {
        assert_eq!(done(&[]), Answer::Closed);
        assert!(
            matches!(done(b"421 too many connections\r\n"), Answer::Malformed(m) if m.contains("421"))
        );
        assert!(matches!(
            done(&[0x80, 0x2e, 0x04, 0x00]),
            Answer::Malformed(_)
        ));
    }

    #[test]
    fn truncated_and_random_input_never_panics() {
        let hello = record(
            22,
            &server_hello(0x0303, [9; 32], 0xc02f, &[0, 43, 0, 2, 3, 4]),
        );
        for cut in 0..hello.len() {
            let _ = interpret(&hello[..cut], None, true);
            let _ = interpret(&hello[..cut], None, false);
        }
        // A deterministic pseudo-random walk over byte strings.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut bytes = vec![22, 3, 3];
            for _ in 0..(state % 80) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(state as u8);
            }
            let family = |_suite: u16| Some(KeyExchange::Dhe);
            let _ = interpret(&bytes, Some(&family), true);
        }
        // A ServerHello whose extension overruns it is malformed, not a panic.
        let bad = record(
            22,
            &server_hello(0x0303, [9; 32], 0xc02f, &[0, 43, 0, 9, 3]),
        );
        assert!(matches!(done(&bad), Answer::Malformed(_)));
    }
}
