//! `auth.catalog`: listing repositories (`GET /v2/_catalog`), and why it is refused.

use futures::future::BoxFuture;
use serde_json::Value;

use super::probes::{errors_text, probe_inputs, probe_line, registry_request};
use super::{
    arm_client, assignments, catalog_needed, grants_for, mode_of, portal_step, roles_evidence,
    scope_or_lookup,
};
use crate::azure::roles::{self, names, Mode};
use crate::catalogue::Code;
use crate::checks::{ArmRegistry, Check, CheckCx, Credential, Fact, Group, Meta, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::redact::Secret;
use crate::trust::Carry;

pub struct AuthCatalog;

impl Check for AuthCatalog {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "auth.catalog",
            Group::Authorization,
            "repository catalog",
            "リポジトリ カタログ",
        )
        .needs(&[Fact::AccessToken])
        .uses(&[Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_catalog(cx).await })
    }
}

async fn auth_catalog(cx: &CheckCx<'_>) -> Outcome {
    let needed = catalog_needed(cx.args);
    let (token, login, credential, arm_token, reg) = match probe_inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    let (granted, requested) = grants_for(cx, "registry:catalog");
    let claimed = granted.as_ref().is_some_and(|g| !g.is_empty());
    let path = "/v2/_catalog?n=100";
    let request = registry_request(cx, &login, &token, reqwest::Method::GET, path);
    let (status, note, listed) = match cx
        .ctx
        .send_credential(Carry::Registry(&login), request)
        .await
    {
        Ok(r) if r.status == 200 => {
            let n = r
                .json()
                .and_then(|j| {
                    j.get("repositories")
                        .and_then(Value::as_array)
                        .map(Vec::len)
                })
                .unwrap_or(0);
            (Some(r.status), format!("{n} repositories listed"), Some(n))
        }
        Ok(r) => (Some(r.status), errors_text(&r), None),
        Err(e) => (None, e.to_string(), None),
    };
    let call = probe_line("GET", path, status, &note);
    if let Some(n) = listed {
        return Outcome::pass(cx.t(
            format!("GET /v2/_catalog listed {n} repositories"),
            format!("GET /v2/_catalog で {n} 個のリポジトリを一覧表示しました"),
        ))
        .evidence("token_granted", granted.unwrap_or_default())
        .evidence("registry_calls", vec![call]);
    }
    let asked = requested.is_some() || granted.is_some();
    if !asked && !needed {
        return Outcome::info(cx.t(
            "the access token was not asked for registry:catalog:* (give --need catalog to check listing)",
            "アクセス トークンは registry:catalog:* を要求していません (一覧表示を確認するには --need catalog を指定します)",
        ))
        .evidence("registry_calls", vec![call]);
    }
    let message = cx.t(
        format!(
            "listing repositories is not allowed (GET /v2/_catalog: {note}){}",
            if needed { "" } else { "; not needed" }
        ),
        format!(
            "リポジトリの一覧表示は許可されていません (GET /v2/_catalog: {note}){}",
            if needed {
                ""
            } else {
                "。必要ではありません"
            }
        ),
    );
    let decorate = |o: Outcome| {
        o.evidence("needed", needed)
            .evidence("token_asked_for_catalog", asked)
            .evidence("token_claims_catalog", claimed)
            .evidence("registry_calls", vec![call.clone()])
    };
    let severity = if needed {
        Severity::Error
    } else {
        Severity::Info
    };
    let assignee = match &credential {
        Some(Credential::Entra { claims, .. }) => claims.object_id.clone(),
        _ => None,
    };
    let finding = refusal_finding(cx, needed, severity, arm_token, reg.as_ref(), assignee).await;
    match finding {
        Some(f) if needed => decorate(Outcome::fail(message, f)),
        Some(f) => decorate(Outcome::info(message).finding(f)),
        None => decorate(Outcome::info(message)),
    }
}

