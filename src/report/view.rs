//! The render view: what the HTML and the PDF template show, computed once
//! from the [`Report`] so both documents carry the same facts in the same
//! order and wording. Tera reads it as a context; Typst reads it as
//! `data.json`. Labels are already translated here, so neither template
//! ever prints an enum name.

mod not_run;

use super::assessment::{self, Assessment};
pub use super::rows::{CertificateRow, SeverityCount, shown};
use super::{Report, appendix, charts, mailboxes, strings};
use crate::Language;
use crate::evidence::{EndpointEvidence, PortState};
use crate::finding::AREAS;
use crate::finding::{Finding, Severity, Status};
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything a report template needs.
#[derive(Debug, Serialize)]
pub struct View<'a> {
    pub meta: Meta<'a>,
    /// Who the report is for and how it looks. Filled from the audit profile
    /// once it carries organisation, client, logo and colours; until then
    /// the defaults (no names, the house colour).
    pub branding: Branding,
    /// The fixed texts in the report language (`report-templates/i18n.toml`).
    pub t: &'static BTreeMap<String, String>,
    pub domains: String,
    /// The scan period for people: `2026-11-26 14:41:02 – 14:41:05 UTC`.
    pub period: String,
    pub grade: Grade,
    pub severities: Vec<SeverityCount>,
    pub statuses: Vec<StatusCount>,
    pub worst: Vec<FindingView<'a>>,
    /// Failed findings, most severe first (all of them, unlike `worst`).
    pub failed: Vec<FindingView<'a>>,
    pub areas: Vec<AreaView<'a>>,
    pub endpoints: Vec<EndpointRow>,
    pub certificates: Vec<CertificateRow>,
    pub not_run: Vec<NotRunRow>,
    pub not_applicable: usize,
    /// `--baseline`: new, fixed and unchanged failures; empty without one.
    pub baseline: String,
    pub charts: charts::Charts,
    pub appendix: Vec<appendix::TargetEvidence>,
    /// The sources the findings cite, once each (title, edition, URL), for
    /// the appendix; resolved by the rules stage, only listed here.
    pub sources: Vec<crate::finding::Work>,
    /// Audited mailboxes (`--mailbox`): folders, years, retention.
    pub mailboxes: Vec<mailboxes::MailboxView>,
    /// Each domain with two or more audited mailboxes, added up.
    pub organisations: Vec<mailboxes::OrganisationView>,
    /// What the audit profile declared, as the report's assumptions.
    pub assumptions: Vec<String>,
}

/// Versions and dates printed on the cover and in the disclaimer.
#[derive(Debug, Serialize)]
pub struct Meta<'a> {
    pub language: Language,
    pub tool_version: &'a str,
    pub rule_set_version: &'a str,
    pub legal_snapshot: &'a str,
    pub schema_version: &'a str,
    /// The day the scan finished, `YYYY-MM-DD` (the document date).
    pub date: String,
}

/// The consultant's identity on the cover and in the header. Empty fields
/// are left out of the documents.
#[derive(Debug, Clone, Serialize)]
pub struct Branding {
    /// The organisation that ran the audit (the consultant):
    /// `[branding] auditor` of the audit profile.
    pub organisation: Option<String>,
    /// `[branding] logo` as a `data:` URI.
    pub logo: Option<String>,
    /// The organisation audited: `[organisation] name` of the audit profile.
    pub client: Option<String>,
    /// Accent colour as `#rrggbb`, used for rules and headings.
    pub accent: String,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            organisation: None,
            logo: None,
            client: None,
            accent: "#1d2530".to_string(),
        }
    }
}

/// The overall grade as the rules stage set it ([`assessment::Grade`]).
#[derive(Debug, Serialize)]
pub struct Grade {
    pub letter: &'static str,
    /// CSS class and Typst colour key: the severity that set the grade.
    pub key: &'static str,
}

#[derive(Debug, Serialize)]
pub struct StatusCount {
    pub key: String,
    pub label: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct FindingView<'a> {
    pub finding: &'a Finding,
    pub status_label: String,
    pub severity_label: String,
    pub status_key: String,
}

#[derive(Debug, Serialize)]
pub struct AreaView<'a> {
    pub key: &'static str,
    pub label: String,
    pub findings: Vec<FindingView<'a>>,
}

#[derive(Debug, Serialize)]
pub struct EndpointRow {
    pub subject: String,
    pub protocol: String,
    pub state: String,
    pub tls: String,
    pub expiry: String,
    pub days_left: String,
    pub expiring: bool,
}

