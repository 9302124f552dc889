//! Command-line types (clap), with a value parser for every flag that is
//! not free text, so a bad value is refused by clap with exit code 2 and a
//! message naming the flag and the input. [`crate::command`] does the work.

pub mod history;
pub mod serve;
pub mod values;

use crate::Language;
use crate::batch::Shard;
use crate::finding::Severity;
use crate::report::Format;
use crate::report::pdf::PdfStandard;
use crate::target::Endpoint;
use clap::{Args, Parser, Subcommand};
pub use history::{HistoryArgs, HistoryCommand, ListFormat, RecordArgs, StoreArg};
pub use serve::ServeArgs;
use std::net::SocketAddr;
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  no failed finding at or above --fail-on (default: high)
  1  failed findings at or above --fail-on exist
  2  usage or input error (bad flag, domain, rule file, CA file, output directory, unreadable report file)
  3  the scan could not run at all (no DNS answer and no reachable endpoint for any target)
  130  a batch scan with a JSONL stream was interrupted (Ctrl-C); finished domains are kept";

/// Audits mail providers for transport security and data protection.
#[derive(Debug, Parser)]
#[command(
    name = "mailaudit",
    version,
    about = "Audits a mail provider's DNS, ports, STARTTLS/TLS and certificates against DSGVO, BSI TR-02102-2/TR-03108-1 and the DSK e-mail guidance",
    long_about = "Audits a mail provider's DNS, ports, STARTTLS/TLS and certificates against DSGVO, BSI TR-02102-2/TR-03108-1 and the DSK e-mail guidance.\n\nProbes collect evidence, rules (data files) judge it, and the report cites the legal and technical references for every finding. Missing evidence is reported as inconclusive, never as passed.",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress bar and no summary; only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan one or more mail domains and write a report.
    #[command(
        after_help = "Examples:\n  mailaudit scan example.org --out report/\n      writes report/report.html and report/report.json\n  mailaudit scan example.org --format json --out -\n      prints the JSON report on stdout and nothing else\n  mailaudit scan corp.internal --resolver 10.0.0.53 --ca-file corp-ca.pem --lang en\n      audits an internal split-horizon setup with its own CA\n  MAILAUDIT_PW=... mailaudit scan example.org --mailbox audit@example.org --password-env MAILAUDIT_PW --profile mailaudit.toml --format html,pdf,json\n      adds the read-only mailbox audit (retention, Sieve, ACLs, quota) judged with your audit profile\n  mailaudit scan --targets domains.txt --format jsonl --out batch/\n      streams batch/report.jsonl (one line per domain) and writes batch/report.json at the end\n  mailaudit scan --targets domains.txt --resume batch/report.jsonl --out batch/\n      continues an interrupted batch: only domains missing from the file are scanned\n  mailaudit scan --targets domains.txt --shard 2/4 --format jsonl --out shard-2/\n      scans the second of four slices; `mailaudit merge shard-*/report.jsonl` joins them\n\nExit codes:\n  0  no failed finding at or above --fail-on\n  1  failed findings at or above --fail-on exist\n  2  usage or input error (a bad targets line is named as FILE:LINE)\n  3  the scan could not run at all\n  130  interrupted (Ctrl-C) during a JSONL batch; every finished domain is kept in the JSONL"
    )]
    Scan(Box<ScanArgs>),
    /// Re-render a saved report.json (offline): other formats, another language, other rules.
    #[command(
        after_help = "Examples:\n  mailaudit report report/report.json --lang en --format html,md --out report-en/\n      re-renders the evidence of an earlier scan in English; the rules are re-run\n  mailaudit report today.json --baseline last-week.json --format md --out - >> \"$GITHUB_STEP_SUMMARY\"\n      a CI step summary with new and fixed findings\n\nNo network access: the evidence in the file is judged again.\n\nExit codes:\n  0  no failed finding at or above --fail-on\n  1  failed findings at or above --fail-on exist\n  2  usage or input error (unreadable or invalid report file, bad flag, rule file)"
    )]
    Report(Box<ReportArgs>),
    /// Re-run the rules on a saved report.json (offline) and print the findings as JSON.
    #[command(
        after_help = "Prints a JSON array of findings (rule, subject, status, severity, detail, …) on stdout, or with --summary the terminal summary.\n\nExamples:\n  mailaudit evaluate report/report.json --rules my-rules/\n      judges the saved evidence with your rules added\n  mailaudit evaluate report/report.json | jq '.[] | select(.status == \"fail\") | .rule'\n\nExit codes:\n  0  no failed finding at or above --fail-on\n  1  failed findings at or above --fail-on exist\n  2  usage or input error"
    )]
    Evaluate(EvaluateArgs),
    /// List the rules in use, or check rule files for errors.
    #[command(
        after_help = "Examples:\n  mailaudit rules list\n      lists the built-in rules\n  mailaudit rules list --rules my-rules/\n      lists the rules with my-rules/*.toml applied\n  mailaudit rules check my-rules/\n      checks my-rules/*.toml: syntax, CEL, references, examples"
    )]
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Combine the JSON Lines of several scans (shards) into one report, offline.
    #[command(
        after_help = "Reads files written by `mailaudit scan --format jsonl` (e.g. one per --shard), and writes the report a single scan of all their domains writes: report.json, report.html and the rest. The rules are run again on the saved evidence; no network is used. A domain in several files is taken from the first.\n\nExamples:\n  mailaudit merge shard-1/report.jsonl shard-2/report.jsonl --out report/\n  mailaudit merge shards/*.jsonl --format json --out - | jq '.findings | length'\n\nExit codes:\n  0  no failed finding at or above --fail-on\n  1  failed findings at or above --fail-on exist\n  2  usage or input error (unreadable or invalid JSONL file, bad flag)"
    )]
    Merge(Box<MergeArgs>),
    /// The scan history: list scans, compare two, import, show, prune.
    #[command(after_help = history::HISTORY_HELP)]
    History(HistoryArgs),
    /// Open the read-only web dashboard over the scan history.
    #[command(after_help = serve::SERVE_HELP)]
    Serve(Box<ServeArgs>),
    /// Print the JSON Schema of report.json (docs/report.schema.json).
    Schema,
}

