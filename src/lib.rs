//! acr-doctor: diagnose why you cannot log in to, push to or pull from an Azure Container Registry.
//!
//! The library is the product; `main.rs` only parses, runs and exits. Tests drive
//! [`run_check`] with their own environment, exactly as the binary does.

#![forbid(unsafe_code)]
// No unwrap/expect/panic on outside input outside tests (clippy.toml allows them in tests).
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod azure;
pub mod catalogue;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod context;
pub mod docker;
pub mod engine;
pub mod engine_words;
pub mod error_codes;
pub mod finding;
pub mod http;
pub mod hygiene;
pub mod lang;
pub mod model;
pub mod net;
pub mod protocol;
pub mod redact;
pub mod render;
pub mod report;
pub mod triage;
pub mod trust;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::catalogue::fill_placeholders;
use crate::checks::{Credential, Facts};
use crate::cli::{CheckArgs, Cloud, FailOn};
use crate::context::{Context, UsageError};
use crate::engine::EngineRun;
use crate::finding::{Finding, Severity};
use crate::lang::Lang;
use crate::report::{run_status, CheckResult, Identity, Report, Target, Tool, REPORT_SCHEMA};

/// Exit statuses of CONTRACT.md.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const INTERNAL: i32 = 3;
}

/// Parses `check` options from an argument list (without the program name and `check`),
/// exactly as the command line does: `check_args(&["--name", "x", "--repository", "app"])`.
pub fn check_args(argv: &[&str]) -> Result<CheckArgs, clap::Error> {
    use clap::Parser;
    let mut full = vec!["acr-doctor", "check"];
    full.extend_from_slice(argv);
    match cli::Cli::try_parse_from(full)?.command {
        cli::Command::Check(args) => Ok(*args),
        _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
    }
}

/// A finished `check` of one registry.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub report: Report,
    /// True when a check crashed (a bug in acr-doctor): exit status 3.
    pub internal_error: bool,
    /// The `--verbose` trace, already scrubbed.
    pub trace: Vec<String>,
}

impl CheckRun {
    pub fn exit_code(&self, fail_on: FailOn) -> i32 {
        exit_code(&self.report, self.internal_error, fail_on)
    }
}

