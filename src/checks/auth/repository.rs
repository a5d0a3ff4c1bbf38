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
    ArmRegistry, BasicKind, Check, CheckCx, Credential, Fact, Group, LoginServer, Meta, Outcome,
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
    let probes = probe(cx, &login, &token, &repo, &needed, &granted).await;
    let access = Access::of(&needed, &granted, &probes);
    cx.facts().repository_access = Some(RepositoryAccess {
        repository: repo.clone(),
        granted: access.have.clone(),
        needed: needed.clone(),
        missing: access.missing.clone(),
        proven: access.proven.clone(),
    });
    let verdict = Verdict {
        lang: cx.lang,
        repo: &repo,
        needed: &needed,
        granted: &granted,
        requested: requested.map(Value::from).unwrap_or(Value::Null),
        access: &access,
        calls: &probes.calls,
    };
    if access.missing.is_empty() {
        return verdict.all_granted();
    }
    let (missing, have) = (&access.missing, &access.have);
    let findings = match &credential {
        Some(Credential::Entra { claims, .. }) => {
            let oid = claims.object_id.clone();
            explain_for_entra(cx, arm_token, reg.as_ref(), oid, &repo, missing, have).await
        }
        other => vec![credential_finding(cx, other.as_ref(), &repo, have, missing)],
    };
    verdict.missing(findings)
}

/// Which write methods to probe: only with `--probe-writes` (by default the registry gets GET and
/// HEAD only), and only for an action the token claims or the run needs. `(push, delete)`.
fn write_probes(probe_writes: bool, needed: &[&str], granted: &[String]) -> (bool, bool) {
    let wanted = |a: &str| probe_writes && (granted.iter().any(|g| g == a) || needed.contains(&a));
    (wanted("push"), wanted("delete"))
}

/// The registry probes for `repo`, and the lock attributes (auth.lock) read beside them, not
/// after them.
async fn probe(
    cx: &CheckCx<'_>,
    login: &LoginServer,
    token: &Secret,
    repo: &str,
    needed: &[&str],
    granted: &[String],
) -> Probes {
    let (try_push, try_delete) = write_probes(cx.args.probe_writes, needed, granted);
    let image = cx.args.image();
    let reference = image.as_ref().and_then(|i| i.reference());
    let locks = async {
        if let Some(image) = image.as_ref().filter(|_| lock::wanted(cx.args)) {
            lock::attributes(cx, login, token, image).await;
        }
    };
    let (probes, ()) = futures::join!(
        probe_repository(cx, login, token, repo, reference, try_push, try_delete),
        locks
    );
    probes
}

/// What was found for the repository, as the outcome words it.
struct Verdict<'a> {
    lang: Lang,
    repo: &'a str,
    needed: &'a [&'static str],
    /// The actions the token lists.
    granted: &'a [String],
    /// The actions the token was asked for (`null` when unknown).
    requested: Value,
    access: &'a Access,
    calls: &'a [Value],
}

