//! A refusal of the registry's token service (`/oauth2/exchange`, `/oauth2/token`) turned into
//! a cause, for each kind of credential.

use serde_json::Value;

use super::{kind_words, note_date, rfc3339, who};
use crate::azure::acr_token::AcrTokenError;
use crate::catalogue::Code;
use crate::checks::{
    evidence_of, BasicKind, CheckCx, Credential, IdentityClaims, Outcome, RegistryTokenState,
};
use crate::finding::RawFinding;
use crate::protocol::docker_config::EMPTY_GUID;
use crate::redact::Secret;

/// Which step of the flow refused.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Refresh,
    Access,
}

/// Maps a refusal of the registry's token service to a cause.
pub(super) fn refusal(
    cx: &CheckCx<'_>,
    step: Step,
    cred: &Credential,
    e: &AcrTokenError,
) -> Outcome {
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
    let registry = cx.registry_name();
    let status_text = status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "no answer".into());
    let said = cx.t(
        format!("{request} answered {status_text}: {message}"),
        format!("{request} の応答は {status_text}: {message}"),
    );
    let step_code = match step {
        Step::Refresh => Code::CONNECTIVITY_REFRESH_TOKEN_ERROR,
        Step::Access => Code::CONNECTIVITY_ACCESS_TOKEN_ERROR,
    };
    let base = |code: Code, detail: String| {
        RawFinding::new(code, detail)
            .evidence("request", request.clone())
            .evidence("status", status)
            .evidence("registry_message", message.clone())
    };
    let finding = if status == Some(429) {
        base(Code::CONNECTIVITY_TOOMANYREQUESTS_ERROR, said.clone())
    } else if lower.contains("application not registered with aad") {
        let app = match cred {
            Credential::Basic { username, .. } => username.clone(),
            Credential::Entra { claims, .. } => claims.app_id.clone().unwrap_or_default(),
            _ => String::new(),
        };
        base(
            Code::APP_NOT_REGISTERED_WITH_AAD,
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
                base(
                    Code::ANONYMOUS_PULL_DISABLED,
                    cx.t(
                        format!("anonymous access was asked (--auth anonymous) and the registry refuses it: {said}"),
                        format!("匿名アクセス (--auth anonymous) が要求されましたが、レジストリは拒否しました: {said}"),
                    ),
                )
                .command(format!("az acr update --name {registry} --anonymous-pull-enabled true"))
                .command(format!("docker login {} && docker pull {}/{}", cx.login_server(), cx.login_server(), if repo.is_empty() { "<repository>" } else { &repo }))
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
    step_code: Code,
    claims: &IdentityClaims,
    source: &str,
    lower: &str,
    said: String,
    base: impl Fn(Code, String) -> RawFinding,
) -> RawFinding {
    let aud = claims.audience.clone().unwrap_or_default();
    let arm_aud = aud.to_ascii_lowercase().contains("management.");
    let tenant = claims.tenant_id.clone().unwrap_or_else(|| "?".into());
    if step == Step::Refresh
        && (lower.contains("authentication-as-arm") || (arm_aud && lower.contains("audience")))
    {
        return base(
            Code::ARM_AUDIENCE_TOKEN_DISABLED,
            cx.t(
                format!("the Entra token's audience is Azure Resource Manager ({aud}) and the registry's authentication-as-arm policy refuses it: {said}"),
                format!("Entra トークンの対象ユーザーは Azure Resource Manager ({aud}) で、レジストリの authentication-as-arm ポリシーが拒否しました: {said}"),
            ),
        )
        .evidence("token_audience", aud)
        .command(format!("az acr config authentication-as-arm update --registry {} --status enabled", cx.registry_name()));
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
            Code::AAD_TOKEN_EXPIRED,
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
    step_code: Code,
    username: &str,
    password: &Secret,
    kind: BasicKind,
    source: &str,
    registry: &str,
    lower: &str,
    said: String,
    base: impl Fn(Code, String) -> RawFinding,
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
            admin_user_refusal(cx, username, registry, said, &base)
        }
        BasicKind::ServicePrincipal if lower.contains("expired") => {
            cx.facts().expiry_reported.push("sp_client_secret".into());
            base(
                Code::SP_SECRET_EXPIRED,
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
                Code::REGISTRY_TOKEN_PASSWORD_EXPIRED,
                cx.t(
                    format!("repository-scoped token '{username}' is disabled or its password has expired: {said}"),
                    format!("リポジトリ スコープのトークン '{username}' は無効化されているか、パスワードが期限切れです: {said}"),
                ),
            )
            .command(format!("az acr token credential generate --name {username} --registry {registry} --password1"))
        }
        BasicKind::RefreshToken => {
            refresh_token_refusal(cx, password, source, registry, lower, said, &base)
        }
        BasicKind::RepositoryToken => {
            repository_token_refusal(cx, username, kind, registry, said, &base)
        }
        BasicKind::ServicePrincipal => base(
            Code::BASIC_CREDENTIALS_INVALID,
            cx.t(
                format!("username '{username}' looks like {words}; the registry refused the pair, which cannot tell a wrong secret from an expired one: {said}"),
                format!("ユーザー名 '{username}' は {words} と判断されます。レジストリはこの組を拒否しましたが、シークレットの誤りと期限切れは区別できません: {said}"),
            ),
        )
        .alternative(&[Code::SP_SECRET_EXPIRED])
        .evidence("basic_kind", format!("{kind:?}"))
        .command(format!("az ad app credential list --id {username}")),
        _ => base(
            Code::BASIC_CREDENTIALS_INVALID,
            cx.t(
                format!("username '{username}' looks like {words}; the registry refused the pair: {said}"),
                format!("ユーザー名 '{username}' は {words} と判断されます。レジストリはこの組を拒否しました: {said}"),
            ),
        )
        .evidence("basic_kind", format!("{kind:?}")),
    }
}

