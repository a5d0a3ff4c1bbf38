//! The catalogue's entry parser and placeholder filling never panic.

use acr_doctor::catalogue::{fill_placeholders, lookup, near_matches, parse_entry};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let entry = parse_entry(&text);
    let values = [
        ("registry", Some("contosoreg")),
        ("login-server", Some("contosoreg.azurecr.io")),
        ("repository", None),
        ("client-ip", Some("203.0.113.7")),
    ];
    for s in entry.solution.iter().chain(entry.commands.iter()) {
        let _ = fill_placeholders(s, &values);
    }
    let _ = fill_placeholders(&text, &values);
    let _ = lookup(&text);
    if text.len() < 64 {
        let _ = near_matches(&text);
    }
}
