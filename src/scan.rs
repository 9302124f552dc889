//! What a scan needs before its first domain ([`ScanRequest`], [`Session`]:
//! the trust store, the resolver, the probe context) and the probing of one
//! domain. Running many domains side by side is [`crate::batch::run`].

use crate::credentials::MailboxLogin;
use crate::evidence::{Attempt, AuditHistoryEvidence, history_not_consulted};
use crate::probe::{self, ProbeContext, Progress, dns::Dns, trust::TrustStore};
use crate::profile::AuditProfile;
use crate::report::{Settings, Target};
use crate::target::Endpoint;
use crate::{Language, dnssec_anchor};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Mailbox audits of one domain in flight at once; the per-server session
/// limit (`--sessions-per-server`, in the mailbox probe) is the real bound.
const MAILBOXES_AT_ONCE: usize = 32;

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
    /// Run the active TLS checks with it (`--no-active-tls-checks` turns
    /// them off).
    pub active_tls_checks: bool,
    /// Check the leaf certificates' revocation status (`--no-revocation`
    /// turns it off for offline scans).
    pub revocation: bool,
    /// The opt-in relay test (`--relay-test`, `--relay-test-source`).
    pub relay_test: Option<probe::context::RelayTestSettings>,
    /// Mailboxes to audit read-only (`--mailbox`), with their passwords.
    pub mailboxes: Vec<MailboxLogin>,
    /// Certificate and privacy options of the mailbox audit.
    pub mailbox_options: probe::mailbox::MailboxOptions,
    /// The audit profile (`--profile`), or the defaults.
    pub profile: AuditProfile,
    /// What the history store (`--history`) holds about each domain's
    /// earlier scans, read by the command layer before the scan; `None`
    /// without a store. Written into each domain's evidence for GOV-001.
    pub history: Option<BTreeMap<String, AuditHistoryEvidence>>,
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

/// What every domain of a scan shares: the resolver, the probe context
/// (trust store, timeouts, per-address limits, endpoint cache), the
/// settings the report records, and the time the scan started, by which
/// the rules judge.
pub struct Session {
    pub dns: Dns,
    pub context: ProbeContext,
    pub settings: Settings,
    pub started_at: DateTime<Utc>,
}

impl Session {
    /// Loads the trust anchors and CA files and builds the resolver.
    pub fn new(request: &ScanRequest) -> Result<Session, ScanError> {
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
            active_tls_checks: request.active_tls_checks,
            // The fetch timeout follows --timeout.
            revocation: request.revocation.then(|| probe::revocation::Limits {
                timeout: request.timeout,
                ..probe::revocation::Limits::default()
            }),
            address_limits: probe::AddressLimits::default(),
            mailbox_sessions: probe::AddressLimits::default(),
            endpoints: probe::endpoint_cache::EndpointCache::default(),
            relay_test: request.relay_test.clone(),
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
        Ok(Session {
            dns,
            context,
            settings,
            started_at,
        })
    }

    /// Probes one domain and audits its mailboxes.
    pub async fn scan_one(
        &self,
        request: &ScanRequest,
        domain: &str,
        progress: &dyn Progress,
    ) -> Target {
        scan_one(request, domain, &self.dns, &self.context, progress).await
    }
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
    // Several mailboxes at once, in the order given; each waits for a
    // session slot on its IMAP server (`--sessions-per-server`).
    let logins = mailboxes_of(request, domain);
    let domain_evidence = &evidence;
    let audits: Vec<_> = futures::stream::iter(logins)
        .map(|login| async move {
            tracing::info!(domain = %domain, user = %login.spec.user, "auditing mailbox");
            probe::mailbox::audit(
                login,
                domain_evidence,
                dns,
                context,
                &request.mailbox_options,
                progress,
            )
            .await
        })
        .buffered(MAILBOXES_AT_ONCE)
        .collect()
        .await;
    evidence.mailboxes.extend(audits);
    tracing::info!(
        domain = %domain,
        endpoints = evidence.endpoints.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "scanned"
    );
    evidence.history = match &request.history {
        None => history_not_consulted(),
        Some(facts) => {
            Attempt::completed(facts.get(domain).cloned().unwrap_or(AuditHistoryEvidence {
                previous_scan: None,
                scans_on_record: 0,
            }))
        }
    };
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
