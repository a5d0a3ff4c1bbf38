//! The bed's plain data: registries, principals, role definitions and assignments, faults.
//! Tests mutate it at runtime through `TestBed::with_state`.

use crate::fault::Fault;
use crate::ids;
use time::OffsetDateTime;

/// How the registry interprets role assignments (ARM property `roleAssignmentMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleAssignmentMode {
    /// `LegacyRegistryPermissions`: AcrPull/AcrPush/AcrDelete/Owner/Contributor/Reader grant data access.
    Legacy,
    /// `AbacRepositoryPermissions`: only the Container Registry Repository * roles grant data access.
    Abac,
}

impl RoleAssignmentMode {
    /// The ARM string.
    pub fn as_arm(&self) -> &'static str {
        match self {
            RoleAssignmentMode::Legacy => "LegacyRegistryPermissions",
            RoleAssignmentMode::Abac => "AbacRepositoryPermissions",
        }
    }
}

/// One password of a repository-scoped token.
#[derive(Debug, Clone)]
pub struct TokenPassword {
    /// `password1` or `password2`.
    pub name: String,
    pub value: String,
    pub creation_time: OffsetDateTime,
    pub expiry: Option<OffsetDateTime>,
}

/// A repository-scoped token (non-Entra basic credential) with its scope map.
#[derive(Debug, Clone)]
pub struct RepoToken {
    pub name: String,
    pub enabled: bool,
    pub scope_map: String,
    /// Scope map actions such as `repositories/app/content/read`.
    pub actions: Vec<String>,
    pub passwords: Vec<TokenPassword>,
}

impl RepoToken {
    /// A token with one password `CANARY-TOKEN-<name>-1` (no expiry) and the given scope map actions.
    pub fn new(name: &str, actions: &[&str]) -> Self {
        RepoToken {
            name: name.to_string(),
            enabled: true,
            scope_map: format!("{name}-scope-map"),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            passwords: vec![TokenPassword {
                name: "password1".into(),
                value: format!("CANARY-TOKEN-{name}-1"),
                creation_time: OffsetDateTime::now_utc() - time::Duration::days(1),
                expiry: None,
            }],
        }
    }
}

/// One ACR registry (builder style; the same type is the runtime state).
#[derive(Debug, Clone)]
pub struct Registry {
    pub name: String,
    pub tenant: String,
    pub subscription: String,
    pub resource_group: String,
    pub location: String,
    pub sku: String,
    pub admin_user_enabled: bool,
    pub admin_passwords: [String; 2],
    pub anonymous_pull: bool,
    pub public_network_access: bool,
    /// networkRuleSet.defaultAction is Deny.
    pub network_default_deny: bool,
    /// networkRuleSet.ipRules values (`1.2.3.4` or `1.2.3.0/24`), all `Allow`.
    pub ip_rules: Vec<String>,
    pub role_assignment_mode: RoleAssignmentMode,
    /// policies.azureADAuthenticationAsArmPolicy.status == enabled (Azure's default).
    pub arm_audience_allowed: bool,
    pub tokens: Vec<RepoToken>,
    /// Customer-managed key encryption with the default managed identity.
    pub cmk: bool,
    pub data_endpoint_enabled: bool,
    /// ARM reports a private endpoint (login server -> 10.0.0.5).
    pub private_endpoint: bool,
    /// Run a real docker-registry behind the login server (default true).
    pub real_backend: bool,
}

/// Builder alias: `RegistrySpec::new("contosoreg").abac().admin_user(true)`.
pub type RegistrySpec = Registry;

