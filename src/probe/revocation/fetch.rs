//! Bounded HTTP for the revocation probe: an OCSP POST (RFC 6960 §A.1,
//! `application/ocsp-request`) or a CRL GET, only to the `http://` URL the
//! certificate names. The host is resolved by the scan's own resolver and
//! handed to reqwest (no system DNS, no proxy), redirects are not followed
//! (the certificate names where its status lives), and every exchange has
//! a timeout and a size limit, so a slow or endless responder costs at
//! most the timeout and the limit.

pub use crate::probe::context::RevocationLimits as Limits;
use crate::probe::dns::Dns;
use crate::probe::https::chain;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// What to send.
pub enum Request<'a> {
    /// POST this DER OCSPRequest.
    Ocsp(&'a [u8]),
    /// GET the CRL.
    Crl,
}

/// Fetches `url`. `Err` is why no usable body came (ready for evidence).
pub async fn fetch(
    dns: &Dns,
    url: &str,
    request: Request<'_>,
    limits: Limits,
) -> Result<Vec<u8>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("the URL does not parse: {e}"))?;
    if parsed.scheme() != "http" {
        // RFC 5280 §4.2.1.13 and RFC 6960 §A.1 use http; fetching over
        // https would need revocation checking of its own.
        return Err(format!("the URL's scheme {} is not http", parsed.scheme()));
    }
    let host = parsed
        .host_str()
        .ok_or("the URL names no host")?
        .trim_matches(['[', ']'])
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(address) => vec![address],
        Err(_) => {
            let found = dns.addresses(&host).await;
            match found.value() {
                Some(list) if !list.is_empty() => list.clone(),
                _ => {
                    return Err(format!(
                        "{host} has no address: {}",
                        found.reason.as_deref().unwrap_or("no A or AAAA record")
                    ));
                }
            }
        }
    };
    let targets: Vec<SocketAddr> = addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, port))
        .collect();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(limits.timeout)
        .resolve_to_addrs(&host, &targets)
        .user_agent(concat!("mailaudit/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", chain(&e)))?;
    let (builder, limit) = match request {
        Request::Ocsp(body) => (
            client
                .post(parsed)
                .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
                .body(body.to_vec()),
            limits.ocsp_bytes,
        ),
        Request::Crl => (client.get(parsed), limits.crl_bytes),
    };
    let exchange = async {
        let mut response = builder.send().await.map_err(|e| chain(&e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP status {}", status.as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| chain(&e.without_url()))?
        {
            if body.len() + chunk.len() > limit {
                return Err(format!("the answer is larger than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    // reqwest's timeout covers the exchange; this is a second guard.
    tokio::time::timeout(limits.timeout + Duration::from_secs(1), exchange)
        .await
        .unwrap_or_else(|_| Err(format!("no complete answer within {:?}", limits.timeout)))
}
