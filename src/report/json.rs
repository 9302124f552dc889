//! `report.json`: the versioned report model, pretty-printed.

use super::{RenderError, Report};
use std::io::Write;

/// Renders the report as JSON: the bytes [`write`] writes.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut bytes = Vec::new();
    write(report, &mut bytes)?;
    // serde_json writes UTF-8 only, so this never replaces anything.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned()))
}

/// Writes the report as pretty JSON and a newline to `out`, buffered,
/// without holding it in memory.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> Result<(), RenderError> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, report)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    Ok(())
}
