//! The few header fields a class needs, as `BODY.PEEK[HEADER.FIELDS (…)]`
//! returns them (RFC 3501 §6.4.5): parsed into name → values, unfolded
//! (RFC 5322 §2.2.3) and RFC 2047-decoded. Names compare case-insensitively.
//! Bounded: at most [`MAX_FIELDS`] fields, each value cut at
//! [`MAX_VALUE`] bytes.

use super::encoded;

/// Most fields kept from one header block.
pub const MAX_FIELDS: usize = 64;
/// Longest value kept, in bytes.
pub const MAX_VALUE: usize = 2048;

/// Header fields of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// Parses a header block (CRLF or LF lines, ending at the first empty
    /// line). Lines that are not `name: value` are skipped.
    pub fn parse(block: &[u8]) -> Headers {
        let text = String::from_utf8_lossy(block);
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut()
                    && value.len() < MAX_VALUE
                {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() || name.contains(' ') || fields.len() >= MAX_FIELDS {
                continue;
            }
            fields.push((name.to_ascii_lowercase(), value.trim().to_string()));
        }
        for (_, value) in &mut fields {
            if value.len() > MAX_VALUE {
                let mut cut = MAX_VALUE;
                while !value.is_char_boundary(cut) {
                    cut -= 1;
                }
                value.truncate(cut);
            }
            *value = encoded::decode_words(value);
        }
        Headers { fields }
    }

    /// Builds headers from name/value pairs (tests, fixtures).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Headers {
        Headers {
            fields: pairs
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                .collect(),
        }
    }

    /// Every value of field `name`.
    pub fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> + 's {
        let name = name.to_ascii_lowercase();
        self.fields
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when field `name` is present (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.values(name).next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_unfolded_decoded_and_case_insensitive() {
        let block = b"List-Id: Lab News\r\n <news.lab.example>\r\nPRECEDENCE: bulk\r\nX-Note: =?UTF-8?Q?M=C3=A4rz?=\r\nnot a header\r\n\r\nBody: ignored\r\n";
        let headers = Headers::parse(block);
        assert_eq!(
            headers.values("list-id").collect::<Vec<_>>(),
            ["Lab News <news.lab.example>"]
        );
        assert!(headers.has("Precedence"));
        assert_eq!(headers.values("x-note").next(), Some("März"));
        assert!(!headers.has("body"));
    }

    #[test]
    fn sizes_are_bounded() {
        let mut block = String::new();
        for i in 0..200 {
            block.push_str(&format!("X-{i}: {}\r\n", "é".repeat(3000)));
        }
        let headers = Headers::parse(block.as_bytes());
        assert_eq!(headers.fields.len(), MAX_FIELDS);
        assert!(headers.fields.iter().all(|(_, v)| v.len() <= MAX_VALUE));
    }
}
