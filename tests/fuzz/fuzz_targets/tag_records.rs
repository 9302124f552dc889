#![no_main]
//! Tag-list TXT records, one per line: DMARC, DKIM keys, TLS-RPT
//! (src/probe/mail_auth/tags.rs, dmarc.rs, dkim.rs, tls_rpt.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::tag_records(data));
