//! The mailbox probe's classes (issue 12) against the real Dovecot of
//! org.test (tests/lab, service `org-dovecot`, zone `org.test`): the real
//! binary audits all 22 mailboxes, and the class counts it records per
//! mailbox × folder × year must equal the generator's manifest exactly.
//! The Maildir (file names carry the flags, contents the mail) must be
//! byte for byte the same before and after, and the audit trail may hold
//! only read-only commands.

mod common;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PASSWORD: &str = "lab-secret-org";
const MASTER_PASSWORD: &str = "lab-secret-master";

/// year → class → count
type Counts = BTreeMap<String, BTreeMap<String, u64>>;

fn manifest() -> Value {
    let path = common::repo("tests/lab/run/mail/org.test/manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `bash tests/lab/lab.sh start org-dovecot`",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// Every file under `root` (Maildir messages, indexes aside) with the
/// SHA-256 of its content: a changed flag renames a file, a changed
/// message changes its digest.
fn maildir_snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == "cur" || n == "new")
            {
                let digest = Sha256::digest(std::fs::read(&path).unwrap());
                files.insert(path, format!("{digest:x}"));
            }
        }
    }
    files
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailaudit-classes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary on org.test with `args`; returns the report and stderr.
fn scan(args: &[&str]) -> (Value, String) {
    let ca = common::lab_ca();
    let output = common::mailaudit()
        .args(["scan", "org.test", "--resolver", common::LAB_RESOLVER])
        .args([
            "--format",
            "json",
            "--out",
            "-",
            "--lang",
            "en",
            // Generous: four audits of 22 mailboxes may run at once.
            "--timeout",
            "15",
        ])
        .arg("--ca-file")
        .arg(&ca)
        .args(["--no-tls-scan", "--no-location"])
        .args(args)
        .output()
        .expect("mailaudit runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}); stderr: {stderr}"));
    (report, stderr)
}

fn audited<'a>(report: &'a Value, user: &str) -> &'a Value {
    report["targets"][0]["evidence"]["mailboxes"]
        .as_array()
        .expect("mailboxes")
        .iter()
        .find(|m| m["user"] == user)
        .unwrap_or_else(|| panic!("no mailbox {user}"))
}

/// The folder of `mailbox` (audited evidence) that the manifest's `info`
/// names, and the class counts recorded for it.
fn recorded<'a>(mailbox: &'a Value, info: &Value, user: &str) -> (&'a Value, Counts) {
    let found = mailbox["folders"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == info["imap_name"])
        .unwrap_or_else(|| panic!("{user}: no folder {}", info["imap_name"]));
    let classes = serde_json::from_value(found.get("classes").cloned().unwrap_or(Value::Null))
        .unwrap_or_default();
    (found, classes)
}

