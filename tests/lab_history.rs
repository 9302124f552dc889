//! The scan history (issue 13) end to end, on both backends: an embedded
//! SQLite file in a temporary directory and the lab's PostgreSQL
//! (`tests/lab/lab.sh start history-postgres`, 127.0.40.54:5432). Scans of
//! the lab providers are recorded, listed and compared; reports imported
//! with scan times the test chooses make GOV-001 fresh, overdue or never
//! scanned, and a fixed finding come back (`--fail-on-regression`). A
//! writer killed inside its transaction leaves no half-written scan, two
//! writers at once lose nothing, and the SQLite file is created mode 600.

mod common;

use chrono::{Duration, Timelike, Utc};
use common::history_store::{Store, history, history_json, save_at, sqlite, stores};
use common::{expect, mailaudit, repo, scan_lab};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The id of the recorded scan that started at `started_at`.
fn scan_id_at(list: &Value, started_at: chrono::DateTime<Utc>) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["started_at"]
                .as_str()
                .and_then(|t| t.parse::<chrono::DateTime<Utc>>().ok())
                == Some(started_at)
        })
        .unwrap_or_else(|| panic!("no scan at {started_at} in {list}"))["id"]
        .to_string()
}

fn fixture() -> Value {
    serde_json::from_slice(&std::fs::read(repo("tests/fixtures/report-1.3.0.json")).unwrap())
        .unwrap()
}

#[test]
fn a_lab_scan_is_recorded_listed_and_compared_and_a_returning_finding_fails_ci() {
    // Given a scan of good.test, once, without a history
    let (_, scanned) = scan_lab(&["good.test"], &["--no-tls-scan"]);
    let passing = scanned["findings"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f["status"] == "pass" && f["subject"] == "dns:good.test")
        .expect("good.test passes some domain rule");
    let rule = scanned["findings"][passing]["rule"].clone();
    // The same finding failing (critical), as in a scan that had it wrong.
    let mut failing = scanned.clone();
    failing["findings"][passing]["status"] = "fail".into();
    failing["findings"][passing]["severity"] = "critical".into();
    failing["assessment"]["grade"] = "F".into();
    for store in stores("e2e") {
        let dir = tempfile::tempdir().unwrap();
        // When a scan records itself in the history
        let (_, recorded) = scan_lab(
            &["good.test"],
            &["--no-tls-scan", &format!("--history={}", store.url)],
        );
        // Then the history lists it with its grade and counts, for the
        // domain as for the whole scan
        let domain = history_json(&store, &["good.test"]);
        let row = &domain[0];
        assert_eq!(row["domain"], "good.test", "{domain}");
        assert_eq!(
            row["grade"], recorded["assessment"]["grade"],
            "one domain: its grade is the report's"
        );
        let fails = recorded["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "fail")
            .count();
        assert_eq!(row["counts"]["failed"], fails as u64);
        let sha = row["report_sha256"].as_str().unwrap().to_string();
        let (code, shown, _) = history(&store, &["show", &sha]);
        assert_eq!(code, 0);
        let shown: Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(shown["started_at"], recorded["started_at"]);

        // Given three earlier scans: failing 60 days ago, fixed 30 days
        // ago, failing again yesterday
        let now = Utc::now().with_nanosecond(0).unwrap();
        let (before, fixed, again) = (
            now - Duration::days(60),
            now - Duration::days(30),
            now - Duration::days(1),
        );
        let files = [
            save_at(&failing, before, &dir.path().join("a0.json")),
            save_at(&scanned, fixed, &dir.path().join("a.json")),
            save_at(&failing, again, &dir.path().join("b.json")),
        ];
        let mut import = vec!["import"];
        import.extend(files.iter().map(|f| f.to_str().unwrap()));
        let (code, _, stderr) = history(&store, &import);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stderr.matches("recorded as scan").count(), 3, "{stderr}");
        let list = history_json(&store, &[]);
        assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
        let (a0, a, b) = (
            scan_id_at(&list, before),
            scan_id_at(&list, fixed),
            scan_id_at(&list, again),
        );

        // When the fixed scan is compared with the one before: fixed, no
        // regression
        let diff = history_json(&store, &["diff", &a0, &a]);
        assert!(
            diff["fixed"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == rule && f["subject"] == "dns:good.test"),
            "{}",
            diff["fixed"]
        );
        let (code, text, _) = history(&store, &["diff", &a0, &a, "--fail-on-regression"]);
        assert_eq!(code, 0, "an improvement is no regression: {text}");
        assert!(text.contains("1 fixed"), "{text}");

        // When yesterday's scan is compared with the fixed one: the
        // finding is new, it had been fixed, and the grade dropped
        let diff = history_json(&store, &["diff", &a, &b]);
        assert_eq!(diff["new"].as_array().unwrap().len(), 1, "{}", diff["new"]);
        assert_eq!(diff["returned"][0]["rule"], rule);
        assert_eq!(diff["grade_drops"][0]["to"], "F", "{}", diff["grade_drops"]);
        let (code, text, _) = history(&store, &["diff", &a, &b, "--fail-on-regression"]);
        assert_eq!(code, 1, "CI fails on the returning finding: {text}");
        assert!(
            text.contains("fixed before, failing again") && text.contains("grade dropped"),
            "{text}"
        );
        // Without the flag the diff is information only.
        assert_eq!(history(&store, &["diff", &a, &b]).0, 0);
    }
}

