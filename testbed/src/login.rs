//! The ACR login server: `/v2/` challenge, `/oauth2/exchange`, `/oauth2/token`, and a proxy of
//! every other `/v2/...` request to the registry's real docker-registry.

use crate::entra::now;
use crate::fault::{lock_attributes, Fault, LockTarget};
use crate::perms;
use crate::server::{self, acr_error, json, request_host, ClientAddr, Listener};
use crate::state::{BedState, PrincipalKind, Registry};
use crate::{crypto, ids, BedError, Inner};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use base64::Engine;
use serde_json::{json as j, Value};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

/// Issuer of every ACR token (the registries are configured to trust it).
pub(crate) const ACR_ISSUER: &str = "Azure Container Registry";
/// ACR refresh tokens live 3 hours (documented by ACR); access tokens 75 minutes.
const REFRESH_LIFETIME: i64 = 3 * 3600;
const ACCESS_LIFETIME: i64 = 75 * 60;
const AUTH_REQUIRED: &str =
    "authentication required, visit https://aka.ms/acr/authorization for more information.";
const ALL_ACTIONS: [&str; 5] = ["pull", "push", "delete", "metadata_read", "metadata_write"];

pub(crate) fn router(inner: Arc<Inner>, listener: Listener) -> Router {
    Router::new()
        .route("/v2/", get(v2_base))
        .route("/v2", get(v2_base))
        .route("/oauth2/exchange", post(exchange))
        .route("/oauth2/token", get(token).post(token))
        .route("/acr/v1/{*rest}", any(acr_v1))
        .fallback(any(proxy))
        .with_state(inner.clone())
        .layer(axum::middleware::from_fn_with_state(inner.clone(), gate))
        .layer(axum::middleware::from_fn_with_state(
            (inner, listener),
            server::front,
        ))
}

/// The request's registry (with faults applied), faults and Host.
#[derive(Clone)]
struct Ctx {
    reg: Registry,
    faults: Vec<Fault>,
    host: String,
}

/// Resolve the registry and apply the network-access rules (public access, IP rules).
async fn gate(State(inner): State<Arc<Inner>>, mut req: Request, next: Next) -> Response {
    let host = request_host(req.headers(), req.uri());
    if let Some(account) = storage_account(&host) {
        return storage(&inner, &account, req).await;
    }
    let Some(name) = inner.registry_for_host(&host) else {
        return acr_error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "registry not found",
            None,
        );
    };
    let (reg, faults) = {
        let st = inner.state();
        let faults = st.faults_for(Some(&name));
        match st.registry(&name) {
            Some(r) => (r.effective(&faults), faults),
            None => {
                return acr_error(
                    StatusCode::NOT_FOUND,
                    "NAME_UNKNOWN",
                    "registry not found",
                    None,
                )
            }
        }
    };
    let ip = req
        .extensions()
        .get::<ClientAddr>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let allowed = reg.public_network_access
        && (!reg.network_default_deny || reg.ip_rules.iter().any(|r| ip_in_rule(ip, r)));
    if !allowed {
        return acr_error(
            StatusCode::FORBIDDEN,
            "DENIED",
            &format!("client with IP '{ip}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."),
            None,
        );
    }
    req.extensions_mut().insert(Ctx { reg, faults, host });
    next.run(req).await
}

fn ip_in_rule(ip: IpAddr, rule: &str) -> bool {
    let (addr, bits) = match rule.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (rule, None),
    };
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    match (ip, addr.trim().parse::<IpAddr>()) {
        (IpAddr::V4(a), Ok(IpAddr::V4(b))) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (a, Ok(b)) => a == b,
        _ => false,
    }
}

fn challenge(ctx: &Ctx, extra: &str) -> Response {
    let mut r = acr_error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        AUTH_REQUIRED,
        None,
    );
    let realm_host = ctx
        .faults
        .iter()
        .find_map(|f| match f {
            Fault::ForeignRealm { host } => Some(host.clone()),
            _ => None,
        })
        .unwrap_or_else(|| ctx.host.clone());
    let value = format!(
        "Bearer realm=\"https://{realm_host}/oauth2/token\",service=\"{}\"{extra}",
        ctx.reg.login_server()
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r.headers_mut().insert(
        "Docker-Distribution-Api-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    r
}

fn unauthorized(message: &str) -> Response {
    acr_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message, None)
}

async fn v2_base(
    State(inner): State<Arc<Inner>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    headers: HeaderMap,
) -> Response {
    if ctx.faults.contains(&Fault::NoChallenge) {
        return json(StatusCode::OK, j!({}));
    }
    if ctx.faults.contains(&Fault::MalformedChallenge) {
        let mut r = acr_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            AUTH_REQUIRED,
            None,
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm="),
        );
        return r;
    }
    if ctx.faults.contains(&Fault::BasicOnlyChallenge) {
        let mut r = acr_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            AUTH_REQUIRED,
            None,
        );
        if let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"https://{}/v2/\"", ctx.host)) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return r;
    }
    let ok = || {
        let mut r = json(StatusCode::OK, j!({}));
        r.headers_mut().insert(
            "Docker-Distribution-Api-Version",
            HeaderValue::from_static("registry/2.0"),
        );
        r
    };
    match authorization(&headers) {
        Some(Auth::Bearer(t)) => match verify_access(&ctx.reg, &t) {
            Ok(_) => ok(),
            Err(_) => challenge(&ctx, ",error=\"invalid_token\""),
        },
        Some(Auth::Basic(u, p)) => {
            let st = inner.state().clone();
            match basic_identity(&st, &ctx.reg, &ctx.faults, &u, &p) {
                Ok(_) => ok(),
                Err(r) => r,
            }
        }
        None => challenge(&ctx, ""),
    }
}

