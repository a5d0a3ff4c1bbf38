//! `identity.access_token`: an access token for the scopes `--repository` and `--need` ask
//! for, and what the registry granted.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::json;

use super::refresh_token::token_summary;
use super::refusal::{refusal, Step};
use super::{note_date, REPOSITORY_ACTIONS};
use crate::azure::acr_token::{self, AcrToken};
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Credential, Fact, Grants, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::request::{CheckArgs, Need};

pub struct AccessTokenCheck;

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
            RawFinding::new(Code::CONNECTIVITY_ACCESS_TOKEN_ERROR, detail)
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
        if let Some(refused) = anonymous_pull(cx, &t, &granted, &grants_text) {
            return refused;
        }
    }
    let (msg_en, msg_ja) = granted_message(cx, &t, readable, &grants_text);
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

/// An anonymous run: records whether anonymous pull works, and fails when the token carries no
/// pull on `--repository`.
fn anonymous_pull(
    cx: &CheckCx<'_>,
    t: &AcrToken,
    granted: &BTreeMap<String, Vec<String>>,
    grants_text: &[String],
) -> Option<Outcome> {
    let pulled = cx.args.repository_name().map(|r| {
        granted
            .get(&format!("repository:{r}"))
            .is_some_and(|a| a.iter().any(|x| x == "pull" || x == "*"))
    });
    if pulled == Some(false) {
        let detail = cx.t(
            format!("anonymous access was asked (--auth anonymous); {} issued a token without pull: {}", t.request, grants_text.join("; ")),
            format!("匿名アクセス (--auth anonymous) が要求されましたが、{} のトークンには pull がありません: {}", t.request, grants_text.join("; ")),
        );
        return Some(Outcome::fail(
            detail.clone(),
            RawFinding::new(Code::ANONYMOUS_PULL_DISABLED, detail).command(format!(
                "az acr update --name {} --anonymous-pull-enabled true",
                cx.registry_name()
            )),
        ));
    }
    None
}

/// The pass message in both languages: what the token grants, and that without
/// `--repository` only the flow is proven.
fn granted_message(
    cx: &CheckCx<'_>,
    t: &AcrToken,
    readable: bool,
    grants_text: &[String],
) -> (String, String) {
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
    (msg_en, msg_ja)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
