//! Data location (LOC-001): the country of every endpoint address and MX
//! address from RDAP. The IANA bootstrap registry (RFC 9224) names the RIR
//! responsible for an address; the RIR's `ip/ADDRESS` answer (RFC 9083
//! §5.4, an "ip network" object) names the network and its country.
//!
//! HTTPS goes through reqwest on our own trust store with host names
//! resolved by our resolver (`resolve_to_addrs`), as for MTA-STS. RIRs
//! redirect to each other (an ARIN query for a RIPE address answers 301),
//! so up to [`MAX_REDIRECTS`] redirects are followed by hand, to https only,
//! each target resolved by our resolver again. Bodies are size-limited and
//! every request has a timeout; JSON is read without panicking on any shape.
//!
//! Answers are cached per address for the whole scan ([`RdapCache`]): the
//! endpoints of one provider usually share a handful of addresses.
//!
//! Only the country code is recorded; whether it is in the EEA or has an
//! adequacy decision is judged by the rules stage under its dated table
//! (`rules/tables/countries.toml`).

mod bootstrap;
pub mod cache;

pub use bootstrap::{Bootstrap, special_purpose};
pub use cache::{LocationSettings, RdapCache};

use crate::evidence::{
    AddressLocation, Attempt, EndpointEvidence, LocationEvidence, MxHostEvidence, RdapNetwork,
};
use crate::probe::context::ProbeContext;
use crate::probe::dns::Dns;
use crate::probe::https::{self, chain};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// IANA's bootstrap registry, the default base URL.
pub const IANA_BOOTSTRAP: &str = "https://data.iana.org/rdap/";
/// Bootstrap files are about 20 KiB today.
pub const BOOTSTRAP_LIMIT: usize = 1024 * 1024;
/// An ip network object is a few KiB, with entities and remarks.
pub const ANSWER_LIMIT: usize = 256 * 1024;
/// RIRs redirect a query to the responsible RIR once; three leaves room
/// for a RIR that redirects to a regional mirror without allowing loops.
pub const MAX_REDIRECTS: usize = 3;

/// Looks up every endpoint and MX address of one domain.
pub async fn probe(
    context: &ProbeContext,
    dns: &Dns,
    endpoints: &[EndpointEvidence],
    mx_hosts: &[MxHostEvidence],
) -> Attempt<LocationEvidence> {
    let cache = &context.location;
    let base = match &cache.settings {
        LocationSettings::Off => return Attempt::skipped("skipped: --no-location"),
        LocationSettings::Rdap { base, .. } => base.clone(),
    };
    let mut addresses: BTreeMap<IpAddr, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for endpoint in endpoints {
        if let Some(tcp) = endpoint.tcp.value() {
            let entry = addresses.entry(tcp.address.ip()).or_default();
            push_unique(&mut entry.0, &endpoint.host);
            push_unique(&mut entry.1, &endpoint.subject);
        }
    }
    for host in mx_hosts {
        for address in host.addresses.value().into_iter().flatten() {
            push_unique(&mut addresses.entry(*address).or_default().0, &host.host);
        }
    }
    let mut located = Vec::new();
    for (address, (hosts, subjects)) in addresses {
        let rdap = lookup(context, dns, address).await;
        located.push(AddressLocation {
            address,
            hosts,
            subjects,
            rdap,
        });
    }
    Attempt::completed(LocationEvidence {
        bootstrap: base,
        addresses: located,
    })
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|i| i == item) {
        list.push(item.to_string());
    }
}

/// The RDAP network of one address, from the cache or the network.
async fn lookup(context: &ProbeContext, dns: &Dns, address: IpAddr) -> Attempt<RdapNetwork> {
    let cache = &context.location;
    let LocationSettings::Rdap { base, explicit } = &cache.settings else {
        return Attempt::skipped("skipped: --no-location");
    };
    if let Some(why) = special_purpose(address).filter(|_| !explicit) {
        return Attempt::skipped(format!(
            "{address} is a special-purpose address ({why}): not routable, no registry"
        ));
    }
    if let Some(cached) = cache
        .answers
        .lock()
        .ok()
        .and_then(|a| a.get(&address).cloned())
    {
        return cached;
    }
    let started = std::time::Instant::now();
    let result = async {
        let (cell, file) = if address.is_ipv4() {
            (&cache.ipv4, "ipv4.json")
        } else {
            (&cache.ipv6, "ipv6.json")
        };
        let bootstrap = cell
            .get_or_init(|| async {
                let url = format!("{base}{file}");
                let (_, json) = fetch_json(context, dns, &url, BOOTSTRAP_LIMIT).await?;
                Bootstrap::parse(&json).map_err(|e| format!("{url}: {e}"))
            })
            .await
            .clone()?;
        let urls = bootstrap.lookup(address).ok_or_else(|| {
            format!("the RDAP bootstrap {base}{file} names no service for {address}")
        })?;
        // RFC 9224 §3: prefer https; plain http only when the bootstrap
        // itself was given as http (a test registry).
        let service = urls
            .iter()
            .find(|u| u.starts_with("https://"))
            .or_else(|| {
                urls.iter()
                    .find(|u| base.starts_with("http://") && u.starts_with("http://"))
            })
            .ok_or_else(|| format!("no https RDAP service for {address} in {urls:?}"))?;
        let separator = if service.ends_with('/') { "" } else { "/" };
        let url = format!("{service}{separator}ip/{address}");
        let (url, json) = fetch_json(context, dns, &url, ANSWER_LIMIT).await?;
        network(&url, &json)
    }
    .await;
    let attempt = Attempt::from(result).timed(started);
    if let Ok(mut answers) = cache.answers.lock() {
        answers.insert(address, attempt.clone());
    }
    attempt
}

