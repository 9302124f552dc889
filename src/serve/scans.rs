//! The dashboard's pages of recorded scans: a domain's scans, one scan
//! (its domains, grades and counts, with the full HTML report and the PDF
//! and JSON downloads), and the diff of two scans. The report.json is the
//! stored one, byte for byte; the HTML and PDF are rendered from it by the
//! report renderers, in the language it was recorded in.

use super::Dashboard;
use super::page::{self, Problem};
use crate::Language;
use crate::finding::Finding;
use axum::extract::{Path, Query, State, rejection::PathRejection, rejection::QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The query of the scan pages: only the language, and for the diff the
/// two scan ids.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn language(
    dashboard: &Dashboard,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<(Params, Language), Box<Response>> {
    let Query(params) = query.map_err(|e| {
        Box::new(page::problem(
            dashboard,
            dashboard.language,
            Problem::bad_request(e.body_text()),
        ))
    })?;
    let language = page::parse_language(params.lang.as_deref(), dashboard.language)
        .map_err(|p| Box::new(page::problem(dashboard, dashboard.language, p)))?;
    Ok((params, language))
}

/// A scan id from a path or query: a positive whole number.
fn scan_id(text: &str) -> Result<i64, Problem> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Problem::bad_request(format!("'{text}' is not a scan id (a whole number)")))
}

/// The scan id of a `/scans/{id}…` path.
fn path_id(path: Result<Path<String>, PathRejection>) -> Result<i64, Problem> {
    let Path(text) = path.map_err(|e| Problem::bad_request(e.body_text()))?;
    scan_id(&text)
}

macro_rules! or_page {
    ($dashboard:expr, $language:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(problem) => return page::problem(&$dashboard, $language, problem),
        }
    };
}

#[derive(Serialize)]
struct DomainPage {
    domain: String,
    scans: Vec<crate::history::read::DomainScan>,
    previous: Vec<Option<i64>>,
}

