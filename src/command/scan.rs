//! `mailaudit scan`: the flags turned into a [`ScanRequest`] (targets file,
//! shard, mailboxes and their passwords, profile), the scan run, the
//! reports written, and the exit code.

use super::batch_scan::{self, Scanned};
use super::history::History;
use super::output::{self, formats};
use super::progress::Terminal;
use super::{
    COULD_NOT_RUN, CommandError, INTERRUPTED, Outcome, exit_code, load_profile, load_rules,
    output_dir, read_baseline,
};
use crate::batch;
use crate::cli::ScanArgs;
use crate::cli::values::key_lookup;
use crate::credentials::{self, PasswordSource};
use crate::history::record::Source;
use crate::probe::location::{IANA_BOOTSTRAP, LocationSettings};
use crate::probe::mailbox::MailboxOptions;
use crate::report::{Format, RenderOptions, baseline};
use crate::scan::ScanRequest;
use std::io::IsTerminal;
use std::time::Duration;

/// What a scan that could not run prints (exit code 3).
const COULD_NOT_RUN_NOTE: &str = "mailaudit: the scan could not run: no target gave a DNS answer or a reachable endpoint (check the domain names and --resolver)";

/// `mailaudit scan`.
pub fn run(args: &ScanArgs, quiet: bool) -> Outcome {
    let formats = report_formats(args)?;
    let mut request = request(args)?;
    // The history is read before the scan (the earlier scans of each
    // domain become evidence GOV-001 judges) and written after it.
    // Without one, a --baseline report is the previous scan on record.
    let history = History::consult(&args.record)?;
    let previous = read_baseline(&args.output)?;
    let now = chrono::Utc::now();
    request.history = match (&history, &previous) {
        (Some(history), _) => Some(history.facts(&request.domains, now)?),
        (None, Some(previous)) => super::history::baseline_facts(&request.domains, previous, now),
        (None, None) => None,
    };
    let options = RenderOptions {
        pdf_standard: args.output.pdf_standard,
    };
    let rules = load_rules(&args.rule_source)?;
    // The probe sorts messages with the class file the rules judge by.
    request.mailbox_options.classes = rules
        .iter()
        .find_map(|rule| rule.tables.as_ref())
        .map(|tables| std::sync::Arc::new(tables.classes.clone()));
    let out_dir = output_dir(&args.output.out)?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CommandError::usage_in("cannot start the async runtime", e))?;
    let progress = Terminal::new(quiet, request.domains.len());
    // A batch whose lines go to a file and whose only report is report.json
    // keeps no domain: report.json is read back from the file.
    let stream_file = args.resume.is_some() || (wants_jsonl(args) && out_dir.is_some());
    // Recording reads report.json back from the output directory, or
    // needs the report kept when it goes to stdout.
    let keep = !(stream_file
        && formats.iter().all(|&f| f == Format::Json)
        && previous.is_none()
        && (history.is_none() || out_dir.is_some()));
    let stream = batch::stream::open(
        args.resume.as_deref(),
        wants_jsonl(args),
        out_dir.as_deref(),
        keep,
    )
    .map_err(CommandError::usage)?;
    let mut report = match stream {
        Some(stream) => {
            let scanned = batch_scan::with_stream(
                &runtime,
                &request,
                &rules,
                &progress,
                args.concurrency,
                stream,
                keep,
            )?;
            match scanned {
                Scanned::Interrupted => return Ok(INTERRUPTED),
                Scanned::Done {
                    report,
                    file: Some(file),
                    resumed,
                } if !keep => {
                    progress.finish();
                    let tally = batch_scan::write_streamed(
                        &report,
                        &file,
                        &request.domains,
                        &resumed,
                        &rules,
                        out_dir.as_deref(),
                        quiet,
                    )?;
                    if tally.could_not_run {
                        eprintln!("{COULD_NOT_RUN_NOTE}");
                        return Ok(COULD_NOT_RUN);
                    }
                    if let (Some(history), Some(dir)) = (&history, &out_dir) {
                        record_written(history, &dir.join(Format::Json.file_name()), quiet)?;
                    }
                    return Ok(exit_code(tally.fails_at(args.fail_on)));
                }
                Scanned::Done { report, .. } => *report,
            }
        }
        None => runtime
            .block_on(batch_scan::without_stream(
                &request,
                &rules,
                &progress,
                args.concurrency,
            ))
            .map_err(CommandError::usage)?,
    };
    progress.finish();
    if let Some(previous) = &previous {
        baseline::compare(&mut report, previous);
    }
    output::write_all(&report, &formats, &options, out_dir.as_deref(), quiet)?;
    if is_batch(args) {
        output::print_domain_table(&report, out_dir.as_deref(), quiet);
    }
    if report.could_not_run() {
        // Not a scan on record: GOV-001 counts scans that ran.
        eprintln!("{COULD_NOT_RUN_NOTE}");
        return Ok(COULD_NOT_RUN);
    }
    if let Some(history) = &history {
        history.record(&report, Source::Scan, quiet)?;
    }
    Ok(exit_code(report.fails_at(args.fail_on)))
}

/// Records the report.json a streamed batch wrote, byte for byte.
fn record_written(
    history: &History,
    path: &std::path::Path,
    quiet: bool,
) -> Result<(), CommandError> {
    let report = crate::report::offline::read(path).map_err(CommandError::usage)?;
    let document = std::fs::read(path)
        .map_err(|e| CommandError::usage_in(format!("cannot read {}", path.display()), e))?;
    history.record_document(&report, &document, Source::Scan, quiet)?;
    Ok(())
}

