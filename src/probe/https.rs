//! Bounded HTTPS GETs for the probes that read files from web servers:
//! the MTA-STS policy, autoconfig and autodiscover files, WKD policies.
//!
//! One client builder for all of them: TLS is a rustls config on our trust
//! store (webpki-roots plus `--ca-file`), the host name is resolved by our
//! own resolver and handed to reqwest with `resolve_to_addrs` (no system
//! DNS, no proxy), redirects are never followed, every exchange has a
//! timeout, and bodies are refused once they pass a size limit.

use crate::probe::context::ProbeContext;
use std::net::{IpAddr, SocketAddr};

/// Largest body read; files these probes fetch are a few hundred bytes.
pub const SIZE_LIMIT: usize = 64 * 1024;

/// What a server answered to a GET.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    /// The `Content-Type` header, empty when absent.
    pub content_type: String,
    /// The `Location` header of a redirect, which is recorded, not followed.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Builds a client that reaches `host` only at `addresses` on port 443.
pub fn client(
    context: &ProbeContext,
    host: &str,
    addresses: &[IpAddr],
) -> Result<reqwest::Client, String> {
    let tls = rustls::ClientConfig::builder_with_provider(context.trust.provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .with_root_certificates(context.trust.root_store())
        .with_no_client_auth();
    let targets: Vec<SocketAddr> = addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, 443))
        .collect();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // RFC 8461 §3.3 forbids following redirects for MTA-STS; the other
        // files are recorded as served too, so a redirect is evidence.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(context.connect_timeout)
        .timeout(context.step_timeout)
        .resolve_to_addrs(host, &targets)
        .user_agent(concat!("mailaudit/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTPS client: {}", chain(&e)))
}

/// GETs `https://{host}{path}` from `addresses`. `Err` when there was no
/// HTTP answer (refused, TLS failure, timeout) or the body was too large;
/// any status code is an answer.
pub async fn get(
    context: &ProbeContext,
    host: &str,
    path: &str,
    addresses: &[IpAddr],
) -> Result<Response, String> {
    let url = format!("https://{host}{path}");
    let client = client(context, host, addresses)?;
    let request = async {
        let mut response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("{url}: {}", chain(&e.without_url())))?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
        let location = header(reqwest::header::LOCATION);
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("{url}: {}", chain(&e.without_url())))?
        {
            if body.len() + chunk.len() > SIZE_LIMIT {
                return Err(format!("{url}: the body is larger than {SIZE_LIMIT} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            content_type,
            location,
            body,
        })
    };
    // reqwest's timeout covers the whole exchange; this is a second guard.
    match tokio::time::timeout(context.step_timeout + context.connect_timeout, request).await {
        Ok(result) => result,
        Err(_) => Err(format!("{url}: no complete answer in time")),
    }
}

/// An error with its sources, which carry the useful part ("invalid peer
/// certificate: certificate not valid for name ...").
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
