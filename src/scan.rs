//! A whole scan: settings in, [`Report`] out. Builds the trust store and the
//! resolver, probes every domain (several at once in a batch, under one
//! set of per-address connection limits), evaluates the rules.

use crate::batch::DomainLine;
use crate::credentials::MailboxLogin;
use crate::evidence::SCHEMA_VERSION;
use crate::judged::Judged;
use crate::probe::{self, ProbeContext, Progress, dns::Dns, trust::TrustStore};
use crate::profile::AuditProfile;
use crate::report::{LEGAL_SNAPSHOT, Report, Settings, Target};
use crate::rules::{self, RULE_SET_VERSION, Rule};
use crate::target::Endpoint;
use crate::{Language, dnssec_anchor};
use chrono::Utc;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use thiserror::Error;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub domains: Vec<String>,
    pub resolver: Option<SocketAddr>,
    pub ca_files: Vec<PathBuf>,
    pub dnssec_anchors: Vec<PathBuf>,
    pub timeout: Duration,
    pub extra_hosts: Vec<Endpoint>,
    pub connections_per_address: usize,
    pub language: Language,
    /// DKIM selectors from `--dkim-selector`, tried before the built-in ones.
    pub dkim_selectors: Vec<String>,
    /// Mailboxes from `--key-lookup` (validated, lower-case domain part).
    pub key_lookups: Vec<String>,
    /// RDAP for LOC-001 (`--rdap-bootstrap`, `--no-location`).
    pub location: probe::location::LocationSettings,
    /// Run the raw-handshake TLS scan (`--no-tls-scan` turns it off).
    pub tls_scan: bool,
    /// Mailboxes to audit read-only (`--mailbox`), with their passwords.
    pub mailboxes: Vec<MailboxLogin>,
    /// Certificate and privacy options of the mailbox audit.
    pub mailbox_options: probe::mailbox::MailboxOptions,
    /// The audit profile (`--profile`), or the defaults.
    pub profile: AuditProfile,
}

