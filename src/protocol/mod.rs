//! Parsers of outside input, named by what they parse. Each is total: bad input is an error value, never a panic.
pub mod abac_condition;
pub mod challenge;
pub mod docker_config;
pub mod docker_context;
pub mod platform;
pub mod registry_name;
pub mod tag_listing;
