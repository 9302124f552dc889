//! What DNS says about each MX host beyond its addresses: whether the MX
//! points at an alias or an address literal (RFC 5321 §5.1, RFC 2181 §10.3),
//! and reverse DNS per address with forward confirmation. Also the
//! domain's CAA records.

use super::Attempt;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One MX host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MxHostEvidence {
    pub host: String,
    /// The exchange is written as an IP address, not a host name.
    pub ip_literal: bool,
    /// The CNAME the exchange name has, if any (an MX must not be an alias).
    pub cname: Attempt<Option<String>>,
    /// A and AAAA of the host.
    pub addresses: Attempt<Vec<IpAddr>>,
    /// The host has at least one AAAA record.
    pub has_ipv6: bool,
    /// Reverse DNS of every address.
    pub reverse: Vec<ReverseEvidence>,
}

/// PTR of one address, and whether a PTR name resolves back to it
/// (forward-confirmed reverse DNS, as receiving MTAs check it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReverseEvidence {
    pub address: IpAddr,
    pub ptr: Attempt<Vec<String>>,
    pub forward_confirmed: bool,
}

/// One CAA record (RFC 8659).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaaRecord {
    pub critical: bool,
    pub tag: String,
    pub value: String,
}
