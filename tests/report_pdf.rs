//! `report.pdf` of the lab, checked with poppler-utils the way a reader
//! would: the text holds every failed finding, the metadata says PDF/A-3b,
//! the attachment is `report.json` byte for byte, and the SHA-256 printed in
//! the PDF is the attachment's. Needs the lab (`tests/lab/lab.sh up`) and
//! `poppler-utils` (installed by `.ci/run`).

#![cfg(feature = "pdf")]

mod common;

use common::{mailaudit, scan_lab};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a poppler tool on `file` and returns its stdout.
fn poppler(tool: &str, args: &[&str], file: &Path) -> String {
    let mut command = Command::new(tool);
    command.args(args).arg(file);
    if tool == "pdftotext" {
        // to stdout, not to a .txt file beside the PDF
        command.arg("-");
    }
    let output = command
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {tool} ({e}): install poppler-utils (apt-get install poppler-utils; .ci/run does)")
        });
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The PDF's text with whitespace collapsed and break hints removed, so a
/// title wrapped over two lines still matches. Typst hyphenates nothing
/// here, so a line ending in `-` is a word with a hyphen (E-Mail-Sicherheit)
/// wrapped after it.
fn pdf_text(pdf: &Path) -> String {
    normalise(
        &poppler("pdftotext", &["-enc", "UTF-8"], pdf)
            .replace('\u{200b}', "")
            .replace("-\n", "-"),
    )
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Scans both lab providers and re-renders the saved report (offline) as
/// JSON, PDF and HTML with the extra flags.
fn render_lab(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (_, scanned) = scan_lab(&["good.test", "bad.test"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.json");
    std::fs::write(&saved, serde_json::to_string_pretty(&scanned).unwrap()).unwrap();
    let out = dir.path().join("out");
    let output = mailaudit()
        .args(["report", "--format", "json,pdf", "-q", "--out"])
        .arg(&out)
        .args(extra)
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "bad.test has high findings; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (dir, out)
}

#[test]
fn pdf_a3b_carries_every_failed_finding_and_the_verifiable_evidence() {
    // Given a saved scan of the lab, re-rendered offline as JSON and PDF
    let (dir, out) = render_lab(&[]);
    let pdf = out.join("report.pdf");
    let json_bytes = std::fs::read(out.join("report.json")).unwrap();
    let report: Value = serde_json::from_slice(&json_bytes).unwrap();

    // Then the text has every failed finding's ID and title
    let text = pdf_text(&pdf);
    let failed: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .collect();
    assert!(failed.len() > 50, "the lab's bad.test fails many rules");
    for finding in &failed {
        let rule = finding["rule"].as_str().unwrap();
        let title = normalise(finding["title"].as_str().unwrap());
        assert!(text.contains(rule), "{rule} missing from the PDF text");
        assert!(
            text.contains(&format!("{rule} · {title}")),
            "{rule} · {title} missing from the PDF text"
        );
    }
    // no raw enum names in the reader's text
    for raw in ["not_applicable", "Status::", "Severity::", "inconclusive "] {
        assert!(!text.contains(raw), "raw name {raw:?} in the PDF text");
    }

    // And the metadata says PDF/A-3b, with pages and a title
    let info = poppler("pdfinfo", &[], &pdf);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo prints Pages");
    assert!(pages >= 8, "{pages} pages");
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(info.contains("Mail security and data protection audit report"));
    let xmp = poppler("pdfinfo", &["-meta"], &pdf);
    assert!(
        xmp.contains("<pdfaid:part>3</pdfaid:part>") || xmp.contains("pdfaid:part=\"3\""),
        "no PDF/A-3 identification in the XMP metadata:\n{xmp}"
    );
    assert!(
        xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>")
            || xmp.contains("pdfaid:conformance=\"B\"")
    );

    // And the attachment is report.json, byte for byte
    let list = poppler("pdfdetach", &["-list"], &pdf);
    assert!(
        list.contains("1 embedded files") && list.contains("report.json"),
        "{list}"
    );
    let saved = dir.path().join("attached.json");
    let saved_arg = saved.to_str().unwrap();
    poppler("pdfdetach", &["-save", "1", "-o", saved_arg], &pdf);
    let attached = std::fs::read(&saved).unwrap();
    assert!(
        attached == json_bytes,
        "the attachment differs from report.json"
    );

    // And the SHA-256 printed in the PDF is the attachment's
    let hash = sha256_hex(&attached);
    let section = &text[text.rfind("SHA-256 (report.json").expect("the hash line")..];
    let printed = section
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|word| word.len() == 64)
        .expect("a SHA-256 printed in the PDF");
    assert_eq!(printed, hash);
}

#[test]
fn german_pdf_a2b_has_no_attachment_but_prints_the_hash_and_the_client() {
    let profile = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        profile.path(),
        "[organisation]\nname = \"Muster Handels GmbH\"\n",
    )
    .unwrap();
    let profile_arg = profile.path().to_str().unwrap();
    let (_dir, out) = render_lab(&[
        "--lang",
        "de",
        "--pdf-standard",
        "a-2b",
        "--profile",
        profile_arg,
    ]);
    let pdf = out.join("report.pdf");
    let text = pdf_text(&pdf);
    assert!(text.contains("Prüfbericht E-Mail-Sicherheit und Datenschutz"));
    assert!(
        text.contains("Muster Handels GmbH"),
        "the client from the profile"
    );
    assert!(text.contains("Beanstandungen nach Schweregrad"));
    assert!(text.contains("PDF/A-2b erlaubt keine eingebetteten Dateien"));
    let json_bytes = std::fs::read(out.join("report.json")).unwrap();
    assert!(text.contains(&sha256_hex(&json_bytes)));
    let xmp = poppler("pdfinfo", &["-meta"], &pdf);
    assert!(xmp.contains("<pdfaid:part>2</pdfaid:part>") || xmp.contains("pdfaid:part=\"2\""));
    let list = poppler("pdfdetach", &["-list"], &pdf);
    assert!(list.contains("0 embedded files"), "{list}");
}

#[test]
fn pdf_ua1_is_identified_and_attaches_the_evidence() {
    let (_dir, out) = render_lab(&["--pdf-standard", "ua-1"]);
    let pdf = out.join("report.pdf");
    let xmp = poppler("pdfinfo", &["-meta"], &pdf);
    assert!(xmp.contains("pdfuaid"), "no PDF/UA identification:\n{xmp}");
    let list = poppler("pdfdetach", &["-list"], &pdf);
    assert!(list.contains("report.json"), "{list}");
}

#[test]
fn an_unknown_pdf_standard_is_a_usage_error() {
    mailaudit()
        .args([
            "scan",
            "example.org",
            "--format",
            "pdf",
            "--pdf-standard",
            "a-1a",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--pdf-standard"));
}
