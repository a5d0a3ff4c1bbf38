//! cargo-fuzz target `docker_config`: see `fuzz/src/docker_config.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acr_doctor_fuzz::docker_config::run(data));
