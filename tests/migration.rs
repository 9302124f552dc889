//! A report.json written before schema 1.4 (by main's binary, before the
//! grade, expiry flags and retention views moved into the report) still
//! loads, renders, and is judged again with everything it lacked; the
//! findings stay what that binary wrote.

mod common;

use mailaudit::Language;
use mailaudit::evidence::SCHEMA_VERSION;
use mailaudit::finding::Finding;
use mailaudit::report::assessment::{Assessment, Grade};
use mailaudit::report::{Format, offline};
use mailaudit::rules;

/// The verdicts of `findings`, sorted: rule, subject, status, severity and
/// detail. References are left out: the rule set that judges again may cite
/// its sources differently (issue 14's catalogue) without changing a verdict.
fn sorted(findings: &[Finding]) -> Vec<String> {
    let mut all: Vec<String> = findings
        .iter()
        .map(|f| {
            serde_json::to_string(&(&f.rule, &f.subject, f.status, f.severity, &f.detail)).unwrap()
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_schema_1_3_report_loads_renders_and_is_judged_again_with_the_same_findings() {
    // Given report.json as main's binary wrote it (schema 1.3.0)
    let path = common::repo("tests/fixtures/report-1.3.0.json");
    let saved = offline::read(&path).expect("a 1.3 report is readable");
    assert_eq!(saved.schema_version, "1.3.0");
    assert_eq!(saved.assessment, Assessment::default());
    // When it is rendered as it is, then every text format renders, and the
    // grade it does not carry is shown as unknown, not as a pass.
    for format in [
        Format::Html,
        Format::Json,
        Format::Markdown,
        Format::Junit,
        Format::Sarif,
    ] {
        assert!(!format.render(&saved).unwrap().is_empty(), "{format:?}");
    }
    let html = Format::Html.render(&saved).unwrap();
    assert!(html.contains("Overall grade –"), "no invented grade");

    // When it is judged again with the built-in rules
    let rules = rules::defaults().unwrap();
    let report = rules::reevaluate(&saved, &rules, Language::En, None);
    // Then it is a 1.4 report with the findings main wrote (rules added
    // since, such as the named vulnerabilities TLS-101 to TLS-109, add
    // verdicts of their own and are left out) ...
    assert_eq!(report.schema_version, SCHEMA_VERSION);
    let known: std::collections::HashSet<&str> =
        saved.findings.iter().map(|f| f.rule.as_str()).collect();
    let rejudged: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| known.contains(f.rule.as_str()))
        .cloned()
        .collect();
    assert_eq!(sorted(&rejudged), sorted(&saved.findings));
    // ... and the assessment: bad.test fails critical checks (grade F), its
    // expired certificate (-2166 days) is expiring, the one valid for 364
    // days is not, and bob's mailbox has its retention view.
    let assessment = &report.assessment;
    assert_eq!(assessment.grade, Some(Grade::F));
    assert_eq!(assessment.expiring_days, Some(30));
    let expiring = |days: i64| {
        assessment
            .certificates
            .iter()
            .find(|c| c.days_left == days)
            .map(|c| c.expiring)
    };
    assert_eq!(expiring(-2166), Some(true));
    assert_eq!(expiring(364), Some(false));
    let bob = assessment
        .mailbox("bob@bad.test", "imaps://imap.bad.test:993")
        .expect("bob's retention view");
    assert_eq!(bob.past_deadline_total, 924);
    assert_eq!(bob.missing_sent_years, [2023, 2024]);
    assert_eq!(assessment.unclassified_retention_years, Some(8));
    let html = Format::Html.render(&report).unwrap();
    assert!(html.contains("Overall grade F"), "the grade is shown");

    // And the 1.4 report reads back as it was written.
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("report.json");
    std::fs::write(&written, Format::Json.render(&report).unwrap()).unwrap();
    let again = offline::read(&written).unwrap();
    assert_eq!(again.assessment, report.assessment);
}

#[test]
fn the_binary_judges_a_schema_1_3_report_again() {
    // Given the 1.3 fixture, when `mailaudit report` renders it as JSON,
    // then the output carries the assessment the fixture lacked.
    let output = common::mailaudit()
        .args(["report", "--format", "json", "--out", "-", "-q"])
        .arg(common::repo("tests/fixtures/report-1.3.0.json"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(report["schema_version"], SCHEMA_VERSION);
    assert_eq!(report["assessment"]["grade"], "F");
    assert_eq!(report["assessment"]["mailboxes"][0]["user"], "bob@bad.test");
}
