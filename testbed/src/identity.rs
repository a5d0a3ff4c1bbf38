//! Managed identity endpoints (plain HTTP): App Service style `/msi/token` (IDENTITY_ENDPOINT)
//! and the instance metadata service's `/metadata/identity/oauth2/token`.

use crate::entra::{known_resource, mint, now, resource_missing, resource_of};
use crate::fault::Fault;
use crate::server::{self, json, Listener};
use crate::state::PrincipalKind;
use crate::{ids, Inner};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json as j;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn router(inner: Arc<Inner>, listener: Listener) -> Router {
    Router::new()
        .route("/msi/token", get(app_service))
        .route("/metadata/identity/oauth2/token", get(imds))
        .with_state(inner.clone())
        .layer(axum::middleware::from_fn_with_state(
            (inner, listener),
            server::front,
        ))
}

enum Style {
    AppService,
    Imds,
}

fn issue(inner: &Inner, q: &HashMap<String, String>, style: Style) -> Response {
    let st = inner.state().clone();
    let faults = st.faults_for(None);
    let wanted = q
        .get("client_id")
        .or_else(|| q.get("object_id"))
        .or_else(|| q.get("principal_id"))
        .or_else(|| q.get("msi_res_id"))
        .or_else(|| q.get("mi_res_id"));
    let mi = st.principals.iter().find(|p| {
        p.kind == PrincipalKind::ManagedIdentity
            && match wanted {
                None => true,
                Some(w) => {
                    p.matches(w)
                        || (w.eq_ignore_ascii_case(&ids::mi_resource_id()) && p.key == ids::MI)
                }
            }
    });
    let Some(mi) = mi.filter(|_| !faults.contains(&Fault::NoManagedIdentity)) else {
        return match style {
            Style::Imds => json(
                StatusCode::BAD_REQUEST,
                j!({"error": "invalid_request", "error_description": "Identity not found"}),
            ),
            Style::AppService => json(
                StatusCode::BAD_REQUEST,
                j!({"statusCode": 400, "message": "Unable to load the proper Managed Identity.",
                    "correlationId": uuid::Uuid::new_v4().to_string()}),
            ),
        };
    };
    let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
        return json(
            StatusCode::BAD_REQUEST,
            j!({"error": "invalid_request", "error_description": "Required query variable 'resource' is missing"}),
        );
    };
    let aud = resource_of(resource);
    if matches!(style, Style::Imds) && (!known_resource(&aud) || resource_missing(&faults, &aud)) {
        // IMDS passes Entra's refusal on as its documented invalid_resource answer.
        return json(
            StatusCode::BAD_REQUEST,
            j!({"error": "invalid_resource",
                "error_description": format!("AADSTS50001: The application named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", mi.tenant)}),
        );
    }
    let expired = faults.contains(&Fault::ExpiredTokens);
    let Ok(token) = mint(mi, &aud, Duration::from_secs(86399), expired) else {
        return json(
            StatusCode::INTERNAL_SERVER_ERROR,
            j!({"error": "server_error"}),
        );
    };
    let expires_on = if expired { now() - 600 } else { now() + 86399 };
    match style {
        Style::AppService => json(
            StatusCode::OK,
            j!({"access_token": token, "expires_on": expires_on.to_string(), "resource": resource,
                "token_type": "Bearer", "client_id": mi.app_id}),
        ),
        // IMDS answers every number as a string.
        Style::Imds => json(
            StatusCode::OK,
            j!({"access_token": token, "refresh_token": "", "expires_in": "86399", "expires_on": expires_on.to_string(),
                "not_before": now().to_string(), "resource": resource, "token_type": "Bearer", "client_id": mi.app_id}),
        ),
    }
}

async fn app_service(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok())
        != Some(ids::IDENTITY_HEADER)
    {
        // Assumption: the App Service endpoint refuses a missing or wrong secret header with 401.
        return json(
            StatusCode::UNAUTHORIZED,
            j!({"statusCode": 401, "message": "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER."}),
        );
    }
    issue(&inner, &q, Style::AppService)
}

async fn imds(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !headers
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return json(
            StatusCode::BAD_REQUEST,
            j!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
        );
    }
    if !q.contains_key("api-version") {
        return json(
            StatusCode::BAD_REQUEST,
            j!({"error": "invalid_request", "error_description": "Required query variable 'api-version' is missing"}),
        );
    }
    issue(&inner, &q, Style::Imds)
}
