//! Redaction never panics, and never lets a registered secret through.
//!
//! Input: first line = a secret, the rest = text that may contain it anywhere.

use acr_doctor::redact::{scrub_shapes, Redactor};

/// Characters real secrets are made of (tokens, passwords, client secrets, base64).
fn secret_like(s: &str) -> bool {
    s.len() >= 8
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~+/=-".contains(&b))
}

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (secret, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = scrub_shapes(&text);
    let r = Redactor::new();
    r.register(secret);
    // The secret embedded in the text several ways, as it would reach output.
    let body = format!(
        "{rest}{secret} Bearer {secret} x?password={secret}&a=1 {{\"secret\":\"{secret}\"}}{rest}"
    );
    let out = r.scrub(&body);
    if secret_like(secret) {
        assert!(
            !out.contains(secret),
            "registered secret survived scrubbing: {secret:?} in {out:?}"
        );
    }
    // Scrubbing twice changes nothing more than scrubbing once would mask.
    let again = r.scrub(&out);
    if secret_like(secret) {
        assert!(!again.contains(secret));
    }
}