/// A refused admin user: disabled or a wrong password, told apart by the registry's settings
/// when they were read.
fn admin_user_refusal(
    cx: &CheckCx<'_>,
    username: &str,
    registry: &str,
    said: String,
    base: &impl Fn(Code, String) -> RawFinding,
) -> RawFinding {
    let admin = cx
        .facts()
        .arm_registry
        .as_ref()
        .and_then(|r| r.property("adminUserEnabled").and_then(Value::as_bool));
    let read_by = cx
        .facts()
        .arm_read
        .as_ref()
        .map(|a| super::reader::describe_reader(a.source, &a.claims));
    match admin {
        Some(true) => base(
            Code::BASIC_CREDENTIALS_INVALID,
            cx.t(
                format!("the admin user of {registry} is enabled but its password was refused (regenerated?): {said}"),
                format!("{registry} の管理者ユーザーは有効ですが、パスワードが拒否されました (再生成された可能性): {said}"),
            ),
        )
        .evidence("admin_user_enabled", true)
        .evidence("settings_read_by", read_by)
        .command(format!("az acr credential show --name {registry}")),
        Some(false) => base(
            Code::ADMIN_USER_DISABLED,
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
            Code::BASIC_CREDENTIALS_INVALID,
            cx.t(
                format!("username '{username}' is the admin user of {registry} and the registry refused the pair; without the registry's settings this cannot tell a disabled admin user from a wrong or regenerated password: {said}"),
                format!("ユーザー名 '{username}' は {registry} の管理者ユーザーで、レジストリはこの組を拒否しました。レジストリ設定がないため、管理者ユーザーの無効化と、誤った (または再生成された) パスワードを区別できません: {said}"),
            ),
        )
        .alternative(&[Code::ADMIN_USER_DISABLED])
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

/// A refused ACR refresh token given as a password: expired in the Docker config, or refused.
fn refresh_token_refusal(
    cx: &CheckCx<'_>,
    password: &Secret,
    source: &str,
    registry: &str,
    lower: &str,
    said: String,
    base: &impl Fn(Code, String) -> RawFinding,
) -> RawFinding {
    let exp = crate::redact::jwt_claims(password.expose())
        .and_then(|c| c.get("exp").and_then(Value::as_i64));
    let expired = exp.is_some_and(|e| e <= cx.ctx.clock.unix()) || lower.contains("expired");
    if expired && source == "docker-config" {
        cx.facts()
            .expiry_reported
            .push("docker_identity_token".into());
        base(
            Code::DOCKER_STORED_TOKEN_EXPIRED,
            cx.t(
                format!(
                    "the ACR refresh token stored in the Docker config has expired{}: {said}",
                    exp.map(|e| format!(" ({})", rfc3339(e)))
                        .unwrap_or_default()
                ),
                format!(
                    "Docker 構成に保存された ACR リフレッシュ トークンは期限切れです{}: {said}",
                    exp.map(|e| format!(" ({})", rfc3339(e)))
                        .unwrap_or_default()
                ),
            ),
        )
        .command(format!("az acr login --name {registry}"))
    } else {
        base(
            Code::BASIC_CREDENTIALS_INVALID,
            cx.t(
                format!("the ACR refresh token given as password (username {EMPTY_GUID}) was refused{}: {said}", if expired { " (it has expired)" } else { "" }),
                format!("パスワードとして渡した ACR リフレッシュ トークン (ユーザー名 {EMPTY_GUID}) は拒否されました{}: {said}", if expired { " (期限切れ)" } else { "" }),
            ),
        )
        .command(format!("az acr login --name {registry} --expose-token"))
    }
}

/// A refused repository-scoped token: disabled or without a current password (by the token's
/// state read through ARM), a wrong password, or, without that state, either.
fn repository_token_refusal(
    cx: &CheckCx<'_>,
    username: &str,
    kind: BasicKind,
    registry: &str,
    said: String,
    base: &impl Fn(Code, String) -> RawFinding,
) -> RawFinding {
    let words = kind_words(kind, cx.lang);
    let state = cx
        .facts()
        .arm_read
        .as_ref()
        .and_then(|a| a.registry_token.clone());
    let (status, passwords) = match &state {
        Some(RegistryTokenState::Read {
            status, passwords, ..
        }) => (status.clone(), passwords.as_slice()),
        _ => (None, [].as_slice()),
    };
    let now = cx.ctx.clock.now();
    let expiries: Vec<Option<time::OffsetDateTime>> = passwords
        .iter()
        .map(|p| {
            p.expiry.as_deref().and_then(|e| {
                time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339).ok()
            })
        })
        .collect();
    // The token's state was read (its status may still be unknown), or not.
    let read = matches!(state, Some(RegistryTokenState::Read { .. }));
    let state = state.as_ref().map(evidence_of);
    let all_expired = !expiries.is_empty() && expiries.iter().all(|e| e.is_some_and(|e| e <= now));
    let show = format!("az acr token show --name {username} --registry {registry}");
    if status.as_deref() == Some("disabled") || all_expired {
        cx.facts()
            .expiry_reported
            .push("registry_token_password".into());
        base(
            Code::REGISTRY_TOKEN_PASSWORD_EXPIRED,
            cx.t(
                format!("repository-scoped token '{username}' is {} according to the registry's settings: {said}", if all_expired { "without an unexpired password" } else { "disabled" }),
                format!("レジストリ設定によると、リポジトリ スコープのトークン '{username}' は{}: {said}", if all_expired { "有効期限内のパスワードがありません" } else { "無効化されています" }),
            ),
        )
        .evidence("registry_token", state)
        .command(show)
        .command(format!("az acr token credential generate --name {username} --registry {registry} --password1"))
    } else if read {
        base(
            Code::BASIC_CREDENTIALS_INVALID,
            cx.t(
                format!("repository-scoped token '{username}' is enabled with a current password, and the registry refused the password given: {said}"),
                format!("リポジトリ スコープのトークン '{username}' は有効で期限内のパスワードがありますが、指定したパスワードは拒否されました: {said}"),
            ),
        )
        .evidence("registry_token", state)
        .command(format!("az acr token credential generate --name {username} --registry {registry} --password1"))
    } else {
        base(
            Code::BASIC_CREDENTIALS_INVALID,
            cx.t(
                format!("username '{username}' looks like {words}; the registry refused the pair, and without the token's state (registry settings) a wrong password cannot be told from a disabled token or an expired password: {said}"),
                format!("ユーザー名 '{username}' は {words} と判断されます。レジストリはこの組を拒否しました。トークンの状態 (レジストリ設定) がないため、パスワードの誤りと、トークンの無効化やパスワードの期限切れを区別できません: {said}"),
            ),
        )
        .alternative(&[Code::REGISTRY_TOKEN_PASSWORD_EXPIRED])
        .evidence("basic_kind", format!("{kind:?}"))
        .evidence("missing", "registry_token_state")
        .command(show)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
