//! Batch scans against the lab: `--targets`, `--format jsonl`, `--resume`,
//! Ctrl-C, `--shard` and `merge`. The TLS scan is off to keep runs short.

mod common;

use common::{LAB_RESOLVER, lab_anchor, lab_ca, mailaudit};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const LAB_DOMAINS: &str =
    "# the lab's providers\ngood.test\n\nbad.test  # weak\nlegacy.test\ngood.test\n";

/// `mailaudit scan` with the lab's flags and `extra`.
fn batch_scan(extra: &[&str]) -> assert_cmd::Command {
    let mut command = mailaudit();
    command
        .arg("scan")
        .args(["--resolver", LAB_RESOLVER, "--timeout", "5", "--lang", "en"])
        .args(["--no-location", "--no-tls-scan", "--quiet"])
        .arg("--ca-file")
        .arg(lab_ca())
        .arg("--dnssec-anchor")
        .arg(lab_anchor())
        .args(extra);
    command
}

fn write_targets(dir: &Path, text: &str) -> String {
    let path = dir.join("targets.txt");
    std::fs::write(&path, text).expect("targets written");
    path.display().to_string()
}

fn lines_of(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn domains_of(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["domain"].as_str().expect("domain").to_string())
        .collect()
}

/// Findings as (rule, subject, status, detail), sorted by rule and subject.
fn findings_of(findings: &Value) -> Vec<(String, String, String, String)> {
    let mut all: Vec<_> = findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["subject"].as_str().unwrap_or_default().to_string(),
                f["status"].as_str().unwrap_or_default().to_string(),
                f["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn bad_targets_lines_are_named_with_file_and_line() {
    // Given a targets file with two bad lines
    let dir = tempfile::tempdir().expect("temp dir");
    let targets = write_targets(dir.path(), "good.test\nnot a domain\n# fine\nbad..test\n");
    // When it is scanned, Then nothing runs and both lines are named
    let output = mailaudit()
        .args(["scan", "--targets", &targets])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{targets}:2")), "{stderr}");
    assert!(stderr.contains(&format!("{targets}:4")), "{stderr}");
    assert!(!stderr.contains(&format!("{targets}:1")), "{stderr}");
}

#[test]
fn bad_shard_and_concurrency_are_usage_errors() {
    for flags in [
        ["--shard", "0/2"],
        ["--shard", "3/2"],
        ["--shard", "two"],
        ["--concurrency", "0"],
    ] {
        let output = mailaudit()
            .args(["scan", "example.org"])
            .args(flags)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flags[0]), "{flags:?}: {stderr}");
    }
}

