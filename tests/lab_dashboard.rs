//! The dashboard (`mailaudit serve`, issue 13) end to end on both history
//! backends: lab scans recorded in SQLite and in the lab's PostgreSQL,
//! compared, judged by GOV-001 and shown by the real binary's dashboard in
//! headless Chromium; the numbers in the DOM are checked against the
//! history and the report. Bad requests and a wrong token get a 4xx with a
//! sentence and no stack trace. A half year of monthly scans of the lab's
//! three providers in one PostgreSQL history, as docs/scheduling.md sets
//! it up, shows the provider whose audits stopped as overdue.

mod common;

use chrono::{DateTime, Duration, Timelike, Utc};
use common::browser::{chromium_or_skip, png_size, run_chromium};
use common::history_store::{Store, history, history_json, postgres, save_at, sqlite, stores};
use common::{mailaudit, scan_lab};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// A running `mailaudit serve`, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the dashboard on a free loopback port and waits until it answers.
fn serve(store: &Store, args: &[&str], token: Option<&str>) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("mailaudit"));
    command
        .arg("serve")
        .arg(format!("--history={}", store.url))
        .arg(format!("--listen=127.0.0.1:{port}"))
        .args(["--lang", "en"])
        .args(args)
        .env_remove("MAILAUDIT_HISTORY")
        .env_remove("MAILAUDIT_DASHBOARD_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(token) = token {
        command.env("MAILAUDIT_DASHBOARD_TOKEN", token);
    }
    let server = Server {
        child: command.spawn().unwrap(),
        port,
    };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed().as_secs() < 60,
            "the dashboard did not listen"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server
}

/// One HTTP/1.1 request: status, head and body.
fn request(port: u16, method: &str, path: &str, headers: &[&str]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let status = head[9..12].parse().unwrap();
    (status, head, answer[split + 4..].to_vec())
}

fn get(port: u16, path: &str) -> (u16, String, Vec<u8>) {
    request(port, "GET", path, &[])
}

/// Chromium's DOM of a dashboard page.
fn dom(browser: &Path, profile: &Path, port: u16, path: &str) -> String {
    let output = run_chromium(
        browser,
        profile,
        &["--dump-dom".into()],
        &format!("http://127.0.0.1:{port}{path}"),
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// A screenshot of a dashboard page, kept under the target directory.
fn screenshot(browser: &Path, profile: &Path, port: u16, path: &str, name: &str) -> PathBuf {
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("dashboard-{name}.png"));
    let _ = std::fs::remove_file(&file);
    run_chromium(
        browser,
        profile,
        &[
            format!("--screenshot={}", file.display()),
            "--window-size=1280,900".into(),
        ],
        &format!("http://127.0.0.1:{port}{path}"),
    );
    let png = std::fs::read(&file).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&png), (1280, 900));
    assert!(
        png.len() > 20_000,
        "{name}: {} bytes looks empty",
        png.len()
    );
    file
}

/// The number in the element with this id.
fn number(dom: &str, id: &str) -> i64 {
    let marker = format!("id=\"{id}\">");
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let rest = &dom[at + marker.len()..];
    rest[..rest.find('<').unwrap()]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
}

/// The markup of the table row whose start holds `marker`.
fn row<'a>(dom: &'a str, marker: &str) -> &'a str {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no row {marker}"));
    let end = dom[at..].find("</tr>").unwrap();
    &dom[at..at + end]
}

/// The leaf certificates' end dates of every domain's endpoints.
fn leaf_ends(report: &Value) -> Vec<DateTime<Utc>> {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["evidence"]["endpoints"].as_array().unwrap())
        .filter_map(|e| e["tls"]["value"]["chain"][0]["not_after"].as_str())
        .map(|t| t.parse().unwrap())
        .collect()
}

