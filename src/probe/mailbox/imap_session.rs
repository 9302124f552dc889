//! What the parts of the IMAP audit share: the [`Session`] type (async-imap
//! over the read-only guard over TLS), the [`Plan`] of how folders are read,
//! and [`timed`], the step limit around every command. The audit flow
//! (`imap_audit`), the NAMESPACE reader and the year counts import these
//! from here, so none of them imports another's flow.

use super::guard::ReadOnlyGuard;
use crate::evidence::ImapNamespaces;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The logged-in IMAP session; every byte goes through [`ReadOnlyGuard`].
pub(super) type Session = async_imap::Session<ReadOnlyGuard<TlsStream<TcpStream>>>;

/// One IMAP step under `limit`; the timeout becomes the reason.
pub(super) async fn timed<T>(
    limit: Duration,
    future: impl Future<Output = T>,
) -> Result<T, String> {
    tokio::time::timeout(limit, future)
        .await
        .map_err(|_| format!("no answer within {limit:?}"))
}

/// How the folders are read.
pub(super) struct Plan {
    pub(super) step: Duration,
    /// The server announces ACL (RFC 4314): ask MYRIGHTS and GETACL.
    pub(super) acl: bool,
    pub(super) now: DateTime<Utc>,
    pub(super) show_messages: bool,
    /// The server announces SORT (RFC 5256): count by arrival order.
    pub(super) sort: bool,
    /// The server's namespaces, for the folders' display names.
    pub(super) namespaces: Option<ImapNamespaces>,
    /// The class file to sort messages by (issue 12); `None` skips it.
    pub(super) classes: Option<std::sync::Arc<crate::mail_class::ClassFile>>,
    /// Fetch candidate PDF parts for embedded invoice files.
    pub(super) deep_invoice_check: bool,
}
