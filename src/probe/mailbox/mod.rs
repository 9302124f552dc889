//! The read-only mailbox audit (`--mailbox`, issue 5): with the mailbox's
//! credentials, the IMAP view (folders, ages, rights, quota), the
//! ManageSieve view (redirects) and the POP3 view (what a POP3 client would
//! take away). Runs after the domain's endpoints were probed, on the
//! servers the domain announced, or on the one given with `USER@HOST`.
//!
//! Read-only by construction: the IMAP client writes through
//! [`guard::ReadOnlyGuard`], ManageSieve sends only LISTSCRIPTS and
//! GETSCRIPT, POP3 only STAT and UIDL. Passwords go only over TLS.

mod folder_counts;
pub mod folders;
pub mod guard;
mod imap_audit;
pub(crate) mod managesieve;
pub(crate) mod pop3_view;
mod secure;
pub mod sieve_script;
mod year_count;

use crate::credentials::MailboxLogin;
use crate::evidence::{Attempt, DomainEvidence, EndpointEvidence, MailboxEvidence, PortState};
use crate::probe::ProbeContext;
use crate::probe::dns::Dns;
use crate::target::Protocol;
use secure::Server;
use std::net::SocketAddr;

/// How mailboxes are audited.
#[derive(Debug, Clone, Copy, Default)]
pub struct MailboxOptions {
    /// Log in over TLS whose certificate does not verify.
    pub accept_invalid_certs: bool,
    /// Record date, sender and subject of the first messages of each year.
    pub show_messages: bool,
}

/// Audits one mailbox. `domain` is the evidence of the scanned domain the
/// mailbox belongs to; its endpoints say where IMAP, Sieve and POP3 are.
pub async fn audit(
    login: &MailboxLogin,
    domain: &DomainEvidence,
    dns: &Dns,
    context: &ProbeContext,
    options: &MailboxOptions,
) -> MailboxEvidence {
    let accept_invalid_certs = options.accept_invalid_certs;
    let user = login.spec.user.clone();
    let user_domain = login.spec.user_domain().unwrap_or_default();
    let imap = match &login.spec.host {
        Some(host) => resolve(dns, host, login.spec.port.unwrap_or(993)).await,
        None => open(domain, Protocol::Imaps)
            .or_else(|| open(domain, Protocol::Imap))
            .and_then(server_of)
            .ok_or_else(|| {
                format!(
                    "{} announces no open IMAP port (993 or 143); give the server with --mailbox {user}@HOST",
                    domain.domain
                )
            }),
    };
    let imap_server = match imap {
        Ok(server) => server,
        Err(reason) => {
            return MailboxEvidence {
                user,
                user_domain,
                server: String::new(),
                certificate_verified: false,
                login: Attempt::failed(reason.clone()),
                folders: Attempt::skipped(reason.clone()),
                quota: Attempt::skipped(reason.clone()),
                sieve: Attempt::skipped(reason.clone()),
                pop3: Attempt::skipped(reason),
                commands: Vec::new(),
            };
        }
    };
    let trail = guard::Trail::default();
    let password = &login.password;
    let imap = imap_audit::audit(
        &imap_server,
        &user,
        password,
        context,
        options,
        trail.clone(),
    )
    .await;
    // The other views only after IMAP accepted the credentials: a wrong
    // password is tried once, not three times.
    let (sieve, pop3) = match imap.login.is_completed() {
        false => {
            let reason = "the IMAP login did not succeed; the password is not tried again";
            (Attempt::skipped(reason), Attempt::skipped(reason))
        }
        true => {
            // ManageSieve on the IMAP host (RFC 5804 §1.8: port 4190).
            let sieve_server = domain
                .endpoints
                .iter()
                .filter(|e| e.protocol == Protocol::Sieve && e.host == imap_server.host)
                .find_map(server_of)
                .unwrap_or_else(|| Server {
                    host: imap_server.host.clone(),
                    address: SocketAddr::new(imap_server.address.ip(), 4190),
                });
            let sieve = managesieve::audit(
                &sieve_server,
                &user,
                password,
                context,
                accept_invalid_certs,
            );
            let pop3 = async {
                match pop3_endpoint(domain, &imap_server.host) {
                    Some(server) => {
                        pop3_view::audit(&server, &user, password, context, accept_invalid_certs)
                            .await
                    }
                    None => Attempt::skipped(format!(
                        "{} offers no POP3 with TLS (995, or 110 with STLS); the password is never sent in clear",
                        domain.domain
                    )),
                }
            };
            futures::join!(sieve, pop3)
        }
    };
    let commands = trail.lock().map(|t| t.clone()).unwrap_or_default();
    MailboxEvidence {
        user,
        user_domain,
        server: imap.server,
        certificate_verified: imap.certificate_verified,
        login: imap.login,
        folders: imap.folders,
        quota: imap.quota,
        sieve,
        pop3,
        commands,
    }
}

/// The address of `host` from the scan's resolver.
async fn resolve(dns: &Dns, host: &str, port: u16) -> Result<Server, String> {
    match dns.addresses(host).await {
        crate::evidence::Attempt {
            value: Some(addresses),
            ..
        } if !addresses.is_empty() => Ok(Server {
            host: host.to_string(),
            address: SocketAddr::new(addresses[0], port),
        }),
        attempt => Err(format!(
            "{host} has no address: {}",
            attempt
                .reason
                .unwrap_or_else(|| "no A or AAAA record".into())
        )),
    }
}

/// An endpoint that answered, as a server to log in to.
fn server_of(endpoint: &EndpointEvidence) -> Option<Server> {
    let tcp = endpoint.tcp.value()?;
    (tcp.state == PortState::Open).then(|| Server {
        host: endpoint.host.clone(),
        address: tcp.address,
    })
}

/// The first endpoint of `protocol` whose port answered.
fn open(domain: &DomainEvidence, protocol: Protocol) -> Option<&EndpointEvidence> {
    domain.endpoints.iter().find(|e| {
        e.protocol == protocol && e.tcp.value().is_some_and(|t| t.state == PortState::Open)
    })
}

/// POP3 over TLS: 995, or 110 where STLS was offered; the IMAP host first.
fn pop3_endpoint(domain: &DomainEvidence, imap_host: &str) -> Option<Server> {
    let mut candidates: Vec<&EndpointEvidence> = domain
        .endpoints
        .iter()
        .filter(|e| {
            e.protocol == Protocol::Pop3s
                || (e.protocol == Protocol::Pop3
                    && e.dialogue.value().is_some_and(|d| d.starttls_offered))
        })
        .collect();
    candidates.sort_by_key(|e| (e.host != imap_host, e.protocol != Protocol::Pop3s));
    candidates.into_iter().find_map(server_of)
}
