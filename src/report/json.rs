//! `report.json`: the versioned report model, pretty-printed.

use super::{RenderError, Report};
use std::io::Write;

/// Renders the report as JSON.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// Writes the same bytes as [`render`] to `out`, buffered, without holding
/// them in memory.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> Result<(), RenderError> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, report)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    Ok(())
}
