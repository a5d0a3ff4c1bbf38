//! The request a `check` run answers: the registry, the identity to act as, the actions to
//! prove and how to look. Its fields are the `check` command line's options (the doc comments
//! are their help text), so the command line and what the checks read are one definition;
//! checks and the engine import this module, never `cli`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::model::Cloud;

/// Which credential source to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AuthSource {
    /// Try every source in order: --username/--password, environment, workload identity, managed identity, Azure CLI, Docker config
    #[default]
    Auto,
    /// The Azure CLI's signed-in account (`az account get-access-token`)
    Cli,
    /// A service principal from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH
    Env,
    /// Workload identity from AZURE_FEDERATED_TOKEN_FILE
    WorkloadIdentity,
    /// Managed identity (IDENTITY_ENDPOINT or the instance metadata endpoint)
    ManagedIdentity,
    /// The credential stored for the registry in the Docker config
    DockerConfig,
    /// The --username / --password pair
    Basic,
    /// No credential at all (anonymous pull)
    Anonymous,
}

impl AuthSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthSource::Auto => "auto",
            AuthSource::Cli => "cli",
            AuthSource::Env => "env",
            AuthSource::WorkloadIdentity => "workload-identity",
            AuthSource::ManagedIdentity => "managed-identity",
            AuthSource::DockerConfig => "docker-config",
            AuthSource::Basic => "basic",
            AuthSource::Anonymous => "anonymous",
        }
    }
}

/// A registry action the identity must be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Need {
    Pull,
    Push,
    Delete,
    #[value(name = "metadata_read")]
    MetadataRead,
    #[value(name = "metadata_write")]
    MetadataWrite,
    Catalog,
}