#[derive(Debug, Serialize)]
pub struct NotRunRow {
    pub subject: String,
    pub step: String,
    pub status: String,
    pub reason: String,
}

/// Builds the view of `report` in the report's language.
pub fn build(report: &Report) -> View<'_> {
    let language = report.language;
    let label = |key: &str| strings::get(language, key);
    let view_of = |finding| finding_view(finding, language);
    let failures = report.failures_by_severity();
    let severities: Vec<SeverityCount> = Severity::DESCENDING
        .iter()
        .map(|s| SeverityCount {
            key: s.name(),
            label: label(&format!("severity_{s}")),
            count: failures.get(s).copied().unwrap_or(0),
        })
        .collect();
    let statuses = [Status::Fail, Status::Inconclusive, Status::Pass]
        .iter()
        .map(|s| StatusCount {
            key: s.to_string(),
            label: label(&format!("status_{s}")),
            count: report.count(*s),
        })
        .collect();
    let areas = AREAS
        .iter()
        .filter_map(|area| {
            let mut findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.area == *area && f.status != Status::NotApplicable)
                .collect();
            if findings.is_empty() {
                return None;
            }
            findings.sort_by(|a, b| {
                status_rank(a.status)
                    .cmp(&status_rank(b.status))
                    .then(b.severity.cmp(&a.severity))
                    .then(a.rule.cmp(&b.rule))
                    .then(a.subject.cmp(&b.subject))
            });
            Some(AreaView {
                key: area,
                label: label(&format!("area_{area}")),
                findings: findings.into_iter().map(view_of).collect(),
            })
        })
        .collect();
    let endpoints: Vec<&EndpointEvidence> = report
        .targets
        .iter()
        .flat_map(|t| t.evidence.endpoints.iter())
        .filter(|e| shown(e))
        .collect();
    let certificates = certificate_rows(&endpoints, &report.assessment);
    let worst = report.worst();
    View {
        meta: Meta {
            language,
            tool_version: &report.tool_version,
            rule_set_version: &report.rule_set_version,
            legal_snapshot: &report.legal_snapshot,
            schema_version: &report.schema_version,
            date: report.finished_at.format("%Y-%m-%d").to_string(),
        },
        branding: Branding {
            client: report.profile.organisation.name.clone(),
            organisation: report.profile.branding.auditor.clone(),
            logo: report.profile.branding.logo_data_uri.clone(),
            accent: report
                .profile
                .branding
                .colour
                .clone()
                .unwrap_or_else(|| Branding::default().accent),
        },
        t: strings::all(language),
        period: period(report),
        domains: report
            .targets
            .iter()
            .map(|t| t.domain.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        grade: grade(report),
        charts: charts::Charts::new(
            &severities,
            &certificates,
            report.assessment.expiring_days,
            language,
        ),
        severities,
        statuses,
        failed: worst.iter().map(|f| view_of(f)).collect(),
        worst: worst.into_iter().take(10).map(view_of).collect(),
        areas,
        endpoints: endpoint_rows(&endpoints, &report.assessment, language),
        certificates,
        not_run: not_run::rows(report, language),
        not_applicable: report.count(Status::NotApplicable),
        baseline: super::baseline::summary_line(report).unwrap_or_default(),
        appendix: appendix::build(report),
        sources: report.assessment.sources.clone(),
        mailboxes: mailboxes::build(report),
        organisations: mailboxes::organisations(report),
        assumptions: mailboxes::assumptions(
            &report.profile,
            report.assessment.unclassified_retention_years,
            language == Language::De,
        ),
    }
}

/// The grade the rules stage stored, with its colour key; a report
/// written before schema 1.4 has none ("–" until it is re-evaluated).
fn grade(report: &Report) -> Grade {
    match report.assessment.grade {
        Some(grade) => Grade {
            letter: grade.letter(),
            key: match grade {
                assessment::Grade::A => "pass",
                assessment::Grade::B => "low",
                assessment::Grade::C => "medium",
                assessment::Grade::D => "high",
                assessment::Grade::F => "critical",
            },
        },
        None => Grade {
            letter: "–",
            key: "inconclusive",
        },
    }
}

/// Whether the rules stage flagged this leaf certificate as expiring.
fn expiring(assessment: &Assessment, sha256: &str) -> bool {
    assessment
        .certificate(sha256)
        .is_some_and(|certificate| certificate.expiring)
}

