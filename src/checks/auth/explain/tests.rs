//! The explanation of missing rights: given the registry's mode, the role assignments (or none
//! read) and the missing actions, which cause codes come out, with which alternatives and
//! evidence. No network: `arm` is `None`, so the "can the caller assign roles" read is not made.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::*;
use crate::azure::arm::{ABAC_MODE, LEGACY_MODE};
use crate::catalogue::Code;
use crate::checks::Facts;
use crate::lang::Lang;
use crate::report::CheckStatus;

const REGISTRY_ID: &str =
    "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/contosoreg";
const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";
const REPOSITORY_READER: &str = "b93aa761-3e63-49ed-ac28-beffa264f7ac";

fn registry(mode: &str) -> ArmRegistry {
    ArmRegistry {
        id: REGISTRY_ID.into(),
        subscription: "s".into(),
        resource_group: "g".into(),
        name: "contosoreg".into(),
        resource: json!({"properties": {"roleAssignmentMode": mode}}),
    }
}

fn assigned(guid: &str, condition: Option<String>) -> AssignedRole {
    AssignedRole {
        assignment_id: "a".into(),
        scope: REGISTRY_ID.into(),
        principal_id: "p".into(),
        role: roles::builtin(guid).expect("a built-in role"),
        condition_version: condition.as_ref().map(|_| "2.0".into()),
        condition,
        created_on: None,
    }
}

/// A Repository Reader assignment whose condition names only `repo`.
fn reader_limited_to(repo: &str) -> AssignedRole {
    let data = roles::data_actions_of(names::REPOSITORY_READER);
    let refs: Vec<&str> = data.iter().map(String::as_str).collect();
    let condition = abac_condition::repository_condition(repo, &refs);
    assigned(REPOSITORY_READER, Some(condition))
}

/// Runs `explain_missing` for `missing` on repository `app` as the run's own identity.
async fn explain(
    reg: Option<&ArmRegistry>,
    roles: Option<&[AssignedRole]>,
    missing: &[&'static str],
    granted: &[&str],
) -> Vec<RawFinding> {
    let args = crate::check_args(&["--name", "contosoreg"]).expect("args");
    let ctx = crate::context::Context::new(BTreeMap::new(), &args).expect("context");
    let facts = Mutex::new(Facts::default());
    let timeline = Mutex::new(Vec::new());
    let cx = CheckCx::new(&ctx, &args, "contosoreg", Lang::En, &facts, &timeline);
    let subject = Subject {
        assignee: Some("00000000-0000-4000-8000-0000000000aa"),
        other: false,
    };
    let why = roles.is_none().then(|| "ARM said no".to_string());
    explain_missing(
        &cx, None, reg, &subject, "app", missing, granted, roles, why,
    )
    .await
}

fn codes(findings: &[RawFinding]) -> Vec<Code> {
    findings.iter().map(|f| f.code).collect()
}

fn evidence<'f>(f: &'f RawFinding, key: &str) -> &'f Value {
    f.evidence
        .get(key)
        .unwrap_or_else(|| panic!("evidence {key} missing from {}", f.code))
}

#[tokio::test]
async fn unread_assignments_in_legacy_mode_leave_the_legacy_causes_open() {
    let reg = registry(LEGACY_MODE);
    let found = explain(Some(&reg), None, &["push"], &["pull"]).await;
    assert_eq!(codes(&found), vec![Code::REPOSITORY_PERMISSION_MISSING]);
    let f = &found[0];
    assert_eq!(
        f.alternatives,
        vec![Code::RBAC_ROLE_MISSING, Code::PERMISSION_RECENTLY_CHANGED]
    );
    assert_eq!(evidence(f, "missing"), &json!(["push"]));
    assert_eq!(evidence(f, "granted"), &json!(["pull"]));
    assert_eq!(evidence(f, "role_assignments"), &Value::Null);
    // The fix for the legacy mode only: a registry-wide AcrPush, no condition.
    assert_eq!(f.commands.len(), 1);
    assert!(f.commands[0].contains("\"AcrPush\""), "{:?}", f.commands);
    assert!(!f.commands[0].contains("--condition"));
}

