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
fn every_shipped_reference_resolves_to_an_entry_with_edition_section_and_official_url() {
    // Issue 14: 45 of 117 references were too vague to check ("HGB § 257",
    // "GoBD", TRs without edition). Every citation now resolves through
    // rules/references/references.toml.
    let catalogue = rules::references::Catalogue::embedded().expect("the catalogue parses");
    let mut count = 0;
    for rule in default_rules() {
        assert!(!rule.references.is_empty(), "{} cites nothing", rule.id);
        for reference in &rule.references {
            let citation = catalogue
                .resolve(reference)
                .unwrap_or_else(|e| panic!("{}: {e}", rule.id));
            assert!(!citation.edition.is_empty(), "{}: {reference}", rule.id);
            assert!(!citation.pinpoint.is_empty(), "{}: {reference}", rule.id);
            assert!(
                citation.url.starts_with("https://"),
                "{}: {reference}",
                rule.id
            );
            count += 1;
        }
    }
    assert!(count >= 117, "only {count} citations");
}

#[test]
fn every_shipped_rule_file_passes_the_positional_citation_check() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let problems = rules::references::citation_problems(&path.display().to_string(), &text);
            assert!(problems.is_empty(), "{problems:?}");
        }
    }
}

#[test]
fn a_rules_citations_resolve_to_labels_editions_and_section_urls() {
    let rule = default_rules()
        .into_iter()
        .find(|r| r.id == "RET-001")
        .expect("RET-001 ships");
    let citations = rules::references::resolve_all(&rule.references);
    assert_eq!(citations.len(), rule.references.len());
    assert_eq!(citations[0].label, "HGB § 257 Abs. 1 Nr. 3");
    assert_eq!(
        citations[0].url,
        "https://www.gesetze-im-internet.de/hgb/__257.html"
    );
    assert!(citations[0].edition.contains("Bürokratieentlastungsgesetz"));
}

#[test]
fn the_engine_puts_labels_and_resolved_citations_on_every_finding() {
    // Given one domain with no MX evidence at all
    let skipped = serde_json::json!({"status": "skipped", "reason": "not asked"});
    let evidence: mailaudit::evidence::DomainEvidence = serde_json::from_value(serde_json::json!({
        "domain": "example.org",
        "dns": {"resolver": "127.0.0.1", "mx": skipped, "addresses": skipped, "srv": [], "hosts": []},
        "endpoints": [],
        "caa": skipped,
    }))
    .expect("minimal evidence");
    // When every domain rule judges it
    let findings = rules::evaluate(
        &default_rules(),
        [&evidence],
        "2026-11-26T00:00:00Z".parse().unwrap(),
        Language::De,
        &Default::default(),
    );
    // Then each finding's references are the labels of its citations
    let gov = findings
        .iter()
        .find(|f| f.rule == "GOV-002")
        .expect("GOV-002 judged");
    assert_eq!(gov.references[0], "DSGVO Art. 28 Abs. 3");
    assert!(!findings.is_empty());
    for finding in &findings {
        assert!(!finding.citations.is_empty(), "{}", finding.rule);
        let labels: Vec<&str> = finding.citations.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, finding.references, "{}", finding.rule);
        assert!(
            finding
                .citations
                .iter()
                .all(|c| !c.edition.is_empty() && c.url.starts_with("https://"))
        );
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
    let text = "id = \"TLS-001\"\narea = \"transport\"\nsubject = \"endpoint\"\nseverity = \"critical\"\nreferences = [\"rfc3207-4\"]\ntitle = { de = \"a\", en = \"b\" }\nremediation = { de = \"a\", en = \"b\" }\npass = { de = \"a\", en = \"b\" }\n\n[[fail]]\nwhen = \"endpoint.port == 25\"\ndetail = { de = \"a {{ endpoint.missing }}\", en = \"b {{ endpoint.missing }}\" }\n\n[[example]]\nexpect = \"pass\"\nendpoint = { port = 25 }\n\n[[example]]\nexpect = \"fail\"\nseverity = \"low\"\nendpoint = { port = 25 }\n";
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
    let text = "id = \"TLS-001\"\narea = \"transport\"\nsubject = \"endpoint\"\nseverity = \"critical\"\nreferences = [\"rfc3207-4\"]\ntitle = { de = \"a\", en = \"b\" }\nremediation = { de = \"a\", en = \"b\" }\npass = { de = \"a\", en = \"b\" }\n\n[[fail]]\nwhen = \"endpoint.port == && 1\"\ndetail = { de = \"a\", en = \"b\" }\n";
    let error = rules::parse("custom/TLS-001.toml", text)
        .unwrap_err()
        .to_string();
    // `when = "` is 8 characters: the expression starts in column 9.
    assert!(error.starts_with("custom/TLS-001.toml:11:9: "), "{error}");
    assert!(error.contains("CEL"), "{error}");

    let error = rules::parse("custom/TLS-001.toml", "id = \"TLS-001\"\narea = 3\n")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("custom/TLS-001.toml:2:8: "), "{error}");

    let unclosed = text.replace("== && 1", "== 1").replace(
        "detail = { de = \"a\"",
        "detail = { de = \"a {{ endpoint.port\"",
    );
    let error = rules::parse("custom/TLS-001.toml", &unclosed)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("custom/TLS-001.toml:12:17: ") && error.contains("without"),
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
        .replace("rfc3207-4", "Some blog")
        .replace("== && 1", "== 1");
    let error = rules::parse("custom/TLS-001.toml", &bad_reference)
        .unwrap_err()
        .to_string();
    // The second entry of `references = ["Some blog"]` would be column 27.
    assert!(
        error.starts_with("custom/TLS-001.toml:5:15: ") && error.contains("Some blog"),
        "{error}"
    );
}

