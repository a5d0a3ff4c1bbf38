//! cargo-fuzz target `redact_scrub`: see `fuzz/src/redact_scrub.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::redact_scrub::run(data));
