//! ClientHello bytes, built by hand so that any version, suite and group can
//! be offered (rustls speaks only TLS 1.2 and 1.3).
//!
//! - Record layer: RFC 5246 §6.2.1 (`TLSPlaintext`), RFC 6101 §5.2.1 (SSLv3).
//! - ClientHello: RFC 5246 §7.4.1.2 (TLS 1.0–1.2; 1.0/1.1 have the same
//!   layout, RFC 2246 §7.4.1.2), RFC 6101 §5.6.1.2 (SSLv3, no extensions),
//!   RFC 8446 §4.1.2 (TLS 1.3: `legacy_version` 0x0303, the real version in
//!   `supported_versions` §4.2.1, key shares in `key_share` §4.2.8).
//! - Extensions: server_name RFC 6066 §3, supported_groups and
//!   ec_point_formats RFC 8422 §5.1, signature_algorithms RFC 5246 §7.4.1.4.1
//!   and RFC 8446 §4.2.3, renegotiation_info RFC 5746 §3.2,
//!   extended_master_secret RFC 7627 §5.1, encrypt_then_mac RFC 7366 §2,
//!   heartbeat RFC 6520 §2.
//!
//! The handshake is never finished, so the random and the X25519 key share
//! only have to look like the real thing; they need not be secret.

use super::registry::table;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// A protocol version the scan can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl ProtocolVersion {
    /// Every version, oldest first.
    pub const ALL: [ProtocolVersion; 5] = [
        ProtocolVersion::Ssl3,
        ProtocolVersion::Tls10,
        ProtocolVersion::Tls11,
        ProtocolVersion::Tls12,
        ProtocolVersion::Tls13,
    ];

    /// The version's code point on the wire.
    pub fn wire(self) -> u16 {
        match self {
            ProtocolVersion::Ssl3 => 0x0300,
            ProtocolVersion::Tls10 => 0x0301,
            ProtocolVersion::Tls11 => 0x0302,
            ProtocolVersion::Tls12 => 0x0303,
            ProtocolVersion::Tls13 => 0x0304,
        }
    }

    /// The version for a code point, if it is one we know.
    pub fn from_wire(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.wire() == value)
    }

    /// The name used in evidence (`TLSv1.2`, as in the rustls probe).
    pub fn name(self) -> &'static str {
        match self {
            ProtocolVersion::Ssl3 => "SSLv3",
            ProtocolVersion::Tls10 => "TLSv1.0",
            ProtocolVersion::Tls11 => "TLSv1.1",
            ProtocolVersion::Tls12 => "TLSv1.2",
            ProtocolVersion::Tls13 => "TLSv1.3",
        }
    }

    /// The suites offered for this version when nothing is struck yet.
    pub fn default_suites(self) -> Vec<u16> {
        match self {
            ProtocolVersion::Tls13 => table().tls13_suites(),
            _ => table().legacy_suites(),
        }
    }
}

/// Name of a version code point for evidence; unknown ones in hex.
pub fn version_name(value: u16) -> String {
    ProtocolVersion::from_wire(value)
        .map(|v| v.name().to_string())
        .unwrap_or_else(|| format!("0x{value:04x}"))
}

/// Signature algorithms offered (RFC 8446 §4.2.3 code points), SHA-1 and
/// PKCS#1 v1.5 included so that weak servers still answer.
pub fn signature_algorithms() -> Vec<u16> {
    vec![
        0x0403, 0x0503, 0x0603, // ecdsa secp256r1/384/521 with SHA-2
        0x0804, 0x0805, 0x0806, // rsa_pss_rsae
        0x0809, 0x080a, 0x080b, // rsa_pss_pss
        0x0807, 0x0808, // ed25519, ed448
        0x081a, 0x081b, 0x081c, // ecdsa brainpool (RFC 8734)
        0x0401, 0x0501, 0x0601, // rsa_pkcs1 with SHA-2
        0x0201, 0x0203, 0x0202, // SHA-1 with RSA, ECDSA, DSA
        0x0402, // DSA with SHA-256
    ]
}

