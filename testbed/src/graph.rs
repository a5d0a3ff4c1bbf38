//! Microsoft Graph stand-in: application objects (password end dates).

use crate::crypto;
use crate::entra::now;
use crate::fault::Fault;
use crate::server::{self, json, Listener};
use crate::state::{Principal, PrincipalKind};
use crate::Inner;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json as j, Value};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;

pub(crate) fn router(inner: Arc<Inner>, listener: Listener) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(inner.clone())
        .layer(axum::middleware::from_fn_with_state(
            (inner, listener),
            server::front,
        ))
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let date = time::OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let id = uuid::Uuid::new_v4().to_string();
    json(
        status,
        j!({"error": {"code": code, "message": message,
            "innerError": {"date": date, "request-id": id, "client-request-id": id}}}),
    )
}

fn app_json(p: &Principal, expired: bool) -> Value {
    let fmt = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let past = time::OffsetDateTime::now_utc() - time::Duration::days(2);
    j!({
        "id": p.application_object_id,
        "appId": p.app_id,
        "displayName": p.display_name,
        "passwordCredentials": p.secrets.iter().map(|s| j!({
            "keyId": s.key_id,
            "displayName": s.display_name,
            "hint": s.value.chars().take(3).collect::<String>(),
            "startDateTime": fmt(s.start),
            "endDateTime": fmt(if expired { past } else { s.end }),
            "customKeyIdentifier": null,
            "secretText": null,
        })).collect::<Vec<_>>(),
        "keyCredentials": p.certificates.iter().map(|c| j!({
            "keyId": c.key_id,
            "displayName": "CN=acr-testbed client",
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "customKeyIdentifier": c.sha1.iter().map(|b| format!("{b:02X}")).collect::<String>(),
            "endDateTime": fmt(c.end),
        })).collect::<Vec<_>>(),
    })
}

fn app_id_from(path: &str, query: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .to_string();
    if let Some(rest) = decoded.strip_prefix("/v1.0/applications(appId='") {
        return rest.strip_suffix("')").map(str::to_string);
    }
    if decoded == "/v1.0/applications" {
        let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let filter = params.iter().find(|(k, _)| k == "$filter")?.1.clone();
        let rest = filter.trim().strip_prefix("appId eq '")?;
        return rest.strip_suffix('\'').map(str::to_string);
    }
    None
}

async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::to_string);
    let Some(claims) = bearer.as_deref().and_then(crypto::verify_jwt) else {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty or not valid.",
        );
    };
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    if aud != "https://graph.microsoft.com" && aud != "00000003-0000-0000-c000-000000000000" {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
        );
    }
    if claims.get("exp").and_then(Value::as_i64).unwrap_or(0) < now() {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        );
    }
    if let Some(resp) = crate::aks::graph(&inner, &path, &query, &claims) {
        return resp;
    }
    let Some(app_id) = app_id_from(&path, &query) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            "Resource not found for the segment.",
        );
    };
    let st = inner.state().clone();
    let faults = st.faults_for(None);
    let caller_app = claims.get("appid").and_then(Value::as_str).unwrap_or("");
    let caller_tid = claims.get("tid").and_then(Value::as_str).unwrap_or("");
    let caller_is_user = claims.get("idtyp").and_then(Value::as_str) == Some("user");
    // An app may read its own application object; users of the tenant may read applications.
    let may_read = !faults.contains(&Fault::GraphForbidden)
        && (caller_app.eq_ignore_ascii_case(&app_id) || caller_is_user);
    if !may_read {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let app = st.principals.iter().find(|p| {
        p.kind == PrincipalKind::ServicePrincipal
            && p.app_id.eq_ignore_ascii_case(&app_id)
            && p.tenant.eq_ignore_ascii_case(caller_tid)
    });
    let expired = faults.contains(&Fault::SpSecretExpired);
    let by_filter = path.ends_with("/applications");
    match (app, by_filter) {
        (Some(p), false) => json(StatusCode::OK, app_json(p, expired)),
        (Some(p), true) => json(StatusCode::OK, j!({"value": [app_json(p, expired)]})),
        (None, true) => json(StatusCode::OK, j!({"value": []})),
        (None, false) => graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{app_id}' does not exist or one of its queried reference-property objects are not present."),
        ),
    }
}
