//! Microsoft Entra ID: access tokens for a service principal (client secret, certificate
//! assertion or federated assertion), for a managed identity, and what a token's claims say.
//!
//! Endpoints: the authority is `AZURE_AUTHORITY_HOST`, else the cloud's; the audiences are
//! `ACR_DOCTOR_ACR_AUDIENCE` (default `https://containerregistry.azure.net`) for the registry,
//! the cloud's ARM audience (`https://management.azure.com/`), or the origin of
//! `ACR_DOCTOR_ARM_ENDPOINT` when that names a real host (a loopback stand-in of ARM keeps the
//! cloud's audience), and Graph's. Tokens never leave as text: they are [`Secret`]s, registered
//! with the run's redactor, and only their claims are shown.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::http::{HttpError, HttpResponse};
use crate::model::{Cloud, IdentityClaims};
use crate::redact::{jwt_claims, Secret};

/// The audience of Entra tokens exchanged at a registry.
pub const DEFAULT_ACR_AUDIENCE: &str = "https://containerregistry.azure.net";
/// `client_assertion_type` of certificate and federated assertions.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Managed identity through the instance metadata endpoint.
pub const IMDS_API_VERSION: &str = "2018-02-01";
/// Managed identity through `IDENTITY_ENDPOINT` (App Service, Functions, Container Apps).
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";
/// Bound on the first request to the instance metadata endpoint: off Azure nothing answers.
pub const IMDS_PROBE: Duration = Duration::from_secs(1);

/// The Entra authority: `AZURE_AUTHORITY_HOST`, else the cloud's, without a trailing slash.
pub fn authority(ctx: &Context, cloud: Cloud) -> String {
    ctx.env("AZURE_AUTHORITY_HOST")
        .unwrap_or(cloud.authority())
        .trim_end_matches('/')
        .to_string()
}

/// The audience of the Entra token exchanged at the registry.
pub fn acr_audience(ctx: &Context) -> String {
    ctx.env("ACR_DOCTOR_ACR_AUDIENCE")
        .unwrap_or(DEFAULT_ACR_AUDIENCE)
        .trim_end_matches('/')
        .to_string()
}

/// The audience of ARM tokens, with its trailing slash (`https://management.azure.com/`).
pub fn arm_audience(ctx: &Context, cloud: Cloud) -> String {
    if let Some(endpoint) = ctx.env("ACR_DOCTOR_ARM_ENDPOINT") {
        if let Ok(url) = url::Url::parse(endpoint) {
            let real_host = match url.host() {
                Some(url::Host::Domain(d)) => {
                    !d.eq_ignore_ascii_case("localhost") && !d.ends_with(".localhost")
                }
                _ => false,
            };
            if real_host {
                return format!("{}/", url.origin().ascii_serialization());
            }
        }
    }
    format!("{}/", cloud.arm())
}

/// Microsoft Graph: `ACR_DOCTOR_GRAPH_ENDPOINT`, else the cloud's.
pub fn graph_endpoint(ctx: &Context, cloud: Cloud) -> String {
    ctx.env("ACR_DOCTOR_GRAPH_ENDPOINT")
        .unwrap_or(cloud.graph())
        .trim_end_matches('/')
        .to_string()
}

/// The audience of Graph tokens (the cloud's Graph, whatever endpoint serves it).
pub fn graph_audience(cloud: Cloud) -> String {
    cloud.graph().to_string()
}

/// `<resource>/.default`, the v2.0 scope of a resource.
pub fn scope_for(resource: &str) -> String {
    format!("{}/.default", resource.trim_end_matches('/'))
}

/// An Entra access token and what it says.
#[derive(Debug, Clone)]
pub struct EntraToken {
    pub token: Secret,
    pub claims: IdentityClaims,
    /// The server's `Date` header (Unix seconds), for clock-skew checks.
    pub server_date: Option<i64>,
    /// Where it came from (URL without query).
    pub url: String,
}

