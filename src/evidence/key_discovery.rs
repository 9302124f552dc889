//! Public-key discovery for end-to-end encryption: the Web Key Directory
//! policy files (draft-koch-openpgp-webkey-service) and the OPENPGPKEY
//! (RFC 7929) and SMIMEA (RFC 8162) records of the mailboxes given with
//! `--key-lookup`.

use super::{Attempt, HttpsAnswer};
use serde::{Deserialize, Serialize};

/// Everything key discovery found for one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyDiscoveryEvidence {
    /// The WKD policy fetches: the advanced method first, then the direct one.
    pub wkd: Vec<WkdPolicyEvidence>,
    /// OPENPGPKEY and SMIMEA lookups, two per `--key-lookup` address of
    /// this domain; empty without one (both need a local part).
    pub records: Vec<KeyRecordLookup>,
    /// Whether every DNS lookup of this probe got an answer ("no such
    /// name" is an answer): completed with the number of lookups, failed
    /// naming those without one.
    pub answers: Attempt<usize>,
}

impl Default for KeyDiscoveryEvidence {
    fn default() -> Self {
        KeyDiscoveryEvidence {
            wkd: Vec::new(),
            records: Vec::new(),
            answers: Attempt::skipped("the key-discovery probe did not run"),
        }
    }
}

/// One WKD policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WkdPolicyEvidence {
    /// `advanced` (`openpgpkey.DOMAIN`) or `direct` (`DOMAIN`).
    pub method: String,
    pub url: String,
    /// The GET, as answered.
    pub response: Attempt<HttpsAnswer>,
    /// True when the policy file was served with status 200 over validated
    /// HTTPS, which is how a client tells that the directory exists.
    pub found: bool,
    /// The policy's non-empty, non-comment lines, keys lower-cased.
    pub entries: Vec<String>,
    /// Lines that are neither `keyword` nor `key: value`.
    pub errors: Vec<String>,
}

/// One OPENPGPKEY or SMIMEA lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyRecordLookup {
    /// The address given with `--key-lookup`.
    pub address: String,
    /// `OPENPGPKEY` or `SMIMEA`.
    pub record_type: String,
    /// The owner name: `hex(sha256(local part))[..56]._openpgpkey.DOMAIN`
    /// or `..._smimecert.DOMAIN`.
    pub name: String,
    pub records: Attempt<Vec<KeyRecord>>,
}

/// One key record, summarised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyRecord {
    /// SMIMEA certificate usage, selector and matching type (as in TLSA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching_type: Option<u8>,
    /// Length of the key or certificate data in bytes.
    pub data_length: usize,
    /// SHA-256 of the data, hex, to compare with a key held elsewhere.
    pub data_sha256: String,
}
