//! `verify`: policies checked against the matrix of DynaKube and EdgeConnect resources, flow by
//! flow, and what they allow beyond it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use dynakube_netpol::matrix::Matrix;
use dynakube_netpol::resolve::Addresses;
use dynakube_netpol::source::Limits;
use dynakube_netpol::{Flavor, evaluate, output, verify};

use crate::say::ReportFormat;
use crate::settings::{Sources, read};
use crate::{exit, locking, say};

pub(crate) const HELP: &str = "\
Examples:
  dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies/
  kubectl get networkpolicies -A -o yaml > policies.yaml
  kubectl get pods,namespaces -A -o yaml > cluster.yaml
  dynakube-netpol verify dynakube.yaml --cluster profile.yaml --hosts hosts.yaml \\
    --policies policies.yaml --pods cluster.yaml --format json";

#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    sources: Sources,

    /// The policies: a file or a directory of them (networking.k8s.io/v1 NetworkPolicies,
    /// policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicies, cilium.io/v2
    /// CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies, alone or in lists such as
    /// `kubectl get networkpolicies -A -o yaml` prints; a directory
    /// gives its *.yaml, *.yml and *.json files, its subdirectories' too with -R); `-` reads
    /// standard input.
    #[arg(long, value_name = "PATH")]
    policies: String,

    /// Pods and namespaces, as `kubectl get pods,namespaces -A -o yaml` prints them (on
    /// Cilium, with the agent's `cilium-config` ConfigMap, whose options decide). Without
    /// it, a model cluster is built from the matrix: one pod per Dynatrace workload, the
    /// cluster DNS, Prometheus, an injected application namespace and an unrelated one.
    /// May be given more than once (for example a pod list and a namespace list), and name a
    /// directory as --policies does; `-` reads standard input. A block of the cluster
    /// profile's nodeCIDRs, controlPlaneCIDRs or apiServer.endpointCIDRs that holds the
    /// address of one of these pods outside the host network is a warning naming the rows it
    /// widens.
    #[arg(long, value_name = "FILE")]
    pods: Vec<String>,

    /// Also write the cluster, the policies and every connection tried, with its verdict, into
    /// DIR (policies.yaml, cluster.yaml, expected.yaml), for cross-checks with other analyzers.
    #[arg(long, value_name = "DIR")]
    write_case: Option<PathBuf>,

    /// `text` (a table, one row per flow), `json`, `sarif` (SARIF 2.1.0 for code scanning),
    /// `junit` (JUnit XML, a test case per flow and finding) or `markdown` (for a pull-request
    /// comment).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: ReportFormat,

    /// Findings that fail the verification (exit 1) besides denied flows, comma separated:
    /// `extra` (connections allowed beyond the matrix), `unchecked` (flows that could not be
    /// checked), `foreign` (pods of the operator namespace that no Dynatrace component
    /// accounts for, which default-deny isolates; with --pods).
    #[arg(long, value_name = "FINDINGS", value_delimiter = ',')]
    fail_on: Vec<FailOn>,

    /// Check the NetworkPolicies even when the policy files also hold policies of kinds
    /// verify cannot evaluate (Calico's, the v1alpha1 AdminNetworkPolicy); the report counts
    /// them.
    #[arg(long)]
    allow_unevaluated: bool,

    /// Accept policy files without any policy.
    #[arg(long)]
    allow_no_policies: bool,

    /// A lock file giving addresses of hosts --hosts does not (default dynakube-netpol.lock
    /// when it exists). verify reads it and never resolves.
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,

    /// The network plugin, for what the specifications leave to it: `generic` (no particular
    /// plugin: what the APIs' own tests expect, address blocks match every address, pods'
    /// too), `calico` (address blocks match every address; no ClusterNetworkPolicy nodes or
    /// domainNames peers, which fail closed) or `cilium` (address blocks match no pod and no
    /// node; Cilium's own policies are enforced with the NetworkPolicies). Default: `cilium`
    /// when the policies include Cilium's kinds or --pods holds the Cilium agent's
    /// `cilium-config` ConfigMap (whose options the evaluator then follows), else `generic`. See docs/explain.md.
    #[arg(long, value_name = "NAME")]
    network_plugin: Option<crate::cmd::explain::PluginArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Connections the policies allow beyond the matrix.
    Extra,
    /// Flows that could not be checked.
    Unchecked,
    /// Pods of the operator namespace that no Dynatrace component accounts for (with --pods).
    Foreign,
}

