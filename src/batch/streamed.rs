//! `report.json` of a batch, assembled by streaming from its JSON Lines, so
//! that no finished domain is held in memory.
//!
//! Two passes over the file. [`Index::build`] reads it once and keeps, per
//! target, where its line is, and per (rule, subject) which domain's finding
//! the report takes: in target order, the first domain that has it, as
//! `rules::evaluate` over all targets gives (see [`super::judged`]). Keys are
//! kept as 128-bit hashes, not strings. [`write`] then writes the report:
//! the head (every field but the targets and findings) exactly as
//! `report.json` writes it, the targets and the findings read again line by
//! line, each pretty-printed at its depth, so the bytes equal those of
//! `json::write` on the same report held in memory.

use super::BatchError;
use super::line::{LineReader, Span, read_at_as};
use crate::evidence::{Attempt, DomainEvidence};
use crate::finding::{Finding, Severity, Status};
use crate::report::{Report, Target};
use crate::rules::Assessor;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the streamed `report.json` could not be written.
#[derive(Debug, thiserror::Error)]
pub enum StreamedError {
    #[error(transparent)]
    Lines(#[from] BatchError),
    #[error("JSON serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
}

/// Where each target's line is, and which line each (rule, subject) is
/// taken from.
pub struct Index {
    path: PathBuf,
    /// Per target in report order: its line, and whether its findings are
    /// judged again (a domain resumed from an earlier run).
    lines: Vec<(Span, bool)>,
    /// (rule, subject) hash → (target index, position among its findings).
    winners: HashMap<u128, (u32, u32)>,
}

/// Judges one domain's evidence alone (for resumed domains).
pub type Judge<'a> = &'a dyn Fn(&DomainEvidence) -> Vec<Finding>;

impl Index {
    /// Reads the JSONL file at `path` once. `domains` are the targets in
    /// report order (lines of other domains are left out, and a domain's
    /// first line is taken); the findings of domains in `judge_again` are
    /// judged by `judge` instead of read from their line.
    pub fn build(
        path: &Path,
        domains: &[String],
        judge_again: &HashSet<String>,
        judge: Judge<'_>,
    ) -> Result<Index, BatchError> {
        let position: HashMap<&str, usize> = domains
            .iter()
            .enumerate()
            .map(|(index, domain)| (domain.as_str(), index))
            .collect();
        let mut spans: Vec<Option<(Span, bool)>> = vec![None; domains.len()];
        let mut winners = HashMap::new();
        let mut file = File::open(path).map_err(|error| BatchError::Io {
            source_name: path.display().to_string(),
            error,
        })?;
        for read in LineReader::<FindingsOf>::open(path, false)? {
            let (span, line) = read?;
            let Some(&index) = position.get(line.domain.as_str()) else {
                continue;
            };
            if spans[index].is_some() {
                continue;
            }
            let again = judge_again.contains(&line.domain);
            let findings = if again {
                judge(&read_at_as::<TargetOnly>(&mut file, path, span)?.evidence)
            } else {
                line.findings
            };
            for (at, finding) in findings.iter().enumerate() {
                let here = (index as u32, at as u32);
                winners
                    .entry(key_of(finding))
                    .and_modify(|kept: &mut (u32, u32)| *kept = (*kept).min(here))
                    .or_insert(here);
            }
            spans[index] = Some((span, again));
        }
        Ok(Index {
            path: path.to_path_buf(),
            lines: spans.into_iter().flatten().collect(),
            winners,
        })
    }

