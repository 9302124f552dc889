//! The per-run state of the location probe: how locations are found
//! ([`LocationSettings`]) and the RDAP bootstrap files and answers, fetched
//! once per run ([`RdapCache`]). It lives apart from the probe so that the
//! shared `ProbeContext` can hold it without depending on the probe.

use super::bootstrap::Bootstrap;
use crate::evidence::{Attempt, RdapNetwork};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// How the scan finds locations.
#[derive(Debug, Clone)]
pub enum LocationSettings {
    /// `--no-location`: nothing is looked up.
    Off,
    /// RDAP via the bootstrap under `base` (ends in `/`). `explicit` is set
    /// for `--rdap-bootstrap`: then special-purpose addresses are looked up
    /// too (a lab or internal registry may hold them).
    Rdap { base: String, explicit: bool },
}

/// Per-scan state: the settings, the bootstrap files once fetched and the
/// answers per address.
#[derive(Clone)]
pub struct RdapCache {
    pub settings: LocationSettings,
    pub(super) ipv4: Arc<OnceCell<Result<Bootstrap, String>>>,
    pub(super) ipv6: Arc<OnceCell<Result<Bootstrap, String>>>,
    pub(super) answers: Arc<Mutex<HashMap<IpAddr, Attempt<RdapNetwork>>>>,
}

impl RdapCache {
    /// Empty state for one scan.
    pub fn new(settings: LocationSettings) -> RdapCache {
        RdapCache {
            settings,
            ipv4: Arc::default(),
            ipv6: Arc::default(),
            answers: Arc::default(),
        }
    }
}
