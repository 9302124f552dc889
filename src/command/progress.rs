//! Progress on the terminal (indicatif). One domain: endpoints probed and
//! ETA. A batch: domains done, endpoints in flight, failed endpoint probes
//! and ETA. Hidden when stderr is not a terminal or with --quiet.

use crate::evidence::{AttemptStatus, EndpointEvidence, PortState};
use crate::probe::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A progress bar over all endpoints of one domain, or over the domains of
/// a batch.
pub struct Terminal {
    bar: ProgressBar,
    /// True when the bar counts domains (more than one to scan).
    batch: bool,
    in_flight: AtomicUsize,
    errors: AtomicUsize,
    /// `--quiet`: no progress and no notes on stderr.
    quiet: bool,
}

impl Terminal {
    /// A bar that draws only on an interactive stderr; `domains` is how
    /// many domains the scan has.
    pub fn new(quiet: bool, domains: usize) -> Terminal {
        let batch = domains > 1;
        let bar = ProgressBar::new(if batch { domains as u64 } else { 0 });
        if quiet || !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let template = if batch {
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} domains, ETA {eta}  {msg}"
        } else {
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} endpoints, ETA {eta}  {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Terminal {
            bar,
            batch,
            in_flight: AtomicUsize::new(0),
            errors: AtomicUsize::new(0),
            quiet,
        }
    }

    /// Counts domains finished in an earlier run (`--resume`) as done.
    pub fn already_done(&self, domains: usize) {
        if self.batch {
            self.bar.inc(domains as u64);
            self.bar.reset_eta();
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn batch_message(&self) {
        self.bar.set_message(format!(
            "{} endpoints in flight, {} failed",
            self.in_flight.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed)
        ));
    }
}

impl Progress for Terminal {
    fn discovered(&self, domain: &str, count: usize) {
        if self.batch {
            self.in_flight.fetch_add(count, Ordering::Relaxed);
            self.batch_message();
        } else {
            self.bar.inc_length(count as u64);
            self.bar.set_message(format!("{domain}: {count} endpoints"));
        }
    }

    fn endpoint_done(&self, evidence: &EndpointEvidence) {
        if self.batch {
            // Saturating: a domain's endpoints are counted once discovered.
            let _ = self
                .in_flight
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(1))
                });
            if evidence.tcp.status == AttemptStatus::Failed {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
            self.batch_message();
            return;
        }
        self.bar.inc(1);
        if evidence
            .tcp
            .value()
            .is_some_and(|t| t.state == PortState::Open)
        {
            self.bar.set_message(evidence.subject.clone());
        }
    }

    fn domain_done(&self, _domain: &str) {
        if self.batch {
            self.bar.inc(1);
        }
    }

    /// Printed also when stderr is not a terminal (a log of a CI run shows
    /// where a password went), but not with --quiet.
    fn mailbox_login(&self, user: &str, server: &str) {
        if !self.quiet {
            self.bar
                .suspend(|| eprintln!("mailbox: one login attempt as {user} on {server}"));
        }
    }
}
