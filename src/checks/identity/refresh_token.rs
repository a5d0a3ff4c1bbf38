//! `identity.refresh_token`: the registry's `POST /oauth2/exchange` for an Entra token, or the
//! docker-style login with a username and password.

use futures::future::BoxFuture;
use serde_json::Value;

use super::refusal::{refusal, Step};
use super::{kind_words, note_date, rfc3339};
use crate::azure::acr_token::{self, AcrToken};
use crate::catalogue::Code;
use crate::checks::{BasicKind, Check, CheckCx, Credential, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;

pub struct RefreshTokenCheck;

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
                RawFinding::new(Code::LOGIN_SERVER_ERROR, msg)
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

pub(super) fn token_summary(t: &AcrToken) -> Value {
    summary_of(&t.claims)
}

/// Claims of an ACR token worth showing (never the token).
pub(super) fn summary_of(c: &serde_json::Map<String, Value>) -> Value {
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
