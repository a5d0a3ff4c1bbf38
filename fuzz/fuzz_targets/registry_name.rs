//! cargo-fuzz target `registry_name`: see `fuzz/src/registry_name.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::registry_name::run(data));
