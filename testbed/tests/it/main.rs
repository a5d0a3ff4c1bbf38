//! The test bed's own tests, in one test binary (`cargo test -p acr-testbed --test it`; one area
//! with `cargo test -p acr-testbed --test it faults::`).

mod common;

mod docker;
mod entra_arm;
mod faults;
mod hostile_knobs;
mod registry;
