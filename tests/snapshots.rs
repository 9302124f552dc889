//! Snapshots of what users see, from one fixed scan: the lab's bad.test
//! with a mailbox, as `mailaudit scan` wrote it before schema 1.4
//! (tests/fixtures/report-1.3.0.json), judged again by today's rules. A
//! change to a finding, the grade, an expiry flag, a retention number or a
//! format shows up as a diff of a reviewed `.snap` file.
//!
//! The tool version is replaced by a placeholder; the times are the
//! fixture's, so they never change. insta needs no cargo-insta: a mismatch
//! fails the test and writes `tests/snapshots/*.snap.new` beside the
//! snapshot (not under CI, where `CI` is set, or with `INSTA_UPDATE=no`).
//! Review the diff, then accept it by moving the `.snap.new` over the
//! `.snap`, or run `INSTA_UPDATE=always cargo test --test snapshots`.

use mailaudit::Language;
use mailaudit::report::{Format, Report, offline, summary};
use mailaudit::rules;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-1.3.0.json")
}

/// The fixture judged by the built-in rules, in `language`.
fn judged(language: Language) -> Report {
    let saved = offline::read(&fixture()).expect("the fixture reads");
    let rules = rules::defaults().expect("the built-in rules load");
    let mut report = rules::reevaluate(&saved, &rules, language, None);
    report.tool_version = "[tool-version]".to_string();
    report
}

fn render(format: Format) -> String {
    format.render(&judged(Language::En)).expect("renders")
}

#[test]
fn report_json() {
    let report = judged(Language::En);
    // The evidence is the fixture's, copied; the snapshot shows what the
    // rules made of it.
    insta::assert_json_snapshot!("report_json", report, {
        ".targets[].evidence" => "[the fixture's evidence]",
    });
}

#[test]
fn sarif() {
    let sarif: serde_json::Value = serde_json::from_str(&render(Format::Sarif)).unwrap();
    insta::assert_json_snapshot!("sarif", sarif);
}

#[test]
fn junit() {
    insta::assert_snapshot!("junit", render(Format::Junit));
}

#[test]
fn markdown_in_both_languages() {
    insta::assert_snapshot!("markdown_en", render(Format::Markdown));
    let german = Format::Markdown.render(&judged(Language::De)).unwrap();
    insta::assert_snapshot!("markdown_de", german);
}

#[test]
fn terminal_summary() {
    let report = judged(Language::En);
    let written = ["out/report.html".to_string(), "out/report.json".to_string()];
    insta::assert_snapshot!("summary", summary::render(&report, &written));
}

#[test]
fn html_skeleton() {
    let skeleton = skeleton(&render(Format::Html));
    assert!(skeleton.contains("h1"), "{skeleton}");
    insta::assert_snapshot!("html_skeleton", skeleton);
}

/// Elements without content or end tag.
const VOID: [&str; 9] = [
    "area", "br", "col", "hr", "img", "input", "link", "meta", "source",
];

/// The structure of an HTML document: one line per element, indented by
/// depth, with its class and, for headings, their text; no CSS, no
/// scripts, no other text. Runs of identical lines (table rows) are
/// counted, not repeated.
fn skeleton(html: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let Some(close) = rest.find('>') else { break };
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            let _ = name;
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let class = attribute(tag, "class")
            .map(|c| format!(" class=\"{c}\""))
            .unwrap_or_default();
        let mut line = format!("{}<{name}{class}>", "  ".repeat(depth));
        if name.len() == 2 && name.starts_with('h') {
            let end = rest.find(&format!("</{name}")).unwrap_or(0);
            line.push(' ');
            line.push_str(&text_of(&rest[..end]));
        }
        lines.push(line);
        if name == "style" || name == "script" {
            // Skip their content: CSS and scripts are not structure.
            if let Some(end) = rest.find(&format!("</{name}>")) {
                rest = &rest[end + name.len() + 3..];
            }
            continue;
        }
        if !(VOID.contains(&name.as_str()) || tag.ends_with('/')) {
            depth += 1;
        }
    }
    // Identical runs of lines (rows of a table, each with its cells) are
    // folded: a block of k lines repeated n times is written once, ×n.
    let mut out: Vec<String> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let mut folded = false;
        for size in 1..=12 {
            let block = &lines[index..(index + size).min(lines.len())];
            if block.len() < size {
                break;
            }
            let mut times = 1;
            while lines.get(index + times * size..index + (times + 1) * size) == Some(block) {
                times += 1;
            }
            if times > 1 {
                out.extend(block.iter().cloned());
                out.push(format!(
                    "{}× {times}",
                    block[0].split('<').next().unwrap_or("")
                ));
                index += times * size;
                folded = true;
                break;
            }
        }
        if !folded {
            out.push(lines[index].clone());
            index += 1;
        }
    }
    out.join("\n") + "\n"
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')?;
    Some(tag[start..start + end].to_string())
}

/// The text of an HTML fragment, tags removed and spaces collapsed.
fn text_of(fragment: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