enum Auth {
    Bearer(String),
    Basic(String, String),
}

fn authorization(headers: &HeaderMap) -> Option<Auth> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Auth::Bearer(rest.trim().to_string()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (u, p) = raw.split_once(':')?;
        return Some(Auth::Basic(u.to_string(), p.to_string()));
    }
    None
}

/// Verify an ACR access token issued for this registry.
fn verify_access(reg: &Registry, token: &str) -> Result<Value, &'static str> {
    let claims = crypto::verify_jwt(token).ok_or("signature")?;
    if claims.get("iss").and_then(Value::as_str) != Some(ACR_ISSUER) {
        return Err("issuer");
    }
    if claims.get("aud").and_then(Value::as_str) != Some(reg.login_server().as_str()) {
        return Err("audience");
    }
    if claims.get("exp").and_then(Value::as_i64).unwrap_or(0) + 60 < now() {
        return Err("expired");
    }
    Ok(claims)
}

fn claim<'a>(c: &'a Value, k: &str) -> &'a str {
    c.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Who is asking for a token.
#[derive(Debug, Clone)]
enum Identity {
    Admin,
    RepoToken {
        name: String,
        actions: Vec<String>,
    },
    Entra {
        oid: String,
        subject: String,
        tenant: String,
        appid: String,
    },
    Anonymous,
}

/// Verify an ACR refresh token and return the identity it stands for.
#[allow(clippy::result_large_err)]
fn refresh_identity(reg: &Registry, token: &str) -> Result<Identity, Response> {
    let Some(c) = crypto::verify_jwt(token) else {
        return Err(unauthorized("The refresh token could not be validated: it was not issued by this registry or is malformed."));
    };
    if claim(&c, "iss") != ACR_ISSUER || claim(&c, "grant_type") != "refresh_token" {
        return Err(unauthorized("The token is not an ACR refresh token."));
    }
    if claim(&c, "aud") != reg.login_server() {
        return Err(unauthorized(&format!(
            "The refresh token was issued for '{}', not for '{}'.",
            claim(&c, "aud"),
            reg.login_server()
        )));
    }
    if c.get("exp").and_then(Value::as_i64).unwrap_or(0) < now() {
        return Err(unauthorized(
            "The refresh token has expired. Log in again to get a new one.",
        ));
    }
    Ok(Identity::Entra {
        oid: claim(&c, "oid").to_string(),
        subject: claim(&c, "sub").to_string(),
        tenant: claim(&c, "tenant").to_string(),
        appid: claim(&c, "appid").to_string(),
    })
}

/// Resolve a username/password pair (docker login / password grant).
#[allow(clippy::result_large_err)]
fn basic_identity(
    st: &BedState,
    reg: &Registry,
    faults: &[Fault],
    user: &str,
    pass: &str,
) -> Result<Identity, Response> {
    let nowt = time::OffsetDateTime::now_utc();
    if user == ids::EMPTY_GUID {
        return refresh_identity(reg, pass);
    }
    if user.eq_ignore_ascii_case(&reg.name) {
        // Assumption: ACR answers a disabled admin user like any wrong credential.
        if reg.admin_user_enabled && reg.admin_passwords.iter().any(|p| p == pass) {
            return Ok(Identity::Admin);
        }
        return Err(unauthorized(AUTH_REQUIRED));
    }
    if let Some(t) = reg
        .tokens
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(user))
    {
        if !t.enabled {
            return Err(unauthorized("The token is disabled."));
        }
        let valid = t
            .passwords
            .iter()
            .any(|p| p.value == pass && p.expiry.is_none_or(|e| e > nowt));
        if !valid {
            return Err(unauthorized(AUTH_REQUIRED));
        }
        return Ok(Identity::RepoToken {
            name: t.name.clone(),
            actions: t.actions.clone(),
        });
    }
    if uuid::Uuid::parse_str(user).is_ok() {
        let sp = st.principals.iter().find(|p| {
            p.kind == PrincipalKind::ServicePrincipal
                && p.app_id.eq_ignore_ascii_case(user)
                && p.tenant.eq_ignore_ascii_case(&reg.tenant)
        });
        let sp = match sp {
            Some(sp) if !faults.contains(&Fault::AppNotRegistered) => sp,
            _ => return Err(unauthorized("Application not registered with AAD.")),
        };
        let rotated = faults.contains(&Fault::SpSecretWrong);
        let matching: Vec<_> = sp
            .secrets
            .iter()
            .filter(|s| !rotated && s.value == pass)
            .collect();
        if matching.is_empty() {
            return Err(unauthorized("Invalid clientid or client secret."));
        }
        if faults.contains(&Fault::SpSecretExpired) || matching.iter().all(|s| s.end <= nowt) {
            // Assumption: ACR relays Entra's verdict; the docs give no exact wording.
            return Err(unauthorized(
                "The client secret of the application has expired.",
            ));
        }
        return Ok(Identity::Entra {
            oid: sp.object_id.clone(),
            subject: sp.app_id.clone(),
            tenant: sp.tenant.clone(),
            appid: sp.app_id.clone(),
        });
    }
    Err(unauthorized(AUTH_REQUIRED))
}

