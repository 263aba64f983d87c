//! `explain`: whether one connection is allowed under a cluster's policies, and the tier,
//! policy and rule that decided each side.

use std::process::ExitCode;

use clap::ValueEnum;
use dynakube_netpol::evaluate::{self, NetworkPlugin};

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
    --port 443/TCP --format json

A JSON dump of 8 MiB or more: laid out as kubectl prints it, each question reads only the
items it needs, found by their bytes; otherwise, with JSON policy files, the first question
keeps an index of the files in $DYNAKUBE_NETPOL_CACHE_DIR (else dynakube-netpol/ of
$XDG_CACHE_HOME or ~/.cache) and later ones on the unchanged files read only what they need.
An empty DYNAKUBE_NETPOL_CACHE_DIR= reads every input whole, checking every item, each time.";

#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// Policies: a file or a directory of them (its *.yaml, *.yml and *.json files), of any
    /// dialect the evaluator reads (networking.k8s.io/v1 NetworkPolicy,
    /// policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy, cilium.io/v2
    /// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy, with the CiliumCIDRGroups they
    /// name), alone or in lists as `kubectl get -o yaml|json` prints them; `-` reads standard
    /// input. May be given more than once.
    #[arg(long, value_name = "PATH", required = true)]
    policies: Vec<String>,

    /// Also read the subdirectories of directories given with --policies, as kubectl's -R
    /// does (without it, they are left out with a warning).
    #[arg(short = 'R', long)]
    recursive: bool,

    /// Namespaces, pods and nodes, as `kubectl get namespaces,pods,nodes -A -o yaml` (or
    /// `-o json`) prints them; for Cilium's `kube-apiserver` entity the `kubernetes` Service's
    /// endpointslices, for Cilium's `toServices` the Services and their endpointslices, and for
    /// the Cilium agent's options its `cilium-config` ConfigMap; `-` reads standard input.
    /// Pods that have ended (phase Succeeded or Failed) are left out: they have no network.
    #[arg(long, value_name = "PATH")]
    pods: String,

    /// The source: NAMESPACE/POD (a pod of --pods), node/NAME (that node's host network), or an
    /// IP address that is no pod's (nor the cluster IP of a Service of --pods).
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
    /// when the policies include Cilium's kinds or --pods holds the Cilium agent's
    /// `cilium-config` ConfigMap (whose options the evaluator then follows), else `generic`.
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
    /// The policy files: each `--policies` as a file, or the files of a directory (and of its
    /// subdirectories, with `-R`).
    fn policy_files(&self) -> anyhow::Result<Vec<String>> {
        let mut names = Vec::new();
        for path in &self.policies {
            names.extend(inputs::expand_or_none(path, self.recursive)?);
        }
        Ok(names)
    }

    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        // Every input is what a cluster prints.
        let limits = self.limits.dump_limits();
        let options = evaluate::Options {
            network_plugin: self.network_plugin.map(PluginArg::plugin),
            ..evaluate::Options::default()
        };
        let policies = self.policy_files()?;
        // Standard input, which one input may be, is read here and handed on as text (`read`
        // refuses to read it twice, as for every subcommand); files the library reads, and
        // keeps an index of a large dump.
        let mut stdin = None;
        for _ in (std::iter::once(&self.pods).chain(&policies)).filter(|name| *name == "-") {
            stdin = Some(read("-", &limits)?);
        }
        let cache = cache_dir();
        let files = evaluate::ExplainFiles {
            pods: &self.pods,
            policies: &policies,
            options,
            limits,
            cache: cache.as_deref(),
            stdin: stdin.as_deref(),
        };
        let answer = evaluate::explain_files(&files, &self.from, &self.to, &self.port)?;
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

/// Where `explain` keeps indexes of large inputs: `$DYNAKUBE_NETPOL_CACHE_DIR` (empty: nowhere,
/// and no shortcut is taken), else `dynakube-netpol` in `$XDG_CACHE_HOME` (an absolute path)
/// or in `$HOME/.cache`.
fn cache_dir() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    if let Some(dir) = std::env::var_os("DYNAKUBE_NETPOL_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            let home = PathBuf::from(std::env::var_os("HOME")?);
            home.is_absolute().then(|| home.join(".cache"))
        })?;
    Some(base.join("dynakube-netpol"))
}
