//! Heartbleed (CVE-2014-0160), in the safe form testssl.sh and nmap use.
//!
//! The ClientHello offers the heartbeat extension (RFC 6520 §2). A server
//! whose ServerHello does not echo it speaks no heartbeats and is not
//! affected. Otherwise, right after the server's hello flight and before
//! any key exchange, one heartbeat request goes out whose `payload_length`
//! says 16384 but which carries no payload at all (RFC 6520 §4: such a
//! message "MUST be discarded silently"). A fixed server discards it (no
//! answer), or refuses it with an alert or a close; an affected one copies
//! 16 KiB of its memory into a heartbeat response. Only the response's
//! length is kept; its bytes are dropped unread.

use super::records::{ALERT, HEARTBEAT, HEARTBEAT_EXTENSION, alert_name, record};
use super::transport::Next;
use super::{Try, Verdict, hello_flight};
use crate::evidence::ActiveOutcome;
use crate::probe::tls_scan::ScanTarget;

/// The request's fragment: type `heartbeat_request` (1), `payload_length`
/// 0x4000, and nothing after it (testssl.sh sends the same bytes).
const REQUEST: [u8; 3] = [1, 0x40, 0x00];

/// One try of the check.
pub(super) async fn check(target: &ScanTarget) -> Try {
    let (mut connection, hello) = match hello_flight(target).await {
        Ok(found) => found,
        Err(end) => return end,
    };
    let decided = |outcome, observed: String, returned_bytes| {
        Try::Decided(Verdict {
            outcome,
            observed,
            version: Some(hello.version),
            returned_bytes,
        })
    };
    if !hello.extensions.contains(&HEARTBEAT_EXTENSION) {
        return decided(
            ActiveOutcome::NotAffected,
            "the ServerHello does not echo the heartbeat extension: the server does not speak heartbeats".into(),
            None,
        );
    }
    if !connection
        .send(&record(HEARTBEAT, hello.version, &REQUEST))
        .await
    {
        return decided(
            ActiveOutcome::NotAffected,
            "the server closed the connection before the heartbeat request could be written".into(),
            None,
        );
    }
    loop {
        match connection.next(target.step_timeout).await {
            Next::Record(head, fragment) if head.content_type == HEARTBEAT => {
                // Count, then drop: what an affected server sends is its
                // memory and is never kept or shown.
                let length = fragment.len();
                drop(fragment);
                return if length > REQUEST.len() {
                    decided(
                        ActiveOutcome::Affected,
                        format!(
                            "a heartbeat response of {length} bytes to a request of {} bytes that claimed 16384: the server returned memory beyond the request",
                            REQUEST.len()
                        ),
                        Some(length as u32),
                    )
                } else {
                    decided(
                        ActiveOutcome::NotAffected,
                        format!(
                            "a heartbeat response of {length} bytes, no longer than the request"
                        ),
                        Some(length as u32),
                    )
                };
            }
            Next::Record(head, fragment) if head.content_type == ALERT => {
                let alert = match fragment[..] {
                    [level, description] => alert_name(level, description),
                    _ => format!("an alert of {} bytes", fragment.len()),
                };
                return decided(
                    ActiveOutcome::NotAffected,
                    format!("{alert} to the overlong heartbeat request"),
                    None,
                );
            }
            // Anything else the server still sends is not the answer.
            Next::Record(..) => {}
            Next::Closed => {
                return decided(
                    ActiveOutcome::NotAffected,
                    "the server closed the connection at the overlong heartbeat request".into(),
                    None,
                );
            }
            Next::Timeout => {
                return decided(
                    ActiveOutcome::NotAffected,
                    format!(
                        "no answer to the overlong heartbeat request within {:?}: it was discarded, as RFC 6520 §4 requires",
                        target.step_timeout
                    ),
                    None,
                );
            }
            Next::Garbage(problem) => {
                return decided(
                    ActiveOutcome::NotTested,
                    format!("{problem} after the heartbeat request"),
                    None,
                );
            }
            Next::Bound => {
                return decided(
                    ActiveOutcome::NotTested,
                    "the answer to the heartbeat request exceeded the byte limit".into(),
                    None,
                );
            }
        }
    }
}
