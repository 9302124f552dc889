//! The scan loop of a batch: `--concurrency` domains side by side under one
//! set of per-address connection limits, each judged and handed on (to the
//! JSON Lines stream) as it finishes, and, unless the report is assembled
//! from the stream afterwards, kept for the report.

use super::DomainLine;
use super::judged::Judged;
use crate::evidence::SCHEMA_VERSION;
use crate::probe::Progress;
use crate::report::{LEGAL_SNAPSHOT, Report, Target};
use crate::rules::{self, RULE_SET_VERSION, Rule};
use crate::scan::{ScanError, ScanRequest, Session};
use chrono::Utc;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How a batch of domains is run (`--targets`, `--concurrency`,
/// `--format jsonl`, `--resume`).
pub struct Batch<'a> {
    /// Most domains scanned at once.
    pub concurrency: usize,
    /// Set (by Ctrl-C) to start no further domain; domains in flight finish.
    pub stop: Arc<AtomicBool>,
    /// Domains finished earlier (`--resume`), not scanned again.
    pub skip: HashSet<String>,
    /// Their evidence, when the report is kept in memory (`keep`).
    pub done: Vec<Target>,
    /// Called with each domain as it finishes, e.g. to write its JSONL line.
    pub on_domain: &'a mut (dyn FnMut(&DomainLine) -> std::io::Result<()> + Send),
    /// Keep every finished domain for the report. When false, the report
    /// holds no targets and no findings: they are only in the lines, and
    /// [`super::streamed`] writes `report.json` from them.
    pub keep: bool,
}

/// What a batch produced.
pub struct BatchOutcome {
    /// All domains finished, in the order of the request, with their
    /// findings; without either when the batch did not keep them.
    pub report: Report,
    /// True when `stop` was set before every domain was started.
    pub interrupted: bool,
}

/// Scans the request's domains, `batch.concurrency` at once, except those in
/// `batch.skip` and `batch.done`; the per-address connection limits hold
/// across all domains.
pub async fn run_batch(
    request: &ScanRequest,
    rules: &[Rule],
    progress: &dyn Progress,
    batch: Batch<'_>,
) -> Result<BatchOutcome, ScanError> {
    let session = Session::new(request)?;
    let started_at = session.started_at;
    let Batch {
        concurrency,
        stop,
        skip,
        done,
        on_domain,
        keep,
    } = batch;
    let done_domains: HashSet<&str> = done
        .iter()
        .map(|t| t.domain.as_str())
        .chain(skip.iter().map(String::as_str))
        .collect();
    let pending: Vec<&String> = request
        .domains
        .iter()
        .filter(|d| !done_domains.contains(d.as_str()))
        .collect();
    let total = pending.len();
    let mut started = 0usize;
    let stop_flag = stop.clone();
    let mut scanning = futures::stream::iter(pending)
        // Checked as each domain is about to start: after Ctrl-C, none starts.
        .take_while(|_| futures::future::ready(!stop_flag.load(Ordering::SeqCst)))
        .inspect(|_| started += 1)
        .map(|domain| session.scan_one(request, domain, progress))
        .buffer_unordered(concurrency.max(1));
    let mut scanned = Vec::new();
    // Each line's findings, reused for the report below.
    let mut judged = Judged::default();
    while let Some(target) = scanning.next().await {
        let line = DomainLine {
            schema_version: SCHEMA_VERSION.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            domain: target.domain.clone(),
            language: request.language,
            started_at,
            finished_at: Utc::now(),
            settings: session.settings.clone(),
            findings: rules::evaluate(
                rules,
                [&target.evidence],
                started_at,
                request.language,
                &request.profile,
            ),
            evidence: target.evidence,
        };
        on_domain(&line).map_err(ScanError::Stream)?;
        if keep {
            judged.insert(&line.domain, line.findings);
            scanned.push(Target {
                domain: line.domain,
                evidence: line.evidence,
            });
        }
    }
    drop(scanning);
    let interrupted = started < total;
    let mut by_domain: HashMap<String, Target> = done
        .into_iter()
        .chain(scanned)
        .map(|t| (t.domain.clone(), t))
        .collect();
    let targets: Vec<Target> = request
        .domains
        .iter()
        .filter_map(|d| by_domain.remove(d))
        .collect();
    let finished_at = Utc::now();
    // What `rules::evaluate` over all targets gives, without judging every
    // domain a second time; domains resumed from an earlier run are judged
    // here.
    let findings = judged.assemble(targets.iter().map(|t| t.domain.as_str()), |domain| {
        let evidence = targets
            .iter()
            .find(|t| t.domain == domain)
            .map(|t| &t.evidence);
        rules::evaluate(
            rules,
            evidence,
            started_at,
            request.language,
            &request.profile,
        )
    });
    Ok(BatchOutcome {
        report: Report {
            schema_version: SCHEMA_VERSION.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            rule_set_version: RULE_SET_VERSION.to_string(),
            legal_snapshot: LEGAL_SNAPSHOT.to_string(),
            language: request.language,
            started_at,
            finished_at,
            settings: session.settings,
            profile: request.profile.clone(),
            assessment: rules::assess(rules, &targets, &findings, started_at, &request.profile),
            targets,
            findings,
            baseline: None,
        },
        interrupted,
    })
}