/// `mailaudit rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in use: ID, severity, area, title.
    List(RuleSource),
    /// Check the rule files (*.toml) in DIR and exit with 2 on the first error.
    Check {
        /// Directory of rule files.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// Where rules come from.
#[derive(Debug, Args)]
pub struct RuleSource {
    /// Rule files (*.toml) that replace built-in rules with the same ID or add new ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Use only the rules from --rules, none of the built-in ones.
    #[arg(long, requires = "rules")]
    pub no_default_rules: bool,
    /// A class file that replaces the built-in message classes and their
    /// retention periods (copy rules/classes/mail-classes.toml and adapt
    /// patterns or periods). A scan sorts the messages with it and the
    /// rules judge the periods by it; `report` and `evaluate` re-judge
    /// saved counts with its periods (the counts stay as scanned).
    /// DIR/classes/mail-classes.toml of --rules DIR does the same.
    #[arg(long, value_name = "FILE")]
    pub class_file: Option<PathBuf>,
}

/// Where the report goes, in which formats, and what it is compared with;
/// shared by `scan` and `report`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output directory, created if missing; `-` prints one format on stdout.
    #[arg(long, value_name = "DIR|-", default_value = "mailaudit-report")]
    pub out: String,
    /// Output formats, comma-separated: html, pdf, json, md, junit, sarif, and for scan also jsonl (one line per domain as it finishes, into DIR/report.jsonl or stdout with --out -; the other formats follow at the end, json if none is given). pdf needs a build with the `pdf` feature (the default).
    #[arg(
        long,
        value_name = "FORMATS",
        value_delimiter = ',',
        default_value = "html,json"
    )]
    pub format: Vec<Format>,
    /// Standard of report.pdf: a-3b (PDF/A-3b with report.json attached, the default), a-2b (PDF/A-2b for archives that do not take PDF/A-3; it forbids attachments, so report.json is NOT attached, only its SHA-256 printed) or ua-1 (PDF/UA-1, accessible, with report.json attached).
    #[arg(long, value_name = "a-3b|a-2b|ua-1", default_value = "a-3b")]
    pub pdf_standard: PdfStandard,
    /// A report.json of an earlier scan: failed findings are marked new or unchanged, and fixed ones are listed.
    #[arg(long, value_name = "PREVIOUS.json")]
    pub baseline: Option<PathBuf>,
}

