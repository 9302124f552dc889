//! BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2) reduced to what a
//! classifier needs: every part's MIME type, IMAP section number,
//! disposition and decoded file name. Nothing of the body is read.
//!
//! The server's answer is untrusted. Reading it never panics: the list
//! reader ([`super::sexp`]) bounds nesting and size, this module bounds the
//! number of parts ([`MAX_PARTS`]) and checks every field's shape, and
//! whatever does not fit is a [`BodyStructureError`]; the caller then
//! counts the message as unclassified with that reason. Extension data
//! (disposition, language, location) is optional, as the grammar says, and
//! read only where present.

use super::encoded;
use super::sexp::{self, SexpError, Value};
use serde::Serialize;
use thiserror::Error;

/// Most parts one message may have before the structure counts as
/// malformed (a hostile message could list thousands).
pub const MAX_PARTS: usize = 500;

/// One node of the MIME tree (containers included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// The IMAP section number (`1`, `2.1`); empty for the top-level
    /// multipart of a message.
    pub section: String,
    /// `type/subtype`, lower case (`application/pdf`, `multipart/report`).
    pub mime_type: String,
    /// `attachment` or `inline`, lower case, when the server sent one.
    pub disposition: Option<String>,
    /// The decoded file name: the disposition's `filename`, else the
    /// content type's `name` (RFC 2231 and RFC 2047 decoded), without any
    /// directory a client put in front.
    pub file_name: Option<String>,
    /// The size of the encoded body in bytes (`body-fld-octets`).
    pub octets: Option<u64>,
    /// The transfer encoding (`base64`, `7bit`, …), lower case; `None` for
    /// a multipart.
    pub encoding: Option<String>,
}

/// The whole structure of one message, parts in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BodySummary {
    pub parts: Vec<Part>,
}

impl BodySummary {
    /// The MIME type of the message itself (the first node).
    pub fn top_mime_type(&self) -> &str {
        self.parts.first().map_or("", |p| p.mime_type.as_str())
    }
}

/// Why a BODYSTRUCTURE could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BodyStructureError {
    #[error("BODYSTRUCTURE is not well formed: {0}")]
    Syntax(#[from] SexpError),
    #[error("BODYSTRUCTURE part {section}: {reason}")]
    Shape { section: String, reason: String },
    #[error("BODYSTRUCTURE has more than {MAX_PARTS} parts")]
    TooManyParts,
}

/// Parses the BODYSTRUCTURE value (the bytes starting at its `(`).
pub fn parse(input: &[u8]) -> Result<BodySummary, BodyStructureError> {
    let (value, _) = sexp::read_value(input)?;
    from_value(&value)
}

/// Reads an already parsed BODYSTRUCTURE value (e.g. from a FETCH
/// response read with [`super::fetch`]).
pub fn from_value(value: &Value) -> Result<BodySummary, BodyStructureError> {
    let mut parts = Vec::new();
    body(value, "", true, &mut parts)?;
    Ok(BodySummary { parts })
}

fn shape(section: &str, reason: impl Into<String>) -> BodyStructureError {
    BodyStructureError::Shape {
        section: if section.is_empty() {
            "(message)".into()
        } else {
            section.into()
        },
        reason: reason.into(),
    }
}

/// The section number of child `index` (1-based) under `parent`.
fn child(parent: &str, index: usize) -> String {
    if parent.is_empty() {
        index.to_string()
    } else {
        format!("{parent}.{index}")
    }
}

/// One `body`: a multipart (its first item is a list) or a single part.
/// `top` marks the message's own body, whose single part is section `1`.
fn body(
    value: &Value,
    section: &str,
    top: bool,
    parts: &mut Vec<Part>,
) -> Result<(), BodyStructureError> {
    let items = value
        .list()
        .ok_or_else(|| shape(section, "expected a parenthesised body"))?;
    if parts.len() >= MAX_PARTS {
        return Err(BodyStructureError::TooManyParts);
    }
    if matches!(items.first(), Some(Value::List(_))) {
        multipart(items, section, parts)
    } else {
        let own = if top {
            "1".to_string()
        } else {
            section.to_string()
        };
        single(items, &own, parts)
    }
}

