//! `profile`: a commented cluster profile written from a dump of the cluster.

use std::process::ExitCode;

use dynakube_netpol::source::Limits;

use crate::settings::read;
use crate::{exit, ranges, say, words};

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

    /// The most bytes one dump may have (the dumps of the largest clusters are big; 1 to
    /// 4294967296).
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = 4 << 30,
        value_parser = ranges::usize_in(ranges::INPUT_BYTES),
        allow_negative_numbers = true
    )]
    max_input_bytes: usize,

    /// The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to
    /// 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself).
    #[arg(
        long,
        value_name = "LEVELS",
        default_value_t = Limits::default().max_depth,
        value_parser = ranges::usize_in(ranges::DEPTH),
        allow_negative_numbers = true
    )]
    max_depth: usize,
}

impl ProfileArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let limits = Limits {
            max_bytes: self.max_input_bytes,
            max_depth: self.max_depth,
        };
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
