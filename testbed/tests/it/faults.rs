//! Each fault knob, as seen from a client.

use crate::common;

use acr_testbed::{ids, BedSpec, Fault, Registry, RepoToken, Scope, TestBed};
use base64::Engine;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

async fn token_get(
    bed: &TestBed,
    c: &reqwest::Client,
    auth: Option<String>,
    scope: &str,
) -> (u16, Value) {
    let mut rb = c
        .get(url(bed, "contosoreg", "/oauth2/token"))
        .query(&[("service", "contosoreg.azurecr.io"), ("scope", scope)]);
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    let r = rb.send().await.expect("token");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn network_access_faults() {
    let bed =
        TestBed::start(BedSpec::new().registry(Registry::new("contosoreg").real_backend(false)))
            .await
            .expect("bed");
    let c = client(&bed, &["contosoreg"]);
    for fault in [Fault::PublicAccessDisabled, Fault::IpFirewall] {
        bed.set_fault(Some("contosoreg"), fault.clone());
        for path in ["/v2/", "/oauth2/token", "/v2/app/tags/list"] {
            let r = c
                .get(url(&bed, "contosoreg", path))
                .send()
                .await
                .expect("req");
            assert_eq!(r.status(), 403, "{fault} {path}");
            let v: Value = r.json().await.expect("json");
            assert_eq!(v["errors"][0]["code"], "DENIED");
            assert_eq!(
                v["errors"][0]["message"],
                "client with IP '127.0.0.1' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."
            );
        }
        bed.clear_faults();
    }
    // an IP rule covering loopback lets the client in
    bed.with_state(|st| {
        let r = st.registry_mut("contosoreg").expect("reg");
        r.network_default_deny = true;
        r.ip_rules = vec!["127.0.0.0/8".into()];
    });
    assert_eq!(
        c.get(url(&bed, "contosoreg", "/v2/"))
            .send()
            .await
            .expect("v2")
            .status(),
        401
    );

    bed.set_fault(
        None,
        Fault::Throttled {
            retry_after_secs: 7,
        },
    );
    let r = c
        .get(url(&bed, "contosoreg", "/v2/"))
        .send()
        .await
        .expect("v2");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(
        r.json::<Value>().await.expect("j")["errors"][0]["code"],
        "TOOMANYREQUESTS"
    );
    bed.clear_faults();

    bed.set_fault(None, Fault::Slow { ms: 300 });
    let t = Instant::now();
    assert_eq!(
        c.get(url(&bed, "contosoreg", "/v2/"))
            .send()
            .await
            .expect("v2")
            .status(),
        401
    );
    assert!(t.elapsed() >= Duration::from_millis(300));
    bed.clear_faults();

    // rtt: a new connection pays TCP's and TLS's round trips before its first answer; a
    // request on the same connection pays only its own.
    bed.set_fault(None, Fault::Rtt { ms: 200 });
    let fresh = client(&bed, &["contosoreg"]);
    let timed_challenge = || async {
        let t = Instant::now();
        let r = fresh.get(url(&bed, "contosoreg", "/v2/")).send().await;
        assert_eq!(r.expect("v2").status(), 401);
        t.elapsed()
    };
    let first = timed_challenge().await;
    assert!(first >= Duration::from_millis(600), "{first:?}");
    let again = timed_challenge().await;
    assert!(again >= Duration::from_millis(200), "{again:?}");
    assert!(
        again < first,
        "the second request reused the connection: {again:?} vs {first:?}"
    );
    bed.clear_faults();

    bed.set_fault(Some("contosoreg"), Fault::Hang);
    let quick = client(&bed, &["contosoreg"]);
    let r = tokio::time::timeout(
        Duration::from_millis(500),
        quick.get(url(&bed, "contosoreg", "/v2/")).send(),
    )
    .await;
    assert!(r.is_err(), "hang must not answer");
    assert!(bed
        .request_log()
        .iter()
        .any(|l| l.path == "/v2/" && l.status == 0));
    bed.clear_faults();

    bed.set_fault(Some("contosoreg"), Fault::Trickle { interval_ms: 10 });
    let t = Instant::now();
    let r = c
        .get(url(&bed, "contosoreg", "/v2/"))
        .send()
        .await
        .expect("v2");
    assert_eq!(r.status(), 401);
    let body = r.text().await.expect("body");
    assert!(body.len() > 10);
    assert!(
        t.elapsed() >= Duration::from_millis(10 * (body.len() as u64 - 1)),
        "body must trickle"
    );
}

#[tokio::test]
async fn challenge_faults() {
    let bed =
        TestBed::start(BedSpec::new().registry(Registry::new("contosoreg").real_backend(false)))
            .await
            .expect("bed");
    let c = client(&bed, &["contosoreg"]);
    bed.set_fault(Some("contosoreg"), Fault::NoChallenge);
    assert_eq!(
        c.get(url(&bed, "contosoreg", "/v2/"))
            .send()
            .await
            .expect("v2")
            .status(),
        200
    );
    bed.set_fault(Some("contosoreg"), Fault::MalformedChallenge);
    bed.clear_fault(Some("contosoreg"), "no-challenge");
    let r = c
        .get(url(&bed, "contosoreg", "/v2/"))
        .send()
        .await
        .expect("v2");
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=");
    bed.clear_faults();
    bed.set_fault(Some("contosoreg"), Fault::BasicOnlyChallenge);
    let r = c
        .get(url(&bed, "contosoreg", "/v2/"))
        .send()
        .await
        .expect("v2");
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .expect("a")
        .starts_with("Basic realm=\""));
}

