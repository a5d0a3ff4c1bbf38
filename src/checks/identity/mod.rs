//! Credential acquisition and the ACR token exchange.
//!
//! `identity.credential` finds the credential the run uses. Under `--auth auto` the sources are
//! tried in this order, the first that is configured wins (a configured source that fails is
//! the diagnosis; later sources are not tried behind its back):
//!
//! 1. `basic`: `--username` with `--password` / `--password-stdin`;
//! 2. `env`: a service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//!    `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_CERTIFICATE_PATH` (RS256 client assertion);
//! 3. `workload-identity`: `AZURE_FEDERATED_TOKEN_FILE` with `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`;
//! 4. `managed-identity`: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, else the instance metadata
//!    endpoint (`ACR_DOCTOR_IMDS_ENDPOINT`, one second to answer);
//! 5. `cli`: `az account get-access-token` of the signed-in Azure CLI;
//! 6. `docker-config`: the credential stored for the login server in the Docker config.
//!
//! `anonymous` is used only when pinned. Each source may be pinned with `--auth`.
//! For Entra sources an ARM-audience token (and, for service principals, a Graph token) is
//! requested concurrently with the registry-audience token.
//!
//! `identity.refresh_token` and `identity.access_token` then run the registry's documented
//! flow: `POST /oauth2/exchange`, then `POST /oauth2/token` (or `grant_type=password`, the
//! docker-style `GET /oauth2/token` with Basic auth, or an anonymous `GET`).

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    cloud, login_server, registry_name, BasicKind, Check, CheckCx, Credential, Fact, Grants, Group,
    IdentityClaims, Meta, Outcome, ServerDate,
};
use crate::azure::acr_token::{self, AcrToken, AcrTokenError};
use crate::azure::cli_token::{self, CliError};
use crate::azure::entra::{self, ClientAuth, EntraError, EntraToken, MiEndpoint};
use crate::cli::{AuthSource, CheckArgs, Need};
use crate::error_codes;
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::protocol::docker_config::{self, StoredKind, EMPTY_GUID};
use crate::redact::Secret;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(CredentialCheck),
        Box::new(RefreshTokenCheck),
        Box::new(AccessTokenCheck),
        Box::new(AnonymousProbeCheck),
    ]
}

/// Every repository action, requested so that missing ones can be named.
pub const REPOSITORY_ACTIONS: &str = "pull,push,delete,metadata_read,metadata_write";

/// Seconds as RFC 3339 (UTC).
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

fn note_date(cx: &CheckCx<'_>, url: &str, server: Option<i64>) {
    if let Some(server_unix) = server {
        let local_unix = cx.ctx.clock.unix();
        let url = url.split('?').next().unwrap_or(url).to_string();
        cx.facts().server_dates.push(ServerDate {
            url,
            server_unix,
            local_unix,
        });
    }
}

/// What a username/password pair looks like.
pub fn basic_kind(username: &str, password: &str, registry: &str) -> BasicKind {
    if username == EMPTY_GUID || acr_token::is_acr_refresh_token(password) {
        BasicKind::RefreshToken
    } else if username.eq_ignore_ascii_case(registry) {
        BasicKind::AdminUser
    } else if crate::model::uuid_like(username) {
        BasicKind::ServicePrincipal
    } else {
        BasicKind::RepositoryToken
    }
}

fn kind_words(kind: BasicKind, lang: Lang) -> &'static str {
    match kind {
        BasicKind::AdminUser => lang.pick(
            "the admin user (username = registry name)",
            "管理者ユーザー (ユーザー名 = レジストリ名)",
        ),
        BasicKind::ServicePrincipal => lang.pick(
            "a service principal (username = application ID, password = client secret)",
            "サービス プリンシパル (ユーザー名 = アプリケーション ID、パスワード = クライアント シークレット)",
        ),
        BasicKind::RepositoryToken => lang.pick(
            "a repository-scoped token (username = token name)",
            "リポジトリ スコープのトークン (ユーザー名 = トークン名)",
        ),
        BasicKind::RefreshToken => lang.pick("an ACR refresh token", "ACR リフレッシュ トークン"),
        BasicKind::Unknown => lang.pick("a username/password", "ユーザー名とパスワード"),
    }
}

/// Who the claims say the identity is, shortly.
fn who(claims: &IdentityClaims, lang: Lang) -> String {
    let mut parts = Vec::new();
    let ja = lang == Lang::Ja;
    if let Some(u) = &claims.upn {
        parts.push(u.clone());
    } else if let Some(a) = &claims.app_id {
        parts.push(format!("{} {a}", if ja { "アプリ" } else { "app" }));
    }
    if let Some(o) = &claims.object_id {
        parts.push(format!(
            "{} {o}",
            if ja { "オブジェクト" } else { "object" }
        ));
    }
    if let Some(t) = &claims.tenant_id {
        parts.push(format!("{} {t}", if ja { "テナント" } else { "tenant" }));
    }
    if parts.is_empty() {
        lang.pick(
            "unknown identity (token claims unreadable)",
            "不明な ID (トークンのクレームを読み取れません)",
        )
        .into()
    } else {
        parts.join(if ja { "、" } else { ", " })
    }
}

fn claims_json(claims: &IdentityClaims) -> Value {
    json!({
        "tenant_id": claims.tenant_id,
        "object_id": claims.object_id,
        "app_id": claims.app_id,
        "upn": claims.upn,
        "audience": claims.audience,
        "issued_at": claims.issued_at.map(rfc3339),
        "expires_at": claims.expires_at.map(rfc3339),
    })
}

// ---------------------------------------------------------------------------------------------
// identity.credential

struct CredentialCheck;

impl Check for CredentialCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "identity.credential",
            Group::Identity,
            "credential",
            "資格情報",
        )
        .uses(&[Fact::RegistryName, Fact::LoginServer, Fact::DockerConfig])
        .provides(&[Fact::Credential]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { credential(cx).await })
    }
}

