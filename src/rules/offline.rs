//! Judging a saved report again, offline: the rules re-run on its evidence
//! and the assessment (grade, expiry, retention) is computed anew. Nothing
//! here touches the network: evidence is collected once and evaluated many
//! times. Reading the file is [`crate::report::offline::read`].

use super::{RULE_SET_VERSION, Rule, assess, evaluate};
use crate::Language;
use crate::evidence::SCHEMA_VERSION;
use crate::profile::AuditProfile;
use crate::report::Report;

/// Re-runs `rules` on the evidence of `saved`, with the scan's start as the
/// time rules judge by (so certificate ages come out as in the scan), and
/// returns the report as this build writes it. A baseline comparison in
/// `saved` is dropped; pass `--baseline` again to get one.
///
/// `profile` replaces the saved report's audit profile (`--profile`).
pub fn reevaluate(
    saved: &Report,
    rules: &[Rule],
    language: Language,
    profile: Option<&AuditProfile>,
) -> Report {
    let mut report = saved.clone();
    if let Some(profile) = profile {
        report.profile = profile.clone();
    }
    report.findings = evaluate(
        rules,
        saved.targets.iter().map(|t| &t.evidence),
        saved.started_at,
        language,
        &report.profile,
    );
    report.assessment = assess(
        rules,
        &report.targets,
        &report.findings,
        saved.started_at,
        &report.profile,
    );
    report.language = language;
    report.schema_version = SCHEMA_VERSION.to_string();
    report.rule_set_version = RULE_SET_VERSION.to_string();
    report.baseline = None;
    report
}
