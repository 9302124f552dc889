//! The CI formats (Markdown, JUnit, SARIF), the baseline comparison and the
//! committed JSON Schema, on reports built in code: no lab needed.

use chrono::{TimeZone, Utc};
use mailaudit::Language;
use mailaudit::evidence::SCHEMA_VERSION;
use mailaudit::finding::{Change, Finding, Severity, Status};
use mailaudit::report::{Format, Report, Settings, baseline, schema};
use quick_xml::events::Event;
use std::collections::{BTreeMap, HashSet};

fn finding(rule: &str, subject: &str, status: Status, severity: Severity) -> Finding {
    Finding {
        rule: rule.to_string(),
        subject: subject.to_string(),
        status,
        severity,
        area: "transport".to_string(),
        title: format!("{rule} title"),
        detail: format!("{rule} on {subject}"),
        references: vec![
            "BSI TR-02102-2 (2026-01) Abschn. 3.2".to_string(),
            "RFC 8314 Section 3".to_string(),
        ],
        citations: mailaudit::rules::references::resolve_all(&[
            "tr-02102-2-3.2".to_string(),
            "rfc8314-3".to_string(),
        ]),
        remediation: "Fix it.".to_string(),
        change: None,
        accepted: None,
    }
}

/// A report with every status, and texts that need escaping.
fn sample(language: Language) -> Report {
    let mut hostile = finding(
        "TLS-001",
        "mx.bad.test:25",
        Status::Fail,
        Severity::Critical,
    );
    hostile.title = "Klartext <&\"'> Übertragung".to_string();
    hostile.detail =
        "Banner: 220 <script>alert('x')</script> | ESMTP & Grüße\nzweite Zeile \u{1b}[0m"
            .to_string();
    let mut report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        profile: Default::default(),
        tool_version: "0.1.0".to_string(),
        rule_set_version: "2026.11.1".to_string(),
        legal_snapshot: "2026-11-26".to_string(),
        language,
        started_at: Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
        finished_at: Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 3).unwrap(),
        settings: Settings {
            resolver: "system".to_string(),
            timeout_seconds: 10.0,
            connect_timeout_seconds: 5.0,
            ca_files: vec![],
            dnssec_anchors: vec![],
            extra_hosts: vec![],
            connections_per_address: 4,
        },
        targets: vec![],
        findings: vec![
            hostile,
            finding("CRT-001", "mx.bad.test:25", Status::Fail, Severity::High),
            finding("DNS-002", "dns:bad.test", Status::Fail, Severity::Medium),
            finding("TLS-012", "mx.bad.test:25", Status::Fail, Severity::Info),
            finding(
                "LOC-001",
                "mx.good.test:25",
                Status::Inconclusive,
                Severity::Medium,
            ),
            finding(
                "TLS-001",
                "mx.good.test:25",
                Status::Pass,
                Severity::Critical,
            ),
            finding(
                "ACC-003",
                "mx.good.test:25",
                Status::NotApplicable,
                Severity::Low,
            ),
        ],
        assessment: Default::default(),
        baseline: None,
    };
    report.assessment = mailaudit::rules::assess(
        &[],
        &report.targets,
        &report.findings,
        report.started_at,
        &report.profile,
    );
    report
}

#[test]
fn formats_parse_from_their_names() {
    for (name, format, file) in [
        ("md", Format::Markdown, "report.md"),
        ("junit", Format::Junit, "report.junit.xml"),
        ("sarif", Format::Sarif, "report.sarif"),
    ] {
        assert_eq!(name.parse::<Format>().unwrap(), format);
        assert_eq!(format.file_name(), file);
    }
    assert!("pdfx".parse::<Format>().unwrap_err().contains("junit"));
}

#[test]
fn markdown_has_the_severity_table_and_the_failed_findings_in_the_report_language() {
    let text = Format::Markdown.render(&sample(Language::De)).unwrap();
    assert!(text.contains("| kritisch | 1 |"), "{text}");
    assert!(text.contains("| hoch | 1 |"));
    assert!(text.contains("1 Nicht beurteilbar"));
    assert!(text.contains("| CRT-001 | mx.bad.test:25 | hoch | CRT-001 title |"));
    // Pipes, HTML and line breaks of a server banner cannot break the table.
    assert!(
        text.contains("&lt;script&gt;alert('x')&lt;/script&gt; \\| ESMTP &amp; Grüße zweite Zeile")
    );
    assert!(
        !text.contains("TLS-001 | mx.good.test:25"),
        "passes are not listed"
    );
    let english = Format::Markdown.render(&sample(Language::En)).unwrap();
    assert!(english.contains("| critical | 1 |"));
    assert!(english.contains("## Failed checks"));
}

