//! Explaining missing rights from role assignments: which role, condition or mode keeps an
//! action from being granted, with the fix; and another identity's assignments evaluated against
//! what it needs ([`evaluate_principal`], for `--principal` and `aks.identity`).

use serde_json::{json, Value};

use super::{
    arm_client, assignments, join, mode_of, portal_step, roles_evidence, scope_or_lookup,
    RECENT_MINUTES,
};
use crate::azure::arm::Arm;
use crate::azure::roles::{self, names, ActionVerdict, AssignedRole, Mode};
use crate::catalogue::Code;
use crate::checks::{ArmRegistry, CheckCx, Outcome};
use crate::finding::{RawFinding, Severity};
use crate::protocol::abac_condition;

/// Who the explanation is about.
pub(super) struct Subject<'s> {
    /// Object ID for `--assignee`, when known.
    pub(super) assignee: Option<&'s str>,
    /// True when this is another identity (`--principal`), not the run's credential.
    pub(super) other: bool,
}

/// Findings that explain why `missing` (needed) actions are not granted on `repo`.
/// `roles` is `None` when role assignments could not be read (`why` says why).
#[allow(clippy::too_many_arguments)]
pub(super) async fn explain_missing(
    cx: &CheckCx<'_>,
    arm: Option<&Arm<'_>>,
    reg: Option<&ArmRegistry>,
    subject: &Subject<'_>,
    repo: &str,
    missing: &[&'static str],
    granted: &[&str],
    roles: Option<&[AssignedRole]>,
    why: Option<String>,
) -> Vec<RawFinding> {
    let name = cx.registry_name();
    let fix = Fix {
        missing,
        assignee: subject.assignee.unwrap_or("<object ID>"),
        scope: scope_or_lookup(reg, &name),
        repo,
    };
    let Some(roles) = roles else {
        // ARM cannot tell: name the actions, give the fix for the mode when known.
        let mode = reg.map(mode_of);
        return vec![unexplained(
            cx,
            &fix,
            mode,
            granted,
            why.unwrap_or_default(),
        )];
    };
    let Some(reg) = reg else {
        return Vec::new();
    };
    let mut findings = explained(cx, reg, subject, &fix, roles, granted);
    // Would the caller be able to apply the fix?
    if !findings.is_empty() {
        if let Some(arm) = arm {
            findings.extend(cannot_assign(cx, arm, reg).await);
        }
    }
    findings
}

/// The role assignments read, evaluated in the registry's mode: one finding per reason that
/// keeps some of the missing actions from being granted.
fn explained(
    cx: &CheckCx<'_>,
    reg: &ArmRegistry,
    subject: &Subject<'_>,
    fix: &Fix<'_>,
    roles: &[AssignedRole],
    granted: &[&str],
) -> Vec<RawFinding> {
    let mode = mode_of(reg);
    let now = cx.ctx.clock.now();
    let verdicts = roles::evaluate(
        mode,
        roles,
        fix.repo,
        now,
        time::Duration::minutes(RECENT_MINUTES),
    );
    let why = Why::of(mode, &verdicts, fix.missing);
    let roles_json = roles_evidence(roles, &reg.id);
    let who = Who::of(subject, fix.assignee);
    let mut findings: Vec<RawFinding> = Vec::new();
    if !why.excluded.is_empty() {
        findings.push(excluded_finding(
            cx,
            fix,
            mode,
            &who,
            &why.excluded,
            &roles_json,
        ));
    }
    if !why.ignored.is_empty() {
        findings.push(ignored_finding(
            cx,
            fix,
            mode,
            &who,
            &why.ignored,
            &roles_json,
        ));
    }
    if !why.none.is_empty() {
        let held: Vec<String> = roles.iter().map(|r| r.role.name.clone()).collect();
        findings.push(none_finding(
            cx,
            fix,
            mode,
            &who,
            &why.none,
            granted,
            &held,
            &roles_json,
        ));
    }
    if !why.assigned_but_missing.is_empty() {
        findings.extend(assigned_but_missing(
            cx,
            fix.repo,
            &why.assigned_but_missing,
            &roles_json,
        ));
    }
    findings
}

/// REPOSITORY_PERMISSION_MISSING when the role assignments allow the actions and the token still
/// lacks them; PERMISSION_RECENTLY_CHANGED too when one of the granting assignments is recent.
fn assigned_but_missing(
    cx: &CheckCx<'_>,
    repo: &str,
    assigned: &[(&'static str, Vec<String>, bool)],
    roles_json: &Value,
) -> Vec<RawFinding> {
    let actions: Vec<&str> = dedup(assigned.iter().map(|e| e.0));
    let by: Vec<&str> = dedup(assigned.iter().flat_map(|e| e.1.iter().map(String::as_str)));
    let recent = assigned.iter().any(|e| e.2);
    let mut findings = vec![RawFinding::new(
        Code::REPOSITORY_PERMISSION_MISSING,
        cx.t(
            format!(
                "the role assignments ({}) allow {} on {repo}, but the registry did not grant it to this token",
                join(&by), join(&actions)
            ),
            format!(
                "ロールの割り当て ({}) では {repo} の {} が許可されていますが、このトークンには付与されませんでした",
                join(&by), join(&actions)
            ),
        ),
    )
    .evidence("repository", repo)
    .evidence("missing", actions.clone())
    .evidence("role_assignments", roles_json.clone())];
    if recent {
        findings.push(recently_changed(cx, &actions, &by));
    }
    findings
}

/// ROLE_ASSIGNMENT_PERMISSION_MISSING when ARM says the signed-in identity cannot create role
/// assignments on the registry (nothing when it can, or cannot tell).
async fn cannot_assign(cx: &CheckCx<'_>, arm: &Arm<'_>, reg: &ArmRegistry) -> Option<RawFinding> {
    let Ok(false) = roles::can_assign_roles(arm, &reg.id).await else {
        return None;
    };
    Some(
        RawFinding::new(
            Code::ROLE_ASSIGNMENT_PERMISSION_MISSING,
            cx.t(
                format!("the signed-in identity cannot create role assignments on {} (no Microsoft.Authorization/roleAssignments/write there); ask an owner to run the command", reg.name),
                format!("サインイン中の ID は {} にロールを割り当てられません (Microsoft.Authorization/roleAssignments/write がありません)。所有者にコマンドの実行を依頼してください", reg.name),
            ),
        )
        .evidence("scope", reg.id.clone()),
    )
}

/// What a fix assigns: the roles that grant the `missing` actions, to `assignee` at `scope`
/// (limited to `repo` in the ABAC mode).
struct Fix<'a> {
    missing: &'a [&'static str],
    assignee: &'a str,
    scope: String,
    repo: &'a str,
}

impl Fix<'_> {
    /// The role assignment commands for `mode`.
    fn commands(&self, mode: Mode) -> Vec<String> {
        roles::role_for(mode, self.missing)
            .into_iter()
            .map(|role| {
                roles::assign_command(
                    role,
                    self.assignee,
                    &self.scope,
                    (mode == Mode::Abac).then_some(self.repo),
                )
            })
            .collect()
    }
}

