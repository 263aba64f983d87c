//! `profile`: a commented cluster profile written from a dump of the cluster.

use std::process::ExitCode;

use crate::settings::read;
use crate::{exit, say, words};

pub(crate) const HELP: &str = "\
Examples:
  kubectl get nodes,services,endpointslices,pods,namespaces,deployments,daemonsets -A -o json \\
    > cluster-dump.json
  dynakube-netpol profile cluster-dump.json > cluster.yaml
  kubectl get nodes,services,endpointslices,pods,namespaces,deployments,daemonsets -A -o json \\
    | dynakube-netpol profile - > cluster.yaml";

#[derive(Debug, clap::Args)]
pub(crate) struct ProfileArgs {
    /// Cluster dumps: what `kubectl get nodes,services,endpointslices,pods,namespaces,
    /// deployments,daemonsets -A -o json` (or `-o yaml`) prints, in one file or several; `-`
    /// reads standard input.
    #[arg(required = true, value_name = "DUMP")]
    dumps: Vec<String>,

    #[command(flatten)]
    limits: crate::settings::LimitArgs,
}

impl ProfileArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let limits = self.limits.dump_limits();
        let mut files = Vec::new();
        for file in &self.dumps {
            files.push((file.clone(), read(file, &limits)?));
        }
        let found = dynakube_netpol::discover::profile(&files, &limits)?;
        say::print_notes(&found.notes);
        exit::write(found.to_yaml(&words::Flags))?;
        Ok(ExitCode::SUCCESS)
    }
}
