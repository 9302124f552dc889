//! The class × year tables of the retention view, per mailbox and for the
//! organisation, with a bar chart per class of what must still be kept
//! and what is due for erasure review. It formats the rules stage's
//! [`RetentionView`](crate::report::assessment::RetentionView) (counts
//! only, never a subject or an address) and decides nothing.

use super::assessment::RetentionView;
use super::charts::{colour, escape, open_svg};
use super::strings;
use crate::Language;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// One class × year table with its chart.
#[derive(Debug, Serialize)]
pub struct ClassTable {
    /// Every year with messages, oldest first (the columns).
    pub years: Vec<i32>,
    pub rows: Vec<ClassRow>,
    /// Messages and review-due messages over all classes.
    pub messages: u64,
    pub review_due: u64,
    pub chart_svg: String,
    pub chart_alt: String,
}

/// One class.
#[derive(Debug, Serialize)]
pub struct ClassRow {
    /// The class's name in the report language.
    pub class: String,
    /// Counts in the order of [`ClassTable::years`], all folders together.
    pub by_year: Vec<u64>,
    pub messages: u64,
    pub review_due: u64,
    /// The last day of retention of what is still kept; empty when all of
    /// it is due.
    pub keep_until: String,
    /// When more becomes due; empty when all of it is due.
    pub next_review: String,
}

