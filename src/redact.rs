//! Secrets never leave: every byte acr-doctor writes passes through [`Redactor::scrub`].
//!
//! Two layers: every secret value the run handled is registered and replaced wherever it
//! appears; and shapes that are secret whatever their origin (JWTs, `Authorization` headers,
//! `password=`/`client_secret=`/`*_token=` parameters, URL user-info) are masked too.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;

pub const MASK: &str = "***";

/// A secret value: prints as `***` in Debug and Display.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for sending where it belongs. Never format it into output.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Knows every secret of the run; cheap to clone, shared by all checks.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Arc<Mutex<Vec<String>>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor")
    }
}

struct Patterns {
    jwt: Regex,
    auth_header: Regex,
    params: Regex,
    json_fields: Regex,
    userinfo: Regex,
}

// The patterns are constants, compiled and exercised by the unit tests below.
#[allow(clippy::expect_used)]
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        // header.payload.signature, base64url; header of any JOSE object starts with `eyJ` ("{\"").
        jwt: Regex::new(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*").expect("static regex"),
        auth_header: Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9+/=._~-]{8,}").expect("static regex"),
        params: Regex::new(
            r"(?i)\b(password|passwd|pwd|client_secret|secret|access_token|refresh_token|id_token|identitytoken|client_assertion|assertion|sig|code)=([^&\s]+)",
        )
        .expect("static regex"),
        json_fields: Regex::new(
            r#"(?i)"(password|secret|clientsecret|client_secret|accesstoken|access_token|refresh_token|refreshtoken|identitytoken|auth|token|registrytoken|value)"\s*:\s*"([^"]*)""#,
        )
        .expect("static regex"),
        userinfo: Regex::new(r"(?i)\b(https?://)([^/@\s:]+):([^/@\s]+)@").expect("static regex"),
    })
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value so that it is masked wherever it appears. Values shorter
    /// than 4 characters are not registered (they would mask ordinary text); shape rules still apply.
    pub fn register(&self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < 4 {
            return;
        }
        self.add(secret);
        // The process-wide list too, for the panic hook (which has no run at hand).
        let global = global();
        if !Arc::ptr_eq(&self.known, &global.known) {
            global.add(secret);
        }
    }

    fn add(&self, secret: &str) {
        if let Ok(mut known) = self.known.lock() {
            if !known.iter().any(|k| k == secret) {
                known.push(secret.to_string());
                // Longest first, so a secret containing another is masked whole.
                known.sort_by_key(|k| std::cmp::Reverse(k.len()));
            }
        }
    }

    pub fn register_secret(&self, secret: &Secret) {
        self.register(secret.expose());
    }

    /// Whether any registered secret occurs in `bytes`, as it is or form-encoded.
    pub fn occurs_in(&self, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return false;
        }
        let Ok(known) = self.known.lock() else {
            return false;
        };
        known.iter().any(|secret| {
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            contains(bytes, secret.as_bytes()) || contains(bytes, encoded.as_bytes())
        })
    }

    /// Masks every registered secret and every secret-shaped value in `text`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Ok(known) = self.known.lock() {
            for secret in known.iter() {
                if out.contains(secret.as_str()) {
                    out = out.replace(secret.as_str(), MASK);
                }
            }
        }
        scrub_shapes(&out)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every secret any run of this process registered.
fn global() -> &'static Redactor {
    static GLOBAL: OnceLock<Redactor> = OnceLock::new();
    GLOBAL.get_or_init(Redactor::new)
}

/// Installs a panic hook that prints the panic's text with every secret of the process masked
/// and control characters removed (the default hook would print it raw).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", panic_line(&info.to_string()));
    }));
}

/// What the panic hook prints for a panic's text.
fn panic_line(text: &str) -> String {
    let text = crate::hygiene::clean(&global().scrub(text)).into_owned();
    format!("acr-doctor: internal error (a bug): {text}")
}

