//! The batch side of `scan` (`--format jsonl`, `--resume`, Ctrl-C) and the
//! `merge` subcommand: where the JSON Lines go, and what an interruption
//! keeps. The scanning itself is the library's [`scan::run_batch`].

use crate::cli::{MergeArgs, ScanArgs};
use crate::{
    Outcome, load_profile, load_rules, output_dir, parse_fail_on, parse_formats, parse_language,
    read_baseline, render_options, usage, write_outputs,
};
use anyhow::{Context, anyhow, bail};
use mailaudit::batch::{self, DomainLine};
use mailaudit::probe::Progress;
use mailaudit::report::{Format, Report, Target, baseline, summary};
use mailaudit::rules::Rule;
use mailaudit::scan::{self, Batch, ScanRequest};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// Where the JSON Lines of a batch go, and the domains a `--resume` file
/// already holds.
pub struct Stream {
    writer: Box<dyn Write + Send>,
    /// The file's path, or `stdout`.
    label: String,
    resumable: bool,
    done: Vec<Target>,
}

fn wants_jsonl(args: &ScanArgs) -> bool {
    args.output
        .format
        .iter()
        .any(|f| f.trim().eq_ignore_ascii_case("jsonl"))
}

/// The report formats written at the end of a scan: `--format` without
/// `jsonl`. With `jsonl` alone, json follows into the output directory,
/// and nothing with `--out -` (stdout carries the lines).
pub fn report_formats(args: &ScanArgs) -> anyhow::Result<Vec<Format>> {
    let others: Vec<String> = args
        .output
        .format
        .iter()
        .filter(|f| !f.trim().eq_ignore_ascii_case("jsonl"))
        .cloned()
        .collect();
    if !wants_jsonl(args) {
        return parse_formats(&others, &args.output.out);
    }
    match (args.output.out.as_str(), others.is_empty()) {
        ("-", true) => Ok(Vec::new()),
        ("-", false) if args.resume.is_some() => parse_formats(&others, "-"),
        ("-", false) => bail!(
            "--format jsonl --out - prints the JSON Lines on stdout and nothing else; drop the other formats, or give --out DIR to get report.jsonl and the other formats there"
        ),
        (_, true) => parse_formats(&["json".to_string()], &args.output.out),
        (_, false) => parse_formats(&others, &args.output.out),
    }
}

/// Opens the JSONL stream, if the scan has one: the `--resume` file
/// (appended to, never truncated), else `DIR/report.jsonl` (refused when it
/// already holds lines) or stdout for `--out -`.
pub fn stream(args: &ScanArgs, out_dir: Option<&Path>) -> anyhow::Result<Option<Stream>> {
    if let Some(path) = &args.resume {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let unterminated = !text.is_empty() && !text.ends_with('\n');
        if unterminated
            && serde_json::from_str::<DomainLine>(text.lines().last().unwrap_or("")).is_err()
        {
            bail!(
                "{}:{} is incomplete (the file was cut while it was written); delete that last line and run again",
                path.display(),
                text.lines().count()
            );
        }
        let lines = batch::read_lines(path, true)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} to append to it", path.display()))?;
        if unterminated {
            // A whole last line without its newline: end it, so the next
            // line does not join it.
            file.write_all(b"\n")
                .with_context(|| format!("cannot append to {}", path.display()))?;
        }
        return Ok(Some(Stream {
            writer: Box::new(file),
            label: path.display().to_string(),
            resumable: true,
            done: lines.into_iter().map(target_of).collect(),
        }));
    }
    if !wants_jsonl(args) {
        return Ok(None);
    }
    Ok(Some(match out_dir {
        None => Stream {
            writer: Box::new(std::io::stdout()),
            label: "stdout".to_string(),
            resumable: false,
            done: Vec::new(),
        },
        Some(dir) => {
            let path = dir.join("report.jsonl");
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                bail!(
                    "{0} already holds results; continue it with --resume {0}, or move it away or choose another --out",
                    path.display()
                );
            }
            let file = std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Stream {
                writer: Box::new(file),
                label: path.display().to_string(),
                resumable: true,
                done: Vec::new(),
            }
        }
    }))
}

fn target_of(line: DomainLine) -> Target {
    Target {
        domain: line.domain,
        evidence: line.evidence,
    }
}

