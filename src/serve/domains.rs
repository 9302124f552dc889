//! `/`: every domain's latest grade, the number overdue against the audit
//! interval and never scanned (counted over all domains from each domain's
//! latest scan), and one page of domains by name with a trend of their
//! recent grades as inline SVG.

use super::Dashboard;
use super::overview::{Params, days_between, page_number, pages, params};
use super::page::{self, Problem};
use super::sparkline;
use crate::history::read::DomainScan;
use axum::extract::{Query, State, rejection::QueryRejection};
use axum::response::Response;
use chrono::Utc;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many scans a trend shows.
const TREND_POINTS: i64 = 20;
/// Domains per page.
const DOMAINS_PER_PAGE: i64 = 100;

#[derive(Serialize)]
struct DomainRow {
    domain: String,
    grade: Option<String>,
    failed: i64,
    inconclusive: i64,
    scan_id: Option<i64>,
    last_scan: Option<String>,
    days_since: Option<i64>,
    overdue: bool,
    scans_shown: usize,
    sparkline: String,
}

#[derive(Serialize)]
struct DomainsPage {
    rows: Vec<DomainRow>,
    interval_days: Option<u32>,
    domains: usize,
    overdue: usize,
    never: usize,
    grades: BTreeMap<String, usize>,
    page: i64,
    pages: i64,
}

/// `/`: every domain's latest grade, counted over all of them, and one
/// page of domains by name with their trends.
pub async fn domains(
    State(dashboard): State<Arc<Dashboard>>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (params, language) = match params(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let page_number = match page_number(&params) {
        Ok(page) => page,
        Err(detail) => return page::problem(&dashboard, language, Problem::bad_request(detail)),
    };
    let latest = match dashboard.store.latest_per_domain().await {
        Ok(latest) => latest,
        Err(error) => return page::problem(&dashboard, language, Problem::from_history(error)),
    };
    let now = Utc::now();
    let interval = dashboard.interval_days.map(i64::from);
    let overdue = |days_since: i64| interval.is_some_and(|days| days_since > days);
    // Every domain by name: the scanned ones with their latest scan, and
    // the profile's never-scanned ones.
    let mut all: BTreeMap<&str, Option<&DomainScan>> = latest
        .iter()
        .map(|d| (d.domain.as_str(), Some(d)))
        .collect();
    for domain in &dashboard.audited_domains {
        all.entry(domain.as_str()).or_insert(None);
    }
    let mut grades = BTreeMap::new();
    for scan in latest.iter() {
        *grades.entry(scan.grade.clone()).or_insert(0) += 1;
    }
    let never = all.values().filter(|scan| scan.is_none()).count();
    let late = latest
        .iter()
        .filter(|scan| overdue(days_between(scan.started_at, now)))
        .count();
    let shown: Vec<(&str, Option<&DomainScan>)> = all
        .iter()
        .skip(((page_number - 1) * DOMAINS_PER_PAGE) as usize)
        .take(DOMAINS_PER_PAGE as usize)
        .map(|(domain, scan)| (*domain, *scan))
        .collect();
    let scanned: Vec<String> = shown
        .iter()
        .filter(|(_, scan)| scan.is_some())
        .map(|(domain, _)| domain.to_string())
        .collect();
    let trends = match dashboard.store.domain_trends(&scanned, TREND_POINTS).await {
        Ok(trends) => trends,
        Err(error) => return page::problem(&dashboard, language, Problem::from_history(error)),
    };
    let rows = shown
        .iter()
        .map(|(domain, _)| {
            let trend = trends.iter().find(|t| t.domain == *domain);
            match trend.and_then(|t| t.latest().map(|latest| (t, latest))) {
                Some((trend, latest)) => {
                    let grades: Vec<&str> = trend.points.iter().map(|p| p.grade.as_str()).collect();
                    let days_since = days_between(latest.started_at, now);
                    DomainRow {
                        domain: domain.to_string(),
                        grade: Some(latest.grade.clone()),
                        failed: latest.counts.failed,
                        inconclusive: latest.counts.inconclusive,
                        scan_id: Some(latest.scan_id),
                        last_scan: Some(latest.started_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                        days_since: Some(days_since),
                        overdue: overdue(days_since),
                        scans_shown: grades.len(),
                        sparkline: sparkline::svg(&grades, &grades.join(" → ")),
                    }
                }
                None => DomainRow {
                    domain: domain.to_string(),
                    grade: None,
                    failed: 0,
                    inconclusive: 0,
                    scan_id: None,
                    last_scan: None,
                    days_since: None,
                    overdue: true,
                    scans_shown: 0,
                    sparkline: String::new(),
                },
            }
        })
        .collect();
    let page = DomainsPage {
        domains: all.len(),
        overdue: late + never,
        never,
        interval_days: dashboard.interval_days,
        grades,
        rows,
        page: page_number,
        pages: pages(all.len() as i64, DOMAINS_PER_PAGE),
    };
    page::render(&dashboard, language, "domains.html", "domains", page)
}