/// A credential found.
struct Acquired {
    credential: Credential,
    arm: Option<Secret>,
    graph: Option<Secret>,
    message: String,
    evidence: Vec<(&'static str, Value)>,
}

enum Attempt {
    Got(Box<Acquired>),
    /// Not configured here; the text says what is missing.
    Unavailable(String),
    /// Configured but broken: the diagnosis.
    Failed(Box<Outcome>),
    /// Not usable, but what answered is the diagnosis if no later source gives a credential: the
    /// instance metadata endpoint of an Azure machine without the identity asked for.
    Deferred(String, Box<MiNotFound>),
}

/// The credential sources `--auth auto` tries, in order: the one definition of that order.
const AUTO_ORDER: [AuthSource; 6] = [
    AuthSource::Basic,
    AuthSource::Env,
    AuthSource::WorkloadIdentity,
    AuthSource::ManagedIdentity,
    AuthSource::Cli,
    AuthSource::DockerConfig,
];

async fn credential(cx: &CheckCx<'_>) -> Outcome {
    let order: Vec<AuthSource> = match cx.args.auth {
        AuthSource::Auto => AUTO_ORDER.to_vec(),
        pinned => vec![pinned],
    };
    let mut tried: Vec<Value> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut deferred: Option<Box<MiNotFound>> = None;
    for source in order {
        let attempt = match source {
            AuthSource::Basic => from_basic(cx),
            AuthSource::Env => from_env(cx).await,
            AuthSource::WorkloadIdentity => from_workload(cx).await,
            AuthSource::ManagedIdentity => from_managed(cx).await,
            AuthSource::Cli => from_cli(cx).await,
            AuthSource::DockerConfig => from_docker(cx).await,
            AuthSource::Anonymous => Attempt::Got(Box::new(Acquired {
                credential: Credential::Anonymous {
                    source: "anonymous".into(),
                },
                arm: None,
                graph: None,
                message: cx.t(
                    "anonymous (--auth anonymous): no credential is sent",
                    "匿名 (--auth anonymous): 資格情報は送りません",
                ),
                evidence: Vec::new(),
            })),
            AuthSource::Auto => continue,
        };
        match attempt {
            Attempt::Unavailable(why) => {
                tried.push(
                    json!({"source": source.as_str(), "result": format!("unavailable: {why}")}),
                );
                missing.push(format!("{}: {why}", source.as_str()));
            }
            Attempt::Deferred(why, not_found) => {
                tried.push(
                    json!({"source": source.as_str(), "result": format!("unavailable: {why}")}),
                );
                missing.push(format!("{}: {why}", source.as_str()));
                deferred.get_or_insert(not_found);
            }
            Attempt::Failed(outcome) => {
                tried.push(json!({"source": source.as_str(), "result": "failed"}));
                return outcome.evidence("tried", tried);
            }
            Attempt::Got(got) => {
                tried.push(json!({"source": source.as_str(), "result": "used"}));
                let Acquired {
                    credential,
                    arm,
                    graph,
                    message,
                    evidence,
                } = *got;
                let mut outcome = Outcome::pass(message)
                    .evidence("source", source.as_str())
                    .evidence("tried", tried);
                for (k, v) in evidence {
                    outcome = outcome.evidence(k, v);
                }
                if let Credential::Entra { claims, .. } = &credential {
                    outcome = outcome.evidence("identity", claims_json(claims));
                }
                let mut f = cx.facts();
                f.credential = Some(credential);
                f.arm_token = arm;
                f.graph_token = graph;
                return outcome;
            }
        }
    }
    let list = missing.join("; ");
    if let Some(not_found) = deferred {
        let others: Vec<&str> = missing
            .iter()
            .map(String::as_str)
            .filter(|m| !m.starts_with("managed-identity:"))
            .collect();
        return managed_identity_not_found(cx, &not_found, Some(&others.join("; ")))
            .evidence("tried", tried);
    }
    let detail = cx.t(
        format!("no Microsoft Entra credential could be obtained: {list}"),
        format!("Microsoft Entra の資格情報をどこからも取得できませんでした: {list}"),
    );
    Outcome::fail(
        cx.t(
            format!("no credential found ({} sources tried)", tried.len()),
            format!(
                "資格情報が見つかりません ({} 個のソースを確認)",
                tried.len()
            ),
        ),
        RawFinding::new("AAD_CREDENTIAL_UNAVAILABLE", detail)
            .evidence("tried", tried.clone())
            .command("az login")
            .command(format!(
                "acr-doctor check --name {} --username <user> --password-stdin",
                cx.target
            )),
    )
    .evidence("tried", tried)
}

fn from_basic(cx: &CheckCx<'_>) -> Attempt {
    let (user, pass) = (cx.args.username.clone(), cx.args.password.clone());
    let (user, pass) = match (user, pass) {
        (Some(u), Some(p)) => (u, p),
        (Some(_), None) => {
            return Attempt::Unavailable(cx.t(
                "--username given without --password or --password-stdin",
                "--username が指定されましたが --password / --password-stdin がありません",
            ))
        }
        (None, Some(_)) => {
            return Attempt::Unavailable(cx.t(
                "--password given without --username",
                "--password が指定されましたが --username がありません",
            ))
        }
        (None, None) => {
            return Attempt::Unavailable(cx.t(
                "no --username/--password given",
                "--username/--password が指定されていません",
            ))
        }
    };
    cx.ctx.redactor.register_secret(&pass);
    basic_credential(cx, "basic", user, pass, "--username/--password")
}

fn basic_credential(
    cx: &CheckCx<'_>,
    source: &str,
    username: String,
    password: Secret,
    origin: &str,
) -> Attempt {
    let registry = registry_name(cx);
    let kind = basic_kind(&username, password.expose(), &registry);
    if kind == BasicKind::RefreshToken && username != EMPTY_GUID {
        let detail = cx.t(
            format!("the password given with {origin} is an ACR refresh token (issued by \"Azure Container Registry\", as `az acr login --expose-token` prints it), but the username is '{username}': the registry takes a refresh token only with the username {EMPTY_GUID}"),
            format!("{origin} のパスワードは ACR リフレッシュ トークン (`az acr login --expose-token` の出力) ですが、ユーザー名が '{username}' です。リフレッシュ トークンはユーザー名 {EMPTY_GUID} でしか受け付けられません"),
        );
        return Attempt::Failed(Box::new(
            Outcome::fail(
                cx.t(
                    format!("{origin}: ACR refresh token used with username '{username}'"),
                    format!("{origin}: ACR リフレッシュ トークンがユーザー名 '{username}' で使われています"),
                ),
                RawFinding::new("EXPOSE_TOKEN_USERNAME", detail)
                    .evidence("username", username.clone())
                    .command(format!(
                        "docker login {} --username {EMPTY_GUID} --password-stdin",
                        login_server(cx)
                    )),
            )
            .evidence("source", source.to_string()),
        ));
    }
    let words = kind_words(kind, cx.lang);
    let message = cx.t(
        format!("{origin}: username '{username}', which looks like {words}"),
        format!("{origin}: ユーザー名 '{username}' ({words} と判断)"),
    );
    let mut evidence = vec![("basic_kind", Value::from(format!("{kind:?}")))];
    if kind == BasicKind::RefreshToken {
        if let Some(c) = crate::redact::jwt_claims(password.expose()) {
            if let Some(exp) = c.get("exp").and_then(Value::as_i64) {
                evidence.push(("refresh_token_expires_at", Value::from(rfc3339(exp))));
            }
        }
    }
    Attempt::Got(Box::new(Acquired {
        credential: Credential::Basic {
            source: source.to_string(),
            username,
            password,
            kind,
        },
        arm: None,
        graph: None,
        message,
        evidence,
    }))
}

/// The tokens an Entra source gives: the registry's, ARM's and (service principals) Graph's.
struct EntraSet {
    acr: Result<EntraToken, EntraError>,
    arm: Result<EntraToken, EntraError>,
    graph: Option<Result<EntraToken, EntraError>>,
}

fn finish_entra(
    cx: &CheckCx<'_>,
    source: AuthSource,
    how: String,
    set: EntraSet,
    mut evidence: Vec<(&'static str, Value)>,
) -> Attempt {
    for t in [Some(&set.acr), Some(&set.arm), set.graph.as_ref()]
        .into_iter()
        .flatten()
        .flatten()
    {
        note_date(cx, &t.url, t.server_date);
    }
    let acr = match set.acr {
        Ok(t) => t,
        Err(e) => return Attempt::Failed(Box::new(entra_failure(cx, source, &how, &e, &evidence))),
    };
    let now = cx.ctx.clock.unix();
    if let Some(exp) = acr.claims.expires_at {
        let server_now = acr.server_date.unwrap_or(now);
        if exp <= now && exp <= server_now {
            cx.facts().expiry_reported.push("entra_token".into());
            cx.record_credential(crate::report::TimelineEntry {
                kind: "entra_token".into(),
                source: source.as_str().into(),
                issued_at: acr.claims.issued_at.map(rfc3339),
                expires_at: Some(rfc3339(exp)),
                remaining_s: Some(exp - server_now),
                state: "expired".into(),
            });
            let detail = cx.t(
                format!(
                    "the Microsoft Entra token from {how} expired at {} ({} ago): {}",
                    rfc3339(exp),
                    ago(now - exp),
                    who(&acr.claims, cx.lang)
                ),
                format!(
                    "{how} から得た Microsoft Entra トークンは {} に期限切れです ({} 前): {}",
                    rfc3339(exp),
                    ago(now - exp),
                    who(&acr.claims, cx.lang)
                ),
            );
            let command = match source {
                AuthSource::Cli => "az login".to_string(),
                AuthSource::ManagedIdentity => {
                    "restart the workload so that it requests a new token".to_string()
                }
                _ => "acr-doctor check again after renewing the credential".to_string(),
            };
            return Attempt::Failed(Box::new(
                Outcome::fail(
                    cx.t(
                        format!("{how}: token expired at {}", rfc3339(exp)),
                        format!("{how}: トークンは {} に期限切れ", rfc3339(exp)),
                    ),
                    RawFinding::new("AAD_TOKEN_EXPIRED", detail)
                        .evidence("expires_at", rfc3339(exp))
                        .evidence("identity", claims_json(&acr.claims))
                        .command(command),
                )
                .evidence("source", source.as_str()),
            ));
        }
    }
    cx.ctx.redactor.register_secret(&acr.token);
    let arm = match set.arm {
        Ok(t) => {
            cx.ctx.redactor.register_secret(&t.token);
            evidence.push((
                "arm_token",
                Value::from(format!(
                    "obtained (aud {})",
                    t.claims.audience.clone().unwrap_or_default()
                )),
            ));
            Some(t.token)
        }
        Err(e) => {
            evidence.push(("arm_token", Value::from(format!("not obtained: {e}"))));
            None
        }
    };
    let graph = match set.graph {
        Some(Ok(t)) => {
            cx.ctx.redactor.register_secret(&t.token);
            evidence.push(("graph_token", Value::from("obtained")));
            Some(t.token)
        }
        Some(Err(e)) => {
            evidence.push(("graph_token", Value::from(format!("not obtained: {e}"))));
            None
        }
        None => None,
    };
    let exp = acr
        .claims
        .expires_at
        .map(|e| {
            cx.t(
                format!(", valid until {}", rfc3339(e)),
                format!("、{} まで有効", rfc3339(e)),
            )
        })
        .unwrap_or_default();
    let aud = acr.claims.audience.clone().unwrap_or_else(|| "?".into());
    let message = cx.t(
        format!(
            "{} via {how}; token for {aud}{exp}",
            who(&acr.claims, cx.lang)
        ),
        format!(
            "{} ({how} 経由); {aud} 向けトークン{exp}",
            who(&acr.claims, cx.lang)
        ),
    );
    Attempt::Got(Box::new(Acquired {
        credential: Credential::Entra {
            source: source.as_str().to_string(),
            token: acr.token,
            claims: acr.claims,
        },
        arm,
        graph,
        message,
        evidence,
    }))
}

/// `1d2h`: [`span`](crate::model::time::span) without its space, as this message has always had it.
fn ago(seconds: i64) -> String {
    crate::model::time::span(seconds).replacen(' ', "", 1)
}

/// Codes of a refused client assertion that, when the assertion is a federated token, mean the
/// federation itself (the external issuer's signature or token) is what Entra refused.
const FEDERATED_ASSERTION_CODES: [u32; 6] = [700027, 50027, 50012, 50006, 50048, 900384];

/// The cause of an Entra refusal: the AADSTS table's, adjusted to the credential that was sent.
/// A federation code for a certificate assertion (AADSTS700024 on a wrong clock) is a service
/// principal problem; an assertion code for a federated token is a federation problem.
fn entra_cause(source: AuthSource, code: u32) -> Option<&'static str> {
    let cause = error_codes::aadsts(code)?.cause;
    let federated = source == AuthSource::WorkloadIdentity;
    Some(match cause {
        "WORKLOAD_IDENTITY_FEDERATION_ERROR" if !federated && source == AuthSource::Env => {
            "SERVICE_PRINCIPAL_CREDENTIALS_INVALID"
        }
        _ if federated && FEDERATED_ASSERTION_CODES.contains(&code) => {
            "WORKLOAD_IDENTITY_FEDERATION_ERROR"
        }
        other => other,
    })
}

/// The federated token's claims as `from_workload` put them in the evidence (never the token).
fn federated_claims(evidence: &[(&'static str, Value)]) -> Option<Value> {
    evidence
        .iter()
        .find(|(k, _)| *k == "federated_token")
        .map(|(_, v)| v.clone())
}

/// Maps Entra's refusal to a cause, through the AADSTS table (`causes/tables/aadsts.tsv`).
fn entra_failure(
    cx: &CheckCx<'_>,
    source: AuthSource,
    how: &str,
    e: &EntraError,
    known: &[(&'static str, Value)],
) -> Outcome {
    let client = cx.ctx.env("AZURE_CLIENT_ID").unwrap_or("?").to_string();
    let tenant = cx.ctx.env("AZURE_TENANT_ID").unwrap_or("?").to_string();
    let sp_source = matches!(source, AuthSource::Env | AuthSource::WorkloadIdentity);
    let aadsts = e.aadsts();
    let entry = aadsts.and_then(error_codes::aadsts);
    let cause = aadsts.and_then(|c| entra_cause(source, c));
    let said = match e {
        EntraError::Aad(a) => a.description.clone(),
        other => other.to_string(),
    };
    // The table's meaning as a clause inside our sentence (without its final full stop).
    let meaning = |lang: Lang| {
        entry
            .map(|e| e.meaning(lang).trim_end_matches(['.', '。']))
            .unwrap_or_default()
    };
    let mut extra: Vec<(&'static str, Value)> = Vec::new();
    let (code, en, ja): (&'static str, String, String) = match (e, aadsts, cause) {
        (_, Some(7000222), _) => {
            cx.facts().expiry_reported.push("sp_client_secret".into());
            (
                "SP_SECRET_EXPIRED",
                format!("Microsoft Entra refused the client secret of application {client}: it has expired (AADSTS7000222)"),
                format!("Microsoft Entra はアプリケーション {client} のクライアント シークレットを拒否しました: 期限切れです (AADSTS7000222)"),
            )
        }
        (_, Some(90002), _) => (
            "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
            format!("Microsoft Entra does not know tenant '{tenant}' (AADSTS90002): AZURE_TENANT_ID is wrong, or the tenant belongs to another cloud"),
            format!("Microsoft Entra はテナント '{tenant}' を知りません (AADSTS90002): AZURE_TENANT_ID が誤っているか、別のクラウドのテナントです"),
        ),
        (_, Some(700016), _) => (
            "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
            format!("application '{client}' does not exist in tenant '{tenant}' (AADSTS700016): AZURE_CLIENT_ID is wrong or the app lives in another tenant"),
            format!("アプリケーション '{client}' はテナント '{tenant}' に存在しません (AADSTS700016): AZURE_CLIENT_ID が誤っているか、別のテナントのアプリです"),
        ),
        (_, Some(7000215), _) => (
            "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
            format!("the client secret of application '{client}' is wrong (AADSTS7000215): give the secret's value, not its ID; it may have been rotated"),
            format!("アプリケーション '{client}' のクライアント シークレットが誤っています (AADSTS7000215): シークレットの ID ではなく値を指定してください。ローテーションされた可能性もあります"),
        ),
        (_, Some(c), Some("WORKLOAD_IDENTITY_FEDERATION_ERROR")) => {
            let claims = federated_claims(known);
            let claim = |k: &str| {
                claims
                    .as_ref()
                    .and_then(|v| v.get(k))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Null => "?".to_string(),
                        other => other.to_string(),
                    })
                    .unwrap_or_else(|| "?".into())
            };
            let (iss, sub, aud, exp) = (
                claim("iss"),
                claim("sub"),
                claim("aud"),
                claim("expires_at"),
            );
            extra.push((
                "federated_token",
                claims.unwrap_or_else(|| Value::from("not a readable JWT")),
            ));
            extra.push(("client_id", Value::from(client.clone())));
            extra.push(("tenant", Value::from(tenant.clone())));
            (
                "WORKLOAD_IDENTITY_FEDERATION_ERROR",
                format!(
                    "Microsoft Entra refused the federated token presented for application '{client}' (AADSTS{c}: {}). The token says iss '{iss}', sub '{sub}', aud '{aud}' (expires {exp}); Entra said: {said}",
                    meaning(Lang::En)
                ),
                format!(
                    "Microsoft Entra はアプリケーション '{client}' に提示されたフェデレーション トークンを拒否しました (AADSTS{c}: {})。トークンの値は iss '{iss}'、sub '{sub}'、aud '{aud}' (有効期限 {exp}) です。Entra の応答: {said}",
                    meaning(Lang::Ja)
                ),
            )
        }
        (_, Some(c), Some("AAD_RESOURCE_INVALID")) => {
            let resource = entra::acr_audience(cx.ctx);
            let from_env = cx.ctx.env("ACR_DOCTOR_ACR_AUDIENCE").is_some();
            extra.push(("requested_resource", Value::from(resource.clone())));
            extra.push(("registry_audience", Value::from(entra::DEFAULT_ACR_AUDIENCE)));
            let origin_en = if from_env { " (from ACR_DOCTOR_ACR_AUDIENCE)" } else { "" };
            let origin_ja = if from_env { " (ACR_DOCTOR_ACR_AUDIENCE の値)" } else { "" };
            (
                "AAD_RESOURCE_INVALID",
                format!(
                    "{how}: Microsoft Entra has no resource '{resource}'{origin_en} in tenant '{tenant}' (AADSTS{c}: {}); registry tokens are requested for {}, not for the registry's URL. Entra said: {said}",
                    meaning(Lang::En),
                    entra::DEFAULT_ACR_AUDIENCE
                ),
                format!(
                    "{how}: テナント '{tenant}' の Microsoft Entra にリソース '{resource}'{origin_ja} がありません (AADSTS{c}: {})。レジストリ用のトークンはレジストリの URL ではなく {} に対して要求します。Entra の応答: {said}",
                    meaning(Lang::Ja),
                    entra::DEFAULT_ACR_AUDIENCE
                ),
            )
        }
        (_, Some(c), Some(cause)) => {
            if cause == "AAD_TOKEN_EXPIRED" {
                cx.facts().expiry_reported.push("entra_token".into());
            }
            let who_en = if sp_source {
                format!(" application '{client}'")
            } else {
                String::new()
            };
            let who_ja = if sp_source {
                format!("アプリケーション '{client}' を")
            } else {
                String::new()
            };
            (
                cause,
                format!(
                    "{how}: Microsoft Entra refused{who_en}: {} (AADSTS{c}). Entra said: {said}",
                    meaning(Lang::En)
                ),
                format!(
                    "{how}: Microsoft Entra が{who_ja}拒否しました: {} (AADSTS{c})。Entra の応答: {said}",
                    meaning(Lang::Ja)
                ),
            )
        }
        (EntraError::Aad(a), Some(c), None) if sp_source => (
            "SERVICE_PRINCIPAL_CREDENTIALS_INVALID",
            format!("Microsoft Entra refused application '{client}': {} (AADSTS{c})", a.description),
            format!("Microsoft Entra がアプリケーション '{client}' を拒否しました: {} (AADSTS{c})", a.description),
        ),
        (EntraError::Http { error, url }, _, _) => (
            "AAD_CREDENTIAL_UNAVAILABLE",
            format!("{how}: {url} could not be reached: {error}"),
            format!("{how}: {url} に到達できません: {error}"),
        ),
        (other, _, _) => (
            "AAD_CREDENTIAL_UNAVAILABLE",
            format!("{how} gave no token: {other}"),
            format!("{how} からトークンを取得できませんでした: {other}"),
        ),
    };
    let detail = cx.t(en, ja);
    let mut finding = RawFinding::new(code, detail.clone()).evidence("url", e.url().to_string());
    if let EntraError::Aad(a) = e {
        finding = finding
            .evidence("status", a.status)
            .evidence("error", a.error.clone())
            .evidence("aadsts", a.codes.clone())
            .evidence("trace_id", a.trace_id.clone())
            .evidence("correlation_id", a.correlation_id.clone())
            .evidence("entra_said", a.description.clone());
    }
    if let Some(entry) = entry {
        finding = finding
            .evidence("aadsts_meaning", entry.meaning(cx.lang))
            .evidence("aadsts_source", entry.source);
    }
    for (k, v) in extra {
        finding = finding.evidence(k, v);
    }
    if code == "SP_SECRET_EXPIRED" || code == "SERVICE_PRINCIPAL_CREDENTIALS_INVALID" {
        finding = finding.command(format!("az ad app credential list --id {client}"));
        if code == "SP_SECRET_EXPIRED" || e.aadsts() == Some(7000215) {
            finding = finding.command(format!("az ad app credential reset --id {client} --append"));
        }
    }
    if code == "WORKLOAD_IDENTITY_FEDERATION_ERROR" {
        finding = finding
            .command(format!("az ad app federated-credential list --id {client}"))
            .command("az identity federated-credential list --identity-name <identity-name> --resource-group <identity-resource-group>");
    }
    Outcome::fail(
        cx.t(format!("{how}: {code}"), format!("{how}: {code}")),
        finding,
    )
    .evidence("source", source.as_str())
}

async fn from_env(cx: &CheckCx<'_>) -> Attempt {
    let tenant = cx.ctx.env("AZURE_TENANT_ID").map(str::to_string);
    let client = cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string);
    let secret = cx.ctx.env("AZURE_CLIENT_SECRET").map(Secret::new);
    let cert_path = cx
        .ctx
        .env("AZURE_CLIENT_CERTIFICATE_PATH")
        .map(str::to_string);
    let (Some(tenant), Some(client)) = (tenant.clone(), client.clone()) else {
        let mut lacking = Vec::new();
        if tenant.is_none() {
            lacking.push("AZURE_TENANT_ID");
        }
        if client.is_none() {
            lacking.push("AZURE_CLIENT_ID");
        }
        if secret.is_none() && cert_path.is_none() {
            lacking.push("AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH");
        }
        return Attempt::Unavailable(cx.t(
            format!("{} not set", lacking.join(", ")),
            format!("{} が設定されていません", lacking.join(", ")),
        ));
    };
    let authority = entra::authority(cx.ctx, cloud(cx));
    let acr_aud = entra::acr_audience(cx.ctx);
    let arm_aud = entra::arm_audience(cx.ctx, cloud(cx));
    let graph_aud = entra::graph_audience(cloud(cx));
    let mut evidence: Vec<(&'static str, Value)> = vec![
        ("tenant", Value::from(tenant.clone())),
        ("client_id", Value::from(client.clone())),
        ("authority", Value::from(authority.clone())),
    ];
    if let Some(secret) = secret {
        cx.ctx.redactor.register_secret(&secret);
        let auth = ClientAuth::Secret(secret);
        let (acr, arm, graph) = futures::join!(
            entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &acr_aud),
            entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &arm_aud),
            entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &graph_aud),
        );
        evidence.push((
            "client_credential",
            Value::from("secret (AZURE_CLIENT_SECRET)"),
        ));
        let how = cx.t(
            "service principal from AZURE_CLIENT_ID/AZURE_CLIENT_SECRET",
            "AZURE_CLIENT_ID/AZURE_CLIENT_SECRET のサービス プリンシパル",
        );
        let set = EntraSet {
            acr,
            arm,
            graph: Some(graph),
        };
        return finish_entra(cx, AuthSource::Env, how, set, evidence);
    }
    let Some(cert_path) = cert_path else {
        return Attempt::Unavailable(cx.t(
            "AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH not set",
            "AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH が設定されていません",
        ));
    };
    let how = cx.t(
        format!("service principal from AZURE_CLIENT_ID with certificate {cert_path}"),
        format!("AZURE_CLIENT_ID と証明書 {cert_path} のサービス プリンシパル"),
    );
    let cert_password = cx
        .ctx
        .env(entra::CERTIFICATE_PASSWORD_VAR)
        .map(str::to_string);
    if let Some(pw) = &cert_password {
        cx.ctx.redactor.register(pw);
    }
    let cert =
        match entra::load_certificate(std::path::Path::new(&cert_path), cert_password.as_deref()) {
            Ok(c) => c,
            Err(reason) => {
                let detail = cx.t(
                    format!("AZURE_CLIENT_CERTIFICATE_PATH {cert_path} cannot be used: {reason}"),
                    format!("AZURE_CLIENT_CERTIFICATE_PATH {cert_path} を使用できません: {reason}"),
                );
                return Attempt::Failed(Box::new(
                    Outcome::fail(
                        detail.clone(),
                        RawFinding::new("SERVICE_PRINCIPAL_CREDENTIALS_INVALID", detail)
                            .evidence("path", cert_path.clone()),
                    )
                    .evidence("source", "env"),
                ));
            }
        };
    cx.facts().extra.insert(
        "client_certificate".into(),
        json!({"path": cert_path, "subject": cert.subject, "not_before": cert.not_before,
               "not_after": cert.not_after, "sha256": cert.sha256_hex}),
    );
    evidence.push((
        "client_credential",
        Value::from(format!(
            "certificate {} (SHA-256 {})",
            cert.subject, cert.sha256_hex
        )),
    ));
    let audience = format!("{authority}/{tenant}/oauth2/v2.0/token");
    let now = cx.ctx.clock.unix();
    let mut assertions = Vec::new();
    for _ in 0..3 {
        match cert.assertion(&audience, &client, now) {
            Ok(a) => {
                cx.ctx.redactor.register_secret(&a);
                assertions.push(ClientAuth::Assertion(a));
            }
            Err(reason) => {
                let detail = cx.t(
                    format!("no client assertion could be signed with {cert_path}: {reason}"),
                    format!("{cert_path} でクライアント アサーションに署名できません: {reason}"),
                );
                return Attempt::Failed(Box::new(Outcome::fail(
                    detail.clone(),
                    RawFinding::new("SERVICE_PRINCIPAL_CREDENTIALS_INVALID", detail),
                )));
            }
        }
    }
    let (acr, arm, graph) = futures::join!(
        entra::client_credentials(
            cx.ctx,
            &authority,
            &tenant,
            &client,
            &assertions[0],
            &acr_aud
        ),
        entra::client_credentials(
            cx.ctx,
            &authority,
            &tenant,
            &client,
            &assertions[1],
            &arm_aud
        ),
        entra::client_credentials(
            cx.ctx,
            &authority,
            &tenant,
            &client,
            &assertions[2],
            &graph_aud
        ),
    );
    let set = EntraSet {
        acr,
        arm,
        graph: Some(graph),
    };
    finish_entra(cx, AuthSource::Env, how, set, evidence)
}

