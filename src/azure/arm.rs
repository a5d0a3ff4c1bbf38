//! Azure Resource Manager: the registry resource and the calls around it. Read-only.

use serde_json::Value;

use crate::context::Context;
use crate::http::HttpError;
use crate::model::{ArmRegistry, Cloud};
use crate::redact::Secret;

/// Registries: a version whose resource carries `roleAssignmentMode` (the ABAC setting).
pub const REGISTRY_API_VERSION: &str = "2025-03-01-preview";
/// `GET /subscriptions/{id}/resources` with a `$filter`.
pub const RESOURCES_API_VERSION: &str = "2021-04-01";
/// `GET /subscriptions`.
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
/// Role assignments, role definitions and permissions.
pub const AUTHORIZATION_API_VERSION: &str = "2022-04-01";

/// Most pages followed through `nextLink` for one listing.
const MAX_PAGES: usize = 20;

/// The ARM endpoint: `ACR_DOCTOR_ARM_ENDPOINT`, else the cloud's.
pub fn endpoint(ctx: &Context, cloud: Cloud) -> String {
    ctx.env("ACR_DOCTOR_ARM_ENDPOINT")
        .unwrap_or(cloud.arm())
        .trim_end_matches('/')
        .to_string()
}

/// Why an ARM call gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArmError {
    #[error("{0}")]
    Http(HttpError),
    /// ARM answered with an error status and (usually) an `{"error":{"code","message"}}` body.
    #[error("{status} {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
        url: String,
    },
    #[error("the answer from {0} is not the JSON ARM sends")]
    BadBody(String),
}

impl ArmError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// ARM's error code (`AuthorizationFailed`, `InvalidAuthenticationToken`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            ArmError::Status { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The caller is not allowed (403, or 401 from a token of the wrong tenant).
    pub fn is_denied(&self) -> bool {
        match self {
            ArmError::Status { status: 403, .. } => true,
            ArmError::Status {
                status: 401, code, ..
            } => code.eq_ignore_ascii_case("InvalidAuthenticationTokenTenant"),
            _ => false,
        }
    }
}

/// A small ARM client bound to one token.
#[derive(Clone)]
pub struct Arm<'a> {
    ctx: &'a Context,
    endpoint: String,
    token: Secret,
}

impl<'a> Arm<'a> {
    pub fn new(ctx: &'a Context, endpoint: impl Into<String>, token: Secret) -> Self {
        ctx.redactor.register(token.expose());
        Arm {
            ctx,
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            token,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The run's context, for work shared within a run.
    pub fn ctx(&self) -> &'a Context {
        self.ctx
    }

    /// Who calls, for keys of work shared within a run: the token's object id, else a digest
    /// of the token (kept in memory only, never shown).
    pub(crate) fn caller(&self) -> String {
        let oid = crate::redact::jwt_claims(self.token.expose())
            .and_then(|c| c.get("oid").and_then(Value::as_str).map(str::to_string));
        oid.unwrap_or_else(|| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            self.token.expose().hash(&mut h);
            format!("{:016x}", h.finish())
        })
    }

