//! Loading and validating rule files: the embedded defaults, then `--rules
//! DIR` on top. Every error names the file, the line and the reason.

use super::file::{
    AREAS, CheckFile, RuleFile, SubjectKind, Text, parse_severity, reference_problem,
};
use super::{Check, Expression, Rule, Template};
use include_dir::{Dir, include_dir};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// The variables a rule's example may set (see [`SubjectKind`]).
const VARIABLES: [&str; 6] = [
    "domain",
    "endpoint",
    "host",
    "mailbox",
    "retention",
    "profile",
];

static DEFAULT_RULES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// A rule file that cannot be used.
#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{file}:{line}: {reason}")]
    Invalid {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("cannot read rules from {path}: {reason}")]
    Read { path: String, reason: String },
}

/// The embedded default rules.
pub fn defaults() -> Result<Vec<Rule>, RuleError> {
    let mut files: Vec<_> = DEFAULT_RULES
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort_by_key(|f| f.path().to_path_buf());
    files
        .into_iter()
        .map(|f| {
            let name = format!("rules/{}", f.path().display());
            let text = f.contents_utf8().ok_or_else(|| RuleError::Invalid {
                file: name.clone(),
                line: 1,
                reason: "the file is not UTF-8".into(),
            })?;
            parse(&name, text)
        })
        .collect()
}

/// Rules from `*.toml` files in `dir`.
pub fn from_dir(dir: &Path) -> Result<Vec<Rule>, RuleError> {
    let read_error = |e: std::io::Error| RuleError::Read {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(RuleError::Read {
            path: dir.display().to_string(),
            reason: "the directory holds no *.toml rule files".into(),
        });
    }
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| RuleError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            parse(&path.display().to_string(), &text)
        })
        .collect()
}

/// Merges `extra` over `base`: a rule with the same ID replaces the default.
pub fn merge(base: Vec<Rule>, extra: Vec<Rule>) -> Vec<Rule> {
    let mut by_id: BTreeMap<String, Rule> = base.into_iter().map(|r| (r.id.clone(), r)).collect();
    for rule in extra {
        by_id.insert(rule.id.clone(), rule);
    }
    by_id.into_values().collect()
}

