#![no_main]
//! IMAP responses our code reads: greeting, tagged CAPABILITY and STARTTLS
//! (src/probe/protocol/imap.rs, connection.rs), folder names, the STARTTLS-injection judge.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::imap(data));
