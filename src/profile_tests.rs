//! Tests of `profile.rs`.

use super::*;

#[test]
fn the_example_profile_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mailaudit.example.toml");
    let profile = AuditProfile::load(&path).expect("the example is valid");
    assert!(profile.declared);
    assert_eq!(profile.provider.avv, Some(true));
    assert_eq!(profile.retention.holds.len(), 2);
    assert_eq!(profile.retention.folder_periods["Rechnungen"], "voucher");
    // The second hold covers its folder only.
    assert_eq!(profile.retention_in("INBOX", "INBOX").holds.len(), 1);
    assert_eq!(
        profile
            .retention_in("Rechtsstreit", "Rechtsstreit")
            .holds
            .len(),
        2
    );
}

#[test]
fn a_period_the_class_file_does_not_know_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(
        &path,
        "[retention]\nfolder_periods = { Rechnungen = \"beleg\" }\n",
    )
    .unwrap();
    let error = AuditProfile::load(&path).unwrap_err().to_string();
    assert!(error.contains("\"Rechnungen\" = \"beleg\""), "{error}");
    assert!(
        error.contains("books, voucher, handelsbrief, no_statutory_period"),
        "{error}"
    );
    std::fs::write(&path, "[retention]\nunclassified_period = \"forever\"\n").unwrap();
    let error = AuditProfile::load(&path).unwrap_err().to_string();
    assert!(error.contains("unclassified_period"), "{error}");
}

#[test]
fn unknown_keys_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, "[archive]\ngobd_archiv = true\n").unwrap();
    let error = AuditProfile::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("p.toml") && error.contains("gobd_archiv"),
        "{error}"
    );
}

#[test]
fn acceptances_hold_until_their_date_and_only_for_failures() {
    let mut profile = AuditProfile::default();
    profile.accepted.push(AcceptedFinding {
        rule: "DNS-003".into(),
        subject: None,
        reason: "DANE planned for Q2".into(),
        until: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
    });
    let finding = |status| Finding {
        rule: "DNS-003".into(),
        subject: "mx.example.org:25".into(),
        status,
        severity: crate::finding::Severity::Medium,
        area: "dns".into(),
        title: String::new(),
        detail: String::new(),
        references: vec![],
        citations: vec![],
        remediation: String::new(),
        change: None,
        accepted: None,
    };
    let mut findings = vec![finding(Status::Fail), finding(Status::Pass)];
    profile.accept(
        &mut findings,
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
    );
    assert_eq!(
        findings[0].accepted.as_ref().unwrap().reason,
        "DANE planned for Q2"
    );
    assert!(findings[1].accepted.is_none());
    profile.accept(&mut findings, NaiveDate::from_ymd_opt(2027, 4, 1).unwrap());
    assert!(findings[0].accepted.is_none(), "expired");
}

#[test]
fn the_logo_is_embedded_and_the_colour_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("logo.svg"),
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
    )
    .unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(
        &path,
        "[branding]\nlogo = \"logo.svg\"\ncolour = \"#0b5394\"\n",
    )
    .unwrap();
    let profile = AuditProfile::load(&path).unwrap();
    assert!(
        profile
            .branding
            .logo_data_uri
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    std::fs::write(&path, "[branding]\ncolour = \"blue\"\n").unwrap();
    assert!(
        AuditProfile::load(&path)
            .unwrap_err()
            .to_string()
            .contains("#rrggbb")
    );
    std::fs::write(&path, "[branding]\nlogo = \"missing.png\"\n").unwrap();
    assert!(
        AuditProfile::load(&path)
            .unwrap_err()
            .to_string()
            .contains("missing.png")
    );
}

#[test]
fn the_audit_interval_becomes_days_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, "[audit]\ninterval = \"quarterly\"\n").unwrap();
    assert_eq!(
        AuditProfile::load(&path).unwrap().audit.interval_days,
        Some(92)
    );
    std::fs::write(&path, "[audit]\ninterval = \"45 days\"\n").unwrap();
    assert_eq!(
        AuditProfile::load(&path).unwrap().audit.interval_days,
        Some(45)
    );
    std::fs::write(
        &path,
        "[audit]\ninterval = \"yearly\"\ndomains = [\"Example.ORG.\"]\n",
    )
    .unwrap();
    assert_eq!(
        AuditProfile::load(&path).unwrap().audit.domains,
        ["example.org"]
    );
    std::fs::write(&path, "[audit]\ninterval = \"fortnightly\"\n").unwrap();
    let error = AuditProfile::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("fortnightly") && error.contains("p.toml"),
        "{error}"
    );
}

#[test]
fn defaults_declare_nothing() {
    let profile = AuditProfile::default();
    assert!(!profile.declared && !profile.archive.gobd_archive);
    assert_eq!(profile.provider.avv, None);
}
