//! cargo-fuzz target `challenge`: see `fuzz/src/challenge.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::challenge::run(data));