/// Everything that varies between two ClientHellos of a scan.
#[derive(Debug, Clone)]
pub struct HelloSpec {
    pub version: ProtocolVersion,
    pub suites: Vec<u16>,
    /// supported_groups, in preference order.
    pub groups: Vec<u16>,
    /// Groups to send a key share for (TLS 1.3 only; only X25519 is built,
    /// others are skipped). Empty makes a TLS 1.3 server answer with a
    /// HelloRetryRequest that names the group it picked (RFC 8446 §4.1.4).
    pub key_shares: Vec<u16>,
    /// SNI host name; none for an IP literal (RFC 6066 §3 forbids them).
    pub server_name: Option<String>,
}

const X25519: u16 = 29;
/// RFC 5746 §3.3: signals secure renegotiation where no extension fits.
const RENEGOTIATION_SCSV: u16 = 0x00ff;

/// The ClientHello as one handshake record, ready to write.
pub fn client_hello(spec: &HelloSpec) -> Vec<u8> {
    let ssl3 = spec.version == ProtocolVersion::Ssl3;
    let tls13 = spec.version == ProtocolVersion::Tls13;
    let mut body = Vec::with_capacity(512);
    // RFC 8446 §4.1.2: legacy_version is 0x0303 for TLS 1.3.
    let client_version = if tls13 { 0x0303 } else { spec.version.wire() };
    put_u16(&mut body, client_version);
    body.extend_from_slice(&random_bytes());
    if tls13 {
        // A 32-byte legacy_session_id, as middlebox compatibility mode does
        // (RFC 8446 §D.4), so the hello looks like a browser's.
        body.push(32);
        body.extend_from_slice(&random_bytes());
    } else {
        body.push(0);
    }
    let mut suites = spec.suites.clone();
    if ssl3 {
        suites.push(RENEGOTIATION_SCSV);
    }
    put_u16(&mut body, (suites.len() * 2) as u16);
    for suite in &suites {
        put_u16(&mut body, *suite);
    }
    if tls13 {
        body.extend_from_slice(&[1, 0]); // compression: null only (§4.1.2)
    } else {
        // DEFLATE (RFC 3749) then null: a server that picks DEFLATE has TLS
        // compression enabled (CRIME), which TR-02102-2 forbids.
        body.extend_from_slice(&[2, 1, 0]);
    }
    if !ssl3 {
        let extensions = extensions(spec);
        put_u16(&mut body, extensions.len() as u16);
        body.extend_from_slice(&extensions);
    }
    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(1); // client_hello
    put_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);
    let mut record = Vec::with_capacity(handshake.len() + 5);
    record.push(22); // handshake
    // Record version 0x0301 for TLS, as common clients do (RFC 8446 §5.1
    // allows it); SSLv3 servers expect 0x0300.
    put_u16(&mut record, if ssl3 { 0x0300 } else { 0x0301 });
    put_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

