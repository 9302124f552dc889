//! Client-initiated renegotiation (TLS-114): after a complete TLS 1.2
//! handshake ([`handshake12`]), a new ClientHello goes out inside the
//! session, carrying the client's `verify_data` in `renegotiation_info`
//! (RFC 5746 §3.5). BSI TR-02102-2 forbids servers to accept it; a server
//! that does spends a full handshake's work on every request of a client
//! (a cheap denial of service) and, without RFC 5746, lets an attacker in
//! the middle splice a prefix into the session (CVE-2009-3555).
//!
//! - a ServerHello in answer: accepted (affected);
//! - an alert (`no_renegotiation`, `handshake_failure`, any other) or a
//!   close: refused (not affected);
//! - nothing within the step timeout, or bytes that are no protected
//!   record: not tested.
//!
//! Application data the server sends first (a greeting on implicit TLS) is
//! read and dropped, bounded by the connection's byte limit. Nothing else
//! is sent: no mail-protocol command, and the renegotiation is never
//! completed.
//!
//! [`handshake12`]: super::handshake12

use super::handshake12::{Protected, SERVER_HELLO, establish};
use super::hello12;
use super::records::{ALERT, HANDSHAKE, alert_name};
use super::{Try, Verdict};
use crate::evidence::ActiveOutcome;
use crate::probe::tls_scan::ScanTarget;

/// RFC 5246 §6.2.1 `application_data`.
const APPLICATION_DATA: u8 = 23;
/// RFC 5246 §7.4.1.1 `hello_request`: the server asking for a
/// renegotiation itself, which is not the answer looked for.
const HELLO_REQUEST: u8 = 0;

/// One try of the check.
pub(super) async fn check(target: &ScanTarget) -> Try {
    let mut session = match establish(target).await {
        Ok(session) => session,
        Err(end) => return end,
    };
    let offered = |yes: bool| if yes { "offered" } else { "not offered" };
    let facts = format!(
        "suite 0x{:04x}, secure renegotiation (RFC 5746) {}, extended master secret {}",
        session.suite.code,
        offered(session.secure_renegotiation),
        offered(session.extended_master_secret),
    );
    let decided = |outcome, observed: String| {
        Try::Decided(Verdict {
            outcome,
            observed: format!("{observed} ({facts})"),
            version: Some(0x0303),
            returned_bytes: None,
        })
    };
    // RFC 5746 §3.5: a renegotiating hello carries the client's last
    // verify_data; a server without RFC 5746 gets it too and may ignore it.
    let verify_data = session.client_verify_data.clone();
    let hello = hello12::client_hello(target.server_name.as_deref(), &verify_data);
    if !session.send(HANDSHAKE, &hello).await {
        return decided(
            ActiveOutcome::NotTested,
            "the connection closed before the renegotiating ClientHello was written".into(),
        );
    }
    loop {
        return match session.next(target.step_timeout).await {
            Protected::Record(APPLICATION_DATA, _) => continue,
            Protected::Record(HANDSHAKE, message) => match message.first() {
                Some(&SERVER_HELLO) => decided(
                    ActiveOutcome::Affected,
                    "a ServerHello in answer to a ClientHello inside the established TLS 1.2 session: the server accepts client-initiated renegotiation".into(),
                ),
                Some(&HELLO_REQUEST) => continue,
                Some(kind) => decided(
                    ActiveOutcome::NotTested,
                    format!("handshake message type {kind} in answer to the renegotiating ClientHello"),
                ),
                None => decided(
                    ActiveOutcome::NotTested,
                    "an empty handshake record in answer to the renegotiating ClientHello".into(),
                ),
            },
            Protected::Record(ALERT, alert) => match alert[..] {
                [level, description] => decided(
                    ActiveOutcome::NotAffected,
                    format!(
                        "{} in answer to a ClientHello inside the established TLS 1.2 session: the server refuses client-initiated renegotiation",
                        alert_name(level, description)
                    ),
                ),
                _ => decided(
                    ActiveOutcome::NotTested,
                    format!("an alert of {} bytes after the renegotiating ClientHello", alert.len()),
                ),
            },
            Protected::Record(kind, _) => decided(
                ActiveOutcome::NotTested,
                format!("a record of content type {kind} after the renegotiating ClientHello"),
            ),
            Protected::Closed => decided(
                ActiveOutcome::NotAffected,
                "the server closed the connection at a ClientHello inside the established TLS 1.2 session: it refuses client-initiated renegotiation".into(),
            ),
            Protected::Timeout => decided(
                ActiveOutcome::NotTested,
                format!(
                    "no answer within {:?} to a ClientHello inside the established TLS 1.2 session",
                    target.step_timeout
                ),
            ),
            Protected::Undecided(problem) => decided(
                ActiveOutcome::NotTested,
                format!("{problem} after the renegotiating ClientHello"),
            ),
        };
    }
}
