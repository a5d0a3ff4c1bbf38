//! Azure Resource Manager stand-in: subscriptions, registries (and their tokens, scope maps,
//! credentials, private endpoints), role assignments/definitions and effective permissions.

use crate::crypto;
use crate::entra::now;
use crate::fault::Fault;
use crate::perms::{self, scope_covers};
use crate::server::{self, json, Listener};
use crate::state::{BedState, Registry};
use crate::{ids, Inner};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
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

pub(crate) fn arm_error(status: StatusCode, code: &str, message: &str) -> Response {
    json(status, j!({"error": {"code": code, "message": message}}))
}

pub(crate) struct Caller {
    pub(crate) oid: String,
    tid: String,
    /// UPN for users, appid for applications (as ARM names the client).
    name: String,
}

const ARM_AUDIENCES: [&str; 2] = [
    "https://management.azure.com",
    "https://management.core.windows.net",
];

#[allow(clippy::result_large_err)]
fn authenticate(req: &Request) -> Result<Caller, Response> {
    let Some(auth) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
        .unwrap_or("");
    let Some(c) = crypto::verify_jwt(token) else {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ));
    };
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let aud = s("aud");
    if !ARM_AUDIENCES.contains(&aud.trim_end_matches('/').to_ascii_lowercase().as_str()) {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            &format!("The access token was issued for the audience or resource '{aud}', which is not one of the audiences this service accepts ('https://management.azure.com/', 'https://management.core.windows.net/')."),
        ));
    }
    let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp < now() {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "ExpiredAuthenticationToken",
            "The access token expiry time is earlier than the current time.",
        ));
    }
    let name = c
        .get("upn")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| s("appid"));
    Ok(Caller {
        oid: s("oid"),
        tid: s("tid"),
        name,
    })
}

pub(crate) fn forbidden(caller: &Caller, action: &str, scope: &str) -> Response {
    arm_error(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        &format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.name, caller.oid
        ),
    )
}

fn fmt(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn created() -> String {
    "2024-01-15T09:30:00.0000000Z".into()
}

fn pe_id(r: &Registry) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/privateEndpoints/pe-{}",
        r.subscription, r.resource_group, r.name
    )
}

fn nic_id(r: &Registry) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkInterfaces/pe-{}.nic",
        r.subscription, r.resource_group, r.name
    )
}

/// Client id of the CMK identity when `cmk-identity-missing` is active: no identity of the registry.
const MISSING_IDENTITY_CLIENT_ID: &str = "dead0000-0000-4000-8000-00000000d001";

fn pec_json(r: &Registry) -> Value {
    j!({
        "id": format!("{}/privateEndpointConnections/pe-{}.conn", r.id(), r.name),
        "name": format!("pe-{}.conn", r.name),
        "type": "Microsoft.ContainerRegistry/registries/privateEndpointConnections",
        "properties": {
            "privateEndpoint": {"id": pe_id(r)},
            "privateLinkServiceConnectionState": {"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"},
            "provisioningState": "Succeeded",
        }
    })
}