/// Actions granted to `id` for one requested scope.
fn grant(
    st: &BedState,
    reg: &Registry,
    id: &Identity,
    kind: &str,
    name: &str,
    requested: &[String],
) -> Vec<String> {
    match kind {
        "repository" => {
            let allowed: BTreeSet<&str> = match id {
                Identity::Admin => ALL_ACTIONS.into_iter().collect(),
                Identity::Anonymous if reg.anonymous_pull => ["pull"].into_iter().collect(),
                Identity::Anonymous => BTreeSet::new(),
                Identity::RepoToken { actions, .. } => actions
                    .iter()
                    .filter_map(|a| perms::scope_map_action(a))
                    .filter(|(repo, _)| perms::glob_match(repo, name))
                    .map(|(_, a)| a)
                    .collect(),
                Identity::Entra { oid, .. } => perms::repository_actions(st, reg, oid, name),
            };
            let mut out = Vec::new();
            for r in requested {
                if r == "*" {
                    if ALL_ACTIONS.iter().all(|a| allowed.contains(a)) {
                        out.push("*".to_string());
                    }
                } else if allowed.contains(r.as_str()) && !out.contains(r) {
                    out.push(r.clone());
                }
            }
            out
        }
        "registry" if name == "catalog" => {
            let ok = match id {
                Identity::Admin => true,
                Identity::Entra { oid, .. } => perms::catalog_allowed(st, reg, oid),
                _ => false,
            };
            if ok {
                requested
                    .iter()
                    .filter(|a| a.as_str() == "*")
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// Parse `type:name:actions` scopes (several may share one parameter, space separated).
fn parse_scopes(values: &[String]) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for v in values {
        for s in v.split_whitespace() {
            let Some((kind, rest)) = s.split_once(':') else {
                continue;
            };
            let Some((name, actions)) = rest.rsplit_once(':') else {
                continue;
            };
            let kind = kind.split('(').next().unwrap_or(kind);
            out.push((
                kind.to_string(),
                name.to_string(),
                actions
                    .split(',')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect(),
            ));
        }
    }
    out
}

fn sign_acr(claims: &Value) -> Result<String, BedError> {
    crypto::sign_jwt(j!({"kid": "acr-testbed-acr"}), claims)
}

fn times(faults: &[Fault], lifetime: i64) -> (i64, i64) {
    let n = now();
    if faults.contains(&Fault::ExpiredTokens) {
        (n - lifetime - 3600, n - 3600)
    } else {
        (n, n + lifetime)
    }
}

fn params(query: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    v.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default());
    v
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

const ACR_AUDIENCE: &str = "https://containerregistry.azure.net";
const ARM_AUDIENCES: [&str; 2] = [
    "https://management.azure.com",
    "https://management.core.windows.net",
];

async fn exchange(
    State(inner): State<Arc<Inner>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Some(status) = ctx.faults.iter().find_map(|f| match f {
        Fault::RefreshExchangeError { status } => Some(*status),
        _ => None,
    }) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return acr_error(
            status,
            "UNKNOWN",
            "the refresh token exchange failed (injected fault)",
            None,
        );
    }
    let p = params(uri.query(), &body);
    let reg = &ctx.reg;
    match param(&p, "grant_type") {
        Some("access_token") => {}
        other => {
            return acr_error(
                StatusCode::BAD_REQUEST,
                "UNSUPPORTED",
                &format!(
                    "grant_type '{}' is not supported here; use access_token",
                    other.unwrap_or("")
                ),
                None,
            )
        }
    }
    let service = param(&p, "service").unwrap_or("");
    if !service.eq_ignore_ascii_case(&reg.login_server()) {
        return unauthorized(&format!(
            "The service '{service}' does not match this registry ('{}').",
            reg.login_server()
        ));
    }
    let Some(aad) = param(&p, "access_token").filter(|t| !t.is_empty()) else {
        return acr_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "access_token is required",
            None,
        );
    };
    let Some(c) = crypto::verify_jwt(aad) else {
        return unauthorized("The Microsoft Entra access token could not be validated (not a token issued by the tenant, or malformed).");
    };
    if c.get("exp").and_then(Value::as_i64).unwrap_or(0) < now() {
        return unauthorized("The Microsoft Entra access token has expired.");
    }
    let aud = claim(&c, "aud").trim_end_matches('/').to_ascii_lowercase();
    let arm = ARM_AUDIENCES.contains(&aud.as_str());
    if arm && !reg.arm_audience_allowed {
        return unauthorized(
            "Tokens with the Azure Resource Manager audience are not accepted: the registry's authentication-as-arm policy is disabled. Request a token for https://containerregistry.azure.net.",
        );
    }
    if !arm && aud != ACR_AUDIENCE {
        return unauthorized(&format!(
            "The access token's audience '{}' is not valid for this registry.",
            claim(&c, "aud")
        ));
    }
    let tid = claim(&c, "tid");
    if !tid.eq_ignore_ascii_case(&reg.tenant) {
        return unauthorized(&format!(
            "The access token is from tenant '{tid}', but the registry belongs to another tenant."
        ));
    }
    if let Some(t) = param(&p, "tenant").filter(|t| !t.is_empty()) {
        if !t.eq_ignore_ascii_case(tid) {
            return unauthorized(&format!(
                "The tenant '{t}' does not match the access token's tenant '{tid}'."
            ));
        }
    }
    let oid = claim(&c, "oid").to_string();
    let subject = c
        .get("upn")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| oid.clone());
    let permissions = {
        let st = inner.state();
        if reg.role_assignment_mode == crate::RoleAssignmentMode::Legacy {
            let acts = perms::repository_actions(&st, reg, &oid, "");
            let mut a = Vec::new();
            if acts.contains("pull") {
                a.push("read");
            }
            if acts.contains("push") {
                a.push("write");
            }
            if acts.contains("delete") {
                a.push("delete");
            }
            Some(j!({"actions": a, "notActions": Value::Null}))
        } else {
            None
        }
    };
    let (iat, exp) = times(&ctx.faults, REFRESH_LIFETIME);
    let mut claims = j!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "sub": subject,
        "oid": oid,
        "nbf": iat,
        "exp": exp,
        "iat": iat,
        "iss": ACR_ISSUER,
        "aud": reg.login_server(),
        "version": "1.0",
        "rid": uuid::Uuid::new_v4().simple().to_string(),
        "grant_type": "refresh_token",
        "appid": claim(&c, "appid"),
        "tenant": tid,
        "roles": [],
    });
    if let (Some(perm), Value::Object(m)) = (permissions, &mut claims) {
        m.insert("permissions".into(), perm);
    }
    match sign_acr(&claims) {
        Ok(t) => json(StatusCode::OK, j!({"refresh_token": t})),
        Err(e) => acr_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            &e.to_string(),
            None,
        ),
    }
}

