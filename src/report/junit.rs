//! `report.junit.xml`: JUnit XML for CI test dashboards. One test suite per
//! area, one test case per rule and subject (`classname` = rule ID, `name` =
//! subject). A failed finding is a `<failure>` typed with its severity, an
//! inconclusive one is `<skipped>` (never a pass); not-applicable findings
//! are left out.

use super::{Report, strings};
use crate::finding::AREAS;
use crate::finding::{Finding, Status};
use std::fmt::Write;

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let relevant: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status != Status::NotApplicable)
        .collect();
    let count =
        |findings: &[&Finding], status| findings.iter().filter(|f| f.status == status).count();
    let timestamp = report.started_at.format("%Y-%m-%dT%H:%M:%S").to_string();
    let seconds = (report.finished_at - report.started_at).num_milliseconds() as f64 / 1000.0;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"mailaudit\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{seconds:.3}\" timestamp=\"{timestamp}\">",
        relevant.len(),
        count(&relevant, Status::Fail),
        count(&relevant, Status::Inconclusive),
    );
    // Areas in report order; any area a custom rule invents comes last.
    let mut areas: Vec<&str> = AREAS.to_vec();
    for finding in &relevant {
        if !areas.contains(&finding.area.as_str()) {
            areas.push(&finding.area);
        }
    }
    for area in areas {
        let mut cases: Vec<&Finding> = relevant
            .iter()
            .copied()
            .filter(|f| f.area == area)
            .collect();
        if cases.is_empty() {
            continue;
        }
        cases.sort_by(|a, b| a.rule.cmp(&b.rule).then(a.subject.cmp(&b.subject)));
        let label = strings::get(report.language, &format!("area_{area}"));
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{timestamp}\">",
            escape(&label),
            cases.len(),
            count(&cases, Status::Fail),
            count(&cases, Status::Inconclusive),
        );
        for finding in cases {
            test_case(&mut out, finding);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn test_case(out: &mut String, finding: &Finding) {
    let open = format!(
        "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
        escape(&finding.rule),
        escape(&finding.subject)
    );
    match finding.status {
        // Accepted in the profile: visible, but not a failure for CI.
        Status::Fail if finding.accepted.is_some() => {
            let accepted = finding
                .accepted
                .as_ref()
                .map(|a| format!("{} (until {})", a.reason, a.until))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(&format!("{}: accepted: {accepted}", finding.title))
            );
        }
        Status::Fail => {
            let _ = writeln!(
                out,
                "{open}>\n      <failure message=\"{}\" type=\"{}\">{}\n\n{}\n\n{}</failure>\n    </testcase>",
                escape(&finding.title),
                finding.severity,
                escape(&finding.detail),
                escape(&finding.remediation),
                escape(&finding.references.join("; ")),
            );
        }
        Status::Inconclusive => {
            let _ = writeln!(
                out,
                "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(&format!("{}: {}", finding.title, finding.detail))
            );
        }
        Status::Pass | Status::NotApplicable => {
            let _ = writeln!(out, "{open}/>");
        }
    }
}

/// Escapes text for XML content and attribute values, and drops the control
/// characters XML 1.0 cannot carry at all (§2.2), which a hostile server
/// banner could contain.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_keeps_non_ascii() {
        assert_eq!(
            escape("<a href=\"x\">&'ü€</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;ü€&lt;/a&gt;"
        );
    }

    #[test]
    fn drops_characters_xml_cannot_hold() {
        assert_eq!(escape("a\u{0}b\u{1b}c"), "abc");
    }
}