fn registry_json(r: &Registry, faults: &[Fault]) -> Value {
    let mut identity = Value::Null;
    let mut encryption = j!({"status": "disabled"});
    if r.cmk {
        identity = j!({
            "type": "UserAssigned",
            "userAssignedIdentities": {ids::mi_resource_id(): {"principalId": ids::MI_OBJECT_ID, "clientId": ids::MI_CLIENT_ID}},
        });
        let key_identity = if faults.contains(&Fault::CmkIdentityMissing) {
            MISSING_IDENTITY_CLIENT_ID
        } else {
            ids::MI_CLIENT_ID
        };
        encryption = j!({
            "status": "enabled",
            "keyVaultProperties": {
                "identity": key_identity,
                "keyIdentifier": "https://kv-acr-test.vault.azure.net/keys/acr-cmk",
                "versionedKeyIdentifier": "https://kv-acr-test.vault.azure.net/keys/acr-cmk/0123456789abcdef0123456789abcdef",
                "keyRotationEnabled": true,
            }
        });
    }
    let mut v = j!({
        "sku": {"name": r.sku, "tier": r.sku},
        "type": "Microsoft.ContainerRegistry/registries",
        "id": r.id(),
        "name": r.name,
        "location": r.location,
        "tags": {},
        "properties": {
            "loginServer": r.login_server(),
            "creationDate": created(),
            "provisioningState": "Succeeded",
            "adminUserEnabled": r.admin_user_enabled,
            "networkRuleSet": {
                "defaultAction": if r.network_default_deny { "Deny" } else { "Allow" },
                "ipRules": r.ip_rules.iter().map(|ip| j!({"action": "Allow", "value": ip})).collect::<Vec<_>>(),
            },
            "policies": {
                "quarantinePolicy": {"status": "disabled"},
                "trustPolicy": {"type": "Notary", "status": "disabled"},
                "retentionPolicy": {"days": 7, "status": "disabled"},
                "exportPolicy": {"status": "enabled"},
                "azureADAuthenticationAsArmPolicy": {"status": if r.arm_audience_allowed { "enabled" } else { "disabled" }},
                "softDeletePolicy": {"retentionDays": 7, "status": "disabled"},
            },
            "encryption": encryption,
            "dataEndpointEnabled": r.data_endpoint_enabled,
            "dataEndpointHostNames": if r.data_endpoint_enabled { vec![r.data_endpoint_host()] } else { Vec::new() },
            "privateEndpointConnections": if r.private_endpoint { vec![pec_json(r)] } else { Vec::new() },
            "publicNetworkAccess": if r.public_network_access { "Enabled" } else { "Disabled" },
            "networkRuleBypassOptions": "AzureServices",
            "zoneRedundancy": "Disabled",
            "anonymousPullEnabled": r.anonymous_pull,
            "roleAssignmentMode": r.role_assignment_mode.as_arm(),
        }
    });
    if !identity.is_null() {
        if let Value::Object(m) = &mut v {
            m.insert("identity".into(), identity);
        }
    }
    v
}

fn token_json(r: &Registry, t: &crate::RepoToken) -> Value {
    j!({
        "id": format!("{}/tokens/{}", r.id(), t.name),
        "name": t.name,
        "type": "Microsoft.ContainerRegistry/registries/tokens",
        "properties": {
            "creationDate": created(),
            "provisioningState": "Succeeded",
            "scopeMapId": format!("{}/scopeMaps/{}", r.id(), t.scope_map),
            "credentials": {
                "certificates": [],
                "passwords": t.passwords.iter().map(|p| {
                    let mut v = j!({"name": p.name, "creationTime": fmt(p.creation_time)});
                    if let (Some(e), Value::Object(m)) = (p.expiry, &mut v) {
                        m.insert("expiry".into(), fmt(e).into());
                    }
                    v
                }).collect::<Vec<_>>(),
            },
            "status": if t.enabled { "enabled" } else { "disabled" },
        }
    })
}

fn scope_map_json(r: &Registry, t: &crate::RepoToken) -> Value {
    j!({
        "id": format!("{}/scopeMaps/{}", r.id(), t.scope_map),
        "name": t.scope_map,
        "type": "Microsoft.ContainerRegistry/registries/scopeMaps",
        "properties": {"description": "", "type": "UserDefined", "creationDate": created(), "provisioningState": "Succeeded", "actions": t.actions},
    })
}

fn role_definition_json(st: &BedState, d: &crate::RoleDefinition) -> Value {
    j!({
        "id": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}", st.subscription, d.id),
        "name": d.id,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": d.name,
            "type": "BuiltInRole",
            "description": d.description,
            "assignableScopes": ["/"],
            "permissions": [{"actions": d.actions, "notActions": d.not_actions, "dataActions": d.data_actions, "notDataActions": d.not_data_actions}],
            "createdOn": "2018-01-01T00:00:00.0000000Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
        }
    })
}

fn assignment_json(st: &BedState, a: &crate::RoleAssignment) -> Value {
    j!({
        "id": format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", a.scope, a.id),
        "name": a.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}", st.subscription, a.role_definition_id),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": a.condition,
            "conditionVersion": a.condition_version,
            "createdOn": "2024-02-01T10:00:00.0000000Z",
            "updatedOn": "2024-02-01T10:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null,
            "delegatedManagedIdentityResourceId": null,
            "description": null,
        }
    })
}

fn query_param(q: &[(String, String)], k: &str) -> Option<String> {
    q.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(k))
        .map(|(_, v)| v.clone())
}

