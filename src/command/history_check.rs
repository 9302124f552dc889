//! `mailaudit history check`: GOV-001 as of now for every domain the
//! profile lists (`[audit] domains`) and every domain the history holds,
//! judged on the history fact alone by the rule set's own GOV-001, the
//! rule a scan runs. For a reminder from cron before an audit is missed.

use super::{CommandError, Outcome, exit_code, load_rules};
use crate::Language;
use crate::cli::{ListFormat, RuleSource};
use crate::evidence::{Attempt, AuditHistoryEvidence};
use crate::finding::Status;
use crate::profile::AuditProfile;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The rule judged.
const RULE: &str = "GOV-001";

/// One domain's verdict.
#[derive(Debug, Serialize)]
struct Overdue {
    domain: String,
    last_scan: Option<DateTime<Utc>>,
    scans: u64,
    in_profile: bool,
    status: String,
    severity: String,
    detail: String,
}

/// `mailaudit history check`: `facts` holds each domain to judge (the
/// profile's and the history's) with what the history knows of it at `now`.
pub fn run(
    profile: &AuditProfile,
    facts: &BTreeMap<String, AuditHistoryEvidence>,
    rule_source: &RuleSource,
    language: Language,
    format: ListFormat,
    now: DateTime<Utc>,
) -> Outcome {
    let rules = load_rules(rule_source)?;
    let rule = rules.iter().find(|r| r.id == RULE).ok_or_else(|| {
        CommandError::usage(format!(
            "the rule set in use has no {RULE}; drop --no-default-rules or add rules/{RULE}.toml"
        ))
    })?;
    let profile_json =
        serde_json::to_value(profile).map_err(|e| CommandError::Failed(Box::new(e)))?;
    let mut verdicts = Vec::new();
    for (domain, fact) in facts {
        let variables = BTreeMap::from([
            (
                "domain".to_string(),
                serde_json::json!({ "domain": domain, "history": Attempt::completed(fact.clone()) }),
            ),
            ("profile".to_string(), profile_json.clone()),
        ]);
        let verdict = crate::rules::evaluate_rule(rule, &variables, now, language);
        verdicts.push(Overdue {
            domain: domain.clone(),
            last_scan: fact.previous_scan,
            scans: fact.scans_on_record,
            in_profile: profile.audit.domains.contains(domain),
            status: verdict.status.to_string(),
            severity: verdict.severity.to_string(),
            detail: verdict.detail,
        });
    }
    let overdue = verdicts
        .iter()
        .any(|v| v.status == Status::Fail.to_string());
    let text = match format {
        ListFormat::Json => {
            let mut text = serde_json::to_string_pretty(&verdicts)
                .map_err(|e| CommandError::Failed(Box::new(e)))?;
            text.push('\n');
            text
        }
        ListFormat::Text => table(&verdicts),
    };
    super::output::print_stdout(&text)?;
    Ok(exit_code(overdue))
}

fn table(verdicts: &[Overdue]) -> String {
    if verdicts.is_empty() {
        return "No domain to check: the history is empty and the profile lists no [audit] domains.\n".into();
    }
    let width = verdicts
        .iter()
        .map(|v| v.domain.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<16}  {:>5}  {:<12}  detail",
        "domain", "last scan (UTC)", "scans", "GOV-001"
    );
    for verdict in verdicts {
        let last = verdict.last_scan.map_or_else(
            || "never".to_string(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        );
        let _ = writeln!(
            out,
            "{:<width$}  {:<16}  {:>5}  {:<12}  {}",
            verdict.domain, last, verdict.scans, verdict.status, verdict.detail
        );
    }
    out
}
