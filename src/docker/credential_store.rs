//! The Docker CLI's credential store, run as the docker CLI runs it: `docker-credential-<helper>
//! get`, through the [`Context`]. What the files and the helper say is parsed by
//! [`crate::protocol::docker_config`].

use std::time::Duration;

use serde_json::Value;

use crate::context::{Context, ProcessError};
use crate::protocol::docker_config::{
    normalize_host, parse_helper_output, HelperError, Loaded, StoreLookup, StoredCredential, Via,
};

/// Runs `docker-credential-<helper> get` for `server` as the docker CLI does, bounded by
/// `bound`. The secret it returns is registered with the context's redactor.
pub async fn get_credential(
    ctx: &Context,
    helper: &str,
    server: &str,
    via: Via,
    bound: Duration,
) -> Result<Option<StoredCredential>, HelperError> {
    let program = format!("docker-credential-{helper}");
    let Some(path) = ctx.which(&program) else {
        return Err(HelperError::NotFound(helper.to_string()));
    };
    let host = normalize_host(server);
    let out = ctx
        .run(&path, &["get"], Some(server.as_bytes()), bound)
        .await
        .map_err(|e| match e {
            ProcessError::Timeout(bound) => HelperError::Timeout {
                helper: helper.to_string(),
                bound,
            },
            ProcessError::Spawn(message) => HelperError::Spawn {
                helper: helper.to_string(),
                message,
            },
        })?;
    // Register before parsing, so that even a rejected answer never leaks its secret.
    if let Ok(v) = serde_json::from_str::<Value>(out.stdout.trim()) {
        if let Some(s) = v.get("Secret").and_then(Value::as_str) {
            ctx.redactor.register(s);
        }
    }
    let result = parse_helper_output(helper, &host, via, out.code, &out.stdout, &out.stderr)?;
    if let Some(c) = &result {
        ctx.redactor.register_secret(&c.secret);
    }
    Ok(result)
}

/// Resolves the stored credential for `login_server` from a loaded configuration: the
/// `auths` entry, or the helper's answer. `Ok(None)`: nothing stored.
pub async fn resolve_stored(
    ctx: &Context,
    loaded: &Loaded,
    login_server: &str,
    bound: Duration,
) -> Result<(StoreLookup, Option<StoredCredential>), HelperError> {
    let lookup = loaded.stored_credential_for(login_server);
    let stored = match lookup.via.helper() {
        Some(helper) => {
            get_credential(ctx, helper, &lookup.host, lookup.via.clone(), bound).await?
        }
        None => lookup
            .entry
            .as_ref()
            .and_then(|e| e.credential(&lookup.host, lookup.via.clone())),
    };
    if let Some(s) = &stored {
        ctx.redactor.register_secret(&s.secret);
    }
    Ok((lookup, stored))
}
