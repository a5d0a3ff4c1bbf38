//! Test PKI (CA, leaf certificates for the faults) and RS256 JWT signing.

use crate::BedError;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SigningKey, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use time::OffsetDateTime;

/// The RS256 token-signing key and its self-signed certificate (DER), generated once per process:
/// RSA key generation is the slow part of starting a bed.
struct TokenSigner {
    key: KeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
}

static SIGNER: OnceLock<Result<TokenSigner, String>> = OnceLock::new();

fn signer() -> Result<&'static TokenSigner, BedError> {
    SIGNER
        .get_or_init(|| {
            let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .map_err(|e| e.to_string())?;
            let mut params =
                CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, "acr-testbed token signer");
            params.distinguished_name = dn;
            params.not_before = OffsetDateTime::now_utc() - time::Duration::days(1);
            params.not_after = OffsetDateTime::now_utc() + time::Duration::days(3650);
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
            Ok(TokenSigner {
                cert_der: cert.der().to_vec(),
                cert_pem: cert.pem(),
                key,
            })
        })
        .as_ref()
        .map_err(|e| BedError::Crypto(e.clone()))
}

/// Sign a JWT (RS256) with the bed's key. The header gets `alg`, `typ` and `x5c` added.
pub(crate) fn sign_jwt(mut header: Value, claims: &Value) -> Result<String, BedError> {
    let s = signer()?;
    if let Value::Object(h) = &mut header {
        h.insert("typ".into(), "JWT".into());
        h.insert("alg".into(), "RS256".into());
        h.entry("x5c")
            .or_insert_with(|| Value::from(vec![STANDARD.encode(&s.cert_der)]));
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = s
        .key
        .sign(signing_input.as_bytes())
        .map_err(|e| BedError::Crypto(e.to_string()))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// Decode a JWT without verifying it: (header, claims).
pub(crate) fn decode_jwt(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.trim().split('.');
    let (h, c, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let h = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h.trim_end_matches('=')).ok()?).ok()?;
    let c = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c.trim_end_matches('=')).ok()?).ok()?;
    Some((h, c))
}

/// Verify a JWT signed by this bed (RSASSA-PKCS1-v1_5 is deterministic: re-sign and compare) and
/// return its claims. Expiry is NOT checked here.
pub(crate) fn verify_jwt(token: &str) -> Option<Value> {
    let token = token.trim();
    let (signing_input, sig) = token.rsplit_once('.')?;
    let s = signer().ok()?;
    let expected = s.key.sign(signing_input.as_bytes()).ok()?;
    let given = URL_SAFE_NO_PAD.decode(sig).ok()?;
    if expected != given {
        return None;
    }
    decode_jwt(token).map(|(_, c)| c)
}

/// PEM of the token-signing certificate (the registries' `rootcertbundle`).
pub(crate) fn token_cert_pem() -> Result<String, BedError> {
    Ok(signer()?.cert_pem.clone())
}

/// Every certificate the listeners may present.
pub(crate) struct Pki {
    pub ca_pem: String,
    pub registry: Arc<CertifiedKey>,
    pub service: Arc<CertifiedKey>,
    pub wrong_name: Arc<CertifiedKey>,
    pub expired: Arc<CertifiedKey>,
    pub untrusted: Arc<CertifiedKey>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pki")
    }
}

fn crypto_err(e: impl std::fmt::Display) -> BedError {
    BedError::Crypto(e.to_string())
}

fn make_ca(cn: &str, org: &str) -> Result<(Issuer<'static, KeyPair>, String), BedError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto_err)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(crypto_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, org);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = OffsetDateTime::now_utc() + time::Duration::days(3650);
    let cert = params.self_signed(&key).map_err(crypto_err)?;
    let pem = cert.pem();
    Ok((Issuer::new(params, key), pem))
}

fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    cn: &str,
    sans: &[&str],
    validity: Option<(OffsetDateTime, OffsetDateTime)>,
) -> Result<Arc<CertifiedKey>, BedError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto_err)?;
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .map_err(crypto_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let (nb, na) = validity.unwrap_or((
        OffsetDateTime::now_utc() - time::Duration::days(1),
        OffsetDateTime::now_utc() + time::Duration::days(365),
    ));
    params.not_before = nb;
    params.not_after = na;
    let cert = params.signed_by(&key, issuer).map_err(crypto_err)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing =
        rustls::crypto::aws_lc_rs::sign::any_supported_type(&key_der).map_err(crypto_err)?;
    Ok(Arc::new(CertifiedKey::new(
        vec![CertificateDer::from(cert.der().to_vec())],
        signing,
    )))
}

const REGISTRY_SANS: &[&str] = &[
    "*.azurecr.io",
    "*.azurecr.cn",
    "*.azurecr.us",
    "*.blob.core.windows.net",
    "localhost",
    "127.0.0.1",
    "::1",
];

impl Pki {
    pub(crate) fn generate() -> Result<Pki, BedError> {
        let (ca, ca_pem) = make_ca("acr-testbed Test Root CA", "acr-testbed")?;
        let (proxy_ca, _) = make_ca(
            "Contoso Intercepting Proxy CA",
            "Contoso TLS Inspection (test)",
        )?;
        Ok(Pki {
            registry: leaf(&ca, "*.azurecr.io", REGISTRY_SANS, None)?,
            service: leaf(&ca, "localhost", &["localhost", "127.0.0.1"], None)?,
            wrong_name: leaf(
                &ca,
                "wrong-name.example.test",
                &["wrong-name.example.test"],
                None,
            )?,
            expired: leaf(
                &ca,
                "*.azurecr.io",
                REGISTRY_SANS,
                Some((
                    OffsetDateTime::now_utc() - time::Duration::days(400),
                    OffsetDateTime::now_utc() - time::Duration::days(35),
                )),
            )?,
            untrusted: leaf(&proxy_ca, "*.azurecr.io", REGISTRY_SANS, None)?,
            ca_pem,
        })
    }
}