#[test]
fn a_batch_streams_one_line_per_domain_with_its_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let targets = write_targets(dir.path(), LAB_DOMAINS);
    let output = batch_scan(&["--targets", &targets, "--format", "jsonl", "--out", "-"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let lines = lines_of(&stdout);
    let domains: BTreeSet<String> = domains_of(&lines).into_iter().collect();
    assert_eq!(
        domains,
        BTreeSet::from(["bad.test", "good.test", "legacy.test"].map(String::from)),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in &lines {
        let domain = line["domain"].as_str().expect("domain");
        assert!(line["schema_version"].is_string());
        assert_eq!(line["evidence"]["domain"], domain);
        let findings = line["findings"].as_array().expect("findings");
        assert!(!findings.is_empty(), "{domain} has findings");
        // Every finding is about this domain's subjects only.
        for finding in findings {
            let subject = finding["subject"].as_str().expect("subject");
            assert!(
                subject.contains(domain),
                "{domain}: {} on {subject}",
                finding["rule"]
            );
        }
    }
    let bad = lines.iter().find(|l| l["domain"] == "bad.test").unwrap();
    assert!(
        bad["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "ACC-001" && f["status"] == "fail"),
        "bad.test allows plaintext login"
    );
}

#[test]
fn resume_scans_only_the_missing_domains_and_keeps_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let out = out.to_str().expect("UTF-8 path");
    // Given a JSONL file holding good.test
    let first = write_targets(dir.path(), "good.test\n");
    batch_scan(&["--targets", &first, "--format", "jsonl", "--out", out])
        .assert()
        .code(predicates::ord::lt(2));
    let jsonl = format!("{out}/report.jsonl");
    let before = std::fs::read_to_string(&jsonl).expect("jsonl written");
    assert_eq!(lines_of(&before).len(), 1);
    // A second run into the same directory without --resume is refused.
    let refused = batch_scan(&["--targets", &first, "--format", "jsonl", "--out", out])
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    // When all three are scanned with --resume
    let all = write_targets(dir.path(), LAB_DOMAINS);
    batch_scan(&["--targets", &all, "--resume", &jsonl, "--out", out])
        .assert()
        .code(predicates::ord::lt(2));
    // Then the first line is untouched and only the missing domains were added
    let after = std::fs::read_to_string(&jsonl).expect("jsonl");
    assert!(after.starts_with(&before), "the file was appended to");
    let new: BTreeSet<String> = domains_of(&lines_of(&after[before.len()..]))
        .into_iter()
        .collect();
    assert_eq!(
        new,
        BTreeSet::from(["bad.test", "legacy.test"].map(String::from))
    );
    // And the report at the end covers all three domains.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{out}/report.json")).expect("report.json"),
    )
    .expect("JSON");
    let targets: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["domain"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["bad.test", "good.test", "legacy.test"]);
    // Resuming a complete file scans nothing and keeps it as it is.
    batch_scan(&["--targets", &all, "--resume", &jsonl, "--out", out])
        .assert()
        .code(predicates::ord::lt(2));
    assert_eq!(std::fs::read_to_string(&jsonl).expect("jsonl"), after);
}

#[test]
fn shards_cover_every_target_once_and_merge_equals_the_unsharded_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let targets = write_targets(dir.path(), LAB_DOMAINS);
    let mut shard_domains = Vec::new();
    let mut shard_files = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = dir.path().join(shard.replace('/', "-of-"));
        let out = out.to_str().expect("UTF-8 path").to_string();
        batch_scan(&[
            "--targets",
            &targets,
            "--shard",
            shard,
            "--format",
            "jsonl",
            "--out",
            &out,
        ])
        .assert()
        .code(predicates::ord::lt(2));
        let file = format!("{out}/report.jsonl");
        shard_domains.extend(domains_of(&lines_of(
            &std::fs::read_to_string(&file).expect("shard jsonl"),
        )));
        shard_files.push(file);
    }
    shard_domains.sort();
    assert_eq!(shard_domains, ["bad.test", "good.test", "legacy.test"]);

    let whole = dir.path().join("whole");
    let whole = whole.to_str().expect("UTF-8 path");
    batch_scan(&[
        "--targets",
        &targets,
        "--format",
        "jsonl,json",
        "--out",
        whole,
    ])
    .assert()
    .code(predicates::ord::lt(2));
    let merged = mailaudit()
        .arg("merge")
        .args(&shard_files)
        .args(["--format", "json", "--out", "-", "--lang", "en"])
        .output()
        .expect("merge runs");
    assert!(
        merged.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let merged: Value = serde_json::from_slice(&merged.stdout).expect("merged JSON");
    let unsharded: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{whole}/report.json")).expect("report.json"),
    )
    .expect("JSON");
    assert_eq!(
        findings_of(&merged["findings"]),
        findings_of(&unsharded["findings"])
    );
    let domains = |r: &Value| -> Vec<Value> {
        r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["domain"].clone())
            .collect()
    };
    assert_eq!(domains(&merged), domains(&unsharded));
    // The batch kept no domain: its report.json was streamed from its JSONL,
    // and is byte for byte what `merge` of that JSONL writes from memory,
    // but for the finishing time.
    let remerged = mailaudit()
        .arg("merge")
        .arg(format!("{whole}/report.jsonl"))
        .args(["--format", "json", "--out", "-"])
        .output()
        .expect("merge runs");
    let without_finish = |text: &str| -> String {
        text.lines()
            .filter(|l| !l.starts_with("  \"finished_at\": "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let streamed = std::fs::read_to_string(format!("{whole}/report.json")).expect("report.json");
    assert!(streamed.ends_with("}\n") && streamed.contains("\n  \"targets\": [\n    {"));
    assert_eq!(
        without_finish(&streamed),
        without_finish(&String::from_utf8_lossy(&remerged.stdout))
    );
    // Merged into a directory, the summary ends with the per-domain table.
    let merged_dir = dir.path().join("merged");
    let output = mailaudit()
        .arg("merge")
        .args(&shard_files)
        .args(["--format", "json", "--lang", "en", "--out"])
        .arg(&merged_dir)
        .output()
        .expect("merge runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let table = stdout
        .split("Failed checks per domain (most first):")
        .nth(1)
        .unwrap_or_else(|| panic!("no per-domain table: {stdout}"));
    let first_row = table.lines().nth(2).expect("a row");
    assert!(first_row.trim_start().starts_with("bad.test"), "{table}");
    assert!(merged_dir.join("report.json").exists());
}

#[test]
fn ctrl_c_keeps_the_finished_lines_and_exits_130() {
    let dir = tempfile::tempdir().expect("temp dir");
    let targets = write_targets(dir.path(), LAB_DOMAINS);
    let out = dir.path().join("out");
    let binary = assert_cmd::cargo::cargo_bin("mailaudit");
    let child = Command::new(binary)
        .arg("scan")
        .args(["--resolver", LAB_RESOLVER, "--timeout", "5", "--quiet"])
        .args(["--no-location", "--no-tls-scan", "--concurrency", "1"])
        .arg("--ca-file")
        .arg(lab_ca())
        .arg("--dnssec-anchor")
        .arg(lab_anchor())
        .args(["--targets", &targets, "--format", "jsonl", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // When the first domain is done, Ctrl-C
    let jsonl = out.join("report.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&jsonl).map_or(true, |t| t.lines().count() == 0) {
        assert!(Instant::now() < deadline, "no line within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Then the run stops with 130, every written line is whole, and the
    // domain not yet started is missing.
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let lines = lines_of(&std::fs::read_to_string(&jsonl).expect("jsonl"));
    assert!((1..3).contains(&lines.len()), "{} lines", lines.len());
    assert!(!out.join("report.json").exists());
}

#[test]
fn jsonl_on_stdout_takes_no_other_format_and_merge_names_a_bad_line() {
    // jsonl on stdout leaves no room for another format there
    let output = mailaudit()
        .args([
            "scan",
            "example.org",
            "--format",
            "jsonl,html",
            "--out",
            "-",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--format jsonl --out -"));
    // A file that is not JSON Lines is named with its line
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("shard.jsonl");
    std::fs::write(&file, "\n{\"schema_version\":\"1.2.0\"}\n").expect("written");
    let output = mailaudit()
        .arg("merge")
        .arg(&file)
        .args(["--out", "-", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:2", file.display())),
        "{stderr}"
    );
}

#[test]
fn resume_refuses_a_file_cut_mid_line_and_leaves_it_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cut.jsonl");
    let cut = "{\"schema_version\":\"1.2.0\",\"domain\":\"good.te";
    std::fs::write(&file, cut).expect("written");
    let output = mailaudit()
        .args(["scan", "good.test", "--resume"])
        .arg(&file)
        .args(["--out", "-", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:1 is incomplete", file.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), cut);
}

/// A loopback SMTP server that refuses every session and counts connections.
fn counting_server() -> (u16, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listens");
    let port = listener.local_addr().expect("address").port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = stream.write_all(b"554 no service here\r\n");
        }
    });
    (port, count)
}

#[test]
fn an_endpoint_shared_by_several_domains_is_probed_once_per_run() {
    // Given one extra endpoint that every scanned domain gets (--host)
    let connections = |domains: &[&str]| {
        let (port, count) = counting_server();
        let host = format!("smtp://127.0.0.1:{port}");
        let output = batch_scan(&["--host", &host, "--format", "jsonl", "--out", "-"])
            .args(domains)
            .output()
            .expect("runs");
        let lines = lines_of(&String::from_utf8(output.stdout).expect("UTF-8"));
        assert_eq!(lines.len(), domains.len());
        // Every domain's evidence holds the endpoint.
        for line in &lines {
            let subject = format!("127.0.0.1:{port}");
            assert!(
                line["evidence"]["endpoints"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["subject"] == subject.as_str()),
                "{} lacks {subject}",
                line["domain"]
            );
        }
        count.load(Ordering::SeqCst)
    };
    // When one domain and then three are scanned
    let one = connections(&["good.test"]);
    let three = connections(&["good.test", "bad.test", "legacy.test"]);
    // Then the shared endpoint saw as many connections either way
    assert!(one > 0);
    assert_eq!(three, one);
}