/// Why a scan could not start.
#[derive(Debug, Error)]
pub enum ScanError {
    #[error(transparent)]
    Trust(#[from] probe::trust::TrustError),
    #[error(transparent)]
    Resolver(#[from] probe::dns::ResolverError),
    #[error(transparent)]
    Anchor(#[from] dnssec_anchor::AnchorError),
    #[error("cannot write the JSON Lines stream: {0}")]
    Stream(std::io::Error),
}

/// Runs the scan and evaluates `rules` on its evidence.
pub async fn run(
    request: &ScanRequest,
    rules: &[Rule],
    progress: &dyn Progress,
) -> Result<Report, ScanError> {
    let mut ignore = |_: &DomainLine| Ok(());
    let batch = Batch {
        concurrency: 1,
        stop: Arc::new(AtomicBool::new(false)),
        done: Vec::new(),
        on_domain: &mut ignore,
    };
    Ok(run_batch(request, rules, progress, batch).await?.report)
}

/// How a batch of domains is run (`--targets`, `--concurrency`,
/// `--format jsonl`, `--resume`).
pub struct Batch<'a> {
    /// Most domains scanned at once.
    pub concurrency: usize,
    /// Set (by Ctrl-C) to start no further domain; domains in flight finish.
    pub stop: Arc<AtomicBool>,
    /// Domains finished earlier (`--resume`): not scanned, but in the report.
    pub done: Vec<Target>,
    /// Called with each domain as it finishes, e.g. to write its JSONL line.
    pub on_domain: &'a mut (dyn FnMut(&DomainLine) -> std::io::Result<()> + Send),
}

/// What a batch produced.
pub struct BatchOutcome {
    /// All domains finished, in the order of the request.
    pub report: Report,
    /// True when `stop` was set before every domain was started.
    pub interrupted: bool,
}

/// Scans the request's domains, `batch.concurrency` at once, except those in
/// `batch.done`; the per-address connection limits hold across all domains.
pub async fn run_batch(
    request: &ScanRequest,
    rules: &[Rule],
    progress: &dyn Progress,
    batch: Batch<'_>,
) -> Result<BatchOutcome, ScanError> {
    let mut anchors = Vec::new();
    for path in &request.dnssec_anchors {
        anchors.extend(dnssec_anchor::load(path)?);
    }
    let trust = TrustStore::new(&request.ca_files)?;
    let dns = Dns::new(request.resolver, request.timeout)?;
    let started_at = Utc::now();
    let context = ProbeContext {
        trust,
        // Short, so a filtered port costs little (at most 5 s).
        connect_timeout: request.timeout.min(Duration::from_secs(5)),
        step_timeout: request.timeout,
        connections_per_address: request.connections_per_address,
        concurrency: 32,
        scan_time: started_at,
        dnssec_anchors: anchors.clone(),
        dkim_selectors: request.dkim_selectors.clone(),
        key_lookups: request.key_lookups.clone(),
        location: probe::location::RdapCache::new(request.location.clone()),
        tls_scan: request.tls_scan,
        address_limits: probe::AddressLimits::default(),
        endpoints: probe::endpoint_cache::EndpointCache::default(),
    };
    let settings = Settings {
        resolver: dns.description.clone(),
        timeout_seconds: request.timeout.as_secs_f64(),
        connect_timeout_seconds: context.connect_timeout.as_secs_f64(),
        ca_files: request
            .ca_files
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        dnssec_anchors: anchors.iter().map(|a| a.to_string()).collect(),
        extra_hosts: request.extra_hosts.iter().map(Endpoint::subject).collect(),
        connections_per_address: request.connections_per_address,
    };
    let Batch {
        concurrency,
        stop,
        done,
        on_domain,
    } = batch;
    let done_domains: HashSet<&str> = done.iter().map(|t| t.domain.as_str()).collect();
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
        .map(|domain| scan_one(request, domain, &dns, &context, progress))
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
            settings: settings.clone(),
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
        judged.insert(&line.domain, line.findings);
        scanned.push(Target {
            domain: line.domain,
            evidence: line.evidence,
        });
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
            settings,
            profile: request.profile.clone(),
            assessment: rules::assess(rules, &targets, &findings, started_at, &request.profile),
            targets,
            findings,
            baseline: None,
        },
        interrupted,
    })
}

/// Probes one domain and audits its mailboxes.
async fn scan_one(
    request: &ScanRequest,
    domain: &str,
    dns: &Dns,
    context: &ProbeContext,
    progress: &dyn Progress,
) -> Target {
    let started = std::time::Instant::now();
    tracing::info!(domain = %domain, "scanning");
    let mut evidence =
        probe::scan_domain(domain, dns, &request.extra_hosts, context, progress).await;
    for login in mailboxes_of(request, domain) {
        tracing::info!(domain = %domain, user = %login.spec.user, "auditing mailbox");
        evidence.mailboxes.push(
            probe::mailbox::audit(
                login,
                &evidence,
                dns,
                context,
                &request.mailbox_options,
                progress,
            )
            .await,
        );
    }
    tracing::info!(
        domain = %domain,
        endpoints = evidence.endpoints.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "scanned"
    );
    progress.domain_done(domain);
    Target {
        domain: domain.to_string(),
        evidence,
    }
}

/// The mailboxes audited with `domain`: those whose login name is at the
/// domain, and those at no scanned domain go with the first one.
fn mailboxes_of<'a>(request: &'a ScanRequest, domain: &str) -> Vec<&'a MailboxLogin> {
    let first = request.domains.first().map(String::as_str);
    request
        .mailboxes
        .iter()
        .filter(|login| match login.spec.user_domain() {
            Some(at) if request.domains.contains(&at) => at == domain,
            _ => first == Some(domain),
        })
        .collect()
}
