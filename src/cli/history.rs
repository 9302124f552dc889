//! The history's flags: `--history`/`--no-history` of `scan`, `merge` and
//! `report`, and the `mailaudit history` subcommands (clap types only;
//! `command::history` does the work).

use super::{ProfileArg, RuleSource, values};
use crate::Language;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Recording into the history (opt-in).
#[derive(Debug, Clone, Default, Args)]
pub struct RecordArgs {
    /// Record this report in the scan history and judge GOV-001 (audit
    /// overdue) with it. `--history` alone uses the default SQLite file,
    /// $XDG_DATA_HOME/mailaudit/history.sqlite (~/.local/share/… without
    /// XDG_DATA_HOME); `--history=PATH|URL` names another: a file path,
    /// sqlite://PATH or postgres://USER@HOST/DATABASE. Off unless given or
    /// MAILAUDIT_HISTORY is set: the history keeps personal data (mailbox
    /// statistics); see `mailaudit history --help`.
    #[arg(
        long,
        value_name = "PATH|URL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "",
        env = "MAILAUDIT_HISTORY",
        // A PostgreSQL URL may hold a password: --help never shows it.
        hide_env_values = true
    )]
    pub history: Option<String>,
    /// Neither record nor consult the history, even when MAILAUDIT_HISTORY
    /// is set.
    #[arg(long)]
    pub no_history: bool,
}

impl RecordArgs {
    /// The location given, `Some("")` for the default; `None` when off.
    pub fn location(&self) -> Option<&str> {
        if self.no_history {
            None
        } else {
            self.history.as_deref()
        }
    }
}

/// `mailaudit history`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
    /// Only the scans of this domain, with its own grade and counts.
    #[arg(value_name = "DOMAIN", value_parser = values::domain)]
    pub domain: Option<String>,
    #[command(flatten)]
    pub store: StoreArg,
}

/// Which history to read (every `history` subcommand).
#[derive(Debug, Clone, Args)]
pub struct StoreArg {
    /// The history to use: a file path, sqlite://PATH or
    /// postgres://USER@HOST/DATABASE (default: MAILAUDIT_HISTORY, else
    /// $XDG_DATA_HOME/mailaudit/history.sqlite).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "MAILAUDIT_HISTORY",
        hide_env_values = true,
        global = true
    )]
    pub history: Option<String>,
    /// text for people, json for scripts.
    #[arg(long, value_name = "text|json", default_value = "text", global = true)]
    pub format: ListFormat,
}

/// Output of the history commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Compare two scans: findings new, fixed and unchanged from A to B.
    #[command(
        after_help = "A and B are scan ids from `mailaudit history`. Only failed findings are compared, by rule and subject, as with --baseline.\n\nExit codes:\n  0  compared (and, with --fail-on-regression, no regression)\n  1  --fail-on-regression: a finding fixed before A fails again in B, or a grade dropped (overall or for a domain in both scans)\n  2  usage or input error (unknown scan id, unreadable history)"
    )]
    Diff {
        #[arg(value_name = "A")]
        from: i64,
        #[arg(value_name = "B")]
        to: i64,
        /// Exit 1 when a finding that was fixed comes back, or a grade drops.
        #[arg(long)]
        fail_on_regression: bool,
    },
    /// Record saved reports (report.json or the JSON Lines of a batch), offline.
    #[command(
        after_help = "The report is recorded as it is, with its own scan time and findings (not judged again; `mailaudit report FILE --history` records a re-judged copy). A report.json recorded before (same SHA-256) is not recorded twice.\n\nExit codes:\n  0  recorded\n  2  usage or input error (unreadable or invalid file, unreadable history)"
    )]
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the report.json of a scan (by id) or by its SHA-256, byte for byte.
    #[command(
        after_help = "The SHA-256 is the one of the report.json attached to the PDF report (PDF/A-3b), so a PDF's data can be found in the history."
    )]
    Show {
        #[arg(value_name = "ID|SHA256")]
        scan: String,
    },
    /// Judge GOV-001 now for every domain of the profile and the history:
    /// which audits are overdue.
    #[command(
        after_help = "The domains are those of the profile's [audit] domains and every domain in the history. Each is judged by GOV-001 as of now on the history alone: failed when its last scan is older than [audit] interval or it was never scanned; inconclusive without an interval. For cron or a CI schedule that reminds before an audit is missed.\n\nExamples:\n  mailaudit history check --profile mailaudit.toml\n  mailaudit history check --profile mailaudit.toml --format json | jq '.[] | select(.status == \"fail\") | .domain'\n\nExit codes:\n  0  no audit overdue\n  1  an audit is overdue or a domain of the profile was never scanned\n  2  usage or input error"
    )]
    Check {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        rule_source: RuleSource,
        /// Language of the verdicts.
        #[arg(long, value_name = "de|en", default_value = "en")]
        lang: Language,
    },
    /// Forget scans older than a duration, with their findings and evidence.
    #[command(
        after_help = "Mailbox statistics in the history are personal data (Art. 5(1)(e) DSGVO: keep them no longer than needed). Examples:\n  mailaudit history prune --older-than 2y\n  mailaudit history prune --older-than 400d"
    )]
    Prune {
        /// Days (400d), weeks (12w) or years (2y, 365 days each).
        #[arg(long, value_name = "DURATION", value_parser = values::age)]
        older_than: chrono::Duration,
    },
}

/// The after-help of `mailaudit history`.
pub const HISTORY_HELP: &str = "Lists the scans in the history (newest first) with their grade and counts; with DOMAIN, that domain's scans with its own grade and counts.\n\nRecording is opt-in: `mailaudit scan … --history` (or MAILAUDIT_HISTORY) records each report; `merge` and `report` take the flag too. The store is a SQLite file created with mode 600 ($XDG_DATA_HOME/mailaudit/history.sqlite by default) or a PostgreSQL database shared by a team or by the shards of a batch. It holds the evidence, including mailbox statistics, which are personal data: prune what you no longer need.\n\nExamples:\n  mailaudit scan example.org --history --profile mailaudit.toml\n      scans, records the report, and judges GOV-001 by the earlier scans\n  mailaudit history example.org\n  mailaudit history diff 12 15 --fail-on-regression\n  mailaudit history check --profile mailaudit.toml\n      which domains' audits are overdue (GOV-001 as of now)\n  mailaudit history import old/report.json --history=postgres://audit@db/mailaudit\n  mailaudit history show 3f2a…e1 > report.json\n  mailaudit history prune --older-than 2y\n\nExit codes:\n  0  done\n  1  history diff --fail-on-regression found a regression; history check found an overdue audit\n  2  usage or input error (bad location, unknown scan id, unreadable file)";
