//! `report.json`: the versioned report model, pretty-printed.

use super::{RenderError, Report};

/// Renders the report as JSON.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}
