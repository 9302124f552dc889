//! The subcommands of the `mailaudit` binary, one function each, from the
//! parsed command line ([`crate::cli`]) to an exit code: `scan` ([`scan`]),
//! `report`, `evaluate` and `merge` ([`offline`]), `rules list` and
//! `rules check` ([`rules`]), `history` ([`history`]), `serve` ([`serve`]). Writing the reports and the summary is
//! [`output`]; the progress bar is [`progress`].
//!
//! Exit codes (also in `mailaudit --help`): 0 no failed finding at or above
//! `--fail-on`, 1 such findings (or a report that cannot be rendered), 2 a
//! usage or input error, 3 a scan that could not run at all, 130 an
//! interrupted batch.

pub mod batch_scan;
pub mod history;
mod history_check;
mod history_diff;
pub mod offline;
pub mod output;
pub mod progress;
pub mod rules;
pub mod scan;
pub mod serve;

use crate::cli::{OutputArgs, ProfileArg, RuleSource};
use crate::profile::AuditProfile;
use crate::report::{Report, offline as saved};
use crate::rules::{self as rule_files, Rule};
use std::error::Error;
use std::path::PathBuf;

/// Exit code 1: failed findings at or above `--fail-on`.
pub const FAILED: u8 = 1;
/// Exit code 2: usage or input error.
pub const USAGE: u8 = 2;
/// Exit code 3: the scan could not run at all.
pub const COULD_NOT_RUN: u8 = 3;
/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// A boxed error of any library module.
pub type Cause = Box<dyn Error + Send + Sync>;

/// Why a command stopped; [`CommandError::exit_code`] maps it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A bad flag or input (exit code 2).
    #[error(transparent)]
    Usage(Cause),
    /// A report that could not be rendered or serialised (exit code 1).
    #[error(transparent)]
    Failed(Cause),
}

/// What a step was doing when its cause failed, e.g. "cannot write to
/// stdout"; shown as "what: cause".
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Context {
    pub what: String,
    #[source]
    pub cause: Cause,
}

impl CommandError {
    /// A usage error from any error or message.
    pub fn usage(cause: impl Into<Cause>) -> CommandError {
        CommandError::Usage(cause.into())
    }

    /// A usage error: `what` failed because of `cause`.
    pub fn usage_in(what: impl Into<String>, cause: impl Into<Cause>) -> CommandError {
        CommandError::Usage(Box::new(Context {
            what: what.into(),
            cause: cause.into(),
        }))
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Usage(_) => USAGE,
            CommandError::Failed(_) => FAILED,
        }
    }

    /// The message with its causes, "what: cause: cause".
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = self.source();
        while let Some(error) = cause {
            text.push_str(": ");
            text.push_str(&error.to_string());
            cause = error.source();
        }
        text
    }
}

/// The exit code of a command that finished, or why it stopped.
pub type Outcome = Result<u8, CommandError>;

/// 1 when `fails`, else 0.
pub fn exit_code(fails: bool) -> u8 {
    if fails { FAILED } else { 0 }
}

/// Logs to stderr: warnings by default, `-v` info, `-vv` debug, `-q` errors
/// only; `RUST_LOG` overrides.
pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        // hickory logs every bogus answer as a warning; the evidence has it.
        (false, 0) => "warn,hickory_net=error,hickory_proto=error,hickory_resolver=error",
        (false, 1) => "mailaudit=info",
        _ => "mailaudit=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
    // Crates that log through `log` are forwarded, except async-imap: its
    // trace output holds every command as sent, AUTHENTICATE's credentials
    // included, and no log level may ever show a password.
    let _ = tracing_log::LogTracer::builder()
        .ignore_crate("async_imap")
        .init();
}

/// The rules in use: the built-in ones (unless `--no-default-rules`) with
/// `--rules DIR` applied.
pub fn load_rules(source: &RuleSource) -> Result<Vec<Rule>, CommandError> {
    let defaults = if source.no_default_rules {
        Vec::new()
    } else {
        rule_files::defaults()
            .map_err(|e| CommandError::usage_in("the built-in rules are broken", e))?
    };
    use crate::rules::tables::{Tables, class_file_error};
    let (rules, tables) = match &source.rules {
        Some(dir) => {
            let merged = rule_files::merge(
                defaults,
                rule_files::from_dir(dir).map_err(CommandError::usage)?,
            );
            // DIR/tables/ (an adapted TR-02102-2 or country table) and
            // DIR/classes/ judge the built-in rules too, also when DIR
            // holds no rule file.
            let (tables, _) = Tables::with_overrides(dir).map_err(CommandError::usage)?;
            (merged, tables)
        }
        None => (
            defaults,
            Tables::embedded()
                .map_err(|e| CommandError::usage_in("the built-in tables are broken", e))?,
        ),
    };
    let tables = match &source.class_file {
        Some(path) => Tables {
            classes: crate::mail_class::ClassFile::load(path)
                .map_err(|e| CommandError::usage(class_file_error(e)))?,
            ..tables
        },
        None => tables,
    };
    Ok(rule_files::use_tables(rules, tables))
}

/// Reads `--profile`, if given.
pub fn load_profile(arg: &ProfileArg) -> Result<Option<AuditProfile>, CommandError> {
    arg.profile
        .as_deref()
        .map(AuditProfile::load)
        .transpose()
        .map_err(CommandError::usage)
}

/// The `--baseline` report, read before any work so a bad file fails at once.
pub fn read_baseline(output: &OutputArgs) -> Result<Option<Report>, CommandError> {
    output
        .baseline
        .as_deref()
        .map(saved::read)
        .transpose()
        .map_err(CommandError::usage)
}

/// Creates the output directory; `None` for `--out -`.
pub fn output_dir(out: &str) -> Result<Option<PathBuf>, CommandError> {
    if out == "-" {
        return Ok(None);
    }
    let dir = PathBuf::from(out);
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::usage_in(
            format!("cannot create the output directory {}", dir.display()),
            e,
        )
    })?;
    Ok(Some(dir))
}
