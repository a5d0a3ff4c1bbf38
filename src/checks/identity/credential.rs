//! `identity.credential`: the credential the run uses, from the first configured source in the
//! order of `--auth auto` (or the one pinned with `--auth`).

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::claims_json;
use super::sources::{self, Acquired, Attempt, MiNotFound};
use crate::catalogue::Code;
use crate::checks::{Check, CheckCx, Credential, Fact, Group, Meta, Outcome};
use crate::finding::RawFinding;
use crate::request::AuthSource;

pub struct CredentialCheck;

impl Check for CredentialCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "identity.credential",
            Group::Identity,
            "credential",
            "資格情報",
        )
        .uses(&[Fact::RegistryName, Fact::LoginServer, Fact::DockerConfig])
        .provides(&[Fact::Credential]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { credential(cx).await })
    }
}

/// The credential sources `--auth auto` tries, in order: the one definition of that order.
pub(super) const AUTO_ORDER: [AuthSource; 6] = [
    AuthSource::Basic,
    AuthSource::Env,
    AuthSource::WorkloadIdentity,
    AuthSource::ManagedIdentity,
    AuthSource::Cli,
    AuthSource::DockerConfig,
];

async fn credential(cx: &CheckCx<'_>) -> Outcome {
    let mut tally = Tally::default();
    for source in auth_order(cx.args.auth) {
        let Some(attempt) = attempt(cx, source).await else {
            continue;
        };
        match attempt {
            Attempt::Unavailable(why) => tally.unavailable(source, &why),
            Attempt::Deferred(why, not_found) => {
                tally.unavailable(source, &why);
                tally.deferred.get_or_insert(not_found);
            }
            Attempt::Failed(outcome) => {
                tally.record(source, json!("failed"));
                return outcome.evidence("tried", tally.tried);
            }
            Attempt::Got(got) => {
                tally.record(source, json!("used"));
                return used(cx, source, *got, tally.tried);
            }
        }
    }
    none_found(cx, tally)
}

/// The sources to try: the order of `--auth auto`, or the one pinned.
fn auth_order(auth: AuthSource) -> Vec<AuthSource> {
    match auth {
        AuthSource::Auto => AUTO_ORDER.to_vec(),
        pinned => vec![pinned],
    }
}

/// What one source gives; `None` for `auto`, which is not a source itself.
async fn attempt(cx: &CheckCx<'_>, source: AuthSource) -> Option<Attempt> {
    Some(match source {
        AuthSource::Basic => sources::from_basic(cx),
        AuthSource::Env => sources::from_env(cx).await,
        AuthSource::WorkloadIdentity => sources::from_workload(cx).await,
        AuthSource::ManagedIdentity => sources::from_managed(cx).await,
        AuthSource::Cli => sources::from_cli(cx).await,
        AuthSource::DockerConfig => sources::from_docker(cx).await,
        AuthSource::Anonymous => anonymous(cx),
        AuthSource::Auto => return None,
    })
}

/// `--auth anonymous`: no credential, on purpose.
fn anonymous(cx: &CheckCx<'_>) -> Attempt {
    Attempt::Got(Box::new(Acquired {
        credential: Credential::Anonymous {
            source: "anonymous".into(),
        },
        arm: None,
        graph: None,
        message: cx.t(
            "anonymous (--auth anonymous): no credential is sent",
            "匿名 (--auth anonymous): 資格情報は送りません",
        ),
        evidence: Vec::new(),
    }))
}

/// The sources tried so far: the `tried` evidence, what each unavailable one lacked, and the
/// first managed-identity answer kept as the diagnosis if nothing else gives a credential.
#[derive(Default)]
struct Tally {
    tried: Vec<Value>,
    missing: Vec<String>,
    deferred: Option<Box<MiNotFound>>,
}

impl Tally {
    fn record(&mut self, source: AuthSource, result: Value) {
        self.tried
            .push(json!({"source": source.as_str(), "result": result}));
    }

