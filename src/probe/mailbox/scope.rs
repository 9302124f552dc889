//! Where a mailbox password may go (issue 16): to the host the user named
//! with `--mailbox imaps://USER@HOST`, or, when none was named, to the
//! servers the scanned domain itself announces. Nowhere else.
//!
//! A [`Server`] is what [`super::secure::connect`] opens a login connection
//! to, and the only way to make one is [`PasswordScope::admit`], which
//! checks the host against the scope. So every login (IMAP, POP3,
//! ManageSieve) passes the same check, and a view that picks a server by
//! mistake gets an error instead of the password.

use crate::credentials::MailboxSpec;
use crate::evidence::DomainEvidence;
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// The hosts one mailbox's password may be sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordScope {
    /// The user named this server: it and no other.
    Named(String),
    /// No server was named: the hosts the domain's discovery found (MX,
    /// SRV, autoconfig, usual names, `--host`).
    Announced(BTreeSet<String>),
}

/// A server a password may travel to: its name (for TLS, SNI and the
/// evidence), the address the scan's resolver gave for it, and whether TLS
/// starts at the first byte.
#[derive(Debug, Clone)]
pub struct Server {
    host: String,
    address: SocketAddr,
    implicit_tls: bool,
}

impl Server {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// TLS from the first byte (993, 995), not after STARTTLS/STLS.
    pub fn implicit_tls(&self) -> bool {
        self.implicit_tls
    }
}

/// Host names compare without case and without a trailing dot.
fn normal(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl PasswordScope {
    /// The scope of `spec` audited with `domain`.
    pub fn of(spec: &MailboxSpec, domain: &DomainEvidence) -> PasswordScope {
        match &spec.host {
            Some(host) => PasswordScope::Named(normal(host)),
            None => {
                PasswordScope::Announced(domain.endpoints.iter().map(|e| normal(&e.host)).collect())
            }
        }
    }

    /// Whether a password may go to `host`.
    pub fn allows(&self, host: &str) -> bool {
        let host = normal(host);
        match self {
            PasswordScope::Named(named) => *named == host,
            PasswordScope::Announced(hosts) => hosts.contains(&host),
        }
    }

    /// A server for a login, if `host` is in the scope; otherwise the
    /// reason, for the evidence.
    pub fn admit(
        &self,
        host: &str,
        address: SocketAddr,
        implicit_tls: bool,
    ) -> Result<Server, String> {
        if self.allows(host) {
            return Ok(Server {
                host: normal(host),
                address,
                implicit_tls,
            });
        }
        Err(match self {
            PasswordScope::Named(named) => format!(
                "{host} is not the server named for this mailbox ({named}); the password goes to {named} only"
            ),
            PasswordScope::Announced(_) => format!(
                "{host} is not a server the domain announces; the password goes only to those, or to the server named with --mailbox imaps://USER@HOST"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> SocketAddr {
        "127.0.0.1:993".parse().unwrap()
    }

    #[test]
    fn a_named_server_admits_itself_and_nothing_else() {
        let scope = PasswordScope::Named("cyrus.mixed.test".into());
        assert!(scope.admit("Cyrus.Mixed.Test.", address(), true).is_ok());
        let refused = scope.admit("mail.mixed.test", address(), true).unwrap_err();
        assert!(refused.contains("cyrus.mixed.test only"), "{refused}");
    }

    #[test]
    fn without_a_named_server_only_announced_hosts_are_admitted() {
        let scope = PasswordScope::Announced(["imap.good.test".to_string()].into());
        assert!(scope.allows("IMAP.good.test"));
        assert!(!scope.allows("imap.evil.test"));
        assert!(scope.admit("imap.evil.test", address(), true).is_err());
    }
}
