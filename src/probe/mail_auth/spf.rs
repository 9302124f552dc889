//! SPF (RFC 7208): the record at the domain, then every `include:` and
//! `redirect=` target, depth first in evaluation order. Counts the terms
//! that cost a DNS query and the void lookups (§4.6.4), checks each `mx`
//! against the limit of 10 MX hosts (§4.6.4), and finds the `all` that ends
//! evaluation. A lookup without answer is a temperror (§4.4), kept apart
//! from the permanent errors.
//!
//! Lookups are counted over the whole tree, the worst case: a receiver stops
//! at the first matching mechanism, but a sender whose address matches late
//! (or not at all) makes it walk everything. `a`, `mx` and `exists` targets
//! are queried to find void lookups; `ptr` and targets with macros depend on
//! the sender and are counted but not queried.

use super::spf_syntax::{self, Mechanism};
use super::{Lookup, records_with_version};
use crate::evidence::{Attempt, SpfEvidence, SpfWalkStep};
use crate::target::normalize_host;
use hickory_resolver::proto::rr::RecordType;

/// Stop walking after this many DNS-querying terms: the verdict (more than
/// 10) is clear long before, and a hostile include tree must not keep us busy.
const WALK_LIMIT: usize = 40;

/// RFC 7208 §4.6.4: evaluating one `mx` must not query more than 10 address
/// records. Each MX host costs at least one, so more hosts is a permerror.
const MX_HOST_LIMIT: usize = 10;

/// The SPF evidence of `domain`; failed only when its own TXT lookup had no answer.
pub async fn probe(dns: &impl Lookup, domain: &str) -> Attempt<SpfEvidence> {
    let txt = match dns.txt(domain).await {
        Ok(txt) => txt,
        Err(reason) => return Attempt::failed(reason),
    };
    let records = records_with_version(&txt, "v=spf1");
    let mut evidence = SpfEvidence {
        domain: domain.to_string(),
        records: records.clone(),
        ..SpfEvidence::default()
    };
    match records.as_slice() {
        [] => {}
        [record] => walk(dns, domain, record, &mut evidence).await,
        _ => evidence.errors.push(format!(
            "{domain} publishes {} SPF records; RFC 7208 §4.5 makes that a permanent error",
            records.len()
        )),
    }
    evidence.dns_lookups = evidence.lookup_terms.len();
    evidence.void_lookups = evidence.void_lookup_terms.len();
    Attempt::completed(evidence)
}

/// One record being evaluated.
struct Frame {
    domain: String,
    directives: Vec<spf_syntax::Directive>,
    next: usize,
    redirect: Option<String>,
    /// True for the domain's record and the records its redirect chain
    /// reaches: their `all` is the one that ends evaluation.
    decides_all: bool,
}

async fn walk(dns: &impl Lookup, domain: &str, record: &str, evidence: &mut SpfEvidence) {
    evidence.walk.push(SpfWalkStep {
        domain: domain.to_string(),
        via: None,
        record: Some(record.to_string()),
    });
    let mut stack = vec![frame(domain, record, true, evidence)];
    while let Some(top) = stack.last_mut() {
        if evidence.lookup_terms.len() >= WALK_LIMIT {
            evidence.errors.push(format!(
                "stopped after {WALK_LIMIT} DNS-querying terms; the rest of the tree was not read"
            ));
            return;
        }
        let Some(directive) = top.directives.get(top.next).cloned() else {
            // Mechanisms exhausted: now the redirect, if any (RFC 7208 §6.1).
            let Some(finished) = stack.pop() else { break };
            if let Some(target) = finished.redirect {
                let term = format!("redirect={target} (in {})", finished.domain);
                evidence.lookup_terms.push(term.clone());
                if let Some((domain, record)) =
                    follow(dns, &finished.domain, &target, &term, &stack, evidence).await
                {
                    let next = frame(&domain, &record, finished.decides_all, evidence);
                    stack.push(next);
                }
            }
            continue;
        };
        top.next += 1;
        if directive.mechanism == Mechanism::All {
            // Later mechanisms are never reached (RFC 7208 §5.1).
            top.next = top.directives.len();
            continue;
        }
        if !directive.queries_dns() {
            continue;
        }
        let current = top.domain.clone();
        let term = format!("{} (in {current})", directive.text);
        evidence.lookup_terms.push(term.clone());
        let own = |spec: &Option<String>| spec.clone().unwrap_or_else(|| current.clone());
        match &directive.mechanism {
            Mechanism::Include(spec) => {
                if let Some((domain, record)) =
                    follow(dns, &current, spec, &term, &stack, evidence).await
                {
                    let next = frame(&domain, &record, false, evidence);
                    stack.push(next);
                }
            }
            Mechanism::A(spec) => {
                let types = [RecordType::A, RecordType::AAAA];
                check_void(dns, &own(spec), &types, &term, evidence).await;
            }
            Mechanism::Mx(spec) => check_mx(dns, &own(spec), &term, evidence).await,
            Mechanism::Exists(spec) => {
                check_void(dns, spec, &[RecordType::A], &term, evidence).await;
            }
            _ => {}
        }
    }
}