async fn from_workload(cx: &CheckCx<'_>) -> Attempt {
    let file = cx.ctx.env("AZURE_FEDERATED_TOKEN_FILE").map(str::to_string);
    let tenant = cx.ctx.env("AZURE_TENANT_ID").map(str::to_string);
    let client = cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string);
    let (Some(file), Some(tenant), Some(client)) = (file.clone(), tenant.clone(), client.clone())
    else {
        let lacking: Vec<&str> = [
            ("AZURE_FEDERATED_TOKEN_FILE", file.is_none()),
            ("AZURE_TENANT_ID", tenant.is_none()),
            ("AZURE_CLIENT_ID", client.is_none()),
        ]
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| n)
        .collect();
        return Attempt::Unavailable(cx.t(
            format!("{} not set", lacking.join(", ")),
            format!("{} が設定されていません", lacking.join(", ")),
        ));
    };
    let text = match read_small(&file) {
        Ok(t) => t,
        Err(reason) => {
            let detail = cx.t(
                format!("AZURE_FEDERATED_TOKEN_FILE {file} cannot be read: {reason}"),
                format!("AZURE_FEDERATED_TOKEN_FILE {file} を読み取れません: {reason}"),
            );
            return Attempt::Failed(Box::new(
                Outcome::fail(
                    detail.clone(),
                    RawFinding::new("AAD_CREDENTIAL_UNAVAILABLE", detail)
                        .evidence("path", file.clone()),
                )
                .evidence("source", "workload-identity"),
            ));
        }
    };
    let assertion = Secret::new(text.trim());
    cx.ctx.redactor.register_secret(&assertion);
    let mut evidence: Vec<(&'static str, Value)> = vec![
        ("tenant", Value::from(tenant.clone())),
        ("client_id", Value::from(client.clone())),
        ("federated_token_file", Value::from(file.clone())),
    ];
    if let Some(c) = crate::redact::jwt_claims(assertion.expose()) {
        evidence.push((
            "federated_token",
            json!({"iss": c.get("iss"), "sub": c.get("sub"), "aud": c.get("aud"),
                   "expires_at": c.get("exp").and_then(Value::as_i64).map(rfc3339)}),
        ));
    }
    let authority = entra::authority(cx.ctx, cloud(cx));
    let auth = ClientAuth::Assertion(assertion);
    let acr_aud = entra::acr_audience(cx.ctx);
    let arm_aud = entra::arm_audience(cx.ctx, cloud(cx));
    let (acr, arm) = futures::join!(
        entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &acr_aud),
        entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &arm_aud),
    );
    let how = cx.t(
        format!("workload identity (AZURE_FEDERATED_TOKEN_FILE {file})"),
        format!("ワークロード ID (AZURE_FEDERATED_TOKEN_FILE {file})"),
    );
    let set = EntraSet {
        acr,
        arm,
        graph: None,
    };
    finish_entra(cx, AuthSource::WorkloadIdentity, how, set, evidence)
}

