//! cargo-fuzz target `abac_condition`: see `fuzz/src/abac_condition.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::abac_condition::run(data));
