//! DNS evidence of one mail domain: MX, addresses, SRV records and the usual
//! service names, exactly as answered.

use super::Attempt;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Everything DNS said about one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnsEvidence {
    /// The resolver the queries went to (`system` or `IP:PORT`).
    pub resolver: String,
    /// The MX RRset (RFC 5321 §5.1).
    pub mx: Attempt<MxEvidence>,
    /// A and AAAA of the domain itself (the implicit MX when there is no MX).
    pub addresses: Attempt<Vec<IpAddr>>,
    /// RFC 6186 / RFC 8314 SRV records, one attempt per service label.
    pub srv: Vec<SrvLookup>,
    /// Every host name looked up for an endpoint, with its addresses.
    pub hosts: Vec<HostAddresses>,
}

/// The MX RRset of a domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MxEvidence {
    /// True when the name does not exist at all (NXDOMAIN).
    pub nxdomain: bool,
    /// True for a null MX (`MX 0 .`, RFC 7505).
    pub null_mx: bool,
    /// The records, ordered by preference.
    pub records: Vec<MxRecord>,
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MxRecord {
    pub preference: u16,
    /// Lower-case, no trailing dot; empty for a null MX.
    pub exchange: String,
}

/// One SRV lookup, e.g. `_imaps._tcp.example.org`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SrvLookup {
    /// The service label without underscore, e.g. `imaps`.
    pub service: String,
    pub name: String,
    pub records: Attempt<Vec<SrvRecord>>,
}

/// One SRV record. A target of `.` means "service not offered" (RFC 6186 §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// The addresses of one host name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HostAddresses {
    pub host: String,
    pub addresses: Attempt<Vec<IpAddr>>,
}
