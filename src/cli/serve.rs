//! The flags of `mailaudit serve` (clap types only; `command::serve` does
//! the work).

use super::ProfileArg;
use crate::Language;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The after-help of `mailaudit serve`.
pub const SERVE_HELP: &str = "A read-only web dashboard over the scan history: every domain with its latest grade, a trend of its last 20 scans and the days since its last scan (overdue ones highlighted when an audit interval is known); a calendar of the server certificates that expire in the next 60 days; the open findings by age; each scan with its full HTML report and its PDF and JSON downloads; and the diff of two scans. No JavaScript; German and English (?lang=de|en).\n\nIt listens on 127.0.0.1 by default. Any other address makes the dashboard reachable from other machines, so it then refuses to start without a token (16 characters or more) from MAILAUDIT_DASHBOARD_TOKEN or --token-file; browsers ask for it as the password of a login (any user name), scripts send `Authorization: Bearer TOKEN`. Use a TLS-terminating reverse proxy in front of it beyond a trusted network: the history holds personal data (mailbox statistics).\n\nExamples:\n  mailaudit serve --profile mailaudit.toml\n      opens http://127.0.0.1:8470/ on the default history\n  MAILAUDIT_DASHBOARD_TOKEN=$(cat /etc/mailaudit/token) mailaudit serve --listen 0.0.0.0:8470 --history=postgres://audit@db/mailaudit --lang en\n      a team's dashboard over the shared PostgreSQL history\n\nExit codes:\n  0  stopped with Ctrl-C (or SIGTERM)\n  2  usage or input error (bad address, a non-loopback address without a token, unreadable history or profile)";

/// `mailaudit serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The history to show: a file path, sqlite://PATH or
    /// postgres://USER@HOST/DATABASE (default: MAILAUDIT_HISTORY, else
    /// $XDG_DATA_HOME/mailaudit/history.sqlite).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "MAILAUDIT_HISTORY",
        hide_env_values = true
    )]
    pub history: Option<String>,
    /// Address and port to listen on. Loopback needs no token; any other
    /// address does.
    #[arg(long, value_name = "ADDRESS:PORT", default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// A file holding the token requests must carry (instead of
    /// MAILAUDIT_DASHBOARD_TOKEN). Never give the token itself on the
    /// command line.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The audit profile: its [audit] interval marks overdue domains, its
    /// [audit] domains are listed even before their first scan.
    #[command(flatten)]
    pub profile: ProfileArg,
    /// The audit interval, overriding the profile's: monthly, quarterly,
    /// half-yearly, yearly or a number of days ("45 days").
    #[arg(long, value_name = "INTERVAL")]
    pub interval: Option<String>,
    /// Language of pages without ?lang=: de (German) or en (English).
    #[arg(long, value_name = "de|en", default_value = "de")]
    pub lang: Language,
}
