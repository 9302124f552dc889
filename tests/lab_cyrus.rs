//! The mailbox audit and the protocol probes against Cyrus IMAP 3.6, the
//! lab's second IMAP/POP3/ManageSieve implementation (issue 16; tests/lab:
//! `cyrus`, 127.0.30.143, domain cyrus.test). erin@cyrus.test is created by
//! `tests/lab/lib/cyrus_seed.py` with absolute dates, so every fact below is
//! fixed: folders under "INBOX." with the separator ".", special-use roles,
//! messages per year, every third message unseen, `anyone lr` on Projekte,
//! a 10 MiB quota, an active Sieve script with a conditional `redirect
//! :copy` and an inactive one with a plain redirect.

mod common;

use common::{expect, scan_lab};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const ERIN: &str = "erin@cyrus.test";
const ERIN_PASSWORD: &str = "lab-secret-erin";
const CYRUS: &str = "127.0.30.143";

fn password_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailaudit-cyrus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Scans cyrus.test (no TLS enumeration) and audits erin's mailbox.
fn audit() -> (i32, serde_json::Value) {
    assert_zone_served("cyrus.test");
    let password = password_file("erin.pw", &format!("{ERIN_PASSWORD}\n"));
    scan_lab(
        &["cyrus.test"],
        &[
            "--no-tls-scan",
            "--mailbox",
            ERIN,
            "--password-file",
            password.to_str().unwrap(),
        ],
    )
}

fn report() -> &'static serde_json::Value {
    static REPORT: OnceLock<serde_json::Value> = OnceLock::new();
    REPORT.get_or_init(|| audit().1)
}

/// The lab's Knot must serve `zone`: it is added by tests/lab/lib/dns.sh,
/// and a lab started before that change serves it only after a restart of
/// its DNS service.
fn assert_zone_served(zone: &str) {
    let output = Command::new("dig")
        .args(["+short", "+norec", "@127.0.10.53", "SOA", zone])
        .output()
        .expect("dig runs");
    assert!(
        !output.stdout.is_empty(),
        "the lab DNS does not serve {zone}: restart it with the current tests/lab \
         (`bash tests/lab/lab.sh stop dns && bash tests/lab/lab.sh start dns`)"
    );
}

fn erin(report: &serde_json::Value) -> &serde_json::Value {
    report["targets"][0]["evidence"]["mailboxes"]
        .as_array()
        .expect("mailboxes")
        .iter()
        .find(|m| m["user"] == ERIN)
        .expect("erin's mailbox")
}

fn folder<'a>(mailbox: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    mailbox["folders"]["value"]
        .as_array()
        .expect("folders")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no folder {name}: {}", mailbox["folders"]))
}

/// (raw name, shown name, role, messages, unseen, per-year counts)
type FolderFacts = (
    &'static str,
    &'static str,
    &'static str,
    u64,
    u64,
    &'static [(&'static str, u64)],
);

#[test]
fn erins_folders_counts_and_roles_are_read_from_cyrus() {
    let erin = erin(report());
    assert_eq!(erin["login"]["status"], "completed", "{}", erin["login"]);
    assert_eq!(erin["server"], "imaps://imap.cyrus.test:993");
    assert_eq!(erin["login"]["value"]["server_id"]["name"], "Cyrus IMAPD");
    // NAMESPACE (RFC 2342): Debian's Cyrus keeps personal folders under "INBOX."
    let personal = &erin["namespaces"]["value"]["personal"][0];
    assert_eq!(personal["prefix"], "INBOX.");
    assert_eq!(personal["separator"], ".");
    let expected: [FolderFacts; 7] = [
        (
            "INBOX",
            "INBOX",
            "inbox",
            30,
            10,
            &[("2019", 4), ("2023", 8), ("2024", 8), ("2025", 10)],
        ),
        (
            "INBOX.Sent",
            "Sent",
            "sent",
            10,
            3,
            &[("2024", 5), ("2025", 5)],
        ),
        ("INBOX.Drafts", "Drafts", "drafts", 1, 0, &[("2025", 1)]),
        ("INBOX.Trash", "Trash", "trash", 0, 0, &[]),
        ("INBOX.Archive", "Archive", "archive", 0, 0, &[]),
        (
            "INBOX.Archive.2015",
            "Archive/2015",
            "other",
            6,
            2,
            &[("2015", 6)],
        ),
        ("INBOX.Projekte", "Projekte", "other", 3, 1, &[("2025", 3)]),
    ];
    let folders = erin["folders"]["value"].as_array().expect("folders");
    assert_eq!(folders.len(), expected.len(), "{}", erin["folders"]);
    for (name, shown, role, messages, unseen, years) in expected {
        let f = folder(erin, name);
        assert_eq!(f["display_name"], shown, "{name}");
        assert_eq!(f["role"], role, "{name}");
        assert_eq!(f["messages"], messages, "{name}");
        assert_eq!(f["unseen"], unseen, "{name}");
        let counted: BTreeMap<String, u64> = serde_json::from_value(f["years"].clone()).unwrap();
        let wanted: BTreeMap<String, u64> =
            years.iter().map(|(y, n)| (y.to_string(), *n)).collect();
        assert_eq!(counted, wanted, "{name}");
        assert_eq!(f["outside_years"], 0, "{name}");
    }
}

