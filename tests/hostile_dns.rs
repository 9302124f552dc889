//! Hostile DNS (issue 7, section 5): a resolver that never answers, one that
//! answers SERVFAIL, truncation that forces TCP, CNAME loops, an MX pointing
//! at the domain itself, and an MX RRset as large as DNS over TCP can carry.
//! The DNS server is a thread of the test on 127.0.66.53 (tests/hostile/dns.rs).

mod common;
mod hostile;

use hostile::dns::{self, Data, Record, Reply, Transport};

#[test]
fn a_resolver_that_never_answers_fails_the_mx_lookup_with_a_timeout() {
    // Given a DNS server that reads every query and answers none
    let server = dns::start(|_, _| Reply::Silent);
    // When a domain is scanned through it
    let scan = hostile::scan("silent.test", &server.resolver(), &[]);
    // Then the MX lookup failed with the resolver's timeout, and the scan could not run
    let reason = hostile::failed_reason(&scan.evidence()["dns"]["mx"]);
    assert!(
        reason.contains("MX lookup for silent.test failed"),
        "{reason}"
    );
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(scan.code, 3, "{}", scan.stderr);
    assert!(server.udp_queries() > 0);
}

#[test]
fn a_resolver_answering_servfail_fails_the_mx_lookup_with_servfail() {
    // Given a DNS server that answers SERVFAIL to everything
    let server = dns::start(|_, _| Reply::Code(dns::SERVFAIL));
    // When a domain is scanned through it
    let scan = hostile::scan("servfail.test", &server.resolver(), &[]);
    // Then the MX lookup failed naming SERVFAIL, and the scan could not run
    let reason = hostile::failed_reason(&scan.evidence()["dns"]["mx"]);
    assert!(
        reason.contains("MX lookup for servfail.test failed"),
        "{reason}"
    );
    assert!(reason.contains("Server Failure"), "{reason}");
    assert_eq!(scan.code, 3, "{}", scan.stderr);
}

#[test]
fn a_truncated_udp_answer_is_retried_over_tcp_and_yields_the_mx() {
    // Given a DNS server that truncates every UDP answer (TC bit) and answers
    // correctly over TCP only
    let server = dns::start(|question, transport| match transport {
        Transport::Udp => Reply::Truncated,
        Transport::Tcp if question.name == "truncated.test" && question.qtype == dns::TYPE_MX => {
            Reply::Answer(vec![Record::new(
                "truncated.test",
                Data::Mx(10, "mx.truncated.test".into()),
            )])
        }
        Transport::Tcp => Reply::Code(dns::NXDOMAIN),
    });
    // When the domain is scanned through it
    let scan = hostile::scan("truncated.test", &server.resolver(), &[]);
    // Then the MX came over TCP: the lookup completed with the record
    let mx = &scan.evidence()["dns"]["mx"];
    assert_eq!(mx["status"], "completed", "{mx}");
    assert_eq!(
        mx["value"]["records"][0]["exchange"], "mx.truncated.test",
        "{mx}"
    );
    assert_eq!(mx["value"]["records"][0]["preference"], 10, "{mx}");
    assert!(server.udp_queries() > 0 && server.tcp_queries() > 0);
    // and the MX host was planned, without an address (it has none)
    let hosts = scan.evidence()["dns"]["hosts"].as_array().unwrap();
    assert!(
        hosts.iter().any(|h| h["host"] == "mx.truncated.test"),
        "{hosts:?}"
    );
}

#[test]
fn an_answer_truncated_over_tcp_too_fails_the_mx_lookup_as_truncated() {
    // Given a DNS server that sets the TC bit on both transports
    let server = dns::start(|_, _| Reply::Truncated);
    // When a domain is scanned through it
    let scan = hostile::scan("alwaystc.test", &server.resolver(), &[]);
    // Then TCP was tried once the UDP answer was truncated, and the MX
    // lookup failed naming the truncation rather than retrying for ever
    let reason = hostile::failed_reason(&scan.evidence()["dns"]["mx"]);
    assert!(
        reason.starts_with("MX lookup for alwaystc.test failed"),
        "{reason}"
    );
    assert!(reason.contains("truncated"), "{reason}");
    assert!(server.tcp_queries() > 0);
    assert_eq!(scan.code, 3, "{}", scan.stderr);
}

