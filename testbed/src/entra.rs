//! Microsoft Entra ID stand-in: the v2.0 (and v1) token endpoint, client credentials with a
//! secret, a certificate assertion or a federated assertion.

use crate::crypto;
use crate::fault::Fault;
use crate::server::{self, json, Listener};
use crate::state::{BedState, Principal, PrincipalKind};
use crate::{ids, BedError, Inner};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{json as j, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// The Azure CLI's well-known client id (appid of user tokens minted for the fake `az`).
pub(crate) const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

pub(crate) fn router(inner: Arc<Inner>, listener: Listener) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/token", post(token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid),
        )
        .with_state(inner.clone())
        .layer(axum::middleware::from_fn_with_state(
            (inner, listener),
            server::front,
        ))
}

pub(crate) fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The resource (token audience) a scope or resource parameter names, as Entra puts it in `aud`.
pub(crate) fn resource_of(scope_or_resource: &str) -> String {
    let r = scope_or_resource.trim();
    let r = r.strip_suffix("/.default").unwrap_or(r);
    let bare = r.trim_end_matches('/');
    match bare.to_ascii_lowercase().as_str() {
        "https://management.azure.com" | "https://management.core.windows.net" => {
            format!("{bare}/")
        }
        _ => bare.to_string(),
    }
}

/// Whether [`Fault::ResourcePrincipalMissing`] removes `resource` from the directory.
pub(crate) fn resource_missing(faults: &[Fault], resource: &str) -> bool {
    let norm = |r: &str| r.trim_end_matches('/').to_ascii_lowercase();
    faults.iter().any(|f| {
        matches!(f, Fault::ResourcePrincipalMissing { resource: r } if norm(r) == norm(resource))
    })
}

/// Entra's AADSTS500011 text, as it words it.
pub(crate) fn resource_not_found(resource: &str, tenant: &str) -> String {
    format!("The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.")
}

/// Resources this directory knows about.
pub(crate) fn known_resource(res: &str) -> bool {
    matches!(
        res.trim_end_matches('/').to_ascii_lowercase().as_str(),
        "https://containerregistry.azure.net"
            | "https://management.azure.com"
            | "https://management.core.windows.net"
            | "https://graph.microsoft.com"
            | "https://vault.azure.net"
            | "https://storage.azure.com"
    )
}

/// Mint an Entra access token for a principal.
pub(crate) fn mint(
    principal: &Principal,
    audience: &str,
    lifetime: Duration,
    expired: bool,
) -> Result<String, BedError> {
    let now = now();
    let life = lifetime.as_secs() as i64;
    let (iat, exp) = if expired {
        (now - life - 600, now - 600)
    } else {
        (now, now + life)
    };
    let mut claims = j!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{}/", principal.tenant),
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "tid": principal.tenant,
        "oid": principal.object_id,
        "sub": principal.object_id,
        "ver": "1.0",
        "uti": uuid::Uuid::new_v4().simple().to_string(),
    });
    if let Value::Object(c) = &mut claims {
        match principal.kind {
            PrincipalKind::User => {
                c.insert("appid".into(), AZURE_CLI_APP_ID.into());
                c.insert("idtyp".into(), "user".into());
                c.insert(
                    "upn".into(),
                    principal.upn.clone().unwrap_or_default().into(),
                );
                c.insert("name".into(), principal.display_name.clone().into());
            }
            PrincipalKind::ServicePrincipal | PrincipalKind::ManagedIdentity => {
                c.insert("appid".into(), principal.app_id.clone().into());
                c.insert("idtyp".into(), "app".into());
                if principal.kind == PrincipalKind::ManagedIdentity {
                    c.insert("xms_mirid".into(), ids::mi_resource_id().into());
                }
            }
        }
    }
    crypto::sign_jwt(j!({"kid": "acr-testbed-entra"}), &claims)
}