fn read_small(path: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > 64 * 1024 {
        return Err("larger than 64 KiB".into());
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    Ok(text)
}

async fn from_managed(cx: &CheckCx<'_>) -> Attempt {
    let endpoint = MiEndpoint::from_env(cx.ctx);
    let client_id = cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string);
    let acr_aud = entra::acr_audience(cx.ctx);
    let arm_aud = entra::arm_audience(cx.ctx, cloud(cx));
    // Probe first with the registry audience: off Azure nothing answers, quickly.
    let acr = entra::managed_identity(cx.ctx, &endpoint, client_id.as_deref(), &acr_aud).await;
    let place = endpoint.describe();
    if let Some((status, said)) = acr.as_ref().err().and_then(identity_not_found) {
        let not_found = MiNotFound {
            place: place.clone(),
            url: acr
                .as_ref()
                .err()
                .map(|e| e.url().to_string())
                .unwrap_or_default(),
            status,
            said,
            client_id: client_id.clone(),
        };
        // Asked for explicitly (pinned, or the App Service variables are set): the diagnosis.
        // The instance metadata endpoint is only probed: another source may still be meant.
        let explicit = cx.args.auth == AuthSource::ManagedIdentity
            || matches!(endpoint, MiEndpoint::AppService { .. });
        if explicit {
            return Attempt::Failed(Box::new(managed_identity_not_found(cx, &not_found, None)));
        }
        let why = cx.t(
            format!(
                "{place} answered {status}: {} (no such managed identity on this machine)",
                not_found.said
            ),
            format!(
                "{place} の応答は {status}: {} (このマシンに該当するマネージド ID がありません)",
                not_found.said
            ),
        );
        return Attempt::Deferred(why, Box::new(not_found));
    }
    match &acr {
        Err(EntraError::Http { error, .. }) => {
            return Attempt::Unavailable(cx.t(
                format!("no managed identity endpoint answered at {place}: {error}"),
                format!("{place} でマネージド ID のエンドポイントが応答しません: {error}"),
            ))
        }
        Err(EntraError::Aad(a)) if a.codes.is_empty() => {
            let (status, message) = (a.status, &a.description);
            return Attempt::Unavailable(cx.t(
                format!("{place} answered {status}: {message} (no managed identity assigned?)"),
                format!("{place} の応答は {status}: {message} (マネージド ID が割り当てられていない可能性があります)"),
            ))
        }
        Err(EntraError::Status { status, message, .. }) => {
            return Attempt::Unavailable(cx.t(
                format!("{place} answered {status}: {message} (no managed identity assigned?)"),
                format!("{place} の応答は {status}: {message} (マネージド ID が割り当てられていない可能性があります)"),
            ))
        }
        _ => {}
    }
    let arm = entra::managed_identity(cx.ctx, &endpoint, client_id.as_deref(), &arm_aud).await;
    let mut evidence: Vec<(&'static str, Value)> = vec![("endpoint", Value::from(place.clone()))];
    if let Some(c) = &client_id {
        evidence.push(("client_id", Value::from(c.clone())));
    }
    let how = cx.t(
        format!("managed identity ({place})"),
        format!("マネージド ID ({place})"),
    );
    let set = EntraSet {
        acr,
        arm,
        graph: None,
    };
    finish_entra(cx, AuthSource::ManagedIdentity, how, set, evidence)
}

/// A managed identity endpoint that answered but has no identity matching the request.
struct MiNotFound {
    place: String,
    url: String,
    status: u16,
    said: String,
    client_id: Option<String>,
}

/// Whether a managed identity endpoint's answer says it has no such identity: the instance
/// metadata service's 400 `invalid_request` "Identity not found", or App Service's 400 "Unable
/// to load the proper Managed Identity.". The status and the endpoint's words.
fn identity_not_found(e: &EntraError) -> Option<(u16, String)> {
    let (status, said) = match e {
        EntraError::Aad(a) if a.codes.is_empty() => (a.status, a.description.clone()),
        EntraError::Status {
            status, message, ..
        } => (*status, message.clone()),
        _ => return None,
    };
    let lower = said.to_ascii_lowercase();
    let not_found = lower.contains("identity not found")
        || lower.contains("unable to load the proper managed identity");
    ((400..500).contains(&status) && not_found).then_some((status, said))
}

/// MANAGED_IDENTITY_NOT_FOUND: what was asked for, where, and what the endpoint said. `others`
/// lists the other sources when none of them gave a credential either.
fn managed_identity_not_found(cx: &CheckCx<'_>, nf: &MiNotFound, others: Option<&str>) -> Outcome {
    let MiNotFound {
        place,
        url,
        status,
        said,
        client_id,
    } = nf;
    let (asked_en, asked_ja) = match client_id {
        Some(c) => (
            format!("the user-assigned identity with client ID {c} (AZURE_CLIENT_ID)"),
            format!("クライアント ID {c} (AZURE_CLIENT_ID) のユーザー割り当て ID"),
        ),
        None => (
            "the system-assigned identity (no client ID was given)".to_string(),
            "システム割り当て ID (クライアント ID の指定なし)".to_string(),
        ),
    };
    let (rest_en, rest_ja) = match others {
        Some(list) => (
            format!("; no other credential source gave one either ({list})"),
            format!("。ほかの資格情報ソースからも取得できませんでした ({list})"),
        ),
        None => (String::new(), String::new()),
    };
    let detail = cx.t(
        format!("the managed identity endpoint {place} answered {status} \"{said}\": {asked_en} is not attached to this machine. The endpoint itself works, so the identity is missing, not the network{rest_en}"),
        format!("マネージド ID のエンドポイント {place} の応答は {status} \"{said}\" でした。要求した{asked_ja} は、このマシンに割り当てられていません。エンドポイント自体は応答しているため、ネットワークではなく ID の問題です{rest_ja}"),
    );
    Outcome::fail(
        cx.t(
            format!("managed identity ({place}): MANAGED_IDENTITY_NOT_FOUND"),
            format!("マネージド ID ({place}): MANAGED_IDENTITY_NOT_FOUND"),
        ),
        RawFinding::new("MANAGED_IDENTITY_NOT_FOUND", detail)
            .evidence("endpoint", place.clone())
            .evidence("url", url.clone())
            .evidence("status", *status)
            .evidence("endpoint_said", said.clone())
            .evidence(
                "requested_identity",
                match client_id {
                    Some(c) => json!({"client_id": c}),
                    None => json!("system-assigned"),
                },
            ),
    )
    .evidence("source", "managed-identity")
}

async fn from_cli(cx: &CheckCx<'_>) -> Attempt {
    let acr_aud = entra::acr_audience(cx.ctx);
    let arm_aud = entra::arm_audience(cx.ctx, cloud(cx));
    let acr = cli_token::get_token(cx.ctx, &acr_aud).await;
    let acr = match acr {
        Ok(t) => t,
        Err(CliError::NotInstalled) => {
            return Attempt::Unavailable(cx.t("az is not on PATH", "az が PATH にありません"))
        }
        Err(CliError::NotLoggedIn) => {
            return Attempt::Unavailable(cx.t(
                "the Azure CLI is not signed in ('az login' needed)",
                "Azure CLI にサインインしていません ('az login' が必要)",
            ))
        }
        Err(CliError::Failed {
            aadsts: Some(c),
            message,
            ..
        }) if matches!(
            error_codes::aadsts(c).map(|e| e.cause),
            Some("AAD_TOKEN_EXPIRED" | "AAD_RESOURCE_INVALID")
        ) =>
        {
            let Some(entry) = error_codes::aadsts(c) else {
                return Attempt::Unavailable(message);
            };
            let meaning = entry.meaning(cx.lang).trim_end_matches(['.', '。']);
            let (detail, finding) = if entry.cause == "AAD_TOKEN_EXPIRED" {
                cx.facts().expiry_reported.push("entra_token".into());
                let detail = cx.t(
                    format!(
                        "the Azure CLI's sign-in has expired (AADSTS{c}: {meaning}): {message}"
                    ),
                    format!(
                        "Azure CLI のサインインが期限切れです (AADSTS{c}: {meaning}): {message}"
                    ),
                );
                let finding =
                    RawFinding::new("AAD_TOKEN_EXPIRED", detail.clone()).command("az login");
                (detail, finding)
            } else {
                let detail = cx.t(
                    format!("the Azure CLI could not get a token for '{acr_aud}' (AADSTS{c}: {meaning}): {message}"),
                    format!("Azure CLI は '{acr_aud}' のトークンを取得できませんでした (AADSTS{c}: {meaning}): {message}"),
                );
                let finding = RawFinding::new("AAD_RESOURCE_INVALID", detail.clone())
                    .evidence("requested_resource", acr_aud.clone())
                    .evidence("registry_audience", entra::DEFAULT_ACR_AUDIENCE);
                (detail, finding)
            };
            return Attempt::Failed(Box::new(
                Outcome::fail(
                    detail,
                    finding
                        .evidence("aadsts", vec![c])
                        .evidence("aadsts_source", entry.source),
                )
                .evidence("source", "cli"),
            ));
        }
        Err(e) => return Attempt::Unavailable(e.to_string()),
    };
    let arm = cli_token::get_token(cx.ctx, &arm_aud).await;
    let mut evidence: Vec<(&'static str, Value)> = Vec::new();
    if let Some(t) = &acr.tenant {
        evidence.push(("cli_tenant", Value::from(t.clone())));
    }
    if let Some(s) = &acr.subscription {
        evidence.push(("cli_subscription", Value::from(s.clone())));
        cx.facts()
            .extra
            .insert("cli_subscription".into(), Value::from(s.clone()));
    }
    let how = cx.t(
        "the Azure CLI (az account get-access-token)",
        "Azure CLI (az account get-access-token)",
    );
    let to_entra = |r: Result<cli_token::CliToken, CliError>| {
        r.map(|t| t.token).map_err(|e| EntraError::Status {
            url: "az account get-access-token".into(),
            status: 0,
            message: e.to_string(),
        })
    };
    let set = EntraSet {
        acr: Ok(acr.token),
        arm: to_entra(arm),
        graph: None,
    };
    finish_entra(cx, AuthSource::Cli, how, set, evidence)
}

async fn from_docker(cx: &CheckCx<'_>) -> Attempt {
    let server = login_server(cx);
    let (stored, path) = {
        let f = cx.facts();
        (
            f.docker_stored_credential.clone(),
            f.docker_config_path.clone(),
        )
    };
    let (stored, path) = match (stored, path) {
        (Some(s), p) => (Some(s), p.unwrap_or_default()),
        (None, Some(p)) => (None, p),
        (None, None) => {
            // docker.config did not run (skipped): read the configuration here.
            match docker_config::DockerConfig::load(cx.ctx.env_map()) {
                Ok(loaded) => {
                    let path = loaded.path().display().to_string();
                    match crate::docker::credential_store::resolve_stored(
                        cx.ctx,
                        &loaded,
                        &server,
                        cx.ctx.timeout,
                    )
                    .await
                    {
                        Ok((_, s)) => (s, path),
                        Err(e) => return Attempt::Unavailable(e.to_string()),
                    }
                }
                Err(e) => return Attempt::Unavailable(e.to_string()),
            }
        }
    };
    let Some(stored) = stored else {
        return Attempt::Unavailable(cx.t(
            format!("no credential stored for {server} in the Docker config {path}"),
            format!("Docker 構成 {path} に {server} の資格情報は保存されていません"),
        ));
    };
    cx.ctx.redactor.register_secret(&stored.secret);
    let origin = cx.t(
        format!(
            "the Docker config {path} ({})",
            stored.via.describe(&stored.host)
        ),
        format!("Docker 構成 {path} ({})", stored.via.describe(&stored.host)),
    );
    let username = match stored.kind {
        StoredKind::IdentityToken => EMPTY_GUID.to_string(),
        StoredKind::Password => stored.username.clone(),
    };
    basic_credential(
        cx,
        "docker-config",
        username,
        stored.secret.clone(),
        &origin,
    )
}

// ---------------------------------------------------------------------------------------------
// Another identity for reading the registry's settings

/// An identity other than the credential under test, with a token for Azure Resource Manager:
/// used only to read the registry's settings when the credential under test cannot.
pub struct ArmReader {
    pub source: AuthSource,
    pub token: Secret,
    pub claims: IdentityClaims,
}

impl ArmReader {
    /// Who read the settings, for the report (claims only, never the token).
    pub fn describe(&self) -> Value {
        json!({
            "source": self.source.as_str(),
            "tenant_id": self.claims.tenant_id,
            "object_id": self.claims.object_id,
            "app_id": self.claims.app_id,
            "upn": self.claims.upn,
        })
    }

    pub fn who(&self, lang: Lang) -> String {
        who(&self.claims, lang)
    }
}

/// The Entra sources that may read ARM for the run, in the order of `--auth auto`.
pub fn reader_sources() -> impl Iterator<Item = AuthSource> {
    AUTO_ORDER.into_iter().filter(|s| {
        matches!(
            s,
            AuthSource::Env
                | AuthSource::WorkloadIdentity
                | AuthSource::ManagedIdentity
                | AuthSource::Cli
        )
    })
}

/// An ARM token from `source`, or why there is none. Nothing is sent to the registry.
pub async fn arm_reader(cx: &CheckCx<'_>, source: AuthSource) -> Result<ArmReader, String> {
    let arm_aud = entra::arm_audience(cx.ctx, cloud(cx));
    let authority = entra::authority(cx.ctx, cloud(cx));
    let tenant = cx.ctx.env("AZURE_TENANT_ID").map(str::to_string);
    let client = cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string);
    let not_set = |what: &str| {
        cx.t(
            format!("{what} not set"),
            format!("{what} が設定されていません"),
        )
    };
    let got = match source {
        AuthSource::Env => {
            let (Some(tenant), Some(client)) = (tenant, client) else {
                return Err(not_set("AZURE_TENANT_ID / AZURE_CLIENT_ID"));
            };
            let auth = if let Some(secret) = cx.ctx.env("AZURE_CLIENT_SECRET") {
                let secret = Secret::new(secret);
                cx.ctx.redactor.register_secret(&secret);
                ClientAuth::Secret(secret)
            } else if let Some(path) = cx.ctx.env("AZURE_CLIENT_CERTIFICATE_PATH") {
                let password = cx.ctx.env(entra::CERTIFICATE_PASSWORD_VAR);
                if let Some(pw) = password {
                    cx.ctx.redactor.register(pw);
                }
                let cert = entra::load_certificate(std::path::Path::new(path), password)?;
                let audience = format!("{authority}/{tenant}/oauth2/v2.0/token");
                let a = cert.assertion(&audience, &client, cx.ctx.clock.unix())?;
                cx.ctx.redactor.register_secret(&a);
                ClientAuth::Assertion(a)
            } else {
                return Err(not_set(
                    "AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH",
                ));
            };
            entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &arm_aud).await
        }
        AuthSource::WorkloadIdentity => {
            let file = cx.ctx.env("AZURE_FEDERATED_TOKEN_FILE").map(str::to_string);
            let (Some(file), Some(tenant), Some(client)) = (file, tenant, client) else {
                return Err(not_set(
                    "AZURE_FEDERATED_TOKEN_FILE / AZURE_TENANT_ID / AZURE_CLIENT_ID",
                ));
            };
            let assertion = Secret::new(read_small(&file)?.trim());
            cx.ctx.redactor.register_secret(&assertion);
            let auth = ClientAuth::Assertion(assertion);
            entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &arm_aud).await
        }
        AuthSource::ManagedIdentity => {
            let endpoint = MiEndpoint::from_env(cx.ctx);
            entra::managed_identity(cx.ctx, &endpoint, client.as_deref(), &arm_aud).await
        }
        AuthSource::Cli => match cli_token::get_token(cx.ctx, &arm_aud).await {
            Ok(t) => Ok(t.token),
            Err(e) => return Err(e.to_string()),
        },
        _ => return Err(source.as_str().to_string()),
    };
    match got {
        Ok(t) => {
            cx.ctx.redactor.register_secret(&t.token);
            Ok(ArmReader {
                source,
                token: t.token,
                claims: t.claims,
            })
        }
        Err(e) => Err(e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// identity.refresh_token

struct RefreshTokenCheck;

impl Check for RefreshTokenCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "identity.refresh_token",
            Group::Identity,
            "refresh token",
            "リフレッシュ トークン",
        )
        .needs(&[Fact::Credential, Fact::Challenge])
        .provides(&[Fact::RefreshToken])
        // A refused username/password is told apart (disabled admin user, expired repository
        // token) from the registry's settings, awaited only then.
        .consults(&[Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { refresh_token(cx).await })
    }
}