/// Why no token came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntraError {
    #[error("{url}: {error}")]
    Http { url: String, error: HttpError },
    /// Entra answered with an OAuth error (`AADSTS…`).
    #[error("{} answered {} {}: {}", .0.url, .0.status, .0.error, .0.description)]
    Aad(Box<AadError>),
    /// Another service (a managed identity endpoint) answered with an error.
    #[error("{url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: {reason}")]
    BadBody { url: String, reason: String },
}

impl EntraError {
    /// The first AADSTS code of the answer.
    pub fn aadsts(&self) -> Option<u32> {
        match self {
            EntraError::Aad(a) => a.codes.first().copied(),
            _ => None,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            EntraError::Aad(a) => &a.url,
            EntraError::Http { url, .. }
            | EntraError::Status { url, .. }
            | EntraError::BadBody { url, .. } => url,
        }
    }
}

/// An OAuth error answer of Entra.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadError {
    pub url: String,
    pub status: u16,
    pub error: String,
    pub codes: Vec<u32>,
    /// The first line of `error_description` (trace and correlation ids are kept apart).
    pub description: String,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
}

/// How a service principal proves itself.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    Secret(Secret),
    /// A signed JWT: a certificate assertion or a federated (workload identity) token.
    Assertion(Secret),
}

/// The client-credentials grant at `{authority}/{tenant}/oauth2/v2.0/token`. Asked once per
/// run and audience: several registries in one run share the token.
pub async fn client_credentials(
    ctx: &Context,
    authority: &str,
    tenant: &str,
    client_id: &str,
    auth: &ClientAuth,
    resource: &str,
) -> Result<EntraToken, EntraError> {
    let kind = match auth {
        ClientAuth::Secret(_) => "secret",
        ClientAuth::Assertion(_) => "assertion",
    };
    let key = format!("entra:cc:{authority}:{tenant}:{client_id}:{kind}:{resource}");
    ctx.once(&key, || {
        client_credentials_uncached(ctx, authority, tenant, client_id, auth, resource)
    })
    .await
}

async fn client_credentials_uncached(
    ctx: &Context,
    authority: &str,
    tenant: &str,
    client_id: &str,
    auth: &ClientAuth,
    resource: &str,
) -> Result<EntraToken, EntraError> {
    let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
    let scope = scope_for(resource);
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", &scope),
    ];
    match auth {
        ClientAuth::Secret(s) => {
            ctx.redactor.register_secret(s);
            form.push(("client_secret", s.expose()));
        }
        ClientAuth::Assertion(a) => {
            ctx.redactor.register_secret(a);
            form.push(("client_assertion_type", ASSERTION_TYPE));
            form.push(("client_assertion", a.expose()));
        }
    }
    let request = ctx
        .http()
        .post(&url)
        .header("Accept", "application/json")
        .form(&form);
    let response = ctx
        .send_credential(crate::trust::Carry::EntraClient, request)
        .await
        .map_err(|error| EntraError::Http {
            url: url.clone(),
            error,
        })?;
    token_from(ctx, &url, &response)
}

/// Where a managed identity's token comes from.
#[derive(Debug, Clone)]
pub enum MiEndpoint {
    /// `IDENTITY_ENDPOINT` with the `IDENTITY_HEADER` secret.
    AppService { endpoint: String, header: Secret },
    /// The instance metadata endpoint (base URL, e.g. `http://169.254.169.254`).
    Imds { base: String },
}

