//! One timeline of every credential in play (`expiry.timeline`, placed last).
//!
//! Recorded here: the Entra token, the ACR refresh and access tokens, the service principal's
//! client secret end date (Microsoft Graph, `GET /v1.0/applications(appId='…')` with the
//! run's Graph token; "unknown" when it cannot be read) and the client certificate's validity.
//! Other checks record what they own (the Docker-stored identity token, repository-scoped
//! token passwords) and report those expiries themselves; this check lists them only.
//!
//! An expired credential is reported with its own code (AAD_TOKEN_EXPIRED, SP_SECRET_EXPIRED,
//! …) unless the check that found it already did (`facts.expiry_reported`); one within the
//! warning window (`--warn-within TOKENS[,SECRETS]`, default `15m,14d`) is
//! CREDENTIAL_EXPIRES_SOON.
//!
//! Clock skew: the identity checks keep the `Date` header of every answer they got
//! (`facts.server_dates`). When this machine's clock differs from the servers' by more than
//! five minutes, states are judged by the servers' clock, the skew is named in the message
//! and evidence (`clock_skew_s`), and a credential that looks expired only because of the
//! local clock is reported as a CREDENTIAL_EXPIRES_SOON warning whose detail names the skew
//! (local tools such as docker and az will treat it as expired), never as expired.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{Check, CheckCx, ClientCertificate, Credential, Fact, Group, Meta, Outcome};
use crate::azure::{entra, graph};
use crate::catalogue::Code;
use crate::checks::identity::rfc3339;
use crate::finding::{RawFinding, Severity};
use crate::model::time::span;
use crate::redact::{jwt_claims, Secret};
use crate::report::TimelineEntry;

/// Skew beyond which the local clock is called wrong.
pub const SKEW_LIMIT_S: i64 = 300;
pub use crate::model::time::{parse_warn_within, DEFAULT_WINDOWS};

pub struct Timeline;

/// What the timeline reads once the checks providing them are done.
const LATER_FACTS: &[Fact] = &[Fact::RefreshToken, Fact::AccessToken, Fact::Permissions];

type SecretDates = Result<Vec<(String, Option<i64>, Option<i64>)>, String>;

impl Check for Timeline {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "expiry.timeline",
            Group::Expiry,
            "credential expiry",
            "資格情報の有効期限",
        )
        .uses(&[Fact::Credential, Fact::DockerConfig])
        // Waited for inside the check, after the Graph lookup (which needs only the credential)
        // has been sent: the lookup then runs beside the token and permission checks.
        .consults(LATER_FACTS);
        &META
    }
    fn preconnect(&self, cx: &CheckCx<'_>) -> Option<String> {
        let cloud = cx.cloud();
        super::env_service_principal(cx, true).then(|| entra::graph_endpoint(cx.ctx, cloud))
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { timeline(cx).await })
    }
}

/// What one of our own entries is, for judging it.
struct Item {
    entry: TimelineEntry,
    /// Unix expiry, when known.
    exp: Option<i64>,
    secret_like: bool,
    /// Who renews it and how.
    renew: (String, String),
}

/// What the timeline reads from the facts once the checks providing them are done.
struct Seen {
    credential: Option<Credential>,
    refresh: Option<Secret>,
    access: Option<Secret>,
    graph: Option<Secret>,
    /// The client certificate of a service principal from the environment.
    cert: Option<ClientCertificate>,
    /// Kinds whose expiry another check already reported.
    reported: Vec<String>,
    /// The credential's source (`cli`, `env`, `managed-identity`, …), `-` without one.
    source: String,
    registry: String,
}

impl Seen {
    fn read(cx: &CheckCx<'_>) -> Seen {
        let (credential, refresh, access, graph, cert, reported) = {
            let f = cx.facts();
            (
                f.credential.clone(),
                f.refresh_token.clone(),
                f.access_token.clone(),
                f.graph_token.clone(),
                f.client_certificate.clone(),
                f.expiry_reported.clone(),
            )
        };
        let source = credential
            .as_ref()
            .map(|c| c.source().to_string())
            .unwrap_or_else(|| "-".into());
        let registry = cx
            .facts()
            .registry_name
            .clone()
            .unwrap_or_else(|| cx.target.to_string());
        Seen {
            credential,
            refresh,
            access,
            graph,
            cert,
            reported,
            source,
            registry,
        }
    }
}