/// Which step of the flow refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Refresh,
    Access,
}

async fn refresh_token(cx: &CheckCx<'_>) -> Outcome {
    let Some(ls) = cx.facts().login_server.clone() else {
        return Outcome::skip(cx.t("no login server", "ログイン サーバーがありません"));
    };
    let (cred, challenge) = {
        let f = cx.facts();
        (f.credential.clone(), f.challenge.clone())
    };
    let (Some(cred), Some(ch)) = (cred, challenge) else {
        return Outcome::skip(cx.t(
            "no credential or challenge",
            "資格情報またはチャレンジがありません",
        ));
    };
    match &cred {
        Credential::Anonymous { .. } => Outcome::info(cx.t(
            "anonymous: no refresh token is exchanged",
            "匿名: リフレッシュ トークンの交換は行いません",
        )),
        Credential::Entra { .. } if !cx.ctx.gate.entra_allowed(&ls) => {
            let cloud = cx.ctx.gate.cloud;
            let msg = cx.t(
                format!(
                    "{} is not under the {} cloud's registry suffix {}: no Microsoft Entra token was sent to it",
                    ls.authority(),
                    cloud.name(),
                    cloud.acr_suffix()
                ),
                format!(
                    "{} は {} クラウドのレジストリ サフィックス {} の外にあるため、Microsoft Entra のトークンは送っていません",
                    ls.authority(),
                    cloud.name(),
                    cloud.acr_suffix()
                ),
            );
            Outcome::fail(
                msg.clone(),
                RawFinding::new("LOGIN_SERVER_ERROR", msg)
                    .evidence("login_server", ls.base_url())
                    .evidence("cloud", cloud.name())
                    .evidence("suffix", cloud.acr_suffix())
                    .step(cx.t(
                        "If this really is your registry behind a custom domain or gateway, run again with --trust-login-server; if the registry is in another cloud, give --cloud.",
                        "カスタム ドメインやゲートウェイの背後にある自分のレジストリであれば --trust-login-server を付けて再実行してください。別のクラウドのレジストリであれば --cloud を指定してください。",
                    )),
            )
        }
        Credential::Entra { token, claims, .. } => {
            let r = acr_token::exchange(
                cx.ctx,
                &ls,
                &ch.realm,
                &ch.service,
                claims.tenant_id.as_deref(),
                token,
            )
            .await;
            match r {
                Ok(t) => {
                    note_date(cx, &t.request, t.server_date);
                    let exp = t.claims.get("exp").and_then(Value::as_i64);
                    let msg = cx.t(
                        format!(
                            "{} → refresh token for {}{}",
                            t.request,
                            ch.service,
                            exp.map(|e| format!(", valid until {}", rfc3339(e)))
                                .unwrap_or_default()
                        ),
                        format!(
                            "{} → {} のリフレッシュ トークン{}",
                            t.request,
                            ch.service,
                            exp.map(|e| format!("、{} まで有効", rfc3339(e)))
                                .unwrap_or_default()
                        ),
                    );
                    let o = Outcome::pass(msg)
                        .evidence("request", t.request.clone())
                        .evidence("refresh_token_claims", token_summary(&t));
                    cx.facts().refresh_token = Some(t.token);
                    o
                }
                Err(e) => refusal(cx, Step::Refresh, &cred, &e),
            }
        }
        Credential::Basic {
            username,
            password,
            kind,
            ..
        } => {
            // What `docker login` does: GET the realm with Basic auth, no scope.
            let r = acr_token::docker_style(
                cx.ctx,
                &ls,
                &ch.realm,
                &ch.service,
                Some((username, password)),
                &[],
            )
            .await;
            match r {
                Ok(t) => {
                    note_date(cx, &t.request, t.server_date);
                    let words = kind_words(*kind, cx.lang);
                    let mut o = Outcome::pass(cx.t(
                        format!("{} → accepted ({words})", t.request),
                        format!("{} → 受け入れられました ({words})", t.request),
                    ))
                    .evidence("request", t.request.clone());
                    if *kind == BasicKind::RefreshToken {
                        cx.facts().refresh_token = Some(password.clone());
                        if let Some(c) = crate::redact::jwt_claims(password.expose()) {
                            o = o.evidence("refresh_token_claims", summary_of(&c));
                        }
                    }
                    o
                }
                Err(e) => {
                    cx.await_fact(Fact::ArmRegistry).await;
                    refusal(cx, Step::Refresh, &cred, &e)
                }
            }
        }
    }
}

