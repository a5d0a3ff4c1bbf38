//! The registry's own token service, as Azure Container Registry documents it:
//! `POST /oauth2/exchange` (Entra token -> ACR refresh token), `POST /oauth2/token`
//! (refresh token or username/password -> access token), and the docker-style
//! `GET /oauth2/token` (Basic auth, or nothing for anonymous pull).

use serde_json::{Map, Value};

use crate::azure::entra::date_header;
use crate::context::Context;
use crate::http::{HttpError, HttpResponse};
use crate::model::LoginServer;
use crate::redact::{jwt_claims, Secret};
use crate::trust::Carry;

/// A token the registry issued.
#[derive(Debug, Clone)]
pub struct AcrToken {
    pub token: Secret,
    /// The token's claims (empty when it is not a readable JWT).
    pub claims: Map<String, Value>,
    pub server_date: Option<i64>,
    /// What was asked, for the report (`POST https://…/oauth2/exchange`).
    pub request: String,
    pub status: u16,
}

/// Why the registry issued nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcrTokenError {
    #[error("{request}: {error}")]
    Http { request: String, error: HttpError },
    #[error("{request} answered {status}: {message}")]
    Refused {
        request: String,
        status: u16,
        /// The registry's message (`UNAUTHORIZED: …`), or the start of the body.
        message: String,
        server_date: Option<i64>,
    },
    #[error("{request} answered {status} but {reason}")]
    BadBody {
        request: String,
        status: u16,
        reason: String,
    },
}

impl AcrTokenError {
    pub fn status(&self) -> Option<u16> {
        match self {
            AcrTokenError::Refused { status, .. } | AcrTokenError::BadBody { status, .. } => {
                Some(*status)
            }
            AcrTokenError::Http { .. } => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AcrTokenError::Refused { message, .. } => message.clone(),
            AcrTokenError::BadBody { reason, .. } => reason.clone(),
            AcrTokenError::Http { error, .. } => error.to_string(),
        }
    }

    pub fn request(&self) -> &str {
        match self {
            AcrTokenError::Http { request, .. }
            | AcrTokenError::Refused { request, .. }
            | AcrTokenError::BadBody { request, .. } => request,
        }
    }
}

/// `https://host[:port]` of the realm (`https://host/oauth2/token`).
pub fn origin_of(realm: &str) -> String {
    match url::Url::parse(realm) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => realm
            .trim_end_matches('/')
            .trim_end_matches("/oauth2/token")
            .to_string(),
    }
}

/// `POST <origin>/oauth2/exchange`: an Entra access token for an ACR refresh token.
pub async fn exchange(
    ctx: &Context,
    ls: &LoginServer,
    realm: &str,
    service: &str,
    tenant: Option<&str>,
    entra_token: &Secret,
) -> Result<AcrToken, AcrTokenError> {
    let url = format!("{}/oauth2/exchange", origin_of(realm));
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "access_token"),
        ("service", service),
        ("access_token", entra_token.expose()),
    ];
    if let Some(t) = tenant {
        form.push(("tenant", t));
    }
    let request = format!("POST {url} (grant_type=access_token, service={service})");
    let rb = ctx.http().post(&url).form(&form);
    finish(
        ctx,
        Some(Carry::RegistryEntra(ls)),
        request,
        rb,
        "refresh_token",
    )
    .await
}

/// `POST <realm>` with `grant_type=refresh_token`: an access token for `scopes`.
pub async fn access_from_refresh(
    ctx: &Context,
    ls: &LoginServer,
    realm: &str,
    service: &str,
    refresh_token: &Secret,
    scopes: &[String],
) -> Result<AcrToken, AcrTokenError> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "refresh_token"),
        ("service", service),
        ("refresh_token", refresh_token.expose()),
    ];
    for s in scopes {
        form.push(("scope", s));
    }
    let request = format!(
        "POST {realm} (grant_type=refresh_token, scope={})",
        scopes.join(" ")
    );
    let rb = ctx.http().post(realm).form(&form);
    finish(ctx, Some(Carry::Registry(ls)), request, rb, "access_token").await
}

/// `POST <realm>` with `grant_type=password` (basic credentials).
pub async fn access_from_password(
    ctx: &Context,
    ls: &LoginServer,
    realm: &str,
    service: &str,
    username: &str,
    password: &Secret,
    scopes: &[String],
) -> Result<AcrToken, AcrTokenError> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "password"),
        ("service", service),
        ("username", username),
        ("password", password.expose()),
    ];
    for s in scopes {
        form.push(("scope", s));
    }
    let request = format!(
        "POST {realm} (grant_type=password, username={username}, scope={})",
        scopes.join(" ")
    );
    let rb = ctx.http().post(realm).form(&form);
    finish(ctx, Some(Carry::Registry(ls)), request, rb, "access_token").await
}

/// `GET <realm>?service=…[&scope=…]` with Basic auth, as `docker login` does; without
/// credentials (`basic: None`) it is an anonymous token request.
pub async fn docker_style(
    ctx: &Context,
    ls: &LoginServer,
    realm: &str,
    service: &str,
    basic: Option<(&str, &Secret)>,
    scopes: &[String],
) -> Result<AcrToken, AcrTokenError> {
    let mut q: Vec<(&str, &str)> = vec![("service", service)];
    for s in scopes {
        q.push(("scope", s));
    }
    let mut rb = ctx.http().get(realm).query(&q);
    let request = match basic {
        Some((user, pw)) => {
            rb = rb.basic_auth(user, Some(pw.expose()));
            format!(
                "GET {realm}?service={service}{} (Basic, user {user})",
                scope_suffix(scopes)
            )
        }
        None => format!(
            "GET {realm}?service={service}{} (no credentials)",
            scope_suffix(scopes)
        ),
    };
    let carry = basic.is_some().then_some(Carry::Registry(ls));
    finish(ctx, carry, request, rb, "access_token").await
}

