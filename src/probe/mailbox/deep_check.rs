//! The opt-in deep check (`--deep-invoice-check`, issue 12): after a
//! folder's metadata is classified, each message whose PDF part could
//! embed an invoice XML for a class tried earlier
//! ([`mail_class::deep_check_parts`]) has just that part fetched with
//! `UID FETCH uid (UID BODY.PEEK[section])`, bounded to
//! [`embedded::MAX_ENCODED_BYTES`]. Only the names of the files the PDF
//! embeds are read ([`embedded::embedded_file_names`]); the bytes are
//! dropped at once and nothing of them reaches the evidence. When the
//! names change the message's class (a ZUGFeRD/Factur-X PDF becomes an
//! e-invoice), the folder's counts move it.
//!
//! `BODY.PEEK` never sets `\Seen`, and the read-only guard refuses any
//! `BODY[` without it before a byte is sent.

use super::fetch_stream::read_batch;
use super::imap_session::{Session, timed};
use crate::mail_class::{self, ClassFile, MessageMeta, embedded};
use std::collections::BTreeMap;
use std::time::Duration;

/// Room for the FETCH line and the literal's framing around a part.
const FRAMING: usize = 4096;

/// A message the deep check looks at.
pub(super) struct Candidate {
    uid: u32,
    year: i32,
    class: String,
    meta: MessageMeta,
    /// (section, transfer encoding) of each part to fetch.
    parts: Vec<(String, String)>,
}

impl Candidate {
    /// The candidate for `meta` (counted as `class` in `year`), if any part
    /// of it is worth fetching.
    pub(super) fn of(
        meta: MessageMeta,
        year: i32,
        class: String,
        classes: &ClassFile,
    ) -> Option<Candidate> {
        let uid = meta.uid?;
        let parts: Vec<(String, String)> = mail_class::deep_check_parts(&meta, classes, &class)
            .into_iter()
            .filter(|part| !part.section.is_empty())
            .map(|part| {
                (
                    part.section.clone(),
                    part.encoding.clone().unwrap_or_else(|| "7bit".into()),
                )
            })
            .collect();
        (!parts.is_empty()).then_some(Candidate {
            uid,
            year,
            class,
            meta,
            parts,
        })
    }
}

/// Fetches the parts of every candidate, re-classifies it with the names
/// of its embedded files and moves it in `by_year` when its class changes.
/// Returns how many parts were fetched. An error means the connection can
/// no longer be trusted.
pub(super) async fn run(
    session: &mut Session,
    step: Duration,
    classes: &ClassFile,
    candidates: &mut Vec<Candidate>,
    by_year: &mut BTreeMap<i32, BTreeMap<String, u32>>,
) -> Result<u32, String> {
    let mut fetched = 0u32;
    for mut candidate in candidates.drain(..) {
        for (section, encoding) in std::mem::take(&mut candidate.parts) {
            let command = format!("UID FETCH {} (UID BODY.PEEK[{section}])", candidate.uid);
            let tag = timed(step, session.run_command(command))
                .await?
                .map_err(|e| format!("UID FETCH BODY.PEEK[{section}]: {e}"))?;
            let mut names = Vec::new();
            let max = embedded::MAX_ENCODED_BYTES + FRAMING;
            timed(
                step,
                read_batch(session.get_mut(), &tag.0, max, |response| {
                    if let Some(body) = literal_after(response, b"BODY[") {
                        names = embedded::embedded_file_names(body, &encoding);
                    }
                }),
            )
            .await?
            .map_err(|e| e.to_string())?;
            fetched += 1;
            candidate
                .meta
                .embedded_files
                .extend(names.into_iter().map(|name| (section.clone(), name)));
        }
        let found = mail_class::classify(&candidate.meta, classes);
        if found.class != candidate.class {
            let year = by_year.entry(candidate.year).or_default();
            if let Some(count) = year.get_mut(&candidate.class) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    year.remove(&candidate.class);
                }
            }
            *year.entry(found.class).or_default() += 1;
        }
    }
    Ok(fetched)
}

/// The literal that follows the first `key` (`BODY[`) of a FETCH response:
/// the bytes after its `{n}` and CRLF, `n` of them; `None` when the item is
/// NIL or the response is cut short.
fn literal_after<'r>(response: &'r [u8], key: &[u8]) -> Option<&'r [u8]> {
    let at = response.windows(key.len()).position(|w| w == key)?;
    let rest = &response[at..];
    let open = rest.iter().position(|&b| b == b'{')?;
    let close = open + rest[open..].iter().position(|&b| b == b'}')?;
    // Only "] {n}" may stand between the section and the literal.
    if rest[..open].contains(&b'(') || rest[..open].contains(&b'"') {
        return None;
    }
    let digits = std::str::from_utf8(&rest[open + 1..close])
        .ok()?
        .trim_end_matches('+');
    let length: usize = digits.parse().ok()?;
    let start = close + 1 + rest[close + 1..].strip_prefix(b"\r\n").map_or(1, |_| 2);
    rest.get(start..start.checked_add(length)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literal_of_the_body_item_is_found_and_bounded() {
        let response = b"* 3 FETCH (UID 7 BODY[2] {5}\r\nhello)\r\n";
        assert_eq!(literal_after(response, b"BODY["), Some(&b"hello"[..]));
        // A length beyond the response is not trusted.
        let cut = b"* 3 FETCH (UID 7 BODY[2] {50}\r\nhello)\r\n";
        assert_eq!(literal_after(cut, b"BODY["), None);
        // NIL, or a quoted string, is no literal.
        assert_eq!(
            literal_after(b"* 3 FETCH (UID 7 BODY[2] NIL)\r\n", b"BODY["),
            None
        );
        let other = b"* 3 FETCH (UID 7 BODY[2] \"x{5}\")\r\n";
        assert_eq!(literal_after(other, b"BODY["), None);
    }
}
