//! The IMAP part of the mailbox audit, over async-imap on the read-only
//! guard ([`super::guard`]): one login (AUTHENTICATE PLAIN, RFC 4616), then
//! NAMESPACE ([`super::namespace`]), LIST, STATUS (UNSEEN) and EXAMINE per
//! folder, the counts by year ([`super::folder_counts`]: UID SORT or
//! UID SEARCH, and UID FETCH of INTERNALDATE for a few messages only),
//! the classes of the messages ([`super::classes`]: metadata only, with
//! `BODY.PEEK`), MYRIGHTS and GETACL (RFC 4314), GETQUOTAROOT (RFC 9208),
//! LOGOUT.

use super::MailboxOptions;
use super::classes;
use super::folder_counts;
use super::folders;
use super::guard::{ReadOnlyGuard, Trail};
use super::imap_session::{Plan, Session, timed};
use super::namespace;
use super::scope::Server;
use super::secure::{self, Start};
use crate::credentials::Password;
use crate::evidence::{
    AclEntry, Attempt, ClassFileUsed, FolderEvidence, ImapNamespaces, MailboxLogin, QuotaResource,
};
use crate::probe::context::ProbeContext;
use async_imap::imap_proto::Response;
use async_imap::types::{NameAttribute, QuotaResourceName};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::Duration;
use zeroize::Zeroizing;

/// Most folders audited.
const MAX_FOLDERS: usize = 2000;

/// What the IMAP session found.
pub struct ImapFindings {
    pub server: String,
    pub certificate_verified: bool,
    pub login: Attempt<MailboxLogin>,
    pub namespaces: Attempt<ImapNamespaces>,
    pub folders: Attempt<Vec<FolderEvidence>>,
    pub quota: Attempt<Vec<QuotaResource>>,
    /// The class file the messages were sorted by, when any was.
    pub class_file: Option<ClassFileUsed>,
}

/// Who logs in.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    /// The mailbox's user with its own password.
    User,
    /// An admin or master user on the user's behalf: SASL PLAIN with the
    /// user as authorization identity (RFC 4616 §2).
    Admin(&'a str),
}