fn scope_suffix(scopes: &[String]) -> String {
    scopes.iter().map(|s| format!("&scope={s}")).collect()
}

async fn finish(
    ctx: &Context,
    carry: Option<Carry<'_>>,
    request: String,
    rb: reqwest::RequestBuilder,
    field: &str,
) -> Result<AcrToken, AcrTokenError> {
    let sent = match carry {
        Some(carry) => ctx.send_credential(carry, rb).await,
        None => ctx.send(rb).await,
    };
    let response = sent.map_err(|error| AcrTokenError::Http {
        request: request.clone(),
        error,
    })?;
    read(ctx, request, &response, field)
}

fn read(
    ctx: &Context,
    request: String,
    response: &HttpResponse,
    field: &str,
) -> Result<AcrToken, AcrTokenError> {
    let json = response.json();
    // Register every token-looking field before anything else can print the body.
    if let Some(Value::Object(m)) = &json {
        for k in ["access_token", "refresh_token", "token"] {
            if let Some(t) = m.get(k).and_then(Value::as_str) {
                ctx.redactor.register(t);
            }
        }
    }
    if !(200..300).contains(&response.status) {
        return Err(AcrTokenError::Refused {
            request,
            status: response.status,
            message: registry_message(ctx, response),
            server_date: date_header(response),
        });
    }
    let token = json
        .as_ref()
        .and_then(|j| {
            j.get(field)
                .or_else(|| (field == "access_token").then(|| j.get("token")).flatten())
        })
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(AcrTokenError::BadBody {
            request,
            status: response.status,
            reason: if json.is_some() {
                format!("the JSON answer has no {field}")
            } else {
                "the answer is not JSON".to_string()
            },
        });
    };
    Ok(AcrToken {
        token: Secret::new(token),
        claims: jwt_claims(token).unwrap_or_default(),
        server_date: date_header(response),
        request,
        status: response.status,
    })
}

/// The registry's own words for a refusal: `CODE: message` of its error envelope, else
/// the start of the body, scrubbed.
pub fn registry_message(ctx: &Context, response: &HttpResponse) -> String {
    let errors = response.registry_errors();
    let text = if errors.is_empty() {
        let body = response.text();
        let trimmed = body.trim();
        if let Some(m) = response.json().and_then(|j| {
            j.get("error_description")
                .or_else(|| j.get("message"))
                .or_else(|| j.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string)
        }) {
            m
        } else {
            trimmed.chars().take(300).collect()
        }
    } else {
        errors
            .into_iter()
            .map(|(c, m)| if c.is_empty() { m } else { format!("{c}: {m}") })
            .collect::<Vec<_>>()
            .join("; ")
    };
    ctx.redactor.scrub(&text)
}

/// The `access` claim of an access token: `type:name` -> actions.
pub fn granted_actions(claims: &Map<String, Value>) -> Vec<(String, Vec<String>)> {
    let Some(entries) = claims.get("access").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for e in entries {
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
        let name = e.get("name").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() {
            continue;
        }
        let actions: Vec<String> = e
            .get("actions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let key = format!("{kind}:{name}");
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, acts)) => {
                for a in actions {
                    if !acts.contains(&a) {
                        acts.push(a);
                    }
                }
            }
            None => out.push((key, actions)),
        }
    }
    out
}

/// `repository:app:pull,push` -> (`repository:app`, [pull, push]).
pub fn split_scope(scope: &str) -> Option<(String, Vec<String>)> {
    let (head, actions) = scope.rsplit_once(':')?;
    Some((
        head.to_string(),
        actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect(),
    ))
}

/// True when `token` is an ACR refresh token (what `az acr login --expose-token` prints).
pub fn is_acr_refresh_token(token: &str) -> bool {
    jwt_claims(token).is_some_and(|c| {
        c.get("iss").and_then(Value::as_str) == Some("Azure Container Registry")
            && c.get("grant_type").and_then(Value::as_str) == Some("refresh_token")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_scopes() {
        assert_eq!(
            origin_of("https://r.azurecr.io:8443/oauth2/token"),
            "https://r.azurecr.io:8443"
        );
        assert_eq!(
            split_scope("repository:team/app:pull,push"),
            Some((
                "repository:team/app".to_string(),
                vec!["pull".to_string(), "push".to_string()]
            ))
        );
        assert_eq!(
            split_scope("registry:catalog:*").map(|s| s.0),
            Some("registry:catalog".to_string())
        );
    }

    #[test]
    fn access_claims_merge_by_resource() {
        let c: Map<String, Value> = serde_json::from_str(
            r#"{"access":[{"type":"repository","name":"app","actions":["pull"]},
                          {"type":"repository","name":"app","actions":["push","pull"]},
                          {"type":"registry","name":"catalog","actions":[]}]}"#,
        )
        .unwrap_or_default();
        let g = granted_actions(&c);
        assert_eq!(
            g[0],
            (
                "repository:app".to_string(),
                vec!["pull".to_string(), "push".to_string()]
            )
        );
        assert_eq!(g[1], ("registry:catalog".to_string(), Vec::<String>::new()));
    }

    #[test]
    fn refresh_tokens_are_recognised() {
        use base64::Engine;
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let tok = |claims: &str| format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", b.encode(claims));
        assert!(is_acr_refresh_token(&tok(
            r#"{"iss":"Azure Container Registry","grant_type":"refresh_token"}"#
        )));
        assert!(!is_acr_refresh_token(&tok(
            r#"{"iss":"Azure Container Registry","grant_type":"access_token"}"#
        )));
        assert!(!is_acr_refresh_token("plain-password"));
    }
}
