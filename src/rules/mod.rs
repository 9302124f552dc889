//! Rules: data files in `rules/`, each a condition in CEL over the evidence,
//! with severity, legal references and remediation. Rules never touch the
//! network; [`evaluate`] is a pure function of saved evidence.
//!
//! CEL (Common Expression Language, the `cel` crate) was chosen over Rego,
//! JsonLogic and evalexpr: it reads well in a data file, takes serde data
//! directly, and reports parse errors with line, column and a caret.

mod assess;
mod engine;
mod evidence_path;
pub mod examples;
pub mod file;
mod literals;
mod load;
mod offline;
pub mod references;
pub mod retention_view;
mod spans;
pub mod tables;
mod thresholds;
mod value;

pub use assess::{Assessor, assess};
pub use engine::{Verdict, evaluate, evaluate_rule};
pub use file::{Example, SubjectKind, Text};
pub use literals::{SchemaIndex, literal_problems};
pub use load::{RuleError, defaults, from_dir, merge, parse, use_tables};
pub use offline::reevaluate;
pub use spans::Position;
pub use thresholds::{OWNED as OWNED_PARAMETERS, Thresholds};

use crate::Language;
use crate::finding::Severity;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A compiled CEL expression with its source.
#[derive(Debug)]
pub struct Expression {
    pub source: String,
    /// Where in the rule file the expression's text starts (1:1 when
    /// unknown), for checks that run after loading and still name
    /// file:line:column.
    pub line: usize,
    pub column: usize,
    program: cel::Program,
}

impl Expression {
    /// Compiles `source`.
    pub fn compile(source: &str) -> Result<Expression, cel::ParseErrors> {
        Ok(Expression {
            source: source.to_string(),
            line: 1,
            column: 1,
            program: cel::Program::compile(source)?,
        })
    }

    /// The same expression, recorded as starting at `position`.
    pub fn at(self, position: Position) -> Expression {
        Expression {
            line: position.line,
            column: position.column,
            ..self
        }
    }
}

/// A text with `{{ cel }}` placeholders.
#[derive(Debug)]
pub struct Template {
    parts: Vec<TemplatePart>,
}

#[derive(Debug)]
enum TemplatePart {
    Text(String),
    Expression(Expression),
}

impl Template {
    /// Splits `text` at `{{ … }}` and compiles each placeholder. `unclosed`
    /// builds the error for a `{{` without `}}`.
    fn parse(
        text: &str,
        compile: &dyn Fn(&str) -> Result<Expression, RuleError>,
        unclosed: &dyn Fn(&str) -> RuleError,
    ) -> Result<Template, RuleError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            parts.push(TemplatePart::Text(rest[..start].to_string()));
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| unclosed(text))?;
            parts.push(TemplatePart::Expression(compile(after[..end].trim())?));
            rest = &after[end + 2..];
        }
        parts.push(TemplatePart::Text(rest.to_string()));
        Ok(Template { parts })
    }
}

/// One failing condition of a rule.
#[derive(Debug)]
pub struct Check {
    pub when: Expression,
    pub severity: Severity,
    /// The finding's title when this `[[fail]]` check fails; `None` keeps
    /// the rule's.
    pub title: Option<Text>,
    /// Detail text, German first, then English.
    detail: [Template; 2],
}

impl Check {
    fn detail(&self, language: Language) -> &Template {
        match language {
            Language::De => &self.detail[0],
            Language::En => &self.detail[1],
        }
    }
}

/// A loaded, validated rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    /// Where it was loaded from, for error messages.
    pub file: String,
    pub area: String,
    pub subject: SubjectKind,
    /// Also judged on `org:DOMAIN` (mailbox rules only; see
    /// [`retention_view::organisation`]).
    pub organisation: bool,
    pub severity: Severity,
    pub references: Vec<String>,
    /// Named sub-views, in order.
    pub bindings: Vec<(String, Expression)>,
    pub applies: Option<Expression>,
    pub requires: Vec<String>,
    pub title: Text,
    pub remediation: Text,
    pub pass: Text,
    pub checks: Vec<Check>,
    /// Severity changes applied to a failure, first match wins.
    pub adjustments: Vec<Check>,
    /// `[[inconclusive]]`: conditions checked when no check failed, each
    /// with its reason as the detail; the first that holds makes the rule
    /// inconclusive.
    pub undecided: Vec<Check>,
    pub examples: Vec<Example>,
    /// `[parameters]`: named numbers the rule's CEL reads as `parameters`
    /// and the rules stage reads as [`Thresholds`].
    pub parameters: BTreeMap<String, i64>,
    /// The dated tables of the rule set this rule was loaded with (the
    /// same for every rule of a set, see [`merge`]); `None` for a rule
    /// parsed alone, which is judged by the embedded tables.
    pub tables: Option<Arc<tables::Tables>>,
}

impl Rule {
    /// Every CEL expression of the rule: bindings, `applies`, the checks,
    /// the adjustments, the `[[inconclusive]]` conditions and the
    /// placeholders of their texts.
    pub fn expressions(&self) -> Vec<&Expression> {
        let mut all: Vec<&Expression> = self.bindings.iter().map(|(_, e)| e).collect();
        all.extend(self.applies.iter());
        for check in self
            .checks
            .iter()
            .chain(&self.adjustments)
            .chain(&self.undecided)
        {
            all.push(&check.when);
            for template in &check.detail {
                all.extend(template.parts.iter().filter_map(|part| match part {
                    TemplatePart::Expression(expression) => Some(expression),
                    TemplatePart::Text(_) => None,
                }));
            }
        }
        all
    }
}

/// The version of the embedded rule set; bump on any rule change.
pub const RULE_SET_VERSION: &str = "2026.12.8";