impl Registry {
    /// Defaults: legacy RBAC, admin disabled, anonymous pull off, public access on, default tenant/subscription/group.
    pub fn new(name: &str) -> Self {
        Registry {
            name: name.to_ascii_lowercase(),
            tenant: ids::TENANT.into(),
            subscription: ids::SUBSCRIPTION.into(),
            resource_group: ids::RESOURCE_GROUP.into(),
            location: ids::LOCATION.into(),
            sku: "Premium".into(),
            admin_user_enabled: false,
            admin_passwords: [
                ids::ADMIN_PASSWORDS[0].into(),
                ids::ADMIN_PASSWORDS[1].into(),
            ],
            anonymous_pull: false,
            public_network_access: true,
            network_default_deny: false,
            ip_rules: Vec::new(),
            role_assignment_mode: RoleAssignmentMode::Legacy,
            arm_audience_allowed: true,
            tokens: Vec::new(),
            cmk: false,
            data_endpoint_enabled: false,
            private_endpoint: false,
            real_backend: true,
        }
    }
    pub fn abac(mut self) -> Self {
        self.role_assignment_mode = RoleAssignmentMode::Abac;
        self
    }
    pub fn admin_user(mut self, on: bool) -> Self {
        self.admin_user_enabled = on;
        self
    }
    pub fn anonymous_pull(mut self, on: bool) -> Self {
        self.anonymous_pull = on;
        self
    }
    pub fn public_network_access(mut self, on: bool) -> Self {
        self.public_network_access = on;
        self
    }
    /// Default action Deny with these allowed IPs / CIDRs.
    pub fn ip_rules(mut self, rules: &[&str]) -> Self {
        self.network_default_deny = true;
        self.ip_rules = rules.iter().map(|r| r.to_string()).collect();
        self
    }
    pub fn arm_audience(mut self, allowed: bool) -> Self {
        self.arm_audience_allowed = allowed;
        self
    }
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = tenant.into();
        self
    }
    pub fn resource_group(mut self, rg: &str) -> Self {
        self.resource_group = rg.into();
        self
    }
    pub fn sku(mut self, sku: &str) -> Self {
        self.sku = sku.into();
        self
    }
    pub fn token(mut self, token: RepoToken) -> Self {
        self.tokens.push(token);
        self
    }
    pub fn cmk(mut self, on: bool) -> Self {
        self.cmk = on;
        self
    }
    pub fn data_endpoint(mut self, on: bool) -> Self {
        self.data_endpoint_enabled = on;
        self
    }
    pub fn private_endpoint(mut self, on: bool) -> Self {
        self.private_endpoint = on;
        self
    }
    /// `false`: no docker-registry child; the bed verifies its own tokens on `/v2/*` (for benchmarks).
    pub fn real_backend(mut self, on: bool) -> Self {
        self.real_backend = on;
        self
    }

    /// ARM resource id.
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerRegistry/registries/{}",
            self.subscription, self.resource_group, self.name
        )
    }
    /// Canonical login server (the token service / audience).
    pub fn login_server(&self) -> String {
        format!("{}.azurecr.io", self.name)
    }
    /// Data endpoint host name (`<name>.<region>.data.azurecr.io`).
    pub fn data_endpoint_host(&self) -> String {
        format!("{}.{}.data.azurecr.io", self.name, self.location)
    }

    /// The registry as seen through the given faults.
    pub(crate) fn effective(&self, faults: &[Fault]) -> Registry {
        let mut r = self.clone();
        for f in faults {
            match f {
                Fault::PublicAccessDisabled => r.public_network_access = false,
                Fault::IpFirewall => {
                    r.network_default_deny = true;
                    // TEST-NET-3 (RFC 5737): documentation addresses, never 127.0.0.1.
                    r.ip_rules = vec!["203.0.113.0/24".into()];
                }
                Fault::AdminUserDisabled => r.admin_user_enabled = false,
                Fault::TenantMismatch => r.tenant = ids::OTHER_TENANT.into(),
                Fault::ArmAudienceRefused => r.arm_audience_allowed = false,
                Fault::AnonymousPull(on) => r.anonymous_pull = *on,
                Fault::CmkIdentityMissing
                | Fault::DataEndpointUnreachable
                | Fault::PrivateEndpoint => match f {
                    Fault::CmkIdentityMissing => r.cmk = true,
                    Fault::DataEndpointUnreachable => r.data_endpoint_enabled = true,
                    _ => r.private_endpoint = true,
                },
                other => crate::aks::apply_to_registry(other, &mut r),
            }
        }
        r
    }
}

/// Kind of an Entra principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    ServicePrincipal,
    User,
    ManagedIdentity,
}

impl PrincipalKind {
    /// ARM `principalType`.
    pub fn as_arm(&self) -> &'static str {
        match self {
            PrincipalKind::ServicePrincipal | PrincipalKind::ManagedIdentity => "ServicePrincipal",
            PrincipalKind::User => "User",
        }
    }
}

/// A client secret of an application.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    pub key_id: String,
    pub display_name: String,
    pub value: String,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

/// A registered certificate of an application.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    pub key_id: String,
    /// SHA-1 of the DER certificate (20 bytes).
    pub sha1: Vec<u8>,
    /// SHA-256 of the DER certificate (32 bytes).
    pub sha256: Vec<u8>,
    pub end: OffsetDateTime,
}