#[test]
fn markdown_carries_the_disclaimer_and_the_legal_snapshot_date_in_both_languages() {
    // legal-basis.md: every report carries the disclaimer, followed by the
    // legal snapshot date and the rule-set version (issue 14).
    for (language, disclaimer, snapshot) in [
        (
            Language::De,
            "Automatisierte technische Bestandsaufnahme, keine Rechts- oder Steuerberatung.",
            "Rechtsstand: 2026-11-20",
        ),
        (
            Language::En,
            "Automated technical assessment, not legal or tax advice.",
            "Legal snapshot: 2026-11-20",
        ),
    ] {
        let mut report = sample(language);
        // A date the report shows nowhere else (the scan ran on 2026-11-26).
        report.legal_snapshot = "2026-11-20".to_string();
        let text = Format::Markdown.render(&report).unwrap();
        assert!(text.contains(disclaimer), "{text}");
        assert!(text.contains(snapshot), "{text}");
        assert!(text.contains("2026.11.1"), "{text}");
    }
}

/// Parses XML and returns (element name, attributes) of every element; panics
/// on malformed XML.
fn elements(xml: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found = Vec::new();
    let mut depth = 0i32;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        (
                            a.key.0.to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("valid escapes")
                                .into_owned(),
                        )
                    })
                    .collect();
                found.push((e.name().0.to_string(), attributes));
                depth += 1;
                if xml[..reader.buffer_position() as usize].ends_with("/>") {
                    depth -= 1;
                }
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    found
}

#[test]
fn junit_parses_and_has_one_case_per_rule_and_subject() {
    let xml = Format::Junit.render(&sample(Language::En)).unwrap();
    let elements = elements(&xml);
    let cases: Vec<&BTreeMap<String, String>> = elements
        .iter()
        .filter(|(name, _)| name == "testcase")
        .map(|(_, a)| a)
        .collect();
    // Not applicable is left out: 4 failures, 1 inconclusive, 1 pass.
    assert_eq!(cases.len(), 6, "{xml}");
    assert!(
        cases
            .iter()
            .any(|c| c["classname"] == "CRT-001" && c["name"] == "mx.bad.test:25")
    );
    let failure = elements
        .iter()
        .find(|(name, a)| name == "failure" && a["type"] == "critical")
        .expect("the critical failure");
    assert_eq!(failure.1["message"], "Klartext <&\"'> Übertragung");
    let skipped: Vec<_> = elements.iter().filter(|(n, _)| n == "skipped").collect();
    assert_eq!(skipped.len(), 1);
    let root = &elements[0];
    assert_eq!(root.0, "testsuites");
    assert_eq!(root.1["tests"], "6");
    assert_eq!(root.1["failures"], "4");
    assert_eq!(root.1["skipped"], "1");
    assert!(!xml.contains('\u{1b}'), "control characters are dropped");
}

