//! Loading and validating rule files: the embedded defaults, then `--rules
//! DIR` on top. Every error names the file, the line and the reason.

use super::file::{AREAS, CheckFile, RuleFile, SubjectKind, parse_severity, reference_problem};
use super::spans::{Position, Spans, Step, Step::Index, Step::Key};
use super::tables::Tables;
use super::{Check, Expression, Rule, Template};
use include_dir::{Dir, include_dir};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

/// The variables a rule's example may set (see [`SubjectKind`]).
const VARIABLES: [&str; 7] = [
    "organisation",
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
    #[error("{file}:{line}:{column}: {reason}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("cannot read rules from {path}: {reason}")]
    Read { path: String, reason: String },
}

/// The embedded default rules, with the embedded tables.
pub fn defaults() -> Result<Vec<Rule>, RuleError> {
    let tables = Arc::new(Tables::embedded()?);
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
                column: 1,
                reason: "the file is not UTF-8".into(),
            })?;
            parse(&name, text).map(|rule| with_tables(rule, &tables))
        })
        .collect()
}

fn with_tables(rule: Rule, tables: &Arc<Tables>) -> Rule {
    Rule {
        tables: Some(tables.clone()),
        ..rule
    }
}

/// Rules from `*.toml` files in `dir`, with the embedded tables, each
/// replaced by `dir/tables/NAME` where that exists. A directory may hold
/// only tables: a DPO's adapted table without rules of its own.
pub fn from_dir(dir: &Path) -> Result<Vec<Rule>, RuleError> {
    let (tables, _) = Tables::with_overrides(dir)?;
    let tables = Arc::new(tables);
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
    if paths.is_empty() && !Tables::present_in(dir) {
        return Err(RuleError::Read {
            path: dir.display().to_string(),
            reason: "the directory holds no *.toml rule files and no tables/ (tr-02102-2.toml, countries.toml)".into(),
        });
    }
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| RuleError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            parse(&path.display().to_string(), &text).map(|rule| with_tables(rule, &tables))
        })
        .collect()
}

/// `rules`, all judged by `tables` (`--rules DIR` with `DIR/tables/`
/// applies its tables to the built-in rules too).
pub fn use_tables(rules: Vec<Rule>, tables: Tables) -> Vec<Rule> {
    let tables = Arc::new(tables);
    rules
        .into_iter()
        .map(|rule| with_tables(rule, &tables))
        .collect()
}

/// Merges `extra` over `base`: a rule with the same ID replaces the default,
/// and the tables of `extra` (when it has rules) judge the whole set.
pub fn merge(base: Vec<Rule>, extra: Vec<Rule>) -> Vec<Rule> {
    let tables = extra.iter().find_map(|rule| rule.tables.clone());
    let base = match &tables {
        Some(tables) => base
            .into_iter()
            .map(|rule| with_tables(rule, tables))
            .collect(),
        None => base,
    };
    let mut by_id: BTreeMap<String, Rule> = base.into_iter().map(|r| (r.id.clone(), r)).collect();
    for rule in extra {
        by_id.insert(rule.id.clone(), rule);
    }
    by_id.into_values().collect()
}

