//! DNSSEC and DANE evidence: validation status of the RRsets a mail domain
//! depends on, the TLSA records, and how they match the served chains.

use serde::{Deserialize, Serialize};

/// Everything the DNSSEC and DANE probe saw for one domain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DnssecEvidence {}