/// Asserts every mailbox's classes per folder and year against the
/// manifest, the totals, and that only read-only commands were sent.
fn assert_every_class_count(report: &Value, manifest: &Value) {
    let mailboxes = manifest["mailboxes"].as_object().unwrap();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for (user, folders) in mailboxes {
        let mailbox = audited(report, user);
        assert_eq!(mailbox["folders"]["status"], "completed", "{user}");
        assert_eq!(
            mailbox["class_file"]["file"], "rules/classes/mail-classes.toml",
            "{user}"
        );
        assert_eq!(mailbox["class_file"]["sha256"].as_str().unwrap().len(), 64);
        let folder_count = mailbox["folders"]["value"].as_array().unwrap().len();
        assert_eq!(folder_count, folders.as_object().unwrap().len(), "{user}");
        for (folder, info) in folders.as_object().unwrap() {
            let (found, classes) = recorded(mailbox, info, user);
            let expected: Counts = serde_json::from_value(info["classes"].clone()).unwrap();
            assert_eq!(classes, expected, "{user} {folder}");
            assert!(
                found.get("unclassified_undated").is_none(),
                "{user} {folder}"
            );
            let reasons: u64 = found["class_reasons"]
                .as_object()
                .map(|r| r.values().filter_map(Value::as_u64).sum())
                .unwrap_or(0);
            assert_eq!(
                reasons,
                info["messages"].as_u64().unwrap(),
                "{user} {folder}"
            );
            for per_class in classes.values() {
                for (class, count) in per_class {
                    *totals.entry(class.clone()).or_default() += count;
                }
            }
        }
        // Only read-only commands; the metadata came with UID FETCH.
        let commands: Vec<&str> = mailbox["commands"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(commands.contains(&"UID FETCH"), "{user}: {commands:?}");
        for command in &commands {
            assert!(
                ![
                    "SELECT",
                    "STORE",
                    "COPY",
                    "MOVE",
                    "EXPUNGE",
                    "APPEND",
                    "UID STORE"
                ]
                .contains(command),
                "{user}: {command}"
            );
        }
    }
    assert_eq!(
        serde_json::to_value(&totals).unwrap(),
        manifest["totals"]["classes"]
    );
}

#[test]
fn the_probe_records_every_class_count_of_the_manifest_and_changes_nothing() {
    // Given the 22 mailboxes of org.test, their manifest and each user's
    // own password.
    let manifest = manifest();
    let mailboxes = manifest["mailboxes"].as_object().unwrap();
    assert!(mailboxes.len() >= 20);
    let root = common::repo("tests/lab/run/mail/org.test");
    let before = maildir_snapshot(&root);
    assert!(before.len() > 1000, "{} message files", before.len());
    // When the binary audits every one of them (--mailbox each).
    let password = temp_file("org.pw", &format!("{PASSWORD}\n"));
    let mut args = vec![
        "--password-file".to_string(),
        password.display().to_string(),
    ];
    for user in mailboxes.keys() {
        args.extend(["--mailbox".to_string(), user.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (report, _) = scan(&args);
    // Then every folder's classes by year equal the manifest's.
    assert_eq!(
        report["targets"][0]["evidence"]["mailboxes"]
            .as_array()
            .unwrap()
            .len(),
        mailboxes.len()
    );
    assert_every_class_count(&report, &manifest);
    // And no message file changed: not its flags, not its content.
    assert_eq!(before, maildir_snapshot(&root), "a message file changed");
}

#[test]
fn one_admin_login_opens_every_listed_mailbox_and_an_unknown_one_is_inconclusive() {
    // Given a list of the 22 mailboxes and one that does not exist, and
    // only the master user's password.
    let manifest = manifest();
    let mailboxes = manifest["mailboxes"].as_object().unwrap();
    let root = common::repo("tests/lab/run/mail/org.test");
    let before = maildir_snapshot(&root);
    let mut list = String::from("# org.test staff\n\n");
    for user in mailboxes.keys() {
        list.push_str(&format!("{user}\n"));
    }
    list.push_str("ghost@org.test\n");
    let list = temp_file("mailboxes.txt", &list);
    let password = temp_file("admin.pw", &format!("auditor:{MASTER_PASSWORD}\n"));
    // When the binary opens each with SASL PLAIN as the master user.
    let (report, stderr) = scan(&[
        "--mailboxes",
        list.to_str().unwrap(),
        "--admin",
        "auditor",
        "--sessions-per-server",
        "3",
        "--password-file",
        password.to_str().unwrap(),
        "--profile",
        common::repo("tests/lab/conf/org/profile.toml")
            .to_str()
            .unwrap(),
    ]);
    // Then every class count matches, as with the users' own passwords.
    assert_every_class_count(&report, &manifest);
    // The unknown mailbox is a subject of its own, inconclusive with the
    // server's reason, and the run went on.
    let ghost = audited(&report, "ghost@org.test");
    assert_eq!(ghost["login"]["status"], "failed");
    let reason = ghost["login"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("auditor may not open the mailbox ghost@org.test")
            && reason.contains("AUTHORIZATIONFAILED"),
        "{reason}"
    );
    common::expect(
        &report,
        "RET-002",
        "mailbox:ghost@org.test",
        "inconclusive",
        None,
    );
    // RET-003 names the invoices in Trash and Junk, as many as the
    // manifest holds there.
    for (user, folders) in mailboxes {
        let invoices: u64 = ["Trash", "Junk"]
            .iter()
            .filter_map(|f| folders.get(*f))
            .flat_map(|info| info["classes"].as_object().unwrap().values())
            .flat_map(|per_class| per_class.as_object().unwrap().iter())
            .filter(|(class, _)| *class == "e_invoice" || *class == "likely_invoice")
            .filter_map(|(_, n)| n.as_u64())
            .sum();
        let subject = format!("mailbox:{user}");
        let ret003 = common::finding(&report, "RET-003", &subject);
        let detail = ret003["detail"].as_str().unwrap();
        if invoices > 0 {
            assert_eq!(ret003["status"], "fail", "{user}: {detail}");
            assert!(
                detail.contains(&format!("{invoices} of them invoices")),
                "{user}: {detail}"
            );
        } else {
            assert!(!detail.contains("invoices"), "{user}: {detail}");
        }
    }
    // RET-008: the profile declares no GoBD archive, so every mailbox with
    // invoices fails, naming as many as the manifest holds.
    for (user, folders) in mailboxes {
        let invoices: u64 = folders
            .as_object()
            .unwrap()
            .values()
            .flat_map(|info| info["classes"].as_object().unwrap().values())
            .flat_map(|per_class| per_class.as_object().unwrap().iter())
            .filter(|(class, _)| *class == "e_invoice" || *class == "likely_invoice")
            .filter_map(|(_, n)| n.as_u64())
            .sum();
        let ret008 = common::finding(&report, "RET-008", &format!("mailbox:{user}"));
        let detail = ret008["detail"].as_str().unwrap();
        if invoices > 0 {
            assert_eq!(ret008["status"], "fail", "{user}: {detail}");
            assert!(
                detail.starts_with(&format!("{invoices} messages are")),
                "{user}: {detail}"
            );
        } else {
            assert_eq!(ret008["status"], "pass", "{user}: {detail}");
        }
    }
    common::expect(
        &report,
        "RET-008",
        "mailbox:ghost@org.test",
        "inconclusive",
        None,
    );
    // RET-002: what is due for erasure review, per mailbox and class,
    // worked out here from the manifest and the lab profile's periods.
    let year = manifest["year"].as_i64().unwrap();
    let mut org_due: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (user, folders) in mailboxes {
        let mut due_total = 0;
        for (folder, info) in folders.as_object().unwrap() {
            let classes: Counts = serde_json::from_value(info["classes"].clone()).unwrap();
            for (y, per_class) in classes {
                let y: i64 = y.parse().unwrap();
                for (class, count) in per_class {
                    let due = review_due(folder, &class, y, year);
                    let entry = org_due.entry(class).or_default();
                    entry.0 += count;
                    if due {
                        entry.1 += count;
                        due_total += count;
                    }
                }
            }
        }
        let ret002 = common::finding(&report, "RET-002", &format!("mailbox:{user}"));
        let detail = ret002["detail"].as_str().unwrap();
        assert_eq!(ret002["status"], "fail", "{user}: {detail}");
        assert!(
            detail.starts_with(&format!("{due_total} messages are due for erasure review")),
            "{user}: expected {due_total}: {detail}"
        );
    }
    // Every other mailbox rule, per mailbox: RET-001 from the manifest's
    // Sent and other years; the rest from what the lab declares and runs.
    for (user, folders) in mailboxes {
        let subject = format!("mailbox:{user}");
        let years_of = |keep: &dyn Fn(&Value) -> bool| -> std::collections::BTreeSet<i64> {
            folders
                .as_object()
                .unwrap()
                .values()
                .filter(|info| keep(info))
                .flat_map(|info| info["classes"].as_object().unwrap().keys())
                .map(|y| y.parse().unwrap())
                .collect()
        };
        let sent = years_of(&|i| i["special_use"] == "\\Sent");
        let other = years_of(&|i| i["special_use"] != "\\Sent" && i["special_use"] != "\\Junk");
        let last = sent
            .iter()
            .chain(&other)
            .max()
            .copied()
            .unwrap_or(year)
            .min(year - 1);
        let missing = other
            .iter()
            .any(|y| *y > last - 6 && *y <= last && !sent.contains(y));
        let ret001 = if missing { "fail" } else { "pass" };
        for (rule, status) in [
            ("RET-001", ret001),
            // Users may expunge their own folders, and no archive is declared.
            ("RET-004", "fail"),
            // org-dovecot has neither quota nor ACL plugins: not answerable.
            ("RET-005", "inconclusive"),
            ("RET-006", "inconclusive"),
            // The profile declares no POP3 clients.
            ("RET-007", "not_applicable"),
        ] {
            common::expect(&report, rule, &subject, status, None);
        }
    }
    // The organisation: one subject with every mailbox added up, the
    // ghost named as not audited.
    let org = &report["assessment"]["organisations"][0];
    assert_eq!(org["domain"], "org.test");
    assert_eq!(org["mailboxes"], mailboxes.len() + 1);
    assert_eq!(org["audited"], mailboxes.len());
    assert_eq!(org["incomplete"][0]["user"], "ghost@org.test");
    let classes: BTreeMap<String, (u64, u64)> = org["retention"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().unwrap();
            (
                c["class"].as_str().unwrap().to_string(),
                (n("messages"), n("review_due")),
            )
        })
        .collect();
    assert_eq!(classes, org_due);
    for (rule, expected) in [
        ("RET-002", "fail"),
        ("RET-003", "fail"),
        ("RET-008", "fail"),
    ] {
        let finding = common::finding(&report, rule, "org:org.test");
        let detail = finding["detail"].as_str().unwrap();
        assert_eq!(finding["status"], expected, "{rule}: {detail}");
        assert!(
            detail.contains(&format!(
                "1 of {} mailboxes could not be audited (ghost@org.test: ",
                mailboxes.len() + 1
            )),
            "{rule}: {detail}"
        );
    }
    let org_due_total: u64 = org_due.values().map(|(_, due)| due).sum();
    let ret002 = common::finding(&report, "RET-002", "org:org.test");
    assert!(
        ret002["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{org_due_total} messages are due")),
        "{ret002}"
    );
    let org_invoices: u64 = ["e_invoice", "likely_invoice"]
        .iter()
        .map(|c| org_due[*c].0)
        .sum();
    let ret008 = common::finding(&report, "RET-008", "org:org.test");
    assert!(
        ret008["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{org_invoices} messages are")),
        "{ret008}"
    );
    // The same organisation table in Markdown and HTML, re-rendered
    // offline from the saved report.
    let saved = temp_file("org-report.json", &report.to_string());
    let out = saved.with_file_name("org-rendered");
    let rendered = common::mailaudit()
        .arg("report")
        .arg(&saved)
        .args(["--format", "markdown,html", "--lang", "en", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    // Exit code 1: failed findings, as documented; 2 would be an error.
    assert_eq!(rendered.status.code(), Some(1), "{rendered:?}");
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let org_section = &markdown[markdown.find("### org:org.test").expect("org table")..];
    let org_section = &org_section[..org_section.find("\n### ").unwrap_or(org_section.len())];
    let messages: u64 = org_due.values().map(|(m, _)| m).sum();
    assert!(
        org_section.contains(&format!("| **{messages}** | **{org_due_total}** |")),
        "{org_section}"
    );
    assert!(html.contains(&format!("<td>{messages}</td><td>{org_due_total}</td>")));
    assert!(html.contains("<section id=\"organisations\">"));
    // RET-009: no invoice PDF arrived after 2026 in the lab, so it passes
    // for every mailbox;
    // judged again with the e-invoice table moved back to 2025 (a DPO's
    // adapted rules/tables/e-invoicing.toml), the 2025 and 2026 invoice
    // PDFs count, per mailbox and for the organisation.
    for user in mailboxes.keys() {
        common::expect(&report, "RET-009", &format!("mailbox:{user}"), "pass", None);
    }
    // The organisation cannot pass while the ghost was not audited.
    common::expect(&report, "RET-009", "org:org.test", "inconclusive", None);
    let rules = saved.with_file_name("rules-2025");
    std::fs::create_dir_all(rules.join("tables")).unwrap();
    let table = include_str!("../rules/tables/e-invoicing.toml")
        .replace(
            "first_year = 2027\nlast_year = 2027",
            "first_year = 2025\nlast_year = 2026",
        )
        .replace("first_year = 2028", "first_year = 2027");
    std::fs::write(rules.join("tables/e-invoicing.toml"), table).unwrap();
    let judged = common::mailaudit()
        .arg("evaluate")
        .arg(&saved)
        .arg("--rules")
        .arg(&rules)
        .args(["--lang", "en", "-q"])
        .output()
        .unwrap();
    let findings: Value = serde_json::from_slice(&judged.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&judged.stderr)));
    let recent_pdfs: u64 = ["2025", "2026"]
        .iter()
        .map(|y| {
            mailboxes
                .values()
                .flat_map(|folders| folders.as_object().unwrap().values())
                .filter_map(|info| info["classes"][y]["likely_invoice"].as_u64())
                .sum::<u64>()
        })
        .sum();
    assert!(recent_pdfs > 0);
    let org009 = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "RET-009" && f["subject"] == "org:org.test")
        .expect("RET-009 on org:org.test");
    assert_eq!(org009["status"], "fail", "{org009}");
    assert_eq!(org009["severity"], "info");
    assert!(
        org009["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{recent_pdfs} invoice PDFs")),
        "{org009}"
    );
    // Counts only: the organisation's findings name no audited user.
    for finding in report["findings"].as_array().unwrap() {
        if finding["subject"] == "org:org.test" {
            let detail = finding["detail"].as_str().unwrap();
            assert!(
                mailboxes.keys().all(|u| !detail.contains(u.as_str())),
                "{detail}"
            );
        }
    }
    // Progress: one line per login attempt, before it.
    assert_eq!(
        stderr.matches("one login attempt as ").count(),
        mailboxes.len() + 1,
        "{stderr}"
    );
    // The admin's password appears nowhere.
    assert!(!report.to_string().contains(MASTER_PASSWORD));
    assert!(!stderr.contains(MASTER_PASSWORD));
    assert_eq!(before, maildir_snapshot(&root), "a message file changed");
}

