//! Role assignments and definitions that apply to an identity at a registry, and what they
//! allow on a repository in the registry's role-assignment mode. Read-only.
//!
//! How roles become registry actions (from the ACR built-in role reference):
//! - "RBAC Registry Permissions" (`LegacyRegistryPermissions`): the control-plane actions count.
//!   `registries/pull/read` gives pull and metadata_read, `registries/push/write` push and
//!   metadata_write, `registries/artifacts/delete` delete; so AcrPull, AcrPush, AcrDelete, and
//!   the broad Owner/Contributor (and Reader for pull) grant access. Repository roles do not.
//! - "RBAC Registry + ABAC Repository Permissions" (`AbacRepositoryPermissions`): only data
//!   actions count, each subject to the assignment's condition: `repositories/content/read` →
//!   pull, `metadata/read` → metadata_read, `content/write` → push, `metadata/write` →
//!   metadata_write, `content/delete` or `metadata/delete` → delete; `registries/catalog/read`
//!   (Catalog Lister) → the catalog.

use serde_json::Value;
use time::OffsetDateTime;

use crate::azure::arm::{Arm, ArmError, AUTHORIZATION_API_VERSION};
use crate::protocol::abac_condition;

/// The five repository actions of ACR's token scopes.
pub const REPOSITORY_ACTIONS: [&str; 5] =
    ["pull", "push", "delete", "metadata_read", "metadata_write"];

const REPO_DATA: &str = "Microsoft.ContainerRegistry/registries/repositories";
const CATALOG_DATA: &str = "Microsoft.ContainerRegistry/registries/catalog/read";
const PULL_READ: &str = "Microsoft.ContainerRegistry/registries/pull/read";
const PUSH_WRITE: &str = "Microsoft.ContainerRegistry/registries/push/write";
const ARTIFACTS_DELETE: &str = "Microsoft.ContainerRegistry/registries/artifacts/delete";
const ROLE_ASSIGNMENT_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

/// Built-in role names used in advice.
pub mod names {
    pub const ACR_PULL: &str = "AcrPull";
    pub const ACR_PUSH: &str = "AcrPush";
    pub const ACR_DELETE: &str = "AcrDelete";
    pub const REPOSITORY_READER: &str = "Container Registry Repository Reader";
    pub const REPOSITORY_WRITER: &str = "Container Registry Repository Writer";
    pub const REPOSITORY_CONTRIBUTOR: &str = "Container Registry Repository Contributor";
    pub const CATALOG_LISTER: &str = "Container Registry Repository Catalog Lister";
}

/// The registry's role-assignment permissions mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Legacy,
    Abac,
}

impl Mode {
    pub fn from_arm(value: &str) -> Mode {
        if value.eq_ignore_ascii_case(crate::azure::arm::ABAC_MODE) {
            Mode::Abac
        } else {
            Mode::Legacy
        }
    }

    /// The mode as the portal's Properties blade names it.
    pub fn portal_name(self) -> &'static str {
        match self {
            Mode::Legacy => "RBAC Registry Permissions",
            Mode::Abac => "RBAC Registry + ABAC Repository Permissions",
        }
    }
}

/// A role definition's permissions (one merged permission block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleDefinition {
    /// The GUID.
    pub id: String,
    pub name: String,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
    /// True when taken from acr-doctor's built-in table because ARM did not answer.
    pub from_table: bool,
}

impl RoleDefinition {
    fn from_json(v: &Value) -> Option<RoleDefinition> {
        let props = v.get("properties")?;
        let list = |k: &str| -> Vec<String> {
            props
                .get("permissions")
                .and_then(Value::as_array)
                .map(|perms| {
                    perms
                        .iter()
                        .filter_map(|p| p.get(k).and_then(Value::as_array))
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(RoleDefinition {
            id: v
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| v.get("id").and_then(Value::as_str).map(guid_of))?,
            name: props.get("roleName").and_then(Value::as_str)?.to_string(),
            actions: list("actions"),
            not_actions: list("notActions"),
            data_actions: list("dataActions"),
            not_data_actions: list("notDataActions"),
            from_table: false,
        })
    }

    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_glob(p, action))
            && !self.not_actions.iter().any(|p| action_glob(p, action))
    }