fn quoted(s: &str, prefix: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let i = lower.find(&prefix.to_ascii_lowercase())?;
    let rest = &s[i + prefix.len()..];
    let end = rest.find('\'')?;
    Some(rest[..end].to_string())
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let caller = match authenticate(&req) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    if query_param(&query, "api-version").is_none() {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    let method = req.method().clone();
    let path = percent_encoding::percent_decode_str(req.uri().path())
        .decode_utf8_lossy()
        .trim_end_matches('/')
        .to_string();
    let st = inner.state().clone();

    // Authorization provider paths: {scope}/providers/Microsoft.Authorization/...
    if let Some(i) = path
        .to_ascii_lowercase()
        .find("/providers/microsoft.authorization/")
    {
        let scope = path[..i].to_string();
        let rest: Vec<&str> = path[i + "/providers/microsoft.authorization/".len()..]
            .split('/')
            .collect();
        if !scope.is_empty()
            && !eq(&caller.tid, ids::TENANT)
            && scope.to_ascii_lowercase().starts_with("/subscriptions/")
        {
            return wrong_tenant(&caller);
        }
        return authorization(&st, &caller, &scope, &rest, &query);
    }

    let seg: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if seg.is_empty() || !eq(seg[0], "subscriptions") {
        return arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The requested path is not served by this test ARM.",
        );
    }
    if seg.len() == 1 {
        let visible = st
            .assignments
            .iter()
            .any(|a| a.principal_id.eq_ignore_ascii_case(&caller.oid))
            && eq(&caller.tid, ids::TENANT);
        let value: Vec<Value> = if visible {
            vec![subscription_json(&st)]
        } else {
            Vec::new()
        };
        return json(
            StatusCode::OK,
            j!({"value": value, "count": {"type": "Total", "value": value.len()}}),
        );
    }
    let sub = seg[1];
    if !eq(sub, &st.subscription) {
        return arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        );
    }
    if !eq(&caller.tid, ids::TENANT) {
        return wrong_tenant(&caller);
    }
    let sub_scope = format!("/subscriptions/{}", st.subscription);
    if let Some(resp) = crate::aks::route(&st, &caller, &seg[2..]) {
        return resp;
    }
    let any_here = st
        .assignments
        .iter()
        .any(|a| a.principal_id.eq_ignore_ascii_case(&caller.oid));
    match &seg[2..] {
        [] => {
            if any_here {
                json(StatusCode::OK, subscription_json(&st))
            } else {
                arm_error(
                    StatusCode::NOT_FOUND,
                    "SubscriptionNotFound",
                    &format!("The subscription '{sub}' could not be found."),
                )
            }
        }
        [res] if eq(res, "resources") => {
            let filter = query_param(&query, "$filter").unwrap_or_default();
            let regs = readable_registries(&st, &caller, None)
                .into_iter()
                .filter(|_| filter.is_empty() || filter.to_ascii_lowercase().contains("microsoft.containerregistry/registries"))
                .filter(|r| quoted(&filter, "name eq '").is_none_or(|n| eq(&n, &r.name)))
                .map(|r| j!({"id": r.id(), "name": r.name, "type": "Microsoft.ContainerRegistry/registries", "location": r.location, "sku": {"name": r.sku, "tier": r.sku}}))
                .collect::<Vec<_>>();
            json(StatusCode::OK, j!({"value": regs}))
        }
        [p, ns, t]
            if eq(p, "providers")
                && eq(ns, "Microsoft.ContainerRegistry")
                && eq(t, "registries") =>
        {
            let value: Vec<Value> = readable_registries(&st, &caller, None)
                .iter()
                .map(|r| registry_json(r, &st.faults_for(Some(&r.name))))
                .collect();
            json(StatusCode::OK, j!({"value": value}))
        }
        [g, rg] if eq(g, "resourceGroups") => {
            let scope = format!("{sub_scope}/resourceGroups/{rg}");
            let known = eq(rg, ids::RESOURCE_GROUP)
                || st.registries.iter().any(|r| eq(&r.resource_group, rg));
            if !known {
                return arm_error(
                    StatusCode::NOT_FOUND,
                    "ResourceGroupNotFound",
                    &format!("Resource group '{rg}' could not be found."),
                );
            }
            let action = "Microsoft.Resources/subscriptions/resourceGroups/read";
            if !perms::arm_allowed(&st, &caller.oid, &scope, action) {
                return forbidden(&caller, action, &scope);
            }
            json(
                StatusCode::OK,
                j!({"id": scope, "name": rg, "type": "Microsoft.Resources/resourceGroups", "location": ids::LOCATION, "properties": {"provisioningState": "Succeeded"}}),
            )
        }
        [g, rg, p, ns, t]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, "Microsoft.ContainerRegistry")
                && eq(t, "registries") =>
        {
            let value: Vec<Value> = readable_registries(&st, &caller, Some(rg))
                .iter()
                .map(|r| registry_json(r, &st.faults_for(Some(&r.name))))
                .collect();
            json(StatusCode::OK, j!({"value": value}))
        }
        [g, rg, p, ns, t, name, rest @ ..]
            if eq(g, "resourceGroups")
                && eq(p, "providers")
                && eq(ns, "Microsoft.ContainerRegistry")
                && eq(t, "registries") =>
        {
            registry_paths(&st, &caller, &method, rg, name, rest)
        }
        [g, rg, p, ns, kind, name]
            if eq(g, "resourceGroups") && eq(p, "providers") && eq(ns, "Microsoft.Network") =>
        {
            network(&st, &caller, rg, kind, name)
        }
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The requested path is not served by this test ARM.",
        ),
    }
}

