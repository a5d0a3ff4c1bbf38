//! Reading a registry / Entra / ARM answer body: error envelopes, JSON, text and headers
//! never panic, whatever bytes the server sent.

use acr_doctor::http::HttpResponse;
use reqwest::header::{HeaderMap, HeaderValue};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(0);
    let (head, body) = data.split_at(split);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(head) {
        headers.append("www-authenticate", v.clone());
        headers.append("www-authenticate", v);
    }
    let resp = HttpResponse {
        status: 401,
        headers,
        body: body.to_vec(),
        truncated: false,
        elapsed: std::time::Duration::from_millis(1),
        url: "https://contosoreg.azurecr.io/v2/".into(),
    };
    let _ = resp.registry_errors();
    let _ = resp.json();
    let _ = resp.text();
    let _ = resp.header("www-authenticate");
    let _ = resp.header_all("www-authenticate");
}
