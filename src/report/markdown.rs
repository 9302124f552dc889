//! `report.md`: Markdown for a CI step summary (`$GITHUB_STEP_SUMMARY`) or a
//! pull-request comment. Failed findings by severity, the failed findings
//! themselves, the inconclusive count, with `--baseline` what is new and
//! what was fixed, and the retention class × year tables of audited
//! mailboxes. In the report language, and closing with the disclaimer
//! legal-basis.md requires of every report, followed by the legal snapshot
//! date and the rule-set version (the same texts HTML and PDF print, from
//! `report-templates/i18n.toml`).

use super::classes::ClassTable;
use super::{Report, mailboxes, strings};
use crate::finding::{Change, Finding, Severity};
use std::fmt::Write;

/// Renders the report as GitHub-flavoured Markdown.
pub fn render(report: &Report) -> String {
    let language = report.language;
    let t = |key: &str| strings::get(language, key);
    let mut out = String::new();
    let domains: Vec<&str> = report.targets.iter().map(|t| t.domain.as_str()).collect();
    let _ = writeln!(out, "# {}\n", t("title"));
    let _ = writeln!(
        out,
        "{}: {} · {}: {} · {}: mailaudit {} · {}: {}\n",
        t("scope"),
        cell(&domains.join(", ")),
        t("period"),
        report.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        t("tool"),
        report.tool_version,
        t("rule_set"),
        report.rule_set_version
    );
    let _ = writeln!(out, "## {}\n", t("summary"));
    let _ = writeln!(out, "| {} | {} |", t("severity"), t("failed_count"));
    let _ = writeln!(out, "| --- | ---: |");
    let failures = report.failures_by_severity();
    for severity in Severity::DESCENDING {
        let _ = writeln!(
            out,
            "| {} | {} |",
            t(&format!("severity_{severity}")),
            failures.get(&severity).copied().unwrap_or(0)
        );
    }
    let _ = writeln!(out, "\n{}\n", report.status_line());
    if let Some(line) = super::baseline::summary_line(report) {
        let _ = writeln!(out, "**{line}**\n");
    }
    let failed = report.worst();
    let _ = writeln!(out, "## {}\n", t("failed_findings"));
    if failed.is_empty() {
        let _ = writeln!(out, "{}\n", t("no_failures"));
    } else {
        table(&mut out, &failed, report.baseline.is_some(), &t);
    }
    if let Some(baseline) = report.baseline.as_ref().filter(|b| !b.fixed.is_empty()) {
        let _ = writeln!(out, "## {}\n", t("fixed_findings"));
        let fixed: Vec<&Finding> = baseline.fixed.iter().collect();
        table(&mut out, &fixed, false, &t);
    }
    retention(&mut out, report, &t);
    // A step summary or PR comment is a report too: it carries the same
    // disclaimer, snapshot date and rule-set version as HTML and PDF.
    let _ = writeln!(out, "## {}\n", t("disclaimer_title"));
    let _ = writeln!(out, "{}\n", t("disclaimer"));
    let _ = writeln!(
        out,
        "{}: {} · {}: {}",
        t("legal_snapshot"),
        report.legal_snapshot,
        t("rule_set"),
        report.rule_set_version
    );
    out
}

/// The class × year tables: each organisation, then each mailbox (counts
/// only, as in HTML and PDF; the chart is for those).
fn retention(out: &mut String, report: &Report, t: &dyn Fn(&str) -> String) {
    let organisations = mailboxes::organisations(report);
    let tables: Vec<(String, ClassTable)> = organisations
        .into_iter()
        .filter_map(|o| {
            let audited = format!(
                "org:{} ({}: {} / {})",
                o.domain,
                t("mailboxes_audited"),
                o.audited,
                o.mailboxes
            );
            o.classes.map(|c| (audited, c))
        })
        .chain(
            mailboxes::build(report)
                .into_iter()
                .filter_map(|m| m.classes.map(|c| (format!("mailbox:{}", m.user), c))),
        )
        .collect();
    if tables.is_empty() {
        return;
    }
    let _ = writeln!(out, "## {}\n", t("classes"));
    for (subject, classes) in tables {
        let _ = writeln!(out, "### {}\n", cell(&subject));
        let years: String = classes.years.iter().map(|y| format!(" {y} |")).collect();
        let _ = writeln!(
            out,
            "| {} |{years} {} | {} | {} | {} |",
            t("mail_class"),
            t("total"),
            t("past_deadline"),
            t("keep_until"),
            t("next_review")
        );
        let align: String = classes.years.iter().map(|_| " ---: |").collect();
        let _ = writeln!(out, "| --- |{align} ---: | ---: | --- | --- |");
        for row in &classes.rows {
            let counts: String = row.by_year.iter().map(|n| format!(" {n} |")).collect();
            let _ = writeln!(
                out,
                "| {} |{counts} {} | {} | {} | {} |",
                cell(&row.class),
                row.messages,
                row.review_due,
                row.keep_until,
                row.next_review
            );
        }
        let blanks: String = classes.years.iter().map(|_| " |").collect();
        let _ = writeln!(
            out,
            "| **{}** |{blanks} **{}** | **{}** | | |\n",
            t("total"),
            classes.messages,
            classes.review_due
        );
    }
}

fn table(out: &mut String, findings: &[&Finding], with_change: bool, t: &dyn Fn(&str) -> String) {
    let change_header = if with_change {
        format!(" {} |", t("change"))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |{change_header}",
        t("rule"),
        t("subject"),
        t("severity"),
        t("finding_title"),
        t("detail")
    );
    let _ = writeln!(
        out,
        "| --- | --- | --- | --- | --- |{}",
        if with_change { " --- |" } else { "" }
    );
    for finding in findings {
        let change = match (with_change, finding.change) {
            (false, _) => String::new(),
            (true, Some(Change::New)) => format!(" {} |", t("change_new")),
            (true, Some(Change::Unchanged)) => format!(" {} |", t("change_unchanged")),
            (true, None) => " |".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |{change}",
            cell(&finding.rule),
            cell(&finding.subject),
            t(&format!("severity_{}", finding.severity)),
            cell(&finding.title),
            cell(&finding.detail)
        );
    }
    out.push('\n');
}

/// One table cell: no line breaks, `|` escaped, and no HTML (GitHub renders
/// inline HTML in Markdown, and details quote server banners).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_escape_pipes_html_and_line_breaks() {
        assert_eq!(cell("a|b\n<c> & d"), "a\\|b &lt;c&gt; &amp; d");
    }
}