/// The clock states are judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock {
    /// This machine's clock (Unix seconds).
    local_now: i64,
    /// The servers' clock when this machine's is off by more than [`SKEW_LIMIT_S`], else ours.
    now: i64,
    /// Servers' clock minus ours, when any server told its time.
    skew: Option<i64>,
    /// Whether the skew is beyond [`SKEW_LIMIT_S`].
    skewed: bool,
}

/// Judge by the servers' clock when the local one is off.
fn judging_clock(local_now: i64, skew: Option<i64>) -> Clock {
    let skewed = skew.is_some_and(|s| s.abs() > SKEW_LIMIT_S);
    let now = if skewed {
        local_now + skew.unwrap_or(0)
    } else {
        local_now
    };
    Clock {
        local_now,
        now,
        skew,
        skewed,
    }
}

/// The warning windows (tokens, secrets) of `--warn-within`, and a note when it was ignored.
fn warn_windows(flag: Option<&str>) -> ((i64, i64), Option<String>) {
    match flag.map(parse_warn_within) {
        None => (DEFAULT_WINDOWS, None),
        Some(Ok(w)) => (w, None),
        Some(Err(e)) => (DEFAULT_WINDOWS, Some(format!("--warn-within ignored: {e}"))),
    }
}

async fn timeline(cx: &CheckCx<'_>) -> Outcome {
    let looked_up = early_secret_lookup(cx).await;
    let (windows, window_note) = warn_windows(cx.args.warn_within.as_deref());
    let clock = judging_clock(cx.ctx.clock.unix(), clock_skew(cx));
    let seen = Seen::read(cx);

    // Our own entries, in timeline order.
    let mut items: Vec<Item> = Vec::new();
    items.extend(entra_item(cx, &seen));
    items.extend(acr_token_items(cx, &seen));
    items.extend(certificate_item(cx, &seen));
    let graph_note = secret_items(cx, &seen, looked_up, &mut items).await;

    // Judge our own entries, record them, and find what to report.
    let findings = judge_items(cx, &mut items, windows, clock, &seen);
    for it in &items {
        cx.record_credential(it.entry.clone());
    }
    summary(cx, findings, windows, clock, graph_note, window_note)
}

/// The client secret's end dates need only the credential and the Graph token: ask Graph now,
/// while the token and permission checks are still running; return once those are done.
async fn early_secret_lookup(cx: &CheckCx<'_>) -> Option<(String, SecretDates)> {
    let early = {
        let credential = cx.facts().credential.clone();
        let graph = cx.facts().graph_token.clone();
        let reported = cx.facts().expiry_reported.clone();
        sp_secret_app(cx, &credential)
            .filter(|_| !reported.iter().any(|k| k == "sp_client_secret"))
            .map(|app| (app, graph))
    };
    let lookup = async {
        match &early {
            Some((app, graph)) => {
                Some((app.clone(), secret_end_dates(cx, graph.as_ref(), app).await))
            }
            None => None,
        }
    };
    let wait = async {
        for fact in LATER_FACTS {
            cx.await_fact(*fact).await;
        }
    };
    let (looked_up, ()): (Option<(String, SecretDates)>, ()) = futures::join!(lookup, wait);
    looked_up
}

