//! mailaudit: audits a mail provider for transport security, data protection
//! and retention compliance.
//!
//! The flow runs one way: [`target`] → [`probe`] → [`evidence`] → [`rules`] →
//! [`finding`] → [`report`].

pub mod evidence;
pub mod probe;
pub mod target;
