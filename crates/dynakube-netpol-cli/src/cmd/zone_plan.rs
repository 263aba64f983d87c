//! `zone-plan`: what must exist in the Dynatrace environment before the policies and the
//! DynaKubes are applied, per network zone; with `--apply`, creating it.

use std::process::ExitCode;

use dynakube_netpol::Flavor;

use crate::say::Format;
use crate::settings::Sources;
use crate::{exit, ranges, style, zone_apply};

#[derive(Debug, clap::Args)]
pub(crate) struct ZonePlanArgs {
    #[command(flatten)]
    sources: Sources,

    /// `text` or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: Format,

    /// Create the zones in the environments (needs --api-token-env).
    #[arg(long, requires = "api_token_env")]
    apply: bool,

    /// The environment variable that holds the API token for --apply (permissions
    /// networkZones.read and networkZones.write).
    #[arg(long, value_name = "VAR")]
    api_token_env: Option<String>,

    /// For tests against a server on this machine: let --apply use an http:// API URL whose
    /// host is a loopback address (127.0.0.0/8, ::1). Any other http:// URL is refused, since
    /// the token would travel in cleartext.
    #[arg(long, requires = "apply")]
    insecure_http: bool,

    /// Seconds each request of --apply may take, its answer read (1 to 300).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = ranges::u64_in(ranges::HTTP_TIMEOUT),
        allow_negative_numbers = true
    )]
    timeout: u64,
}

impl ZonePlanArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let loaded = self.sources.load(Flavor::Kubernetes)?;
        let options = loaded.config.matrix_options();
        let plan = dynakube_netpol::zones::plan(&loaded.inputs, &loaded.profile, &options)?;
        if !self.apply {
            exit::write(match self.format {
                Format::Text => plan.to_text(),
                Format::Json => plan.to_json(),
            })?;
            return Ok(ExitCode::SUCCESS);
        }
        zone_apply::check_urls(&plan, self.insecure_http)?;
        let var = self.api_token_env.as_deref().unwrap_or_default();
        let token = std::env::var(var)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("--api-token-env: the environment variable {var} is not set")
            })?;
        let timeout = std::time::Duration::from_secs(self.timeout);
        match zone_apply::apply(&plan, token.trim(), timeout, self.insecure_http) {
            Ok(applied) => {
                exit::write(match self.format {
                    Format::Json => serde_json::to_string_pretty(&applied)? + "\n",
                    Format::Text => zone_apply::to_text(&applied),
                })?;
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => {
                anstream::eprintln!(
                    "{}: {}",
                    style::error(),
                    crate::words::error_text(&error, &crate::words::Flags)
                );
                Ok(exit::code(exit::FAILED))
            }
        }
    }
}