impl MiEndpoint {
    /// From the environment: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, else the metadata endpoint.
    pub fn from_env(ctx: &Context) -> MiEndpoint {
        match (ctx.env("IDENTITY_ENDPOINT"), ctx.env("IDENTITY_HEADER")) {
            (Some(endpoint), Some(header)) => MiEndpoint::AppService {
                endpoint: endpoint.to_string(),
                header: Secret::new(header),
            },
            _ => MiEndpoint::Imds {
                base: ctx
                    .env("ACR_DOCTOR_IMDS_ENDPOINT")
                    .unwrap_or("http://169.254.169.254")
                    .trim_end_matches('/')
                    .to_string(),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            MiEndpoint::AppService { endpoint, .. } => format!("IDENTITY_ENDPOINT {endpoint}"),
            MiEndpoint::Imds { base } => format!("{base}/metadata/identity/oauth2/token"),
        }
    }
}

/// A managed identity token for `resource` (the user-assigned identity `client_id` when given),
/// asked once per run.
pub async fn managed_identity(
    ctx: &Context,
    endpoint: &MiEndpoint,
    client_id: Option<&str>,
    resource: &str,
) -> Result<EntraToken, EntraError> {
    let key = format!(
        "entra:mi:{}:{}:{resource}",
        endpoint.describe(),
        client_id.unwrap_or("")
    );
    ctx.once(&key, || {
        managed_identity_uncached(ctx, endpoint, client_id, resource)
    })
    .await
}

async fn managed_identity_uncached(
    ctx: &Context,
    endpoint: &MiEndpoint,
    client_id: Option<&str>,
    resource: &str,
) -> Result<EntraToken, EntraError> {
    let (url, request, bound) = match endpoint {
        MiEndpoint::AppService {
            endpoint: ep,
            header,
        } => {
            ctx.redactor.register_secret(header);
            let mut q = vec![
                ("api-version", APP_SERVICE_API_VERSION),
                ("resource", resource),
            ];
            if let Some(c) = client_id {
                q.push(("client_id", c));
            }
            let rb = ctx
                .http()
                .get(ep)
                .query(&q)
                .header("X-IDENTITY-HEADER", header.expose());
            (ep.clone(), rb, ctx.timeout)
        }
        MiEndpoint::Imds { base } => {
            let url = format!("{base}/metadata/identity/oauth2/token");
            let mut q = vec![("api-version", IMDS_API_VERSION), ("resource", resource)];
            if let Some(c) = client_id {
                q.push(("client_id", c));
            }
            let rb = ctx.http().get(&url).query(&q).header("Metadata", "true");
            (url, rb, IMDS_PROBE.min(ctx.timeout))
        }
    };
    let sent = ctx.send_credential(crate::trust::Carry::ManagedIdentity, request);
    let response = match tokio::time::timeout(bound, sent).await {
        Err(_) => {
            return Err(EntraError::Http {
                url,
                error: HttpError::Timeout(bound),
            })
        }
        Ok(Err(error)) => return Err(EntraError::Http { url, error }),
        Ok(Ok(r)) => r,
    };
    token_from(ctx, &url, &response)
}

/// Reads a token answer (Entra's or a managed identity endpoint's).
fn token_from(ctx: &Context, url: &str, response: &HttpResponse) -> Result<EntraToken, EntraError> {
    let json = response.json();
    if let Some(t) = json
        .as_ref()
        .and_then(|j| j.get("access_token"))
        .and_then(Value::as_str)
    {
        ctx.redactor.register(t);
    }
    if !(200..300).contains(&response.status) {
        return Err(error_from(url, response.status, json.as_ref(), response));
    }
    let token = json
        .as_ref()
        .and_then(|j| j.get("access_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| EntraError::BadBody {
            url: url.to_string(),
            reason: format!(
                "answered {} without an access_token in a JSON body",
                response.status
            ),
        })?;
    let mut claims = claims_of(token);
    if claims.expires_at.is_none() {
        // Managed identity endpoints say `expires_on` (a string of Unix seconds).
        claims.expires_at = json.as_ref().and_then(|j| number(j.get("expires_on")));
    }
    Ok(EntraToken {
        token: Secret::new(token),
        claims,
        server_date: date_header(response),
        url: url.to_string(),
    })
}

fn error_from(url: &str, status: u16, json: Option<&Value>, response: &HttpResponse) -> EntraError {
    let s = |k: &str| {
        json.and_then(|j| j.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let description = s("error_description").unwrap_or_default();
    let mut codes: Vec<u32> = json
        .and_then(|j| j.get("error_codes"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_u64().and_then(|c| u32::try_from(c).ok()))
                .collect()
        })
        .unwrap_or_default();
    if codes.is_empty() {
        if let Some(c) = aadsts_in(&description) {
            codes.push(c);
        }
    }
    let error = s("error").filter(|_| !description.is_empty() || !codes.is_empty());
    if let Some(error) = error {
        return EntraError::Aad(Box::new(AadError {
            url: url.to_string(),
            status,
            error,
            codes,
            description: first_line(&description),
            trace_id: s("trace_id"),
            correlation_id: s("correlation_id"),
        }));
    }
    let message = s("error_description")
        .or_else(|| s("message"))
        .or_else(|| s("error"))
        .unwrap_or_else(|| response.text().chars().take(300).collect());
    EntraError::Status {
        url: url.to_string(),
        status,
        message: first_line(&message),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// The first `AADSTS<digits>` code in a text.
pub fn aadsts_in(text: &str) -> Option<u32> {
    let at = text.find("AADSTS")?;
    let digits: String = text[at + 6..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

fn number(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Who a token stands for, from its claims (v1 and v2 names).
pub fn claims_of(token: &str) -> IdentityClaims {
    let Some(c) = jwt_claims(token) else {
        return IdentityClaims::default();
    };
    claims_from_map(&c)
}

pub fn claims_from_map(c: &Map<String, Value>) -> IdentityClaims {
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let audience = match c.get("aud") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    IdentityClaims {
        tenant_id: s("tid").or_else(|| s("tenant")),
        object_id: s("oid"),
        app_id: s("appid").or_else(|| s("azp")),
        upn: s("upn")
            .or_else(|| s("unique_name"))
            .or_else(|| s("preferred_username"))
            .or_else(|| s("app_displayname")),
        audience,
        issued_at: number(c.get("iat")),
        expires_at: number(c.get("exp")),
    }
}

/// The `Date` header of a response, as Unix seconds.
pub fn date_header(response: &HttpResponse) -> Option<i64> {
    parse_http_date(response.header("date")?)
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(value: &str) -> Option<i64> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), &fmt)
        .ok()
        .map(|d| d.assume_utc().unix_timestamp())
}

/// A client certificate with its private key (`AZURE_CLIENT_CERTIFICATE_PATH`: one PEM file
/// holding the certificate and an unencrypted RSA key, as the Azure SDKs expect).
pub struct ClientCertificate {
    pub der: Vec<u8>,
    key: ring::signature::RsaKeyPair,
    pub subject: String,
    pub not_before: i64,
    pub not_after: i64,
    /// Hex SHA-256 of the certificate (what the portal shows as thumbprint is SHA-1).
    pub sha256_hex: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("subject", &self.subject)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// The environment variable holding the password of a protected certificate file (the name the
/// Azure SDKs read).
pub const CERTIFICATE_PASSWORD_VAR: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";

/// A private key as found in a certificate file.
enum KeyDer {
    Pkcs8(Vec<u8>),
    Pkcs1(Vec<u8>),
}

/// Reads the certificate file the Azure SDKs accept in `AZURE_CLIENT_CERTIFICATE_PATH`: a PEM
/// file with the certificate and its RSA key (unencrypted, or an `ENCRYPTED PRIVATE KEY`
/// opened with `password`), or a PKCS#12 file (`.pfx`, `.p12`) opened with `password`.
pub fn load_certificate(path: &Path, password: Option<&str>) -> Result<ClientCertificate, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > 1024 * 1024 {
        return Err("larger than 1 MiB".into());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    parse_certificate(&bytes, password)
}

/// [`load_certificate`] on the file's bytes (also the fuzz target's entry point).
pub fn parse_certificate(
    bytes: &[u8],
    password: Option<&str>,
) -> Result<ClientCertificate, String> {
    let (cert, key) = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        pem_parts(bytes, password)?
    } else if bytes.first() == Some(&0x30) {
        pkcs12_parts(bytes, password)?
    } else {
        return Err("neither PEM nor PKCS#12 (.pfx): no \"-----BEGIN\" line and not DER".into());
    };
    let key = match &key {
        KeyDer::Pkcs8(der) => ring::signature::RsaKeyPair::from_pkcs8(der),
        KeyDer::Pkcs1(der) => ring::signature::RsaKeyPair::from_der(der),
    }
    .map_err(|e| format!("the private key is not a usable RSA key: {e}"))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&cert)
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    // Entra checks assertions against the certificate's public key: a key from another pair
    // would be refused there (AADSTS700027) with less to go on.
    use ring::signature::KeyPair;
    if parsed.public_key().subject_public_key.data.as_ref() != key.public_key().as_ref() {
        return Err(
            "the private key does not belong to the certificate (their public keys differ)".into(),
        );
    }
    rs256(&key, b"acr-doctor key check")
        .ok_or_else(|| "the private key cannot sign (it is damaged)".to_string())?;
    let validity = parsed.validity();
    use sha2::Digest;
    let sha = sha2::Sha256::digest(&cert);
    Ok(ClientCertificate {
        subject: parsed.subject().to_string(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        sha256_hex: sha.iter().map(|b| format!("{b:02x}")).collect(),
        der: cert,
        key,
    })
}

/// The first certificate and the private key of a PEM file.
fn pem_parts(bytes: &[u8], password: Option<&str>) -> Result<(Vec<u8>, KeyDer), String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let text = String::from_utf8_lossy(bytes);
    let cert = CertificateDer::pem_slice_iter(bytes)
        .next()
        .ok_or_else(|| "no CERTIFICATE block".to_string())?
        .map_err(|e| format!("bad CERTIFICATE block: {e:?}"))?
        .as_ref()
        .to_vec();
    if let Some(block) = pem_block(&text, "ENCRYPTED PRIVATE KEY") {
        let Some(password) = password else {
            return Err(format!(
                "the private key is encrypted: put its password in {CERTIFICATE_PASSWORD_VAR}"
            ));
        };
        let (_, doc) = pkcs8::der::Document::from_pem(block)
            .map_err(|e| format!("bad ENCRYPTED PRIVATE KEY block: {e}"))?;
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes())
            .map_err(|e| format!("bad ENCRYPTED PRIVATE KEY block: {e}"))?;
        let plain = info.decrypt(password).map_err(|e| {
            format!("the private key cannot be decrypted with {CERTIFICATE_PASSWORD_VAR} ({e}): wrong password, or an encryption other than PBES2")
        })?;
        return Ok((cert, KeyDer::Pkcs8(plain.as_bytes().to_vec())));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("the private key is encrypted in OpenSSL's legacy format; convert it to PKCS#8 with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-pkcs8.pem`".into());
    }
    let key = PrivateKeyDer::from_pem_slice(bytes)
        .map_err(|_| "no private key block (PRIVATE KEY or RSA PRIVATE KEY)".to_string())?;
    match key {
        PrivateKeyDer::Pkcs8(k) => Ok((cert, KeyDer::Pkcs8(k.secret_pkcs8_der().to_vec()))),
        PrivateKeyDer::Pkcs1(k) => Ok((cert, KeyDer::Pkcs1(k.secret_pkcs1_der().to_vec()))),
        _ => Err("the private key is not an RSA key (Entra assertions are RS256)".into()),
    }
}

/// The text of one PEM block with `label`, markers included.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(&text[start..stop])
}

/// The entity certificate and private key of a PKCS#12 file.
fn pkcs12_parts(bytes: &[u8], password: Option<&str>) -> Result<(Vec<u8>, KeyDer), String> {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let store = KeyStore::from_pkcs12(bytes, password.unwrap_or(""), Pkcs12ImportPolicy::Strict)
        .map_err(|e| match (e, password) {
            (p12_keystore::error::Error::MacError(_), None) => format!(
                "the PKCS#12 file is password-protected: put its password in {CERTIFICATE_PASSWORD_VAR}"
            ),
            (p12_keystore::error::Error::MacError(_), Some(_)) => format!(
                "the PKCS#12 file does not open with the password in {CERTIFICATE_PASSWORD_VAR}"
            ),
            (e, _) => format!("not a PKCS#12 file acr-doctor can read: {e}"),
        })?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| "the PKCS#12 file holds no private key with its certificate".to_string())?;
    let cert = chain.certs().first().ok_or_else(|| {
        "the PKCS#12 file holds a private key without its certificate".to_string()
    })?;
    Ok((
        cert.as_der().to_vec(),
        KeyDer::Pkcs8(chain.key().as_der().to_vec()),
    ))
}

impl ClientCertificate {
    /// A client assertion: an RS256 JWT with the certificate's `x5t#S256`, valid 10 minutes.
    pub fn assertion(&self, audience: &str, client_id: &str, now: i64) -> Result<Secret, String> {
        use sha2::Digest;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let thumb = b64.encode(sha2::Sha256::digest(&self.der));
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t#S256": thumb});
        let mut jti = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut jti)
            .map_err(|_| "no random numbers".to_string())?;
        let jti: String = jti.iter().map(|b| format!("{b:02x}")).collect();
        let claims = serde_json::json!({
            "aud": audience, "iss": client_id, "sub": client_id, "jti": jti,
            "nbf": now, "iat": now, "exp": now + 600,
        });
        let signing_input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let sig = rs256(&self.key, signing_input.as_bytes())
            .ok_or_else(|| "signing the client assertion failed".to_string())?;
        Ok(Secret::new(format!("{signing_input}.{}", b64.encode(sig))))
    }
}