fn extensions(spec: &HelloSpec) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if let Some(name) = &spec.server_name {
        let name = name.as_bytes();
        let mut data = Vec::new();
        put_u16(&mut data, (name.len() + 3) as u16);
        data.push(0); // host_name
        put_u16(&mut data, name.len() as u16);
        data.extend_from_slice(name);
        put_extension(&mut out, 0, &data);
    }
    let mut groups = Vec::new();
    put_u16(&mut groups, (spec.groups.len() * 2) as u16);
    for group in &spec.groups {
        put_u16(&mut groups, *group);
    }
    put_extension(&mut out, 10, &groups);
    put_extension(&mut out, 11, &[1, 0]); // ec_point_formats: uncompressed
    let algorithms = signature_algorithms();
    let mut data = Vec::new();
    put_u16(&mut data, (algorithms.len() * 2) as u16);
    for algorithm in algorithms {
        put_u16(&mut data, algorithm);
    }
    put_extension(&mut out, 13, &data);
    put_extension(&mut out, 15, &[1]); // heartbeat: peer_allowed_to_send
    put_extension(&mut out, 22, &[]); // encrypt_then_mac
    put_extension(&mut out, 23, &[]); // extended_master_secret
    if spec.version == ProtocolVersion::Tls13 {
        put_extension(&mut out, 43, &[2, 0x03, 0x04]); // supported_versions
        put_extension(&mut out, 45, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
        let mut shares = Vec::new();
        for group in spec.key_shares.iter().filter(|g| **g == X25519) {
            put_u16(&mut shares, *group);
            put_u16(&mut shares, 32);
            shares.extend_from_slice(&random_bytes());
        }
        let mut data = Vec::new();
        put_u16(&mut data, shares.len() as u16);
        data.extend_from_slice(&shares);
        put_extension(&mut out, 51, &data);
    }
    put_extension(&mut out, 0xff01, &[0]); // renegotiation_info, empty
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

fn put_u24(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
}

/// 32 unpredictable-looking bytes: SHA-256 of the time and a counter.
pub(super) fn random_bytes() -> [u8; 32] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_be_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    hasher.update(std::process::id().to_be_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tls_parser::{TlsMessage, TlsMessageHandshake, parse_tls_plaintext};

    fn spec(version: ProtocolVersion) -> HelloSpec {
        HelloSpec {
            version,
            suites: version.default_suites(),
            groups: vec![29, 23, 24],
            key_shares: vec![29],
            server_name: Some("imap.example.org".into()),
        }
    }

    #[test]
    fn a_tls12_hello_parses_with_its_suites_and_extensions() {
        let bytes = client_hello(&spec(ProtocolVersion::Tls12));
        let (rest, record) = parse_tls_plaintext(&bytes).expect("a valid record");
        assert!(rest.is_empty());
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = &record.msg[0] else {
            panic!("not a ClientHello: {:?}", record.msg);
        };
        assert_eq!(hello.version.0, 0x0303);
        assert_eq!(hello.ciphers.len(), table().legacy_suites().len());
        let extensions = tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap())
            .expect("extensions parse")
            .1;
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, tls_parser::TlsExtension::SNI(_)))
        );
        assert!(
            !extensions
                .iter()
                .any(|e| matches!(e, tls_parser::TlsExtension::SupportedVersions(_)))
        );
    }

    #[test]
    fn a_tls13_hello_carries_supported_versions_and_an_x25519_share() {
        let bytes = client_hello(&spec(ProtocolVersion::Tls13));
        let (_, record) = parse_tls_plaintext(&bytes).expect("a valid record");
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = &record.msg[0] else {
            panic!("not a ClientHello");
        };
        assert_eq!(hello.version.0, 0x0303, "legacy_version");
        let extensions = tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap())
            .unwrap()
            .1;
        let versions = extensions.iter().find_map(|e| match e {
            tls_parser::TlsExtension::SupportedVersions(v) => Some(v.clone()),
            _ => None,
        });
        assert_eq!(versions.unwrap()[0].0, 0x0304);
        let share = extensions.iter().find_map(|e| match e {
            tls_parser::TlsExtension::KeyShare(k) => Some(k.to_vec()),
            _ => None,
        });
        let share = share.expect("key_share");
        assert_eq!(&share[..6], &[0, 36, 0, 29, 0, 32]);
    }

    #[test]
    fn an_sslv3_hello_has_no_extensions_and_the_scsv() {
        let bytes = client_hello(&spec(ProtocolVersion::Ssl3));
        assert_eq!(&bytes[..3], &[22, 3, 0]);
        let (_, record) = parse_tls_plaintext(&bytes).expect("a valid record");
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = &record.msg[0] else {
            panic!("not a ClientHello");
        };
        assert_eq!(hello.version.0, 0x0300);
        assert!(hello.ext.is_none());
        assert_eq!(hello.ciphers.last().unwrap().0, RENEGOTIATION_SCSV);
    }
}
