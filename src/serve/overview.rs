//! The dashboard's overview pages besides the domains ([`super::domains`]):
//! the certificate expiry calendar of the next days and the open findings
//! by age, with the query parsing all of them share.

use super::Dashboard;
use super::page::{self, Problem};
use crate::history::dashboard::{AGE_BUCKET_DAYS, OpenFindingsQuery};
use crate::report::strings;
use axum::extract::{Query, State, rejection::QueryRejection};
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Open findings per page.
const FINDINGS_PER_PAGE: i64 = 100;
/// Certificates per page of the list below the calendar.
const CERTIFICATES_PER_PAGE: i64 = 100;
/// The calendar's default and longest span in days.
const DEFAULT_DAYS: i64 = 60;
const MAX_DAYS: i64 = 366;

/// The query every overview page takes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    lang: Option<String>,
    days: Option<i64>,
    domain: Option<String>,
    severity: Option<String>,
    page: Option<i64>,
}

/// The parsed query and language, or the error page.
pub(super) fn params(
    dashboard: &Dashboard,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<(Params, crate::Language), Box<Response>> {
    let fail = |problem| Box::new(page::problem(dashboard, dashboard.language, problem));
    let Query(params) = query.map_err(|e| fail(Problem::bad_request(e.body_text())))?;
    let language = page::parse_language(params.lang.as_deref(), dashboard.language)
        .map_err(|p| Box::new(page::problem(dashboard, dashboard.language, p)))?;
    Ok((params, language))
}

/// Whole days from `then` to `now`.
pub(super) fn days_between(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days()
}

/// The page number asked for, 1 when none.
pub(super) fn page_number(params: &Params) -> Result<i64, String> {
    let page = params.page.unwrap_or(1);
    if (1..=1_000_000).contains(&page) {
        Ok(page)
    } else {
        Err(format!("page={page}: 1 or more"))
    }
}

/// Pages of `per_page` rows that `total` rows fill, at least one.
pub(super) fn pages(total: i64, per_page: i64) -> i64 {
    ((total + per_page - 1) / per_page).max(1)
}

#[derive(Serialize)]
struct CertificateRow {
    /// The first row of its day (the calendar links to it).
    anchor: bool,
    expired: bool,
    date: String,
    days_left: i64,
    domain: String,
    endpoint: String,
    subject: String,
    issuer: String,
    sha256: String,
    scan_id: i64,
}

#[derive(Serialize, Default)]
struct Day {
    date: String,
    day: u32,
    /// The month's short name on its first day and on the first day shown.
    month: String,
    count: usize,
    /// The page of the list holding the day's first certificate.
    page: i64,
    expired: bool,
    today: bool,
    outside: bool,
}

#[derive(Serialize)]
struct CertificatesPage {
    weekdays: Vec<String>,
    days: i64,
    expired: usize,
    upcoming: usize,
    weeks: Vec<Vec<Day>>,
    rows: Vec<CertificateRow>,
    page: i64,
    pages: i64,
}

/// The calendar's weeks (Monday first) from today's week to `last`, with
/// the number of certificates ending each day.
fn weeks(
    today: NaiveDate,
    last: NaiveDate,
    per_day: &BTreeMap<NaiveDate, usize>,
    first_page: &BTreeMap<String, i64>,
    months: &[String],
) -> Vec<Vec<Day>> {
    let mut day = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let mut weeks = Vec::new();
    while day <= last {
        let week = (0..7)
            .map(|offset| {
                let date = day + Duration::days(offset);
                let labelled = date.day() == 1 || (date == today);
                Day {
                    month: if labelled {
                        months
                            .get(date.month0() as usize)
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        String::new()
                    },
                    date: date.to_string(),
                    day: date.day(),
                    count: per_day.get(&date).copied().unwrap_or(0),
                    page: first_page.get(&date.to_string()).copied().unwrap_or(1),
                    expired: date < today,
                    today: date == today,
                    outside: date < today || date > last,
                }
            })
            .collect();
        weeks.push(week);
        day += Duration::days(7);
    }
    weeks
}

/// `/certificates`: leaf certificates ending within `days` (60 by
/// default), and those already expired, across every domain's latest scan.
pub async fn certificates(
    State(dashboard): State<Arc<Dashboard>>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (params, language) = match params(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let days = params.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return page::problem(
            &dashboard,
            language,
            Problem::bad_request(format!("days={days}: 1 to {MAX_DAYS}")),
        );
    }
    let now = Utc::now();
    let until = now + Duration::days(days);
    let certificates = match dashboard.store.certificates_ending_before(until).await {
        Ok(list) => list,
        Err(error) => return page::problem(&dashboard, language, Problem::from_history(error)),
    };
    let today = now.date_naive();
    let mut per_day = BTreeMap::new();
    let rows: Vec<CertificateRow> = certificates
        .into_iter()
        .map(|c| {
            let date = c.not_after.date_naive();
            if c.not_after >= now {
                *per_day.entry(date).or_insert(0) += 1;
            }
            CertificateRow {
                anchor: false,
                expired: c.not_after < now,
                date: date.to_string(),
                days_left: (c.not_after - now).num_days(),
                domain: c.domain,
                endpoint: c.endpoint,
                subject: c.subject,
                issuer: c.issuer,
                sha256: c.sha256,
                scan_id: c.scan_id,
            }
        })
        .collect();
    let mut rows = rows;
    let mut previous = String::new();
    for row in &mut rows {
        row.anchor = row.date != previous;
        previous.clone_from(&row.date);
    }
    let expired = rows.iter().filter(|r| r.expired).count();
    let total = rows.len() as i64;
    let page_number = match page_number(&params) {
        Ok(page) => page,
        Err(detail) => return page::problem(&dashboard, language, Problem::bad_request(detail)),
    };
    // A calendar day links to the page holding its first row.
    let mut first_page = BTreeMap::new();
    for (n, row) in rows.iter().enumerate() {
        if row.anchor {
            first_page.insert(row.date.clone(), n as i64 / CERTIFICATES_PER_PAGE + 1);
        }
    }
    let rows: Vec<CertificateRow> = rows
        .into_iter()
        .skip(((page_number - 1) * CERTIFICATES_PER_PAGE) as usize)
        .take(CERTIFICATES_PER_PAGE as usize)
        .collect();
    let page = CertificatesPage {
        weekdays: strings::get(language, "dash_weekdays")
            .split(',')
            .map(str::to_string)
            .collect(),
        days,
        expired,
        upcoming: total as usize - expired,
        weeks: weeks(
            today,
            (now + Duration::days(days)).date_naive(),
            &per_day,
            &first_page,
            &strings::get(language, "dash_months")
                .split(',')
                .map(str::to_string)
                .collect::<Vec<_>>(),
        ),
        rows,
        page: page_number,
        pages: pages(total, CERTIFICATES_PER_PAGE),
    };
    page::render(
        &dashboard,
        language,
        "certificates.html",
        "certificates",
        page,
    )
}

#[derive(Serialize)]
struct FindingRow {
    domain: String,
    rule: String,
    subject: String,
    severity: String,
    severity_label: String,
    title: String,
    since: String,
    age_days: i64,
    scan_id: i64,
}

#[derive(Serialize)]
struct Severity {
    name: &'static str,
    label: String,
}

#[derive(Serialize)]
struct AgeRow {
    severity: String,
    label: String,
    buckets: [i64; 4],
    total: i64,
}

#[derive(Serialize)]
struct FindingsPage {
    severities: Vec<Severity>,
    total: i64,
    by_age: Vec<AgeRow>,
    bucket_days: [i64; 3],
    rows: Vec<FindingRow>,
    page: i64,
    pages: i64,
    domain: String,
    severity: String,
}

const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// `/findings`: open findings, oldest first, with counts by severity and
/// age; `domain`, `severity` and `page` narrow it.
pub async fn findings(
    State(dashboard): State<Arc<Dashboard>>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (params, language) = match params(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let bad = |detail: String| page::problem(&dashboard, language, Problem::bad_request(detail));
    let page_number = match page_number(&params) {
        Ok(page) => page,
        Err(detail) => return bad(detail),
    };
    let severity = params.severity.filter(|s| !s.is_empty());
    if let Some(severity) = &severity
        && !SEVERITIES.contains(&severity.as_str())
    {
        return bad(format!("severity={severity}: {}", SEVERITIES.join(", ")));
    }
    let domain = params.domain.filter(|d| !d.is_empty());
    if let Some(domain) = &domain
        && (domain.len() > 253
            || !domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c)))
    {
        return bad(format!("domain={domain}: not a domain name"));
    }

    let now = Utc::now();
    let query = OpenFindingsQuery {
        domain: domain.clone(),
        severity: severity.clone(),
        offset: (page_number - 1) * FINDINGS_PER_PAGE,
        limit: FINDINGS_PER_PAGE,
    };
    let open = match dashboard.store.open_findings(&query, now).await {
        Ok(open) => open,
        Err(error) => return page::problem(&dashboard, language, Problem::from_history(error)),
    };
    let label = |severity: &str| strings::get(language, &format!("severity_{severity}"));
    let page = FindingsPage {
        severities: SEVERITIES
            .iter()
            .map(|name| Severity {
                name,
                label: label(name),
            })
            .collect(),
        total: open.total,
        by_age: open
            .by_age
            .into_iter()
            .map(|b| AgeRow {
                label: label(&b.severity),
                severity: b.severity,
                buckets: b.buckets,
                total: b.total,
            })
            .collect(),
        bucket_days: AGE_BUCKET_DAYS,
        rows: open
            .rows
            .into_iter()
            .map(|f| FindingRow {
                since: f.failing_since.format("%Y-%m-%d").to_string(),
                age_days: days_between(f.failing_since, now),
                severity_label: label(&f.severity),
                domain: f.domain,
                rule: f.rule,
                subject: f.subject,
                severity: f.severity,
                title: f.title,
                scan_id: f.scan_id,
            })
            .collect(),
        page: page_number,
        pages: pages(open.total, FINDINGS_PER_PAGE),
        domain: domain.unwrap_or_default(),
        severity: severity.unwrap_or_default(),
    };
    page::render(&dashboard, language, "findings.html", "findings", page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_starts_on_the_monday_of_this_week() {
        // 2026-12-06 is a Sunday; 60 days on is 2027-02-04, a Thursday
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let last = today + Duration::days(60);
        let per_day = BTreeMap::from([(NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(), 3)]);
        let months: Vec<String> = "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec"
            .split(',')
            .map(str::to_string)
            .collect();
        let first_page = BTreeMap::from([("2027-01-05".to_string(), 2)]);
        let weeks = weeks(today, last, &per_day, &first_page, &months);
        assert_eq!(weeks[0][6].month, "Dec");
        assert_eq!(weeks[4][4].month, "Jan");
        assert_eq!(weeks[4][4].date, "2027-01-01");
        assert_eq!(weeks[0][0].date, "2026-11-30");
        assert!(weeks[0][0].outside && weeks[0][6].today && !weeks[0][6].outside);
        assert_eq!(weeks.last().unwrap()[3].date, "2027-02-04");
        assert!(weeks.last().unwrap()[4].outside);
        let count: usize = weeks.iter().flatten().map(|d| d.count).sum();
        assert_eq!(count, 3);
        assert_eq!(weeks.len(), 10);
        assert_eq!(weeks[5][1].date, "2027-01-05");
        assert_eq!((weeks[5][1].count, weeks[5][1].page), (3, 2));
    }
}
