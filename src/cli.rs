//! Command-line definitions. The doc comments are the help text, the man page and the completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::lang::Lang;
pub use crate::model::Cloud;

const CHECK_EXAMPLES: &str = "\
Examples:
  acr-doctor check --name myregistry
  acr-doctor check -n myregistry --repository app --need pull,push
  acr-doctor check -n myregistry -u <app-id> --password-stdin < secret.txt
  acr-doctor check -n myregistry --principal <kubelet-object-id> --repository app
  acr-doctor check -n myregistry --aks mycluster --aks-resource-group myrg --repository app
  acr-doctor check -n myregistry -o markdown > ticket.md
  acr-doctor check -n myregistry -o json | jq '.findings[0].code'";

/// Diagnose why you cannot log in to, push to or pull from an Azure Container Registry.
///
/// acr-doctor checks the local Docker setup, the registry's name, DNS, TLS and challenge,
/// the credential you would use, the token exchange, and the identity's permissions, then
/// names the cause (a code from a fixed catalogue), shows the evidence and gives the fix.
/// It only reads: it never changes your Docker config, Azure CLI state or registry.
#[derive(Debug, Parser)]
#[command(
    name = "acr-doctor",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Language of titles, explanations and solutions [default: from LC_ALL / LC_MESSAGES / LANG]
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,

    /// When to use colour; NO_COLOR and CLICOLOR_FORCE are honoured under `auto`
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Output form: human, json, markdown (for tickets) or github (workflow annotations)
    #[arg(short = 'o', long, global = true, value_enum)]
    pub output: Option<OutputFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Markdown,
    Github,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the diagnosis against a registry
    #[command(after_help = CHECK_EXAMPLES)]
    Check(Box<CheckArgs>),
    /// Print the long explanation of one cause code, like `rustc --explain`
    #[command(
        after_help = "Example:\n  acr-doctor explain CONNECTIVITY_FORBIDDEN_ERROR --lang ja"
    )]
    Explain {
        /// A cause code, for example ABAC_LEGACY_ROLE_IGNORED (case-insensitive)
        code: String,
    },
    /// List every cause code with its one-line title
    Causes,
    /// List every check, in run order, with what it needs
    Checks,
    /// Map an error message someone saw (docker, az, kubelet, pipeline log) to causes
    #[command(
        after_help = "Examples:\n  acr-doctor triage 'unauthorized: Application not registered with AAD'\n  kubectl describe pod web-0 | acr-doctor triage -\n  acr-doctor triage --file build.log.gz -o json\n\nStandard input and files are read to the end, line by line, whatever their size; gzip is\nrecognised by its first bytes. The answer says how many lines and bytes were read."
    )]
    Triage {
        /// The text to read; `-` or nothing reads standard input
        #[arg(conflicts_with = "file")]
        text: Option<String>,
        /// Read this file (a CI log, plain or gzip-compressed); `-` is standard input
        #[arg(short = 'f', long, value_name = "LOG")]
        file: Option<PathBuf>,
    },
    /// Print shell completions for bash, zsh, fish, powershell or elvish
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output
    Man,
}

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

impl crate::context::IntoContextOptions for &CheckArgs {
    /// Checks the options in the order users have always seen their errors, then resolves the cloud.
    fn into_context_options(
        self,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Result<crate::context::ContextOptions, crate::context::UsageError> {
        use crate::context::{ResolveOverride, UsageError};
        let args = self;
        let resolve = args
            .resolve
            .iter()
            .map(|s| ResolveOverride::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
            return Err(UsageError::Other(format!(
                "--timeout {}: expected a number of seconds between 0 and 3600",
                args.timeout
            )));
        }
        if let Some(repo) = &args.repository {
            crate::protocol::registry_name::parse_image_ref(repo)
                .map_err(|e| UsageError::Other(format!("--repository {repo:?}: {e}")))?;
        }
        if let Some(platform) = &args.platform {
            crate::protocol::platform::Platform::parse(platform)
                .map_err(|e| UsageError::Other(format!("--platform {platform:?}: {e}")))?;
            if args
                .image()
                .and_then(|i| i.reference().map(str::to_string))
                .is_none()
            {
                return Err(UsageError::Other(format!(
                    "--platform {platform:?}: give the image to look at with a tag or digest, e.g. --repository app:1.0"
                )));
            }
        }
        if let Some(spec) = &args.warn_within {
            crate::model::time::parse_warn_within(spec)
                .map_err(|e| UsageError::Other(format!("--warn-within {spec:?}: {e}")))?;
        }
        Ok(crate::context::ContextOptions {
            resolve,
            timeout: std::time::Duration::from_secs_f64(args.timeout),
            ca_file: args.ca_file.clone(),
            cloud: crate::effective_cloud(args, env),
            trust_login_server: args.trust_login_server,
        })
    }
}