/// `body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]`
fn multipart(
    items: &[Value],
    section: &str,
    parts: &mut Vec<Part>,
) -> Result<(), BodyStructureError> {
    let children = items
        .iter()
        .take_while(|v| matches!(v, Value::List(_)))
        .count();
    let subtype = items
        .get(children)
        .and_then(Value::text)
        .ok_or_else(|| shape(section, "multipart without a subtype"))?;
    let params = items.get(children + 1).map(params).transpose();
    let params = params
        .map_err(|reason| shape(section, reason))?
        .unwrap_or_default();
    let (disposition, disposition_params) = items
        .get(children + 2)
        .map(disposition)
        .transpose()
        .map_err(|reason| shape(section, reason))?
        .unwrap_or_default();
    parts.push(Part {
        section: section.to_string(),
        mime_type: format!("multipart/{}", subtype.to_ascii_lowercase()),
        disposition,
        file_name: file_name(&disposition_params, &params),
        octets: None,
        encoding: None,
    });
    for (index, child_value) in items[..children].iter().enumerate() {
        body(child_value, &child(section, index + 1), false, parts)?;
    }
    Ok(())
}

/// `body-type-1part`: basic, text (with lines) or message/rfc822 (with
/// envelope, body and lines), then the optional `body-ext-1part`.
fn single(items: &[Value], section: &str, parts: &mut Vec<Part>) -> Result<(), BodyStructureError> {
    let text_at = |index: usize, what: &str| {
        items
            .get(index)
            .and_then(Value::text)
            .map(|t| t.to_ascii_lowercase())
            .ok_or_else(|| shape(section, format!("no {what}")))
    };
    let media = text_at(0, "media type")?;
    let subtype = text_at(1, "media subtype")?;
    if items.len() < 7 {
        return Err(shape(
            section,
            format!("{} fields, a part needs at least 7", items.len()),
        ));
    }
    let params = params(&items[2]).map_err(|reason| shape(section, reason))?;
    let octets = items[6].number();
    let mime_type = format!("{media}/{subtype}");
    // Where the extension data starts depends on the kind of part.
    let is_message = media == "message" && (subtype == "rfc822" || subtype == "global");
    let extension_start = if is_message {
        10
    } else if media == "text" {
        8
    } else {
        7
    };
    let (disposition, disposition_params) = items
        .get(extension_start + 1)
        .map(disposition)
        .transpose()
        .map_err(|reason| shape(section, reason))?
        .unwrap_or_default();
    parts.push(Part {
        section: section.to_string(),
        mime_type,
        disposition,
        file_name: file_name(&disposition_params, &params),
        octets,
        encoding: items[5].text().map(|e| e.to_ascii_lowercase()),
    });
    if is_message {
        // The encapsulated message's parts are numbered below this one; a
        // single-part body inside is `section.1` (RFC 3501 §6.4.5).
        let inner = items
            .get(8)
            .ok_or_else(|| shape(section, "message/rfc822 without its body"))?;
        if matches!(inner.list().and_then(|i| i.first()), Some(Value::List(_))) {
            body(inner, section, false, parts)?;
        } else {
            body(inner, &child(section, 1), false, parts)?;
        }
    }
    Ok(())
}

/// `body-fld-param`: NIL or a list of attribute/value pairs.
fn params(value: &Value) -> Result<Vec<(String, String)>, String> {
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::List(items) => {
            if items.len() % 2 != 0 {
                return Err("a parameter list with an odd number of items".into());
            }
            items
                .chunks(2)
                .map(|pair| match (pair[0].text(), pair[1].text()) {
                    (Some(key), Some(value)) => Ok((key, value)),
                    _ => Err("a parameter that is not a pair of strings".to_string()),
                })
                .collect()
        }
        _ => Err("parameters are neither NIL nor a list".into()),
    }
}

type Disposition = (Option<String>, Vec<(String, String)>);

/// `body-fld-dsp = "(" string SP body-fld-param ")" / nil`
fn disposition(value: &Value) -> Result<Disposition, String> {
    match value {
        Value::Nil => Ok((None, Vec::new())),
        Value::List(items) => {
            let kind = items
                .first()
                .and_then(Value::text)
                .ok_or("a disposition without its type")?;
            let params = items.get(1).map(params).transpose()?.unwrap_or_default();
            Ok((Some(kind.to_ascii_lowercase()), params))
        }
        // Some servers send a bare string here; treat it as absent rather
        // than failing a structure that is otherwise readable.
        _ => Ok((None, Vec::new())),
    }
}

