//! Entra client credentials, ARM reads, role assignments, permissions, Graph, managed identity.

use crate::common;

use acr_testbed::{ids, BedSpec, Fault, Scope, TestBed};
use common::*;
use serde_json::Value;
use std::time::Duration;

async fn get_json(c: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let r = c.get(url).bearer_auth(token).send().await.expect("get");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn client_credentials_and_entra_errors() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let c = client(&bed, &[]);
    let r = sp_token(&bed, &c, "https://containerregistry.azure.net/.default").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    let cl = claims(v["access_token"].as_str().expect("token"));
    assert_eq!(cl["aud"], "https://containerregistry.azure.net");
    assert_eq!(cl["tid"], ids::TENANT);
    assert_eq!(cl["oid"], ids::SP_OBJECT_ID);
    assert_eq!(cl["appid"], ids::SP_APP_ID);
    assert_eq!(cl["idtyp"], "app");
    let arm = sp_token(&bed, &c, "https://management.azure.com/.default")
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        claims(arm["access_token"].as_str().expect("t"))["aud"],
        "https://management.azure.com/"
    );

    let post = |tenant: &str, client_id: &str, secret: &str| {
        let c = c.clone();
        let u = format!("{}/{tenant}/oauth2/v2.0/token", bed.authority_host());
        let form = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_id".to_string(), client_id.to_string()),
            ("client_secret".to_string(), secret.to_string()),
            (
                "scope".to_string(),
                "https://containerregistry.azure.net/.default".to_string(),
            ),
        ];
        async move {
            let r = c.post(u).form(&form).send().await.expect("post");
            (r.status().as_u16(), r.json::<Value>().await.expect("json"))
        }
    };
    let (s, v) = post(
        "11111111-2222-4333-8444-555555555555",
        ids::SP_APP_ID,
        ids::SP_SECRET,
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(v["error_codes"][0], 90002);
    let (s, v) = post(
        ids::TENANT,
        "99999999-2222-4333-8444-555555555555",
        ids::SP_SECRET,
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_codes"][0].as_u64()),
        (400, Some("unauthorized_client"), Some(700016))
    );
    let (s, v) = post(ids::TENANT, ids::SP_APP_ID, "CANARY-wrong").await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_codes"][0].as_u64()),
        (401, Some("invalid_client"), Some(7000215))
    );
    assert!(v["error_description"]
        .as_str()
        .expect("d")
        .starts_with("AADSTS7000215: "));
    assert!(v["error_description"]
        .as_str()
        .expect("d")
        .contains("Trace ID: "));

    bed.set_fault(None, Fault::SpSecretExpired);
    let (s, v) = post(ids::TENANT, ids::SP_APP_ID, ids::SP_SECRET).await;
    assert_eq!((s, v["error_codes"][0].as_u64()), (401, Some(7000222)));
    bed.set_fault(None, Fault::SpSecretWrong);
    assert_eq!(
        post(ids::TENANT, ids::SP_APP_ID, ids::SP_SECRET).await.1["error_codes"][0],
        7000215
    );
    bed.clear_faults();
    bed.set_fault(None, Fault::UnknownTenant);
    assert_eq!(
        post(ids::TENANT, ids::SP_APP_ID, ids::SP_SECRET).await.1["error_codes"][0],
        90002
    );
    bed.clear_faults();
    bed.set_fault(None, Fault::ExpiredTokens);
    let (s, v) = post(ids::TENANT, ids::SP_APP_ID, ids::SP_SECRET).await;
    assert_eq!(s, 200);
    let exp = claims(v["access_token"].as_str().expect("t"))["exp"]
        .as_i64()
        .expect("exp");
    assert!(exp < time::OffsetDateTime::now_utc().unix_timestamp());
}