#[tokio::test]
async fn tls_faults() {
    let bed =
        TestBed::start(BedSpec::new().registry(Registry::new("contosoreg").real_backend(false)))
            .await
            .expect("bed");
    let c = client(&bed, &["contosoreg"]);
    let lax = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .resolve(
            "contosoreg.azurecr.io",
            std::net::SocketAddr::from(([127, 0, 0, 1], bed.registry_port())),
        )
        .build()
        .expect("lax");
    assert!(c.get(url(&bed, "contosoreg", "/v2/")).send().await.is_ok());
    for f in [Fault::TlsWrongName, Fault::TlsExpired, Fault::TlsUntrusted] {
        bed.set_fault(Some("contosoreg"), f.clone());
        let fresh = client(&bed, &["contosoreg"]);
        assert!(
            fresh
                .get(url(&bed, "contosoreg", "/v2/"))
                .send()
                .await
                .is_err(),
            "{f} must fail verification"
        );
        assert_eq!(
            lax.get(url(&bed, "contosoreg", "/v2/"))
                .send()
                .await
                .expect("lax")
                .status(),
            401,
            "{f}"
        );
        bed.clear_faults();
    }
}

#[tokio::test]
async fn token_flow_faults() {
    let bed = TestBed::start(
        BedSpec::new().registry(Registry::new("contosoreg").real_backend(false).token(
            RepoToken::new("ci-token", &["repositories/app/content/read"]),
        )),
    )
    .await
    .expect("bed");
    let c = client(&bed, &["contosoreg"]);
    let aad = bed.entra_token(
        ids::SP,
        "https://containerregistry.azure.net",
        Duration::from_secs(600),
    );
    let arm = bed.entra_token(
        ids::SP,
        "https://management.azure.com/",
        Duration::from_secs(600),
    );

    // ARM audience accepted by default, refused with the fault
    assert_eq!(exchange(&bed, &c, "contosoreg", &arm).await.status(), 200);
    bed.set_fault(Some("contosoreg"), Fault::ArmAudienceRefused);
    let r = exchange(&bed, &c, "contosoreg", &arm).await;
    assert_eq!(r.status(), 401);
    assert!(r.json::<Value>().await.expect("j")["errors"][0]["message"]
        .as_str()
        .expect("m")
        .contains("authentication-as-arm"));
    bed.clear_faults();

    bed.set_fault(Some("contosoreg"), Fault::TenantMismatch);
    let r = exchange(&bed, &c, "contosoreg", &aad).await;
    assert_eq!(r.status(), 401);
    assert!(r.json::<Value>().await.expect("j")["errors"][0]["message"]
        .as_str()
        .expect("m")
        .contains("tenant"));
    bed.clear_faults();

    let expired = bed.entra_token(
        ids::SP,
        "https://containerregistry.azure.net",
        Duration::from_secs(600),
    );
    bed.set_fault(Some("contosoreg"), Fault::ExpiredTokens);
    let r: Value = exchange(&bed, &c, "contosoreg", &expired)
        .await
        .json()
        .await
        .expect("j");
    let refresh = r["refresh_token"].as_str().expect("refresh").to_string();
    let rc = claims(&refresh);
    assert!(rc["exp"].as_i64().expect("exp") < time::OffsetDateTime::now_utc().unix_timestamp());
    bed.clear_faults();
    let r = access(&bed, &c, "contosoreg", &refresh, &["repository:app:pull"]).await;
    assert_eq!(r.status(), 401, "an expired refresh token is refused");
    assert_eq!(
        exchange(&bed, &c, "contosoreg", "garbage").await.status(),
        401
    );

    // good refresh token, claims as documented
    let r: Value = exchange(&bed, &c, "contosoreg", &aad)
        .await
        .json()
        .await
        .expect("j");
    let refresh = r["refresh_token"].as_str().expect("refresh").to_string();
    let rc = claims(&refresh);
    assert_eq!(
        (
            rc["iss"].as_str(),
            rc["aud"].as_str(),
            rc["grant_type"].as_str()
        ),
        (
            Some("Azure Container Registry"),
            Some("contosoreg.azurecr.io"),
            Some("refresh_token")
        )
    );
    assert_eq!(rc["tenant"], ids::TENANT);
    let span = rc["exp"].as_i64().expect("exp") - rc["iat"].as_i64().expect("iat");
    assert_eq!(span, 3 * 3600);

    bed.set_fault(
        Some("contosoreg"),
        Fault::RefreshExchangeError { status: 503 },
    );
    assert_eq!(exchange(&bed, &c, "contosoreg", &aad).await.status(), 503);
    bed.set_fault(Some("contosoreg"), Fault::AccessTokenError { status: 500 });
    assert_eq!(
        access(&bed, &c, "contosoreg", &refresh, &["repository:app:pull"])
            .await
            .status(),
        500
    );
    bed.clear_faults();

    // refresh token as docker password (00000000-... user), access token claims
    let (s, v) = token_get(
        &bed,
        &c,
        Some(basic(ids::EMPTY_GUID, &refresh)),
        "repository:app:pull,push,delete",
    )
    .await;
    assert_eq!(s, 200);
    let at = v["access_token"].as_str().expect("at");
    assert_eq!(granted(at, "app"), vec!["pull", "push"]);
    let ac = claims(at);
    assert_eq!(
        ac["exp"].as_i64().expect("e") - ac["iat"].as_i64().expect("i"),
        75 * 60
    );

    // SP basic auth, app not registered
    let (s, _) = token_get(
        &bed,
        &c,
        Some(basic(ids::SP_APP_ID, ids::SP_SECRET)),
        "repository:app:pull",
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = token_get(
        &bed,
        &c,
        Some(basic(ids::SP_APP_ID, "CANARY-bad")),
        "repository:app:pull",
    )
    .await;
    assert_eq!(s, 401, "{v}");
    bed.set_fault(Some("contosoreg"), Fault::AppNotRegistered);
    let (s, v) = token_get(
        &bed,
        &c,
        Some(basic(ids::SP_APP_ID, ids::SP_SECRET)),
        "repository:app:pull",
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["message"].as_str()),
        (401, Some("Application not registered with AAD."))
    );
    bed.clear_faults();

    // admin user
    let admin = basic("contosoreg", ids::ADMIN_PASSWORDS[0]);
    assert_eq!(
        token_get(&bed, &c, Some(admin.clone()), "repository:app:pull")
            .await
            .0,
        401,
        "admin disabled by default"
    );
    bed.with_state(|st| st.registry_mut("contosoreg").expect("r").admin_user_enabled = true);
    let (s, v) = token_get(
        &bed,
        &c,
        Some(admin.clone()),
        "repository:app:pull,push,delete",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        granted(v["access_token"].as_str().expect("t"), "app").len(),
        3
    );
    bed.set_fault(Some("contosoreg"), Fault::AdminUserDisabled);
    assert_eq!(
        token_get(&bed, &c, Some(admin), "repository:app:pull")
            .await
            .0,
        401
    );
    bed.clear_faults();

    // repository-scoped token: only what its scope map says
    let (s, v) = token_get(
        &bed,
        &c,
        Some(basic("ci-token", "CANARY-TOKEN-ci-token-1")),
        "repository:app:pull,push",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        granted(v["access_token"].as_str().expect("t"), "app"),
        vec!["pull"]
    );
    bed.with_state(|st| st.registry_mut("contosoreg").expect("r").tokens[0].enabled = false);
    assert_eq!(
        token_get(
            &bed,
            &c,
            Some(basic("ci-token", "CANARY-TOKEN-ci-token-1")),
            "repository:app:pull"
        )
        .await
        .0,
        401
    );

    // anonymous pull
    assert_eq!(
        token_get(&bed, &c, None, "repository:app:pull").await.0,
        401
    );
    bed.set_fault(Some("contosoreg"), Fault::AnonymousPull(true));
    let (s, v) = token_get(&bed, &c, None, "repository:app:pull,push").await;
    assert_eq!(s, 200);
    assert_eq!(
        granted(v["access_token"].as_str().expect("t"), "app"),
        vec!["pull"]
    );
    // data endpoint: authorized blob reads redirect to an unreachable host
    bed.set_fault(Some("contosoreg"), Fault::DataEndpointUnreachable);
    let at = v["access_token"].as_str().expect("t");
    let r = c
        .get(url(
            &bed,
            "contosoreg",
            "/v2/app/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ))
        .bearer_auth(at)
        .send()
        .await
        .expect("blob");
    assert_eq!(r.status(), 307);
    assert!(r.headers()["location"]
        .to_str()
        .expect("l")
        .starts_with("https://contosoreg.westeurope.data.azurecr.io/"));
}

#[tokio::test]
async fn abac_repository_permissions() {
    let cond = "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Resource[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'team-a/'))";
    let bed = TestBed::start(
        BedSpec::new()
            .registry(Registry::new("contosoreg").abac().real_backend(false))
            .assign_with_condition(
                ids::USER,
                "Container Registry Repository Reader",
                Scope::registry("contosoreg"),
                cond,
            ),
    )
    .await
    .expect("bed");
    let c = client(&bed, &["contosoreg"]);
    let refresh_for = |who: &'static str| {
        let c = c.clone();
        let aad = bed.entra_token(
            who,
            "https://containerregistry.azure.net",
            Duration::from_secs(600),
        );
        let bed = &bed;
        async move {
            let v: Value = exchange(bed, &c, "contosoreg", &aad)
                .await
                .json()
                .await
                .expect("j");
            v["refresh_token"].as_str().expect("r").to_string()
        }
    };
    // AcrPush grants nothing in ABAC mode
    let sp = refresh_for(ids::SP).await;
    let v: Value = access(&bed, &c, "contosoreg", &sp, &["repository:app:pull,push"])
        .await
        .json()
        .await
        .expect("j");
    assert!(granted(v["access_token"].as_str().expect("t"), "app").is_empty());
    let alice = refresh_for(ids::USER).await;
    let v: Value = access(
        &bed,
        &c,
        "contosoreg",
        &alice,
        &[
            "repository:team-a/web:pull,push",
            "repository:team-b/web:pull",
            "registry:catalog:*",
        ],
    )
    .await
    .json()
    .await
    .expect("j");
    let t = v["access_token"].as_str().expect("t");
    assert_eq!(granted(t, "team-a/web"), vec!["pull"]);
    assert!(granted(t, "team-b/web").is_empty());
    assert!(
        granted(t, "catalog").is_empty(),
        "catalog needs the Catalog Lister role"
    );
    bed.with_state(|st| {
        st.assign(
            ids::USER,
            "Container Registry Repository Catalog Lister",
            &Scope::registry("contosoreg"),
            None,
        )
    });
    let v: Value = access(&bed, &c, "contosoreg", &alice, &["registry:catalog:*"])
        .await
        .json()
        .await
        .expect("j");
    assert_eq!(
        granted(v["access_token"].as_str().expect("t"), "catalog"),
        vec!["*"]
    );
    // with real_backend(false) the bed enforces tokens itself
    let r = c
        .get(url(&bed, "contosoreg", "/v2/_catalog"))
        .bearer_auth(v["access_token"].as_str().expect("t"))
        .send()
        .await
        .expect("cat");
    assert_eq!(r.status(), 200);
}
