//! How each credential source gets its credential, and the diagnosis when a configured source
//! fails: `--username`/`--password`, a service principal from the environment (client secret
//! or certificate), workload identity, managed identity, the Azure CLI and the Docker config.
//! The token requests themselves are in [`crate::azure::credential_sources`].

use serde_json::{json, Value};

use super::entra_refusal::entra_failure;
use super::{basic_kind, claims_json, kind_words, note_date, rfc3339, who};
use crate::azure::cli_token::{self, CliError};
use crate::azure::credential_sources::{self, App, EntraSet};
use crate::azure::entra::{self, ClientAuth, EntraError, EntraToken, MiEndpoint};
use crate::catalogue::Code;
use crate::checks::{BasicKind, CheckCx, ClientCertificate, Credential, Outcome};
use crate::error_codes;
use crate::finding::RawFinding;
use crate::protocol::docker_config::{self, StoredKind, EMPTY_GUID};
use crate::redact::Secret;
use crate::request::AuthSource;

/// A credential found.
pub(super) struct Acquired {
    pub(super) credential: Credential,
    pub(super) arm: Option<Secret>,
    pub(super) graph: Option<Secret>,
    pub(super) message: String,
    pub(super) evidence: Vec<(&'static str, Value)>,
}

pub(super) enum Attempt {
    Got(Box<Acquired>),
    /// Not configured here; the text says what is missing.
    Unavailable(String),
    /// Configured but broken: the diagnosis.
    Failed(Box<Outcome>),
    /// Not usable, but what answered is the diagnosis if no later source gives a credential: the
    /// instance metadata endpoint of an Azure machine without the identity asked for.
    Deferred(String, Box<MiNotFound>),
}

pub(super) fn from_basic(cx: &CheckCx<'_>) -> Attempt {
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
    let registry = cx.registry_name();
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
                RawFinding::new(Code::EXPOSE_TOKEN_USERNAME, detail)
                    .evidence("username", username.clone())
                    .command(format!(
                        "docker login {} --username {EMPTY_GUID} --password-stdin",
                        cx.login_server()
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

/// The tokens a Microsoft Entra source asked for, checked and kept: the diagnosis when the
/// registry's token did not come or has expired, else the credential with the ARM and Graph
/// tokens that came.
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
    if let Some(when) = expired(&acr, cx.ctx.clock.unix()) {
        return Attempt::Failed(Box::new(expired_token(cx, source, &how, &acr, when)));
    }
    cx.ctx.redactor.register_secret(&acr.token);
    let arm = arm_token(cx, set.arm, &mut evidence);
    let graph = graph_token(cx, set.graph, &mut evidence);
    let message = entra_message(cx, &how, &acr);
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

/// When a token expired, in Unix seconds: at `exp`, seen `now` on this machine and `server_now`
/// on the server (this machine's time when the server sent none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expired {
    exp: i64,
    now: i64,
    server_now: i64,
}

/// Some when the token has expired by both this machine's clock (`now`) and the server's.
fn expired(acr: &EntraToken, now: i64) -> Option<Expired> {
    let exp = acr.claims.expires_at?;
    let server_now = acr.server_date.unwrap_or(now);
    (exp <= now && exp <= server_now).then_some(Expired {
        exp,
        now,
        server_now,
    })
}

/// AAD_TOKEN_EXPIRED for a token from `source` that expired at `exp`; records it on the timeline.
fn expired_token(
    cx: &CheckCx<'_>,
    source: AuthSource,
    how: &str,
    acr: &EntraToken,
    when: Expired,
) -> Outcome {
    let Expired {
        exp,
        now,
        server_now,
    } = when;
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
    Outcome::fail(
        cx.t(
            format!("{how}: token expired at {}", rfc3339(exp)),
            format!("{how}: トークンは {} に期限切れ", rfc3339(exp)),
        ),
        RawFinding::new(Code::AAD_TOKEN_EXPIRED, detail)
            .evidence("expires_at", rfc3339(exp))
            .evidence("identity", claims_json(&acr.claims))
            .command(renew_command(source)),
    )
    .evidence("source", source.as_str())
}

/// What renews an expired Microsoft Entra token from `source`.
fn renew_command(source: AuthSource) -> &'static str {
    match source {
        AuthSource::Cli => "az login",
        AuthSource::ManagedIdentity => "restart the workload so that it requests a new token",
        _ => "acr-doctor check again after renewing the credential",
    }
}

/// The ARM token when it came (registered with the redactor); either way, evidence of it.
fn arm_token(
    cx: &CheckCx<'_>,
    arm: Result<EntraToken, EntraError>,
    evidence: &mut Vec<(&'static str, Value)>,
) -> Option<Secret> {
    match arm {
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
    }
}

/// The Graph token when one was asked for and came (registered with the redactor); evidence of
/// it when one was asked for.
fn graph_token(
    cx: &CheckCx<'_>,
    graph: Option<Result<EntraToken, EntraError>>,
    evidence: &mut Vec<(&'static str, Value)>,
) -> Option<Secret> {
    match graph {
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
    }
}

/// The check's message for a registry token: who, through which source, for which audience,
/// until when.
fn entra_message(cx: &CheckCx<'_>, how: &str, acr: &EntraToken) -> String {
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
    cx.t(
        format!(
            "{} via {how}; token for {aud}{exp}",
            who(&acr.claims, cx.lang)
        ),
        format!(
            "{} ({how} 経由); {aud} 向けトークン{exp}",
            who(&acr.claims, cx.lang)
        ),
    )
}

/// `1d2h`: [`span`](crate::model::time::span) without its space, as this message has always had it.
fn ago(seconds: i64) -> String {
    crate::model::time::span(seconds).replacen(' ', "", 1)
}
pub(super) async fn from_env(cx: &CheckCx<'_>) -> Attempt {
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
    let authority = entra::authority(cx.ctx, cx.cloud());
    let mut evidence: Vec<(&'static str, Value)> = vec![
        ("tenant", Value::from(tenant.clone())),
        ("client_id", Value::from(client.clone())),
        ("authority", Value::from(authority.clone())),
    ];
    let app = App {
        authority: &authority,
        tenant: &tenant,
        client: &client,
    };
    if let Some(secret) = secret {
        cx.ctx.redactor.register_secret(&secret);
        let auth = ClientAuth::Secret(secret);
        let (acr_aud, arm_aud, graph_aud) = env_audiences(cx);
        let set = app
            .tokens(
                cx.ctx,
                (&auth, &acr_aud),
                (&auth, &arm_aud),
                (&auth, &graph_aud),
            )
            .await;
        evidence.push((
            "client_credential",
            Value::from("secret (AZURE_CLIENT_SECRET)"),
        ));
        let how = cx.t(
            "service principal from AZURE_CLIENT_ID/AZURE_CLIENT_SECRET",
            "AZURE_CLIENT_ID/AZURE_CLIENT_SECRET のサービス プリンシパル",
        );
        return finish_entra(cx, AuthSource::Env, how, set, evidence);
    }
    let Some(cert_path) = cert_path else {
        return Attempt::Unavailable(cx.t(
            "AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH not set",
            "AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH が設定されていません",
        ));
    };
    from_certificate(cx, &app, &cert_path, evidence).await
}

/// The audiences a service principal asks tokens for: the registry's, ARM's and Graph's.
fn env_audiences(cx: &CheckCx<'_>) -> (String, String, String) {
    (
        entra::acr_audience(cx.ctx),
        entra::arm_audience(cx.ctx, cx.cloud()),
        entra::graph_audience(cx.cloud()),
    )
}

/// A service principal from the environment with a certificate (AZURE_CLIENT_CERTIFICATE_PATH):
/// loads it, signs one client assertion per token request, and asks for the tokens.
async fn from_certificate(
    cx: &CheckCx<'_>,
    app: &App<'_>,
    cert_path: &str,
    mut evidence: Vec<(&'static str, Value)>,
) -> Attempt {
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
                        RawFinding::new(Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID, detail)
                            .evidence("path", cert_path.to_string()),
                    )
                    .evidence("source", "env"),
                ));
            }
        };
    cx.facts().client_certificate = Some(ClientCertificate {
        path: cert_path.to_string(),
        subject: cert.subject.clone(),
        not_before: cert.not_before,
        not_after: cert.not_after,
        sha256: cert.sha256_hex.clone(),
    });
    evidence.push((
        "client_credential",
        Value::from(format!(
            "certificate {} (SHA-256 {})",
            cert.subject, cert.sha256_hex
        )),
    ));
    let audience = format!("{}/{}/oauth2/v2.0/token", app.authority, app.tenant);
    let now = cx.ctx.clock.unix();
    let assertions =
        match credential_sources::sign_assertions(cx.ctx, &cert, &audience, app.client, now) {
            Ok(a) => a,
            Err(reason) => {
                let detail = cx.t(
                    format!("no client assertion could be signed with {cert_path}: {reason}"),
                    format!("{cert_path} でクライアント アサーションに署名できません: {reason}"),
                );
                return Attempt::Failed(Box::new(Outcome::fail(
                    detail.clone(),
                    RawFinding::new(Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID, detail),
                )));
            }
        };
    let (acr_aud, arm_aud, graph_aud) = env_audiences(cx);
    let set = app
        .tokens(
            cx.ctx,
            (&assertions[0], &acr_aud),
            (&assertions[1], &arm_aud),
            (&assertions[2], &graph_aud),
        )
        .await;
    finish_entra(cx, AuthSource::Env, how, set, evidence)
}