#[test]
fn erins_acl_quota_and_sieve_are_read_from_cyrus() {
    let erin = erin(report());
    let projekte = folder(erin, "INBOX.Projekte");
    let acl = projekte["acl"]["value"].as_array().expect("GETACL");
    assert!(
        acl.iter()
            .any(|e| e["identifier"] == "anyone" && e["rights"] == "lr"),
        "{acl:?}"
    );
    // Cyrus 3.6 grants the owner every right, including the "n" of RFC 8620.
    assert_eq!(projekte["my_rights"]["value"], "lrswipkxtecdan");
    let inbox_acl = folder(erin, "INBOX")["acl"]["value"].as_array().unwrap();
    assert_eq!(inbox_acl.len(), 1, "only the owner: {inbox_acl:?}");

    let quota = &erin["quota"]["value"][0];
    assert_eq!(quota["root"], "INBOX");
    assert_eq!(quota["resource"], "STORAGE");
    assert_eq!(quota["limit"], 10240);
    assert!(quota["usage"].as_u64().unwrap() < 100, "{quota}");

    let sieve = &erin["sieve"]["value"];
    assert_eq!(sieve["server"], "sieve://imap.cyrus.test:4190");
    let scripts = sieve["scripts"].as_array().expect("scripts");
    assert_eq!(scripts.len(), 2, "{scripts:?}");
    let main = scripts.iter().find(|s| s["name"] == "main").unwrap();
    assert_eq!(main["active"], true);
    assert_eq!(
        main["redirects"][0]["address"],
        "buchhaltung@extern.example"
    );
    assert_eq!(main["redirects"][0]["copy"], true);
    assert_eq!(main["redirects"][0]["conditional"], true);
    let old = scripts.iter().find(|s| s["name"] == "old").unwrap();
    assert_eq!(old["active"], false);
    assert_eq!(old["redirects"][0]["domain"], "private-mail.example");

    // the POP3 view: Cyrus's INBOX over 995
    let pop3 = &erin["pop3"]["value"];
    assert_eq!(pop3["server"], "pop3s://imap.cyrus.test:995");
    assert_eq!(pop3["messages"], 30);
    assert_eq!(pop3["unique_ids"], 30);
}

#[test]
fn the_retention_and_sieve_rules_judge_erins_mailbox() {
    let report = report();
    let subject = "mailbox:erin@cyrus.test";
    // no Sent mail in 2023, though INBOX has some
    expect(report, "RET-001", subject, "fail", Some("high"));
    // Archive/2015 is past the default retention period
    expect(report, "RET-002", subject, "fail", Some("medium"));
    expect(report, "RET-003", subject, "pass", None);
    expect(report, "RET-005", subject, "pass", None);
    expect(report, "RET-006", subject, "fail", Some("high"));
    // the active script's conditional :copy redirect leaves the domain; the
    // inactive script does not count
    expect(report, "LOC-002", subject, "fail", Some("high"));
    let detail = common::finding(report, "LOC-002", subject)["detail"].to_string();
    assert!(detail.contains("extern.example"), "{detail}");
    assert!(!detail.contains("private-mail.example"), "{detail}");
}