/// `mailaudit scan`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mailbox_input").multiple(true).args(["mailboxes", "mailbox_list"])))]
pub struct ScanArgs {
    /// Mail domains to audit, e.g. example.org.
    #[arg(required_unless_present = "targets", value_name = "DOMAIN", value_parser = values::domain)]
    pub domains: Vec<String>,
    /// File of domains to audit, one per line (`#` comments, blank lines and duplicates ignored); `-` reads stdin. Combines with DOMAIN arguments. With --targets, --shard or --resume the domains are scanned and reported in sorted order.
    #[arg(long, value_name = "FILE|-")]
    pub targets: Option<String>,
    /// Most domains scanned at once. The per-address limit (--connections-per-host) holds across all of them, and an endpoint several domains share is probed once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = values::at_least_one)]
    pub concurrency: usize,
    /// Scan only shard I of N (counted from 1): the domains whose name's SHA-256 (first 8 bytes, big-endian), modulo N, is I-1. Every domain is in exactly one shard; combine the outputs with `mailaudit merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Continue the JSON Lines file of an interrupted scan: domains with a line in FILE are not scanned again, and new lines are appended (FILE is never truncated; it is created if missing). Implies --format jsonl, streamed into FILE.
    #[arg(long, value_name = "FILE.jsonl")]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Report language: de (German) or en (English).
    #[arg(long, value_name = "de|en", default_value = "de")]
    pub lang: Language,
    /// Send every DNS query to this server (UDP and TCP), e.g. 10.0.0.53 or [::1]:5353. Default: the system resolver.
    #[arg(long, value_name = "IP[:PORT]", value_parser = values::resolver)]
    pub resolver: Option<SocketAddr>,
    /// DNSSEC trust anchors (DS or DNSKEY zone-file lines) for zones not under the public root. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub dnssec_anchor: Vec<PathBuf>,
    /// Extra CA certificates (PEM) trusted on top of the public roots. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,
    /// Limit in seconds for each network step (DNS query, protocol command, TLS handshake). TCP connects use at most 5 s.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = values::timeout)]
    pub timeout: f64,
    /// Also probe this endpoint: HOST:PORT on a standard mail port, or PROTOCOL://HOST:PORT (smtp, submission, submissions, imap, imaps, pop3, pop3s, sieve). Repeatable.
    #[arg(long = "host", value_name = "HOST:PORT", value_parser = values::host)]
    pub hosts: Vec<Endpoint>,
    /// Exit with code 1 when a failed finding has at least this severity: critical, high, medium, low, info.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: Severity,
    /// Most simultaneous connections to one IP address (providers rate-limit).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = values::at_least_one)]
    pub connections_per_host: usize,
    /// DKIM selector to look up at SELECTOR._domainkey.DOMAIN, besides the built-in common ones (default, selector1, google, …). Repeatable.
    #[arg(long = "dkim-selector", value_name = "SELECTOR", value_parser = values::dkim_selector)]
    pub dkim_selectors: Vec<String>,
    /// Mailbox whose OPENPGPKEY (RFC 7929) and SMIMEA (RFC 8162) records are looked up, e.g. alice@example.org; the records' names hash the local part, so they cannot be found without one. Only looked up when its domain is scanned. Repeatable.
    #[arg(long = "key-lookup", value_name = "ADDRESS", value_parser = values::key_lookup)]
    pub key_lookups: Vec<String>,
    /// Base URL of the RDAP bootstrap registry (RFC 9224) under which ipv4.json and ipv6.json are fetched, for LOC-001 (data location). Default: https://data.iana.org/rdap/. With this flag, loopback and private addresses are looked up too (for a test or internal registry).
    #[arg(long, value_name = "URL", value_parser = values::rdap_bootstrap)]
    pub rdap_bootstrap: Option<String>,
    /// Do not look up where the servers are (no RDAP queries); LOC-001 is then inconclusive.
    #[arg(long, conflicts_with = "rdap_bootstrap")]
    pub no_location: bool,
    /// Skip the raw-handshake TLS scan of versions, suites and groups; TLS-003, -004, -006, -007 and -012 are then inconclusive.
    #[arg(long)]
    pub no_tls_scan: bool,
    /// Skip the active TLS checks that otherwise run with the TLS scan: Heartbleed (a heartbeat request claiming more payload than it carries, before the handshake ends; only the length of an answer is kept), CCS injection (an early ChangeCipherSpec), session resumption (two connections per TLS version; only greeting, capability and logout commands are sent), on implicit TLS ports TLS 1.3 0-RTT (a resumed session with the protocol's NOOP as early data, never mail), client-initiated renegotiation (a TLS 1.2 handshake, then a second ClientHello inside it; nothing else is sent) and ROBOT (five RSA ClientKeyExchange variants, twice when the answers differ). Up to nineteen connections per endpoint, within --connections-per-host. TLS-110 to TLS-115 are then inconclusive.
    #[arg(long)]
    pub no_active_tls_checks: bool,
    /// Skip the revocation check of each endpoint's leaf certificate (for offline scans). Otherwise mailaudit asks the OCSP responders named in the certificate's Authority Information Access (HTTP POST) and fetches the CRLs named in its CRL distribution points (HTTP GET), only at those URLs, with a timeout and a size limit, and reads the OCSP response the server stapled. CRT-006 and CRT-007 are then inconclusive; CRT-008 reads only the handshake.
    #[arg(long)]
    pub no_revocation: bool,
    /// Also test every MX (port 25) for open relaying (ACC-002). Per MX, one connection in plaintext: EHLO, MAIL FROM:<nobody@mailaudit.invalid>, RCPT TO:<relay-test@relay-target.invalid> (RFC 2606 names that can never receive mail), then RSET and QUIT. DATA is never sent, so no message is ever created or delivered; the server's answer to RCPT TO is the result. Off by default: it talks to the MX as a mail sender would, so use it only on servers you are allowed to test. Without it ACC-002 is inconclusive. The report records the address mailaudit tested from and whether the server is likely to trust it (loopback, same /24 or /64): an accept from there is reported as "relay allowed from this network", not as an open relay.
    #[arg(long)]
    pub relay_test: bool,
    /// Local address the relay test connects from (an address of this host), to test from a chosen network of a multi-homed host, e.g. --relay-test-source 192.0.2.7. Recorded in the evidence. Default: the address the system's routing picks.
    #[arg(long, value_name = "IP", requires = "relay_test")]
    pub relay_test_source: Option<std::net::IpAddr>,
    /// Audit this mailbox read-only (folders, message counts by year and retention class from metadata only, Sent, Trash, quota, ACLs, Sieve redirects, POP3 view; rules RET-001..009, LOC-002; with two or more mailboxes of a domain also org:DOMAIN). Forms: USER@DOMAIN (e.g. alice@example.org, DOMAIN a scanned domain) on the IMAP server the domain announces; imaps://USER@HOST[:PORT] (or imap:// for STARTTLS on 143) on the server HOST, with @ in USER written %40, e.g. imaps://carol%40example.org@imap.provider.example; or the older USER@DOMAIN@HOST[:PORT]. When a server is named, the password goes to that host only (IMAP, POP3 and ManageSieve), never to a server the domain announces. Which user on which server is printed before the one login attempt. Only EXAMINE, SEARCH and FETCH with BODY.PEEK, never SELECT, STORE or EXPUNGE. The password comes from --password-env, --password-file or a prompt, never from the command line. Repeatable.
    #[arg(long = "mailbox", value_name = "USER@DOMAIN|imaps://USER@HOST[:PORT]")]
    pub mailboxes: Vec<String>,
    /// A file (or - for stdin) listing mailboxes to audit, one per line in the forms of --mailbox; blank lines and lines starting with # are skipped. With --admin, every one is opened with the one admin login.
    #[arg(long = "mailboxes", value_name = "FILE|-")]
    pub mailbox_list: Option<PathBuf>,
    /// An admin or master identity (e.g. a Dovecot master user or a Cyrus admin) that opens every listed mailbox: SASL PLAIN with the mailbox as authorization identity and this user as authentication identity (RFC 4616). Its password comes from --password-env, --password-file (one line, or ADMIN:PASSWORD) or a prompt, never from the command line. ManageSieve and POP3 are not audited with it.
    #[arg(long, value_name = "USER", requires = "mailbox_input")]
    pub admin: Option<String>,
    /// Classify invoices more exactly: for a message whose PDF attachment could be a ZUGFeRD/Factur-X invoice (a PDF/A-3 with an embedded invoice XML), fetch just that attachment (BODY.PEEK[part], at most 16 MiB, never setting \Seen) and read the names of the files it embeds. A PDF embedding factur-x.xml or zugferd-invoice.xml counts as an e-invoice instead of a likely invoice. Only those names are read; nothing of the attachment is kept or printed. Off by default: it transfers the PDFs, which costs time on large mailboxes.
    #[arg(long, requires = "mailbox_input")]
    pub deep_invoice_check: bool,
    /// Most mailboxes audited at once on one IMAP server (each is one IMAP session).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=32), requires = "mailbox_input")]
    pub sessions_per_server: u16,
    /// Name of the environment variable holding the mailbox password, e.g. --password-env MAILAUDIT_PASSWORD (not the password itself).
    #[arg(
        long,
        value_name = "VAR",
        conflicts_with = "password_file",
        requires = "mailbox_input"
    )]
    pub password_env: Option<String>,
    /// File holding the mailbox password: one line for every --mailbox, or USER:PASSWORD lines. Keep it mode 600.
    #[arg(long, value_name = "FILE", requires = "mailbox_input")]
    pub password_file: Option<PathBuf>,
    /// Log in to the mailbox even when the server's certificate does not verify (expired, wrong name, unknown CA); recorded in the evidence. Without it no password is sent over unverified TLS. Passwords are never sent without TLS.
    #[arg(long, requires = "mailbox_input")]
    pub accept_invalid_certs: bool,
    /// Also record date, sender and subject of the first three messages of each folder and year (shown with RET-002). Off by default: the report then holds counts only (data minimisation, Art. 5(1)(c) DSGVO).
    #[arg(long, requires = "mailbox_input")]
    pub show_messages: bool,
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub rule_source: RuleSource,
}

