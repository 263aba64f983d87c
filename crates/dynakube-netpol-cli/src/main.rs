//! `dynakube-netpol`: least-privilege network policies for the Dynatrace Operator, from its
//! DynaKube and EdgeConnect resources.

mod locking;
mod zone_apply;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use dynakube_netpol::cluster::{AnyAddress, ClusterProfile};
use dynakube_netpol::input::{ParseOptions, UnknownFields, parse_into};
use dynakube_netpol::matrix::{Note, OperatorVersion, Options, ZoneFallback};
use dynakube_netpol::output::{self, Output, Provenance, normalized_path};
use dynakube_netpol::resolve::{Fallback, FixedHosts};
use dynakube_netpol::resources::{Inputs, ProxyUrl};
use dynakube_netpol::source::Limits;
use dynakube_netpol::{evaluate, verify};

/// Least-privilege Kubernetes network policies for the Dynatrace Operator.
///
/// Reads DynaKube (dynatrace.com/v1beta3 to v1beta6) and EdgeConnect (v1alpha1, v1alpha2)
/// resources, builds the matrix of every connection the Dynatrace components make or accept,
/// and writes NetworkPolicies that allow exactly that matrix and deny everything else in the
/// operator namespace.
#[derive(Debug, Parser)]
#[command(name = "dynakube-netpol", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate network policies from DynaKube and EdgeConnect resources.
    ///
    /// Writes one multi-document YAML stream to standard output, or with --output-dir one file
    /// per policy plus a kustomization.yaml. The output is byte-identical for identical inputs.
    /// Notes on what the policies assume or cannot express go to standard error and into the
    /// comment header of the output.
    ///
    /// A Kubernetes NetworkPolicy cannot name hosts: every external host (the apiUrl host, the
    /// proxy, registries, EdgeConnect hosts) needs addresses from --hosts, from the lock file,
    /// or --fqdn-fallback public-internet to allow its port to every public address. The lock
    /// is used when --lock, --nameserver or --offline is given or dynakube-netpol.lock exists
    /// in the current directory: hosts it lacks are resolved with DNS and added (--offline
    /// fails instead); without a lock, nothing is resolved.
    ///
    /// Exit status: 0 on success; 1 when --check finds the directory stale; 2 when the input is
    /// invalid (nothing is written then).
    #[command(after_long_help = GENERATE_HELP)]
    Generate(Generate),

    /// Check network policies against the matrix of DynaKube and EdgeConnect resources.
    ///
    /// Places every flow of the matrix in a cluster — the pods and namespaces of --pods, or a
    /// model built from the matrix's own labels — and decides each with an exact evaluator of
    /// NetworkPolicy semantics: allowed (and by which policies), denied (and which policies
    /// isolate the pod), or unchecked (a peer without address or fixed port). Then tries
    /// connections from and to the Dynatrace pods that no flow needs (other pods' ports,
    /// common ports, outside addresses) and lists those the policies allow.
    ///
    /// Exit status: 0 when no flow is denied; 1 when some flow is denied; 2 when the input is
    /// invalid.
    #[command(after_long_help = VERIFY_HELP)]
    Verify(Verify),

    /// Report the pods the operator's webhook left uninjected, and how to bring them back.
    ///
    /// Reads pod dumps (`kubectl get pods -A -o yaml` or `-o json`: a List, single pods or
    /// several documents; `-` for standard input) and reports every pod with a pair of
    /// `<prefix>.dynatrace.com/injected: "false"` and `<prefix>.dynatrace.com/reason`
    /// annotations, for every prefix and for the reasons of every operator release (unknown
    /// reasons as they are). Pods are grouped by owner (a Deployment through its ReplicaSet,
    /// a StatefulSet, DaemonSet, Job, or the bare pod) and classified: transient (a restart
    /// fixes it once the DynaKube is ready; one restart command per owner), needs a
    /// configuration fix first, unknown, or informational. With --dynakube and the DynaKubes'
    /// status (`kubectl get dynakube -o yaml`), it says whether a restart would inject now.
    ///
    /// Exit status: 0 when no pod needs attention (none skipped, or only NoMutationNeeded); 3
    /// when some pod does; 2 when the input is invalid.
    Audit(AuditArgs),

    /// Print, per network zone, what must exist in the Dynatrace environment before the
    /// policies and the DynaKubes are applied; with --apply, create it.
    ///
    /// A zone with fallback NONE (or ONLY_DEFAULT_ZONE) must be created upfront: an
    /// ActiveGate that registers in a missing zone creates it with fallback ANY. For such
    /// zones the plan gives the request (PUT /api/v2/networkZones/<zone> with
    /// {"fallbackMode": "NONE"}, token permission networkZones.write) as text, JSON and a curl
    /// line whose environment and token are placeholders. Each zone's fallback comes from
    /// `networkZones` in the cluster profile, else --zone-fallback.
    ///
    /// With --apply --api-token-env VAR, the requests are made with the token of that
    /// environment variable (never printed), idempotently: each zone is read first and written
    /// only when it is missing or its fallback differs.
    ///
    /// Exit status: 0 on success; 1 when --apply fails; 2 when the input is invalid.
    ZonePlan(ZonePlanArgs),

    /// Resolve the hosts the policies need into the lock file; refresh or check it.
    ///
    /// The lock (--lock, default dynakube-netpol.lock) holds per host the addresses DNS gave
    /// (A and AAAA), the CNAME chain, the smallest TTL and when it was resolved. Without
    /// options, hosts the lock lacks are resolved and added. With --refresh, every host is
    /// resolved again: addresses seen before are kept unless --prune (a CDN that rotates its
    /// addresses must not break running pods between two refreshes), and what was added and
    /// removed is printed. With --check, nothing is written: exit 1 and a unified diff when a
    /// refresh would change the lock, for a scheduled CI job. Hosts given in --hosts are never
    /// resolved.
    ///
    /// Exit status: 0 on success; 1 when --check finds the lock stale; 2 when the input is
    /// invalid or DNS fails (nothing is written then).
    Lock(LockArgs),
}

