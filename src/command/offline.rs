//! The offline commands: `report` and `evaluate` judge a saved
//! `report.json` again, `merge` the JSON Lines of several batch scans
//! (shards). None of them touches the network. With `--history`, the
//! earlier scans of each domain are written into the evidence before it is
//! judged (GOV-001), and the report is recorded; without it, a `--baseline`
//! report's scan time is the previous scan on record.

use super::history::{History, annotate_from_baseline};
use super::output::{self, formats, print_stdout};
use super::{
    CommandError, Outcome, exit_code, load_profile, load_rules, output_dir, read_baseline,
};
use crate::batch;
use crate::cli::{EvaluateArgs, MergeArgs, ReportArgs};
use crate::history::record::Source;
use crate::report::{RenderOptions, baseline, offline, summary};

/// `mailaudit report`: re-evaluates a saved report and renders it.
pub fn report(args: &ReportArgs, quiet: bool) -> Outcome {
    let formats = formats(&args.output.format, &args.output.out)?;
    let options = RenderOptions {
        pdf_standard: args.output.pdf_standard,
    };
    let rules = load_rules(&args.rule_source)?;
    let mut saved = offline::read(&args.evidence).map_err(CommandError::usage)?;
    let language = args.lang.unwrap_or(saved.language);
    let previous = read_baseline(&args.output)?;
    let profile = load_profile(&args.profile)?;
    let history = History::consult(&args.record)?;
    match (&history, &previous) {
        (Some(history), _) => history.annotate(&mut saved)?,
        (None, Some(previous)) => annotate_from_baseline(&mut saved, previous),
        (None, None) => {}
    }
    let mut report = crate::rules::reevaluate(&saved, &rules, language, profile.as_ref());
    if let Some(previous) = &previous {
        baseline::compare(&mut report, previous);
    }
    let out_dir = output_dir(&args.output.out)?;
    output::write_all(&report, &formats, &options, out_dir.as_deref(), quiet)?;
    if let Some(history) = &history {
        history.record(&report, Source::Report, quiet)?;
    }
    Ok(exit_code(report.fails_at(args.fail_on)))
}

/// `mailaudit evaluate`: re-runs the rules on a saved report and prints the
/// findings (JSON array) or the summary.
pub fn evaluate(args: &EvaluateArgs, quiet: bool) -> Outcome {
    let rules = load_rules(&args.rule_source)?;
    let saved = offline::read(&args.evidence).map_err(CommandError::usage)?;
    let language = args.lang.unwrap_or(saved.language);
    let profile = load_profile(&args.profile)?;
    let report = crate::rules::reevaluate(&saved, &rules, language, profile.as_ref());
    let text = if args.summary {
        summary::render(&report, &[])
    } else {
        let mut json = serde_json::to_string_pretty(&report.findings).map_err(|e| {
            CommandError::Failed(Box::new(super::Context {
                what: "cannot serialise the findings".to_string(),
                cause: e.into(),
            }))
        })?;
        json.push('\n');
        json
    };
    if !(args.summary && quiet) {
        print_stdout(&text)?;
    }
    Ok(exit_code(report.fails_at(args.fail_on)))
}

/// `mailaudit merge`: the report of all domains in the JSONL files, judged
/// again.
pub fn merge(args: &MergeArgs, quiet: bool) -> Outcome {
    let formats = formats(&args.output.format, &args.output.out)?;
    let options = RenderOptions {
        pdf_standard: args.output.pdf_standard,
    };
    let rules = load_rules(&args.rule_source)?;
    let profile = load_profile(&args.profile)?;
    let previous = read_baseline(&args.output)?;
    let mut lines = Vec::new();
    for path in &args.inputs {
        lines.extend(batch::read_lines(path, false).map_err(CommandError::usage)?);
    }
    let mut saved = batch::assemble(lines).ok_or_else(|| {
        CommandError::usage(format!(
            "{} hold no domain lines; give the report.jsonl files that `mailaudit scan --format jsonl` wrote",
            args.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let language = args.lang.unwrap_or(saved.language);
    let history = History::consult(&args.record)?;
    match (&history, &previous) {
        (Some(history), _) => history.annotate(&mut saved)?,
        (None, Some(previous)) => annotate_from_baseline(&mut saved, previous),
        (None, None) => {}
    }
    let mut report = crate::rules::reevaluate(&saved, &rules, language, profile.as_ref());
    if let Some(previous) = &previous {
        baseline::compare(&mut report, previous);
    }
    let out_dir = output_dir(&args.output.out)?;
    output::write_all(&report, &formats, &options, out_dir.as_deref(), quiet)?;
    output::print_domain_table(&report, out_dir.as_deref(), quiet);
    if let Some(history) = &history {
        history.record(&report, Source::Merge, quiet)?;
    }
    Ok(exit_code(report.fails_at(args.fail_on)))
}
