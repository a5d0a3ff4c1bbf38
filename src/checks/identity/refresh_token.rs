//! `identity.refresh_token`: the registry's `POST /oauth2/exchange` for an Entra token, or the
//! docker-style login with a username and password.

use futures::future::BoxFuture;
use serde_json::Value;

use super::refusal::{refusal, Step};
use super::{kind_words, note_date, rfc3339};
use crate::azure::acr_token::{self, AcrToken};
use crate::catalogue::Code;
use crate::checks::{
    BasicKind, Challenge, Check, CheckCx, Credential, Fact, Group, LoginServer, Meta, Outcome,
};
use crate::finding::RawFinding;
use crate::redact::Secret;

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
    let (ls, cred, ch) = match inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    match &cred {
        Credential::Anonymous { .. } => Outcome::info(cx.t(
            "anonymous: no refresh token is exchanged",
            "匿名: リフレッシュ トークンの交換は行いません",
        )),
        Credential::Entra { .. } if !cx.ctx.gate.entra_allowed(&ls) => {
            outside_cloud_suffix(cx, &ls)
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
                Ok(t) => exchanged(cx, &ch, t),
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
                Ok(t) => accepted(cx, &t, *kind, password),
                Err(e) => {
                    cx.await_fact(Fact::ArmRegistry).await;
                    refusal(cx, Step::Refresh, &cred, &e)
                }
            }
        }
    }
}

/// The login server, the credential and the registry's challenge, or the skip saying which is
/// missing.
fn inputs(cx: &CheckCx<'_>) -> Result<(LoginServer, Credential, Challenge), Box<Outcome>> {
    let Some(ls) = cx.facts().login_server.clone() else {
        return Err(Box::new(Outcome::skip(
            cx.t("no login server", "ログイン サーバーがありません"),
        )));
    };
    let (cred, challenge) = {
        let f = cx.facts();
        (f.credential.clone(), f.challenge.clone())
    };
    let (Some(cred), Some(ch)) = (cred, challenge) else {
        return Err(Box::new(Outcome::skip(cx.t(
            "no credential or challenge",
            "資格情報またはチャレンジがありません",
        ))));
    };
    Ok((ls, cred, ch))
}

/// An Entra token is never sent to a login server outside the cloud's registry suffix
/// (unless `--trust-login-server`): LOGIN_SERVER_ERROR, nothing sent.
fn outside_cloud_suffix(cx: &CheckCx<'_>, ls: &LoginServer) -> Outcome {
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

/// The Entra token was exchanged: the refresh token becomes a fact; the pass says until when
/// it is valid.
fn exchanged(cx: &CheckCx<'_>, ch: &Challenge, t: AcrToken) -> Outcome {
    note_date(cx, &t.request, t.server_date);
    let o = exchanged_outcome(cx, ch, &t);
    cx.facts().refresh_token = Some(t.token);
    o
}

fn exchanged_outcome(cx: &CheckCx<'_>, ch: &Challenge, t: &AcrToken) -> Outcome {
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
    Outcome::pass(msg)
        .evidence("request", t.request.clone())
        .evidence("refresh_token_claims", token_summary(t))
}

/// The username and password were accepted; a repository-scoped token's password is itself the
/// refresh token, and becomes the fact.
fn accepted(cx: &CheckCx<'_>, t: &AcrToken, kind: BasicKind, password: &Secret) -> Outcome {
    note_date(cx, &t.request, t.server_date);
    if kind == BasicKind::RefreshToken {
        cx.facts().refresh_token = Some(password.clone());
    }
    accepted_outcome(cx, t, kind, password)
}

fn accepted_outcome(cx: &CheckCx<'_>, t: &AcrToken, kind: BasicKind, password: &Secret) -> Outcome {
    let words = kind_words(kind, cx.lang);
    let mut o = Outcome::pass(cx.t(
        format!("{} → accepted ({words})", t.request),
        format!("{} → 受け入れられました ({words})", t.request),
    ))
    .evidence("request", t.request.clone());
    if kind == BasicKind::RefreshToken {
        if let Some(c) = crate::redact::jwt_claims(password.expose()) {
            o = o.evidence("refresh_token_claims", summary_of(&c));
        }
    }
    o
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::with_test_cx;
    use crate::lang::Lang;
    use crate::report::CheckStatus;
    use serde_json::json;

    fn login_server(host: &str) -> LoginServer {
        LoginServer {
            host: host.into(),
            port: None,
            scheme: "https".into(),
            source: "flag".into(),
        }
    }

    fn token(claims: Value) -> AcrToken {
        AcrToken {
            token: Secret::new("t"),
            claims: claims.as_object().cloned().unwrap_or_default(),
            server_date: None,
            request: "POST https://reg.azurecr.io/oauth2/exchange".into(),
            status: 200,
        }
    }

    fn challenge() -> Challenge {
        Challenge {
            realm: "https://reg.azurecr.io/oauth2/token".into(),
            service: "reg.azurecr.io".into(),
            scope: None,
        }
    }

    #[test]
    fn an_entra_token_stays_inside_the_cloud_suffix() {
        with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            let o = outside_cloud_suffix(cx, &login_server("reg.example.com"));
            assert_eq!(o.status, CheckStatus::Fail);
            assert_eq!(o.findings.len(), 1);
            let f = &o.findings[0];
            assert_eq!(f.code, Code::LOGIN_SERVER_ERROR);
            assert_eq!(f.evidence["login_server"], json!("https://reg.example.com"));
            assert_eq!(f.evidence["cloud"], json!(cx.ctx.gate.cloud.name()));
            assert_eq!(f.evidence["suffix"], json!(cx.ctx.gate.cloud.acr_suffix()));
            assert_eq!(f.solution.len(), 1);
        });
    }

    #[test]
    fn an_exchange_shows_the_token_claims_not_the_token() {
        with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            let t = token(json!({"aud": "reg.azurecr.io", "exp": 0, "nonce": "x"}));
            let o = exchanged_outcome(cx, &challenge(), &t);
            assert_eq!(o.status, CheckStatus::Pass);
            assert!(o.findings.is_empty());
            let keys: Vec<&String> = o.evidence.keys().collect();
            assert_eq!(keys, ["refresh_token_claims", "request"]);
            assert_eq!(
                o.evidence["refresh_token_claims"],
                json!({"aud": "reg.azurecr.io", "exp": rfc3339(0)})
            );
        });
    }

    #[test]
    fn a_refresh_token_as_password_shows_its_claims() {
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"grant_type": "refresh_token", "secret": "s"}).to_string());
        let jwt = Secret::new(format!("e30.{payload}.sig"));
        with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            let t = token(json!({}));
            let o = accepted_outcome(cx, &t, BasicKind::RefreshToken, &jwt);
            assert_eq!(o.status, CheckStatus::Pass);
            assert_eq!(
                o.evidence["refresh_token_claims"],
                json!({"grant_type": "refresh_token"})
            );
            let o = accepted_outcome(cx, &t, BasicKind::AdminUser, &jwt);
            assert_eq!(o.status, CheckStatus::Pass);
            let keys: Vec<&String> = o.evidence.keys().collect();
            assert_eq!(keys, ["request"]);
            assert!(cx.facts().refresh_token.is_none());
        });
    }
}