/// The disposition's `filename`, else the content type's `name`, decoded
/// and without a directory.
fn file_name(disposition: &[(String, String)], content: &[(String, String)]) -> Option<String> {
    let name = encoded::parameter(disposition, "filename")
        .or_else(|| encoded::parameter(content, "name"))?;
    let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).trim();
    (!base.is_empty()).then(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVOICE_MAIL: &[u8] = br#"(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 120 4 NIL NIL NIL NIL)("application" "pdf" ("name" "Rechnung_2024-0042.pdf") NIL NIL "base64" 2048 NIL ("attachment" ("filename" "Rechnung_2024-0042.pdf")) NIL NIL)("application" "xml" NIL NIL NIL "base64" 900 NIL ("attachment" ("filename*" "utf-8''xrechnung-%C3%BCbung.xml")) NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL)"#;

    #[test]
    fn a_multipart_lists_every_part_with_its_section() {
        let summary = parse(INVOICE_MAIL).unwrap();
        let listed: Vec<_> = summary
            .parts
            .iter()
            .map(|p| {
                (
                    p.section.as_str(),
                    p.mime_type.as_str(),
                    p.file_name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("", "multipart/mixed", None),
                ("1", "text/plain", None),
                ("2", "application/pdf", Some("Rechnung_2024-0042.pdf")),
                ("3", "application/xml", Some("xrechnung-übung.xml")),
            ]
        );
        assert_eq!(summary.parts[2].disposition.as_deref(), Some("attachment"));
        assert_eq!(summary.parts[2].octets, Some(2048));
        assert_eq!(summary.top_mime_type(), "multipart/mixed");
    }

    #[test]
    fn a_single_part_message_is_section_one_without_extension_data() {
        let summary = parse(
            br#"("TEXT" "CALENDAR" ("CHARSET" "utf-8" "METHOD" "REQUEST") NIL NIL "7BIT" 300 10)"#,
        )
        .unwrap();
        assert_eq!(summary.parts.len(), 1);
        assert_eq!(summary.parts[0].section, "1");
        assert_eq!(summary.parts[0].mime_type, "text/calendar");
    }

    #[test]
    fn a_forwarded_message_is_numbered_below_its_part() {
        let input = br#"(("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 500 ("date" "subject" NIL NIL NIL NIL NIL NIL NIL NIL) (("text" "plain" NIL NIL NIL "7bit" 5 1)("application" "octet-stream" ("name" "=?UTF-8?Q?Gutschrift_M=C3=A4rz.pdf?=") NIL NIL "base64" 100) "mixed") 20) "report" ("report-type" "delivery-status"))"#;
        let summary = parse(input).unwrap();
        let sections: Vec<_> = summary.parts.iter().map(|p| p.section.as_str()).collect();
        assert_eq!(sections, ["", "1", "2", "2", "2.1", "2.2"]);
        assert_eq!(
            summary.parts[5].file_name.as_deref(),
            Some("Gutschrift März.pdf")
        );
        assert_eq!(summary.top_mime_type(), "multipart/report");
    }

    #[test]
    fn a_directory_in_a_file_name_is_dropped() {
        let summary = parse(
            br#"("application" "pdf" ("name" "C:\\Users\\x\\Invoice 7.pdf") NIL NIL "base64" 10)"#,
        )
        .unwrap();
        assert_eq!(summary.parts[0].file_name.as_deref(), Some("Invoice 7.pdf"));
    }

    #[test]
    fn malformed_structures_are_errors_with_a_reason() {
        let cases: [&[u8]; 8] = [
            b"",
            b"(",
            b"NIL",
            br#"("text" "plain")"#,
            br#"(("text" "plain" NIL NIL NIL "7bit" 1 1))"#,
            br#"("application" "pdf" ("name") NIL NIL "base64" 10)"#,
            br#"("application" "pdf" "oops" NIL NIL "base64" 10)"#,
            br#"("message" "rfc822" NIL NIL NIL "7bit" 5 NIL)"#,
        ];
        for case in cases {
            let error = parse(case).expect_err(&String::from_utf8_lossy(case));
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn too_many_parts_and_deep_nesting_are_refused() {
        let leaf = r#"("text" "plain" NIL NIL NIL "7bit" 1 1)"#;
        let wide = format!("({} \"mixed\")", leaf.repeat(MAX_PARTS + 1));
        assert_eq!(
            parse(wide.as_bytes()),
            Err(BodyStructureError::TooManyParts)
        );
        let deep = "(".repeat(200) + leaf + &" \"mixed\")".repeat(200);
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(BodyStructureError::Syntax(SexpError::TooDeep { .. }))
        ));
    }

    #[test]
    fn every_truncation_and_byte_change_of_a_real_structure_is_handled() {
        // Each prefix is either a complete structure or an error; no input
        // panics. The changes cover the bytes the grammar turns on.
        for end in 0..INVOICE_MAIL.len() {
            let _ = parse(&INVOICE_MAIL[..end]);
        }
        assert!(parse(&INVOICE_MAIL[..INVOICE_MAIL.len() - 1]).is_err());
        for at in 0..INVOICE_MAIL.len() {
            for byte in [b'(', b')', b'"', b'{', b'\\', b'0', b' ', 0xFF] {
                let mut changed = INVOICE_MAIL.to_vec();
                changed[at] = byte;
                if let Ok(summary) = parse(&changed) {
                    assert!(summary.parts.len() <= MAX_PARTS);
                }
            }
        }
    }
}
