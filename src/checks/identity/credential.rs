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
    let order: Vec<AuthSource> = match cx.args.auth {
        AuthSource::Auto => AUTO_ORDER.to_vec(),
        pinned => vec![pinned],
    };
    let mut tried: Vec<Value> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut deferred: Option<Box<MiNotFound>> = None;
    for source in order {
        let attempt = match source {
            AuthSource::Basic => sources::from_basic(cx),
            AuthSource::Env => sources::from_env(cx).await,
            AuthSource::WorkloadIdentity => sources::from_workload(cx).await,
            AuthSource::ManagedIdentity => sources::from_managed(cx).await,
            AuthSource::Cli => sources::from_cli(cx).await,
            AuthSource::DockerConfig => sources::from_docker(cx).await,
            AuthSource::Anonymous => Attempt::Got(Box::new(Acquired {
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
            })),
            AuthSource::Auto => continue,
        };
        match attempt {
            Attempt::Unavailable(why) => {
                tried.push(
                    json!({"source": source.as_str(), "result": format!("unavailable: {why}")}),
                );
                missing.push(format!("{}: {why}", source.as_str()));
            }
            Attempt::Deferred(why, not_found) => {
                tried.push(
                    json!({"source": source.as_str(), "result": format!("unavailable: {why}")}),
                );
                missing.push(format!("{}: {why}", source.as_str()));
                deferred.get_or_insert(not_found);
            }
            Attempt::Failed(outcome) => {
                tried.push(json!({"source": source.as_str(), "result": "failed"}));
                return outcome.evidence("tried", tried);
            }
            Attempt::Got(got) => {
                tried.push(json!({"source": source.as_str(), "result": "used"}));
                let Acquired {
                    credential,
                    arm,
                    graph,
                    message,
                    evidence,
                } = *got;
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
                return outcome;
            }
        }
    }
    let list = missing.join("; ");
    if let Some(not_found) = deferred {
        let others: Vec<&str> = missing
            .iter()
            .map(String::as_str)
            .filter(|m| !m.starts_with("managed-identity:"))
            .collect();
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
