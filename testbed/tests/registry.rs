//! The login server in front of a REAL docker-registry: challenge, token flow, and proof that
//! the registry enforces the `access` claim.

mod common;

use acr_testbed::{ids, BedSpec, TestBed};
use common::*;
use serde_json::Value;

#[tokio::test]
async fn challenge_matches_acr() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let c = client(&bed, &["contosoreg"]);
    let r = c
        .get(url(&bed, "contosoreg", "/v2/"))
        .send()
        .await
        .expect("v2");
    assert_eq!(r.status(), 401);
    let www = r.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(
        www,
        format!(
            "Bearer realm=\"https://{}/oauth2/token\",service=\"contosoreg.azurecr.io\"",
            bed.login_server("contosoreg")
        )
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    assert!(body["errors"][0]["message"]
        .as_str()
        .expect("msg")
        .contains("aka.ms/acr/authorization"));
}

#[tokio::test]
async fn real_registry_enforces_access_claim() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let c = client(&bed, &["contosoreg"]);
    // SP holds AcrPush: asking for pull,push,delete grants pull,push only.
    let token = sp_access_token(&bed, &c, "contosoreg", &["repository:app:pull,push,delete"]).await;
    let mut g = granted(&token, "app");
    g.sort();
    assert_eq!(g, vec!["pull", "push"]);
    let start_upload = |t: String| {
        let c = c.clone();
        let u = url(&bed, "contosoreg", "/v2/app/blobs/uploads/");
        async move { c.post(u).bearer_auth(t).send().await.expect("upload") }
    };
    let r = start_upload(token.clone()).await;
    assert_eq!(r.status(), 202, "push token may start an upload");
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    assert!(
        loc.starts_with(&format!(
            "https://{}/v2/app/blobs/uploads/",
            bed.login_server("contosoreg")
        )),
        "{loc}"
    );

    // A pull-only token (minted directly, so the real registry is the only judge) is refused.
    let pull_only = bed.acr_access_token("contosoreg", &[("repository", "app", &["pull"])]);
    let r = start_upload(pull_only).await;
    assert_eq!(r.status(), 401);
    let www = r.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(www.contains("insufficient_scope"), "{www}");
    assert!(
        www.contains(&format!(
            "realm=\"https://{}/oauth2/token\"",
            bed.login_server("contosoreg")
        )),
        "{www}"
    );

    // A token for another registry (wrong audience) is refused too.
    let other = bed.acr_access_token("otherreg", &[("repository", "app", &["pull", "push"])]);
    assert_eq!(start_upload(other).await.status(), 401);
}

#[tokio::test]
async fn pushed_image_can_be_pulled_with_pull_token() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let digest = bed
        .push_test_image("contosoreg", "hello", "v1")
        .await
        .expect("push");
    let c = client(&bed, &["contosoreg"]);
    let token = sp_access_token(&bed, &c, "contosoreg", &["repository:hello:pull"]).await;
    let r = c
        .get(url(&bed, "contosoreg", "/v2/hello/manifests/v1"))
        .bearer_auth(&token)
        .header(
            "accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        )
        .send()
        .await
        .expect("manifest");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["docker-content-digest"]
            .to_str()
            .expect("digest"),
        digest
    );
    let tags: Value = c
        .get(url(&bed, "contosoreg", "/v2/hello/tags/list"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("tags")
        .json()
        .await
        .expect("json");
    assert_eq!(tags["tags"][0], "v1");
    // the log shows the requests and nothing written through the login server
    let log = bed.request_log();
    assert!(log
        .iter()
        .any(|l| l.path == "/v2/hello/manifests/v1" && l.status == 200));
    assert!(!log
        .iter()
        .any(|l| l.listener == "registry" && (l.method == "PUT" || l.method == "PATCH")));
    let _ = ids::TENANT;
}
