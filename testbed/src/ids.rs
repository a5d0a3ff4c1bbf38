//! Fixed identifiers used by the default test bed. Every secret contains `CANARY` so tests can
//! assert that none of them ever reaches acr-doctor's output.

/// The tenant (directory) everything lives in by default.
pub const TENANT: &str = "72f988bf-0000-4000-8000-000000000001";
/// A second, existing tenant (used by the `tenant-mismatch` fault).
pub const OTHER_TENANT: &str = "72f988bf-0000-4000-8000-000000000002";
/// The subscription holding the default resource group.
pub const SUBSCRIPTION: &str = "5ab1e000-0000-4000-8000-000000000010";
/// Display name of the subscription.
pub const SUBSCRIPTION_NAME: &str = "Test Subscription";
/// The default resource group.
pub const RESOURCE_GROUP: &str = "rg-test";
/// The default Azure region.
pub const LOCATION: &str = "westeurope";
/// The default registry.
pub const REGISTRY: &str = "contosoreg";

/// Key of the default service principal in specs (`BedSpec::assign("sp", ...)`).
pub const SP: &str = "sp";
/// Application (client) id of the default service principal.
pub const SP_APP_ID: &str = "a11ce000-0000-4000-8000-00000000a001";
/// Object id of the default service principal.
pub const SP_OBJECT_ID: &str = "0b1ec700-0000-4000-8000-00000000a002";
/// Object id of the default application object (Graph `id`).
pub const SP_APPLICATION_OBJECT_ID: &str = "0b1ec700-0000-4000-8000-00000000a003";
/// Client secret of the default service principal.
pub const SP_SECRET: &str = "CANARY-SP-SECRET-3f9a1c";
/// keyId of that secret (Graph passwordCredentials).
pub const SP_SECRET_KEY_ID: &str = "5ec2e700-0000-4000-8000-00000000a004";
/// Issuer of federated (workload identity) tokens minted by `TestBed::federated_token`.
pub const FEDERATED_ISSUER: &str = "https://oidc.workload.test";
/// Subject registered as federated credential on the default service principal.
pub const FEDERATED_SUBJECT: &str = "system:serviceaccount:default:acr-doctor";

/// Key of the default user in specs.
pub const USER: &str = "alice";
/// User principal name of the default user.
pub const USER_UPN: &str = "alice@contoso.test";
/// Object id of the default user.
pub const USER_OBJECT_ID: &str = "0b1ec700-0000-4000-8000-00000000b001";

/// Key of the default user-assigned managed identity in specs.
pub const MI: &str = "mi";
/// Client id of the default managed identity.
pub const MI_CLIENT_ID: &str = "c11e0700-0000-4000-8000-00000000c001";
/// Object (principal) id of the default managed identity.
pub const MI_OBJECT_ID: &str = "0b1ec700-0000-4000-8000-00000000c002";
/// Name of the managed identity resource.
pub const MI_RESOURCE_NAME: &str = "mi-test";

/// Admin user passwords of every registry (`password`, `password2`).
pub const ADMIN_PASSWORDS: [&str; 2] = ["CANARY-ADMIN-PASSWORD-1", "CANARY-ADMIN-PASSWORD-2"];
/// The secret a `TestBed` expects in the `X-IDENTITY-HEADER` header (App Service style identity).
pub const IDENTITY_HEADER: &str = "CANARY-IDENTITY-HEADER";
/// The audience of registry tokens (`https://containerregistry.azure.net`), the default resource of
/// `Fault::ResourcePrincipalMissing`.
pub const ACR_AUDIENCE: &str = "https://containerregistry.azure.net";
/// The username that tells ACR the password is an ACR refresh token.
pub const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Resource id of the default managed identity.
pub fn mi_resource_id() -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{MI_RESOURCE_NAME}"
    )
}

/// Well-known role definition ids (the real built-in ids).
pub mod roles {
    pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    pub const READER: &str = "acdd72a7-3884-48c2-ba85-4c0a8eae6a3f";
    pub const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    pub const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";
    pub const ACR_DELETE: &str = "c2f4ef07-c644-48eb-af81-4b1b4947fb11";
    pub const REPOSITORY_READER: &str = "b93aa761-3e63-49ed-ac28-beffa264f7ac";
    pub const REPOSITORY_WRITER: &str = "2a1e307c-b015-4ebd-883e-5b7698a07328";
    pub const REPOSITORY_CONTRIBUTOR: &str = "2efddaa5-3f1f-4df3-97df-af3f13818f4c";
    pub const CATALOG_LISTER: &str = "bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7";
    pub const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
    pub const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
    pub const REGISTRY_CONTRIBUTOR_DATA_ACCESS_ADMIN: &str = "3bc748fc-213d-45c1-8d91-9da5725539b9";
}
