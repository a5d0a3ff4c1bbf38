//! `aks.identity`: may the identity the kubelet pulls with (the kubelet managed identity, or the
//! cluster's service principal) pull from the registry? Evaluated as `--principal` does.

use futures::future::BoxFuture;
use serde_json::Value;

use super::{arm_denied, inputs, not_requested};
use crate::azure::aks::{self, ManagedCluster, PullIdentity};
use crate::azure::arm::Arm;
use crate::azure::graph;
use crate::azure::roles::{self, names, Mode};
use crate::catalogue::Code;
use crate::checks::auth::{assignments, evaluate_principal, mode_of, portal_step, RECENT_MINUTES};
use crate::checks::{ArmRegistry, Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;
use crate::request::CheckArgs;

pub struct AksIdentity;

impl Check for AksIdentity {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new("aks.identity", Group::Cluster, "pull identity", "プル用 ID")
            .needs(&[Fact::AksCluster, Fact::ArmRegistry]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        not_requested(args, lang)
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { aks_identity(cx).await })
    }
}

/// The object ID of an application's service principal, from Microsoft Graph.
async fn service_principal_object_id(cx: &CheckCx<'_>, client_id: &str) -> Result<String, String> {
    // The client ID goes into an OData key: only a GUID, so nothing can change the path.
    if !(client_id.len() == 36 && client_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')) {
        return Err(cx.t(
            format!("the client ID {client_id:?} is not a GUID; Graph was not asked"),
            format!("クライアント ID {client_id:?} は GUID ではないため、Graph には問い合わせていません"),
        ));
    }
    let token = cx.facts().graph_token.clone();
    let Some(token) = token else {
        return Err(cx.t(
            "no Microsoft Graph token for the credential under test",
            "検査対象の資格情報の Microsoft Graph トークンがありません",
        ));
    };
    cx.ctx.redactor.register(token.expose());
    let cloud = cx.cloud();
    let url = graph::service_principal_url(cx.ctx, cloud, client_id);
    let select = [("$select", "id,appId,displayName")];
    let resp = graph::get(cx.ctx, &url, &select, &token).await?;
    let json = resp.json;
    if resp.status != 200 {
        let err = crate::azure::error_summary(json.as_ref());
        return Err(format!("GET {url} → {}: {}", resp.status, err.trim()));
    }
    json.as_ref()
        .and_then(|j| j.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("GET {url}: no id in the answer"))
}

/// The identity the nodes pull with: its object ID and how to speak of it (English, Japanese).
struct Principal {
    object_id: String,
    label_en: String,
    label_ja: String,
}