/// Parses and validates one rule file. Every error names the line and
/// column of the value it is about, from the TOML parser's spans.
pub fn parse(file: &str, text: &str) -> Result<Rule, RuleError> {
    let invalid = |at: Position, reason: String| RuleError::Invalid {
        file: file.to_string(),
        line: at.line,
        column: at.column,
        reason,
    };
    let spans = Spans::parse(text);
    let raw: RuleFile = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map_or(Position::START, |span| spans.position(span.start));
        invalid(at, e.message().to_string())
    })?;
    let at = |path: &[Step]| spans.at(path);

    if !is_rule_id(&raw.id) {
        return Err(invalid(
            at(&[Key("id")]),
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
            at(&[Key("id")]),
            format!("the file must be named after its ID: {}.toml", raw.id),
        ));
    }
    if !AREAS.contains(&raw.area.as_str()) {
        return Err(invalid(
            at(&[Key("area")]),
            format!(
                "unknown area '{}'; use one of {}",
                raw.area,
                AREAS.join(", ")
            ),
        ));
    }
    let severity = parse_severity(&raw.severity).map_err(|e| invalid(at(&[Key("severity")]), e))?;
    if raw.references.is_empty() {
        return Err(invalid(
            at(&[Key("references")]),
            "a rule needs at least one reference".into(),
        ));
    }
    for (index, reference) in raw.references.iter().enumerate() {
        if let Some(problem) = reference_problem(reference) {
            return Err(invalid(at(&[Key("references"), Index(index)]), problem));
        }
    }
    for (name, value) in &raw.parameters {
        if !is_identifier(name) || *value < 0 {
            return Err(invalid(
                spans.key_at(&[Key("parameters"), Key(name)]),
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
            at(&[Key("parameters")]),
            format!(
                "{} needs the parameter '{name}' in [parameters]: the report reads it",
                raw.id
            ),
        ));
    }
    // Compiles the CEL text of the string at `path`, recording where it
    // starts; a compile error names that place.
    let compile_at = |source: &str, path: &[Step]| -> Result<Expression, RuleError> {
        let start = spans.text_at(path);
        Expression::compile(source)
            .map(|expression| expression.at(start))
            .map_err(|e| invalid(start, format!("CEL expression does not compile: {e}")))
    };
    let reserved = ["domain", "endpoint", "host", "now", "parameters"];
    let mut bindings = Vec::new();
    for (index, bind) in raw.bind.iter().enumerate() {
        if !is_identifier(&bind.name) || reserved.contains(&bind.name.as_str()) {
            return Err(invalid(
                at(&[Key("bind"), Index(index), Key("name")]),
                format!(
                    "binding name '{}' must be a lower-case identifier other than {}",
                    bind.name,
                    reserved.join(", ")
                ),
            ));
        }
        bindings.push((
            bind.name.clone(),
            compile_at(&bind.value, &[Key("bind"), Index(index), Key("value")])?,
        ));
    }
    let applies = raw
        .applies
        .as_deref()
        .map(|source| compile_at(source, &[Key("applies")]))
        .transpose()?;
    for (index, path) in raw.requires.iter().enumerate() {
        let root = path.split('.').next().unwrap_or_default();
        let allowed: &[&str] = match raw.subject {
            SubjectKind::Domain => &["domain", "profile"],
            SubjectKind::Endpoint => &["endpoint", "domain", "profile"],
            SubjectKind::Mailbox => &["mailbox", "retention", "domain", "profile", "organisation"],
        };
        if !allowed.contains(&root) && !raw.bind.iter().any(|b| b.name == root) {
            return Err(invalid(
                at(&[Key("requires"), Index(index)]),
                format!(
                    "requires '{path}' must start with one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    if raw.organisation && raw.subject != SubjectKind::Mailbox {
        return Err(invalid(
            at(&[Key("organisation")]),
            "organisation = true adds up mailboxes: it needs subject = \"mailbox\"".into(),
        ));
    }
    if raw.fail.is_empty() {
        return Err(invalid(
            Position::START,
            "a rule needs at least one [[fail]] check".into(),
        ));
    }
    // One `[[fail]]`, `[[adjust]]` or `[[inconclusive]]` entry (`table`,
    // `index`), whose text is `detail` (`reason` for inconclusive).
    let check = |table: &str, index: usize, text_key: &str, check: &CheckFile| {
        let entry = [Key(table), Index(index)];
        let severity = match &check.severity {
            Some(name) => parse_severity(name)
                .map_err(|e| invalid(at(&[entry[0], entry[1], Key("severity")]), e))?,
            None => severity,
        };
        let text = |language: &'static str| {
            let path = [entry[0], entry[1], Key(text_key), Key(language)];
            let compile = move |source: &str| compile_at(source, &path);
            let unclosed =
                move |text: &str| invalid(at(&path), format!("'{{{{' without '}}}}' in: {text}"));
            Template::parse(check.detail.get_str(language), &compile, &unclosed)
        };
        Ok(Check {
            when: compile_at(&check.when, &[entry[0], entry[1], Key("when")])?,
            severity,
            title: check.title.clone(),
            detail: [text("de")?, text("en")?],
        })
    };
    let checks = raw
        .fail
        .iter()
        .enumerate()
        .map(|(index, c)| check("fail", index, "detail", c))
        .collect::<Result<Vec<_>, RuleError>>()?;
    if let Some(index) = raw.adjust.iter().position(|a| a.title.is_some()) {
        return Err(invalid(
            at(&[Key("adjust"), Index(index), Key("title")]),
            "only a [[fail]] check can set the finding's title".into(),
        ));
    }
    if let Some(index) = raw.adjust.iter().position(|a| a.severity.is_none()) {
        return Err(invalid(
            at(&[Key("adjust"), Index(index)]),
            "an [[adjust]] needs a severity".into(),
        ));
    }
    let adjustments = raw
        .adjust
        .iter()
        .enumerate()
        .map(|(index, c)| check("adjust", index, "detail", c))
        .collect::<Result<Vec<_>, RuleError>>()?;
    let undecided = raw
        .inconclusive
        .iter()
        .enumerate()
        .map(|(index, condition)| {
            check(
                "inconclusive",
                index,
                "reason",
                &CheckFile {
                    when: condition.when.clone(),
                    severity: None,
                    title: None,
                    detail: condition.reason.clone(),
                },
            )
        })
        .collect::<Result<Vec<_>, RuleError>>()?;
    for (index, example) in raw.example.iter().enumerate() {
        if !["fail", "pass", "inconclusive", "not_applicable"].contains(&example.expect.as_str()) {
            return Err(invalid(
                at(&[Key("example"), Index(index), Key("expect")]),
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
                spans.key_at(&[Key("example"), Index(index), Key(name)]),
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
        organisation: raw.organisation,
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
        tables: None,
    })
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
