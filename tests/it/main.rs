//! acr-doctor's integration tests, in one test binary (`cargo test --test it`), so that the test
//! bed and its dependencies are compiled and linked once. Each module is one area, run on its own
//! with `cargo test --test it <module>::` (for example `cargo test --test it identity::`).
//!
//! Every test runs on its own thread of this one process, beside tests of every other module:
//! a test never changes process-wide state (environment variables, the current directory, the
//! panic hook); it gives acr-doctor its environment as a map (`support::bed_env` and friends) and
//! files under its own temporary directories.

mod support;

mod architecture;
mod authorization;
mod blob_redirect;
mod catalogue;
mod certificates;
mod cli;
mod docker;
mod engine;
mod expiry;
mod fleet;
mod fuzz_corpus;
mod hostile;
mod identity;
mod network;
mod podman;
mod printed_commands;
mod readonly;
mod redaction_props;
mod render;
mod triage;