impl Need {
    /// The action name in the registry's scope syntax (`catalog` is the `registry:catalog:*` scope).
    pub fn action(self) -> &'static str {
        match self {
            Need::Pull => "pull",
            Need::Push => "push",
            Need::Delete => "delete",
            Need::MetadataRead => "metadata_read",
            Need::MetadataWrite => "metadata_write",
            Need::Catalog => "catalog",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Engine {
    #[default]
    Auto,
    Docker,
    Podman,
}

/// A value that must never print (its Debug and Display are `***`).
fn parse_secret(value: &str) -> Result<crate::redact::Secret, std::convert::Infallible> {
    Ok(crate::redact::Secret::new(value))
}

/// Options of `acr-doctor check`.
#[derive(Debug, Clone, Args, Default)]
pub struct CheckArgs {
    /// Registry resource name (`myregistry`); a login server is accepted and flagged where the flow needs the other form. Repeatable
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    pub names: Vec<String>,

    /// Read registry names from a file, one per line (`#` starts a comment)
    #[arg(long, value_name = "FILE")]
    pub names_file: Option<PathBuf>,

    /// How many registries to check at once when several are given
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,

    /// Also probe this repository's pull / push / delete / metadata permissions. REPO:TAG or
    /// REPO@DIGEST also checks that the image exists and, with --need push or delete, that no lock
    /// on the repository or image refuses the write
    #[arg(long, value_name = "REPO[:TAG|@DIGEST]")]
    pub repository: Option<String>,

    /// With a tag or digest in --repository: the platform that pulls it (OS/ARCH[/VARIANT], e.g.
    /// linux/arm64); fails when the image has no variant for it [default: not checked]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", requires = "repository")]
    pub platform: Option<String>,

    /// What the identity must be allowed: pull (default), push, delete, metadata_read, metadata_write, catalog
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ACTION,...")]
    pub need: Vec<Need>,

    /// Username for basic credentials (admin user, repository-scoped token, service principal app ID, or 00000000-0000-0000-0000-000000000000)
    #[arg(short = 'u', long, value_name = "USER")]
    pub username: Option<String>,

    /// Password for basic credentials; prefer --password-stdin, a password on the command line is visible to other users
    #[arg(short = 'p', long, value_name = "PASSWORD", hide_env_values = true, value_parser = parse_secret)]
    pub password: Option<crate::redact::Secret>,

    /// Read the password from standard input
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,

    /// Pin the credential source
    #[arg(long, value_enum, default_value_t = AuthSource::Auto, value_name = "SOURCE")]
    pub auth: AuthSource,

    /// Evaluate another identity's role assignments (object ID or app ID) through ARM, without its credentials
    #[arg(long, value_name = "ID")]
    pub principal: Option<String>,

    /// Verify DNS routing to the registry's private endpoints in this virtual network
    #[arg(long, value_name = "VNET")]
    pub vnet: Option<String>,

    /// Diagnose pulls by this AKS cluster (name or resource ID) from ARM alone: the identity its
    /// kubelet pulls with and its roles at the registry, and its network path to the registry
    #[arg(long, value_name = "CLUSTER")]
    pub aks: Option<String>,

    /// Resource group of the --aks cluster [default: found among the subscription's clusters]
    #[arg(long, value_name = "RG", requires = "aks")]
    pub aks_resource_group: Option<String>,

    /// Subscription of the --aks cluster [default: the registry's subscription]
    #[arg(long, value_name = "ID", requires = "aks")]
    pub aks_subscription: Option<String>,

    /// Run only these checks (ids or families such as `docker`); their prerequisites run too
    #[arg(long, value_delimiter = ',', num_args = 1.., value_name = "CHECK")]
    pub only: Vec<String>,

    /// Skip these checks (ids or families); checks that need them are reported as skipped
    #[arg(long, value_delimiter = ',', num_args = 1.., value_name = "CHECK")]
    pub skip: Vec<String>,

    /// Accepted for Azure CLI familiarity: acr-doctor never stops at the first error
    #[arg(long)]
    pub ignore_errors: bool,

    /// Accepted for Azure CLI familiarity: acr-doctor never asks a question
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Also log in through the Docker daemon (its network path, proxy and trust); pulls nothing and never writes the Docker config
    #[arg(long)]
    pub docker_login: bool,

    /// Bound on each network step, in seconds; the whole run is bounded too
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,

    /// Which severity makes the exit status non-zero
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// Show the requests made (method, URL, status, timing), secrets redacted
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Azure cloud: built-in suffixes and endpoints [default: the Azure CLI's active cloud, else AzureCloud]
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,

    /// Use this login server (HOST[:PORT] or https://HOST[:PORT]) instead of NAME + the cloud's suffix
    #[arg(long, value_name = "HOST[:PORT]")]
    pub login_server: Option<String>,

    /// Pin a name to an address, as curl does (HOST:PORT:ADDR); repeatable
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,

    /// Extra trusted root certificates (PEM); SSL_CERT_FILE is read too
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Subscription to search for the registry in ARM [default: AZURE_SUBSCRIPTION_ID, the Azure CLI's, else all readable]
    #[arg(long, value_name = "ID")]
    pub subscription: Option<String>,

    /// Warning windows for credentials about to expire, e.g. `15m` for tokens, `14d` for secrets: TOKENS[,SECRETS]
    #[arg(long, value_name = "DURATION[,DURATION]")]
    pub warn_within: Option<String>,

    /// Container engine to diagnose
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,

    /// Also prove push and delete rights with write-method requests that change nothing (a PATCH
    /// of an upload that does not exist, a DELETE of a manifest digest that cannot exist); off by
    /// default, when only GET and HEAD requests reach the registry
    #[arg(long)]
    pub probe_writes: bool,

    /// Send Microsoft Entra tokens to a --login-server outside the cloud's registry suffix
    /// (a registry behind a custom domain or gateway); without it such a server gets none
    #[arg(long)]
    pub trust_login_server: bool,
}

impl CheckArgs {
    /// The repository of `--repository`, without its tag or digest: what scopes, registry paths
    /// and printed commands take.
    pub fn repository_name(&self) -> Option<&str> {
        self.repository
            .as_deref()
            .map(crate::protocol::registry_name::repository_part)
    }

    /// `--repository` with its tag and digest; `None` when absent or malformed (the context
    /// refuses a malformed one before any check runs).
    pub fn image(&self) -> Option<crate::protocol::registry_name::ImageRef> {
        crate::protocol::registry_name::parse_image_ref(self.repository.as_deref()?).ok()
    }
}
