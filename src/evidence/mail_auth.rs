//! Mail-authentication and policy records of a domain: SPF, DMARC, DKIM,
//! MTA-STS (TXT and policy) and TLS-RPT, raw and parsed.

use serde::{Deserialize, Serialize};

/// Everything the mail-authentication probe saw for one domain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailAuthEvidence {}
