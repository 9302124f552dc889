//! Probes: network code that collects evidence and never judges it.
//!
//! [`scan_domain`] is the scheduler for one domain:
//! 1. discovery (MX, SRV, usual names, addresses);
//! 2. every endpoint concurrently (TCP, dialogue, rustls), then the raw TLS
//!    enumeration, the STARTTLS injection test and (opt-in) the relay test,
//!    all under one limit of simultaneous connections per IP
//!    address so a provider's fail2ban is not provoked, and an overall limit
//!    per endpoint on top of the per-step timeouts; meanwhile the record
//!    lookups that need no endpoint (SPF, DMARC, DKIM, MTA-STS, TLS-RPT, MX
//!    sanity, CAA, client configuration, key discovery);
//! 3. DNSSEC/DANE and data location, which need the chains and addresses
//!    the endpoints served.
//!
//! The per-address limits and the endpoint results belong to the whole run,
//! not to one domain: domains on one provider share its limit, and an
//! endpoint they share is probed once ([`endpoint_cache`]).
//!
//! A probe is one module here plus one line in [`scan_domain`].

pub mod certificate;
pub mod checking_disabled;
pub mod client_config;
pub mod connection;
pub mod context;
pub mod dane;
pub mod dialogue;
pub mod discovery;
pub mod dns;
pub mod dnssec;
pub mod endpoint_cache;
pub mod https;
pub mod key_discovery;
pub mod location;
pub mod mail_auth;
pub mod mailbox;
pub mod mx_hosts;
pub mod protocol;
pub mod relay_test;
pub mod revocation;
pub mod starttls_injection;
pub mod tcp;
pub mod tls;
pub mod tls_active;
pub mod tls_scan;
pub mod trust;

use crate::evidence::{Attempt, DomainEvidence, EndpointEvidence};
use crate::target::Endpoint;
pub use context::{AddressLimit, AddressLimits, ProbeContext, Progress};
use futures::StreamExt;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Discovers and probes one domain.
pub async fn scan_domain(
    domain: &str,
    dns: &dns::Dns,
    extra: &[Endpoint],
    context: &ProbeContext,
    progress: &dyn Progress,
) -> DomainEvidence {
    let (dns_evidence, planned) = discovery::discover(dns, domain, extra).await;
    progress.discovered(domain, planned.len());
    let mut limits: HashMap<IpAddr, Arc<AddressLimit>> = HashMap::new();
    for plan in &planned {
        if let Some(address) = plan.address {
            limits.entry(address).or_insert_with(|| {
                context
                    .address_limits
                    .of(address, context.connections_per_address)
            });
        }
    }
    // Each step is bounded; this caps the sum (connect, greeting,
    // capabilities, STARTTLS, handshake, capabilities, close).
    let overall = context.connect_timeout + context.step_timeout * 8;
    let probing = futures::stream::iter(planned)
        .map(|plan| {
            let limit = plan.address.and_then(|a| limits.get(&a).cloned());
            let cell = context
                .endpoints
                .probe((plan.endpoint.clone(), plan.address));
            async move {
                // Another domain of the run may have probed this endpoint;
                // its sources and whether it is expected are this domain's.
                let (sources, expected) = (plan.sources.clone(), plan.expected);
                let mut evidence = cell
                    .get_or_init(|| async {
                        let _permit = match &limit {
                            Some(limit) => limit.acquire().await,
                            None => None,
                        };
                        let fallback = plan.clone();
                        match tokio::time::timeout(overall, dialogue::probe_endpoint(plan, context))
                            .await
                        {
                            Ok(evidence) => evidence,
                            Err(_) => timed_out(fallback, overall),
                        }
                    })
                    .await
                    .clone();
                evidence.sources = sources;
                evidence.expected = expected;
                tracing::debug!(
                    subject = %evidence.subject,
                    tcp = ?evidence.tcp.status,
                    dialogue = ?evidence.dialogue.status,
                    tls = ?evidence.tls.status,
                    "endpoint probed"
                );
                progress.endpoint_done(&evidence);
                evidence
            }
        })
        .buffer_unordered(context.concurrency.max(1))
        .collect::<Vec<EndpointEvidence>>();
    // The TLS scan runs once the endpoint probes have released their
    // connections, sharing the same per-address limits.
    let probing = async {
        let endpoints = probing.await;
        scan_tls(endpoints, &limits, context).await
    };
    // Record lookups need no endpoint, so they run while endpoints are probed.
    let (mut endpoints, mail_auth, mx_hosts, caa, client_config, key_discovery) = tokio::join!(
        probing,
        mail_auth::probe(context, dns, domain, &dns_evidence),
        mx_hosts::probe(dns, &dns_evidence),
        mx_hosts::caa(dns, domain),
        client_config::probe(context, dns, domain, &dns_evidence),
        key_discovery::probe(context, dns, domain),
    );
    endpoints.sort_by(|a, b| (&a.host, a.port).cmp(&(&b.host, b.port)));
    // DANE compares TLSA records with the chains the endpoints served.
    // So do the revocation checks of each endpoint's leaf.
    let (dnssec, location, revocations) = tokio::join!(
        dnssec::probe(context, dns, domain, &dns_evidence, &endpoints),
        location::probe(context, dns, &endpoints, &mx_hosts),
        revocation_of(&endpoints, dns, context),
    );
    for (endpoint, revocation) in endpoints.iter_mut().zip(revocations) {
        endpoint.revocation = revocation;
    }
    DomainEvidence {
        domain: domain.to_string(),
        dns: dns_evidence,
        endpoints,
        mx_hosts,
        caa,
        dnssec,
        mail_auth,
        client_config,
        key_discovery,
        location,
        // Filled by the scan after the endpoints are known (`--mailbox`).
        mailboxes: Vec::new(),
        // Filled by the scan from the history store, if one was given.
        history: crate::evidence::history_not_consulted(),
    }
}