#[test]
fn a_tcp_fallback_that_never_answers_fails_the_mx_lookup_with_a_timeout() {
    // Given a DNS server that truncates over UDP and accepts TCP but never answers there
    let server = dns::start(|_, transport| match transport {
        Transport::Udp => Reply::Truncated,
        Transport::Tcp => Reply::Silent,
    });
    // When a domain is scanned through it
    let scan = hostile::scan("tcpsilent.test", &server.resolver(), &[]);
    // Then the MX lookup failed with a timeout
    let reason = hostile::failed_reason(&scan.evidence()["dns"]["mx"]);
    assert!(
        reason.starts_with("MX lookup for tcpsilent.test failed"),
        "{reason}"
    );
    assert!(reason.contains("timed out"), "{reason}");
    assert!(server.tcp_queries() > 0);
    assert_eq!(scan.code, 3, "{}", scan.stderr);
}

/// `a.loop.test` CNAME `b.loop.test` and back, for every type asked.
fn cname_loop(question: &dns::Question, _: Transport) -> Reply {
    let target = match question.name.as_str() {
        "loop.test" if question.qtype == dns::TYPE_MX => {
            return Reply::Answer(vec![Record::new(
                "loop.test",
                Data::Mx(10, "a.loop.test".into()),
            )]);
        }
        "a.loop.test" => "b.loop.test",
        "b.loop.test" => "a.loop.test",
        _ => return Reply::Code(dns::NXDOMAIN),
    };
    Reply::Answer(vec![Record::new(
        &question.name,
        Data::Cname(target.into()),
    )])
}

#[test]
fn a_cname_loop_at_the_mx_host_is_named_and_leaves_the_host_without_addresses() {
    // Given an MX host whose name is one end of a CNAME loop
    let server = dns::start(cname_loop);
    // When the domain is scanned
    let scan = hostile::scan("loop.test", &server.resolver(), &[]);
    let evidence = scan.evidence();
    // Then the MX host is recorded as an alias (RFC 2181 §10.3 forbids it),
    let mx_host = &evidence["mx_hosts"][0];
    assert_eq!(mx_host["host"], "a.loop.test", "{mx_host}");
    assert_eq!(mx_host["cname"]["value"], "b.loop.test", "{mx_host}");
    // the resolver gave up following the loop (hickory stops after 8
    // CNAMEs), and the host's addresses name the loop,
    assert_eq!(
        hostile::failed_reason(&mx_host["addresses"]),
        "CNAME loop: a.loop.test -> b.loop.test -> a.loop.test"
    );
    // so it has no address, and its endpoints say so
    let smtp = common::endpoint(&scan.report, "a.loop.test:25");
    let reason = hostile::failed_reason(&smtp["tcp"]);
    assert_eq!(reason, "a.loop.test has no address");
    // and the loop cost a bounded number of queries.
    assert!(
        server.udp_queries() < 500,
        "{} queries",
        server.udp_queries()
    );
}

