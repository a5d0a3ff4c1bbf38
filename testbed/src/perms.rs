//! Permission computation: ARM actions and the registry data plane (legacy RBAC and ABAC).

use crate::abac;
use crate::state::{BedState, Registry, RoleAssignment, RoleAssignmentMode, RoleDefinition};
use std::collections::BTreeSet;

/// Case-insensitive glob with `*` (matches anything, including `/`), as ARM action patterns.
pub(crate) fn glob_match(pattern: &str, action: &str) -> bool {
    fn rec(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], s) || (!s.is_empty() && rec(p, &s[1..])),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => rec(&p[1..], &s[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), action.as_bytes())
}

/// Whether `target` is `scope` or below it.
pub(crate) fn scope_covers(scope: &str, target: &str) -> bool {
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    let target = target.trim_end_matches('/').to_ascii_lowercase();
    scope.is_empty() || scope == "/" || target == scope || target.starts_with(&format!("{scope}/"))
}

/// Assignments of a principal that apply at `scope` (at it or inherited from a parent).
pub(crate) fn assignments_at<'a>(
    state: &'a BedState,
    oid: &str,
    scope: &str,
) -> Vec<(&'a RoleAssignment, &'a RoleDefinition)> {
    state
        .assignments
        .iter()
        .filter(|a| a.principal_id.eq_ignore_ascii_case(oid) && scope_covers(&a.scope, scope))
        .filter_map(|a| state.role(&a.role_definition_id).map(|d| (a, d)))
        .collect()
}

fn role_allows(d: &RoleDefinition, action: &str) -> bool {
    d.actions.iter().any(|p| glob_match(p, action))
        && !d.not_actions.iter().any(|p| glob_match(p, action))
}

fn role_allows_data(d: &RoleDefinition, action: &str) -> bool {
    d.data_actions.iter().any(|p| glob_match(p, action))
        && !d.not_data_actions.iter().any(|p| glob_match(p, action))
}

/// Whether a principal may perform an ARM action at a scope.
pub(crate) fn arm_allowed(state: &BedState, oid: &str, scope: &str, action: &str) -> bool {
    assignments_at(state, oid, scope)
        .iter()
        .any(|(_, d)| role_allows(d, action))
}

/// Registry actions (`pull`, `push`, `delete`, `metadata_read`, `metadata_write`) a principal
/// holds on a repository.
///
/// Legacy mode, from the roles' control-plane actions: `registries/pull/read` -> pull and
/// metadata_read; `registries/push/write` -> push and metadata_write; `registries/artifacts/delete`
/// -> delete (so Owner/Contributor get everything, Reader pull). Assumption: the metadata actions
/// follow pull/push, as `az acr repository show-tags` works with AcrPull. The repository roles'
/// data actions are ignored in legacy mode.
///
/// ABAC mode: only data actions count (`repositories/content/read` -> pull, `content/write` ->
/// push, `content/delete` and `metadata/delete` -> delete, `metadata/read` -> metadata_read,
/// `metadata/write` -> metadata_write), each subject to the assignment's condition.
pub(crate) fn repository_actions(
    state: &BedState,
    reg: &Registry,
    oid: &str,
    repo: &str,
) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for (a, d) in assignments_at(state, oid, &reg.id()) {
        match reg.role_assignment_mode {
            RoleAssignmentMode::Legacy => {
                if role_allows(d, "Microsoft.ContainerRegistry/registries/pull/read") {
                    out.extend(["pull", "metadata_read"]);
                }
                if role_allows(d, "Microsoft.ContainerRegistry/registries/push/write") {
                    out.extend(["push", "metadata_write"]);
                }
                if role_allows(d, "Microsoft.ContainerRegistry/registries/artifacts/delete") {
                    out.insert("delete");
                }
            }
            RoleAssignmentMode::Abac => {
                const BASE: &str = "Microsoft.ContainerRegistry/registries/repositories";
                for (suffix, granted) in [
                    ("content/read", "pull"),
                    ("metadata/read", "metadata_read"),
                    ("content/write", "push"),
                    ("metadata/write", "metadata_write"),
                    ("content/delete", "delete"),
                    ("metadata/delete", "delete"),
                ] {
                    let action = format!("{BASE}/{suffix}");
                    if !role_allows_data(d, &action) {
                        continue;
                    }
                    let ok = match &a.condition {
                        None => true,
                        Some(c) => abac::evaluate(c, &action, repo).unwrap_or(false),
                    };
                    if ok {
                        out.insert(granted);
                    }
                }
            }
        }
    }
    out
}

/// Whether a principal may list the catalog (`registry:catalog:*`).
pub(crate) fn catalog_allowed(state: &BedState, reg: &Registry, oid: &str) -> bool {
    let assigned = assignments_at(state, oid, &reg.id());
    match reg.role_assignment_mode {
        RoleAssignmentMode::Legacy => assigned.iter().any(|(_, d)| {
            ["pull/read", "push/write", "artifacts/delete"]
                .iter()
                .any(|s| role_allows(d, &format!("Microsoft.ContainerRegistry/registries/{s}")))
        }),
        RoleAssignmentMode::Abac => assigned.iter().any(|(_, d)| {
            role_allows_data(d, "Microsoft.ContainerRegistry/registries/catalog/read")
        }),
    }
}

/// Map a scope-map action (`repositories/app/content/read`) to (repository, registry action).
pub(crate) fn scope_map_action(entry: &str) -> Option<(String, &'static str)> {
    let rest = entry.strip_prefix("repositories/")?;
    let (repo, what) = rest.rsplit_once('/').and_then(|(head, last)| {
        let (repo, kind) = head.rsplit_once('/')?;
        Some((repo, format!("{kind}/{last}")))
    })?;
    let action = match what.as_str() {
        "content/read" => "pull",
        "content/write" => "push",
        "content/delete" => "delete",
        "metadata/read" => "metadata_read",
        "metadata/write" => "metadata_write",
        _ => return None,
    };
    Some((repo.to_string(), action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_scopes() {
        assert!(glob_match(
            "*/read",
            "Microsoft.ContainerRegistry/registries/pull/read"
        ));
        assert!(!glob_match(
            "*/read",
            "Microsoft.ContainerRegistry/registries/push/write"
        ));
        assert!(glob_match(
            "Microsoft.Authorization/*",
            "microsoft.authorization/roleAssignments/write"
        ));
        assert!(scope_covers(
            "/subscriptions/a",
            "/subscriptions/a/resourceGroups/b"
        ));
        assert!(!scope_covers("/subscriptions/a", "/subscriptions/ab"));
        assert_eq!(
            scope_map_action("repositories/team/app/content/read"),
            Some(("team/app".into(), "pull"))
        );
        assert_eq!(
            scope_map_action("repositories/app/metadata/write"),
            Some(("app".into(), "metadata_write"))
        );
        assert_eq!(scope_map_action("gateway/x/config/read"), None);
    }
}