    /// `GET {endpoint}{path}` with `api-version` and extra query pairs; JSON or an error.
    pub async fn get(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, ArmError> {
        let url = format!("{}{}", self.endpoint, path);
        let mut pairs: Vec<(&str, &str)> = vec![("api-version", api_version)];
        pairs.extend_from_slice(query);
        let request = self.ctx.http().get(&url).query(&pairs);
        self.fetch(request).await
    }

    async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<Value, ArmError> {
        let request = request
            .bearer_auth(self.token.expose())
            .header("Accept", "application/json");
        let response = self
            .ctx
            .send_credential(crate::trust::Carry::Arm, request)
            .await
            .map_err(ArmError::Http)?;
        let json = response.json();
        if !(200..300).contains(&response.status) {
            let error = json.as_ref().and_then(|j| j.get("error"));
            let field = |k: &str| {
                error
                    .and_then(|e| e.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let mut message = field("message");
            if message.is_empty() {
                message = response.text().chars().take(300).collect();
            }
            return Err(ArmError::Status {
                status: response.status,
                code: field("code"),
                message,
                url: strip_query(&response.url),
            });
        }
        json.ok_or_else(|| ArmError::BadBody(strip_query(&response.url)))
    }

    /// Every item of a listing, following `nextLink` on the same endpoint only.
    pub async fn list(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, ArmError> {
        let mut page = self.get(path, api_version, query).await?;
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            if let Some(values) = page.get("value").and_then(Value::as_array) {
                items.extend(values.iter().cloned());
            }
            let Some(next) = page.get("nextLink").and_then(Value::as_str) else {
                break;
            };
            // Never send the token anywhere but the ARM endpoint.
            if !next.starts_with(&format!("{}/", self.endpoint)) {
                break;
            }
            page = self.fetch(self.ctx.http().get(next)).await?;
        }
        Ok(items)
    }

    /// Subscription ids the token can see.
    pub async fn subscriptions(&self) -> Result<Vec<String>, ArmError> {
        let items = self
            .list("/subscriptions", SUBSCRIPTIONS_API_VERSION, &[])
            .await?;
        Ok(items
            .iter()
            .filter_map(|s| s.get("subscriptionId").and_then(Value::as_str))
            .map(str::to_string)
            .collect())
    }

    /// Finds a registry by name: in `subscription` when given, else in every visible subscription.
    /// `Ok(None)` when no visible subscription holds it.
    ///
    /// One request per subscription: the subscription's registry listing carries every
    /// registry's full resource (properties included), so no second read by id is needed. The
    /// listing is shared by every registry of a fleet run. When the listing gives no usable
    /// answer (a body over the size cap, say) the search falls back to a `resources?$filter`
    /// lookup by name and a read by id.
    pub async fn find_registry(
        &self,
        name: &str,
        subscriptions: &[String],
    ) -> Result<Option<ArmRegistry>, ArmError> {
        let mut first_error = None;
        for sub in subscriptions {
            let found = match self.registries_in(sub).await {
                Ok(list) => Ok(list.into_iter().find(|r| r.name.eq_ignore_ascii_case(name))),
                Err(e) if e.is_denied() || e.status() == Some(404) => Err(e),
                Err(_) => self.find_by_filter(name, sub).await,
            };
            match found {
                Ok(Some(registry)) => return Ok(Some(registry)),
                Ok(None) => {}
                Err(e) => {
                    if subscriptions.len() == 1 {
                        return Err(e);
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Every registry of a subscription the caller can read, once per run and caller (the
    /// credential under test, or another identity reading the settings for it: each sees what
    /// its own roles allow).
    pub async fn registries_in(&self, subscription: &str) -> Result<Vec<ArmRegistry>, ArmError> {
        let key = format!(
            "arm:registries:{}:{}:{}",
            self.endpoint,
            subscription.to_ascii_lowercase(),
            self.caller()
        );
        let path = format!(
            "/subscriptions/{subscription}/providers/Microsoft.ContainerRegistry/registries"
        );
        self.ctx
            .once(&key, || async {
                let items = self.list(&path, REGISTRY_API_VERSION, &[]).await?;
                Ok(items.into_iter().map(|r| registry_from(r, "")).collect())
            })
            .await
    }

    /// The older two-step search: `resources?$filter=name eq` in one subscription, then a read by id.
    async fn find_by_filter(
        &self,
        name: &str,
        subscription: &str,
    ) -> Result<Option<ArmRegistry>, ArmError> {
        let filter = format!(
            "resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq '{}'",
            name.replace('\'', "")
        );
        let path = format!("/subscriptions/{subscription}/resources");
        let found = self
            .list(&path, RESOURCES_API_VERSION, &[("$filter", &filter)])
            .await?;
        let id = found.iter().find_map(|r| {
            let n = r.get("name").and_then(Value::as_str)?;
            n.eq_ignore_ascii_case(name)
                .then(|| r.get("id").and_then(Value::as_str))
                .flatten()
        });
        match id {
            Some(id) => self.registry(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Reads the registry resource by id.
    pub async fn registry(&self, id: &str) -> Result<ArmRegistry, ArmError> {
        let resource = self.get(id, REGISTRY_API_VERSION, &[]).await?;
        Ok(registry_from(resource, id))
    }
}

/// A registry resource as ARM returns it (`id` falls back to `id_hint` when absent).
fn registry_from(resource: Value, id_hint: &str) -> ArmRegistry {
    let rid = resource
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(id_hint)
        .to_string();
    let parts = ResourceId::parse(&rid);
    ArmRegistry {
        subscription: parts.subscription.unwrap_or_default(),
        resource_group: parts.resource_group.unwrap_or_default(),
        name: resource
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(parts.name)
            .unwrap_or_default(),
        id: rid,
        resource,
    }
}

/// The Azure CLI's default subscription (`isDefault` in `azureProfile.json`), when readable.
pub fn cli_default_subscription(
    env: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let path = crate::azure::cli_config::config_dir(env)?.join("azureProfile.json");
    if std::fs::metadata(&path).ok()?.len() > 4 * 1024 * 1024 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let json: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    json.get("subscriptions")?
        .as_array()?
        .iter()
        .find(|s| s.get("isDefault").and_then(Value::as_bool) == Some(true))
        .and_then(|s| s.get("id").and_then(Value::as_str))
        .map(str::to_string)
}

/// The parts of an ARM resource id that matter here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceId {
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub name: Option<String>,
}

impl ResourceId {
    pub fn parse(id: &str) -> ResourceId {
        let seg: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
        let after = |key: &str| {
            seg.iter()
                .position(|s| s.eq_ignore_ascii_case(key))
                .and_then(|i| seg.get(i + 1))
                .map(|s| s.to_string())
        };
        ResourceId {
            subscription: after("subscriptions"),
            resource_group: after("resourceGroups"),
            name: if seg.len() >= 2 && seg.iter().any(|s| s.eq_ignore_ascii_case("providers")) {
                seg.last().map(|s| s.to_string())
            } else {
                None
            },
        }
    }
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

/// The registry settings worth showing, from the resource JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySettings {
    pub role_assignment_mode: String,
    pub admin_user: Option<bool>,
    pub anonymous_pull: Option<bool>,
    pub public_network_access: Option<String>,
    pub firewall_default_action: Option<String>,
    pub arm_audience_policy: Option<String>,
    pub encryption: Option<String>,
    pub encryption_identity: Option<String>,
    pub sku: Option<String>,
}

/// ARM's name of the ABAC mode.
pub const ABAC_MODE: &str = "AbacRepositoryPermissions";
/// ARM's name of the legacy mode (also assumed when the property is absent).
pub const LEGACY_MODE: &str = "LegacyRegistryPermissions";

impl RegistrySettings {
    pub fn of(reg: &ArmRegistry) -> RegistrySettings {
        let s = |p: &str| reg.property(p).and_then(Value::as_str).map(str::to_string);
        let b = |p: &str| reg.property(p).and_then(Value::as_bool);
        RegistrySettings {
            role_assignment_mode: s("roleAssignmentMode").unwrap_or_else(|| LEGACY_MODE.into()),
            admin_user: b("adminUserEnabled"),
            anonymous_pull: b("anonymousPullEnabled"),
            public_network_access: s("publicNetworkAccess"),
            firewall_default_action: s("networkRuleSet.defaultAction"),
            arm_audience_policy: s("policies.azureADAuthenticationAsArmPolicy.status"),
            encryption: s("encryption.status"),
            encryption_identity: s("encryption.keyVaultProperties.identity"),
            sku: reg
                .resource
                .get("sku")
                .and_then(|k| k.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids() {
        let id = ResourceId::parse(
            "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg",
        );
        assert_eq!(id.subscription.as_deref(), Some("s1"));
        assert_eq!(id.resource_group.as_deref(), Some("rg"));
        assert_eq!(id.name.as_deref(), Some("reg"));
        assert_eq!(ResourceId::parse("garbage"), ResourceId::default());
    }

    #[test]
    fn settings_from_resource() {
        let reg = ArmRegistry {
            id: "x".into(),
            subscription: "s".into(),
            resource_group: "g".into(),
            name: "n".into(),
            resource: serde_json::json!({"sku": {"name": "Premium"}, "properties": {
                "roleAssignmentMode": "AbacRepositoryPermissions", "adminUserEnabled": false,
                "networkRuleSet": {"defaultAction": "Deny"},
                "encryption": {"status": "enabled", "keyVaultProperties": {"identity": "c1"}}}}),
        };
        let s = RegistrySettings::of(&reg);
        assert_eq!(s.role_assignment_mode, ABAC_MODE);
        assert_eq!(s.admin_user, Some(false));
        assert_eq!(s.firewall_default_action.as_deref(), Some("Deny"));
        assert_eq!(s.encryption_identity.as_deref(), Some("c1"));
        assert_eq!(s.sku.as_deref(), Some("Premium"));
    }
}
