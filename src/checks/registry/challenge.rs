//! `registry.challenge`: `GET /v2/` must answer 401 with a Bearer challenge.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::Value;

use crate::catalogue::Code;
use crate::checks::{
    ArmRegistry, Challenge, Check, CheckCx, Fact, Group, LoginServer, Meta, Outcome,
};
use crate::finding::RawFinding;
use crate::http::{HttpError, HttpResponse};
use crate::protocol::challenge::{self as chal, AuthChallenge};
use crate::report::CheckStatus;

/// The client address in a firewall 403 body (`client with IP '203.0.113.7' is not allowed`).
pub fn client_ip_from_body(body: &str) -> Option<String> {
    let re = regex::Regex::new(r"client with IP '([^']{1,64})'").ok()?;
    re.captures(body)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// Why the registry refuses this client, as far as its ARM settings tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForbiddenReason {
    PublicAccessDisabled,
    /// Default action Deny and no rule covers the address; the rules are listed.
    IpNotAllowed {
        rules: Vec<String>,
    },
    /// Settings allow the address: something else (a proxy, another path) answered 403.
    SettingsAllow,
    Unknown,
}

/// Reads `publicNetworkAccess` and `networkRuleSet` of the registry resource.
pub fn forbidden_reason(arm: Option<&ArmRegistry>, ip: Option<&str>) -> ForbiddenReason {
    let Some(arm) = arm else {
        return ForbiddenReason::Unknown;
    };
    let public = arm
        .property("publicNetworkAccess")
        .and_then(Value::as_str)
        .unwrap_or("Enabled");
    if public.eq_ignore_ascii_case("disabled") {
        return ForbiddenReason::PublicAccessDisabled;
    }
    let deny = arm
        .property("networkRuleSet.defaultAction")
        .and_then(Value::as_str)
        .is_some_and(|a| a.eq_ignore_ascii_case("deny"));
    if !deny {
        return ForbiddenReason::SettingsAllow;
    }
    let rules: Vec<String> = arm
        .property("networkRuleSet.ipRules")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    r.get("value")
                        .or_else(|| r.get("ipAddressOrRange"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let allowed = ip.and_then(|i| i.parse::<IpAddr>().ok()).is_some_and(|ip| {
        rules.iter().any(|r| {
            r.parse::<ipnet::IpNet>()
                .map(|n| n.contains(&ip))
                .or_else(|_| r.parse::<IpAddr>().map(|a| a == ip))
                .unwrap_or(false)
        })
    });
    if allowed {
        ForbiddenReason::SettingsAllow
    } else {
        ForbiddenReason::IpNotAllowed { rules }
    }
}

/// Seconds of a `Retry-After` header (delta-seconds or an HTTP date).
pub fn retry_after_secs(value: &str, now: i64) -> Option<u64> {
    let v = value.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(s);
    }
    let format = time::format_description::well_known::Rfc2822;
    let date = time::OffsetDateTime::parse(&v.replace("GMT", "+0000"), &format).ok()?;
    Some((date.unix_timestamp() - now).max(0) as u64)
}

/// `registry.challenge`: `GET /v2/` must answer 401 with a Bearer challenge.
pub struct ChallengeCheck;

impl ChallengeCheck {
    fn http_error(cx: &CheckCx<'_>, url: &str, err: &HttpError) -> Outcome {
        let (code, layer) = match err {
            HttpError::Timeout(_) => (Code::CONNECTIVITY_CHALLENGE_ERROR, "http"),
            HttpError::Dns(_) => (Code::CONNECTIVITY_CHALLENGE_ERROR, "dns"),
            HttpError::Connect(_) => (Code::CONNECTIVITY_CHALLENGE_ERROR, "tcp"),
            HttpError::Tls(_) => (Code::CONNECTIVITY_SSL_ERROR, "tls"),
            HttpError::Proxy(_) => (Code::CLIENT_PROXY_ERROR, "proxy"),
            HttpError::Other(d) if d.contains("tunnel") => (Code::CLIENT_PROXY_ERROR, "proxy"),
            HttpError::Other(_) => (Code::CONNECTIVITY_CHALLENGE_ERROR, "http"),
            HttpError::Refused(_) => (Code::CONNECTIVITY_CHALLENGE_ERROR, "trust"),
        };
        let msg = match err {
            HttpError::Timeout(after) => cx.t(
                format!("GET {url}: no answer within {:.1} s (layer: HTTP; the connection and TLS were fine, the server never answered)", after.as_secs_f64()),
                format!("GET {url}: {:.1} 秒以内に応答がありません (層: HTTP。接続と TLS は成功しましたがサーバーが応答しません)", after.as_secs_f64()),
            ),
            other => cx.t(
                format!("GET {url} failed at the {layer} layer: {other}"),
                format!("GET {url} が {layer} 層で失敗しました: {other}"),
            ),
        };
        Outcome::fail(
            msg.clone(),
            RawFinding::new(code, msg)
                .evidence("url", url.to_string())
                .evidence("layer", layer),
        )
    }

    fn forbidden(cx: &CheckCx<'_>, url: &str, resp: &crate::http::HttpResponse) -> Outcome {
        let body = resp.text();
        let ip = client_ip_from_body(&body);
        let (arm, name) = {
            let mut f = cx.facts();
            if ip.is_some() {
                f.client_ip = ip.clone();
            }
            (f.arm_registry.clone(), f.registry_name.clone())
        };
        let name = name
            .or_else(|| arm.as_ref().map(|a| a.name.clone()))
            .unwrap_or_else(|| cx.target.to_string());
        let ip_text = ip
            .clone()
            .unwrap_or_else(|| cx.t("(not in the answer)", "(応答に含まれていません)"));
        let reason = forbidden_reason(arm.as_ref(), ip.as_deref());
        let enable_public = format!("az acr update --name {name} --public-network-enabled true");
        let add_rule = format!(
            "az acr network-rule add --name {name} --ip-address {}",
            ip.clone().unwrap_or_else(|| "<your public IP>".into())
        );
        let (why, commands): (String, Vec<String>) = match &reason {
            ForbiddenReason::PublicAccessDisabled => (
                cx.t(
                    format!("public network access is disabled on {name} (ARM: publicNetworkAccess Disabled), and this machine ({ip_text}) comes from the internet rather than through a private endpoint"),
                    format!("{name} のパブリック ネットワーク アクセスが無効 (ARM: publicNetworkAccess Disabled) で、このマシン ({ip_text}) はプライベート エンドポイントではなくインターネット経由で接続しています"),
                ),
                vec![enable_public],
            ),
            ForbiddenReason::IpNotAllowed { rules } => (
                cx.t(
                    format!("the registry firewall denies by default and no IP rule covers {ip_text} (rules: {})", if rules.is_empty() { "none".to_string() } else { rules.join(", ") }),
                    format!("レジストリのファイアウォールは既定で拒否し、{ip_text} を許可する IP 規則がありません (規則: {})", if rules.is_empty() { "なし".to_string() } else { rules.join(", ") }),
                ),
                vec![add_rule],
            ),
            ForbiddenReason::SettingsAllow => (
                cx.t(
                    format!("the registry's ARM settings allow {ip_text}; the 403 may come from a proxy on the way or from a different source address"),
                    format!("レジストリの ARM 設定は {ip_text} を許可しています。403 は途中のプロキシか、別の送信元アドレスによるものかもしれません"),
                ),
                vec![],
            ),
            ForbiddenReason::Unknown => (
                cx.t(
                    format!("either public network access is disabled or the firewall rules do not allow {ip_text}; the registry's settings could not be read through ARM to tell which"),
                    format!("パブリック ネットワーク アクセスが無効か、ファイアウォール規則が {ip_text} を許可していません。ARM から設定を読めないため、どちらかは判別できません"),
                ),
                vec![enable_public, add_rule],
            ),
        };
        let msg = cx.t(
            format!("GET {url} answered 403: {why}"),
            format!("GET {url} は 403 を返しました: {why}"),
        );
        let mut f = RawFinding::new(Code::CONNECTIVITY_FORBIDDEN_ERROR, msg.clone())
            .evidence("url", url.to_string())
            .evidence("status", 403)
            .evidence(
                "reason",
                match reason {
                    ForbiddenReason::PublicAccessDisabled => "public_network_access_disabled",
                    ForbiddenReason::IpNotAllowed { .. } => "ip_not_allowed",
                    ForbiddenReason::SettingsAllow => "settings_allow",
                    ForbiddenReason::Unknown => "unknown",
                },
            )
            .step(cx.t(
                format!("`docker login` shows this refusal as `login attempt to https://{}/v2/ failed with status: 403 Forbidden`.", url.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches("/v2/")),
                format!("`docker login` ではこの拒否が `login attempt to https://{}/v2/ failed with status: 403 Forbidden` と表示されます。", url.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches("/v2/")),
            ))
            .step(cx.t(
                "To keep the registry private, reach it through a private endpoint (or allow trusted Azure services) instead of opening it.",
                "レジストリを非公開のままにするには、公開せずにプライベート エンドポイント経由 (または信頼された Azure サービスを許可) で接続してください。",
            ));
        if let Some(ip) = &ip {
            f = f.evidence("client_ip", ip.clone());
        }
        let errors = resp.registry_errors();
        if let Some((code, message)) = errors.first() {
            f = f.evidence("registry_error", format!("{code}: {message}"));
        }
        for c in commands {
            f = f.command(c);
        }
        Outcome::fail(msg, f)
    }

    fn analyse_401(
        cx: &CheckCx<'_>,
        ls: &LoginServer,
        url: &str,
        resp: &crate::http::HttpResponse,
    ) -> Outcome {
        let headers = resp.header_all("www-authenticate");
        let fail = |code: Code, en: String, ja: String| {
            let msg = cx.t(en, ja);
            Outcome::fail(
                msg.clone(),
                RawFinding::new(code, msg)
                    .evidence("url", url.to_string())
                    .evidence("status", resp.status)
                    .evidence("www_authenticate", headers.clone()),
            )
        };
        if headers.is_empty() {
            return fail(
                Code::CONNECTIVITY_CHALLENGE_ERROR,
                format!("GET {url} answered 401 without a WWW-Authenticate header (layer: HTTP): the server does not say how to log in"),
                format!("GET {url} は WWW-Authenticate ヘッダーなしで 401 を返しました (層: HTTP)。ログイン方法が示されていません"),
            );
        }
        let challenges: Vec<AuthChallenge> = match chal::parse_headers(&headers) {
            Ok(c) => c,
            Err(e) => {
                return fail(
                    Code::CONNECTIVITY_WWW_AUTHENTICATE_ERROR,
                    format!(
                        "GET {url}: the WWW-Authenticate header cannot be parsed ({e}): {:?}",
                        headers.join(" | ")
                    ),
                    format!(
                        "GET {url}: WWW-Authenticate ヘッダーを解析できません ({e}): {:?}",
                        headers.join(" | ")
                    ),
                )
            }
        };
        let schemes: Vec<String> = challenges.iter().map(|c| c.scheme.clone()).collect();
        let Some(bearer) = chal::bearer(&challenges) else {
            if challenges.iter().any(|c| c.is("Basic")) {
                return fail(
                    Code::CONNECTIVITY_AAD_LOGIN_ERROR,
                    format!("GET {url} offers only {} login, no Bearer token login: Microsoft Entra sign-in (`az acr login`) cannot work here", schemes.join(", ")),
                    format!("GET {url} は {} ログインのみを提供し、Bearer トークンのログインがありません。Microsoft Entra のサインイン (`az acr login`) は使えません", schemes.join(", ")),
                );
            }
            return fail(
                Code::CONNECTIVITY_WWW_AUTHENTICATE_ERROR,
                format!(
                    "GET {url} asks for {}, a scheme ACR never uses",
                    schemes.join(", ")
                ),
                format!(
                    "GET {url} は ACR が使わない認証方式 {} を要求しています",
                    schemes.join(", ")
                ),
            );
        };
        let realm = bearer.param("realm").filter(|r| !r.is_empty());
        let service = bearer.param("service").filter(|s| !s.is_empty());
        let (Some(realm), Some(service)) = (realm, service) else {
            let mut missing = Vec::new();
            if realm.is_none() {
                missing.push("realm");
            }
            if service.is_none() {
                missing.push("service");
            }
            return fail(
                Code::CONNECTIVITY_WWW_AUTHENTICATE_ERROR,
                format!(
                    "GET {url}: the Bearer challenge has no {} ({:?})",
                    missing.join(" or "),
                    headers.join(" | ")
                ),
                format!(
                    "GET {url}: Bearer チャレンジに {} がありません ({:?})",
                    missing.join("、"),
                    headers.join(" | ")
                ),
            );
        };
        let challenge = Challenge {
            realm: realm.to_string(),
            service: service.to_string(),
            scope: bearer.param("scope").map(str::to_string),
        };
        Self::bearer_outcome(cx, ls, url, resp, &headers, schemes, challenge)
    }

    /// A complete Bearer challenge: its realm must be on the login server (else nothing is sent
    /// to it); a service other than the login server is noted. Provides the challenge fact.
    fn bearer_outcome(
        cx: &CheckCx<'_>,
        ls: &LoginServer,
        url: &str,
        resp: &crate::http::HttpResponse,
        headers: &[String],
        schemes: Vec<String>,
        challenge: Challenge,
    ) -> Outcome {
        let (realm, service) = (challenge.realm.as_str(), challenge.service.as_str());
        // The realm receives credentials: ACR's is always `https://<login server>/oauth2/token`.
        // One elsewhere gets nothing: no challenge fact, so no check sends a credential to it.
        if let Some(problem) = crate::trust::realm_problem(ls, realm) {
            let msg = cx.t(
                format!(
                    "GET {url} → 401 Bearer realm={realm}: {problem}. `docker login` would hand the credential to that host; acr-doctor sent it nothing"
                ),
                format!(
                    "GET {url} → 401 Bearer realm={realm}: レルムがログイン サーバー上にありません ({problem})。`docker login` はその宛先に資格情報を渡してしまいます。acr-doctor は何も送っていません"
                ),
            );
            return Outcome::fail(
                msg.clone(),
                RawFinding::new(Code::CONNECTIVITY_WWW_AUTHENTICATE_ERROR, msg)
                    .evidence("url", url.to_string())
                    .evidence("status", resp.status)
                    .evidence("realm", realm.to_string())
                    .evidence("login_server", ls.base_url())
                    .evidence("www_authenticate", headers.to_vec()),
            )
            .evidence("realm", realm.to_string())
            .evidence("login_server", ls.base_url());
        }
        let service_note = if service.eq_ignore_ascii_case(&ls.host)
            || service.eq_ignore_ascii_case(&ls.authority())
        {
            None
        } else {
            Some(cx.t(
                format!(
                    "service {service} differs from the login server {}",
                    ls.host
                ),
                format!(
                    "service {service} はログイン サーバー {} と異なります",
                    ls.host
                ),
            ))
        };
        cx.facts().challenge = Some(challenge.clone());
        let mut msg = cx.t(
            format!(
                "GET {url} → 401 Bearer realm={realm} service={service} ({} ms)",
                resp.elapsed.as_millis()
            ),
            format!(
                "GET {url} → 401 Bearer realm={realm} service={service} ({} ms)",
                resp.elapsed.as_millis()
            ),
        );
        if let Some(n) = &service_note {
            msg = format!("{msg}; {n}");
        }
        let evidence = |o: Outcome| {
            o.evidence("url", url.to_string())
                .evidence("realm", challenge.realm.clone())
                .evidence("service", challenge.service.clone())
                .evidence("schemes", schemes.clone())
        };
        evidence(Outcome::pass(msg))
    }
}

impl Check for ChallengeCheck {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "registry.challenge",
            Group::Registry,
            "challenge",
            "チャレンジ",
        )
        // The challenge does not wait for the DNS and TLS checks: it runs beside them (its own
        // request resolves and handshakes anyway), and only when its request fails does it wait
        // for them, so that a DNS or TLS failure is reported once, by the check that explains it.
        .needs(&[Fact::LoginServer])
        .provides(&[Fact::Challenge])
        // The registry's settings, only to tell the two causes of a 403 apart.
        .consults(&[Fact::Tls, Fact::ArmRegistry]);
        &META
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { challenge(cx).await })
    }
}

