//! Stable entry points for fuzzing and corpus replay (issue 7, item 6).
//!
//! Each function takes the raw bytes a server (or a DNS or web server) could
//! send and runs them through the parsers of one family, exactly as a probe
//! would, without a socket: the line protocols run over an in-memory stream
//! through the real bounded [`LineConnection`], the record checks over an
//! in-memory DNS. The cargo-fuzz crate in `tests/fuzz/` calls one function
//! per target, and `tests/fuzz_corpus.rs` replays the kept corpus on stable.
//!
//! A function never panics on any input; where a parser has a property that
//! can be checked (a ServerHello never names more extensions than its bytes
//! hold, a clean SPF record written back out parses to the same terms), it is
//! asserted here, so a violation is a crash the fuzzer reports.
//!
//! Not part of the public API: names and behaviour may change with the
//! parsers they cover.

use crate::evidence::{DmarcEvidence, MtaStsEvidence, TlsRptEvidence};
use crate::probe::connection::{DialogueError, LineConnection};
use crate::probe::mail_auth::{
    Lookup, dkim, dmarc, mta_sts, mta_sts_policy, spf, spf_syntax, tags, tls_rpt,
};
use crate::probe::mailbox::{folders, managesieve, pop3_view, sieve_script};
use crate::probe::protocol::MailProtocol;
use crate::probe::protocol::{imap, pop3, sieve, smtp};
use crate::probe::starttls_injection::judge::{Judge, Watch};
use crate::probe::tls_scan::{answer, registry, sslv2};
use crate::probe::{client_config, key_discovery};
use crate::target::Protocol;
use hickory_resolver::proto::rr::RecordType;
use std::net::SocketAddr;
use std::time::Duration;

/// Step timeout of the in-memory dialogues: never reached, since an
/// in-memory stream answers at once and ends with a close.
const STEP: Duration = Duration::from_secs(5);

/// The local address the SMTP EHLO literal is built from.
const LOCAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);

thread_local! {
    /// One small runtime per thread, built once: the dialogues are async
    /// and their reads run under tokio's timer.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread tokio runtime");
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// A stream that reads `bytes` and swallows what is written: the server's
/// side of a dialogue, recorded.
fn server(
    bytes: &[u8],
) -> LineConnection<impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> {
    LineConnection::new(tokio::io::join(bytes, tokio::io::sink()), STEP)
}

/// The whole dialogue of one protocol over `bytes`, step after step as
/// `dialogue::run` takes it: open, STARTTLS, capabilities again, close.
async fn dialogue<P: MailProtocol>(bytes: &[u8]) -> Result<(), DialogueError> {
    let mut connection = server(bytes);
    let opening = P::open(&mut connection, LOCAL).await?;
    let exposure = P::auth_exposure(&opening.capabilities);
    assert_eq!(
        exposure.mechanisms,
        P::sasl_mechanisms(&opening.capabilities)
    );
    let _ = P::offers_starttls(&opening.capabilities);
    P::starttls(&mut connection).await?;
    let after = P::capabilities_after_tls(&mut connection, LOCAL).await?;
    let _ = P::auth_exposure(&after);
    P::close(&mut connection).await;
    assert!(connection.transcript().len() <= 200);
    Ok(())
}

/// The STARTTLS-injection judge (TLS-011) watching `bytes` line by line.
async fn judge(protocol: Protocol, bytes: &[u8]) {
    let mut connection = server(bytes);
    let mut judge = Judge::new(protocol);
    loop {
        match judge.watch(&mut connection, "the fuzzed answer").await {
            Watch::Injected(line) => assert!(line.chars().count() <= 200),
            Watch::Ours => judge.own_command_sent(),
            Watch::Ended(_) => return,
        }
    }
}

/// Every line of `bytes`, lossily decoded, as the connection yields them.
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .map(|line| line.trim_end_matches('\r').to_string())
        .collect()
}

/// SMTP replies (`smtp.rs` `read_reply`, `ehlo`, `Smtp::open`, `starttls`,
/// `auth_exposure`; `connection.rs` line reading) and the SMTP side of the
/// STARTTLS-injection judge.
pub fn smtp(data: &[u8]) {
    block_on(async {
        let _ = dialogue::<smtp::Smtp>(data).await;
        judge(Protocol::Smtp, data).await;
    });
}

/// IMAP responses our code reads (`imap.rs` tagged commands and
/// `parse_capabilities`), folder names (`folders::decode_mutf7`) and the
/// IMAP side of the judge. async-imap's own parser is not ours.
pub fn imap(data: &[u8]) {
    block_on(async {
        let _ = dialogue::<imap::Imap>(data).await;
        judge(Protocol::Imap, data).await;
    });
    for line in lines(data) {
        let _ = folders::decode_mutf7(&line);
    }
}

