//! Tokens from the Azure CLI's signed-in account: `az account get-access-token --resource <aud> -o json`.
//! Read-only: acr-doctor never logs in or changes the CLI's state.

use std::time::Duration;

use serde_json::Value;

use crate::azure::entra::{aadsts_in, claims_of, EntraToken};
use crate::context::{Context, ProcessError};
use crate::redact::Secret;

/// What the CLI said besides the token.
#[derive(Debug, Clone)]
pub struct CliToken {
    pub token: EntraToken,
    pub tenant: Option<String>,
    pub subscription: Option<String>,
}

/// Why the CLI gave no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    #[error("az was not found on PATH")]
    NotInstalled,
    #[error("the Azure CLI is not signed in (it asks to run 'az login')")]
    NotLoggedIn,
    #[error("az {0}")]
    Process(String),
    /// The CLI failed with an Entra error (AADSTS code) or another message.
    #[error("az account get-access-token failed (exit {code}): {message}")]
    Failed {
        code: String,
        message: String,
        aadsts: Option<u32>,
    },
    #[error("az account get-access-token printed no token JSON")]
    BadOutput,
}

/// Bound on one `az` call: the CLI is a Python program that may refresh its cache.
pub fn bound(ctx: &Context) -> Duration {
    (ctx.timeout * 3).max(Duration::from_secs(5))
}

/// `az account get-access-token --resource <resource> -o json`, run once per run and resource.
pub async fn get_token(ctx: &Context, resource: &str) -> Result<CliToken, CliError> {
    ctx.once(&format!("az:get-access-token:{resource}"), || {
        get_token_uncached(ctx, resource)
    })
    .await
}

async fn get_token_uncached(ctx: &Context, resource: &str) -> Result<CliToken, CliError> {
    let az = ctx.which("az").ok_or(CliError::NotInstalled)?;
    let out = ctx
        .run(
            &az,
            &[
                "account",
                "get-access-token",
                "--resource",
                resource,
                "-o",
                "json",
            ],
            None,
            bound(ctx),
        )
        .await
        .map_err(|e| match e {
            ProcessError::Spawn(m) => CliError::Process(format!("could not start: {m}")),
            ProcessError::Timeout(d) => CliError::Process(format!("did not answer within {d:?}")),
        })?;
    let json: Option<Value> = serde_json::from_str(out.stdout.trim()).ok();
    if let Some(t) = json
        .as_ref()
        .and_then(|j| j.get("accessToken"))
        .and_then(Value::as_str)
    {
        ctx.redactor.register(t);
    }
    if !out.success() {
        let text = format!("{}\n{}", out.stderr, out.stdout);
        if text.contains("az login") {
            return Err(CliError::NotLoggedIn);
        }
        let message = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .chars()
            .take(400)
            .collect::<String>();
        return Err(CliError::Failed {
            code: out
                .code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "signal".into()),
            aadsts: aadsts_in(&text),
            message: ctx.redactor.scrub(&message),
        });
    }
    let json = json.ok_or(CliError::BadOutput)?;
    let token = json
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or(CliError::BadOutput)?;
    let mut claims = claims_of(token);
    if claims.expires_at.is_none() {
        claims.expires_at = json.get("expires_on").and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
    }
    let s = |k: &str| json.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(CliToken {
        token: EntraToken {
            token: Secret::new(token),
            claims,
            server_date: None,
            url: format!("az account get-access-token --resource {resource}"),
        },
        tenant: s("tenant"),
        subscription: s("subscription"),
    })
}