fn token_summary(t: &AcrToken) -> Value {
    summary_of(&t.claims)
}

/// Claims of an ACR token worth showing (never the token).
fn summary_of(c: &serde_json::Map<String, Value>) -> Value {
    let mut out = serde_json::Map::new();
    for k in [
        "iss",
        "aud",
        "sub",
        "tenant",
        "grant_type",
        "permissions",
        "access",
    ] {
        if let Some(v) = c.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    for k in ["iat", "exp"] {
        if let Some(t) = c.get(k).and_then(Value::as_i64) {
            out.insert(k.into(), Value::from(rfc3339(t)));
        }
    }
    Value::Object(out)
}

/// Maps a refusal of the registry's token service to a cause.
fn refusal(cx: &CheckCx<'_>, step: Step, cred: &Credential, e: &AcrTokenError) -> Outcome {
    if let AcrTokenError::Refused {
        request,
        server_date,
        ..
    } = e
    {
        note_date(cx, request, *server_date);
    }
    let status = e.status();
    let message = e.message();
    let lower = message.to_ascii_lowercase();
    let request = e.request().to_string();
    let registry = registry_name(cx);
    let status_text = status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "no answer".into());
    let said = cx.t(
        format!("{request} answered {status_text}: {message}"),
        format!("{request} の応答は {status_text}: {message}"),
    );
    let step_code = match step {
        Step::Refresh => "CONNECTIVITY_REFRESH_TOKEN_ERROR",
        Step::Access => "CONNECTIVITY_ACCESS_TOKEN_ERROR",
    };
    let base = |code: &'static str, detail: String| {
        RawFinding::new(code, detail)
            .evidence("request", request.clone())
            .evidence("status", status)
            .evidence("registry_message", message.clone())
    };
    let finding = if status == Some(429) {
        base("CONNECTIVITY_TOOMANYREQUESTS_ERROR", said.clone())
    } else if lower.contains("application not registered with aad") {
        let app = match cred {
            Credential::Basic { username, .. } => username.clone(),
            Credential::Entra { claims, .. } => claims.app_id.clone().unwrap_or_default(),
            _ => String::new(),
        };
        base(
            "APP_NOT_REGISTERED_WITH_AAD",
            cx.t(
                format!("the registry does not know application '{app}' in its tenant: {said}"),
                format!(
                    "レジストリはそのテナントでアプリケーション '{app}' を認識していません: {said}"
                ),
            ),
        )
        .command(format!("az ad sp show --id {app}"))
    } else {
        match cred {
            Credential::Entra { claims, source, .. } => {
                entra_refusal(cx, step, step_code, claims, source, &lower, said, base)
            }
            Credential::Basic {
                username,
                password,
                kind,
                source,
            } => basic_refusal(
                cx, step, step_code, username, password, *kind, source, &registry, &lower, said,
                base,
            ),
            Credential::Anonymous { .. } => {
                let repo = cx.args.repository_name().unwrap_or_default().to_string();
                cx.facts().extra.insert(
                    "anonymous_pull".into(),
                    json!({"allowed": false, "request": request}),
                );
                base(
                    "ANONYMOUS_PULL_DISABLED",
                    cx.t(
                        format!("anonymous access was asked (--auth anonymous) and the registry refuses it: {said}"),
                        format!("匿名アクセス (--auth anonymous) が要求されましたが、レジストリは拒否しました: {said}"),
                    ),
                )
                .command(format!("az acr update --name {registry} --anonymous-pull-enabled true"))
                .command(format!("docker login {} && docker pull {}/{}", login_server(cx), login_server(cx), if repo.is_empty() { "<repository>" } else { &repo }))
            }
        }
    };
    let title = match step {
        Step::Refresh => cx.t(
            format!("refresh token refused ({status_text})"),
            format!("リフレッシュ トークンが拒否されました ({status_text})"),
        ),
        Step::Access => cx.t(
            format!("access token refused ({status_text})"),
            format!("アクセス トークンが拒否されました ({status_text})"),
        ),
    };
    let code = finding.code;
    Outcome::fail(format!("{title}: {code}"), finding).evidence("request", request)
}

#[allow(clippy::too_many_arguments)]
fn entra_refusal(
    cx: &CheckCx<'_>,
    step: Step,
    step_code: &'static str,
    claims: &IdentityClaims,
    source: &str,
    lower: &str,
    said: String,
    base: impl Fn(&'static str, String) -> RawFinding,
) -> RawFinding {
    let aud = claims.audience.clone().unwrap_or_default();
    let arm_aud = aud.to_ascii_lowercase().contains("management.");
    let tenant = claims.tenant_id.clone().unwrap_or_else(|| "?".into());
    if step == Step::Refresh
        && (lower.contains("authentication-as-arm") || (arm_aud && lower.contains("audience")))
    {
        return base(
            "ARM_AUDIENCE_TOKEN_DISABLED",
            cx.t(
                format!("the Entra token's audience is Azure Resource Manager ({aud}) and the registry's authentication-as-arm policy refuses it: {said}"),
                format!("Entra トークンの対象ユーザーは Azure Resource Manager ({aud}) で、レジストリの authentication-as-arm ポリシーが拒否しました: {said}"),
            ),
        )
        .evidence("token_audience", aud)
        .command(format!("az acr config authentication-as-arm update --registry {} --status enabled", registry_name(cx)));
    }
    if lower.contains("expired") {
        // At the exchange the Entra token is meant; at the token endpoint, the refresh token.
        let (kind, en, ja) = match step {
            Step::Refresh => ("entra_token", "the Entra token", "Entra トークン"),
            Step::Access => (
                "acr_refresh_token",
                "the ACR refresh token",
                "ACR リフレッシュ トークン",
            ),
        };
        cx.facts().expiry_reported.push(kind.into());
        return base(
            "AAD_TOKEN_EXPIRED",
            cx.t(
                format!("the registry says {en} (from {source}) has expired: {said}"),
                format!("レジストリは {ja} ({source} 由来) が期限切れだと応答しました: {said}"),
            ),
        )
        .command("az login");
    }
    if lower.contains("tenant") {
        let registry_tenant = other_tenant(lower, &tenant);
        let reg_t = registry_tenant
            .clone()
            .unwrap_or_else(|| cx.t("not shown by the registry", "レジストリは示していません"));
        return base(
            step_code,
            cx.t(
                format!("tenant mismatch: the token is from tenant {tenant}, the registry belongs to another tenant ({reg_t}): {said}"),
                format!("テナントの不一致: トークンはテナント {tenant} のもので、レジストリは別のテナント ({reg_t}) に属しています: {said}"),
            ),
        )
        .evidence("token_tenant", tenant.clone())
        .evidence("registry_tenant", registry_tenant.clone())
        .command(format!("az login --tenant {}", registry_tenant.unwrap_or_else(|| "<registry-tenant-id>".into())));
    }
    let step_words = match step {
        Step::Refresh => cx.t("exchanging the Entra token", "Entra トークンの交換"),
        Step::Access => cx.t("issuing the access token", "アクセス トークンの発行"),
    };
    base(
        step_code,
        cx.t(
            format!("the registry refused {step_words} for {} (token audience {aud}): {said}", who(claims, cx.lang)),
            format!("レジストリは {} の{step_words}を拒否しました (トークンの対象ユーザー {aud}): {said}", who(claims, cx.lang)),
        ),
    )
    .evidence("token_audience", aud)
    .evidence("token_tenant", tenant)
}

/// A GUID in a message that is not `known` (a registry's tenant named in a refusal).
fn other_tenant(text: &str, known: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|w| crate::model::uuid_like(w) && !w.eq_ignore_ascii_case(known))
        .map(str::to_string)
}

