#![allow(dead_code)]
//! Shared helpers of the test bed's tests.

use acr_testbed::TestBed;
use base64::Engine;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

/// A client trusting the bed's CA, resolving `<name>.azurecr.io` to the bed for each name.
pub fn client(bed: &TestBed, names: &[&str]) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(bed.ca_pem().as_bytes()).expect("ca"))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20));
    for n in names {
        b = b.resolve(
            &format!("{n}.azurecr.io"),
            SocketAddr::from(([127, 0, 0, 1], bed.registry_port())),
        );
    }
    b.build().expect("client")
}

pub fn url(bed: &TestBed, name: &str, path: &str) -> String {
    format!("https://{}{path}", bed.login_server(name))
}

/// Decode a JWT's claims without verifying.
pub fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("jwt has claims");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("b64");
    serde_json::from_slice(&raw).expect("json")
}

/// Client-credentials token for the default SP.
pub async fn sp_token(bed: &TestBed, c: &reqwest::Client, scope: &str) -> reqwest::Response {
    c.post(format!(
        "{}/{}/oauth2/v2.0/token",
        bed.authority_host(),
        acr_testbed::ids::TENANT
    ))
    .form(&[
        ("grant_type", "client_credentials"),
        ("client_id", acr_testbed::ids::SP_APP_ID),
        ("client_secret", acr_testbed::ids::SP_SECRET),
        ("scope", scope),
    ])
    .send()
    .await
    .expect("entra")
}

/// Exchange an Entra token for an ACR refresh token.
pub async fn exchange(
    bed: &TestBed,
    c: &reqwest::Client,
    name: &str,
    aad: &str,
) -> reqwest::Response {
    c.post(url(bed, name, "/oauth2/exchange"))
        .form(&[
            ("grant_type", "access_token"),
            ("service", &format!("{name}.azurecr.io")),
            ("tenant", acr_testbed::ids::TENANT),
            ("access_token", aad),
        ])
        .send()
        .await
        .expect("exchange")
}

/// Ask for an access token with a refresh token.
pub async fn access(
    bed: &TestBed,
    c: &reqwest::Client,
    name: &str,
    refresh: &str,
    scopes: &[&str],
) -> reqwest::Response {
    let service = format!("{name}.azurecr.io");
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("service", service.as_str()),
        ("refresh_token", refresh),
    ];
    for s in scopes {
        form.push(("scope", s));
    }
    c.post(url(bed, name, "/oauth2/token"))
        .form(&form)
        .send()
        .await
        .expect("token")
}

/// Full Entra -> refresh -> access flow for the default SP.
pub async fn sp_access_token(
    bed: &TestBed,
    c: &reqwest::Client,
    name: &str,
    scopes: &[&str],
) -> String {
    let t: Value = sp_token(bed, c, "https://containerregistry.azure.net/.default")
        .await
        .json()
        .await
        .expect("json");
    let aad = t["access_token"].as_str().expect("aad token").to_string();
    let r: Value = exchange(bed, c, name, &aad)
        .await
        .json()
        .await
        .expect("json");
    let refresh = r["refresh_token"].as_str().expect("refresh").to_string();
    let a: Value = access(bed, c, name, &refresh, scopes)
        .await
        .json()
        .await
        .expect("json");
    a["access_token"].as_str().expect("access").to_string()
}

/// Actions granted in an access token for one scope.
pub fn granted(token: &str, name: &str) -> Vec<String> {
    claims(token)["access"]
        .as_array()
        .expect("access")
        .iter()
        .filter(|e| e["name"] == name)
        .flat_map(|e| e["actions"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}
