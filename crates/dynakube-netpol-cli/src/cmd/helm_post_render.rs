//! `helm-post-render`: the Helm 4 post-renderer, the rendered release on standard input written
//! back unchanged, followed by the policies of its DynaKubes and EdgeConnects.

use std::path::Path;
use std::process::ExitCode;

use crate::manifests;
use crate::settings::{self, Config};
use dynakube_netpol::output;

pub(crate) const HELP: &str = "\
Examples:
  helm plugin install --verify=false helm-plugin/dynakube-netpol.tgz   (in the release archive)
  helm template dynatrace ./chart --post-renderer dynakube-netpol \\
    --post-renderer-args=--cluster=cluster.yaml --post-renderer-args=--hosts=hosts.yaml
  helm template dynatrace ./chart | dynakube-netpol helm-post-render --fqdn-fallback public-internet";

#[derive(Debug, clap::Args)]
pub(crate) struct HelmPostRenderArgs {
    #[command(flatten)]
    settings: settings::Settings,

    #[command(flatten)]
    flavor: crate::settings::FlavorChoice,

    #[command(flatten)]
    lock: settings::ReadLock,
}

impl HelmPostRenderArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let mut config = self.settings.config(self.flavor.flavor.flavor())?;
        let mut arguments = self.settings.arguments()?;
        if let Some(lock) = &self.lock.lock {
            let found = dynakube_netpol::lock::read(Path::new(lock), &config.limits)?;
            let (lock_file, _) = found.ok_or_else(|| dynakube_netpol::Error::Read {
                file: lock.clone(),
                reason: "no such file".into(),
            })?;
            config.lock = Some(lock_file);
            arguments.extend([
                "--lock".to_string(),
                settings::quoted(&output::normalized_path(lock)),
            ]);
        }
        post_render(config, arguments)
    }
}

/// `helm-post-render`: standard input back unchanged, then the policies.
fn post_render(config: Config, arguments: Vec<String>) -> anyhow::Result<ExitCode> {
    let text = crate::settings::read("-", &config.limits)?;
    let name = "the release on standard input".to_string();
    let mut added = manifests::add_policies(
        config,
        &[(name, text.clone())],
        arguments,
        manifests::Consumer::Helm,
    )?;
    if let Some(output) = &mut added.policies {
        output.set_subcommand("helm-post-render");
    }
    manifests::write_stream(&text, &added)
}
