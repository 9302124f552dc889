//! The evidence appendix: one line per probe step (every attempt in the
//! evidence, found by walking its JSON), with the step's outcome and the
//! start of its raw value. Compact enough to print; the complete evidence
//! is `report.json`, attached to the PDF with its SHA-256 printed.

use super::rows::shown;
use super::{Report, strings};
use serde::Serialize;

/// Longest raw value printed per step, in characters.
const MAX_VALUE: usize = 180;

/// The appendix lines of one scanned domain.
#[derive(Debug, Serialize)]
pub struct TargetEvidence {
    pub domain: String,
    pub steps: Vec<Step>,
}

/// One probe step: where it sits in the evidence, whether it ran, and what
/// it found (shortened) or why it did not run.
#[derive(Debug, Serialize)]
pub struct Step {
    pub path: String,
    /// `completed`, `failed` or `skipped`, as in the evidence.
    pub status: String,
    /// The status in the report language.
    pub status_label: String,
    pub value: String,
}

/// The appendix of `report`, domain by domain.
pub fn build(report: &Report) -> Vec<TargetEvidence> {
    report
        .targets
        .iter()
        .map(|target| {
            let mut steps = Vec::new();
            if let Ok(mut json) = serde_json::to_value(&target.evidence) {
                if let Some(object) = json.as_object_mut() {
                    object.remove("endpoints");
                }
                walk(&json, "", &mut steps);
            }
            for endpoint in target.evidence.endpoints.iter().filter(|e| shown(e)) {
                if let Ok(json) = serde_json::to_value(endpoint) {
                    let fields = ["tcp", "dialogue", "tls", "tls_scan"];
                    for field in fields {
                        if let Some(value) = json.get(field) {
                            walk(value, &format!("{}.{field}", endpoint.subject), &mut steps);
                        }
                    }
                }
            }
            for step in &mut steps {
                step.status_label =
                    strings::get(report.language, &format!("attempt_{}", step.status));
            }
            TargetEvidence {
                domain: target.domain.clone(),
                steps,
            }
        })
        .collect()
}

fn walk(json: &serde_json::Value, path: &str, steps: &mut Vec<Step>) {
    match json {
        serde_json::Value::Object(fields) => {
            if let Some(status) = fields.get("status").and_then(|s| s.as_str())
                && matches!(status, "completed" | "failed" | "skipped")
            {
                let value = match fields.get("value") {
                    Some(value) => compact(value),
                    None => fields
                        .get("reason")
                        .and_then(|r| r.as_str())
                        .unwrap_or_default()
                        .to_string(),
                };
                steps.push(Step {
                    path: path.trim_start_matches('.').to_string(),
                    status: status.to_string(),
                    status_label: String::new(),
                    value: shorten(&value),
                });
                return;
            }
            for (key, value) in fields {
                walk(value, &format!("{path}.{key}"), steps);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{index}]"), steps);
            }
        }
        _ => {}
    }
}

/// Minified JSON without certificate bodies (their SHA-256 stays).
fn compact(value: &serde_json::Value) -> String {
    let mut value = value.clone();
    strip(&mut value);
    serde_json::to_string(&value).unwrap_or_default()
}

fn strip(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(fields) => {
            fields.remove("der_base64");
            fields.values_mut().for_each(strip);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

fn shorten(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= MAX_VALUE {
        return clean;
    }
    let mut short: String = clean.chars().take(MAX_VALUE).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attempts_become_one_line_each_without_certificate_bodies() {
        let evidence = json!({
            "mx": {"status": "completed", "value": {"hosts": ["mx.example"], "der_base64": "AAAA"}},
            "dane": [{"tlsa": {"status": "skipped", "reason": "no TLSA records"}}],
            "plain": 3
        });
        let mut steps = Vec::new();
        walk(&evidence, "", &mut steps);
        steps.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].path, "dane[0].tlsa");
        assert_eq!(steps[0].value, "no TLSA records");
        assert_eq!(steps[1].path, "mx");
        assert_eq!(steps[1].value, r#"{"hosts":["mx.example"]}"#);
        assert_eq!(shorten(&"x".repeat(500)).chars().count(), MAX_VALUE + 1);
    }
}