/// The Microsoft Entra token of the credential under test.
fn entra_item(cx: &CheckCx<'_>, seen: &Seen) -> Option<Item> {
    let Some(Credential::Entra { claims, .. }) = &seen.credential else {
        return None;
    };
    let renew = match seen.source.as_str() {
        "cli" => (cx.t("you", "ご自身"), "az login".to_string()),
        "managed-identity" => (
            cx.t(
                "the platform (tokens are renewed on request)",
                "プラットフォーム (要求時に更新)",
            ),
            cx.t("request a new token", "新しいトークンを要求してください"),
        ),
        _ => (
            cx.t("you", "ご自身"),
            cx.t("request a new token", "新しいトークンを要求してください"),
        ),
    };
    Some(item(
        "entra_token",
        &seen.source,
        claims.issued_at,
        claims.expires_at,
        false,
        renew,
    ))
}

/// The ACR refresh and access tokens, from their claims.
fn acr_token_items(cx: &CheckCx<'_>, seen: &Seen) -> Vec<Item> {
    let login = (
        cx.t("you", "ご自身"),
        format!("az acr login --name {}", seen.registry),
    );
    let mut items = Vec::new();
    for (kind, token) in [
        ("acr_refresh_token", &seen.refresh),
        ("acr_access_token", &seen.access),
    ] {
        if let Some(t) = token {
            let c = jwt_claims(t.expose()).unwrap_or_default();
            let n = |k: &str| c.get(k).and_then(Value::as_i64);
            items.push(item(
                kind,
                &format!("{} ({})", seen.registry, seen.source),
                n("iat"),
                n("exp"),
                false,
                login.clone(),
            ));
        }
    }
    items
}

/// The client certificate's validity.
fn certificate_item(cx: &CheckCx<'_>, seen: &Seen) -> Option<Item> {
    let c = seen.cert.as_ref()?;
    Some(item(
        "client_certificate",
        &format!("{} ({})", c.path, c.subject),
        Some(c.not_before),
        Some(c.not_after),
        true,
        (
            cx.t("the application's owner", "アプリケーションの所有者"),
            "az ad app credential reset --id <app-id> --cert @new-cert.pem --append".to_string(),
        ),
    ))
}

/// The service principal's client secrets (end dates from Microsoft Graph, asked early when
/// possible), pushed onto `items`; a note when Graph could not tell.
async fn secret_items(
    cx: &CheckCx<'_>,
    seen: &Seen,
    mut looked_up: Option<(String, SecretDates)>,
    items: &mut Vec<Item>,
) -> Option<String> {
    let app_id = sp_secret_app(cx, &seen.credential)?;
    let renew = (
        cx.t(
            "the application's owner, or an administrator of the tenant",
            "アプリケーションの所有者またはテナントの管理者",
        ),
        format!("az ad app credential reset --id {app_id} --append"),
    );
    let src = cx.t(
        format!("application {app_id}"),
        format!("アプリケーション {app_id}"),
    );
    if seen.reported.iter().any(|k| k == "sp_client_secret") {
        let mut it = item("sp_client_secret", &src, None, None, true, renew);
        it.entry.state = "expired".into();
        items.push(it);
        return None;
    }
    let dates = match looked_up.take() {
        Some((app, dates)) if app == app_id => dates,
        _ => secret_end_dates(cx, seen.graph.as_ref(), &app_id).await,
    };
    match dates {
        Ok(list) if !list.is_empty() => {
            for (key_id, start, end) in list {
                items.push(item(
                    "sp_client_secret",
                    &cx.t(
                        format!("{src} secret {key_id}"),
                        format!("{src} のシークレット {key_id}"),
                    ),
                    start,
                    end,
                    true,
                    renew.clone(),
                ));
            }
            None
        }
        Ok(_) => {
            items.push(item("sp_client_secret", &src, None, None, true, renew));
            Some(cx.t(
                "Graph lists no secret matching the one in use",
                "使用中のシークレットに一致するものが Graph にありません",
            ))
        }
        Err(e) => {
            items.push(item("sp_client_secret", &src, None, None, true, renew));
            Some(cx.t(
                format!("the client secret's end date could not be read from Microsoft Graph: {e}"),
                format!("クライアント シークレットの有効期限を Microsoft Graph から読み取れませんでした: {e}"),
            ))
        }
    }
}

