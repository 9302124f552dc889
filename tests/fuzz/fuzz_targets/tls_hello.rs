#![no_main]
//! TLS answers to a ClientHello: records, ServerHello, HelloRetryRequest, Alert,
//! ServerKeyExchange, SSLv2 SERVER-HELLO (src/probe/tls_scan/answer.rs, key_exchange.rs, sslv2.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::tls_hello(data));
