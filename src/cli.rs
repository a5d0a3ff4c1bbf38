//! Command-line definitions. The doc comments are the help text, the man page and the completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::lang::Lang;
pub use crate::model::Cloud;
pub use crate::request::{AuthSource, CheckArgs, Engine, FailOn, Need};

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