/// An entry's state by the time it has left: `expired`, `expiring` (within its window) or `ok`.
fn state_of(remaining: i64, window: i64) -> &'static str {
    if remaining <= 0 {
        "expired"
    } else if remaining <= window {
        "expiring"
    } else {
        "ok"
    }
}

/// What to report of one expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Expired by the judging clock.
    Expired,
    /// Valid by the servers' clock, expired by this machine's (which is off).
    ExpiredOnlyHere,
    /// Within its warning window.
    ExpiresSoon,
    /// Nothing to report.
    Fine,
}

fn verdict(exp: i64, clock: Clock, window: i64) -> Verdict {
    let remaining = exp - clock.now;
    if remaining <= 0 {
        Verdict::Expired
    } else if exp - clock.local_now <= 0 && clock.skewed {
        Verdict::ExpiredOnlyHere
    } else if remaining <= window {
        Verdict::ExpiresSoon
    } else {
        Verdict::Fine
    }
}

/// Sets each entry's remaining time and state, and returns the findings of those no other
/// check reported.
fn judge_items(
    cx: &CheckCx<'_>,
    items: &mut [Item],
    windows: (i64, i64),
    clock: Clock,
    seen: &Seen,
) -> Vec<RawFinding> {
    let mut findings: Vec<RawFinding> = Vec::new();
    for it in items {
        let window = if it.secret_like { windows.1 } else { windows.0 };
        let Some(exp) = it.exp else {
            continue;
        };
        let remaining = exp - clock.now;
        it.entry.remaining_s = Some(remaining);
        it.entry.state = state_of(remaining, window).into();
        if seen.reported.contains(&it.entry.kind) {
            continue;
        }
        findings.extend(expiry_finding(cx, it, exp, clock, window, &seen.source));
    }
    findings
}

/// The finding for one entry's expiry, if any.
fn expiry_finding(
    cx: &CheckCx<'_>,
    it: &Item,
    exp: i64,
    clock: Clock,
    window: i64,
    source: &str,
) -> Option<RawFinding> {
    let remaining = exp - clock.now;
    let what = describe_kind(cx, &it.entry.kind);
    let (who, how) = it.renew.clone();
    let skew = clock.skew.unwrap_or(0);
    match verdict(exp, clock, window) {
        Verdict::Expired => Some(
            RawFinding::new(
                expired_code(&it.entry.kind, source),
                cx.t(
                    format!(
                        "{what} ({}) expired at {} ({} ago); renewed by {who}",
                        it.entry.source,
                        rfc3339(exp),
                        span(-remaining)
                    ),
                    format!(
                        "{what} ({}) は {} に期限切れです ({} 前)。更新するのは {who} です",
                        it.entry.source,
                        rfc3339(exp),
                        span(-remaining)
                    ),
                ),
            )
            .evidence("kind", it.entry.kind.clone())
            .evidence("expires_at", rfc3339(exp))
            .command(how),
        ),
        Verdict::ExpiredOnlyHere => Some(
            RawFinding::new(
                Code::CREDENTIAL_EXPIRES_SOON,
                cx.t(
                    format!("{what} ({}) is valid until {} by the servers' clock, but this machine's clock is {} off, so local tools see it as expired: fix the clock", it.entry.source, rfc3339(exp), signed_span(skew)),
                    format!("{what} ({}) はサーバーの時計では {} まで有効ですが、このマシンの時計が {} ずれているため、ローカルのツールには期限切れに見えます。時計を修正してください", it.entry.source, rfc3339(exp), signed_span(skew)),
                ),
            )
            .severity(Severity::Warning)
            .evidence("kind", it.entry.kind.clone())
            .evidence("clock_skew_s", skew),
        ),
        Verdict::ExpiresSoon => Some(
            RawFinding::new(
                Code::CREDENTIAL_EXPIRES_SOON,
                cx.t(
                    format!("{what} ({}) expires at {}, in {}; renewed by {who}", it.entry.source, rfc3339(exp), span(remaining)),
                    format!("{what} ({}) は {} に期限切れになります (残り {})。更新するのは {who} です", it.entry.source, rfc3339(exp), span(remaining)),
                ),
            )
            .evidence("kind", it.entry.kind.clone())
            .evidence("expires_at", rfc3339(exp))
            .command(how),
        ),
        Verdict::Fine => None,
    }
}

