//! `mailaudit serve`: opens the history, checks the address against the
//! token, and runs the dashboard ([`crate::serve`]) until Ctrl-C or
//! SIGTERM.

use super::{CommandError, load_profile};
use crate::cli::ServeArgs;
use crate::history::{Location, Store};
use crate::profile::AuditSchedule;
use crate::serve::{self, Dashboard, auth::Token};

/// The environment variable that holds the dashboard's token.
pub const TOKEN_ENV: &str = "MAILAUDIT_DASHBOARD_TOKEN";

/// The token of `--token-file`, else of MAILAUDIT_DASHBOARD_TOKEN.
fn token(args: &ServeArgs) -> Result<Option<Token>, CommandError> {
    let text = match &args.token_file {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            CommandError::usage_in(format!("cannot read the token file {}", path.display()), e)
        })?),
        None => std::env::var(TOKEN_ENV).ok(),
    };
    Ok(text.map(|t| Token::new(&t)).filter(|t| !t.is_empty()))
}

/// Runs the dashboard; returns 0 when stopped.
pub fn run(args: &ServeArgs, quiet: bool) -> Result<u8, CommandError> {
    let token = token(args)?;
    serve::check_binding(args.listen, token.as_ref()).map_err(CommandError::usage)?;
    let profile = load_profile(&args.profile)?;
    let interval_days = match &args.interval {
        Some(text) => Some(AuditSchedule::days_of(text).ok_or_else(|| {
            CommandError::usage(format!(
                "--interval '{text}' is not monthly, quarterly, half-yearly, yearly or a number of days such as \"45 days\""
            ))
        })?),
        None => profile.as_ref().and_then(|p| p.audit.interval_days),
    };
    let audited_domains = profile
        .as_ref()
        .map(|p| p.audit.domains.clone())
        .unwrap_or_default();
    let location = match args.history.as_deref() {
        None | Some("") => Location::default_for_user(),
        Some(text) => Location::parse(text),
    }
    .map_err(CommandError::usage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CommandError::usage_in("cannot start the async runtime", e))?;
    runtime.block_on(async {
        let store = Store::open(&location).await.map_err(CommandError::usage)?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| {
                CommandError::usage(serve::ServeError::Bind {
                    address: args.listen,
                    error,
                })
            })?;
        let address = listener.local_addr().unwrap_or(args.listen);
        if !quiet {
            eprintln!(
                "Dashboard: http://{address}/ over the history {} (read-only{}; Ctrl-C stops it)",
                store.location(),
                if token.is_some() {
                    ", token required"
                } else {
                    ""
                }
            );
        }
        let dashboard = Dashboard {
            store,
            language: args.lang,
            interval_days,
            audited_domains,
            token,
        };
        serve::run(listener, dashboard, stopped())
            .await
            .map_err(|e| CommandError::Failed(Box::new(e)))
    })?;
    Ok(0)
}

/// Completes on Ctrl-C or SIGTERM.
async fn stopped() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
