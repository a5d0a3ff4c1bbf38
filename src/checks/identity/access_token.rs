//! `identity.access_token`: an access token for the scopes `--repository` and `--need` ask
//! for, and what the registry granted.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::json;

use super::refresh_token::token_summary;
use super::refusal::{refusal, Step};
use super::{note_date, REPOSITORY_ACTIONS};
use crate::azure::acr_token::{self, AcrToken, AcrTokenError};
use crate::catalogue::Code;
use crate::checks::{
    Challenge, Check, CheckCx, Credential, Fact, Grants, Group, LoginServer, Meta, Outcome,
};
use crate::finding::RawFinding;
use crate::redact::Secret;
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
    let (ls, cred, ch, refresh) = match inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    let anonymous = matches!(cred, Credential::Anonymous { .. });
    let scopes = requested_scopes(cx.args, anonymous);
    let Some(result) = request(cx, &ls, &ch, &cred, refresh.as_ref(), &scopes).await else {
        return Outcome::skip(cx.t("no refresh token", "リフレッシュ トークンがありません"));
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
    grants(cx, t, &scopes, anonymous)
}

/// The login server, the credential, the registry's challenge and the refresh token (if any),
/// or the skip saying what is missing.
fn inputs(
    cx: &CheckCx<'_>,
) -> Result<(LoginServer, Credential, Challenge, Option<Secret>), Box<Outcome>> {
    let Some(ls) = cx.facts().login_server.clone() else {
        return Err(Box::new(Outcome::skip(
            cx.t("no login server", "ログイン サーバーがありません"),
        )));
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
        return Err(Box::new(Outcome::skip(cx.t(
            "no credential or challenge",
            "資格情報またはチャレンジがありません",
        ))));
    };
    Ok((ls, cred, ch, refresh))
}

/// Asks the registry for the access token the way the credential allows: anonymously, from
/// the refresh token, or with the username and password. `None`: an Entra credential without
/// a refresh token, so nothing to ask with.
async fn request(
    cx: &CheckCx<'_>,
    ls: &LoginServer,
    ch: &Challenge,
    cred: &Credential,
    refresh: Option<&Secret>,
    scopes: &[String],
) -> Option<Result<AcrToken, AcrTokenError>> {
    let (realm, service) = (&ch.realm, &ch.service);
    let result = match (cred, refresh) {
        (Credential::Anonymous { .. }, _) => {
            acr_token::docker_style(cx.ctx, ls, realm, service, None, scopes).await
        }
        (_, Some(rt)) => {
            acr_token::access_from_refresh(cx.ctx, ls, realm, service, rt, scopes).await
        }
        (
            Credential::Basic {
                username, password, ..
            },
            None,
        ) => {
            acr_token::access_from_password(cx.ctx, ls, realm, service, username, password, scopes)
                .await
        }
        (Credential::Entra { .. }, None) => return None,
    };
    Some(result)
}

