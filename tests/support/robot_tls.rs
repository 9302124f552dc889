//! A deliberately vulnerable RSA key exchange for ROBOT (TLS-115,
//! CVE-2017-13099): Debian's OpenSSL answers every ClientKeyExchange the
//! same, so this responder on 127.0.0.1 reproduces the oracle the ROBOT
//! paper describes. It decrypts the premaster secret with the fixture key
//! (tests/fixtures/robot, PKCS#1 v1.5 in aws-lc-rs) and answers a padding
//! error at once with `decrypt_error`, while well-formed padding goes on to
//! the Finished, which fails with `bad_record_mac`: two different answers
//! depending on the padding.

use super::vulnerable_tls::read_client_hello;
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use std::io::{Read, Write};
use std::net::TcpStream;

const CERTIFICATE: &[u8] = include_bytes!("../fixtures/robot/cert.der");
const KEY: &[u8] = include_bytes!("../fixtures/robot/key.pk8");
/// TLS_RSA_WITH_AES_128_GCM_SHA256.
const SUITE: u16 = 0x009c;

fn record(content_type: u8, fragment: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
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

fn read_record(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).ok()?;
    let mut fragment = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    stream.read_exact(&mut fragment).ok()?;
    Some((header[0], fragment))
}

/// The oracle: RSA key exchange with a padding-dependent answer.
pub fn vulnerable(mut stream: TcpStream) {
    let Some(offer) = read_client_hello(&mut stream) else {
        return;
    };
    if !offer.suites.contains(&SUITE) {
        let _ = stream.write_all(&record(21, &[2, 40]));
        return;
    }
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0x42; 32]);
    hello.push(0);
    hello.extend_from_slice(&SUITE.to_be_bytes());
    hello.extend_from_slice(&[0, 0, 0]); // null compression, no extensions
    let length = |n: usize| (n as u32).to_be_bytes()[1..].to_vec();
    let mut certificates = length(CERTIFICATE.len() + 3);
    certificates.extend(length(CERTIFICATE.len()));
    certificates.extend_from_slice(CERTIFICATE);
    let mut flight = handshake(2, &hello);
    flight.extend(handshake(11, &certificates));
    flight.extend(handshake(14, &[]));
    if stream.write_all(&record(22, &flight)).is_err() {
        return;
    }
    let Some((22, key_exchange)) = read_record(&mut stream) else {
        return;
    };
    let Some(encrypted) = key_exchange.get(6..) else {
        return;
    };
    let key =
        Pkcs1PrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(KEY).unwrap()).unwrap();
    let mut output = vec![0u8; 512];
    if key.decrypt(encrypted, &mut output).is_err() {
        let _ = stream.write_all(&record(21, &[2, 51])); // decrypt_error
        return;
    }
    // Well-formed padding: the ChangeCipherSpec, then a Finished that does
    // not decrypt under keys from this premaster secret.
    while let Some((content_type, _)) = read_record(&mut stream) {
        if content_type == 22 {
            let _ = stream.write_all(&record(21, &[2, 20])); // bad_record_mac
            return;
        }
    }
}