/// A federated identity credential of an application.
#[derive(Debug, Clone)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
}

/// An Entra principal: a service principal (app), a user or a managed identity.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Short key used in specs ("sp", "alice", "mi").
    pub key: String,
    pub kind: PrincipalKind,
    pub tenant: String,
    pub object_id: String,
    /// appId (service principal) or clientId (managed identity); empty for users.
    pub app_id: String,
    /// Graph application object id (service principals).
    pub application_object_id: String,
    pub upn: Option<String>,
    pub display_name: String,
    pub secrets: Vec<ClientSecret>,
    pub certificates: Vec<ClientCertificate>,
    pub federated: Vec<FederatedCredential>,
}

impl Principal {
    /// A service principal with one secret valid for a year.
    pub fn service_principal(key: &str, app_id: &str, object_id: &str, secret: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Principal {
            key: key.into(),
            kind: PrincipalKind::ServicePrincipal,
            tenant: ids::TENANT.into(),
            object_id: object_id.into(),
            app_id: app_id.into(),
            application_object_id: uuid::Uuid::new_v4().to_string(),
            upn: None,
            display_name: format!("{key}-app"),
            secrets: vec![ClientSecret {
                key_id: uuid::Uuid::new_v4().to_string(),
                display_name: "ci".into(),
                value: secret.into(),
                start: now - time::Duration::days(30),
                end: now + time::Duration::days(365),
            }],
            certificates: Vec::new(),
            federated: Vec::new(),
        }
    }
    /// A user.
    pub fn user(key: &str, upn: &str, object_id: &str) -> Self {
        Principal {
            key: key.into(),
            kind: PrincipalKind::User,
            tenant: ids::TENANT.into(),
            object_id: object_id.into(),
            app_id: String::new(),
            application_object_id: String::new(),
            upn: Some(upn.into()),
            display_name: upn.split('@').next().unwrap_or(upn).to_string(),
            secrets: Vec::new(),
            certificates: Vec::new(),
            federated: Vec::new(),
        }
    }
    /// A user-assigned managed identity.
    pub fn managed_identity(key: &str, client_id: &str, object_id: &str) -> Self {
        Principal {
            key: key.into(),
            kind: PrincipalKind::ManagedIdentity,
            tenant: ids::TENANT.into(),
            object_id: object_id.into(),
            app_id: client_id.into(),
            application_object_id: String::new(),
            upn: None,
            display_name: key.into(),
            secrets: Vec::new(),
            certificates: Vec::new(),
            federated: Vec::new(),
        }
    }
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = tenant.into();
        self
    }
    /// Register a federated credential.
    pub fn federated(mut self, issuer: &str, subject: &str) -> Self {
        self.federated.push(FederatedCredential {
            issuer: issuer.into(),
            subject: subject.into(),
        });
        self
    }
    /// Register a certificate (DER) for certificate-based client assertions.
    pub fn certificate(mut self, der: &[u8]) -> Self {
        use sha2::Digest;
        self.certificates.push(ClientCertificate {
            key_id: uuid::Uuid::new_v4().to_string(),
            sha1: sha1_smol::Sha1::from(der).digest().bytes().to_vec(),
            sha256: sha2::Sha256::digest(der).to_vec(),
            end: OffsetDateTime::now_utc() + time::Duration::days(365),
        });
        self
    }
    /// Whether `s` names this principal (key, object id, app/client id or UPN, case-insensitive).
    pub fn matches(&self, s: &str) -> bool {
        self.key.eq_ignore_ascii_case(s)
            || self.object_id.eq_ignore_ascii_case(s)
            || (!self.app_id.is_empty() && self.app_id.eq_ignore_ascii_case(s))
            || self
                .upn
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(s))
    }
}

/// A role definition (built-in roles are preloaded with their real ids).
#[derive(Debug, Clone)]
pub struct RoleDefinition {
    /// The GUID.
    pub id: String,
    pub name: String,
    pub description: String,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
}

/// A role assignment.
#[derive(Debug, Clone)]
pub struct RoleAssignment {
    /// The assignment's GUID (ARM `name`).
    pub id: String,
    pub principal_id: String,
    pub principal_type: String,
    /// Role definition GUID.
    pub role_definition_id: String,
    /// Full ARM scope (`/subscriptions/..[/resourceGroups/..[/providers/..]]`).
    pub scope: String,
    pub condition: Option<String>,
    pub condition_version: Option<String>,
}