#[allow(clippy::too_many_arguments)]
fn basic_refusal(
    cx: &CheckCx<'_>,
    step: Step,
    step_code: &'static str,
    username: &str,
    password: &Secret,
    kind: BasicKind,
    source: &str,
    registry: &str,
    lower: &str,
    said: String,
    base: impl Fn(&'static str, String) -> RawFinding,
) -> RawFinding {
    let words = kind_words(kind, cx.lang);
    let status_auth = lower.contains("unauthorized")
        || lower.contains("authentication required")
        || lower.contains("invalid")
        || lower.contains("expired")
        || lower.contains("disabled");
    if step == Step::Access && !status_auth {
        return base(
            step_code,
            cx.t(
                format!("the registry refused an access token for {words}: {said}"),
                format!("レジストリは {words} へのアクセス トークン発行を拒否しました: {said}"),
            ),
        );
    }
    match kind {
        BasicKind::AdminUser => {
            let admin = cx
                .facts()
                .arm_registry
                .as_ref()
                .and_then(|r| r.property("adminUserEnabled").and_then(Value::as_bool));
            let read_by = cx.facts().extra.get("arm_read_by").cloned();
            match admin {
                Some(true) => base(
                    "BASIC_CREDENTIALS_INVALID",
                    cx.t(
                        format!("the admin user of {registry} is enabled but its password was refused (regenerated?): {said}"),
                        format!("{registry} の管理者ユーザーは有効ですが、パスワードが拒否されました (再生成された可能性): {said}"),
                    ),
                )
                .evidence("admin_user_enabled", true)
                .evidence("settings_read_by", read_by)
                .command(format!("az acr credential show --name {registry}")),
                Some(false) => base(
                    "ADMIN_USER_DISABLED",
                    cx.t(
                        format!("username '{username}' is the admin user of {registry}, and the registry's settings show the admin user disabled (adminUserEnabled false): {said}"),
                        format!("ユーザー名 '{username}' は {registry} の管理者ユーザーで、レジストリ設定では管理者ユーザーが無効です (adminUserEnabled false): {said}"),
                    ),
                )
                .evidence("admin_user_enabled", false)
                .evidence("settings_read_by", read_by)
                .command(format!("az acr update --name {registry} --admin-enabled true")),
                // The registry answers the same for a disabled admin user and a wrong
                // password: what is proven is the refused pair; the other cause is named.
                None => base(
                    "BASIC_CREDENTIALS_INVALID",
                    cx.t(
                        format!("username '{username}' is the admin user of {registry} and the registry refused the pair; without the registry's settings this cannot tell a disabled admin user from a wrong or regenerated password: {said}"),
                        format!("ユーザー名 '{username}' は {registry} の管理者ユーザーで、レジストリはこの組を拒否しました。レジストリ設定がないため、管理者ユーザーの無効化と、誤った (または再生成された) パスワードを区別できません: {said}"),
                    ),
                )
                .alternative(&["ADMIN_USER_DISABLED"])
                .evidence("admin_user_enabled", Value::Null)
                .evidence("missing", "registry_settings")
                .step(cx.t(
                    "To tell the two apart, read adminUserEnabled with an identity allowed to read the registry (the first command), or sign in with `az login` and run acr-doctor again: it reads the settings through that identity.",
                    "2 つを区別するには、レジストリを読み取れる ID で adminUserEnabled を確認する (最初のコマンド) か、`az login` でサインインして acr-doctor を再実行してください。その ID でレジストリ設定を読み取ります。",
                ))
                .command(format!("az acr show --name {registry} --query adminUserEnabled"))
                .command(format!("az acr credential show --name {registry}")),
            }
        }
        BasicKind::ServicePrincipal if lower.contains("expired") => {
            cx.facts().expiry_reported.push("sp_client_secret".into());
            base(
                "SP_SECRET_EXPIRED",
                cx.t(
                    format!("the client secret of service principal '{username}' has expired: {said}"),
                    format!("サービス プリンシパル '{username}' のクライアント シークレットは期限切れです: {said}"),
                ),
            )
            .command(format!("az ad app credential reset --id {username} --append"))
        }
        BasicKind::RepositoryToken if lower.contains("disabled") || lower.contains("expired") => {
            cx.facts().expiry_reported.push("registry_token_password".into());
            base(
                "REGISTRY_TOKEN_PASSWORD_EXPIRED",
                cx.t(
                    format!("repository-scoped token '{username}' is disabled or its password has expired: {said}"),
                    format!("リポジトリ スコープのトークン '{username}' は無効化されているか、パスワードが期限切れです: {said}"),
                ),
            )
            .command(format!("az acr token credential generate --name {username} --registry {registry} --password1"))
        }
        BasicKind::RefreshToken => {
            let exp = crate::redact::jwt_claims(password.expose())
                .and_then(|c| c.get("exp").and_then(Value::as_i64));
            let expired = exp.is_some_and(|e| e <= cx.ctx.clock.unix()) || lower.contains("expired");
            if expired && source == "docker-config" {
                cx.facts().expiry_reported.push("docker_identity_token".into());
                base(
                    "DOCKER_STORED_TOKEN_EXPIRED",
                    cx.t(
                        format!("the ACR refresh token stored in the Docker config has expired{}: {said}", exp.map(|e| format!(" ({})", rfc3339(e))).unwrap_or_default()),
                        format!("Docker 構成に保存された ACR リフレッシュ トークンは期限切れです{}: {said}", exp.map(|e| format!(" ({})", rfc3339(e))).unwrap_or_default()),
                    ),
                )
                .command(format!("az acr login --name {registry}"))
            } else {
                base(
                    "BASIC_CREDENTIALS_INVALID",
                    cx.t(
                        format!("the ACR refresh token given as password (username {EMPTY_GUID}) was refused{}: {said}", if expired { " (it has expired)" } else { "" }),
                        format!("パスワードとして渡した ACR リフレッシュ トークン (ユーザー名 {EMPTY_GUID}) は拒否されました{}: {said}", if expired { " (期限切れ)" } else { "" }),
                    ),
                )
                .command(format!("az acr login --name {registry} --expose-token"))
            }
        }
        BasicKind::RepositoryToken => {
            let state = cx.facts().extra.get("registry_token").cloned();
            let status = state
                .as_ref()
                .and_then(|s| s.get("status"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let now = cx.ctx.clock.now();
            let expiries: Vec<Option<time::OffsetDateTime>> = state
                .as_ref()
                .and_then(|s| s.get("passwords"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            p.get("expiry").and_then(Value::as_str).and_then(|e| {
                                time::OffsetDateTime::parse(
                                    e,
                                    &time::format_description::well_known::Rfc3339,
                                )
                                .ok()
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let all_expired = !expiries.is_empty() && expiries.iter().all(|e| e.is_some_and(|e| e <= now));
            let show = format!("az acr token show --name {username} --registry {registry}");
            if status.as_deref() == Some("disabled") || all_expired {
                cx.facts().expiry_reported.push("registry_token_password".into());
                base(
                    "REGISTRY_TOKEN_PASSWORD_EXPIRED",
                    cx.t(
                        format!("repository-scoped token '{username}' is {} according to the registry's settings: {said}", if all_expired { "without an unexpired password" } else { "disabled" }),
                        format!("レジストリ設定によると、リポジトリ スコープのトークン '{username}' は{}: {said}", if all_expired { "有効期限内のパスワードがありません" } else { "無効化されています" }),
                    ),
                )
                .evidence("registry_token", state)
                .command(show)
                .command(format!("az acr token credential generate --name {username} --registry {registry} --password1"))
            } else if state.as_ref().is_some_and(|s| s.get("status").is_some()) {
                base(
                    "BASIC_CREDENTIALS_INVALID",
                    cx.t(
                        format!("repository-scoped token '{username}' is enabled with a current password, and the registry refused the password given: {said}"),
                        format!("リポジトリ スコープのトークン '{username}' は有効で期限内のパスワードがありますが、指定したパスワードは拒否されました: {said}"),
                    ),
                )
                .evidence("registry_token", state)
                .command(format!("az acr token credential generate --name {username} --registry {registry} --password1"))
            } else {
                base(
                    "BASIC_CREDENTIALS_INVALID",
                    cx.t(
                        format!("username '{username}' looks like {words}; the registry refused the pair, and without the token's state (registry settings) a wrong password cannot be told from a disabled token or an expired password: {said}"),
                        format!("ユーザー名 '{username}' は {words} と判断されます。レジストリはこの組を拒否しました。トークンの状態 (レジストリ設定) がないため、パスワードの誤りと、トークンの無効化やパスワードの期限切れを区別できません: {said}"),
                    ),
                )
                .alternative(&["REGISTRY_TOKEN_PASSWORD_EXPIRED"])
                .evidence("basic_kind", format!("{kind:?}"))
                .evidence("missing", "registry_token_state")
                .command(show)
            }
        }
        BasicKind::ServicePrincipal => base(
            "BASIC_CREDENTIALS_INVALID",
            cx.t(
                format!("username '{username}' looks like {words}; the registry refused the pair, which cannot tell a wrong secret from an expired one: {said}"),
                format!("ユーザー名 '{username}' は {words} と判断されます。レジストリはこの組を拒否しましたが、シークレットの誤りと期限切れは区別できません: {said}"),
            ),
        )
        .alternative(&["SP_SECRET_EXPIRED"])
        .evidence("basic_kind", format!("{kind:?}"))
        .command(format!("az ad app credential list --id {username}")),
        _ => base(
            "BASIC_CREDENTIALS_INVALID",
            cx.t(
                format!("username '{username}' looks like {words}; the registry refused the pair: {said}"),
                format!("ユーザー名 '{username}' は {words} と判断されます。レジストリはこの組を拒否しました: {said}"),
            ),
        )
        .evidence("basic_kind", format!("{kind:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// identity.access_token

struct AccessTokenCheck;

impl Check for AccessTokenCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "identity.access_token",
            Group::Identity,
            "access token",
            "アクセス トークン",
        )
        // The registry's settings (ARM) matter only after the token is in hand (the anonymous
        // probe), so the token request does not wait for them: see `await_fact` below.
        .needs(&[Fact::RefreshToken])
        .provides(&[Fact::AccessToken])
        .consults(&[Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { access_token(cx).await })
    }
}

/// The scopes asked for: every repository action on `--repository`, the catalog when needed
/// or when no repository is given (to prove the flow). Anonymous: pull only.
pub fn requested_scopes(args: &CheckArgs, anonymous: bool) -> Vec<String> {
    let mut scopes = Vec::new();
    if let Some(repo) = args.repository_name() {
        let actions = if anonymous {
            "pull"
        } else {
            REPOSITORY_ACTIONS
        };
        scopes.push(format!("repository:{repo}:{actions}"));
    }
    if !anonymous && (args.repository.is_none() || args.need.contains(&Need::Catalog)) {
        scopes.push("registry:catalog:*".to_string());
    }
    scopes
}

async fn access_token(cx: &CheckCx<'_>) -> Outcome {
    let Some(ls) = cx.facts().login_server.clone() else {
        return Outcome::skip(cx.t("no login server", "ログイン サーバーがありません"));
    };
    let (cred, challenge, refresh) = {
        let f = cx.facts();
        (
            f.credential.clone(),
            f.challenge.clone(),
            f.refresh_token.clone(),
        )
    };
    let (Some(cred), Some(ch)) = (cred, challenge) else {
        return Outcome::skip(cx.t(
            "no credential or challenge",
            "資格情報またはチャレンジがありません",
        ));
    };
    let anonymous = matches!(cred, Credential::Anonymous { .. });
    let scopes = requested_scopes(cx.args, anonymous);
    let result = match (&cred, &refresh) {
        (Credential::Anonymous { .. }, _) => {
            acr_token::docker_style(cx.ctx, &ls, &ch.realm, &ch.service, None, &scopes).await
        }
        (_, Some(rt)) => {
            acr_token::access_from_refresh(cx.ctx, &ls, &ch.realm, &ch.service, rt, &scopes).await
        }
        (
            Credential::Basic {
                username, password, ..
            },
            None,
        ) => {
            acr_token::access_from_password(
                cx.ctx,
                &ls,
                &ch.realm,
                &ch.service,
                username,
                password,
                &scopes,
            )
            .await
        }
        (Credential::Entra { .. }, None) => {
            return Outcome::skip(cx.t("no refresh token", "リフレッシュ トークンがありません"))
        }
    };
    let t = match result {
        Ok(t) => t,
        Err(e) => {
            if matches!(cred, Credential::Basic { .. }) {
                cx.await_fact(Fact::ArmRegistry).await;
            }
            return refusal(cx, Step::Access, &cred, &e);
        }
    };
    note_date(cx, &t.request, t.server_date);
    let mut requested = BTreeMap::new();
    for s in &scopes {
        if let Some((k, a)) = acr_token::split_scope(s) {
            requested.insert(k, a);
        }
    }
    let granted: BTreeMap<String, Vec<String>> =
        acr_token::granted_actions(&t.claims).into_iter().collect();
    let readable = !t.claims.is_empty();
    if !readable {
        // A 200 whose token is not a JWT cannot carry the registry's grants: the registry
        // (or something in front of it) broke the token, which docker would fail on too.
        let detail = cx.t(
            format!(
                "{} answered {} but the access token is not a readable JWT (its claims cannot be decoded), so it grants nothing usable",
                t.request, t.status
            ),
            format!(
                "{} は {} を返しましたが、アクセス トークンが読み取れる JWT ではありません (クレームを復号できません)。このトークンでは何も許可されません",
                t.request, t.status
            ),
        );
        return Outcome::fail(
            detail.clone(),
            RawFinding::new("CONNECTIVITY_ACCESS_TOKEN_ERROR", detail)
                .evidence("request", t.request.clone())
                .evidence("status", t.status),
        );
    }
    let grants_text: Vec<String> = requested
        .keys()
        .map(|k| {
            let g = granted.get(k).cloned().unwrap_or_default();
            format!("{k}: [{}]", g.join(","))
        })
        .collect();
    if anonymous {
        let pulled = cx.args.repository_name().map(|r| {
            granted
                .get(&format!("repository:{r}"))
                .is_some_and(|a| a.iter().any(|x| x == "pull" || x == "*"))
        });
        cx.facts().extra.insert(
            "anonymous_pull".into(),
            json!({"allowed": pulled.unwrap_or(true), "request": t.request}),
        );
        if pulled == Some(false) {
            let detail = cx.t(
                format!("anonymous access was asked (--auth anonymous); {} issued a token without pull: {}", t.request, grants_text.join("; ")),
                format!("匿名アクセス (--auth anonymous) が要求されましたが、{} のトークンには pull がありません: {}", t.request, grants_text.join("; ")),
            );
            return Outcome::fail(
                detail.clone(),
                RawFinding::new("ANONYMOUS_PULL_DISABLED", detail).command(format!(
                    "az acr update --name {} --anonymous-pull-enabled true",
                    registry_name(cx)
                )),
            );
        }
    }
    let flow_only = cx.args.repository.is_none();
    let msg_en = format!(
        "{} → access token{}{}",
        t.request,
        if readable {
            format!(" granting {}", grants_text.join("; "))
        } else {
            " (claims unreadable)".into()
        },
        if flow_only {
            " (no --repository: the catalog scope only proves the flow)"
        } else {
            ""
        }
    );
    let msg_ja = format!(
        "{} → アクセス トークン{}{}",
        t.request,
        if readable {
            format!(" 付与: {}", grants_text.join("; "))
        } else {
            " (クレームを読み取れません)".into()
        },
        if flow_only {
            " (--repository なし: カタログのスコープでフローのみ確認)"
        } else {
            ""
        }
    );
    let outcome = Outcome::pass(cx.t(msg_en, msg_ja))
        .evidence("request", t.request.clone())
        .evidence("requested", json!(requested))
        .evidence("granted", json!(granted))
        .evidence("access_token_claims", token_summary(&t));
    let mut f = cx.facts();
    f.access_token = Some(t.token);
    f.grants = Some(Grants { requested, granted });
    drop(f);
    outcome
}

/// A registry that allows anonymous pull (ARM says so) is probed anonymously too, beside the
/// signed-in path, so the token exchange never waits for ARM.
struct AnonymousProbeCheck;

impl Check for AnonymousProbeCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "identity.anonymous",
            Group::Identity,
            "anonymous pull",
            "匿名プル",
        )
        .needs(&[Fact::Challenge])
        .uses(&[Fact::ArmRegistry, Fact::Credential]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(anonymous_probe(cx))
    }
}

async fn anonymous_probe(cx: &CheckCx<'_>) -> Outcome {
    let Some(ls) = cx.facts().login_server.clone() else {
        return Outcome::skip(cx.t("no login server", "ログイン サーバーがありません"));
    };
    let (cred, challenge, reg) = {
        let f = cx.facts();
        (
            f.credential.clone(),
            f.challenge.clone(),
            f.arm_registry.clone(),
        )
    };
    if matches!(cred, Some(Credential::Anonymous { .. })) {
        return Outcome::skip(cx.t(
            "the run itself is anonymous (see access token)",
            "この実行自体が匿名です (アクセス トークンを参照)",
        ));
    }
    let Some(ch) = challenge else {
        return Outcome::skip(cx.t("no challenge", "チャレンジがありません"));
    };
    let anon_on = reg
        .as_ref()
        .and_then(|r| r.property("anonymousPullEnabled").and_then(Value::as_bool));
    match anon_on {
        None => {
            return Outcome::skip(cx.t(
                "the registry's settings (ARM) are not available, so whether it allows anonymous pull is unknown",
                "レジストリ設定 (ARM) を読み取れないため、匿名プルが許可されているかは不明です",
            ))
        }
        Some(false) => {
            return Outcome::info(cx.t(
                "anonymous pull is off for this registry (ARM anonymousPullEnabled: false)",
                "このレジストリでは匿名プルが無効です (ARM の anonymousPullEnabled: false)",
            ))
        }
        Some(true) => {}
    }
    let anon_scopes = requested_scopes(cx.args, true);
    let probe =
        acr_token::docker_style(cx.ctx, &ls, &ch.realm, &ch.service, None, &anon_scopes).await;
    let allowed = probe.is_ok();
    cx.facts()
        .extra
        .insert("anonymous_pull".into(), json!({"allowed": allowed}));
    let evidence = match &probe {
        Ok(p) => {
            json!({"request": p.request, "status": p.status, "granted": acr_token::granted_actions(&p.claims)})
        }
        Err(e) => json!({"request": e.request(), "status": e.status(), "message": e.message()}),
    };
    let msg = if allowed {
        cx.t(
            "anonymous pull is on, and an anonymous token was issued",
            "匿名プルが有効で、匿名トークンが発行されました",
        )
    } else {
        cx.t(
            "ARM says anonymous pull is on, but the registry refused an anonymous token",
            "ARM では匿名プルが有効ですが、レジストリは匿名トークンを拒否しました",
        )
    };
    Outcome::info(msg).evidence("anonymous_pull_probe", evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_kinds() {
        assert_eq!(
            basic_kind("contosoreg", "x", "contosoreg"),
            BasicKind::AdminUser
        );
        assert_eq!(
            basic_kind("ContosoReg", "x", "contosoreg"),
            BasicKind::AdminUser
        );
        assert_eq!(
            basic_kind("a11ce000-0000-4000-8000-00000000a001", "x", "contosoreg"),
            BasicKind::ServicePrincipal
        );
        assert_eq!(
            basic_kind("ci-token", "x", "contosoreg"),
            BasicKind::RepositoryToken
        );
        assert_eq!(
            basic_kind(EMPTY_GUID, "x", "contosoreg"),
            BasicKind::RefreshToken
        );
    }

    #[test]
    fn scopes_follow_the_options() {
        let args = crate::check_args(&[
            "--name",
            "r",
            "--repository",
            "app",
            "--need",
            "pull,catalog",
        ])
        .unwrap_or_default();
        assert_eq!(
            requested_scopes(&args, false),
            vec![
                "repository:app:pull,push,delete,metadata_read,metadata_write",
                "registry:catalog:*"
            ]
        );
        assert_eq!(requested_scopes(&args, true), vec!["repository:app:pull"]);
        let none = crate::check_args(&["--name", "r"]).unwrap_or_default();
        assert_eq!(requested_scopes(&none, false), vec!["registry:catalog:*"]);
    }

    #[test]
    fn other_tenant_is_found() {
        let t = "72f988bf-0000-4000-8000-000000000001";
        assert_eq!(
            other_tenant("token from 72f988bf-0000-4000-8000-000000000001, registry in 72f988bf-0000-4000-8000-000000000002", t).as_deref(),
            Some("72f988bf-0000-4000-8000-000000000002")
        );
        assert_eq!(other_tenant("nothing here", t), None);
    }
}
