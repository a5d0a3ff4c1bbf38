//! cargo-fuzz target `catalogue_entry`: see `fuzz/src/catalogue_entry.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::catalogue_entry::run(data));
