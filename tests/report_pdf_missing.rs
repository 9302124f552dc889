//! A build without the `pdf` feature (`--no-default-features`) refuses
//! `--format pdf` up front with exit code 2 and says how to get it.

#![cfg(not(feature = "pdf"))]

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn format_pdf_without_the_feature_is_a_usage_error_naming_the_feature() {
    Command::cargo_bin("mailaudit")
        .unwrap()
        .args(["scan", "example.org", "--format", "html,pdf", "--out", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("built without the `pdf` feature"))
        .stderr(predicate::str::contains("rebuild"));
}
