//! Decoding of encoded parameter values, so a file name reads as the sender
//! meant it: RFC 2231 (`filename*=utf-8''Rechnung%20M%C3%A4rz.pdf`, and
//! continuations `filename*0*=…; filename*1=…`) and RFC 2047 encoded words
//! (`=?UTF-8?B?…?=`, `=?ISO-8859-1?Q?…?=`), which many mailers put into
//! `name=` and `filename=` although RFC 2047 §5 does not allow it there.
//!
//! Charsets: UTF-8, US-ASCII, ISO-8859-1/Latin-1, ISO-8859-15 and
//! Windows-1252 (the ones German mail uses); any other is read as UTF-8,
//! lossily. Decoding never fails: what cannot be decoded stays as sent.

use base64::Engine;

/// The value of parameter `name` (e.g. `filename`) among `params`
/// (attribute, value pairs as BODYSTRUCTURE lists them), decoded. Checks
/// the RFC 2231 forms first, then the plain one.
pub fn parameter(params: &[(String, String)], name: &str) -> Option<String> {
    if let Some(value) = rfc2231_value(params, name) {
        return Some(value);
    }
    params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| decode_words(value))
}

/// RFC 2231 §3–4: `name*` (one encoded value) or `name*0`, `name*1*`, …
/// (continuations, each optionally encoded). The charset comes from the
/// first encoded segment.
fn rfc2231_value(params: &[(String, String)], name: &str) -> Option<String> {
    let mut segments: Vec<(u32, bool, &str)> = Vec::new();
    for (key, value) in params {
        let key = key.to_ascii_lowercase();
        let Some(rest) = key.strip_prefix(&name.to_ascii_lowercase()) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix('*') else {
            continue;
        };
        if rest.is_empty() {
            segments.push((0, true, value));
            continue;
        }
        let (number, encoded) = match rest.strip_suffix('*') {
            Some(number) => (number, true),
            None => (rest, false),
        };
        if let Ok(number) = number.parse::<u32>() {
            segments.push((number, encoded, value));
        }
    }
    if segments.is_empty() {
        return None;
    }
    segments.sort_by_key(|(number, _, _)| *number);
    let mut charset = String::from("us-ascii");
    let mut bytes = Vec::new();
    for (index, (_, encoded, value)) in segments.iter().enumerate() {
        if !encoded {
            bytes.extend_from_slice(value.as_bytes());
            continue;
        }
        let mut text: &str = value;
        if index == 0 {
            // charset'language'value
            let mut pieces = value.splitn(3, '\'');
            if let (Some(set), Some(_language), Some(rest)) =
                (pieces.next(), pieces.next(), pieces.next())
            {
                charset = set.to_string();
                text = rest;
            }
        }
        bytes.extend(hex_escapes(text, b'%'));
    }
    Some(to_text(&bytes, &charset))
}

/// Decodes every RFC 2047 encoded word in `text`; whitespace between two
/// adjacent encoded words is dropped (RFC 2047 §6.2).
pub fn decode_words(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut pending_space = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some(start) = rest.find("=?") {
            let (before, from) = rest.split_at(start);
            if let Some((decoded, used)) = encoded_word(from) {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(&pending_space);
                    out.push_str(before);
                }
                pending_space.clear();
                out.push_str(&decoded);
                rest = &from[used..];
                last_was_word = true;
                // Keep the whitespace aside: it is dropped if another
                // encoded word follows.
                let spaces = rest.len() - rest.trim_start().len();
                pending_space.push_str(&rest[..spaces]);
                rest = &rest[spaces..];
                continue;
            }
            out.push_str(&pending_space);
            pending_space.clear();
            out.push_str(before);
            out.push_str("=?");
            rest = &from[2..];
            last_was_word = false;
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push_str(rest);
            break;
        }
    }
    out.push_str(&pending_space);
    out
}