impl VerifyArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        // The dump of the pods, by far the largest input, is read while the rest is (after it,
        // when it is standard input, which the other inputs may name too).
        let limits = self.sources.settings.limits.dump_limits();
        let recursive = self.sources.input.recursive;
        let read_pods = || crate::settings::read_cluster(&self.pods, recursive, &limits);
        let (prepared, pods) = if self.pods.is_empty() {
            (self.prepare(), None)
        } else if self.pods.iter().any(|name| name == "-") {
            let prepared = self.prepare();
            (prepared, Some(read_pods()))
        } else {
            std::thread::scope(|scope| {
                let pods = scope.spawn(read_pods);
                let prepared = self.prepare();
                let pods = pods
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (prepared, Some(pods))
            })
        };
        let (matrix, addresses, files) = prepared?;
        let cluster = match pods {
            None => verify::model_cluster(&matrix),
            Some(cluster) => {
                let cluster = cluster?;
                // Blocks of the profile that hold these pods' addresses widen the rules naming them;
                // the cluster's Cilium agent may not do what the profile says it does.
                say::print_notes(&verify::blocks_holding_pods(&matrix, &cluster.pods));
                say::print_notes(&verify::agent_against_profile(&matrix, &cluster));
                cluster
            }
        };
        let options = evaluate::Options {
            network_plugin: self
                .network_plugin
                .map(crate::cmd::explain::PluginArg::plugin),
            cilium_cidr_match_nodes: matrix.profile.cilium.cidr_match_nodes,
            ..evaluate::Options::default()
        };
        let index = evaluate::Index::with_options(cluster, &files, options)?;
        let mut report = verify::verify(&matrix, &index, &addresses);
        report.read_from(&files);
        if let Some(dir) = &self.write_case {
            write_case(dir, &index, &files.policies, &report)?;
        }
        // The process ends soon: its memory is given back whole, not the index's parts one by
        // one (a large cluster's take longer than writing the report).
        std::mem::forget(index);
        let fail_on = verify::FailOn {
            extra: self.fail_on.contains(&FailOn::Extra),
            unchecked: self.fail_on.contains(&FailOn::Unchecked),
            foreign: self.fail_on.contains(&FailOn::Foreign),
        };
        // Findings no policy file holds point at the first file of resources (SARIF).
        let resources = (self.sources.input.names()).find(|input| Path::new(input).is_file());
        exit::write(report.render(
            self.format.format(),
            &fail_on,
            resources.map(String::as_str),
        ))?;
        let failures = report.failures(&fail_on);
        // So are the report's (a probe for each kind of connection) and the policies'.
        std::mem::forget(report);
        std::mem::forget(files);
        if failures.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: verification failed: {}", failures.join("; "));
        Ok(exit::code(exit::FAILED))
    }

    /// The matrix of the resources, the addresses of its hosts and the policy files.
    fn prepare(&self) -> anyhow::Result<(Matrix, Addresses, evaluate::PolicyFiles)> {
        let loaded = self.sources.load(Flavor::Kubernetes)?;
        let matrix = loaded.matrix()?;
        let (hosts, fallback) = (loaded.hosts, loaded.config.fallback);
        // The lock, when there is one, gives addresses too; verify never resolves.
        let lock = locking::read_only(self.lock.as_deref())?;
        let resolver = dynakube_netpol::lock::Layered::hosts_over_lock(&hosts, &lock);
        let policy = loaded.config.address_policy();
        let addresses =
            dynakube_netpol::resolve::resolve_known(&matrix, &resolver, fallback, &policy)?;
        let files = self.read_policies(&self.sources.settings.limits.dump_limits())?;
        Ok((matrix, addresses, files))
    }

    /// Reads the policy files; no NetworkPolicy, or policies of kinds the evaluator cannot
    /// evaluate, are errors unless an option accepts them.
    fn read_policies(&self, limits: &Limits) -> anyhow::Result<evaluate::PolicyFiles> {
        let mut files = evaluate::PolicyFiles::default();
        for name in crate::inputs::expand_or_none(&self.policies, self.sources.input.recursive)? {
            files.extend([evaluate::read_policies(
                &name,
                &read(&name, limits)?,
                limits,
            )?]);
        }
        let source = &self.policies;
        if !files.unevaluated.is_empty() && !self.allow_unevaluated {
            let kinds: Vec<String> = files
                .unevaluated
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            anyhow::bail!(
                "{source} holds policies verify cannot evaluate ({}); the report would not account for them. Pass --allow-unevaluated to check the NetworkPolicies alone",
                kinds.join(", ")
            );
        }
        // Every policy read is in `files.files`, whatever its dialect.
        if files.files.is_empty() && !self.allow_no_policies {
            anyhow::bail!(
                "{source} holds no networking.k8s.io/v1 NetworkPolicy or policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy; pass --allow-no-policies to verify a cluster without any"
            );
        }
        Ok(files)
    }
}

/// Writes a cross-check case into `dir`: the cluster and policies as YAML, and every connection
/// tried with its verdict.
fn write_case(
    dir: &Path,
    index: &evaluate::Index,
    policies: &[k8s_openapi::api::networking::v1::NetworkPolicy],
    report: &verify::Report,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in report.case_files(index, policies) {
        output::write_file(&dir.join(name), &text)?;
    }
    Ok(())
}