    pub fn allows_data(&self, action: &str) -> bool {
        self.data_actions.iter().any(|p| action_glob(p, action))
            && !self.not_data_actions.iter().any(|p| action_glob(p, action))
    }

    /// Repository actions this role would give without any condition, in a mode.
    pub fn repository_actions(&self, mode: Mode) -> Vec<&'static str> {
        let mut out = Vec::new();
        match mode {
            Mode::Legacy => {
                if self.allows(PULL_READ) {
                    out.extend(["pull", "metadata_read"]);
                }
                if self.allows(PUSH_WRITE) {
                    out.extend(["push", "metadata_write"]);
                }
                if self.allows(ARTIFACTS_DELETE) {
                    out.push("delete");
                }
            }
            Mode::Abac => {
                for (data_action, action) in abac_data_actions() {
                    if self.allows_data(&data_action) && !out.contains(&action) {
                        out.push(action);
                    }
                }
            }
        }
        out
    }

    pub fn grants_catalog(&self, mode: Mode) -> bool {
        match mode {
            Mode::Legacy => !self.repository_actions(Mode::Legacy).is_empty(),
            Mode::Abac => self.allows_data(CATALOG_DATA),
        }
    }
}

fn abac_data_actions() -> Vec<(String, &'static str)> {
    [
        ("content/read", "pull"),
        ("metadata/read", "metadata_read"),
        ("content/write", "push"),
        ("metadata/write", "metadata_write"),
        ("content/delete", "delete"),
        ("metadata/delete", "delete"),
    ]
    .iter()
    .map(|(s, a)| (format!("{REPO_DATA}/{s}"), *a))
    .collect()
}

/// The data actions an ABAC condition must constrain to limit `role` to one repository.
pub fn data_actions_of(role: &str) -> Vec<String> {
    let suffixes: &[&str] = match role {
        names::REPOSITORY_READER => &["content/read", "metadata/read"],
        names::REPOSITORY_WRITER => &[
            "content/read",
            "metadata/read",
            "content/write",
            "metadata/write",
        ],
        names::REPOSITORY_CONTRIBUTOR => &[
            "content/read",
            "metadata/read",
            "content/write",
            "metadata/write",
            "content/delete",
            "metadata/delete",
        ],
        _ => &[],
    };
    suffixes
        .iter()
        .map(|s| format!("{REPO_DATA}/{s}"))
        .collect()
}

