//! The one protocol layer: each mail protocol is one file here holding its
//! greeting, capabilities, STARTTLS verb and reply, NOOP and SASL details
//! ([`MailProtocol`]), and every probe that talks to a mail port goes
//! through it: the endpoint dialogue (`probe::dialogue`), the TLS scan's
//! transport, the STARTTLS injection test and the mailbox login.
//!
//! [`upgrade`] is the one plain → TLS path; [`dispatch!`] is the one list
//! from a [`Protocol`](crate::target::Protocol) to its implementation.
//! Adding a protocol (LMTP, XMPP…) is one file here, one arm in
//! [`dispatch!`], and its `Protocol` variant.

mod mail_protocol;

pub(crate) mod imap;
pub(crate) mod pop3;
pub(crate) mod sieve;
pub(crate) mod smtp;
pub(crate) mod upgrade;

pub(crate) use mail_protocol::{MailProtocol, smtp_continues, starts_with};

/// Runs `$body` with the type name `$P` standing for the implementation of
/// `$protocol`: `dispatch!(endpoint.protocol, P => run::<P>(…).await)`.
/// The one list of protocols; the submission and implicit-TLS ports speak
/// the same protocol as their plain counterpart.
macro_rules! dispatch {
    ($protocol:expr, $P:ident => $body:expr) => {{
        use $crate::target::Protocol;
        match $protocol {
            Protocol::Smtp | Protocol::Submission | Protocol::Submissions => {
                type $P = $crate::probe::protocol::smtp::Smtp;
                $body
            }
            Protocol::Imap | Protocol::Imaps => {
                type $P = $crate::probe::protocol::imap::Imap;
                $body
            }
            Protocol::Pop3 | Protocol::Pop3s => {
                type $P = $crate::probe::protocol::pop3::Pop3;
                $body
            }
            Protocol::Sieve => {
                type $P = $crate::probe::protocol::sieve::Sieve;
                $body
            }
        }
    }};
}
pub(crate) use dispatch;