#[derive(Debug, clap::Args)]
struct LockArgs {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    dns: locking::DnsArgs,

    /// Resolve every host again and merge the answers into the lock.
    #[arg(long)]
    refresh: bool,

    /// Write nothing: exit 1 with a unified diff when --refresh would change the lock.
    #[arg(long, conflicts_with = "refresh")]
    check: bool,

    /// With --refresh or --check: drop addresses DNS no longer gives, and hosts the policies
    /// no longer need.
    #[arg(long)]
    prune: bool,
}

impl LockArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let Loaded {
            inputs,
            profile,
            hosts,
            options,
            ..
        } = self.sources.load()?;
        let matrix = dynakube_netpol::matrix::build(&inputs, &profile, &options)?;
        let needed = dynakube_netpol::lock::needed_hosts(&matrix);
        if self.refresh || self.check {
            return locking::refresh(&self.dns, &needed, &hosts, self.prune, self.check);
        }
        let completed = self.dns.complete(&needed, &hosts)?;
        for note in &completed.notes {
            eprintln!("{note}");
        }
        let path = self.dns.path();
        if completed.changed {
            locking::write_lock(&path, &completed.lock)?;
        }
        println!(
            "{}: {} host(s) locked",
            path.display(),
            completed.lock.hosts.len()
        );
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Debug, clap::Args)]
struct ZonePlanArgs {
    #[command(flatten)]
    sources: Sources,

    /// `text` or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    output: Format,

    /// Create the zones in the environments (needs --api-token-env).
    #[arg(long, requires = "api_token_env")]
    apply: bool,

    /// The environment variable that holds the API token for --apply (permissions
    /// networkZones.read and networkZones.write).
    #[arg(long, value_name = "VAR")]
    api_token_env: Option<String>,

    /// Seconds each request of --apply may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
}