/// `GET /v2/` (once more after a 429 whose Retry-After fits in the time budget), then what the
/// answer says: 401 is read for its challenge, anything else fails.
async fn challenge(cx: &CheckCx<'_>) -> Outcome {
    let Some(ls) = cx.facts().login_server.clone() else {
        return Outcome::skip(cx.t("no login server", "ログイン サーバーがありません"));
    };
    let url = format!("{}/v2/", ls.base_url());
    let (resp, retried) = match get_v2(cx, &url).await {
        Ok(answer) => answer,
        Err(failed) => return *failed,
    };
    match resp.status {
        401 => ChallengeCheck::analyse_401(cx, &ls, &url, &resp),
        403 => {
            // Only a 403 needs the registry's settings: wait for ARM here, not upfront.
            cx.await_fact(Fact::ArmRegistry).await;
            ChallengeCheck::forbidden(cx, &url, &resp)
        }
        429 => too_many_requests(
            cx,
            &url,
            retried,
            resp.header("retry-after").map(str::to_string),
        ),
        status => unexpected_status(cx, &url, status, &resp.registry_errors()),
    }
}

/// The answer to `GET url`, and the seconds waited before the one retry after a 429 (`None`:
/// not retried). A request that fails is reported by the DNS or TLS check when one of them
/// failed, else here.
async fn get_v2(cx: &CheckCx<'_>, url: &str) -> Result<(HttpResponse, Option<u64>), Box<Outcome>> {
    let started = Instant::now();
    let mut retried = None;
    loop {
        let resp = match cx.ctx.send(cx.ctx.http().get(url)).await {
            Ok(r) => r,
            Err(e) => return Err(Box::new(request_failed(cx, url, &e).await)),
        };
        if resp.status != 429 || retried.is_some() {
            return Ok((resp, retried));
        }
        let wait = resp
            .header("retry-after")
            .and_then(|v| retry_after_secs(v, cx.ctx.clock.unix()));
        // Retry once when the wait fits in the time budget.
        match wait {
            Some(secs) if Duration::from_secs(secs) + started.elapsed() <= cx.ctx.timeout => {
                cx.ctx.trace.push(format!(
                    "waiting {secs} s (Retry-After) before retrying GET {url}"
                ));
                tokio::time::sleep(Duration::from_secs(secs)).await;
                retried = Some(secs);
            }
            _ => return Ok((resp, retried)),
        }
    }
}