/// Masks secret-shaped values only (no registry): JWTs keep nothing, headers and parameters keep their names.
pub fn scrub_shapes(text: &str) -> String {
    let p = patterns();
    let out = p.jwt.replace_all(text, "<jwt ***>");
    let source = out.as_ref();
    let out = p
        .auth_header
        .replace_all(source, |caps: &regex::Captures<'_>| {
            let whole = caps.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
            let value = caps
                .get(0)
                .map(|m| m.as_str())
                .unwrap_or("")
                .split_whitespace()
                .nth(1)
                .unwrap_or("");
            // A challenge (`Bearer realm=...`) or a URL (`Bearer https://...`) is no credential.
            let is_url = source[whole.1..].starts_with("://");
            let is_param = value.trim_end_matches('=').contains('=');
            if is_url || is_param {
                caps[0].to_string()
            } else {
                format!("{} ***", &caps[1])
            }
        });
    let out = p.params.replace_all(&out, "$1=***");
    let out = p
        .json_fields
        .replace_all(&out, |caps: &regex::Captures<'_>| {
            let name = &caps[1];
            let value = &caps[2];
            // `value` and `auth` are common words in JSON; mask only when the value looks like a credential.
            let generic = matches!(
                name.to_ascii_lowercase().as_str(),
                "value" | "auth" | "token"
            );
            if value.is_empty() || value == MASK || (generic && !looks_secret(value)) {
                caps[0].to_string()
            } else {
                format!("\"{name}\": \"{MASK}\"")
            }
        });
    let out = p.userinfo.replace_all(&out, "$1$2:***@");
    out.into_owned()
}

fn looks_secret(value: &str) -> bool {
    value.len() >= 16 && !value.contains(' ')
}

/// Decodes the claims of a JWT without verifying it. The signature is never kept.
pub fn jwt_claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let mut parts = token.trim().split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice::<serde_json::Value>(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panic_hook_masks_secrets_of_any_run() {
        // Registered with one run's redactor, masked by the hook, which has no run at hand.
        let run = Redactor::new();
        run.register("CANARY-PANIC-SECRET-42");
        let line = panic_line("panicked at x.rs:1: token CANARY-PANIC-SECRET-42 \u{1b}[2J");
        assert!(!line.contains("CANARY-PANIC-SECRET-42"), "{line}");
        assert!(!line.contains('\u{1b}'), "{line}");
    }

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA";

    #[test]
    fn registered_secrets_are_masked() {
        let r = Redactor::new();
        r.register("CANARY-password-123");
        assert_eq!(r.scrub("pw is CANARY-password-123."), "pw is ***.");
    }

    #[test]
    fn shapes_are_masked() {
        let s = scrub_shapes(&format!(
            "token {JWT} Authorization: Bearer abcdefghijkl https://u:pw1234@host/x?client_secret=xyz&a=1 {{\"password\": \"hunter2hunter2\"}}"
        ));
        assert!(!s.contains("c2lnbmF0dXJl"), "{s}");
        assert!(!s.contains("abcdefghijkl"), "{s}");
        assert!(!s.contains("pw1234"), "{s}");
        assert!(!s.contains("xyz"), "{s}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("a=1"));
    }

    #[test]
    fn challenges_and_urls_are_not_credentials() {
        let text = "401 Bearer https://contosoreg.azurecr.io/oauth2/token and Bearer realm=\"https://x/oauth2/token\",service=\"x\"";
        assert_eq!(scrub_shapes(text), text);
        assert_eq!(scrub_shapes("Basic dXNlcjpwYXNzd29yZA=="), "Basic ***");
    }

    #[test]
    fn claims_decode_without_signature() {
        let claims = jwt_claims(JWT).expect("claims");
        assert_eq!(claims["sub"], "x");
        assert!(jwt_claims("not-a-jwt").is_none());
        assert!(jwt_claims("a.!!!.c").is_none());
    }

    #[test]
    fn secret_debug_is_masked() {
        let s = Secret::new("CANARY-x");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
    }
}
