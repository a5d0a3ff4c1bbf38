//! cargo-fuzz target `arm_ids`: see `fuzz/src/arm_ids.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::arm_ids::run(data));
