//! Replays the kept fuzz corpus (issue 7, item 6) on the stable toolchain.
//!
//! Every file of `tests/fuzz/corpus/<target>/` and of
//! `tests/fuzz/regressions/<target>/` goes through
//! `mailaudit::fuzz_api::<target>`, the function the cargo-fuzz target of
//! the same name calls. Those functions assert each parser's checkable
//! properties themselves, so a replay fails when a parser panics or breaks
//! a property; a corpus directory that lost its files fails too.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Fewest inputs a target's corpus may hold: the hand-written seeds alone
/// are more, so fewer means the corpus was emptied or lost.
const MIN_CORPUS: usize = 5;

fn directory(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(kind)
        .join(target)
}

fn files(directory: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Given the corpus and reproducers of `target`, when each is replayed,
/// then none panics, and the corpus holds at least [`MIN_CORPUS`] inputs.
fn replay(target: &str, entry: fn(&[u8])) {
    let corpus = files(&directory("corpus", target));
    assert!(
        corpus.len() >= MIN_CORPUS,
        "tests/fuzz/corpus/{target} holds {} inputs, fewer than {MIN_CORPUS}; restore it from git",
        corpus.len()
    );
    let mut failures = Vec::new();
    for path in corpus
        .iter()
        .chain(files(&directory("regressions", target)).iter())
    {
        // A fuzzer running at the same time removes inputs it has reduced.
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => panic!("{}: {error}", path.display()),
        };
        if catch_unwind(AssertUnwindSafe(|| entry(&data))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(failures.is_empty(), "{target} panicked on {failures:?}");
}

#[test]
fn smtp_corpus_replays() {
    replay("smtp", mailaudit::fuzz_api::smtp);
}

#[test]
fn imap_corpus_replays() {
    replay("imap", mailaudit::fuzz_api::imap);
}

#[test]
fn pop3_corpus_replays() {
    replay("pop3", mailaudit::fuzz_api::pop3);
}

#[test]
fn managesieve_corpus_replays() {
    replay("managesieve", mailaudit::fuzz_api::managesieve);
}

#[test]
fn sieve_script_corpus_replays() {
    replay("sieve_script", mailaudit::fuzz_api::sieve_script);
}

#[test]
fn mta_sts_corpus_replays() {
    replay("mta_sts", mailaudit::fuzz_api::mta_sts);
}

#[test]
fn spf_corpus_replays() {
    replay("spf", mailaudit::fuzz_api::spf);
}

#[test]
fn tag_records_corpus_replays() {
    replay("tag_records", mailaudit::fuzz_api::tag_records);
}

#[test]
fn client_config_corpus_replays() {
    replay("client_config", mailaudit::fuzz_api::client_config);
}

#[test]
fn tls_hello_corpus_replays() {
    replay("tls_hello", mailaudit::fuzz_api::tls_hello);
}

/// Every target in `tests/fuzz/Cargo.toml` is replayed here: a target added
/// there without a test above fails this.
#[test]
fn every_fuzz_target_is_replayed() {
    let manifest = std::fs::read_to_string(directory("", "").join("Cargo.toml"))
        .expect("tests/fuzz/Cargo.toml");
    let source = include_str!("fuzz_corpus.rs");
    let targets: Vec<&str> = manifest
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .filter(|name| *name != "mailaudit-fuzz")
        .collect();
    assert_eq!(targets.len(), 10, "{targets:?}");
    for target in targets {
        assert!(
            source.contains(&format!("replay(\"{target}\"")),
            "fuzz target {target} has no replay test"
        );
    }
}

/// Given hostile sizes (an IMAP literal of 2^32 bytes, a 99-digit
/// GETSCRIPT size, a 100,000-byte line), when replayed, then they are refused
/// without allocating or panicking, and quickly.
#[test]
fn hostile_sizes_are_refused_quickly() {
    let started = std::time::Instant::now();
    mailaudit::fuzz_api::imap(b"* OK\r\n* CAPABILITY {4294967295}\r\na1 OK\r\n");
    mailaudit::fuzz_api::managesieve(format!("{{{}}}\r\n", "9".repeat(99)).as_bytes());
    mailaudit::fuzz_api::smtp(&vec![b'2'; 100_000]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
