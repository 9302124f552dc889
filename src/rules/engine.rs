//! Evaluation: every rule against every subject of its kind.
//!
//! The order of judgement is fixed: `applies` false gives not_applicable; a
//! required attempt that did not complete gives inconclusive with its reason;
//! the first `[[fail]]` check that holds gives fail; a check that cannot be
//! evaluated (missing field) gives inconclusive; otherwise pass.

use super::evidence_path::{attempts_in, missing};
use super::retention_view;
use super::tables::Tables;
use super::value::{display, to_cel};
use super::{Rule, SubjectKind, Template, TemplatePart, Thresholds};
use crate::Language;
use crate::evidence::{DomainEvidence, EndpointEvidence, MailboxEvidence, PortState};
use crate::finding::{Finding, Severity, Status};
use crate::profile::AuditProfile;
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// The judgement of one rule on one subject, before it is worded.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    pub severity: Severity,
    pub detail: String,
    /// The failed check's own title, when it has one (else the rule's).
    pub title: Option<String>,
}

/// The variables of one subject: CEL values in a context (converted once,
/// shared by every rule through child scopes) and the same data as JSON,
/// which `requires` and inconclusive reasons read.
struct Scope<'c, 'j> {
    cel: &'c cel::Context<'c, 'static>,
    json: BTreeMap<&'static str, &'j Json>,
}

/// Evaluates `rules` over all `targets`. `now` is the scan time; `profile`
/// is what the organisation declared (`profile` in every scope).
pub fn evaluate<'a>(
    rules: &[Rule],
    targets: impl IntoIterator<Item = &'a DomainEvidence>,
    now: DateTime<Utc>,
    language: Language,
    profile: &AuditProfile,
) -> Vec<Finding> {
    let profile_json = serde_json::to_value(profile).unwrap_or(Json::Null);
    let thresholds = Thresholds::of(rules);
    let tables = tables_of(rules);
    let classes = class_file_of(&tables);
    let mut findings = Vec::new();
    let mut seen = HashSet::new();
    for target in targets {
        // The domain's evidence is large: it is converted to CEL once and
        // shared by the domain's subjects as the parent scope.
        let mut domain = serde_json::to_value(target).unwrap_or(Json::Null);
        if let Some(tables) = &tables {
            tables.classify_domain(&mut domain);
        }
        let mut domain_scope = cel::Context::default();
        domain_scope.add_variable_from_value("domain", to_cel(&domain));
        domain_scope.add_variable_from_value("now", cel::Value::Timestamp(now.fixed_offset()));
        domain_scope.add_variable_from_value("profile", to_cel(&profile_json));
        let subject = format!("dns:{}", target.domain);
        let scope = Scope {
            cel: &domain_scope,
            json: BTreeMap::from([("domain", &domain), ("profile", &profile_json)]),
        };
        for rule in rules.iter().filter(|r| r.subject == SubjectKind::Domain) {
            push(&mut findings, &mut seen, rule, &subject, &scope, language);
        }
        for endpoint in target.endpoints.iter().filter(|e| is_subject(e)) {
            let same_host: Vec<&EndpointEvidence> = target
                .endpoints
                .iter()
                .filter(|e| e.host == endpoint.host)
                .collect();
            let mut endpoint_json = serde_json::to_value(endpoint).unwrap_or(Json::Null);
            let mut host_json = json!({ "name": endpoint.host, "endpoints": same_host });
            if let Some(tables) = &tables {
                tables.classify_endpoint(&mut endpoint_json);
                for same in host_json["endpoints"].as_array_mut().into_iter().flatten() {
                    tables.classify_endpoint(same);
                }
            }
            let mut endpoint_scope = domain_scope.new_inner_scope();
            endpoint_scope.add_variable_from_value("endpoint", to_cel(&endpoint_json));
            endpoint_scope.add_variable_from_value("host", to_cel(&host_json));
            let scope = Scope {
                cel: &endpoint_scope,
                json: BTreeMap::from([
                    ("domain", &domain),
                    ("endpoint", &endpoint_json),
                    ("host", &host_json),
                    ("profile", &profile_json),
                ]),
            };
            for rule in rules.iter().filter(|r| r.subject == SubjectKind::Endpoint) {
                push(
                    &mut findings,
                    &mut seen,
                    rule,
                    &endpoint.subject,
                    &scope,
                    language,
                );
            }
        }
        let mut views = Vec::new();
        for mailbox in &target.mailboxes {
            let view =
                retention_view::view(mailbox, profile, now.date_naive(), &thresholds, classes);
            let mailbox_json = serde_json::to_value(mailbox).unwrap_or(Json::Null);
            let mut retention_json = serde_json::to_value(&view).unwrap_or(Json::Null);
            if let Some(tables) = &tables {
                tables.e_invoicing.annotate(&mut retention_json);
            }
            views.push(view);
            let mut mailbox_scope = domain_scope.new_inner_scope();
            mailbox_scope.add_variable_from_value("mailbox", to_cel(&mailbox_json));
            mailbox_scope.add_variable_from_value("retention", to_cel(&retention_json));
            let scope = Scope {
                cel: &mailbox_scope,
                json: BTreeMap::from([
                    ("domain", &domain),
                    ("mailbox", &mailbox_json),
                    ("retention", &retention_json),
                    ("profile", &profile_json),
                ]),
            };
            let subject = format!("mailbox:{}", mailbox.user);
            for rule in rules.iter().filter(|r| r.subject == SubjectKind::Mailbox) {
                push(&mut findings, &mut seen, rule, &subject, &scope, language);
            }
        }
        let pairs: Vec<_> = target.mailboxes.iter().zip(&views).collect();
        if let Some(org) = retention_view::organisation::aggregate(classes, &target.domain, &pairs)
        {
            let mut retention_json = serde_json::to_value(&org.retention).unwrap_or(Json::Null);
            if let Some(tables) = &tables {
                tables.e_invoicing.annotate(&mut retention_json);
            }
            // `mailbox.folders`, which the mailbox rules require, is read
            // when at least one mailbox's folders were.
            let folders = match org.audited {
                0 => {
                    json!({ "status": "failed", "reason": format!("no mailbox of {} could be audited", org.domain) })
                }
                _ => json!({ "status": "completed", "value": [] }),
            };
            let mailbox_json = json!({ "folders": folders });
            let org_json = serde_json::to_value(&org).unwrap_or(Json::Null);
            let mut org_scope = domain_scope.new_inner_scope();
            org_scope.add_variable_from_value("mailbox", to_cel(&mailbox_json));
            org_scope.add_variable_from_value("retention", to_cel(&retention_json));
            org_scope.add_variable_from_value("organisation", to_cel(&org_json));
            let scope = Scope {
                cel: &org_scope,
                json: BTreeMap::from([
                    ("domain", &domain),
                    ("mailbox", &mailbox_json),
                    ("retention", &retention_json),
                    ("organisation", &org_json),
                    ("profile", &profile_json),
                ]),
            };
            let subject = format!("org:{}", target.domain);
            for rule in rules.iter().filter(|r| r.organisation) {
                if push(&mut findings, &mut seen, rule, &subject, &scope, language)
                    && let Some(last) = findings.last_mut()
                {
                    retention_view::organisation::qualify(last, &org, language);
                }
            }
        }
    }
    profile.accept(&mut findings, now.date_naive());
    findings
}