/// Whether messages of `class` dated in `year`, in `folder`, are due for
/// erasure review in the scan year `now` under tests/lab/conf/org/
/// profile.toml and the class file: its own reading of the periods (end of
/// the calendar year, then the period; BEG IV's 8 years for vouchers).
fn review_due(folder: &str, class: &str, year: i64, now: i64) -> bool {
    // Due from 1 January of year + period + 1.
    let erasable_from = |years: i64| year + years < now;
    match folder {
        "Privat" => true,                 // non-business, 0 years
        "Newsletter" => erasable_from(1), // non-business, 1 year
        "Rechtsstreit" => now > 2027,     // held until 2027-12-31
        "Rechnungen" => erasable_from(8), // folder_periods: voucher
        _ => match class {
            "bulk" | "automatic" => erasable_from(1), // no statutory period: 1 year
            "calendar" => erasable_from(6),           // Handelsbrief
            _ => erasable_from(8),                    // vouchers and unclassified
        },
    }
}

#[test]
fn a_user_who_is_not_an_admin_may_not_open_another_mailbox() {
    // Given user04's own password, used as if user04 were an admin.
    let password = temp_file("user04.pw", &format!("{PASSWORD}\n"));
    let (report, _) = scan(&[
        "--mailbox",
        "user05@org.test",
        "--admin",
        "user04@org.test",
        "--password-file",
        password.to_str().unwrap(),
    ]);
    // Then Dovecot refuses the authorization identity, and the mailbox is
    // inconclusive with that reason.
    let mailbox = audited(&report, "user05@org.test");
    assert_eq!(mailbox["login"]["status"], "failed");
    let reason = mailbox["login"]["reason"].as_str().unwrap();
    assert!(reason.contains("user04@org.test may not open"), "{reason}");
    assert!(reason.contains("AUTHENTICATIONFAILED"), "{reason}");
    common::expect(
        &report,
        "RET-001",
        "mailbox:user05@org.test",
        "inconclusive",
        None,
    );
}