/// The revocation check of every endpoint's leaf (CRT-006 to CRT-008),
/// unless `--no-revocation`. It talks to the OCSP responders and CRL
/// servers the certificates name, never to the endpoints.
async fn revocation_of(
    endpoints: &[EndpointEvidence],
    dns: &dns::Dns,
    context: &ProbeContext,
) -> Vec<Attempt<crate::evidence::RevocationEvidence>> {
    futures::stream::iter(endpoints)
        .map(|endpoint| async move {
            let Some(limits) = context.revocation else {
                return Attempt::skipped(revocation::TURNED_OFF);
            };
            // Another domain of the run may share this endpoint.
            let key = (
                Endpoint {
                    host: endpoint.host.clone(),
                    port: endpoint.port,
                    protocol: endpoint.protocol,
                },
                endpoint.tcp.value().map(|t| t.address.ip()),
            );
            context
                .endpoints
                .revocation(key)
                .get_or_init(|| revocation::probe(&endpoint.tls, dns, limits, context.scan_time))
                .await
                .clone()
        })
        .buffered(context.concurrency.max(1))
        .collect()
        .await
}

/// Runs the TLS scan on every endpoint whose TLS worked, and beside it the
/// STARTTLS injection test (TLS-011) and, with `--relay-test`, the relay
/// test of each MX (ACC-002), endpoints concurrently; the per-address
/// semaphores bound the connections.
async fn scan_tls(
    endpoints: Vec<EndpointEvidence>,
    limits: &HashMap<IpAddr, Arc<AddressLimit>>,
    context: &ProbeContext,
) -> Vec<EndpointEvidence> {
    futures::stream::iter(endpoints)
        .map(|mut evidence| async move {
            let address = evidence.tcp.value().map(|t| t.address);
            let limit = address.and_then(|a| limits.get(&a.ip()).cloned());
            let key = (
                crate::target::Endpoint {
                    host: evidence.host.clone(),
                    port: evidence.port,
                    protocol: evidence.protocol,
                },
                address.map(|a| a.ip()),
            );
            let cell = context.endpoints.tls(key.clone());
            let tls_phase = cell.get_or_init(|| async {
                tokio::join!(
                    tls_scan_of(&evidence, address, limit.clone(), context),
                    starttls_injection_of(&evidence, limit.clone(), context),
                    tls_active_of(&evidence, address, limit.clone(), context),
                )
            });
            let relay = relay_test_of(&evidence, key, limit.clone(), context);
            let ((scan, injection, active), relay) = tokio::join!(tls_phase, relay);
            let (scan, injection, active) = (scan.clone(), injection.clone(), active.clone());
            evidence.tls_scan = scan;
            evidence.starttls_injection = injection;
            evidence.tls_active = active;
            evidence.relay_test = relay;
            evidence
        })
        .buffer_unordered(context.concurrency.max(1))
        .collect()
        .await
}