/// Issue 16, defect 3: Cyrus's ManageSieve answers the probe's own NOOP with
/// the tag as a literal (`{9}`); TLS-011 must still pass. Logins are
/// offered only inside TLS on every Cyrus port.
#[test]
fn the_cyrus_endpoints_pass_the_injection_and_auth_rules() {
    let report = report();
    for port in [143, 110, 4190] {
        let subject = format!("imap.cyrus.test:{port}");
        expect(report, "TLS-011", &subject, "pass", None);
        expect(report, "ACC-001", &subject, "pass", None);
        expect(report, "TLS-002", &subject, "pass", None);
        expect(report, "CRT-001", &subject, "pass", None);
    }
    for port in [993, 995] {
        expect(
            report,
            "CRT-001",
            &format!("imap.cyrus.test:{port}"),
            "pass",
            None,
        );
    }
    let sieve = common::endpoint(report, "imap.cyrus.test:4190");
    assert_eq!(
        sieve["dialogue"]["value"]["greeting"],
        "OK IMPLEMENTATION Cyrus timsieved"
    );
}

/// Erin's mailbox as Cyrus reports it to its admin (acting as erin, with
/// EXAMINE): per folder UIDVALIDITY, UIDNEXT and every UID's FLAGS.
fn imap_snapshot() -> serde_json::Value {
    let output = Command::new("python3")
        .arg(common::repo("tests/lab/lib/cyrus_seed.py"))
        .args(["--addr", CYRUS, "--snapshot", "--ca"])
        .arg(common::lab_ca())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "snapshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("snapshot JSON")
}

/// Cyrus's protocol telemetry for erin (`run/cyrus/lib/log/erin@cyrus.test/`):
/// one file per server process, appended to by every session it serves.
fn telemetry_dir() -> PathBuf {
    common::repo("tests/lab/run/cyrus/lib/log/erin@cyrus.test")
}

fn telemetry_sizes(dir: &Path) -> BTreeMap<PathBuf, u64> {
    std::fs::read_dir(dir)
        .expect("Cyrus telemetry directory")
        .map(|e| {
            let e = e.unwrap();
            (e.path(), e.metadata().unwrap().len())
        })
        .collect()
}

/// What was appended to the telemetry since `before`.
fn telemetry_since(dir: &Path, before: &BTreeMap<PathBuf, u64>) -> String {
    let mut text = String::new();
    for (path, _) in telemetry_sizes(dir) {
        let data = std::fs::read(&path).unwrap();
        let from = before.get(&path).copied().unwrap_or(0) as usize;
        text.push_str(&String::from_utf8_lossy(&data[from.min(data.len())..]));
    }
    text
}