#[tokio::test]
async fn unread_assignments_in_abac_mode_leave_the_abac_causes_open() {
    let reg = registry(ABAC_MODE);
    let found = explain(Some(&reg), None, &["pull"], &[]).await;
    assert_eq!(codes(&found), vec![Code::REPOSITORY_PERMISSION_MISSING]);
    assert_eq!(
        found[0].alternatives,
        vec![
            Code::ABAC_LEGACY_ROLE_IGNORED,
            Code::ABAC_CONDITION_EXCLUDES_REPOSITORY,
            Code::PERMISSION_RECENTLY_CHANGED
        ]
    );
    // The ABAC fix is limited to the repository by a condition.
    assert!(found[0].commands.iter().all(|c| c.contains("--condition")));
}

#[tokio::test]
async fn unknown_mode_names_every_cause_and_both_fixes() {
    let found = explain(None, None, &["pull"], &[]).await;
    assert_eq!(codes(&found), vec![Code::REPOSITORY_PERMISSION_MISSING]);
    let f = &found[0];
    assert_eq!(
        f.alternatives,
        vec![
            Code::RBAC_ROLE_MISSING,
            Code::ABAC_LEGACY_ROLE_IGNORED,
            Code::ABAC_CONDITION_EXCLUDES_REPOSITORY,
            Code::PERMISSION_RECENTLY_CHANGED
        ]
    );
    // One command per mode, and a step saying which one applies, before the portal step.
    assert_eq!(f.commands.len(), 2);
    assert!(f.commands.iter().any(|c| c.contains("\"AcrPull\"")));
    assert!(f.commands.iter().any(|c| c.contains("--condition")));
    assert_eq!(f.solution.len(), 2);
}

