//! Clients of the local container tooling (clients only, no findings): the credential store.

pub mod credential_store;
