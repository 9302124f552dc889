//! The read-only mailbox audit against the lab's Dovecot (tests/lab): the
//! retention rules per mailbox, the Maildir untouched by the audit (file
//! names carry the flags), and no password in any output.

mod common;

use common::{expect, mailaudit, scan_lab};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const ALICE: &str = "lab-secret-alice";
const BOB: &str = "lab-secret-bob";
const DAVE: &str = "lab-secret-dave";

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailaudit-mailbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Scans `domain` (without the TLS scan) and audits `users` with the
/// passwords in `password_file`.
fn audit(
    domain: &str,
    users: &[&str],
    password_file: &Path,
    extra: &[&str],
) -> (i32, serde_json::Value) {
    let mut args = vec![
        "--no-tls-scan",
        "--password-file",
        password_file.to_str().unwrap(),
    ];
    for user in users {
        args.extend(["--mailbox", user]);
    }
    args.extend(extra);
    scan_lab(&[domain], &args)
}

fn good() -> &'static (i32, serde_json::Value) {
    static REPORT: OnceLock<(i32, serde_json::Value)> = OnceLock::new();
    REPORT.get_or_init(|| {
        let password = temp_file("alice.pw", &format!("{ALICE}\n"));
        let profile = temp_file(
            "good.toml",
            "[archive]\ngobd_archive = true\n[provider]\navv = true\n",
        );
        audit(
            "good.test",
            &["alice@good.test"],
            &password,
            &["--profile", profile.to_str().unwrap()],
        )
    })
}

fn bad() -> &'static (i32, serde_json::Value) {
    static REPORT: OnceLock<(i32, serde_json::Value)> = OnceLock::new();
    REPORT.get_or_init(|| {
        let password = temp_file(
            "bad.pw",
            &format!("bob@bad.test:{BOB}\ndave@bad.test:{DAVE}\n"),
        );
        let profile = temp_file("bad.toml", "[pop3]\nclients_in_use = true\n");
        audit(
            "bad.test",
            &["bob@bad.test", "dave@bad.test"],
            &password,
            &[
                "--accept-invalid-certs",
                "--profile",
                profile.to_str().unwrap(),
            ],
        )
    })
}

fn mailbox<'a>(report: &'a serde_json::Value, user: &str) -> &'a serde_json::Value {
    report["targets"][0]["evidence"]["mailboxes"]
        .as_array()
        .expect("mailboxes")
        .iter()
        .find(|m| m["user"] == user)
        .unwrap_or_else(|| panic!("no mailbox {user}"))
}

#[test]
fn the_well_kept_mailbox_passes_every_retention_rule_but_its_old_newsletters() {
    let (_, report) = good();
    let alice = mailbox(report, "alice@good.test");
    assert_eq!(alice["login"]["status"], "completed", "{}", alice["login"]);
    assert_eq!(alice["certificate_verified"], true);
    let subject = "mailbox:alice@good.test";
    for rule in [
        "RET-001", "RET-003", "RET-004", "RET-005", "RET-006", "LOC-002",
    ] {
        expect(report, rule, subject, "pass", None);
    }
    // Its newsletters have no statutory period (the class file keeps them
    // one year): those older than last year are due for erasure review,
    // and nothing else is.
    expect(report, "RET-002", subject, "fail", Some("medium"));
    let ret002 = common::finding(report, "RET-002", subject)["detail"]
        .as_str()
        .unwrap()
        .to_string();
    let by_class = ret002
        .split("By class (due of total): ")
        .nth(1)
        .and_then(|rest| rest.split(". By folder").next())
        .unwrap_or_default();
    assert!(by_class.starts_with("Newsletter / bulk mail: "), "{ret002}");
    assert!(
        !by_class.contains(", "),
        "only newsletters are due: {ret002}"
    );
    expect(report, "RET-007", subject, "not_applicable", None);
    // ACC-005 needs no credentials: good.test offers PLAIN and LOGIN only.
    expect(report, "ACC-005", "imap.good.test:993", "pass", None);
    expect(report, "GOV-002", "dns:good.test", "pass", None);
    // The inactive script's redirect and the same-domain one were parsed.
    let scripts = alice["sieve"]["value"]["scripts"].as_array().unwrap();
    assert!(
        scripts
            .iter()
            .any(|s| s["name"] == "main" && s["active"] == true)
    );
    assert!(scripts.iter().any(|s| s["name"] == "old"
        && s["active"] == false
        && s["redirects"][0]["domain"] == "gmail.example"));
}

