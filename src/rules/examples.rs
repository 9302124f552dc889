//! The examples a rule file carries (`[[example]]`: variables, the expected
//! status and optionally severity) and the one runner that checks them,
//! shared by `mailaudit rules check` and the rule set's tests.

use super::{Rule, evaluate_rule};
use crate::Language;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The scan time of an example without `now`.
pub const DEFAULT_NOW: &str = "2026-11-26T00:00:00Z";

/// An example that cannot be run at all.
#[derive(Debug, thiserror::Error)]
pub enum ExampleError {
    #[error("{rule} example {example}: now = '{text}' is not an RFC 3339 time ({error})")]
    Now {
        rule: String,
        example: usize,
        text: String,
        error: chrono::ParseError,
    },
    #[error("{rule} example {example}: a variable is not JSON: {error}")]
    Variable {
        rule: String,
        example: usize,
        error: serde_json::Error,
    },
}

/// How an example's verdict differs from what it expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// Another status than `expect`.
    Status {
        expected: String,
        got: String,
        detail: String,
    },
    /// Another severity than `severity`.
    Severity { expected: String, got: String },
    /// The detail holds a placeholder that could not be rendered.
    Placeholder { language: Language, detail: String },
}

/// One example that does not hold (examples count from 1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{rule} example {example}: {mismatch}")]
pub struct ExampleProblem {
    pub rule: String,
    pub example: usize,
    pub mismatch: Mismatch,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Status {
                expected,
                got,
                detail,
            } => write!(f, "expected {expected}, got {got} ({detail})"),
            Mismatch::Severity { expected, got } => {
                write!(f, "expected severity {expected}, got {got}")
            }
            Mismatch::Placeholder { language, detail } => write!(
                f,
                "a placeholder could not be rendered in the {language:?} detail '{detail}'"
            ),
        }
    }
}

/// What running the examples found.
#[derive(Debug, Default)]
pub struct ExampleRun {
    /// How many examples were run.
    pub examples: usize,
    /// Those that did not hold, in rule and example order (a mismatch seen
    /// in several languages is listed once).
    pub problems: Vec<ExampleProblem>,
}

/// Runs every example of `rules`, judged in each of `languages`.
pub fn run(rules: &[Rule], languages: &[Language]) -> Result<ExampleRun, ExampleError> {
    let default_now: DateTime<Utc> = DEFAULT_NOW.parse().unwrap_or_default();
    let mut run = ExampleRun::default();
    for rule in rules {
        for (index, example) in rule.examples.iter().enumerate() {
            run.examples += 1;
            let number = index + 1;
            let variables = example
                .variables
                .iter()
                .map(|(k, v)| Ok((k.clone(), serde_json::to_value(v)?)))
                .collect::<Result<BTreeMap<_, _>, serde_json::Error>>()
                .map_err(|error| ExampleError::Variable {
                    rule: rule.id.clone(),
                    example: number,
                    error,
                })?;
            let now = match example.now.as_deref() {
                Some(text) => text.parse().map_err(|error| ExampleError::Now {
                    rule: rule.id.clone(),
                    example: number,
                    text: text.to_string(),
                    error,
                })?,
                None => default_now,
            };
            for &language in languages {
                let verdict = evaluate_rule(rule, &variables, now, language);
                let mut mismatches = Vec::new();
                if verdict.status.to_string() != example.expect {
                    mismatches.push(Mismatch::Status {
                        expected: example.expect.clone(),
                        got: verdict.status.to_string(),
                        detail: verdict.detail.clone(),
                    });
                }
                if let Some(severity) = &example.severity
                    && verdict.severity.to_string() != *severity
                {
                    mismatches.push(Mismatch::Severity {
                        expected: severity.clone(),
                        got: verdict.severity.to_string(),
                    });
                }
                if verdict.detail.contains("‹unavailable›") {
                    mismatches.push(Mismatch::Placeholder {
                        language,
                        detail: verdict.detail.clone(),
                    });
                }
                for mismatch in mismatches {
                    let problem = ExampleProblem {
                        rule: rule.id.clone(),
                        example: number,
                        mismatch,
                    };
                    let seen = run.problems.iter().any(|p| {
                        p.rule == problem.rule
                            && p.example == problem.example
                            && std::mem::discriminant(&p.mismatch)
                                == std::mem::discriminant(&problem.mismatch)
                            && !matches!(p.mismatch, Mismatch::Placeholder { .. })
                    });
                    if !seen {
                        run.problems.push(problem);
                    }
                }
            }
        }
    }
    Ok(run)
}
