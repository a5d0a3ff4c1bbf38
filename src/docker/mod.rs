//! Clients of the local container tooling (clients only, no findings): the credential store and
//! the Engine API.

pub mod credential_store;
pub mod engine_api;