impl ZonePlanArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let Loaded {
            inputs,
            profile,
            options,
            ..
        } = self.sources.load()?;
        let plan = dynakube_netpol::zones::plan(&inputs, &profile, &options);
        if !self.apply {
            print!(
                "{}",
                match self.output {
                    Format::Text => plan.to_text(),
                    Format::Json => plan.to_json(),
                }
            );
            return Ok(ExitCode::SUCCESS);
        }
        let var = self.api_token_env.as_deref().unwrap_or_default();
        let token = std::env::var(var)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("--api-token-env: the environment variable {var} is not set")
            })?;
        match zone_apply::apply(
            &plan,
            token.trim(),
            std::time::Duration::from_secs(self.timeout),
        ) {
            Ok(applied) => {
                match self.output {
                    Format::Json => println!(
                        "{}",
                        serde_json::to_string_pretty(&applied).expect("the result serializes")
                    ),
                    Format::Text => {
                        for zone in &applied {
                            let what = match &zone.outcome {
                                zone_apply::Outcome::Unchanged => {
                                    "exists with this fallback: unchanged".to_string()
                                }
                                zone_apply::Outcome::Created => "created".to_string(),
                                zone_apply::Outcome::Updated { from } => {
                                    format!("fallback changed from {from}")
                                }
                                zone_apply::Outcome::Implicit => {
                                    "created by its ActiveGate (fallback ANY): nothing to do"
                                        .to_string()
                                }
                            };
                            println!(
                                "zone {} (fallback {}) at {}: {what}",
                                zone.zone, zone.fallback, zone.api_url
                            );
                        }
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => {
                eprintln!("error: {error:#}");
                Ok(ExitCode::from(1))
            }
        }
    }
}

#[derive(Debug, clap::Args)]
struct AuditArgs {
    /// Pod dumps (`-` reads standard input).
    #[arg(required = true, value_name = "PODS")]
    pods: Vec<String>,

    /// DynaKubes with their status, to say whether restarting now would inject; may be given
    /// more than once.
    #[arg(long, value_name = "FILE")]
    dynakube: Vec<String>,

    /// `text` (grouped, with restart commands) or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    output: Format,

    /// The most bytes one input file may have (pod dumps of large clusters are big).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    max_input_bytes: usize,

    /// The deepest nesting of YAML flow collections ([...], {...}) an input may have.
    #[arg(long, value_name = "LEVELS", default_value_t = Limits::default().max_depth)]
    max_depth: usize,
}

impl AuditArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let limits = Limits {
            max_bytes: self.max_input_bytes,
            max_depth: self.max_depth,
        };
        let mut files = Vec::new();
        for file in &self.pods {
            files.push((file.clone(), read(file, &limits)?));
        }
        let mut inputs = Inputs::default();
        let options = ParseOptions {
            limits,
            // The audit only reads the status; a field of a newer operator must not stop it.
            unknown_fields: UnknownFields::Warn,
            ..ParseOptions::default()
        };
        for file in &self.dynakube {
            parse_into(&mut inputs, file, &read(file, &limits)?, &options)?;
        }
        let audit = dynakube_netpol::audit::audit(&files, &inputs.dynakubes, &limits)?;
        let text = match self.output {
            Format::Text => audit.to_text(),
            Format::Json => audit.to_json(),
        };
        print!("{text}");
        Ok(if audit.needs_attention() {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        })
    }
}