    /// How many targets the report has.
    pub fn targets(&self) -> usize {
        self.lines.len()
    }
}

/// The (rule, subject) key of a finding, hashed: 128 bits of SHA-256, so a
/// collision among a batch's keys is not a practical concern.
fn key_of(finding: &Finding) -> u128 {
    let mut hasher = Sha256::new();
    hasher.update(finding.rule.as_bytes());
    hasher.update([0]);
    hasher.update(finding.subject.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(first)
}

/// What the exit code and the terminal summary need from the report that
/// was written.
pub struct Tally {
    /// The most severe failed finding that the profile does not accept.
    pub worst_failure: Option<Severity>,
    /// As [`Report::could_not_run`].
    pub could_not_run: bool,
    /// The report without the evidence the summary does not read and
    /// without finding texts, when asked for (`summary`).
    pub summary: Option<Report>,
}

impl Tally {
    /// As [`Report::fails_at`].
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.worst_failure.is_some_and(|worst| worst >= threshold)
    }
}

/// A line read for its findings only (the evidence is skipped unparsed).
#[derive(serde::Deserialize)]
struct FindingsOnly {
    findings: Vec<Finding>,
}

/// A line read for its domain and findings.
#[derive(serde::Deserialize)]
struct FindingsOf {
    domain: String,
    findings: Vec<Finding>,
}

/// A line read for its target.
#[derive(serde::Deserialize)]
struct TargetOnly {
    domain: String,
    evidence: DomainEvidence,
}

/// Writes `report.json` of `head` (every field but `targets`, `findings`
/// and `assessment`: the first two are taken from the lines `index` names,
/// the assessment is made by `assessor` from them as they pass) to `out`.
/// With `summary`, the tally keeps a slim copy for the terminal summary.
pub fn write(
    head: &Report,
    index: &Index,
    judge: Judge<'_>,
    mut assessor: Assessor<'_>,
    summary: bool,
    out: &mut dyn Write,
) -> Result<Tally, StreamedError> {
    let mut head = head.clone();
    head.targets.clear();
    head.findings.clear();
    let text = serde_json::to_string_pretty(&head)?;
    let (before, rest) = split_at_field(&text, "targets");
    let before = before.to_string();
    let (between, _) = split_at_field(rest, "findings");
    let between = between.to_string();
    let mut file = File::open(&index.path).map_err(|error| BatchError::Io {
        source_name: index.path.display().to_string(),
        error,
    })?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut tally = Tally {
        worst_failure: None,
        could_not_run: index.targets() > 0,
        summary: summary.then(|| head.clone()),
    };

    out.write_all(before.as_bytes())?;
    let mut array = Array::new();
    for &(span, _) in &index.lines {
        let line: TargetOnly = read_at_as(&mut file, &index.path, span)?;
        let target = Target {
            domain: line.domain,
            evidence: line.evidence,
        };
        array.element(&mut out, &target)?;
        assessor.add_target(&target);
        let mut alone = head.clone();
        alone.targets.push(target);
        tally.could_not_run &= alone.could_not_run();
        if let (Some(report), Some(target)) = (&mut tally.summary, alone.targets.pop()) {
            report.targets.push(slim(target));
        }
    }
    array.end(&mut out)?;

    out.write_all(between.as_bytes())?;
    let mut array = Array::new();
    for (target, &(span, again)) in index.lines.iter().enumerate() {
        let findings = if again {
            let line: TargetOnly = read_at_as(&mut file, &index.path, span)?;
            judge(&line.evidence)
        } else {
            read_at_as::<FindingsOnly>(&mut file, &index.path, span)?.findings
        };
        for (at, finding) in findings.into_iter().enumerate() {
            if index.winners.get(&key_of(&finding)) != Some(&(target as u32, at as u32)) {
                continue;
            }
            array.element(&mut out, &finding)?;
            assessor.add_finding(&finding);
            if finding.status == Status::Fail && finding.accepted.is_none() {
                tally.worst_failure = tally.worst_failure.max(Some(finding.severity));
            }
            if let Some(report) = &mut tally.summary {
                report.findings.push(Finding {
                    detail: String::new(),
                    remediation: String::new(),
                    references: Vec::new(),
                    citations: Vec::new(),
                    ..finding
                });
            }
        }
    }
    array.end(&mut out)?;
    // The assessment (after the findings in a report) is known only now.
    head.assessment = assessor.finish();
    if let Some(report) = &mut tally.summary {
        report.assessment = head.assessment.clone();
    }
    let text = serde_json::to_string_pretty(&head)?;
    let (_, rest) = split_at_field(&text, "targets");
    let (_, after) = split_at_field(rest, "findings");
    out.write_all(after.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(tally)
}

/// Splits the pretty JSON of a report at its top-level `"FIELD": []`,
/// keeping `"FIELD": ` in the first part.
fn split_at_field<'a>(text: &'a str, field: &str) -> (&'a str, &'a str) {
    let marker = format!("\n  \"{field}\": []");
    match text.find(&marker) {
        Some(at) => {
            let end = at + marker.len() - 2;
            (&text[..end], &text[end + 2..])
        }
        // Unreachable for a Report: both fields are always written.
        None => (text, ""),
    }
}

/// A top-level array written one element at a time, as serde_json's pretty
/// printer writes it at depth 1 (elements indented by four spaces).
struct Array {
    empty: bool,
    buffer: Vec<u8>,
}

impl Array {
    fn new() -> Array {
        Array {
            empty: true,
            buffer: Vec::new(),
        }
    }

