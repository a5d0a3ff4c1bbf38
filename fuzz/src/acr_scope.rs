//! ACR scopes (`repository:app:pull,push`), access token grants and realms.

use acr_doctor::azure::acr_token::{granted_actions, is_acr_refresh_token, origin_of, split_scope};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = split_scope(&text);
    let _ = is_acr_refresh_token(&text);
    let _ = origin_of(&text);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) {
        let _ = granted_actions(&map);
    }
    if let Some(claims) = acr_doctor::redact::jwt_claims(&text) {
        let _ = granted_actions(&claims);
    }
}
