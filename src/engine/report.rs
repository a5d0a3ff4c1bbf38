//! Building the report: the engine's outcomes become findings with the catalogue's words, the
//! placeholders of each fix are filled from what the run learnt, and the environment the run
//! saw is recorded. Pure: no IO beyond reading the context's settings.

use serde_json::{Map, Value};

use crate::catalogue::fill_placeholders;
use crate::checks::{self, Credential, Facts};
use crate::context::Context;
use crate::engine::EngineRun;
use crate::engine_words::{self, Engine};
use crate::finding::{Finding, RawFinding};
use crate::lang::Lang;
use crate::model::Cloud;
use crate::report::{run_status, CheckResult, Identity, Report, Target, Tool, REPORT_SCHEMA};
use crate::request::CheckArgs;
use crate::{hygiene, model, protocol, redact};

/// What a run was asked and where it ran, next to the engine's results.
pub struct RunInput<'a> {
    pub args: &'a CheckArgs,
    /// The registry as the user named it.
    pub target: &'a str,
    pub cloud: Cloud,
    pub ctx: &'a Context,
    pub lang: Lang,
    pub started_at: time::OffsetDateTime,
    pub elapsed: std::time::Duration,
}

/// The report of one run: every check's result and every finding, in the checks' order.
pub fn build_report(
    checks: &[Box<dyn checks::Check>],
    run: &EngineRun,
    input: &RunInput,
) -> Report {
    let RunInput {
        args,
        target,
        cloud,
        lang,
        ..
    } = *input;
    let facts = &run.facts;
    let login_server = facts.login_server.as_ref().map(|l| l.authority());
    let identity = identity_of(facts);
    let values = Placeholders::of(facts, args, target, identity.as_ref());
    let engine = Engine::from_name(facts.container_engine.as_ref().map(|e| e.name.as_str()));
    let words = Words {
        lang,
        podman: engine == Engine::Podman,
        login_server: login_server.as_deref(),
    };

    let mut results = Vec::new();
    let mut findings = Vec::new();
    for (check, ran) in checks.iter().zip(run.results.iter()) {
        results.push(CheckResult {
            id: check.id().to_string(),
            group: Some(check.group().title(lang).to_string()),
            title: words.title_of(check.as_ref()),
            status: ran.outcome.status,
            duration_ms: ran.duration.as_millis() as u64,
            message: ran.outcome.message.clone(),
            evidence: ran.outcome.evidence.clone(),
        });
        findings.extend(
            ran.outcome
                .findings
                .iter()
                .map(|raw| finding_of(raw, check.id(), &values, &words)),
        );
    }
    let image = args.image();
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
        started_at: input
            .started_at
            .replace_nanosecond(0)
            .unwrap_or(input.started_at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: input.elapsed.as_millis() as u64,
        status: run_status(&findings),
        checks: results,
        findings,
        environment: environment_of(facts, input),
        timeline: run.timeline.clone(),
        lang: lang.code().to_string(),
        need: needed_actions(args),
    }
}

/// How the report words things for this run: the language, and Podman's words where Podman is
/// the engine diagnosed.
struct Words<'a> {
    lang: Lang,
    podman: bool,
    login_server: Option<&'a str>,
}

impl Words<'_> {
    fn title_of(&self, check: &dyn checks::Check) -> String {
        self.podman
            .then(|| engine_words::podman_title(check.id(), self.lang))
            .flatten()
            .unwrap_or_else(|| check.title(self.lang))
            .to_string()
    }

    fn text(&self, s: &str) -> String {
        if self.podman {
            engine_words::podman_text(s)
        } else {
            s.to_string()
        }
    }

    fn commands(&self, commands: Vec<String>) -> Vec<String> {
        if self.podman {
            commands
                .iter()
                .filter_map(|c| engine_words::podman_command(c, self.login_server))
                .collect()
        } else {
            commands
        }
    }
}