/// The read-only promise on Cyrus: the state Cyrus reports through IMAP is
/// the same before and after an audit, and Cyrus's own log of erin's
/// sessions holds only reading commands. (A POP3 login rewrites Cyrus's
/// cyrus.index, so files are not compared.)
#[test]
fn an_audit_changes_nothing_cyrus_reports() {
    let dir = telemetry_dir();
    let before = imap_snapshot();
    let sizes = telemetry_sizes(&dir);
    assert_eq!(before["INBOX"]["flags"].as_object().unwrap().len(), 30);
    assert!(
        before["INBOX"]["flags"]
            .as_object()
            .unwrap()
            .values()
            .any(|f| !f.as_array().unwrap().iter().any(|x| x == "\\Seen")),
        "some messages are unseen, so a \\Seen set by the audit would show"
    );
    let (_, report) = audit();
    assert_eq!(erin(&report)["folders"]["status"], "completed");
    assert_eq!(erin(&report)["pop3"]["status"], "completed");
    assert_eq!(erin(&report)["sieve"]["status"], "completed");
    let log = telemetry_since(&dir, &sizes);
    let after = imap_snapshot();
    assert_eq!(before, after, "the audit changed erin's mailbox");

    // Every client line in Cyrus's telemetry ("<time<TAG COMMAND ..." for
    // IMAP, "<time<COMMAND" for POP3 and ManageSieve) during the audit.
    let imap_reading = [
        "CAPABILITY",
        "ID",
        "NAMESPACE",
        "LIST",
        "LSUB",
        "STATUS",
        "EXAMINE",
        "UID",
        "GETQUOTAROOT",
        "GETQUOTA",
        "MYRIGHTS",
        "GETACL",
        "NOOP",
        "LOGOUT",
    ];
    let other_reading = [
        "STAT",
        "UIDL",
        "LIST",
        "TOP",
        "CAPA",
        "QUIT",
        "LISTSCRIPTS",
        "GETSCRIPT",
        "CAPABILITY",
        "LOGOUT",
    ];
    let mut seen = Vec::new();
    for line in log.lines().filter(|l| l.starts_with('<')) {
        let command = line.splitn(3, '<').nth(2).unwrap_or_default();
        let words: Vec<&str> = command.split_whitespace().collect();
        let (word, sub) = match words.as_slice() {
            [tag, word, rest @ ..]
                if tag.starts_with('A') && tag[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                (
                    word.to_ascii_uppercase(),
                    rest.first().map(|s| s.to_ascii_uppercase()),
                )
            }
            [word, ..] => (word.to_ascii_uppercase(), None),
            [] => continue,
        };
        if word == "UID" {
            let sub = sub.unwrap_or_default();
            assert!(
                ["FETCH", "SORT", "SEARCH"].contains(&sub.as_str()),
                "UID {sub} in {line}"
            );
        } else {
            assert!(
                imap_reading.contains(&word.as_str()) || other_reading.contains(&word.as_str()),
                "a command that is not read-only reached Cyrus: {line}"
            );
        }
        seen.push(word);
    }
    for wanted in ["EXAMINE", "GETACL", "STAT", "UIDL", "GETSCRIPT"] {
        assert!(
            seen.iter().any(|w| w == wanted),
            "{wanted} missing from Cyrus's log: {seen:?}"
        );
    }
    assert!(
        !log.contains(ERIN_PASSWORD),
        "the password is in Cyrus's log"
    );
}

/// Issue 16, defect 1 on Cyrus: erin named on imap.cyrus.test while
/// legacy.test is scanned. legacy.test announces its own Dovecot for IMAP,
/// POP3 and ManageSieve; that server (whose log records every login
/// attempt) must hear nothing of erin, while Cyrus serves all three views.
#[test]
fn the_password_goes_only_to_the_named_cyrus_server() {
    let log = common::repo("tests/lab/run/logs/legacy-dovecot.log");
    let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let dir = telemetry_dir();
    let sizes = telemetry_sizes(&dir);
    assert_zone_served("cyrus.test");
    let password = password_file("erin-url.pw", &format!("{ERIN_PASSWORD}\n"));
    let (_, report) = scan_lab(
        &["legacy.test"],
        &[
            "--no-tls-scan",
            "--mailbox",
            "imaps://erin%40cyrus.test@imap.cyrus.test:993",
            "--password-file",
            password.to_str().unwrap(),
        ],
    );
    let erin = erin(&report);
    assert_eq!(erin["server"], "imaps://imap.cyrus.test:993");
    assert_eq!(erin["login"]["status"], "completed", "{}", erin["login"]);
    assert_eq!(
        erin["pop3"]["value"]["server"],
        "pop3s://imap.cyrus.test:995"
    );
    assert_eq!(
        erin["sieve"]["value"]["server"],
        "sieve://imap.cyrus.test:4190"
    );
    // Cyrus saw erin's sessions ...
    let cyrus = telemetry_since(&dir, &sizes);
    assert!(cyrus.contains("EXAMINE"), "{cyrus}");
    // ... and legacy.test's Dovecot, which the scan did talk to, none.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let text = std::fs::read(&log).expect("the legacy Dovecot log");
    let during = String::from_utf8_lossy(&text[before as usize..]);
    assert!(
        during.contains("Disconnected"),
        "the scan connected to legacy.test's Dovecot: {during}"
    );
    assert!(
        !during.contains("erin"),
        "a login reached legacy.test: {during}"
    );
    assert!(
        !during.contains("cyrus.test"),
        "a login reached legacy.test: {during}"
    );
}
