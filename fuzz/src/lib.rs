//! The bodies of the fuzz targets, one module per target of `fuzz_targets/`: each `run` takes
//! one input. cargo-fuzz's binaries call them under libFuzzer; acr-doctor's own test binary
//! (`tests/it/fuzz_corpus.rs`) includes this file as a module and replays every seed of
//! `corpus/<target>/`, and a few thousand mutations of them, on every `cargo test`.
//!
//! A module here may use only what acr-doctor's package itself depends on (`acr_doctor`,
//! `serde_json`, `reqwest`): the test binary compiles it too.

pub mod abac_condition;
pub mod acr_scope;
pub mod arm_ids;
pub mod catalogue_entry;
pub mod certificate_file;
pub mod challenge;
pub mod docker_config;
pub mod entra_errors;
pub mod jwt_claims;
pub mod redact_scrub;
pub mod registry_errors;
pub mod registry_name;
