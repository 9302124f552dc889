//! Active TLS checks (issue 17, part 2): probes that send a server what a
//! correct implementation refuses and record how it answered, in the safe
//! forms testssl.sh and nmap publish.
//!
//! - [`heartbleed`] (CVE-2014-0160): a heartbeat request whose
//!   `payload_length` claims more than it carries, sent before the
//!   handshake finishes; a response longer than the request is the leak.
//! - [`ccs`] (CVE-2014-0224): a ChangeCipherSpec right after the server's
//!   hello flight, before any key exchange; a fixed server refuses it with
//!   an `unexpected_message` alert.
//!
//! - [`resumption`] (informational): two rustls connections with one
//!   session store, in TLS 1.3 and in TLS 1.2; did the second resume?
//! - [`zero_rtt`]: on implicit TLS ports, a resumed TLS 1.3 session with a
//!   harmless command as early data; did the server accept it?
//! - [`renegotiation`] (TLS-114): a ClientHello inside an established TLS
//!   1.2 session ([`handshake12`], our own minimal client with
//!   [`key_exchange`], [`prf`] and [`protection`]); did the server answer
//!   with a ServerHello?
//! - [`robot`] (TLS-115, CVE-2017-13099): five ClientKeyExchange variants
//!   with differently broken PKCS#1 padding on RSA key exchange; do the
//!   answers differ?
//!
//! Heartbleed and CCS injection need no cryptography: the hellos and records are built by hand
//! ([`records`]) and the handshake is never finished. Each check is one
//! connection ([`transport`]: TCP, STARTTLS through the protocol layer,
//! bounded reads), taken under the endpoint address's connection limit that
//! the TLS scan uses (`probe::context::AddressLimit`). A busy answer lowers
//! that limit and the check is tried again after a pause, as the TLS scan
//! does; a budget spent on busy answers is "not tested", never "not
//! affected".

mod ccs;
mod handshake12;
mod heartbleed;
mod hello12;
mod key_exchange;
mod prf;
mod protection;
mod records;
mod renegotiation;
mod resumption;
mod robot;
mod transport;
mod zero_rtt;

use crate::evidence::{ActiveCheck, ActiveOutcome, TlsActiveEvidence};
use crate::probe::context::AddressLimit;
use crate::probe::tls_scan::ScanTarget;
use crate::probe::trust::TrustStore;
use records::{ALERT, Flight, HANDSHAKE, ServerHello, alert_name, client_hello};
use std::future::Future;
use std::time::Duration;
use transport::{Connection, Next, OpenError, busy_answer};

/// Tries per check when the connection fails or the server is busy.
const TRIES: u32 = 4;
/// Silent closes in a row that are the server's answer: a server at its
/// connection limit may close without a byte, but one that refuses TLS
/// 1.0–1.2 that way (Dovecot with TLS 1.3 only) closes every time. The TLS
/// scan reads three in a row the same way.
const CLOSED_TRIES: u32 = 3;
/// First pause before a retry, doubled each time up to [`MAX_PAUSE`] and
/// jittered by ±50 %.
const BACK_OFF: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(4);
/// RFC 5246 §7.2.2 `protocol_version`: the server refuses every version
/// offered, here TLS 1.0 to 1.2.
pub(super) const PROTOCOL_VERSION: u8 = 70;

/// Runs every active check on `target`, each connection within `limit`.
pub async fn probe(
    target: &ScanTarget,
    limit: &AddressLimit,
    trust: &TrustStore,
) -> TlsActiveEvidence {
    let (heartbleed, ccs_injection, resumption, early_data, renegotiation, robot) = tokio::join!(
        with_retries(limit, || heartbleed::check(target)),
        with_retries(limit, || ccs::check(target)),
        resumption::check(target, trust, limit),
        zero_rtt::check(target, trust, limit),
        with_retries(limit, || renegotiation::check(target)),
        robot::check(target, limit),
    );
    TlsActiveEvidence {
        heartbleed,
        ccs_injection,
        resumption,
        early_data: Some(early_data),
        client_renegotiation: Some(renegotiation),
        robot: Some(robot),
    }
}

/// What one try of a check came to.
pub(super) enum Try {
    Decided(Verdict),
    /// The server said it is busy: lower the limit, pause, try again.
    Busy(String),
    /// No TLS exchange was possible (connect, STARTTLS): pause and try
    /// again.
    Again(String),
    /// The connection closed without a byte after the hello.
    ClosedSilently,
}

/// A decided check, before the connections are counted.
pub(super) struct Verdict {
    pub outcome: ActiveOutcome,
    pub observed: String,
    pub version: Option<u16>,
    pub returned_bytes: Option<u32>,
}

impl Try {
    pub(super) fn decided(outcome: ActiveOutcome, observed: impl Into<String>) -> Try {
        Try::Decided(Verdict {
            outcome,
            observed: observed.into(),
            version: None,
            returned_bytes: None,
        })
    }

    pub(super) fn not_tested(observed: impl Into<String>) -> Try {
        Try::decided(ActiveOutcome::NotTested, observed)
    }
}

impl From<OpenError> for Try {
    fn from(error: OpenError) -> Try {
        match error {
            OpenError::Busy(line) => Try::Busy(line),
            OpenError::Unreachable(reason) => Try::Again(reason),
        }
    }
}

