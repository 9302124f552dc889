//! Where a command's report goes: every `--format` into the output
//! directory (or one on stdout with `--out -`), then the terminal summary
//! on stdout, or on stderr when stdout carries the report.

use super::CommandError;
use crate::report::{Format, RenderError, RenderOptions, Report, pdf, summary};
use std::io::Write;
use std::path::Path;

/// Checks `--format` against `--out` and this build: no `jsonl` (only a
/// batch scan writes it), no `pdf` without the feature, and exactly one
/// format on stdout. Duplicates are dropped.
pub fn formats(requested: &[Format], out: &str) -> Result<Vec<Format>, CommandError> {
    let mut formats = Vec::new();
    for &format in requested {
        if format == Format::Jsonl {
            return Err(CommandError::usage(
                "--format jsonl: only `mailaudit scan` writes JSON Lines (one line per domain as it finishes); use html, pdf, json, md, junit or sarif here",
            ));
        }
        if format == Format::Pdf && !pdf::AVAILABLE {
            return Err(CommandError::usage(
                "--format pdf: this mailaudit was built without the `pdf` feature; rebuild it with the feature (on by default: cargo build --release, without --no-default-features)",
            ));
        }
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    if out == "-" && formats.len() != 1 {
        return Err(CommandError::usage(
            "--out - prints exactly one format on stdout; add --format json or --format html",
        ));
    }
    Ok(formats)
}

/// Writes a rendered text to stdout (a closed pipe is a usage error).
pub fn print_stdout(text: impl AsRef<[u8]>) -> Result<(), CommandError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_ref())
        .and_then(|_| stdout.flush())
        .map_err(|e| CommandError::usage_in("cannot write to stdout", e))
}

/// Why one format could not be written: a write error is the user's
/// (exit 2), a rendering error is not (exit 1).
fn failed(format: Format, error: RenderError) -> CommandError {
    match error {
        RenderError::Write(_) => {
            CommandError::usage(format!("cannot write the {format:?} report: {error}"))
        }
        other => {
            CommandError::Failed(format!("cannot render the {format:?} report: {other}").into())
        }
    }
}

/// Writes every format into `out_dir` (or stdout) and the summary.
pub fn write_all(
    report: &Report,
    formats: &[Format],
    options: &RenderOptions,
    out_dir: Option<&Path>,
    quiet: bool,
) -> Result<(), CommandError> {
    let mut written = Vec::new();
    for &format in formats {
        match out_dir {
            None => {
                let mut stdout = std::io::stdout().lock();
                format
                    .write_to(report, options, &mut stdout)
                    .and_then(|()| stdout.flush().map_err(RenderError::Write))
                    .map_err(|e| failed(format, e))?;
                written.push("-".to_string());
            }
            Some(dir) => {
                let path = dir.join(format.file_name());
                let mut file = create(&path)?;
                format
                    .write_to(report, options, &mut file)
                    .map_err(|e| failed(format, e))?;
                written.push(path.display().to_string());
            }
        }
    }
    if !quiet {
        print_summary(&summary::render(report, &written), out_dir.is_some());
    }
    Ok(())
}

/// Creates a report file.
pub fn create(path: &Path) -> Result<std::fs::File, CommandError> {
    std::fs::File::create(path)
        .map_err(|e| CommandError::usage_in(format!("cannot write {}", path.display()), e))
}

/// Prints the summary (or the batch table) where it goes: stdout, unless
/// stdout belongs to the report.
pub fn print_summary(text: &str, to_stdout: bool) {
    if to_stdout {
        print!("{text}");
    } else {
        eprint!("{text}");
    }
}

/// Prints the per-domain table after the summary, where the summary went.
pub fn print_domain_table(report: &Report, out_dir: Option<&Path>, quiet: bool) {
    if quiet || report.targets.len() < 2 {
        return;
    }
    print_summary(&summary::domain_table(report), out_dir.is_some());
}
