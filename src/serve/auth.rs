//! The dashboard's token. On a loopback address it is optional; anywhere
//! else `mailaudit serve` refuses to start without one. A request carries
//! it as `Authorization: Bearer TOKEN` (scripts) or as the password of
//! HTTP Basic authentication with any user name (browsers ask for it).
//! Both sides are hashed with SHA-256 and the digests compared without an
//! early exit, so the time a wrong token takes does not tell how much of
//! it was right.

use super::Dashboard;
use super::page::{self, Problem};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The shortest token accepted.
pub const MIN_TOKEN_LENGTH: usize = 16;

/// The dashboard's secret; never printed.
pub struct Token(Zeroizing<String>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// A token from its text, without surrounding white space (a file's
    /// trailing newline).
    pub fn new(text: &str) -> Token {
        Token(Zeroizing::new(text.trim().to_string()))
    }

    /// Its length in characters.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `given` is this token, in time independent of where they
    /// differ.
    pub fn matches(&self, given: &[u8]) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(given);
        let difference = expected
            .iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(difference) == 0
    }
}

/// The secret a request carries: the Bearer token, or the Basic password.
fn presented(request: &Request) -> Option<Zeroizing<Vec<u8>>> {
    let value = request.headers().get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = value.split_at(value.iter().position(|b| *b == b' ')?);
    let rest = rest.trim_ascii();
    if scheme.eq_ignore_ascii_case(b"bearer") {
        return Some(Zeroizing::new(rest.to_vec()));
    }
    if scheme.eq_ignore_ascii_case(b"basic") {
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?,
        );
        let colon = decoded.iter().position(|b| *b == b':')?;
        return Some(Zeroizing::new(decoded[colon + 1..].to_vec()));
    }
    None
}

/// Lets a request through when no token is set or it carries the token;
/// answers 401 with a Basic challenge otherwise.
pub async fn require_token(
    State(dashboard): State<Arc<Dashboard>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &dashboard.token else {
        return next.run(request).await;
    };
    let language = page::language_of(request.uri().query(), dashboard.language);
    let accepted = presented(&request).is_some_and(|given| token.matches(&given));
    if accepted {
        return next.run(request).await;
    }
    let mut response = page::problem(
        &dashboard,
        language,
        Problem {
            status: StatusCode::UNAUTHORIZED,
            key: "dash_error_token",
            detail: String::new(),
        },
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"mailaudit dashboard\", charset=\"UTF-8\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_only_itself() {
        let token = Token::new("correct horse battery staple\n");
        assert!(token.matches(b"correct horse battery staple"));
        assert!(!token.matches(b"correct horse battery stapl"));
        assert!(!token.matches(b"correct horse battery staplex"));
        assert!(!token.matches(b""));
        assert_eq!(token.len(), 28);
        assert_eq!(format!("{token:?}"), "Token(…)");
    }

    #[test]
    fn the_token_is_read_from_bearer_or_basic() {
        let with = |value: &str| {
            Request::builder()
                .header(header::AUTHORIZATION, value)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let secret = |value: &str| presented(&with(value)).map(|s| s.to_vec());
        assert_eq!(secret("Bearer abc"), Some(b"abc".to_vec()));
        // "auditor:s3cret:x" in Basic: the password is everything after the first colon
        let basic = base64::engine::general_purpose::STANDARD.encode("auditor:s3cret:x");
        assert_eq!(
            secret(&format!("Basic {basic}")),
            Some(b"s3cret:x".to_vec())
        );
        assert_eq!(secret("Basic !!!"), None);
        assert_eq!(secret("Digest abc"), None);
        assert_eq!(secret("Bearer"), None);
    }
}
