//! Tests of `credentials.rs`.

use super::*;

#[test]
fn mailbox_specs_parse() {
    assert_eq!(
        parse_mailbox("alice@good.test").unwrap(),
        MailboxSpec {
            user: "alice@good.test".into(),
            host: None,
            port: None,
            tls: None,
        }
    );
    let spec = parse_mailbox("alice@good.test@IMAP.good.test:993").unwrap();
    assert_eq!(spec.host.as_deref(), Some("imap.good.test"));
    assert_eq!(spec.port, Some(993));
    assert_eq!(spec.user_domain().as_deref(), Some("good.test"));
    assert_eq!(parse_mailbox("bob").unwrap().user_domain(), None);
    for bad in [
        "",
        "a b@c",
        "@x",
        "a@b@c@d",
        "a@b@",
        "a@b@h:99999",
        "imaps://host",
        "imaps://@host",
        "imaps://a%4@host",
        "imaps://a@host/INBOX",
        "imaps://a@host:0",
        "pop3s://a@host",
    ] {
        assert!(parse_mailbox(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_url_form_names_user_and_server_unambiguously() {
    // Given the user carol@mixed.test on the server cyrus.mixed.test
    let spec = parse_mailbox("imaps://carol%40mixed.test@Cyrus.Mixed.Test.:9993").unwrap();
    assert_eq!(spec.user, "carol@mixed.test");
    assert_eq!(spec.host.as_deref(), Some("cyrus.mixed.test"));
    assert_eq!(
        (spec.imap_tls(), spec.imap_port()),
        (ImapTls::Implicit, 9993)
    );
    // A user without @ on a server, and STARTTLS by the scheme
    let spec = parse_mailbox("imap://carol@cyrus.mixed.test").unwrap();
    assert_eq!(spec.user, "carol");
    assert_eq!(spec.host.as_deref(), Some("cyrus.mixed.test"));
    assert_eq!(
        (spec.imap_tls(), spec.imap_port()),
        (ImapTls::Starttls, 143)
    );
    // The old three-part form still decides TLS by the port
    let spec = parse_mailbox("a@b@h:143").unwrap();
    assert_eq!(
        (spec.imap_tls(), spec.imap_port()),
        (ImapTls::Starttls, 143)
    );
    assert_eq!(parse_mailbox("a@b@h").unwrap().imap_port(), 993);
}

#[test]
fn a_password_in_the_url_is_refused_without_echoing_it() {
    let error = parse_mailbox("imaps://carol:hunter2@host").unwrap_err();
    assert!(matches!(error, CredentialError::PasswordInUrl));
    assert!(!error.to_string().contains("hunter2"));
}

#[test]
fn user_at_an_unscanned_domain_is_ambiguous_and_the_error_shows_both_urls() {
    let domains = vec!["mixed.test".to_string()];
    let text = "carol@cyrus.mixed.test";
    let error = parse_mailbox(text)
        .unwrap()
        .check_unambiguous(text, &domains)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("imaps://carol%40cyrus.mixed.test@HOST"),
        "{error}"
    );
    assert!(error.contains("imaps://carol@cyrus.mixed.test"), "{error}");
    // Unambiguous: the user's domain is scanned, no domain at all, a
    // named server, or the URL form
    for text in [
        "carol@MIXED.test",
        "carol",
        "carol@cyrus.mixed.test@cyrus.mixed.test",
        "imaps://carol%40cyrus.mixed.test@mail.mixed.test",
    ] {
        let spec = parse_mailbox(text).unwrap();
        assert!(spec.check_unambiguous(text, &domains).is_ok(), "{text}");
    }
}

#[test]
fn a_mailbox_list_skips_blank_lines_and_comments() {
    let list = mailbox_list("# staff\nuser01@org.test\n\n  user02@org.test  \r\n#x\n");
    assert_eq!(list, ["user01@org.test", "user02@org.test"]);
}

#[test]
fn an_admin_password_is_read_once_for_every_mailbox() {
    let path = std::env::temp_dir().join(format!("mailaudit-admin-{}.pw", std::process::id()));
    std::fs::write(&path, "user01@org.test:not-this\nauditor:master-pw\n").unwrap();
    let specs = vec![
        parse_mailbox("user01@org.test").unwrap(),
        parse_mailbox("user02@org.test").unwrap(),
    ];
    let logins =
        read_passwords(specs, &PasswordSource::File(path.clone()), Some("auditor")).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(logins.len(), 2);
    for login in &logins {
        assert_eq!(login.admin.as_deref(), Some("auditor"));
        assert_eq!(login.password.expose(), "master-pw");
    }
    assert_eq!(logins[1].spec.user, "user02@org.test");
}

#[test]
fn password_files_hold_one_or_per_user_lines() {
    assert_eq!(from_file("s3cret\n", "a@b").unwrap().expose(), "s3cret");
    let text = "a@b:one:two\nc@d:three\n";
    assert_eq!(from_file(text, "a@b").unwrap().expose(), "one:two");
    assert_eq!(from_file(text, "c@d").unwrap().expose(), "three");
    assert!(from_file(text, "e@f").is_none());
    assert!(
        from_file("c@d:three\n", "a@b").is_none(),
        "another user's line"
    );
    assert_eq!(from_file("pa:ss\n", "a@b").unwrap().expose(), "pa:ss");
}

#[test]
fn a_password_never_prints() {
    let login = MailboxLogin {
        admin: None,
        spec: parse_mailbox("a@b").unwrap(),
        password: Password::new("hunter2".into()),
    };
    assert!(!format!("{login:?}").contains("hunter2"));
    assert!(format!("{login:?}").contains("‹redacted›"));
}
