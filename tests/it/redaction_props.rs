//! Property tests: whatever secret-shaped value enters a report or a trace line, no renderer
//! (human, JSON, Markdown, GitHub, fleet) shows it after `scrub_report`, and no `--verbose`
//! trace line shows it.
//!
//! Two ways a secret is caught: values the run handled are registered with the redactor
//! (passwords, client secrets, tokens); values seen in passing are masked by their shape
//! (JWTs, `Authorization` headers, `password=`-style parameters, URL user-info).

use crate::support;

use std::collections::BTreeMap;

use acr_doctor::finding::{Finding, Severity};
use acr_doctor::lang::Lang;
use acr_doctor::redact::Redactor;
use acr_doctor::render::{self, Style};
use acr_doctor::report::{
    CheckResult, CheckStatus, Identity, Report, RunStatus, Target, TimelineEntry, Tool,
};
use proptest::prelude::*;
use serde_json::{Map, Value};
use support::b64url;

/// Every renderer over one report, in both languages.
fn render_all(report: &Report) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for lang in [Lang::En, Lang::Ja] {
        out.push(("human", render::human::render(report, Style::plain(lang))));
        out.push((
            "human-color",
            render::human::render(report, Style { color: true, lang }),
        ));
        out.push(("markdown", render::markdown::render(report, lang)));
        out.push(("github", render::github::annotations(report, lang)));
        out.push(("github-summary", render::github::summary(report, lang)));
        out.push((
            "fleet-human",
            render::fleet::human(&[report, report], Style::plain(lang)),
        ));
        out.push((
            "fleet-markdown",
            render::fleet::markdown(&[report, report], lang),
        ));
    }
    out.push(("json", render::json::render(report)));
    out.push(("azure-pipelines", render::github::azure_pipelines(report)));
    out.push(("fleet-json", render::fleet::json(&[report, report])));
    out
}

/// The ways a renderer may escape text; a secret escaped is still a secret shown.
fn unescaped(text: &str) -> String {
    text.replace('\\', "")
        .replace("%25", "%")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&#124;", "|")
}

fn assert_hidden(secret: &str, outputs: &[(&str, String)]) -> Result<(), TestCaseError> {
    for (name, text) in outputs {
        prop_assert!(
            !text.contains(secret) && !unescaped(text).contains(secret),
            "{} output shows the secret {:?}:\n{}",
            name,
            secret,
            text
        );
    }
    Ok(())
}

/// A report carrying `text` in every string a check or the catalogue can fill.
fn report_with(text: &str) -> Report {
    let mut evidence = Map::new();
    evidence.insert("response".into(), Value::from(text));
    evidence.insert("headers".into(), Value::from(vec![Value::from(text)]));
    let mut nested = Map::new();
    nested.insert("body".into(), Value::from(text));
    evidence.insert("nested".into(), Value::Object(nested));
    let mut environment = Map::new();
    environment.insert("https_proxy".into(), Value::from(text));
    environment.insert("docker_config".into(), Value::from(text));
    let finding = |code: &str, severity| Finding {
        code: code.into(),
        severity,
        check: "identity.refresh_token".into(),
        title: format!("title {text}"),
        detail: format!("observed: {text}"),
        solution: vec![format!("step with {text}")],
        commands: vec![format!("az acr login --name x --password {text}")],
        docs: vec![format!("https://learn.microsoft.com/?q={text}")],
        evidence: evidence.clone(),
        confidence: Default::default(),
        alternatives: Vec::new(),
    };
    Report {
        schema: acr_doctor::report::REPORT_SCHEMA.into(),
        tool: Tool {
            name: "acr-doctor".into(),
            version: "0.0.0".into(),
        },
        target: Target {
            name: "contosoreg".into(),
            login_server: Some("contosoreg.azurecr.io".into()),
            repository: Some(format!("app/{text}")),
            cloud: "AzureCloud".into(),
            ..Default::default()
        },
        identity: Some(Identity {
            source: format!("env {text}"),
            tenant_id: Some(text.into()),
            object_id: None,
            app_id: None,
            upn: Some(text.into()),
        }),
        started_at: "2025-01-01T00:00:00Z".into(),
        duration_ms: 12,
        status: RunStatus::Fail,
        checks: vec![
            CheckResult {
                id: "identity.credential".into(),
                group: Some("Identity".into()),
                title: "credential".into(),
                status: CheckStatus::Fail,
                duration_ms: 3,
                message: format!("token request answered {text}"),
                evidence: evidence.clone(),
            },
            CheckResult {
                id: "registry.challenge".into(),
                group: None,
                title: "challenge".into(),
                status: CheckStatus::Warn,
                duration_ms: 1,
                message: text.into(),
                evidence: Map::new(),
            },
        ],
        findings: vec![
            finding("CONNECTIVITY_REFRESH_TOKEN_ERROR", Severity::Error),
            finding("CREDENTIAL_EXPIRES_SOON", Severity::Warning),
            finding("PERMISSION_RECENTLY_CHANGED", Severity::Info),
        ],
        environment,
        timeline: vec![TimelineEntry {
            kind: "acr_refresh_token".into(),
            source: text.into(),
            issued_at: None,
            expires_at: None,
            remaining_s: Some(-5),
            state: format!("expired {text}"),
        }],
        lang: "en".into(),
        need: vec!["pull".into()],
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies: secret-shaped values.

/// Opaque tokens and passwords: long enough to register, of the characters they are made of.
fn password() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%()*+,./:;?@^_{}~-]{8,40}".prop_filter("not only the mask", |s| {
        !s.contains("***") && s.chars().any(|c| c.is_ascii_alphanumeric())
    })
}

