#![no_main]
//! ManageSieve responses: capabilities, STARTTLS, GETSCRIPT literals
//! (src/probe/protocol/sieve.rs, mailbox/managesieve.rs), the STARTTLS-injection judge.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::managesieve(data));
