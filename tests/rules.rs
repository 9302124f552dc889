//! The rule set's own tests: IDs match the catalogue, references are well
//! formed, every rule has failing and passing fixtures and they all hold,
//! and malformed rule files are refused with file, line and reason.

use chrono::{DateTime, Utc};
use mailaudit::Language;
use mailaudit::rules::{self, Rule};
use std::collections::{BTreeMap, HashMap};

fn catalogue() -> HashMap<String, String> {
    include_str!("fixtures/catalogue.tsv")
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(id, title)| (id.to_string(), title.to_string()))
        .collect()
}

fn default_rules() -> Vec<Rule> {
    rules::defaults().expect("the embedded rules load")
}

#[test]
fn rule_ids_are_unique_and_in_the_catalogue_with_its_title() {
    let catalogue = catalogue();
    let rules = default_rules();
    let mut seen = std::collections::HashSet::new();
    for rule in &rules {
        assert!(seen.insert(rule.id.clone()), "duplicate rule {}", rule.id);
        let title = catalogue
            .get(&rule.id)
            .unwrap_or_else(|| panic!("{} is not in the catalogue", rule.id));
        assert_eq!(
            &rule.title.en, title,
            "{}: English title differs from the catalogue",
            rule.id
        );
        assert!(
            !rule.title.de.is_empty()
                && !rule.remediation.de.is_empty()
                && !rule.remediation.en.is_empty()
        );
    }
}

#[test]
fn the_rules_this_release_promises_are_present() {
    let ids: Vec<String> = default_rules().into_iter().map(|r| r.id).collect();
    for id in [
        "TLS-001", "TLS-002", "TLS-005", "CRT-001", "CRT-002", "CRT-003", "CRT-004", "CRT-005",
        "ACC-001", "ACC-003", "ACC-004", "DNS-001", "DNS-002", "DNS-003", "DNS-004", "DNS-010",
        "DNS-011", "E2E-001", "LOC-001", "TLS-003", "TLS-004", "TLS-006", "TLS-007", "TLS-008",
        "TLS-009", "TLS-010", "TLS-011", "TLS-012",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} is missing");
    }
}

#[test]
fn every_reference_is_well_formed() {
    for rule in default_rules() {
        for reference in &rule.references {
            assert_eq!(
                rules::file::reference_problem(reference),
                None,
                "{}",
                rule.id
            );
        }
    }
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture_and_all_fixtures_hold() {
    let default_now: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
    for rule in default_rules() {
        let expectations: Vec<&str> = rule.examples.iter().map(|e| e.expect.as_str()).collect();
        assert!(
            expectations.contains(&"fail"),
            "{} has no failing example",
            rule.id
        );
        assert!(
            expectations.contains(&"pass"),
            "{} has no passing example",
            rule.id
        );
        for (index, example) in rule.examples.iter().enumerate() {
            let variables: BTreeMap<String, serde_json::Value> = example
                .variables
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap()))
                .collect();
            let now = example
                .now
                .as_deref()
                .map(|n| n.parse().unwrap())
                .unwrap_or(default_now);
            for language in [Language::De, Language::En] {
                let verdict = rules::evaluate_rule(&rule, &variables, now, language);
                assert_eq!(
                    verdict.status.to_string(),
                    example.expect,
                    "{} example {}: {}",
                    rule.id,
                    index + 1,
                    verdict.detail
                );
                if let Some(severity) = &example.severity {
                    assert_eq!(
                        &verdict.severity.to_string(),
                        severity,
                        "{} example {}",
                        rule.id,
                        index + 1
                    );
                }
                assert!(
                    !verdict.detail.contains("‹unavailable›"),
                    "{}: a placeholder could not be rendered in '{}'",
                    rule.id,
                    verdict.detail
                );
            }
        }
    }
}

#[test]
fn a_malformed_rule_file_names_file_line_and_reason() {
    let text = "id = \"TLS-001\"\narea = \"transport\"\nsubject = \"endpoint\"\nseverity = \"critical\"\nreferences = [\"RFC 3207\"]\ntitle = { de = \"a\", en = \"b\" }\nremediation = { de = \"a\", en = \"b\" }\npass = { de = \"a\", en = \"b\" }\n\n[[fail]]\nwhen = \"endpoint.port == && 1\"\ndetail = { de = \"a\", en = \"b\" }\n";
    let error = rules::parse("custom/TLS-001.toml", text)
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("custom/TLS-001.toml:11:"), "{error}");
    assert!(error.contains("CEL"), "{error}");

    let error = rules::parse("custom/TLS-001.toml", "id = \"TLS-001\"\narea = 3\n")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("custom/TLS-001.toml:2:"), "{error}");

    let unclosed = text.replace("== && 1", "== 1").replace(
        "detail = { de = \"a\"",
        "detail = { de = \"a {{ endpoint.port\"",
    );
    let error = rules::parse("custom/TLS-001.toml", &unclosed)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("custom/TLS-001.toml:12:") && error.contains("without"),
        "{error}"
    );

    let no_severity = format!(
        "{}\n[[adjust]]\nwhen = \"endpoint.port == 25\"\ndetail = {{ de = \"a\", en = \"b\" }}\n",
        text.replace("== && 1", "== 1")
    );
    let error = rules::parse("custom/TLS-001.toml", &no_severity)
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs a severity"), "{error}");

    let reserved = text.replace("== && 1", "== 1").replace(
        "\n[[fail]]",
        "\n[[bind]]\nname = \"endpoint\"\nvalue = \"1\"\n\n[[fail]]",
    );
    let error = rules::parse("custom/TLS-001.toml", &reserved)
        .unwrap_err()
        .to_string();
    assert!(error.contains("binding name 'endpoint'"), "{error}");

    let bad_reference = text
        .replace("RFC 3207", "Some blog")
        .replace("== && 1", "== 1");
    let error = rules::parse("custom/TLS-001.toml", &bad_reference)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(":5:") && error.contains("Some blog"),
        "{error}"
    );
}

