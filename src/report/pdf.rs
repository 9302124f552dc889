//! `report.pdf`: the same render view as the HTML, typeset in-process by
//! Typst from `report-templates/report.typ` (cargo feature `pdf`, on by
//! default). By default the PDF is PDF/A-3b and carries `report.json`, byte
//! for byte, as an embedded file, with its SHA-256 printed on the last page,
//! so the archived document is also verifiable evidence (Art. 5(2) DSGVO).

use super::{RenderError, Report};

#[cfg(feature = "pdf")]
mod typst_document;

/// True when this build can write PDF (the `pdf` feature).
pub const AVAILABLE: bool = cfg!(feature = "pdf");

/// The PDF standard a report conforms to (`--pdf-standard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PdfStandard {
    /// PDF/A-3b, with `report.json` attached: archival and verifiable.
    #[default]
    A3b,
    /// PDF/A-2b, for archives that do not accept PDF/A-3; it forbids
    /// embedded files, so `report.json` is not attached (its hash is still
    /// printed).
    A2b,
    /// PDF/UA-1 (accessibility), with `report.json` attached.
    Ua1,
}

impl PdfStandard {
    /// The name on the command line and in the document.
    pub fn name(self) -> &'static str {
        match self {
            PdfStandard::A3b => "PDF/A-3b",
            PdfStandard::A2b => "PDF/A-2b",
            PdfStandard::Ua1 => "PDF/UA-1",
        }
    }

    /// Whether the standard allows embedding `report.json`.
    pub fn attaches_evidence(self) -> bool {
        self != PdfStandard::A2b
    }
}

impl std::str::FromStr for PdfStandard {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input.trim().to_ascii_lowercase().as_str() {
            "a-3b" | "pdf/a-3b" => Ok(PdfStandard::A3b),
            "a-2b" | "pdf/a-2b" => Ok(PdfStandard::A2b),
            "ua-1" | "pdf/ua-1" => Ok(PdfStandard::Ua1),
            other => Err(format!(
                "unknown PDF standard '{other}'; use a-3b (default, with report.json attached), a-2b (no attachment) or ua-1"
            )),
        }
    }
}

/// Renders `report` as a PDF. `evidence` is the exact `report.json` text,
/// attached unless the standard forbids it; its SHA-256 is printed either way.
pub fn render(
    report: &Report,
    evidence: &str,
    standard: PdfStandard,
) -> Result<Vec<u8>, RenderError> {
    #[cfg(feature = "pdf")]
    {
        typst_document::render(report, evidence, standard)
    }
    #[cfg(not(feature = "pdf"))]
    {
        let _ = (report, evidence, standard);
        Err(RenderError::PdfNotBuilt)
    }
}
