//! cargo-fuzz target `jwt_claims`: see `fuzz/src/jwt_claims.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::jwt_claims::run(data));
