//! Command-line types (clap). Parsing only; `main` does the work.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  no failed finding at or above --fail-on (default: high)
  1  failed findings at or above --fail-on exist
  2  usage or input error (bad flag, domain, rule file, CA file, output directory)
  3  the scan could not run at all (no DNS answer and no reachable endpoint for any target)";

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
        after_help = "Examples:\n  mailaudit scan example.org --out report/\n      writes report/report.html and report/report.json\n  mailaudit scan example.org --format json --out -\n      prints the JSON report on stdout and nothing else\n  mailaudit scan corp.internal --resolver 10.0.0.53 --ca-file corp-ca.pem --lang en\n      audits an internal split-horizon setup with its own CA\n\nExit codes:\n  0  no failed finding at or above --fail-on\n  1  failed findings at or above --fail-on exist\n  2  usage or input error\n  3  the scan could not run at all"
    )]
    Scan(Box<ScanArgs>),
    /// List the rules in use, and check rule files for errors.
    #[command(
        after_help = "Examples:\n  mailaudit rules\n      lists the built-in rules\n  mailaudit rules --rules my-rules/\n      checks my-rules/*.toml and lists the rules with them applied"
    )]
    Rules(RuleSource),
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
}

/// `mailaudit scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Mail domains to audit, e.g. example.org.
    #[arg(required = true, value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Output directory, created if missing; `-` prints one format on stdout.
    #[arg(long, value_name = "DIR|-", default_value = "mailaudit-report")]
    pub out: String,
    /// Output formats, comma-separated: html, json.
    #[arg(
        long,
        value_name = "FORMATS",
        value_delimiter = ',',
        default_value = "html,json"
    )]
    pub format: Vec<String>,
    /// Report language: de (German) or en (English).
    #[arg(long, value_name = "de|en", default_value = "de")]
    pub lang: String,
    /// Send every DNS query to this server (UDP and TCP), e.g. 10.0.0.53 or [::1]:5353. Default: the system resolver.
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Option<String>,
    /// DNSSEC trust anchors (DS or DNSKEY zone-file lines) for zones not under the public root. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub dnssec_anchor: Vec<PathBuf>,
    /// Extra CA certificates (PEM) trusted on top of the public roots. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,
    /// Limit in seconds for each network step (DNS query, protocol command, TLS handshake). TCP connects use at most 5 s.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Also probe this endpoint: HOST:PORT on a standard mail port, or PROTOCOL://HOST:PORT (smtp, submission, submissions, imap, imaps, pop3, pop3s, sieve). Repeatable.
    #[arg(long = "host", value_name = "HOST:PORT")]
    pub hosts: Vec<String>,
    /// Exit with code 1 when a failed finding has at least this severity: critical, high, medium, low, info.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: String,
    /// Most simultaneous connections to one IP address (providers rate-limit).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub connections_per_host: usize,
    /// DKIM selector to look up at SELECTOR._domainkey.DOMAIN, besides the built-in common ones (default, selector1, google, …). Repeatable.
    #[arg(long = "dkim-selector", value_name = "SELECTOR")]
    pub dkim_selectors: Vec<String>,
    /// Mailbox whose OPENPGPKEY (RFC 7929) and SMIMEA (RFC 8162) records are looked up, e.g. alice@example.org; the records' names hash the local part, so they cannot be found without one. Only looked up when its domain is scanned. Repeatable.
    #[arg(long = "key-lookup", value_name = "ADDRESS")]
    pub key_lookups: Vec<String>,
    /// Base URL of the RDAP bootstrap registry (RFC 9224) under which ipv4.json and ipv6.json are fetched, for LOC-001 (data location). Default: https://data.iana.org/rdap/. With this flag, loopback and private addresses are looked up too (for a test or internal registry).
    #[arg(long, value_name = "URL")]
    pub rdap_bootstrap: Option<String>,
    /// Do not look up where the servers are (no RDAP queries); LOC-001 is then inconclusive.
    #[arg(long, conflicts_with = "rdap_bootstrap")]
    pub no_location: bool,
    #[command(flatten)]
    pub rule_source: RuleSource,
}