#[tokio::test]
async fn federated_assertion() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let c = client(&bed, &[]);
    let send = |assertion: String| {
        let c = c.clone();
        let u = format!("{}/{}/oauth2/v2.0/token", bed.authority_host(), ids::TENANT);
        async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", ids::SP_APP_ID),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
                ("scope", "https://management.azure.com/.default"),
            ];
            let r = c.post(u).form(&form).send().await.expect("post");
            (r.status().as_u16(), r.json::<Value>().await.expect("json"))
        }
    };
    let (s, v) = send(bed.federated_token(ids::SP_APP_ID)).await;
    assert_eq!(s, 200, "{v}");
    bed.with_state(|st| st.principal_mut(ids::SP).expect("sp").federated.clear());
    let (s, v) = send(bed.federated_token(ids::SP_APP_ID)).await;
    assert_eq!((s, v["error_codes"][0].as_u64()), (400, Some(70021)));
}

#[tokio::test]
async fn arm_registry_and_authorization() {
    let bed = TestBed::start(BedSpec::new().assign(ids::USER, "Reader", Scope::ResourceGroup))
        .await
        .expect("bed");
    let c = client(&bed, &[]);
    let arm = bed.arm_endpoint();
    let reg_id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerRegistry/registries/contosoreg",
        ids::SUBSCRIPTION,
        ids::RESOURCE_GROUP
    );
    let alice = bed.entra_token(
        ids::USER,
        "https://management.azure.com/",
        Duration::from_secs(3600),
    );
    let sp = bed.entra_token(
        ids::SP,
        "https://management.azure.com/",
        Duration::from_secs(3600),
    );

    let (s, v) = get_json(&c, &format!("{arm}{reg_id}?api-version=2023-07-01"), &alice).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["loginServer"], "contosoreg.azurecr.io");
    assert_eq!(v["properties"]["publicNetworkAccess"], "Enabled");
    assert_eq!(
        v["properties"]["roleAssignmentMode"],
        "LegacyRegistryPermissions"
    );
    assert_eq!(
        v["properties"]["policies"]["azureADAuthenticationAsArmPolicy"]["status"],
        "enabled"
    );

    // The SP holds only AcrPush: no control-plane read.
    let (s, v) = get_json(&c, &format!("{arm}{reg_id}?api-version=2023-07-01"), &sp).await;
    assert_eq!(s, 403);
    assert_eq!(v["error"]["code"], "AuthorizationFailed");
    assert!(v["error"]["message"]
        .as_str()
        .expect("m")
        .contains("Microsoft.ContainerRegistry/registries/read"));

    // missing api-version, wrong audience
    let (s, v) = get_json(&c, &format!("{arm}{reg_id}"), &alice).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("MissingApiVersionParameter"))
    );
    let acr_aud = bed.entra_token(
        ids::USER,
        "https://containerregistry.azure.net",
        Duration::from_secs(60),
    );
    let (s, v) = get_json(
        &c,
        &format!("{arm}{reg_id}?api-version=2023-07-01"),
        &acr_aud,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );

    // faults show in ARM
    bed.set_fault(Some("contosoreg"), Fault::PublicAccessDisabled);
    bed.set_fault(Some("contosoreg"), Fault::PrivateEndpoint);
    bed.set_fault(Some("contosoreg"), Fault::CmkIdentityMissing);
    let (_, v) = get_json(&c, &format!("{arm}{reg_id}?api-version=2023-07-01"), &alice).await;
    assert_eq!(v["properties"]["publicNetworkAccess"], "Disabled");
    let pe = v["properties"]["privateEndpointConnections"][0]["properties"]["privateEndpoint"]
        ["id"]
        .as_str()
        .expect("pe")
        .to_string();
    let key_identity = v["properties"]["encryption"]["keyVaultProperties"]["identity"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(v["identity"]["userAssignedIdentities"]
        .as_object()
        .expect("uai")
        .values()
        .all(|i| i["clientId"] != key_identity.as_str()));
    let (s, v) = get_json(&c, &format!("{arm}{pe}?api-version=2023-09-01"), &alice).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["properties"]["customDnsConfigs"][0]["fqdn"],
        "contosoreg.azurecr.io"
    );
    let nic = v["properties"]["networkInterfaces"][0]["id"]
        .as_str()
        .expect("nic")
        .to_string();
    let (s, v) = get_json(&c, &format!("{arm}{nic}?api-version=2023-09-01"), &alice).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["properties"]["ipConfigurations"][0]["properties"]["privateLinkConnectionProperties"]
            ["fqdns"][0],
        "contosoreg.azurecr.io"
    );
    bed.set_fault(Some("contosoreg"), Fault::IpFirewall);
    let (_, v) = get_json(&c, &format!("{arm}{reg_id}?api-version=2023-07-01"), &alice).await;
    assert_eq!(v["properties"]["networkRuleSet"]["defaultAction"], "Deny");
    bed.set_fault(Some("contosoreg"), Fault::ArmForbidden);
    assert_eq!(
        get_json(&c, &format!("{arm}{reg_id}?api-version=2023-07-01"), &alice)
            .await
            .0,
        403
    );
    bed.clear_faults();

    // listCredentials: admin disabled -> documented error; Reader may not list at all
    let r = c
        .post(format!(
            "{arm}{reg_id}/listCredentials?api-version=2023-07-01"
        ))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    bed.with_state(|st| st.assign(ids::USER, "Owner", &Scope::registry("contosoreg"), None));
    let r = c
        .post(format!(
            "{arm}{reg_id}/listCredentials?api-version=2023-07-01"
        ))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.expect("j")["error"]["code"],
        "UnAuthorizedForCredentialOperations"
    );
    bed.with_state(|st| {
        st.registry_mut("contosoreg")
            .expect("reg")
            .admin_user_enabled = true
    });
    let r = c
        .post(format!(
            "{arm}{reg_id}/listCredentials?api-version=2023-07-01"
        ))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.json::<Value>().await.expect("j")["passwords"][0]["value"],
        ids::ADMIN_PASSWORDS[0]
    );

    // role assignments, inherited from the group, filtered by principal
    let (s, v) = get_json(
        &c,
        &format!("{arm}{reg_id}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20'{}'", ids::SP_OBJECT_ID),
        &alice,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let list = v["value"].as_array().expect("value");
    assert_eq!(list.len(), 1);
    let rd = list[0]["properties"]["roleDefinitionId"]
        .as_str()
        .expect("rd")
        .to_string();
    assert!(rd.ends_with(ids::roles::ACR_PUSH));
    let (s, v) = get_json(&c, &format!("{arm}{rd}?api-version=2022-04-01"), &alice).await;
    assert_eq!(
        (s, v["properties"]["roleName"].as_str()),
        (200, Some("AcrPush"))
    );
    let (_, v) = get_json(
        &c,
        &format!("{arm}{reg_id}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()"),
        &alice,
    )
    .await;
    assert!(v["value"]
        .as_array()
        .expect("v")
        .iter()
        .any(|a| a["properties"]["scope"]
            == format!(
                "/subscriptions/{}/resourceGroups/rg-test",
                ids::SUBSCRIPTION
            )));
    // the SP cannot read role assignments; its permissions show what it holds
    assert_eq!(
        get_json(&c, &format!("{arm}{reg_id}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"), &sp).await.0,
        403
    );
    let (_, v) = get_json(
        &c,
        &format!(
            "{arm}{reg_id}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"
        ),
        &sp,
    )
    .await;
    assert_eq!(
        v["value"][0]["actions"][1],
        "Microsoft.ContainerRegistry/registries/push/write"
    );
    let (_, v) = get_json(
        &c,
        &format!("{arm}/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName%20eq%20'AcrPull'", ids::SUBSCRIPTION),
        &alice,
    )
    .await;
    assert_eq!(v["value"][0]["name"], ids::roles::ACR_PULL);
    // listing
    let (_, v) = get_json(
        &c,
        &format!("{arm}/subscriptions?api-version=2022-12-01"),
        &alice,
    )
    .await;
    assert_eq!(v["value"][0]["subscriptionId"], ids::SUBSCRIPTION);
    let (_, v) = get_json(&c, &format!("{arm}/subscriptions/{}/providers/Microsoft.ContainerRegistry/registries?api-version=2023-07-01", ids::SUBSCRIPTION), &alice).await;
    assert_eq!(v["value"][0]["name"], "contosoreg");
}