async fn token(
    State(inner): State<Arc<Inner>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(status) = ctx.faults.iter().find_map(|f| match f {
        Fault::AccessTokenError { status } => Some(*status),
        _ => None,
    }) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return acr_error(
            status,
            "UNKNOWN",
            "the access token request failed (injected fault)",
            None,
        );
    }
    let p = params(uri.query(), &body);
    let reg = &ctx.reg;
    let st = inner.state().clone();
    let service = param(&p, "service").unwrap_or("");
    if !service.eq_ignore_ascii_case(&reg.login_server()) {
        return unauthorized(&format!(
            "The service '{service}' does not match this registry ('{}').",
            reg.login_server()
        ));
    }
    let (identity, grant_type) = if method == Method::POST {
        match param(&p, "grant_type") {
            Some("refresh_token") => {
                match refresh_identity(reg, param(&p, "refresh_token").unwrap_or("")) {
                    Ok(i) => (i, "refresh_token"),
                    Err(r) => return r,
                }
            }
            Some("password") => {
                match basic_identity(
                    &st,
                    reg,
                    &ctx.faults,
                    param(&p, "username").unwrap_or(""),
                    param(&p, "password").unwrap_or(""),
                ) {
                    Ok(i) => (i, "password"),
                    Err(r) => return r,
                }
            }
            other => {
                return acr_error(
                    StatusCode::BAD_REQUEST,
                    "UNSUPPORTED",
                    &format!("grant_type '{}' is not supported", other.unwrap_or("")),
                    None,
                )
            }
        }
    } else {
        match authorization(&headers) {
            Some(Auth::Basic(u, pw)) => match basic_identity(&st, reg, &ctx.faults, &u, &pw) {
                Ok(i) => (i, "password"),
                Err(r) => return r,
            },
            Some(Auth::Bearer(_)) => return unauthorized(AUTH_REQUIRED),
            // Anonymous token requests are served only with anonymous pull enabled.
            None if reg.anonymous_pull => (Identity::Anonymous, "anonymous"),
            None => return unauthorized(AUTH_REQUIRED),
        }
    };
    if let Identity::Entra { tenant, .. } = &identity {
        if !tenant.eq_ignore_ascii_case(&reg.tenant) {
            return unauthorized("The identity belongs to another tenant than the registry.");
        }
    }
    let scopes: Vec<String> = p
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let access: Vec<Value> = parse_scopes(&scopes)
        .into_iter()
        .map(|(kind, name, actions)| {
            let granted = grant(&st, reg, &identity, &kind, &name, &actions);
            j!({"type": kind, "name": name, "actions": granted})
        })
        .collect();
    let subject = match &identity {
        Identity::Admin => reg.name.clone(),
        Identity::RepoToken { name, .. } => name.clone(),
        Identity::Entra { subject, .. } => subject.clone(),
        Identity::Anonymous => String::new(),
    };
    let (iat, exp) = times(&ctx.faults, ACCESS_LIFETIME);
    let mut claims = j!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "sub": subject,
        "nbf": iat,
        "exp": exp,
        "iat": iat,
        "iss": ACR_ISSUER,
        "aud": reg.login_server(),
        "version": "1.0",
        "rid": uuid::Uuid::new_v4().simple().to_string(),
        // Assumption: the grant used to obtain the token, as ACR's tokens show.
        "grant_type": grant_type,
        "access": access,
        "roles": [],
    });
    if let (
        Identity::Entra {
            tenant, appid, oid, ..
        },
        Value::Object(m),
    ) = (&identity, &mut claims)
    {
        m.insert("tenant".into(), tenant.clone().into());
        m.insert("appid".into(), appid.clone().into());
        m.insert("oid".into(), oid.clone().into());
    }
    match sign_acr(&claims) {
        Ok(t) => json(StatusCode::OK, j!({"access_token": t})),
        Err(e) => acr_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            &e.to_string(),
            None,
        ),
    }
}

