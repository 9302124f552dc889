//! CCS injection (CVE-2014-0224), in the form testssl.sh and nmap publish.
//!
//! RFC 5246 §7.1 allows a ChangeCipherSpec only once the keys are agreed;
//! affected OpenSSL releases accepted one straight after the server's hello
//! flight and switched to keys derived from an empty master secret, which
//! an attacker in the middle can compute. So a ChangeCipherSpec goes out
//! right after the ServerHelloDone:
//!
//! - a fixed server refuses it at once with a fatal `unexpected_message`
//!   alert (any alert, or a close, refuses it): not affected;
//! - an affected server stays silent, having switched keys. Then a second
//!   ChangeCipherSpec follows, as the published checks send: the affected
//!   server reads it as a protected record and answers `bad_record_mac`
//!   (or `decryption_failed`), or stays silent again; both are affected.
//!   An `unexpected_message` only now is a slow refusal: not affected.

use super::records::{ALERT, CHANGE_CIPHER_SPEC, alert_name, record};
use super::transport::{Connection, Next};
use super::{Try, Verdict, hello_flight};
use crate::evidence::ActiveOutcome;
use crate::probe::tls_scan::ScanTarget;
use std::time::Duration;

/// RFC 5246 §7.2.2 `unexpected_message`.
const UNEXPECTED_MESSAGE: u8 = 10;

/// One try of the check.
pub(super) async fn check(target: &ScanTarget) -> Try {
    let (mut connection, hello) = match hello_flight(target).await {
        Ok(found) => found,
        Err(end) => return end,
    };
    let decided = |outcome, observed: String| {
        Try::Decided(Verdict {
            outcome,
            observed,
            version: Some(hello.version),
            returned_bytes: None,
        })
    };
    let change_cipher_spec = record(CHANGE_CIPHER_SPEC, hello.version, &[1]);
    // First: a fixed server answers at once.
    if !connection.send(&change_cipher_spec).await {
        return decided(
            ActiveOutcome::NotAffected,
            "the server closed the connection before the early ChangeCipherSpec could be written"
                .into(),
        );
    }
    match answer(&mut connection, target.step_timeout).await {
        Answer::Alert(level, description) => {
            return decided(
                ActiveOutcome::NotAffected,
                format!(
                    "{} to the early ChangeCipherSpec",
                    alert_name(level, description)
                ),
            );
        }
        Answer::Closed => {
            return decided(
                ActiveOutcome::NotAffected,
                "the server closed the connection at the early ChangeCipherSpec".into(),
            );
        }
        Answer::Undecided(problem) => {
            return decided(
                ActiveOutcome::NotTested,
                format!("{problem} after the early ChangeCipherSpec"),
            );
        }
        Answer::Protected(length) => {
            return decided(
                ActiveOutcome::Affected,
                format!(
                    "a protected alert of {length} bytes to the early ChangeCipherSpec: the server switched keys without a key exchange"
                ),
            );
        }
        Answer::Silence => {}
    }
    // Silence: the second probe tells a switched server from a slow one.
    let first = format!(
        "no alert within {:?} to the early ChangeCipherSpec",
        target.step_timeout
    );
    if !connection.send(&change_cipher_spec).await {
        return decided(
            ActiveOutcome::NotTested,
            format!("{first}; the connection closed before the second could be written"),
        );
    }
    match answer(&mut connection, target.step_timeout).await {
        Answer::Alert(level, UNEXPECTED_MESSAGE) => decided(
            ActiveOutcome::NotAffected,
            format!(
                "{first}; {} to the second",
                alert_name(level, UNEXPECTED_MESSAGE)
            ),
        ),
        Answer::Alert(level, description) => decided(
            ActiveOutcome::Affected,
            format!(
                "{first}; {} to the second: the server had switched to keys from an empty master secret",
                alert_name(level, description)
            ),
        ),
        Answer::Protected(length) => decided(
            ActiveOutcome::Affected,
            format!(
                "{first}; a protected alert of {length} bytes to the second: the server had switched keys"
            ),
        ),
        Answer::Silence => decided(
            ActiveOutcome::Affected,
            format!("{first}, nor to a second one: the server accepted it"),
        ),
        Answer::Closed => decided(
            ActiveOutcome::NotTested,
            format!("{first}; the connection closed at the second without an alert"),
        ),
        Answer::Undecided(problem) => decided(
            ActiveOutcome::NotTested,
            format!("{first}; {problem} after the second"),
        ),
    }
}

/// How the server answered one ChangeCipherSpec.
enum Answer {
    /// A plaintext alert: level and description.
    Alert(u8, u8),
    /// An alert record that is not 2 bytes: protected with keys the
    /// server switched to.
    Protected(usize),
    Closed,
    Silence,
    Undecided(String),
}

async fn answer(connection: &mut Connection, wait: Duration) -> Answer {
    loop {
        return match connection.next(wait).await {
            Next::Record(head, fragment) if head.content_type == ALERT => match fragment[..] {
                [level, description] => Answer::Alert(level, description),
                _ => Answer::Protected(fragment.len()),
            },
            // Handshake or other records still in flight are not the answer.
            Next::Record(..) => continue,
            Next::Closed => Answer::Closed,
            Next::Timeout => Answer::Silence,
            Next::Garbage(problem) => Answer::Undecided(problem),
            Next::Bound => Answer::Undecided("the byte limit was reached".into()),
        };
    }
}