#[test]
fn scans_are_recorded_compared_judged_and_shown_in_chromium_on_both_backends() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("mailaudit.toml");
    std::fs::write(
        &profile,
        "[audit]\ninterval = \"quarterly\"\ndomains = [\"good.test\", \"bad.test\", \"exim.test\"]\n",
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    for store in stores("dashboard") {
        let backend = if store.url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        };
        // Given a lab scan recorded in the history
        let (_, scanned) = scan_lab(
            &["good.test", "bad.test"],
            &[
                "--no-tls-scan",
                &format!("--history={}", store.url),
                "--profile",
                profile,
            ],
        );
        // and two earlier copies imported afterwards (out of order): 100
        // days ago the same, 40 days ago with one failure of bad.test fixed
        let now = Utc::now().with_nanosecond(0).unwrap();
        let findings = scanned["findings"].as_array().unwrap();
        let fixed_index = findings
            .iter()
            .position(|f| f["status"] == "fail" && f["subject"] == "mx.bad.test:25")
            .expect("mx.bad.test:25 fails some rule");
        let (fixed_rule, fixed_subject) = (
            findings[fixed_index]["rule"].as_str().unwrap().to_string(),
            "mx.bad.test:25",
        );
        let steady_index = findings
            .iter()
            .position(|f| {
                f["status"] == "fail"
                    && f["subject"] == "mx.bad.test:587"
                    && f["rule"] != fixed_rule.as_str()
            })
            .expect("mx.bad.test:587 fails another rule");
        let steady_rule = findings[steady_index]["rule"].as_str().unwrap().to_string();
        let mut passing = scanned.clone();
        passing["findings"][fixed_index]["status"] = "pass".into();
        let files = [
            save_at(
                &scanned,
                now - Duration::days(100),
                &dir.path().join("a.json"),
            ),
            save_at(
                &passing,
                now - Duration::days(40),
                &dir.path().join("b.json"),
            ),
        ];
        let (code, _, stderr) = history(
            &store,
            &[
                "import",
                files[0].to_str().unwrap(),
                files[1].to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        let list = history_json(&store, &[]);
        assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
        let latest = list[0]["id"].as_i64().unwrap();
        let earlier = list[1]["id"].as_i64().unwrap();
        let diff = history_json(&store, &["diff", &earlier.to_string(), &latest.to_string()]);
        // GOV-001 by the history: exim.test of the profile was never scanned
        let (code, checked, _) =
            history(&store, &["check", "--profile", profile, "--format", "json"]);
        assert_eq!(code, 1, "{checked}");
        let checked: Value = serde_json::from_str(&checked).unwrap();
        let gov = |domain: &str| {
            checked
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["domain"] == domain)
                .unwrap_or_else(|| panic!("{domain} in {checked}"))["status"]
                .clone()
        };
        assert_eq!(
            (gov("good.test"), gov("bad.test"), gov("exim.test")),
            ("pass".into(), "pass".into(), "fail".into())
        );

        // When the dashboard shows that history
        let server = serve(&store, &["--profile", profile], None);
        let chrome = dir.path().join(format!("chrome-{backend}"));
        let port = server.port;

        // Then the overview has the three domains, exim.test never scanned
        // and overdue, and each scanned domain's grade is the history's
        let home = dom(&browser, &chrome, port, "/?lang=en");
        assert_eq!(number(&home, "domain-count"), 3);
        assert_eq!(number(&home, "never-count"), 1);
        assert_eq!(number(&home, "overdue-count"), 1);
        assert!(row(&home, "data-domain=\"exim.test\"").contains("never scanned"));
        for domain in ["good.test", "bad.test"] {
            let grade = history_json(&store, &[domain])[0]["grade"].clone();
            let shown = row(&home, &format!("data-domain=\"{domain}\""));
            assert!(
                shown.contains(&format!("class=\"grade {}\"", grade.as_str().unwrap())),
                "{domain} {grade}: {shown}"
            );
            assert!(!shown.contains("overdue"), "{shown}");
            // three scans: a line through three points
            let points = shown.split("points=\"").nth(1).unwrap();
            assert_eq!(points[..points.find('"').unwrap()].split(' ').count(), 3);
        }
        assert!(!home.contains("<script"));

        // The open findings are those failed in the latest scans, and their
        // age counts from the first scan of their unbroken run
        let open: i64 = ["good.test", "bad.test"]
            .iter()
            .map(|d| {
                history_json(&store, &[d])[0]["counts"]["failed"]
                    .as_i64()
                    .unwrap()
            })
            .sum();
        let findings_page = dom(&browser, &chrome, port, "/findings?lang=en&domain=bad.test");
        let all = dom(&browser, &chrome, port, "/findings?lang=en");
        assert_eq!(number(&all, "open-total"), open);
        let age = |dom: &str, rule: &str, subject: &str| -> i64 {
            let shown = row(
                dom,
                &format!("data-rule=\"{rule}\" data-subject=\"{subject}\""),
            );
            let at = shown.find("class=\"num age\">").unwrap() + 16;
            shown[at..at + shown[at..].find('<').unwrap()]
                .parse()
                .unwrap()
        };
        assert_eq!(age(&findings_page, &steady_rule, "mx.bad.test:587"), 100);
        assert_eq!(age(&findings_page, &fixed_rule, fixed_subject), 0);

        // The certificate calendar counts what the report's endpoints served
        let ends = leaf_ends(&scanned);
        let expired = ends.iter().filter(|t| **t < Utc::now()).count() as i64;
        let soon = ends
            .iter()
            .filter(|t| **t >= Utc::now() && **t < Utc::now() + Duration::days(60))
            .count() as i64;
        assert!(expired > 0, "bad.test serves expired certificates");
        let calendar = dom(&browser, &chrome, port, "/certificates?lang=en&days=60");
        assert_eq!(number(&calendar, "expired-count"), expired);
        assert_eq!(number(&calendar, "upcoming-count"), soon);

        // One scan: its report.json byte for byte, its HTML report whole
        let (status, head, json) = get(port, &format!("/scans/{latest}/report.json"));
        assert_eq!(status, 200);
        assert!(head.contains("application/json"), "{head}");
        assert_eq!(
            format!("{:x}", Sha256::digest(&json)),
            list[0]["report_sha256"].as_str().unwrap()
        );
        let report = dom(
            &browser,
            &chrome,
            port,
            &format!("/scans/{latest}/report.html"),
        );
        assert!(report.contains("id=\"disclaimer\"") && report.contains("id=\"findings\""));
        let scan = dom(&browser, &chrome, port, &format!("/scans/{latest}?lang=de"));
        assert!(scan.contains("Vollständiger Bericht"), "German on request");
        assert_eq!(
            number(&scan, "failed"),
            list[0]["counts"]["failed"].as_i64().unwrap()
        );

        // The diff shows what `history diff` says: the fixed finding is new
        let diff_path = format!("/diff?from={earlier}&to={latest}&lang=en");
        let shown = dom(&browser, &chrome, port, &diff_path);
        for (id, key) in [
            ("new-count", "new"),
            ("fixed-count", "fixed"),
            ("unchanged-count", "unchanged"),
        ] {
            assert_eq!(
                number(&shown, id),
                diff[key].as_array().unwrap().len() as i64,
                "{id}"
            );
        }
        assert_eq!(number(&shown, "new-count"), 1);

        // And each page is a real picture
        for (path, name) in [
            ("/?lang=en".to_string(), "domains"),
            ("/certificates?lang=en".to_string(), "certificates"),
            ("/findings?lang=en".to_string(), "findings"),
            (diff_path.clone(), "diff"),
        ] {
            let file = screenshot(&browser, &chrome, port, &path, &format!("{backend}-{name}"));
            eprintln!("screenshot: {}", file.display());
        }
    }
}

