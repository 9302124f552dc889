//! `report.html`: self-contained (inline CSS, no scripts, no external
//! assets), rendered with Tera from `report-templates/report.html`.

use super::strings;
use super::{RenderError, Report};
use crate::evidence::{EndpointEvidence, PortState};
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
    /// `--baseline`: new, fixed and unchanged failures; empty without one.
    baseline: String,
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
    step: String,
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
        not_run: not_run_rows(report),
        not_applicable: report.count(Status::NotApplicable),
        baseline: super::baseline::summary_line(report).unwrap_or_default(),
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

/// Every probe step that failed or was skipped, found by walking the
/// evidence for attempts, so a new probe shows up here without code. Steps
/// of closed ports nobody declared are left out: they are not offered.
fn not_run_rows(report: &Report) -> Vec<NotRunRow> {
    let mut rows = Vec::new();
    for target in &report.targets {
        let evidence = &target.evidence;
        let Ok(mut json) = serde_json::to_value(evidence) else {
            continue;
        };
        if let Some(object) = json.as_object_mut() {
            object.remove("endpoints");
        }
        // Domain-level skips are by design ("no TLSA records, nothing to
        // match"); only failures are news there.
        collect_attempts(
            &json,
            &format!("dns:{}", target.domain),
            "",
            false,
            &mut rows,
        );
        for endpoint in evidence
            .endpoints
            .iter()
            .filter(|e| e.expected || e.tcp.value().is_some_and(|t| t.state == PortState::Open))
        {
            if let Ok(json) = serde_json::to_value(endpoint) {
                collect_attempts(&json, &endpoint.subject, "", true, &mut rows);
            }
        }
    }
    rows
}

fn collect_attempts(
    json: &serde_json::Value,
    subject: &str,
    path: &str,
    with_skipped: bool,
    rows: &mut Vec<NotRunRow>,
) {
    match json {
        serde_json::Value::Object(fields) => {
            let status = fields.get("status").and_then(|s| s.as_str());
            let shown = status == Some("failed") || (with_skipped && status == Some("skipped"));
            if let (true, Some(status), Some(reason)) =
                (shown, status, fields.get("reason").and_then(|r| r.as_str()))
            {
                rows.push(NotRunRow {
                    subject: subject.to_string(),
                    step: path.trim_start_matches('.').to_string(),
                    status: status.to_string(),
                    reason: reason.to_string(),
                });
                return;
            }
            for (key, value) in fields {
                collect_attempts(value, subject, &format!("{path}.{key}"), with_skipped, rows);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_attempts(
                    item,
                    subject,
                    &format!("{path}[{index}]"),
                    with_skipped,
                    rows,
                );
            }
        }
        _ => {}
    }
}
