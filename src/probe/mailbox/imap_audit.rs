//! The IMAP part of the mailbox audit, over async-imap on the read-only
//! guard ([`super::guard`]): one login (AUTHENTICATE PLAIN, RFC 4616), then
//! LIST, EXAMINE, UID SEARCH per year, UID FETCH INTERNALDATE for the oldest
//! and newest message, MYRIGHTS and GETACL (RFC 4314), GETQUOTAROOT
//! (RFC 9208), LOGOUT. Large folders are never fetched whole: one search
//! per calendar year counts them (RFC 9051 §6.4.4, SINCE/BEFORE compare
//! INTERNALDATE's date).

use super::MailboxOptions;
use super::folders;
use super::guard::{ReadOnlyGuard, Trail};
use super::secure::{self, Server, Start};
use super::year_count;
use crate::credentials::Password;
use crate::evidence::{
    AclEntry, Attempt, FolderEvidence, MailboxLogin, MessageSample, QuotaResource,
};
use crate::probe::ProbeContext;
use async_imap::imap_proto::{MailboxDatum, Response};
use async_imap::types::{NameAttribute, QuotaResourceName};
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use zeroize::Zeroizing;

type Session = async_imap::Session<ReadOnlyGuard<TlsStream<TcpStream>>>;

/// The first year searched; older messages count as outside the years.
const FIRST_YEAR: i32 = 1990;
/// Most folders audited.
const MAX_FOLDERS: usize = 2000;
/// Most INTERNALDATEs fetched to find a folder's oldest or newest message.
const MAX_DATE_FETCH: usize = 2000;
/// Messages shown per folder and year with `--show-messages`.
const SAMPLES_PER_YEAR: usize = 3;

/// What the IMAP session found.
pub struct ImapFindings {
    pub server: String,
    pub certificate_verified: bool,
    pub login: Attempt<MailboxLogin>,
    pub folders: Attempt<Vec<FolderEvidence>>,
    pub quota: Attempt<Vec<QuotaResource>>,
}

