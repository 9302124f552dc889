//! The mail classifier (`mailaudit::mail_class`) against the real Dovecot of
//! org.test (tests/lab, service `org-dovecot`): every mailbox opened once
//! through the master user (SASL PLAIN with an authorization identity,
//! RFC 4616), every folder EXAMINEd and its metadata fetched with the very
//! FETCH items the probe will send. The classes per mailbox × folder × year
//! must equal the generator's manifest exactly, without and with the
//! opt-in deep check, and no message file may change (flags live in the
//! Maildir file names).
//!
//! This drives the pure module over a raw IMAP session of its own, with
//! the deep check too; tests/lab_mailbox_classes.rs asserts the same
//! counts as the mailbox probe records them.

mod common;

use base64::Engine;
use mailaudit::mail_class::{self, ClassFile, MessageMeta, embedded, fetch, sexp};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const SERVER: &str = "127.0.16.143";
const MASTER: &str = "auditor";
const MASTER_PASSWORD: &str = "lab-secret-master";

/// year → class → count
type Counts = BTreeMap<String, BTreeMap<String, u64>>;

struct Session {
    stream: BufReader<TlsStream<TcpStream>>,
    tag: u32,
}

impl Session {
    async fn connect() -> Session {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(common::lab_ca()).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = TcpStream::connect((SERVER, 993))
            .await
            .expect("org-dovecot is up: bash tests/lab/lab.sh start org-dovecot");
        let name = ServerName::try_from("imap.org.test").unwrap();
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let mut session = Session {
            stream: BufReader::new(tls),
            tag: 0,
        };
        let greeting = session.response().await;
        assert!(greeting.starts_with(b"* OK"), "{}", lossy(&greeting));
        session
    }

    /// One response line, with every literal it announces.
    async fn response(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let start = out.len();
            let read = self.stream.read_until(b'\n', &mut out).await.unwrap();
            assert!(read > 0, "the server closed the connection");
            let line = &out[start..];
            let Some(length) = literal_length(line) else {
                return out;
            };
            let mut literal = vec![0; length];
            self.stream.read_exact(&mut literal).await.unwrap();
            out.extend_from_slice(&literal);
        }
    }

    /// Sends a command; returns its untagged responses, and the tagged
    /// status line.
    async fn command(&mut self, command: &str) -> (Vec<Vec<u8>>, String) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let line = format!("{tag} {command}\r\n");
        self.stream
            .get_mut()
            .write_all(line.as_bytes())
            .await
            .unwrap();
        let mut untagged = Vec::new();
        loop {
            let response = self.response().await;
            if response.starts_with(format!("{tag} ").as_bytes()) {
                return (untagged, lossy(&response).trim_end().to_string());
            }
            untagged.push(response);
        }
    }
}

/// `{n}` (or `{n+}`) at the end of a line.
fn literal_length(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\r\n")?;
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = std::str::from_utf8(&line[open + 1..]).ok()?;
    digits.trim_end_matches('+').parse().ok()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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

fn expected(counts: &Value) -> Counts {
    serde_json::from_value(counts.clone()).unwrap()
}

/// The names of every message file (flags included) under `root`.
fn message_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
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
                files.push(path.display().to_string());
            }
        }
    }
    files.sort();
    files
}

/// Classifies every message of the folder open in `session`; with `deep`,
/// the PDF parts of likely invoices are fetched and searched for an
/// embedded invoice XML first.
async fn classify_folder(session: &mut Session, classes: &ClassFile) -> (Counts, Counts) {
    let items = fetch::fetch_items(&mail_class::header_fields(classes));
    let (responses, status) = session.command(&format!("UID FETCH 1:* {items}")).await;
    assert!(status.contains(" OK "), "{status}");
    let (mut plain, mut deep) = (Counts::new(), Counts::new());
    for response in responses.iter().filter(|r| r.starts_with(b"* ")) {
        let mut meta =
            fetch::parse_response(response).unwrap_or_else(|e| panic!("{e}: {}", lossy(response)));
        let year = meta
            .internal_date
            .expect("INTERNALDATE")
            .format("%Y")
            .to_string();
        let class = mail_class::classify(&meta, classes).class;
        *plain
            .entry(year.clone())
            .or_default()
            .entry(class.clone())
            .or_default() += 1;
        if class == "likely_invoice" {
            deep_check(session, &mut meta).await;
        }
        let class = mail_class::classify(&meta, classes).class;
        *deep.entry(year).or_default().entry(class).or_default() += 1;
    }
    (plain, deep)
}

