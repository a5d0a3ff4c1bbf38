//! `WWW-Authenticate` challenges from any server: the parser is total, and the Bearer
//! challenge it picks is one of those it parsed.

use acr_doctor::protocol::challenge::{bearer, parse, parse_headers};

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(list) = parse(&text) {
        if let Some(b) = bearer(&list) {
            assert!(b.is("bearer") || b.is("Bearer"));
            for name in ["realm", "service", "scope", "error"] {
                let _ = b.param(name);
            }
        }
    }
    // Several header lines, as a server may send.
    let _ = parse_headers(text.split('\n'));
}
