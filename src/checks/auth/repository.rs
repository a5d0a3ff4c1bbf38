//! `auth.repository`: what the access token grants on `--repository` against `--need`,
//! confirmed with read-only registry calls, and every missing action explained.

use futures::future::BoxFuture;
use serde_json::Value;

use super::explain::{explain_missing, Subject};
use super::probes::{probe_inputs, probe_repository, Probes, Proof};
use super::{arm_client, assignments, grants_for, join, lock, repository_needs};
use crate::azure::roles;
use crate::catalogue::Code;
use crate::checks::{
    ArmRegistry, BasicKind, Check, CheckCx, Credential, Fact, Group, Meta, Outcome,
    RepositoryAccess,
};
use crate::finding::{RawFinding, Severity};
use crate::lang::Lang;
use crate::redact::Secret;
use crate::request::CheckArgs;

pub struct AuthRepository;

impl Check for AuthRepository {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "auth.repository",
            Group::Authorization,
            "repository access",
            "リポジトリへのアクセス",
        )
        .needs(&[Fact::AccessToken])
        .uses(&[Fact::ArmRegistry])
        .provides(&[Fact::Permissions]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        args.repository.is_none().then(|| {
            lang.pick(
                "no --repository given: repository permissions not checked",
                "--repository が指定されていないため、リポジトリのアクセス許可は確認していません",
            )
            .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_repository(cx).await })
    }
}

async fn auth_repository(cx: &CheckCx<'_>) -> Outcome {
    let Some(repo) = cx.args.repository_name().map(str::to_string) else {
        return Outcome::skip("no --repository");
    };
    let needed = repository_needs(cx.args);
    let (token, login, credential, arm_token, reg) = match probe_inputs(cx) {
        Ok(inputs) => inputs,
        Err(skip) => return *skip,
    };
    let (granted, requested) = grants_for(cx, &format!("repository:{repo}"));
    let granted = granted.unwrap_or_default();
    let claims = |a: &str| granted.iter().any(|g| g == a);
    // Write-method probes only on --probe-writes: by default the registry gets GET and HEAD only.
    let writes = cx.args.probe_writes;
    let try_push = writes && (claims("push") || needed.contains(&"push"));
    let try_delete = writes && (claims("delete") || needed.contains(&"delete"));
    let image = cx.args.image();
    let reference = image.as_ref().and_then(|i| i.reference());
    // The lock attributes (auth.lock) are read beside the probes, not after them.
    let locks = async {
        if let Some(image) = image.as_ref().filter(|_| lock::wanted(cx.args)) {
            lock::attributes(cx, &login, &token, image).await;
        }
    };
    let (probes, ()) = futures::join!(
        probe_repository(cx, &login, &token, &repo, reference, try_push, try_delete),
        locks
    );

    let Access {
        have,
        missing,
        not_needed_missing,
        proven,
        refused_despite_claim,
    } = Access::of(&needed, &granted, &probes);

    cx.facts().repository_access = Some(RepositoryAccess {
        repository: repo.clone(),
        granted: have.clone(),
        needed: needed.clone(),
        missing: missing.clone(),
        proven: proven.clone(),
    });

    let requested_json = requested.clone().map(Value::from).unwrap_or(Value::Null);
    let decorate = |o: Outcome| {
        o.evidence("repository", repo.clone())
            .evidence("needed", needed.clone())
            .evidence("granted", have.clone())
            .evidence("token_requested", requested_json.clone())
            .evidence("token_granted", granted.clone())
            .evidence("not_granted_not_needed", not_needed_missing.clone())
            .evidence("proven_by_registry", proven.clone())
            .evidence("registry_calls", probes.calls.clone())
    };

    if missing.is_empty() {
        let extra_en = if not_needed_missing.is_empty() {
            String::new()
        } else {
            format!("; not granted (not needed): {}", join(&not_needed_missing))
        };
        let extra_ja = if not_needed_missing.is_empty() {
            String::new()
        } else {
            format!("。未付与 (不要): {}", join(&not_needed_missing))
        };
        return decorate(Outcome::pass(cx.t(
            format!(
                "{repo}: granted {} (needed {}); registry confirmed {}{extra_en}",
                join(&have),
                join(&needed),
                join(&proven)
            ),
            format!(
                "{repo}: 付与 {} (必要 {})。レジストリで確認済み {}{extra_ja}",
                join(&have),
                join(&needed),
                join(&proven)
            ),
        )));
    }

    let message = cx.t(
        format!(
            "{repo}: granted {}; missing {} (needed {})",
            join(&have),
            join(&missing),
            join(&needed)
        ),
        format!(
            "{repo}: 付与 {}、不足 {} (必要 {})",
            join(&have),
            join(&missing),
            join(&needed)
        ),
    );

    let mut findings = match &credential {
        Some(Credential::Entra { claims, .. }) => {
            let oid = claims.object_id.clone();
            explain_for_entra(cx, arm_token, reg.as_ref(), oid, &repo, &missing, &have).await
        }
        other => vec![credential_finding(
            cx,
            other.as_ref(),
            &repo,
            &have,
            &missing,
        )],
    };
    if !refused_despite_claim.is_empty() {
        findings.push(
            RawFinding::new(
                Code::REPOSITORY_PERMISSION_MISSING,
                cx.t(
                    format!(
                        "the token lists {} on {repo}, but the registry refused it",
                        join(&refused_despite_claim)
                    ),
                    format!(
                        "トークンには {repo} の {} がありますが、レジストリが拒否しました",
                        join(&refused_despite_claim)
                    ),
                ),
            )
            .evidence("registry_calls", probes.calls.clone()),
        );
    }
    if findings.is_empty() {
        findings.push(RawFinding::new(
            Code::REPOSITORY_PERMISSION_MISSING,
            message.clone(),
        ));
    }
    // The primary (error) finding first.
    findings.sort_by_key(|f| {
        std::cmp::Reverse(
            f.severity
                .or(Some(f.code.cause().severity))
                .unwrap_or(Severity::Error),
        )
    });
    let mut out = decorate(Outcome::fail(message, findings.remove(0)));
    for f in findings {
        out = out.finding(f);
    }
    out
}

