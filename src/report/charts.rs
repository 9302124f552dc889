//! Inline SVG charts for the reports, drawn here without any chart library or
//! script: failed checks by severity, and a timeline of certificate expiry.
//! The HTML inlines the markup; the Typst template embeds the same SVG as an
//! image, so both documents show the same picture. Every text that came from
//! a server (certificate names) is XML-escaped.

use super::rows::{CertificateRow, SeverityCount};
use super::strings;
use crate::Language;
use serde::Serialize;
use std::fmt::Write;

/// Most certificates drawn on the timeline; the table lists all of them.
const MAX_TIMELINE_ROWS: usize = 30;

/// The charts of one report, as SVG markup with a text alternative each.
#[derive(Debug, Serialize)]
pub struct Charts {
    pub severity_svg: String,
    pub severity_alt: String,
    /// Empty when no certificate was seen.
    pub expiry_svg: String,
    pub expiry_alt: String,
}

impl Charts {
    /// Draws both charts. `expiring_days` is the threshold the rules stage
    /// flagged certificates by (`Assessment::expiring_days`), drawn as the
    /// warning band.
    pub fn new(
        severities: &[SeverityCount],
        certificates: &[CertificateRow],
        expiring_days: Option<i64>,
        language: Language,
    ) -> Self {
        let label = |key: &str| strings::get(language, key);
        let severity_alt = format!(
            "{}: {}",
            label("chart_severity"),
            severities
                .iter()
                .map(|s| format!("{} {}", s.count, s.label))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let expiry_alt = format!(
            "{}: {}",
            label("chart_expiry"),
            certificates
                .iter()
                .map(|c| format!("{} {}", c.name, c.not_after))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Charts {
            severity_svg: severity_chart(severities, &severity_alt),
            severity_alt,
            expiry_svg: if certificates.is_empty() {
                String::new()
            } else {
                expiry_chart(certificates, expiring_days, language, &expiry_alt)
            },
            expiry_alt,
        }
    }
}

/// The colour of a severity or status key, as in the HTML's CSS.
pub(super) fn colour(key: &str) -> &'static str {
    match key {
        "critical" => "#8b0000",
        "high" => "#c0392b",
        "medium" => "#d68910",
        "low" => "#2e86c1",
        "pass" => "#1e8449",
        _ => "#6c7a89",
    }
}

/// XML text escaping for element content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn open_svg(out: &mut String, width: u32, height: u32, title: &str) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" font-family="Libertinus Serif, sans-serif" font-size="12"><title>{}</title>"##,
        escape(title)
    );
}

/// Horizontal bars, one per severity, scaled to the largest count.
fn severity_chart(severities: &[SeverityCount], title: &str) -> String {
    const LABEL: u32 = 90;
    const BARS: u32 = 380;
    const ROW: u32 = 26;
    let width = LABEL + BARS + 50;
    let height = ROW * severities.len() as u32 + 8;
    let max = severities.iter().map(|s| s.count).max().unwrap_or(0).max(1);
    let mut out = String::new();
    open_svg(&mut out, width, height, title);
    for (index, severity) in severities.iter().enumerate() {
        let y = 4 + ROW * index as u32;
        let length = (BARS as f64 * severity.count as f64 / max as f64).round() as u32;
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#1d2530">{}</text>"##,
            LABEL - 8,
            y + 15,
            escape(&severity.label)
        );
        let _ = write!(
            out,
            r##"<rect x="{LABEL}" y="{y}" width="{BARS}" height="20" fill="#f0f2f5"/><rect x="{LABEL}" y="{y}" width="{length}" height="20" fill="{}"/>"##,
            colour(severity.key)
        );
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" fill="#1d2530" font-weight="bold">{}</text>"##,
            LABEL + BARS + 8,
            y + 15,
            severity.count
        );
    }
    out.push_str("</svg>");
    out
}

