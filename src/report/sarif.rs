//! `report.sarif`: SARIF 2.1.0 (OASIS) for code-scanning dashboards, built
//! with the typed model of `serde-sarif`.
//!
//! Every rule that produced a finding becomes a reporting descriptor (title,
//! remediation, references in `properties`). Failed findings are results with
//! a level from their severity (critical and high → error, medium → warning,
//! low and info → note); inconclusive findings are results of kind `review`,
//! because missing evidence is never a pass. The subject (`HOST:PORT`,
//! `dns:DOMAIN`) is a logical location: there is no source file to point at.

use super::{RenderError, Report};
use crate::finding::{Finding, Severity, Status};
use serde_sarif::sarif::{
    Location, LogicalLocation, Message, MultiformatMessageString, PropertyBag, ReportingDescriptor,
    Result as SarifResult, ResultKind, ResultLevel, Run, SCHEMA_URL, Sarif, Tool, ToolComponent,
    Version,
};
use std::collections::BTreeMap;

/// Renders the report as a SARIF 2.1.0 log with one run.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut first_of_rule: BTreeMap<&str, &Finding> = BTreeMap::new();
    for finding in &report.findings {
        first_of_rule
            .entry(finding.rule.as_str())
            .or_insert(finding);
    }
    let index: BTreeMap<&str, usize> = first_of_rule
        .keys()
        .enumerate()
        .map(|(i, rule)| (*rule, i))
        .collect();
    let rules: Vec<ReportingDescriptor> = first_of_rule.values().map(|f| descriptor(f)).collect();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Inconclusive))
        .map(|f| result(f, index.get(f.rule.as_str()).copied().unwrap_or(0)))
        .collect();
    let driver = ToolComponent::builder()
        .name("mailaudit")
        .version(report.tool_version.clone())
        .semantic_version(report.tool_version.clone())
        .rules(rules)
        .properties(
            PropertyBag::builder()
                .additional_properties(BTreeMap::from([
                    (
                        "ruleSetVersion".to_string(),
                        report.rule_set_version.clone().into(),
                    ),
                    (
                        "legalSnapshot".to_string(),
                        report.legal_snapshot.clone().into(),
                    ),
                ]))
                .build(),
        )
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URL)
        .version(serde_json::to_value(Version::V2_1_0)?)
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log)?;
    text.push('\n');
    Ok(text)
}

fn descriptor(finding: &Finding) -> ReportingDescriptor {
    let mut descriptor = ReportingDescriptor::builder()
        .id(finding.rule.clone())
        .short_description(
            MultiformatMessageString::builder()
                .text(finding.title.clone())
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(format!("{} — {}", finding.title, finding.remediation))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec![finding.area.clone()])
                .additional_properties(BTreeMap::from([
                    (
                        "references".to_string(),
                        serde_json::json!(finding.references),
                    ),
                    (
                        "citations".to_string(),
                        serde_json::json!(finding.citations),
                    ),
                ]))
                .build(),
        )
        .build();
    // The first cited source is the rule's help (SARIF §3.49.12); all
    // citations, with edition and pinpoint, are in the properties.
    descriptor.help_uri = finding.citations.first().map(|c| c.url.clone());
    descriptor
}

fn result(finding: &Finding, rule_index: usize) -> SarifResult {
    let (kind, level) = match finding.status {
        Status::Fail => (ResultKind::Fail, level(finding.severity)),
        // SARIF §3.27.9: a result that is not a failure has level none.
        _ => (ResultKind::Review, ResultLevel::None),
    };
    let location = Location::builder()
        .logical_locations(vec![
            LogicalLocation::builder()
                .name(finding.subject.clone())
                .fully_qualified_name(finding.subject.clone())
                .build(),
        ])
        .build();
    SarifResult::builder()
        .rule_id(finding.rule.clone())
        .rule_index(rule_index as i64)
        .kind(kind)
        .level(level)
        .message(
            Message::builder()
                .text(format!("{}: {}", finding.title, finding.detail))
                .build(),
        )
        .locations(vec![location])
        // Lets dashboards follow one finding across scans.
        .partial_fingerprints(BTreeMap::from([(
            "mailaudit/v1".to_string(),
            format!("{}|{}", finding.rule, finding.subject),
        )]))
        .properties(
            PropertyBag::builder()
                .additional_properties(BTreeMap::from([
                    ("severity".to_string(), finding.severity.name().into()),
                    ("status".to_string(), finding.status.to_string().into()),
                ]))
                .build(),
        )
        .build()
}

/// SARIF level for a failed finding's severity.
pub fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}