fn period(report: &Report) -> String {
    let start = report.started_at.format("%Y-%m-%d %H:%M:%S");
    let end = if report.started_at.date_naive() == report.finished_at.date_naive() {
        report.finished_at.format("%H:%M:%S").to_string()
    } else {
        report.finished_at.format("%Y-%m-%d %H:%M:%S").to_string()
    };
    format!("{start} – {end} UTC")
}

fn finding_view(finding: &Finding, language: Language) -> FindingView<'_> {
    FindingView {
        finding,
        status_label: strings::get(language, &format!("status_{}", finding.status)),
        severity_label: strings::get(language, &format!("severity_{}", finding.severity)),
        status_key: finding.status.to_string(),
    }
}

fn status_rank(status: Status) -> u8 {
    match status {
        Status::Fail => 0,
        Status::Inconclusive => 1,
        Status::Pass => 2,
        Status::NotApplicable => 3,
    }
}

fn endpoint_rows(
    endpoints: &[&EndpointEvidence],
    assessment: &Assessment,
    language: Language,
) -> Vec<EndpointRow> {
    let mut seen = std::collections::HashSet::new();
    endpoints
        .iter()
        .filter(|e| seen.insert(e.subject.clone()))
        .map(|e| {
            let state = match e.tcp.value().map(|t| t.state) {
                Some(PortState::Open) => "state_open",
                Some(PortState::Closed) => "state_closed",
                Some(PortState::Filtered) => "state_filtered",
                None => "state_unknown",
            };
            let tls = e.tls.value();
            let leaf = tls.and_then(|t| t.chain.first());
            EndpointRow {
                subject: e.subject.clone(),
                protocol: e.protocol.to_string(),
                state: strings::get(language, state),
                tls: tls
                    .map(|t| format!("{} {}", t.version, t.cipher_suite))
                    .unwrap_or_else(|| "–".to_string()),
                expiry: leaf
                    .map(|c| c.not_after.chars().take(10).collect())
                    .unwrap_or_else(|| "–".into()),
                days_left: leaf
                    .map(|c| c.days_left.to_string())
                    .unwrap_or_else(|| "–".into()),
                expiring: leaf.is_some_and(|c| expiring(assessment, &c.sha256)),
            }
        })
        .collect()
}

/// One row per distinct leaf certificate (by SHA-256), soonest expiry first.
fn certificate_rows(
    endpoints: &[&EndpointEvidence],
    assessment: &Assessment,
) -> Vec<CertificateRow> {
    let mut by_hash: BTreeMap<&str, (CertificateRow, Vec<&str>)> = BTreeMap::new();
    for endpoint in endpoints {
        let Some(leaf) = endpoint.tls.value().and_then(|t| t.chain.first()) else {
            continue;
        };
        let entry = by_hash.entry(&leaf.sha256).or_insert_with(|| {
            let name = leaf
                .common_name
                .clone()
                .or_else(|| leaf.san_dns.first().cloned())
                .unwrap_or_else(|| leaf.subject.clone());
            let algorithm = match leaf.key.algorithm.as_str() {
                "rsa" => "RSA",
                "ec" => "EC",
                "ed25519" => "Ed25519",
                "ed448" => "Ed448",
                "dsa" => "DSA",
                other => other,
            };
            let key = match &leaf.key.curve {
                Some(curve) => format!("{algorithm} {} ({curve})", leaf.key.bits),
                None => format!("{algorithm} {}", leaf.key.bits),
            };
            let row = CertificateRow {
                name,
                names: shorten_list(&leaf.san_dns, 4),
                issuer: leaf.issuer.clone(),
                key,
                signature: leaf.signature.algorithm.clone(),
                not_after: leaf.not_after.chars().take(10).collect(),
                days_left: leaf.days_left,
                expiring: expiring(assessment, &leaf.sha256),
                used_by: String::new(),
            };
            (row, Vec::new())
        });
        if !entry.1.contains(&endpoint.subject.as_str()) {
            entry.1.push(&endpoint.subject);
        }
    }
    let mut rows: Vec<CertificateRow> = by_hash
        .into_values()
        .map(|(mut row, users)| {
            let users: Vec<String> = users.into_iter().map(str::to_string).collect();
            row.used_by = shorten_list(&users, 6);
            row
        })
        .collect();
    rows.sort_by(|a, b| a.days_left.cmp(&b.days_left).then(a.name.cmp(&b.name)));
    rows
}

/// `a, b, c, d, +3`: long lists stay one line in a table cell.
fn shorten_list(items: &[String], keep: usize) -> String {
    let mut text = items
        .iter()
        .take(keep)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > keep {
        text.push_str(&format!(", +{}", items.len() - keep));
    }
    text
}
