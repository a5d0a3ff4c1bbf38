//! The login server in front of a REAL docker-registry: challenge, token flow, and proof that
//! the registry enforces the `access` claim.

use crate::common;

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

/// `blob-redirect`: authorized layer downloads go to the storage account with a SAS URL, which
/// serves the real blob; a tampered signature is refused as Azure Storage refuses it.
#[tokio::test]
async fn blob_downloads_redirect_to_the_storage_account() {
    use acr_testbed::Fault;
    use sha2::Digest;
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    bed.push_test_image("contosoreg", "app", "v1")
        .await
        .expect("push");
    bed.set_fault(Some("contosoreg"), Fault::BlobRedirect);
    let storage = "contosoregstg.blob.core.windows.net";
    let c = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(bed.ca_pem().as_bytes()).expect("ca"))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(
            "contosoreg.azurecr.io",
            std::net::SocketAddr::from(([127, 0, 0, 1], bed.registry_port())),
        )
        .resolve(
            storage,
            std::net::SocketAddr::from(([127, 0, 0, 1], bed.registry_port())),
        )
        .build()
        .expect("client");
    let token = bed.acr_access_token("contosoreg", &[("repository", "app", &["pull"])]);
    let manifest: Value = c
        .get(url(&bed, "contosoreg", "/v2/app/manifests/v1"))
        .bearer_auth(&token)
        .header(
            "Accept",
            "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
        )
        .send()
        .await
        .expect("manifest")
        .json()
        .await
        .expect("json");
    let digest = manifest["config"]["digest"]
        .as_str()
        .expect("config digest")
        .to_string();
    let r = c
        .get(url(&bed, "contosoreg", &format!("/v2/app/blobs/{digest}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("blob");
    assert_eq!(r.status(), 307);
    let location = r.headers()["location"].to_str().expect("ascii").to_string();
    assert!(
        location.starts_with(&format!("https://{storage}:{}/", bed.registry_port())),
        "{location}"
    );
    assert!(location.contains("sig="), "{location}");
    // Without a token the login server does not redirect.
    let r = c
        .get(url(&bed, "contosoreg", &format!("/v2/app/blobs/{digest}")))
        .send()
        .await
        .expect("blob");
    assert_eq!(r.status(), 401);
    // The storage account serves the real blob to the SAS URL, and nothing else.
    let body = c
        .get(&location)
        .send()
        .await
        .expect("storage")
        .bytes()
        .await
        .expect("bytes");
    let got = format!("sha256:{:x}", sha2::Sha256::digest(&body));
    assert_eq!(got, digest);
    let tampered = location.replace("sig=", "sig=x");
    let r = c.get(&tampered).send().await.expect("storage");
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .expect("text")
        .contains("<Code>AuthenticationFailed</Code>"));
}

/// ACR's attribute API (`/acr/v1/`): the challenge names `metadata_read`, a token without it is
/// refused, what does not exist is 404 with ACR's codes, and a lock fault shows in the attributes
/// and makes the registry refuse the write with `405 REGISTRY_DISALLOWED_OPERATION`.
#[tokio::test]
async fn attributes_api_and_locks() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let c = client(&bed, &["contosoreg"]);
    let digest = bed
        .push_test_image("contosoreg", "app", "1.0")
        .await
        .expect("push");
    let get = |path: String, token: Option<String>| {
        let mut req = c.get(url(&bed, "contosoreg", &path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.expect("get") }
    };
    // No token: a challenge for the scope ACR asks for these paths.
    let r = get("/acr/v1/app".into(), None).await;
    assert_eq!(r.status(), 401);
    let www = r.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        www.contains("scope=\"repository:app:metadata_read\"") && www.contains("invalid_token"),
        "{www}"
    );
    // A pull-only token: insufficient scope.
    let pull = bed.acr_access_token("contosoreg", &[("repository", "app", &["pull"])]);
    let r = get("/acr/v1/app".into(), Some(pull)).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("insufficient_scope"));

    let meta = |repo: &str| {
        bed.acr_access_token("contosoreg", &[("repository", repo, &["metadata_read"])])
    };
    let body = |r: reqwest::Response| async move { r.json::<Value>().await.expect("json") };
    let r = get("/acr/v1/app".into(), Some(meta("app"))).await;
    assert_eq!(r.status(), 200);
    let v = body(r).await;
    assert_eq!(v["imageName"], "app");
    assert_eq!(v["tagCount"], 1);
    assert_eq!(v["changeableAttributes"]["writeEnabled"], true);
    let r = get("/acr/v1/app/_tags/1.0".into(), Some(meta("app"))).await;
    let v = body(r).await;
    assert_eq!(v["tag"]["digest"], digest.as_str());
    assert_eq!(v["tag"]["changeableAttributes"]["deleteEnabled"], true);
    let r = get(
        format!("/acr/v1/app/_manifests/{digest}"),
        Some(meta("app")),
    )
    .await;
    let v = body(r).await;
    assert_eq!(v["manifest"]["tags"], serde_json::json!(["1.0"]));
    // What is not there.
    for (path, repo, code) in [
        ("/acr/v1/web", "web", "NAME_UNKNOWN"),
        ("/acr/v1/app/_tags/2.0", "app", "TAG_UNKNOWN"),
        (
            "/acr/v1/app/_manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "app",
            "MANIFEST_UNKNOWN",
        ),
    ] {
        let r = get(path.into(), Some(meta(repo))).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(body(r).await["errors"][0]["code"], code, "{path}");
    }

    // The tag locked against writes: its attributes say so, and its deletion and overwriting
    // are refused although the token allows them; other tags of the repository are not.
    bed.set_fault(
        Some("contosoreg"),
        "artifact-locked=app:1.0".parse().expect("fault"),
    );
    let v = body(get("/acr/v1/app/_tags/1.0".into(), Some(meta("app"))).await).await;
    assert_eq!(v["tag"]["changeableAttributes"]["writeEnabled"], false);
    let v = body(get("/acr/v1/app".into(), Some(meta("app"))).await).await;
    assert_eq!(v["changeableAttributes"]["writeEnabled"], true);
    let writer = bed.acr_access_token(
        "contosoreg",
        &[("repository", "app", &["pull", "push", "delete"])],
    );
    let r = c
        .delete(url(
            &bed,
            "contosoreg",
            &format!("/v2/app/manifests/{digest}"),
        ))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 405);
    let v = body(r).await;
    assert_eq!(v["errors"][0]["code"], "REGISTRY_DISALLOWED_OPERATION");
    assert!(v["errors"][0]["message"]
        .as_str()
        .expect("message")
        .starts_with("The operation is disallowed on this registry, repository or image."));
    let r = c
        .put(url(&bed, "contosoreg", "/v2/app/manifests/1.0"))
        .bearer_auth(&writer)
        .body("{}")
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 405);
    let r = c
        .post(url(&bed, "contosoreg", "/v2/app/blobs/uploads/"))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("upload");
    assert_eq!(
        r.status(),
        202,
        "a blob upload is not a write to the locked tag"
    );
    // The whole repository locked: even an upload is refused; without push in the token the
    // registry's own 401 comes first.
    bed.set_fault(
        Some("contosoreg"),
        "artifact-locked=app".parse().expect("fault"),
    );
    let r = c
        .post(url(&bed, "contosoreg", "/v2/app/blobs/uploads/"))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 405);
    let pull = bed.acr_access_token("contosoreg", &[("repository", "app", &["pull"])]);
    let r = c
        .post(url(&bed, "contosoreg", "/v2/app/blobs/uploads/"))
        .bearer_auth(&pull)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 401);
}

