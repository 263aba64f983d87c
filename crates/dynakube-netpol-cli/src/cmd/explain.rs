//! `explain`: whether one connection is allowed under a cluster's policies, and the tier,
//! policy and rule that decided each side.

use std::process::ExitCode;

use clap::ValueEnum;
use dynakube_netpol::evaluate::{self, NetworkPlugin};
use dynakube_netpol::source::Limits;

use crate::settings::read;
use crate::{exit, inputs};

pub(crate) const HELP: &str = "\
Examples:
  kubectl get networkpolicies -A -o yaml > policies.yaml
  kubectl get clusternetworkpolicies -o yaml > cluster-policies.yaml
  kubectl get namespaces,pods,nodes -A -o yaml > pods.yaml
  dynakube-netpol explain --policies policies.yaml --policies cluster-policies.yaml \\
    --pods pods.yaml --from shop/web --to shop/db --port 5432/TCP
  dynakube-netpol explain --policies policies/ --pods pods.yaml \\
    --from dynatrace/dynakube-activegate-0 --to abc12345.live.dynatrace.com=203.0.113.10 \\
    --port 443/TCP --format json";

#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// Policies: a file or a directory of them (its *.yaml, *.yml and *.json files), of any
    /// dialect the evaluator reads (networking.k8s.io/v1 NetworkPolicy,
    /// policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy, cilium.io/v2
    /// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy), alone or in lists as `kubectl
    /// get -o yaml|json` prints them; `-` reads standard input. May be given more than once.
    #[arg(long, value_name = "PATH", required = true)]
    policies: Vec<String>,

    /// Namespaces, pods and nodes, as `kubectl get namespaces,pods,nodes -A -o yaml` (or
    /// `-o json`) prints them, and for Cilium's `kube-apiserver` entity the `kubernetes`
    /// Service's endpointslices; `-` reads standard input.
    #[arg(long, value_name = "PATH")]
    pods: String,

    /// The source: NAMESPACE/POD (a pod of --pods), node/NAME (that node's host network), or an
    /// IP address that is no pod's.
    #[arg(long, value_name = "ENDPOINT", allow_hyphen_values = true)]
    from: String,

    /// The destination: as --from, or NAME=IP (an address looked up by the DNS name NAME, for
    /// ClusterNetworkPolicy domainNames).
    #[arg(long, value_name = "ENDPOINT", allow_hyphen_values = true)]
    to: String,

    /// The destination port and protocol: 443/TCP, 53/UDP, 9999/SCTP.
    #[arg(long, value_name = "PORT/PROTOCOL")]
    port: String,

    /// `text` (the verdict, then each side and the rules that decided it) or `json`
    /// (`{"allowed": bool, "egress": {...}, "ingress": {...}}`).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: ExplainFormat,

    /// The network plugin, for what the specifications leave to it: `generic` (no particular
    /// plugin: what the APIs' own tests expect, address blocks match every address, pods'
    /// too), `calico` (address blocks match every address; no ClusterNetworkPolicy nodes or
    /// domainNames peers, which fail closed) or `cilium` (address blocks match no pod and no
    /// node; Cilium's own policies are enforced with the NetworkPolicies). Default: `cilium`
    /// when the policies include Cilium's kinds, else `generic`.
    #[arg(long, value_name = "NAME")]
    network_plugin: Option<PluginArg>,

    #[command(flatten)]
    limits: crate::settings::LimitArgs,
}

/// `--format` of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    /// For people.
    Text,
    /// JSON for tools.
    Json,
}

/// `--network-plugin`, as the library names the plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PluginArg {
    /// No particular plugin (the default).
    Generic,
    /// Calico.
    Calico,
    /// Cilium.
    Cilium,
}

impl PluginArg {
    /// The library's plugin of the same name.
    pub(crate) fn plugin(self) -> NetworkPlugin {
        match self {
            PluginArg::Generic => NetworkPlugin::Generic,
            PluginArg::Calico => NetworkPlugin::Calico,
            PluginArg::Cilium => NetworkPlugin::Cilium,
        }
    }
}

impl ExplainArgs {
    /// Reads the policy files; kinds the evaluator cannot evaluate are an error.
    fn read_policies(&self, limits: &Limits) -> anyhow::Result<evaluate::PolicyFiles> {
        let mut files = evaluate::PolicyFiles::default();
        for path in &self.policies {
            for name in inputs::expand_or_none(path, false)? {
                files.extend([evaluate::read_policies(
                    &name,
                    &read(&name, limits)?,
                    limits,
                )?]);
            }
        }
        if !files.unevaluated.is_empty() {
            let kinds: Vec<String> = files
                .unevaluated
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            anyhow::bail!(
                "the policies hold kinds explain cannot evaluate ({}): the answer would not account for them",
                kinds.join(", ")
            );
        }
        Ok(files)
    }

    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let limits = self.limits.limits();
        // The dump, by far the largest input, is read while the policies are.
        let (files, cluster) = std::thread::scope(|scope| {
            let pods = std::slice::from_ref(&self.pods);
            let cluster = scope.spawn(|| crate::settings::read_cluster(pods, false, &limits));
            let files = self.read_policies(&limits);
            let cluster = cluster
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (files, cluster)
        });
        let (files, cluster) = (files?, cluster?);
        let options = evaluate::Options {
            network_plugin: self.network_plugin.map(PluginArg::plugin),
            ..evaluate::Options::default()
        };
        let index = evaluate::Index::with_options(cluster, &files, options)?;
        let answer = evaluate::explain(&index, &self.from, &self.to, &self.port)?;
        // The process ends here: its memory is given back whole, not the index's parts one by
        // one (a large cluster's take longer than the answer did).
        std::mem::forget(index);
        exit::write(match self.format {
            ExplainFormat::Text => answer.to_string(),
            ExplainFormat::Json => answer.to_json(),
        })?;
        Ok(exit::code(if answer.allowed() {
            exit::SUCCESS
        } else {
            exit::FAILED
        }))
    }
}
