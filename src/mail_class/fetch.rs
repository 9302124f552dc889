//! One untagged FETCH response of the metadata fetch, read into a
//! [`MessageMeta`]:
//!
//! ```text
//! * 12 FETCH (UID 5 INTERNALDATE "03-Feb-2026 10:00:00 +0100" RFC822.SIZE 4286
//!   BODYSTRUCTURE (…) BODY[HEADER.FIELDS (LIST-ID …)] {57}
//! List-Id: …
//! )
//! ```
//!
//! The command that asks for it is [`fetch_items`]. A BODYSTRUCTURE that is
//! a readable list but not a valid structure still yields the message, with
//! the error in [`MessageMeta::body`]; a response that cannot be read at all
//! is a [`FetchError`] that keeps the UID when one could be found, so the
//! probe can count the message as unclassified with the reason.

use super::MessageMeta;
use super::bodystructure::{self, BodyStructureError};
use super::headers::Headers;
use super::sexp::{self, SexpError, Value};
use chrono::DateTime;
use thiserror::Error;

/// The FETCH items of the metadata fetch for `header_fields`: no body, and
/// `BODY.PEEK` so `\Seen` is never set (the read-only guard checks that).
pub fn fetch_items(header_fields: &[String]) -> String {
    format!(
        "(UID INTERNALDATE RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS ({})])",
        header_fields
            .iter()
            .map(|f| f.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// A FETCH response that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unreadable FETCH response{}: {reason}", uid.map(|u| format!(" for UID {u}")).unwrap_or_default())]
pub struct FetchError {
    /// The UID, when it could be found in the raw bytes.
    pub uid: Option<u32>,
    pub reason: String,
}

/// Reads `* N FETCH (…)` (with its literals, up to the final CRLF).
pub fn parse_response(response: &[u8]) -> Result<MessageMeta, FetchError> {
    let fail = |reason: String| FetchError {
        uid: find_uid(response),
        reason,
    };
    let values = sexp::read_all(response).map_err(|e: SexpError| fail(e.to_string()))?;
    let attributes = match values.as_slice() {
        [
            Value::Atom(star),
            Value::Atom(_number),
            Value::Atom(fetch),
            Value::List(items),
        ] if star == "*" && fetch.eq_ignore_ascii_case("FETCH") => items,
        _ => return Err(fail("not a '* N FETCH (…)' response".into())),
    };
    if attributes.len() % 2 != 0 {
        return Err(fail("FETCH items do not come in name/value pairs".into()));
    }
    let mut meta = MessageMeta {
        uid: None,
        internal_date: None,
        size: None,
        headers: Headers::default(),
        body: Err(BodyStructureError::Shape {
            section: "(message)".into(),
            reason: "the server sent no BODYSTRUCTURE".into(),
        }),
        embedded_files: Vec::new(),
    };
    for pair in attributes.chunks(2) {
        let name = pair[0].text().unwrap_or_default().to_ascii_uppercase();
        let value = &pair[1];
        match name.as_str() {
            "UID" => meta.uid = value.number().and_then(|n| u32::try_from(n).ok()),
            "RFC822.SIZE" => meta.size = value.number(),
            "INTERNALDATE" => {
                meta.internal_date = value
                    .text()
                    .and_then(|t| DateTime::parse_from_str(t.trim(), "%d-%b-%Y %H:%M:%S %z").ok());
            }
            "BODYSTRUCTURE" => meta.body = bodystructure::from_value(value),
            _ if name.starts_with("BODY[HEADER.FIELDS") => {
                if let Value::String(block) = value {
                    meta.headers = Headers::parse(block);
                }
            }
            _ => {}
        }
    }
    if meta.uid.is_none() {
        return Err(fail("the response has no UID".into()));
    }
    Ok(meta)
}

/// `UID <digits>` anywhere in the raw bytes (for the error of a response
/// that cannot be read otherwise).
fn find_uid(response: &[u8]) -> Option<u32> {
    let text = String::from_utf8_lossy(&response[..response.len().min(4096)]).to_ascii_uppercase();
    let at = text.find("UID ")?;
    let digits: String = text[at + 4..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike};

    fn response(bodystructure: &str, headers: &str) -> Vec<u8> {
        format!(
            "* 3 FETCH (UID 17 INTERNALDATE \" 3-Feb-2026 10:00:00 +0100\" RFC822.SIZE 4286 BODYSTRUCTURE {bodystructure} BODY[HEADER.FIELDS (LIST-ID PRECEDENCE)] {{{}}}\r\n{headers})\r\n",
            headers.len()
        )
        .into_bytes()
    }

    #[test]
    fn the_items_ask_for_metadata_only_with_peek() {
        let items = fetch_items(&["List-Id".into(), "Precedence".into()]);
        assert_eq!(
            items,
            "(UID INTERNALDATE RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (LIST-ID PRECEDENCE)])"
        );
    }

    #[test]
    fn a_response_becomes_message_metadata() {
        let raw = response(
            r#"("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)"#,
            "List-Id: <news.lab.example>\r\nPrecedence: bulk\r\n\r\n",
        );
        let meta = parse_response(&raw).unwrap();
        assert_eq!(meta.uid, Some(17));
        assert_eq!(meta.size, Some(4286));
        let date = meta.internal_date.unwrap();
        assert_eq!((date.year(), date.day(), date.hour()), (2026, 3, 10));
        assert_eq!(meta.body.unwrap().parts[0].mime_type, "text/plain");
        assert!(meta.headers.has("list-id"));
    }

    #[test]
    fn a_malformed_bodystructure_keeps_the_message_with_the_error() {
        let raw = response(r#"("text" "plain")"#, "\r\n");
        let meta = parse_response(&raw).unwrap();
        assert_eq!(meta.uid, Some(17));
        assert!(meta.body.unwrap_err().to_string().contains("at least 7"));
    }

    #[test]
    fn an_unreadable_response_keeps_the_uid_when_it_can() {
        let error = parse_response(b"* 3 FETCH (UID 17 BODYSTRUCTURE ((\"text\"\r\n").unwrap_err();
        assert_eq!(error.uid, Some(17));
        assert!(error.to_string().contains("for UID 17"), "{error}");
        let error = parse_response(b"* 3 FETCH (FLAGS (\\Seen))\r\n").unwrap_err();
        assert_eq!(error.uid, None);
        assert!(parse_response(b"* OK hello\r\n").is_err());
    }
}