pub fn exit_code(report: &Report, internal_error: bool, fail_on: FailOn) -> i32 {
    if internal_error {
        return exit::INTERNAL;
    }
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    if report.findings.iter().any(|f| f.severity >= threshold) {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

/// The cloud in effect: `--cloud`, else the Azure CLI's active cloud when readable, else AzureCloud.
pub fn effective_cloud(args: &CheckArgs, env: &BTreeMap<String, String>) -> Cloud {
    if let Some(cloud) = args.cloud {
        return cloud;
    }
    azure::cli_config::active_cloud(env).unwrap_or_default()
}

/// Runs `acr-doctor check` for one registry with the given environment.
pub async fn run_check(
    args: &CheckArgs,
    target: &str,
    env: BTreeMap<String, String>,
    lang: Lang,
) -> Result<CheckRun, UsageError> {
    let ctx = Context::new(env, args)?;
    run_check_with(args, target, &ctx, lang).await
}

/// Runs `check` with a prepared context (tests shift its clock; fleets share it).
pub async fn run_check_with(
    args: &CheckArgs,
    target: &str,
    ctx: &Context,
    lang: Lang,
) -> Result<CheckRun, UsageError> {
    if let Some(pw) = &args.password {
        ctx.redactor.register_secret(pw);
    }
    let started_at = ctx.clock.now();
    let started = std::time::Instant::now();
    let checks = checks::all();
    let run = engine::run(&checks, ctx, args, target, lang).await;
    let cloud = effective_cloud(args, ctx.env_map());
    let report = build_report(
        &checks,
        &run,
        args,
        target,
        cloud,
        ctx,
        lang,
        started_at,
        started.elapsed(),
    );
    let internal_error = run.results.iter().any(|r| r.crashed);
    let report = scrub_report(&report, &ctx.redactor);
    let trace = ctx
        .trace
        .lines()
        .into_iter()
        .map(|l| hygiene::clean(&ctx.redactor.scrub(&l)).into_owned())
        .collect();
    Ok(CheckRun {
        report,
        internal_error,
        trace,
    })
}

/// Checks several registries at once, at most `jobs` in flight, sharing one context (one
/// HTTP connection pool, one set of credentials). Each registry runs as a task of its own, so
/// that the runtime's threads share the TLS and JSON work. Results come back in the order given.
pub async fn run_fleet(
    args: &CheckArgs,
    names: &[String],
    ctx: &Context,
    lang: Lang,
    jobs: usize,
) -> Result<Vec<CheckRun>, UsageError> {
    use futures::stream::{self, StreamExt};
    stream::iter(names.iter().cloned())
        .map(|name| {
            let (args, ctx) = (args.clone(), ctx.clone());
            let task = tokio::spawn(async move { run_check_with(&args, &name, &ctx, lang).await });
            async move {
                task.await.unwrap_or_else(|e| {
                    Err(UsageError::Other(format!(
                        "internal error: a registry's run ended abnormally: {e}"
                    )))
                })
            }
        })
        .buffered(jobs.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn build_report(
    checks: &[Box<dyn checks::Check>],
    run: &EngineRun,
    args: &CheckArgs,
    target: &str,
    cloud: Cloud,
    ctx: &Context,
    lang: Lang,
    started_at: time::OffsetDateTime,
    elapsed: std::time::Duration,
) -> Report {
    let facts = &run.facts;
    let login_server = facts.login_server.as_ref().map(|l| l.authority());
    let identity = identity_of(facts);
    // Only a name the run accepted (or corrected) goes into a command: a name already found
    // invalid stays a placeholder, since the Azure CLI would refuse it.
    let registry_name = facts.registry_name.clone().or_else(|| {
        protocol::registry_name::parse(target)
            .name()
            .map(str::to_string)
    });
    let login_host = facts.login_server.as_ref().map(|l| l.host.clone());
    let login_port = facts
        .login_server
        .as_ref()
        .map(|l| l.port_or_default().to_string());
    let region = facts
        .arm_registry
        .as_ref()
        .and_then(|r| r.resource.get("location"))
        .and_then(Value::as_str)
        .map(|l| l.to_ascii_lowercase().replace(' ', ""))
        .filter(|l| !l.is_empty());
    let registry_id = facts.arm_registry.as_ref().map(|r| r.id.clone());
    let resource_group = facts
        .arm_registry
        .as_ref()
        .map(|r| r.resource_group.clone());
    let assignee = identity
        .as_ref()
        .and_then(|i| i.object_id.clone().or_else(|| i.app_id.clone()))
        .or_else(|| args.principal.clone());
    // `<tag>` is filled only from a tag: a digest would make `<repository>:<tag>` malformed.
    let image = args.image();
    let tag = image
        .as_ref()
        .filter(|i| i.digest.is_none())
        .and_then(|i| i.tag.clone());
    let values: Vec<(&str, Option<&str>)> = vec![
        ("registry", registry_name.as_deref()),
        ("login-server", login_server.as_deref()),
        ("login-host", login_host.as_deref()),
        ("login-port", login_port.as_deref()),
        ("region", region.as_deref()),
        ("repository", args.repository_name()),
        ("tag", tag.as_deref()),
        ("client-ip", facts.client_ip.as_deref()),
        ("ip", facts.client_ip.as_deref()),
        ("username", args.username.as_deref()),
        ("token-name", args.username.as_deref()),
        ("vnet", args.vnet.as_deref()),
        ("registry-id", registry_id.as_deref()),
        ("resource-group", resource_group.as_deref()),
        ("assignee", assignee.as_deref()),
        (
            "app-id",
            identity.as_ref().and_then(|i| i.app_id.as_deref()),
        ),
        (
            "tenant-id",
            identity.as_ref().and_then(|i| i.tenant_id.as_deref()),
        ),
    ];

    let engine =
        engine_words::Engine::from_name(facts.container_engine.as_ref().map(|e| e.name.as_str()));
    let podman = engine == engine_words::Engine::Podman;
    let title_of = |check: &dyn checks::Check| -> String {
        podman
            .then(|| engine_words::podman_title(check.id(), lang))
            .flatten()
            .unwrap_or_else(|| check.title(lang))
            .to_string()
    };

    let mut results = Vec::new();
    let mut findings = Vec::new();
    for (check, ran) in checks.iter().zip(run.results.iter()) {
        results.push(CheckResult {
            id: check.id().to_string(),
            group: Some(check.group().title(lang).to_string()),
            title: title_of(check.as_ref()),
            status: ran.outcome.status,
            duration_ms: ran.duration.as_millis() as u64,
            message: ran.outcome.message.clone(),
            evidence: ran.outcome.evidence.clone(),
        });
        for raw in &ran.outcome.findings {
            let cause =
                catalogue::lookup(raw.code).or_else(|| catalogue::lookup("UNEXPECTED_ERROR"));
            let Some(cause) = cause else { continue };
            let entry = cause.entry(lang);
            // A finding about another identity (a cluster's kubelet identity) names it.
            let own_assignee = raw.evidence.get("assignee").and_then(Value::as_str);
            let values: Vec<(&str, Option<&str>)> = values
                .iter()
                .map(|&(k, v)| match (k, own_assignee) {
                    ("assignee", Some(a)) => (k, Some(a)),
                    _ => (k, v),
                })
                .collect();
            let mut solution = raw.solution.clone();
            solution.extend(entry.solution.iter().map(|s| fill_placeholders(s, &values)));
            let commands = if raw.commands.is_empty() {
                entry
                    .commands
                    .iter()
                    .map(|c| fill_placeholders(c, &values))
                    .collect()
            } else {
                raw.commands.clone()
            };
            let (solution, commands) = if podman {
                (
                    solution
                        .iter()
                        .map(|s| engine_words::podman_text(s))
                        .collect(),
                    commands
                        .iter()
                        .filter_map(|c| engine_words::podman_command(c, login_server.as_deref()))
                        .collect(),
                )
            } else {
                (solution, commands)
            };
            let detail = if raw.detail.is_empty() {
                entry.explanation.clone()
            } else {
                raw.detail.clone()
            };
            let title = if podman {
                engine_words::podman_text(&entry.title)
            } else {
                entry.title.clone()
            };
            findings.push(Finding {
                code: cause.code.to_string(),
                severity: raw.severity.unwrap_or(cause.severity),
                check: check.id().to_string(),
                title,
                detail,
                solution,
                commands,
                docs: entry.docs.clone(),
                evidence: raw.evidence.clone(),
                confidence: raw.confidence,
                alternatives: raw.alternatives.iter().map(|a| a.to_string()).collect(),
            });
        }
    }
    let mut environment = Map::new();
    environment.insert("os".into(), Value::from(std::env::consts::OS));
    environment.insert("arch".into(), Value::from(std::env::consts::ARCH));
    environment.insert("cloud".into(), Value::from(cloud.name()));
    if let Some(ep) = &facts.docker_endpoint {
        environment.insert("docker_endpoint".into(), Value::from(ep.clone()));
    }
    if let Some(v) = &facts.docker_client_version {
        environment.insert("docker_client".into(), Value::from(v.clone()));
    }
    if let Some(p) = &facts.docker_config_path {
        environment.insert("docker_config".into(), Value::from(p.clone()));
    }
    if let Some(e) = &facts.container_engine {
        environment.insert("engine".into(), Value::from(e.name.clone()));
        environment.insert("engine_reason".into(), Value::from(e.why.clone()));
    }
    // Proxies as read at start, user-info removed (a proxy password is a secret).
    for (var, shown) in &ctx.proxies {
        let key = var.to_ascii_lowercase();
        environment
            .entry(key)
            .or_insert_with(|| Value::from(shown.clone()));
    }
    // Every endpoint override in effect, by its variable's name.
    for (key, var) in [
        ("authority_host", "AZURE_AUTHORITY_HOST"),
        ("arm_endpoint", "ACR_DOCTOR_ARM_ENDPOINT"),
        ("graph_endpoint", "ACR_DOCTOR_GRAPH_ENDPOINT"),
        ("imds_endpoint", "ACR_DOCTOR_IMDS_ENDPOINT"),
        ("acr_audience", "ACR_DOCTOR_ACR_AUDIENCE"),
    ] {
        if let Some(v) = ctx.gate.overrides.get(var) {
            environment.insert(key.into(), Value::from(v.clone()));
        }
    }
    if let Some(v) = ctx.env("IDENTITY_ENDPOINT") {
        environment.insert("identity_endpoint".into(), Value::from(v));
    }
    if args.trust_login_server {
        environment.insert("trust_login_server".into(), Value::from(true));
    }
    if args.probe_writes {
        environment.insert("probe_writes".into(), Value::from(true));
    }
    if !ctx.extra_roots.is_empty() {
        environment.insert("extra_roots".into(), Value::from(ctx.extra_roots.clone()));
    }
    if !ctx.resolve.is_empty() {
        let pins: Vec<String> = ctx
            .resolve
            .iter()
            .map(|r| format!("{}:{}:{}", r.host, r.port, r.addr))
            .collect();
        environment.insert("resolve".into(), Value::from(pins));
    }
    let mut need: Vec<String> = args.need.iter().map(|n| n.action().to_string()).collect();
    if need.is_empty() {
        need.push("pull".into());
    }
    Report {
        schema: REPORT_SCHEMA.to_string(),
        tool: Tool {
            name: "acr-doctor".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        target: Target {
            name: target.to_string(),
            login_server,
            repository: args.repository_name().map(str::to_string),
            tag: image.as_ref().and_then(|i| i.tag.clone()),
            digest: image.as_ref().and_then(|i| i.digest.clone()),
            cloud: cloud.name().to_string(),
        },
        identity,
        started_at: started_at
            .replace_nanosecond(0)
            .unwrap_or(started_at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: elapsed.as_millis() as u64,
        status: run_status(&findings),
        checks: results,
        findings,
        environment,
        timeline: run.timeline.clone(),
        lang: lang.code().to_string(),
        need,
    }
}

fn identity_of(facts: &Facts) -> Option<Identity> {
    match facts.credential.as_ref()? {
        Credential::Entra { source, claims, .. } => Some(Identity {
            source: source.clone(),
            tenant_id: claims.tenant_id.clone(),
            object_id: claims.object_id.clone(),
            app_id: claims.app_id.clone(),
            upn: claims.upn.clone(),
        }),
        Credential::Basic {
            source, username, ..
        } => Some(Identity {
            source: source.clone(),
            app_id: model::uuid_like(username).then(|| username.clone()),
            upn: Some(username.clone()),
            ..Default::default()
        }),
        Credential::Anonymous { source } => Some(Identity {
            source: source.clone(),
            ..Default::default()
        }),
    }
}

/// Masks secrets in every string of the report, keeping its structure valid.
pub fn scrub_report(report: &Report, redactor: &redact::Redactor) -> Report {
    fn walk(v: &mut Value, r: &redact::Redactor) {
        match v {
            Value::String(s) => *s = hygiene::clean(&r.scrub(s)).into_owned(),
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, r)),
            Value::Object(o) => o.values_mut().for_each(|x| walk(x, r)),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::to_value(report) else {
        return report.clone();
    };
    walk(&mut value, redactor);
    serde_json::from_value(value).unwrap_or_else(|_| report.clone())
}