/// Parses and validates one rule file.
pub fn parse(file: &str, text: &str) -> Result<Rule, RuleError> {
    let invalid = |line: usize, reason: String| RuleError::Invalid {
        file: file.to_string(),
        line,
        reason,
    };
    let raw: RuleFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        invalid(line, e.message().to_string())
    })?;
    let line_of = |needle: &str| line_of(text, needle);

    if !is_rule_id(&raw.id) {
        return Err(invalid(
            line_of("id"),
            format!(
                "'{}' is not a catalogue ID like TLS-001 (GROUP-NNN)",
                raw.id
            ),
        ));
    }
    let stem = Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != raw.id {
        return Err(invalid(
            line_of("id"),
            format!("the file must be named after its ID: {}.toml", raw.id),
        ));
    }
    if !AREAS.contains(&raw.area.as_str()) {
        return Err(invalid(
            line_of("area"),
            format!(
                "unknown area '{}'; use one of {}",
                raw.area,
                AREAS.join(", ")
            ),
        ));
    }
    let severity = parse_severity(&raw.severity).map_err(|e| invalid(line_of("severity"), e))?;
    if raw.references.is_empty() {
        return Err(invalid(
            line_of("references"),
            "a rule needs at least one reference".into(),
        ));
    }
    for reference in &raw.references {
        if let Some(problem) = reference_problem(reference) {
            // The quoted form finds the `references` entry, not a comment
            // that names the same guideline earlier in the file.
            let quoted = format!("\"{reference}\"");
            let line = if text.contains(&quoted) {
                line_of(&quoted)
            } else {
                line_of(reference)
            };
            return Err(invalid(line, problem));
        }
    }
    let compile = |source: &str| -> Result<Expression, RuleError> {
        let line = line_of(source.lines().next().unwrap_or(source));
        Expression::compile(source)
            .map(|expression| expression.on_line(line))
            .map_err(|e| invalid(line, format!("CEL expression does not compile: {e}")))
    };
    for (name, value) in &raw.parameters {
        if !is_identifier(name) || *value < 0 {
            return Err(invalid(
                line_of(name),
                format!(
                    "parameter '{name}' must be a lower-case identifier with a number of 0 or more"
                ),
            ));
        }
    }
    if let Some((_, name)) = super::OWNED_PARAMETERS
        .iter()
        .find(|(id, name)| *id == raw.id && !raw.parameters.contains_key(*name))
    {
        return Err(invalid(
            1,
            format!(
                "{} needs the parameter '{name}' in [parameters]: the report reads it",
                raw.id
            ),
        ));
    }
    let reserved = ["domain", "endpoint", "host", "now", "parameters"];
    let mut bindings = Vec::new();
    for bind in &raw.bind {
        if !is_identifier(&bind.name) || reserved.contains(&bind.name.as_str()) {
            return Err(invalid(
                line_of(&bind.name),
                format!(
                    "binding name '{}' must be a lower-case identifier other than {}",
                    bind.name,
                    reserved.join(", ")
                ),
            ));
        }
        bindings.push((bind.name.clone(), compile(&bind.value)?));
    }
    let applies = raw.applies.as_deref().map(compile).transpose()?;
    for path in &raw.requires {
        let root = path.split('.').next().unwrap_or_default();
        let allowed: &[&str] = match raw.subject {
            SubjectKind::Domain => &["domain", "profile"],
            SubjectKind::Endpoint => &["endpoint", "domain", "profile"],
            SubjectKind::Mailbox => &["mailbox", "retention", "domain", "profile"],
        };
        if !allowed.contains(&root) && !raw.bind.iter().any(|b| b.name == root) {
            return Err(invalid(
                line_of(path),
                format!(
                    "requires '{path}' must start with one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    if raw.fail.is_empty() {
        return Err(invalid(
            1,
            "a rule needs at least one [[fail]] check".into(),
        ));
    }
    let check = |check: &CheckFile| {
        let severity = match &check.severity {
            Some(name) => parse_severity(name).map_err(|e| invalid(line_of(&check.when), e))?,
            None => severity,
        };
        Ok(Check {
            when: compile(&check.when)?,
            severity,
            detail: template(&check.detail, &compile, &|text: &str| {
                invalid(line_of(text), format!("'{{{{' without '}}}}' in: {text}"))
            })?,
        })
    };
    let checks = raw
        .fail
        .iter()
        .map(check)
        .collect::<Result<Vec<_>, RuleError>>()?;
    if let Some(adjust) = raw.adjust.iter().find(|a| a.severity.is_none()) {
        return Err(invalid(
            line_of(&adjust.when),
            "an [[adjust]] needs a severity".into(),
        ));
    }
    let adjustments = raw
        .adjust
        .iter()
        .map(check)
        .collect::<Result<Vec<_>, RuleError>>()?;
    let undecided = raw
        .inconclusive
        .iter()
        .map(|condition| {
            check(&CheckFile {
                when: condition.when.clone(),
                severity: None,
                detail: condition.reason.clone(),
            })
        })
        .collect::<Result<Vec<_>, RuleError>>()?;
    for (index, example) in raw.example.iter().enumerate() {
        if !["fail", "pass", "inconclusive", "not_applicable"].contains(&example.expect.as_str()) {
            return Err(invalid(
                line_of(&format!("expect = \"{}\"", example.expect)),
                format!(
                    "example {} expects unknown status '{}'",
                    index + 1,
                    example.expect
                ),
            ));
        }
        if let Some(name) = example
            .variables
            .keys()
            .find(|k| !VARIABLES.contains(&k.as_str()))
        {
            return Err(invalid(
                line_of(name),
                format!(
                    "example {} sets unknown variable '{name}'; use {}",
                    index + 1,
                    VARIABLES.join(", ")
                ),
            ));
        }
    }
    Ok(Rule {
        id: raw.id,
        file: file.to_string(),
        area: raw.area,
        subject: raw.subject,
        bindings,
        severity,
        references: raw.references,
        applies,
        requires: raw.requires,
        title: raw.title,
        remediation: raw.remediation,
        pass: raw.pass,
        checks,
        adjustments,
        undecided,
        examples: raw.example,
        parameters: raw.parameters,
    })
}

fn template(
    text: &Text,
    compile: &dyn Fn(&str) -> Result<Expression, RuleError>,
    unclosed: &dyn Fn(&str) -> RuleError,
) -> Result<[Template; 2], RuleError> {
    Ok([
        Template::parse(&text.de, compile, unclosed)?,
        Template::parse(&text.en, compile, unclosed)?,
    ])
}

/// A lower-case identifier: `expiring_days`, `leaf`.
fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_rule_id(id: &str) -> bool {
    let Some((group, number)) = id.split_once('-') else {
        return false;
    };
    ["DNS", "TLS", "CRT", "ACC", "LOC", "E2E", "RET", "GOV"].contains(&group)
        && number.len() == 3
        && number.chars().all(|c| c.is_ascii_digit())
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map(|offset| line_at(text, offset))
        .unwrap_or(1)
}