/// Runs the audit. Every failure is an attempt with a reason.
pub async fn audit(
    target: &Server,
    user: &str,
    password: &Password,
    context: &ProbeContext,
    options: &MailboxOptions,
    trail: Trail,
) -> ImapFindings {
    let accept_invalid = options.accept_invalid_certs;
    let (host, port) = (target.host.as_str(), target.address.port());
    let start = if port == 993 {
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
        folders: Attempt::skipped(format!("no login: {reason}")),
        quota: Attempt::skipped(format!("no login: {reason}")),
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
    let plain = Plain {
        user: user.to_string(),
        password: password.clone(),
    };
    let mut session = match timed(step, client.authenticate("PLAIN", plain)).await {
        Ok(Ok(session)) => session,
        Ok(Err((error, _))) => return failed(format!("login refused: {}", login_error(&error))),
        Err(reason) => return failed(reason),
    };
    let mut findings = ImapFindings {
        server: server.clone(),
        certificate_verified: verified,
        login: Attempt::failed("not reached"),
        folders: Attempt::failed("not reached"),
        quota: Attempt::failed("not reached"),
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
    };
    findings.folders = match list_folders(&mut session, &plan).await {
        Ok(folders) => Attempt::completed(folders),
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

/// SASL PLAIN (RFC 4616): NUL, login name, NUL, password, wiped after use.
struct Plain {
    user: String,
    password: Password,
}

impl async_imap::Authenticator for Plain {
    type Response = Zeroizing<Vec<u8>>;

    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        let mut response = Zeroizing::new(Vec::new());
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
        async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => text.clone(),
        other => other.to_string(),
    }
}

async fn timed<T>(limit: Duration, future: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(limit, future)
        .await
        .map_err(|_| format!("no answer within {limit:?}"))
}

/// How the folders are read.
struct Plan {
    step: Duration,
    acl: bool,
    now: DateTime<Utc>,
    show_messages: bool,
    /// The server announces SORT (RFC 5256): count by arrival order.
    sort: bool,
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
        let mailbox = timed(step, session.examine(name.name()))
            .await?
            .map_err(|e| format!("EXAMINE {}: {e}", name.name()))?;
        let mut folder = FolderEvidence {
            name: name.name().to_string(),
            display_name: folders::decode_mutf7(name.name()),
            role,
            role_source,
            attributes,
            messages: mailbox.exists,
            years: BTreeMap::new(),
            outside_years: 0,
            oldest: None,
            newest: None,
            my_rights: Attempt::skipped("the server does not announce ACL (RFC 4314)"),
            acl: Attempt::skipped("the server does not announce ACL (RFC 4314)"),
            samples: BTreeMap::new(),
        };
        let started = std::time::Instant::now();
        if mailbox.exists > 0 {
            count_years(session, plan, &mut folder).await?;
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

/// One search per year, newest first, until every message is counted.
async fn count_years(
    session: &mut Session,
    plan: &Plan,
    folder: &mut FolderEvidence,
) -> Result<(), String> {
    if plan.sort && count_years_sorted(session, plan, folder).await? {
        return Ok(());
    }
    let (step, this_year) = (plan.step, plan.now.year());
    let mut sampled: BTreeMap<u32, i32> = BTreeMap::new();
    let future = uid_search(session, step, &format!("SINCE 1-Jan-{}", this_year + 1)).await?;
    let mut counted = future.len() as u32;
    folder.outside_years = counted;
    let mut newest_year: Option<(i32, HashSet<u32>)> = None;
    let mut oldest_year: Option<(i32, HashSet<u32>)> = None;
    let mut year = this_year;
    while counted < folder.messages && year >= FIRST_YEAR {
        let uids = uid_search(
            session,
            step,
            &format!("SINCE 1-Jan-{year} BEFORE 1-Jan-{}", year + 1),
        )
        .await?;
        if !uids.is_empty() {
            counted += uids.len() as u32;
            folder.years.insert(year, uids.len() as u32);
            if plan.show_messages {
                let mut first: Vec<u32> = uids.iter().copied().collect();
                first.sort_unstable();
                sampled.extend(
                    first
                        .into_iter()
                        .take(SAMPLES_PER_YEAR)
                        .map(|uid| (uid, year)),
                );
            }
            if newest_year.is_none() {
                newest_year = Some((year, uids.clone()));
            }
            oldest_year = Some((year, uids));
        }
        year -= 1;
    }
    folder.outside_years += folder.messages.saturating_sub(counted);
    if let Some((_, uids)) = oldest_year {
        folder.oldest = extreme_date(session, step, &uids, true).await?;
    }
    if let Some((_, uids)) = newest_year {
        folder.newest = extreme_date(session, step, &uids, false).await?;
    }
    if !sampled.is_empty() {
        folder.samples = samples(session, step, &sampled).await?;
    }
    Ok(())
}

/// Counts by year from the arrival order (see [`year_count`]): one UID
/// SORT, one FETCH of INTERNALDATE for the samples and one for the gaps
/// around year boundaries. False when the answers do not add up (then the
/// per-year searches count instead).
async fn count_years_sorted(
    session: &mut Session,
    plan: &Plan,
    folder: &mut FolderEvidence,
) -> Result<bool, String> {
    let step = plan.step;
    let sorted = uid_sort_arrival(session, step).await?;
    if sorted.len() != folder.messages as usize || sorted.is_empty() {
        return Ok(false);
    }
    let mut dates: HashMap<u32, DateTime<FixedOffset>> = HashMap::new();
    let positions = year_count::sample_positions(sorted.len());
    dates.extend(fetch_dates(session, step, positions.iter().map(|&p| sorted[p])).await?);
    // Years as INTERNALDATE writes them (SEARCH SINCE/BEFORE compare that
    // date, RFC 9051 §6.4.4), not in UTC.
    let year_at = |dates: &HashMap<u32, DateTime<FixedOffset>>, p: usize| {
        dates.get(&sorted[p]).map(|d| d.year())
    };
    let anchors: Vec<(usize, i32)> = positions
        .iter()
        .filter_map(|&p| year_at(&dates, p).map(|y| (p, y)))
        .collect();
    let gaps: Vec<u32> = year_count::gaps_to_fetch(&anchors)
        .into_iter()
        .flatten()
        .map(|p| sorted[p])
        .collect();
    dates.extend(fetch_dates(session, step, gaps.into_iter()).await?);
    let known: HashMap<usize, i32> = (0..sorted.len())
        .filter_map(|p| year_at(&dates, p).map(|y| (p, y)))
        .collect();
    let Some(years) = year_count::years_in_order(sorted.len(), &known) else {
        return Ok(false);
    };
    let this_year = plan.now.year();
    let mut sampled: BTreeMap<u32, i32> = BTreeMap::new();
    for (year, count) in year_count::count(&years) {
        if (FIRST_YEAR..=this_year).contains(&year) {
            folder.years.insert(year, count);
        } else {
            folder.outside_years += count;
        }
    }
    if plan.show_messages {
        let mut taken: HashMap<i32, usize> = HashMap::new();
        for (p, &year) in years.iter().enumerate() {
            let seen = taken.entry(year).or_insert(0);
            if *seen < SAMPLES_PER_YEAR && folder.years.contains_key(&year) {
                *seen += 1;
                sampled.insert(sorted[p], year);
            }
        }
    }
    let utc = |uid: &u32| dates.get(uid).map(|d| d.with_timezone(&Utc));
    folder.oldest = sorted.first().and_then(utc);
    folder.newest = sorted.last().and_then(utc);
    if !sampled.is_empty() {
        folder.samples = samples(session, step, &sampled).await?;
    }
    Ok(true)
}

/// `UID SORT (ARRIVAL) UTF-8 ALL` (RFC 5256): every UID, oldest first.
async fn uid_sort_arrival(session: &mut Session, step: Duration) -> Result<Vec<u32>, String> {
    let id = timed(step, session.run_command("UID SORT (ARRIVAL) UTF-8 ALL"))
        .await?
        .map_err(|e| format!("UID SORT: {e}"))?;
    let mut uids = Vec::new();
    loop {
        let response = timed(step, session.read_response())
            .await?
            .map_err(|e| format!("UID SORT: {e}"))?
            .ok_or("UID SORT: the server closed the connection")?;
        match response.parsed() {
            Response::MailboxData(MailboxDatum::Sort(found)) => uids.extend_from_slice(found),
            Response::Done { tag, status, .. } if *tag == id => {
                return match status {
                    async_imap::imap_proto::Status::Ok => Ok(uids),
                    other => Err(format!("UID SORT: {other:?}")),
                };
            }
            _ => {}
        }
    }
}

/// INTERNALDATE of `uids` in one FETCH.
async fn fetch_dates(
    session: &mut Session,
    step: Duration,
    uids: impl Iterator<Item = u32>,
) -> Result<HashMap<u32, DateTime<FixedOffset>>, String> {
    let set = uids.map(|u| u.to_string()).collect::<Vec<_>>().join(",");
    if set.is_empty() {
        return Ok(HashMap::new());
    }
    let stream = timed(step, session.uid_fetch(&set, "(UID INTERNALDATE)"))
        .await?
        .map_err(|e| format!("UID FETCH INTERNALDATE: {e}"))?;
    let fetched: Vec<_> = timed(step, stream.collect::<Vec<_>>()).await?;
    Ok(fetched
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|f| Some((f.uid?, f.internal_date()?)))
        .collect())
}

/// ENVELOPE of the sampled messages (`--show-messages`), by year.
async fn samples(
    session: &mut Session,
    step: Duration,
    sampled: &BTreeMap<u32, i32>,
) -> Result<BTreeMap<i32, Vec<MessageSample>>, String> {
    let set = sampled
        .keys()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let stream = timed(step, session.uid_fetch(&set, "(UID ENVELOPE)"))
        .await?
        .map_err(|e| format!("UID FETCH ENVELOPE: {e}"))?;
    let fetched: Vec<_> = timed(step, stream.collect::<Vec<_>>()).await?;
    let mut by_year: BTreeMap<i32, Vec<MessageSample>> = BTreeMap::new();
    for fetch in fetched.into_iter().filter_map(Result::ok) {
        let (Some(uid), Some(envelope)) = (fetch.uid, fetch.envelope()) else {
            continue;
        };
        let Some(&year) = sampled.get(&uid) else {
            continue;
        };
        let text = |bytes: &Option<std::borrow::Cow<'_, [u8]>>| {
            bytes
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).chars().take(200).collect())
                .unwrap_or_default()
        };
        let from = envelope
            .from
            .as_ref()
            .and_then(|list| list.first())
            .map(|a| format!("{}@{}", text(&a.mailbox), text(&a.host)))
            .unwrap_or_default();
        by_year.entry(year).or_default().push(MessageSample {
            uid,
            date: text(&envelope.date),
            from,
            subject: text(&envelope.subject),
        });
    }
    Ok(by_year)
}