/// A TCP relay in front of org-dovecot's IMAPS port, on the same address
/// (so the certificate for imap.org.test fits) and port `port`. It counts
/// the bytes the server sends on each connection and, when `cut_at` is
/// given, closes both sides of the connection with the most traffic once
/// that many bytes have passed: a server that disconnects in the middle of
/// a FETCH, as no well-behaved server does on purpose. Returns the
/// per-connection byte counts when `stop` is set.
fn relay(
    port: u16,
    cut_at: Option<(usize, u64)>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<u64>> {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Mutex};
    let listener = TcpListener::bind(("127.0.16.143", port)).expect("relay port free");
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let counts: Arc<Mutex<Vec<u64>>> = Arc::default();
        let mut workers = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let Ok((client, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            };
            client.set_nonblocking(false).unwrap();
            let server = TcpStream::connect(("127.0.16.143", 993)).unwrap();
            let index = {
                let mut c = counts.lock().unwrap();
                c.push(0);
                c.len() - 1
            };
            let (mut from_client, mut to_server) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            workers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = from_client.read(&mut buf) {
                    if n == 0 || to_server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to_server.shutdown(Shutdown::Write);
            }));
            let counts = Arc::clone(&counts);
            let (mut from_server, mut to_client) = (server, client);
            workers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = from_server.read(&mut buf) {
                    let passed = {
                        let mut c = counts.lock().unwrap();
                        c[index] += n as u64;
                        c[index]
                    };
                    if n == 0 || to_client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    if cut_at.is_some_and(|(at, bytes)| at == index && passed >= bytes) {
                        let _ = to_client.shutdown(Shutdown::Both);
                        let _ = from_server.shutdown(Shutdown::Both);
                        break;
                    }
                }
                let _ = to_client.shutdown(Shutdown::Write);
            }));
        }
        for worker in workers {
            let _ = worker.join();
        }
        counts.lock().unwrap().clone()
    })
}

