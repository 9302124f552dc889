//! `mailaudit history` (list, diff, import, show, prune) and the history's
//! part in `scan`, `merge` and `report`: before the rules run, the earlier
//! scans of each domain are read from the store and written into the
//! evidence as a fact (GOV-001 reads it; the rules never query the
//! store), or, without a history, the `--baseline` report's scan time;
//! after the report is written, it is recorded.

use super::{CommandError, Outcome, exit_code, load_profile, output::print_stdout};
use crate::batch;
use crate::cli::{HistoryArgs, HistoryCommand, ListFormat, RecordArgs};
use crate::evidence::Attempt;
use crate::evidence::{AuditHistoryEvidence, history_not_consulted};
use crate::history::read::{Counts, DomainScan, ScanSummary};
use crate::history::record::{Recorded, Source};
use crate::history::{HistoryError, Location, Store};
use crate::report::{Report, json, offline};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// The test hook of the kill and concurrency tests: `FILE[,SECONDS]`
/// creates FILE inside the write transaction and waits there (120 s by
/// default) before committing.
const PAUSE_HOOK: &str = "MAILAUDIT_TEST_HISTORY_PAUSE";

/// An open store with the runtime its pool lives on.
pub struct History {
    runtime: tokio::runtime::Runtime,
    store: Store,
}

fn usage(error: HistoryError) -> CommandError {
    CommandError::usage(error)
}

impl History {
    /// Opens the store at `location` (`""`: the default file).
    pub fn open(location: &str) -> Result<History, CommandError> {
        let location = if location.trim().is_empty() {
            Location::default_for_user()
        } else {
            Location::parse(location)
        }
        .map_err(usage)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CommandError::usage_in("cannot start the async runtime", e))?;
        let mut store = runtime.block_on(Store::open(&location)).map_err(usage)?;
        if let Some(hook) = std::env::var_os(PAUSE_HOOK) {
            let hook = hook.to_string_lossy().into_owned();
            let (marker, seconds) = match hook.rsplit_once(',') {
                Some((marker, seconds)) => (marker.to_string(), seconds.parse().unwrap_or(120)),
                None => (hook, 120),
            };
            store =
                store.pause_inside_write(marker.into(), std::time::Duration::from_secs(seconds));
        }
        Ok(History { runtime, store })
    }

    /// Runs one of the store's operations to its end.
    fn wait<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, HistoryError>>,
    ) -> Result<T, CommandError> {
        self.runtime.block_on(operation).map_err(usage)
    }

    /// The store of `--history`/`MAILAUDIT_HISTORY`, unless off.
    pub fn consult(record: &RecordArgs) -> Result<Option<History>, CommandError> {
        record.location().map(History::open).transpose()
    }

    /// The history fact of each domain: its scans before `before`.
    pub fn facts(
        &self,
        domains: &[String],
        before: DateTime<Utc>,
    ) -> Result<BTreeMap<String, AuditHistoryEvidence>, CommandError> {
        let earlier = self.wait(self.store.previous_scans(domains, before))?;
        Ok(domains
            .iter()
            .map(|domain| {
                let known = earlier.get(domain);
                (
                    domain.clone(),
                    AuditHistoryEvidence {
                        previous_scan: known.map(|e| e.latest),
                        scans_on_record: known.map_or(0, |e| e.scans),
                    },
                )
            })
            .collect())
    }

    /// Writes the history fact into every target of a saved report, as of
    /// its scan time, before it is judged again.
    pub fn annotate(&self, report: &mut Report) -> Result<(), CommandError> {
        let domains: Vec<String> = report.targets.iter().map(|t| t.domain.clone()).collect();
        let facts = self.facts(&domains, report.started_at)?;
        write_facts(report, facts);
        Ok(())
    }

    /// Every domain with a scan in the store.
    pub fn domains(&self) -> Result<Vec<String>, CommandError> {
        let latest = self.wait(self.store.latest_per_domain())?;
        Ok(latest.into_iter().map(|d| d.domain).collect())
    }

    /// Records a report; says so on stderr unless `quiet`.
    pub fn record(
        &self,
        report: &Report,
        source: Source,
        quiet: bool,
    ) -> Result<Recorded, CommandError> {
        let document = json::render(report).map_err(|e| CommandError::Failed(Box::new(e)))?;
        self.record_document(report, document.as_bytes(), source, quiet)
    }

    /// Records a report whose report.json is `document`.
    pub fn record_document(
        &self,
        report: &Report,
        document: &[u8],
        source: Source,
        quiet: bool,
    ) -> Result<Recorded, CommandError> {
        let recorded = self.wait(self.store.record(report, document, source))?;
        if !quiet {
            let what = if recorded.already_recorded {
                "already recorded as"
            } else {
                "recorded as"
            };
            eprintln!(
                "History: {what} scan {} in {} (report.json SHA-256 {})",
                recorded.scan_id,
                self.store.location(),
                recorded.sha256
            );
        }
        Ok(recorded)
    }
}

