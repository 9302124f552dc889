//! Evidence of the read-only mailbox audit (`--mailbox`): folders with their
//! roles, message counts by year, rights, ACLs, quota, Sieve redirects and
//! the POP3 view of the same mailbox. No password, subject or address is
//! recorded unless `--show-messages` asks for the sample of past-deadline
//! messages.

use super::Attempt;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One audited mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MailboxEvidence {
    /// The login name (never the password).
    pub user: String,
    /// The domain part of the login name, lower case (empty without one).
    pub user_domain: String,
    /// The IMAP server used: `imaps://host:993` or `imap://host:143` (STARTTLS).
    pub server: String,
    /// Whether the server's certificate was verified before the password
    /// was sent (`--accept-invalid-certs` allows an unverified one).
    pub certificate_verified: bool,
    /// Login and capabilities after login.
    pub login: Attempt<MailboxLogin>,
    /// The server's namespaces (NAMESPACE, RFC 2342; part of IMAP4rev2,
    /// RFC 9051 §6.3.10): the personal prefix decides the folders' display
    /// names. Evidence from before 1.3 reads as skipped.
    #[serde(default = "namespaces_not_recorded")]
    pub namespaces: Attempt<ImapNamespaces>,
    /// Every selectable folder.
    pub folders: Attempt<Vec<FolderEvidence>>,
    /// GETQUOTAROOT on INBOX (RFC 9208).
    pub quota: Attempt<Vec<QuotaResource>>,
    /// ManageSieve scripts (RFC 5804) with their redirects.
    pub sieve: Attempt<SieveEvidence>,
    /// STAT and UIDL over POP3: what a POP3 client would take away.
    pub pop3: Attempt<Pop3View>,
    /// The IMAP commands sent, in order, without arguments: the proof that
    /// the audit used only read-only commands.
    pub commands: Vec<String>,
    /// The class file the folders' messages were classified under (issue
    /// 12). Absent when no message was classified, and in evidence from
    /// before 1.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_file: Option<ClassFileUsed>,
}

/// Which class file sorted the messages: enough to judge the counts again
/// under the same file, or to see that a later file differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClassFileUsed {
    /// The file's name (the embedded default is
    /// `rules/classes/mail-classes.toml`).
    pub file: String,
    pub edition: String,
    /// The date of the legal state the file describes.
    pub legal_snapshot: chrono::NaiveDate,
    /// SHA-256 of the file's text, hex.
    pub sha256: String,
}

fn namespaces_not_recorded() -> Attempt<ImapNamespaces> {
    Attempt::skipped("the evidence holds no NAMESPACE answer (recorded by an older version)")
}

/// The three kinds of namespace a server announces (RFC 2342): the
/// user's own folders, other users' folders and shared folders. Each list
/// is empty where the server sent NIL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImapNamespaces {
    pub personal: Vec<ImapNamespace>,
    pub other_users: Vec<ImapNamespace>,
    pub shared: Vec<ImapNamespace>,
}

/// One namespace: a prefix and its hierarchy separator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImapNamespace {
    /// The prefix as sent (modified UTF-7): `INBOX.` on Cyrus, empty on
    /// Dovecot's default personal namespace.
    pub prefix: String,
    /// The hierarchy separator (`.` or `/`); absent for NIL, a flat
    /// namespace.
    pub separator: Option<String>,
}

/// What the server said after login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MailboxLogin {
    pub capabilities: Vec<String>,
    /// The server's ID response (RFC 2971), if it sent one.
    pub server_id: BTreeMap<String, String>,
}

/// The role of a folder (RFC 6154 special use, or a name heuristic).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FolderRole {
    Inbox,
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
    Other,
}

/// Where a folder's role came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleSource {
    /// The server's special-use attribute (RFC 6154).
    SpecialUse,
    /// The folder's name (German and English names).
    Name,
    /// Neither: an ordinary folder.
    None,
}