/// Why each missing action is not granted, by the role evaluation: left out by an ABAC
/// condition (action, role, condition), held through a role the mode ignores (action, role), no
/// role at all, or allowed by the assignments (action, roles, recently created) and still not in
/// the token.
#[derive(Debug, Default)]
struct Why {
    excluded: Vec<(&'static str, String, String)>,
    ignored: Vec<(&'static str, String)>,
    none: Vec<&'static str>,
    assigned_but_missing: Vec<(&'static str, Vec<String>, bool)>,
}

impl Why {
    fn of(mode: Mode, verdicts: &[roles::ActionVerdict], missing: &[&'static str]) -> Why {
        let verdict = |a: &str| verdicts.iter().find(|v| v.action == a);
        let mut why = Why::default();
        for &a in missing {
            let Some(v) = verdict(a) else { continue };
            if v.allowed() {
                why.assigned_but_missing
                    .push((a, v.granted_by.clone(), !v.recent.is_empty()));
            } else if mode == Mode::Abac && !(v.excluded_by.is_empty() && v.unreadable.is_empty()) {
                for (role, cond) in &v.excluded_by {
                    why.excluded.push((a, role.clone(), cond.clone()));
                }
                for (role, cond, _) in &v.unreadable {
                    why.excluded.push((a, role.clone(), cond.clone()));
                }
            } else if !v.ignored.is_empty() {
                for role in &v.ignored {
                    why.ignored.push((a, role.clone()));
                }
            } else {
                why.none.push(a);
            }
        }
        why
    }
}

/// Who a finding is about, in both languages: "this identity" or the other principal.
struct Who {
    en: String,
    ja: String,
}

impl Who {
    fn of(subject: &Subject<'_>, assignee: &str) -> Who {
        let en = if subject.other {
            format!("principal {assignee}")
        } else {
            "this identity".to_string()
        };
        let ja = if subject.other {
            format!("プリンシパル {assignee}")
        } else {
            "この ID".to_string()
        };
        Who { en, ja }
    }
}

/// The role assignments could not be read: the missing actions, every cause they allow, and the
/// fix for the mode when it is known (for both modes when not).
fn unexplained(
    cx: &CheckCx<'_>,
    fix: &Fix<'_>,
    mode: Option<Mode>,
    granted: &[&str],
    why: String,
) -> RawFinding {
    let (repo, missing) = (fix.repo, fix.missing);
    let missing_text = join(missing);
    let granted_text = join(granted);
    let mut f = RawFinding::new(
        Code::REPOSITORY_PERMISSION_MISSING,
        cx.t(
            format!("on repository {repo}: granted {granted_text}; missing {missing_text}. The role assignments could not be read ({why}), so the exact cause is not known."),
            format!("リポジトリ {repo}: 付与 {granted_text}、不足 {missing_text}。ロールの割り当てを読み取れなかったため ({why})、正確な原因は特定できません。"),
        ),
    )
    .evidence("repository", repo)
    .evidence("granted", granted.to_vec())
    .evidence("missing", missing.to_vec())
    .evidence("role_assignments", Value::Null)
    // The token proves the missing actions; without the role assignments, why is open.
    .alternative(match mode {
        Some(Mode::Legacy) => &[Code::RBAC_ROLE_MISSING, Code::PERMISSION_RECENTLY_CHANGED],
        Some(Mode::Abac) => &[
            Code::ABAC_LEGACY_ROLE_IGNORED,
            Code::ABAC_CONDITION_EXCLUDES_REPOSITORY,
            Code::PERMISSION_RECENTLY_CHANGED,
        ],
        None => &[
            Code::RBAC_ROLE_MISSING,
            Code::ABAC_LEGACY_ROLE_IGNORED,
            Code::ABAC_CONDITION_EXCLUDES_REPOSITORY,
            Code::PERMISSION_RECENTLY_CHANGED,
        ],
    });
    match mode {
        Some(m) => {
            for c in fix.commands(m) {
                f = f.command(c);
            }
        }
        None => {
            for m in [Mode::Legacy, Mode::Abac] {
                for c in fix.commands(m) {
                    f = f.command(c);
                }
            }
            f = f.step(cx.t(
                "Use AcrPull/AcrPush/AcrDelete when the registry's permissions mode is \"RBAC Registry Permissions\", and the Container Registry Repository roles when it is \"RBAC Registry + ABAC Repository Permissions\".",
                "アクセス許可モードが「RBAC レジストリのアクセス許可」なら AcrPull/AcrPush/AcrDelete を、「RBAC レジストリ + ABAC リポジトリのアクセス許可」なら Container Registry Repository ロールを使います。",
            ));
        }
    }
    f.step(portal_step(cx, mode))
}

/// ABAC_CONDITION_EXCLUDES_REPOSITORY: role assignments whose condition leaves `repo` out.
fn excluded_finding(
    cx: &CheckCx<'_>,
    fix: &Fix<'_>,
    mode: Mode,
    who: &Who,
    excluded: &[(&'static str, String, String)],
    roles_json: &Value,
) -> RawFinding {
    let (repo, who_en, who_ja) = (fix.repo, &who.en, &who.ja);
    let actions: Vec<&str> = dedup(excluded.iter().map(|e| e.0));
    let mut f = RawFinding::new(Code::ABAC_CONDITION_EXCLUDES_REPOSITORY, {
        let quoted: Vec<String> = excluded
            .iter()
            .map(|(_, role, cond)| {
                let covers = abac_condition::parse(cond)
                    .map(|c| c.repositories().join(", "))
                    .unwrap_or_else(|e| format!("unreadable: {e}"));
                format!("{role} (covers: {covers}) with condition {cond}")
            })
            .collect::<Vec<_>>();
        let mut uniq = quoted.clone();
        uniq.dedup();
        cx.t(
            format!(
                "{who_en} needs {} on repository {repo}, but the condition of its role assignment leaves {repo} out: {}",
                join(&actions),
                uniq.join("; ")
            ),
            format!(
                "{who_ja} にはリポジトリ {repo} の {} が必要ですが、ロール割り当ての条件が {repo} を対象外にしています: {}",
                join(&actions),
                uniq.join("; ")
            ),
        )
    })
    .evidence("repository", repo)
    .evidence("missing", actions.clone())
    .evidence(
        "conditions",
        excluded
            .iter()
            .map(|(a, r, c)| json!({"action": a, "role": r, "condition": c}))
            .collect::<Vec<_>>(),
    )
    .evidence("role_assignments", roles_json.clone());
    for c in fix.commands(mode) {
        f = f.command(c);
    }
    f = f.step(cx.t(
        format!("Widen the existing condition to include {repo}, or add a role assignment whose condition names it."),
        format!("既存の条件を {repo} も含むように広げるか、{repo} を条件に含むロール割り当てを追加します。"),
    ));
    f.step(portal_step(cx, Some(mode)))
}

/// Roles held that the registry's mode does not honour: ABAC_LEGACY_ROLE_IGNORED in the ABAC
/// mode, RBAC_ROLE_MISSING (repository roles only) in the legacy mode.
fn ignored_finding(
    cx: &CheckCx<'_>,
    fix: &Fix<'_>,
    mode: Mode,
    who: &Who,
    ignored: &[(&'static str, String)],
    roles_json: &Value,
) -> RawFinding {
    let (repo, who_en, who_ja) = (fix.repo, &who.en, &who.ja);
    let actions: Vec<&str> = dedup(ignored.iter().map(|e| e.0));
    let held: Vec<&str> = dedup(ignored.iter().map(|e| e.1.as_str()));
    let (code, en, ja) = match mode {
        Mode::Abac => (
            Code::ABAC_LEGACY_ROLE_IGNORED,
            format!(
                "the registry uses \"{}\"; {who_en} holds {} which this mode does not honour, so {} on {repo} is not granted",
                mode.portal_name(), join(&held), join(&actions)
            ),
            format!(
                "レジストリは「{}」モードです。{who_ja} が持つ {} はこのモードでは無視されるため、{repo} の {} が付与されません",
                mode.portal_name(), join(&held), join(&actions)
            ),
        ),
        Mode::Legacy => (
            Code::RBAC_ROLE_MISSING,
            format!(
                "the registry uses \"{}\"; {who_en} holds only {} which count only in the ABAC mode, so {} on {repo} is not granted",
                mode.portal_name(), join(&held), join(&actions)
            ),
            format!(
                "レジストリは「{}」モードです。{who_ja} が持つ {} は ABAC モードでのみ有効なため、{repo} の {} が付与されません",
                mode.portal_name(), join(&held), join(&actions)
            ),
        ),
    };
    let mut f = RawFinding::new(code, cx.t(en, ja))
        .evidence("repository", repo)
        .evidence("missing", actions.clone())
        .evidence("ignored_roles", held.clone())
        .evidence("role_assignment_mode", mode.portal_name())
        .evidence("role_assignments", roles_json.clone());
    for c in fix.commands(mode) {
        f = f.command(c);
    }
    f.step(portal_step(cx, Some(mode)))
}

/// No role grants the actions: RBAC_ROLE_MISSING in the legacy mode,
/// REPOSITORY_PERMISSION_MISSING in the ABAC mode.
#[allow(clippy::too_many_arguments)]
fn none_finding(
    cx: &CheckCx<'_>,
    fix: &Fix<'_>,
    mode: Mode,
    who: &Who,
    none: &[&'static str],
    granted: &[&str],
    held: &[String],
    roles_json: &Value,
) -> RawFinding {
    let (repo, who_en, who_ja) = (fix.repo, &who.en, &who.ja);
    let granted_text = join(granted);
    let code = match mode {
        Mode::Legacy => Code::RBAC_ROLE_MISSING,
        Mode::Abac => Code::REPOSITORY_PERMISSION_MISSING,
    };
    let held_text = if held.is_empty() {
        cx.t("no role at this registry", "このレジストリでのロールなし")
    } else {
        held.join(", ")
    };
    let mut f = RawFinding::new(
        code,
        cx.t(
            format!(
                "the registry uses \"{}\"; {who_en} has {held_text}, none of which grants {} on {repo} (granted: {granted_text})",
                mode.portal_name(), join(none)
            ),
            format!(
                "レジストリは「{}」モードです。{who_ja} の割り当て ({held_text}) には {repo} の {} を付与するものがありません (付与: {granted_text})",
                mode.portal_name(), join(none)
            ),
        ),
    )
    .evidence("repository", repo)
    .evidence("missing", none.to_vec())
    .evidence("granted", granted.to_vec())
    .evidence("role_assignment_mode", mode.portal_name())
    .evidence("role_assignments", roles_json.clone());
    for c in fix.commands(mode) {
        f = f.command(c);
    }
    f.step(portal_step(cx, Some(mode)))
}

fn recently_changed(cx: &CheckCx<'_>, actions: &[&str], by: &[&str]) -> RawFinding {
    RawFinding::new(
        Code::PERMISSION_RECENTLY_CHANGED,
        cx.t(
            format!(
                "an assignment of {} granting {} was created less than {RECENT_MINUTES} minutes ago; it may not be in effect yet",
                join(by), join(actions)
            ),
            format!(
                "{} を付与する {} の割り当ては {RECENT_MINUTES} 分以内に作成されたばかりで、まだ反映されていない可能性があります",
                join(actions), join(by)
            ),
        ),
    )
    .evidence("roles", by.to_vec())
    // Timing makes it likely, nothing proves it: the assignment may also simply not apply.
    .inferred(&[Code::REPOSITORY_PERMISSION_MISSING])
}

fn dedup<'x>(items: impl Iterator<Item = &'x str>) -> Vec<&'x str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Another identity's role assignments at the registry, against the actions it `needed` on
/// `repository` (registry-wide, as information, without one) and listing when `catalog`:
/// what `--principal` reports, and what `aks.identity` reports for a cluster's kubelet identity.
pub(crate) async fn evaluate_principal(
    cx: &CheckCx<'_>,
    principal: &str,
    needed: &[&'static str],
    repository: Option<&str>,
    catalog: bool,
) -> Outcome {
    let principal = principal.trim().to_ascii_lowercase();
    let (reg, arm_token) = {
        let f = cx.facts();
        (f.arm_registry.clone(), f.arm_token.clone())
    };
    let (Some(reg), Some(token)) = (reg, arm_token) else {
        return Outcome::skip(cx.t(
            format!("cannot evaluate principal {principal}: the registry could not be read through ARM (see registry settings)"),
            format!("プリンシパル {principal} を評価できません: ARM からレジストリを読み取れませんでした (レジストリ設定を参照)"),
        ));
    };
    let arm = arm_client(cx, token);
    let mode = mode_of(&reg);
    let roles = match assignments(cx, &arm, &reg.id, &principal).await {
        Ok(r) => r,
        Err(e) => {
            let detail = cx.t(
                format!("cannot read the role assignments at {} to evaluate {principal}: {e} (needs Microsoft.Authorization/roleAssignments/read)", reg.name),
                format!("{principal} を評価するための {} のロール割り当てを読み取れません: {e} (Microsoft.Authorization/roleAssignments/read が必要です)", reg.name),
            );
            return Outcome::warn(
                detail.clone(),
                RawFinding::new(Code::ARM_PERMISSION_MISSING, detail)
                    .evidence("scope", reg.id.clone()),
            );
        }
    };
    let roles_json = roles_evidence(&roles, &reg.id);
    let held_text = held_text(cx, &roles, &reg.id);
    let base = |o: Outcome| {
        o.evidence("principal", principal.clone())
            .evidence("role_assignment_mode", mode.portal_name())
            .evidence("role_assignments", roles_json.clone())
    };
    let assigned = Assigned {
        principal: &principal,
        reg: &reg,
        mode,
        roles: &roles,
        held_text: &held_text,
    };
    let notes = no_assignment_note(cx, &assigned);
    match repository {
        // Without a repository: what holds registry-wide.
        None => registry_wide(cx, &assigned, notes, base),
        Some(repo) => on_repository(cx, &arm, &assigned, needed, repo, catalog, notes, base).await,
    }
}

/// What [`evaluate_principal`] read: the principal, the registry and its mode, the principal's
/// role assignments there and their description.
struct Assigned<'a> {
    principal: &'a str,
    reg: &'a ArmRegistry,
    mode: Mode,
    roles: &'a [AssignedRole],
    held_text: &'a str,
}

/// The roles held and where (`AcrPull at registry`), or that there are none.
fn held_text(cx: &CheckCx<'_>, roles: &[AssignedRole], registry_id: &str) -> String {
    let held: Vec<String> = roles
        .iter()
        .map(|r| {
            let scope = r.scope_kind(registry_id);
            let scope_ja = match scope.as_str() {
                "registry" => "レジストリ".to_string(),
                "resource group" => "リソース グループ".to_string(),
                "subscription" => "サブスクリプション".to_string(),
                other => other.to_string(),
            };
            cx.t(
                format!("{} at {scope}", r.role.name),
                format!("{} ({scope_ja})", r.role.name),
            )
        })
        .collect();
    if held.is_empty() {
        cx.t("no role assignments", "ロールの割り当てなし")
    } else {
        held.join(", ")
    }
}

/// When no role assignment applies: the note that the principal may be an application
/// (client) ID rather than an object ID.
fn no_assignment_note(cx: &CheckCx<'_>, a: &Assigned<'_>) -> Vec<RawFinding> {
    let (principal, reg) = (a.principal, a.reg);
    let mut notes: Vec<RawFinding> = Vec::new();
    if a.roles.is_empty() {
        notes.push(
            RawFinding::new(
                Code::REPOSITORY_PERMISSION_MISSING,
                cx.t(
                    format!("no role assignment applies to {principal} at {}. If {principal} is an application (client) ID rather than an object ID, look the object ID up and run again", reg.name),
                    format!("{} で {principal} に適用されるロールの割り当てはありません。{principal} がオブジェクト ID ではなくアプリケーション (クライアント) ID の場合は、オブジェクト ID を調べて再実行してください", reg.name),
                ),
            )
            .command(format!("az ad sp show --id {principal} --query id --output tsv")),
        );
    }
    notes
}

/// Without `--repository`: the actions the principal holds registry-wide, as information.
fn registry_wide(
    cx: &CheckCx<'_>,
    a: &Assigned<'_>,
    notes: Vec<RawFinding>,
    base: impl Fn(Outcome) -> Outcome,
) -> Outcome {
    let (principal, mode, roles, held_text) = (a.principal, a.mode, a.roles, a.held_text);
    let now = cx.ctx.clock.now();
    let verdicts = roles::evaluate(
        mode,
        roles,
        "",
        now,
        time::Duration::minutes(RECENT_MINUTES),
    );
    let wide: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.allowed())
        .map(|v| v.action)
        .collect();
    let conditional: Vec<String> = roles
        .iter()
        .filter(|r| r.condition.is_some())
        .map(|r| r.role.name.clone())
        .collect();
    let msg = cx.t(
        format!(
            "{principal}: {held_text}; in \"{}\" mode registry-wide: {}{}; give --repository to evaluate one repository",
            mode.portal_name(),
            join(&wide),
            if conditional.is_empty() { String::new() } else { format!("; limited by conditions: {}", conditional.join(", ")) }
        ),
        format!(
            "{principal}: {held_text}。「{}」モードでレジストリ全体に: {}{}。--repository を指定するとリポジトリ単位で評価します",
            mode.portal_name(),
            join(&wide),
            if conditional.is_empty() { String::new() } else { format!("。条件付き: {}", conditional.join(", ")) }
        ),
    );
    let mut o = base(Outcome::info(msg));
    for f in notes {
        o = o.finding(f.severity(Severity::Info));
    }
    o
}

/// With a repository: what the principal can and cannot do there against what it `needed`,
/// each missing action explained, and listing when `catalog`.
#[allow(clippy::too_many_arguments)]
async fn on_repository(
    cx: &CheckCx<'_>,
    arm: &Arm<'_>,
    a: &Assigned<'_>,
    needed: &[&'static str],
    repo: &str,
    catalog: bool,
    notes: Vec<RawFinding>,
    base: impl Fn(Outcome) -> Outcome,
) -> Outcome {
    let now = cx.ctx.clock.now();
    let verdicts = roles::evaluate(
        a.mode,
        a.roles,
        repo,
        now,
        time::Duration::minutes(RECENT_MINUTES),
    );
    let rights = Rights::of(&verdicts, needed);
    let catalog_finding = if catalog {
        listing_finding(cx, a)
    } else {
        None
    };
    let msg = rights.message(cx, a, repo);
    if rights.missing.is_empty() && catalog_finding.is_none() {
        return rights.allowed(cx, base(Outcome::pass(msg)));
    }
    let mut findings = rights.explain(cx, arm, a, repo).await;
    // The "no assignments at all" note is part of the explanation when nothing is held.
    if a.roles.is_empty() {
        add_note(&mut findings, &notes);
    }
    if let Some(f) = catalog_finding {
        findings.push(f);
    }
    rights.refused(base, msg, findings)
}

/// What a principal can do on one repository, from the verdicts of its roles, against the
/// actions it needed.
struct Rights<'v> {
    needed: Vec<&'static str>,
    can: Vec<&'static str>,
    cannot: Vec<&'static str>,
    /// Needed and not allowed.
    missing: Vec<&'static str>,
    /// Roles granting a needed action that were assigned only recently.
    recent: Vec<&'v str>,
}

impl<'v> Rights<'v> {
    fn of(verdicts: &'v [ActionVerdict], needed: &[&'static str]) -> Rights<'v> {
        let needed = needed.to_vec();
        let can: Vec<&'static str> = verdicts
            .iter()
            .filter(|v| v.allowed())
            .map(|v| v.action)
            .collect();
        let cannot: Vec<&'static str> = verdicts
            .iter()
            .filter(|v| !v.allowed())
            .map(|v| v.action)
            .collect();
        let missing: Vec<&'static str> = needed
            .iter()
            .copied()
            .filter(|a| !can.contains(a))
            .collect();
        let recent: Vec<&str> = dedup(
            verdicts
                .iter()
                .filter(|v| needed.contains(&v.action))
                .flat_map(|v| v.recent.iter().map(String::as_str)),
        );
        Rights {
            needed,
            can,
            cannot,
            missing,
            recent,
        }
    }

    /// `<principal> on <repo> (<mode>): can …; cannot … (needed …; roles: …)`.
    fn message(&self, cx: &CheckCx<'_>, a: &Assigned<'_>, repo: &str) -> String {
        let (principal, mode, held_text) = (a.principal, a.mode, a.held_text);
        let (can, cannot, needed) = (&self.can, &self.cannot, &self.needed);
        cx.t(
            format!(
                "{principal} on {repo} ({}): can {}; cannot {} (needed {}; roles: {held_text})",
                mode.portal_name(),
                join(can),
                join(cannot),
                join(needed)
            ),
            format!(
            "{principal} の {repo} への権限 ({}): 可 {}、不可 {} (必要 {}。ロール: {held_text})",
            mode.portal_name(), join(can), join(cannot), join(needed)
        ),
        )
    }

    /// Everything needed is allowed: the pass, noting roles assigned too recently to be sure.
    fn allowed(&self, cx: &CheckCx<'_>, pass: Outcome) -> Outcome {
        let mut o = pass
            .evidence("can", self.can.clone())
            .evidence("cannot", self.cannot.clone());
        if !self.recent.is_empty() {
            o = o.finding(recently_changed(cx, &self.needed, &self.recent));
        }
        o
    }

    /// Why each missing action is missing (nothing when none is).
    async fn explain(
        &self,
        cx: &CheckCx<'_>,
        arm: &Arm<'_>,
        a: &Assigned<'_>,
        repo: &str,
    ) -> Vec<RawFinding> {
        if self.missing.is_empty() {
            return Vec::new();
        }
        let subject = Subject {
            assignee: Some(a.principal),
            other: true,
        };
        explain_missing(
            cx,
            Some(arm),
            Some(a.reg),
            &subject,
            repo,
            &self.missing,
            &self.can,
            Some(a.roles),
            None,
        )
        .await
    }

    /// The failure, carrying the first finding (REPOSITORY_PERMISSION_MISSING saying `msg` when
    /// there is none), with what can, cannot and is missing, then the other findings.
    fn refused(
        &self,
        base: impl Fn(Outcome) -> Outcome,
        msg: String,
        mut findings: Vec<RawFinding>,
    ) -> Outcome {
        if findings.is_empty() {
            findings.push(RawFinding::new(
                Code::REPOSITORY_PERMISSION_MISSING,
                msg.clone(),
            ));
        }
        let mut o = base(Outcome::fail(msg, findings.remove(0)))
            .evidence("can", self.can.clone())
            .evidence("cannot", self.cannot.clone())
            .evidence("missing", self.missing.clone());
        for f in findings {
            o = o.finding(f);
        }
        o
    }
}

/// The first note's text and commands join the first finding.
fn add_note(findings: &mut [RawFinding], notes: &[RawFinding]) {
    if let Some(first) = findings.first_mut() {
        if let Some(note) = notes.first() {
            first.solution.push(note.detail.clone());
            first.commands.extend(note.commands.iter().cloned());
        }
    }
}

/// Listing repositories: CATALOG_LISTER_MISSING (ABAC) or RBAC_ROLE_MISSING (legacy) when no
/// role held lets the principal list.
fn listing_finding(cx: &CheckCx<'_>, a: &Assigned<'_>) -> Option<RawFinding> {
    let (principal, reg, mode) = (a.principal, a.reg, a.mode);
    let (lister, _) = roles::catalog_verdict(mode, a.roles);
    if !lister.is_empty() {
        return None;
    }
    let (code, role) = match mode {
        Mode::Abac => (Code::CATALOG_LISTER_MISSING, names::CATALOG_LISTER),
        Mode::Legacy => (Code::RBAC_ROLE_MISSING, names::ACR_PULL),
    };
    Some(
        RawFinding::new(
            code,
            cx.t(
                format!(
                    "{principal} cannot list repositories in \"{}\" mode",
                    mode.portal_name()
                ),
                format!(
                    "{principal} は「{}」モードでリポジトリを一覧表示できません",
                    mode.portal_name()
                ),
            ),
        )
        .command(roles::assign_command(role, principal, &reg.id, None))
        .step(portal_step(cx, Some(mode))),
    )
}

#[cfg(test)]
mod tests;
