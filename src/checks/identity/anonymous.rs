//! `identity.anonymous`: an anonymous token asked for beside the signed-in path when the
//! registry's settings say anonymous pull is on.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::access_token::requested_scopes;
use crate::azure::acr_token;
use crate::checks::{Check, CheckCx, Credential, Fact, Group, Meta, Outcome};

/// A registry that allows anonymous pull (ARM says so) is probed anonymously too, beside the
/// signed-in path, so the token exchange never waits for ARM.
pub struct AnonymousProbeCheck;

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
