//! How the history keeps its large texts: a report.json and a domain's
//! evidence are stored deflated (RFC 1951), which makes them 7–10 times
//! smaller (the lab's bad.test: report.json 279 KB → 27 KB, evidence
//! 88 KB → 12 KB). Rows written before migration 0002 stay as they were
//! (`identity`) and are read either way. Inflating is bounded by the size
//! the row records, so a damaged row cannot exhaust memory.

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::io::{Read, Write};

/// The encoding name stored beside deflated bytes.
pub const DEFLATE: &str = "deflate";
/// The encoding of rows stored as they are.
pub const IDENTITY: &str = "identity";

/// `bytes` deflated.
pub fn pack(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(bytes.len() / 6), Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The bytes of a stored value in `encoding`, at most `limit` of them.
pub fn unpack(stored: Vec<u8>, encoding: &str, limit: u64) -> Result<Vec<u8>, String> {
    match encoding {
        IDENTITY => Ok(stored),
        DEFLATE => {
            let mut out = Vec::new();
            DeflateDecoder::new(stored.as_slice())
                .take(limit.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(|e| format!("cannot inflate: {e}"))?;
            if out.len() as u64 > limit {
                return Err(format!("inflates beyond the {limit} bytes recorded"));
            }
            Ok(out)
        }
        other => Err(format!("unknown encoding '{other}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_round_trips_and_shrinks() {
        let text = include_bytes!("../../tests/fixtures/report-1.3.0.json");
        let packed = pack(text);
        assert!(
            packed.len() * 5 < text.len(),
            "{} → {}",
            text.len(),
            packed.len()
        );
        assert_eq!(
            unpack(packed.clone(), DEFLATE, text.len() as u64).unwrap(),
            text
        );
        // A row whose recorded size is smaller than what it inflates to
        assert!(unpack(packed, DEFLATE, 100).unwrap_err().contains("beyond"));
        assert_eq!(unpack(b"as is".to_vec(), IDENTITY, 0).unwrap(), b"as is");
        assert!(unpack(b"\xff\xff".to_vec(), DEFLATE, 10).is_err());
        assert!(unpack(Vec::new(), "zstd", 10).is_err());
    }
}
