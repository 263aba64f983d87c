//! `helm-post-render`: the Helm 4 post-renderer, the rendered release on standard input written
//! back unchanged, followed by the policies of its DynaKubes and EdgeConnects.
//!
//! How a rejected release reaches Helm 4's own error output: Helm runs a `postrenderer/v1`
//! plugin with its standard error in a buffer that it never reads, and a plugin that exits
//! with another status than 0 becomes `plugin "dynakube-netpol" exited with error`, with the
//! standard output dropped too (Helm 4.3.1, `internal/plugin/runtime_subprocess.go`:
//! `runPostrenderer` and `executeCmd`; the `--debug` log shows the standard error of the exit
//! error, which is empty for a buffered one). What Helm does show is why it cannot read a
//! plugin's output: `pkg/action/action.go` parses it with kyaml (`kio.ParseAll`), which refuses a
//! document that is no mapping and quotes the document in its error ("wrong node kind: expected
//! MappingNode but got ScalarNode: node contents: ..."). So when Helm runs this subcommand as
//! its plugin (it sets `HELM_PLUGIN_NAME` to the plugin's name), a rejected release is written
//! as one YAML string holding the error, and the run exits 0 for Helm to read it; Helm then
//! fails the release with the tool's message in its error. Anywhere else (a pipe, Helm 3's
//! executable post-renderer, which shows standard error) the error goes to standard error with
//! exit status 2, as for every subcommand.

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

/// The name of the Helm plugin (`helm-plugin/plugin.yaml`), which Helm gives its process in
/// `HELM_PLUGIN_NAME`.
pub(crate) const PLUGIN: &str = "dynakube-netpol";

/// Whether Helm runs this process as the post-renderer plugin.
pub(crate) fn run_by_helm() -> bool {
    std::env::var_os("HELM_PLUGIN_NAME").is_some_and(|name| name == PLUGIN)
}

/// The document that carries `message` (an error, as standard error would show it) into Helm's
/// error: one YAML string, which Helm refuses to read as a manifest and quotes.
pub(crate) fn for_helm(message: &str) -> String {
    let text = format!(
        "dynakube-netpol rejected the release (the YAML error above only carries this message):\n{}",
        message.trim_end()
    );
    serde_yaml::to_string(&text).expect("a string serializes")
}

/// Ends a run that Helm made: `message` on standard error as usual, and for Helm in the
/// document it quotes; exit status 0, or Helm would read nothing.
pub(crate) fn fail_for_helm(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("{message}");
    crate::exit::write(for_helm(message))?;
    Ok(ExitCode::SUCCESS)
}

impl HelmPostRenderArgs {
    /// Renders the release; run by Helm, a failure is written for Helm to show.
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        match self.render() {
            Err(error) if run_by_helm() => fail_for_helm(&format!(
                "error: {}",
                crate::words::error_text(&error, &crate::words::Flags)
            )),
            result => result,
        }
    }

    fn render(&self) -> anyhow::Result<ExitCode> {
        let mut config = self.settings.config(self.flavor.flavor.flavor())?;
        self.flavor.apply(&mut config)?;
        let mut arguments = self.settings.arguments()?;
        arguments.extend(self.flavor.arguments());
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
