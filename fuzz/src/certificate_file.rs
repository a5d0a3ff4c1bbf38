//! The client certificate reader (`AZURE_CLIENT_CERTIFICATE_PATH`: PEM, encrypted PKCS#8 PEM or
//! PKCS#12) never panics on any file, with or without a password, and whatever it accepts can
//! sign a client assertion.

use acr_doctor::azure::entra::parse_certificate;

/// One input of the fuzz target.
pub fn run(data: &[u8]) {
    for password in [None, Some(""), Some("fixture-password")] {
        if let Ok(cert) = parse_certificate(data, password) {
            let signed = cert.assertion("https://login.example/t/oauth2/v2.0/token", "app", 0);
            assert!(signed.is_ok(), "an accepted certificate cannot sign");
        }
    }
}
