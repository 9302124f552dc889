//! The read-only mailbox audit (`--mailbox`, issue 5): with the mailbox's
//! credentials, the IMAP view (folders, ages, rights, quota), the
//! ManageSieve view (redirects) and the POP3 view (what a POP3 client would
//! take away). Runs after the domain's endpoints were probed, on the
//! servers the domain announced, or only on the one the user named
//! (`imaps://USER@HOST`; [`scope`] keeps the password there).
//!
//! Read-only by construction: the IMAP client writes through
//! [`guard::ReadOnlyGuard`], ManageSieve sends only LISTSCRIPTS and
//! GETSCRIPT, POP3 only STAT and UIDL. Passwords go only over TLS.

mod classes;
mod deep_check;
mod fetch_stream;
mod folder_counts;
pub mod folders;
pub mod guard;
mod imap_audit;
mod imap_session;
pub(crate) mod managesieve;
mod namespace;
pub(crate) mod pop3_view;
mod scope;
mod secure;
pub mod sieve_script;
mod year_count;

use crate::credentials::{ImapTls, MailboxLogin};
use crate::evidence::{Attempt, DomainEvidence, EndpointEvidence, MailboxEvidence, PortState};
use crate::probe::context::{ProbeContext, Progress};
use crate::probe::dns::Dns;
use crate::target::Protocol;
pub use scope::{PasswordScope, Server};
use std::net::SocketAddr;

/// How mailboxes are audited.
#[derive(Debug, Clone, Default)]
pub struct MailboxOptions {
    /// Log in over TLS whose certificate does not verify.
    pub accept_invalid_certs: bool,
    /// Record date, sender and subject of the first messages of each year.
    pub show_messages: bool,
    /// Most mailbox audits at once on one IMAP server (0 counts as 1).
    pub sessions_per_server: usize,
    /// The class file that sorts the messages (`--class-file`, or that of
    /// `--rules DIR`); `None`: the embedded one.
    pub classes: Option<std::sync::Arc<crate::mail_class::ClassFile>>,
    /// Fetch the PDF parts that could embed an invoice XML
    /// (`--deep-invoice-check`).
    pub deep_invoice_check: bool,
}

/// Audits one mailbox. `domain` is the evidence of the scanned domain the
/// mailbox belongs to; its endpoints say where IMAP, Sieve and POP3 are,
/// unless the user named the server, which is then the only one the
/// password goes to ([`PasswordScope`]). `progress` hears which user on
/// which server is tried, before the one login attempt.
pub async fn audit(
    login: &MailboxLogin,
    domain: &DomainEvidence,
    dns: &Dns,
    context: &ProbeContext,
    options: &MailboxOptions,
    progress: &dyn Progress,
) -> MailboxEvidence {
    let accept_invalid_certs = options.accept_invalid_certs;
    let user = login.spec.user.clone();
    let user_domain = login.spec.user_domain().unwrap_or_default();
    let scope = PasswordScope::of(&login.spec, domain);
    let imap = match &login.spec.host {
        Some(host) => {
            let implicit = login.spec.imap_tls() == ImapTls::Implicit;
            match resolve(dns, host, login.spec.imap_port()).await {
                Ok(address) => scope.admit(host, address, implicit),
                Err(reason) => Err(reason),
            }
        }
        None => open(domain, Protocol::Imaps)
            .or_else(|| open(domain, Protocol::Imap))
            .ok_or_else(|| {
                format!(
                    "{} announces no open IMAP port (993 or 143); name the server with --mailbox imaps://USER@HOST",
                    domain.domain
                )
            })
            .and_then(|endpoint| server_of(&scope, endpoint)),
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
                namespaces: Attempt::skipped(reason.clone()),
                folders: Attempt::skipped(reason.clone()),
                quota: Attempt::skipped(reason.clone()),
                sieve: Attempt::skipped(reason.clone()),
                pop3: Attempt::skipped(reason),
                commands: Vec::new(),
                class_file: None,
            };
        }
    };
    progress.mailbox_login(
        &user,
        &format!(
            "{}://{}:{} ({})",
            if imap_server.implicit_tls() {
                "imaps"
            } else {
                "imap"
            },
            imap_server.host(),
            imap_server.address().port(),
            imap_server.address().ip()
        ),
    );
    let trail = guard::Trail::default();
    let password = &login.password;
    // One session per mailbox; at most `sessions_per_server` at once here.
    let sessions = context
        .mailbox_sessions
        .of(imap_server.address().ip(), options.sessions_per_server);
    let permit = sessions.acquire().await;
    let identity = match &login.admin {
        Some(admin) => imap_audit::Identity::Admin(admin),
        None => imap_audit::Identity::User,
    };
    let imap = imap_audit::audit(
        &imap_server,
        &user,
        identity,
        password,
        context,
        options,
        trail.clone(),
    )
    .await;
    // The other views only after IMAP accepted the credentials: a wrong
    // password is tried once, not three times. An admin's password is not
    // the user's: ManageSieve and POP3 would need their own proxy logins.
    let (sieve, pop3) = match (imap.login.is_completed(), &login.admin) {
        (false, _) => {
            let reason = "the IMAP login did not succeed; the password is not tried again";
            (Attempt::skipped(reason), Attempt::skipped(reason))
        }
        (true, Some(admin)) => {
            let reason = format!(
                "opened with the admin identity {admin}: ManageSieve and POP3 are audited with the mailbox's own password only"
            );
            (Attempt::skipped(reason.clone()), Attempt::skipped(reason))
        }
        (true, None) => {
            let sieve = async {
                match sieve_server(domain, &scope, &imap_server) {
                    Ok(server) => {
                        managesieve::audit(&server, &user, password, context, accept_invalid_certs)
                            .await
                    }
                    Err(reason) => Attempt::skipped(reason),
                }
            };
            let pop3 = async {
                match pop3_server(domain, &scope, &imap_server) {
                    Some(Ok(server)) => {
                        pop3_view::audit(&server, &user, password, context, accept_invalid_certs)
                            .await
                    }
                    Some(Err(reason)) => Attempt::skipped(reason),
                    None => Attempt::skipped(format!(
                        "{} offers no POP3 with TLS (995, or 110 with STLS); the password is never sent in clear",
                        domain.domain
                    )),
                }
            };
            futures::join!(sieve, pop3)
        }
    };
    drop(permit);
    let commands = trail.lock().map(|t| t.clone()).unwrap_or_default();
    MailboxEvidence {
        user,
        user_domain,
        server: imap.server,
        certificate_verified: imap.certificate_verified,
        login: imap.login,
        namespaces: imap.namespaces,
        folders: imap.folders,
        quota: imap.quota,
        sieve,
        pop3,
        commands,
        class_file: imap.class_file,
    }
}

