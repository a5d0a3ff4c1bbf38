//! `registry.cmk`: the identity of a customer-managed encryption key is one of the registry's.

use futures::future::BoxFuture;
use serde_json::Value;

use crate::azure::arm::RegistrySettings;
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;

pub struct RegistryCmk;

impl Check for RegistryCmk {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "registry.cmk",
            Group::Registry,
            "encryption key identity",
            "暗号化キーの ID",
        )
        .needs(&[Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { registry_cmk(cx) })
    }
}

fn registry_cmk(cx: &CheckCx<'_>) -> Outcome {
    let Some(reg) = cx.facts().arm_registry.clone() else {
        return Outcome::skip(cx.t(
            "registry settings were not read through ARM (see registry settings)",
            "レジストリ設定を ARM から読み取れていません (レジストリ設定を参照)",
        ));
    };
    let s = RegistrySettings::of(&reg);
    if !s
        .encryption
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("enabled"))
    {
        return Outcome::pass(cx.t(
            "customer-managed key encryption is not enabled",
            "カスタマー マネージド キーによる暗号化は有効ではありません",
        ));
    }
    let key_identity = s.encryption_identity.clone().unwrap_or_default();
    let identity = reg.resource.get("identity");
    let mut known: Vec<String> = Vec::new();
    if let Some(uai) = identity
        .and_then(|i| i.get("userAssignedIdentities"))
        .and_then(Value::as_object)
    {
        for v in uai.values() {
            if let Some(c) = v.get("clientId").and_then(Value::as_str) {
                known.push(c.to_string());
            }
        }
    }
    let system = identity
        .and_then(|i| i.get("principalId"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let matches = !key_identity.is_empty()
        && (known.iter().any(|k| k.eq_ignore_ascii_case(&key_identity))
            || system
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(&key_identity))
            || (key_identity.eq_ignore_ascii_case("system") && system.is_some()));
    if matches {
        return Outcome::pass(cx.t(
            format!("key identity {key_identity} is assigned to {}", reg.name),
            format!(
                "キーの ID {key_identity} は {} に割り当てられています",
                reg.name
            ),
        ))
        .evidence("key_identity", key_identity)
        .evidence("registry_identities", known);
    }
    let detail = cx.t(
        format!(
            "encryption uses identity {key_identity}, but {} has no such identity (its user-assigned client IDs: {})",
            reg.name,
            if known.is_empty() { "none".into() } else { known.join(", ") }
        ),
        format!(
            "暗号化に ID {key_identity} が使われていますが、{} にその ID はありません (ユーザー割り当て ID のクライアント ID: {})",
            reg.name,
            if known.is_empty() { "なし".into() } else { known.join(", ") }
        ),
    );
    Outcome::fail(
        cx.t(
            format!("CMK identity {key_identity} missing"),
            format!("CMK の ID {key_identity} が見つかりません"),
        ),
        RawFinding::new(Code::CMK_ERROR, detail)
            .evidence("key_identity", key_identity.clone())
            .evidence("registry_identities", known)
            .evidence(
                "key",
                reg.property("encryption.keyVaultProperties.keyIdentifier")
                    .cloned()
                    .unwrap_or(Value::Null),
            )
            .command(format!("az acr identity show --name {}", reg.name))
            .command(format!("az acr encryption show --name {}", reg.name))
            // The key names the identity by client ID; `identity assign` wants its resource ID.
            .command(format!(
                "az identity list --query \"[?clientId=='{key_identity}'].id\" --output tsv"
            ))
            .command(format!(
                "az acr identity assign --name {} --identities <identity-id>",
                reg.name
            )),
    )
}
