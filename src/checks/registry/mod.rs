//! The registry itself: its name (`registry.name`), login server (`registry.login_server`),
//! authentication challenge (`registry.challenge`), data endpoints (`registry.data_endpoint`), its
//! resource in Azure Resource Manager (`registry.arm`) and its customer-managed key
//! (`registry.cmk`); one file per check.

mod arm;
mod challenge;
mod cmk;
mod data_endpoint;
mod login_server;
mod name;

pub use arm::RegistryArm;
pub use challenge::ChallengeCheck;
pub use cmk::RegistryCmk;
pub use data_endpoint::DataEndpointCheck;
pub use login_server::LoginServerCheck;
pub use name::NameCheck;