/// The tables the rules judge by: those of their rule set, or the embedded
/// ones for rules parsed alone. `None` only if the embedded tables are
/// broken (a unit test keeps them whole); the classes are then missing and
/// the rules reading them inconclusive, never passed.
pub(super) fn tables_of(rules: &[Rule]) -> Option<Arc<Tables>> {
    rules
        .iter()
        .find_map(|rule| rule.tables.clone())
        .or_else(|| Tables::embedded().ok().map(Arc::new))
}

/// The class file of the rule set, else the embedded one.
pub(super) fn class_file_of(tables: &Option<Arc<Tables>>) -> Option<&crate::mail_class::ClassFile> {
    match tables.as_deref() {
        Some(tables) => Some(&tables.classes),
        None => retention_view::default_class_file(),
    }
}

/// A mailbox's evidence and its retention view at the scan date.
fn mailbox_variables(
    mailbox: &MailboxEvidence,
    profile: &AuditProfile,
    now: DateTime<Utc>,
    thresholds: &Thresholds,
    classes: Option<&crate::mail_class::ClassFile>,
) -> (Json, Json) {
    let view = retention_view::view(mailbox, profile, now.date_naive(), thresholds, classes);
    (
        serde_json::to_value(mailbox).unwrap_or(Json::Null),
        serde_json::to_value(view).unwrap_or(Json::Null),
    )
}

/// An endpoint is a subject when it answered, or when the domain declares it
/// (then silence is inconclusive, not absence). A closed port nobody
/// declared is simply not offered.
fn is_subject(endpoint: &EndpointEvidence) -> bool {
    endpoint.expected
        || endpoint
            .tcp
            .value()
            .is_some_and(|t| t.state == PortState::Open)
}