/// `TestBed::acr_access_token` and `push_test_image`: an access token valid one hour.
pub(crate) fn mint_access_for_test(
    inner: &Inner,
    registry: &str,
    access: &[(&str, &str, &[&str])],
) -> Result<String, BedError> {
    let _ = inner;
    let n = now();
    let access: Vec<Value> = access
        .iter()
        .map(|(t, n, a)| j!({"type": t, "name": n, "actions": a}))
        .collect();
    sign_acr(&j!({
        "jti": uuid::Uuid::new_v4().to_string(), "sub": "acr-testbed", "nbf": n, "iat": n, "exp": n + 3600,
        "iss": ACR_ISSUER, "aud": format!("{}.azurecr.io", registry.to_ascii_lowercase()), "version": "1.0",
        "grant_type": "refresh_token", "access": access,
    }))
}

/// What a `/v2/...` request needs: (type, name, action).
fn required_scope(method: &Method, path: &str) -> Option<(String, String, String)> {
    let rest = path.strip_prefix("/v2/")?;
    if rest == "_catalog" {
        return Some(("registry".into(), "catalog".into(), "*".into()));
    }
    for marker in ["/manifests/", "/blobs/", "/tags/"] {
        if let Some(i) = rest.find(marker) {
            let name = &rest[..i];
            let action = match *method {
                Method::GET | Method::HEAD => "pull",
                Method::DELETE => "delete",
                _ => "push",
            };
            return Some(("repository".into(), name.to_string(), action.into()));
        }
    }
    None
}

fn token_allows(claims: &Value, kind: &str, name: &str, action: &str) -> bool {
    claims
        .get("access")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries.iter().any(|e| {
                claim(e, "type") == kind
                    && claim(e, "name") == name
                    && e.get("actions").and_then(Value::as_array).is_some_and(|a| {
                        a.iter()
                            .any(|x| x.as_str() == Some(action) || x.as_str() == Some("*"))
                    })
            })
        })
}

async fn proxy(
    State(inner): State<Arc<Inner>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    if !path.starts_with("/v2/") {
        return acr_error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found", None);
    }
    let needed = required_scope(req.method(), &path);
    let bearer = match authorization(req.headers()) {
        Some(Auth::Bearer(t)) => verify_access(&ctx.reg, &t).ok(),
        _ => None,
    };
    let allowed = |claims: &Value| {
        needed
            .as_ref()
            .is_some_and(|(k, n, a)| token_allows(claims, k, n, a))
    };

    // A write the token allows, on a locked repository or image: ACR refuses it itself.
    if let (Some((kind, repo, action)), Some(claims)) = (&needed, &bearer) {
        if kind == "repository"
            && matches!(action.as_str(), "push" | "delete")
            && allowed(claims)
            && locked_write(&inner, &ctx, action, &path, repo).await
        {
            return disallowed();
        }
    }

    // Authorized layer downloads that ACR sends elsewhere: to the dedicated data endpoint
    // (a host that cannot be reached, with `data-endpoint-unreachable`) or, without one, to the
    // registry's storage account (`blob-redirect`).
    let blob = path
        .strip_prefix("/v2/")
        .and_then(|r| r.rsplit_once("/blobs/"))
        .filter(|(_, digest)| digest.starts_with("sha256:"))
        .filter(|_| matches!(*req.method(), Method::GET | Method::HEAD))
        .filter(|_| bearer.as_ref().is_some_and(allowed));
    if let Some((repo, digest)) = blob {
        let location = if ctx.reg.data_endpoint_enabled
            && ctx.faults.contains(&Fault::DataEndpointUnreachable)
        {
            Some(format!("https://{}{}", ctx.reg.data_endpoint_host(), path))
        } else if ctx.faults.contains(&Fault::BlobRedirect) {
            Some(storage_url(
                &ctx.reg.name,
                inner.ports.registry,
                repo,
                digest,
            ))
        } else {
            None
        };
        if let Some(location) = location {
            return crate::hostile::temporary_redirect(&location);
        }
    }

    let Some(addr) = inner.backends.get(&ctx.reg.name).copied() else {
        // No real registry: enforce the token here and answer as an empty registry would.
        let Some((k, n, a)) = &needed else {
            return acr_error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found", None);
        };
        let scope = format!(",scope=\"{k}:{n}:{a}\"");
        return match &bearer {
            None => challenge(&ctx, &format!(",error=\"invalid_token\"{scope}")),
            Some(c) if !allowed(c) => {
                let mut r = challenge(&ctx, &format!(",error=\"insufficient_scope\"{scope}"));
                *r.body_mut() = Body::from(
                    j!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": [{"Type": k, "Name": n, "Action": a}]}]})
                        .to_string(),
                );
                r
            }
            Some(_) if k == "registry" => json(StatusCode::OK, j!({"repositories": []})),
            Some(_) => acr_error(
                StatusCode::NOT_FOUND,
                "NAME_UNKNOWN",
                "repository name not known to registry",
                Some(j!({"name": n})),
            ),
        };
    };

    // `n` / `last` on a tag list: ACR pages it (distribution 2.8 does not, so the bed does).
    let page = (*req.method() == Method::GET)
        .then(|| path.strip_prefix("/v2/")?.strip_suffix("/tags/list"))
        .flatten()
        .and_then(|repo| tags_page(repo, req.uri().query()));
    let (mut parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or(path.clone());
    let Ok(uri) = format!("http://{addr}{pq}").parse::<Uri>() else {
        return acr_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "bad path", None);
    };
    parts.uri = uri;
    parts.version = axum::http::Version::HTTP_11;
    if let Ok(h) = HeaderValue::from_str(&ctx.host) {
        parts.headers.insert(header::HOST, h);
    }
    parts
        .headers
        .insert("X-Forwarded-Proto", HeaderValue::from_static("https"));
    for h in [
        header::CONNECTION,
        header::UPGRADE,
        header::TE,
        header::PROXY_AUTHORIZATION,
    ] {
        parts.headers.remove(h);
    }
    let resp = match inner.client.request(Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(e) => {
            return acr_error(
                StatusCode::BAD_GATEWAY,
                "UNAVAILABLE",
                &format!("registry backend unreachable: {e}"),
                None,
            );
        }
    };
    let (mut parts, body) = resp.into_parts();
    let canonical_realm = format!("https://{}/oauth2/token", ctx.reg.login_server());
    let public_realm = format!("https://{}/oauth2/token", ctx.host);
    if let Some(v) = parts
        .headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
    {
        if let Ok(nv) = HeaderValue::from_str(&v.replace(&canonical_realm, &public_realm)) {
            parts.headers.insert(header::WWW_AUTHENTICATE, nv);
        }
    }
    if let Some(v) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        let nv = v
            .replace(&format!("http://{addr}"), &format!("https://{}", ctx.host))
            .replace(
                &format!("http://{}", ctx.host),
                &format!("https://{}", ctx.host),
            );
        if let Ok(nv) = HeaderValue::from_str(&nv) {
            parts.headers.insert(header::LOCATION, nv);
        }
    }
    if let Some(page) = page.filter(|_| parts.status == StatusCode::OK) {
        use http_body_util::BodyExt;
        let Ok(bytes) = body.collect().await.map(|b| b.to_bytes()) else {
            return acr_error(StatusCode::BAD_GATEWAY, "UNAVAILABLE", "backend body", None);
        };
        return page.apply(&bytes);
    }
    Response::from_parts(parts, Body::new(body))
}

