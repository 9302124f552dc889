//! The files a user gets: `--out DIR` writes report.html and report.json,
//! the HTML is self-contained and German by default, the summary lands on
//! stdout, and `--lang en` switches the language.

mod common;

use common::{LAB_RESOLVER, lab_anchor, lab_ca, mailaudit};

fn scan_to_dir(extra: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = mailaudit()
        .args([
            "scan",
            "good.test",
            "bad.test",
            "--resolver",
            LAB_RESOLVER,
            "--ca-file",
        ])
        .arg(lab_ca())
        .arg("--dnssec-anchor")
        .arg(lab_anchor())
        .arg("--out")
        .arg(dir.path())
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "bad.test has high findings");
    (dir, String::from_utf8(output.stdout).unwrap())
}

#[test]
fn out_dir_gets_a_self_contained_german_html_and_the_json() {
    let (dir, summary) = scan_to_dir(&[]);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["language"], "de");
    // German by default, with the disclaimer, snapshot date and rule-set version.
    assert!(html.contains("<html lang=\"de\">"));
    assert!(html.contains(
        "Automatisierte technische Bestandsaufnahme, keine Rechts- oder Steuerberatung."
    ));
    assert!(html.contains(json["legal_snapshot"].as_str().unwrap()));
    assert!(html.contains(json["rule_set_version"].as_str().unwrap()));
    // Findings with references and remediation, and the endpoints table.
    assert!(html.contains("Klartext-Anmeldung"));
    assert!(html.contains("Abhilfe"));
    assert!(html.contains("RFC 8314"));
    assert!(html.contains("mx.good.test:25"));
    assert!(html.contains("TLSv1.3"));
    // Self-contained: no scripts, no external stylesheets, images or fonts.
    for forbidden in ["<script", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!html.contains(forbidden), "found {forbidden}");
    }
    // Probe steps that did not run are listed with their reason.
    let not_run = &html[html.find("id=\"not-run\"").expect("not-run section")..];
    assert!(not_run.contains("pop.bad.test:110"), "{not_run}");
    assert!(not_run.contains("does not offer STARTTLS"), "{not_run}");
    // Text from the network is escaped, never markup.
    assert!(!html.contains("<Dovecot"));
    // The terminal summary names the worst items and where the report went.
    assert!(summary.contains("kritisch"), "{summary}");
    assert!(summary.contains("ACC-001"), "{summary}");
    assert!(summary.contains("report.html"), "{summary}");
}

#[test]
fn lang_en_switches_report_and_summary_to_english() {
    let (dir, summary) = scan_to_dir(&["--lang", "en", "--format", "html"]);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Automated technical assessment, not legal or tax advice."));
    assert!(html.contains("plaintext authentication before TLS"));
    assert!(
        !dir.path().join("report.json").exists(),
        "only the formats asked for"
    );
    assert!(summary.contains("critical"), "{summary}");
}