    fn element(
        &mut self,
        out: &mut dyn Write,
        value: &impl serde::Serialize,
    ) -> Result<(), StreamedError> {
        out.write_all(if self.empty { b"[\n    " } else { b",\n    " })?;
        self.empty = false;
        self.buffer.clear();
        serde_json::to_writer_pretty(&mut self.buffer, value)?;
        // JSON strings hold no raw newline, so each one starts a new line
        // of the element, which moves in by the array's depth.
        for (index, piece) in self.buffer.split(|&b| b == b'\n').enumerate() {
            if index > 0 {
                out.write_all(b"\n    ")?;
            }
            out.write_all(piece)?;
        }
        Ok(())
    }

    fn end(self, out: &mut dyn Write) -> Result<(), StreamedError> {
        out.write_all(if self.empty { b"[]" } else { b"\n  ]" })?;
        Ok(())
    }
}

/// A target with only what the summary reads: its name, its endpoints'
/// subjects and TCP results, its DNS answers.
fn slim(target: Target) -> Target {
    let mut evidence = target.evidence;
    for endpoint in &mut evidence.endpoints {
        endpoint.dialogue = Attempt::skipped("");
        endpoint.tls = Attempt::skipped("");
        endpoint.tls_scan = Attempt::skipped("");
        endpoint.starttls_injection = Attempt::skipped("");
        endpoint.relay_test = Attempt::skipped("");
        endpoint.tls_active = Attempt::skipped("");
    }
    evidence.mx_hosts.clear();
    evidence.mailboxes.clear();
    evidence.dnssec = Default::default();
    evidence.mail_auth = Default::default();
    evidence.client_config = Default::default();
    evidence.key_discovery = Default::default();
    evidence.location = Attempt::skipped("");
    Target {
        domain: target.domain,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Writes `{"k": 1, "targets": values, "z": []}` as `write` does: the
    /// head with an empty array, the elements spliced in.
    fn spliced(values: &[serde_json::Value]) -> String {
        let head = serde_json::to_string_pretty(&json!({"k": 1, "targets": [], "z": []}))
            .expect("serialises");
        let (before, after) = split_at_field(&head, "targets");
        let mut out = before.as_bytes().to_vec();
        let mut array = Array::new();
        for value in values {
            array.element(&mut out, value).expect("written");
        }
        array.end(&mut out).expect("written");
        out.extend(after.as_bytes());
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn spliced_elements_read_as_the_pretty_printer_writes_them() {
        for values in [
            vec![
                json!({"a": [1, {"b": "two\nlines"}], "c": {}}),
                json!([]),
                json!("s"),
            ],
            Vec::new(),
        ] {
            let whole = serde_json::to_string_pretty(&json!({"k": 1, "targets": values, "z": []}))
                .expect("serialises");
            assert_eq!(spliced(&values), whole);
        }
    }

    #[test]
    fn a_key_is_the_rule_and_the_subject() {
        let finding = |rule: &str, subject: &str| Finding {
            rule: rule.into(),
            subject: subject.into(),
            status: Status::Pass,
            severity: Severity::Low,
            area: "dns".into(),
            title: String::new(),
            detail: String::new(),
            references: Vec::new(),
            citations: Vec::new(),
            remediation: String::new(),
            change: None,
            accepted: None,
        };
        assert_eq!(key_of(&finding("A", "b")), key_of(&finding("A", "b")));
        assert_ne!(key_of(&finding("A", "b")), key_of(&finding("Ab", "")));
    }
}
