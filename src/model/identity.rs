//! Who the identity is.

/// Who the identity is, from token claims (never the token).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityClaims {
    pub tenant_id: Option<String>,
    pub object_id: Option<String>,
    pub app_id: Option<String>,
    pub upn: Option<String>,
    pub audience: Option<String>,
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A GUID as Entra writes them: five groups of 8-4-4-4-12 hexadecimal digits (an app ID, a tenant).
pub fn uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_like_wants_hex_groups_of_the_right_lengths() {
        assert!(uuid_like("00000000-0000-0000-0000-000000000000"));
        assert!(uuid_like("8D3A6B1C-0f2e-4a5b-9c7d-1e2f3a4b5c6d"));
        assert!(!uuid_like("registrypull-user-name-token-abcdefg"));
        assert!(!uuid_like("00000000-0000-0000-0000-00000000000"));
        assert!(!uuid_like("0000000-00000-0000-0000-000000000000"));
    }
}