/// One folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FolderEvidence {
    /// The name as the server sends it (modified UTF-7), with the personal
    /// namespace prefix and the server's separator (`INBOX.Archive.2015`).
    pub name: String,
    /// The readable name: modified UTF-7 decoded and, where the server
    /// announced NAMESPACE, without the personal prefix and with `/` between
    /// levels (`Archive/2015`). Folders of other users' and shared
    /// namespaces keep their full name.
    pub display_name: String,
    pub role: FolderRole,
    pub role_source: RoleSource,
    /// LIST attributes as sent (`\Sent`, `\HasNoChildren`, …).
    pub attributes: Vec<String>,
    /// EXISTS from EXAMINE.
    pub messages: u32,
    /// Messages without `\Seen`, from STATUS (UNSEEN) (RFC 9051 §6.3.11).
    /// Absent when the server did not answer it, and in evidence from
    /// before 1.3.
    #[serde(default)]
    pub unseen: Option<u32>,
    /// Messages by year of INTERNALDATE (UID SEARCH SINCE/BEFORE per year).
    pub years: BTreeMap<i32, u32>,
    /// Messages dated before the first year searched or in the future
    /// (counted, never dated).
    pub outside_years: u32,
    pub oldest: Option<DateTime<Utc>>,
    pub newest: Option<DateTime<Utc>>,
    /// MYRIGHTS (RFC 4314): the audited user's own rights.
    pub my_rights: Attempt<String>,
    /// GETACL (RFC 4314): every identifier's rights.
    pub acl: Attempt<Vec<AclEntry>>,
    /// Only with `--show-messages`: the first messages of each year (date,
    /// sender, subject from ENVELOPE), so a reviewer can see what a count
    /// stands for. Empty by default (data minimisation).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<i32, Vec<MessageSample>>,
    /// Messages by year of INTERNALDATE and class id of the class file
    /// (see [`MailboxEvidence::class_file`]), from metadata only
    /// (BODYSTRUCTURE and a few header fields, never a body). Empty when
    /// nothing was classified.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<i32, BTreeMap<String, u32>>,
    /// Why messages got their class, counted by reason kind (`matched`,
    /// `no_match`, `malformed_bodystructure`, `unreadable_fetch_response`,
    /// `not_returned`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub class_reasons: BTreeMap<String, u32>,
    /// Messages counted as the fallback class whose year is unknown (the
    /// server's FETCH response could not be read, or it sent none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unclassified_undated: u32,
    /// PDF parts fetched by the opt-in deep check (`--deep-invoice-check`)
    /// to look for an embedded invoice XML; only the embedded files' names
    /// were read, nothing of the content is kept. 0 without it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deep_checked: u32,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// One message, as ENVELOPE gives it (RFC 9051 §7.5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MessageSample {
    pub uid: u32,
    pub date: String,
    pub from: String,
    pub subject: String,
}

/// One ACL entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AclEntry {
    pub identifier: String,
    pub rights: String,
}

/// One quota resource (RFC 9208): usage and limit in the server's unit
/// (KiB for STORAGE, a count for MESSAGE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QuotaResource {
    pub root: String,
    pub resource: String,
    pub usage: u64,
    pub limit: u64,
    /// usage / limit in per cent (0 when the limit is 0).
    pub percent: f64,
}

/// The ManageSieve view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SieveEvidence {
    /// `sieve://host:4190`.
    pub server: String,
    pub scripts: Vec<SieveScript>,
}

/// One Sieve script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SieveScript {
    pub name: String,
    pub active: bool,
    pub size: usize,
    pub redirects: Vec<Redirect>,
    /// Why the script could not be parsed (its redirects are then unknown).
    pub parse_error: Option<String>,
}

/// STAT and UIDL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Pop3View {
    /// `pop3s://host:995` or `pop3://host:110` (STLS).
    pub server: String,
    pub messages: u64,
    pub octets: u64,
    /// Entries in the UIDL listing.
    pub unique_ids: u64,
}

/// A `redirect` action found in a Sieve script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Redirect {
    /// The target address as written.
    pub address: String,
    /// The domain part of the address, lower case (empty when there is none).
    pub domain: String,
    /// `:copy` keeps a copy in the mailbox (RFC 3894).
    pub copy: bool,
    /// Inside an `if`/`elsif`/`else` block: only some mail is redirected.
    pub conditional: bool,
}
