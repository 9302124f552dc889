//! Client configuration discovery: which servers a mail client is told to
//! use, from Thunderbird autoconfig (`https://autoconfig.DOMAIN/mail/config-v1.1.xml`
//! and the ISP-hosted `https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml`),
//! Microsoft autodiscover where a plain GET shows it, and the SRV records
//! discovery already looked up (RFC 6186, RFC 8314).
//!
//! Only HTTPS with a validated certificate, only GET (autodiscover usually
//! wants a POST with credentials and answers a GET with 401 or 405; that
//! status is recorded and nothing more is sent), no redirects followed,
//! 64 KiB and a timeout per file ([`super::https`]). Thunderbird also tries
//! plain HTTP for autoconfig; we do not, because what it would read there
//! is not authenticated and the point here is what a provider publishes.

pub(crate) mod xml;

use super::context::ProbeContext;
use super::dns::Dns;
use super::https;
use crate::evidence::{
    Attempt, ClientConfigEvidence, ConfigDocument, DeclaredServer, DnsEvidence, HttpsAnswer,
};
use std::net::IpAddr;
use std::time::Instant;
use xml::Event;

/// Fetches the configuration files of `domain` and lists every declared server.
pub async fn probe(
    context: &ProbeContext,
    dns: &Dns,
    domain: &str,
    dns_evidence: &DnsEvidence,
) -> ClientConfigEvidence {
    let autoconfig_host = format!("autoconfig.{domain}");
    let autodiscover_host = format!("autodiscover.{domain}");
    let (autoconfig, well_known, autodiscover) = tokio::join!(
        document(
            context,
            dns,
            "autoconfig",
            &autoconfig_host,
            "/mail/config-v1.1.xml",
        ),
        document(
            context,
            dns,
            "autoconfig-well-known",
            domain,
            "/.well-known/autoconfig/mail/config-v1.1.xml",
        ),
        document(
            context,
            dns,
            "autodiscover",
            &autodiscover_host,
            "/autodiscover/autodiscover.xml",
        ),
    );
    let documents = vec![autoconfig, well_known, autodiscover];
    let mut declared: Vec<DeclaredServer> = documents
        .iter()
        .flat_map(|d| d.servers.iter().cloned())
        .collect();
    declared.extend(from_srv(dns_evidence));
    ClientConfigEvidence {
        documents,
        declared,
    }
}

/// The servers the SRV records of discovery name; a target of `.` (service
/// not offered, RFC 6186 §4) declares nothing.
fn from_srv(dns_evidence: &DnsEvidence) -> Vec<DeclaredServer> {
    let mut servers = Vec::new();
    for lookup in &dns_evidence.srv {
        let (protocol, socket_type) = match lookup.service.as_str() {
            "imap" => ("imap", "STARTTLS"),
            "imaps" => ("imap", "SSL"),
            "pop3" => ("pop3", "STARTTLS"),
            "pop3s" => ("pop3", "SSL"),
            "submission" => ("smtp", "STARTTLS"),
            "submissions" => ("smtp", "SSL"),
            _ => continue,
        };
        for record in lookup.records.value().into_iter().flatten() {
            if record.target.is_empty() || record.target == "." || record.port == 0 {
                continue;
            }
            servers.push(DeclaredServer {
                source: "srv".to_string(),
                protocol: protocol.to_string(),
                hostname: record.target.clone(),
                port: Some(record.port),
                socket_type: Some(socket_type.to_string()),
            });
        }
    }
    servers
}

