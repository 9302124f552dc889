//! The mailbox probe's classes (issue 12) against the real Dovecot of
//! org.test (tests/lab, service `org-dovecot`, zone `org.test`): the real
//! binary audits all 22 mailboxes, and the class counts it records per
//! mailbox × folder × year must equal the generator's manifest exactly.
//! The Maildir (file names carry the flags, contents the mail) must be
//! byte for byte the same before and after, and the audit trail may hold
//! only read-only commands.

mod common;

use common::scan_lab;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PASSWORD: &str = "lab-secret-org";

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

fn password_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailaudit-classes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("org.pw");
    std::fs::write(&path, format!("{PASSWORD}\n")).unwrap();
    path
}

#[test]
fn the_probe_records_every_class_count_of_the_manifest_and_changes_nothing() {
    // Given the 22 mailboxes of org.test and their manifest.
    let manifest = manifest();
    let mailboxes = manifest["mailboxes"].as_object().unwrap();
    assert!(mailboxes.len() >= 20);
    let root = common::repo("tests/lab/run/mail/org.test");
    let before = maildir_snapshot(&root);
    assert!(before.len() > 1000, "{} message files", before.len());
    // When the binary audits every one of them.
    let password = password_file();
    let mut args = vec![
        "--no-tls-scan".to_string(),
        "--password-file".to_string(),
        password.display().to_string(),
    ];
    for user in mailboxes.keys() {
        args.extend(["--mailbox".to_string(), user.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, report) = scan_lab(&["org.test"], &args);
    // Then every folder's classes by year equal the manifest's.
    let audited = report["targets"][0]["evidence"]["mailboxes"]
        .as_array()
        .expect("mailboxes");
    assert_eq!(audited.len(), mailboxes.len());
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for (user, folders) in mailboxes {
        let mailbox = audited
            .iter()
            .find(|m| m["user"] == user.as_str())
            .unwrap_or_else(|| panic!("no mailbox {user}"));
        assert_eq!(mailbox["folders"]["status"], "completed", "{user}");
        assert_eq!(
            mailbox["class_file"]["file"], "rules/classes/mail-classes.toml",
            "{user}"
        );
        assert_eq!(mailbox["class_file"]["sha256"].as_str().unwrap().len(), 64);
        let recorded = mailbox["folders"]["value"].as_array().unwrap();
        assert_eq!(recorded.len(), folders.as_object().unwrap().len(), "{user}");
        for (folder, info) in folders.as_object().unwrap() {
            let name = info["imap_name"].as_str().unwrap();
            let found = recorded
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("{user}: no folder {name}"));
            let classes: Counts =
                serde_json::from_value(found.get("classes").cloned().unwrap_or(Value::Null))
                    .unwrap_or_default();
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
    // And no message file changed: not its flags, not its content.
    assert_eq!(before, maildir_snapshot(&root), "a message file changed");
}