pub(super) async fn from_workload(cx: &CheckCx<'_>) -> Attempt {
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
    let text = match credential_sources::read_small(&file) {
        Ok(t) => t,
        Err(reason) => {
            let detail = cx.t(
                format!("AZURE_FEDERATED_TOKEN_FILE {file} cannot be read: {reason}"),
                format!("AZURE_FEDERATED_TOKEN_FILE {file} を読み取れません: {reason}"),
            );
            return Attempt::Failed(Box::new(
                Outcome::fail(
                    detail.clone(),
                    RawFinding::new(Code::AAD_CREDENTIAL_UNAVAILABLE, detail)
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
    let authority = entra::authority(cx.ctx, cx.cloud());
    let auth = ClientAuth::Assertion(assertion);
    let acr_aud = entra::acr_audience(cx.ctx);
    let arm_aud = entra::arm_audience(cx.ctx, cx.cloud());
    let app = App {
        authority: &authority,
        tenant: &tenant,
        client: &client,
    };
    let set = app
        .tokens_without_graph(cx.ctx, &auth, &acr_aud, &arm_aud)
        .await;
    let how = cx.t(
        format!("workload identity (AZURE_FEDERATED_TOKEN_FILE {file})"),
        format!("ワークロード ID (AZURE_FEDERATED_TOKEN_FILE {file})"),
    );
    finish_entra(cx, AuthSource::WorkloadIdentity, how, set, evidence)
}

pub(super) async fn from_managed(cx: &CheckCx<'_>) -> Attempt {
    let endpoint = MiEndpoint::from_env(cx.ctx);
    let client_id = cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string);
    let acr_aud = entra::acr_audience(cx.ctx);
    let arm_aud = entra::arm_audience(cx.ctx, cx.cloud());
    // Probe first with the registry audience: off Azure nothing answers, quickly.
    let acr = entra::managed_identity(cx.ctx, &endpoint, client_id.as_deref(), &acr_aud).await;
    let place = endpoint.describe();
    if let Some((status, said)) = acr
        .as_ref()
        .err()
        .and_then(credential_sources::identity_not_found)
    {
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
pub(super) struct MiNotFound {
    place: String,
    url: String,
    status: u16,
    said: String,
    client_id: Option<String>,
}

/// MANAGED_IDENTITY_NOT_FOUND: what was asked for, where, and what the endpoint said. `others`
/// lists the other sources when none of them gave a credential either.
pub(super) fn managed_identity_not_found(
    cx: &CheckCx<'_>,
    nf: &MiNotFound,
    others: Option<&str>,
) -> Outcome {
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
        RawFinding::new(Code::MANAGED_IDENTITY_NOT_FOUND, detail)
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

pub(super) async fn from_cli(cx: &CheckCx<'_>) -> Attempt {
    let acr_aud = entra::acr_audience(cx.ctx);
    let arm_aud = entra::arm_audience(cx.ctx, cx.cloud());
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
            Some(Code::AAD_TOKEN_EXPIRED | Code::AAD_RESOURCE_INVALID)
        ) =>
        {
            let Some(entry) = error_codes::aadsts(c) else {
                return Attempt::Unavailable(message);
            };
            let meaning = entry.meaning(cx.lang).trim_end_matches(['.', '。']);
            let (detail, finding) = if entry.cause == Code::AAD_TOKEN_EXPIRED {
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
                    RawFinding::new(Code::AAD_TOKEN_EXPIRED, detail.clone()).command("az login");
                (detail, finding)
            } else {
                let detail = cx.t(
                    format!("the Azure CLI could not get a token for '{acr_aud}' (AADSTS{c}: {meaning}): {message}"),
                    format!("Azure CLI は '{acr_aud}' のトークンを取得できませんでした (AADSTS{c}: {meaning}): {message}"),
                );
                let finding = RawFinding::new(Code::AAD_RESOURCE_INVALID, detail.clone())
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
    }
    let how = cx.t(
        "the Azure CLI (az account get-access-token)",
        "Azure CLI (az account get-access-token)",
    );
    let set = EntraSet {
        acr: Ok(acr.token),
        arm: credential_sources::cli_as_entra(arm),
        graph: None,
    };
    finish_entra(cx, AuthSource::Cli, how, set, evidence)
}

pub(super) async fn from_docker(cx: &CheckCx<'_>) -> Attempt {
    let server = cx.login_server();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: Option<i64>, server_date: Option<i64>) -> EntraToken {
        EntraToken {
            token: Secret::new("t"),
            claims: crate::model::identity::IdentityClaims {
                expires_at,
                ..Default::default()
            },
            server_date,
            url: "https://login.example.invalid/token".into(),
        }
    }

    #[test]
    fn a_token_is_expired_only_by_both_clocks() {
        let now = 1_000;
        assert_eq!(expired(&token(None, None), now), None);
        assert_eq!(expired(&token(Some(2_000), None), now), None);
        // Past by this machine's clock, not yet by the server's: a skewed clock, not an expiry.
        assert_eq!(expired(&token(Some(900), Some(800)), now), None);
        assert_eq!(
            expired(&token(Some(900), Some(950)), now),
            Some(Expired {
                exp: 900,
                now,
                server_now: 950
            })
        );
        // No server time: this machine's counts for both.
        assert_eq!(
            expired(&token(Some(1_000), None), now),
            Some(Expired {
                exp: 1_000,
                now,
                server_now: now
            })
        );
    }

    #[test]
    fn each_source_has_its_way_to_renew() {
        assert_eq!(renew_command(AuthSource::Cli), "az login");
        let others = [
            AuthSource::ManagedIdentity,
            AuthSource::Env,
            AuthSource::WorkloadIdentity,
        ];
        assert_ne!(renew_command(others[0]), renew_command(others[1]));
        assert_eq!(renew_command(others[1]), renew_command(others[2]));
    }
}