/// How many entries are in each state: ok, expiring, expired, unknown.
fn tally(all: &[TimelineEntry]) -> [usize; 4] {
    let count = |state: &str| all.iter().filter(|e| e.state == state).count();
    [
        count("ok"),
        count("expiring"),
        count("expired"),
        count("unknown"),
    ]
}

/// Whether the findings make the check fail (anything but an expiry warning) rather than warn.
fn any_error(findings: &[RawFinding]) -> bool {
    findings
        .iter()
        .any(|f| f.severity != Some(Severity::Warning) && f.code != Code::CREDENTIAL_EXPIRES_SOON)
}

/// The whole timeline, ours and the other checks' entries: the message, the status (from the
/// findings, the first one leading) and the evidence.
fn summary(
    cx: &CheckCx<'_>,
    mut findings: Vec<RawFinding>,
    windows: (i64, i64),
    clock: Clock,
    graph_note: Option<String>,
    window_note: Option<String>,
) -> Outcome {
    let all = cx.timeline();
    let [ok, expiring, expired, unknown] = tally(&all);
    let mut message = cx.t(
        format!(
            "{} credential(s): {ok} ok, {expiring} expiring, {expired} expired, {unknown} unknown",
            all.len()
        ),
        format!(
            "資格情報 {} 件: 有効 {ok}、期限間近 {expiring}、期限切れ {expired}、不明 {unknown}",
            all.len()
        ),
    );
    if let Some(s) = clock.skew.filter(|_| clock.skewed) {
        message.push_str(&cx.t(
            format!(
                "; this machine's clock is {} off the servers' (judged by the servers' clock)",
                signed_span(s)
            ),
            format!(
                "。このマシンの時計はサーバーと {} ずれています (サーバーの時計で判定)",
                signed_span(s)
            ),
        ));
    }
    for n in [&graph_note, &window_note].into_iter().flatten() {
        message.push_str("; ");
        message.push_str(n);
    }
    let evidence_entries: Vec<Value> = all
        .iter()
        .map(|e| {
            json!({"kind": e.kind, "source": e.source, "expires_at": e.expires_at,
                   "remaining_s": e.remaining_s, "state": e.state})
        })
        .collect();
    let mut outcome = if all.is_empty() {
        Outcome::info(cx.t(
            "no credential with an expiry was seen",
            "有効期限のある資格情報は見つかりませんでした",
        ))
    } else if findings.is_empty() {
        Outcome::pass(message.clone())
    } else {
        let error = any_error(&findings);
        let mut o = if error {
            Outcome::fail(message.clone(), findings.remove(0))
        } else {
            Outcome::warn(message.clone(), findings.remove(0))
        };
        for f in findings {
            o = o.finding(f);
        }
        o
    };
    outcome = outcome.evidence("timeline", evidence_entries).evidence(
        "warn_within_s",
        json!({"tokens": windows.0, "secrets": windows.1}),
    );
    if let Some(s) = clock.skew {
        outcome = outcome.evidence("clock_skew_s", s);
    }
    outcome
}

fn item(
    kind: &str,
    source: &str,
    issued: Option<i64>,
    exp: Option<i64>,
    secret_like: bool,
    renew: (String, String),
) -> Item {
    Item {
        entry: TimelineEntry {
            kind: kind.to_string(),
            source: source.to_string(),
            issued_at: issued.map(rfc3339),
            expires_at: exp.map(rfc3339),
            remaining_s: None,
            state: "unknown".into(),
        },
        exp,
        secret_like,
        renew,
    }
}

