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