/// Runs `check` up to [`TRIES`] times, each under one permit of `limit`.
pub(super) async fn with_retries<F, Fut>(limit: &AddressLimit, check: F) -> ActiveCheck
where
    F: Fn() -> Fut,
    Fut: Future<Output = Try>,
{
    let mut pause = BACK_OFF;
    let mut last = String::new();
    let mut closed = 0;
    for tries in 1..=TRIES {
        let permit = limit.acquire().await;
        let result = check().await;
        closed = if matches!(result, Try::ClosedSilently) {
            closed + 1
        } else {
            0
        };
        match (result, permit) {
            (Try::Decided(verdict), permit) => {
                limit.release(permit).await;
                return ActiveCheck {
                    outcome: verdict.outcome,
                    observed: verdict.observed,
                    version: verdict.version.map(version_name),
                    returned_bytes: verdict.returned_bytes,
                    connections: tries,
                };
            }
            (Try::Busy(line), Some(permit)) => {
                limit.lower(permit);
                last = format!("the server stayed busy (last: {line})");
            }
            (Try::Busy(line), None) => last = format!("the server stayed busy (last: {line})"),
            (Try::Again(reason), permit) => {
                limit.release(permit).await;
                last = reason;
            }
            (Try::ClosedSilently, permit) => {
                limit.release(permit).await;
                if closed >= CLOSED_TRIES {
                    return ActiveCheck {
                        outcome: ActiveOutcome::NotAffected,
                        observed: format!(
                            "the server closed the connection without answering the TLS 1.0–1.2 hello, {closed} times in a row: it speaks none of the versions the flaw lives in"
                        ),
                        version: None,
                        returned_bytes: None,
                        connections: tries,
                    };
                }
                last = "the connection closed without an answer to the hello".into();
            }
        }
        if tries < TRIES {
            tokio::time::sleep(jittered(pause)).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
    ActiveCheck::not_tested(format!("{last}; gave up after {TRIES} tries"), TRIES)
}

/// Opens a connection, sends the ClientHello and reads the server's flight
/// up to its ServerHelloDone. `Err` is the try's end: a refusal of TLS
/// 1.0–1.2, a busy answer, or an answer that decides nothing.
pub(super) async fn hello_flight(target: &ScanTarget) -> Result<(Connection, ServerHello), Try> {
    let mut connection = Connection::open(target).await?;
    if !connection
        .send(&client_hello(target.server_name.as_deref()))
        .await
    {
        return Err(Try::Again(
            "the connection closed before the hello was written".into(),
        ));
    }
    let mut flight = Flight::default();
    let mut answered = false;
    loop {
        let next = connection.next(target.step_timeout).await;
        match next {
            Next::Record(head, fragment) if head.content_type == HANDSHAKE => {
                answered = true;
                if let Err(problem) = flight.push(&fragment) {
                    return Err(Try::not_tested(format!("{problem} in the hello flight")));
                }
                if let (true, Some(hello)) = (flight.done, &flight.hello) {
                    return Ok((connection, hello.clone()));
                }
            }
            Next::Record(head, fragment) if head.content_type == ALERT && !answered => {
                let (level, description) = match fragment[..] {
                    [level, description, ..] => (level, description),
                    _ => return Err(Try::not_tested("an alert record shorter than 2 bytes")),
                };
                let alert = alert_name(level, description);
                return Err(if description == PROTOCOL_VERSION {
                    // Every OpenSSL release with Heartbleed or the CCS flaw
                    // predates TLS 1.3; neither can be reached through it.
                    Try::decided(
                        ActiveOutcome::NotAffected,
                        format!(
                            "the server refuses TLS 1.0 to 1.2 ({alert}): it speaks only TLS 1.3, which the releases with this flaw predate"
                        ),
                    )
                } else {
                    Try::not_tested(format!("the server refused the TLS 1.0–1.2 hello: {alert}"))
                });
            }
            other => return Err(unfinished_flight(other, answered, target.step_timeout)),
        }
    }
}

/// Why the server's hello flight ended before its ServerHelloDone, for an
/// answer that is neither a handshake record nor an alert; `answered`:
/// whether it had sent anything before (a silent close is read apart).
fn unfinished_flight(next: Next, answered: bool, wait: Duration) -> Try {
    match next {
        Next::Record(head, _) => Try::not_tested(format!(
            "a record of content type {} before the ServerHelloDone",
            head.content_type
        )),
        Next::Closed if !answered => Try::ClosedSilently,
        Next::Closed => Try::not_tested("the connection closed during the server's hello flight"),
        Next::Timeout => Try::not_tested(format!(
            "the server's hello flight did not end within {wait:?}"
        )),
        Next::Garbage(problem) => match busy_answer(&problem) {
            Some(busy) => busy.into(),
            None => Try::not_tested(format!("{problem} where a TLS record was due")),
        },
        Next::Bound => Try::not_tested(format!(
            "the server's hello flight exceeded {} bytes",
            transport::MAX_READ
        )),
    }
}

/// The name used in evidence (`TLSv1.2`); unknown code points in hex.
pub(super) fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSLv3".to_string(),
        0x0301 => "TLSv1.0".to_string(),
        0x0302 => "TLSv1.1".to_string(),
        0x0303 => "TLSv1.2".to_string(),
        other => format!("0x{other:04x}"),
    }
}

/// `pause` ±50 %.
fn jittered(pause: Duration) -> Duration {
    let random = records::random_bytes();
    let fraction = f64::from(u16::from_be_bytes([random[0], random[1]])) / f64::from(u16::MAX);
    pause.mul_f64(0.5 + fraction)
}
