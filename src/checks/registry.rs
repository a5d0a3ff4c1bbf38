//! Registry name and login server.

use super::{Check, Fact, Group, Pending};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(Pending {
            id: "registry.name",
            group: Group::Registry,
            title: ("name", "名前"),
            needs: &[],
            provides: &[Fact::RegistryName],
        }),
        Box::new(Pending {
            id: "registry.login_server",
            group: Group::Registry,
            title: ("login server", "ログイン サーバー"),
            needs: &[Fact::RegistryName],
            provides: &[Fact::LoginServer],
        }),
    ]
}