/// `GET url` failed: skipped when the TLS check (after DNS) failed and says why, else the
/// failure's layer and cause.
async fn request_failed(cx: &CheckCx<'_>, url: &str, e: &HttpError) -> Outcome {
    let tls = cx.await_fact(Fact::Tls).await;
    if !matches!(
        tls,
        Some(CheckStatus::Pass | CheckStatus::Warn | CheckStatus::Info) | None
    ) {
        return Outcome::skip(cx.t(
            format!("GET {url} failed ({e}); the DNS and TLS checks above say why"),
            format!("GET {url} は失敗しました ({e})。原因は上の DNS と TLS のチェックを参照してください"),
        ));
    }
    ChallengeCheck::http_error(cx, url, e)
}

/// 429 Too Many Requests, after the one retry or when Retry-After asked for longer than the
/// time budget.
fn too_many_requests(
    cx: &CheckCx<'_>,
    url: &str,
    retried: Option<u64>,
    ra: Option<String>,
) -> Outcome {
    let msg = match (&retried, &ra) {
        (Some(s), _) => cx.t(
            format!("GET {url} answered 429 Too Many Requests, again after waiting {s} s as Retry-After asked"),
            format!("GET {url} は 429 Too Many Requests を返し、Retry-After に従い {s} 秒待った後も同じでした"),
        ),
        (None, Some(v)) => cx.t(
            format!("GET {url} answered 429 Too Many Requests; Retry-After: {v} is longer than --timeout {:.0} s, so acr-doctor did not wait", cx.ctx.timeout.as_secs_f64()),
            format!("GET {url} は 429 Too Many Requests を返しました。Retry-After: {v} が --timeout {:.0} 秒より長いため待機しませんでした", cx.ctx.timeout.as_secs_f64()),
        ),
        (None, None) => cx.t(
            format!("GET {url} answered 429 Too Many Requests"),
            format!("GET {url} は 429 Too Many Requests を返しました"),
        ),
    };
    let mut f = RawFinding::new(Code::CONNECTIVITY_TOOMANYREQUESTS_ERROR, msg.clone())
        .evidence("url", url.to_string())
        .evidence("retried", retried.is_some());
    if let Some(v) = ra {
        f = f.evidence("retry_after", v);
    }
    Outcome::fail(msg, f)
}