async fn document(
    context: &ProbeContext,
    dns: &Dns,
    source: &str,
    host: &str,
    path: &str,
) -> ConfigDocument {
    let started = Instant::now();
    let mut document = ConfigDocument {
        source: source.to_string(),
        url: format!("https://{host}{path}"),
        response: Attempt::skipped("not fetched"),
        servers: Vec::new(),
        errors: Vec::new(),
    };
    let body = match fetch(context, dns, host, path).await {
        Err(reason) => {
            document.response = Attempt::failed(reason).timed(started);
            return document;
        }
        Ok((addresses, response)) => {
            document.response = Attempt::completed(HttpsAnswer {
                addresses: addresses.iter().map(IpAddr::to_string).collect(),
                status: response.status,
                content_type: response.content_type.clone(),
                location: response.location.clone(),
                size: response.body.len(),
            })
            .timed(started);
            (response.status == 200).then_some(response.body)
        }
    };
    if let Some(body) = body {
        let text = String::from_utf8_lossy(&body);
        let parsed = if source == "autodiscover" {
            parse_autodiscover(&text, source)
        } else {
            parse_autoconfig(&text, source)
        };
        match parsed {
            Ok(servers) => document.servers = servers,
            Err(error) => document.errors.push(error),
        }
    }
    document
}

/// Resolves `host` with our resolver and GETs `path` from it.
pub(crate) async fn fetch(
    context: &ProbeContext,
    dns: &Dns,
    host: &str,
    path: &str,
) -> Result<(Vec<IpAddr>, https::Response), String> {
    let addresses = dns.addresses(host).await;
    let Some(addresses) = addresses.value().cloned() else {
        return Err(addresses
            .reason
            .unwrap_or_else(|| format!("{host}: no answer")));
    };
    if addresses.is_empty() {
        return Err(format!("{host} has no address"));
    }
    let response = https::get(context, host, path, &addresses).await?;
    Ok((addresses, response))
}

/// The servers of a Thunderbird `clientConfig` (version 1.1): every
/// `incomingServer` and `outgoingServer` with its `type`, `hostname`,
/// `port` and `socketType`.
pub fn parse_autoconfig(text: &str, source: &str) -> Result<Vec<DeclaredServer>, String> {
    let events = xml::events(text)?;
    match events.first() {
        Some(Event::Start { name, .. }) if name == "clientConfig" => {}
        _ => return Err("the file is not a Thunderbird clientConfig".to_string()),
    }
    let mut servers = Vec::new();
    let mut current: Option<DeclaredServer> = None;
    let mut element = String::new();
    for event in events {
        match event {
            Event::Start { name, attributes } => {
                if name == "incomingServer" || name == "outgoingServer" {
                    let protocol = attributes
                        .iter()
                        .find(|(k, _)| k == "type")
                        .map(|(_, v)| v.to_ascii_lowercase())
                        .unwrap_or_default();
                    current = Some(DeclaredServer {
                        source: source.to_string(),
                        protocol,
                        ..DeclaredServer::default()
                    });
                }
                element = name;
            }
            Event::Text(text) => {
                if let Some(server) = current.as_mut() {
                    match element.as_str() {
                        "hostname" => server.hostname = text.to_ascii_lowercase(),
                        "port" => server.port = text.parse().ok(),
                        "socketType" => server.socket_type = Some(text),
                        _ => {}
                    }
                }
            }
            Event::End(name) => {
                if (name == "incomingServer" || name == "outgoingServer")
                    && let Some(server) = current.take()
                {
                    servers.push(server);
                }
                element.clear();
            }
        }
    }
    Ok(servers)
}

