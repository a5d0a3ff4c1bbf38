//! Another identity for reading the registry's settings: an ARM token from an Entra source
//! other than the credential under test, used only when that credential cannot read ARM.

use serde_json::{json, Value};

use super::who;
use crate::azure::cli_token;
use crate::azure::credential_sources;
use crate::azure::entra::{self, ClientAuth, MiEndpoint};
use crate::checks::{CheckCx, IdentityClaims};
use crate::lang::Lang;
use crate::redact::Secret;
use crate::request::AuthSource;

/// An identity other than the credential under test, with a token for Azure Resource Manager:
/// used only to read the registry's settings when the credential under test cannot.
pub struct ArmReader {
    pub source: AuthSource,
    pub token: Secret,
    pub claims: IdentityClaims,
}

impl ArmReader {
    /// Who read the settings, for the report (claims only, never the token).
    pub fn describe(&self) -> Value {
        describe_reader(self.source, &self.claims)
    }

    pub fn who(&self, lang: Lang) -> String {
        who(&self.claims, lang)
    }
}

/// Who read the settings (an identity's source and claims), for the report.
pub fn describe_reader(source: AuthSource, claims: &IdentityClaims) -> Value {
    json!({
        "source": source.as_str(),
        "tenant_id": claims.tenant_id,
        "object_id": claims.object_id,
        "app_id": claims.app_id,
        "upn": claims.upn,
    })
}

/// The Entra sources that may read ARM for the run, in the order of `--auth auto`.
pub fn reader_sources() -> impl Iterator<Item = AuthSource> {
    super::credential::AUTO_ORDER.into_iter().filter(|s| {
        matches!(
            s,
            AuthSource::Env
                | AuthSource::WorkloadIdentity
                | AuthSource::ManagedIdentity
                | AuthSource::Cli
        )
    })
}

/// An ARM token from `source`, or why there is none. Nothing is sent to the registry.
pub async fn arm_reader(cx: &CheckCx<'_>, source: AuthSource) -> Result<ArmReader, String> {
    let arm_aud = entra::arm_audience(cx.ctx, cx.cloud());
    let authority = entra::authority(cx.ctx, cx.cloud());
    let tenant = cx.ctx.env("AZURE_TENANT_ID").map(str::to_string);
    let client = cx.ctx.env("AZURE_CLIENT_ID").map(str::to_string);
    let not_set = |what: &str| {
        cx.t(
            format!("{what} not set"),
            format!("{what} が設定されていません"),
        )
    };
    let got = match source {
        AuthSource::Env => {
            let (Some(tenant), Some(client)) = (tenant, client) else {
                return Err(not_set("AZURE_TENANT_ID / AZURE_CLIENT_ID"));
            };
            let auth = if let Some(secret) = cx.ctx.env("AZURE_CLIENT_SECRET") {
                let secret = Secret::new(secret);
                cx.ctx.redactor.register_secret(&secret);
                ClientAuth::Secret(secret)
            } else if let Some(path) = cx.ctx.env("AZURE_CLIENT_CERTIFICATE_PATH") {
                let password = cx.ctx.env(entra::CERTIFICATE_PASSWORD_VAR);
                if let Some(pw) = password {
                    cx.ctx.redactor.register(pw);
                }
                let cert = entra::load_certificate(std::path::Path::new(path), password)?;
                let audience = format!("{authority}/{tenant}/oauth2/v2.0/token");
                let a = cert.assertion(&audience, &client, cx.ctx.clock.unix())?;
                cx.ctx.redactor.register_secret(&a);
                ClientAuth::Assertion(a)
            } else {
                return Err(not_set(
                    "AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH",
                ));
            };
            entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &arm_aud).await
        }
        AuthSource::WorkloadIdentity => {
            let file = cx.ctx.env("AZURE_FEDERATED_TOKEN_FILE").map(str::to_string);
            let (Some(file), Some(tenant), Some(client)) = (file, tenant, client) else {
                return Err(not_set(
                    "AZURE_FEDERATED_TOKEN_FILE / AZURE_TENANT_ID / AZURE_CLIENT_ID",
                ));
            };
            let assertion = Secret::new(credential_sources::read_small(&file)?.trim());
            cx.ctx.redactor.register_secret(&assertion);
            let auth = ClientAuth::Assertion(assertion);
            entra::client_credentials(cx.ctx, &authority, &tenant, &client, &auth, &arm_aud).await
        }
        AuthSource::ManagedIdentity => {
            let endpoint = MiEndpoint::from_env(cx.ctx);
            entra::managed_identity(cx.ctx, &endpoint, client.as_deref(), &arm_aud).await
        }
        AuthSource::Cli => match cli_token::get_token(cx.ctx, &arm_aud).await {
            Ok(t) => Ok(t.token),
            Err(e) => return Err(e.to_string()),
        },
        _ => return Err(source.as_str().to_string()),
    };
    match got {
        Ok(t) => {
            cx.ctx.redactor.register_secret(&t.token);
            Ok(ArmReader {
                source,
                token: t.token,
                claims: t.claims,
            })
        }
        Err(e) => Err(e.to_string()),
    }
}