/// `TestBed::entra_token`.
pub(crate) fn mint_for(
    inner: &Inner,
    who: &str,
    audience: &str,
    lifetime: Duration,
) -> Result<String, BedError> {
    let (p, expired) = {
        let st = inner.state();
        let expired = st.faults_for(None).contains(&Fault::ExpiredTokens);
        let p = st.principal(who).cloned().unwrap_or_else(|| {
            let mut u = Principal::user(who, who, &uuid::Uuid::new_v4().to_string());
            u.tenant = ids::TENANT.into();
            u
        });
        (p, expired)
    };
    mint(&p, audience, lifetime, expired)
}

/// `TestBed::federated_token`.
pub(crate) fn federated_token(inner: &Inner, app_id: &str) -> Result<String, BedError> {
    let (iss, sub) = {
        let st = inner.state();
        st.principal(app_id)
            .and_then(|p| p.federated.first())
            .map(|f| (f.issuer.clone(), f.subject.clone()))
            .unwrap_or_else(|| (ids::FEDERATED_ISSUER.into(), ids::FEDERATED_SUBJECT.into()))
    };
    let now = now();
    crypto::sign_jwt(
        j!({"kid": "acr-testbed-oidc"}),
        &j!({"iss": iss, "sub": sub, "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now, "exp": now + 600,
             "jti": uuid::Uuid::new_v4().to_string()}),
    )
}

/// An Entra error response (AADSTS code, trace and correlation ids, timestamp).
pub(crate) fn aad_error(status: StatusCode, error: &str, code: u32, message: &str) -> Response {
    let trace = uuid::Uuid::new_v4().to_string();
    let corr = uuid::Uuid::new_v4().to_string();
    let ts = OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default();
    json(
        status,
        j!({
            "error": error,
            "error_description": format!("AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"),
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

async fn openid(State(inner): State<Arc<Inner>>, Path(tenant): Path<String>) -> Response {
    let base = format!("https://127.0.0.1:{}", inner.ports.entra);
    json(
        StatusCode::OK,
        j!({
            "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
            "issuer": format!("{base}/{tenant}/v2.0"),
            "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
            "tenant_region_scope": "EU",
        }),
    )
}

fn tenant_known(st: &BedState, tenant: &str) -> bool {
    st.tenants.iter().any(|t| t.eq_ignore_ascii_case(tenant))
}

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn token(
    State(inner): State<Arc<Inner>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let st = inner.state().clone();
    let faults = st.faults_for(None);
    if faults.contains(&Fault::UnknownTenant) || !tenant_known(&st, &tenant) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found. The tenant id may be wrong, or the tenant may belong to another cloud."),
        );
    }
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "This test directory only serves the client_credentials grant, not '{grant}'."
            ),
        );
    }
    let Some(client_id) = form.get("client_id").filter(|c| !c.is_empty()) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the parameter 'client_id'.",
        );
    };
    let app = st.principals.iter().find(|p| {
        p.kind == PrincipalKind::ServicePrincipal
            && p.app_id.eq_ignore_ascii_case(client_id)
            && p.tenant.eq_ignore_ascii_case(&tenant)
    });
    let Some(app) = app else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. It may not be registered there, or the request went to the wrong tenant."),
        );
    };
    // v2 uses scope=<resource>/.default; v1 uses resource=<resource>.
    let resource = match (form.get("scope"), form.get("resource")) {
        (Some(scope), _) => {
            let scope = scope.split_whitespace().next().unwrap_or("");
            if !scope.ends_with("/.default") {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    1002012,
                    &format!("The scope '{scope}' is not valid: client credential requests need a scope made of a resource identifier followed by /.default."),
                );
            }
            resource_of(scope)
        }
        (None, Some(res)) => resource_of(res),
        (None, None) => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the parameter 'scope'.",
            )
        }
    };
    if !known_resource(&resource) || resource_missing(&faults, &resource) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &resource_not_found(&resource, &tenant),
        );
    }
    if let Err(resp) = check_credential(app, &form, &faults) {
        return resp;
    }
    let expired = faults.contains(&Fault::ExpiredTokens);
    match mint(app, &resource, Duration::from_secs(3599), expired) {
        Ok(token) => json(
            StatusCode::OK,
            j!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
        ),
        Err(e) => aad_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            50000,
            &e.to_string(),
        ),
    }
}