/// Entra client secrets look like `Abc8Q~x.y_z-...` (40 characters).
fn client_secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{3}[0-9]Q~[A-Za-z0-9._~-]{34}"
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{20,120}"
}

/// A JWT: header and claims of any JSON, a signature of any bytes.
fn jwt() -> impl Strategy<Value = String> {
    (
        "[a-z]{1,8}",
        "[ -~]{0,40}",
        proptest::collection::vec(any::<u8>(), 16..96),
    )
        .prop_map(|(k, v, sig)| {
            let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
            let claims = b64url(
                serde_json::json!({ k: v, "exp": 1_700_000_000 })
                    .to_string()
                    .as_bytes(),
            );
            format!("{header}.{claims}.{}", b64url(&sig))
        })
}

/// Wraps a secret the way it travels: in a header, a query string, a form, JSON, a URL.
fn carrier() -> impl Strategy<Value = fn(&str) -> String> {
    prop_oneof![
        Just((|s: &str| s.to_string()) as fn(&str) -> String),
        Just((|s: &str| format!("Authorization: Bearer {s}")) as fn(&str) -> String),
        Just(
            (|s: &str| {
                format!("GET https://contosoreg.azurecr.io/oauth2/token?scope=repository:app:pull&access_token={s}&x=1 -> 200")
            }) as fn(&str) -> String
        ),
        Just((|s: &str| format!("grant_type=password&password={s}")) as fn(&str) -> String),
        Just((|s: &str| format!("client_id=abc&client_secret={s}")) as fn(&str) -> String),
        Just((|s: &str| format!("{{\"refresh_token\": \"{s}\"}}")) as fn(&str) -> String),
        Just((|s: &str| format!("said: {s}.")) as fn(&str) -> String),
        Just((|s: &str| format!("({s})")) as fn(&str) -> String),
        Just((|s: &str| format!("{s}{s}")) as fn(&str) -> String),
    ]
}

