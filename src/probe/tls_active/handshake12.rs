//! A minimal but real TLS 1.2 client handshake (RFC 5246 §7.3) for the
//! active checks that need an established session (client-initiated
//! renegotiation): ECDHE or DHE with AES-GCM ([`key_exchange`]), the TLS
//! 1.2 PRF ([`prf`]), extended master secret when the server echoes it
//! (RFC 7627), and `renegotiation_info` in the first hello (RFC 5746 §3.4).
//!
//! The certificate and the ServerKeyExchange signature are not checked: the
//! checks only observe how the server behaves, and nothing is sent after
//! the Finished messages but what the check itself is about. The server's
//! Finished is verified, so a session counts as established only when both
//! sides agree on its keys.
//!
//! [`key_exchange`]: super::key_exchange
//! [`prf`]: super::prf

use super::key_exchange::{self, GROUPS, SUITES, Suite};
use super::prf;
use super::protection::Protection;
use super::records::{
    ALERT, CHANGE_CIPHER_SPEC, HANDSHAKE, alert_name, parse_server_hello, random_bytes, record,
};
use super::transport::{self, Connection, Next, busy_answer};
use super::{PROTOCOL_VERSION, Try};
use crate::evidence::ActiveOutcome;
use crate::probe::tls_scan::ScanTarget;
use std::time::Duration;

/// RFC 5246 §7.4 handshake types used here.
pub const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
const NEW_SESSION_TICKET: u8 = 4;
const CERTIFICATE: u8 = 11;
const SERVER_KEY_EXCHANGE: u8 = 12;
const CERTIFICATE_REQUEST: u8 = 13;
const SERVER_HELLO_DONE: u8 = 14;
const CLIENT_KEY_EXCHANGE: u8 = 16;
const FINISHED: u8 = 20;
/// RFC 7627 §5.1 and RFC 5746 §3.2 extension types.
const EXTENDED_MASTER_SECRET: u16 = 23;
const RENEGOTIATION_INFO: u16 = 0xff01;
const TLS12: u16 = 0x0303;

/// An established TLS 1.2 session.
pub struct Session {
    pub connection: Connection,
    pub suite: Suite,
    pub client: Protection,
    pub server: Protection,
    /// The client's Finished `verify_data` (RFC 5746 §3.1).
    pub client_verify_data: Vec<u8>,
    /// The server echoed `renegotiation_info` (RFC 5746 §3.4).
    pub secure_renegotiation: bool,
    pub extended_master_secret: bool,
}

/// What the next protected record gave.
pub enum Protected {
    Record(u8, Vec<u8>),
    Closed,
    Timeout,
    /// Not a protected TLS record, or one that fails authentication.
    Undecided(String),
}

impl Session {
    /// Seals `plaintext` as one record of `content_type` and sends it.
    pub async fn send(&mut self, content_type: u8, plaintext: &[u8]) -> bool {
        let fragment = self.client.seal(content_type, TLS12, plaintext);
        self.connection
            .send(&record(content_type, TLS12, &fragment))
            .await
    }

    /// The next record, opened with the server's keys.
    pub async fn next(&mut self, wait: Duration) -> Protected {
        match self.connection.next(wait).await {
            Next::Record(head, fragment) => {
                match self.server.open(head.content_type, head.version, &fragment) {
                    Some(plaintext) => Protected::Record(head.content_type, plaintext),
                    // RFC 5246 §7.2: some stacks send a late alert unprotected.
                    None if head.content_type == ALERT && fragment.len() == 2 => {
                        Protected::Record(ALERT, fragment)
                    }
                    None => Protected::Undecided(format!(
                        "a record of content type {} ({} bytes) that fails authentication",
                        head.content_type,
                        fragment.len()
                    )),
                }
            }
            Next::Closed => Protected::Closed,
            Next::Timeout => Protected::Timeout,
            Next::Garbage(problem) => Protected::Undecided(problem),
            Next::Bound => Protected::Undecided(format!(
                "the connection's byte limit ({} bytes) was reached",
                transport::MAX_READ
            )),
        }
    }
}

