//! The network path to the login server: `network.dns`, `network.private_endpoint`,
//! `network.tls`, one file per check. The clients they use (resolver, proxy, TCP, TLS) are in
//! `crate::net`; the registry's own endpoints (`registry.challenge`, `registry.data_endpoint`)
//! are checked in `checks/registry/`.

mod dns;
mod private_endpoint;
mod tls;

pub use dns::DnsCheck;
pub use private_endpoint::PrivateEndpointCheck;
pub use tls::TlsCheck;