/// Runs the audit. Every failure is an attempt with a reason.
pub async fn audit(
    target: &Server,
    user: &str,
    identity: Identity<'_>,
    password: &Password,
    context: &ProbeContext,
    options: &MailboxOptions,
    trail: Trail,
) -> ImapFindings {
    let accept_invalid = options.accept_invalid_certs;
    let (host, port) = (target.host(), target.address().port());
    let start = if target.implicit_tls() {
        Start::Implicit
    } else {
        Start::ImapStarttls
    };
    let server = match start {
        Start::Implicit => format!("imaps://{host}:{port}"),
        _ => format!("imap://{host}:{port}"),
    };
    let failed = |reason: String| ImapFindings {
        server: server.clone(),
        certificate_verified: false,
        login: Attempt::failed(reason.clone()),
        namespaces: Attempt::skipped(format!("no login: {reason}")),
        folders: Attempt::skipped(format!("no login: {reason}")),
        quota: Attempt::skipped(format!("no login: {reason}")),
        class_file: None,
    };
    let secured = match secure::connect(target, start, context, accept_invalid).await {
        Ok(secured) => secured,
        Err(reason) => return failed(reason),
    };
    let verified = secured.verified;
    let step = context.step_timeout;
    let mut client = async_imap::Client::new(ReadOnlyGuard::new(secured.stream, trail));
    if start == Start::Implicit {
        match timed(step, client.read_response()).await {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) => return failed("the server closed before its greeting".into()),
            Ok(Err(error)) => return failed(format!("reading the greeting: {error}")),
            Err(reason) => return failed(reason),
        }
    }
    // One attempt only: providers lock accounts after failed logins.
    let plain = match identity {
        Identity::User => Plain {
            authorization: None,
            user: user.to_string(),
            password: password.clone(),
        },
        Identity::Admin(admin) => Plain {
            authorization: Some(user.to_string()),
            user: admin.to_string(),
            password: password.clone(),
        },
    };
    let mut session = match timed(step, client.authenticate("PLAIN", plain)).await {
        Ok(Ok(session)) => session,
        Ok(Err((error, _))) => {
            return failed(match identity {
                Identity::User => format!("login refused: {}", login_error(&error)),
                Identity::Admin(admin) => format!(
                    "the admin {admin} may not open the mailbox {user} (it does not exist, or the authorization identity was refused): {}",
                    login_error(&error)
                ),
            });
        }
        Err(reason) => return failed(reason),
    };
    let mut findings = ImapFindings {
        server: server.clone(),
        certificate_verified: verified,
        login: Attempt::failed("not reached"),
        namespaces: Attempt::failed("not reached"),
        folders: Attempt::failed("not reached"),
        quota: Attempt::failed("not reached"),
        class_file: None,
    };
    let capabilities: Vec<String> = match timed(step, session.capabilities()).await {
        Ok(Ok(caps)) => {
            let mut list: Vec<String> = caps
                .iter()
                .map(|c| match c {
                    async_imap::types::Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                    async_imap::types::Capability::Auth(s) => format!("AUTH={s}"),
                    async_imap::types::Capability::Atom(s) => s.to_string(),
                })
                .collect();
            list.sort();
            list
        }
        _ => Vec::new(),
    };
    let has = |name: &str| capabilities.iter().any(|c| c.eq_ignore_ascii_case(name));
    let mut server_id = BTreeMap::new();
    if has("ID")
        && let Ok(Ok(Some(id))) = timed(
            step,
            session.id([
                ("name", Some("mailaudit")),
                ("version", Some(env!("CARGO_PKG_VERSION"))),
            ]),
        )
        .await
    {
        server_id = id.into_iter().collect();
    }
    let acl = has("ACL");
    // Before LIST, with nothing else outstanding: the answer is read from
    // under the session (see `namespace`). IMAP4rev2 includes NAMESPACE
    // (RFC 9051 §6.3.10) even where the server does not list it apart.
    findings.namespaces = if has("NAMESPACE") || has("IMAP4rev2") {
        namespace::query(&mut session, step).await
    } else {
        Attempt::skipped("the server announces neither NAMESPACE (RFC 2342) nor IMAP4rev2")
    };
    findings.login = Attempt::completed(MailboxLogin {
        capabilities: capabilities.clone(),
        server_id,
    });
    let plan = Plan {
        step,
        acl,
        now: context.scan_time,
        show_messages: options.show_messages,
        sort: has("SORT"),
        namespaces: findings.namespaces.value().cloned(),
        classes: options
            .classes
            .clone()
            .or_else(|| classes::default_class_file().map(std::sync::Arc::new)),
        deep_invoice_check: options.deep_invoice_check,
    };
    findings.folders = match list_folders(&mut session, &plan).await {
        Ok(folders) => {
            if folders.iter().any(|f| !f.class_reasons.is_empty()) {
                findings.class_file = plan.classes.as_deref().map(classes::used);
            }
            Attempt::completed(folders)
        }
        Err(reason) => Attempt::failed(reason),
    };
    findings.quota = if has("QUOTA") {
        match timed(step, session.get_quota_root("INBOX")).await {
            Ok(Ok((_, quotas))) => Attempt::completed(
                quotas
                    .into_iter()
                    .flat_map(|quota| {
                        let root = quota.root_name.clone();
                        quota.resources.into_iter().map(move |r| QuotaResource {
                            root: root.clone(),
                            resource: match &r.name {
                                QuotaResourceName::Storage => "STORAGE".to_string(),
                                QuotaResourceName::Message => "MESSAGE".to_string(),
                                QuotaResourceName::Atom(name) => name.to_ascii_uppercase(),
                            },
                            usage: r.usage,
                            limit: r.limit,
                            percent: if r.limit == 0 {
                                0.0
                            } else {
                                (r.usage as f64 * 1000.0 / r.limit as f64).round() / 10.0
                            },
                        })
                    })
                    .collect(),
            ),
            Ok(Err(error)) => Attempt::failed(format!("GETQUOTAROOT INBOX: {error}")),
            Err(reason) => Attempt::failed(reason),
        }
    } else {
        Attempt::skipped("the server does not announce QUOTA (RFC 9208)")
    };
    let _ = timed(step, session.logout()).await;
    findings
}

/// SASL PLAIN (RFC 4616): authorization identity (empty for the user
/// itself), NUL, login name, NUL, password; wiped after use.
struct Plain {
    authorization: Option<String>,
    user: String,
    password: Password,
}

impl async_imap::Authenticator for Plain {
    type Response = Zeroizing<Vec<u8>>;

    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        let mut response = Zeroizing::new(Vec::new());
        if let Some(authorization) = &self.authorization {
            response.extend_from_slice(authorization.as_bytes());
        }
        response.push(0);
        response.extend_from_slice(self.user.as_bytes());
        response.push(0);
        response.extend_from_slice(self.password.expose().as_bytes());
        response
    }
}

/// The server's words without anything the client sent.
fn login_error(error: &async_imap::error::Error) -> String {
    match error {
        async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
            server_words(text)
        }
        other => other.to_string(),
    }
}

/// async-imap writes a NO's text as `code: None, info: Some("…")`; the
/// quoted part is what the server said.
fn server_words(text: &str) -> String {
    text.split_once("info: Some(\"")
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map(|(words, _)| words.replace("\\\"", "\""))
        .unwrap_or_else(|| text.to_string())
}

