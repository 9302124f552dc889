//! The classifier against the default class file: one test per class, German
//! and English file names, encoded names, priorities and malformed input.

use super::*;

fn classes() -> ClassFile {
    ClassFile::defaults().expect("the default class file loads")
}

/// A message with `headers` and the BODYSTRUCTURE `structure`.
fn message(headers: &[(&str, &str)], structure: &str) -> MessageMeta {
    MessageMeta {
        uid: Some(1),
        internal_date: None,
        size: Some(1000),
        headers: Headers::from_pairs(headers.iter().copied()),
        body: bodystructure::parse(structure.as_bytes()),
        embedded_files: Vec::new(),
    }
}

/// A text/plain message with one attachment of `mime` named `name`
/// (`name` goes into the disposition's filename parameter as written, so it
/// may use RFC 2231 via `filename*`).
fn with_attachment(mime: &str, parameter: &str, name: &str) -> MessageMeta {
    let (media, subtype) = mime.split_once('/').unwrap();
    // A text part carries its line count before the extension data.
    let lines = if media == "text" { " 30" } else { "" };
    message(
        &[],
        &format!(
            r#"(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)("{media}" "{subtype}" NIL NIL NIL "base64" 2048{lines} NIL ("attachment" ("{parameter}" "{name}")) NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL)"#
        ),
    )
}

fn class_of(message: &MessageMeta) -> String {
    classify(message, &classes()).class
}

const PLAIN: &str = r#"("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)"#;

#[test]
fn xrechnung_ubl_and_cii_xml_are_e_invoices() {
    for (mime, name) in [
        ("application/xml", "xrechnung_RE-2024-0042.xml"),
        ("text/xml", "RE-2024-0042-ubl.xml"),
        ("application/xml", "factur-x.xml"),
        ("application/xml", "Rechnung_CII.xml"),
        ("application/octet-stream", "XRechnung-4711.xml"),
        ("application/pdf", "ZUGFeRD_Rechnung_17.pdf"),
    ] {
        let message = with_attachment(mime, "filename", name);
        let result = classify(&message, &classes());
        assert_eq!(result.class, "e_invoice", "{mime} {name}");
        let Reason::Matched { evidence, .. } = &result.reason else {
            panic!("{:?}", result.reason)
        };
        assert!(evidence.starts_with("part 2 "), "{evidence}");
        assert!(
            !evidence.contains(name),
            "the reason must not quote the file name: {evidence}"
        );
    }
}

#[test]
fn an_xml_that_is_no_invoice_is_not_an_e_invoice() {
    assert_eq!(
        class_of(&with_attachment(
            "application/xml",
            "filename",
            "sitemap.xml"
        )),
        "unclassified"
    );
}

#[test]
fn a_pdf_with_an_embedded_factur_x_is_an_e_invoice_only_after_the_deep_check() {
    let mut message = with_attachment("application/pdf", "filename", "Rechnung_2024-0042.pdf");
    assert_eq!(class_of(&message), "likely_invoice");
    message.embedded_files = vec![("2".into(), "factur-x.xml".into())];
    let result = classify(&message, &classes());
    assert_eq!(result.class, "e_invoice");
    assert_eq!(
        result.reason,
        Reason::Matched {
            alternative: 4,
            evidence: "part 2 application/pdf, embeds a file matching 'factur-x.xml'".into()
        }
    );
    // An embedded file of another part does not count.
    message.embedded_files = vec![("1".into(), "factur-x.xml".into())];
    assert_eq!(class_of(&message), "likely_invoice");
}

#[test]
fn invoice_pdfs_in_german_and_english_are_likely_invoices() {
    for name in [
        "Rechnung_2024-0042.pdf",
        "Ihre RECHNUNG vom 3.2.pdf",
        "Gutschrift 17.pdf",
        "Beleg-Nr-0815.pdf",
        "Quittung.pdf",
        "Invoice INV-2024-17.pdf",
        "credit-note-42.pdf",
        "Receipt_2023.PDF",
    ] {
        assert_eq!(
            class_of(&with_attachment("application/pdf", "filename", name)),
            "likely_invoice",
            "{name}"
        );
    }
    // The catch-all type with a .pdf name, as some mailers send it.
    assert_eq!(
        class_of(&with_attachment(
            "application/octet-stream",
            "filename",
            "Rechnung.pdf"
        )),
        "likely_invoice"
    );
    // Other PDFs, and invoice names that are not PDFs, are not.
    assert_eq!(
        class_of(&with_attachment(
            "application/pdf",
            "filename",
            "Angebot_2024.pdf"
        )),
        "unclassified"
    );
    assert_eq!(
        class_of(&with_attachment("image/png", "filename", "Rechnung.png")),
        "unclassified"
    );
}

#[test]
fn encoded_file_names_are_decoded_before_matching() {
    // RFC 2231: "Rechnung März.pdf"
    let rfc2231 = with_attachment(
        "application/pdf",
        "filename*",
        "utf-8''Rechnung%20M%C3%A4rz.pdf",
    );
    assert_eq!(class_of(&rfc2231), "likely_invoice");
    // RFC 2047 in a filename parameter: "Gutschrift_für_März.pdf"
    let rfc2047 = with_attachment(
        "application/pdf",
        "filename",
        "=?UTF-8?Q?Gutschrift=5Ff=C3=BCr=5FM=C3=A4rz.pdf?=",
    );
    assert_eq!(class_of(&rfc2047), "likely_invoice");
    // An encoded word that hides the name from a naive match.
    let base64 = with_attachment(
        "application/pdf",
        "filename",
        "=?UTF-8?B?SW52b2ljZV8yMDI0LnBkZg==?=",
    );
    assert_eq!(class_of(&base64), "likely_invoice");
}