#[test]
fn the_neglected_mailboxes_fail_where_they_should() {
    let (code, report) = bad();
    assert_eq!(*code, 1);
    let bob = "mailbox:bob@bad.test";
    expect(report, "RET-001", bob, "fail", Some("high"));
    expect(report, "RET-002", bob, "fail", Some("medium"));
    expect(report, "RET-003", bob, "fail", Some("medium"));
    expect(report, "RET-004", bob, "fail", Some("medium"));
    expect(report, "RET-005", bob, "fail", Some("medium"));
    expect(report, "RET-006", bob, "fail", Some("high"));
    expect(report, "LOC-002", bob, "fail", Some("high"));
    expect(report, "RET-007", bob, "pass", None);
    // bad.test's Dovecot offers CRAM-MD5 (its passwords are stored in clear).
    expect(report, "ACC-005", "imap.bad.test:993", "fail", Some("low"));
    let dave = "mailbox:dave@bad.test";
    expect(report, "RET-001", dave, "fail", Some("high"));
    expect(report, "RET-007", dave, "fail", Some("medium"));
    // No profile declaration of an AVV: GOV-002 fails once a profile exists.
    expect(report, "GOV-002", "dns:bad.test", "fail", Some("high"));
    let evidence = mailbox(report, "bob@bad.test");
    assert_eq!(evidence["certificate_verified"], false);
    let folders = evidence["folders"]["value"].as_array().unwrap();
    let archive = folders.iter().find(|f| f["name"] == "Archiv").unwrap();
    assert_eq!(archive["role"], "archive");
    assert_eq!(archive["role_source"], "name");
    let total: u64 = folders
        .iter()
        .map(|f| f["messages"].as_u64().unwrap())
        .sum();
    let by_year: u64 = folders
        .iter()
        .flat_map(|f| f["years"].as_object().unwrap().values())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert!(total > 2000, "bob has thousands of messages, saw {total}");
    assert_eq!(by_year, total, "every message is counted in a year");
    let detail = common::finding(report, "LOC-002", bob)["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("private-mail.example"), "{detail}");
}

#[test]
fn the_audit_sends_only_read_only_commands() {
    let (_, report) = bad();
    let allowed = [
        "CAPABILITY",
        "ID",
        "AUTHENTICATE",
        "NAMESPACE",
        "LIST",
        "LSUB",
        "STATUS",
        "EXAMINE",
        "UID SEARCH",
        "UID SORT",
        "UID FETCH",
        "GETQUOTAROOT",
        "GETQUOTA",
        "MYRIGHTS",
        "GETACL",
        "NOOP",
        "LOGOUT",
    ];
    let commands = mailbox(report, "bob@bad.test")["commands"]
        .as_array()
        .unwrap();
    assert!(commands.iter().any(|c| c == "EXAMINE"));
    // Dovecot announces SORT: folders are counted by arrival order, one
    // sort per folder instead of one search per year.
    assert!(commands.iter().any(|c| c == "UID SORT"));
    // Dovecot announces NAMESPACE: asked once; STATUS (UNSEEN) per folder.
    assert_eq!(commands.iter().filter(|c| *c == "NAMESPACE").count(), 1);
    assert_eq!(
        commands.iter().filter(|c| *c == "STATUS").count(),
        commands.iter().filter(|c| *c == "EXAMINE").count(),
    );
    for command in commands {
        assert!(allowed.contains(&command.as_str().unwrap()), "{command}");
    }
    assert_eq!(
        commands.iter().filter(|c| *c == "AUTHENTICATE").count(),
        1,
        "one login attempt"
    );
}

/// Every message file (name, content hash, modification time) under a
/// Maildir: the flags live in the file names.
fn snapshot(maildir: &Path) -> BTreeMap<String, (String, std::time::SystemTime)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![maildir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let parent = path.parent().and_then(Path::file_name).unwrap_or_default();
            if !["cur", "new", "tmp"].iter().any(|d| parent == *d) {
                continue;
            }
            let hash = format!("{:x}", Sha256::digest(std::fs::read(&path).unwrap()));
            let modified = entry.metadata().unwrap().modified().unwrap();
            files.insert(
                path.strip_prefix(maildir).unwrap().display().to_string(),
                (hash, modified),
            );
        }
    }
    files
}