/// `--profile`, shared by scan, report and evaluate.
#[derive(Debug, Args)]
pub struct ProfileArg {
    /// Audit profile (mailaudit.toml) declaring what a scan cannot know: Kaufmann or financial sector, a GoBD archive, POP3 clients, non-business folders, legal holds, an AVV with the provider. See docs/mailaudit.example.toml. With report and evaluate it replaces the profile saved in the report.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

/// `mailaudit report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report.json a scan wrote.
    #[arg(value_name = "EVIDENCE.json")]
    pub evidence: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Report language: de (German) or en (English). Default: the language of the saved report.
    #[arg(long, value_name = "de|en")]
    pub lang: Option<Language>,
    /// Exit with code 1 when a failed finding has at least this severity: critical, high, medium, low, info.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: Severity,
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub rule_source: RuleSource,
}

/// `mailaudit merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSONL files written by `mailaudit scan --format jsonl`.
    #[arg(required = true, value_name = "FILE.jsonl")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Report language: de or en. Default: the language of the first line.
    #[arg(long, value_name = "de|en")]
    pub lang: Option<Language>,
    /// Exit with code 1 when a failed finding has at least this severity: critical, high, medium, low, info.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: Severity,
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub rule_source: RuleSource,
}

/// `mailaudit evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The report.json a scan wrote.
    #[arg(value_name = "EVIDENCE.json")]
    pub evidence: PathBuf,
    /// Language of titles and details: de or en. Default: the language of the saved report.
    #[arg(long, value_name = "de|en")]
    pub lang: Option<Language>,
    /// Exit with code 1 when a failed finding has at least this severity: critical, high, medium, low, info.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: Severity,
    /// Print the terminal summary instead of the findings JSON.
    #[arg(long)]
    pub summary: bool,
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub rule_source: RuleSource,
}