#[test]
fn a_server_that_disconnects_mid_fetch_leaves_that_mailbox_inconclusive_and_the_others_complete() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    // Given three mailboxes, the middle one reached through a relay.
    let manifest = manifest();
    let port = 19_993;
    let list = temp_file(
        "cut-mailboxes.txt",
        &format!(
            "imaps://user01%40org.test@imap.org.test:993\n\
             imaps://user02%40org.test@imap.org.test:{port}\n\
             imaps://user03%40org.test@imap.org.test:993\n"
        ),
    );
    let password = temp_file("cut-admin.pw", &format!("auditor:{MASTER_PASSWORD}\n"));
    let args = [
        "--mailboxes",
        list.to_str().unwrap(),
        "--admin",
        "auditor",
        "--sessions-per-server",
        "1",
        "--password-file",
        password.to_str().unwrap(),
    ];
    // A first run through a relay that only counts shows how much the
    // server sends on each connection of user02's audit.
    let stop = Arc::new(AtomicBool::new(false));
    let counting = relay(port, None, Arc::clone(&stop));
    let (report, _) = scan(&args);
    stop.store(true, Ordering::SeqCst);
    let counts = counting.join().unwrap();
    assert_eq!(
        audited(&report, "user02@org.test")["folders"]["status"],
        "completed"
    );
    let (busiest, total) = counts
        .iter()
        .copied()
        .enumerate()
        .max_by_key(|(_, bytes)| *bytes)
        .expect("user02's audit went through the relay");
    assert!(total > 20_000, "{counts:?}");
    // When the server's side is cut halfway through that connection, most
    // of which is the metadata FETCHes.
    let stop = Arc::new(AtomicBool::new(false));
    let cutting = relay(port, Some((busiest, total / 2)), Arc::clone(&stop));
    let (report, stderr) = scan(&args);
    stop.store(true, Ordering::SeqCst);
    cutting.join().unwrap();
    // Then user02 is inconclusive with the reason, and the others are
    // complete with every class count of the manifest.
    let cut = audited(&report, "user02@org.test");
    assert_ne!(cut["folders"]["status"], "completed", "{stderr}");
    let reason = cut["folders"]["reason"].as_str().unwrap_or_default();
    // The cut lands wherever the half-way byte falls: mostly inside the
    // metadata FETCHes, which are the bulk of the connection.
    assert!(!reason.is_empty(), "{cut}");
    for rule in ["RET-001", "RET-002", "RET-003", "RET-008"] {
        common::expect(
            &report,
            rule,
            "mailbox:user02@org.test",
            "inconclusive",
            None,
        );
    }
    for user in ["user01@org.test", "user03@org.test"] {
        let mailbox = audited(&report, user);
        assert_eq!(mailbox["folders"]["status"], "completed", "{user}");
        for (folder, info) in manifest["mailboxes"][user].as_object().unwrap() {
            let (_, classes) = recorded(mailbox, info, user);
            let expected: Counts = serde_json::from_value(info["classes"].clone()).unwrap();
            assert_eq!(classes, expected, "{user} {folder}");
        }
    }
    // The organisation names the cut mailbox and does not pass.
    let org = common::finding(&report, "RET-002", "org:org.test");
    assert!(
        org["detail"]
            .as_str()
            .unwrap()
            .contains("1 of 3 mailboxes could not be audited (user02@org.test: "),
        "{org}"
    );
}

