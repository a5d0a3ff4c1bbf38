//! Microsoft Graph, read only: an application by its app ID (its password credentials, for
//! `expiry.timeline`) and a service principal by its app ID (for `aks.identity`). Every call is a
//! GET, and the Graph token goes to the Graph endpoint only, through the trust gate.

use serde_json::Value;

use crate::context::Context;
use crate::model::Cloud;
use crate::redact::Secret;

/// Graph's answer: its status, its body as JSON, and its `Date` header with the local clock when
/// it arrived (for the clock skew).
#[derive(Clone, Debug)]
pub struct GraphAnswer {
    pub status: u16,
    pub json: Option<Value>,
    pub date: Option<(i64, i64)>,
}

/// `{graph}/v1.0/applications(appId='…')`.
pub fn application_url(ctx: &Context, cloud: Cloud, app_id: &str) -> String {
    format!(
        "{}/v1.0/applications(appId='{app_id}')",
        super::entra::graph_endpoint(ctx, cloud)
    )
}

/// `{graph}/v1.0/servicePrincipals(appId='…')`.
pub fn service_principal_url(ctx: &Context, cloud: Cloud, app_id: &str) -> String {
    format!(
        "{}/v1.0/servicePrincipals(appId='{app_id}')",
        super::entra::graph_endpoint(ctx, cloud)
    )
}

/// `GET url?query` with the Graph token. A request that got no answer is an error naming the URL.
pub async fn get(
    ctx: &Context,
    url: &str,
    query: &[(&str, &str)],
    token: &Secret,
) -> Result<GraphAnswer, String> {
    let request = ctx
        .http()
        .get(url)
        .query(query)
        .bearer_auth(token.expose())
        .header("Accept", "application/json");
    let resp = ctx
        .send_credential(crate::trust::Carry::Graph, request)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(GraphAnswer {
        status: resp.status,
        json: resp.json(),
        date: super::entra::date_header(&resp).map(|d| (d, ctx.clock.unix())),
    })
}