fn wrong_tenant(caller: &Caller) -> Response {
    arm_error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationTokenTenant",
        &format!(
            "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription.",
            caller.tid,
            ids::TENANT
        ),
    )
}

fn subscription_json(st: &BedState) -> Value {
    j!({
        "id": format!("/subscriptions/{}", st.subscription),
        "subscriptionId": st.subscription,
        "tenantId": ids::TENANT,
        "displayName": ids::SUBSCRIPTION_NAME,
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
        "authorizationSource": "RoleBased",
    })
}

const REGISTRY_READ: &str = "Microsoft.ContainerRegistry/registries/read";

fn can(st: &BedState, caller: &Caller, r: &Registry, action: &str) -> bool {
    !st.faults_for(Some(&r.name)).contains(&Fault::ArmForbidden)
        && perms::arm_allowed(st, &caller.oid, &r.id(), action)
}

fn readable_registries(st: &BedState, caller: &Caller, rg: Option<&str>) -> Vec<Registry> {
    st.registries
        .iter()
        .filter(|r| eq(&r.subscription, &st.subscription))
        .filter(|r| rg.is_none_or(|g| eq(&r.resource_group, g)))
        .filter(|r| can(st, caller, r, REGISTRY_READ))
        .map(|r| r.effective(&st.faults_for(Some(&r.name))))
        .collect()
}

