//! `mailaudit rules list` and `mailaudit rules check`.

use super::{CommandError, Outcome, load_rules};
use crate::Language;
use crate::cli::RuleSource;
use crate::rules::{self, examples};
use std::io::Write;
use std::path::Path;

/// `mailaudit rules list`: ID, severity, area and title of each rule.
pub fn list(source: &RuleSource) -> Outcome {
    let rules = load_rules(source)?;
    let mut out = std::io::stdout().lock();
    for rule in &rules {
        let _ = writeln!(
            out,
            "{}  {:<8}  {:<12}  {}",
            rule.id,
            rule.severity.name(),
            rule.area,
            rule.title.en
        );
    }
    let _ = writeln!(
        out,
        "{} rules, rule set {}",
        rules.len(),
        rules::RULE_SET_VERSION
    );
    Ok(0)
}

/// `mailaudit rules check DIR`: parses every rule file (CEL, references,
/// severities), checks the string literals compared with enum fields
/// against the report schema, and runs the examples each file carries.
pub fn check(dir: &Path) -> Outcome {
    let rules = rules::from_dir(dir).map_err(CommandError::usage)?;
    let mut problems = Vec::new();
    // Literals compared with enum fields must be values the evidence can
    // hold (issue 14: GOV-002 compared with 'adequate', never written).
    let schema = rules::tables::schema::rule_view(crate::report::schema::generate());
    let schema = rules::SchemaIndex::new(&schema);
    for rule in &rules {
        problems.extend(
            rules::literal_problems(rule, &schema)
                .iter()
                .map(ToString::to_string),
        );
    }
    let run = examples::run(&rules, &[Language::En]).map_err(CommandError::usage)?;
    problems.extend(run.problems.iter().map(ToString::to_string));
    if !problems.is_empty() {
        return Err(CommandError::usage(format!(
            "{} problem(s) in {}: a literal the evidence never holds, or an example that does not hold:\n  {}",
            problems.len(),
            dir.display(),
            problems.join("\n  ")
        )));
    }
    println!(
        "{}: {} rules, {} examples hold",
        dir.display(),
        rules.len(),
        run.examples
    );
    Ok(0)
}
