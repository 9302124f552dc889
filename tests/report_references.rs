//! References in the rendered reports (issue 14): HTML and PDF show each
//! cited source with its edition and link, and the appendix lists the
//! sources used; the renderers only format what the rules stage resolved.

use chrono::{TimeZone, Utc};
use mailaudit::Language;
use mailaudit::evidence::SCHEMA_VERSION;
use mailaudit::finding::{Finding, Severity, Status};
use mailaudit::report::{Format, Report, Settings};
use mailaudit::rules::{self, references::resolve_all};

fn finding(rule: &str, citations: &[&str]) -> Finding {
    let citations = resolve_all(&citations.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    Finding {
        rule: rule.to_string(),
        subject: "mx.bad.test:25".to_string(),
        status: Status::Fail,
        severity: Severity::High,
        area: "retention".to_string(),
        title: format!("{rule} title"),
        detail: format!("{rule} detail"),
        references: citations.iter().map(|c| c.label.clone()).collect(),
        citations,
        remediation: "Fix it.".to_string(),
        change: None,
        accepted: None,
    }
}

fn report(language: Language) -> Report {
    let findings = vec![
        finding("RET-001", &["hgb-257 Abs. 1 Nr. 3", "ao-147 Abs. 1 Nr. 3"]),
        finding("RET-003", &["hgb-257 Abs. 1 Nr. 2", "gobd-rz-119"]),
    ];
    let started_at = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
    // The rules stage lists the sources the findings cite.
    let assessment = rules::assess(&[], &[], &findings, started_at, &Default::default());
    Report {
        schema_version: SCHEMA_VERSION.to_string(),
        profile: Default::default(),
        tool_version: "0.1.0".to_string(),
        rule_set_version: "2026.11.2".to_string(),
        legal_snapshot: "2026-11-26".to_string(),
        language,
        started_at,
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
        findings,
        assessment,
        baseline: None,
    }
}

#[test]
fn html_links_each_citation_with_its_edition_and_lists_each_source_once() {
    let html = Format::Html.render(&report(Language::De)).unwrap();
    assert!(
        html.contains(
            "<a href=\"https://www.gesetze-im-internet.de/hgb/__257.html\" title=\"Handelsgesetzbuch\">HGB § 257 Abs. 1 Nr. 3</a> (§ 257 in der Fassung des Vierten Bürokratieentlastungsgesetzes"
        ),
        "{html}"
    );
    assert!(html.contains(">GoBD Rz. 119</a> (BMF-Schreiben vom 28.11.2019"));
    // The appendix lists HGB, AO and GoBD once each, HGB although cited twice.
    let appendix = &html[html.find("<section id=\"appendix\"").unwrap()..];
    assert!(appendix.contains("<h3>Zitierte Quellen</h3>"));
    assert_eq!(appendix.matches("<li><strong>").count(), 3, "{appendix}");
    assert_eq!(appendix.matches("<li><strong>HGB</strong>").count(), 1);
    assert!(appendix.contains("<a href=\"https://www.gesetze-im-internet.de/ao_1977/\">"));
}

#[test]
fn json_carries_title_edition_pinpoint_and_url_of_each_citation() {
    let json: serde_json::Value =
        serde_json::from_str(&Format::Json.render(&report(Language::En)).unwrap()).unwrap();
    let citation = &json["findings"][1]["citations"][1];
    assert_eq!(citation["label"], "GoBD Rz. 119");
    assert_eq!(citation["pinpoint"], "Rz. 119");
    assert!(
        citation["title"]
            .as_str()
            .unwrap()
            .starts_with("Grundsätze")
    );
    assert!(citation["edition"].as_str().unwrap().contains("2019"));
    assert!(
        citation["url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.bundesfinanzministerium.de/")
    );
}

#[cfg(feature = "pdf")]
#[test]
fn pdf_prints_each_citation_with_its_edition_and_the_sources_cited() {
    let bytes = Format::Pdf
        .render_bytes(
            &report(Language::En),
            &mailaudit::report::RenderOptions::default(),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let output = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let text = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("HGB § 257 Abs. 1 Nr. 3 (§ 257 in der Fassung des Vierten"),
        "{text}"
    );
    assert!(text.contains("Sources cited"), "{text}");
    assert!(text.contains("Abgabenordnung"), "{text}");
}
