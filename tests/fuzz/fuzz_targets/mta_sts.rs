#![no_main]
//! MTA-STS policy files and _mta-sts TXT records
//! (src/probe/mail_auth/mta_sts_policy.rs, mta_sts.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::mta_sts(data));