/// Where a role is assigned (spec helper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Subscription,
    ResourceGroup,
    Registry(String),
    /// A full ARM scope string.
    Raw(String),
}

impl Scope {
    pub fn registry(name: &str) -> Self {
        Scope::Registry(name.into())
    }
}

/// The bed's mutable state.
#[derive(Debug, Clone)]
pub struct BedState {
    pub tenants: Vec<String>,
    pub subscription: String,
    pub registries: Vec<Registry>,
    pub principals: Vec<Principal>,
    pub role_definitions: Vec<RoleDefinition>,
    pub assignments: Vec<RoleAssignment>,
    /// Active faults: `(None, f)` global, `(Some(registry), f)` for one registry.
    pub faults: Vec<(Option<String>, Fault)>,
    /// The AKS cluster and networks (`BedSpec::with_aks`).
    pub aks: crate::aks::AksWorld,
}

fn rd(
    id: &str,
    name: &str,
    actions: &[&str],
    not_actions: &[&str],
    data_actions: &[&str],
) -> RoleDefinition {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    RoleDefinition {
        id: id.into(),
        name: name.into(),
        description: format!("Built-in role {name} (test bed copy)"),
        actions: v(actions),
        not_actions: v(not_actions),
        data_actions: v(data_actions),
        not_data_actions: Vec::new(),
    }
}

/// Built-in role definitions with their real ids. Actions follow the public built-in role list,
/// trimmed to what matters here.
pub fn builtin_roles() -> Vec<RoleDefinition> {
    use ids::roles::*;
    const REPO: &str = "Microsoft.ContainerRegistry/registries/repositories";
    vec![
        rd(OWNER, "Owner", &["*"], &[], &[]),
        rd(
            CONTRIBUTOR,
            "Contributor",
            &["*"],
            &[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
                "Microsoft.Blueprint/blueprintAssignments/write",
                "Microsoft.Blueprint/blueprintAssignments/delete",
                "Microsoft.Compute/galleries/share/action",
            ],
            &[],
        ),
        rd(READER, "Reader", &["*/read"], &[], &[]),
        rd(
            ACR_PULL,
            "AcrPull",
            &["Microsoft.ContainerRegistry/registries/pull/read"],
            &[],
            &[],
        ),
        rd(
            ACR_PUSH,
            "AcrPush",
            &[
                "Microsoft.ContainerRegistry/registries/pull/read",
                "Microsoft.ContainerRegistry/registries/push/write",
            ],
            &[],
            &[],
        ),
        rd(
            ACR_DELETE,
            "AcrDelete",
            &["Microsoft.ContainerRegistry/registries/artifacts/delete"],
            &[],
            &[],
        ),
        rd(
            REPOSITORY_READER,
            "Container Registry Repository Reader",
            &[],
            &[],
            &[
                &format!("{REPO}/content/read"),
                &format!("{REPO}/metadata/read"),
            ],
        ),
        rd(
            REPOSITORY_WRITER,
            "Container Registry Repository Writer",
            &[],
            &[],
            &[
                &format!("{REPO}/content/read"),
                &format!("{REPO}/metadata/read"),
                &format!("{REPO}/content/write"),
                &format!("{REPO}/metadata/write"),
            ],
        ),
        rd(
            REPOSITORY_CONTRIBUTOR,
            "Container Registry Repository Contributor",
            &[],
            &[],
            &[
                &format!("{REPO}/content/read"),
                &format!("{REPO}/metadata/read"),
                &format!("{REPO}/content/write"),
                &format!("{REPO}/metadata/write"),
                &format!("{REPO}/content/delete"),
                &format!("{REPO}/metadata/delete"),
            ],
        ),
        rd(
            CATALOG_LISTER,
            "Container Registry Repository Catalog Lister",
            &[],
            &[],
            &["Microsoft.ContainerRegistry/registries/catalog/read"],
        ),
        rd(
            RBAC_ADMINISTRATOR,
            "Role Based Access Control Administrator",
            &[
                "Microsoft.Authorization/roleAssignments/write",
                "Microsoft.Authorization/roleAssignments/delete",
                "*/read",
                "Microsoft.Support/*",
            ],
            &[],
            &[],
        ),
        rd(
            USER_ACCESS_ADMINISTRATOR,
            "User Access Administrator",
            &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
            &[],
            &[],
        ),
        rd(
            REGISTRY_CONTRIBUTOR_DATA_ACCESS_ADMIN,
            "Container Registry Contributor and Data Access Configuration Administrator",
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.ContainerRegistry/registries/read",
                "Microsoft.ContainerRegistry/registries/write",
                "Microsoft.ContainerRegistry/registries/delete",
                "Microsoft.ContainerRegistry/registries/listCredentials/action",
                "Microsoft.ContainerRegistry/registries/regenerateCredential/action",
                "Microsoft.ContainerRegistry/registries/tokens/*",
                "Microsoft.ContainerRegistry/registries/scopeMaps/*",
                "Microsoft.ContainerRegistry/registries/privateEndpointConnections/*",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
            ],
            &[],
            &[],
        ),
    ]
}