/// A TLS 1.2 ClientHello offering [`SUITES`]: `renegotiation` is empty in
/// the first hello and the client's `verify_data` in a renegotiating one.
pub fn client_hello(server_name: Option<&str>, renegotiation: &[u8]) -> Vec<u8> {
    let mut body = TLS12.to_be_bytes().to_vec();
    body.extend_from_slice(&random_bytes());
    body.push(0); // no session ID: a full handshake
    body.extend_from_slice(&((SUITES.len() * 2) as u16).to_be_bytes());
    for suite in SUITES {
        body.extend_from_slice(&suite.code.to_be_bytes());
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
struct Messages {
    buffer: Vec<u8>,
}

impl Messages {
    fn next(&mut self) -> Option<Vec<u8>> {
        let header = self.buffer.get(..4)?;
        let length = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        if self.buffer.len() < 4 + length {
            return None;
        }
        Some(self.buffer.drain(..4 + length).collect())
    }
}

/// What the server's first flight told, up to its ServerHelloDone.
#[derive(Default)]
struct ServerFlight {
    random: Option<[u8; 32]>,
    suite: Option<Suite>,
    key_exchange: Option<Vec<u8>>,
    certificate_request: bool,
    secure_renegotiation: bool,
    extended_master_secret: bool,
}

/// Opens a connection and completes a TLS 1.2 handshake. `Err` is the
/// try's end, as in `hello_flight`: busy, refused, or undecided in words.
pub async fn establish(target: &ScanTarget) -> Result<Session, Try> {
    let mut connection = Connection::open(target).await?;
    let hello = client_hello(target.server_name.as_deref(), &[]);
    let mut client_random = [0u8; 32];
    client_random.copy_from_slice(&hello[6..38]);
    if !connection.send(&record(HANDSHAKE, 0x0301, &hello)).await {
        return Err(Try::Again(
            "the connection closed before the hello was written".into(),
        ));
    }
    let mut transcript = hello;
    let flight = read_flight(&mut connection, &mut transcript, target.step_timeout).await?;
    let (Some(server_random), Some(suite), Some(server_key_exchange)) =
        (flight.random, flight.suite, flight.key_exchange)
    else {
        return Err(Try::not_tested(
            "the server's hello flight lacked a ServerKeyExchange",
        ));
    };
    let agreed = key_exchange::agree(suite, &server_key_exchange).map_err(Try::not_tested)?;
    let mut client_flight = Vec::new();
    if flight.certificate_request {
        // RFC 5246 §7.4.6: no certificate is an empty list.
        client_flight.extend(message(CERTIFICATE, &[0, 0, 0]));
    }
    client_flight.extend(message(CLIENT_KEY_EXCHANGE, &agreed.client_key_exchange));
    transcript.extend_from_slice(&client_flight);
    let session_hash = flight
        .extended_master_secret
        .then(|| suite.hash.digest(&transcript));
    let master = prf::master_secret(
        suite.hash,
        &agreed.premaster,
        &client_random,
        &server_random,
        session_hash.as_deref(),
    );
    let keys = prf::key_block(
        suite.hash,
        &master,
        &client_random,
        &server_random,
        suite.key_length,
    );
    let broken = || Try::not_tested("no AES-GCM key from the key block");
    let mut client = Protection::new(&keys.client_key, keys.client_iv).ok_or_else(broken)?;
    let server = Protection::new(&keys.server_key, keys.server_iv).ok_or_else(broken)?;
    let client_verify_data = prf::verify_data(suite.hash, &master, b"client finished", &transcript);
    let finished = message(FINISHED, &client_verify_data);
    transcript.extend_from_slice(&finished);
    let mut bytes = record(HANDSHAKE, TLS12, &client_flight);
    bytes.extend(record(CHANGE_CIPHER_SPEC, TLS12, &[1]));
    bytes.extend(record(
        HANDSHAKE,
        TLS12,
        &client.seal(HANDSHAKE, TLS12, &finished),
    ));
    if !connection.send(&bytes).await {
        return Err(Try::not_tested(
            "the connection closed before the client's Finished was written",
        ));
    }
    let mut session = Session {
        connection,
        suite,
        client,
        server,
        client_verify_data,
        secure_renegotiation: flight.secure_renegotiation,
        extended_master_secret: flight.extended_master_secret,
    };
    let expected = prf::verify_data(suite.hash, &master, b"server finished", &transcript);
    read_server_finished(&mut session, &expected, target.step_timeout).await?;
    Ok(session)
}

/// Reads the server's flight up to its ServerHelloDone into `transcript`.
async fn read_flight(
    connection: &mut Connection,
    transcript: &mut Vec<u8>,
    wait: Duration,
) -> Result<ServerFlight, Try> {
    let mut messages = Messages::default();
    let mut flight = ServerFlight::default();
    loop {
        match connection.next(wait).await {
            Next::Record(head, fragment) if head.content_type == HANDSHAKE => {
                messages.buffer.extend_from_slice(&fragment);
                while let Some(whole) = messages.next() {
                    transcript.extend_from_slice(&whole);
                    if read_message(&mut flight, &whole)? {
                        return Ok(flight);
                    }
                }
            }
            Next::Record(head, fragment) if head.content_type == ALERT => {
                let [level, description, ..] = fragment[..] else {
                    return Err(Try::not_tested("an alert record shorter than 2 bytes"));
                };
                let alert = alert_name(level, description);
                return Err(match (description, flight.random) {
                    // TLS 1.3 has no renegotiation (RFC 8446 §4.1.2).
                    (PROTOCOL_VERSION, None) => Try::decided(
                        ActiveOutcome::NotAffected,
                        format!(
                            "the server refuses TLS 1.2 and below ({alert}): it speaks only TLS 1.3, which has no renegotiation"
                        ),
                    ),
                    (_, None) => Try::not_tested(format!(
                        "the server refused the TLS 1.2 hello with ECDHE/DHE AES-GCM suites: {alert}"
                    )),
                    (_, Some(_)) => Try::not_tested(format!("{alert} during the hello flight")),
                });
            }
            Next::Record(head, _) => {
                return Err(Try::not_tested(format!(
                    "a record of content type {} before the ServerHelloDone",
                    head.content_type
                )));
            }
            Next::Closed if flight.random.is_none() && messages.buffer.is_empty() => {
                return Err(Try::ClosedSilently);
            }
            Next::Closed => {
                return Err(Try::not_tested(
                    "the connection closed during the server's hello flight",
                ));
            }
            Next::Timeout => {
                return Err(Try::not_tested(format!(
                    "the server's hello flight did not end within {wait:?}"
                )));
            }
            Next::Garbage(problem) => {
                return Err(match busy_answer(&problem) {
                    Some(busy) => busy.into(),
                    None => Try::not_tested(format!("{problem} where a TLS record was due")),
                });
            }
            Next::Bound => {
                return Err(Try::not_tested(format!(
                    "the server's hello flight exceeded {} bytes",
                    transport::MAX_READ
                )));
            }
        }
    }
}

/// Takes one whole message of the server's first flight; `Ok(true)` at
/// the ServerHelloDone.
fn read_message(flight: &mut ServerFlight, whole: &[u8]) -> Result<bool, Try> {
    let body = &whole[4..];
    match (whole[0], flight.random) {
        (SERVER_HELLO, None) => {
            let hello = parse_server_hello(body).map_err(Try::not_tested)?;
            if hello.version != TLS12 {
                return Err(Try::not_tested(format!(
                    "the server chose {} for a TLS 1.2 hello; the check speaks TLS 1.2 only",
                    super::version_name(hello.version)
                )));
            }
            let suite = key_exchange::find_suite(hello.suite).ok_or_else(|| {
                Try::not_tested(format!(
                    "the server chose suite 0x{:04x}, which was not offered",
                    hello.suite
                ))
            })?;
            let mut random = [0u8; 32];
            random.copy_from_slice(&body[2..34]);
            flight.random = Some(random);
            flight.suite = Some(suite);
            flight.secure_renegotiation = hello.extensions.contains(&RENEGOTIATION_INFO);
            flight.extended_master_secret = hello.extensions.contains(&EXTENDED_MASTER_SECRET);
        }
        (kind, None) => {
            return Err(Try::not_tested(format!(
                "handshake message type {kind} before the ServerHello"
            )));
        }
        (SERVER_KEY_EXCHANGE, Some(_)) => flight.key_exchange = Some(body.to_vec()),
        (CERTIFICATE_REQUEST, Some(_)) => flight.certificate_request = true,
        (SERVER_HELLO_DONE, Some(_)) => return Ok(true),
        _ => {}
    }
    Ok(false)
}

/// Reads the server's ChangeCipherSpec and Finished (a NewSessionTicket
/// may come first, RFC 5077 §3.3) and checks its `verify_data`.
async fn read_server_finished(
    session: &mut Session,
    expected: &[u8],
    wait: Duration,
) -> Result<(), Try> {
    let mut changed = false;
    loop {
        if !changed {
            match session.connection.next(wait).await {
                Next::Record(head, _) if head.content_type == CHANGE_CIPHER_SPEC => changed = true,
                Next::Record(head, fragment)
                    if head.content_type == HANDSHAKE
                        && fragment.first() == Some(&NEW_SESSION_TICKET) => {}
                Next::Record(head, fragment) if head.content_type == ALERT => {
                    let [level, description, ..] = fragment[..] else {
                        return Err(Try::not_tested("an alert record shorter than 2 bytes"));
                    };
                    return Err(Try::not_tested(format!(
                        "the server refused the client's key exchange or Finished: {}",
                        alert_name(level, description)
                    )));
                }
                Next::Record(head, _) => {
                    return Err(Try::not_tested(format!(
                        "a record of content type {} where the server's ChangeCipherSpec was due",
                        head.content_type
                    )));
                }
                Next::Closed => {
                    return Err(Try::not_tested(
                        "the connection closed before the server's Finished",
                    ));
                }
                Next::Timeout => {
                    return Err(Try::not_tested(format!(
                        "no ChangeCipherSpec from the server within {wait:?}"
                    )));
                }
                Next::Garbage(problem) => {
                    return Err(Try::not_tested(format!(
                        "{problem} where the server's ChangeCipherSpec was due"
                    )));
                }
                Next::Bound => return Err(Try::not_tested("the byte limit was reached")),
            }
            continue;
        }
        return match session.next(wait).await {
            Protected::Record(HANDSHAKE, plaintext)
                if plaintext.first() == Some(&FINISHED) && plaintext.get(4..) == Some(expected) =>
            {
                Ok(())
            }
            Protected::Record(HANDSHAKE, _) => Err(Try::not_tested(
                "the server's Finished does not verify: no session was established",
            )),
            Protected::Record(kind, _) => Err(Try::not_tested(format!(
                "a record of content type {kind} where the server's Finished was due"
            ))),
            Protected::Closed => Err(Try::not_tested(
                "the connection closed before the server's Finished",
            )),
            Protected::Timeout => Err(Try::not_tested(format!(
                "no Finished from the server within {wait:?}"
            ))),
            Protected::Undecided(problem) => Err(Try::not_tested(format!(
                "{problem} where the server's Finished was due"
            ))),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
