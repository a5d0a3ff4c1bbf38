//! cargo-fuzz target `entra_errors`: see `fuzz/src/entra_errors.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::entra_errors::run(data));
