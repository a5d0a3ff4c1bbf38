//! Small clients for the Azure services acr-doctor talks to: Entra ID, ARM, Graph, ACR's token endpoints.

pub mod cli_config;
