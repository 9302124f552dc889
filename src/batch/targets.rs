//! The domains of a batch: the targets file (`--targets`) and the
//! deterministic slice of one shard (`--shard I/N`).

use super::BatchError;
use crate::target::parse_domain;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Parses a targets file: one domain per line, `#` starts a comment, blank
/// lines are ignored, duplicates dropped (first occurrence kept). Every bad
/// line is reported as `SOURCE:LINE`.
pub fn parse_targets(text: &str, source_name: &str) -> Result<Vec<String>, BatchError> {
    let mut domains = Vec::new();
    let mut seen = BTreeSet::new();
    let mut bad = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        match parse_domain(line) {
            Ok(domain) => {
                if seen.insert(domain.clone()) {
                    domains.push(domain);
                }
            }
            Err(error) => bad.push(format!("{source_name}:{}: '{line}': {error}", index + 1)),
        }
    }
    if bad.is_empty() {
        Ok(domains)
    } else {
        Err(BatchError::BadTargets {
            count: bad.len(),
            lines: bad,
        })
    }
}

/// Reads a targets file, `-` meaning stdin.
pub fn read_targets(path: &str) -> Result<Vec<String>, BatchError> {
    let (text, name) = if path == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|error| {
            BatchError::Io {
                source_name: "stdin".into(),
                error,
            }
        })?;
        (text, "stdin".to_string())
    } else {
        let text = std::fs::read_to_string(path).map_err(|error| BatchError::Io {
            source_name: path.to_string(),
            error,
        })?;
        (text, path.to_string())
    };
    parse_targets(&text, &name)
}

/// One shard of N (`--shard I/N`, I counted from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = BatchError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = || BatchError::Shard(input.to_string());
        let (index, count) = input.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// True when `domain` belongs to this shard: the first 8 bytes of the
    /// SHA-256 of the lower-case name, modulo N. Stable across builds,
    /// platforms and target order, so every domain is in exactly one shard.
    pub fn contains(&self, domain: &str) -> bool {
        shard_of(domain, self.count) == self.index
    }
}

/// The 1-based shard of `domain` among `count`.
pub fn shard_of(domain: &str, count: u64) -> u64 {
    let digest = Sha256::digest(domain.to_ascii_lowercase().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count.max(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_drop_comments_blanks_and_duplicates() {
        let text = "# providers\nexample.org\n\n  Example.ORG  # again\nexample.net\n";
        let domains = parse_targets(text, "t.txt").expect("valid");
        assert_eq!(domains, ["example.org", "example.net"]);
    }

    #[test]
    fn bad_target_lines_name_file_and_line() {
        let error = parse_targets("ok.example\nnot a domain\n", "t.txt").unwrap_err();
        assert!(error.to_string().contains("t.txt:2"), "{error}");
    }

    #[test]
    fn shards_partition_the_targets() {
        let domains: Vec<String> = (0..200).map(|i| format!("d{i}.example")).collect();
        for count in 1..6 {
            for domain in &domains {
                let owners = (1..=count)
                    .filter(|&index| Shard { index, count }.contains(domain))
                    .count();
                assert_eq!(owners, 1);
            }
        }
        assert!("0/2".parse::<Shard>().is_err());
        assert!("3/2".parse::<Shard>().is_err());
        assert_eq!(
            "2/4".parse::<Shard>().ok(),
            Some(Shard { index: 2, count: 4 })
        );
    }
}
