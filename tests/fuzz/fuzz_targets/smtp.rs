#![no_main]
//! SMTP replies: banner, EHLO, STARTTLS, EHLO again, QUIT over one stream
//! (src/probe/protocol/smtp.rs, connection.rs), and the STARTTLS-injection judge.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::smtp(data));
