//! DNS, private endpoints, TLS, the challenge and the data endpoint.
//!
//! One file per check. `registry.challenge` and `registry.data_endpoint` keep their ids (a public
//! contract) and their place in this family's report order. The clients they use (resolver,
//! proxy, TCP, TLS) are in `crate::net`.

use super::Check;

mod challenge;
mod data_endpoint;
mod dns;
mod private_endpoint;
mod tls;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(dns::DnsCheck),
        Box::new(private_endpoint::PrivateEndpointCheck),
        Box::new(tls::TlsCheck),
        Box::new(challenge::ChallengeCheck),
        Box::new(data_endpoint::DataEndpointCheck),
    ]
}