#[test]
fn the_maildir_is_unchanged_by_an_audit() {
    let maildir = common::repo("tests/lab/run/mail/bad.test/bob/Maildir");
    let before = snapshot(&maildir);
    assert!(
        before.len() > 2000,
        "bob's Maildir has {} files",
        before.len()
    );
    assert!(
        before.keys().any(|name| name.ends_with(":2,")),
        "some messages are unseen, so a \\Seen flag set by the audit would show"
    );
    let password = temp_file("snap.pw", BOB);
    let (_, report) = audit(
        "bad.test",
        &["bob@bad.test"],
        &password,
        &["--accept-invalid-certs"],
    );
    assert_eq!(
        mailbox(&report, "bob@bad.test")["folders"]["status"],
        "completed"
    );
    let after = snapshot(&maildir);
    assert_eq!(before, after, "the audit changed the Maildir");
}

#[test]
fn no_password_appears_in_any_output() {
    let out = std::env::temp_dir().join(format!("mailaudit-leak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = mailaudit()
        .args([
            "scan",
            "bad.test",
            "--resolver",
            "127.0.10.53",
            "--no-location",
        ])
        .args(["--no-tls-scan", "--timeout", "5", "-vv"])
        .arg("--ca-file")
        .arg(common::lab_ca())
        .arg("--dnssec-anchor")
        .arg(common::lab_anchor())
        .args([
            "--mailbox",
            "bob@bad.test",
            "--password-env",
            "MAILAUDIT_TEST_PW",
        ])
        .args([
            "--accept-invalid-certs",
            "--format",
            "html,json,md,junit,sarif",
        ])
        .arg("--out")
        .arg(&out)
        .env("MAILAUDIT_TEST_PW", BOB)
        .env("RUST_LOG", "trace")
        .output()
        .expect("mailaudit runs");
    let mut texts = vec![
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ];
    assert!(texts[1].contains("auditing mailbox"), "verbose log ran");
    for entry in std::fs::read_dir(&out).unwrap() {
        texts.push(
            String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()).into_owned(),
        );
    }
    assert!(texts.len() >= 7, "five report files plus stdout and stderr");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<section id=\"mailboxes\">"),
        "retention tables"
    );
    assert!(html.contains(">Archiv<"), "bob's folders are listed");
    assert!(html.contains("<section id=\"assumptions\">"));
    use base64::Engine;
    let sasl = base64::engine::general_purpose::STANDARD.encode(format!("\0bob@bad.test\0{BOB}"));
    for text in &texts {
        assert!(!text.contains(BOB), "the password leaked");
        assert!(!text.contains(&sasl), "the SASL response leaked");
    }
}

#[test]
fn a_wrong_password_is_tried_once_and_makes_the_rules_inconclusive() {
    let password = temp_file("wrong.pw", "not-the-password");
    let (_, report) = audit(
        "bad.test",
        &["bob@bad.test"],
        &password,
        &["--accept-invalid-certs"],
    );
    let bob = mailbox(&report, "bob@bad.test");
    assert_eq!(bob["login"]["status"], "failed");
    assert_eq!(bob["sieve"]["status"], "skipped");
    expect(
        &report,
        "RET-001",
        "mailbox:bob@bad.test",
        "inconclusive",
        None,
    );
    expect(
        &report,
        "LOC-002",
        "mailbox:bob@bad.test",
        "inconclusive",
        None,
    );
}