/// Case-insensitive `*` glob, as ARM matches action patterns.
pub fn action_glob(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let mut rest = a.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The public built-in roles that matter here, for when ARM's roleDefinitions cannot be read.
pub fn builtin(guid: &str) -> Option<RoleDefinition> {
    let repo =
        |s: &[&str]| -> Vec<String> { s.iter().map(|x| format!("{REPO_DATA}/{x}")).collect() };
    let (name, actions, not_actions, data): (&str, Vec<String>, Vec<String>, Vec<String>) =
        match guid.to_ascii_lowercase().as_str() {
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635" => ("Owner", vec!["*".into()], vec![], vec![]),
            "b24988ac-6180-42a0-ab88-20f7382dd24c" => (
                "Contributor",
                vec!["*".into()],
                vec![
                    "Microsoft.Authorization/*/Delete".into(),
                    "Microsoft.Authorization/*/Write".into(),
                    "Microsoft.Authorization/elevateAccess/Action".into(),
                ],
                vec![],
            ),
            "acdd72a7-3884-48c2-ba85-4c0a8eae6a3f" => {
                ("Reader", vec!["*/read".into()], vec![], vec![])
            }
            "7f951dda-4ed3-4680-a7ca-43fe172d538d" => {
                (names::ACR_PULL, vec![PULL_READ.into()], vec![], vec![])
            }
            "8311e382-0749-4cb8-b61a-304f252e45ec" => (
                names::ACR_PUSH,
                vec![PULL_READ.into(), PUSH_WRITE.into()],
                vec![],
                vec![],
            ),
            "c2f4ef07-c644-48eb-af81-4b1b4947fb11" => (
                names::ACR_DELETE,
                vec![ARTIFACTS_DELETE.into()],
                vec![],
                vec![],
            ),
            "b93aa761-3e63-49ed-ac28-beffa264f7ac" => (
                names::REPOSITORY_READER,
                vec![],
                vec![],
                repo(&["content/read", "metadata/read"]),
            ),
            "2a1e307c-b015-4ebd-883e-5b7698a07328" => (
                names::REPOSITORY_WRITER,
                vec![],
                vec![],
                repo(&[
                    "content/read",
                    "metadata/read",
                    "content/write",
                    "metadata/write",
                ]),
            ),
            "2efddaa5-3f1f-4df3-97df-af3f13818f4c" => (
                names::REPOSITORY_CONTRIBUTOR,
                vec![],
                vec![],
                repo(&[
                    "content/read",
                    "metadata/read",
                    "content/write",
                    "metadata/write",
                    "content/delete",
                    "metadata/delete",
                ]),
            ),
            "bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7" => (
                names::CATALOG_LISTER,
                vec![],
                vec![],
                vec![CATALOG_DATA.into()],
            ),
            _ => return None,
        };
    Some(RoleDefinition {
        id: guid.to_ascii_lowercase(),
        name: name.into(),
        actions,
        not_actions,
        data_actions: data,
        not_data_actions: vec![],
        from_table: true,
    })
}

/// One role assignment that applies to the identity at the registry, with its role resolved.
#[derive(Debug, Clone)]
pub struct AssignedRole {
    pub assignment_id: String,
    pub scope: String,
    pub principal_id: String,
    pub role: RoleDefinition,
    pub condition: Option<String>,
    pub condition_version: Option<String>,
    pub created_on: Option<OffsetDateTime>,
}

impl AssignedRole {
    /// Where the assignment sits relative to the registry: `registry`, `resource group`, `subscription`, or the scope.
    pub fn scope_kind(&self, registry_id: &str) -> String {
        let scope = self.scope.trim_end_matches('/');
        if scope.eq_ignore_ascii_case(registry_id) {
            "registry".into()
        } else {
            let seg = scope.split('/').filter(|s| !s.is_empty()).count();
            match seg {
                2 => "subscription".into(),
                4 => "resource group".into(),
                0 => "root".into(),
                _ => scope.to_string(),
            }
        }
    }

    /// For the report: `AcrPush at registry`, with the condition when there is one.
    pub fn describe(&self, registry_id: &str) -> Value {
        let mut v = serde_json::json!({
            "role": self.role.name,
            "scope": self.scope_kind(registry_id),
            "assignment": self.assignment_id,
        });
        if let (Some(c), Value::Object(m)) = (&self.condition, &mut v) {
            m.insert("condition".into(), Value::from(c.clone()));
        }
        v
    }
}

/// Whether `scope` is `target` or one of its parents.
pub fn scope_covers(scope: &str, target: &str) -> bool {
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    let t = target.trim_end_matches('/').to_ascii_lowercase();
    s.is_empty() || t == s || t.starts_with(&format!("{s}/"))
}

fn guid_of(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_ascii_lowercase()
}

/// Every role definition ARM lists at `scope` (the built-in roles and the custom roles
/// assignable there), in one list request, once per run and caller. Assignments are resolved
/// against it locally instead of one request per role.
pub async fn definitions_at(arm: &Arm<'_>, scope: &str) -> Result<Vec<RoleDefinition>, ArmError> {
    let key = format!(
        "arm.role_definitions:{}:{}",
        arm.caller(),
        scope.to_ascii_lowercase()
    );
    arm.ctx()
        .once(&key, || async {
            let path = format!("{scope}/providers/Microsoft.Authorization/roleDefinitions");
            let items = arm.list(&path, AUTHORIZATION_API_VERSION, &[]).await?;
            Ok(items.iter().filter_map(RoleDefinition::from_json).collect())
        })
        .await
}

/// The role assignments listing for `principal` at `registry_id` (and above).
async fn assignment_items(
    arm: &Arm<'_>,
    registry_id: &str,
    principal: &str,
) -> Result<Vec<Value>, ArmError> {
    let path = format!("{registry_id}/providers/Microsoft.Authorization/roleAssignments");
    let filter = format!("assignedTo('{principal}')");
    match arm
        .list(&path, AUTHORIZATION_API_VERSION, &[("$filter", &filter)])
        .await
    {
        Err(ArmError::Status { status: 400, .. }) => {
            let filter = format!("principalId eq '{principal}'");
            arm.list(&path, AUTHORIZATION_API_VERSION, &[("$filter", &filter)])
                .await
        }
        other => other,
    }
}

/// The role assignments of `principal` (an object ID) that apply at the registry: at its scope,
/// its resource group's, its subscription's or above. Roles are resolved through ARM's role
/// definitions (listed once, beside the assignments), then a read of any role the listing did
/// not hold, then the built-in table.
pub async fn assignments_for(
    arm: &Arm<'_>,
    registry_id: &str,
    principal: &str,
) -> Result<Vec<AssignedRole>, ArmError> {
    let principal = principal.replace('\'', "");
    let (items, listed) = futures::join!(
        assignment_items(arm, registry_id, &principal),
        definitions_at(arm, registry_id)
    );
    let items = items?;
    let mut resolved: Vec<RoleDefinition> = listed.unwrap_or_default();
    let mut out: Vec<AssignedRole> = Vec::new();
    for item in &items {
        let Some(props) = item.get("properties") else {
            continue;
        };
        let s = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_string);
        let scope = s("scope").unwrap_or_default();
        let principal_id = s("principalId").unwrap_or_default();
        if !scope_covers(&scope, registry_id) || !principal_id.eq_ignore_ascii_case(&principal) {
            continue;
        }
        let Some(def_id) = s("roleDefinitionId") else {
            continue;
        };
        let guid = guid_of(&def_id);
        let role = match resolved.iter().find(|d| d.id.eq_ignore_ascii_case(&guid)) {
            Some(d) => d.clone(),
            None => {
                let d = match arm.get(&def_id, AUTHORIZATION_API_VERSION, &[]).await {
                    Ok(v) => RoleDefinition::from_json(&v),
                    Err(_) => None,
                }
                .or_else(|| builtin(&guid))
                .unwrap_or_else(|| RoleDefinition {
                    id: guid.clone(),
                    name: guid.clone(),
                    from_table: true,
                    ..Default::default()
                });
                resolved.push(d.clone());
                d
            }
        };
        out.push(AssignedRole {
            assignment_id: item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            scope,
            principal_id,
            role,
            condition: s("condition").filter(|c| !c.trim().is_empty()),
            condition_version: s("conditionVersion"),
            created_on: s("createdOn").and_then(|t| {
                OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
            }),
        });
    }
    Ok(out)
}

