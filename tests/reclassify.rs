//! Dated tables applied at evaluation time (issue 14): a report saved by an
//! older build, with the TR-02102-2 classes and the country classes written
//! into its evidence at scan time, is judged by the tables of the rule set
//! in use. A DPO points `--rules DIR` to a directory holding an adapted
//! `tables/tr-02102-2.toml` or `tables/countries.toml`, and the verdicts
//! follow that table, not the saved classes.
//!
//! The fixture is a scan of the lab's bad.test (mx.bad.test:25 and
//! pop.bad.test:110) by a build of schema 1.3, location from the lab RDAP
//! registry: the MX is in the US (adequacy decision), POP3 in CN.

mod common;

use common::mailaudit;
use serde_json::Value;
use std::path::Path;

const SAVED: &str = "tests/fixtures/report-1.3.0-classes.json";
const TLS_TABLE: &str = include_str!("../rules/tables/tr-02102-2.toml");
const COUNTRIES: &str = include_str!("../rules/tables/countries.toml");

/// `mailaudit evaluate SAVED [--rules DIR]`: "rule subject" → (status, severity).
fn evaluate(rules: Option<&Path>) -> Vec<(String, String, String)> {
    let mut command = mailaudit();
    command.args(["evaluate", SAVED, "--lang", "en", "-q"]);
    if let Some(dir) = rules {
        command.arg("--rules").arg(dir);
    }
    let output = command.output().unwrap();
    let findings: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    });
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                format!(
                    "{} {}",
                    f["rule"].as_str().unwrap(),
                    f["subject"].as_str().unwrap()
                ),
                f["status"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn verdict(findings: &[(String, String, String)], key: &str) -> (String, String) {
    let (_, status, severity) = findings
        .iter()
        .find(|(k, _, _)| k == key)
        .unwrap_or_else(|| panic!("no finding {key}"));
    (status.clone(), severity.clone())
}

fn pair(status: &str, severity: &str) -> (String, String) {
    (status.to_string(), severity.to_string())
}

/// A rules directory holding only `tables/NAME` with `text`.
fn table_dir(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tables")).unwrap();
    std::fs::write(dir.path().join("tables").join(name), text).unwrap();
    dir
}

/// Replaces the row of `id` (`0xc02f`) in the TLS table: `field = value`.
fn with_suite_field(id: &str, field: &str, value: &str) -> String {
    let row = format!("[[suite]]\nid = {id}\n");
    let start = TLS_TABLE.find(&row).expect("the suite is in the table");
    let end = start + TLS_TABLE[start..].find("\n\n").unwrap();
    let mut lines: Vec<String> = TLS_TABLE[start..end]
        .lines()
        .filter(|l| !l.starts_with(&format!("{field} =")))
        .map(str::to_string)
        .collect();
    lines.push(format!("{field} = {value}"));
    format!(
        "{}{}{}",
        &TLS_TABLE[..start],
        lines.join("\n"),
        &TLS_TABLE[end..]
    )
}

#[test]
fn the_saved_report_is_judged_by_the_embedded_tables_as_at_its_scan() {
    // Given the saved report, judged with the built-in tables
    let findings = evaluate(None);
    // Then the verdicts are those of the scan
    assert_eq!(
        verdict(&findings, "TLS-006 mx.bad.test:25"),
        pair("pass", "critical")
    );
    assert_eq!(
        verdict(&findings, "TLS-007 mx.bad.test:25"),
        pair("fail", "medium")
    );
    assert_eq!(
        verdict(&findings, "LOC-001 mx.bad.test:25"),
        pair("fail", "medium")
    );
    assert_eq!(
        verdict(&findings, "LOC-001 pop.bad.test:110"),
        pair("fail", "high")
    );
    // and TLS 1.2 stays recommended past 2028: no end within two years
    assert_eq!(
        verdict(&findings, "TLS-013 mx.bad.test:25"),
        pair("pass", "info")
    );
}

#[test]
fn a_changed_tls_table_reclassifies_the_saved_suites() {
    // Given a table in which ECDHE-RSA-AES128-GCM is broken and
    // ECDHE-RSA-AES256-GCM is recommended only until mid-2027
    let table = with_suite_field("0xc02f", "class", "\"broken\"");
    let table = table.replacen(
        "[[suite]]\nid = 0xc030\nname = \"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\"\nclass = \"recommended\"\nrecommended_until = \"2031-12-31\"",
        "[[suite]]\nid = 0xc030\nname = \"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\"\nclass = \"recommended\"\nrecommended_until = \"2027-06-30\"",
        1,
    );
    assert_ne!(table, TLS_TABLE);
    let dir = table_dir("tr-02102-2.toml", &table);
    // When the saved report is evaluated with it
    let findings = evaluate(Some(dir.path()));
    // Then the saved class 'recommended' no longer counts (high, not
    // critical: TLS-006 lowers it for an MX, where TLS is opportunistic)
    assert_eq!(
        verdict(&findings, "TLS-006 mx.bad.test:25"),
        pair("fail", "high")
    );
    assert_eq!(
        verdict(&findings, "TLS-013 mx.bad.test:25"),
        pair("fail", "info")
    );
    // and what the country table judges is unchanged
    assert_eq!(
        verdict(&findings, "LOC-001 mx.bad.test:25"),
        pair("fail", "medium")
    );
}

#[test]
fn a_changed_country_table_reclassifies_the_saved_countries() {
    // Given a country table without the US adequacy decision, and with CN
    // (for the test's sake) in the EEA
    let table = COUNTRIES
        .lines()
        .filter(|l| !l.contains("code = \"US\""))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\"IS\", \"LI\", \"NO\",", "\"IS\", \"LI\", \"NO\", \"CN\",");
    let dir = table_dir("countries.toml", &table);
    // When the saved report is evaluated with it
    let findings = evaluate(Some(dir.path()));
    // Then the MX in the US is in a third country, POP3 in CN passes
    assert_eq!(
        verdict(&findings, "LOC-001 mx.bad.test:25"),
        pair("fail", "high")
    );
    assert_eq!(verdict(&findings, "LOC-001 pop.bad.test:110").0, "pass");
    // and the TLS verdicts are unchanged
    assert_eq!(
        verdict(&findings, "TLS-007 mx.bad.test:25"),
        pair("fail", "medium")
    );
}