fn wants_jsonl(args: &ScanArgs) -> bool {
    args.output.format.contains(&Format::Jsonl)
}

/// True when the scan is a batch (`--targets`, `--format jsonl`,
/// `--resume` or `--shard`): its summary gets the per-domain table.
fn is_batch(args: &ScanArgs) -> bool {
    args.targets.is_some() || wants_jsonl(args) || args.resume.is_some() || args.shard.is_some()
}

/// The report formats written at the end of a scan: `--format` without
/// `jsonl`. With `jsonl` alone, json follows into the output directory,
/// and nothing with `--out -` (stdout carries the lines).
fn report_formats(args: &ScanArgs) -> Result<Vec<Format>, CommandError> {
    let out = args.output.out.as_str();
    let others: Vec<Format> = args
        .output
        .format
        .iter()
        .copied()
        .filter(|&f| f != Format::Jsonl)
        .collect();
    if !wants_jsonl(args) {
        return formats(&others, out);
    }
    match (out, others.is_empty()) {
        ("-", true) => Ok(Vec::new()),
        ("-", false) if args.resume.is_some() => formats(&others, "-"),
        ("-", false) => Err(CommandError::usage(
            "--format jsonl --out - prints the JSON Lines on stdout and nothing else; drop the other formats, or give --out DIR to get report.jsonl and the other formats there",
        )),
        (_, true) => formats(&[Format::Json], out),
        (_, false) => formats(&others, out),
    }
}

/// Turns the arguments into a request, failing with exit code 2 on bad
/// input (the flags' values were checked by clap already).
fn request(args: &ScanArgs) -> Result<ScanRequest, CommandError> {
    let mut domains = Vec::new();
    for domain in &args.domains {
        if !domains.contains(domain) {
            domains.push(domain.clone());
        }
    }
    if let Some(path) = &args.targets {
        for domain in batch::read_targets(path).map_err(CommandError::usage)? {
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
    }
    // A batch is reported in name order, so shards merge into the same report.
    if args.targets.is_some() || args.shard.is_some() || args.resume.is_some() {
        domains.sort();
    }
    if let Some(shard) = &args.shard {
        domains.retain(|d| shard.contains(d));
    }
    let mut key_lookups = args.key_lookups.clone();
    let mut listed = args.mailboxes.clone();
    if let Some(path) = &args.mailbox_list {
        listed.extend(credentials::mailbox_list(&read_mailbox_list(path)?));
    }
    let specs = listed
        .iter()
        .map(|m| {
            let spec = credentials::parse_mailbox(m)?;
            spec.check_unambiguous(m, &domains)?;
            Ok(spec)
        })
        .collect::<Result<Vec<_>, credentials::CredentialError>>()
        .map_err(CommandError::usage)?;
    // An audited mailbox's keys are looked up too (E2E-001).
    for spec in &specs {
        if let Ok(address) = key_lookup(&spec.user)
            && !key_lookups.contains(&address)
        {
            key_lookups.push(address);
        }
    }
    let mailboxes = if specs.is_empty() {
        Vec::new()
    } else {
        let source = match (&args.password_env, &args.password_file) {
            (Some(variable), _) => PasswordSource::Environment(variable.clone()),
            (None, Some(path)) => PasswordSource::File(path.clone()),
            (None, None) if std::io::stdin().is_terminal() => PasswordSource::Prompt,
            (None, None) => {
                return Err(CommandError::usage(credentials::CredentialError::NoSource));
            }
        };
        credentials::read_passwords(specs, &source, args.admin.as_deref())
            .map_err(CommandError::usage)?
    };
    let location = match (&args.rdap_bootstrap, args.no_location) {
        (_, true) => LocationSettings::Off,
        (Some(base), false) => LocationSettings::Rdap {
            base: base.clone(),
            explicit: true,
        },
        (None, false) => LocationSettings::Rdap {
            base: IANA_BOOTSTRAP.to_string(),
            explicit: false,
        },
    };
    Ok(ScanRequest {
        domains,
        resolver: args.resolver,
        ca_files: args.ca_file.clone(),
        dnssec_anchors: args.dnssec_anchor.clone(),
        timeout: Duration::from_secs_f64(args.timeout),
        extra_hosts: args.hosts.clone(),
        connections_per_address: args.connections_per_host,
        language: args.lang,
        dkim_selectors: args.dkim_selectors.clone(),
        key_lookups,
        location,
        tls_scan: !args.no_tls_scan,
        active_tls_checks: !args.no_active_tls_checks,
        revocation: !args.no_revocation,
        relay_test: args
            .relay_test
            .then_some(crate::probe::context::RelayTestSettings {
                source: args.relay_test_source,
            }),
        mailboxes,
        mailbox_options: MailboxOptions {
            accept_invalid_certs: args.accept_invalid_certs,
            show_messages: args.show_messages,
            sessions_per_server: usize::from(args.sessions_per_server),
            classes: None,
            deep_invoice_check: args.deep_invoice_check,
        },
        profile: load_profile(&args.profile)?.unwrap_or_default(),
        history: None,
    })
}

/// The text of `--mailboxes FILE`, or of stdin for `-`.
fn read_mailbox_list(path: &std::path::Path) -> Result<String, CommandError> {
    let failed = |error: std::io::Error| {
        CommandError::usage(credentials::CredentialError::MailboxList {
            path: path.display().to_string(),
            error: error.to_string(),
        })
    };
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(failed)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(failed)
    }
}
