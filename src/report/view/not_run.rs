//! The "probe steps that did not run" table: every attempt in the evidence
//! that failed, or (on endpoints) was skipped, with its reason.

use super::{NotRunRow, shown};
use crate::Language;
use crate::report::{Report, strings};

/// Every probe step that failed or was skipped, found by walking the
/// evidence for attempts, so a new probe shows up here without code.
pub(super) fn rows(report: &Report, language: Language) -> Vec<NotRunRow> {
    let mut rows = Vec::new();
    for target in &report.targets {
        let evidence = &target.evidence;
        let Ok(mut json) = serde_json::to_value(evidence) else {
            continue;
        };
        if let Some(object) = json.as_object_mut() {
            object.remove("endpoints");
        }
        // Domain-level skips are by design ("no TLSA records, nothing to
        // match"); only failures are news there.
        let subject = format!("dns:{}", target.domain);
        collect_attempts(&json, &subject, "", false, &mut rows);
        for endpoint in evidence.endpoints.iter().filter(|e| shown(e)) {
            if let Ok(json) = serde_json::to_value(endpoint) {
                collect_attempts(&json, &endpoint.subject, "", true, &mut rows);
            }
        }
    }
    for row in &mut rows {
        row.status = strings::get(language, &format!("attempt_{}", row.status));
    }
    rows
}

fn collect_attempts(
    json: &serde_json::Value,
    subject: &str,
    path: &str,
    with_skipped: bool,
    rows: &mut Vec<NotRunRow>,
) {
    match json {
        serde_json::Value::Object(fields) => {
            let status = fields.get("status").and_then(|s| s.as_str());
            let shown = status == Some("failed") || (with_skipped && status == Some("skipped"));
            if let (true, Some(status), Some(reason)) =
                (shown, status, fields.get("reason").and_then(|r| r.as_str()))
            {
                rows.push(NotRunRow {
                    subject: subject.to_string(),
                    step: path.trim_start_matches('.').to_string(),
                    status: status.to_string(),
                    reason: reason.to_string(),
                });
                return;
            }
            for (key, value) in fields {
                collect_attempts(value, subject, &format!("{path}.{key}"), with_skipped, rows);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let path = format!("{path}[{index}]");
                collect_attempts(item, subject, &path, with_skipped, rows);
            }
        }
        _ => {}
    }
}
