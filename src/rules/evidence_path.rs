//! Which evidence a rule's expression reads, and why it is missing, in the
//! user's words (issue 18, scope 3).
//!
//! An inconclusive finding names the probe attempt that gave no value and
//! quotes the probe's recorded reason (a SERVFAIL, a bogus TLSA RRset),
//! never CEL's own error ("No such key: value"). To get there, the paths
//! an expression reads are taken from its source: `a.b.c` in `a.b.c.value`,
//! with the range variable of a macro (`rrsets.exists(r, r.lookup.value…)`)
//! standing for every element (`rrsets.*.lookup`), and an index by another
//! variable (`dane[endpoint.subject]`) resolved to its key.

use serde_json::Value as Json;

/// CEL macros whose second argument's variable ranges over the receiver.
const MACROS: [&str; 5] = [".exists(", ".exists_one(", ".all(", ".filter(", ".map("];

/// One step of an evidence path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    /// `[expression]`: a quoted key, or a path to a string in the evidence.
    Key(String),
    /// `*`: every element of a list or map.
    Each,
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '*' | '\'' | '"')
}

/// Attempt paths an expression reads a value from: `a.b.c` in `a.b.c.value`,
/// macro variables replaced by their receiver's elements (`x.*`).
pub(super) fn attempts_in(source: &str) -> Vec<String> {
    let ranges = macro_variables(source);
    let mut paths: Vec<String> = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".value") {
        let before = &rest[..at];
        let start = before.rfind(|c| !path_char(c)).map_or(0, |i| i + 1);
        let path = expand(&before[start..], &ranges);
        if !path.is_empty() && !paths.contains(&path) {
            paths.push(path);
        }
        rest = &rest[at + ".value".len()..];
    }
    paths
}

/// `(variable, receiver)` of every macro in `source`.
fn macro_variables(source: &str) -> Vec<(String, String)> {
    let mut ranges = Vec::new();
    for name in MACROS {
        for (at, _) in source.match_indices(name) {
            let before = &source[..at];
            let start = before.rfind(|c| !path_char(c)).map_or(0, |i| i + 1);
            let after = &source[at + name.len()..];
            if let Some(variable) = after.split(',').next().map(str::trim)
                && variable
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !variable.is_empty()
            {
                ranges.push((variable.to_string(), before[start..].to_string()));
            }
        }
    }
    ranges
}

/// Replaces a leading macro variable with `receiver.*`, repeatedly for
/// nested macros.
fn expand(path: &str, ranges: &[(String, String)]) -> String {
    let mut path = path.to_string();
    for _ in 0..4 {
        let head = path
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_string();
        let Some((_, receiver)) = ranges.iter().find(|(variable, _)| *variable == head) else {
            break;
        };
        path = format!("{receiver}.*{}", &path[head.len()..]);
    }
    path
}

/// Splits `a.b[c.d].e.*` into steps.
fn steps(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars();
    let flush = |current: &mut String, steps: &mut Vec<Step>| {
        if current == "*" {
            steps.push(Step::Each);
        } else if !current.is_empty() {
            steps.push(Step::Field(current.clone()));
        }
        current.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut current, &mut steps),
            '[' => {
                flush(&mut current, &mut steps);
                let key: String = chars.by_ref().take_while(|&c| c != ']').collect();
                steps.push(Step::Key(key));
            }
            c => current.push(c),
        }
    }
    flush(&mut current, &mut steps);
    steps
}

/// Why the attempt at `path` (e.g. `endpoint.tls`) gives no usable value,
/// naming it in words and quoting the probe's reason. A `*` stands for
/// every element of a list or map; the first missing one is reported.
pub(super) fn missing<'j>(lookup: &dyn Fn(&str) -> Option<&'j Json>, path: &str) -> Option<String> {
    let steps = steps(path);
    let Some(Step::Field(root)) = steps.first() else {
        return Some(format!("{path} was not recorded"));
    };
    let Some(current) = lookup(root) else {
        return Some(format!(
            "{} was not recorded",
            words(std::slice::from_ref(root))
        ));
    };
    let resolved: Vec<Step> = steps[1..]
        .iter()
        .map(|step| match step {
            Step::Key(expression) => resolve_key(lookup, expression),
            other => other.clone(),
        })
        .collect();
    missing_below(current, &resolved, &mut vec![root.clone()])
}

/// A key expression: a quoted literal, or a path to a string; else every key.
fn resolve_key<'j>(lookup: &dyn Fn(&str) -> Option<&'j Json>, expression: &str) -> Step {
    let quoted = expression
        .strip_prefix('\'')
        .and_then(|e| e.strip_suffix('\''))
        .or_else(|| {
            expression
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
        });
    if let Some(literal) = quoted {
        return Step::Field(literal.to_string());
    }
    let mut fields = expression.split('.');
    let value = fields
        .next()
        .and_then(lookup)
        .and_then(|root| fields.try_fold(root, |json, field| json.get(field)));
    match value.and_then(Json::as_str) {
        Some(key) => Step::Field(key.to_string()),
        None => Step::Each,
    }
}

