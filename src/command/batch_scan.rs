//! The batch side of `scan`: running the domains with the JSON Lines
//! stream open (each line written and flushed as its domain finishes),
//! Ctrl-C (start no new domain, keep the lines, exit 130), and, for a batch
//! whose only report is `report.json`, that report written by streaming from
//! the JSONL file ([`crate::batch::streamed`]).

use super::output::{self, print_summary};
use super::progress::Terminal;
use super::{CommandError, INTERRUPTED};
use crate::batch::stream::Stream;
use crate::batch::streamed::{self, Index, StreamedError, Tally};
use crate::batch::{Batch, DomainLine, run_batch};
use crate::evidence::DomainEvidence;
use crate::probe::Progress;
use crate::report::{Format, Report, summary};
use crate::rules::{self, Rule};
use crate::scan::{ScanError, ScanRequest};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a batch with a stream produced.
pub enum Scanned {
    /// Every domain finished: the report (without targets and findings when
    /// the batch did not keep them), the JSONL file, and the domains resumed
    /// from it.
    Done {
        report: Box<Report>,
        file: Option<PathBuf>,
        resumed: HashSet<String>,
    },
    /// Ctrl-C: the lines are kept, no report is written (exit code 130).
    Interrupted,
}

/// Runs the batch, writing and flushing each domain's line as it finishes;
/// `keep` keeps the finished domains for a report held in memory.
pub fn with_stream(
    runtime: &tokio::runtime::Runtime,
    request: &ScanRequest,
    rules: &[Rule],
    progress: &Terminal,
    concurrency: usize,
    stream: Stream,
    keep: bool,
) -> Result<Scanned, CommandError> {
    let Stream {
        mut writer,
        label,
        file,
        skip,
        done,
    } = stream;
    let domains: HashSet<&str> = request.domains.iter().map(String::as_str).collect();
    progress.already_done(skip.iter().filter(|d| domains.contains(d.as_str())).count());
    let stop = Arc::new(AtomicBool::new(false));
    let mut written = 0usize;
    let mut on_domain = |line: &DomainLine| -> std::io::Result<()> {
        let text = line.to_line().map_err(std::io::Error::other)?;
        // One write per line, flushed: a line is either whole or absent.
        writer.write_all(text.as_bytes())?;
        writer.flush()?;
        written += 1;
        Ok(())
    };
    let outcome = runtime
        .block_on(async {
            let watcher = {
                let stop = stop.clone();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        stop.store(true, Ordering::SeqCst);
                        eprintln!(
                            "mailaudit: interrupted: finishing the domains in flight, starting no new ones (Ctrl-C again quits at once; finished lines are kept)"
                        );
                        if tokio::signal::ctrl_c().await.is_ok() {
                            std::process::exit(INTERRUPTED.into());
                        }
                    }
                })
            };
            let batch = Batch {
                concurrency,
                stop: stop.clone(),
                skip: skip.clone(),
                done,
                on_domain: &mut on_domain,
                keep,
            };
            let result = run_batch(request, rules, progress as &dyn Progress, batch).await;
            watcher.abort();
            result
        })
        .map_err(CommandError::usage)?;
    if outcome.interrupted {
        progress.finish();
        let hint = if file.is_some() {
            format!("run the same command with --resume {label} to scan the rest")
        } else {
            "save the lines to a file and pass it to --resume to scan the rest".to_string()
        };
        eprintln!(
            "mailaudit: interrupted after {written} new domain(s); every finished domain is in {label}; {hint}. No report files were written."
        );
        return Ok(Scanned::Interrupted);
    }
    Ok(Scanned::Done {
        report: Box::new(outcome.report),
        file,
        resumed: skip,
    })
}

/// A scan without a JSONL stream (and without a Ctrl-C handler: Ctrl-C
/// ends it at once, as it always did), `concurrency` domains at once.
pub async fn without_stream(
    request: &ScanRequest,
    rules: &[Rule],
    progress: &Terminal,
    concurrency: usize,
) -> Result<Report, ScanError> {
    let mut ignore = |_: &DomainLine| Ok(());
    let batch = Batch {
        concurrency,
        stop: Arc::new(AtomicBool::new(false)),
        skip: HashSet::new(),
        done: Vec::new(),
        on_domain: &mut ignore,
        keep: true,
    };
    Ok(run_batch(request, rules, progress as &dyn Progress, batch)
        .await?
        .report)
}

/// Writes `report.json` of a batch that kept no domain, by streaming from
/// its JSONL `file`, into `out_dir` (or stdout), then the summary and the
/// per-domain table unless `quiet`. Returns what the exit code needs.
pub fn write_streamed(
    head: &Report,
    file: &Path,
    domains: &[String],
    resumed: &HashSet<String>,
    rules: &[Rule],
    out_dir: Option<&Path>,
    quiet: bool,
) -> Result<Tally, CommandError> {
    let judge = |evidence: &DomainEvidence| {
        rules::evaluate(
            rules,
            [evidence],
            head.started_at,
            head.language,
            &head.profile,
        )
    };
    let index = Index::build(file, domains, resumed, &judge).map_err(CommandError::usage)?;
    let assessor = || rules::Assessor::new(rules, head.started_at, &head.profile);
    let (tally, written) = match out_dir {
        Some(dir) => {
            let path = dir.join(Format::Json.file_name());
            let mut out = output::create(&path)?;
            let tally = streamed::write(head, &index, &judge, assessor(), !quiet, &mut out);
            (tally, path.display().to_string())
        }
        None => {
            let mut out = std::io::stdout().lock();
            (
                streamed::write(head, &index, &judge, assessor(), !quiet, &mut out),
                "-".to_string(),
            )
        }
    };
    let tally = tally.map_err(|error| match error {
        StreamedError::Json(error) => CommandError::Failed(
            format!("cannot render the {:?} report: {error}", Format::Json).into(),
        ),
        StreamedError::Write(error) => CommandError::usage(format!(
            "cannot write the {:?} report: cannot write the report: {error}",
            Format::Json
        )),
        StreamedError::Lines(error) => CommandError::usage(error),
    })?;
    if let Some(report) = &tally.summary {
        print_summary(&summary::render(report, &[written]), out_dir.is_some());
        output::print_domain_table(report, out_dir, quiet);
    }
    Ok(tally)
}