/// A page of a tag list asked with `n` (and `last`).
struct TagsPage {
    repo: String,
    n: usize,
    last: Option<String>,
}

fn tags_page(repo: &str, query: Option<&str>) -> Option<TagsPage> {
    let q: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    let n = q
        .iter()
        .find(|(k, _)| k == "n")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .filter(|n| *n > 0)?;
    let last = q.iter().find(|(k, _)| k == "last").map(|(_, v)| v.clone());
    Some(TagsPage {
        repo: repo.to_string(),
        n,
        last,
    })
}

impl TagsPage {
    /// The tags after `last` in lexical order, at most `n`, with a `Link` to the next page
    /// when more follow (as the distribution spec describes).
    fn apply(&self, body: &[u8]) -> Response {
        let all: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut tags: Vec<String> = all
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        if let Some(last) = &self.last {
            tags.retain(|t| t > last);
        }
        let more = tags.len() > self.n;
        tags.truncate(self.n);
        let mut r = json(StatusCode::OK, j!({"name": self.repo, "tags": tags}));
        if let (true, Some(last)) = (more, tags.last()) {
            let query = serde_urlencoded::to_string([
                ("last", last.as_str()),
                ("n", self.n.to_string().as_str()),
            ])
            .unwrap_or_default();
            let link = format!("</v2/{}/tags/list?{query}>; rel=\"next\"", self.repo);
            if let Ok(v) = HeaderValue::from_str(&link) {
                r.headers_mut().insert(header::LINK, v);
            }
        }
        r
    }
}

// ---------------------------------------------------------------------------------------------
// The storage account behind a registry (blob downloads redirected by `blob-redirect`).

const STORAGE_SUFFIX: &str = "stg.blob.core.windows.net";
/// What the SAS signatures are keyed with (a test bed's own secret).
const SAS_KEY: &str = "acr-testbed-storage-key";

/// `<name>stg.blob.core.windows.net[:port]` -> `<name>`.
fn storage_account(host: &str) -> Option<String> {
    let bare = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    bare.strip_suffix(STORAGE_SUFFIX)
        .filter(|n| !n.is_empty() && !n.contains('.'))
        .map(str::to_string)
}

