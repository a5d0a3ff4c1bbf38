//! How the credential sources get Microsoft Entra tokens: the client side of
//! `identity.credential`'s sources (a service principal with a secret or a certificate, workload
//! identity, managed identity, the Azure CLI). These return tokens and errors, never findings;
//! `checks::identity::sources` turns them into a credential or a diagnosis.

use crate::azure::cli_token::{CliError, CliToken};
use crate::azure::entra::{self, ClientAuth, ClientCertificate, EntraError, EntraToken};
use crate::context::Context;

/// The tokens an Entra source gives: the registry's, ARM's and (service principals) Graph's.
pub struct EntraSet {
    pub acr: Result<EntraToken, EntraError>,
    pub arm: Result<EntraToken, EntraError>,
    pub graph: Option<Result<EntraToken, EntraError>>,
}

/// The application a service principal or a workload identity signs in as.
pub struct App<'a> {
    pub authority: &'a str,
    pub tenant: &'a str,
    pub client: &'a str,
}

impl App<'_> {
    /// Tokens for the registry, ARM and Graph, requested at once; each request has its own
    /// client authentication (a signed client assertion is used once).
    pub async fn tokens(
        &self,
        ctx: &Context,
        acr: (&ClientAuth, &str),
        arm: (&ClientAuth, &str),
        graph: (&ClientAuth, &str),
    ) -> EntraSet {
        let (acr, arm, graph) = futures::join!(
            entra::client_credentials(ctx, self.authority, self.tenant, self.client, acr.0, acr.1),
            entra::client_credentials(ctx, self.authority, self.tenant, self.client, arm.0, arm.1),
            entra::client_credentials(
                ctx,
                self.authority,
                self.tenant,
                self.client,
                graph.0,
                graph.1
            ),
        );
        EntraSet {
            acr,
            arm,
            graph: Some(graph),
        }
    }

    /// Tokens for the registry and ARM only, requested at once (no Graph token is asked for).
    pub async fn tokens_without_graph(
        &self,
        ctx: &Context,
        auth: &ClientAuth,
        acr_aud: &str,
        arm_aud: &str,
    ) -> EntraSet {
        let (acr, arm) = futures::join!(
            entra::client_credentials(ctx, self.authority, self.tenant, self.client, auth, acr_aud),
            entra::client_credentials(ctx, self.authority, self.tenant, self.client, auth, arm_aud),
        );
        EntraSet {
            acr,
            arm,
            graph: None,
        }
    }
}

/// Three client assertions signed with `cert` for `audience` (one per token request), each
/// registered with the run's redactor; the first signing error stops.
pub fn sign_assertions(
    ctx: &Context,
    cert: &ClientCertificate,
    audience: &str,
    client: &str,
    now: i64,
) -> Result<Vec<ClientAuth>, String> {
    let mut assertions = Vec::new();
    for _ in 0..3 {
        let a = cert.assertion(audience, client, now)?;
        ctx.redactor.register_secret(&a);
        assertions.push(ClientAuth::Assertion(a));
    }
    Ok(assertions)
}

/// An Azure CLI token as an Entra answer; the CLI's error becomes a status error naming the
/// command.
pub fn cli_as_entra(r: Result<CliToken, CliError>) -> Result<EntraToken, EntraError> {
    r.map(|t| t.token).map_err(|e| EntraError::Status {
        url: "az account get-access-token".into(),
        status: 0,
        message: e.to_string(),
    })
}

/// A small text file (a federated token): at most 64 KiB, not blank.
pub fn read_small(path: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > 64 * 1024 {
        return Err("larger than 64 KiB".into());
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    Ok(text)
}

/// Whether a managed identity endpoint's answer says it has no such identity: the instance
/// metadata service's 400 `invalid_request` "Identity not found", or App Service's 400 "Unable
/// to load the proper Managed Identity.". The status and the endpoint's words.
pub fn identity_not_found(e: &EntraError) -> Option<(u16, String)> {
    let (status, said) = match e {
        EntraError::Aad(a) if a.codes.is_empty() => (a.status, a.description.clone()),
        EntraError::Status {
            status, message, ..
        } => (*status, message.clone()),
        _ => return None,
    };
    let lower = said.to_ascii_lowercase();
    let not_found = lower.contains("identity not found")
        || lower.contains("unable to load the proper managed identity");
    ((400..500).contains(&status) && not_found).then_some((status, said))
}