/// The values a fix's `<placeholder>` is filled with, by placeholder name. A value the run did
/// not learn stays a placeholder.
struct Placeholders {
    values: Vec<(&'static str, Option<String>)>,
}

impl Placeholders {
    fn of(facts: &Facts, args: &CheckArgs, target: &str, identity: Option<&Identity>) -> Self {
        // Only a name the run accepted (or corrected) goes into a command: a name already found
        // invalid stays a placeholder, since the Azure CLI would refuse it.
        let registry_name = facts.registry_name.clone().or_else(|| {
            protocol::registry_name::parse(target)
                .name()
                .map(str::to_string)
        });
        let login = facts.login_server.as_ref();
        let arm = facts.arm_registry.as_ref();
        let region = arm
            .and_then(|r| r.resource.get("location"))
            .and_then(Value::as_str)
            .map(|l| l.to_ascii_lowercase().replace(' ', ""))
            .filter(|l| !l.is_empty());
        let assignee = identity
            .and_then(|i| i.object_id.clone().or_else(|| i.app_id.clone()))
            .or_else(|| args.principal.clone());
        // `<tag>` is filled only from a tag: a digest would make `<repository>:<tag>` malformed.
        let tag = args
            .image()
            .filter(|i| i.digest.is_none())
            .and_then(|i| i.tag);
        let values = vec![
            ("registry", registry_name),
            ("login-server", login.map(|l| l.authority())),
            ("login-host", login.map(|l| l.host.clone())),
            ("login-port", login.map(|l| l.port_or_default().to_string())),
            ("region", region),
            ("repository", args.repository_name().map(str::to_string)),
            ("tag", tag),
            ("client-ip", facts.client_ip.clone()),
            ("ip", facts.client_ip.clone()),
            ("username", args.username.clone()),
            ("token-name", args.username.clone()),
            ("vnet", args.vnet.clone()),
            ("registry-id", arm.map(|r| r.id.clone())),
            ("resource-group", arm.map(|r| r.resource_group.clone())),
            ("assignee", assignee),
            ("app-id", identity.and_then(|i| i.app_id.clone())),
            ("tenant-id", identity.and_then(|i| i.tenant_id.clone())),
        ];
        Placeholders { values }
    }

    /// The values for one finding: a finding about another identity (a cluster's kubelet
    /// identity) names that identity as the assignee.
    fn for_finding<'a>(&'a self, raw: &'a RawFinding) -> Vec<(&'a str, Option<&'a str>)> {
        let own_assignee = raw.evidence.get("assignee").and_then(Value::as_str);
        self.values
            .iter()
            .map(|(k, v)| match (*k, own_assignee) {
                ("assignee", Some(a)) => (*k, Some(a)),
                _ => (*k, v.as_deref()),
            })
            .collect()
    }
}

/// One finding of a check, with the catalogue's words and the fix's placeholders filled.
fn finding_of(raw: &RawFinding, check: &str, values: &Placeholders, words: &Words) -> Finding {
    let cause = raw.code.cause();
    let entry = cause.entry(words.lang);
    let values = values.for_finding(raw);
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
    let detail = if raw.detail.is_empty() {
        entry.explanation.clone()
    } else {
        raw.detail.clone()
    };
    Finding {
        code: cause.code.to_string(),
        severity: raw.severity.unwrap_or(cause.severity),
        check: check.to_string(),
        title: words.text(&entry.title),
        detail,
        solution: solution.iter().map(|s| words.text(s)).collect(),
        commands: words.commands(commands),
        docs: entry.docs.clone(),
        evidence: raw.evidence.clone(),
        confidence: raw.confidence,
        alternatives: raw.alternatives.iter().map(|a| a.to_string()).collect(),
    }
}

/// What the run saw of its surroundings: platform, cloud, Docker, proxies (user-info removed)
/// and every endpoint override or trust setting in effect.
fn environment_of(facts: &Facts, input: &RunInput) -> Map<String, Value> {
    let (ctx, args) = (input.ctx, input.args);
    let mut environment = Map::new();
    let mut put = |key: &str, value: Value| {
        environment.insert(key.to_string(), value);
    };
    put("os", Value::from(std::env::consts::OS));
    put("arch", Value::from(std::env::consts::ARCH));
    put("cloud", Value::from(input.cloud.name()));
    if let Some(ep) = &facts.docker_endpoint {
        put("docker_endpoint", Value::from(ep.clone()));
    }
    if let Some(v) = &facts.docker_client_version {
        put("docker_client", Value::from(v.clone()));
    }
    if let Some(p) = &facts.docker_config_path {
        put("docker_config", Value::from(p.clone()));
    }
    if let Some(e) = &facts.container_engine {
        put("engine", Value::from(e.name.clone()));
        put("engine_reason", Value::from(e.why.clone()));
    }
    // Proxies as read at start, user-info removed (a proxy password is a secret).
    for (var, shown) in &ctx.proxies {
        environment
            .entry(var.to_ascii_lowercase())
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
    environment
}

/// The actions the run was asked to prove (`--need`), `pull` when none was named.
fn needed_actions(args: &CheckArgs) -> Vec<String> {
    let mut need: Vec<String> = args.need.iter().map(|n| n.action().to_string()).collect();
    if need.is_empty() {
        need.push("pull".into());
    }
    need
}

/// Who the run acted as, from the credential the identity checks settled on.
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