/// A day axis with "today" (the scan) at 0: each certificate is a line from
/// today to its expiry, red when expired, amber when the rules stage flagged
/// it expiring (within `expiring_days`, the band), green otherwise.
fn expiry_chart(
    certificates: &[CertificateRow],
    expiring_days: Option<i64>,
    language: Language,
    title: &str,
) -> String {
    const LABEL: u32 = 190;
    const AXIS: u32 = 360;
    const ROW: u32 = 20;
    const TOP: u32 = 26;
    let label = |key: &str| strings::get(language, key);
    let rows: Vec<&CertificateRow> = certificates.iter().take(MAX_TIMELINE_ROWS).collect();
    let days = rows.iter().map(|c| c.days_left);
    // The axis covers every expiry within two years back and three ahead;
    // farther ones are drawn at the edge with their real number beside them.
    let low = days.clone().min().unwrap_or(0).clamp(-730, -30);
    let high = days.max().unwrap_or(0).clamp(120, 1095);
    let span = (high - low) as f64;
    let x = |day: i64| LABEL as f64 + AXIS as f64 * (day.clamp(low, high) - low) as f64 / span;
    let more = certificates.len() - rows.len();
    let width = LABEL + AXIS + 90;
    let height = TOP + ROW * rows.len() as u32 + 34 + if more > 0 { ROW } else { 0 };
    let bottom = TOP + ROW * rows.len() as u32;
    let mut out = String::new();
    open_svg(&mut out, width, height, title);
    // The warning band and the ticks.
    if let Some(days) = expiring_days {
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{}" width="{:.1}" height="{}" fill="#fdf2e1"/>"##,
            x(0),
            TOP - 6,
            x(days) - x(0),
            bottom - TOP + 6
        );
    }
    let step = [30, 90, 180, 365]
        .into_iter()
        .find(|step| span / *step as f64 <= 8.0)
        .unwrap_or(365);
    let mut tick = (low / step) * step;
    while tick <= high {
        if tick >= low {
            let _ = write!(
                out,
                r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" stroke="#d9dee5"/><text x="{0:.1}" y="{3}" text-anchor="middle" fill="#5b6775" font-size="10">{4}</text>"##,
                x(tick),
                TOP - 6,
                bottom,
                bottom + 14,
                tick
            );
        }
        tick += step;
    }
    let _ = write!(
        out,
        r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" stroke="#1d2530" stroke-width="1.5"/><text x="{0:.1}" y="{3}" text-anchor="middle" fill="#1d2530" font-size="10">{4}</text>"##,
        x(0),
        TOP - 10,
        bottom,
        TOP - 13,
        escape(&label("chart_expiry_today"))
    );
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" text-anchor="end" fill="#5b6775" font-size="10">{}</text>"##,
        LABEL + AXIS,
        bottom + 27,
        escape(&label("chart_expiry_days"))
    );
    for (index, certificate) in rows.iter().enumerate() {
        let y = TOP + ROW * index as u32 + 10;
        let key = if certificate.days_left < 0 {
            "critical"
        } else if certificate.expiring {
            "medium"
        } else {
            "pass"
        };
        let mut name: String = certificate.name.chars().take(30).collect();
        if certificate.name.chars().count() > 30 {
            name.push('…');
        }
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#1d2530">{}</text>"##,
            LABEL - 8,
            y + 4,
            escape(&name)
        );
        let _ = write!(
            out,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{y}" y2="{y}" stroke="{2}" stroke-width="4"/><circle cx="{1:.1}" cy="{y}" r="5" fill="{2}"/><text x="{3:.1}" y="{4}" fill="#1d2530" font-size="10">{5}</text>"##,
            x(0),
            x(certificate.days_left),
            colour(key),
            x(certificate.days_left).max(x(0)) + 8.0,
            y + 4,
            escape(&certificate.not_after)
        );
    }
    if more > 0 {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" fill="#5b6775">+{more}</text>"##,
            LABEL,
            bottom + 44
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(name: &str, days_left: i64) -> CertificateRow {
        CertificateRow {
            name: name.to_string(),
            names: String::new(),
            issuer: String::new(),
            key: String::new(),
            signature: String::new(),
            not_after: "2027-01-01".to_string(),
            days_left,
            expiring: days_left < 30,
            used_by: String::new(),
        }
    }

    #[test]
    fn server_supplied_names_are_escaped() {
        let svg = expiry_chart(
            &[certificate("<script>&\"x\"", -10), certificate("ok", 5000)],
            Some(30),
            Language::En,
            "t",
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;&amp;&quot;x&quot;"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn bars_scale_to_the_largest_count() {
        let counts =
            [("critical", 10), ("high", 5), ("info", 0)].map(|(key, count)| SeverityCount {
                key,
                label: key.to_string(),
                count,
            });
        let svg = severity_chart(&counts, "t");
        assert!(svg.contains(r##"width="380" height="20" fill="#8b0000""##));
        assert!(svg.contains(r##"width="190" height="20" fill="#c0392b""##));
        assert!(svg.contains(r#"width="0" height="20""#));
    }
}
