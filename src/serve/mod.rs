//! `mailaudit serve`: the read-only web dashboard over the scan history
//! (issue 13). It sits beside the renderers: it reads the history's read
//! API ([`crate::history::dashboard`], [`crate::history::read`]) and the
//! stored reports, formats them with Tera templates and the report
//! renderers, and decides nothing a report does not already say.
//!
//! - [`auth`]: the token a non-loopback address requires, compared in
//!   constant time;
//! - [`page`]: the page frame (Tera, the de/en texts, the security
//!   headers) and the error page every bad request gets;
//! - [`domains`]: the domains with their latest grade, trend and time
//!   since the last scan, a page at a time;
//! - [`overview`]: the certificate expiry calendar and open findings by
//!   age;
//! - [`scans`]: a domain's scans, a scan with its HTML report and its PDF
//!   and JSON downloads, and the diff of two scans;
//! - [`sparkline`]: a grade trend as inline SVG.
//!
//! There are no write endpoints: every route is GET (and HEAD), other
//! methods get 405.

pub mod auth;
mod domains;
mod overview;
pub mod page;
mod scans;
pub mod sparkline;

use crate::Language;
use crate::history::Store;
use axum::Router;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the dashboard serves, shared by every request.
pub struct Dashboard {
    pub store: Store,
    /// The language of pages without `?lang=`.
    pub language: Language,
    /// The audit interval in days (the profile's `[audit] interval` or
    /// `--interval`): a domain whose last scan is older is overdue. None:
    /// nothing is marked overdue, as GOV-001 is inconclusive then.
    pub interval_days: Option<u32>,
    /// Domains the profile says are audited regularly (`[audit] domains`):
    /// listed even before their first scan.
    pub audited_domains: Vec<String>,
    /// The token every request must carry, if any.
    pub token: Option<auth::Token>,
}

/// Why the dashboard could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{address} is not a loopback address: the dashboard would be reachable from other machines, so it needs a token. Put one in MAILAUDIT_DASHBOARD_TOKEN or a file named by --token-file (at least 16 characters), or bind 127.0.0.1"
    )]
    TokenRequired { address: SocketAddr },
    #[error("the dashboard token must be at least 16 characters long (it has {length})")]
    WeakToken { length: usize },
    #[error("cannot listen on {address}: {error}")]
    Bind {
        address: SocketAddr,
        error: std::io::Error,
    },
    #[error("the dashboard stopped: {0}")]
    Serve(std::io::Error),
}

/// Every route of the dashboard.
pub fn router(dashboard: Arc<Dashboard>) -> Router {
    Router::new()
        .route("/", get(domains::domains))
        .route("/certificates", get(overview::certificates))
        .route("/findings", get(overview::findings))
        .route("/domains/{domain}", get(scans::domain))
        .route("/scans/{id}", get(scans::scan))
        .route("/scans/{id}/report.html", get(scans::report_html))
        .route("/scans/{id}/report.json", get(scans::report_json))
        .route("/scans/{id}/report.pdf", get(scans::report_pdf))
        .route("/diff", get(scans::diff))
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn_with_state(
            dashboard.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::map_response(page::security_headers))
        .with_state(dashboard)
}

/// Checks that `address` may be served with `token`.
pub fn check_binding(address: SocketAddr, token: Option<&auth::Token>) -> Result<(), ServeError> {
    if let Some(token) = token
        && token.len() < auth::MIN_TOKEN_LENGTH
    {
        return Err(ServeError::WeakToken {
            length: token.len(),
        });
    }
    if !address.ip().is_loopback() && token.is_none() {
        return Err(ServeError::TokenRequired { address });
    }
    Ok(())
}

/// Serves the dashboard on `listener` until `shutdown` completes.
pub async fn run(
    listener: tokio::net::TcpListener,
    dashboard: Dashboard,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, router(Arc::new(dashboard)))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Serve)
}