fn describe_kind(cx: &CheckCx<'_>, kind: &str) -> String {
    match kind {
        "entra_token" => cx.t("the Microsoft Entra token", "Microsoft Entra トークン"),
        "acr_refresh_token" => cx.t("the ACR refresh token", "ACR リフレッシュ トークン"),
        "acr_access_token" => cx.t("the ACR access token", "ACR アクセス トークン"),
        "sp_client_secret" => cx.t(
            "the service principal's client secret",
            "サービス プリンシパルのクライアント シークレット",
        ),
        "client_certificate" => cx.t("the client certificate", "クライアント証明書"),
        other => other.to_string(),
    }
}

fn expired_code(kind: &str, source: &str) -> Code {
    match kind {
        "sp_client_secret" | "client_certificate" => Code::SP_SECRET_EXPIRED,
        "acr_refresh_token" | "acr_access_token" if source == "docker-config" => {
            Code::DOCKER_STORED_TOKEN_EXPIRED
        }
        "registry_token_password" => Code::REGISTRY_TOKEN_PASSWORD_EXPIRED,
        "docker_identity_token" => Code::DOCKER_STORED_TOKEN_EXPIRED,
        // An access token is minted for this run: born expired means the registry's token
        // endpoint (or its clock) is broken, not that the user's sign-in lapsed.
        "acr_access_token" => Code::CONNECTIVITY_ACCESS_TOKEN_ERROR,
        _ => Code::AAD_TOKEN_EXPIRED,
    }
}

/// `+5m 0s` (servers ahead: the local clock is behind) or `-5m 0s`.
fn signed_span(s: i64) -> String {
    if s >= 0 {
        format!("{} behind", span(s))
    } else {
        format!("{} ahead", span(s))
    }
}

/// Servers' clock minus ours (seconds), the median of the `Date` headers seen.
fn clock_skew(cx: &CheckCx<'_>) -> Option<i64> {
    let d: Vec<i64> = cx
        .facts()
        .server_dates
        .iter()
        .map(|s| s.server_unix - s.local_unix)
        .collect();
    median(d)
}

/// The middle value (the upper one of an even count), `None` when there is none.
fn median(mut d: Vec<i64>) -> Option<i64> {
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    Some(d[d.len() / 2])
}

/// The application whose client secret is in use, when it is one.
fn sp_secret_app(cx: &CheckCx<'_>, credential: &Option<Credential>) -> Option<String> {
    match credential.as_ref() {
        Some(Credential::Entra { source, claims, .. })
            if source == "env" && cx.ctx.env("AZURE_CLIENT_SECRET").is_some() =>
        {
            claims
                .app_id
                .clone()
                .or_else(|| cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string))
        }
        Some(Credential::Basic {
            username,
            kind: super::BasicKind::ServicePrincipal,
            ..
        }) => Some(username.clone()),
        None if cx.ctx.env("AZURE_CLIENT_SECRET").is_some() => {
            // identity.credential failed on the secret (e.g. AADSTS7000222).
            cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string)
        }
        _ => None,
    }
}

/// (keyId, start, end) of the secrets in use, from Graph: matched by the 3-character hint
/// Graph keeps of each secret; every secret when none matches the hint.
async fn secret_end_dates(cx: &CheckCx<'_>, graph: Option<&Secret>, app_id: &str) -> SecretDates {
    let Some(token) = graph else {
        return Err(cx.t(
            "no Microsoft Graph token for this credential",
            "この資格情報の Microsoft Graph トークンがありません",
        ));
    };
    // The application ID goes into an OData key: only a GUID, so nothing can change the path.
    if !(app_id.len() == 36 && app_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')) {
        return Err(cx.t(
            format!("the application ID {app_id:?} is not a GUID; Graph was not asked"),
            format!("アプリケーション ID {app_id:?} は GUID ではないため、Graph には問い合わせていません"),
        ));
    }
    let cloud = cx.cloud();
    let url = graph::application_url(cx.ctx, cloud, app_id);
    let creds = password_credentials(cx, token, &url).await?;
    let secret = cx
        .ctx
        .env("AZURE_CLIENT_SECRET")
        .map(str::to_string)
        .or_else(|| match cx.facts().credential.as_ref() {
            Some(Credential::Basic { password, .. }) => Some(password.expose().to_string()),
            _ => None,
        });
    Ok(secrets_in_use(&creds, secret.as_deref()))
}