/// Why listing is refused, by the registry's mode: CATALOG_LISTER_MISSING (ABAC, with the
/// Catalog Lister assignment when one exists), RBAC_ROLE_MISSING (legacy, when needed), or
/// REPOSITORY_PERMISSION_MISSING with both as alternatives when the mode is unknown.
async fn refusal_finding(
    cx: &CheckCx<'_>,
    needed: bool,
    severity: Severity,
    arm_token: Option<Secret>,
    reg: Option<&ArmRegistry>,
    assignee: Option<String>,
) -> Option<RawFinding> {
    let name = cx.registry_name();
    match reg.map(mode_of) {
    Some(Mode::Abac) => {
        let mut roles_json = Value::Null;
        let mut lister: Vec<String> = Vec::new();
        if let (Some(t), Some(r), Some(oid)) = (arm_token, reg, assignee.as_ref()) {
            let arm = arm_client(cx, t);
            if let Ok(roles) = assignments(cx, &arm, &r.id, oid).await {
                lister = roles::catalog_verdict(Mode::Abac, &roles).0;
                roles_json = roles_evidence(&roles, &r.id);
            }
        }
        let mut f = RawFinding::new(
            Code::CATALOG_LISTER_MISSING,
            cx.t(
                format!(
                    "the registry uses \"{}\" and the repository roles do not include listing; {}",
                    Mode::Abac.portal_name(),
                    if lister.is_empty() {
                        "no Catalog Lister assignment was found".to_string()
                    } else {
                        format!("{} is assigned but the token does not carry it yet", lister.join(", "))
                    }
                ),
                format!(
                    "レジストリは「{}」モードで、リポジトリ ロールには一覧表示が含まれません。{}",
                    Mode::Abac.portal_name(),
                    if lister.is_empty() {
                        "Catalog Lister の割り当ては見つかりませんでした".to_string()
                    } else {
                        format!("{} は割り当て済みですがトークンにはまだ反映されていません", lister.join(", "))
                    }
                ),
            ),
        )
        .severity(severity)
        .evidence("role_assignments", roles_json)
        .command(roles::assign_command(
            names::CATALOG_LISTER,
            assignee.as_deref().unwrap_or("<object ID>"),
            &scope_or_lookup(reg, &name),
            None,
        ));
        f = f.step(portal_step(cx, Some(Mode::Abac)));
        Some(f)
    }
    Some(Mode::Legacy) if needed => Some(
        RawFinding::new(
            Code::RBAC_ROLE_MISSING,
            cx.t(
                "in \"RBAC Registry Permissions\" mode listing repositories needs AcrPull, AcrPush or AcrDelete at the registry",
                "「RBAC レジストリのアクセス許可」モードでは、リポジトリの一覧表示にレジストリでの AcrPull、AcrPush または AcrDelete が必要です",
            ),
        )
        .command(roles::assign_command(
            names::ACR_PULL,
            assignee.as_deref().unwrap_or("<object ID>"),
            &scope_or_lookup(reg, &name),
            None,
        ))
        .step(portal_step(cx, Some(Mode::Legacy))),
    ),
    None if needed => Some(RawFinding::new(
        Code::REPOSITORY_PERMISSION_MISSING,
        cx.t(
            "registry:catalog:* is not granted, and the registry's permissions mode could not be read through ARM",
            "registry:catalog:* が付与されておらず、レジストリのアクセス許可モードも ARM から読み取れませんでした",
        ),
    )
    .evidence("missing", vec!["registry:catalog:*"])
    .alternative(&[Code::CATALOG_LISTER_MISSING, Code::RBAC_ROLE_MISSING])
    .step(cx.t(
        format!("In \"RBAC Registry + ABAC Repository Permissions\" mode assign \"{}\"; otherwise AcrPull.", names::CATALOG_LISTER),
        format!("「RBAC レジストリ + ABAC リポジトリのアクセス許可」モードでは「{}」を、それ以外では AcrPull を割り当てます。", names::CATALOG_LISTER),
    ))),
    _ => None,
}
}
