//! `report.html`: self-contained (inline CSS and SVG, no scripts, no external
//! assets), rendered with Tera from `report-templates/report.html` (and the
//! `classes.html` it includes) over the
//! shared render view (`view.rs`), so it carries the same facts as the PDF.

use super::{RenderError, Report, view};

const TEMPLATE: &str = include_str!("../../report-templates/report.html");
const CLASSES: &str = include_str!("../../report-templates/classes.html");

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let view = view::build(report);
    let context =
        tera::Context::from_serialize(&view).map_err(|e| RenderError::Template(e.to_string()))?;
    let mut tera = tera::Tera::default();
    tera.add_raw_templates([("classes.html", CLASSES), ("report.html", TEMPLATE)])
        .map_err(|e| RenderError::Template(format!("{e:?}")))?;
    tera.render("report.html", &context)
        .map_err(|e| RenderError::Template(format!("{e:?}")))
}
