//! Small clients for the Azure services acr-doctor talks to: Entra ID, ARM, Graph, ACR's token endpoints.

pub mod acr_token;
pub mod aks;
pub mod arm;
pub mod cli_config;
pub mod cli_token;
pub mod credential_sources;
pub mod entra;
pub mod private_endpoints;
pub mod roles;
