#![no_main]
//! SPF records, one per line: syntax and the include/redirect walk
//! (src/probe/mail_auth/spf_syntax.rs, spf.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::spf(data));