/// The table of a view; `None` when the view counts no message.
pub fn table(view: &RetentionView, language: Language) -> Option<ClassTable> {
    if view.classes.is_empty() {
        return None;
    }
    let years: Vec<i32> = view
        .class_years
        .iter()
        .map(|c| c.year)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut counts: BTreeMap<(&str, i32), u64> = BTreeMap::new();
    for row in &view.class_years {
        *counts.entry((row.class.as_str(), row.year)).or_default() += u64::from(row.count);
    }
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let rows: Vec<ClassRow> = view
        .classes
        .iter()
        .map(|c| ClassRow {
            class: match language {
                Language::De => c.title_de.clone(),
                Language::En => c.title_en.clone(),
            },
            by_year: years
                .iter()
                .map(|y| counts.get(&(c.class.as_str(), *y)).copied().unwrap_or(0))
                .collect(),
            messages: c.messages,
            review_due: c.review_due,
            keep_until: date(c.keep_until),
            next_review: date(c.next_review),
        })
        .collect();
    let t = |key: &str| strings::get(language, key);
    let chart_alt = format!(
        "{}: {}",
        t("chart_classes"),
        rows.iter()
            .map(|r| format!(
                "{} {} ({} {})",
                r.class,
                r.messages,
                r.review_due,
                t("review_due")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Some(ClassTable {
        messages: rows.iter().map(|r| r.messages).sum(),
        review_due: rows.iter().map(|r| r.review_due).sum(),
        chart_svg: chart(&rows, &chart_alt, &t("keep"), &t("review_due")),
        chart_alt,
        years,
        rows,
    })
}

/// One horizontal bar per class, scaled to the largest class: the part
/// still kept, then the part due for review.
fn chart(rows: &[ClassRow], title: &str, kept_label: &str, due_label: &str) -> String {
    const LABEL: u32 = 190;
    const BARS: u32 = 330;
    const ROW: u32 = 24;
    let width = LABEL + BARS + 70;
    let height = ROW * u32::try_from(rows.len()).unwrap_or(0) + 34;
    let largest = rows.iter().map(|r| r.messages).max().unwrap_or(0).max(1);
    let scale = |n: u64| (n as f64 / largest as f64 * f64::from(BARS)).round();
    let mut out = String::new();
    open_svg(&mut out, width, height, title);
    for (i, row) in rows.iter().enumerate() {
        let y = ROW * u32::try_from(i).unwrap_or(0) + 4;
        let kept = row.messages.saturating_sub(row.review_due);
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LABEL - 8,
            y + 14,
            escape(&row.class)
        );
        let kept_width = scale(kept);
        let _ = write!(
            out,
            r#"<rect x="{LABEL}" y="{y}" width="{kept_width}" height="18" fill="{}"/>"#,
            colour("pass")
        );
        let _ = write!(
            out,
            r#"<rect x="{}" y="{y}" width="{}" height="18" fill="{}"/>"#,
            f64::from(LABEL) + kept_width,
            scale(row.review_due),
            colour("medium")
        );
        let _ = write!(
            out,
            r#"<text x="{}" y="{}">{}</text>"#,
            f64::from(LABEL) + scale(row.messages) + 6.0,
            y + 14,
            row.messages
        );
    }
    let legend = height - 10;
    let _ = write!(
        out,
        r#"<rect x="{LABEL}" y="{}" width="12" height="10" fill="{}"/><text x="{}" y="{legend}">{}</text><rect x="{}" y="{}" width="12" height="10" fill="{}"/><text x="{}" y="{legend}">{}</text></svg>"#,
        legend - 9,
        colour("pass"),
        LABEL + 16,
        escape(kept_label),
        LABEL + 150,
        legend - 9,
        colour("medium"),
        LABEL + 166,
        escape(due_label)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::assessment::{ClassSummary, ClassYear};
    use chrono::NaiveDate;

    fn day(y: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, 1, 1).unwrap()
    }

    fn view() -> RetentionView {
        let row = |year, class: &str, count, due| ClassYear {
            folder: "INBOX".into(),
            year,
            class: class.into(),
            count,
            period: "voucher".into(),
            retention_ends: day(2030),
            earliest_erasure: day(2031),
            review_due: due,
        };
        let mut view: RetentionView = serde_json::from_value(serde_json::json!({
            "as_of": "2026-11-26", "basis": [], "activity_years": [],
            "has_sent_folder": true, "sent_messages": 0, "sent_years": [],
            "missing_sent_years": [], "past_deadline": [], "past_deadline_total": 0,
            "retained_in_trash": [], "retained_in_trash_total": 0,
            "inbox_messages": 0, "activity_span_years": 0, "expected_minimum": 0
        }))
        .unwrap();
        view.class_years = vec![
            row(2017, "e_invoice", 2, false),
            row(2020, "e_invoice", 3, false),
            row(2017, "bulk", 4, true),
        ];
        view.classes = vec![
            ClassSummary {
                class: "e_invoice".into(),
                title_de: "E-Rechnung".into(),
                title_en: "E-invoice".into(),
                messages: 5,
                review_due: 0,
                keep_until: Some(day(2030)),
                next_review: Some(day(2031)),
            },
            ClassSummary {
                class: "bulk".into(),
                title_de: "Newsletter <Massenpost>".into(),
                title_en: "Newsletter".into(),
                messages: 4,
                review_due: 4,
                keep_until: None,
                next_review: None,
            },
        ];
        view
    }

    #[test]
    fn rows_follow_the_classes_and_columns_the_years() {
        let table = table(&view(), Language::De).unwrap();
        assert_eq!(table.years, [2017, 2020]);
        assert_eq!(table.rows[0].class, "E-Rechnung");
        assert_eq!(table.rows[0].by_year, [2, 3]);
        assert_eq!(table.rows[1].by_year, [4, 0]);
        assert_eq!((table.messages, table.review_due), (9, 4));
        assert_eq!(table.rows[0].keep_until, "2030-01-01");
        assert_eq!(table.rows[1].keep_until, "");
        // The class name is escaped in the chart.
        assert!(table.chart_svg.contains("Newsletter &lt;Massenpost&gt;"));
        assert!(table.chart_alt.contains("E-Rechnung 5 (0 "));
    }

    #[test]
    fn a_view_without_classes_has_no_table() {
        let mut empty = view();
        empty.classes.clear();
        assert!(table(&empty, Language::En).is_none());
    }
}
