//! SSL 2.0 detection: a CLIENT-HELLO in the SSLv2 record format offering
//! every SSLv2 cipher kind, and a bounded parser for the SERVER-HELLO a
//! server that still speaks SSLv2 sends back.
//!
//! The format is that of the SSL 2.0 specification (Hickman, Netscape,
//! draft-hickman-netscape-ssl-00, 1995): a two-byte record header with the
//! high bit set and a 15-bit length ("Record Header"), CLIENT-HELLO
//! (message 1) and SERVER-HELLO (message 4) as laid out in "Client Only
//! Protocol Messages" and "Server Only Protocol Messages", and the cipher
//! kinds of its Appendix A. RFC 6176 prohibits SSL 2.0; it is probed only so
//! that TLS-003 can report it (DROWN, CVE-2016-0800, needs only that a
//! server accepts SSLv2 with the same key).

use super::answer::{self, Answer, Progress};

/// The SSLv2 cipher kinds (3 bytes each), all MD5-based and so broken.
pub const CIPHER_KINDS: [(u32, &str); 7] = [
    (0x01_0080, "SSL_CK_RC4_128_WITH_MD5"),
    (0x02_0080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5"),
    (0x03_0080, "SSL_CK_RC2_128_CBC_WITH_MD5"),
    (0x04_0080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5"),
    (0x05_0080, "SSL_CK_IDEA_128_CBC_WITH_MD5"),
    (0x06_0040, "SSL_CK_DES_64_CBC_WITH_MD5"),
    (0x07_00c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"),
];

/// SSL 2.0's version number in CLIENT-HELLO and SERVER-HELLO.
const SSL2_VERSION: u16 = 0x0002;
/// Length of the challenge we send (the spec allows 16 to 32 bytes).
const CHALLENGE: usize = 16;
/// Fixed part of a SERVER-HELLO after the header: type, session-id-hit,
/// certificate type, version, and three lengths.
const SERVER_HELLO_FIXED: usize = 11;

/// How the server answered the SSLv2 CLIENT-HELLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sslv2Answer {
    /// A SERVER-HELLO: the version it names and the cipher kinds it shares.
    ServerHello {
        version: u16,
        cipher_kinds: Vec<u32>,
    },
    /// An SSLv2 ERROR message (type 0) with its code.
    Error(u16),
    /// A TLS record (an alert, usually), a close, or something else.
    Other(Answer),
}

impl Sslv2Answer {
    /// True when the server speaks SSLv2 and shares a cipher kind.
    pub fn accepted(&self) -> bool {
        matches!(self, Sslv2Answer::ServerHello { version, cipher_kinds }
            if *version == SSL2_VERSION && !cipher_kinds.is_empty())
    }
}

/// The CLIENT-HELLO record: every cipher kind, no session id, a challenge.
pub fn client_hello(challenge: [u8; CHALLENGE]) -> Vec<u8> {
    let mut body = vec![1]; // MSG-CLIENT-HELLO
    body.extend_from_slice(&SSL2_VERSION.to_be_bytes());
    body.extend_from_slice(&((CIPHER_KINDS.len() * 3) as u16).to_be_bytes());
    body.extend_from_slice(&0u16.to_be_bytes()); // SESSION-ID-LENGTH
    body.extend_from_slice(&(CHALLENGE as u16).to_be_bytes());
    for (kind, _) in CIPHER_KINDS {
        body.extend_from_slice(&kind.to_be_bytes()[1..]);
    }
    body.extend_from_slice(&challenge);
    // Two-byte header: high bit set, then the 15-bit length.
    let length = body.len() as u16 | 0x8000;
    let mut record = length.to_be_bytes().to_vec();
    record.extend_from_slice(&body);
    record
}

/// Interprets the bytes read so far; `None` while more are needed.
pub fn interpret(bytes: &[u8], ended: bool) -> Option<Sslv2Answer> {
    match bytes {
        [] if !ended => None,
        // A TLS record (RFC 5246 §6.2.1): a TLS-only server answering with
        // an alert, or anything else a TLS parser can describe.
        [20..=23, 3, ..] | [] => match answer::interpret(bytes, None, ended) {
            Progress::Done(answer) => Some(Sslv2Answer::Other(answer)),
            Progress::NeedMore => None,
        },
        [high, low, body @ ..] if high & 0x80 != 0 => {
            let length = usize::from(u16::from_be_bytes([high & 0x7f, *low]));
            match body.get(..length) {
                Some(message) => Some(message_of(message)),
                None if ended => Some(Sslv2Answer::Other(Answer::Malformed(format!(
                    "a truncated SSLv2 record ({} of {length} bytes)",
                    body.len()
                )))),
                None => None,
            }
        }
        [_] if !ended => None,
        _ => Some(Sslv2Answer::Other(
            match answer::interpret(bytes, None, true) {
                Progress::Done(answer) => answer,
                Progress::NeedMore => Answer::Closed,
            },
        )),
    }
}

/// One complete SSLv2 message.
fn message_of(message: &[u8]) -> Sslv2Answer {
    let malformed = |what: &str| Sslv2Answer::Other(Answer::Malformed(what.to_string()));
    match message {
        [0, high, low, ..] => Sslv2Answer::Error(u16::from_be_bytes([*high, *low])),
        [4, ..] if message.len() >= SERVER_HELLO_FIXED => {
            let at = |i: usize| usize::from(u16::from_be_bytes([message[i], message[i + 1]]));
            let version = u16::from_be_bytes([message[3], message[4]]);
            let (certificate, specs) = (at(5), at(7));
            let start = SERVER_HELLO_FIXED + certificate;
            let Some(kinds) = message.get(start..start + specs) else {
                return malformed("an SSLv2 SERVER-HELLO whose lengths overrun it");
            };
            if specs % 3 != 0 {
                return malformed("an SSLv2 SERVER-HELLO with a partial cipher kind");
            }
            let cipher_kinds = kinds
                .chunks_exact(3)
                .map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]]))
                .collect();
            Sslv2Answer::ServerHello {
                version,
                cipher_kinds,
            }
        }
        [4, ..] => malformed("an SSLv2 SERVER-HELLO shorter than its fixed part"),
        [kind, ..] => malformed(&format!("an SSLv2 message of type {kind}")),
        [] => malformed("an empty SSLv2 record"),
    }
}

