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

use super::hello12::{
    EXTENDED_MASTER_SECRET, Messages, RENEGOTIATION_INFO, TLS12, client_hello, message,
};
use super::key_exchange::{self, Suite};
use super::prf;
use super::protection::Protection;
use super::records::{
    ALERT, CHANGE_CIPHER_SPEC, HANDSHAKE, alert_name, parse_server_hello, record,
};
use super::transport::{self, Connection, Next};
use super::{PROTOCOL_VERSION, Try};
use crate::evidence::ActiveOutcome;
use crate::probe::tls_scan::ScanTarget;
use std::time::Duration;

/// RFC 5246 §7.4 handshake types used here.
pub const SERVER_HELLO: u8 = 2;
const NEW_SESSION_TICKET: u8 = 4;
const CERTIFICATE: u8 = 11;
const SERVER_KEY_EXCHANGE: u8 = 12;
const CERTIFICATE_REQUEST: u8 = 13;
const SERVER_HELLO_DONE: u8 = 14;
pub const CLIENT_KEY_EXCHANGE: u8 = 16;
pub const FINISHED: u8 = 20;

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

/// What the server's first flight told, up to its ServerHelloDone.
#[derive(Default)]
pub struct ServerFlight {
    pub random: Option<[u8; 32]>,
    pub suite: Option<u16>,
    key_exchange: Option<Vec<u8>>,
    /// The server's own certificate (the first of its chain), DER.
    pub certificate: Option<Vec<u8>>,
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
    let refused = |alert: String| {
        Try::not_tested(format!(
            "the server refused the TLS 1.2 hello with ECDHE/DHE AES-GCM suites: {alert}"
        ))
    };
    let flight = read_flight(
        &mut connection,
        &mut transcript,
        target.step_timeout,
        refused,
    )
    .await?;
    let suite = flight.suite.and_then(key_exchange::find_suite);
    let (Some(server_random), Some(suite), Some(server_key_exchange)) =
        (flight.random, suite, flight.key_exchange)
    else {
        return Err(Try::not_tested(format!(
            "the server's hello flight (suite 0x{:04x}) held no ECDHE/DHE key exchange that was offered",
            flight.suite.unwrap_or_default()
        )));
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
/// An alert instead of a ServerHello is `refused` (named), except
/// `protocol_version`: the server speaks only TLS 1.3.
pub async fn read_flight(
    connection: &mut Connection,
    transcript: &mut Vec<u8>,
    wait: Duration,
    refused: impl Fn(String) -> Try,
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
                    // TLS 1.3 has neither renegotiation (RFC 8446 §4.1.2)
                    // nor RSA key exchange.
                    (PROTOCOL_VERSION, None) => Try::decided(
                        ActiveOutcome::NotAffected,
                        format!(
                            "the server refuses TLS 1.2 and below ({alert}): it speaks only TLS 1.3, which has neither renegotiation nor RSA key exchange"
                        ),
                    ),
                    (_, None) => refused(alert),
                    (_, Some(_)) => Try::not_tested(format!("{alert} during the hello flight")),
                });
            }
            other => {
                let answered = flight.random.is_some() || !messages.buffer.is_empty();
                return Err(super::unfinished_flight(other, answered, wait));
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
            let mut random = [0u8; 32];
            random.copy_from_slice(&body[2..34]);
            flight.random = Some(random);
            flight.suite = Some(hello.suite);
            flight.secure_renegotiation = hello.extensions.contains(&RENEGOTIATION_INFO);
            flight.extended_master_secret = hello.extensions.contains(&EXTENDED_MASTER_SECRET);
        }
        (kind, None) => {
            return Err(Try::not_tested(format!(
                "handshake message type {kind} before the ServerHello"
            )));
        }
        (SERVER_KEY_EXCHANGE, Some(_)) => flight.key_exchange = Some(body.to_vec()),
        // RFC 5246 §7.4.2: a 3-byte list length, then each certificate
        // with a 3-byte length; the server's own comes first.
        (CERTIFICATE, Some(_)) if flight.certificate.is_none() => {
            let length = |at: usize| {
                Some(
                    u32::from_be_bytes([0, *body.get(at)?, *body.get(at + 1)?, *body.get(at + 2)?])
                        as usize,
                )
            };
            flight.certificate = length(3)
                .and_then(|first| body.get(6..6 + first))
                .map(<[u8]>::to_vec);
        }
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