async fn tls_scan_of(
    evidence: &EndpointEvidence,
    address: Option<std::net::SocketAddr>,
    limit: Option<Arc<AddressLimit>>,
    context: &ProbeContext,
) -> Attempt<crate::evidence::TlsScanEvidence> {
    match (context.tls_scan, address, limit) {
        (false, _, _) => Attempt::skipped("the TLS scan was turned off (--no-tls-scan)"),
        // A failed rustls handshake still reached TLS: the raw hellos offer
        // what rustls cannot (DHE, TLS 1.0/1.1, SSLv3), so scan it too.
        (true, Some(address), Some(limit))
            if evidence.tls.is_completed()
                || evidence.tls.status == crate::evidence::AttemptStatus::Failed =>
        {
            let started = std::time::Instant::now();
            let target = tls_scan::ScanTarget {
                address,
                protocol: evidence.protocol,
                server_name: evidence
                    .host
                    .parse::<IpAddr>()
                    .is_err()
                    .then(|| evidence.host.clone()),
                connect_timeout: context.connect_timeout,
                step_timeout: context.step_timeout,
            };
            // A generous cap: a few hundred bounded handshakes.
            let overall = (context.connect_timeout + context.step_timeout * 3) * 40;
            match tokio::time::timeout(overall, tls_scan::scan(target, limit)).await {
                Ok(Ok(found)) => Attempt::completed(found).timed(started),
                Ok(Err(incomplete)) => Attempt::failed(incomplete).timed(started),
                Err(_) => Attempt::failed(format!(
                    "the TLS scan exceeded its overall limit of {overall:?}"
                ))
                .timed(started),
            }
        }
        _ => Attempt::skipped(match &evidence.tls.reason {
            Some(reason) => format!("no working TLS to scan: {reason}"),
            None => "no working TLS to scan".to_string(),
        }),
    }
}