#[test]
fn newsletters_are_bulk() {
    for headers in [
        vec![("List-Id", "Lab News <news.lab.example>")],
        vec![("List-Unsubscribe", "<mailto:leave@news.lab.example>")],
        vec![("Precedence", "bulk")],
        vec![("Precedence", " List ")],
    ] {
        let result = classify(&message(&headers, PLAIN), &classes());
        assert_eq!(result.class, "bulk", "{headers:?}");
    }
    assert_eq!(
        class_of(&message(&[("Precedence", "first-class")], PLAIN)),
        "unclassified"
    );
}

#[test]
fn auto_submitted_and_reports_are_automatic() {
    let result = classify(
        &message(&[("Auto-Submitted", "auto-replied")], PLAIN),
        &classes(),
    );
    assert_eq!(result.class, "automatic");
    assert_eq!(
        result.reason,
        Reason::Matched {
            alternative: 1,
            evidence: "header auto-submitted matches 'auto-*'".into()
        }
    );
    assert_eq!(
        class_of(&message(&[("Auto-Submitted", "no")], PLAIN)),
        "unclassified"
    );
    let report = r#"(("text" "plain" NIL NIL NIL "7bit" 10 1)("message" "delivery-status" NIL NIL NIL "7bit" 200)("text" "rfc822-headers" NIL NIL NIL "7bit" 300 8) "report" ("report-type" "delivery-status" "boundary" "r"))"#;
    assert_eq!(class_of(&message(&[], report)), "automatic");
    let read_receipt = r#"(("text" "plain" NIL NIL NIL "7bit" 10 1)("message" "disposition-notification" NIL NIL NIL "7bit" 200) "report" ("report-type" "disposition-notification"))"#;
    assert_eq!(class_of(&message(&[], read_receipt)), "automatic");
}

#[test]
fn calendar_invitations_are_calendar() {
    let invitation = r#"(("text" "plain" NIL NIL NIL "7bit" 10 1)("text" "calendar" ("charset" "utf-8" "method" "REQUEST") NIL NIL "7bit" 800 20) "alternative" ("boundary" "c"))"#;
    assert_eq!(class_of(&message(&[], invitation)), "calendar");
    assert_eq!(
        class_of(&with_attachment(
            "application/octet-stream",
            "filename",
            "termin.ics"
        )),
        "calendar"
    );
}

#[test]
fn everything_else_is_unclassified_with_no_match() {
    let result = classify(
        &message(&[("Message-ID", "<1@lab.example>")], PLAIN),
        &classes(),
    );
    assert_eq!(result.class, "unclassified");
    assert_eq!(result.reason, Reason::NoMatch);
    assert_eq!(result.reason.kind(), "no_match");
}

#[test]
fn priority_keeps_the_longer_period() {
    // A billing robot's invoice: Auto-Submitted and List-Unsubscribe, but an
    // invoice PDF. It stays an invoice (8 years), not automatic or bulk.
    let mut robot = with_attachment("application/pdf", "filename", "Invoice_2025-001.pdf");
    robot.headers = Headers::from_pairs([
        ("Auto-Submitted", "auto-generated"),
        ("List-Unsubscribe", "<mailto:x@lab.example>"),
    ]);
    assert_eq!(class_of(&robot), "likely_invoice");
    // A newsletter that is Auto-Submitted counts as automatic (listed first).
    let both = message(
        &[("Auto-Submitted", "auto-generated"), ("List-Id", "<l>")],
        PLAIN,
    );
    assert_eq!(class_of(&both), "automatic");
}

#[test]
fn a_malformed_bodystructure_is_unclassified_with_its_reason() {
    for broken in [
        r#"("text" "plain")"#,
        "((",
        "",
        r#"(("text" "plain" NIL NIL NIL "7bit" 1 1))"#,
    ] {
        // Even a newsletter header does not rescue it: the structure is
        // unknown, so the cautious class applies.
        let result = classify(&message(&[("List-Id", "<l>")], broken), &classes());
        assert_eq!(result.class, "unclassified", "{broken}");
        assert_eq!(result.reason.kind(), "malformed_bodystructure", "{broken}");
    }
}

#[test]
fn the_header_list_covers_every_header_a_class_file_names() {
    let fields = header_fields(&classes());
    assert_eq!(&fields[..6], HEADER_FIELDS.map(String::from).as_slice());
    assert_eq!(
        fields.len(),
        6,
        "the default file needs no other header: {fields:?}"
    );
    let custom = ClassFile::parse(
        "custom.toml",
        &class_file::DEFAULT_CLASS_FILE.replacen(
            "header = \"List-Id\"",
            "header = \"X-Campaign-Id\"",
            1,
        ),
    )
    .unwrap();
    assert!(header_fields(&custom).contains(&"x-campaign-id".to_string()));
}

#[test]
fn a_folder_full_of_mixed_mail_is_counted_per_class() {
    // The shape a probe produces: many messages, one pass, counts by class.
    let classes = classes();
    let messages = [
        with_attachment("application/xml", "filename", "xrechnung.xml"),
        with_attachment("application/pdf", "filename", "Rechnung.pdf"),
        message(&[("List-Id", "<l>")], PLAIN),
        message(&[("Auto-Submitted", "auto-notified")], PLAIN),
        message(&[], PLAIN),
        message(&[], "(("),
    ];
    let mut counts = std::collections::BTreeMap::new();
    for message in &messages {
        *counts.entry(classify(message, &classes).class).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<String, i32> = [
        ("automatic", 1),
        ("bulk", 1),
        ("e_invoice", 1),
        ("likely_invoice", 1),
        ("unclassified", 2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(counts, expected);
}