/// An RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `message`; `None` when the key
/// cannot sign.
fn rs256(key: &ring::signature::RsaKeyPair, message: &[u8]) -> Option<Vec<u8>> {
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message,
        &mut sig,
    )
    .ok()?;
    Some(sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn aadsts_codes_are_found() {
        assert_eq!(
            aadsts_in("ERROR: AADSTS7000222: The provided client secret keys are expired."),
            Some(7000222)
        );
        assert_eq!(aadsts_in("Please run 'az login'"), None);
    }

    #[test]
    fn claims_read_v1_and_v2_names() {
        let c: Map<String, Value> = serde_json::from_str(
            r#"{"tid":"t","oid":"o","azp":"a","preferred_username":"u@x","aud":["x","y"],"iat":1,"exp":"2"}"#,
        )
        .unwrap_or_default();
        let claims = claims_from_map(&c);
        assert_eq!(claims.tenant_id.as_deref(), Some("t"));
        assert_eq!(claims.app_id.as_deref(), Some("a"));
        assert_eq!(claims.upn.as_deref(), Some("u@x"));
        assert_eq!(claims.audience.as_deref(), Some("x"));
        assert_eq!((claims.issued_at, claims.expires_at), (Some(1), Some(2)));
    }

    #[test]
    fn scopes_drop_trailing_slash() {
        assert_eq!(
            scope_for("https://management.azure.com/"),
            "https://management.azure.com/.default"
        );
    }
}

