//! The `mangle` and `redirect` knobs, as seen from a client.

use crate::common;

use acr_testbed::{BedSpec, Fault, Mangle, Registry, TestBed};
use common::*;

async fn bed() -> TestBed {
    TestBed::start(BedSpec::new().registry(Registry::new("contosoreg").real_backend(false)))
        .await
        .expect("bed")
}

fn mangle(bed: &TestBed, path: &str, how: Mangle) {
    bed.set_fault(
        None,
        Fault::Mangle {
            path: path.into(),
            how,
        },
    );
}

#[tokio::test]
async fn header_knobs() {
    let bed = bed().await;
    let c = client(&bed, &["contosoreg"]);
    let v2 = url(&bed, "contosoreg", "/v2/");

    mangle(&bed, "/v2/", Mangle::DuplicateChallenge);
    let r = c.get(&v2).send().await.expect("v2");
    let all: Vec<String> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all[0].starts_with("Basic "), "{all:?}");
    assert!(
        all[1].starts_with("Bearer realm=") && all[1] == all[2],
        "{all:?}"
    );

    mangle(&bed, "/v2/", Mangle::NotUtf8Header);
    let r = c.get(&v2).send().await.expect("v2");
    let h = r.headers().get("www-authenticate").expect("challenge");
    assert!(h.to_str().is_err(), "{h:?}");

    // A stock client refuses a 1 MiB header and 5000 headers.
    mangle(&bed, "/v2/", Mangle::HugeHeader);
    assert!(c.get(&v2).send().await.is_err());
    mangle(&bed, "/v2/", Mangle::ManyHeaders);
    assert!(c.get(&v2).send().await.is_err());

    // Other paths are untouched.
    let r = c
        .get(url(&bed, "contosoreg", "/oauth2/token"))
        .send()
        .await
        .expect("token");
    assert!(r.headers().len() < 50);
}

#[tokio::test]
async fn body_knobs() {
    let bed = bed().await;
    let c = client(&bed, &["contosoreg"]);
    let v2 = url(&bed, "contosoreg", "/v2/");

    mangle(&bed, "/v2/", Mangle::NotJson);
    let r = c.get(&v2).send().await.expect("v2");
    assert_eq!(r.status(), 401);
    assert!(r.text().await.expect("body").starts_with("<html>"));

    mangle(&bed, "/v2/", Mangle::NotUtf8Body);
    let bytes = c
        .get(&v2)
        .send()
        .await
        .expect("v2")
        .bytes()
        .await
        .expect("b");
    assert!(std::str::from_utf8(&bytes).is_err());

    mangle(&bed, "/v2/", Mangle::TruncatedBody);
    let r = c.get(&v2).send().await.expect("v2");
    assert!(r.bytes().await.is_err(), "a cut body must fail to read");

    mangle(&bed, "/v2/", Mangle::HugeBody);
    // A fresh client: the cut answer above broke its pooled connection.
    let c = client(&bed, &["contosoreg"]);
    let mut r = c.get(&v2).send().await.expect("v2");
    let mut read = 0usize;
    while let Some(chunk) = r.chunk().await.expect("chunk") {
        read += chunk.len();
        if read > 8 * 1024 * 1024 {
            break;
        }
    }
    assert!(read > 8 * 1024 * 1024, "only {read} bytes");
}

#[tokio::test]
async fn jwt_knobs_spoil_entra_tokens() {
    let bed = bed().await;
    let c = client(&bed, &["contosoreg"]);
    let token = |v: serde_json::Value| v["access_token"].as_str().unwrap_or("").to_string();

    mangle(&bed, "*/oauth2/v2.0/token", Mangle::JwtExpFar);
    let t = token(
        sp_token(&bed, &c, "https://containerregistry.azure.net/.default")
            .await
            .json()
            .await
            .expect("json"),
    );
    assert_eq!(claims(&t)["exp"], 3_093_527_980_800_i64);

    mangle(&bed, "*/oauth2/v2.0/token", Mangle::JwtExpString);
    let t = token(
        sp_token(&bed, &c, "https://containerregistry.azure.net/.default")
            .await
            .json()
            .await
            .expect("json"),
    );
    assert_eq!(claims(&t)["exp"], "tomorrow");

    mangle(&bed, "*/oauth2/v2.0/token", Mangle::JwtMissingParts);
    let t = token(
        sp_token(&bed, &c, "https://containerregistry.azure.net/.default")
            .await
            .json()
            .await
            .expect("json"),
    );
    assert_eq!(t.split('.').count(), 2);
}

#[tokio::test]
async fn redirect_knob() {
    let bed = bed().await;
    let c = client(&bed, &["contosoreg"]);
    bed.set_fault(
        None,
        Fault::Redirect {
            path: "/oauth2/exchange".into(),
            to: "http://127.0.0.1:9".into(),
        },
    );
    let r = c
        .post(url(&bed, "contosoreg", "/oauth2/exchange?x=1"))
        .send()
        .await
        .expect("exchange");
    assert_eq!(r.status(), 307);
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("http://127.0.0.1:9/oauth2/exchange?x=1")
    );
    let r = c
        .get(url(&bed, "contosoreg", "/v2/"))
        .send()
        .await
        .expect("v2");
    assert_eq!(r.status(), 401);
    assert!(bed
        .request_log()
        .iter()
        .any(|l| l.path == "/oauth2/exchange" && l.status == 307));
}
