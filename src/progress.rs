//! Progress on the terminal (indicatif): endpoints probed, failures, ETA.
//! Hidden when stderr is not a terminal or with --quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailaudit::evidence::{EndpointEvidence, PortState};
use mailaudit::probe::Progress;
use std::io::IsTerminal;

/// A progress bar over all endpoints of all domains.
pub struct Terminal {
    bar: ProgressBar,
}

impl Terminal {
    /// A bar that draws only on an interactive stderr.
    pub fn new(quiet: bool) -> Terminal {
        let bar = ProgressBar::new(0);
        if quiet || !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} endpoints, ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Terminal { bar }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Terminal {
    fn discovered(&self, domain: &str, count: usize) {
        self.bar.inc_length(count as u64);
        self.bar.set_message(format!("{domain}: {count} endpoints"));
    }

    fn endpoint_done(&self, evidence: &EndpointEvidence) {
        self.bar.inc(1);
        if evidence
            .tcp
            .value()
            .is_some_and(|t| t.state == PortState::Open)
        {
            self.bar.set_message(evidence.subject.clone());
        }
    }
}
