//! The offline commands on a saved scan of the lab: `report` and `evaluate`
//! reproduce the scan's findings exactly, `--baseline` marks changes, and a
//! file this build cannot read exits with 2 naming the file and the reason.

mod common;

use common::{mailaudit, scan_lab};
use predicates::prelude::*;
use serde_json::Value;

/// Scans both lab providers once and saves the report.
fn saved_scan() -> (tempfile::TempDir, std::path::PathBuf, Value) {
    let (code, report) = scan_lab(&["good.test", "bad.test"], &[]);
    assert_eq!(code, 1, "bad.test has high findings");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    (dir, path, report)
}

fn stdout_json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn report_and_evaluate_reproduce_the_scan_and_baseline_marks_changes() {
    let (dir, path, scanned) = saved_scan();
    assert!(scanned["findings"].as_array().unwrap().len() > 100);

    // report re-renders with the same findings and exit code
    let output = mailaudit()
        .args(["report", "--format", "json", "--out", "-", "-q"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let rendered = stdout_json(&output);
    assert_eq!(rendered["findings"], scanned["findings"]);
    assert_eq!(rendered["targets"], scanned["targets"]);

    // evaluate prints the same findings
    let output = mailaudit().arg("evaluate").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_json(&output), scanned["findings"]);

    // report in another language and format, into a directory
    let out = dir.path().join("en");
    mailaudit()
        .args([
            "report",
            "--lang",
            "de",
            "--format",
            "md,junit,sarif,html",
            "-q",
            "--out",
        ])
        .arg(&out)
        .arg(&path)
        .assert()
        .code(1);
    for file in [
        "report.md",
        "report.junit.xml",
        "report.sarif",
        "report.html",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(markdown.contains("Beanstandete Prüfungen"));

    // Given a baseline in which one current failure did not fail yet and a
    // failure that no longer exists
    let mut previous = scanned.clone();
    let findings = previous["findings"].as_array_mut().unwrap();
    let index = findings.iter().position(|f| f["status"] == "fail").unwrap();
    let dropped = findings.remove(index);
    let mut gone = dropped.clone();
    gone["rule"] = "ZZZ-999".into();
    findings.push(gone);
    let baseline = dir.path().join("previous.json");
    std::fs::write(&baseline, previous.to_string()).unwrap();
    // When the report is compared with it
    let output = mailaudit()
        .args([
            "report",
            "--format",
            "json",
            "--out",
            "-",
            "-q",
            "--baseline",
        ])
        .arg(&baseline)
        .arg(&path)
        .output()
        .unwrap();
    let compared = stdout_json(&output);
    // Then exactly that finding is new, and the vanished one is fixed
    let new: Vec<&Value> = compared["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["change"] == "new")
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["rule"], dropped["rule"]);
    assert_eq!(new[0]["subject"], dropped["subject"]);
    let fixed = compared["baseline"]["fixed"].as_array().unwrap();
    assert_eq!(fixed.len(), 1);
    assert_eq!(fixed[0]["rule"], "ZZZ-999");
    let markdown = mailaudit()
        .args([
            "report",
            "--lang",
            "en",
            "--format",
            "md",
            "--out",
            "-",
            "-q",
            "--baseline",
        ])
        .arg(&baseline)
        .arg(&path)
        .output()
        .unwrap();
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(markdown.contains(" 1 new, 1 fixed, "), "{markdown}");

    // scan takes --baseline too
    let (_, rescanned) = scan_lab(
        &["good.test", "bad.test"],
        &["--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(rescanned["baseline"]["fixed"][0]["rule"], "ZZZ-999");
    assert!(
        rescanned["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["change"] == "unchanged")
    );
}

#[test]
fn an_unreadable_or_foreign_report_file_exits_with_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    mailaudit()
        .arg("report")
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.json"));
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"hello\": 1}").unwrap();
    mailaudit()
        .arg("evaluate")
        .arg(&garbage)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "garbage.json has no schema_version",
        ));
    let future = dir.path().join("future.json");
    std::fs::write(&future, "{\"schema_version\": \"2.0.0\"}").unwrap();
    mailaudit()
        .args(["report", "--out", "-", "--format", "json"])
        .arg(&future)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "future.json has schema_version 2.0.0",
        ))
        .stderr(predicate::str::contains("does not read"));
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"schema_version\": \"1.0.0\", \"findings\": 3}").unwrap();
    mailaudit()
        .arg("evaluate")
        .arg(&broken)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "broken.json is not a mailaudit report",
        ));
}