/// The application's `passwordCredentials`, from `GET {url}` (once per run: every registry of
/// a fleet shares the answer); the answer's `Date` is kept for the clock skew.
async fn password_credentials(
    cx: &CheckCx<'_>,
    token: &Secret,
    url: &str,
) -> Result<Vec<Value>, String> {
    let key = format!("graph:application:{url}");
    let fetched: Result<graph::GraphAnswer, String> = cx
        .ctx
        .once(&key, || graph::get(cx.ctx, url, &[], token))
        .await;
    let resp = fetched?;
    if let Some((server_unix, local_unix)) = resp.date {
        cx.facts().server_dates.push(super::ServerDate {
            url: url.to_string(),
            server_unix,
            local_unix,
        });
    }
    let json = resp.json;
    if resp.status != 200 {
        let err = crate::azure::error_summary(json.as_ref());
        return Err(cx.t(
            format!("GET {url} answered {}: {}", resp.status, err.trim()),
            format!("GET {url} は {} を返しました: {}", resp.status, err.trim()),
        ));
    }
    json.as_ref()
        .and_then(|j| j.get("passwordCredentials"))
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| {
            cx.t(
                format!("GET {url}: no passwordCredentials in the answer"),
                format!("GET {url}: 応答に passwordCredentials がありません"),
            )
        })
}