fn push(
    findings: &mut Vec<Finding>,
    seen: &mut HashSet<(String, String)>,
    rule: &Rule,
    subject: &str,
    scope: &Scope,
    language: Language,
) -> bool {
    // Endpoints shared by several domains are judged once.
    if !seen.insert((rule.id.clone(), subject.to_string())) {
        return false;
    }
    let verdict = judge(rule, scope, language);
    let citations = super::references::resolve_all(&rule.references);
    findings.push(Finding {
        rule: rule.id.clone(),
        subject: subject.to_string(),
        status: verdict.status,
        severity: verdict.severity,
        area: rule.area.clone(),
        title: verdict
            .title
            .unwrap_or_else(|| rule.title.get(language).to_string()),
        detail: verdict.detail,
        references: citations.iter().map(|c| c.label.clone()).collect(),
        citations,
        remediation: rule.remediation.get(language).to_string(),
        change: None,
        accepted: None,
    });
    true
}

/// Evaluates one rule against one set of variables.
pub fn evaluate_rule(
    rule: &Rule,
    variables: &BTreeMap<String, Json>,
    now: DateTime<Utc>,
    language: Language,
) -> Verdict {
    let mut variables = variables.clone();
    // A fixture may give the mailbox evidence and let the engine derive the
    // retention view, or give the view itself.
    if !variables.contains_key("retention")
        && let Some(mailbox) = variables
            .get("mailbox")
            .and_then(|m| serde_json::from_value::<MailboxEvidence>(m.clone()).ok())
    {
        let profile = variables
            .get("profile")
            .and_then(|p| serde_json::from_value::<AuditProfile>(p.clone()).ok())
            .unwrap_or_default();
        // The rule's own parameters: RET-001 and RET-007 own theirs.
        let thresholds = Thresholds::of(std::slice::from_ref(rule));
        let tables = tables_of(std::slice::from_ref(rule));
        let classes = class_file_of(&tables);
        let (_, view) = mailbox_variables(&mailbox, &profile, now, &thresholds, classes);
        variables.insert("retention".into(), view);
    }
    // A fixture, like saved evidence, holds facts; the classes come from
    // the rule's tables.
    if let Some(tables) = tables_of(std::slice::from_ref(rule)) {
        if let Some(domain) = variables.get_mut("domain") {
            tables.classify_domain(domain);
        }
        if let Some(endpoint) = variables.get_mut("endpoint") {
            tables.classify_endpoint(endpoint);
        }
        if let Some(retention) = variables.get_mut("retention") {
            tables.e_invoicing.annotate(retention);
        }
        if let Some(host) = variables.get_mut("host") {
            for same in host["endpoints"].as_array_mut().into_iter().flatten() {
                tables.classify_endpoint(same);
            }
        }
    }
    let variables = &variables;
    let mut context = cel::Context::default();
    for (name, value) in variables {
        context.add_variable_from_value(name.as_str(), to_cel(value));
    }
    context.add_variable_from_value("now", cel::Value::Timestamp(now.fixed_offset()));
    let json = variables
        .iter()
        .filter_map(|(name, value)| {
            [
                "domain",
                "endpoint",
                "host",
                "mailbox",
                "retention",
                "organisation",
                "profile",
            ]
            .into_iter()
            .find(|known| known == name)
            .map(|known| (known, value))
        })
        .collect();
    judge(
        rule,
        &Scope {
            cel: &context,
            json,
        },
        language,
    )
}

