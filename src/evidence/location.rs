//! Data-location evidence (LOC-001): for every MX, IMAP, POP3, submission
//! and ManageSieve address, the network RDAP says it belongs to and that
//! network's country. The probe records facts; the country's
//! classification (EEA, adequacy decision, third country) is a lookup in
//! the dated table `rules/tables/countries.toml` that the rules stage makes
//! when it judges, so a saved report is judged again under a newer list of
//! adequacy decisions. Reports of schema 1.3/1.4 wrote the class, the
//! decision and the table's date here; they still load, and those saved
//! values are ignored.

use super::Attempt;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What RDAP said about the addresses of one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LocationEvidence {
    /// The RDAP bootstrap base URL (`ipv4.json` and `ipv6.json` under it).
    pub bootstrap: String,
    /// One entry per distinct address, sorted.
    pub addresses: Vec<AddressLocation>,
}

/// One address and its RDAP network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AddressLocation {
    pub address: IpAddr,
    /// Host names with this address (endpoint hosts and MX hosts).
    pub hosts: Vec<String>,
    /// Endpoint subjects (`host:port`) whose TCP connection went to it.
    pub subjects: Vec<String>,
    /// The RDAP look-up; skipped for special-purpose addresses.
    pub rdap: Attempt<RdapNetwork>,
}

/// The RDAP IP network object (RFC 9083 §5.4) that holds the address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RdapNetwork {
    /// The URL that gave the answer (after redirects).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_address: Option<String>,
    /// ISO 3166-1 alpha-2 code, upper case, as registered.
    pub country: String,
}

/// The default of evidence written before location was recorded.
pub fn location_not_recorded() -> Attempt<LocationEvidence> {
    Attempt::skipped("data location was not recorded in this evidence")
}