/// (keyId, start, end) of the password credentials whose hint starts the secret in use; of
/// every one when none does (or the secret is unknown).
fn secrets_in_use(
    creds: &[Value],
    secret: Option<&str>,
) -> Vec<(String, Option<i64>, Option<i64>)> {
    let time = |v: Option<&Value>| {
        v.and_then(Value::as_str).and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|d| d.unix_timestamp())
        })
    };
    let all: Vec<(String, Option<i64>, Option<i64>, String)> = creds
        .iter()
        .map(|c| {
            (
                c.get("keyId")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                time(c.get("startDateTime")),
                time(c.get("endDateTime")),
                c.get("hint")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let matching: Vec<_> = all
        .iter()
        .filter(|(_, _, _, hint)| {
            !hint.is_empty() && secret.is_some_and(|s| s.starts_with(hint.as_str()))
        })
        .cloned()
        .collect();
    let chosen = if matching.is_empty() { all } else { matching };
    chosen.into_iter().map(|(k, s, e, _)| (k, s, e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warn_within_parses_units() {
        assert_eq!(parse_warn_within("15m,14d"), Ok((900, 14 * 86400)));
        assert_eq!(parse_warn_within("30s"), Ok((30, DEFAULT_WINDOWS.1)));
        assert_eq!(parse_warn_within("2h,1d"), Ok((7200, 86400)));
        assert!(parse_warn_within("5x").is_err());
        assert!(parse_warn_within("m").is_err());
        assert!(parse_warn_within("1m,2m,3m").is_err());
    }

    #[test]
    fn token_kinds() {
        assert_eq!(
            expired_code("client_certificate", "env"),
            Code::SP_SECRET_EXPIRED
        );
        assert_eq!(
            expired_code("acr_refresh_token", "docker-config"),
            Code::DOCKER_STORED_TOKEN_EXPIRED
        );
        assert_eq!(expired_code("entra_token", "cli"), Code::AAD_TOKEN_EXPIRED);
    }

    #[test]
    fn states_by_time_left() {
        assert_eq!(state_of(-1, 900), "expired");
        assert_eq!(state_of(0, 900), "expired");
        assert_eq!(state_of(1, 900), "expiring");
        assert_eq!(state_of(900, 900), "expiring");
        assert_eq!(state_of(901, 900), "ok");
    }

    #[test]
    fn the_servers_clock_judges_only_beyond_the_skew_limit() {
        let c = judging_clock(1_000_000, Some(SKEW_LIMIT_S));
        assert_eq!((c.now, c.skewed), (1_000_000, false));
        let c = judging_clock(1_000_000, Some(-(SKEW_LIMIT_S + 1)));
        assert_eq!((c.now, c.skewed), (1_000_000 - SKEW_LIMIT_S - 1, true));
        let c = judging_clock(1_000_000, None);
        assert_eq!((c.now, c.skew, c.skewed), (1_000_000, None, false));
    }

    #[test]
    fn verdicts_by_the_judging_clock() {
        let window = 900;
        let right = judging_clock(10_000, None);
        assert_eq!(verdict(10_000, right, window), Verdict::Expired);
        assert_eq!(verdict(10_500, right, window), Verdict::ExpiresSoon);
        assert_eq!(verdict(20_000, right, window), Verdict::Fine);
        // This machine's clock is an hour ahead of the servers': expired only here.
        let ahead = judging_clock(10_000, Some(-3600));
        assert_eq!(verdict(9_000, ahead, window), Verdict::ExpiredOnlyHere);
        assert_eq!(verdict(6_000, ahead, window), Verdict::Expired);
        // An hour behind: the servers' clock says it is already gone.
        let behind = judging_clock(10_000, Some(3600));
        assert_eq!(verdict(12_000, behind, window), Verdict::Expired);
        assert_eq!(verdict(14_000, behind, window), Verdict::ExpiresSoon);
    }

    #[test]
    fn warn_within_falls_back_to_the_defaults_with_a_note() {
        assert_eq!(warn_windows(None), (DEFAULT_WINDOWS, None));
        assert_eq!(warn_windows(Some("1h,2d")), ((3600, 2 * 86400), None));
        let (windows, note) = warn_windows(Some("soon"));
        assert_eq!(windows, DEFAULT_WINDOWS);
        assert!(note.is_some_and(|n| n.starts_with("--warn-within ignored")));
    }

    #[test]
    fn skew_is_the_median_and_states_are_tallied() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![400, -2, 5]), Some(5));
        assert_eq!(median(vec![10, 1, 4, 7]), Some(7));
        let entry = |state: &str| TimelineEntry {
            kind: "entra_token".into(),
            source: "cli".into(),
            issued_at: None,
            expires_at: None,
            remaining_s: None,
            state: state.into(),
        };
        let all = [
            entry("ok"),
            entry("expired"),
            entry("ok"),
            entry("unknown"),
            entry("expiring"),
            entry("expired"),
        ];
        assert_eq!(tally(&all), [2, 1, 2, 1]);
        assert_eq!(tally(&[]), [0, 0, 0, 0]);
    }

    #[test]
    fn the_secret_in_use_is_found_by_its_hint() {
        let creds = vec![
            json!({"keyId": "k-old", "hint": "abc", "startDateTime": "2026-01-01T00:00:00Z",
                   "endDateTime": "2026-06-30T00:00:00Z"}),
            json!({"keyId": "k-new", "hint": "xyz", "endDateTime": "2027-01-01T00:00:00Z"}),
            json!({"hint": "", "endDateTime": "not a date"}),
        ];
        assert_eq!(
            secrets_in_use(&creds, Some("xyzSECRET")),
            vec![("k-new".to_string(), None, Some(1_798_761_600))]
        );
        // No hint matches (or no secret known): every secret, in Graph's order.
        let keys = |v: Vec<(String, Option<i64>, Option<i64>)>| {
            v.into_iter().map(|(k, _, _)| k).collect::<Vec<_>>()
        };
        assert_eq!(
            keys(secrets_in_use(&creds, Some("nope"))),
            ["k-old", "k-new", "?"]
        );
        assert_eq!(keys(secrets_in_use(&creds, None)), ["k-old", "k-new", "?"]);
        assert_eq!(
            secrets_in_use(&creds[..1], None),
            vec![(
                "k-old".to_string(),
                Some(1_767_225_600),
                Some(1_782_777_600)
            )]
        );
    }
}
