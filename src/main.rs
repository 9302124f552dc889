//! The `mailaudit` binary: parses the command line, calls the library, writes
//! the outputs, and maps the outcome to the documented exit codes.

mod batch_run;
mod cli;
mod progress;

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use cli::{
    Cli, Command, EvaluateArgs, OutputArgs, ProfileArg, ReportArgs, RuleSource, RulesCommand,
    ScanArgs,
};
use mailaudit::Language;
use mailaudit::batch;
use mailaudit::credentials::{self, PasswordSource};
use mailaudit::finding::Severity;
use mailaudit::probe::location::{IANA_BOOTSTRAP, LocationSettings};
use mailaudit::probe::mailbox::MailboxOptions;
use mailaudit::profile::AuditProfile;
use mailaudit::report::{
    Format, RenderError, RenderOptions, Report, baseline, offline, pdf, schema, summary,
};
use mailaudit::rules::{self, Rule};
use mailaudit::scan::ScanRequest;
use mailaudit::target::{HostSpec, parse_domain};
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Exit code 2: usage or input error.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let outcome = match &cli.command {
        Command::Scan(args) => run_scan(args, cli.quiet),
        Command::Report(args) => run_report(args, cli.quiet),
        Command::Evaluate(args) => run_evaluate(args, cli.quiet),
        Command::Merge(args) => batch_run::merge(args, cli.quiet),
        Command::Rules {
            command: RulesCommand::List(source),
        } => list_rules(source),
        Command::Rules {
            command: RulesCommand::Check { dir },
        } => check_rules(dir),
        Command::Schema => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::stdout()
                .lock()
                .write_all(schema::render().as_bytes());
            Ok(0)
        }
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err((code, error)) => {
            eprintln!("mailaudit: error: {error:#}");
            ExitCode::from(code)
        }
    }
}

type Outcome = Result<u8, (u8, anyhow::Error)>;

/// Writes a rendered report to stdout (a closed pipe is a usage error).
fn print_stdout(text: impl AsRef<[u8]>) -> Result<(), (u8, anyhow::Error)> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_ref())
        .and_then(|_| stdout.flush())
        .context("cannot write to stdout")
        .map_err(usage)
}

fn usage(error: anyhow::Error) -> (u8, anyhow::Error) {
    (USAGE, error)
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        // hickory logs every bogus answer as a warning; the evidence has it.
        (false, 0) => "warn,hickory_net=error,hickory_proto=error,hickory_resolver=error",
        (false, 1) => "mailaudit=info",
        _ => "mailaudit=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
    // Crates that log through `log` are forwarded, except async-imap: its
    // trace output holds every command as sent, AUTHENTICATE's credentials
    // included, and no log level may ever show a password.
    let _ = tracing_log::LogTracer::builder()
        .ignore_crate("async_imap")
        .init();
}

fn load_rules(source: &RuleSource) -> anyhow::Result<Vec<Rule>> {
    let defaults = if source.no_default_rules {
        Vec::new()
    } else {
        rules::defaults().context("the built-in rules are broken")?
    };
    Ok(match &source.rules {
        Some(dir) => rules::merge(defaults, rules::from_dir(dir)?),
        None => defaults,
    })
}