/// POP3 replies (`pop3.rs` greeting, CAPA, STLS; `pop3_view::parse_stat`)
/// and the POP3 side of the judge.
pub fn pop3(data: &[u8]) {
    block_on(async {
        let _ = dialogue::<pop3::Pop3>(data).await;
        judge(Protocol::Pop3, data).await;
    });
    for line in lines(data) {
        if let Some((messages, octets)) = pop3_view::parse_stat(&line) {
            assert!(line.contains(&messages.to_string()) && line.contains(&octets.to_string()));
        }
    }
}

/// ManageSieve responses (`sieve.rs` capabilities; `managesieve::quoted`
/// and `get_script` with its `{size}` literal), the judge, and the Sieve
/// parser on the script a server hands over.
pub fn managesieve(data: &[u8]) {
    block_on(async {
        let _ = dialogue::<sieve::Sieve>(data).await;
        judge(Protocol::Sieve, data).await;
        let mut connection = server(data);
        if let Ok(script) = managesieve::get_script(&mut connection, "main").await {
            assert!(script.len() <= 3 * sieve_script::MAX_SCRIPT);
            let _ = sieve_script::redirects(&script);
        }
    });
    for line in lines(data) {
        if let Some((name, rest)) = managesieve::quoted(&line) {
            assert!(name.len() + rest.len() < line.len());
        }
    }
}

/// The Sieve subset (`sieve_script::redirects`): every redirect found names
/// its address, and a domain only from that address.
pub fn sieve_script(data: &[u8]) {
    let script = String::from_utf8_lossy(data);
    if let Ok(found) = sieve_script::redirects(&script) {
        for redirect in found {
            assert!(
                redirect
                    .address
                    .to_ascii_lowercase()
                    .contains(&redirect.domain),
                "{redirect:?}"
            );
        }
    }
}

/// The MTA-STS policy file (`mta_sts_policy::parse`, `pattern_matches`) and
/// the `_mta-sts` TXT record (`mta_sts::check_record`), one record a line.
pub fn mta_sts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let policy = mta_sts_policy::parse(&text);
    assert_eq!(policy.body, text);
    for pattern in &policy.mx {
        for host in ["mx.example.test", "a.b.example.test", pattern.as_str()] {
            let _ = mta_sts_policy::pattern_matches(pattern, host);
        }
    }
    let mut evidence = MtaStsEvidence {
        name: "_mta-sts.example.test".to_string(),
        records: lines(data).into_iter().take(4).collect(),
        id: None,
        record_errors: Vec::new(),
        policy: crate::evidence::Attempt::skipped("fuzzing"),
        mx_coverage: crate::evidence::Attempt::skipped("fuzzing"),
        uncovered_mx: Vec::new(),
    };
    mta_sts::check_record(&mut evidence);
    if let Some(id) = &evidence.id {
        assert!((1..=32).contains(&id.len()));
    }
}

/// A DNS whose every TXT lookup answers the fuzzed records (one a line),
/// so include and redirect chains loop back into them; names of even
/// length have addresses and up to 13 MX hosts (over the limit of 10 at
/// times).
struct FuzzDns(Vec<String>);

impl Lookup for FuzzDns {
    async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        if name.len().is_multiple_of(7) {
            return Err(format!("TXT lookup for {name} failed: timed out"));
        }
        Ok(self.0.clone())
    }

    async fn has_records(&self, name: &str, _: &[RecordType]) -> Result<bool, String> {
        Ok(name.len().is_multiple_of(2))
    }

    async fn mx_hosts(&self, name: &str) -> Result<Vec<String>, String> {
        if !name.len().is_multiple_of(2) {
            return Ok(Vec::new());
        }
        let count = name.len() % 13 + 1;
        Ok((0..count).map(|n| format!("mx{n}.{name}")).collect())
    }
}

/// SPF records (`spf_syntax::parse` on every line; `spf::probe`'s walk over
/// includes and redirects). A record without errors, written back out from
/// its terms, parses to the same terms.
pub fn spf(data: &[u8]) {
    let records = lines(data);
    for record in records.iter().take(8) {
        let parsed = spf_syntax::parse(record);
        if parsed.errors.is_empty() {
            let mut written = String::from("v=spf1");
            for directive in &parsed.directives {
                written.push(' ');
                written.push_str(&directive.text);
            }
            if let Some(target) = &parsed.redirect {
                written.push_str(" redirect=");
                written.push_str(target);
            }
            let again = spf_syntax::parse(&written);
            assert_eq!(again.directives, parsed.directives, "{written}");
            assert_eq!(again.redirect, parsed.redirect, "{written}");
            assert!(again.errors.is_empty(), "{written}: {:?}", again.errors);
        }
    }
    let dns = FuzzDns(records);
    if let Some(evidence) = block_on(spf::probe(&dns, "example.test")).value() {
        assert_eq!(evidence.dns_lookups, evidence.lookup_terms.len());
    }
}