/// Any status but 401, 403 and 429: a 200 lets anyone in, anything else is not a challenge.
fn unexpected_status(
    cx: &CheckCx<'_>,
    url: &str,
    status: u16,
    errors: &[(String, String)],
) -> Outcome {
    let what = if status == 200 {
        cx.t(
            "it let an anonymous client in without asking for authentication: this is not how an ACR login server answers".to_string(),
            "認証を求めずに匿名クライアントを受け入れました。ACR のログイン サーバーの応答ではありません".to_string(),
        )
    } else {
        let first = errors
            .first()
            .map(|(c, m)| format!(" ({c}: {m})"))
            .unwrap_or_default();
        cx.t(
            format!("expected 401 with a challenge{first}"),
            format!("チャレンジ付きの 401 が期待されます{first}"),
        )
    };
    let msg = cx.t(
        format!("GET {url} answered {status} (layer: HTTP): {what}"),
        format!("GET {url} は {status} を返しました (層: HTTP): {what}"),
    );
    Outcome::fail(
        msg.clone(),
        RawFinding::new(Code::CONNECTIVITY_CHALLENGE_ERROR, msg)
            .evidence("url", url.to_string())
            .evidence("status", status)
            .evidence("layer", "http"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;
    use serde_json::json;

    #[test]
    fn client_ip_and_retry_after() {
        let body = r#"{"errors":[{"code":"DENIED","message":"client with IP '203.0.113.7' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}"#;
        assert_eq!(client_ip_from_body(body).as_deref(), Some("203.0.113.7"));
        assert_eq!(client_ip_from_body("denied"), None);
        assert_eq!(retry_after_secs(" 7 ", 0), Some(7));
        let now = 1_445_412_480; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            retry_after_secs("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(30)
        );
        assert_eq!(
            retry_after_secs("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_secs("soon", now), None);
    }

    fn reg(props: Value) -> ArmRegistry {
        ArmRegistry {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg".into(),
            subscription: "s".into(),
            resource_group: "rg".into(),
            name: "reg".into(),
            resource: json!({ "properties": props }),
        }
    }

    #[test]
    fn forbidden_reasons_from_arm() {
        assert_eq!(
            forbidden_reason(None, Some("1.2.3.4")),
            ForbiddenReason::Unknown
        );
        let disabled = reg(json!({"publicNetworkAccess": "Disabled"}));
        assert_eq!(
            forbidden_reason(Some(&disabled), Some("1.2.3.4")),
            ForbiddenReason::PublicAccessDisabled
        );
        let firewall = reg(json!({"publicNetworkAccess": "Enabled",
            "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "203.0.113.0/24"}, {"value": "198.51.100.9"}]}}));
        assert_eq!(
            forbidden_reason(Some(&firewall), Some("127.0.0.1")),
            ForbiddenReason::IpNotAllowed {
                rules: vec!["203.0.113.0/24".into(), "198.51.100.9".into()]
            }
        );
        assert_eq!(
            forbidden_reason(Some(&firewall), Some("203.0.113.50")),
            ForbiddenReason::SettingsAllow
        );
        assert_eq!(
            forbidden_reason(Some(&firewall), Some("198.51.100.9")),
            ForbiddenReason::SettingsAllow
        );
        let open = reg(json!({"networkRuleSet": {"defaultAction": "Allow"}}));
        assert_eq!(
            forbidden_reason(Some(&open), None),
            ForbiddenReason::SettingsAllow
        );
    }

    fn evidence_keys(o: &Outcome) -> Vec<&str> {
        o.findings[0].evidence.keys().map(String::as_str).collect()
    }

    #[test]
    fn too_many_requests_says_whether_it_waited() {
        let url = "https://reg.azurecr.io/v2/";
        crate::checks::with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            let o = too_many_requests(cx, url, Some(3), Some("3".into()));
            assert_eq!(o.status, CheckStatus::Fail);
            assert_eq!(o.codes(), [Code::CONNECTIVITY_TOOMANYREQUESTS_ERROR]);
            assert_eq!(evidence_keys(&o), ["retried", "retry_after", "url"]);
            assert_eq!(o.findings[0].evidence["retried"], json!(true));
            assert_eq!(o.findings[0].evidence["retry_after"], json!("3"));

            let o = too_many_requests(cx, url, None, None);
            assert_eq!(o.codes(), [Code::CONNECTIVITY_TOOMANYREQUESTS_ERROR]);
            assert_eq!(evidence_keys(&o), ["retried", "url"]);
            assert_eq!(o.findings[0].evidence["retried"], json!(false));
        });
    }

    #[test]
    fn any_other_status_is_not_a_challenge() {
        let url = "https://reg.azurecr.io/v2/";
        crate::checks::with_test_cx(&["--name", "reg"], Lang::En, |cx| {
            for (status, errors) in [
                (200, vec![]),
                (404, vec![("NOT_FOUND".to_string(), "no".to_string())]),
            ] {
                let o = unexpected_status(cx, url, status, &errors);
                assert_eq!(o.status, CheckStatus::Fail);
                assert_eq!(o.codes(), [Code::CONNECTIVITY_CHALLENGE_ERROR]);
                assert_eq!(evidence_keys(&o), ["layer", "status", "url"]);
                assert_eq!(o.findings[0].evidence["status"], json!(status));
                assert_eq!(o.findings[0].evidence["layer"], json!("http"));
            }
        });
    }
}