/// Writes `facts` into the evidence of each target of `report`.
fn write_facts(report: &mut Report, mut facts: BTreeMap<String, AuditHistoryEvidence>) {
    for target in &mut report.targets {
        target.evidence.history = facts
            .remove(&target.domain)
            .map_or_else(history_not_consulted, Attempt::completed);
    }
}

/// Without a history, the `--baseline` report is the previous scan on
/// record (the catalogue's "baseline or history"): its domains were last
/// scanned when it started, the others not in it. `None` when it did not
/// start before `before`, so it says nothing about earlier scans.
pub fn baseline_facts(
    domains: &[String],
    baseline: &Report,
    before: DateTime<Utc>,
) -> Option<BTreeMap<String, AuditHistoryEvidence>> {
    (baseline.started_at < before).then(|| {
        domains
            .iter()
            .map(|domain| {
                let scanned = baseline.targets.iter().any(|t| t.domain == *domain);
                (
                    domain.clone(),
                    AuditHistoryEvidence {
                        previous_scan: scanned.then_some(baseline.started_at),
                        scans_on_record: u64::from(scanned),
                    },
                )
            })
            .collect()
    })
}

/// [`baseline_facts`] written into a saved report before it is judged again.
pub fn annotate_from_baseline(report: &mut Report, baseline: &Report) {
    let domains: Vec<String> = report.targets.iter().map(|t| t.domain.clone()).collect();
    if let Some(facts) = baseline_facts(&domains, baseline, report.started_at) {
        write_facts(report, facts);
    }
}

/// `mailaudit history …`.
pub fn run(args: &HistoryArgs, quiet: bool) -> Outcome {
    let format = args.store.format;
    let history = History::open(args.store.history.as_deref().unwrap_or(""))?;
    match &args.command {
        None => match &args.domain {
            None => {
                let scans = history.wait(history.store.scans())?;
                print(format, &scans, || scan_table(&scans))
            }
            Some(domain) => {
                let scans = history.wait(history.store.domain_scans(domain))?;
                if scans.is_empty() && format == ListFormat::Text {
                    return Err(CommandError::usage(format!(
                        "the history {} holds no scan of {domain}; `mailaudit history` lists the scans",
                        history.store.location()
                    )));
                }
                print(format, &scans, || domain_table(&scans))
            }
        },
        Some(HistoryCommand::Diff {
            from,
            to,
            fail_on_regression,
        }) => {
            let diff = history.wait(history.store.diff(*from, *to))?;
            print(format, &diff, || super::history_diff::render(&diff))?;
            Ok(exit_code(*fail_on_regression && diff.is_regression()))
        }
        Some(HistoryCommand::Import { files }) => {
            let mut recorded = Vec::new();
            for file in files {
                let (report, document) = read_saved(file)?;
                recorded.push(history.record_document(
                    &report,
                    &document,
                    Source::Import,
                    quiet || format == ListFormat::Json,
                )?);
            }
            if format == ListFormat::Json {
                print(format, &recorded, String::new)?;
            }
            Ok(0)
        }
        Some(HistoryCommand::Show { scan }) => {
            // An id is a number; a SHA-256 is 64 hex digits.
            let sha256 = match scan.parse::<i64>() {
                Ok(id) if scan.len() < 64 => history.wait(history.store.scan(id))?.report_sha256,
                _ => scan.clone(),
            };
            let document = history.wait(history.store.document(&sha256))?;
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&document).and_then(|()| stdout.flush());
            Ok(0)
        }
        Some(HistoryCommand::Check {
            profile,
            rule_source,
            lang,
        }) => {
            let profile = load_profile(profile)?.unwrap_or_default();
            let mut domains: BTreeSet<String> = profile.audit.domains.iter().cloned().collect();
            domains.extend(history.domains()?);
            let domains: Vec<String> = domains.into_iter().collect();
            let now = Utc::now();
            let facts = history.facts(&domains, now)?;
            super::history_check::run(&profile, &facts, rule_source, *lang, format, now)
        }
        Some(HistoryCommand::Prune { older_than }) => {
            let cutoff = Utc::now() - *older_than;
            let pruned = history.wait(history.store.prune(cutoff))?;
            print(format, &pruned, || {
                format!(
                    "Pruned {} scans started before {} and {} report.json documents from {}.\n",
                    pruned.scans,
                    cutoff.format("%Y-%m-%d %H:%M UTC"),
                    pruned.documents,
                    history.store.location()
                )
            })?;
            Ok(0)
        }
    }
}

