//! DNSSEC trust anchors given with `--dnssec-anchor`: zone-file DS or DNSKEY
//! lines (RFC 4034 §2.2 and §5.3 presentation format) for zones that are not
//! under the public root, such as internal or lab zones.

use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A trust-anchor file that cannot be used.
#[derive(Debug, Error)]
pub enum AnchorError {
    #[error("cannot read DNSSEC anchor file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(
        "{path}:{line}: {reason}. Expected a DS line 'OWNER [TTL] [IN] DS KEYTAG ALGORITHM DIGESTTYPE DIGEST' or a DNSKEY line 'OWNER [TTL] [IN] DNSKEY FLAGS 3 ALGORITHM KEY'"
    )]
    Invalid {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("DNSSEC anchor file {path} holds no DS or DNSKEY line")]
    Empty { path: PathBuf },
}

/// One trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The zone, fully qualified (`.` for the root).
    pub owner: String,
    /// `DS` or `DNSKEY`.
    pub kind: String,
    /// The numeric fields after the type, e.g. key tag, algorithm, digest type.
    pub fields: Vec<u32>,
    /// The digest (hex) or public key (base64), spaces removed.
    pub data: String,
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self.fields.iter().map(u32::to_string).collect();
        write!(f, "{} {} {}", self.owner, self.kind, fields.join(" "))
    }
}

/// Reads the anchors in `path`. Comments start with `;` or `#`.
pub fn load(path: &Path) -> Result<Vec<Anchor>, AnchorError> {
    let text = std::fs::read_to_string(path).map_err(|e| AnchorError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let anchors = parse(&text).map_err(|(line, reason)| AnchorError::Invalid {
        path: path.to_path_buf(),
        line,
        reason,
    })?;
    if anchors.is_empty() {
        return Err(AnchorError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(anchors)
}

/// Parses anchor lines; the error carries the 1-based line number.
pub fn parse(text: &str) -> Result<Vec<Anchor>, (usize, String)> {
    let mut anchors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split([';', '#']).next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let number = index + 1;
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let kind_at = tokens
            .iter()
            .position(|t| t.eq_ignore_ascii_case("DS") || t.eq_ignore_ascii_case("DNSKEY"))
            .ok_or((number, "no DS or DNSKEY type found".to_string()))?;
        if kind_at == 0 {
            return Err((number, "the owner name is missing".into()));
        }
        for extra in &tokens[1..kind_at] {
            let is_ttl = extra.chars().all(|c| c.is_ascii_digit());
            if !is_ttl && !extra.eq_ignore_ascii_case("IN") {
                return Err((
                    number,
                    format!("unexpected '{extra}' between owner and type"),
                ));
            }
        }
        let kind = tokens[kind_at].to_ascii_uppercase();
        let rest = &tokens[kind_at + 1..];
        if rest.len() < 4 {
            return Err((
                number,
                format!("{kind} needs three numbers and the digest or key"),
            ));
        }
        let fields = rest[..3]
            .iter()
            .map(|t| {
                t.parse::<u32>()
                    .map_err(|_| (number, format!("'{t}' is not a number")))
            })
            .collect::<Result<Vec<u32>, _>>()?;
        let data: String = rest[3..].concat();
        let valid_data = match kind.as_str() {
            "DS" => data.chars().all(|c| c.is_ascii_hexdigit()),
            _ => data
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)),
        };
        if !valid_data {
            return Err((
                number,
                format!("the {kind} digest or key is not valid hex or base64"),
            ));
        }
        if kind == "DNSKEY" && fields[1] != 3 {
            return Err((
                number,
                "a DNSKEY's protocol field must be 3 (RFC 4034 §2.1.2)".into(),
            ));
        }
        let owner = tokens[0].to_ascii_lowercase();
        let owner = if owner.ends_with('.') {
            owner
        } else {
            format!("{owner}.")
        };
        anchors.push(Anchor {
            owner,
            kind,
            fields,
            data,
        });
    }
    Ok(anchors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ds_and_dnskey_lines_parse() {
        let anchors = parse(
            "; lab root\n. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0d xCjjnopKl+GqJxpVXckHAeF+KkxLbxIL\ntest. IN DS 12345 13 2 ABCDEF0123\n",
        )
        .unwrap();
        assert_eq!(anchors.len(), 2);
        assert_eq!(anchors[0].to_string(), ". DNSKEY 257 3 13");
        assert_eq!(anchors[1].owner, "test.");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("\n. IN A 127.0.0.1\n").unwrap_err().0, 2);
        assert!(
            parse("test. DS 1 2\n")
                .unwrap_err()
                .1
                .contains("three numbers")
        );
        assert!(
            parse(". DNSKEY 257 4 13 abc\n")
                .unwrap_err()
                .1
                .contains("protocol")
        );
        assert!(
            parse("test. DS 1 13 2 xyz!\n")
                .unwrap_err()
                .1
                .contains("hex")
        );
    }
}
