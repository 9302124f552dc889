#![no_main]
//! POP3 replies: greeting, CAPA, STLS, STAT (src/probe/protocol/pop3.rs,
//! mailbox/pop3_view.rs, connection.rs), the STARTTLS-injection judge.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::pop3(data));
