//! The Typst side of `report.pdf` (feature `pdf`): serialises the render
//! view as `data.json`, compiles `report-templates/report.typ` with the
//! fonts embedded in the binary, and writes the PDF in the chosen standard.

use super::PdfStandard;
use crate::report::{RenderError, Report, view};
use serde::Serialize;
use sha2::{Digest, Sha256};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandards};

const TEMPLATE: &str = include_str!("../../../report-templates/report.typ");

/// `data.json`: the view plus what only the PDF prints.
#[derive(Serialize)]
struct PdfData<'a> {
    #[serde(flatten)]
    view: view::View<'a>,
    pdf: PdfFacts,
}

#[derive(Serialize)]
struct PdfFacts {
    standard: &'static str,
    /// Whether `report.json` is embedded (not under PDF/A-2b).
    attached: bool,
    /// Lower-case hex SHA-256 of `report.json`.
    evidence_sha256: String,
    evidence_bytes: usize,
    /// The document date (PDF/A requires one): when the scan finished.
    year: i32,
    month: u32,
    day: u32,
}

/// Compiles the template over the report and writes the PDF.
pub fn render(
    report: &Report,
    evidence: &str,
    standard: PdfStandard,
) -> Result<Vec<u8>, RenderError> {
    use chrono::Datelike;
    let date = report.finished_at.date_naive();
    let data = PdfData {
        view: view::build(report),
        pdf: PdfFacts {
            standard: standard.name(),
            attached: standard.attaches_evidence(),
            evidence_sha256: hex(&Sha256::digest(evidence.as_bytes())),
            evidence_bytes: evidence.len(),
            year: date.year(),
            month: date.month(),
            day: date.day(),
        },
    };
    // The profile's logo, decoded from its data URI (`logo.png`/`.jpg`/
    // `.svg`, the name tells Typst the format); absent without one.
    let logo = data.view.branding.logo.as_deref().and_then(logo_file);
    let data = serde_json::to_vec(&data)?;
    let mut files = vec![
        ("data.json", data),
        ("report.json", evidence.as_bytes().to_vec()),
    ];
    if let Some((name, bytes)) = logo {
        files.push((name, bytes));
    }
    let engine = TypstEngine::builder()
        .main_file(TEMPLATE)
        .fonts(typst_assets::fonts())
        .with_static_file_resolver(files)
        .build();
    let document: PagedDocument = engine.compile().output.map_err(|error| {
        let detail = match error {
            typst_as_lib::TypstAsLibError::TypstSource(diagnostics) => diagnostics
                .iter()
                .map(|d| d.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        RenderError::Pdf(format!("the template did not compile: {detail}"))
    })?;
    let standards = PdfStandards::new(&[match standard {
        PdfStandard::A3b => typst_pdf::PdfStandard::A_3b,
        PdfStandard::A2b => typst_pdf::PdfStandard::A_2b,
        PdfStandard::Ua1 => typst_pdf::PdfStandard::Ua_1,
    }])
    .map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    let options = PdfOptions {
        standards,
        tagged: true,
        creator: typst::foundations::Smart::Custom(Some(format!(
            "mailaudit {}",
            report.tool_version
        ))),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| {
        let messages: Vec<String> = errors.iter().map(|e| e.message.to_string()).collect();
        RenderError::Pdf(messages.join("; "))
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `data:image/png;base64,…` → (`logo.png`, bytes).
fn logo_file(uri: &str) -> Option<(&'static str, Vec<u8>)> {
    use base64::Engine;
    let (head, payload) = uri.strip_prefix("data:")?.split_once(";base64,")?;
    let name = match head {
        "image/png" => "logo.png",
        "image/jpeg" => "logo.jpg",
        "image/svg+xml" => "logo.svg",
        _ => return None,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    Some((name, bytes))
}