/// Noise around the secret, including non-ASCII and markup.
fn noise() -> impl Strategy<Value = String> {
    "[ -~\u{3042}-\u{3093}\n|*_`<>]{0,30}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Registered secrets (what checks register: passwords, client secrets, tokens, JWTs)
    /// never come out of any renderer after `scrub_report`.
    #[test]
    fn registered_secrets_never_render(
        secret in prop_oneof![password(), client_secret(), token(), jwt()],
        wrap in carrier(),
        before in noise(),
        after in noise(),
    ) {
        let redactor = Redactor::new();
        redactor.register(&secret);
        let text = format!("{before}{}{after}", wrap(&secret));
        let report = acr_doctor::scrub_report(&report_with(&text), &redactor);
        assert_hidden(&secret, &render_all(&report))?;
    }

    /// Secret shapes are masked even when nobody registered them: JWTs anywhere, bearer and
    /// basic `Authorization` values, `*_token=` / `password=` / `client_secret=` parameters,
    /// passwords in URL user-info.
    #[test]
    fn secret_shapes_never_render_unregistered(
        value in token(),
        pass in "[A-Za-z0-9]{8,30}",
        user in "[a-z][a-z0-9]{2,12}",
        jwt in jwt(),
        before in noise(),
    ) {
        let basic = support::auth_b64(&user, &pass);
        let cases = [
            (jwt.clone(), format!("{before} token {jwt} end")),
            (value.clone(), format!("{before} Authorization: Bearer {value}")),
            (basic.clone(), format!("{before} authorization: Basic {basic}")),
            (value.clone(), format!("{before} https://r.azurecr.io/oauth2/token?access_token={value}&service=r")),
            (value.clone(), format!("{before} refresh_token={value}")),
            (pass.clone(), format!("{before} username={user}&password={pass}")),
            (pass.clone(), format!("{before} client_secret={pass}&grant_type=client_credentials")),
            (pass.clone(), format!("{before} https://{user}:{pass}@proxy.contoso.test:3128")),
            (value.clone(), format!("{before} {{\"access_token\":\"{value}\"}}")),
            (value.clone(), format!("{before} {{\"identitytoken\": \"{value}\"}}")),
        ];
        let redactor = Redactor::new();
        for (secret, text) in cases {
            let report = acr_doctor::scrub_report(&report_with(&text), &redactor);
            assert_hidden(&secret, &render_all(&report))?;
        }
    }

    /// A JWT's signature never survives, even with a registered part of it elsewhere.
    #[test]
    fn jwt_signatures_never_render(jwt in jwt(), before in noise()) {
        let signature = jwt.rsplit('.').next().unwrap_or_default().to_string();
        prop_assume!(signature.len() >= 16);
        let report = acr_doctor::scrub_report(&report_with(&format!("{before}{jwt}")), &Redactor::new());
        assert_hidden(&signature, &render_all(&report))?;
    }

    /// `--verbose` trace lines go through the redactor: registered secrets and shapes vanish.
    #[test]
    fn trace_lines_never_show_secrets(
        secret in prop_oneof![password(), client_secret(), token()],
        wrap in carrier(),
        jwt in jwt(),
    ) {
        let redactor = Redactor::new();
        redactor.register(&secret);
        for line in [
            wrap(&secret),
            format!("POST https://login.test/t/oauth2/v2.0/token -> 200 body {}", wrap(&secret)),
            format!("exec /usr/bin/az account get-access-token -> 0 {jwt}"),
        ] {
            let scrubbed = redactor.scrub(&line);
            prop_assert!(!scrubbed.contains(&secret), "{}", scrubbed);
            prop_assert!(!scrubbed.contains(&jwt), "{}", scrubbed);
        }
    }
}

/// The real pipeline: a run's trace comes back scrubbed (registered `--password`, JWTs,
/// tokens in query strings) from `run_check_with`.
#[tokio::test]
async fn run_trace_is_scrubbed() {
    let password = "CANARY-pw-Zx81!pQ";
    let args = acr_doctor::check_args(&[
        "--name",
        "contosoreg",
        "--login-server",
        "contosoreg.azurecr.io:9",
        "--resolve",
        "contosoreg.azurecr.io:9:127.0.0.1",
        "--username",
        "someone",
        "--password",
        password,
        "--timeout",
        "1",
    ])
    .expect("args");
    let home = support::temp_home();
    let mut env = BTreeMap::new();
    env.insert("HOME".to_string(), home.path().display().to_string());
    env.insert("PATH".to_string(), String::new());
    let ctx = acr_doctor::context::Context::new(env, &args).expect("context");
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldC1DQU5BUlk";
    ctx.trace.push(format!(
        "POST https://x/oauth2/exchange password={password} -> 200"
    ));
    ctx.trace.push(format!(
        "GET https://x/v2/ Authorization: Bearer {jwt} -> 401"
    ));
    ctx.trace
        .push("GET https://x/oauth2/token?refresh_token=CANARYrefresh123456 -> 200".to_string());
    let run = acr_doctor::run_check_with(&args, "contosoreg", &ctx, Lang::En)
        .await
        .expect("run");
    assert!(run.trace.len() >= 3);
    for line in &run.trace {
        assert!(!line.contains("CANARY"), "{line}");
        assert!(!line.contains("c2lnbmF0dXJl"), "{line}");
    }
    for (name, text) in render_all(&run.report) {
        assert!(!text.contains(password), "{name}: {text}");
    }
}
