//! RBAC and ABAC analysis, proven with real registry calls.

use super::{Check, Fact, Group, Pending};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(Pending {
            id: "registry.arm",
            group: Group::Registry,
            title: ("registry settings", "レジストリ設定"),
            needs: &[Fact::Credential],
            provides: &[Fact::ArmRegistry],
        }),
        Box::new(Pending {
            id: "auth.repository",
            group: Group::Authorization,
            title: ("repository access", "リポジトリへのアクセス"),
            needs: &[Fact::AccessToken],
            provides: &[Fact::Permissions],
        }),
    ]
}