#[test]
fn every_shipped_rule_compares_enum_fields_only_with_values_the_schema_allows() {
    // Issue 14: GOV-002 compared the country class with 'adequate', a value
    // the evidence never holds, so adequacy countries never needed a basis.
    let schema = mailaudit::report::schema::generate();
    let index = rules::SchemaIndex::new(&schema);
    let problems: Vec<String> = default_rules()
        .iter()
        .flat_map(|rule| rules::literal_problems(rule, &index))
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_technical_guideline_reference_without_its_edition_is_refused_with_file_and_line() {
    // Issue 14: a TR is revised every year and judged by edition, so a
    // reference must say which edition the rule implements.
    let text = |reference: &str| {
        format!(
            "# Judged under BSI TR-02102-2.\nid = \"TLS-005\"\narea = \"transport\"\nsubject = \"endpoint\"\nseverity = \"low\"\nreferences = [\"RFC 8446\", \"{reference}\"]\ntitle = {{ de = \"a\", en = \"b\" }}\nremediation = {{ de = \"a\", en = \"b\" }}\npass = {{ de = \"a\", en = \"b\" }}\n\n[[fail]]\nwhen = \"endpoint.port == 25\"\ndetail = {{ de = \"a\", en = \"b\" }}\n"
        )
    };
    for bare in [
        "BSI TR-02102-2",
        "BSI TR-02102-1",
        "BSI TR-03108-1",
        "BSI TR-02102-2 ()",
    ] {
        let error = rules::parse("custom/TLS-005.toml", &text(bare))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("custom/TLS-005.toml:6: "), "{error}");
        assert!(error.contains("edition"), "{error}");
    }
    for cited in [
        "BSI TR-02102-2 (2026-01)",
        "BSI TR-02102-1 (2026)",
        "BSI TR-03108-1 (version 2)",
    ] {
        assert!(
            rules::parse("custom/TLS-005.toml", &text(cited)).is_ok(),
            "{cited}"
        );
    }
}

#[test]
fn an_unreadable_acl_leaves_ret_006_inconclusive_with_the_servers_reason() {
    // Issue 14: a folder whose ACL cannot be read was a failure (info);
    // missing evidence is inconclusive, never failed or passed.
    let rule = default_rules()
        .into_iter()
        .find(|r| r.id == "RET-006")
        .expect("RET-006 ships");
    let variables = BTreeMap::from([(
        "mailbox".to_string(),
        serde_json::json!({
            "user": "bob@example.org",
            "folders": {"status": "completed", "value": [
                {"display_name": "INBOX", "acl": {"status": "completed", "value": [
                    {"identifier": "bob@example.org", "rights": "lrwstipekxacd"}
                ]}},
                {"display_name": "Projekte", "acl": {"status": "failed", "reason": "NO [NOPERM] GETACL refused"}}
            ]}
        }),
    )]);
    let now: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
    let verdict = rules::evaluate_rule(&rule, &variables, now, Language::En);
    assert_eq!(
        verdict.status.to_string(),
        "inconclusive",
        "{}",
        verdict.detail
    );
    assert!(
        verdict
            .detail
            .contains("Projekte (NO [NOPERM] GETACL refused)"),
        "{}",
        verdict.detail
    );
}

/// Issue 18: DNS-002 says why a zone is bogus, in both languages, from the
/// cause the DNSSEC probe read from the records.
#[test]
fn dns_002_names_why_the_zone_is_bogus_in_german_and_english() {
    let rule = default_rules()
        .into_iter()
        .find(|r| r.id == "DNS-002")
        .expect("DNS-002");
    let bogus = |cause: serde_json::Value| {
        serde_json::json!({"dnssec": {"validation": {"status": "completed", "value": {}}, "rrsets": [
            {"name": "example.org", "record_type": "MX", "role": "domain", "lookup": {"status": "completed",
             "value": {"security": "bogus", "records": 0, "nxdomain": false, "reason": "DNSSEC validation failed", "bogus_cause": cause}}}
        ]}})
    };
    let now: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
    let cases = [
        (
            serde_json::json!({"kind": "signature_expired", "zone": "example.org", "record_type": "DNSKEY",
                "date": "2025-02-01T00:00:00Z", "detail": "the signature over the DNSKEY RRset of example.org expired on 2025-02-01 00:00 UTC"}),
            "Signatur abgelaufen in der Zone example.org (DNSKEY), Zeitpunkt 2025-02-01",
            "expired on 2025-02-01",
        ),
        (
            serde_json::json!({"kind": "no_matching_ds", "zone": "example.org", "record_type": "DS",
                "detail": "no DS record of example.org (key tag 1) matches one of its DNSKEYs (key tag 2)"}),
            "kein DS-Eintrag der Elternzone passt zu einem DNSKEY der Zone example.org",
            "no DS record of example.org (key tag 1) matches",
        ),
    ];
    for (cause, german, english) in cases {
        let variables = BTreeMap::from([("domain".to_string(), bogus(cause))]);
        let de = rules::evaluate_rule(&rule, &variables, now, Language::De);
        let en = rules::evaluate_rule(&rule, &variables, now, Language::En);
        assert_eq!(de.status.to_string(), "fail", "{}", de.detail);
        assert!(de.detail.contains(german), "{}", de.detail);
        assert!(en.detail.contains(english), "{}", en.detail);
    }
}