#[test]
fn an_id_error_in_crt_001_names_the_id_line_and_column_not_validity() {
    // Issue 15: the line was found by the first substring match, so an `id`
    // error pointed at the comment line with "valid*id*ity".
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/CRT-001.toml"))
        .unwrap();
    assert!(text.lines().next().unwrap().contains("validity"));
    let id_line = text.lines().position(|l| l.starts_with("id = ")).unwrap() + 1;
    // Given a malformed ID, then the error names the line of `id` and the
    // column of its value (`id = ` is 5 characters).
    let broken = text.replace("id = \"CRT-001\"", "id = \"CRT-1\"");
    let error = rules::parse("custom/CRT-001.toml", &broken)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("custom/CRT-001.toml:{id_line}:6: ")),
        "{error}"
    );
    assert!(error.contains("'CRT-1'"), "{error}");
    // Given a well-formed ID in a file named otherwise, the same place.
    let error = rules::parse("custom/CRT-009.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("custom/CRT-009.toml:{id_line}:6: ")),
        "{error}"
    );
    // Given a bad CEL condition in the fifth [[fail]], then its own line.
    let low = "- now < duration(string(parameters.expiring_days * 24) + 'h')";
    let when_line = text.lines().position(|l| l.contains(low)).unwrap() + 1;
    let broken = text.replace(low, "- now < < duration('720h')");
    let error = rules::parse("custom/CRT-001.toml", &broken)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("custom/CRT-001.toml:{when_line}:9: ")),
        "{error}"
    );
    // Given CRT-001 without the threshold the report reads, then the
    // error says which parameter is missing.
    let unparameterised = text.replace("expiring_days = 30", "");
    let error = rules::parse("custom/CRT-001.toml", &unparameterised)
        .unwrap_err()
        .to_string();
    assert!(error.contains("'expiring_days'"), "{error}");
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
fn rules_check_refuses_an_unknown_id_and_a_vague_citation_naming_file_and_line() {
    // Issue 14: a reference must resolve to a catalogue entry, and an
    // entry with parts (an article with paragraphs) must be cited with one.
    let text = |reference: &str| {
        format!(
            "# Judged under tr-02102-2-3.2.\nid = \"TLS-005\"\narea = \"transport\"\nsubject = \"endpoint\"\nseverity = \"low\"\nreferences = [\"tr-02102-2-3.2\", \"{reference}\"]\ntitle = {{ de = \"a\", en = \"b\" }}\nremediation = {{ de = \"a\", en = \"b\" }}\npass = {{ de = \"a\", en = \"b\" }}\n\n[[fail]]\nwhen = \"endpoint.port == 25\"\ndetail = {{ de = \"a\", en = \"b\" }}\n"
        )
    };
    for (bad, why) in [
        ("BSI TR-02102-2", "does not start with the id"),
        ("BSI TR-02102-2 (2026-01)", "does not start with the id"),
        ("tr-02102-9", "does not start with the id"),
        ("hgb-257", "too vague"),
        ("dsgvo-art-32", "too vague"),
        ("dsgvo-art-32 Abs. 7", "not listed"),
        ("dsgvo-art-44 Abs. 1", "cited as a whole"),
    ] {
        let error = rules::parse("custom/TLS-005.toml", &text(bad))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("custom/TLS-005.toml:6:"), "{error}");
        assert!(error.contains(why), "{bad}: {error}");
        // The positional check names the column of the citation too.
        let problems = rules::references::citation_problems("custom/TLS-005.toml", &text(bad));
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert_eq!((problems[0].line, problems[0].column), (6, 33), "{bad}");
    }
    for cited in [
        "hgb-257 Abs. 4",
        "dsgvo-art-32 Abs. 1 lit. a",
        "dsgvo-art-44",
        "rfc8996-4",
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

/// Issue 14: an MX that accepts a foreign RCPT from inside its likely
/// trusted networks is "relay allowed from this network" (low), with that
/// title; only an accept from outside is an "open relay" (critical).
#[test]
fn acc_002_titles_an_accept_from_inside_apart_from_an_open_relay() {
    let rule = default_rules()
        .into_iter()
        .find(|r| r.id == "ACC-002")
        .expect("ACC-002 ships");
    let accepted = |source: &str, loopback: bool, same_network: bool| {
        BTreeMap::from([(
            "endpoint".to_string(),
            serde_json::json!({"role": "mx", "relay_test": {"status": "completed", "value": {
                "vantage": {"source_address": source, "server_address": "192.0.2.25",
                    "loopback": loopback, "same_network": same_network, "network_prefix": 24},
                "greeting": "220 mx", "mail_from": "nobody@mailaudit.invalid",
                "mail_reply": {"code": 250, "text": "Ok"},
                "rcpt_to": "relay-test@relay-target.invalid",
                "rcpt_reply": {"code": 250, "enhanced_code": "2.1.5", "text": "2.1.5 Ok"},
                "transcript": []}}}),
        )])
    };
    let now: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
    // Given an accept from the internet: the rule's own title, critical
    let open = rules::evaluate_rule(
        &rule,
        &accepted("198.51.100.9", false, false),
        now,
        Language::En,
    );
    assert_eq!(open.status.to_string(), "fail", "{}", open.detail);
    assert_eq!(open.severity.to_string(), "critical");
    assert_eq!(open.title, None);
    assert!(
        open.detail.contains("anyone on the internet"),
        "{}",
        open.detail
    );
    // Given an accept from the server's /24 or its host: another title, low
    for (source, loopback, same) in [("192.0.2.7", false, true), ("127.0.0.1", true, false)] {
        let variables = accepted(source, loopback, same);
        let en = rules::evaluate_rule(&rule, &variables, now, Language::En);
        let de = rules::evaluate_rule(&rule, &variables, now, Language::De);
        assert_eq!(en.status.to_string(), "fail", "{}", en.detail);
        assert_eq!(en.severity.to_string(), "low");
        assert_eq!(en.title.as_deref(), Some("relay allowed from this network"));
        assert_eq!(
            de.title.as_deref(),
            Some("Relaying aus diesem Netz erlaubt")
        );
        assert!(
            !en.detail.contains("anyone on the internet"),
            "{}",
            en.detail
        );
        assert!(en.detail.contains(source), "{}", en.detail);
    }
    // And a title belongs to a [[fail]] check only
    let text = "id = \"ACC-002\"\narea = \"access\"\nsubject = \"endpoint\"\nseverity = \"critical\"\nreferences = [\"rfc5321-7.9\"]\ntitle = { de = \"a\", en = \"b\" }\nremediation = { de = \"a\", en = \"b\" }\npass = { de = \"a\", en = \"b\" }\n\n[[fail]]\nwhen = \"true\"\ndetail = { de = \"a\", en = \"b\" }\n\n[[adjust]]\nwhen = \"true\"\nseverity = \"low\"\ntitle = { de = \"c\", en = \"d\" }\ndetail = { de = \"a\", en = \"b\" }\n";
    let error = rules::parse("custom/ACC-002.toml", text)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("custom/ACC-002.toml:17:") && error.contains("only a [[fail]]"),
        "{error}"
    );
}