fn sas_signature(path: &str, expiry: i64) -> String {
    use sha2::Digest;
    let mac = sha2::Sha256::digest(format!("{SAS_KEY}|{path}|{expiry}"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
}

/// A read-only SAS URL for one blob, valid 20 minutes (as ACR's redirects are short-lived).
fn storage_url(registry: &str, port: u16, repo: &str, digest: &str) -> String {
    let path = format!("/{registry}/{repo}/{digest}");
    let se = now() + 1200;
    let sig = sas_signature(&path, se);
    format!(
        "https://{registry}{STORAGE_SUFFIX}:{port}{path}?sv=2021-08-06&sr=b&sp=r&se={se}&sig={sig}"
    )
}

fn storage_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}

/// Serves `GET/HEAD /<registry>/<repo>/<digest>?...&se=..&sig=..` on the storage host: checks
/// the signature and expiry, then reads the blob from the registry's backend.
async fn storage(inner: &Arc<Inner>, account: &str, req: Request) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return storage_error(
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
        );
    }
    let path = req.uri().path().to_string();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let se: i64 = q("se").and_then(|v| v.parse().ok()).unwrap_or(0);
    let signed = q("sig").is_some_and(|sig| sig == sas_signature(&path, se));
    if !signed || se < now() {
        return storage_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        );
    }
    let Some((repo, digest)) = path
        .strip_prefix(&format!("/{account}/"))
        .and_then(|r| r.rsplit_once('/'))
    else {
        return storage_error(
            StatusCode::NOT_FOUND,
            "BlobNotFound",
            "The specified blob does not exist.",
        );
    };
    let Some(addr) = inner.backends.get(account).copied() else {
        return storage_error(
            StatusCode::NOT_FOUND,
            "BlobNotFound",
            "The specified blob does not exist.",
        );
    };
    let Ok(token) = mint_access_for_test(inner, account, &[("repository", repo, &["pull"])]) else {
        return storage_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "no token",
        );
    };
    let Ok(uri) = format!("http://{addr}/v2/{repo}/blobs/{digest}").parse::<Uri>() else {
        return storage_error(StatusCode::BAD_REQUEST, "InvalidUri", "bad path");
    };
    let mut backend = Request::new(Body::empty());
    *backend.method_mut() = req.method().clone();
    *backend.uri_mut() = uri;
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
        backend.headers_mut().insert(header::AUTHORIZATION, v);
    }
    if let Some(range) = req.headers().get(header::RANGE) {
        backend.headers_mut().insert(header::RANGE, range.clone());
    }
    match inner.client.request(backend).await {
        Ok(resp) if resp.status().is_success() => {
            let (parts, body) = resp.into_parts();
            Response::from_parts(parts, Body::new(body))
        }
        Ok(_) => storage_error(
            StatusCode::NOT_FOUND,
            "BlobNotFound",
            "The specified blob does not exist.",
        ),
        Err(e) => storage_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServerBusy",
            &format!("backend unreachable: {e}"),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// ACR's own API (`/acr/v1/`): repository, tag and manifest attributes, and the refusal of
// writes to locked ones.

/// ACR's answer to a write that a lock forbids (status and wording as ACR returns them to
/// `az acr` and `docker push`; the code is not one of the distribution spec's, so Docker prints it
/// as `unknown: The operation is disallowed ...`).
/// Assumption: pushes are refused with the same `405` as deletes (the public reports show 405
/// for deletes).
fn disallowed() -> Response {
    acr_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "REGISTRY_DISALLOWED_OPERATION",
        "The operation is disallowed on this registry, repository or image. View troubleshooting steps at https://aka.ms/acr/faq/#why-does-my-pull-or-push-request-fail-with-disallowed-operation",
        Some(j!({})),
    )
}

/// Whether a lock fault forbids `action` (`push` or `delete`) at `path` in `repo`.
/// `writeEnabled: false` forbids pushes and deletes, `deleteEnabled: false` deletes; a locked
/// tag cannot be overwritten or deleted (nor the manifest it points to); a locked manifest
/// cannot be deleted.
async fn locked_write(inner: &Arc<Inner>, ctx: &Ctx, action: &str, path: &str, repo: &str) -> bool {
    let stops = |(write, delete): (bool, bool)| match action {
        "push" => !write,
        _ => !write || !delete,
    };
    if stops(lock_attributes(
        &ctx.faults,
        &LockTarget::Repository(repo.to_string()),
    )) {
        return true;
    }
    let Some(reference) = path
        .strip_prefix(&format!("/v2/{repo}/manifests/"))
        .map(str::to_string)
    else {
        return false;
    };
    let mut items: Vec<LockTarget> = Vec::new();
    for f in &ctx.faults {
        let (Fault::ArtifactLocked { target } | Fault::DeleteLocked { target }) = f else {
            continue;
        };
        let t = LockTarget::parse(target);
        if t.repository() == repo && !items.contains(&t) {
            items.push(t);
        }
    }
    for item in items {
        if !stops(lock_attributes(&ctx.faults, &item)) {
            continue;
        }
        let hit = match &item {
            LockTarget::Repository(_) => false,
            LockTarget::Tag(_, tag) if *tag == reference => true,
            // A manifest deleted by digest: locked when a locked tag points to it.
            LockTarget::Tag(_, tag) => {
                action == "delete"
                    && crate::backend::manifest_digest(inner, &ctx.reg.name, repo, tag)
                        .await
                        .is_some_and(|d| d == reference)
            }
            LockTarget::Manifest(_, digest) => action == "delete" && *digest == reference,
        };
        if hit {
            return true;
        }
    }
    false
}

/// Attributes ACR shows for an item: `writeEnabled` / `deleteEnabled` from the lock faults;
/// reading and listing always enabled.
fn changeable_attributes(faults: &[Fault], item: &LockTarget) -> Value {
    let (write, delete) = lock_attributes(faults, item);
    j!({"deleteEnabled": delete, "writeEnabled": write, "readEnabled": true, "listEnabled": true})
}

/// Assumption: the bed keeps no creation times; every item shows this one.
const ITEM_TIME: &str = "2024-01-01T00:00:00.0000000Z";

