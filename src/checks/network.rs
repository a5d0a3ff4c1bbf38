//! DNS, private endpoints, TLS, the challenge and the data endpoint.

use super::{Check, Fact, Group, Pending};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(Pending {
            id: "network.dns",
            group: Group::Registry,
            title: ("DNS", "DNS"),
            needs: &[Fact::LoginServer],
            provides: &[Fact::Dns],
        }),
        Box::new(Pending {
            id: "network.tls",
            group: Group::Registry,
            title: ("TLS", "TLS"),
            needs: &[Fact::Dns],
            provides: &[Fact::Tls],
        }),
        Box::new(Pending {
            id: "registry.challenge",
            group: Group::Registry,
            title: ("challenge", "チャレンジ"),
            needs: &[Fact::Tls],
            provides: &[Fact::Challenge],
        }),
    ]
}