/// What the token and the registry's answers say about each repository action: an action
/// counts as granted when the token lists it and the registry did not refuse it.
#[derive(Debug, PartialEq, Eq)]
struct Access {
    /// Granted and not refused, in the order of the repository actions.
    have: Vec<&'static str>,
    /// Needed and not granted.
    missing: Vec<&'static str>,
    /// Neither needed nor granted.
    not_needed_missing: Vec<&'static str>,
    /// Let through by the registry (pull, push, delete).
    proven: Vec<&'static str>,
    /// Listed by the token and refused by the registry.
    refused_despite_claim: Vec<&'static str>,
}

impl Access {
    fn of(needed: &[&'static str], granted: &[String], probes: &Probes) -> Access {
        let claims = |a: &str| granted.iter().any(|g| g == a);
        let proof = |a: &str| match a {
            "pull" => probes.pull,
            "push" => probes.push,
            "delete" => probes.delete,
            _ => Proof::Unknown,
        };
        let confirmed = |a: &str| claims(a) && proof(a) != Proof::Refused;
        let refused_despite_claim: Vec<&'static str> = ["pull", "push", "delete"]
            .into_iter()
            .filter(|a| claims(a) && proof(a) == Proof::Refused)
            .collect();
        let have: Vec<&'static str> = roles::REPOSITORY_ACTIONS
            .iter()
            .copied()
            .filter(|a| confirmed(a))
            .collect();
        let missing: Vec<&'static str> = needed.iter().copied().filter(|a| !confirmed(a)).collect();
        let not_needed_missing: Vec<&'static str> = roles::REPOSITORY_ACTIONS
            .iter()
            .copied()
            .filter(|a| !needed.contains(a) && !confirmed(a))
            .collect();
        let proven: Vec<&'static str> = ["pull", "push", "delete"]
            .into_iter()
            .filter(|a| proof(a) == Proof::Allowed)
            .collect();
        Access {
            have,
            missing,
            not_needed_missing,
            proven,
            refused_despite_claim,
        }
    }
}

/// An Entra identity: the missing actions explained from its role assignments at the registry
/// (object ID `oid`), or why they could not be read.
async fn explain_for_entra(
    cx: &CheckCx<'_>,
    arm_token: Option<Secret>,
    reg: Option<&ArmRegistry>,
    oid: Option<String>,
    repo: &str,
    missing: &[&'static str],
    have: &[&str],
) -> Vec<RawFinding> {
    let subject = Subject {
        assignee: oid.as_deref(),
        other: false,
    };
    let arm = arm_token.map(|t| arm_client(cx, t));
    let (roles, why) = match (&arm, &reg, &oid) {
        (Some(arm), Some(reg), Some(oid)) => match assignments(cx, arm, &reg.id, oid).await {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        },
        (None, _, _) => (None, Some(cx.t("no ARM token", "ARM トークンがありません"))),
        (_, None, _) => (
            None,
            Some(cx.t(
                "registry settings not readable through ARM",
                "ARM からレジストリ設定を読み取れません",
            )),
        ),
        (_, _, None) => (
            None,
            Some(cx.t(
                "the token names no object ID",
                "トークンにオブジェクト ID がありません",
            )),
        ),
    };
    explain_missing(
        cx,
        arm.as_ref(),
        reg,
        &subject,
        repo,
        missing,
        have,
        roles.as_deref(),
        why,
    )
    .await
}

/// Another credential (basic, anonymous): what it is granted and what is missing; for a
/// repository-scoped token, the scope map to widen.
fn credential_finding(
    cx: &CheckCx<'_>,
    credential: Option<&Credential>,
    repo: &str,
    have: &[&str],
    missing: &[&'static str],
) -> RawFinding {
    let kind = match credential {
        Some(Credential::Basic { kind, .. }) => match kind {
            BasicKind::AdminUser => "admin user",
            BasicKind::RepositoryToken => "repository-scoped token",
            BasicKind::ServicePrincipal => "service principal (basic)",
            BasicKind::RefreshToken => "ACR refresh token",
            BasicKind::Unknown => "username/password",
        },
        Some(Credential::Anonymous { .. }) => "anonymous",
        _ => "credential",
    };
    let mut f = RawFinding::new(
        Code::REPOSITORY_PERMISSION_MISSING,
        cx.t(
            format!(
                "the {kind} credential is granted {} on {repo}; missing {}",
                join(have),
                join(missing)
            ),
            format!(
                "{kind} の資格情報に付与されたのは {repo} の {} で、{} が不足しています",
                join(have),
                join(missing)
            ),
        ),
    )
    .evidence("repository", repo)
    .evidence("granted", have.to_vec())
    .evidence("missing", missing.to_vec());
    if matches!(
        credential,
        Some(Credential::Basic {
            kind: BasicKind::RepositoryToken,
            ..
        })
    ) {
        f = f.step(cx.t(
            format!("Add the missing actions for {repo} to the token's scope map (az acr scope-map update)."),
            format!("トークンのスコープ マップに {repo} の不足しているアクションを追加します (az acr scope-map update)。"),
        ));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes(pull: Proof, push: Proof, delete: Proof) -> Probes {
        Probes {
            calls: Vec::new(),
            pull,
            push,
            delete,
            tags: Vec::new(),
        }
    }

    fn granted(actions: &[&str]) -> Vec<String> {
        actions.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn a_claimed_action_counts_unless_the_registry_refused_it() {
        let p = probes(Proof::Allowed, Proof::Refused, Proof::Unknown);
        let a = Access::of(&["pull", "push"], &granted(&["pull", "push"]), &p);
        assert_eq!(a.have, vec!["pull"]);
        assert_eq!(a.missing, vec!["push"]);
        assert_eq!(a.refused_despite_claim, vec!["push"]);
        assert_eq!(a.proven, vec!["pull"]);
        assert_eq!(
            a.not_needed_missing,
            vec!["delete", "metadata_read", "metadata_write"]
        );
    }

    #[test]
    fn an_unclaimed_action_is_missing_even_when_not_refused() {
        let p = probes(Proof::Allowed, Proof::Unknown, Proof::Unknown);
        let a = Access::of(
            &["pull", "delete"],
            &granted(&["pull", "metadata_read"]),
            &p,
        );
        assert_eq!(a.have, vec!["pull", "metadata_read"]);
        assert_eq!(a.missing, vec!["delete"]);
        assert!(a.refused_despite_claim.is_empty());
        assert_eq!(a.not_needed_missing, vec!["push", "metadata_write"]);
    }
}