/// The `Protocol` blocks of an autodiscover answer (POX schema): `Type`
/// (IMAP, POP3, SMTP, …), `Server`, `Port`, and `Encryption` or `SSL`.
pub fn parse_autodiscover(text: &str, source: &str) -> Result<Vec<DeclaredServer>, String> {
    let events = xml::events(text)?;
    match events.first() {
        Some(Event::Start { name, .. }) if name == "Autodiscover" => {}
        _ => return Err("the file is not an Autodiscover answer".to_string()),
    }
    let mut servers = Vec::new();
    let mut current: Option<(DeclaredServer, Option<String>)> = None;
    let mut element = String::new();
    for event in events {
        match event {
            Event::Start { name, .. } => {
                if name == "Protocol" {
                    current = Some((
                        DeclaredServer {
                            source: source.to_string(),
                            ..DeclaredServer::default()
                        },
                        None,
                    ));
                }
                element = name;
            }
            Event::Text(text) => {
                if let Some((server, ssl)) = current.as_mut() {
                    match element.as_str() {
                        "Type" => server.protocol = text.to_ascii_lowercase(),
                        "Server" => server.hostname = text.to_ascii_lowercase(),
                        "Port" => server.port = text.parse().ok(),
                        "Encryption" => server.socket_type = Some(text),
                        "SSL" => *ssl = Some(text),
                        _ => {}
                    }
                }
            }
            Event::End(name) => {
                if name == "Protocol"
                    && let Some((mut server, ssl)) = current.take()
                {
                    if server.socket_type.is_none() {
                        server.socket_type = ssl.map(|on| {
                            if on.eq_ignore_ascii_case("on") {
                                "SSL".to_string()
                            } else {
                                "plain".to_string()
                            }
                        });
                    }
                    servers.push(server);
                }
                element.clear();
            }
        }
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{SrvLookup, SrvRecord};

    #[test]
    fn autoconfig_servers_are_read_with_type_host_port_and_socket() {
        let text = include_str!("../../tests/lab/conf/www/config-v1.1.xml");
        let servers = parse_autoconfig(text, "autoconfig").unwrap();
        let summary: Vec<String> = servers
            .iter()
            .map(|s| {
                format!(
                    "{} {}:{} {}",
                    s.protocol,
                    s.hostname,
                    s.port.unwrap(),
                    s.socket_type.as_deref().unwrap()
                )
            })
            .collect();
        assert_eq!(
            summary,
            ["imap imap.good.test:993 SSL", "smtp smtp.good.test:465 SSL"]
        );
        let pop = r#"<clientConfig version="1.1"><emailProvider id="x">
            <incomingServer type="pop3"><hostname>POP.example.org</hostname>
            <port>110</port><socketType>plain</socketType></incomingServer>
            </emailProvider></clientConfig>"#;
        let servers = parse_autoconfig(pop, "autoconfig").unwrap();
        assert_eq!(servers[0].protocol, "pop3");
        assert_eq!(servers[0].hostname, "pop.example.org");
        assert!(parse_autoconfig("<html></html>", "x").is_err());
        assert!(parse_autoconfig("not xml <", "x").is_err());
    }

    #[test]
    fn autodiscover_protocols_are_read() {
        let text = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
 <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
  <Account><AccountType>email</AccountType><Action>settings</Action>
   <Protocol><Type>POP3</Type><Server>pop.example.org</Server><Port>995</Port><SSL>on</SSL></Protocol>
   <Protocol><Type>SMTP</Type><Server>smtp.example.org</Server><Port>587</Port><Encryption>TLS</Encryption></Protocol>
  </Account></Response></Autodiscover>"#;
        let servers = parse_autodiscover(text, "autodiscover").unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].protocol, "pop3");
        assert_eq!(servers[0].socket_type.as_deref(), Some("SSL"));
        assert_eq!(servers[1].socket_type.as_deref(), Some("TLS"));
    }

    #[test]
    fn srv_records_with_a_dot_target_declare_nothing() {
        let lookup = |service: &str, target: &str, port| SrvLookup {
            service: service.into(),
            name: format!("_{service}._tcp.example.org"),
            records: Attempt::completed(vec![SrvRecord {
                priority: 0,
                weight: 0,
                port,
                target: target.into(),
            }]),
        };
        let dns = DnsEvidence {
            resolver: "system".into(),
            mx: Attempt::skipped("test"),
            addresses: Attempt::skipped("test"),
            srv: vec![
                lookup("pop3", "", 0),
                lookup("submissions", "smtp.example.org", 465),
                lookup("sieve", "imap.example.org", 4190),
            ],
            hosts: vec![],
        };
        let servers = from_srv(&dns);
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].protocol, "smtp");
        assert_eq!(servers[0].socket_type.as_deref(), Some("SSL"));
    }
}
