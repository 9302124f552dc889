//! The rows the render view's tables hold that its charts draw from too,
//! and which endpoints the tables show: shared by the view, the charts and
//! the appendix, so none of them imports another.

use crate::evidence::{EndpointEvidence, PortState};
use serde::Serialize;

/// Failed findings of one severity.
#[derive(Debug, Serialize)]
pub struct SeverityCount {
    pub key: &'static str,
    pub label: String,
    pub count: usize,
}

/// One distinct leaf certificate and the endpoints that serve it.
#[derive(Debug, Serialize)]
pub struct CertificateRow {
    pub name: String,
    pub names: String,
    pub issuer: String,
    pub key: String,
    pub signature: String,
    pub not_after: String,
    pub days_left: i64,
    pub expiring: bool,
    pub used_by: String,
}

/// Endpoints that answered or were declared; closed ports nobody declared
/// are not offered, so they are left out of tables and appendix.
pub fn shown(endpoint: &EndpointEvidence) -> bool {
    endpoint.expected
        || endpoint
            .tcp
            .value()
            .is_some_and(|t| t.state == PortState::Open)
}
