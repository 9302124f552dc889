//! The rule set's own tests: IDs match the catalogue, references are well
//! formed, every rule has failing and passing fixtures and they all hold,
//! and malformed rule files are refused with file, line and reason.

use chrono::{DateTime, Utc};
use mailaudit::Language;
use mailaudit::rules::{self, Rule, examples};
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
    let rules = default_rules();
    for rule in &rules {
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
    }
    // The runner `mailaudit rules check` uses, here in both languages: each
    // example's status and severity, and no placeholder left unrendered.
    let run = examples::run(&rules, &[Language::De, Language::En]).expect("examples run");
    assert!(run.examples >= 2 * rules.len(), "{} examples", run.examples);
    let problems: Vec<String> = run.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_example_runner_reports_a_status_a_severity_and_a_placeholder_that_do_not_hold() {
    let text = "id = \"TLS-001\"\narea = \"transport\"\nsubject = \"endpoint\"\nseverity = \"critical\"\nreferences = [\"RFC 3207\"]\ntitle = { de = \"a\", en = \"b\" }\nremediation = { de = \"a\", en = \"b\" }\npass = { de = \"a\", en = \"b\" }\n\n[[fail]]\nwhen = \"endpoint.port == 25\"\ndetail = { de = \"a {{ endpoint.missing }}\", en = \"b {{ endpoint.missing }}\" }\n\n[[example]]\nexpect = \"pass\"\nendpoint = { port = 25 }\n\n[[example]]\nexpect = \"fail\"\nseverity = \"low\"\nendpoint = { port = 25 }\n";
    let rule = rules::parse("custom/TLS-001.toml", text).expect("parses");
    let run = examples::run(&[rule], &[Language::En]).expect("runs");
    assert_eq!(run.examples, 2);
    let problems: Vec<String> = run.problems.iter().map(ToString::to_string).collect();
    assert!(
        problems[0].starts_with("TLS-001 example 1: expected pass, got fail"),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p == "TLS-001 example 2: expected severity low, got critical"),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("placeholder")),
        "{problems:?}"
    );
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
