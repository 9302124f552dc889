//! The class file loader: the default file, and every error with its line.

use super::*;

fn error(text: &str) -> String {
    ClassFile::parse("custom.toml", text)
        .unwrap_err()
        .to_string()
}

/// The default file with `from` replaced by `to`.
fn edited(from: &str, to: &str) -> String {
    assert!(DEFAULT_CLASS_FILE.contains(from), "{from}");
    DEFAULT_CLASS_FILE.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    line_at(text, text.find(needle).unwrap())
}

#[test]
fn the_default_file_loads_with_every_class_of_issue_12() {
    let file = ClassFile::defaults().unwrap();
    let ids: Vec<_> = file.classes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "e_invoice",
            "likely_invoice",
            "calendar",
            "automatic",
            "bulk",
            "unclassified"
        ]
    );
    assert_eq!(file.fallback, "unclassified");
    assert_eq!(
        file.legal_snapshot,
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    );
    let voucher = file.period_of("e_invoice").unwrap();
    assert_eq!(
        (voucher.years, voucher.financial_sector_years),
        (8, Some(10))
    );
    assert_eq!(
        voucher.before_beg_iv,
        Some((10, NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()))
    );
    assert!(voucher.reference.contains("§ 147"));
    assert_eq!(file.period_of("calendar").unwrap().years, 6);
    assert_eq!(file.period_of("bulk").unwrap().years, 1);
    assert!(
        file.period_of("bulk")
            .unwrap()
            .reference
            .contains("Art. 5 Abs. 1 lit. e DSGVO")
    );
    assert_eq!(file.period_of("unclassified").unwrap().years, 8);
}

#[test]
fn an_unknown_period_is_named_with_its_line() {
    let text = edited("period = \"handelsbrief\"", "period = \"handelsbriefe\"");
    let message = error(&text);
    let line = line_of(&text, "period = \"handelsbriefe\"");
    assert!(
        message.starts_with(&format!("custom.toml:{line}: ")),
        "{message}"
    );
    assert!(
        message.contains("'handelsbriefe'") && message.contains("defined: books"),
        "{message}"
    );
}

#[test]
fn syntax_errors_and_unknown_keys_carry_the_line() {
    let text = edited("id = \"calendar\"", "id = \"calendar\"\nkolour = 3");
    let message = error(&text);
    let line = line_of(&text, "kolour");
    assert!(
        message.starts_with(&format!("custom.toml:{line}: ")),
        "{message}"
    );
    assert!(message.contains("kolour"), "{message}");
    let broken = error("schema = 1\nfallback = \"x\n");
    assert!(broken.starts_with("custom.toml:2: "), "{broken}");
}

#[test]
fn bad_patterns_headers_and_types_are_refused() {
    let cases = [
        (
            "part_type = [\"text/calendar\", \"application/ics\"]",
            "part_type = [\"calendar\"]",
            "not a MIME type",
        ),
        (
            "header = \"List-Id\"",
            "header = \"List Id\"",
            "not a header field name",
        ),
        (
            "value = [\"bulk\", \"list\", \"junk\"]",
            "value = [\"bulk\", \"\"]",
            "empty pattern",
        ),
        ("header = \"Auto-Submitted\"\n", "", "needs a header"),
    ];
    for (from, to, expected) in cases {
        let message = error(&edited(from, to));
        assert!(message.contains(expected), "{from}: {message}");
        assert!(message.starts_with("custom.toml:"), "{message}");
    }
}

#[test]
fn the_fallback_must_exist_and_take_what_nothing_else_matches() {
    let message = error(&edited(
        "fallback = \"unclassified\"",
        "fallback = \"other\"",
    ));
    assert!(message.contains("fallback 'other'"), "{message}");
    let with_condition = format!("{DEFAULT_CLASS_FILE}\n  [[class.when]]\n  header = \"X-Spam\"\n");
    assert!(error(&with_condition).contains("must have no [[class.when]]"));
    let duplicate = edited("id = \"calendar\"", "id = \"bulk\"");
    assert!(error(&duplicate).contains("'bulk' is defined twice"));
    let schema = error(&edited("schema = 1", "schema = 2"));
    assert!(schema.contains("schema 2 is unknown"), "{schema}");
}

#[test]
fn periods_are_checked() {
    let message = error(&edited("years = 6", "years = 60"));
    assert!(message.contains("at most 30"), "{message}");
    let message = error(&edited("beg_iv_in_force = \"2025-01-01\"", ""));
    assert!(message.contains("go together"), "{message}");
    let message = error(&edited("[periods.books]", "[periods.buecher]"));
    assert!(message.contains("unknown period 'buecher'"), "{message}");
}

#[test]
fn the_periods_agree_with_the_retention_engine() {
    // The file is what a data-protection officer reads; the engine is what
    // computes deadlines. Until the engine reads its periods from here
    // (issue 12), they must not drift apart.
    use crate::retention::{RetentionClass, RetentionProfile, deadline};
    let file = ClassFile::defaults().unwrap();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let (scan, mail) = (day(2026, 12, 1), day(2020, 3, 5));
    let plain = RetentionProfile::default();
    let financial = RetentionProfile {
        financial_sector: true,
        ..RetentionProfile::default()
    };
    let years =
        |class, profile: &RetentionProfile| deadline(class, mail, profile, scan).period_years;
    let voucher = &file.periods["voucher"];
    assert_eq!(years(RetentionClass::Voucher, &plain), voucher.years as i32);
    assert_eq!(
        Some(years(RetentionClass::Voucher, &financial) as u32),
        voucher.financial_sector_years
    );
    let (old_years, in_force) = voucher.before_beg_iv.unwrap();
    assert_eq!(in_force, crate::retention::beg_iv_in_force());
    assert_eq!(
        deadline(RetentionClass::Voucher, mail, &plain, day(2024, 6, 1)).period_years,
        old_years as i32
    );
    assert_eq!(
        years(RetentionClass::Unclassified, &plain),
        file.period_of("unclassified").unwrap().years as i32
    );
    assert_eq!(
        years(RetentionClass::HandelsbriefIn, &plain),
        file.periods["handelsbrief"].years as i32
    );
    assert_eq!(
        years(RetentionClass::Books, &plain),
        file.periods["books"].years as i32
    );
}