/// The name of a cipher kind, or its hex value.
pub fn cipher_kind_name(kind: u32) -> String {
    CIPHER_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| format!("unknown SSLv2 cipher kind {kind:#08x}"))
}

/// Text for the evidence, like the TLS versions' answers.
pub fn describe(answer: &Sslv2Answer) -> String {
    match answer {
        Sslv2Answer::ServerHello {
            version,
            cipher_kinds,
        } if *version == SSL2_VERSION => {
            format!(
                "SSLv2 SERVER-HELLO with {} cipher kinds",
                cipher_kinds.len()
            )
        }
        Sslv2Answer::ServerHello { version, .. } => {
            format!("SSLv2 SERVER-HELLO naming version {version:#06x}")
        }
        Sslv2Answer::Error(code) => format!("SSLv2 ERROR {code:#06x}"),
        Sslv2Answer::Other(Answer::Alert { level, description }) => format!(
            "{} alert {} ({description})",
            if *level == 2 { "fatal" } else { "warning" },
            tls_parser::TlsAlertDescription(*description)
        ),
        Sslv2Answer::Other(Answer::Closed) => "connection closed".to_string(),
        Sslv2Answer::Other(Answer::Hello(hello)) => {
            format!("a TLS ServerHello ({:#06x})", hello.version)
        }
        Sslv2Answer::Other(Answer::Malformed(problem)) => problem.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SERVER-HELLO as an SSLv2 server sends it.
    fn server_hello(version: u16, certificate: &[u8], kinds: &[u32]) -> Vec<u8> {
        let mut body = vec![4, 0, 1];
        body.extend_from_slice(&version.to_be_bytes());
        body.extend_from_slice(&(certificate.len() as u16).to_be_bytes());
        body.extend_from_slice(&((kinds.len() * 3) as u16).to_be_bytes());
        body.extend_from_slice(&16u16.to_be_bytes());
        body.extend_from_slice(certificate);
        for kind in kinds {
            body.extend_from_slice(&kind.to_be_bytes()[1..]);
        }
        body.extend_from_slice(&[7; 16]);
        let mut record = (body.len() as u16 | 0x8000).to_be_bytes().to_vec();
        record.extend(body);
        record
    }

    #[test]
    fn the_client_hello_has_the_v2_header_and_every_cipher_kind() {
        let hello = client_hello([5; 16]);
        assert_eq!(hello[0] & 0x80, 0x80);
        let length = usize::from(u16::from_be_bytes([hello[0] & 0x7f, hello[1]]));
        assert_eq!(length, hello.len() - 2);
        assert_eq!(&hello[2..5], &[1, 0, 2]);
        assert_eq!(&hello[5..11], &[0, 21, 0, 0, 0, 16]);
        assert_eq!(&hello[11..14], &[1, 0, 0x80]);
        assert_eq!(&hello[hello.len() - 16..], &[5; 16]);
    }

    #[test]
    fn a_server_hello_is_accepted_with_its_cipher_kinds() {
        let bytes = server_hello(2, &[0x30, 0x82, 0, 0], &[0x01_0080, 0x07_00c0]);
        let answer = interpret(&bytes, false).unwrap();
        assert!(answer.accepted());
        assert_eq!(
            answer,
            Sslv2Answer::ServerHello {
                version: 2,
                cipher_kinds: vec![0x01_0080, 0x07_00c0]
            }
        );
        assert_eq!(
            cipher_kind_name(0x07_00c0),
            "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
        );
        // Without a shared cipher kind the server speaks SSLv2 but accepts nothing.
        assert!(
            !interpret(&server_hello(2, &[], &[]), false)
                .unwrap()
                .accepted()
        );
    }

    #[test]
    fn a_tls_alert_or_a_close_is_a_refusal() {
        let alert = [21, 3, 1, 0, 2, 2, 40];
        let answer = interpret(&alert, false).unwrap();
        assert!(!answer.accepted());
        assert_eq!(describe(&answer), "fatal alert HandshakeFailure (40)");
        assert_eq!(
            interpret(&[], true),
            Some(Sslv2Answer::Other(Answer::Closed))
        );
        assert_eq!(interpret(&[], false), None);
        assert_eq!(
            interpret(&[0x80, 3, 0, 0, 1], false),
            Some(Sslv2Answer::Error(1))
        );
    }

    #[test]
    fn truncated_and_lying_input_never_panics() {
        let bytes = server_hello(2, &[1, 2, 3, 4, 5], &[0x01_0080]);
        for cut in 0..bytes.len() {
            let _ = interpret(&bytes[..cut], false);
            let answer = interpret(&bytes[..cut], true);
            assert!(answer.is_some_and(|a| !a.accepted()), "cut at {cut}");
        }
        // A certificate length that points past the record.
        let mut lying = server_hello(2, &[], &[0x01_0080]);
        lying[7] = 0xff;
        assert!(!interpret(&lying, true).unwrap().accepted());
        // Printable garbage (an SMTP reply) is malformed, not a panic.
        assert!(matches!(
            interpret(b"421 busy\r\n", true),
            Some(Sslv2Answer::Other(Answer::Malformed(_)))
        ));
    }
}