/// `mailaudit rules check DIR`: parses every rule file (CEL, references,
/// severities), checks the string literals compared with enum fields
/// against the report schema, and runs the examples each file carries.
fn check_rules(dir: &Path) -> Outcome {
    let rules = rules::from_dir(dir).map_err(|e| usage(e.into()))?;
    let default_now: chrono::DateTime<chrono::Utc> = "2026-11-26T00:00:00Z"
        .parse()
        .map_err(|e| usage(anyhow!("{e}")))?;
    let mut problems = Vec::new();
    // Literals compared with enum fields must be values the evidence can
    // hold (issue 14: GOV-002 compared with 'adequate', never written).
    let schema = mailaudit::report::schema::generate();
    let schema = rules::SchemaIndex::new(&schema);
    for rule in &rules {
        problems.extend(
            rules::literal_problems(rule, &schema)
                .iter()
                .map(ToString::to_string),
        );
    }
    let mut examples = 0;
    for rule in &rules {
        for (index, example) in rule.examples.iter().enumerate() {
            examples += 1;
            let variables = example
                .variables
                .iter()
                .map(|(k, v)| Ok((k.clone(), serde_json::to_value(v)?)))
                .collect::<Result<_, serde_json::Error>>()
                .map_err(|e| usage(e.into()))?;
            let now = match example.now.as_deref() {
                Some(text) => text.parse().map_err(|e| {
                    usage(anyhow!(
                        "{} example {}: now = '{text}' is not an RFC 3339 time ({e})",
                        rule.id,
                        index + 1
                    ))
                })?,
                None => default_now,
            };
            let verdict = rules::evaluate_rule(rule, &variables, now, Language::En);
            if verdict.status.to_string() != example.expect {
                problems.push(format!(
                    "{} example {}: expected {}, got {} ({})",
                    rule.id,
                    index + 1,
                    example.expect,
                    verdict.status,
                    verdict.detail
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(usage(anyhow!(
            "{} problem(s) in {}: a literal the evidence never holds, or an example that does not hold:\n  {}",
            problems.len(),
            dir.display(),
            problems.join("\n  ")
        )));
    }
    println!(
        "{}: {} rules, {examples} examples hold",
        dir.display(),
        rules.len()
    );
    Ok(0)
}

fn list_rules(source: &RuleSource) -> Outcome {
    let rules = load_rules(source).map_err(usage)?;
    let mut out = std::io::stdout().lock();
    for rule in &rules {
        let _ = writeln!(
            out,
            "{}  {:<8}  {:<12}  {}",
            rule.id,
            rule.severity.name(),
            rule.area,
            rule.title.en
        );
    }
    let _ = writeln!(
        out,
        "{} rules, rule set {}",
        rules.len(),
        rules::RULE_SET_VERSION
    );
    Ok(0)
}

fn parse_resolver(input: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(address) = input.parse::<SocketAddr>() {
        return Ok(address);
    }
    input
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            anyhow!(
                "--resolver '{input}' is not an IP address or IP:PORT, e.g. 10.0.0.53 or [::1]:5353"
            )
        })
}

/// A DKIM selector is one or more DNS labels (RFC 6376 §3.1), e.g. `mail` or `2024.eu`.
fn parse_dkim_selector(input: &str) -> anyhow::Result<String> {
    let selector = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !selector.is_empty()
        && selector.len() <= 200
        && selector.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !valid {
        bail!(
            "--dkim-selector '{input}' is not a DKIM selector; give the part before ._domainkey, e.g. --dkim-selector mail"
        );
    }
    Ok(selector)
}

/// `--rdap-bootstrap`: an http(s) URL with a host; returned ending in `/`
/// so `ipv4.json` and `ipv6.json` can be appended.
fn parse_rdap_bootstrap(input: &str) -> anyhow::Result<String> {
    let hint = "give the base URL of an RDAP bootstrap registry, e.g. --rdap-bootstrap https://data.iana.org/rdap/";
    let url = reqwest::Url::parse(input.trim())
        .map_err(|e| anyhow!("--rdap-bootstrap '{input}' is not a URL ({e}); {hint}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        bail!("--rdap-bootstrap '{input}' is not an http(s) URL with a host; {hint}");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("--rdap-bootstrap '{input}' must not have a query or fragment; {hint}");
    }
    let mut base = url.to_string();
    if !base.ends_with('/') {
        base.push('/');
    }
    Ok(base)
}

/// An e-mail address for `--key-lookup`: a dot-atom local part (RFC 5322
/// §3.4.1, no quoted strings) and a domain; the domain is lower-cased, the
/// local part kept as given because RFC 7929 §3 hashes it as written.
fn parse_key_lookup(input: &str) -> anyhow::Result<String> {
    let address = input.trim();
    let valid_local = |local: &str| {
        !local.is_empty()
            && local.len() <= 64
            && local.split('.').all(|atom| {
                !atom.is_empty()
                    && atom
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
            })
    };
    match address.rsplit_once('@') {
        Some((local, domain)) if valid_local(local) => match parse_domain(domain) {
            Ok(domain) => Ok(format!("{local}@{domain}")),
            Err(error) => bail!(
                "--key-lookup '{input}': {error}; give an e-mail address, e.g. --key-lookup alice@example.org"
            ),
        },
        _ => bail!(
            "--key-lookup '{input}' is not an e-mail address; give one such as --key-lookup alice@example.org"
        ),
    }
}

/// Turns the arguments into a request, failing with exit code 2 on bad input.
fn request(args: &ScanArgs) -> anyhow::Result<(ScanRequest, Vec<Format>, Severity)> {
    let mut domains = Vec::new();
    for input in &args.domains {
        let domain = parse_domain(input)?;
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if let Some(path) = &args.targets {
        for domain in batch::read_targets(path)? {
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
    }
    // A batch is reported in name order, so shards merge into the same report.
    if args.targets.is_some() || args.shard.is_some() || args.resume.is_some() {
        domains.sort();
    }
    if let Some(shard) = &args.shard {
        let shard: batch::Shard = shard.parse()?;
        domains.retain(|d| shard.contains(d));
    }
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let language: Language = args
        .lang
        .parse()
        .map_err(|e: String| anyhow!("--lang: {e}"))?;
    let formats = batch_run::report_formats(args)?;
    let fail_on = parse_fail_on(&args.fail_on)?;
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 300.0) {
        bail!(
            "--timeout must be a number of seconds above 0 and at most 300, not {}",
            args.timeout
        );
    }
    if args.connections_per_host == 0 {
        bail!("--connections-per-host must be at least 1");
    }
    let extra_hosts = args
        .hosts
        .iter()
        .map(|h| h.parse::<HostSpec>().map(|spec| spec.0))
        .collect::<Result<Vec<_>, _>>()?;
    let resolver = args.resolver.as_deref().map(parse_resolver).transpose()?;
    let dkim_selectors = args
        .dkim_selectors
        .iter()
        .map(|s| parse_dkim_selector(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut key_lookups = args
        .key_lookups
        .iter()
        .map(|a| parse_key_lookup(a))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let specs = args
        .mailboxes
        .iter()
        .map(|m| {
            let spec = credentials::parse_mailbox(m)?;
            spec.check_unambiguous(m, &domains)?;
            Ok(spec)
        })
        .collect::<Result<Vec<_>, credentials::CredentialError>>()?;
    // An audited mailbox's keys are looked up too (E2E-001).
    for spec in &specs {
        if let Ok(address) = parse_key_lookup(&spec.user)
            && !key_lookups.contains(&address)
        {
            key_lookups.push(address);
        }
    }
    let mailboxes = if specs.is_empty() {
        Vec::new()
    } else {
        let source = match (&args.password_env, &args.password_file) {
            (Some(variable), _) => PasswordSource::Environment(variable.clone()),
            (None, Some(path)) => PasswordSource::File(path.clone()),
            (None, None) if std::io::stdin().is_terminal() => PasswordSource::Prompt,
            (None, None) => return Err(credentials::CredentialError::NoSource.into()),
        };
        credentials::read_passwords(specs, &source)?
    };
    let location = match (&args.rdap_bootstrap, args.no_location) {
        (_, true) => LocationSettings::Off,
        (Some(url), false) => LocationSettings::Rdap {
            base: parse_rdap_bootstrap(url)?,
            explicit: true,
        },
        (None, false) => LocationSettings::Rdap {
            base: IANA_BOOTSTRAP.to_string(),
            explicit: false,
        },
    };
    Ok((
        ScanRequest {
            domains,
            resolver,
            ca_files: args.ca_file.clone(),
            dnssec_anchors: args.dnssec_anchor.clone(),
            timeout: Duration::from_secs_f64(args.timeout),
            extra_hosts,
            connections_per_address: args.connections_per_host,
            language,
            dkim_selectors,
            key_lookups,
            location,
            tls_scan: !args.no_tls_scan,
            mailboxes,
            mailbox_options: MailboxOptions {
                accept_invalid_certs: args.accept_invalid_certs,
                show_messages: args.show_messages,
            },
            profile: load_profile(&args.profile)?.unwrap_or_default(),
        },
        formats,
        fail_on,
    ))
}

fn parse_formats(names: &[String], out: &str) -> anyhow::Result<Vec<Format>> {
    let mut formats = Vec::new();
    for name in names {
        let format: Format = name.parse().map_err(|e: String| anyhow!("--format: {e}"))?;
        if format == Format::Pdf && !pdf::AVAILABLE {
            bail!(
                "--format pdf: this mailaudit was built without the `pdf` feature; rebuild it with the feature (on by default: cargo build --release, without --no-default-features)"
            );
        }
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    if out == "-" && formats.len() != 1 {
        bail!("--out - prints exactly one format on stdout; add --format json or --format html");
    }
    Ok(formats)
}

fn parse_fail_on(input: &str) -> anyhow::Result<Severity> {
    input.parse().map_err(|e: String| anyhow!("--fail-on: {e}"))
}

fn parse_language(input: Option<&str>, saved: Language) -> anyhow::Result<Language> {
    match input {
        Some(lang) => lang.parse().map_err(|e: String| anyhow!("--lang: {e}")),
        None => Ok(saved),
    }
}

/// Creates the output directory; `None` for `--out -`.
fn output_dir(out: &str) -> anyhow::Result<Option<PathBuf>> {
    if out == "-" {
        return Ok(None);
    }
    let dir = PathBuf::from(out);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    Ok(Some(dir))
}

/// The `--baseline` report, read before any work so a bad file fails at once.
fn read_baseline(output: &OutputArgs) -> anyhow::Result<Option<Report>> {
    Ok(output.baseline.as_deref().map(offline::read).transpose()?)
}

fn run_scan(args: &ScanArgs, quiet: bool) -> Outcome {
    let (request, formats, fail_on) = request(args).map_err(usage)?;
    let options = render_options(&args.output).map_err(usage)?;
    let rules = load_rules(&args.rule_source).map_err(usage)?;
    let previous = read_baseline(&args.output).map_err(usage)?;
    let out_dir = output_dir(&args.output.out).map_err(usage)?;
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .map_err(usage)?;
    let progress = progress::Terminal::new(quiet, request.domains.len());
    let mut report = match batch_run::stream(args, out_dir.as_deref()).map_err(usage)? {
        Some(stream) => {
            match batch_run::scan(&runtime, &request, &rules, &progress, args, stream)? {
                Ok(report) => report,
                Err(code) => return Ok(code),
            }
        }
        None => runtime
            .block_on(batch_run::without_stream(
                &request,
                &rules,
                &progress,
                args.concurrency,
            ))
            .map_err(|e| usage(e.into()))?,
    };
    progress.finish();
    if let Some(previous) = &previous {
        baseline::compare(&mut report, previous);
    }
    write_outputs(&report, &formats, &options, out_dir.as_deref(), quiet)?;
    if batch_run::is_batch(args) {
        batch_run::print_domain_table(&report, out_dir.as_deref(), quiet);
    }
    if report.could_not_run() {
        eprintln!(
            "mailaudit: the scan could not run: no target gave a DNS answer or a reachable endpoint (check the domain names and --resolver)"
        );
        return Ok(3);
    }
    Ok(if report.fails_at(fail_on) { 1 } else { 0 })
}

/// `--pdf-standard`.
fn render_options(output: &OutputArgs) -> anyhow::Result<RenderOptions> {
    let pdf_standard = output
        .pdf_standard
        .parse()
        .map_err(|e: String| anyhow!("--pdf-standard: {e}"))?;
    Ok(RenderOptions { pdf_standard })
}

/// Writes every format into `out_dir` (or stdout) and the summary.
fn write_outputs(
    report: &Report,
    formats: &[Format],
    options: &RenderOptions,
    out_dir: Option<&Path>,
    quiet: bool,
) -> Result<(), (u8, anyhow::Error)> {
    let mut written = Vec::new();
    for format in formats {
        let failed = |error: RenderError| match error {
            RenderError::Write(_) => usage(anyhow!("cannot write the {format:?} report: {error}")),
            other => (1, anyhow!("cannot render the {format:?} report: {other}")),
        };
        match out_dir {
            None => {
                let mut stdout = std::io::stdout().lock();
                format
                    .write_to(report, options, &mut stdout)
                    .and_then(|()| stdout.flush().map_err(RenderError::Write))
                    .map_err(failed)?;
                written.push("-".to_string());
            }
            Some(dir) => {
                let path = dir.join(format.file_name());
                let mut file = std::fs::File::create(&path)
                    .with_context(|| format!("cannot write {}", path.display()))
                    .map_err(usage)?;
                format
                    .write_to(report, options, &mut file)
                    .map_err(failed)?;
                written.push(path.display().to_string());
            }
        }
    }
    if !quiet {
        let text = summary::render(report, &written);
        // stdout belongs to the report when it is printed there.
        if out_dir.is_some() {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    }
    Ok(())
}

/// `mailaudit report`: re-evaluates a saved report and renders it, offline.
fn run_report(args: &ReportArgs, quiet: bool) -> Outcome {
    let formats = parse_formats(&args.output.format, &args.output.out).map_err(usage)?;
    let options = render_options(&args.output).map_err(usage)?;
    let fail_on = parse_fail_on(&args.fail_on).map_err(usage)?;
    let rules = load_rules(&args.rule_source).map_err(usage)?;
    let saved = offline::read(&args.evidence).map_err(|e| usage(e.into()))?;
    let language = parse_language(args.lang.as_deref(), saved.language).map_err(usage)?;
    let previous = read_baseline(&args.output).map_err(usage)?;
    let profile = load_profile(&args.profile).map_err(usage)?;
    let mut report = rules::reevaluate(&saved, &rules, language, profile.as_ref());
    if let Some(previous) = &previous {
        baseline::compare(&mut report, previous);
    }
    let out_dir = output_dir(&args.output.out).map_err(usage)?;
    write_outputs(&report, &formats, &options, out_dir.as_deref(), quiet)?;
    Ok(if report.fails_at(fail_on) { 1 } else { 0 })
}

/// `mailaudit evaluate`: re-runs the rules on a saved report and prints the
/// findings (JSON array) or the summary, offline.
fn run_evaluate(args: &EvaluateArgs, quiet: bool) -> Outcome {
    let fail_on = parse_fail_on(&args.fail_on).map_err(usage)?;
    let rules = load_rules(&args.rule_source).map_err(usage)?;
    let saved = offline::read(&args.evidence).map_err(|e| usage(e.into()))?;
    let language = parse_language(args.lang.as_deref(), saved.language).map_err(usage)?;
    let profile = load_profile(&args.profile).map_err(usage)?;
    let report = rules::reevaluate(&saved, &rules, language, profile.as_ref());
    let text = if args.summary {
        summary::render(&report, &[])
    } else {
        let mut json = serde_json::to_string_pretty(&report.findings)
            .context("cannot serialise the findings")
            .map_err(|e| (1, e))?;
        json.push('\n');
        json
    };
    if !(args.summary && quiet) {
        print_stdout(&text)?;
    }
    Ok(if report.fails_at(fail_on) { 1 } else { 0 })
}

/// Reads `--profile`, if given.
fn load_profile(arg: &ProfileArg) -> anyhow::Result<Option<AuditProfile>> {
    arg.profile
        .as_deref()
        .map(AuditProfile::load)
        .transpose()
        .map_err(Into::into)
}