async fn list_folders(session: &mut Session, plan: &Plan) -> Result<Vec<FolderEvidence>, String> {
    let step = plan.step;
    let names = {
        let stream = timed(step, session.list(Some(""), Some("*")))
            .await?
            .map_err(|e| format!("LIST: {e}"))?;
        let collected: Vec<_> = timed(step, stream.take(MAX_FOLDERS).collect::<Vec<_>>()).await?;
        collected
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("LIST: {e}"))?
    };
    let mut folders = Vec::new();
    for name in &names {
        let attributes: Vec<String> = name.attributes().iter().map(attribute_text).collect();
        if name
            .attributes()
            .iter()
            .any(|a| matches!(a, NameAttribute::NoSelect))
            || attributes
                .iter()
                .any(|a| a.eq_ignore_ascii_case("\\NonExistent"))
        {
            continue;
        }
        let (role, role_source) = folders::role(&attributes, name.name(), name.delimiter());
        // STATUS before EXAMINE: RFC 9051 §6.3.11 says STATUS SHOULD NOT
        // be used on the selected mailbox. STATUS never sets \Seen. A
        // refusal leaves the count unknown; it does not stop the audit.
        let unseen = match timed(step, session.status(name.name(), "(UNSEEN)")).await? {
            Ok(status) => status.unseen,
            Err(error) => {
                tracing::debug!(folder = name.name(), %error, "STATUS (UNSEEN) refused");
                None
            }
        };
        let mailbox = timed(step, session.examine(name.name()))
            .await?
            .map_err(|e| format!("EXAMINE {}: {e}", name.name()))?;
        let mut folder = FolderEvidence {
            name: name.name().to_string(),
            display_name: namespace::display_name(name.name(), plan.namespaces.as_ref()),
            role,
            role_source,
            attributes,
            messages: mailbox.exists,
            unseen,
            years: BTreeMap::new(),
            outside_years: 0,
            oldest: None,
            newest: None,
            my_rights: Attempt::skipped("the server does not announce ACL (RFC 4314)"),
            acl: Attempt::skipped("the server does not announce ACL (RFC 4314)"),
            samples: BTreeMap::new(),
            classes: BTreeMap::new(),
            class_reasons: BTreeMap::new(),
            unclassified_undated: 0,
            deep_checked: 0,
        };
        let started = std::time::Instant::now();
        if mailbox.exists > 0 {
            folder_counts::count_years(session, plan, &mut folder).await?;
            if let Some(class_file) = &plan.classes {
                classes::classify_folder(session, plan, class_file, &mut folder).await?;
            }
        }
        tracing::debug!(
            folder = %folder.display_name,
            messages = folder.messages,
            years = folder.years.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "folder counted"
        );
        if plan.acl {
            folder.my_rights = rights(session, step, "MYRIGHTS", name.name())
                .await
                .map(|entries| entries.into_iter().map(|e| e.rights).collect::<String>())
                .into();
            folder.acl = rights(session, step, "GETACL", name.name()).await.into();
        }
        folders.push(folder);
    }
    Ok(folders)
}

fn attribute_text(attribute: &NameAttribute<'_>) -> String {
    match attribute {
        NameAttribute::Extension(text) => text.to_string(),
        other => format!("{other:?}")
            .split('(')
            .next()
            .map(|name| format!("\\{name}"))
            .unwrap_or_default(),
    }
}

/// MYRIGHTS or GETACL on one folder, as raw commands (async-imap has no
/// ACL calls; imap-proto parses the answers).
async fn rights(
    session: &mut Session,
    step: Duration,
    command: &str,
    folder: &str,
) -> Result<Vec<AclEntry>, String> {
    let quoted = format!("\"{}\"", folder.replace('\\', "\\\\").replace('"', "\\\""));
    let id = timed(step, session.run_command(format!("{command} {quoted}")))
        .await?
        .map_err(|e| format!("{command}: {e}"))?;
    let mut entries = Vec::new();
    for _ in 0..10_000 {
        let response = timed(step, session.read_response())
            .await?
            .map_err(|e| format!("{command}: {e}"))?
            .ok_or_else(|| format!("{command}: the server closed the connection"))?;
        match response.parsed() {
            Response::MyRights(my) => entries.push(AclEntry {
                identifier: "$me".into(),
                rights: my.rights.iter().map(|r| char::from(*r)).collect(),
            }),
            Response::Acl(acl) => entries.extend(acl.acls.iter().map(|e| AclEntry {
                identifier: e.identifier.to_string(),
                rights: e.rights.iter().map(|r| char::from(*r)).collect(),
            })),
            Response::Done {
                tag,
                status,
                outcome,
            } if *tag == id => {
                return match status {
                    async_imap::imap_proto::Status::Ok => Ok(entries),
                    other => Err(format!(
                        "{command} {folder}: {other:?} {}",
                        outcome.information.as_deref().unwrap_or("")
                    )),
                };
            }
            _ => {}
        }
    }
    Err(format!("{command}: no end to the answer"))
}

#[cfg(test)]
mod tests {
    use super::server_words;

    #[test]
    fn a_refusal_is_given_in_the_servers_words() {
        assert_eq!(
            server_words(r#"code: None, info: Some("[AUTHORIZATIONFAILED] Authorization failed")"#),
            "[AUTHORIZATIONFAILED] Authorization failed"
        );
        assert_eq!(server_words("plain words"), "plain words");
    }
}