/// Runs the batch, writing and flushing each domain's line as it finishes.
/// `Ok(Err(130))` after Ctrl-C: no report files then, the lines are kept.
pub fn scan(
    runtime: &tokio::runtime::Runtime,
    request: &ScanRequest,
    rules: &[Rule],
    progress: &crate::progress::Terminal,
    args: &ScanArgs,
    stream: Stream,
) -> Result<Result<Report, u8>, (u8, anyhow::Error)> {
    let Stream {
        mut writer,
        label,
        resumable,
        done,
    } = stream;
    let domains: std::collections::HashSet<&str> =
        request.domains.iter().map(String::as_str).collect();
    progress.already_done(
        done.iter()
            .filter(|t| domains.contains(t.domain.as_str()))
            .count(),
    );
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
                concurrency: args.concurrency,
                stop: stop.clone(),
                done,
                on_domain: &mut on_domain,
            };
            let result = scan::run_batch(request, rules, progress as &dyn Progress, batch).await;
            watcher.abort();
            result
        })
        .map_err(|e| usage(e.into()))?;
    if outcome.interrupted {
        progress.finish();
        let hint = if resumable {
            format!("run the same command with --resume {label} to scan the rest")
        } else {
            "save the lines to a file and pass it to --resume to scan the rest".to_string()
        };
        eprintln!(
            "mailaudit: interrupted after {written} new domain(s); every finished domain is in {label}; {hint}. No report files were written."
        );
        return Ok(Err(INTERRUPTED));
    }
    Ok(Ok(outcome.report))
}

/// True when the scan is a batch (`--targets`, `--format jsonl`,
/// `--resume` or `--shard`): its summary gets the per-domain table.
pub fn is_batch(args: &ScanArgs) -> bool {
    args.targets.is_some() || wants_jsonl(args) || args.resume.is_some() || args.shard.is_some()
}

/// Prints the per-domain table after the summary, where the summary went.
pub fn print_domain_table(report: &Report, out_dir: Option<&Path>, quiet: bool) {
    if quiet || report.targets.len() < 2 {
        return;
    }
    let table = summary::domain_table(report);
    if out_dir.is_some() {
        print!("{table}");
    } else {
        eprint!("{table}");
    }
}

/// A scan without a JSONL stream (and without a Ctrl-C handler: Ctrl-C
/// ends it at once, as it always did), `concurrency` domains at once.
pub async fn without_stream(
    request: &ScanRequest,
    rules: &[Rule],
    progress: &crate::progress::Terminal,
    concurrency: usize,
) -> Result<Report, scan::ScanError> {
    let mut ignore = |_: &DomainLine| Ok(());
    let batch = Batch {
        concurrency,
        stop: Arc::new(AtomicBool::new(false)),
        done: Vec::new(),
        on_domain: &mut ignore,
    };
    Ok(
        scan::run_batch(request, rules, progress as &dyn Progress, batch)
            .await?
            .report,
    )
}

/// `mailaudit merge`: the report of all domains in the JSONL files, judged
/// again offline.
pub fn merge(args: &MergeArgs, quiet: bool) -> Outcome {
    let formats = parse_formats(&args.output.format, &args.output.out).map_err(usage)?;
    let options = render_options(&args.output).map_err(usage)?;
    let fail_on = parse_fail_on(&args.fail_on).map_err(usage)?;
    let rules = load_rules(&args.rule_source).map_err(usage)?;
    let profile = load_profile(&args.profile).map_err(usage)?;
    let previous = read_baseline(&args.output).map_err(usage)?;
    let mut lines = Vec::new();
    for path in &args.inputs {
        lines.extend(batch::read_lines(path, false).map_err(|e| usage(e.into()))?);
    }
    let saved = batch::assemble(lines).ok_or_else(|| {
        usage(anyhow!(
            "{} hold no domain lines; give the report.jsonl files that `mailaudit scan --format jsonl` wrote",
            args.inputs
                .iter()
                .map(|p: &PathBuf| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let language = parse_language(args.lang.as_deref(), saved.language).map_err(usage)?;
    let mut report = mailaudit::rules::reevaluate(&saved, &rules, language, profile.as_ref());
    if let Some(previous) = &previous {
        baseline::compare(&mut report, previous);
    }
    let out_dir = output_dir(&args.output.out).map_err(usage)?;
    write_outputs(&report, &formats, &options, out_dir.as_deref(), quiet)?;
    print_domain_table(&report, out_dir.as_deref(), quiet);
    Ok(if report.fails_at(fail_on) { 1 } else { 0 })
}