/// The protected certificate files of tests/fixtures, made with OpenSSL 3 from client-cert.pem
/// (see tests/fixtures/README.md): each must give the same certificate and a key that signs.
#[cfg(test)]
mod certificate_files {
    use super::*;

    const PASSWORD: &str = "fixture-password";

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn plain() -> ClientCertificate {
        load_certificate(&fixture("client-cert.pem"), None).expect("plain PEM")
    }

    fn same_and_signs(c: &ClientCertificate) {
        let p = plain();
        assert_eq!(c.sha256_hex, p.sha256_hex);
        assert_eq!(c.subject, p.subject);
        let jwt = c
            .assertion(
                "https://login.example/t/oauth2/v2.0/token",
                "app",
                1_700_000_000,
            )
            .expect("assertion");
        assert_eq!(jwt.expose().split('.').count(), 3);
    }

    #[test]
    fn encrypted_pkcs8_pem_opens_with_the_password() {
        let c = load_certificate(&fixture("client-cert-encrypted.pem"), Some(PASSWORD))
            .expect("encrypted PEM");
        same_and_signs(&c);
    }

    #[test]
    fn encrypted_pkcs8_pem_without_or_with_a_wrong_password_says_so() {
        let e = load_certificate(&fixture("client-cert-encrypted.pem"), None).unwrap_err();
        assert!(e.contains(CERTIFICATE_PASSWORD_VAR), "{e}");
        assert!(e.contains("encrypted"), "{e}");
        let e = load_certificate(&fixture("client-cert-encrypted.pem"), Some("wrong")).unwrap_err();
        assert!(e.contains("cannot be decrypted"), "{e}");
        assert!(!e.contains("wrong\""), "{e}");
    }