#[test]
fn schema_prints_the_committed_schema() {
    let committed = std::fs::read_to_string(common::repo("docs/report.schema.json")).unwrap();
    mailaudit()
        .arg("schema")
        .assert()
        .success()
        .stdout(predicate::eq(committed));
}

#[test]
fn failures_accepted_in_the_profile_stay_visible_but_do_not_fail_the_build() {
    let (dir, path, scanned) = saved_scan();
    let mut failing: Vec<String> = scanned["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    failing.sort();
    failing.dedup();
    // The profile declares the AVV, so GOV-002 (inconclusive without a
    // profile) passes instead of adding a failure nobody accepted.
    let mut profile = String::from("[provider]\navv = true\n");
    for rule in &failing {
        profile.push_str(&format!(
            "[[accepted]]\nrule = \"{rule}\"\nreason = \"test acceptance\"\nuntil = \"2099-12-31\"\n"
        ));
    }
    // One acceptance that has already expired counts again.
    profile = profile.replacen("2099-12-31", "2000-01-01", 1);
    let profile_path = dir.path().join("accept.toml");
    std::fs::write(&profile_path, profile).unwrap();
    // The saved scan re-judged with the profile, failing on any severity.
    let report_with_profile = || {
        mailaudit()
            .args(["report", "--format", "json", "--out", "-", "-q"])
            .args(["--fail-on", "info", "--profile"])
            .arg(&profile_path)
            .arg(&path)
            .output()
            .unwrap()
    };
    let output = report_with_profile();
    let rendered = stdout_json(&output);
    let findings = rendered["findings"].as_array().unwrap();
    let expired = &failing[0];
    for finding in findings.iter().filter(|f| f["status"] == "fail") {
        if finding["rule"] == expired.as_str() {
            assert!(finding.get("accepted").is_none(), "{finding}");
        } else {
            assert_eq!(
                finding["accepted"]["reason"], "test acceptance",
                "{finding}"
            );
        }
    }
    // The expired acceptance still fails the build; accept it too and the
    // build passes although the failures are all still listed.
    assert_eq!(output.status.code(), Some(1));
    let all = std::fs::read_to_string(&profile_path)
        .unwrap()
        .replace("2000-01-01", "2099-12-31");
    std::fs::write(&profile_path, all).unwrap();
    let output = report_with_profile();
    assert_eq!(output.status.code(), Some(0));
    let rendered = stdout_json(&output);
    assert_eq!(
        rendered["findings"].as_array().unwrap().len(),
        scanned["findings"].as_array().unwrap().len()
    );
    assert_eq!(rendered["profile"]["declared"], true);
}

#[test]
fn the_profile_brands_the_html_report() {
    let (dir, path, _) = saved_scan();
    std::fs::write(
        dir.path().join("logo.svg"),
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
    )
    .unwrap();
    let profile = dir.path().join("brand.toml");
    std::fs::write(
        &profile,
        "[organisation]\nname = \"Muster Handels GmbH\"\n[branding]\nauditor = \"Beispiel Beratung\"\nlogo = \"logo.svg\"\ncolour = \"#0b5394\"\n",
    )
    .unwrap();
    let output = mailaudit()
        .args(["report", "--format", "html", "--out", "-", "-q"])
        .arg("--profile")
        .arg(&profile)
        .arg(&path)
        .output()
        .unwrap();
    let html = String::from_utf8(output.stdout).unwrap();
    assert!(html.contains("Beispiel Beratung"));
    assert!(html.contains("Muster Handels GmbH"));
    assert!(html.contains("--accent:#0b5394"));
    assert!(html.contains("src=\"data:image/svg+xml;base64,"));
}
