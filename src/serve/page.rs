//! The frame every dashboard page shares: the Tera templates in
//! `report-templates/dashboard/` (embedded at build time, autoescaped),
//! the de/en texts of `report-templates/i18n.toml`, the language a request
//! asks for (`?lang=de|en`), the response headers (no scripts, no frames,
//! no caching of personal data), and the error page a bad request gets:
//! a status, a sentence in the page's language, never a stack trace.

use super::Dashboard;
use crate::Language;
use crate::history::HistoryError;
use crate::report::strings;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use std::sync::{Arc, OnceLock};

const TEMPLATES: [(&str, &str); 9] = [
    (
        "head.html",
        include_str!("../../report-templates/dashboard/head.html"),
    ),
    (
        "foot.html",
        include_str!("../../report-templates/dashboard/foot.html"),
    ),
    (
        "domains.html",
        include_str!("../../report-templates/dashboard/domains.html"),
    ),
    (
        "certificates.html",
        include_str!("../../report-templates/dashboard/certificates.html"),
    ),
    (
        "findings.html",
        include_str!("../../report-templates/dashboard/findings.html"),
    ),
    (
        "domain.html",
        include_str!("../../report-templates/dashboard/domain.html"),
    ),
    (
        "scan.html",
        include_str!("../../report-templates/dashboard/scan.html"),
    ),
    (
        "diff.html",
        include_str!("../../report-templates/dashboard/diff.html"),
    ),
    (
        "error.html",
        include_str!("../../report-templates/dashboard/error.html"),
    ),
];

/// The templates, parsed once. They are part of the build and parsed by a
/// unit test, so an error here is a build defect; it is still answered
/// with a 500 page rather than a panic.
fn templates() -> &'static Result<tera::Tera, String> {
    static TERA: OnceLock<Result<tera::Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(TEMPLATES)
            .map(|_| tera)
            .map_err(|e| format!("{e:?}"))
    })
}

/// The language of `?lang=` in a raw query, else `default`.
pub fn language_of(query: Option<&str>, default: Language) -> Language {
    query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The `lang` parameter every page takes: de or en.
pub fn parse_language(value: Option<&str>, default: Language) -> Result<Language, Problem> {
    match value {
        None | Some("") => Ok(default),
        Some(text) => text.parse().map_err(|_| Problem {
            status: StatusCode::BAD_REQUEST,
            key: "dash_error_query",
            detail: format!("lang={text}: de or en"),
        }),
    }
}

fn code(language: Language) -> &'static str {
    match language {
        Language::De => "de",
        Language::En => "en",
    }
}

/// What went wrong with a request, for the error page.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// The i18n key of the sentence shown.
    pub key: &'static str,
    /// What exactly (shown below the sentence; may be empty).
    pub detail: String,
}

impl Problem {
    /// A malformed query or path.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem {
            status: StatusCode::BAD_REQUEST,
            key: "dash_error_query",
            detail: detail.into(),
        }
    }

    /// A history that could not answer: an unknown scan or document is
    /// 404, anything else 500 (with the store's own sentence, which never
    /// holds a password).
    pub fn from_history(error: HistoryError) -> Problem {
        match error {
            HistoryError::UnknownScan { .. } | HistoryError::UnknownDocument { .. } => Problem {
                status: StatusCode::NOT_FOUND,
                key: "dash_error_unknown_scan",
                detail: error.to_string(),
            },
            other => Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                key: "dash_error_history",
                detail: other.to_string(),
            },
        }
    }
}

/// Renders `template` with the page data under `page`.
pub fn render(
    dashboard: &Dashboard,
    language: Language,
    template: &str,
    active: &str,
    page: impl Serialize,
) -> Response {
    let rendered = templates().as_ref().map_err(Clone::clone).and_then(|tera| {
        let mut context = tera::Context::new();
        context.insert("t", strings::all(language));
        context.insert("lang", code(language));
        context.insert("active", active);
        context.insert("locked", &dashboard.token.is_some());
        context.insert("page", &page);
        tera.render(template, &context)
            .map_err(|e| format!("{e:?}"))
    });
    match rendered {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!("dashboard template {template}: {error}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the page {template} could not be rendered; see the server's log"),
            )
                .into_response()
        }
    }
}

/// The error page for `problem`.
pub fn problem(dashboard: &Dashboard, language: Language, problem: Problem) -> Response {
    #[derive(Serialize)]
    struct ErrorPage {
        status: u16,
        message: String,
        detail: String,
    }
    let mut response = render(
        dashboard,
        language,
        "error.html",
        "",
        ErrorPage {
            status: problem.status.as_u16(),
            message: strings::get(language, problem.key),
            detail: problem.detail,
        },
    );
    *response.status_mut() = problem.status;
    response
}

/// Any path no route knows: 404.
pub async fn not_found(State(dashboard): State<Arc<Dashboard>>, uri: Uri) -> Response {
    let language = language_of(uri.query(), dashboard.language);
    problem(
        &dashboard,
        language,
        Problem {
            status: StatusCode::NOT_FOUND,
            key: "dash_error_not_found",
            detail: uri.path().to_string(),
        },
    )
}

/// Headers on every response: no scripts or outside resources, no
/// framing, no referrer, and no copies of personal data in caches.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        assert!(templates().is_ok(), "{:?}", templates().as_ref().err());
    }

    #[test]
    fn the_language_comes_from_the_query() {
        assert_eq!(language_of(Some("a=1&lang=en"), Language::De), Language::En);
        assert_eq!(language_of(Some("lang=xx"), Language::De), Language::De);
        assert_eq!(language_of(None, Language::En), Language::En);
        assert!(parse_language(Some("fr"), Language::De).is_err());
        assert_eq!(
            parse_language(Some("de"), Language::En).unwrap(),
            Language::De
        );
    }
}