#[test]
fn a_broken_table_is_a_usage_error_naming_the_file() {
    let dir = table_dir("countries.toml", "date = 2026\n");
    mailaudit()
        .args(["evaluate", SAVED, "-q", "--rules"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("countries.toml"));
}

#[test]
fn the_report_written_again_holds_facts_not_classes() {
    // Given the saved report with classes in its evidence
    let saved = std::fs::read_to_string(SAVED).unwrap();
    assert!(saved.contains("\"class\""));
    // When it is written again
    let output = mailaudit()
        .args(["report", SAVED, "--format", "json", "--out", "-", "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    // Then its evidence keeps code points and country codes, no class
    assert!(text.contains("\"0xc02f\""));
    assert!(text.contains("\"country\": \"CN\""));
    for judged in ["\"class\"", "\"classification\"", "\"table_snapshot\""] {
        assert!(!text.contains(judged), "{judged} is still in the evidence");
    }
}

#[test]
fn every_suite_and_group_the_scan_offers_is_in_the_tls_table() {
    // The probe's registry (facts) and the rules' table (classes) are two
    // files; a suite the scan can record must have a class.
    let registry = include_str!("../src/probe/tls_scan/registry.toml");
    let ids = |text: &str, kind: &str| -> Vec<String> {
        text.split(&format!("[[{kind}]]\n"))
            .skip(1)
            .filter_map(|row| {
                row.lines()
                    .next()?
                    .strip_prefix("id = ")
                    .map(str::to_string)
            })
            .collect()
    };
    for kind in ["suite", "group"] {
        let classified = ids(TLS_TABLE, kind);
        let offered = ids(registry, kind);
        assert!(offered.len() > 20, "{kind}: {}", offered.len());
        for id in &offered {
            assert!(
                classified.contains(id),
                "{kind} {id} has no class in rules/tables/tr-02102-2.toml"
            );
        }
    }
    assert!(Path::new(SAVED).is_file());
}
