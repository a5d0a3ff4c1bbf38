//! cargo-fuzz target `certificate_file`: see `fuzz/src/certificate_file.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::certificate_file::run(data));