/// Parses `record` of `domain`, noting its errors and (for the deciding
/// chain) its `all`.
fn frame(domain: &str, record: &str, decides_all: bool, evidence: &mut SpfEvidence) -> Frame {
    let parsed = spf_syntax::parse(record);
    evidence
        .errors
        .extend(parsed.errors.iter().map(|e| format!("{domain}: {e}")));
    let all = parsed.all().map(|d| format!("{}all", d.qualifier));
    if decides_all && all.is_some() {
        evidence.all = all.clone();
    }
    Frame {
        domain: domain.to_string(),
        directives: parsed.directives,
        next: 0,
        // RFC 7208 §6.1: redirect is ignored when the record has `all`.
        redirect: parsed.redirect.filter(|_| all.is_none()),
        decides_all,
    }
}

/// Fetches the SPF record an include or redirect points to. `None` (with
/// the problem noted) when it cannot be followed.
async fn follow(
    dns: &impl Lookup,
    from: &str,
    spec: &str,
    term: &str,
    stack: &[Frame],
    evidence: &mut SpfEvidence,
) -> Option<(String, String)> {
    let mut step = SpfWalkStep {
        domain: spec.to_string(),
        via: Some(term.to_string()),
        record: None,
    };
    if spec.contains('%') {
        // The target depends on the sender; nothing to fetch now.
        evidence.walk.push(step);
        return None;
    }
    let domain = normalize_host(spec);
    step.domain = domain.clone();
    if domain == normalize_host(from) || stack.iter().any(|f| f.domain == domain) {
        evidence
            .errors
            .push(format!("{term} loops back to {domain}"));
        evidence.walk.push(step);
        return None;
    }
    let result = match dns.txt(&domain).await {
        Ok(txt) => {
            let records = records_with_version(&txt, "v=spf1");
            match records.as_slice() {
                [record] => Ok(record.clone()),
                [] => {
                    // A void lookup when the name has no TXT at all; either
                    // way a target without SPF is a permerror (§5.2, §6.1).
                    if txt.is_empty() {
                        evidence.void_lookup_terms.push(term.to_string());
                    }
                    Err(format!("{term}: {domain} has no SPF record"))
                }
                _ => Err(format!(
                    "{term}: {domain} publishes {} SPF records",
                    records.len()
                )),
            }
        }
        Err(reason) => {
            // No answer is not "no record": the include or redirect yields
            // temperror, not permerror (RFC 7208 §5.2, §6.1).
            evidence.temp_errors.push(temp_error(term, &reason));
            evidence.walk.push(step);
            return None;
        }
    };
    match result {
        Ok(record) => {
            step.record = Some(record.clone());
            evidence.walk.push(step);
            Some((domain, record))
        }
        Err(error) => {
            evidence.errors.push(error);
            evidence.walk.push(step);
            None
        }
    }
}

/// How a lookup without answer (time-out, SERVFAIL) is noted: a receiver
/// would stop with temperror there (RFC 7208 §4.4).
fn temp_error(term: &str, reason: &str) -> String {
    format!("{term}: no answer ({reason}); a temperror (RFC 7208 §4.4)")
}

/// Notes `term` as a void lookup when `spec` has none of `types`, and as a
/// temperror when the lookup got no answer.
async fn check_void(
    dns: &impl Lookup,
    spec: &str,
    types: &[RecordType],
    term: &str,
    evidence: &mut SpfEvidence,
) {
    if spec.contains('%') {
        return;
    }
    match dns.has_records(&normalize_host(spec), types).await {
        Ok(true) => {}
        Ok(false) => evidence.void_lookup_terms.push(term.to_string()),
        Err(reason) => evidence.temp_errors.push(temp_error(term, &reason)),
    }
}

