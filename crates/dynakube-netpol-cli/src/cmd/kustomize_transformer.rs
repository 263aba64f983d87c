//! The kustomize transformer plugin (hidden `kustomize-transformer`, or the binary under the
//! name `NetworkPolicyGenerator`): resources on standard input, the resources and their policies
//! on standard output; the argument is the NetworkPolicyGenerator config file.

use std::path::Path;
use std::process::ExitCode;

use dynakube_netpol::source::Limits;
use serde_yaml::Value;

use crate::manifests::{
    Consumer, TRANSFORMER_NAME, add_policies, generator_config, metadata_str, write_stream,
};

/// The kustomize transformer plugin: `args` holds the config file's path.
pub(crate) fn run(args: &[std::ffi::OsString]) -> anyhow::Result<ExitCode> {
    let [path] = args else {
        anyhow::bail!(
            "as a kustomize transformer plugin ({TRANSFORMER_NAME}) the only argument is the path of its config file; run `dynakube-netpol --help` for the command-line tool"
        );
    };
    let path = Path::new(path);
    let limits = Limits::default();
    let name = path.display().to_string();
    let value: Value = dynakube_netpol::source::documents(
        &name,
        &crate::settings::read_path(path, &limits)?,
        &limits,
    )?
    .into_iter()
    .next()
    .map(|(_, value)| value)
    .ok_or_else(|| anyhow::anyhow!("{name}: the config file is empty"))?;
    // kustomize hands over a copy in a temporary file; its name would only puzzle.
    let temporary = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("kust-plugin-config-"));
    let name = match metadata_str(&value, &["name"]) {
        Some(config) if temporary => format!("{TRANSFORMER_NAME} {config}"),
        _ => name,
    };
    let config = generator_config(&value)
        .map_err(|(field, message)| anyhow::anyhow!("{name}, field `{field}`: {message}"))?;
    let reworded =
        |e: anyhow::Error| anyhow::anyhow!(crate::words::error_text(&e, &crate::words::Spec));
    let text = crate::settings::read("-", &config.limits).map_err(reworded)?;
    let name = "the resources on standard input".to_string();
    let items = [(name, text.clone())];
    let added =
        add_policies(config, &items, vec!["-".into()], Consumer::Kustomize).map_err(reworded)?;
    write_stream(&text, &added)
}