fn registry_paths(
    st: &BedState,
    caller: &Caller,
    method: &Method,
    rg: &str,
    name: &str,
    rest: &[&str],
) -> Response {
    let Some(raw) = st
        .registries
        .iter()
        .find(|r| eq(&r.name, name) && eq(&r.resource_group, rg))
    else {
        return arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The Resource 'Microsoft.ContainerRegistry/registries/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
        );
    };
    let faults = st.faults_for(Some(&raw.name));
    let r = raw.effective(&faults);
    let need = |action: &str| -> Option<Response> {
        if can(st, caller, raw, action) {
            None
        } else {
            Some(forbidden(caller, action, &r.id()))
        }
    };
    match rest {
        [] if method == Method::GET => need(REGISTRY_READ).unwrap_or_else(|| json(StatusCode::OK, registry_json(&r, &faults))),
        [op] if eq(op, "listCredentials") && method == Method::POST => {
            if let Some(resp) = need("Microsoft.ContainerRegistry/registries/listCredentials/action") {
                return resp;
            }
            if !r.admin_user_enabled {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "UnAuthorizedForCredentialOperations",
                    &format!("Credential operations are not possible for {} because its admin user is disabled. Enable the admin user first (see the admin account section of the ACR authentication docs).", r.id()),
                );
            }
            json(
                StatusCode::OK,
                j!({"username": r.name, "passwords": [{"name": "password", "value": r.admin_passwords[0]}, {"name": "password2", "value": r.admin_passwords[1]}]}),
            )
        }
        [t] if eq(t, "tokens") => need("Microsoft.ContainerRegistry/registries/tokens/read")
            .unwrap_or_else(|| json(StatusCode::OK, j!({"value": r.tokens.iter().map(|t| token_json(&r, t)).collect::<Vec<_>>()}))),
        [t, tn] if eq(t, "tokens") => need("Microsoft.ContainerRegistry/registries/tokens/read").unwrap_or_else(|| {
            match r.tokens.iter().find(|t| eq(&t.name, tn)) {
                Some(t) => json(StatusCode::OK, token_json(&r, t)),
                None => not_found(&format!("Microsoft.ContainerRegistry/registries/{}/tokens/{tn}", r.name), rg),
            }
        }),
        [s] if eq(s, "scopeMaps") => need("Microsoft.ContainerRegistry/registries/scopeMaps/read")
            .unwrap_or_else(|| json(StatusCode::OK, j!({"value": r.tokens.iter().map(|t| scope_map_json(&r, t)).collect::<Vec<_>>()}))),
        [s, sn] if eq(s, "scopeMaps") => need("Microsoft.ContainerRegistry/registries/scopeMaps/read").unwrap_or_else(|| {
            match r.tokens.iter().find(|t| eq(&t.scope_map, sn)) {
                Some(t) => json(StatusCode::OK, scope_map_json(&r, t)),
                None => not_found(&format!("Microsoft.ContainerRegistry/registries/{}/scopeMaps/{sn}", r.name), rg),
            }
        }),
        [p] if eq(p, "privateEndpointConnections") => need("Microsoft.ContainerRegistry/registries/privateEndpointConnections/read")
            .unwrap_or_else(|| {
                let v: Vec<Value> = if r.private_endpoint { vec![pec_json(&r)] } else { Vec::new() };
                json(StatusCode::OK, j!({"value": v}))
            }),
        _ => arm_error(StatusCode::NOT_FOUND, "NotFound", "The requested path is not served by this test ARM."),
    }
}

pub(crate) fn not_found(what: &str, rg: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("The Resource '{what}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
    )
}

/// Private endpoint and NIC of registries with a private endpoint (addresses are data only).
fn network(st: &BedState, caller: &Caller, rg: &str, kind: &str, name: &str) -> Response {
    let regs: Vec<Registry> = st
        .registries
        .iter()
        .map(|r| r.effective(&st.faults_for(Some(&r.name))))
        .filter(|r| r.private_endpoint && eq(&r.resource_group, rg))
        .collect();
    if eq(kind, "privateEndpoints") {
        let Some(r) = regs.iter().find(|r| eq(&format!("pe-{}", r.name), name)) else {
            return not_found(&format!("Microsoft.Network/privateEndpoints/{name}"), rg);
        };
        let action = "Microsoft.Network/privateEndpoints/read";
        if !perms::arm_allowed(st, &caller.oid, &pe_id(r), action) {
            return forbidden(caller, action, &pe_id(r));
        }
        return json(
            StatusCode::OK,
            j!({
                "id": pe_id(r), "name": format!("pe-{}", r.name), "type": "Microsoft.Network/privateEndpoints", "location": r.location,
                "properties": {
                    "provisioningState": "Succeeded",
                    "subnet": {"id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/vnet-test/subnets/default", r.subscription, r.resource_group)},
                    "networkInterfaces": [{"id": nic_id(r)}],
                    "privateLinkServiceConnections": [{"name": format!("pe-{}", r.name), "properties": {"privateLinkServiceId": r.id(), "groupIds": ["registry"], "privateLinkServiceConnectionState": {"status": "Approved"}}}],
                    "customDnsConfigs": [
                        {"fqdn": r.login_server(), "ipAddresses": ["10.0.0.5"]},
                        {"fqdn": r.data_endpoint_host(), "ipAddresses": ["10.0.0.6"]},
                    ],
                }
            }),
        );
    }
    if eq(kind, "networkInterfaces") {
        let Some(r) = regs
            .iter()
            .find(|r| eq(&format!("pe-{}.nic", r.name), name))
        else {
            return not_found(&format!("Microsoft.Network/networkInterfaces/{name}"), rg);
        };
        let action = "Microsoft.Network/networkInterfaces/read";
        if !perms::arm_allowed(st, &caller.oid, &nic_id(r), action) {
            return forbidden(caller, action, &nic_id(r));
        }
        return json(
            StatusCode::OK,
            j!({
                "id": nic_id(r), "name": format!("pe-{}.nic", r.name), "type": "Microsoft.Network/networkInterfaces", "location": r.location,
                "properties": {"ipConfigurations": [
                    {"name": "privateEndpointIpConfig.registry", "properties": {"privateIPAddress": "10.0.0.5", "privateIPAllocationMethod": "Dynamic",
                        "privateLinkConnectionProperties": {"groupId": "registry", "requiredMemberName": "registry", "fqdns": [r.login_server()]}}},
                    {"name": "privateEndpointIpConfig.data", "properties": {"privateIPAddress": "10.0.0.6", "privateIPAllocationMethod": "Dynamic",
                        "privateLinkConnectionProperties": {"groupId": "registry", "requiredMemberName": format!("registry_data_{}", r.location), "fqdns": [r.data_endpoint_host()]}}},
                ]}
            }),
        );
    }
    arm_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "The requested path is not served by this test ARM.",
    )
}