/// A body must explain and never show internals.
fn assert_clear(body: &[u8], expected: &str) {
    let body = String::from_utf8_lossy(body);
    assert!(body.contains(expected), "expected '{expected}' in: {body}");
    for internal in ["panicked", "backtrace", "src/", "root:x:0"] {
        assert!(!body.contains(internal), "'{internal}' shown: {body}");
    }
}

#[test]
fn bad_requests_and_wrong_tokens_get_a_clear_4xx() {
    let store = sqlite("dashboard_bad");
    let dir = tempfile::tempdir().unwrap();
    let saved = save_at(
        &serde_json::from_slice(
            &std::fs::read(common::repo("tests/fixtures/report-1.3.0.json")).unwrap(),
        )
        .unwrap(),
        Utc::now(),
        &dir.path().join("r.json"),
    );
    assert_eq!(history(&store, &["import", saved.to_str().unwrap()]).0, 0);
    let token = "lab-dashboard-token-0123456789";
    let server = serve(&store, &[], Some(token));
    let port = server.port;
    let bearer = format!("Authorization: Bearer {token}");
    let with = |path: &str| request(port, "GET", path, &[&bearer]);

    // Without the token, or with a wrong one: 401 with a Basic challenge
    let (status, head, body) = get(port, "/");
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: Basic"), "{head}");
    assert_clear(&body, "needs a token");
    let (status, _, _) = request(
        port,
        "GET",
        "/",
        &["Authorization: Bearer lab-dashboard-token-012345678"],
    );
    assert_eq!(status, 401, "one character short");
    // With it, as Bearer or as the Basic password of any user: 200
    assert_eq!(with("/").0, 200);
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("auditor:{token}"));
    assert_eq!(
        request(
            port,
            "GET",
            "/findings",
            &[&format!("Authorization: Basic {basic}")]
        )
        .0,
        200
    );

    // Bad input: a status and a sentence, no internals
    for (path, status, expected) in [
        ("/scans/999", 404, "no scan 999"),
        ("/scans/abc", 400, "is not a scan id"),
        ("/scans/-1/report.json", 400, "is not a scan id"),
        ("/findings?page=x", 400, "invalid digit"),
        ("/?page=0", 400, "page=0: 1 or more"),
        ("/findings?severity=urgent", 400, "critical, high"),
        ("/findings?domain=%3Cscript%3E", 400, "not a domain name"),
        ("/certificates?days=9999", 400, "1 to 366"),
        ("/diff?from=1", 400, "from and to"),
        ("/?lang=fr", 400, "de or en"),
        ("/?unknown=1", 400, "unknown field"),
        ("/domains/nowhere.test", 404, "No scan of this domain"),
        ("/../../etc/passwd", 404, "no such page"),
        ("/scans/1/..%2f..%2f..%2fetc%2fpasswd", 404, "no such page"),
        ("/%2e%2e/%2e%2e/etc/passwd", 404, "no such page"),
    ] {
        let (got, head, body) = with(path);
        assert_eq!(got, status, "{path}");
        assert!(head.contains("text/html"), "{path}: {head}");
        assert!(head.contains("content-security-policy"), "{head}");
        assert_clear(&body, expected);
    }
    // The PDF download is the PDF/A report of the recorded scan
    let (status, head, pdf) = with("/scans/1/report.pdf");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("application/pdf"), "{head}");
    assert!(head.contains("report-1.pdf"), "{head}");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    // An injected tag is shown as text, never as markup
    let (_, _, body) = with("/findings?domain=%3Cscript%3E");
    assert!(String::from_utf8_lossy(&body).contains("&lt;script&gt;"));
    // No write endpoints
    let (status, _, _) = request(port, "POST", "/", &[&bearer, "Content-Length: 0"]);
    assert_eq!(status, 405);
    let (status, _, _) = request(port, "DELETE", "/scans/1", &[&bearer]);
    assert_eq!(status, 405);
    drop(server);

    // Another address than loopback needs a token; a short one is refused
    let refused = |token: Option<&str>| {
        let mut command = mailaudit();
        command
            .args(["serve", "--listen", "0.0.0.0:0"])
            .arg(format!("--history={}", store.url))
            .env_remove("MAILAUDIT_DASHBOARD_TOKEN");
        if let Some(token) = token {
            command.env("MAILAUDIT_DASHBOARD_TOKEN", token);
        }
        let output = command
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    let (code, stderr) = refused(None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("needs a token"), "{stderr}");
    let (code, stderr) = refused(Some("short"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("at least 16"), "{stderr}");
    assert!(!stderr.contains("short\n"), "the token is never printed");
}

#[test]
fn a_half_year_of_monthly_scans_of_three_providers_shows_the_audit_that_stopped() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    // Given the shared PostgreSQL history of docs/scheduling.md and a
    // monthly audit of the lab's three providers
    let store = postgres("half_year");
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("mailaudit.toml");
    std::fs::write(
        &profile,
        "[audit]\ninterval = \"monthly\"\ndomains = [\"good.test\", \"bad.test\", \"legacy.test\"]\n",
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    let targets = dir.path().join("providers.txt");
    std::fs::write(&targets, "good.test\nbad.test\nlegacy.test\n").unwrap();
    // One real scan of all three and one of the two still audited (not
    // recorded)
    let (_, all_three) = scan_lab(
        &[],
        &["--targets", targets.to_str().unwrap(), "--no-tls-scan"],
    );
    assert_eq!(all_three["targets"].as_array().unwrap().len(), 3);
    let (_, two) = scan_lab(&["good.test", "bad.test"], &["--no-tls-scan"]);
    // When the half year before is recorded month by month at the times
    // the test sets: all three for months 6 to 3, legacy.test no more after
    let now = Utc::now().with_nanosecond(0).unwrap();
    let mut files = Vec::new();
    for month in (1..=6).rev() {
        let report = if month >= 3 { &all_three } else { &two };
        let at = now - Duration::days(30 * month);
        files.push(save_at(
            report,
            at,
            &dir.path().join(format!("m{month}.json")),
        ));
    }
    let mut import = vec!["import"];
    import.extend(files.iter().map(|f| f.to_str().unwrap()));
    let (code, _, stderr) = history(&store, &import);
    assert_eq!(code, 0, "{stderr}");
    // and this month's scheduled run records itself, as the timer's does:
    // GOV-001 passes for the two audited a month ago
    let (_, scheduled) = scan_lab(
        &["good.test", "bad.test"],
        &[
            "--no-tls-scan",
            &format!("--history={}", store.url),
            "--profile",
            profile,
        ],
    );
    for domain in ["good.test", "bad.test"] {
        common::expect(
            &scheduled,
            "GOV-001",
            &format!("dns:{domain}"),
            "pass",
            None,
        );
    }

    // Then the history has 7 scans of good.test and 4 of legacy.test
    assert_eq!(
        history_json(&store, &["good.test"])
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(
        history_json(&store, &["legacy.test"])
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // and GOV-001 fails for legacy.test only
    let (code, checked, _) = history(&store, &["check", "--profile", profile, "--format", "json"]);
    assert_eq!(code, 1, "{checked}");
    let checked: Value = serde_json::from_str(&checked).unwrap();
    for entry in checked.as_array().unwrap() {
        let overdue = entry["domain"] == "legacy.test";
        assert_eq!(entry["status"] == "fail", overdue, "{entry}");
    }
    // and the dashboard marks legacy.test overdue, 90 days since its scan
    let server = serve(&store, &["--profile", profile], None);
    let chrome = dir.path().join("chrome");
    let home = dom(&browser, &chrome, server.port, "/?lang=en");
    assert_eq!(number(&home, "overdue-count"), 1);
    assert_eq!(number(&home, "interval"), 31);
    let legacy = row(&home, "data-domain=\"legacy.test\"");
    assert!(legacy.contains(">overdue</span>"), "{legacy}");
    assert!(legacy.contains(">90"), "{legacy}");
    let good = row(&home, "data-domain=\"good.test\"");
    assert!(!good.contains(">overdue</span>"), "{good}");
    let points = good.split("points=\"").nth(1).unwrap();
    assert_eq!(points[..points.find('"').unwrap()].split(' ').count(), 7);
    screenshot(&browser, &chrome, server.port, "/?lang=en", "half-year");
}
