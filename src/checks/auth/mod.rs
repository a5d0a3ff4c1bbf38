//! RBAC and ABAC analysis, proven with real registry calls: the `auth.*` checks.
//!
//! `auth.repository` compares what the access token grants on
//! `--repository` with `--need` and confirms it with read-only registry calls; `auth.catalog`
//! does the same for listing repositories; `auth.principal` evaluates another identity's role
//! assignments through ARM. Every missing permission is explained from the role assignments and
//! the registry's role-assignment mode when ARM can be read. With a tag or digest in
//! `--repository`, `auth.image` (image.rs) looks the image up; with `--need push|delete`,
//! `auth.lock` (lock.rs) reads the repository's and image's locks.

//!
//! One file per check (`repository`, `image`, `lock`, `catalog`, `principal`); the ARM helpers
//! here are shared with `registry.arm` and `registry.cmk` (in `checks/registry/`) and `aks.*`; the
//! registry calls that prove what a token allows in `probes`; the explanation of missing rights
//! from role assignments (and `evaluate_principal`, which `aks.identity` uses too) in
//! `explain`.

use serde_json::Value;

use super::CheckCx;
use crate::azure::arm::{Arm, ArmError, RegistrySettings};
use crate::azure::roles::{self, AssignedRole, Mode};
use crate::checks::ArmRegistry;
use crate::redact::Secret;
use crate::request::{CheckArgs, Need};

mod catalog;
mod explain;
mod image;
mod lock;
mod principal;
mod probes;
mod repository;

pub use catalog::AuthCatalog;
pub(crate) use explain::evaluate_principal;
pub use image::AuthImage;
pub use lock::AuthLock;
pub use principal::AuthPrincipal;
pub use repository::AuthRepository;

/// Assignments created this recently may not be in effect yet.
pub(crate) const RECENT_MINUTES: i64 = 30;

pub(crate) fn arm_client<'a>(cx: &'a CheckCx<'a>, token: Secret) -> Arm<'a> {
    let cloud = cx.cloud();
    Arm::new(cx.ctx, crate::azure::arm::endpoint(cx.ctx, cloud), token)
}

/// Repository actions asked for by `--need` (pull when nothing is given).
fn repository_needs(args: &CheckArgs) -> Vec<&'static str> {
    if args.need.is_empty() {
        return vec!["pull"];
    }
    let mut out: Vec<&'static str> = args
        .need
        .iter()
        .filter(|n| **n != Need::Catalog)
        .map(|n| n.action())
        .collect();
    out.sort_by_key(|a| roles::REPOSITORY_ACTIONS.iter().position(|x| x == a));
    out.dedup();
    out
}

pub(crate) fn catalog_needed(args: &CheckArgs) -> bool {
    args.need.contains(&Need::Catalog)
}

pub(crate) fn mode_of(reg: &ArmRegistry) -> Mode {
    Mode::from_arm(&RegistrySettings::of(reg).role_assignment_mode)
}

fn join(items: &[&str]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

fn roles_evidence(roles: &[AssignedRole], registry_id: &str) -> Value {
    Value::from(
        roles
            .iter()
            .map(|r| r.describe(registry_id))
            .collect::<Vec<_>>(),
    )
}

/// Portal guidance for role assignments, in the run's language.
pub(crate) fn portal_step(cx: &CheckCx<'_>, mode: Option<Mode>) -> String {
    let mut en = String::from(
        "In the Azure portal: open the registry > Access control (IAM) > Add role assignment.",
    );
    let mut ja = String::from(
        "Azure portal では、レジストリ > アクセス制御 (IAM) > ロールの割り当ての追加 を開きます。",
    );
    if let Some(mode) = mode {
        en.push_str(&format!(
            " The registry's role assignment permissions mode is \"{}\" (registry > Properties).",
            mode.portal_name()
        ));
        ja.push_str(&format!(
            " このレジストリのロール割り当てアクセス許可モードは \"{}\" です (レジストリ > プロパティ)。",
            mode.portal_name()
        ));
    }
    cx.t(en, ja)
}

/// `$(az acr show ...)` when the registry id is unknown.
fn scope_or_lookup(reg: Option<&ArmRegistry>, name: &str) -> String {
    match reg {
        Some(r) => r.id.clone(),
        None => format!("$(az acr show --name {name} --query id --output tsv)"),
    }
}

/// Role assignments of `principal` at the registry, read once per run (several checks ask).
pub(crate) async fn assignments(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    registry_id: &str,
    principal: &str,
) -> Result<Vec<AssignedRole>, ArmError> {
    assignments_in(cx.ctx, arm, registry_id, principal).await
}

pub(crate) async fn assignments_in(
    ctx: &crate::context::Context,
    arm: &Arm<'_>,
    registry_id: &str,
    principal: &str,
) -> Result<Vec<AssignedRole>, ArmError> {
    let key = format!(
        "arm.role_assignments:{}:{}",
        registry_id.to_ascii_lowercase(),
        principal.trim().to_ascii_lowercase()
    );
    ctx.once(&key, || roles::assignments_for(arm, registry_id, principal))
        .await
}

/// Granted and requested actions for a scope key (`repository:app`), with `*` expanded.
fn grants_for(cx: &CheckCx<'_>, key: &str) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let f = cx.facts();
    let Some(g) = f.grants.as_ref() else {
        return (None, None);
    };
    let repository = key.starts_with("repository:");
    let find = |m: &std::collections::BTreeMap<String, Vec<String>>| {
        m.iter()
            .find(|(k, _)| k.as_str() == key || k.eq_ignore_ascii_case(key))
            .map(|(_, v)| if repository { expand(v) } else { v.clone() })
    };
    (find(&g.granted), find(&g.requested))
}

fn expand(actions: &[String]) -> Vec<String> {
    if actions.iter().any(|a| a == "*") {
        roles::REPOSITORY_ACTIONS
            .iter()
            .map(|a| a.to_string())
            .collect()
    } else {
        actions.to_vec()
    }
}