const GENERATE_HELP: &str = "\
Cluster profile (--cluster), every field optional:
  namespace: dynatrace                # default: the resources' namespace, else dynatrace
  apiServer:
    serviceCIDRs: [10.96.0.1/32]      # ClusterIP of the kubernetes Service (port 443)
    endpointCIDRs: [192.0.2.10/32]    # kube-apiserver endpoints
    ports: [443, 6443]                # endpoint ports (default)
  dns: {provider: kube-dns}           # kube-dns | openshift | node-local (with address)
  nodeCIDRs: [192.0.2.0/24]           # kubelet probes, host-network OneAgents
  controlPlaneCIDRs: [192.0.2.10/32]  # kube-apiserver calling the webhook
  prometheus: {namespace: monitoring, podLabels: {app.kubernetes.io/name: prometheus}}
  operatorVersion: \"1.10\"             # the operator release (default: the newest serving the CRs)
  csiDriver: true                     # Helm csidriver.enabled
  helm: {webhook: {hostNetwork: false, ports: {server: 8443}}, csidriver: {migrationMode: false}}
  networkZones: {k8s-prod: none}      # each zone's fallback (default --zone-fallback)
  communicationEndpoints: [https://10.0.0.1:443/communication]   # when no CR status names them
  platformToken: false                # the API tokens are platform tokens (public registry, 1.10+)
  prometheusTargets: [{namespace: shop, podLabels: {app: web}, ports: [9090]}]   # E10, E21
  databases: [{cidrs: [10.20.0.0/16], ports: [5432]}]              # E22 (or namespace/podLabels)
  activeGateClients: [monitoring]     # more namespaces calling the ActiveGate
  classicFullStackNamespaces: [shop]  # classicFullStack apps reaching a routing ActiveGate
  clusterDomain: cluster.local
  cilium: {hostFirewall: false, controlPlaneHostNetwork: false, appEgress: false}
Missing addresses fall back to any address on the flow's ports, with a warning.

Hosts file (--hosts):
  abc12345.live.dynatrace.com: [203.0.113.10, 203.0.113.11]
  \"*.internal.example.com\": [10.30.0.0/16]

Lock file (--lock, default dynakube-netpol.lock; see `dynakube-netpol lock --help`):
  abc12345.live.dynatrace.com:
    addresses: [52.10.0.1, 2600:1f18::10]   # A and AAAA
    cnames: [tenant.cdn.example.net]        # the CNAME chain
    ttl: 30                                 # the smallest TTL seen
    resolved: 2026-01-02T03:04:05Z

Examples:
  dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml
  dynakube-netpol generate dynakube.yaml --nameserver 192.0.2.53 --lock dynakube-netpol.lock
  dynakube-netpol generate dynakube.yaml --offline -o policies/ --check
  kubectl get dynakubes,edgeconnects -n dynatrace -o yaml \\
    | dynakube-netpol generate - --fqdn-fallback public-internet
  dynakube-netpol generate dynakube.yaml --hosts hosts.yaml -o policies/ --check";

#[derive(Debug, clap::Args)]
struct Sources {
    /// Files with DynaKube and EdgeConnect resources (several YAML documents each); `-` reads
    /// standard input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,

    /// The cluster profile: namespace, operator release, kube-apiserver and node addresses,
    /// DNS, Prometheus, Helm values, network zones and the peers no resource can name. Every
    /// field is optional; see the README for the format and defaults.
    #[arg(long, value_name = "FILE")]
    cluster: Option<PathBuf>,

    /// Addresses of external hosts: a YAML map from host name (or EdgeConnect host pattern) to
    /// a list of IPs or CIDRs.
    #[arg(long, value_name = "FILE")]
    hosts: Option<PathBuf>,

    /// What to allow for a host without addresses. `public-internet`: its port to every public
    /// IPv4 and IPv6 address (not private, loopback, link-local or CGNAT ranges). Without this
    /// option such hosts are an error that lists them. (`verify` checks such hosts at a sample
    /// public address; without the option their flows are unchecked.)
    #[arg(long, value_name = "MODE")]
    fqdn_fallback: Option<FqdnFallback>,

    /// The fallback mode of the network zones the DynaKubes name in spec.networkZone. `none`:
    /// OneAgents, code modules and log monitoring reach only the in-cluster ActiveGate (which
    /// must have the routing capability), so only the ActiveGate leaves the cluster for them.
    /// `any` (Dynatrace's default) and `only-default-zone` let them reach the tenant too.
    #[arg(long, value_name = "MODE", default_value = "any")]
    zone_fallback: ZoneFallbackArg,

    /// The Dynatrace Operator release of the cluster, such as 1.9 or 1.10.2 (overrides
    /// operatorVersion in the cluster profile). Without either, the newest release that serves
    /// the DynaKubes' API versions is assumed, and a note says so.
    #[arg(long, value_name = "RELEASE", value_parser = parse_operator_version)]
    operator_version: Option<OperatorVersion>,

    /// The proxy URL of DynaKubes whose spec.proxy.valueFrom names a Secret, which this tool
    /// cannot read. Credentials, path and query in it are never written out.
    #[arg(long, value_name = "URL")]
    proxy_url: Option<String>,

    /// Accept address blocks of every address (0.0.0.0/0, ::/0) in the hosts file and the
    /// cluster profile. A rule with such a block admits the whole internet and the cluster
    /// network alike; without this option they are refused.
    #[arg(long)]
    allow_any_address: bool,

    /// Ignore fields that a resource's API version does not declare, with a warning each,
    /// instead of refusing the resource (as `kubectl apply --validate=false` would keep it;
    /// the API server then drops the fields). A misspelled field usually means a component
    /// the policies do not open for.
    #[arg(long)]
    ignore_unknown_fields: bool,

    /// The most bytes one input file may have.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_bytes)]
    max_input_bytes: usize,

    /// The deepest nesting of YAML flow collections ([...], {...}) an input may have.
    #[arg(long, value_name = "LEVELS", default_value_t = Limits::default().max_depth)]
    max_depth: usize,
}

#[derive(Debug, clap::Args)]
struct Generate {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    dns: locking::DnsArgs,

    /// `kubernetes`: networking.k8s.io/v1 NetworkPolicies (hosts as IP blocks). `cilium`:
    /// cilium.io/v2 CiliumNetworkPolicies (hosts as toFQDNs with DNS rules, kube-apiserver and
    /// nodes as entities; clusterwide policies for the host firewall and application egress
    /// when the cluster profile asks for them).
    #[arg(long, value_name = "FLAVOR", default_value = "kubernetes")]
    flavor: Flavor,

    /// Write one file per policy and a kustomization.yaml into DIR, removing files this tool
    /// wrote there before that are no longer generated.
    #[arg(short = 'o', long, value_name = "DIR")]
    output_dir: Option<PathBuf>,

    /// With --output-dir: write nothing; exit 1 and print a unified diff when DIR differs from
    /// what the inputs generate.
    #[arg(long, requires = "output_dir")]
    check: bool,

    /// With --output-dir: flush the new files to disk before they take the place of the old
    /// ones, so that a crash of the machine right after the write cannot leave empty files.
    /// Costs about a millisecond per file on slow disks.
    #[arg(long, requires = "output_dir")]
    sync: bool,
}

const VERIFY_HELP: &str = "\
Examples:
  dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies/
  kubectl get networkpolicies -A -o yaml > policies.yaml
  kubectl get pods,namespaces -A -o yaml > cluster.yaml
  dynakube-netpol verify dynakube.yaml --cluster profile.yaml --hosts hosts.yaml \\
    --policies policies.yaml --pods cluster.yaml --output json";

#[derive(Debug, clap::Args)]
struct Verify {
    #[command(flatten)]
    sources: Sources,

    /// The policies: a YAML file or a directory of them (networking.k8s.io/v1 NetworkPolicies,
    /// alone or in lists such as `kubectl get networkpolicies -A -o yaml` prints).
    #[arg(long, value_name = "PATH")]
    policies: PathBuf,

    /// Pods and namespaces, as `kubectl get pods,namespaces -A -o yaml` prints them. Without
    /// it, a model cluster is built from the matrix: one pod per Dynatrace workload, the
    /// cluster DNS, Prometheus, an injected application namespace and an unrelated one.
    /// May be given more than once (for example a pod list and a namespace list).
    #[arg(long, value_name = "FILE")]
    pods: Vec<PathBuf>,

    /// Also write the cluster, the policies and every connection tried, with its verdict, into
    /// DIR (policies.yaml, cluster.yaml, expected.yaml), for cross-checks with other analyzers.
    #[arg(long, value_name = "DIR")]
    write_case: Option<PathBuf>,

    /// `text` (a table, one row per flow) or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    output: Format,

    /// Findings that fail the verification (exit 1) besides denied flows, comma separated:
    /// `extra` (connections allowed beyond the matrix), `unchecked` (flows that could not be
    /// checked).
    #[arg(long, value_name = "FINDINGS", value_delimiter = ',')]
    fail_on: Vec<FailOn>,

    /// Check the NetworkPolicies even when the policy files also hold policies of kinds
    /// verify cannot evaluate (Cilium, Calico, AdminNetworkPolicy); the report counts them.
    #[arg(long)]
    allow_unevaluated: bool,

    /// Accept policy files without any NetworkPolicy.
    #[arg(long)]
    allow_no_policies: bool,

    /// A lock file giving addresses of hosts --hosts does not (default dynakube-netpol.lock
    /// when it exists). verify reads it and never resolves.
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
}

fn read_lock(path: &Path) -> anyhow::Result<dynakube_netpol::lock::Lock> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| dynakube_netpol::Error::Read {
        file: name.clone(),
        reason: e.to_string(),
    })?;
    Ok(dynakube_netpol::lock::Lock::parse(&name, &text)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Connections the policies allow beyond the matrix.
    Extra,
    /// Flows that could not be checked.
    Unchecked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Flavor {
    /// Kubernetes NetworkPolicies.
    Kubernetes,
    /// Cilium policies.
    Cilium,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table for people.
    Text,
    /// JSON for tools.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ZoneFallbackArg {
    /// Any ActiveGate or the tenant.
    Any,
    /// ActiveGates of the default zone.
    OnlyDefaultZone,
    /// Only the ActiveGates of the zone.
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FqdnFallback {
    /// Allow the host's port to every public address.
    PublicInternet,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(generate) => generate.run(),
        Command::Verify(verify) => verify.run(),
        Command::Audit(audit) => audit.run(),
        Command::ZonePlan(plan) => plan.run(),
        Command::Lock(lock) => lock.run(),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Everything the sources give, parsed.
struct Loaded {
    inputs: Inputs,
    profile: ClusterProfile,
    hosts: FixedHosts,
    fallback: Fallback,
    options: Options,
}

impl Sources {
    fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_input_bytes,
            max_depth: self.max_depth,
        }
    }

    fn any_address(&self) -> AnyAddress {
        if self.allow_any_address {
            AnyAddress::Allow
        } else {
            AnyAddress::Refuse
        }
    }

    fn proxy_url(&self) -> anyhow::Result<Option<ProxyUrl>> {
        self.proxy_url
            .as_deref()
            .map(ProxyUrl::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--proxy-url: {e}"))
    }

    fn load(&self) -> anyhow::Result<Loaded> {
        let limits = self.limits();
        let options = ParseOptions {
            proxy_url: self.proxy_url()?,
            limits,
            unknown_fields: if self.ignore_unknown_fields {
                UnknownFields::Warn
            } else {
                UnknownFields::Refuse
            },
        };
        let mut inputs = Inputs::default();
        for file in &self.inputs {
            let text = read(file, &limits)?;
            parse_into(&mut inputs, file, &text, &options)?;
        }
        if inputs.dynakubes.is_empty() && inputs.edgeconnects.is_empty() {
            return Err(dynakube_netpol::Error::NothingToDo {
                files: self.inputs.join(", "),
            }
            .into());
        }
        let profile = match &self.cluster {
            Some(path) => {
                let name = path.display().to_string();
                let text = read_path(path, &limits)?;
                ClusterProfile::parse_with(&name, &text, &limits, self.any_address())?
            }
            None => ClusterProfile::default(),
        };
        let profile = ClusterProfile {
            operator_version: self.operator_version.or(profile.operator_version),
            ..profile
        };
        let hosts = match &self.hosts {
            Some(path) => {
                let name = path.display().to_string();
                let text = read_path(path, &limits)?;
                FixedHosts::parse_with(&name, &text, &limits, self.any_address())?
            }
            None => FixedHosts::default(),
        };
        let fallback = match self.fqdn_fallback {
            Some(FqdnFallback::PublicInternet) => Fallback::PublicInternet,
            None => Fallback::Fail,
        };

        let options = Options {
            zone_fallback: match self.zone_fallback {
                ZoneFallbackArg::Any => ZoneFallback::Any,
                ZoneFallbackArg::OnlyDefaultZone => ZoneFallback::OnlyDefaultZone,
                ZoneFallbackArg::None => ZoneFallback::None,
            },
        };
        Ok(Loaded {
            inputs,
            profile,
            hosts,
            fallback,
            options,
        })
    }

    /// The inputs and the options that change the output, as command-line words with
    /// normalised paths and without secrets.
    fn arguments(&self) -> anyhow::Result<Vec<String>> {
        let path = |p: &Path| quoted(&normalized_path(&p.display().to_string()));
        let mut words: Vec<String> = self
            .inputs
            .iter()
            .map(|i| quoted(&normalized_path(i)))
            .collect();
        if let Some(cluster) = &self.cluster {
            words.extend(["--cluster".into(), path(cluster)]);
        }
        if let Some(hosts) = &self.hosts {
            words.extend(["--hosts".into(), path(hosts)]);
        }
        if self.fqdn_fallback.is_some() {
            words.extend(["--fqdn-fallback".into(), "public-internet".into()]);
        }
        if self.zone_fallback != ZoneFallbackArg::Any {
            let mode = self
                .zone_fallback
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default();
            words.extend(["--zone-fallback".into(), mode]);
        }
        if let Some(release) = self.operator_version {
            words.extend(["--operator-version".into(), release.to_string()]);
        }
        if let Some(url) = self.proxy_url()? {
            words.extend(["--proxy-url".into(), url.to_string()]);
        }
        if self.allow_any_address {
            words.push("--allow-any-address".into());
        }
        if self.ignore_unknown_fields {
            words.push("--ignore-unknown-fields".into());
        }
        Ok(words)
    }
}

impl Generate {
    /// The lock completed for `needed` when one is in use, written unless --check.
    fn locked(
        &self,
        needed: &BTreeMap<dynakube_netpol::values::HostName, dynakube_netpol::lock::Reach>,
        hosts: &FixedHosts,
    ) -> anyhow::Result<Option<locking::Completed>> {
        if !self.dns.in_use() {
            return Ok(None);
        }
        let completed = self.dns.complete(needed, hosts)?;
        if completed.changed && !self.check {
            locking::write_lock(&self.dns.path(), &completed.lock)?;
        }
        Ok(Some(completed))
    }

    /// The Kubernetes flavor: addresses from --hosts, then from the lock when one is in use
    /// (resolving and adding the hosts it lacks), then the fallback. Returns the policies and
    /// the lock's warnings.
    fn kubernetes(
        &self,
        matrix: &dynakube_netpol::matrix::Matrix,
        hosts: &FixedHosts,
        fallback: Fallback,
    ) -> anyhow::Result<(dynakube_netpol::render::kubernetes::Rendered, Vec<Note>)> {
        let needed = dynakube_netpol::lock::needed_hosts(matrix);
        let Some(completed) = self.locked(&needed, hosts)? else {
            let rendered = dynakube_netpol::render_kubernetes(matrix, hosts, fallback, false)?;
            return Ok((rendered, Vec::new()));
        };
        let resolver = dynakube_netpol::lock::Layered {
            first: hosts,
            then: &completed.lock,
        };
        let allow = self.dns.allow_unresolved;
        let rendered = dynakube_netpol::render_kubernetes(matrix, &resolver, fallback, allow)?;
        Ok((rendered, completed.notes))
    }

    /// The Cilium flavor: the lock only gives the addresses of the hosts that host policies
    /// reach (`toFQDNs` names the others), and only with the host firewall on.
    fn cilium(
        &self,
        matrix: &dynakube_netpol::matrix::Matrix,
        hosts: &FixedHosts,
    ) -> anyhow::Result<(dynakube_netpol::render::cilium::Rendered, Vec<Note>)> {
        let needed = dynakube_netpol::lock::needed_by_host_policies(matrix);
        let completed = if needed.is_empty() {
            None
        } else {
            self.locked(&needed, hosts)?
        };
        let Some(completed) = completed else {
            return Ok((dynakube_netpol::render_cilium(matrix, hosts)?, Vec::new()));
        };
        let resolver = dynakube_netpol::lock::Layered {
            first: hosts,
            then: &completed.lock,
        };
        let rendered = dynakube_netpol::render_cilium(matrix, &resolver)?;
        Ok((rendered, completed.notes))
    }

    fn run(&self) -> anyhow::Result<ExitCode> {
        let Loaded {
            inputs,
            profile,
            hosts,
            fallback,
            options,
        } = self.sources.load()?;
        let mut arguments = self.sources.arguments()?;
        if self.flavor == Flavor::Cilium {
            arguments.extend(["--flavor".into(), "cilium".into()]);
        }
        let resources = inputs
            .resources()
            .into_iter()
            .map(|(resource, version)| format!("{resource} ({version})"))
            .collect();
        let output = match self.flavor {
            Flavor::Kubernetes => {
                let matrix = dynakube_netpol::matrix::build(&inputs, &profile, &options)?;
                let (rendered, lock_notes) = self.kubernetes(&matrix, &hosts, fallback)?;
                let provenance = Provenance {
                    resources,
                    arguments,
                    notes: merged(merged(matrix.notes, rendered.notes), lock_notes),
                };
                Output::new(provenance, &rendered.policies, |p| {
                    let name = p.metadata.name.clone().unwrap_or_default();
                    let sources = rendered.sources.get(&name).cloned().unwrap_or_default();
                    (name, sources)
                })?
            }
            Flavor::Cilium => {
                let matrix = dynakube_netpol::matrix::build(&inputs, &profile, &options)?;
                let (rendered, lock_notes) = self.cilium(&matrix, &hosts)?;
                let provenance = Provenance {
                    resources,
                    arguments,
                    notes: merged(merged(matrix.notes, rendered.notes), lock_notes),
                };
                Output::new(provenance, &rendered.policies, |p| {
                    let name = p.name();
                    let sources = rendered.sources.get(&name).cloned().unwrap_or_default();
                    (name, sources)
                })?
            }
        };
        let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
        for note in output.notes() {
            let _ = writeln!(stderr, "{note}");
        }
        drop(stderr);

        match &self.output_dir {
            None => {
                std::io::stdout()
                    .write_all(output.to_stream().as_bytes())
                    .context("cannot write to standard output")?;
                Ok(ExitCode::SUCCESS)
            }
            Some(dir) if self.check => check(dir, &output.to_files()),
            Some(dir) => {
                let flush = if self.sync {
                    output::Flush::Yes
                } else {
                    output::Flush::No
                };
                output::write_dir(dir, &output.to_files(), flush)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

impl Verify {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let Loaded {
            inputs,
            profile,
            hosts,
            fallback,
            options,
        } = self.sources.load()?;
        let limits = self.sources.limits();
        let matrix = dynakube_netpol::matrix::build(&inputs, &profile, &options)?;
        // The lock, when there is one, gives addresses too; verify never resolves.
        let lock = match &self.lock {
            Some(path) => Some(read_lock(path)?),
            None if Path::new(locking::DEFAULT_LOCK).is_file() => {
                Some(read_lock(Path::new(locking::DEFAULT_LOCK))?)
            }
            None => None,
        };
        let lock = lock.unwrap_or_default();
        let resolver = dynakube_netpol::lock::Layered {
            first: &hosts,
            then: &lock,
        };
        let addresses = dynakube_netpol::resolve::resolve_known(&matrix, &resolver, fallback)?;
        let files = self.read_policies(&limits)?;
        let (namespaces, pods) = if self.pods.is_empty() {
            verify::model_cluster(&matrix)
        } else {
            let (mut namespaces, mut pods) = (Vec::new(), Vec::new());
            for path in &self.pods {
                let name = path.display().to_string();
                let (more_namespaces, more_pods) =
                    evaluate::read_cluster(&name, &read_path(path, &limits)?, &limits)?;
                namespaces.extend(more_namespaces);
                pods.extend(more_pods);
            }
            (namespaces, pods)
        };
        let index = evaluate::Index::new(namespaces, pods, &files.policies)?;
        let mut report = verify::verify(&matrix, &index, &addresses);
        report.read = verify::Read {
            evaluated: files.policies.len(),
            unevaluated: files.unevaluated,
            skipped: files.skipped,
        };
        if let Some(dir) = &self.write_case {
            write_case(dir, &index, files.policies, &report)?;
        }
        let text = match self.output {
            Format::Text => report.to_text(),
            Format::Json => report.to_json(),
        };
        std::io::stdout()
            .write_all(text.as_bytes())
            .context("cannot write to standard output")?;
        let failures = report.failures(
            self.fail_on.contains(&FailOn::Extra),
            self.fail_on.contains(&FailOn::Unchecked),
        );
        if failures.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: verification failed: {}", failures.join("; "));
        Ok(ExitCode::from(1))
    }

    /// Reads the policy files; no NetworkPolicy, or policies of kinds the evaluator cannot
    /// evaluate, are errors unless an option accepts them.
    fn read_policies(&self, limits: &Limits) -> anyhow::Result<evaluate::PolicyFiles> {
        let mut files = evaluate::PolicyFiles::default();
        for file in policy_files(&self.policies)? {
            let name = file.display().to_string();
            files.extend(evaluate::read_policies(
                &name,
                &read_path(&file, limits)?,
                limits,
            )?);
        }
        let source = self.policies.display();
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
        if files.policies.is_empty() && !self.allow_no_policies {
            anyhow::bail!(
                "{source} holds no networking.k8s.io/v1 NetworkPolicy; pass --allow-no-policies to verify a cluster without any"
            );
        }
        Ok(files)
    }
}

/// Writes a cross-check case: the cluster and policies as YAML, and every probe of the report
/// with the evaluator's verdict.
fn write_case(
    dir: &Path,
    index: &evaluate::Index,
    policies: Vec<k8s_openapi::api::networking::v1::NetworkPolicy>,
    report: &verify::Report,
) -> anyhow::Result<()> {
    let case = dynakube_netpol::synthetic::Synthetic {
        namespaces: index.namespaces().to_vec(),
        pods: index.pods().to_vec(),
        policies,
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    case.write_yaml(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    let mut expected =
        String::from("# Connections tried by `dynakube-netpol verify`, with its verdicts.\n");
    for probe in report.flows.iter().flat_map(|f| &f.probes) {
        expected.push_str(&format!(
            "- {{from: \"{}\", to: \"{}\", port: {}, protocol: {}, allowed: {}}}\n",
            probe.from, probe.to, probe.port, probe.protocol, probe.allowed
        ));
    }
    std::fs::write(dir.join("expected.yaml"), expected)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    Ok(())
}

/// The policy files of PATH: the file itself, or the YAML files of the directory, sorted.
fn policy_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| dynakube_netpol::Error::Read {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The notes of the matrix and of the renderer, sorted, without duplicates.
fn merged(mut notes: Vec<Note>, more: Vec<Note>) -> Vec<Note> {
    notes.extend(more);
    notes.sort();
    notes.dedup();
    notes
}

fn check(dir: &Path, files: &BTreeMap<String, String>) -> anyhow::Result<ExitCode> {
    let differences = output::check_dir(dir, files)?;
    if differences.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut stdout = std::io::stdout().lock();
    for difference in &differences {
        stdout.write_all(difference.diff.as_bytes())?;
    }
    eprintln!(
        "error: {}",
        dynakube_netpol::Error::Stale {
            dir: dir.display().to_string(),
            count: differences.len(),
        }
    );
    Ok(ExitCode::from(1))
}

fn read(file: &str, limits: &Limits) -> anyhow::Result<String> {
    if file == "-" {
        return Ok(dynakube_netpol::source::read_bounded(
            "-",
            std::io::stdin().lock(),
            limits,
        )?);
    }
    read_path(Path::new(file), limits)
}

fn read_path(path: &Path, limits: &Limits) -> anyhow::Result<String> {
    let name = path.display().to_string();
    Ok(dynakube_netpol::source::read_file(&name, path, limits)?)
}

/// `word`, single-quoted when a shell would split or expand it.
fn quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `--operator-version`: a release such as `1.10` or `v1.9.0`.
fn parse_operator_version(raw: &str) -> Result<OperatorVersion, String> {
    OperatorVersion::parse(raw).map_err(|e| format!("`{raw}` {e}"))
}