/// Reads an RFC 9083 §5.4 ip network object.
pub fn network(url: &str, json: &Value) -> Result<RdapNetwork, String> {
    let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_string);
    if let Some(code) = json.get("errorCode") {
        return Err(format!(
            "{url}: RDAP error {code}: {}",
            text("title").unwrap_or_default()
        ));
    }
    if let Some(class) = text("objectClassName").filter(|c| c != "ip network") {
        return Err(format!(
            "{url}: the answer is an '{class}', not an 'ip network'"
        ));
    }
    let country = text("country")
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic()))
        .ok_or_else(|| format!("{url}: the RDAP network names no country"))?;
    Ok(RdapNetwork {
        url: url.to_string(),
        handle: text("handle"),
        name: text("name"),
        start_address: text("startAddress"),
        end_address: text("endAddress"),
        country,
    })
}

/// GETs `url` as JSON, following at most [`MAX_REDIRECTS`] redirects to
/// https. Returns the final URL and the document.
async fn fetch_json(
    context: &ProbeContext,
    dns: &Dns,
    url: &str,
    limit: usize,
) -> Result<(String, Value), String> {
    let mut url = reqwest::Url::parse(url).map_err(|e| format!("{url}: not a URL: {e}"))?;
    for _ in 0..=MAX_REDIRECTS {
        let overall = context.step_timeout + context.connect_timeout;
        let step = tokio::time::timeout(overall, get(context, dns, &url, limit));
        match step.await {
            Err(_) => return Err(format!("{url}: no complete answer in time")),
            Ok(Err(reason)) => return Err(reason),
            Ok(Ok(Fetched::Body(body))) => {
                let json = serde_json::from_slice(&body)
                    .map_err(|e| format!("{url}: the answer is not JSON: {e}"))?;
                return Ok((url.to_string(), json));
            }
            Ok(Ok(Fetched::Redirect(location))) => {
                let next = url
                    .join(&location)
                    .map_err(|e| format!("{url}: redirect to '{location}' is not a URL: {e}"))?;
                if next.scheme() != "https" {
                    return Err(format!("{url}: redirect to {next} is not https"));
                }
                url = next;
            }
        }
    }
    Err(format!("{url}: more than {MAX_REDIRECTS} redirects"))
}

enum Fetched {
    Body(Vec<u8>),
    Redirect(String),
}

/// One request without following redirects.
async fn get(
    context: &ProbeContext,
    dns: &Dns,
    url: &reqwest::Url,
    limit: usize,
) -> Result<Fetched, String> {
    let host = url.host_str().ok_or_else(|| format!("{url}: no host"))?;
    // A host name goes through our resolver, never the system's; the
    // client builder is shared with the other HTTPS probes (no proxy, no
    // redirects, our trust store). reqwest takes the port from the URL.
    let addresses = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => vec![ip],
        Err(_) => {
            let addresses = dns.addresses(host).await;
            match addresses.value() {
                Some(list) if !list.is_empty() => list.clone(),
                Some(_) => return Err(format!("{url}: {host} has no address")),
                None => {
                    return Err(format!(
                        "{url}: {}",
                        addresses.reason.as_deref().unwrap_or("no DNS answer")
                    ));
                }
            }
        }
    };
    let client = https::client(context, host, &addresses)?;
    let mut response = client
        .get(url.clone())
        .header(
            reqwest::header::ACCEPT,
            "application/rdap+json, application/json",
        )
        .send()
        .await
        .map_err(|e| format!("{url}: {}", chain(&e.without_url())))?;
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| format!("{url}: HTTP {status} without a Location"))?;
        return Ok(Fetched::Redirect(location.to_string()));
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(format!("{url}: HTTP 404, the registry has no record"));
    }
    if status != reqwest::StatusCode::OK {
        return Err(format!("{url}: HTTP {status}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("{url}: {}", chain(&e.without_url())))?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!("{url}: the answer is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched::Body(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_ip_network_gives_its_country() {
        let network = network(
            "https://rdap.example/ip/192.0.2.1",
            &json!({"objectClassName": "ip network", "handle": "NET-1", "name": "EXAMPLE",
                    "startAddress": "192.0.2.0", "endAddress": "192.0.2.255", "country": "us"}),
        )
        .unwrap();
        assert_eq!(network.country, "US");
        assert_eq!(network.handle.as_deref(), Some("NET-1"));
        for bad in [
            json!({"objectClassName": "ip network"}),
            json!({"objectClassName": "ip network", "country": 49}),
            json!({"objectClassName": "ip network", "country": "Germany"}),
            json!({"objectClassName": "autnum", "country": "DE"}),
            json!({"errorCode": 404, "title": "Not Found"}),
            json!([1, 2, 3]),
            json!(null),
        ] {
            assert!(network_err(&bad), "{bad}");
        }
    }

    fn network_err(json: &Value) -> bool {
        network("u", json).is_err()
    }
}
