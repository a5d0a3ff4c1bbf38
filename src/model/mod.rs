//! Domain types at the bottom of the crate: plain data, no IO. Everything above imports them;
//! they import nothing of the crate but each other.

pub mod cloud;
pub mod identity;
pub mod registry;
pub mod time;

pub use cloud::Cloud;
pub use identity::{uuid_like, IdentityClaims};
pub use registry::{ArmRegistry, LoginServer};