/// The active checks (Heartbleed, CCS injection, session resumption,
/// 0-RTT, client-initiated renegotiation, ROBOT; TLS-110 to TLS-115): with
/// the TLS scan, on the endpoints it scans, unless `--no-active-tls-checks`.
/// Each check takes its own permits of the address's limit.
async fn tls_active_of(
    evidence: &EndpointEvidence,
    address: Option<std::net::SocketAddr>,
    limit: Option<Arc<AddressLimit>>,
    context: &ProbeContext,
) -> Attempt<crate::evidence::TlsActiveEvidence> {
    let reached_tls = evidence.tls.is_completed()
        || evidence.tls.status == crate::evidence::AttemptStatus::Failed;
    match (context.tls_scan, context.active_tls_checks, address, limit) {
        (false, _, _, _) => Attempt::skipped(
            "the active TLS checks run with the TLS scan, which was turned off (--no-tls-scan)",
        ),
        (true, false, _, _) => {
            Attempt::skipped("the active TLS checks were turned off (--no-active-tls-checks)")
        }
        (true, true, Some(address), Some(limit)) if reached_tls => {
            let started = std::time::Instant::now();
            let target = tls_scan::ScanTarget {
                address,
                protocol: evidence.protocol,
                server_name: evidence
                    .host
                    .parse::<IpAddr>()
                    .is_err()
                    .then(|| evidence.host.clone()),
                connect_timeout: context.connect_timeout,
                step_timeout: context.step_timeout,
            };
            // Four tries per check, each a connect, the STARTTLS steps, the
            // hello flight and two waits (renegotiation: the server's
            // Finished and its answer); plus the pauses between tries.
            // Resumption's four and 0-RTT's two connections run beside them,
            // and ROBOT's up to ten, one after another.
            let overall =
                (context.connect_timeout + context.step_timeout * 10) * 4 + Duration::from_secs(8);
            let overall = overall.max((context.connect_timeout + context.step_timeout * 3) * 10);
            match tokio::time::timeout(overall, tls_active::probe(&target, &limit, &context.trust))
                .await
            {
                Ok(found) => Attempt::completed(found).timed(started),
                Err(_) => Attempt::failed(format!(
                    "the active TLS checks exceeded their overall limit of {overall:?}"
                ))
                .timed(started),
            }
        }
        _ => Attempt::skipped(match &evidence.tls.reason {
            Some(reason) => format!("no working TLS to check: {reason}"),
            None => "no working TLS to check".to_string(),
        }),
    }
}

/// One connection under the address's limit; it is not part of the raw
/// enumeration, so `--no-tls-scan` leaves it on.
async fn starttls_injection_of(
    evidence: &EndpointEvidence,
    limit: Option<Arc<AddressLimit>>,
    context: &ProbeContext,
) -> Attempt<crate::evidence::StarttlsInjectionEvidence> {
    let _permit = match &limit {
        Some(limit) => limit.acquire().await,
        None => None,
    };
    // Connect, dialogue, STARTTLS, handshake, wait, own command, close.
    let overall = context.connect_timeout + context.step_timeout * 8;
    match tokio::time::timeout(overall, starttls_injection::probe(evidence, context)).await {
        Ok(attempt) => attempt,
        Err(_) => Attempt::failed(format!(
            "the STARTTLS injection test exceeded its overall limit of {overall:?}"
        )),
    }
}

/// The relay test (ACC-002) of an MX when the user opted in: one
/// connection under the address's limit, once per run for an MX several
/// domains share. Other endpoints, and every endpoint without the flag, get
/// a skipped attempt with the reason and open no connection.
async fn relay_test_of(
    evidence: &EndpointEvidence,
    key: endpoint_cache::EndpointKey,
    limit: Option<Arc<AddressLimit>>,
    context: &ProbeContext,
) -> Attempt<crate::evidence::RelayTestEvidence> {
    if context.relay_test.is_none() || evidence.role != crate::target::Role::Mx {
        return relay_test::probe(evidence, context).await;
    }
    let cell = context.endpoints.relay(key);
    cell.get_or_init(|| async {
        let _permit = match &limit {
            Some(limit) => limit.acquire().await,
            None => None,
        };
        // Connect, greeting, EHLO, MAIL, RCPT, RSET, QUIT, and slack.
        let overall = context.connect_timeout + context.step_timeout * 8;
        match tokio::time::timeout(overall, relay_test::probe(evidence, context)).await {
            Ok(attempt) => attempt,
            Err(_) => Attempt::failed(format!(
                "the relay test exceeded its overall limit of {overall:?}"
            )),
        }
    })
    .await
    .clone()
}

fn timed_out(plan: discovery::PlannedEndpoint, overall: Duration) -> EndpointEvidence {
    let reason = format!("the endpoint probe exceeded its overall limit of {overall:?}");
    dialogue::assemble(
        &plan,
        Attempt::failed(reason.clone()),
        Attempt::failed(reason.clone()),
        Attempt::failed(reason),
    )
}