#[tokio::test]
async fn legacy_mode_without_a_granting_role_is_a_missing_role() {
    let reg = registry(LEGACY_MODE);
    let roles = [assigned(ACR_PULL, None)];
    let found = explain(Some(&reg), Some(&roles), &["push"], &["pull"]).await;
    assert_eq!(codes(&found), vec![Code::RBAC_ROLE_MISSING]);
    let f = &found[0];
    assert!(f.alternatives.is_empty());
    assert_eq!(evidence(f, "missing"), &json!(["push"]));
    assert_eq!(
        evidence(f, "role_assignment_mode"),
        &json!(Mode::Legacy.portal_name())
    );
    assert_eq!(
        evidence(f, "role_assignments").as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn abac_mode_ignores_a_legacy_role() {
    let reg = registry(ABAC_MODE);
    let roles = [assigned(ACR_PUSH, None)];
    let found = explain(Some(&reg), Some(&roles), &["pull", "push"], &[]).await;
    assert_eq!(codes(&found), vec![Code::ABAC_LEGACY_ROLE_IGNORED]);
    assert_eq!(evidence(&found[0], "ignored_roles"), &json!(["AcrPush"]));
    assert_eq!(evidence(&found[0], "missing"), &json!(["pull", "push"]));
}

#[tokio::test]
async fn legacy_mode_ignores_a_repository_role() {
    let reg = registry(LEGACY_MODE);
    let roles = [assigned(REPOSITORY_READER, None)];
    let found = explain(Some(&reg), Some(&roles), &["pull"], &[]).await;
    assert_eq!(codes(&found), vec![Code::RBAC_ROLE_MISSING]);
    assert_eq!(
        evidence(&found[0], "ignored_roles"),
        &json!([names::REPOSITORY_READER])
    );
}

#[tokio::test]
async fn abac_condition_that_leaves_the_repository_out() {
    let reg = registry(ABAC_MODE);
    let roles = [reader_limited_to("other")];
    let found = explain(Some(&reg), Some(&roles), &["pull"], &[]).await;
    assert_eq!(
        codes(&found),
        vec![Code::ABAC_CONDITION_EXCLUDES_REPOSITORY]
    );
    let conditions = evidence(&found[0], "conditions");
    assert_eq!(conditions[0]["action"], json!("pull"));
    assert_eq!(conditions[0]["role"], json!(names::REPOSITORY_READER));
    // The same condition covering `app` grants pull: nothing to explain.
    let covering = [reader_limited_to("app")];
    let found = explain(Some(&reg), Some(&covering), &["push"], &["pull"]).await;
    assert_eq!(codes(&found), vec![Code::REPOSITORY_PERMISSION_MISSING]);
    assert_eq!(evidence(&found[0], "missing"), &json!(["push"]));
}

#[tokio::test]
async fn assigned_but_not_in_the_token_and_recently_changed() {
    let reg = registry(LEGACY_MODE);
    let old = [assigned(ACR_PULL, None)];
    let found = explain(Some(&reg), Some(&old), &["pull"], &[]).await;
    assert_eq!(codes(&found), vec![Code::REPOSITORY_PERMISSION_MISSING]);
    assert!(found[0].alternatives.is_empty());

    let mut recent = assigned(ACR_PULL, None);
    recent.created_on = Some(time::OffsetDateTime::now_utc() - time::Duration::minutes(2));
    let found = explain(Some(&reg), Some(&[recent]), &["pull"], &[]).await;
    assert_eq!(
        codes(&found),
        vec![
            Code::REPOSITORY_PERMISSION_MISSING,
            Code::PERMISSION_RECENTLY_CHANGED
        ]
    );
    assert_eq!(
        found[1].alternatives,
        vec![Code::REPOSITORY_PERMISSION_MISSING]
    );
    assert_eq!(evidence(&found[1], "roles"), &json!(["AcrPull"]));
}

#[test]
fn why_sorts_each_missing_action_into_one_reason() {
    let now = time::OffsetDateTime::now_utc();
    let window = time::Duration::minutes(RECENT_MINUTES);
    let roles = [assigned(ACR_PUSH, None), reader_limited_to("other")];
    let verdicts = roles::evaluate(Mode::Abac, &roles, "app", now, window);
    let why = Why::of(Mode::Abac, &verdicts, &["pull", "delete"]);
    // Pull: the reader's condition leaves `app` out (AcrPush is ignored in this mode, but an
    // excluding condition is the first reason given).
    assert!(why.excluded.iter().all(|e| e.0 == "pull"));
    assert!(!why.excluded.is_empty());
    // Delete: no role at all would grant it.
    assert_eq!(why.none, vec!["delete"]);
    assert!(why.assigned_but_missing.is_empty());

    let verdicts = roles::evaluate(Mode::Legacy, &roles, "app", now, window);
    let why = Why::of(Mode::Legacy, &verdicts, &["pull", "delete"]);
    assert!(why.excluded.is_empty());
    assert_eq!(why.assigned_but_missing.len(), 1);
    assert_eq!(why.assigned_but_missing[0].0, "pull");
    assert_eq!(why.none, vec!["delete"]);
}

#[test]
fn assigned_but_missing_names_each_action_and_role_once() {
    let args = crate::check_args(&["--name", "contosoreg"]).expect("args");
    let ctx = crate::context::Context::new(BTreeMap::new(), &args).expect("context");
    let facts = Mutex::new(Facts::default());
    let timeline = Mutex::new(Vec::new());
    let cx = CheckCx::new(&ctx, &args, "contosoreg", Lang::En, &facts, &timeline);
    let roles_json = json!([{"role": "AcrPush"}]);
    let by = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut assigned = vec![
        ("pull", by(&["AcrPull", "AcrPush"]), false),
        ("push", by(&["AcrPush"]), false),
        ("pull", by(&["AcrPull"]), false),
    ];
    let found = assigned_but_missing(&cx, "app", &assigned, &roles_json);
    assert_eq!(codes(&found), vec![Code::REPOSITORY_PERMISSION_MISSING]);
    assert_eq!(evidence(&found[0], "repository"), &json!("app"));
    assert_eq!(evidence(&found[0], "missing"), &json!(["pull", "push"]));
    assert_eq!(evidence(&found[0], "role_assignments"), &roles_json);

    assigned[1].2 = true;
    let found = assigned_but_missing(&cx, "app", &assigned, &roles_json);
    assert_eq!(
        codes(&found),
        vec![
            Code::REPOSITORY_PERMISSION_MISSING,
            Code::PERMISSION_RECENTLY_CHANGED
        ]
    );
    assert_eq!(evidence(&found[1], "roles"), &json!(["AcrPull", "AcrPush"]));
}

fn verdict(action: &'static str, granted_by: &[&str], recent: &[&str]) -> ActionVerdict {
    ActionVerdict {
        action,
        granted_by: granted_by.iter().map(|s| s.to_string()).collect(),
        recent: recent.iter().map(|s| s.to_string()).collect(),
        ..ActionVerdict::default()
    }
}

/// What a principal can do on a repository, against what it needed: missing is what is
/// needed and not allowed; recent names each recently assigned role granting a needed
/// action once.
#[test]
fn rights_on_a_repository() {
    let verdicts = [
        verdict("pull", &["AcrPull", "AcrPush"], &["AcrPush"]),
        verdict("push", &["AcrPush"], &["AcrPush"]),
        verdict("delete", &[], &[]),
        verdict("metadata_read", &["AcrPull"], &["AcrPull"]),
    ];
    let rights = Rights::of(&verdicts, &["pull", "delete", "push"]);
    assert_eq!(rights.needed, ["pull", "delete", "push"]);
    assert_eq!(rights.can, ["pull", "push", "metadata_read"]);
    assert_eq!(rights.cannot, ["delete"]);
    assert_eq!(rights.missing, ["delete"]);
    assert_eq!(rights.recent, ["AcrPush"]);
}

/// Everything allowed: pass with what can and cannot be done, noting a recent assignment.
/// Something missing: the first finding fails the check, the others follow, and without any
/// explanation REPOSITORY_PERMISSION_MISSING says the message.
#[test]
fn rights_allowed_and_refused() {
    let args = crate::check_args(&["--name", "contosoreg"]).expect("args");
    let ctx = crate::context::Context::new(BTreeMap::new(), &args).expect("context");
    let facts = Mutex::new(Facts::default());
    let timeline = Mutex::new(Vec::new());
    let cx = CheckCx::new(&ctx, &args, "contosoreg", Lang::En, &facts, &timeline);
    let keys = |o: &Outcome| o.evidence.keys().cloned().collect::<Vec<_>>();

    let verdicts = [
        verdict("pull", &["AcrPull"], &["AcrPull"]),
        verdict("push", &[], &[]),
    ];
    let pulled = Rights::of(&verdicts, &["pull"]);
    let o = pulled.allowed(&cx, Outcome::pass("ok"));
    assert_eq!(o.status, CheckStatus::Pass);
    assert_eq!(keys(&o), ["can", "cannot"]);
    assert_eq!(o.codes(), [Code::PERMISSION_RECENTLY_CHANGED]);
    let quiet = [verdict("pull", &["AcrPull"], &[])];
    assert!(Rights::of(&quiet, &["pull"])
        .allowed(&cx, Outcome::pass("ok"))
        .findings
        .is_empty());

    let pushed = Rights::of(&verdicts, &["pull", "push"]);
    let tagged = |o: Outcome| o.evidence("principal", "p");
    let o = pushed.refused(tagged, "m".into(), Vec::new());
    assert_eq!(o.status, CheckStatus::Fail);
    assert_eq!(keys(&o), ["can", "cannot", "missing", "principal"]);
    assert_eq!(o.evidence["missing"], json!(["push"]));
    assert_eq!(o.codes(), [Code::REPOSITORY_PERMISSION_MISSING]);
    let o = pushed.refused(
        tagged,
        "m".into(),
        vec![
            RawFinding::new(Code::RBAC_ROLE_MISSING, "a"),
            RawFinding::new(Code::CATALOG_LISTER_MISSING, "b"),
        ],
    );
    assert_eq!(
        o.codes(),
        [Code::RBAC_ROLE_MISSING, Code::CATALOG_LISTER_MISSING]
    );
}

/// The "no assignments" note joins the first finding only.
#[test]
fn the_note_joins_the_first_finding() {
    let note =
        RawFinding::new(Code::REPOSITORY_PERMISSION_MISSING, "note").command("az ad sp show");
    let mut findings = vec![
        RawFinding::new(Code::RBAC_ROLE_MISSING, "a"),
        RawFinding::new(Code::CATALOG_LISTER_MISSING, "b"),
    ];
    add_note(&mut findings, &[note]);
    assert_eq!(findings[0].solution, ["note"]);
    assert_eq!(findings[0].commands, ["az ad sp show"]);
    assert!(findings[1].solution.is_empty() && findings[1].commands.is_empty());
    let mut none: Vec<RawFinding> = Vec::new();
    add_note(&mut none, &[]);
    assert!(none.is_empty());
}