#[allow(clippy::result_large_err)]
fn check_credential(
    app: &Principal,
    form: &HashMap<String, String>,
    faults: &[Fault],
) -> Result<(), Response> {
    let now = OffsetDateTime::now_utc();
    if let Some(secret) = form.get("client_secret") {
        let rotated = faults.contains(&Fault::SpSecretWrong);
        let all_expired = faults.contains(&Fault::SpSecretExpired);
        let matching: Vec<_> = app
            .secrets
            .iter()
            .filter(|s| !rotated && &s.value == secret)
            .collect();
        if matching.is_empty() {
            return Err(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!("The client secret sent for app '{}' is not valid. Send the secret's value, not its id.", app.app_id),
            ));
        }
        if all_expired || matching.iter().all(|s| s.end <= now) {
            return Err(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000222,
                &format!("The client secret keys of app '{}' have expired. Create a new secret for the app.", app.app_id),
            ));
        }
        return Ok(());
    }
    let Some(assertion) = form.get("client_assertion") else {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain either 'client_assertion' or 'client_secret'.",
        ));
    };
    if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            700023,
            &format!("client_assertion_type must be '{ASSERTION_TYPE}'."),
        ));
    }
    let Some((header, claims)) = crypto::decode_jwt(assertion) else {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            50027,
            "The client assertion is not a well-formed JWT.",
        ));
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (iss, sub) = (s(&claims, "iss"), s(&claims, "sub"));
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    let in_time = exp > now.unix_timestamp() && nbf <= now.unix_timestamp() + 300;
    if iss.eq_ignore_ascii_case(&app.app_id) && sub.eq_ignore_ascii_case(&app.app_id) {
        // Certificate assertion: the bed cannot check the signature without the public key,
        // so (documented simplification) it checks the thumbprint in the header.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let x5t = b64
            .decode(s(&header, "x5t").trim_end_matches('='))
            .unwrap_or_default();
        let x5t256 = b64
            .decode(s(&header, "x5t#S256").trim_end_matches('='))
            .unwrap_or_default();
        let known = app.certificates.iter().any(|c| {
            (!x5t.is_empty() && c.sha1 == x5t) || (!x5t256.is_empty() && c.sha256 == x5t256)
        });
        if !known {
            return Err(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                &format!("The certificate used to sign the client assertion is not registered on application '{}'.", app.app_id),
            ));
        }
        if !in_time {
            return Err(assertion_out_of_time(now, nbf, exp));
        }
        return Ok(());
    }
    // Federated credential (workload identity). Entra compares issuer, subject and audience
    // exactly (a trailing slash on the issuer counts).
    let aud = match claims.get("aud") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        Some(v) => v.as_str().unwrap_or("").to_string(),
        None => String::new(),
    };
    let check_docs = "Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";
    if faults.contains(&Fault::FederatedIssuerMismatch) {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700211,
            &format!("No matching federated identity record found for presented assertion issuer '{iss}'. {check_docs}"),
        ));
    }
    if faults.contains(&Fault::FederatedSubjectMismatch) {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700213,
            &format!("No matching federated identity record found for presented assertion subject '{sub}'. {check_docs}"),
        ));
    }
    let matched = app
        .federated
        .iter()
        .any(|f| f.issuer == iss && f.subject == sub);
    if !matched {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            70021,
            &format!("No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'."),
        ));
    }
    if crypto::verify_jwt(assertion).is_none() {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "The client assertion failed signature validation.",
        ));
    }
    if !in_time || faults.contains(&Fault::FederatedTokenExpired) {
        return Err(assertion_out_of_time(now, nbf, exp));
    }
    Ok(())
}

/// AADSTS700024 as Entra words it: the current time next to the assertion's window.
fn assertion_out_of_time(now: OffsetDateTime, nbf: i64, exp: i64) -> Response {
    let at = |t: i64| {
        OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| t.to_string())
    };
    aad_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700024,
        &format!(
            "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
            at(now.unix_timestamp()),
            at(nbf),
            at(exp)
        ),
    )
}
