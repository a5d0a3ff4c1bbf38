//! Credential acquisition and the ACR token exchange.

use super::{Check, Fact, Group, Pending};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(Pending {
            id: "identity.credential",
            group: Group::Identity,
            title: ("credential", "資格情報"),
            needs: &[],
            provides: &[Fact::Credential],
        }),
        Box::new(Pending {
            id: "identity.refresh_token",
            group: Group::Identity,
            title: ("refresh token", "リフレッシュ トークン"),
            needs: &[Fact::Credential, Fact::Challenge],
            provides: &[Fact::RefreshToken],
        }),
        Box::new(Pending {
            id: "identity.access_token",
            group: Group::Identity,
            title: ("access token", "アクセス トークン"),
            needs: &[Fact::RefreshToken],
            provides: &[Fact::AccessToken],
        }),
    ]
}
