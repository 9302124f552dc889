//! `report.html`: self-contained (inline CSS, no scripts, no external
//! assets), rendered with Tera from `report-templates/report.html`.

use super::strings;
use super::{RenderError, Report};
use crate::evidence::{AttemptStatus, EndpointEvidence, PortState};
use crate::finding::{Finding, Severity, Status};
use crate::rules::file::AREAS;
use serde::Serialize;

const TEMPLATE: &str = include_str!("../../report-templates/report.html");

#[derive(Serialize)]
struct View<'a> {
    report: &'a Report,
    t: &'static std::collections::BTreeMap<String, String>,
    domains: String,
    /// The scan period for people: `2026-11-26 14:41:02 – 14:41:05 UTC`.
    period: String,
    severities: Vec<SeverityCount>,
    statuses: Vec<StatusCount>,
    worst: Vec<FindingView<'a>>,
    areas: Vec<AreaView<'a>>,
    endpoints: Vec<EndpointRow>,
    not_run: Vec<NotRunRow>,
    not_applicable: usize,
}

#[derive(Serialize)]
struct SeverityCount {
    key: &'static str,
    label: String,
    count: usize,
}

#[derive(Serialize)]
struct StatusCount {
    key: String,
    label: String,
    count: usize,
}

#[derive(Serialize)]
struct FindingView<'a> {
    finding: &'a Finding,
    status_label: String,
    severity_label: String,
    status_key: String,
}

#[derive(Serialize)]
struct AreaView<'a> {
    key: &'static str,
    label: String,
    findings: Vec<FindingView<'a>>,
}

#[derive(Serialize)]
struct EndpointRow {
    subject: String,
    protocol: String,
    state: String,
    tls: String,
    expiry: String,
    days_left: String,
    expiring: bool,
}

#[derive(Serialize)]
struct NotRunRow {
    subject: String,
    step: &'static str,
    status: String,
    reason: String,
}

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let language = report.language;
    let label = |key: &str| strings::get(language, key);
    let view_of = |finding| finding_view(finding, language);
    let failures = report.failures_by_severity();
    let severities = Severity::DESCENDING
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
        .collect();
    let view = View {
        report,
        t: strings::all(language),
        period: period(report),
        domains: report
            .targets
            .iter()
            .map(|t| t.domain.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        severities,
        statuses,
        worst: report.worst().into_iter().take(10).map(view_of).collect(),
        areas,
        endpoints: endpoint_rows(&endpoints, language),
        not_run: not_run_rows(&endpoints),
        not_applicable: report.count(Status::NotApplicable),
    };
    let context =
        tera::Context::from_serialize(&view).map_err(|e| RenderError::Template(e.to_string()))?;
    let mut tera = tera::Tera::default();
    tera.add_raw_template("report.html", TEMPLATE)
        .map_err(|e| RenderError::Template(format!("{e:?}")))?;
    tera.render("report.html", &context)
        .map_err(|e| RenderError::Template(format!("{e:?}")))
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

fn finding_view(finding: &Finding, language: crate::Language) -> FindingView<'_> {
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

/// Rows for endpoints that answered or were declared; closed ports nobody
/// declared are left out.
fn endpoint_rows(endpoints: &[&EndpointEvidence], language: crate::Language) -> Vec<EndpointRow> {
    let mut seen = std::collections::HashSet::new();
    endpoints
        .iter()
        .filter(|e| e.expected || e.tcp.value().is_some_and(|t| t.state == PortState::Open))
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
                expiring: leaf.is_some_and(|c| c.days_left < 30),
            }
        })
        .collect()
}

/// Every probe step that failed, or was skipped for a reason other than a
/// closed port nobody declared.
fn not_run_rows(endpoints: &[&EndpointEvidence]) -> Vec<NotRunRow> {
    let mut rows = Vec::new();
    for e in endpoints {
        let relevant = e.expected || e.tcp.value().is_some_and(|t| t.state == PortState::Open);
        if !relevant {
            continue;
        }
        let steps: [(&'static str, AttemptStatus, Option<&String>); 3] = [
            ("tcp", e.tcp.status, e.tcp.reason.as_ref()),
            ("dialogue", e.dialogue.status, e.dialogue.reason.as_ref()),
            ("tls", e.tls.status, e.tls.reason.as_ref()),
        ];
        for (step, status, reason) in steps {
            if status != AttemptStatus::Completed {
                rows.push(NotRunRow {
                    subject: e.subject.clone(),
                    step,
                    status: format!("{status:?}").to_lowercase(),
                    reason: reason.cloned().unwrap_or_default(),
                });
            }
        }
    }
    rows
}
