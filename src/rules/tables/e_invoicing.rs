//! The e-invoice transition table (§ 27 Abs. 38 UStG): from which year of
//! arrival an invoice that is not a structured e-invoice may come only
//! from some issuers, or from none. RET-009 reads the counts this adds to
//! the retention view; it judges nothing here.

use super::{Checked, date_problem};
use serde::Deserialize;
use serde_json::{Value as Json, json};

/// The table as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EInvoicingTable {
    pub source: String,
    pub edition: String,
    /// The legal state the table describes (`YYYY-MM-DD`).
    pub date: String,
    /// Ids in `rules/references/references.toml`.
    pub references: Vec<String>,
    /// Class ids of invoices that are not structured e-invoices.
    pub classes: Vec<String>,
    /// Years of arrival after the general transition, oldest first.
    pub after: Vec<After>,
}

/// Years of arrival with who may still send such invoices.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct After {
    pub first_year: i32,
    /// None: open-ended.
    #[serde(default)]
    pub last_year: Option<i32>,
    pub provision: String,
    pub issuers: crate::rules::Text,
}

impl EInvoicingTable {
    /// The row covering `year`, if any.
    pub fn row(&self, year: i32) -> Option<&After> {
        self.after
            .iter()
            .find(|r| year >= r.first_year && r.last_year.is_none_or(|last| year <= last))
    }

    /// Adds `after_transition` (year, count, provision, issuers) and
    /// `after_transition_total` to a serialized retention view, from its
    /// class × year rows.
    pub fn annotate(&self, retention: &mut Json) {
        let Some(view) = retention.as_object_mut() else {
            return;
        };
        let mut by_year: std::collections::BTreeMap<i64, u64> = Default::default();
        for row in view
            .get("class_years")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let class = row["class"].as_str().unwrap_or_default();
            if self.classes.iter().any(|c| c == class)
                && let (Some(year), Some(count)) = (row["year"].as_i64(), row["count"].as_u64())
            {
                *by_year.entry(year).or_default() += count;
            }
        }
        let rows: Vec<Json> = by_year
            .into_iter()
            .filter_map(|(year, count)| {
                let row = self.row(i32::try_from(year).ok()?)?;
                Some(json!({
                    "year": year,
                    "count": count,
                    "provision": row.provision,
                    "issuers_de": row.issuers.de,
                    "issuers_en": row.issuers.en,
                }))
            })
            .collect();
        let total: u64 = rows.iter().filter_map(|r| r["count"].as_u64()).sum();
        view.insert("after_transition".into(), Json::Array(rows));
        view.insert("after_transition_total".into(), json!(total));
        view.insert(
            "e_invoicing_table".into(),
            json!(format!("{} ({})", self.edition, self.date)),
        );
    }
}

impl Checked for EInvoicingTable {
    fn cited(&self) -> &[String] {
        &self.references
    }

    fn problem(&self) -> Option<String> {
        if self.classes.is_empty() {
            return Some("`classes` names no class".into());
        }
        let mut previous_end = i32::MIN;
        for row in &self.after {
            if row.first_year <= previous_end {
                return Some(format!(
                    "the rows overlap or are out of order at first_year {}",
                    row.first_year
                ));
            }
            if row.last_year.is_some_and(|last| last < row.first_year) {
                return Some(format!("last_year is before first_year {}", row.first_year));
            }
            previous_end = row.last_year.unwrap_or(i32::MAX);
        }
        date_problem("date", &self.date)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Tables;
    use super::*;

    #[test]
    fn invoices_arriving_from_2027_are_counted_with_their_provision() {
        let table = Tables::embedded().unwrap().e_invoicing;
        let mut view = json!({ "class_years": [
            { "folder": "INBOX", "year": 2026, "class": "likely_invoice", "count": 5 },
            { "folder": "INBOX", "year": 2027, "class": "likely_invoice", "count": 2 },
            { "folder": "Archive", "year": 2027, "class": "likely_invoice", "count": 1 },
            { "folder": "INBOX", "year": 2028, "class": "likely_invoice", "count": 4 },
            { "folder": "INBOX", "year": 2028, "class": "e_invoice", "count": 9 },
        ]});
        table.annotate(&mut view);
        let rows = view["after_transition"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0]["year"].as_i64(), rows[0]["count"].as_u64()),
            (Some(2027), Some(3))
        );
        assert!(rows[0]["provision"].as_str().unwrap().contains("Nr. 2"));
        assert_eq!(rows[1]["count"], 4);
        assert_eq!(view["after_transition_total"], 7);
    }

    #[test]
    fn overlapping_rows_are_refused() {
        let mut table = Tables::embedded().unwrap().e_invoicing;
        table.after[1].first_year = 2027;
        assert!(table.problem().unwrap().contains("overlap"));
    }
}