/// Notes an `mx` whose target has no MX records as a void lookup, and one
/// with more than [`MX_HOST_LIMIT`] as a permerror (RFC 7208 §4.6.4).
async fn check_mx(dns: &impl Lookup, spec: &str, term: &str, evidence: &mut SpfEvidence) {
    if spec.contains('%') {
        return;
    }
    match dns.mx_hosts(&normalize_host(spec)).await {
        Ok(hosts) if hosts.is_empty() => evidence.void_lookup_terms.push(term.to_string()),
        Ok(hosts) if hosts.len() > MX_HOST_LIMIT => evidence.errors.push(format!(
            "{term}: {} MX hosts; RFC 7208 §4.6.4 allows at most {MX_HOST_LIMIT} address lookups per mx (permerror)",
            hosts.len()
        )),
        Ok(_) => {}
        Err(reason) => evidence.temp_errors.push(temp_error(term, &reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeDns;
    use super::*;

    fn run(dns: &FakeDns, domain: &str) -> Attempt<SpfEvidence> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(probe(dns, domain))
    }

    fn value(dns: &FakeDns, domain: &str) -> SpfEvidence {
        run(dns, domain).value.expect("completed")
    }

    #[test]
    fn includes_and_redirects_are_followed_and_counted() {
        // Given a chain of four records with 3 + 3 + 2 + 3 lookups
        let dns = FakeDns::default()
            .with_txt(
                "chain.test",
                &[
                    "v=spf1 a:mx.chain.test mx:chain.test include:i1.chain.test -all",
                    "unrelated",
                ],
            )
            .with_txt(
                "i1.chain.test",
                &["v=spf1 a:mx.chain.test mx:chain.test include:i2.chain.test ?all"],
            )
            .with_txt(
                "i2.chain.test",
                &["v=spf1 a:mx.chain.test redirect=i3.chain.test"],
            )
            .with_txt(
                "i3.chain.test",
                &["v=spf1 a:mx.chain.test a:mx.chain.test mx:chain.test ~all"],
            )
            .with_host("mx.chain.test")
            .with_host("chain.test");
        // When it is walked
        let spf = value(&dns, "chain.test");
        // Then the 11th lookup is named, and an include's `all` does not count
        assert_eq!(spf.dns_lookups, 11, "{:?}", spf.lookup_terms);
        assert_eq!(spf.lookup_terms[10], "mx:chain.test (in i3.chain.test)");
        assert_eq!(
            spf.lookup_terms[7],
            "redirect=i3.chain.test (in i2.chain.test)"
        );
        assert_eq!(spf.void_lookups, 0);
        assert_eq!(spf.all.as_deref(), Some("-all"));
        assert_eq!(spf.walk.len(), 4);
        assert!(spf.errors.is_empty(), "{:?}", spf.errors);
    }

    #[test]
    fn void_lookups_and_missing_include_targets_are_named() {
        let dns = FakeDns::default().with_txt(
            "void.test",
            &[
                "v=spf1 a:nx1.void.test mx:nx2.void.test exists:nx3.void.test include:nx4.void.test ~all",
            ],
        );
        let spf = value(&dns, "void.test");
        assert_eq!(spf.void_lookups, 4, "{:?}", spf.void_lookup_terms);
        assert_eq!(spf.void_lookup_terms[0], "a:nx1.void.test (in void.test)");
        assert_eq!(
            spf.errors,
            vec!["include:nx4.void.test (in void.test): nx4.void.test has no SPF record"]
        );
    }

    #[test]
    fn an_mx_with_more_than_ten_hosts_is_a_permerror() {
        // Given mx mechanisms whose targets have 11 and 10 MX hosts
        let eleven: Vec<String> = (1..=11).map(|n| format!("mx{n}.many.test")).collect();
        let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
        let dns = FakeDns::default()
            .with_txt(
                "x.test",
                &["v=spf1 mx:many.test mx:ten.test include:i.x.test -all"],
            )
            .with_txt("i.x.test", &["v=spf1 mx -all"])
            .with_mx("many.test", &eleven)
            .with_mx("ten.test", &eleven[..10])
            .with_mx("i.x.test", &eleven);
        // When it is walked
        let spf = value(&dns, "x.test");
        // Then each mx over the limit is named with its count (RFC 7208
        // §4.6.4), and one with 10 hosts is fine
        assert_eq!(
            spf.errors,
            vec![
                "mx:many.test (in x.test): 11 MX hosts; RFC 7208 §4.6.4 allows at most 10 address lookups per mx (permerror)",
                "mx (in i.x.test): 11 MX hosts; RFC 7208 §4.6.4 allows at most 10 address lookups per mx (permerror)",
            ]
        );
        assert_eq!(spf.void_lookups, 0);
        assert!(spf.temp_errors.is_empty(), "{:?}", spf.temp_errors);
    }

    #[test]
    fn lookups_without_answer_are_temperrors_not_permerrors() {
        // Given include, redirect, a and mx targets whose lookups time out
        let dns = FakeDns::default()
            .with_txt(
                "t.test",
                &["v=spf1 include:slow.test a:slow-a.test mx:slow-a.test -all"],
            )
            .with_txt("r.test", &["v=spf1 redirect=slow.test"])
            .with_txt("nx.test", &["v=spf1 include:nothing.test -all"])
            .failing("slow.test")
            .failing("slow-a.test");
        // When they are walked
        let spf = value(&dns, "t.test");
        // Then each is a temperror (RFC 7208 §4.4, §5.2), not an error
        assert!(spf.errors.is_empty(), "{:?}", spf.errors);
        assert_eq!(
            spf.temp_errors,
            vec![
                "include:slow.test (in t.test): no answer (TXT lookup for slow.test failed: timed out); a temperror (RFC 7208 §4.4)",
                "a:slow-a.test (in t.test): no answer ([A, AAAA] lookup for slow-a.test failed: timed out); a temperror (RFC 7208 §4.4)",
                "mx:slow-a.test (in t.test): no answer (MX lookup for slow-a.test failed: timed out); a temperror (RFC 7208 §4.4)",
            ]
        );
        assert_eq!(spf.void_lookups, 0);
        let redirected = value(&dns, "r.test");
        assert!(redirected.errors.is_empty(), "{:?}", redirected.errors);
        assert_eq!(redirected.temp_errors.len(), 1);
        assert!(redirected.temp_errors[0].starts_with("redirect=slow.test (in r.test): no answer"));
        // And a target that does not exist stays a permerror
        let missing = value(&dns, "nx.test");
        assert_eq!(missing.errors.len(), 1, "{:?}", missing.errors);
        assert!(missing.temp_errors.is_empty());
    }

    #[test]
    fn redirect_decides_all_unless_the_record_has_one() {
        let dns = FakeDns::default()
            .with_txt("r.test", &["v=spf1 redirect=target.test"])
            .with_txt("target.test", &["v=spf1 +all"])
            .with_txt("both.test", &["v=spf1 -all redirect=target.test"])
            .with_txt("none.test", &["v=spf1 ip4:192.0.2.1"]);
        assert_eq!(value(&dns, "r.test").all.as_deref(), Some("+all"));
        let both = value(&dns, "both.test");
        assert_eq!(both.all.as_deref(), Some("-all"));
        assert_eq!(both.dns_lookups, 0);
        assert_eq!(value(&dns, "none.test").all, None);
    }

    #[test]
    fn several_records_loops_and_syntax_errors_are_reported() {
        let dns = FakeDns::default()
            .with_txt("two.test", &["v=spf1 -all", "v=spf1 mx -all"])
            .with_txt("loop.test", &["v=spf1 include:back.test -all"])
            .with_txt("back.test", &["v=spf1 include:loop.test -all"])
            .with_txt("syntax.test", &["v=spf1 mx ipv4:127.0.12.25 -all"])
            .failing("gone.test");
        assert!(value(&dns, "two.test").errors[0].contains("publishes 2 SPF records"));
        let looped = value(&dns, "loop.test");
        assert!(
            looped.errors[0].contains("include:loop.test (in back.test) loops back"),
            "{:?}",
            looped.errors
        );
        assert_eq!(
            value(&dns, "syntax.test").errors,
            vec!["syntax.test: 'ipv4:127.0.12.25': unknown mechanism 'ipv4'"]
        );
        assert!(value(&dns, "missing.test").records.is_empty());
        assert!(!run(&dns, "gone.test").is_completed());
    }
}
