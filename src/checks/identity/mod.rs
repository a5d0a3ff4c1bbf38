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
//!
//! One file per check (`credential`, `refresh_token`, `access_token`, `anonymous`); how each
//! source gets its credential in `sources` (the client calls that build no finding are in
//! [`crate::azure::credential_sources`]); Entra's refusals in `entra_refusal`, the registry token
//! service's in `refusal`; another identity for reading ARM in `reader`.

use serde_json::{json, Value};

use super::{BasicKind, CheckCx, IdentityClaims, ServerDate};
use crate::azure::acr_token;
use crate::lang::Lang;
use crate::protocol::docker_config::EMPTY_GUID;

mod access_token;
mod anonymous;
mod credential;
mod entra_refusal;
mod reader;
mod refresh_token;
mod refusal;
mod sources;

pub use access_token::requested_scopes;
pub use reader::{arm_reader, reader_sources, ArmReader};

pub use access_token::AccessTokenCheck;
pub use anonymous::AnonymousProbeCheck;
pub use credential::CredentialCheck;
pub use refresh_token::RefreshTokenCheck;

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
}
