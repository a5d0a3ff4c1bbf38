//! cargo-fuzz target `registry_errors`: see `fuzz/src/registry_errors.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::registry_errors::run(data));
