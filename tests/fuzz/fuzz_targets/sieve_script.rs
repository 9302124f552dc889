#![no_main]
//! Sieve scripts: the subset that finds redirects
//! (src/probe/mailbox/sieve_script.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::sieve_script(data));
