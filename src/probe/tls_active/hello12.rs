//! The ClientHello of the active checks' own TLS 1.2 handshake
//! ([`handshake12`](super::handshake12)) and the reassembly of handshake
//! messages across records, whole with their headers (the transcript of
//! RFC 5246 §7.4.9 hashes the exact bytes).

use super::key_exchange::{GROUPS, SUITES};
use super::records::random_bytes;

pub const CLIENT_HELLO: u8 = 1;
/// RFC 7627 §5.1 and RFC 5746 §3.2 extension types.
pub const EXTENDED_MASTER_SECRET: u16 = 23;
pub const RENEGOTIATION_INFO: u16 = 0xff01;
pub const TLS12: u16 = 0x0303;

/// The ClientHello of the renegotiation check, offering [`SUITES`].
pub fn client_hello(server_name: Option<&str>, renegotiation: &[u8]) -> Vec<u8> {
    let suites: Vec<u16> = SUITES.iter().map(|suite| suite.code).collect();
    client_hello_with(server_name, renegotiation, &suites)
}

/// A TLS 1.2 ClientHello offering `suites`: `renegotiation` is empty in
/// the first hello and the client's `verify_data` in a renegotiating one.
pub fn client_hello_with(
    server_name: Option<&str>,
    renegotiation: &[u8],
    suites: &[u16],
) -> Vec<u8> {
    let mut body = TLS12.to_be_bytes().to_vec();
    body.extend_from_slice(&random_bytes());
    body.push(0); // no session ID: a full handshake
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for suite in suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut extensions = Vec::new();
    let mut extension = |kind: u16, data: &[u8]| {
        extensions.extend_from_slice(&kind.to_be_bytes());
        extensions.extend_from_slice(&(data.len() as u16).to_be_bytes());
        extensions.extend_from_slice(data);
    };
    if let Some(name) = server_name {
        let name = name.as_bytes();
        let mut data = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        data.push(0); // host_name (RFC 6066 §3)
        data.extend_from_slice(&(name.len() as u16).to_be_bytes());
        data.extend_from_slice(name);
        extension(0, &data);
    }
    let mut groups = ((GROUPS.len() * 2) as u16).to_be_bytes().to_vec();
    for group in GROUPS {
        groups.extend_from_slice(&group.to_be_bytes());
    }
    extension(10, &groups);
    extension(11, &[1, 0]); // ec_point_formats: uncompressed
    // signature_algorithms: ECDSA, RSA-PSS and RSA PKCS#1 with SHA-2.
    let algorithms: [u16; 9] = [
        0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
    ];
    let mut data = ((algorithms.len() * 2) as u16).to_be_bytes().to_vec();
    for algorithm in algorithms {
        data.extend_from_slice(&algorithm.to_be_bytes());
    }
    extension(13, &data);
    extension(EXTENDED_MASTER_SECRET, &[]);
    let mut data = vec![renegotiation.len() as u8];
    data.extend_from_slice(renegotiation);
    extension(RENEGOTIATION_INFO, &data);
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    message(CLIENT_HELLO, &body)
}

/// One handshake message with its 4-byte header.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// Handshake messages reassembled across records, each whole with its
/// header (the transcript needs the exact bytes).
#[derive(Default)]
pub struct Messages {
    pub buffer: Vec<u8>,
}

impl Messages {
    /// The next whole message, header included.
    pub fn next(&mut self) -> Option<Vec<u8>> {
        let header = self.buffer.get(..4)?;
        let length = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        if self.buffer.len() < 4 + length {
            return None;
        }
        Some(self.buffer.drain(..4 + length).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::tls_active::records::{HANDSHAKE, record};

    #[test]
    fn the_hello_parses_and_carries_renegotiation_info() {
        let verify_data = [0xab; 12];
        let hello = client_hello(Some("mx.example.org"), &verify_data);
        let bytes = record(HANDSHAKE, TLS12, &hello);
        let (_, parsed) = tls_parser::parse_tls_plaintext(&bytes).expect("a valid record");
        let tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(hello)) =
            &parsed.msg[0]
        else {
            panic!("not a ClientHello");
        };
        assert_eq!(hello.ciphers.len(), SUITES.len());
        let extensions = tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap())
            .unwrap()
            .1;
        let info = extensions.iter().find_map(|e| match e {
            tls_parser::TlsExtension::RenegotiationInfo(data) => Some(data.to_vec()),
            _ => None,
        });
        assert_eq!(info, Some(verify_data.to_vec()));
    }

    #[test]
    fn messages_are_reassembled_whole() {
        let mut messages = Messages::default();
        let both = [message(2, &[1, 2, 3]), message(14, &[])].concat();
        messages.buffer.extend_from_slice(&both[..5]);
        assert_eq!(messages.next(), None);
        messages.buffer.extend_from_slice(&both[5..]);
        assert_eq!(messages.next(), Some(vec![2, 0, 0, 3, 1, 2, 3]));
        assert_eq!(messages.next(), Some(vec![14, 0, 0, 0]));
        assert_eq!(messages.next(), None);
    }
}
