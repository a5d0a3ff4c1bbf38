//! An Azure CLI stand-in (`az` shell script) answering what acr-doctor asks the CLI.

use crate::{ids, TestBed};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the fake `az` behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeAz {
    /// Logged in as the default user `alice@contoso.test`.
    LoggedIn,
    /// Logged in as this principal (key, object id, app id or UPN).
    LoggedInAs(String),
    /// Not logged in: account commands print "Please run 'az login' to setup account." on stderr and exit 1.
    NotLoggedIn,
}

fn token_json(bed: &TestBed, who: &str, resource: &str) -> String {
    let lifetime = Duration::from_secs(3600);
    let token = bed.entra_token(who, resource, lifetime);
    let exp = time::OffsetDateTime::now_utc() + time::Duration::seconds(3600);
    let expires_on = exp
        .format(&time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]"
        ))
        .unwrap_or_default();
    serde_json::to_string_pretty(&serde_json::json!({
        "accessToken": token,
        "expiresOn": expires_on,
        "expires_on": exp.unix_timestamp(),
        "subscription": ids::SUBSCRIPTION,
        "tenant": ids::TENANT,
        "tokenType": "Bearer",
    }))
    .unwrap_or_default()
}

pub(crate) fn write(bed: &TestBed, dir: &Path, mode: FakeAz) -> PathBuf {
    let who = match &mode {
        FakeAz::LoggedInAs(p) => p.clone(),
        _ => ids::USER.to_string(),
    };
    let (user_name, user_type) = bed.with_state(|st| match st.principal(&who) {
        Some(p) if p.kind == crate::PrincipalKind::User => {
            (p.upn.clone().unwrap_or_default(), "user")
        }
        Some(p) => (p.app_id.clone(), "servicePrincipal"),
        None => (who.clone(), "user"),
    });
    let logged_in = mode != FakeAz::NotLoggedIn;
    let account = serde_json::to_string_pretty(&serde_json::json!({
        "environmentName": "AzureCloud",
        "homeTenantId": ids::TENANT,
        "id": ids::SUBSCRIPTION,
        "isDefault": true,
        "managedByTenants": [],
        "name": ids::SUBSCRIPTION_NAME,
        "state": "Enabled",
        "tenantId": ids::TENANT,
        "user": {"name": user_name, "type": user_type},
    }))
    .unwrap_or_default();
    let version = r#"{
  "azure-cli": "2.67.0",
  "azure-cli-core": "2.67.0",
  "azure-cli-telemetry": "1.1.0",
  "extensions": {}
}"#;
    let cloud = serde_json::to_string_pretty(&serde_json::json!({
        "endpoints": {
            "activeDirectory": bed.authority_host(),
            "activeDirectoryResourceId": "https://management.core.windows.net/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "resourceManager": format!("{}/", bed.arm_endpoint()),
        },
        "isActive": true,
        "name": "AzureCloud",
        "profile": "latest",
        "suffixes": {"acrLoginServerEndpoint": ".azurecr.io"},
    }))
    .unwrap_or_default();
    let acr = token_json(bed, &who, "https://containerregistry.azure.net");
    let arm = token_json(bed, &who, "https://management.azure.com/");
    let graph = token_json(bed, &who, "https://graph.microsoft.com");
    let not_logged = "echo \"Please run 'az login' to setup account.\" >&2\n  exit 1";
    let script = format!(
        r#"#!/bin/sh
# Azure CLI stand-in written by acr-testbed.
LOGGED_IN={logged_in}
need_login() {{
  if [ "$LOGGED_IN" != "true" ]; then
  {not_logged}
  fi
}}
case "$1 $2" in
  "version "*|"version")
    cat <<'JSON'
{version}
JSON
    ;;
  "cloud show")
    cat <<'JSON'
{cloud}
JSON
    ;;
  "account show")
    need_login
    cat <<'JSON'
{account}
JSON
    ;;
  "account get-access-token")
    need_login
    shift 2
    resource=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --resource) resource="$2"; shift 2 ;;
        --scope) resource="${{2%/.default}}"; shift 2 ;;
        *) shift ;;
      esac
    done
    resource="${{resource%/}}"
    case "$resource" in
      https://containerregistry.azure.net)
        cat <<'JSON'
{acr}
JSON
        ;;
      ""|https://management.azure.com|https://management.core.windows.net)
        cat <<'JSON'
{arm}
JSON
        ;;
      https://graph.microsoft.com)
        cat <<'JSON'
{graph}
JSON
        ;;
      *)
        echo "ERROR: AADSTS500011: The resource principal named $resource was not found in the tenant." >&2
        exit 1
        ;;
    esac
    ;;
  *)
    echo "az (acr-testbed stand-in): '$*' is not supported" >&2
    exit 2
    ;;
esac
"#
    );
    let path = dir.join("az");
    let _ = std::fs::write(&path, script);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
    }
    path
}