fn missing_below(current: &Json, rest: &[Step], at: &mut Vec<String>) -> Option<String> {
    // An attempt on the way that did not complete explains everything below it.
    if let Some(status @ ("failed" | "skipped")) = current.get("status").and_then(Json::as_str) {
        let reason = current
            .get("reason")
            .and_then(Json::as_str)
            .unwrap_or("no reason recorded");
        return Some(format!("{} {status}: {reason}", words(at)));
    }
    match rest.split_first() {
        // A declaration (e.g. `profile.declared`): false is missing evidence.
        None if current.is_boolean() => match current.as_bool() {
            Some(true) => None,
            _ => Some(format!("{} is false: nothing was declared", words(at))),
        },
        None if current.get("status").and_then(Json::as_str) == Some("completed") => None,
        None => Some(format!("{} was not recorded", words(at))),
        Some((Step::Each, tail)) => {
            let items: Vec<(String, &Json)> = match current {
                Json::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| (element(item, index), item))
                    .collect(),
                Json::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
                _ => return None,
            };
            items.into_iter().find_map(|(label, item)| {
                at.push(label);
                let reason = missing_below(item, tail, at);
                at.pop();
                reason
            })
        }
        Some((Step::Field(segment) | Step::Key(segment), tail)) => {
            at.push(segment.clone());
            let reason = match current.get(segment.as_str()) {
                Some(next) => missing_below(next, tail, at),
                None => Some(format!("{} was not recorded", words(at))),
            };
            at.pop();
            reason
        }
    }
}

/// How a list element is named: `MX example.org`, a subject, a host, or
/// its position.
fn element(item: &Json, index: usize) -> String {
    let text = |key: &str| item.get(key).and_then(Json::as_str);
    match (text("record_type"), text("name")) {
        (Some(record_type), Some(name)) => format!("{record_type} {name}"),
        (None, Some(name)) => name.to_string(),
        _ => text("subject")
            .or_else(|| text("host"))
            .map_or_else(|| format!("no. {}", index + 1), str::to_string),
    }
}

/// A path in words: `dnssec › dane › mx.example.org:25 › tlsa`, the
/// subject's own variable (`domain`, `endpoint`, …) left out.
fn words(at: &[String]) -> String {
    let subject = matches!(
        at.first().map(String::as_str),
        Some("domain" | "endpoint" | "mailbox" | "host")
    );
    let shown = if subject && at.len() > 1 {
        &at[1..]
    } else {
        at
    };
    shown
        .iter()
        .map(|s| s.replace('_', " "))
        .collect::<Vec<_>>()
        .join(" › ")
}

#[cfg(test)]
mod tests {
    use super::{attempts_in, missing};
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn attempt_paths_are_found_before_value() {
        assert_eq!(
            attempts_in(
                "domain.dns.mx.value.records.size() == 0 && domain.dns.addresses.value.size() == 0"
            ),
            vec!["domain.dns.mx", "domain.dns.addresses"]
        );
        assert_eq!(
            attempts_in("!(endpoint.tls.value.version == 'x')"),
            vec!["endpoint.tls"]
        );
        assert!(attempts_in("endpoint.port == 25").is_empty());
    }

    #[test]
    fn a_macro_variable_stands_for_every_element_of_its_receiver() {
        assert_eq!(
            attempts_in("domain.dnssec.rrsets.exists(r, r.lookup.value.security == 'bogus')"),
            vec!["domain.dnssec.rrsets.*.lookup"]
        );
    }

    #[test]
    fn wildcard_paths_check_every_element_and_quote_the_reason() {
        let variables = BTreeMap::from([(
            "domain".to_string(),
            json!({"hosts": [
                {"addresses": {"status": "completed", "value": []}},
                {"addresses": {"status": "failed", "reason": "SERVFAIL"}}
            ], "dnssec": {"rrsets": [
                {"name": "example.org", "record_type": "MX", "lookup": {"status": "failed", "reason": "MX example.org: SERVFAIL"}}
            ]}}),
        )]);
        let lookup = |name: &str| variables.get(name);
        let reason = missing(&lookup, "domain.hosts.*.addresses").unwrap();
        assert_eq!(reason, "hosts › no. 2 › addresses failed: SERVFAIL");
        assert_eq!(
            missing(&lookup, "domain.dnssec.rrsets.*.lookup").unwrap(),
            "dnssec › rrsets › MX example.org › lookup failed: MX example.org: SERVFAIL"
        );
        assert_eq!(
            missing(&lookup, "domain.hosts.*.nothing"),
            Some("hosts › no. 1 › nothing was not recorded".into())
        );
    }

    #[test]
    fn an_index_by_another_variable_is_resolved_to_its_key() {
        let variables = BTreeMap::from([
            (
                "domain".to_string(),
                json!({"dnssec": {"dane": {
                    "a.example.org:25": {"tlsa": {"status": "completed", "value": {}}},
                    "mx.example.org:25": {"tlsa": {"status": "failed", "reason": "the TLSA RRset is Bogus"}}
                }}}),
            ),
            (
                "endpoint".to_string(),
                json!({"subject": "mx.example.org:25"}),
            ),
        ]);
        let lookup = |name: &str| variables.get(name);
        let path =
            &attempts_in("domain.dnssec.dane[endpoint.subject].tlsa.value.security != 'insecure'")
                [0];
        assert_eq!(
            missing(&lookup, path).unwrap(),
            "dnssec › dane › mx.example.org:25 › tlsa failed: the TLSA RRset is Bogus"
        );
    }
}