async fn uid_search(
    session: &mut Session,
    step: Duration,
    query: &str,
) -> Result<HashSet<u32>, String> {
    timed(step, session.uid_search(query))
        .await?
        .map_err(|e| format!("UID SEARCH {query}: {e}"))
}

/// The oldest or newest INTERNALDATE among `uids` (the lowest or highest
/// UIDs when there are very many: UIDs grow with arrival).
async fn extreme_date(
    session: &mut Session,
    step: Duration,
    uids: &HashSet<u32>,
    oldest: bool,
) -> Result<Option<DateTime<Utc>>, String> {
    let mut sorted: Vec<u32> = uids.iter().copied().collect();
    sorted.sort_unstable();
    if !oldest {
        sorted.reverse();
    }
    sorted.truncate(MAX_DATE_FETCH);
    let set = sorted
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let stream = timed(step, session.uid_fetch(&set, "(UID INTERNALDATE)"))
        .await?
        .map_err(|e| format!("UID FETCH INTERNALDATE: {e}"))?;
    let fetched: Vec<_> = timed(step, stream.collect::<Vec<_>>()).await?;
    let dates = fetched
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|f| f.internal_date())
        .map(|d| d.with_timezone(&Utc));
    Ok(if oldest { dates.min() } else { dates.max() })
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