/// Whether a scope string names a registry under arm-forbidden.
fn scope_forbidden(st: &BedState, scope: &str) -> bool {
    st.registries.iter().any(|r| {
        scope_covers(&r.id(), scope) && st.faults_for(Some(&r.name)).contains(&Fault::ArmForbidden)
    })
}

fn authorization(
    st: &BedState,
    caller: &Caller,
    scope: &str,
    rest: &[&str],
    query: &[(String, String)],
) -> Response {
    match rest {
        [ra] if eq(ra, "roleAssignments") => {
            let action = "Microsoft.Authorization/roleAssignments/read";
            if scope_forbidden(st, scope) || !perms::arm_allowed(st, &caller.oid, scope, action) {
                return forbidden(caller, action, scope);
            }
            let filter = query_param(query, "$filter").unwrap_or_default();
            let at_scope = filter.to_ascii_lowercase().contains("atscope()");
            let principal =
                quoted(&filter, "principalId eq '").or_else(|| quoted(&filter, "assignedTo('"));
            let value: Vec<Value> = st
                .assignments
                .iter()
                .filter(|a| {
                    // atScope(): at the scope or above; otherwise also below it.
                    scope_covers(&a.scope, scope) || (!at_scope && scope_covers(scope, &a.scope))
                })
                .filter(|a| principal.as_deref().is_none_or(|p| eq(p, &a.principal_id)))
                .filter(|a| !crate::aks::hides_assignment(st, a))
                .map(|a| assignment_json(st, a))
                .collect();
            json(StatusCode::OK, j!({"value": value}))
        }
        [rd] if eq(rd, "roleDefinitions") => {
            // Assumption: any signed-in caller may read role definitions.
            let filter = query_param(query, "$filter").unwrap_or_default();
            let by_name = quoted(&filter, "roleName eq '");
            let value: Vec<Value> = st
                .role_definitions
                .iter()
                .filter(|d| by_name.as_deref().is_none_or(|n| eq(n, &d.name)))
                .map(|d| role_definition_json(st, d))
                .collect();
            json(StatusCode::OK, j!({"value": value}))
        }
        [rd, id] if eq(rd, "roleDefinitions") => {
            match st.role_definitions.iter().find(|d| eq(&d.id, id)) {
                Some(d) => json(StatusCode::OK, role_definition_json(st, d)),
                None => arm_error(
                    StatusCode::NOT_FOUND,
                    "RoleDefinitionDoesNotExist",
                    "The specified role definition with ID does not exist.",
                ),
            }
        }
        [p] if eq(p, "permissions") => {
            let value: Vec<Value> = if scope_forbidden(st, scope) {
                Vec::new()
            } else {
                perms::assignments_at(st, &caller.oid, scope)
                    .iter()
                    .map(|(_, d)| j!({"actions": d.actions, "notActions": d.not_actions, "dataActions": d.data_actions, "notDataActions": d.not_data_actions}))
                    .collect()
            };
            json(StatusCode::OK, j!({"value": value}))
        }
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The requested path is not served by this test ARM.",
        ),
    }
}