    #[test]
    fn pkcs12_files_open_with_the_password() {
        for name in ["client-cert.pfx", "client-cert-legacy.pfx"] {
            let c = load_certificate(&fixture(name), Some(PASSWORD))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            same_and_signs(&c);
        }
    }

    #[test]
    fn pkcs12_without_or_with_a_wrong_password_says_so() {
        let e = load_certificate(&fixture("client-cert.pfx"), None).unwrap_err();
        assert!(e.contains("password-protected"), "{e}");
        assert!(e.contains(CERTIFICATE_PASSWORD_VAR), "{e}");
        let e = load_certificate(&fixture("client-cert.pfx"), Some("wrong")).unwrap_err();
        assert!(e.contains("does not open"), "{e}");
    }

    #[test]
    fn a_key_from_another_pair_is_named() {
        let plain = std::fs::read(fixture("client-cert.pem")).expect("read");
        let other = std::fs::read(fixture("client-cert-expired.pem")).expect("read");
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        let cert_of = |t: &str| pem_block(t, "CERTIFICATE").expect("cert").to_string();
        let key_of = |t: &str| pem_block(t, "PRIVATE KEY").expect("key").to_string();
        let mixed = format!("{}\n{}\n", cert_of(&text(&plain)), key_of(&text(&other)));
        let e = parse_certificate(mixed.as_bytes(), None).unwrap_err();
        assert!(e.contains("does not belong to the certificate"), "{e}");
        let matched = format!("{}\n{}\n", cert_of(&text(&plain)), key_of(&text(&plain)));
        assert!(parse_certificate(matched.as_bytes(), None).is_ok());
    }

    #[test]
    fn a_damaged_key_that_still_parses_is_refused() {
        let data = std::fs::read(fixture("damaged-key.pem")).expect("read");
        let e = parse_certificate(&data, None).unwrap_err();
        assert!(e.contains("private key"), "{e}");
    }

    #[test]
    fn other_files_are_named_as_such() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.bin");
        std::fs::write(&path, b"\x01\x02garbage").expect("write");
        let e = load_certificate(&path, None).unwrap_err();
        assert!(e.contains("neither PEM nor PKCS#12"), "{e}");
        std::fs::write(&path, b"\x30\x03\x02\x01\x00").expect("write");
        let e = load_certificate(&path, Some("x")).unwrap_err();
        assert!(e.contains("PKCS#12"), "{e}");
    }
}