/// The opt-in deep check: `BODY.PEEK[section]` of each PDF part.
async fn deep_check(session: &mut Session, meta: &mut MessageMeta) {
    let uid = meta.uid.unwrap();
    let pdfs: Vec<_> = meta
        .body
        .as_ref()
        .unwrap()
        .parts
        .iter()
        .filter(|p| {
            p.file_name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().ends_with(".pdf"))
        })
        .map(|p| (p.section.clone(), p.encoding.clone().unwrap_or_default()))
        .collect();
    for (section, encoding) in pdfs {
        let (responses, status) = session
            .command(&format!("UID FETCH {uid} (UID BODY.PEEK[{section}])"))
            .await;
        assert!(status.contains(" OK "), "{status}");
        let values = sexp::read_all(&responses[0]).unwrap();
        let items = values[3].list().unwrap();
        let part = items
            .chunks(2)
            .find(|pair| pair[0].text().is_some_and(|n| n.starts_with("BODY[")))
            .map(|pair| &pair[1])
            .unwrap();
        let sexp::Value::String(bytes) = part else {
            panic!("BODY[{section}] is not a string")
        };
        for name in embedded::embedded_file_names(bytes, &encoding) {
            meta.embedded_files.push((section.clone(), name));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_class_count_matches_the_manifest_through_the_master_user() {
    let manifest = manifest();
    let classes = ClassFile::defaults().unwrap();
    let root = common::repo("tests/lab/run/mail/org.test");
    let before = message_files(&root);
    let password = base64::engine::general_purpose::STANDARD;
    let mailboxes = manifest["mailboxes"].as_object().unwrap();
    assert!(mailboxes.len() >= 20);
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for (user, folders) in mailboxes {
        let mut session = Session::connect().await;
        // SASL PLAIN: authorization identity = the mailbox, authentication
        // identity = the master user (RFC 4616 §2), with SASL-IR.
        let initial = password.encode(format!("{user}\0{MASTER}\0{MASTER_PASSWORD}"));
        let (_, status) = session
            .command(&format!("AUTHENTICATE PLAIN {initial}"))
            .await;
        assert!(status.contains(" OK "), "{user}: {status}");
        for (folder, info) in folders.as_object().unwrap() {
            let name = info["imap_name"].as_str().unwrap();
            let (untagged, status) = session.command(&format!("EXAMINE \"{name}\"")).await;
            assert!(status.contains("[READ-ONLY]"), "{user} {folder}: {status}");
            let exists = untagged.iter().map(|r| lossy(r)).find_map(|r| {
                r.strip_suffix(" EXISTS\r\n")?
                    .strip_prefix("* ")?
                    .parse::<u64>()
                    .ok()
            });
            assert_eq!(exists, info["messages"].as_u64(), "{user} {folder}");
            let (plain, deep) = classify_folder(&mut session, &classes).await;
            assert_eq!(plain, expected(&info["classes"]), "{user} {folder}");
            assert_eq!(
                deep,
                expected(&info["classes_deep"]),
                "{user} {folder} (deep check)"
            );
            for per_class in plain.values() {
                for (class, count) in per_class {
                    *totals.entry(class.clone()).or_default() += count;
                }
            }
        }
        session.command("LOGOUT").await;
    }
    assert_eq!(
        serde_json::to_value(&totals).unwrap(),
        manifest["totals"]["classes"]
    );
    for class in [
        "e_invoice",
        "likely_invoice",
        "bulk",
        "automatic",
        "calendar",
        "unclassified",
    ] {
        assert!(
            totals.get(class).is_some_and(|&n| n > 0),
            "no {class} in the lab"
        );
    }
    assert_eq!(before, message_files(&root), "a message file changed");
}

#[tokio::test]
async fn an_unknown_mailbox_and_a_refused_authorization_identity_are_errors() {
    let password = base64::engine::general_purpose::STANDARD;
    let mut session = Session::connect().await;
    let ghost = password.encode(format!("ghost@org.test\0{MASTER}\0{MASTER_PASSWORD}"));
    let (_, status) = session
        .command(&format!("AUTHENTICATE PLAIN {ghost}"))
        .await;
    assert!(status.contains("NO"), "{status}");
    // A user who is not a master may not act as another user.
    let mut session = Session::connect().await;
    let other = password.encode("user05@org.test\0user04@org.test\0lab-secret-org");
    let (_, status) = session
        .command(&format!("AUTHENTICATE PLAIN {other}"))
        .await;
    assert!(status.contains("NO"), "{status}");
    // The master identity in LOGIN form works too ("user*master").
    let mut session = Session::connect().await;
    let (_, status) = session
        .command(&format!(
            "LOGIN \"user01@org.test*{MASTER}\" \"{MASTER_PASSWORD}\""
        ))
        .await;
    assert!(status.contains(" OK "), "{status}");
}

#[test]
fn the_lab_audit_profile_declares_the_legal_hold() {
    let profile =
        mailaudit::profile::AuditProfile::load(&common::repo("tests/lab/conf/org/profile.toml"))
            .expect("the org.test profile loads");
    let hold = &profile.retention.holds[0];
    assert!(hold.reason.contains("Rechtsstreit"), "{}", hold.reason);
    assert_eq!(hold.until.to_string(), "2027-12-31");
    assert_eq!(
        profile.retention.non_business_folders.get("Privat"),
        Some(&0)
    );
}