#[test]
fn sarif_is_2_1_0_and_every_result_names_a_driver_rule() {
    let text = Format::Sarif.render(&sample(Language::En)).unwrap();
    let log: serde_json::Value = serde_json::from_str(&text).unwrap();
    // It reads back into the typed SARIF model.
    let _typed: serde_sarif::sarif::Sarif = serde_json::from_str(&text).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "mailaudit");
    let rules: Vec<&serde_json::Value> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let ids: HashSet<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for rule in &rules {
        assert!(rule["fullDescription"]["text"].as_str().is_some());
        // The first cited source, an official URL, is the rule's help.
        assert_eq!(
            rule["helpUri"],
            "https://www.bsi.bund.de/SharedDocs/Downloads/DE/BSI/Publikationen/TechnischeRichtlinien/TR02102/BSI-TR-02102-2.pdf"
        );
        assert!(rule["properties"]["references"].is_array());
        let citation = &rule["properties"]["citations"][1];
        assert_eq!(citation["label"], "RFC 8314 Section 3");
        assert_eq!(
            citation["edition"],
            "January 2018 (Proposed Standard; updated by RFC 8997)"
        );
        assert_eq!(citation["url"], "https://www.rfc-editor.org/rfc/rfc8314");
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 5, "failures and the inconclusive finding");
    for result in results {
        let id = result["ruleId"].as_str().unwrap();
        assert!(ids.contains(id), "{id} is not a driver rule");
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        assert!(result["locations"][0]["logicalLocations"][0]["name"].is_string());
    }
    let level = |rule: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == rule)
            .map(|r| r["level"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(level("CRT-001"), "error");
    assert_eq!(level("DNS-002"), "warning");
    assert_eq!(level("TLS-012"), "note");
    assert_eq!(level("LOC-001"), "none");
}

#[test]
fn baseline_marks_new_and_unchanged_failures_and_lists_fixed_ones() {
    // Given a baseline where CRT-001 failed and a since-fixed DNS-001 failed,
    // and DNS-002 passed
    let mut previous = sample(Language::En);
    previous.started_at = Utc.with_ymd_and_hms(2026, 11, 19, 10, 0, 0).unwrap();
    previous.findings = vec![
        finding("CRT-001", "mx.bad.test:25", Status::Fail, Severity::High),
        finding("DNS-001", "dns:bad.test", Status::Fail, Severity::High),
        finding("DNS-002", "dns:bad.test", Status::Pass, Severity::Medium),
    ];
    // When today's report is compared with it
    let mut current = sample(Language::En);
    baseline::compare(&mut current, &previous);
    // Then
    let change = |rule: &str, subject: &str| {
        current
            .findings
            .iter()
            .find(|f| f.rule == rule && f.subject == subject)
            .unwrap()
            .change
    };
    assert_eq!(change("CRT-001", "mx.bad.test:25"), Some(Change::Unchanged));
    assert_eq!(change("DNS-002", "dns:bad.test"), Some(Change::New));
    assert_eq!(change("TLS-001", "mx.bad.test:25"), Some(Change::New));
    assert_eq!(
        change("TLS-001", "mx.good.test:25"),
        None,
        "passes have no change"
    );
    let fixed = &current.baseline.as_ref().unwrap().fixed;
    assert_eq!(fixed.len(), 1);
    assert_eq!(fixed[0].rule, "DNS-001");
    assert_eq!(current.count_change(Change::New), 3);
    // And Markdown and HTML show the counts
    let markdown = Format::Markdown.render(&current).unwrap();
    assert!(
        markdown.contains("3 new, 1 fixed, 1 unchanged"),
        "{markdown}"
    );
    assert!(markdown.contains("## Fixed since the baseline"));
    let html = Format::Html.render(&current).unwrap();
    assert!(html.contains("3 new, 1 fixed, 1 unchanged"));
    // And the JSON carries it and reads back
    let json = Format::Json.render(&current).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back.findings, current.findings);
    assert_eq!(back.baseline.unwrap().fixed, *fixed);
}

#[test]
fn the_committed_schema_matches_the_report_model() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.schema.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("docs/report.schema.json"))
            .expect("docs/report.schema.json is JSON");
    let generated = schema::generate();
    let version =
        |schema: &serde_json::Value| schema[schema::VERSION_KEY].as_str().map(String::from);
    assert_eq!(version(&generated).as_deref(), Some(SCHEMA_VERSION));
    if committed != generated {
        let hint = if version(&committed).as_deref() == Some(SCHEMA_VERSION) {
            "the report schema changed: bump SCHEMA_VERSION and run `cargo run -- schema > docs/report.schema.json`"
        } else {
            "SCHEMA_VERSION was bumped: run `cargo run -- schema > docs/report.schema.json`"
        };
        panic!("{hint}");
    }
}

/// The SARIF 2.1.0 JSON Schema (OASIS), kept as a test fixture
/// (`tests/fixtures/sarif/`, with its source, version and hash in the README
/// there) so the test never depends on the state of the cargo cache.
fn sarif_schema() -> serde_json::Value {
    use sha2::Digest;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sarif/sarif-schema-2.1.0.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read the SARIF schema fixture {path}: {e}"));
    // The README beside the fixture names its SHA-256; an edited or
    // truncated file would otherwise go unnoticed.
    let readme = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sarif/README.md"
    ))
    .expect("tests/fixtures/sarif/README.md");
    let digest = format!("{:x}", sha2::Sha256::digest(text.as_bytes()));
    assert!(
        readme.contains(&format!("SHA-256: `{digest}`")),
        "the SARIF schema fixture's SHA-256 ({digest}) is not the one its README records"
    );
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the SARIF schema fixture {path} is not JSON: {e}"))
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema = sarif_schema();
    assert!(
        schema["title"]
            .as_str()
            .unwrap()
            .contains("SARIF) Version 2.1.0")
    );
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    for language in [Language::En, Language::De] {
        let text = Format::Sarif.render(&sample(language)).unwrap();
        let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // The validator does reject a broken document.
    assert!(!validator.is_valid(&serde_json::json!({"version": "2.1.0", "runs": "no"})));
}