/// `/domains/{domain}`: the domain's scans, newest first.
pub async fn domain(
    State(dashboard): State<Arc<Dashboard>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (_, language) = match language(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let Path(domain) = or_page!(
        dashboard,
        language,
        path.map_err(|e| Problem::bad_request(e.body_text()))
    );
    let scans = or_page!(
        dashboard,
        language,
        dashboard
            .store
            .domain_scans(&domain)
            .await
            .map_err(Problem::from_history)
    );
    if scans.is_empty() {
        return page::problem(
            &dashboard,
            language,
            Problem {
                status: StatusCode::NOT_FOUND,
                key: "dash_error_unknown_domain",
                detail: domain,
            },
        );
    }
    let previous = (0..scans.len())
        .map(|i| scans.get(i + 1).map(|s| s.scan_id))
        .collect();
    page::render(
        &dashboard,
        language,
        "domain.html",
        "domains",
        DomainPage {
            domain,
            scans,
            previous,
        },
    )
}

#[derive(Serialize)]
struct ScanPage {
    scan: crate::history::read::ScanSummary,
    domains: Vec<crate::history::read::DomainScan>,
    pdf: bool,
}

/// `/scans/{id}`: one scan with its domains and downloads.
pub async fn scan(
    State(dashboard): State<Arc<Dashboard>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (_, language) = match language(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let id = or_page!(dashboard, language, path_id(path));
    let store = &dashboard.store;
    let scan = or_page!(
        dashboard,
        language,
        store.scan(id).await.map_err(Problem::from_history)
    );
    let domains = or_page!(
        dashboard,
        language,
        store.scan_domains(id).await.map_err(Problem::from_history)
    );
    let page = ScanPage {
        scan,
        domains,
        pdf: cfg!(feature = "pdf"),
    };
    page::render(&dashboard, language, "scan.html", "domains", page)
}

/// The stored report of a scan, parsed.
async fn stored_report(dashboard: &Dashboard, id: i64) -> Result<crate::report::Report, Problem> {
    dashboard
        .store
        .report(id)
        .await
        .map_err(Problem::from_history)
}

/// The recorded report.json of a scan, byte for byte.
async fn stored_document(dashboard: &Dashboard, id: i64) -> Result<Vec<u8>, Problem> {
    let scan = dashboard
        .store
        .scan(id)
        .await
        .map_err(Problem::from_history)?;
    dashboard
        .store
        .document(&scan.report_sha256)
        .await
        .map_err(Problem::from_history)
}

/// `/scans/{id}/report.html`: the full HTML report, as `scan` writes it.
pub async fn report_html(
    State(dashboard): State<Arc<Dashboard>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (_, language) = match language(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let id = or_page!(dashboard, language, path_id(path));
    let report = or_page!(dashboard, language, stored_report(&dashboard, id).await);
    match crate::report::html::render(&report) {
        Ok(html) => Html(html).into_response(),
        Err(error) => page::problem(
            &dashboard,
            language,
            Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                key: "dash_error_render",
                detail: error.to_string(),
            },
        ),
    }
}

/// A download: the bytes with their type and file name.
fn download(bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `/scans/{id}/report.json`: the recorded report.json, byte for byte.
pub async fn report_json(
    State(dashboard): State<Arc<Dashboard>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (_, language) = match language(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let id = or_page!(dashboard, language, path_id(path));
    let bytes = or_page!(dashboard, language, stored_document(&dashboard, id).await);
    download(bytes, "application/json", format!("report-{id}.json"))
}

/// `/scans/{id}/report.pdf`: the PDF/A-3b report with the recorded
/// report.json attached, rendered on request (404 in a build without the
/// PDF engine).
pub async fn report_pdf(
    State(dashboard): State<Arc<Dashboard>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (_, language) = match language(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let id = or_page!(dashboard, language, path_id(path));
    if !cfg!(feature = "pdf") {
        return page::problem(
            &dashboard,
            language,
            Problem {
                status: StatusCode::NOT_FOUND,
                key: "dash_error_no_pdf",
                detail: String::new(),
            },
        );
    }
    let document = or_page!(dashboard, language, stored_document(&dashboard, id).await);
    let report: crate::report::Report = or_page!(
        dashboard,
        language,
        serde_json::from_slice(&document).map_err(|error| Problem::from_history(
            crate::history::HistoryError::Damaged {
                what: format!("the report.json of scan {id}"),
                error: error.to_string(),
            }
        ))
    );
    let rendered = tokio::task::spawn_blocking(move || {
        let text = String::from_utf8_lossy(&document);
        crate::report::pdf::render(&report, &text, crate::report::pdf::PdfStandard::A3b)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    match rendered {
        Ok(bytes) => download(bytes, "application/pdf", format!("report-{id}.pdf")),
        Err(detail) => page::problem(
            &dashboard,
            language,
            Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                key: "dash_error_render",
                detail,
            },
        ),
    }
}

#[derive(Serialize)]
struct DiffPage {
    diff: crate::history::diff::ScanDiff,
    regression: bool,
}

/// `/diff?from=A&to=B`: findings new, fixed, returned and unchanged.
pub async fn diff(
    State(dashboard): State<Arc<Dashboard>>,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let (params, language) = match language(&dashboard, query) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let (Some(from), Some(to)) = (params.from.as_deref(), params.to.as_deref()) else {
        return page::problem(
            &dashboard,
            language,
            Problem::bad_request("from and to: the ids of the two scans, e.g. /diff?from=3&to=7"),
        );
    };
    let from = or_page!(dashboard, language, scan_id(from));
    let to = or_page!(dashboard, language, scan_id(to));
    let mut diff = or_page!(
        dashboard,
        language,
        dashboard
            .store
            .diff(from, to)
            .await
            .map_err(Problem::from_history)
    );
    let by_rule = |a: &Finding, b: &Finding| (&a.rule, &a.subject).cmp(&(&b.rule, &b.subject));
    diff.new.sort_by(by_rule);
    diff.fixed.sort_by(by_rule);
    diff.unchanged.sort_by(by_rule);
    let page = DiffPage {
        regression: diff.is_regression(),
        diff,
    };
    page::render(&dashboard, language, "diff.html", "", page)
}
