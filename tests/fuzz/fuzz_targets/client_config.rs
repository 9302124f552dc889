#![no_main]
//! Autoconfig and autodiscover XML, WKD policy files
//! (src/probe/client_config.rs, client_config/xml.rs, key_discovery.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailaudit::fuzz_api::client_config(data));