/// The first address of `host` from the scan's resolver.
async fn resolve(dns: &Dns, host: &str, port: u16) -> Result<SocketAddr, String> {
    // A server named by its address (imaps://USER@192.0.2.7) needs no DNS.
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = literal.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(address, port));
    }
    match dns.addresses(host).await {
        crate::evidence::Attempt {
            value: Some(addresses),
            ..
        } if !addresses.is_empty() => Ok(SocketAddr::new(addresses[0], port)),
        attempt => Err(format!(
            "{host} has no address: {}",
            attempt
                .reason
                .unwrap_or_else(|| "no A or AAAA record".into())
        )),
    }
}

/// An endpoint that answered, as a server to log in to, if the scope
/// admits its host.
fn server_of(scope: &PasswordScope, endpoint: &EndpointEvidence) -> Result<Server, String> {
    let tcp = endpoint
        .tcp
        .value()
        .filter(|tcp| tcp.state == PortState::Open)
        .ok_or_else(|| format!("{} did not answer", endpoint.subject))?;
    let implicit = matches!(endpoint.protocol, Protocol::Imaps | Protocol::Pop3s);
    scope.admit(&endpoint.host, tcp.address, implicit)
}

/// The first endpoint of `protocol` whose port answered.
fn open(domain: &DomainEvidence, protocol: Protocol) -> Option<&EndpointEvidence> {
    domain.endpoints.iter().find(|e| {
        e.protocol == protocol && e.tcp.value().is_some_and(|t| t.state == PortState::Open)
    })
}

/// ManageSieve on the IMAP host (RFC 5804 §1.8: port 4190), as announced,
/// else on 4190 of the IMAP server's address.
fn sieve_server(
    domain: &DomainEvidence,
    scope: &PasswordScope,
    imap: &Server,
) -> Result<Server, String> {
    match domain
        .endpoints
        .iter()
        .find(|e| e.protocol == Protocol::Sieve && e.host.eq_ignore_ascii_case(imap.host()))
    {
        Some(endpoint) => server_of(scope, endpoint),
        None => scope.admit(
            imap.host(),
            SocketAddr::new(imap.address().ip(), 4190),
            false,
        ),
    }
}

/// POP3 over TLS: 995, or 110 where STLS was offered. With a named server,
/// only on that host (its announced POP3 endpoint, else its port 995);
/// otherwise the domain's announced POP3 servers, the IMAP host first.
/// `None` when the domain announces no POP3 with TLS.
fn pop3_server(
    domain: &DomainEvidence,
    scope: &PasswordScope,
    imap: &Server,
) -> Option<Result<Server, String>> {
    let mut candidates: Vec<&EndpointEvidence> = domain
        .endpoints
        .iter()
        .filter(|e| {
            e.protocol == Protocol::Pop3s
                || (e.protocol == Protocol::Pop3
                    && e.dialogue.value().is_some_and(|d| d.starttls_offered))
        })
        .filter(|e| scope.allows(&e.host))
        .collect();
    candidates.sort_by_key(|e| {
        (
            !e.host.eq_ignore_ascii_case(imap.host()),
            e.protocol != Protocol::Pop3s,
        )
    });
    if let Some(server) = candidates
        .into_iter()
        .find_map(|e| server_of(scope, e).ok())
    {
        return Some(Ok(server));
    }
    match scope {
        PasswordScope::Named(_) => {
            Some(scope.admit(imap.host(), SocketAddr::new(imap.address().ip(), 995), true))
        }
        PasswordScope::Announced(_) => None,
    }
}