/// One `=?charset?enc?text?=` at the start of `text`: the decoded text and
/// the bytes it took.
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let body = text.strip_prefix("=?")?;
    let mut parts = body.splitn(3, '?');
    let charset_raw = parts.next()?;
    let encoding = parts.next()?;
    let rest = parts.next()?;
    let end = rest.find("?=")?;
    let payload = &rest[..end];
    if charset_raw.is_empty() || payload.contains(' ') {
        return None;
    }
    // RFC 2231 §5 allows a language: charset*language.
    let charset = charset_raw.split('*').next().unwrap_or(charset_raw);
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(payload))
            .ok()?,
        "Q" | "q" => q_decode(payload),
        _ => return None,
    };
    let used = 2 + charset_raw.len() + 1 + encoding.len() + 1 + end + 2;
    Some((to_text(&bytes, charset), used))
}

fn q_decode(payload: &str) -> Vec<u8> {
    hex_escapes(&payload.replace('_', " "), b'=')
}

/// Replaces `<escape>HH` by the byte HH (`%` in RFC 2231, `=` in RFC 2047
/// Q); a malformed escape stays as it is.
fn hex_escapes(text: &str, escape: u8) -> Vec<u8> {
    let raw = text.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == escape {
            let hex = raw
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Bytes in `charset` as text.
fn to_text(bytes: &[u8], charset: &str) -> String {
    match charset.to_ascii_lowercase().as_str() {
        "iso-8859-1" | "latin1" | "latin-1" | "iso8859-1" | "iso_8859-1" => {
            bytes.iter().map(|&b| b as char).collect()
        }
        "iso-8859-15" | "latin9" | "iso8859-15" => bytes.iter().map(|&b| latin9(b)).collect(),
        "windows-1252" | "cp1252" => bytes.iter().map(|&b| windows_1252(b)).collect(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn latin9(byte: u8) -> char {
    match byte {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        other => other as char,
    }
}

/// Windows-1252: Latin-1 except 0x80–0x9F (the typographic characters).
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        other => other as char,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rfc2231_single_encoded_value() {
        let p = params(&[("FILENAME*", "utf-8''Rechnung%20M%C3%A4rz%202024.pdf")]);
        assert_eq!(parameter(&p, "filename").unwrap(), "Rechnung März 2024.pdf");
    }

    #[test]
    fn rfc2231_continuations_in_any_order_with_latin1() {
        let p = params(&[
            ("filename*1", "_2019.pdf"),
            ("filename*0*", "iso-8859-1'de'Gutschrift_f%FCr"),
        ]);
        assert_eq!(
            parameter(&p, "filename").unwrap(),
            "Gutschrift_für_2019.pdf"
        );
    }

    #[test]
    fn rfc2047_words_in_a_name_parameter() {
        let p = params(&[("NAME", "=?UTF-8?B?UmVjaG51bmdfTcOkcnoucGRm?=")]);
        assert_eq!(parameter(&p, "name").unwrap(), "Rechnung_März.pdf");
        assert_eq!(
            decode_words("=?ISO-8859-1?Q?Beleg_f=FCr?= =?ISO-8859-1?Q?_M=E4rz.pdf?="),
            "Beleg für März.pdf"
        );
        assert_eq!(
            decode_words("=?windows-1252?Q?=80_Invoice.pdf?="),
            "€ Invoice.pdf"
        );
    }

    #[test]
    fn broken_encodings_stay_as_sent() {
        assert_eq!(decode_words("=?UTF-8?X?abc?="), "=?UTF-8?X?abc?=");
        assert_eq!(
            decode_words("=?UTF-8?B?not base64?="),
            "=?UTF-8?B?not base64?="
        );
        assert_eq!(decode_words("plain.pdf"), "plain.pdf");
        assert_eq!(decode_words("a =?"), "a =?");
        let p = params(&[("filename*", "%ZZ%4")]);
        assert_eq!(parameter(&p, "filename").unwrap(), "%ZZ%4");
    }
}