#[tokio::test]
async fn graph_and_managed_identity() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let c = client(&bed, &[]);
    let sp_graph = bed.entra_token(
        ids::SP,
        "https://graph.microsoft.com",
        Duration::from_secs(600),
    );
    let u = format!(
        "{}/v1.0/applications(appId='{}')",
        bed.graph_endpoint(),
        ids::SP_APP_ID
    );
    let (s, v) = get_json(&c, &u, &sp_graph).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["passwordCredentials"][0]["keyId"], ids::SP_SECRET_KEY_ID);
    assert_eq!(v["passwordCredentials"][0]["hint"], "CAN");
    let filtered = format!(
        "{}/v1.0/applications?$filter=appId%20eq%20'{}'",
        bed.graph_endpoint(),
        ids::SP_APP_ID
    );
    assert_eq!(
        get_json(&c, &filtered, &sp_graph).await.1["value"][0]["appId"],
        ids::SP_APP_ID
    );
    bed.set_fault(None, Fault::GraphForbidden);
    let (s, v) = get_json(&c, &u, &sp_graph).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("Authorization_RequestDenied"))
    );
    bed.clear_faults();
    let arm_token = bed.entra_token(
        ids::SP,
        "https://management.azure.com/",
        Duration::from_secs(600),
    );
    assert_eq!(get_json(&c, &u, &arm_token).await.0, 401);

    // managed identity: App Service style and IMDS
    let r = c
        .get(format!(
            "{}?resource=https://containerregistry.azure.net&api-version=2019-08-01",
            bed.identity_endpoint()
        ))
        .header("X-IDENTITY-HEADER", bed.identity_header())
        .send()
        .await
        .expect("msi");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert!(v["expires_on"].is_string());
    assert_eq!(v["client_id"], ids::MI_CLIENT_ID);
    assert_eq!(
        claims(v["access_token"].as_str().expect("t"))["oid"],
        ids::MI_OBJECT_ID
    );
    let imds = format!("{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/", bed.imds_endpoint());
    assert_eq!(c.get(&imds).send().await.expect("imds").status(), 400);
    let r = c
        .get(&imds)
        .header("Metadata", "true")
        .send()
        .await
        .expect("imds");
    assert_eq!(r.status(), 200);
    assert_eq!(
        claims(
            r.json::<Value>().await.expect("j")["access_token"]
                .as_str()
                .expect("t")
        )["aud"],
        "https://management.azure.com/"
    );
    bed.set_fault(None, Fault::NoManagedIdentity);
    let r = c
        .get(&imds)
        .header("Metadata", "true")
        .send()
        .await
        .expect("imds");
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.expect("j")["error_description"],
        "Identity not found"
    );
}

#[tokio::test]
async fn fake_az_answers_like_the_cli() {
    let bed = TestBed::start(BedSpec::new()).await.expect("bed");
    let dir = tempfile::tempdir().expect("dir");
    let az = bed.fake_az(dir.path(), acr_testbed::FakeAz::LoggedIn);
    let out = tokio::process::Command::new(&az)
        .args([
            "account",
            "get-access-token",
            "--resource",
            "https://containerregistry.azure.net",
            "-o",
            "json",
        ])
        .output()
        .await
        .expect("az");
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["tenant"], ids::TENANT);
    assert_eq!(
        claims(v["accessToken"].as_str().expect("t"))["upn"],
        ids::USER_UPN
    );
    assert!(v["expiresOn"].as_str().expect("e").contains('.'));
    let az2 = bed.fake_az(dir.path(), acr_testbed::FakeAz::NotLoggedIn);
    let out = tokio::process::Command::new(&az2)
        .args(["account", "show", "-o", "json"])
        .output()
        .await
        .expect("az");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Please run 'az login' to setup account.")
    );
    let out = tokio::process::Command::new(&az2)
        .args(["version", "-o", "json"])
        .output()
        .await
        .expect("az");
    assert!(out.status.success());
}