/// What the token grants against what was asked: fails when its claims cannot be read or (an
/// anonymous run) it carries no pull; otherwise the access token and the grants become facts.
fn grants(cx: &CheckCx<'_>, t: AcrToken, scopes: &[String], anonymous: bool) -> Outcome {
    let requested = requested_actions(scopes);
    let granted: BTreeMap<String, Vec<String>> =
        acr_token::granted_actions(&t.claims).into_iter().collect();
    let readable = !t.claims.is_empty();
    if !readable {
        return unreadable(cx, &t);
    }
    let grants_text = grants_text(&requested, &granted);
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

/// The actions asked for, per scope (`repository:app` -> [pull, push, …]).
fn requested_actions(scopes: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut requested = BTreeMap::new();
    for s in scopes {
        if let Some((k, a)) = acr_token::split_scope(s) {
            requested.insert(k, a);
        }
    }
    requested
}

/// `repository:app: [pull,push]` for every scope asked, with what the token grants on it.
fn grants_text(
    requested: &BTreeMap<String, Vec<String>>,
    granted: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    requested
        .keys()
        .map(|k| {
            let g = granted.get(k).cloned().unwrap_or_default();
            format!("{k}: [{}]", g.join(","))
        })
        .collect()
}

/// A 200 whose token is not a JWT cannot carry the registry's grants: the registry (or
/// something in front of it) broke the token, which docker would fail on too.
fn unreadable(cx: &CheckCx<'_>, t: &AcrToken) -> Outcome {
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
    Outcome::fail(
        detail.clone(),
        RawFinding::new(Code::CONNECTIVITY_ACCESS_TOKEN_ERROR, detail)
            .evidence("request", t.request.clone())
            .evidence("status", t.status),
    )
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
    use crate::lang::Lang;
    use crate::report::CheckStatus;

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

    fn token(claims: serde_json::Value) -> AcrToken {
        AcrToken {
            token: Secret::new("t"),
            claims: claims.as_object().cloned().unwrap_or_default(),
            server_date: None,
            request: "GET https://reg.azurecr.io/oauth2/token".into(),
            status: 200,
        }
    }

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grants_are_listed_per_scope_asked() {
        let requested =
            requested_actions(&scopes(&["repository:app:pull,push", "registry:catalog:*"]));
        assert_eq!(
            requested,
            BTreeMap::from([
                ("registry:catalog".to_string(), vec!["*".to_string()]),
                (
                    "repository:app".to_string(),
                    vec!["pull".to_string(), "push".to_string()]
                ),
            ])
        );
        let granted = BTreeMap::from([("repository:app".to_string(), vec!["pull".to_string()])]);
        assert_eq!(
            grants_text(&requested, &granted),
            vec!["registry:catalog: []", "repository:app: [pull]"]
        );
    }

    #[test]
    fn an_unreadable_token_grants_nothing() {
        crate::checks::with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            let o = grants(
                cx,
                token(json!({})),
                &scopes(&["repository:app:pull"]),
                false,
            );
            assert_eq!(o.status, CheckStatus::Fail);
            let codes = o.codes();
            assert_eq!(codes, [Code::CONNECTIVITY_ACCESS_TOKEN_ERROR]);
            let keys: Vec<&String> = o.findings[0].evidence.keys().collect();
            assert_eq!(keys, ["request", "status"]);
            assert_eq!(o.findings[0].evidence["status"], json!(200));
            assert!(cx.facts().access_token.is_none());
        });
    }

    #[test]
    fn anonymous_without_pull_is_refused() {
        let argv = [
            "--name",
            "reg",
            "--repository",
            "app",
            "--auth",
            "anonymous",
        ];
        crate::checks::with_test_cx(&argv, Lang::En, |cx| {
            let t =
                token(json!({"access": [{"type": "repository", "name": "app", "actions": []}]}));
            let o = grants(cx, t, &scopes(&["repository:app:pull"]), true);
            assert_eq!(o.status, CheckStatus::Fail);
            let codes = o.codes();
            assert_eq!(codes, [Code::ANONYMOUS_PULL_DISABLED]);
            assert!(cx.facts().grants.is_none());
        });
    }

    #[test]
    fn granted_actions_become_facts() {
        crate::checks::with_test_cx(&["--name", "reg", "--repository", "app"], Lang::En, |cx| {
            let t = token(
                json!({"access": [{"type": "repository", "name": "app", "actions": ["pull"]}]}),
            );
            let o = grants(cx, t, &scopes(&["repository:app:pull,push"]), false);
            assert_eq!(o.status, CheckStatus::Pass);
            assert!(o.findings.is_empty());
            let keys: Vec<&String> = o.evidence.keys().collect();
            assert_eq!(
                keys,
                ["access_token_claims", "granted", "request", "requested"]
            );
            assert_eq!(o.evidence["granted"], json!({"repository:app": ["pull"]}));
            assert_eq!(
                o.evidence["requested"],
                json!({"repository:app": ["pull", "push"]})
            );
            let f = cx.facts();
            assert!(f.access_token.is_some());
            let g = f.grants.as_ref().map(|g| g.granted.clone());
            assert_eq!(
                g,
                Some(BTreeMap::from([(
                    "repository:app".to_string(),
                    vec!["pull".to_string()]
                )]))
            );
        });
    }
}
