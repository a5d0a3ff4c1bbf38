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