/// A tag list asked with `n` is paged with `last` and `Link`, as ACR pages it.
#[tokio::test]
async fn tag_lists_are_paged() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let c = client(&bed, &["contosoreg"]);
    for tag in ["c", "a", "b"] {
        bed.push_test_image("contosoreg", "app", tag)
            .await
            .expect("push");
    }
    let pull = bed.acr_access_token("contosoreg", &[("repository", "app", &["pull"])]);
    let page = |path: &str| {
        let req = c.get(url(&bed, "contosoreg", path)).bearer_auth(&pull);
        async move {
            let r = req.send().await.expect("tags");
            let link = r
                .headers()
                .get("link")
                .map(|l| l.to_str().expect("ascii").to_string());
            (link, r.json::<Value>().await.expect("json"))
        }
    };
    let (link, v) = page("/v2/app/tags/list?n=2").await;
    assert_eq!(v["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(
        link.as_deref(),
        Some("</v2/app/tags/list?last=b&n=2>; rel=\"next\"")
    );
    let (link, v) = page("/v2/app/tags/list?last=b&n=2").await;
    assert_eq!(v["tags"], serde_json::json!(["c"]));
    assert_eq!(link, None);
    // Without `n`, everything at once (distribution's own answer).
    let (link, v) = page("/v2/app/tags/list").await;
    assert_eq!(v["tags"].as_array().map(Vec::len), Some(3));
    assert_eq!(link, None);
}
