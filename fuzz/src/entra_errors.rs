//! Entra and ARM answers: AADSTS codes in error text, token claims, HTTP dates.

use acr_doctor::azure::entra::{aadsts_in, claims_from_map, claims_of, parse_http_date};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = aadsts_in(&text);
    let _ = claims_of(&text);
    let _ = parse_http_date(&text);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) {
        let _ = claims_from_map(&map);
    }
}