/// A saved report.json or the JSON Lines of a batch, with the bytes to
/// record: the file's own for report.json, the rendered report for JSONL.
fn read_saved(path: &Path) -> Result<(Report, Vec<u8>), CommandError> {
    let is_jsonl = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    if is_jsonl {
        let lines = batch::read_lines(path, false).map_err(CommandError::usage)?;
        let report = batch::assemble(lines).ok_or_else(|| {
            CommandError::usage(format!(
                "{} holds no domain lines; give a report.json or the report.jsonl of `mailaudit scan --format jsonl`",
                path.display()
            ))
        })?;
        let document = json::render(&report).map_err(|e| CommandError::Failed(Box::new(e)))?;
        return Ok((report, document.into_bytes()));
    }
    let report = offline::read(path).map_err(CommandError::usage)?;
    let document = std::fs::read(path)
        .map_err(|e| CommandError::usage_in(format!("cannot read {}", path.display()), e))?;
    Ok((report, document))
}

/// JSON on stdout, or the text `render` makes.
fn print<T: serde::Serialize>(
    format: ListFormat,
    value: &T,
    render: impl FnOnce() -> String,
) -> Outcome {
    let text = match format {
        ListFormat::Json => {
            let mut text = serde_json::to_string_pretty(value)
                .map_err(|e| CommandError::Failed(Box::new(e)))?;
            text.push('\n');
            text
        }
        ListFormat::Text => render(),
    };
    print_stdout(&text)?;
    Ok(0)
}

fn counts_cell(counts: &Counts) -> String {
    format!(
        "{:>5} {:>5} {:>5}",
        counts.failed, counts.inconclusive, counts.passed
    )
}

fn scan_table(scans: &[ScanSummary]) -> String {
    if scans.is_empty() {
        return "The history holds no scan yet; record one with `mailaudit scan DOMAIN --history`.\n".into();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<20} {:<7} {:>7}  {:<5} {:>5} {:>5} {:>5}  report.json SHA-256",
        "scan", "started (UTC)", "source", "domains", "grade", "fail", "inc", "pass"
    );
    for scan in scans {
        let _ = writeln!(
            out,
            "{:>6}  {:<20} {:<7} {:>7}  {:<5} {}  {}",
            scan.id,
            scan.started_at.format("%Y-%m-%d %H:%M:%S"),
            scan.source,
            scan.domains,
            scan.grade.as_deref().unwrap_or("-"),
            counts_cell(&scan.counts),
            &scan.report_sha256[..16.min(scan.report_sha256.len())],
        );
    }
    out
}

fn domain_table(scans: &[DomainScan]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<20} {:<7} {:<5} {:>5} {:>5} {:>5}  domain",
        "scan", "started (UTC)", "source", "grade", "fail", "inc", "pass"
    );
    for scan in scans {
        let _ = writeln!(
            out,
            "{:>6}  {:<20} {:<7} {:<5} {}  {}",
            scan.scan_id,
            scan.started_at.format("%Y-%m-%d %H:%M:%S"),
            scan.source,
            scan.grade,
            counts_cell(&scan.counts),
            scan.domain,
        );
    }
    out
}