#[test]
fn an_mx_pointing_at_the_domain_itself_is_one_host_probed_once() {
    // Given a domain whose MX exchange is the domain itself, with an address
    // where nothing listens
    let server = dns::start(
        |question, _| match (question.name.as_str(), question.qtype) {
            ("self.test", dns::TYPE_MX) => Reply::Answer(vec![Record::new(
                "self.test",
                Data::Mx(10, "self.test".into()),
            )]),
            ("self.test", dns::TYPE_A) => Reply::Answer(vec![Record::new(
                "self.test",
                Data::A("127.0.66.1".parse().unwrap()),
            )]),
            ("self.test", _) => Reply::Code(0),
            _ => Reply::Code(dns::NXDOMAIN),
        },
    );
    // When it is scanned
    let scan = hostile::scan("self.test", &server.resolver(), &[]);
    let evidence = scan.evidence();
    // Then the domain is one host, found as an MX (not as an implicit MX too),
    let hosts = evidence["dns"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert_eq!(hosts[0]["host"], "self.test");
    assert_eq!(evidence["mx_hosts"].as_array().unwrap().len(), 1);
    // probed once on each mail port, each port recorded as closed.
    let endpoints = evidence["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 8, "{endpoints:?}");
    let smtp = common::endpoint(&scan.report, "self.test:25");
    assert_eq!(
        smtp["sources"],
        serde_json::json!([{"kind": "mx"}]),
        "{smtp}"
    );
    assert_eq!(smtp["tcp"]["value"]["state"], "closed", "{smtp}");
}

/// The most MX records one DNS message over TCP can carry here: 20 bytes
/// each (a pointer as owner, a 3-letter exchange label and a pointer).
const MANY_MX: usize = 3_000;

/// Three lower-case letters for `index` (26³ = 17,576 names).
fn label(index: usize) -> String {
    let letters = [index / 676 % 26, index / 26 % 26, index % 26];
    letters.iter().map(|l| (b'a' + *l as u8) as char).collect()
}

fn many_mx(question: &dns::Question, transport: Transport) -> Reply {
    match (question.name.as_str(), question.qtype, transport) {
        ("many.test", dns::TYPE_MX, Transport::Udp) => Reply::Truncated,
        ("many.test", dns::TYPE_MX, Transport::Tcp) => Reply::Answer(
            (0..MANY_MX)
                .map(|i| Record::new("many.test", Data::Mx(10, format!("{}.many.test", label(i)))))
                .collect(),
        ),
        ("many.test", _, _) => Reply::Code(0),
        _ => Reply::Code(dns::NXDOMAIN),
    }
}

#[test]
fn thousands_of_mx_records_probe_a_bounded_number_of_hosts() {
    // Given a domain with 3,000 MX records, over TCP after a truncated UDP
    // answer (10,000 do not fit in one DNS message: RFC 1035 §4.2.2 allows
    // 65,535 bytes, and each record takes at least 20)
    let server = dns::start(many_mx);
    // When it is scanned
    let scan = hostile::scan("many.test", &server.resolver(), &[]);
    let evidence = scan.evidence();
    // Then the MX evidence keeps every record,
    let records = evidence["dns"]["mx"]["value"]["records"]
        .as_array()
        .unwrap();
    assert_eq!(records.len(), MANY_MX);
    // only the first ten hosts by preference are looked up and probed,
    let limit = mailaudit::probe::discovery::MAX_MX_HOSTS;
    let hosts: Vec<&str> = evidence["dns"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    let first: Vec<String> = (0..limit)
        .map(|i| format!("{}.many.test", label(i)))
        .collect();
    assert_eq!(hosts, first);
    assert_eq!(evidence["mx_hosts"].as_array().unwrap().len(), limit);
    assert_eq!(evidence["endpoints"].as_array().unwrap().len(), limit * 8);
    // which costs a bounded number of queries, and the user is told.
    let queries = server.udp_queries() + server.tcp_queries();
    assert!(queries < 1_000, "{queries} queries");
    assert!(
        scan.stderr.contains("only the first 10 of 3000 MX records"),
        "{}",
        scan.stderr
    );
}

#[test]
fn a_resolver_that_refuses_the_root_leaves_dnssec_undecided_not_bogus() {
    // Given a server that answers for its own zone only (as an internal
    // authoritative server given as --resolver does): REFUSED for the root
    // and for test., so no chain of trust can be fetched
    let server = dns::start(|question, _| match question.name.as_str() {
        "" | "." | "test" => Reply::Code(dns::REFUSED),
        "refused.test" if question.qtype == dns::TYPE_MX => Reply::Answer(vec![Record::new(
            "refused.test",
            Data::Mx(10, "refused.test".into()),
        )]),
        "refused.test" if question.qtype == dns::TYPE_A => Reply::Answer(vec![Record::new(
            "refused.test",
            Data::A("127.0.66.1".parse().unwrap()),
        )]),
        "refused.test" => Reply::Code(0),
        _ => Reply::Code(dns::NXDOMAIN),
    });
    // When the domain is scanned with the built-in root keys
    let scan = hostile::scan("refused.test", &server.resolver(), &[]);
    // Then DNS-002 (validation fails) does not fail: nothing was shown to
    // be bogus, the chain was never fetched
    let findings = scan.report["findings"].as_array().unwrap();
    let dns_002 = findings
        .iter()
        .find(|f| f["rule"] == "DNS-002" && f["subject"] == "dns:refused.test")
        .expect("DNS-002 is judged");
    assert_eq!(dns_002["status"], "inconclusive", "{dns_002}");
    // and the validated MX lookup names why.
    let text = scan.report["targets"][0]["evidence"]["dnssec"].to_string();
    assert!(
        text.contains("the chain of trust could not be fetched"),
        "{text}"
    );
}