/// The tag-list records (`tags::parse`): DMARC (`dmarc::parse_into` and
/// `dmarc::probe` with its report-address authorization), DKIM keys
/// (`dkim::parse_key`, key sizes from the DER) and TLS-RPT
/// (`tls_rpt::parse_into`).
pub fn tag_records(data: &[u8]) {
    let records = lines(data);
    for record in records.iter().take(8) {
        let list = tags::parse(record);
        for tag in &list.tags {
            assert!(!tag.name.is_empty() && tag.name == tag.name.to_ascii_lowercase());
        }
        let mut dmarc_evidence = DmarcEvidence::default();
        dmarc::parse_into(record, &mut dmarc_evidence);
        assert!(dmarc_evidence.pct <= 100);
        let key = dkim::parse_key(record);
        assert!(!(key.revoked && key.bits.is_some()));
        let mut tls_rpt_evidence = TlsRptEvidence::default();
        tls_rpt::parse_into(record, &mut tls_rpt_evidence);
    }
    let dns = FuzzDns(records);
    let _ = block_on(dmarc::probe(&dns, "mail.example.test"));
}

/// Client-configuration documents from web servers: the small XML reader
/// (`client_config::xml::events`), Thunderbird autoconfig
/// (`parse_autoconfig`), Outlook autodiscover (`parse_autodiscover`), and
/// the WKD policy file (`key_discovery::parse_policy`).
pub fn client_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(events) = client_config::xml::events(&text) {
        let starts = events
            .iter()
            .filter(|e| matches!(e, client_config::xml::Event::Start { .. }))
            .count();
        let ends = events
            .iter()
            .filter(|e| matches!(e, client_config::xml::Event::End(_)))
            .count();
        assert_eq!(starts, ends, "every start tag is closed");
    }
    for declared in client_config::parse_autoconfig(&text, "autoconfig").unwrap_or_default() {
        assert_eq!(declared.source, "autoconfig");
    }
    let _ = client_config::parse_autodiscover(&text, "autodiscover");
    let (entries, errors) = key_discovery::parse_policy(&text);
    assert!(entries.len() + errors.len() <= text.lines().count());
}

/// The suite family whose ServerKeyExchange is read: the table's, else
/// one picked by the suite's low bits so every branch of
/// `key_exchange::parse` is reached.
fn family(suite: u16) -> Option<registry::KeyExchange> {
    use registry::KeyExchange;
    registry::table()
        .suite(suite)
        .map(|entry| entry.kx)
        .or(match suite % 8 {
            0 => Some(KeyExchange::Ecdhe),
            1 => Some(KeyExchange::Dhe),
            2 => Some(KeyExchange::DhAnon),
            3 => Some(KeyExchange::EcdhAnon),
            4 => Some(KeyExchange::Rsa),
            5 => Some(KeyExchange::Ecdh),
            6 => Some(KeyExchange::Tls13),
            _ => None,
        })
}

/// TLS answers to a ClientHello (`tls_scan/answer.rs` `interpret`: records,
/// ServerHello, HelloRetryRequest, Alert; `key_exchange::parse`) and SSLv2
/// (`sslv2::interpret`). The bytes are read as they arrive: an answer
/// decided on a prefix stays the same when more bytes come, and a hello
/// never names more extensions or cipher kinds than its bytes could hold.
pub fn tls_hello(data: &[u8]) {
    use answer::{Answer, Progress, interpret};
    let whole = interpret(data, Some(&family), false);
    for cut in [data.len() / 3, data.len() / 2, data.len().saturating_sub(1)] {
        let prefix = &data[..cut];
        if let Progress::Done(decided @ (Answer::Hello(_) | Answer::Alert { .. })) =
            interpret(prefix, Some(&family), false)
        {
            assert_eq!(whole, Progress::Done(decided), "cut at {cut}");
        }
    }
    for key_exchange in [None, Some(&family as &dyn Fn(u16) -> Option<_>)] {
        match interpret(data, key_exchange, true) {
            Progress::Done(Answer::Hello(hello)) => {
                assert!(hello.extensions.len() * 4 <= data.len());
            }
            Progress::Done(_) => {}
            Progress::NeedMore => panic!("an ended answer must be decided"),
        }
    }
    match sslv2::interpret(data, true) {
        Some(sslv2::Sslv2Answer::ServerHello { cipher_kinds, .. }) => {
            assert!(cipher_kinds.len() * 3 <= data.len());
            for kind in cipher_kinds {
                let _ = sslv2::cipher_kind_name(kind);
            }
        }
        Some(found) => {
            let _ = sslv2::describe(&found);
        }
        None => panic!("an ended SSLv2 answer must be decided"),
    }
    let _ = sslv2::interpret(&data[..data.len() / 2], false);
}