#[test]
fn an_unverified_certificate_gets_no_password_without_the_flag() {
    let password = temp_file("cert.pw", BOB);
    let (_, report) = audit("bad.test", &["bob@bad.test"], &password, &[]);
    let reason = mailbox(&report, "bob@bad.test")["login"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("--accept-invalid-certs"), "{reason}");
}

#[test]
fn passwords_are_refused_on_the_command_line_and_need_a_source() {
    let output = mailaudit()
        .args([
            "scan",
            "good.test",
            "--mailbox",
            "a@good.test",
            "--password",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = mailaudit()
        .args([
            "scan",
            "good.test",
            "--mailbox",
            "a@good.test",
            "--no-location",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--password-env"), "{stderr}");
}

#[test]
fn subjects_appear_only_with_show_messages() {
    let (_, report) = bad();
    let bob = mailbox(report, "bob@bad.test");
    for folder in bob["folders"]["value"].as_array().unwrap() {
        assert!(folder.get("samples").is_none(), "counts only by default");
    }
    let detail = common::finding(report, "RET-002", "mailbox:bob@bad.test")["detail"]
        .as_str()
        .unwrap();
    assert!(!detail.contains("Examples"), "{detail}");

    let password = temp_file("show.pw", BOB);
    let (_, shown) = audit(
        "bad.test",
        &["bob@bad.test"],
        &password,
        &["--accept-invalid-certs", "--show-messages"],
    );
    let detail = common::finding(&shown, "RET-002", "mailbox:bob@bad.test")["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("Examples (--show-messages)"), "{detail}");
    assert!(detail.contains("INBOX 2010: "), "{detail}");
    let inbox = mailbox(&shown, "bob@bad.test")["folders"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "INBOX")
        .unwrap();
    let first = &inbox["samples"]["2010"][0];
    assert!(
        first["subject"].as_str().is_some_and(|s| !s.is_empty()),
        "{first}"
    );
    assert!(first["from"].as_str().unwrap().contains('@'), "{first}");
}

/// The PDF carries the mailbox tables and the assumptions too.
#[cfg(feature = "pdf")]
#[test]
fn the_pdf_has_the_mailbox_section_and_the_assumptions() {
    let (_, report) = bad();
    let dir = std::env::temp_dir().join(format!("mailaudit-mailbox-pdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("report.json");
    std::fs::write(&saved, serde_json::to_string(report).unwrap()).unwrap();
    let output = mailaudit()
        .args(["report", "--format", "pdf", "--lang", "en", "-q", "--out"])
        .arg(&dir)
        .arg(&saved)
        .output()
        .unwrap();
    assert!(output.status.code().is_some_and(|c| c <= 1), "{output:?}");
    let text = std::process::Command::new("pdftotext")
        .arg(dir.join("report.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let text = String::from_utf8_lossy(&text.stdout);
    for expected in [
        "Mailboxes (audited read-only)",
        "Due for erasure review",
        "Assumptions (audit profile)",
        "POP3 clients: yes",
    ] {
        assert!(text.contains(expected), "missing {expected}");
    }
    assert!(text.contains("Archiv"), "bob's folders are listed");
}

#[test]
fn the_pop3_view_shows_what_a_pop3_client_would_take_away() {
    let password = temp_file("carol.pw", "lab-secret-carol");
    let (_, report) = audit("legacy.test", &["carol@legacy.test"], &password, &[]);
    let carol = mailbox(&report, "carol@legacy.test");
    assert_eq!(carol["pop3"]["status"], "completed", "{}", carol["pop3"]);
    let pop3 = &carol["pop3"]["value"];
    assert_eq!(pop3["server"], "pop3s://imap.legacy.test:995");
    let inbox = carol["folders"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "INBOX")
        .unwrap();
    assert_eq!(pop3["messages"], inbox["messages"], "POP3 sees INBOX");
    assert_eq!(pop3["unique_ids"], inbox["messages"]);
    assert!(pop3["octets"].as_u64().unwrap() > 0);
}

/// The lab log of one Dovecot instance (`tests/lab/run/logs/NAME.log`).
fn dovecot_log(name: &str) -> PathBuf {
    common::repo(&format!("tests/lab/run/logs/{name}.log"))
}

/// Scans `domain` with one `--mailbox` and the password in `password`;
/// returns the report and stderr.
fn audit_with_stderr(domain: &str, mailbox: &str, password: &str) -> (serde_json::Value, String) {
    let output = mailaudit()
        .args(["scan", domain, "--resolver", "127.0.10.53", "--no-location"])
        .args(["--no-tls-scan", "--timeout", "5"])
        .args(["--format", "json", "--out", "-", "--lang", "en"])
        .arg("--ca-file")
        .arg(common::lab_ca())
        .arg("--dnssec-anchor")
        .arg(common::lab_anchor())
        .args(["--mailbox", mailbox, "--password-env", "MAILAUDIT_TEST_PW"])
        .env("MAILAUDIT_TEST_PW", password)
        .output()
        .expect("mailaudit runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
    (report, stderr)
}

/// Issue 16, defect 1: with a named server, the password goes there and to
/// no server the scanned domain announces. legacy.test announces POP3 on
/// imap.legacy.test:995 (its own Dovecot, whose certificate verifies);
/// alice's named server, imap.good.test, has no POP3. That second Dovecot
/// listens during the scan and must never see a login for alice.
#[test]
fn a_named_server_is_the_only_one_that_gets_the_password() {
    let log = dovecot_log("legacy-dovecot");
    let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    // Given alice@good.test named on imap.good.test, audited with legacy.test
    let (report, stderr) = audit_with_stderr(
        "legacy.test",
        "imaps://alice%40good.test@imap.good.test:993",
        ALICE,
    );
    // Then the user and server were announced before the one login
    assert!(
        stderr.contains("one login attempt as alice@good.test on imaps://imap.good.test:993"),
        "{stderr}"
    );
    let alice = mailbox(&report, "alice@good.test");
    assert_eq!(alice["login"]["status"], "completed", "{}", alice["login"]);
    assert_eq!(alice["server"], "imaps://imap.good.test:993");
    // the POP3 view stayed on the named host (which has no POP3)
    let pop3 = alice["pop3"].to_string();
    assert_ne!(alice["pop3"]["status"], "completed", "{pop3}");
    assert!(pop3.contains("imap.good.test:995"), "{pop3}");
    assert!(!pop3.contains("legacy"), "{pop3}");
    // and legacy.test's Dovecot, which the scan did talk to, heard no login
    // for alice (its log holds every login attempt: auth_verbose = yes)
    std::thread::sleep(std::time::Duration::from_millis(500));
    let text = std::fs::read(&log).expect("the legacy Dovecot log");
    let during = String::from_utf8_lossy(&text[before as usize..]);
    assert!(
        during.contains("Disconnected"),
        "the scan connected to legacy.test's Dovecot: {during}"
    );
    assert!(
        !during.contains("alice"),
        "a login reached legacy.test: {during}"
    );
    assert!(
        !during.contains("good.test"),
        "a login reached legacy.test: {during}"
    );
}

/// The URL form on the server that does have POP3: all three views go to
/// the named host.
#[test]
fn the_url_form_audits_all_views_on_the_named_host() {
    let (report, stderr) = audit_with_stderr(
        "legacy.test",
        "imaps://carol%40legacy.test@imap.legacy.test",
        "lab-secret-carol",
    );
    assert!(
        stderr.contains("one login attempt as carol@legacy.test on imaps://imap.legacy.test:993"),
        "{stderr}"
    );
    let carol = mailbox(&report, "carol@legacy.test");
    assert_eq!(carol["pop3"]["status"], "completed", "{}", carol["pop3"]);
    assert_eq!(
        carol["pop3"]["value"]["server"],
        "pop3s://imap.legacy.test:995"
    );
    assert_eq!(carol["sieve"]["status"], "completed", "{}", carol["sieve"]);
}

/// Unseen messages per folder of a Maildir++ mailbox, read from the file
/// names alone (the lab's generator, tests/lab/lib/maildir.py, writes the
/// flags there): a file in `new/` has no flags yet; a file in `cur/` is
/// unseen when the flags after `:2,` hold no `S`. Folder `.A.B` is "A/B"
/// under Dovecot's separator `/`.
fn unseen_in_maildir(maildir: &Path) -> BTreeMap<String, u64> {
    let count = |folder: &Path| -> u64 {
        let new = std::fs::read_dir(folder.join("new"))
            .map(|entries| entries.count() as u64)
            .unwrap_or(0);
        let cur = std::fs::read_dir(folder.join("cur"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| {
                name.rsplit_once(":2,")
                    .is_none_or(|(_, flags)| !flags.contains('S'))
            })
            .count() as u64;
        new + cur
    };
    let mut folders = BTreeMap::from([("INBOX".to_string(), count(maildir))]);
    for entry in std::fs::read_dir(maildir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(folder) = name.strip_prefix('.')
            && entry.path().join("cur").is_dir()
        {
            folders.insert(folder.replace('.', "/"), count(&entry.path()));
        }
    }
    folders
}

/// Issue 16, item 5: STATUS (UNSEEN) per folder (RFC 9051 §6.3.11) equals
/// what the Maildir's file names say, and the report's folder table shows
/// it. Item 4 on Dovecot: NAMESPACE is `(("" "/")) NIL NIL`, so display
/// names are the names.
#[test]
fn unseen_counts_match_the_maildir_flags() {
    // Given bob's Maildir, about a fifth of it without \Seen
    let expected = unseen_in_maildir(&common::repo("tests/lab/run/mail/bad.test/bob/Maildir"));
    assert!(
        expected.values().any(|&n| n > 0),
        "the lab has unseen mail: {expected:?}"
    );
    // When bob's mailbox is audited
    let (_, report) = bad();
    let bob = mailbox(report, "bob@bad.test");
    let folders = bob["folders"]["value"].as_array().unwrap();
    // Then every folder's unseen count is the Maildir's
    let found: BTreeMap<String, u64> = folders
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap().to_string();
            let unseen = f["unseen"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name} has no unseen count: {f}"));
            (name, unseen)
        })
        .collect();
    assert_eq!(found, expected);
    // And the namespaces were recorded and left the names as they are
    assert_eq!(
        bob["namespaces"]["status"], "completed",
        "{}",
        bob["namespaces"]
    );
    assert_eq!(
        bob["namespaces"]["value"],
        serde_json::json!({
            "personal": [{"prefix": "", "separator": "/"}],
            "other_users": [],
            "shared": []
        })
    );
    for folder in folders {
        assert_eq!(folder["display_name"], folder["name"]);
    }
    // And the HTML folder table has the column with the counts
    let dir = std::env::temp_dir().join(format!("mailaudit-unseen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("report.json");
    std::fs::write(&saved, serde_json::to_string(report).unwrap()).unwrap();
    let output = mailaudit()
        .args(["report", "--format", "html", "--lang", "en", "-q", "--out"])
        .arg(&dir)
        .arg(&saved)
        .output()
        .unwrap();
    assert!(output.status.code().is_some_and(|c| c <= 1), "{output:?}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<th>Messages</th><th>Unread</th>"));
    let inbox = folders.iter().find(|f| f["name"] == "INBOX").unwrap();
    let row = format!(
        ">INBOX</td><td>Inbox</td><td>{}</td><td>{}</td>",
        inbox["messages"], expected["INBOX"]
    );
    assert!(html.contains(&row), "no row {row}");
}