/// Whether the caller may create role assignments at `scope` (ARM's permissions listing).
/// Read once per run and caller, so it can be started early.
pub async fn can_assign_roles(arm: &Arm<'_>, scope: &str) -> Result<bool, ArmError> {
    let key = format!(
        "arm.can_assign_roles:{}:{}",
        arm.caller(),
        scope.to_ascii_lowercase()
    );
    arm.ctx()
        .once(&key, || can_assign_roles_uncached(arm, scope))
        .await
}

async fn can_assign_roles_uncached(arm: &Arm<'_>, scope: &str) -> Result<bool, ArmError> {
    let path = format!("{scope}/providers/Microsoft.Authorization/permissions");
    let items = arm.list(&path, AUTHORIZATION_API_VERSION, &[]).await?;
    Ok(items.iter().any(|p| {
        let list = |k: &str| -> Vec<String> {
            p.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        list("actions")
            .iter()
            .any(|a| action_glob(a, ROLE_ASSIGNMENT_WRITE))
            && !list("notActions")
                .iter()
                .any(|a| action_glob(a, ROLE_ASSIGNMENT_WRITE))
    }))
}

/// What the role assignments allow for one action on one repository.
#[derive(Debug, Clone, Default)]
pub struct ActionVerdict {
    pub action: &'static str,
    /// Roles (names) that grant it.
    pub granted_by: Vec<String>,
    /// Roles that would grant it but whose condition leaves the repository out: (role, condition).
    pub excluded_by: Vec<(String, String)>,
    /// Roles that would grant it in the other mode but not in this one.
    pub ignored: Vec<String>,
    /// Conditions that could not be evaluated: (role, condition, why). They grant nothing here.
    pub unreadable: Vec<(String, String, String)>,
    /// Assignments that grant it and were created recently (role names).
    pub recent: Vec<String>,
}

impl ActionVerdict {
    pub fn allowed(&self) -> bool {
        !self.granted_by.is_empty()
    }
}

/// Evaluates every repository action for `repository` under `mode`.
pub fn evaluate(
    mode: Mode,
    roles: &[AssignedRole],
    repository: &str,
    now: OffsetDateTime,
    recent_window: time::Duration,
) -> Vec<ActionVerdict> {
    let other = match mode {
        Mode::Legacy => Mode::Abac,
        Mode::Abac => Mode::Legacy,
    };
    REPOSITORY_ACTIONS
        .iter()
        .map(|&action| {
            let mut v = ActionVerdict {
                action,
                ..Default::default()
            };
            for r in roles {
                let name = r.role.name.clone();
                if r.role.repository_actions(mode).contains(&action) {
                    let ok = match (mode, &r.condition) {
                        (Mode::Abac, Some(text)) => {
                            condition_allows(text, action, repository, &r.role)
                        }
                        _ => Ok(true),
                    };
                    match ok {
                        Ok(true) => {
                            if !v.granted_by.contains(&name) {
                                v.granted_by.push(name.clone());
                            }
                            if r.created_on.is_some_and(|c| now - c <= recent_window) {
                                v.recent.push(name);
                            }
                        }
                        Ok(false) => v
                            .excluded_by
                            .push((name, r.condition.clone().unwrap_or_default())),
                        Err(e) => v.unreadable.push((
                            name,
                            r.condition.clone().unwrap_or_default(),
                            e.to_string(),
                        )),
                    }
                } else if r.role.repository_actions(other).contains(&action)
                    && !v.ignored.contains(&name)
                {
                    v.ignored.push(name);
                }
            }
            v
        })
        .collect()
}

/// The condition allows `action` when it holds for every data action that yields it.
fn condition_allows(
    text: &str,
    action: &str,
    repository: &str,
    role: &RoleDefinition,
) -> Result<bool, abac_condition::ConditionError> {
    let condition = abac_condition::parse(text)?;
    let mut any = false;
    for (data_action, a) in abac_data_actions() {
        if a == action && role.allows_data(&data_action) {
            any |= condition.evaluate(&data_action, repository)?;
        }
    }
    Ok(any)
}

/// Roles that allow listing the catalog, and roles that would in the other mode.
pub fn catalog_verdict(mode: Mode, roles: &[AssignedRole]) -> (Vec<String>, Vec<String>) {
    let mut granted = Vec::new();
    let mut ignored = Vec::new();
    for r in roles {
        if r.role.grants_catalog(mode) {
            granted.push(r.role.name.clone());
        } else if !r.role.repository_actions(mode).is_empty()
            || r.role.grants_catalog(match mode {
                Mode::Legacy => Mode::Abac,
                Mode::Abac => Mode::Legacy,
            })
        {
            ignored.push(r.role.name.clone());
        }
    }
    (granted, ignored)
}

/// The role to assign for a set of needed actions, in a mode.
pub fn role_for(mode: Mode, needed: &[&str]) -> Vec<&'static str> {
    let has = |a: &str| needed.contains(&a);
    match mode {
        Mode::Legacy => {
            let mut out = Vec::new();
            if has("push") || has("metadata_write") {
                out.push(names::ACR_PUSH);
            } else if has("pull") || has("metadata_read") {
                out.push(names::ACR_PULL);
            }
            if has("delete") {
                out.push(names::ACR_DELETE);
            }
            out
        }
        Mode::Abac => {
            if has("delete") {
                vec![names::REPOSITORY_CONTRIBUTOR]
            } else if has("push") || has("metadata_write") {
                vec![names::REPOSITORY_WRITER]
            } else if needed.is_empty() {
                vec![]
            } else {
                vec![names::REPOSITORY_READER]
            }
        }
    }
}

