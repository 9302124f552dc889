//! The opt-in deep check (`--deep-invoice-check`): does a candidate PDF
//! part embed an invoice XML (ZUGFeRD / Factur-X / XRechnung in a PDF/A-3,
//! ISO 19005-3 with an `/AF` associated file)? The probe fetches just that
//! part (`BODY.PEEK[section]`), this module decodes its transfer encoding
//! and lists the names of the embedded files. Nothing of the content is
//! kept or printed; only the names go to the classifier.
//!
//! The scan reads file specifications (`/Type /Filespec` with `/UF` or `/F`,
//! PDF 32000-1 §7.11.3) in uncompressed objects. A PDF that keeps them in a
//! compressed object stream yields no names: the message then stays a
//! "likely invoice", never wrongly an e-invoice.

use base64::Engine;

/// Largest part scanned; a bigger one is not checked.
pub const MAX_PDF_BYTES: usize = 16 << 20;
/// Largest part as sent (base64 makes 4 bytes of 3, plus line breaks).
pub const MAX_ENCODED_BYTES: usize = MAX_PDF_BYTES / 3 * 4 + MAX_PDF_BYTES / 38 + 4096;
/// Most file names listed.
const MAX_NAMES: usize = 32;

/// The names of files embedded in a PDF part as fetched (`encoding` from
/// BODYSTRUCTURE: `base64`, `7bit`, `8bit`, `binary`). Empty when the part
/// is too big, not decodable or embeds nothing.
pub fn embedded_file_names(raw: &[u8], encoding: &str) -> Vec<String> {
    if raw.len() > MAX_ENCODED_BYTES {
        return Vec::new();
    }
    let pdf = if encoding.eq_ignore_ascii_case("base64") {
        let compact: Vec<u8> = raw
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(bytes) => bytes,
            Err(_) => return Vec::new(),
        }
    } else {
        raw.to_vec()
    };
    file_names_in_pdf(&pdf)
}

/// The names in every `/Filespec` dictionary of `pdf`.
pub fn file_names_in_pdf(pdf: &[u8]) -> Vec<String> {
    if !pdf.starts_with(b"%PDF-") || pdf.len() > MAX_PDF_BYTES {
        return Vec::new();
    }
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(found) = find(&pdf[from..], b"/Filespec") {
        let at = from + found;
        // The dictionary around the key: back to its "<<", on to its ">>".
        let start = rfind(&pdf[..at], b"<<").unwrap_or(at);
        let end = find(&pdf[at..], b">>").map_or(pdf.len(), |e| at + e);
        let dictionary = &pdf[start..end];
        let name = find_key(dictionary, b"/UF").or_else(|| find_key(dictionary, b"/F"));
        if let Some(name) = name
            && !names.contains(&name)
        {
            names.push(name);
        }
        if names.len() >= MAX_NAMES {
            break;
        }
        from = at + b"/Filespec".len();
    }
    names
}

/// The string value of `key` (followed by a delimiter, so `/F` does not
/// match `/Filter`).
fn find_key(dictionary: &[u8], key: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(found) = find(&dictionary[from..], key) {
        let after = from + found + key.len();
        let rest = &dictionary[after..];
        let trimmed = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|p| &rest[p..]);
        match trimmed.and_then(|r| r.first()) {
            Some(b'(') => return Some(literal_string(&trimmed?[1..])),
            Some(b'<') if trimmed?.get(1) != Some(&b'<') => return hex_string(&trimmed?[1..]),
            _ => from = after,
        }
    }
    None
}

/// A PDF literal string after its `(`: balanced parentheses, backslash
/// escapes (PDF 32000-1 §7.3.4.2), UTF-16BE when it starts with a BOM.
fn literal_string(input: &[u8]) -> String {
    let mut bytes = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < input.len() && bytes.len() < 1024 {
        match input[i] {
            b'\\' => {
                i += 1;
                match input.get(i) {
                    Some(b'n') => bytes.push(b'\n'),
                    Some(b'r') => bytes.push(b'\r'),
                    Some(b't') => bytes.push(b'\t'),
                    Some(d @ b'0'..=b'7') => {
                        let mut value = u32::from(d - b'0');
                        let mut taken = 1;
                        while taken < 3 {
                            match input.get(i + 1) {
                                Some(&o @ b'0'..=b'7') => {
                                    value = value * 8 + u32::from(o - b'0');
                                    i += 1;
                                    taken += 1;
                                }
                                _ => break,
                            }
                        }
                        bytes.push((value & 0xFF) as u8);
                    }
                    Some(&other) => bytes.push(other),
                    None => break,
                }
            }
            b'(' => {
                depth += 1;
                bytes.push(b'(');
            }
            b')' if depth == 0 => break,
            b')' => {
                depth -= 1;
                bytes.push(b')');
            }
            other => bytes.push(other),
        }
        i += 1;
    }
    text(&bytes)
}

fn hex_string(input: &[u8]) -> Option<String> {
    let end = input.iter().position(|&b| b == b'>')?;
    let digits: Vec<u8> = input[..end]
        .iter()
        .copied()
        .filter(|b| b.is_ascii_hexdigit())
        .collect();
    let bytes: Vec<u8> = digits
        .chunks(2)
        .filter_map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(&format!("{text:0<2}"), 16).ok()
        })
        .collect();
    Some(text(&bytes))
}

/// PDF text strings: UTF-16BE with a BOM, else PDFDocEncoding (read as
/// Latin-1, which agrees for the characters of file names).
fn text(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|&b| b as char).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> /AF [3 0 R] >>\nendobj\n3 0 obj\n<< /Type /Filespec /F (factur-x.xml) /UF <FEFF00660061006300740075007200 2D0078002E0078006D006C> /AFRelationship /Data /EF << /F 4 0 R >> >>\nendobj\n5 0 obj\n<< /Filter /FlateDecode /Type /Filespec /F (Anhang \\(1\\).txt) >>\nendobj\n";

    #[test]
    fn names_come_from_filespec_dictionaries() {
        assert_eq!(file_names_in_pdf(PDF), ["factur-x.xml", "Anhang (1).txt"]);
    }

    #[test]
    fn a_base64_part_is_decoded_first() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(PDF);
        let wrapped: Vec<u8> = encoded
            .as_bytes()
            .chunks(76)
            .flat_map(|line| line.iter().copied().chain(*b"\r\n"))
            .collect();
        assert_eq!(embedded_file_names(&wrapped, "BASE64")[0], "factur-x.xml");
    }

    #[test]
    fn anything_else_yields_no_names() {
        assert!(embedded_file_names(b"not base64 !!", "base64").is_empty());
        assert!(file_names_in_pdf(b"GIF89a /Filespec /F (x.xml)").is_empty());
        assert!(file_names_in_pdf(b"%PDF-1.4 /Filespec /F (unterminated").len() == 1);
        assert!(file_names_in_pdf(b"%PDF-1.4 /Filespec").is_empty());
        assert!(file_names_in_pdf(b"%PDF-1.4 << /Filespec /F <4").len() <= 1);
    }
}
