//! The command line as a user meets it: help, input errors and exit codes.
//! None of these tests needs the network.

mod common;

use common::mailaudit;
use predicates::prelude::*;

#[test]
fn help_teaches_flags_examples_and_exit_codes() {
    mailaudit()
        .args(["scan", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--resolver"))
        .stdout(predicate::str::contains("--ca-file"))
        .stdout(predicate::str::contains(
            "mailaudit scan example.org --out report/",
        ))
        .stdout(predicate::str::contains("Exit codes"));
    mailaudit()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("3  the scan could not run"));
}

#[test]
fn bad_input_exits_with_2_and_names_the_input() {
    mailaudit()
        .args(["scan", "exa mple.org"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "'exa mple.org' is not a valid domain name",
        ));
    mailaudit()
        .args(["scan", "example.org", "--host", "mail.example.org:8080"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name the protocol"));
    mailaudit()
        .args([
            "scan",
            "example.org",
            "--ca-file",
            "/nonexistent/ca.pem",
            "--out",
            "-",
            "--format",
            "json",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/ca.pem"));
    mailaudit()
        .args(["scan", "example.org", "--out", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("exactly one format"));
    mailaudit()
        .args(["scan", "example.org", "--resolver", "not-an-ip"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--resolver"));
    mailaudit().args(["scan"]).assert().code(2);
    // --rdap-bootstrap is an http(s) URL; these fail before any network use.
    for bad in ["ftp://rdap.example/", "not a url", "https://", "/rdap/"] {
        mailaudit()
            .args(["scan", "example.org", "--rdap-bootstrap", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--rdap-bootstrap"));
    }
    mailaudit()
        .args(["scan", "example.org", "--no-location", "--rdap-bootstrap"])
        .arg("https://127.0.0.1/")
        .assert()
        .code(2);
}

#[test]
fn a_malformed_anchor_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.txt");
    std::fs::write(&anchor, "; comment\ntest. IN DS 1 2\n").unwrap();
    mailaudit()
        .args([
            "scan",
            "example.org",
            "--format",
            "json",
            "--out",
            "-",
            "--dnssec-anchor",
        ])
        .arg(&anchor)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("anchor.txt:2:"));
}

#[test]
fn a_malformed_rule_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(common::repo("rules/TLS-001.toml")).unwrap();
    let text = original.replace(
        "applies = \"endpoint.port == 25 && endpoint.role == 'mx'\"",
        "applies = \"endpoint.port == \"",
    );
    assert_ne!(
        text, original,
        "TLS-001's applies line changed: update this test"
    );
    std::fs::write(dir.path().join("TLS-001.toml"), text).unwrap();
    mailaudit()
        .args(["rules", "list", "--rules"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("TLS-001.toml:"))
        .stderr(predicate::str::contains("CEL expression does not compile"));
    mailaudit()
        .args(["rules", "check"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("TLS-001.toml:"));
    mailaudit()
        .args(["rules", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("TLS-001"));
}

#[test]
fn rules_check_runs_the_examples_of_each_file() {
    // Given a copy of TLS-001 whose passing example is marked as failing
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo("rules/TLS-001.toml")).unwrap();
    std::fs::write(dir.path().join("TLS-001.toml"), &text).unwrap();
    mailaudit()
        .args(["rules", "check"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("1 rules"));
    let broken = text.replacen("expect = \"pass\"", "expect = \"fail\"", 1);
    assert_ne!(broken, text, "TLS-001 has a passing example");
    std::fs::write(dir.path().join("TLS-001.toml"), broken).unwrap();
    // Then check names the rule and the example that does not hold
    mailaudit()
        .args(["rules", "check"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("TLS-001 example"))
        .stderr(predicate::str::contains("expected fail, got pass"));
}

#[test]
fn rules_check_refuses_a_literal_an_enum_field_never_holds() {
    // Given GOV-002 comparing the country class with 'adequate' (issue 14)
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo("rules/GOV-002.toml")).unwrap();
    let broken = text.replace("'adequacy'", "'adequate'");
    assert_ne!(broken, text, "GOV-002 names the class 'adequacy'");
    std::fs::write(dir.path().join("GOV-002.toml"), &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("'adequate'"))
        .unwrap()
        + 1;
    // Then check names file:line and the values the schema allows
    mailaudit()
        .args(["rules", "check"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("GOV-002.toml:{line}:")))
        .stderr(predicate::str::contains(
            "'adequacy', 'eea', 'third-country'",
        ));
}

#[test]
fn rules_check_refuses_an_unknown_reference_and_a_vague_one_naming_file_and_line() {
    // Issue 14: a reference resolves to a catalogue entry with edition and
    // section, or `rules check` refuses it.
    let text = std::fs::read_to_string(common::repo("rules/RET-001.toml")).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("references = "))
        .unwrap()
        + 1;
    for (bad, why) in [
        ("\"hgb-257\"", "too vague"),
        (
            "\"HGB § 257(1) Nr. 3\"",
            "does not start with the id of an entry",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let broken = text.replace("\"hgb-257 Abs. 1 Nr. 3\"", bad);
        assert_ne!(broken, text, "RET-001 cites hgb-257 Abs. 1 Nr. 3");
        std::fs::write(dir.path().join("RET-001.toml"), &broken).unwrap();
        mailaudit()
            .args(["rules", "check"])
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("RET-001.toml:{line}:")))
            .stderr(predicate::str::contains(why));
    }
}

#[test]
fn no_dns_answer_for_any_target_exits_with_3() {
    let dir = tempfile::tempdir().unwrap();
    mailaudit()
        .args([
            "scan",
            "nothing.test",
            "--resolver",
            "127.0.0.1:9",
            "--timeout",
            "1",
            "--no-location",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("could not run"));
    // The evidence of why is still written.
    assert!(dir.path().join("report.json").exists());
}

/// Issue 16, defect 2: `USER@X` where X is no scanned domain may name the
/// user's domain or the server; it is refused with both unambiguous forms,
/// before any password is read or sent.
#[test]
fn an_ambiguous_mailbox_is_refused_with_both_readings() {
    mailaudit()
        .args([
            "scan",
            "mixed.test",
            "--mailbox",
            "carol@cyrus.mixed.test",
            "--password-env",
            "MAILAUDIT_UNSET_PW",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is ambiguous"))
        .stderr(predicate::str::contains(
            "imaps://carol%40cyrus.mixed.test@HOST",
        ))
        .stderr(predicate::str::contains("imaps://carol@cyrus.mixed.test"));
    mailaudit()
        .args([
            "scan",
            "mixed.test",
            "--mailbox",
            "imaps://carol:hunter2@cyrus.mixed.test",
            "--password-env",
            "MAILAUDIT_UNSET_PW",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "passwords never go on the command line",
        ))
        .stderr(predicate::str::contains("hunter2").not());
}