async fn aks_identity(cx: &CheckCx<'_>) -> Outcome {
    let (cluster, reg, arm) = match inputs(cx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let who = match pull_principal(cx, &cluster).await {
        Ok(p) => p,
        Err(o) => return o,
    };
    let principal = &who.object_id;
    let mode = mode_of(&reg);
    let outcome = match cx.args.repository_name() {
        Some(repo) => evaluate_principal(cx, principal, &["pull"], Some(repo), false).await,
        None => registry_wide_pull(cx, &arm, &reg, principal, mode).await,
    };
    // Speak of the identity by what it is, and give the fix the way AKS attaches a registry.
    let mut outcome = outcome
        .evidence("pull_identity", cluster.pull_identity.evidence())
        .evidence("principal", principal.clone())
        .evidence("cluster_id", cluster.id.clone());
    outcome.message = outcome.message.replacen(
        principal,
        &cx.t(
            format!("{} ({principal})", who.label_en),
            format!("{} ({principal})", who.label_ja),
        ),
        1,
    );
    for f in &mut outcome.findings {
        in_aks_terms(cx, f, &cluster, &reg, &who, mode);
    }
    outcome
}

/// The object ID of the kubelet identity, or of the cluster's service principal (from Graph);
/// an info outcome when there is none to evaluate.
async fn pull_principal(cx: &CheckCx<'_>, cluster: &ManagedCluster) -> Result<Principal, Outcome> {
    match &cluster.pull_identity {
        PullIdentity::Kubelet {
            object_id: Some(oid),
            resource_id,
            ..
        } => {
            let name = resource_id
                .as_deref()
                .map(aks::short_name)
                .unwrap_or_else(|| oid.clone());
            Ok(Principal {
                object_id: oid.clone(),
                label_en: format!("kubelet identity {name}"),
                label_ja: format!("kubelet ID {name}"),
            })
        }
        PullIdentity::ServicePrincipal { client_id } => {
            match service_principal_object_id(cx, client_id).await {
                Ok(oid) => Ok(Principal {
                    object_id: oid,
                    label_en: format!("service principal {client_id}"),
                    label_ja: format!("サービス プリンシパル {client_id}"),
                }),
                Err(why) => Err(Outcome::info(cx.t(
                    format!("{} pulls as service principal {client_id}, whose object ID could not be looked up ({why}); look it up and evaluate it with --principal", cluster.name),
                    format!("{} はサービス プリンシパル {client_id} としてプルしますが、そのオブジェクト ID を調べられませんでした ({why})。調べたうえで --principal で評価してください", cluster.name),
                ))
                .evidence("pull_identity", cluster.pull_identity.evidence())
                .evidence("object_id_lookup", why)
                .evidence(
                    "confirm_with",
                    vec![format!("az ad sp show --id {client_id} --query id --output tsv")],
                )),
            }
        }
        _ => Err(Outcome::info(cx.t(
            format!(
                "{}: ARM shows neither a kubelet identity nor a service principal for the nodes",
                cluster.name
            ),
            format!(
                "{}: ARM にはノードの kubelet ID もサービス プリンシパルも表示されません",
                cluster.name
            ),
        ))
        .evidence("pull_identity", cluster.pull_identity.evidence())),
    }
}

/// A missing-role finding said in AKS's terms: the identity named, no application-ID lookup,
/// and the fix the way AKS attaches a registry (`az aks update --attach-acr` in legacy mode; why
/// it does not help in ABAC mode). Other findings are left as they are.
fn in_aks_terms(
    cx: &CheckCx<'_>,
    f: &mut RawFinding,
    cluster: &ManagedCluster,
    reg: &ArmRegistry,
    who: &Principal,
    mode: Mode,
) {
    if !matches!(
        f.code,
        Code::RBAC_ROLE_MISSING
            | Code::ABAC_LEGACY_ROLE_IGNORED
            | Code::ABAC_CONDITION_EXCLUDES_REPOSITORY
            | Code::REPOSITORY_PERMISSION_MISSING
    ) || f.severity == Some(Severity::Info)
    {
        return;
    }
    let (label_en, label_ja) = (&who.label_en, &who.label_ja);
    f.evidence
        .insert("pull_identity".into(), cluster.pull_identity.evidence());
    f.evidence
        .insert("assignee".into(), who.object_id.clone().into());
    // The object ID came from ARM or Graph: no need to look it up from an application ID.
    f.commands.retain(|c| !c.starts_with("az ad sp show"));
    f.solution.retain(|s| {
        !s.starts_with("no role assignment applies to")
            && !s.contains("に適用されるロールの割り当てはありません")
    });
    f.evidence
        .insert("cluster_id".into(), cluster.id.clone().into());
    match mode {
        Mode::Legacy => {
            let attach = format!(
                "az aks update --name {} --resource-group {} --attach-acr {}",
                cluster.name, cluster.resource_group, reg.id
            );
            f.commands.insert(0, attach);
            f.solution.insert(
                0,
                cx.t(
                    format!("`az aks update --attach-acr` gives the {label_en} AcrPull on the registry; the `az role assignment create` line below does the same by hand."),
                    format!("`az aks update --attach-acr` はレジストリに対する AcrPull を {label_ja} に割り当てます。下の `az role assignment create` は同じことを手動で行います。"),
                ),
            );
        }
        Mode::Abac => {
            f.solution.insert(
                0,
                cx.t(
                    format!("`az aks update --attach-acr` assigns AcrPull, which a registry in \"{}\" mode does not honour: assign Container Registry Repository Reader to the {label_en} instead (the command below).", mode.portal_name()),
                    format!("`az aks update --attach-acr` が割り当てる AcrPull は「{}」モードのレジストリでは無視されます。代わりに {label_ja} に Container Registry Repository Reader を割り当ててください (下のコマンド)。", mode.portal_name()),
                ),
            );
        }
    }
}

/// Without `--repository`: may the identity pull from the registry at all?
async fn registry_wide_pull(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    reg: &ArmRegistry,
    principal: &str,
    mode: Mode,
) -> Outcome {
    let roles = match assignments(cx, arm, &reg.id, principal).await {
        Ok(r) => r,
        Err(e) => {
            return arm_denied(
                cx,
                &format!("the role assignments at {}", reg.name),
                &format!(" {} のロールの割り当て", reg.name),
                &e,
            )
        }
    };
    let now = cx.ctx.clock.now();
    let verdicts = roles::evaluate(
        mode,
        &roles,
        "",
        now,
        time::Duration::minutes(RECENT_MINUTES),
    );
    let held: Vec<String> = roles.iter().map(|r| r.role.name.clone()).collect();
    let held_text = if held.is_empty() {
        cx.t("no role at this registry", "このレジストリでのロールなし")
    } else {
        held.join(", ")
    };
    let roles_json: Vec<Value> = roles.iter().map(|r| r.describe(&reg.id)).collect();
    let pull = verdicts.iter().find(|v| v.action == "pull");
    let base = |o: Outcome| {
        o.evidence("role_assignment_mode", mode.portal_name())
            .evidence("role_assignments", roles_json.clone())
    };
    if pull.is_some_and(|v| v.allowed()) {
        return base(Outcome::pass(cx.t(
            format!(
                "{principal} may pull from every repository of {} ({held_text})",
                reg.name
            ),
            format!(
                "{principal} は {} のすべてのリポジトリからプルできます ({held_text})",
                reg.name
            ),
        )));
    }
    if roles.iter().any(|r| r.condition.is_some()) {
        return base(Outcome::info(cx.t(
            format!("{principal} holds {held_text} with conditions on the repository: give --repository to evaluate the image the cluster pulls"),
            format!("{principal} は {held_text} をリポジトリの条件付きで持っています。クラスターがプルするイメージを評価するには --repository を指定してください"),
        )));
    }
    let ignored: Vec<String> = pull.map(|v| v.ignored.clone()).unwrap_or_default();
    let code = match mode {
        Mode::Legacy => Code::RBAC_ROLE_MISSING,
        Mode::Abac if !ignored.is_empty() => Code::ABAC_LEGACY_ROLE_IGNORED,
        Mode::Abac => Code::REPOSITORY_PERMISSION_MISSING,
    };
    let role = match mode {
        Mode::Legacy => names::ACR_PULL,
        Mode::Abac => names::REPOSITORY_READER,
    };
    let msg = cx.t(
        format!(
            "the registry uses \"{}\"; {principal} has {held_text}, none of which lets it pull",
            mode.portal_name()
        ),
        format!(
            "レジストリは「{}」モードです。{principal} の割り当て ({held_text}) にはプルを許可するものがありません",
            mode.portal_name()
        ),
    );
    let f = RawFinding::new(code, msg.clone())
        .evidence("missing", vec!["pull"])
        .evidence("ignored_roles", ignored)
        .evidence("role_assignment_mode", mode.portal_name())
        .evidence("role_assignments", roles_json.clone())
        .command(roles::assign_command(role, principal, &reg.id, None))
        .step(portal_step(cx, Some(mode)));
    base(Outcome::fail(msg, f))
}