/// `GET /acr/v1/<repo>`, `/acr/v1/<repo>/_tags/<tag>` and `/acr/v1/<repo>/_manifests/<digest>`:
/// attributes as ACR's data-plane API returns them, for a bearer token (or, as `az acr` sends it,
/// the access token as the password of the empty GUID) granting `metadata_read` on the
/// repository. Without one the answer is a 401 challenge naming that scope, as ACR's is. What
/// exists comes from the real registry behind; without one nothing does.
async fn acr_v1(
    State(inner): State<Arc<Inner>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    let rest = path.strip_prefix("/acr/v1/").unwrap_or("");
    let (repo, item) = if let Some((r, t)) = rest.split_once("/_tags/") {
        (r, Some(("tag", t)))
    } else if let Some((r, m)) = rest.split_once("/_manifests/") {
        (r, Some(("manifest", m)))
    } else {
        (rest.trim_end_matches('/'), None)
    };
    let malformed = repo.is_empty()
        || repo.starts_with('_')
        || repo.contains("/_")
        || item.is_some_and(|(_, r)| r.is_empty() || r.contains('/'));
    if malformed {
        return acr_error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found", None);
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        // Updating attributes (PATCH) and deleting through this API are not served by the bed.
        return acr_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "The operation is unsupported.",
            None,
        );
    }
    let scope = format!(",scope=\"repository:{repo}:metadata_read\"");
    let claims = match authorization(req.headers()) {
        Some(Auth::Bearer(t)) => verify_access(&ctx.reg, &t).ok(),
        Some(Auth::Basic(u, p)) if u == ids::EMPTY_GUID => verify_access(&ctx.reg, &p).ok(),
        _ => None,
    };
    let Some(claims) = claims else {
        return challenge(&ctx, &format!("{scope},error=\"invalid_token\""));
    };
    if !token_allows(&claims, "repository", repo, "metadata_read") {
        let mut r = challenge(&ctx, &format!("{scope},error=\"insufficient_scope\""));
        *r.body_mut() = Body::from(
            j!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": [{"Type": "repository", "Name": repo, "Action": "metadata_read"}]}]})
                .to_string(),
        );
        return r;
    }
    let registry = ctx.reg.login_server();
    let Some(tags) = crate::backend::tags(&inner, &ctx.reg.name, repo).await else {
        return acr_error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
            Some(j!({"name": repo})),
        );
    };
    match item {
        None => json(
            StatusCode::OK,
            j!({
                "registry": registry, "imageName": repo,
                "createdTime": ITEM_TIME, "lastUpdateTime": ITEM_TIME,
                // Assumption: one manifest per tag (the bed pushes one image per tag).
                "manifestCount": tags.len(), "tagCount": tags.len(),
                "changeableAttributes": changeable_attributes(&ctx.faults, &LockTarget::Repository(repo.to_string())),
            }),
        ),
        Some(("tag", tag)) => {
            if !tags.iter().any(|t| t == tag) {
                return acr_error(
                    StatusCode::NOT_FOUND,
                    "TAG_UNKNOWN",
                    "the specified tag does not exist",
                    Some(j!({"name": repo, "tag": tag})),
                );
            }
            let digest = crate::backend::manifest_digest(&inner, &ctx.reg.name, repo, tag).await;
            json(
                StatusCode::OK,
                j!({
                    "registry": registry, "imageName": repo,
                    "tag": {
                        "name": tag, "digest": digest, "createdTime": ITEM_TIME,
                        "lastUpdateTime": ITEM_TIME, "signed": false,
                        "changeableAttributes": changeable_attributes(&ctx.faults, &LockTarget::Tag(repo.to_string(), tag.to_string())),
                    }
                }),
            )
        }
        Some((_, reference)) => {
            let Some(digest) =
                crate::backend::manifest_digest(&inner, &ctx.reg.name, repo, reference).await
            else {
                return acr_error(
                    StatusCode::NOT_FOUND,
                    "MANIFEST_UNKNOWN",
                    "manifest unknown",
                    Some(j!({"name": repo, "reference": reference})),
                );
            };
            let mut tagged = Vec::new();
            for t in &tags {
                if crate::backend::manifest_digest(&inner, &ctx.reg.name, repo, t)
                    .await
                    .is_some_and(|d| d == digest)
                {
                    tagged.push(t.clone());
                }
            }
            json(
                StatusCode::OK,
                j!({
                    "registry": registry, "imageName": repo,
                    "manifest": {
                        "digest": digest, "tags": tagged, "createdTime": ITEM_TIME,
                        "lastUpdateTime": ITEM_TIME,
                        "changeableAttributes": changeable_attributes(&ctx.faults, &LockTarget::Manifest(repo.to_string(), digest.clone())),
                    }
                }),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_rules() {
        let s = parse_scopes(&[
            "repository:team/app:pull,push registry:catalog:*".into(),
            "repository:a:".into(),
        ]);
        assert_eq!(
            s[0],
            (
                "repository".into(),
                "team/app".into(),
                vec!["pull".into(), "push".into()]
            )
        );
        assert_eq!(
            s[1],
            ("registry".into(), "catalog".into(), vec!["*".into()])
        );
        assert_eq!(s[2].2.len(), 0);
        assert!(ip_in_rule(
            "127.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            "127.0.0.0/8"
        ));
        assert!(!ip_in_rule(
            "127.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            "203.0.113.0/24"
        ));
        assert_eq!(
            required_scope(&Method::POST, "/v2/team/app/blobs/uploads/"),
            Some(("repository".into(), "team/app".into(), "push".into()))
        );
    }
}
