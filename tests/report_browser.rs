//! The lab's `report.html` in a real browser (Debian's headless Chromium):
//! the parsed DOM has every section and both SVG charts, a screenshot is
//! written (a CI artifact under the target directory), and Chromium's print
//! to PDF on A4 keeps every word inside the page and every failed finding
//! in the text, so the `@media print` layout holds.
//!
//! Skips with a message when Chromium is missing, unless
//! `MAILAUDIT_REQUIRE_BROWSER` is set (CI sets it); then it fails.

mod common;

use common::browser::{chromium_or_skip, png_size, run_chromium};
use common::{mailaudit, scan_lab};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[test]
fn the_html_report_renders_and_prints_in_headless_chromium() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    // Given the lab's report, re-rendered offline as HTML
    let (_, scanned) = scan_lab(&["good.test", "bad.test"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.json");
    std::fs::write(&saved, serde_json::to_string(&scanned).unwrap()).unwrap();
    let out = dir.path().join("out");
    mailaudit()
        .args(["report", "--format", "html,json", "-q", "--out"])
        .arg(&out)
        .arg(&saved)
        .assert()
        .code(1);
    let page = format!("file://{}", out.join("report.html").display());
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();

    // When Chromium parses it, the DOM has every section and both charts
    let profile = dir.path().join("profile");
    let dom = run_chromium(&browser, &profile, &["--dump-dom".into()], &page);
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in [
        "summary",
        "findings",
        "endpoints",
        "certificates",
        "not-run",
        "appendix",
        "disclaimer",
        "chart-severity",
        "chart-expiry",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no #{id} in the DOM");
    }
    assert!(
        dom.matches("<svg").count() >= 2,
        "the charts are inline SVG"
    );
    assert!(!dom.contains("<script"), "the report needs no script");

    // And a screenshot of the first screen is a real picture
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    run_chromium(
        &browser,
        &profile,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,1800".into(),
        ],
        &page,
    );
    let png = std::fs::read(&screenshot).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&png), (1280, 1800));
    assert!(
        png.len() > 40_000,
        "screenshot of {} bytes looks empty",
        png.len()
    );
    eprintln!("screenshot: {}", screenshot.display());

    // And printed to A4 (the @media print layout), every word stays on the
    // page and every failed finding's ID is in the text
    let printed = dir.path().join("printed.pdf");
    run_chromium(
        &browser,
        &profile,
        &[
            format!("--print-to-pdf={}", printed.display()),
            "--no-pdf-header-footer".into(),
        ],
        &page,
    );
    let bbox = Command::new("pdftotext")
        .arg("-bbox")
        .arg(&printed)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    let bbox = String::from_utf8_lossy(&bbox.stdout);
    let page_width: f64 = attribute(&bbox, "<page width=\"").expect("a page");
    assert!(
        (page_width - 595.9).abs() < 2.0,
        "A4 width, got {page_width}"
    );
    let mut words = 0;
    for line in bbox.lines().filter(|l| l.contains("<word ")) {
        words += 1;
        let x_max = attribute(line, "xMax=\"").unwrap();
        assert!(
            x_max <= page_width + 0.5,
            "a word runs off the page: {line}"
        );
    }
    assert!(words > 2000, "{words} words printed");
    for finding in report["findings"].as_array().unwrap() {
        if finding["status"] == "fail" {
            let rule = finding["rule"].as_str().unwrap();
            assert!(bbox.contains(&format!(">{rule}<")), "{rule} not printed");
        }
    }
}

/// The number after `prefix` up to the next quote.
fn attribute(text: &str, prefix: &str) -> Option<f64> {
    let start = text.find(prefix)? + prefix.len();
    text[start..].split('"').next()?.parse().ok()
}