    fn unavailable(&mut self, source: AuthSource, why: &str) {
        self.record(source, json!(format!("unavailable: {why}")));
        self.missing.push(format!("{}: {why}", source.as_str()));
    }
}

/// The credential found: the pass, and the credential and tokens stored as facts.
fn used(cx: &CheckCx<'_>, source: AuthSource, got: Acquired, tried: Vec<Value>) -> Outcome {
    let Acquired {
        credential,
        arm,
        graph,
        message,
        evidence,
    } = got;
    let mut outcome = Outcome::pass(message)
        .evidence("source", source.as_str())
        .evidence("tried", tried);
    for (k, v) in evidence {
        outcome = outcome.evidence(k, v);
    }
    if let Credential::Entra { claims, .. } = &credential {
        outcome = outcome.evidence("identity", claims_json(claims));
    }
    let mut f = cx.facts();
    f.credential = Some(credential);
    f.arm_token = arm;
    f.graph_token = graph;
    outcome
}

/// What the other sources lacked, without the managed identity's own line.
fn others_than_managed(missing: &[String]) -> Vec<&str> {
    missing
        .iter()
        .map(String::as_str)
        .filter(|m| !m.starts_with("managed-identity:"))
        .collect()
}

/// No source gave a credential: the managed identity's answer if one was kept, else what each
/// source lacked.
fn none_found(cx: &CheckCx<'_>, tally: Tally) -> Outcome {
    let Tally {
        tried,
        missing,
        deferred,
    } = tally;
    let list = missing.join("; ");
    if let Some(not_found) = deferred {
        let others = others_than_managed(&missing);
        return sources::managed_identity_not_found(cx, &not_found, Some(&others.join("; ")))
            .evidence("tried", tried);
    }
    let detail = cx.t(
        format!("no Microsoft Entra credential could be obtained: {list}"),
        format!("Microsoft Entra の資格情報をどこからも取得できませんでした: {list}"),
    );
    Outcome::fail(
        cx.t(
            format!("no credential found ({} sources tried)", tried.len()),
            format!(
                "資格情報が見つかりません ({} 個のソースを確認)",
                tried.len()
            ),
        ),
        RawFinding::new(Code::AAD_CREDENTIAL_UNAVAILABLE, detail)
            .evidence("tried", tried.clone())
            .command("az login")
            .command(format!(
                "acr-doctor check --name {} --username <user> --password-stdin",
                cx.target
            )),
    )
    .evidence("tried", tried)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_tries_every_source_in_order_and_a_pinned_source_alone() {
        assert_eq!(auth_order(AuthSource::Auto), AUTO_ORDER.to_vec());
        assert_eq!(auth_order(AuthSource::Cli), vec![AuthSource::Cli]);
        assert_eq!(
            auth_order(AuthSource::Anonymous),
            vec![AuthSource::Anonymous]
        );
    }

    #[test]
    fn tally_records_each_source_as_the_tried_evidence_had_it() {
        let mut t = Tally::default();
        t.unavailable(AuthSource::Basic, "no flags");
        t.record(AuthSource::Cli, json!("failed"));
        t.record(AuthSource::Env, json!("used"));
        assert_eq!(
            t.tried,
            vec![
                json!({"source": "basic", "result": "unavailable: no flags"}),
                json!({"source": "cli", "result": "failed"}),
                json!({"source": "env", "result": "used"}),
            ]
        );
        assert_eq!(t.missing, vec!["basic: no flags".to_string()]);
        assert!(t.deferred.is_none());
    }

    #[test]
    fn others_than_managed_drops_only_the_managed_identity_line() {
        let missing = vec![
            "basic: a".to_string(),
            "managed-identity: b".to_string(),
            "cli: c".to_string(),
        ];
        assert_eq!(others_than_managed(&missing), vec!["basic: a", "cli: c"]);
    }
}
