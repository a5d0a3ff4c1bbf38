//! JWT claims decoding never panics on any token-shaped or garbage input, and never keeps
//! the signature.

use acr_doctor::redact::{jwt_claims, scrub_shapes};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(claims) = jwt_claims(&text) {
        // Claims are plain JSON: re-serializing them must work, and reading the usual
        // fields with any JSON type must not panic.
        let _ = serde_json::to_string(&claims);
        for key in ["exp", "iat", "nbf", "tid", "oid", "appid", "upn", "access"] {
            if let Some(v) = claims.get(key) {
                let _ = (v.as_i64(), v.as_f64(), v.as_str(), v.as_array());
            }
        }
    }
    let _ = scrub_shapes(&text);
}
