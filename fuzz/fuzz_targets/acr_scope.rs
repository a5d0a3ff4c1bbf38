//! cargo-fuzz target `acr_scope`: see `fuzz/src/acr_scope.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::acr_scope::run(data));