#[test]
fn gov_001_fails_when_overdue_or_never_scanned_passes_when_fresh_and_is_inconclusive_without_history()
 {
    // Given a scan of good.test and bad.test without a history
    let (_, scanned) = scan_lab(&["good.test", "bad.test"], &["--no-tls-scan"]);
    // Then GOV-001 cannot be judged: inconclusive, never passed
    for domain in ["good.test", "bad.test"] {
        expect(
            &scanned,
            "GOV-001",
            &format!("dns:{domain}"),
            "inconclusive",
            None,
        );
    }
    let detail = common::finding(&scanned, "GOV-001", "dns:good.test")["detail"].clone();
    assert!(
        detail.as_str().unwrap().contains("no scan history"),
        "{detail}"
    );
    // bad.test alone, as a scan of it would have recorded
    let mut bad_only = scanned.clone();
    bad_only["targets"] = Value::Array(
        scanned["targets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["domain"] == "bad.test")
            .cloned()
            .collect(),
    );
    bad_only["findings"] = Value::Array(
        scanned["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !f["subject"].as_str().unwrap().contains("good.test"))
            .cloned()
            .collect(),
    );
    let profile_dir = tempfile::tempdir().unwrap();
    let profile = profile_dir.path().join("mailaudit.toml");
    std::fs::write(
        &profile,
        "[audit]\ninterval = \"quarterly\"\ndomains = [\"good.test\", \"bad.test\", \"exim.test\"]\n",
    )
    .unwrap();
    for store in stores("gov") {
        let dir = tempfile::tempdir().unwrap();
        // good.test last scanned 200 days ago (with bad.test), bad.test
        // again 10 days ago, exim.test never
        let now = Utc::now();
        let old = save_at(
            &scanned,
            now - Duration::days(200),
            &dir.path().join("old.json"),
        );
        let fresh = save_at(
            &bad_only,
            now - Duration::days(10),
            &dir.path().join("fresh.json"),
        );
        let (code, _, stderr) = history(
            &store,
            &["import", old.to_str().unwrap(), fresh.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{stderr}");
        // When the history is checked now, before any new scan
        let check = |expected: i32| {
            let (code, stdout, stderr) = history(
                &store,
                &[
                    "check",
                    "--profile",
                    profile.to_str().unwrap(),
                    "--format",
                    "json",
                ],
            );
            assert_eq!(code, expected, "{stdout}{stderr}");
            let verdicts: Value = serde_json::from_str(&stdout).unwrap();
            verdicts
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    (
                        v["domain"].as_str().unwrap().to_string(),
                        v["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        };
        // Then good.test is overdue and exim.test, listed in the profile,
        // never scanned: exit 1 for a reminder from cron
        assert_eq!(
            check(1),
            [
                ("bad.test".to_string(), "pass".to_string()),
                ("exim.test".to_string(), "fail".to_string()),
                ("good.test".to_string(), "fail".to_string()),
            ]
        );
        // When the three are scanned with the history and a quarterly interval
        let (_, report) = scan_lab(
            &["good.test", "bad.test", "exim.test"],
            &[
                "--no-tls-scan",
                &format!("--history={}", store.url),
                "--profile",
                profile.to_str().unwrap(),
            ],
        );
        // Then good.test is overdue, exim.test was never scanned, bad.test is fresh
        expect(&report, "GOV-001", "dns:good.test", "fail", Some("medium"));
        let overdue = common::finding(&report, "GOV-001", "dns:good.test")["detail"].clone();
        assert!(
            overdue.as_str().unwrap().contains("200 days ago"),
            "{overdue}"
        );
        expect(&report, "GOV-001", "dns:exim.test", "fail", Some("medium"));
        let never = common::finding(&report, "GOV-001", "dns:exim.test")["detail"].clone();
        assert!(
            never.as_str().unwrap().contains("no earlier scan"),
            "{never}"
        );
        expect(&report, "GOV-001", "dns:bad.test", "pass", None);
        // The fact is evidence in the saved report: judged again offline
        // without the history, the verdict stays.
        let target = report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["domain"] == "bad.test")
            .unwrap();
        assert_eq!(target["evidence"]["history"]["status"], "completed");
        assert_eq!(
            target["evidence"]["history"]["value"]["scans_on_record"], 2,
            "{}",
            target["evidence"]["history"]
        );
        let saved = dir.path().join("now.json");
        std::fs::write(&saved, serde_json::to_vec(&report).unwrap()).unwrap();
        let output = mailaudit()
            .args(["evaluate", saved.to_str().unwrap(), "--profile"])
            .arg(&profile)
            .env_remove("MAILAUDIT_HISTORY")
            .output()
            .unwrap();
        let findings: Value = serde_json::from_slice(&output.stdout).unwrap();
        let judged = serde_json::json!({ "findings": findings });
        expect(&judged, "GOV-001", "dns:good.test", "fail", None);
        expect(&judged, "GOV-001", "dns:bad.test", "pass", None);
        // And the scan itself was recorded: the three domains are in the
        // history, and no audit is overdue any more.
        let latest = history_json(&store, &["exim.test"]);
        assert_eq!(latest.as_array().unwrap().len(), 1, "{latest}");
        assert!(check(0).iter().all(|(_, status)| status == "pass"));
    }
}

/// Starts `mailaudit history import FILE` with the pause hook.
fn import_paused(store: &Store, file: &Path, marker: &Path, seconds: u64) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("mailaudit"))
        .args(["history", "import"])
        .arg(file)
        .arg(format!("--history={}", store.url))
        .env_remove("MAILAUDIT_HISTORY")
        .env(
            "MAILAUDIT_TEST_HISTORY_PAUSE",
            format!("{},{seconds}", marker.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for(marker: &Path) {
    let start = Instant::now();
    while !marker.exists() {
        assert!(
            start.elapsed().as_secs() < 60,
            "the writer never reached its transaction"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_writer_killed_inside_its_transaction_leaves_no_half_written_scan() {
    for store in stores("kill") {
        let dir = tempfile::tempdir().unwrap();
        let file = save_at(&fixture(), Utc::now(), &dir.path().join("r.json"));
        let marker = dir.path().join("inside");
        // Given a writer paused after writing the scan, its domains and
        // findings, before its commit
        let mut writer = import_paused(&store, &file, &marker, 120);
        wait_for(&marker);
        // When it is killed (SIGKILL: no clean-up of its own)
        writer.kill().unwrap();
        writer.wait().unwrap();
        // Then the store holds no scan and no orphaned rows, and works
        let list = history_json(&store, &[]);
        assert_eq!(list, serde_json::json!([]), "{}", store.url);
        let (code, _, stderr) = history(&store, &["import", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains("recorded as scan") && !stderr.contains("already"),
            "the killed write left nothing behind: {stderr}"
        );
        let list = history_json(&store, &[]);
        assert_eq!(list.as_array().unwrap().len(), 1);
        let findings = list[0]["counts"]["failed"].as_u64().unwrap();
        assert_eq!(findings, 59, "every finding of the fixture, once");
    }
}

#[test]
fn two_writers_at_once_lose_nothing() {
    for store in stores("concurrent") {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let first = save_at(
            &fixture(),
            now - Duration::days(2),
            &dir.path().join("1.json"),
        );
        let second = save_at(
            &fixture(),
            now - Duration::days(1),
            &dir.path().join("2.json"),
        );
        let marker = dir.path().join("inside");
        // Given a writer holding its transaction open for 3 seconds
        let mut slow = import_paused(&store, &first, &marker, 3);
        wait_for(&marker);
        // When a second writer records meanwhile
        let (code, _, stderr) = history(&store, &["import", second.to_str().unwrap()]);
        assert_eq!(
            code, 0,
            "the second writer waits, it does not fail: {stderr}"
        );
        assert!(slow.wait().unwrap().success());
        // Then both scans are there
        let list = history_json(&store, &[]);
        assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
        let domain = history_json(&store, &["bad.test"]);
        assert_eq!(domain.as_array().unwrap().len(), 2, "{domain}");
    }
}

#[test]
fn the_default_store_is_a_private_file_in_the_xdg_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let output = mailaudit()
        .args(["history", "import"])
        .arg(repo("tests/fixtures/report-1.3.0.json"))
        .env_remove("MAILAUDIT_HISTORY")
        .env("XDG_DATA_HOME", data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let file = data.path().join("mailaudit/history.sqlite");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600, "the history holds personal data");
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    // A scan without --history records nothing: recording is opt-in.
    let output = mailaudit()
        .args(["report"])
        .arg(repo("tests/fixtures/report-1.3.0.json"))
        .args(["--format", "json", "--out", "-"])
        .env_remove("MAILAUDIT_HISTORY")
        .env("XDG_DATA_HOME", data.path())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("History:"));
    let listed = mailaudit()
        .args(["history", "--format", "json"])
        .env_remove("MAILAUDIT_HISTORY")
        .env("XDG_DATA_HOME", data.path())
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_code_2() {
    let store = sqlite("bad_input");
    let (code, _, stderr) = history(&store, &["diff", "1", "99"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no scan 1"), "{stderr}");
    let (code, _, stderr) = history(&store, &["import", "/nonexistent/report.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/report.json"), "{stderr}");
    let (code, _, stderr) = history(&store, &["prune", "--older-than", "3x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("400d"), "{stderr}");
    let output = mailaudit()
        .args(["history", "--history=mysql://u:secret@db/h"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a history location") && !stderr.contains("secret"),
        "{stderr}"
    );
    // A PostgreSQL password shows neither in --help nor when the server
    // cannot be reached.
    let secret_url = "postgres://audit:secret@127.0.0.1:1/history";
    for args in [&["history", "--help"][..], &["scan", "--help"][..]] {
        let output = mailaudit()
            .args(args)
            .env("MAILAUDIT_HISTORY", secret_url)
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&output.stdout).contains("secret"));
    }
    let output = mailaudit()
        .arg("history")
        .env("MAILAUDIT_HISTORY", secret_url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot open the history postgres://audit:***@127.0.0.1:1/history")
            && !stderr.contains("secret"),
        "{stderr}"
    );
}

#[test]
fn prune_forgets_old_scans_and_their_documents() {
    let store = sqlite("prune");
    let dir = tempfile::tempdir().unwrap();
    let old = save_at(
        &fixture(),
        Utc::now() - Duration::days(800),
        &dir.path().join("o.json"),
    );
    let new = save_at(
        &fixture(),
        Utc::now() - Duration::days(5),
        &dir.path().join("n.json"),
    );
    let (code, _, stderr) = history(
        &store,
        &["import", old.to_str().unwrap(), new.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    let pruned = history_json(&store, &["prune", "--older-than", "2y"]);
    assert_eq!(pruned, serde_json::json!({ "scans": 1, "documents": 1 }));
    let list = history_json(&store, &[]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let sha = {
        let bytes = std::fs::read(&old).unwrap();
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(bytes))
    };
    let (code, _, stderr) = history(&store, &["show", &sha]);
    assert_eq!(code, 2, "the pruned report.json is gone: {stderr}");
}

#[test]
fn report_records_the_report_json_it_writes_under_its_sha256() {
    let store = sqlite("report");
    let out = tempfile::tempdir().unwrap();
    // When a saved report is judged again with --history
    let output = mailaudit()
        .arg("report")
        .arg(repo("tests/fixtures/report-1.3.0.json"))
        .args(["--format", "json", "--out"])
        .arg(out.path())
        .arg(format!("--history={}", store.url))
        .env_remove("MAILAUDIT_HISTORY")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("History: recorded as scan 1"),
        "{output:?}"
    );
    // Then the history holds the report.json it wrote, under that file's
    // SHA-256 (the hash a PDF prints for its attachment)
    let written = std::fs::read(out.path().join("report.json")).unwrap();
    let sha = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(&written))
    };
    let list = history_json(&store, &[]);
    assert_eq!(list[0]["report_sha256"], sha.as_str());
    assert_eq!(list[0]["source"], "report");
    let (code, shown, _) = history(&store, &["show", "1"]);
    assert_eq!(code, 0);
    assert_eq!(shown.as_bytes(), written.as_slice(), "byte for byte");
}

#[test]
fn two_shards_scanning_at_once_both_record_into_one_history() {
    let targets = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(targets.path(), "good.test\nbad.test\n").unwrap();
    for store in stores("shards") {
        let out = tempfile::tempdir().unwrap();
        // Given the two shards of a batch, streamed to JSON Lines, started
        // together and writing to the same history
        let shards: Vec<std::process::Child> = ["1/2", "2/2"]
            .iter()
            .enumerate()
            .map(|(index, shard)| {
                Command::new(assert_cmd::cargo::cargo_bin("mailaudit"))
                    .arg("scan")
                    .arg("--targets")
                    .arg(targets.path())
                    .args(["--shard", shard, "--format", "jsonl", "--out"])
                    .arg(out.path().join(format!("shard-{index}")))
                    .args(["--resolver", common::LAB_RESOLVER, "--ca-file"])
                    .arg(common::lab_ca())
                    .arg("--dnssec-anchor")
                    .arg(common::lab_anchor())
                    .args(["--no-location", "--no-tls-scan", "--timeout", "5", "-q"])
                    .arg(format!("--history={}", store.url))
                    .env_remove("MAILAUDIT_HISTORY")
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut shard in shards {
            let status = shard.wait().unwrap();
            assert!(matches!(status.code(), Some(0 | 1)), "{status}");
        }
        // Then each shard's report is a scan in the history, and together
        // they hold both domains once (the shard of a domain is its hash's)
        let list = history_json(&store, &[]);
        let scans = list.as_array().unwrap();
        let shards_with_domains = scans.iter().filter(|s| s["domains"].as_i64() > Some(0));
        assert_eq!(
            shards_with_domains
                .map(|s| s["domains"].as_i64().unwrap())
                .sum::<i64>(),
            2,
            "{list}"
        );
        for domain in ["good.test", "bad.test"] {
            let rows = history_json(&store, &[domain]);
            assert_eq!(rows.as_array().unwrap().len(), 1, "{domain}: {rows}");
            // The recorded document is the report.json the shard wrote.
            let sha = rows[0]["report_sha256"].as_str().unwrap();
            let written = (0..2)
                .map(|i| out.path().join(format!("shard-{i}/report.json")))
                .filter(|p| p.exists())
                .map(|p| {
                    use sha2::Digest;
                    format!("{:x}", sha2::Sha256::digest(std::fs::read(p).unwrap()))
                })
                .collect::<Vec<_>>();
            assert!(written.iter().any(|w| w == sha), "{sha} not in {written:?}");
        }
    }
}

#[test]
fn without_a_history_the_baseline_is_the_previous_scan_on_record() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(&profile, "[audit]\ninterval = \"quarterly\"\n").unwrap();
    let now = Utc::now();
    let today = save_at(&fixture(), now, &dir.path().join("today.json"));
    let gov_001 = |baseline_age: i64| {
        let baseline = save_at(
            &fixture(),
            now - Duration::days(baseline_age),
            &dir.path().join("baseline.json"),
        );
        let output = mailaudit()
            .arg("report")
            .arg(&today)
            .arg("--baseline")
            .arg(&baseline)
            .arg("--profile")
            .arg(&profile)
            .args(["--format", "json", "--out", "-", "--lang", "en"])
            .env_remove("MAILAUDIT_HISTORY")
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        common::finding(&report, "GOV-001", "dns:bad.test").clone()
    };
    // A baseline 200 days old: the quarterly audit was overdue
    let overdue = gov_001(200);
    assert_eq!(overdue["status"], "fail", "{overdue}");
    assert!(overdue["detail"].as_str().unwrap().contains("200 days ago"));
    // A baseline 30 days old: within the interval
    assert_eq!(gov_001(30)["status"], "pass");
}