/// Judges one rule in a subject's scope.
fn judge(rule: &Rule, scope: &Scope, language: Language) -> Verdict {
    let mut context = scope.cel.new_inner_scope();
    if !rule.parameters.is_empty() {
        context.add_variable_from_value("parameters", to_cel(&json!(rule.parameters)));
    }
    // Bindings join the variables (as CEL for expressions, as JSON for
    // `requires` and reasons). One that cannot be computed stays unbound,
    // with its error as the reason anything needing it is inconclusive.
    let mut bound: BTreeMap<String, Json> = BTreeMap::new();
    for (name, expression) in &rule.bindings {
        let outcome = expression
            .program
            .execute(&context)
            .map_err(|e| format!("{e:?}"))
            .and_then(|value| {
                value
                    .json()
                    .map(|json| (value.clone(), json))
                    .map_err(|e| e.to_string())
            });
        match outcome {
            Ok((value, json)) => {
                context.add_variable_from_value(name.as_str(), value);
                bound.insert(name.clone(), json);
            }
            Err(error) => {
                bound.insert(
                    name.clone(),
                    json!({ "status": "failed", "reason": format!("'{name}' ({}) is not available: {error}", expression.source) }),
                );
            }
        }
    }
    let lookup = |name: &str| bound.get(name).or_else(|| scope.json.get(name).copied());
    let verdict = |status, severity, detail: String| Verdict {
        status,
        severity,
        detail,
        title: None,
    };
    let german = language == Language::De;

    if let Some(applies) = &rule.applies {
        match applies.program.execute(&context) {
            Ok(cel::Value::Bool(true)) => {}
            Ok(cel::Value::Bool(false)) => {
                let text = if german {
                    "Die Regel trifft auf diesen Gegenstand nicht zu."
                } else {
                    "The rule does not apply to this subject."
                };
                return verdict(Status::NotApplicable, rule.severity, text.to_string());
            }
            Ok(other) => {
                return inconclusive(
                    rule,
                    german,
                    &format!("'applies' gave {other:?}, not a bool"),
                );
            }
            Err(_) => {
                let reason = unreadable(&applies.source, &lookup);
                return inconclusive(rule, german, &reason);
            }
        }
    }
    for path in &rule.requires {
        if let Some(reason) = missing(&lookup, path) {
            return inconclusive(rule, german, &reason);
        }
    }
    // Whether a condition holds; `Err` says why that cannot be told: the
    // probe's own reason when the condition reached into an attempt that
    // has no value ([`unreadable`]).
    let holds = |when: &super::Expression| -> Result<bool, String> {
        match when.program.execute(&context) {
            Ok(cel::Value::Bool(holds)) => Ok(holds),
            Ok(other) => Err(format!(
                "check '{}' gave {other:?}, not a bool",
                when.source
            )),
            Err(_) => Err(unreadable(&when.source, &lookup)),
        }
    };
    for check in &rule.checks {
        match holds(&check.when) {
            Ok(true) => {
                let mut severity = check.severity;
                let mut detail = render(check.detail(language), &context);
                // An adjustment that cannot be evaluated leaves the grade as is.
                if let Some(adjustment) = rule.adjustments.iter().find(|a| {
                    matches!(a.when.program.execute(&context), Ok(cel::Value::Bool(true)))
                }) {
                    severity = adjustment.severity;
                    detail.push(' ');
                    detail.push_str(&render(adjustment.detail(language), &context));
                }
                return Verdict {
                    title: check.title.as_ref().map(|t| t.get(language).to_string()),
                    ..verdict(Status::Fail, severity, detail)
                };
            }
            Ok(false) => {}
            Err(reason) => return inconclusive(rule, german, &reason),
        }
    }
    // No check failed; evidence missing for part of the subject still
    // keeps it from passing.
    for condition in &rule.undecided {
        match holds(&condition.when) {
            Ok(true) => {
                return inconclusive(rule, german, &render(condition.detail(language), &context));
            }
            Ok(false) => {}
            Err(reason) => return inconclusive(rule, german, &reason),
        }
    }
    verdict(
        Status::Pass,
        rule.severity,
        rule.pass.get(language).to_string(),
    )
}

/// Why an expression could not be evaluated, in the user's words: the
/// first attempt it reads that has no value, with the probe's reason; CEL's
/// own error ("No such key") is an internal message and never shown.
fn unreadable<'j>(source: &str, lookup: &dyn Fn(&str) -> Option<&'j Json>) -> String {
    attempts_in(source)
        .iter()
        .find_map(|path| missing(lookup, path))
        .unwrap_or_else(|| "the evidence this check reads was not recorded".to_string())
}

fn inconclusive(rule: &Rule, german: bool, reason: &str) -> Verdict {
    let lead = if german {
        "Nicht beurteilbar, Nachweis fehlt"
    } else {
        "Inconclusive, evidence missing"
    };
    Verdict {
        status: Status::Inconclusive,
        severity: rule.severity,
        detail: format!("{lead}: {reason}"),
        title: None,
    }
}

fn render(template: &Template, context: &cel::Context) -> String {
    template
        .parts
        .iter()
        .map(|part| match part {
            TemplatePart::Text(text) => text.clone(),
            TemplatePart::Expression(expression) => match expression.program.execute(context) {
                Ok(value) => display(&value),
                Err(_) => "‹unavailable›".to_string(),
            },
        })
        .collect()
}
