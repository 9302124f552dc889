//! Debian's headless Chromium for the browser tests: found at
//! `MAILAUDIT_CHROMIUM` or `/usr/bin/chromium`, run with a fresh profile,
//! no background networking and a time limit, on a `file://` page or a
//! dashboard on loopback. A test skips without it unless
//! `MAILAUDIT_REQUIRE_BROWSER` is set (CI sets it); then it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Chromium: `MAILAUDIT_CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("MAILAUDIT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.exists().then_some(path)
}

/// Chromium, or None after saying why the test skips (a panic when
/// `MAILAUDIT_REQUIRE_BROWSER` is set).
pub fn chromium_or_skip() -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        assert!(
            std::env::var_os("MAILAUDIT_REQUIRE_BROWSER").is_none(),
            "MAILAUDIT_REQUIRE_BROWSER is set but chromium is missing: apt-get install chromium"
        );
        eprintln!(
            "SKIPPED: the browser test needs Debian's chromium (apt-get install chromium); set MAILAUDIT_REQUIRE_BROWSER=1 to make its absence an error"
        );
    }
    browser
}

/// Runs headless Chromium on `url` with the profile directory `profile`;
/// bounded by `timeout`, so a hung browser fails the test instead of the
/// CI job.
pub fn run_chromium(browser: &Path, profile: &Path, args: &[String], url: &str) -> Output {
    let output = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium {args:?} failed ({:?}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}