impl BedState {
    /// Look a principal up by key, object id, app id or UPN.
    pub fn principal(&self, who: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.matches(who))
    }
    /// Mutable principal lookup.
    pub fn principal_mut(&mut self, who: &str) -> Option<&mut Principal> {
        self.principals.iter_mut().find(|p| p.matches(who))
    }
    /// Registry by name (case-insensitive).
    pub fn registry(&self, name: &str) -> Option<&Registry> {
        self.registries
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }
    /// Mutable registry lookup.
    pub fn registry_mut(&mut self, name: &str) -> Option<&mut Registry> {
        self.registries
            .iter_mut()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }
    /// Role definition by GUID or name (case-insensitive).
    pub fn role(&self, id_or_name: &str) -> Option<&RoleDefinition> {
        self.role_definitions.iter().find(|d| {
            d.id.eq_ignore_ascii_case(id_or_name) || d.name.eq_ignore_ascii_case(id_or_name)
        })
    }
    /// Full ARM scope of a spec scope (registry scopes use the registry's subscription and group).
    pub fn scope_string(&self, scope: &Scope) -> String {
        let rg_of = |name: &str| {
            self.registry(name)
                .map(|r| r.resource_group.clone())
                .unwrap_or_else(|| ids::RESOURCE_GROUP.to_string())
        };
        match scope {
            Scope::Subscription => format!("/subscriptions/{}", self.subscription),
            Scope::ResourceGroup => format!("/subscriptions/{}/resourceGroups/{}", self.subscription, ids::RESOURCE_GROUP),
            Scope::Registry(name) => format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerRegistry/registries/{}",
                self.subscription,
                rg_of(name),
                name.to_ascii_lowercase()
            ),
            Scope::Raw(s) => s.clone(),
        }
    }
    /// Add a role assignment; returns its GUID, or None if the principal or role is unknown.
    pub fn assign(
        &mut self,
        principal: &str,
        role: &str,
        scope: &Scope,
        condition: Option<&str>,
    ) -> Option<String> {
        let p = self.principal(principal)?;
        let (principal_id, principal_type) = (p.object_id.clone(), p.kind.as_arm().to_string());
        let role_definition_id = self.role(role)?.id.clone();
        let id = uuid::Uuid::new_v4().to_string();
        let scope = self.scope_string(scope);
        self.assignments.push(RoleAssignment {
            id: id.clone(),
            principal_id,
            principal_type,
            role_definition_id,
            scope,
            condition: condition.map(str::to_string),
            condition_version: condition.map(|_| "2.0".to_string()),
        });
        Some(id)
    }
    /// Remove every assignment of a principal.
    pub fn unassign_all(&mut self, principal: &str) {
        if let Some(oid) = self.principal(principal).map(|p| p.object_id.clone()) {
            self.assignments
                .retain(|a| !a.principal_id.eq_ignore_ascii_case(&oid));
        }
    }
    /// Faults that apply to a registry (its own plus global ones); `None`: global only.
    pub fn faults_for(&self, registry: Option<&str>) -> Vec<Fault> {
        self.faults
            .iter()
            .filter(|(target, _)| match (target, registry) {
                (None, _) => true,
                (Some(t), Some(r)) => t.eq_ignore_ascii_case(r),
                (Some(_), None) => false,
            })
            .map(|(_, f)| f.clone())
            .collect()
    }
    /// Whether a fault of the same kind as `probe` (ignoring values) applies.
    pub fn has_fault(&self, registry: Option<&str>, name: &str) -> bool {
        self.faults_for(registry).iter().any(|f| f.name() == name)
    }
}