#[test]
fn an_adapted_class_file_sorts_the_messages_and_sets_their_periods() {
    // Given a DPO's copy of the class file in which newsletters are kept
    // like Handelsbriefe (6 years) instead of having no statutory period.
    let text = include_str!("../rules/classes/mail-classes.toml").replace(
        "period = \"no_statutory_period\"\nreference = \"Art. 5 Abs. 1 lit. e DSGVO: a newsletter is not a Handelsbrief\"",
        "period = \"handelsbrief\"\nreference = \"kept like a Handelsbrief by our policy\"",
    );
    assert!(text.contains("kept like a Handelsbrief by our policy"));
    let adapted = temp_file("our-classes.toml", &text);
    let password = temp_file("user01-own.pw", &format!("{PASSWORD}\n"));
    // When user01 is audited with it.
    let (report, _) = scan(&[
        "--mailbox",
        "user01@org.test",
        "--password-file",
        password.to_str().unwrap(),
        "--class-file",
        adapted.to_str().unwrap(),
    ]);
    // Then the evidence names that file, and the newsletters get the
    // Handelsbrief period.
    let mailbox = audited(&report, "user01@org.test");
    assert_eq!(mailbox["class_file"]["file"], adapted.to_str().unwrap());
    let default_sha = audited(
        &scan(&[
            "--mailbox",
            "user01@org.test",
            "--password-file",
            password.to_str().unwrap(),
        ])
        .0,
        "user01@org.test",
    )["class_file"]["sha256"]
        .clone();
    assert_ne!(mailbox["class_file"]["sha256"], default_sha);
    let rows = report["assessment"]["mailboxes"][0]["retention"]["class_years"]
        .as_array()
        .unwrap();
    let bulk: Vec<&Value> = rows
        .iter()
        .filter(|r| r["class"] == "bulk" && r["folder"] != "Newsletter" && r["folder"] != "Privat")
        .collect();
    assert!(!bulk.is_empty());
    assert!(
        bulk.iter().all(|r| r["period"] == "handelsbrief"),
        "{bulk:?}"
    );
    // A broken class file is refused before anything is sent, with its
    // place.
    let broken = temp_file(
        "broken-classes.toml",
        &text.replace("schema = 1", "schema = 9"),
    );
    let output = common::mailaudit()
        .args(["scan", "org.test", "--class-file"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:", broken.display())) && stderr.contains("schema 9"),
        "{stderr}"
    );
}

#[test]
fn the_deep_check_finds_the_invoice_xml_inside_a_pdf_and_changes_nothing() {
    // Given every mailbox, among them Factur-X PDFs whose names do not say
    // so (a "likely invoice" by metadata, an e-invoice by content).
    let manifest = manifest();
    let mailboxes = manifest["mailboxes"].as_object().unwrap();
    let root = common::repo("tests/lab/run/mail/org.test");
    let before = maildir_snapshot(&root);
    let mut list = String::new();
    for user in mailboxes.keys() {
        list.push_str(&format!("{user}\n"));
    }
    let list = temp_file("deep-mailboxes.txt", &list);
    let password = temp_file("deep-admin.pw", &format!("auditor:{MASTER_PASSWORD}\n"));
    // When the binary audits them with --deep-invoice-check.
    let (report, _) = scan(&[
        "--mailboxes",
        list.to_str().unwrap(),
        "--admin",
        "auditor",
        "--password-file",
        password.to_str().unwrap(),
        "--deep-invoice-check",
    ]);
    // Then every folder's classes are the manifest's deep ones, and the
    // PDFs were fetched with BODY.PEEK only: no file changed.
    let mut fetched = 0;
    for (user, folders) in mailboxes {
        let mailbox = audited(&report, user);
        for (folder, info) in folders.as_object().unwrap() {
            let (found, classes) = recorded(mailbox, info, user);
            let expected: Counts = serde_json::from_value(info["classes_deep"].clone()).unwrap();
            assert_eq!(classes, expected, "{user} {folder}");
            fetched += found["deep_checked"].as_u64().unwrap_or(0);
        }
    }
    let moved = manifest["totals"]["classes_deep"]["e_invoice"]
        .as_u64()
        .unwrap()
        - manifest["totals"]["classes"]["e_invoice"].as_u64().unwrap();
    assert!(moved > 0);
    // At least every PDF that turned out to be an e-invoice was fetched.
    assert!(fetched >= moved, "{fetched} parts fetched, {moved} moved");
    // Nothing of a PDF is in the report: not the embedded file's name.
    assert!(!report.to_string().contains("factur-x.xml"));
    assert_eq!(before, maildir_snapshot(&root), "a message file changed");
}