/// `az role assignment create ...` for one role; ABAC repository roles carry a condition that
/// limits them to `repository` when one is given.
pub fn assign_command(
    role: &str,
    assignee: &str,
    registry_id: &str,
    repository: Option<&str>,
) -> String {
    let mut cmd = format!(
        "az role assignment create --role \"{role}\" --assignee {assignee} --scope {registry_id}"
    );
    let data = data_actions_of(role);
    if let (Some(repo), false) = (repository, data.is_empty()) {
        let refs: Vec<&str> = data.iter().map(String::as_str).collect();
        let condition = abac_condition::repository_condition(repo, &refs);
        cmd.push_str(&format!(
            " --condition \"{condition}\" --condition-version \"2.0\""
        ));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assigned(guid: &str, condition: Option<&str>) -> AssignedRole {
        AssignedRole {
            assignment_id: "a".into(),
            scope: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r".into(),
            principal_id: "p".into(),
            role: builtin(guid).expect("built-in"),
            condition: condition.map(str::to_string),
            condition_version: condition.map(|_| "2.0".into()),
            created_on: None,
        }
    }

    const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";
    const READER_REPO: &str = "b93aa761-3e63-49ed-ac28-beffa264f7ac";
    const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

    fn allowed(v: &[ActionVerdict]) -> Vec<&'static str> {
        v.iter().filter(|a| a.allowed()).map(|a| a.action).collect()
    }

    #[test]
    fn legacy_roles_count_only_in_legacy_mode() {
        let roles = vec![assigned(ACR_PUSH, None)];
        let now = OffsetDateTime::now_utc();
        let w = time::Duration::minutes(30);
        let legacy = evaluate(Mode::Legacy, &roles, "app", now, w);
        assert_eq!(
            allowed(&legacy),
            vec!["pull", "push", "metadata_read", "metadata_write"]
        );
        let abac = evaluate(Mode::Abac, &roles, "app", now, w);
        assert!(allowed(&abac).is_empty());
        assert_eq!(abac[0].ignored, vec!["AcrPush".to_string()]);
        let owner = evaluate(Mode::Legacy, &[assigned(OWNER, None)], "app", now, w);
        assert_eq!(allowed(&owner).len(), 5);
        assert!(allowed(&evaluate(
            Mode::Abac,
            &[assigned(OWNER, None)],
            "app",
            now,
            w
        ))
        .is_empty());
    }

    #[test]
    fn abac_conditions_include_and_exclude() {
        let cond = abac_condition::repository_condition(
            "app",
            &[
                "Microsoft.ContainerRegistry/registries/repositories/content/read",
                "Microsoft.ContainerRegistry/registries/repositories/metadata/read",
            ],
        );
        let roles = vec![assigned(READER_REPO, Some(&cond))];
        let now = OffsetDateTime::now_utc();
        let w = time::Duration::minutes(30);
        assert_eq!(
            allowed(&evaluate(Mode::Abac, &roles, "app", now, w)),
            vec!["pull", "metadata_read"]
        );
        let other = evaluate(Mode::Abac, &roles, "web", now, w);
        assert!(allowed(&other).is_empty());
        assert_eq!(other[0].excluded_by[0].0, names::REPOSITORY_READER);
        let garbage = vec![assigned(READER_REPO, Some("(("))];
        let v = evaluate(Mode::Abac, &garbage, "app", now, w);
        assert!(!v[0].allowed());
        assert_eq!(v[0].unreadable.len(), 1);
    }

    #[test]
    fn advice() {
        assert_eq!(role_for(Mode::Legacy, &["pull"]), vec!["AcrPull"]);
        assert_eq!(
            role_for(Mode::Legacy, &["pull", "push", "delete"]),
            vec!["AcrPush", "AcrDelete"]
        );
        assert_eq!(
            role_for(Mode::Abac, &["push"]),
            vec![names::REPOSITORY_WRITER]
        );
        let cmd = assign_command(
            names::REPOSITORY_READER,
            "oid",
            "/subscriptions/s/x",
            Some("app"),
        );
        assert!(cmd.contains("--condition \"((!(ActionMatches{"));
        assert!(cmd.ends_with("--condition-version \"2.0\""));
        let c = assign_command(names::ACR_PULL, "oid", "/subscriptions/s/x", Some("app"));
        assert!(!c.contains("--condition"));
        assert!(action_glob("*/read", PULL_READ));
        assert!(!action_glob("*/read", PUSH_WRITE));
        assert!(action_glob(
            "Microsoft.Authorization/*",
            ROLE_ASSIGNMENT_WRITE
        ));
        assert!(action_glob(
            "microsoft.authorization/*/write",
            ROLE_ASSIGNMENT_WRITE
        ));
    }
}