impl Verdict<'_> {
    /// The evidence every outcome carries.
    fn decorate(&self, o: Outcome) -> Outcome {
        let a = self.access;
        o.evidence("repository", self.repo)
            .evidence("needed", self.needed.to_vec())
            .evidence("granted", a.have.clone())
            .evidence("token_requested", self.requested.clone())
            .evidence("token_granted", self.granted.to_vec())
            .evidence("not_granted_not_needed", a.not_needed_missing.clone())
            .evidence("proven_by_registry", a.proven.clone())
            .evidence("registry_calls", self.calls.to_vec())
    }

    /// Every needed action is granted.
    fn all_granted(&self) -> Outcome {
        let Verdict {
            lang,
            repo,
            needed,
            access: a,
            ..
        } = self;
        let (have, proven, extra) = (join(&a.have), join(&a.proven), &a.not_needed_missing);
        let needed = join(needed);
        let (extra_en, extra_ja) = if extra.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!("; not granted (not needed): {}", join(extra)),
                format!("。未付与 (不要): {}", join(extra)),
            )
        };
        self.decorate(Outcome::pass(lang.t(
            format!(
                "{repo}: granted {have} (needed {needed}); registry confirmed {proven}{extra_en}"
            ),
            format!("{repo}: 付与 {have} (必要 {needed})。レジストリで確認済み {proven}{extra_ja}"),
        )))
    }

    /// Needed actions are missing: the explanation's `findings`, a finding for what the token
    /// lists and the registry refused, and the error first.
    fn missing(&self, mut findings: Vec<RawFinding>) -> Outcome {
        let Verdict {
            lang,
            repo,
            access: a,
            ..
        } = self;
        let (have, missing, needed) = (join(&a.have), join(&a.missing), join(self.needed));
        let message = lang.t(
            format!("{repo}: granted {have}; missing {missing} (needed {needed})"),
            format!("{repo}: 付与 {have}、不足 {missing} (必要 {needed})"),
        );
        if !a.refused_despite_claim.is_empty() {
            let refused = join(&a.refused_despite_claim);
            findings.push(
                RawFinding::new(
                    Code::REPOSITORY_PERMISSION_MISSING,
                    lang.t(
                        format!("the token lists {refused} on {repo}, but the registry refused it"),
                        format!("トークンには {repo} の {refused} がありますが、レジストリが拒否しました"),
                    ),
                )
                .evidence("registry_calls", self.calls.to_vec()),
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
        let mut out = self.decorate(Outcome::fail(message, findings.remove(0)));
        for f in findings {
            out = out.finding(f);
        }
        out
    }
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
    use crate::report::CheckStatus;

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
    fn writes_are_probed_only_when_asked_and_claimed_or_needed() {
        let pull = granted(&["pull", "push", "delete"]);
        assert_eq!(
            write_probes(false, &["push", "delete"], &pull),
            (false, false)
        );
        assert_eq!(write_probes(true, &["pull"], &pull), (true, true));
        assert_eq!(
            write_probes(true, &["pull"], &granted(&["pull"])),
            (false, false)
        );
        assert_eq!(
            write_probes(true, &["delete"], &granted(&["push"])),
            (true, true)
        );
        assert_eq!(write_probes(true, &["delete"], &[]), (false, true));
    }

    fn verdict<'a>(
        needed: &'a [&'static str],
        granted: &'a [String],
        access: &'a Access,
    ) -> Verdict<'a> {
        Verdict {
            lang: Lang::En,
            repo: "app",
            needed,
            granted,
            requested: Value::Null,
            access,
            calls: &[],
        }
    }

    #[test]
    fn all_needed_granted_passes_with_what_is_not_needed() {
        let g = granted(&["pull", "push"]);
        let a = Access::of(
            &["pull"],
            &g,
            &probes(Proof::Allowed, Proof::Unknown, Proof::Unknown),
        );
        let o = verdict(&["pull"], &g, &a).all_granted();
        assert_eq!(o.status, CheckStatus::Pass);
        assert!(o.findings.is_empty());
        assert_eq!(o.evidence["granted"], serde_json::json!(["pull", "push"]));
        assert_eq!(
            o.evidence["proven_by_registry"],
            serde_json::json!(["pull"])
        );
        assert_eq!(o.evidence["token_requested"], Value::Null);
        assert_eq!(
            o.evidence["not_granted_not_needed"],
            serde_json::json!(["delete", "metadata_read", "metadata_write"])
        );
    }

    #[test]
    fn a_missing_action_fails_with_the_error_first() {
        let g = granted(&["pull"]);
        let a = Access::of(
            &["pull", "push"],
            &g,
            &probes(Proof::Allowed, Proof::Unknown, Proof::Unknown),
        );
        // No explanation: the missing actions themselves.
        let o = verdict(&["pull", "push"], &g, &a).missing(Vec::new());
        assert_eq!(o.status, CheckStatus::Fail);
        assert_eq!(o.findings.len(), 1);
        assert_eq!(o.findings[0].code, Code::REPOSITORY_PERMISSION_MISSING);
        assert_eq!(o.evidence["needed"], serde_json::json!(["pull", "push"]));

        // Listed by the token, refused by the registry: a finding of its own, with the calls.
        let g = granted(&["pull", "push"]);
        let a = Access::of(
            &["pull", "push"],
            &g,
            &probes(Proof::Allowed, Proof::Refused, Proof::Unknown),
        );
        let note =
            RawFinding::new(Code::REPOSITORY_PERMISSION_MISSING, "n").severity(Severity::Info);
        let o = verdict(&["pull", "push"], &g, &a).missing(vec![note]);
        assert_eq!(o.findings.len(), 2);
        assert_ne!(o.findings[0].severity, Some(Severity::Info));
        assert!(o.findings[0].evidence.contains_key("registry_calls"));
        assert_eq!(o.findings[1].severity, Some(Severity::Info));
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
