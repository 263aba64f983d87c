//! `dynakube-netpol`: least-privilege network policies for the Dynatrace Operator, from its
//! DynaKube and EdgeConnect resources.

mod exit;
mod krm;
mod kubectl_complete;
mod locking;
mod manifests;
mod plugins;
mod ranges;
mod settings;
mod style;
mod zone_apply;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use dynakube_netpol::Flavor;
use dynakube_netpol::input::{ParseOptions, UnknownFields, parse_into};
use dynakube_netpol::matrix::Note;
use dynakube_netpol::output;
use dynakube_netpol::resolve::FixedHosts;
use dynakube_netpol::resources::Inputs;
use dynakube_netpol::source::Limits;
use dynakube_netpol::{evaluate, verify};
use settings::{FlavorArg, Loaded, Sources, read};

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

    /// Print nothing on standard error but errors (notes and warnings stay in the output's
    /// header).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Also print what was read, skipped and written on standard error.
    #[arg(short, long, global = true)]
    verbose: bool,
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
    /// Exit status: 0 on success; 1 when --check finds the directory stale; 2 when the input or
    /// an option is invalid, DNS fails, or standard output is closed or fails (nothing is
    /// written then).
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
    /// Exit status: 0 when no flow is denied (and nothing --fail-on names is found); 1 when some
    /// flow is denied (or --fail-on finds something); 2 when the input or an option is invalid.
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
    /// when some pod does; 2 when the input or an option is invalid.
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
    /// Only https API URLs get the token: with --apply, an http:// apiUrl is refused before any
    /// request, and so is a zone name Dynatrace does not accept (letters, digits, `-` and `_`,
    /// in parts separated by single dots). What a server says is printed escaped and without
    /// the token. A rate limit is waited out as Retry-After says, at most 60 s at a time and
    /// 120 s in all, saying how long on standard error.
    ///
    /// Exit status: 0 on success; 1 when a request of --apply fails; 2 when the input or an
    /// option is invalid (an apiUrl that is not https with --apply, a zone name Dynatrace
    /// refuses: no request is made then).
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
    /// Exit status: 0 on success; 1 when --check finds the lock stale; 2 when the input or an
    /// option is invalid or DNS fails (nothing is written then).
    Lock(LockArgs),

    /// Helm post-renderer: the rendered release on standard input, written back unchanged,
    /// followed by the policies of its DynaKubes and EdgeConnects.
    ///
    /// Takes the options of generate without input files and DNS (a lock file is only read).
    /// Where the release renders the operator itself, the namespace, the operator release (its
    /// version label), whether the CSI driver is deployed and the webhook's host network and
    /// ports are read from it (a note says what came from where); the cluster profile's values
    /// win over them. A release without DynaKube or EdgeConnect is written back alone, with a
    /// note. Installed as the Helm 4 plugin `dynakube-netpol`
    /// (`helm template … --post-renderer dynakube-netpol`), see the README.
    ///
    /// Exit status: 0 on success; 2 when the input or an option is invalid (nothing is written
    /// then).
    #[command(after_long_help = POST_RENDER_HELP)]
    HelmPostRender(PostRender),

    /// KRM function: a ResourceList on standard input, the same list with the policies
    /// appended to its items on standard output.
    ///
    /// The options come from the list's functionConfig (kind NetworkPolicyGenerator, see the
    /// README). Problems are reported in the list's results, with severity, resource and
    /// field. Installed under the name `dynakube-netpol-krm`, the binary is this function
    /// without arguments (for kustomize's exec functions, which take a path only).
    ///
    /// Exit status: 0 on success; 1 when a result has severity error (the items are then
    /// written back unchanged); 2 when standard output is closed or fails.
    Krm,

    /// kustomize transformer plugin: resources on standard input, the resources and their
    /// policies on standard output; CONFIG is the NetworkPolicyGenerator config file.
    ///
    /// kubectl's kustomize runs the binary as
    /// $KUSTOMIZE_PLUGIN_HOME/dynakube-netpol.github.io/v1alpha1/networkpolicygenerator/NetworkPolicyGenerator
    /// with CONFIG as its argument; under that name it behaves as this subcommand.
    ///
    /// Exit status: 0 on success; 2 when the config or the resources are invalid (nothing is
    /// written then).
    #[command(hide = true)]
    KustomizeTransformer {
        /// The NetworkPolicyGenerator config file.
        config: PathBuf,
    },

    /// Set up the names under which kubectl and kustomize run this binary: its kubectl plugin,
    /// kubectl completion, KRM function and kustomize transformer plugin.
    #[command(subcommand)]
    Plugins(plugins::Plugins),

    /// Print the completion script of a shell.
    ///
    /// bash: `dynakube-netpol completions bash > ~/.local/share/bash-completion/completions/dynakube-netpol`;
    /// zsh: into a directory of $fpath as `_dynakube-netpol`; fish:
    /// `~/.config/fish/completions/dynakube-netpol.fish`. The scripts are also in the
    /// repository under crates/dynakube-netpol-cli/share/completions.
    ///
    /// Exit status: 0 on success; 2 for a shell it does not know, or when standard output is
    /// closed or fails.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },

    /// Write the man pages (dynakube-netpol.1 and one per subcommand) into DIR.
    #[command(hide = true)]
    Man {
        /// Where to write them.
        dir: PathBuf,
    },
}

const POST_RENDER_HELP: &str = "\
Examples:
  helm plugin install --verify=false helm-plugin/dynakube-netpol.tgz   (in the release archive)
  helm template dynatrace ./chart --post-renderer dynakube-netpol \\
    --post-renderer-args=--cluster=cluster.yaml --post-renderer-args=--hosts=hosts.yaml
  helm template dynatrace ./chart | dynakube-netpol helm-post-render --fqdn-fallback public-internet";

#[derive(Debug, clap::Args)]
struct PostRender {
    #[command(flatten)]
    settings: settings::Settings,

    /// The policy language, as in generate.
    #[arg(long, value_name = "FLAVOR", default_value_t)]
    flavor: FlavorArg,

    /// A lock file written by `dynakube-netpol lock`, for the addresses of the hosts that
    /// --hosts does not give. Read only: a post-renderer resolves nothing and writes nothing,
    /// so a host missing from both is an error (or, with --fqdn-fallback, public addresses).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    lock: Option<String>,
}

impl PostRender {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let mut config = self.settings.config(self.flavor.flavor())?;
        let mut arguments = self.settings.arguments()?;
        if let Some(lock) = &self.lock {
            config.lock = Some(settings::Text {
                name: lock.clone(),
                text: read(lock, &config.limits)?,
            });
            arguments.extend([
                "--lock".to_string(),
                settings::quoted(&output::normalized_path(lock)),
            ]);
        }
        manifests::post_render(config, arguments)
    }
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
        let loaded = self.sources.load(Flavor::Kubernetes)?;
        let matrix = loaded.matrix()?;
        let hosts = loaded.hosts;
        let needed = dynakube_netpol::lock::needed_hosts(&matrix);
        if self.refresh || self.check {
            let policy = loaded.config.address_policy();
            return locking::refresh(&self.dns, &needed, &hosts, &policy, self.prune, self.check);
        }
        let path = self.dns.path();
        let _held = if self.dns.lacks_hosts(&needed, &hosts)? {
            Some(locking::hold(&path)?)
        } else {
            None
        };
        let completed = self
            .dns
            .complete(&needed, &hosts, &loaded.config.address_policy())?;
        for note in &completed.notes {
            eprintln!("{note}");
        }
        if completed.changed {
            locking::write_lock(&path, &completed.lock)?;
        }
        exit::write(format!(
            "{}: {} host(s) locked\n",
            path.display(),
            completed.lock.hosts.len()
        ))?;
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Debug, clap::Args)]
struct ZonePlanArgs {
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
    fn run(&self) -> anyhow::Result<ExitCode> {
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
                anstream::eprintln!("{}: {error:#}", style::error());
                Ok(exit::code(exit::FAILED))
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
    format: Format,

    /// The most bytes one input file may have (pod dumps of large clusters are big; 1 to
    /// 4294967296).
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = 1 << 30,
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
        let text = match self.format {
            Format::Text => audit.to_text(),
            Format::Json => audit.to_json(),
        };
        exit::write(text)?;
        Ok(if audit.needs_attention() {
            exit::code(exit::ATTENTION)
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
  databases: [{hosts: [pg.corp.example], ports: [5432]}]           # E22 (or cidrs, or namespace/podLabels)
  activeGateClients: [monitoring]     # more namespaces calling the ActiveGate
  classicFullStackNamespaces: [shop]  # classicFullStack apps (code modules of the host agent)
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
struct Generate {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    dns: locking::DnsArgs,

    /// The policy language.
    #[arg(long, value_name = "FLAVOR", default_value_t)]
    flavor: FlavorArg,

    /// Write one file per policy and a kustomization.yaml into DIR, removing files this tool
    /// wrote there before that are no longer generated. `-o -` writes the stream to standard
    /// output, as without the option.
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
    --policies policies.yaml --pods cluster.yaml --format json";

#[derive(Debug, clap::Args)]
struct Verify {
    #[command(flatten)]
    sources: Sources,

    /// The policies: a YAML file or a directory of them (networking.k8s.io/v1 NetworkPolicies,
    /// alone or in lists such as `kubectl get networkpolicies -A -o yaml` prints); `-` reads
    /// standard input.
    #[arg(long, value_name = "PATH")]
    policies: String,

    /// Pods and namespaces, as `kubectl get pods,namespaces -A -o yaml` prints them. Without
    /// it, a model cluster is built from the matrix: one pod per Dynatrace workload, the
    /// cluster DNS, Prometheus, an injected application namespace and an unrelated one.
    /// May be given more than once (for example a pod list and a namespace list); `-` reads
    /// standard input.
    #[arg(long, value_name = "FILE")]
    pods: Vec<String>,

    /// Also write the cluster, the policies and every connection tried, with its verdict, into
    /// DIR (policies.yaml, cluster.yaml, expected.yaml), for cross-checks with other analyzers.
    #[arg(long, value_name = "DIR")]
    write_case: Option<PathBuf>,

    /// `text` (a table, one row per flow) or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: Format,

    /// Findings that fail the verification (exit 1) besides denied flows, comma separated:
    /// `extra` (connections allowed beyond the matrix), `unchecked` (flows that could not be
    /// checked), `foreign` (pods of the operator namespace that no Dynatrace component
    /// accounts for, which default-deny isolates; with --pods).
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
    /// Pods of the operator namespace that no Dynatrace component accounts for (with --pods).
    Foreign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table for people.
    Text,
    /// JSON for tools.
    Json,
}

fn main() -> ExitCode {
    exit::note_closed_stdout();
    exit::on_print_failure();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let program = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("dynakube-netpol")
        .to_string();
    let result = match program.as_str() {
        // kubectl's kustomize runs a transformer plugin by its kind's name, with the path of
        // its config file as the only argument.
        manifests::TRANSFORMER_NAME => manifests::transformer(&args[1..]),
        // Standalone kustomize's exec functions take a path and no arguments.
        manifests::KRM_NAME => krm::run(),
        kubectl_complete::NAME => {
            use clap::CommandFactory;
            let words: Vec<String> = args[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            exit::write(kubectl_complete::answer(Cli::command(), &words))
                .map(|()| ExitCode::SUCCESS)
        }
        _ => {
            let cli = parse_cli(args, &program);
            set_verbosity(&cli);
            cli.command.run()
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            anstream::eprintln!("{}: {error:#}", style::error());
            exit::code(exit::INVALID)
        }
    }
}

/// Parses the command line; as a kubectl plugin (`kubectl-dynakube_netpol`), usage and help
/// name it as kubectl users type it.
fn parse_cli(args: Vec<std::ffi::OsString>, program: &str) -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    if program.starts_with("kubectl-") {
        command = command.bin_name("kubectl dynakube-netpol");
    }
    let matches = command.get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

impl Command {
    fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Generate(generate) => generate.run(),
            Command::Verify(verify) => verify.run(),
            Command::Audit(audit) => audit.run(),
            Command::ZonePlan(plan) => plan.run(),
            Command::Lock(lock) => lock.run(),
            Command::HelmPostRender(render) => render.run(),
            Command::Krm => krm::run(),
            Command::KustomizeTransformer { config } => {
                manifests::transformer(&[config.into_os_string()])
            }
            Command::Plugins(plugins) => plugins.run(),
            Command::Completions { shell } => completions(shell),
            Command::Man { dir } => {
                use clap::CommandFactory;
                write_man_pages(Cli::command(), &dir)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// `script` with the words `hidden` left out of its candidate lists (`opts="…"`).
fn without_hidden(script: &str, hidden: &[String]) -> String {
    let mut out = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        match line.trim_start().strip_prefix("opts=\"").and_then(|rest| {
            rest.trim_end()
                .strip_suffix('"')
                .map(|words| (words, &line[line.trim_end().len()..]))
        }) {
            Some((words, end)) => {
                let kept: Vec<&str> = words
                    .split(' ')
                    .filter(|w| !hidden.iter().any(|h| h == w))
                    .collect();
                out.push_str(&line[..indent]);
                out.push_str(&format!("opts=\"{}\"{end}", kept.join(" ")));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `completions SHELL`: the script clap_complete writes, repaired for bash.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "dynakube-netpol", &mut script);
    let mut script = String::from_utf8(script).context("the completion script")?;
    if shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 names the case labels of a hyphenated binary's subcommands
        // differently from the variable it matches them against (`dynakube__subcmd__netpol__…`
        // against `dynakube__netpol__…`), so no option of a subcommand would complete; the
        // test of bash completion catches it.
        script = script.replace("dynakube__subcmd__netpol", "dynakube__netpol");
        // It also offers hidden subcommands (the kustomize plugin's entry, the man page
        // writer), which --help leaves out.
        let hidden: Vec<String> = command
            .get_subcommands()
            .filter(|s| s.is_hide_set())
            .map(|s| s.get_name().to_owned())
            .collect();
        script = without_hidden(&script, &hidden);
    }
    exit::write(script)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the man page of `command` and of each visible subcommand, at every level, into `dir`
/// (`dynakube-netpol-plugins-install.1` for `plugins install`).
fn write_man_pages(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_man_page(
        command.version(env!("CARGO_PKG_VERSION")),
        "dynakube-netpol",
        dir,
    )
}

/// Writes the man page of `command` as `name` into `dir`, then those of its subcommands.
fn write_man_page(command: clap::Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        // clap's own `help` subcommand exists once the command is built, not here.
        let sub = sub.clone().version(env!("CARGO_PKG_VERSION"));
        let sub_name = format!("{name}-{}", sub.get_name());
        write_man_page(sub, &sub_name, dir)?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command.name(name.to_owned()))
        .render(&mut page)
        .context("cannot render the man page")?;
    let page = String::from_utf8(page).context("the man page")?;
    Ok(output::write_file(&dir.join(format!("{name}.1")), &page)?)
}

/// How much goes to standard error besides errors: 0 quiet, 1 notes and warnings, 2 verbose.
static VERBOSITY: AtomicU8 = AtomicU8::new(1);

fn set_verbosity(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => 0,
        (false, true) => 2,
        (false, false) => 1,
    };
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// Prints the notes on standard error, unless --quiet.
pub(crate) fn print_notes<'a>(notes: impl IntoIterator<Item = &'a Note>) {
    if VERBOSITY.load(Ordering::Relaxed) == 0 {
        return;
    }
    // anstream strips the colour for a non-terminal or with NO_COLOR.
    let mut stderr = anstream::stderr().lock();
    for note in notes {
        let _ = writeln!(stderr, "{}", style::note(note));
    }
    let _ = stderr.flush();
}

/// Says that another run holds the write lock `held`, and that this run waits for it (unless
/// --quiet).
pub(crate) fn waiting(held: &Path) {
    if VERBOSITY.load(Ordering::Relaxed) > 0 {
        eprintln!(
            "waiting for another dynakube-netpol run to finish writing (it holds {})",
            held.display()
        );
    }
}

/// Prints a line of progress on standard error with --verbose.
pub(crate) fn verbose(line: impl FnOnce() -> String) {
    if VERBOSITY.load(Ordering::Relaxed) >= 2 {
        eprintln!("{}", line());
    }
}

impl Generate {
    /// The lock completed for `needed` when one is in use, written unless --check.
    fn locked(
        &self,
        needed: &BTreeMap<dynakube_netpol::values::HostName, dynakube_netpol::lock::Reach>,
        hosts: &FixedHosts,
        policy: &dynakube_netpol::guard::AddressPolicy,
    ) -> anyhow::Result<Option<locking::Completed>> {
        if !self.dns.in_use() {
            return Ok(None);
        }
        // Held from reading the lock to writing it when hosts are missing: concurrent runs
        // take turns. A complete lock is only read (from a read-only checkout, too).
        let _held = if self.check || !self.dns.lacks_hosts(needed, hosts)? {
            None
        } else {
            Some(locking::hold(&self.dns.path())?)
        };
        let completed = self.dns.complete(needed, hosts, policy)?;
        if completed.changed && !self.check {
            locking::write_lock(&self.dns.path(), &completed.lock)?;
            verbose(|| format!("updated {}", self.dns.path().display()));
        }
        Ok(Some(completed))
    }

    /// The policies, with addresses from --hosts, then from the lock when one is in use
    /// (resolving and adding the hosts it lacks; in the Cilium flavor only those of host
    /// policies), then the fallback.
    fn generated(&self, loaded: &Loaded) -> anyhow::Result<dynakube_netpol::Generated> {
        let options = loaded.config.generate_options(self.dns.allow_unresolved);
        let matrix = loaded.matrix()?;
        let needed = options.flavor.needed_hosts(&matrix);
        let completed = if needed.is_empty() {
            None
        } else {
            self.locked(&needed, &loaded.hosts, &options.addresses)?
        };
        let Some(completed) = completed else {
            let options = dynakube_netpol::GenerateOptions {
                allow_unresolved: false,
                ..options
            };
            return Ok(dynakube_netpol::pipeline::render(
                matrix,
                &options,
                &loaded.hosts,
            )?);
        };
        let resolver = dynakube_netpol::lock::Layered {
            first: &loaded.hosts,
            then: &completed.lock,
        };
        let mut generated = dynakube_netpol::pipeline::render(matrix, &options, &resolver)?;
        generated.add_notes(completed.notes);
        Ok(generated)
    }

    fn run(&self) -> anyhow::Result<ExitCode> {
        if self.check && self.output_dir.as_deref() == Some(Path::new("-")) {
            anyhow::bail!("--check compares with a directory; `-o -` is standard output");
        }
        let flavor = self.flavor.flavor();
        let loaded = self.sources.load(flavor)?;
        let mut arguments = self.sources.arguments()?;
        if flavor != Flavor::default() {
            arguments.extend(["--flavor".into(), flavor.as_str().into()]);
        }
        let generated = self.generated(&loaded)?;
        let output = generated.output(&loaded.inputs, arguments)?;
        print_notes(output.notes());

        let dir = self.output_dir.as_deref().filter(|d| *d != Path::new("-"));
        match dir {
            None => {
                exit::write(output.to_stream())?;
                Ok(ExitCode::SUCCESS)
            }
            Some(dir) if self.check => check(dir, &output.to_files()),
            Some(dir) => {
                let flush = if self.sync {
                    output::Flush::Yes
                } else {
                    output::Flush::No
                };
                let files = output.to_files();
                output::write_dir(dir, &files, flush, &mut waiting)?;
                verbose(|| format!("wrote {} file(s) into {}", files.len(), dir.display()));
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

impl Verify {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let loaded = self.sources.load(Flavor::Kubernetes)?;
        let matrix = loaded.matrix()?;
        let (hosts, limits, fallback) =
            (loaded.hosts, loaded.config.limits, loaded.config.fallback);
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
        let policy = loaded.config.address_policy();
        let addresses =
            dynakube_netpol::resolve::resolve_known(&matrix, &resolver, fallback, &policy)?;
        let files = self.read_policies(&limits)?;
        let (namespaces, pods) = if self.pods.is_empty() {
            verify::model_cluster(&matrix)
        } else {
            let (mut namespaces, mut pods) = (Vec::new(), Vec::new());
            for name in &self.pods {
                let (more_namespaces, more_pods) =
                    evaluate::read_cluster(name, &read(name, &limits)?, &limits)?;
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
        let text = match self.format {
            Format::Text => report.to_text(),
            Format::Json => report.to_json(),
        };
        exit::write(text)?;
        let failures = report.failures(&verify::FailOn {
            extra: self.fail_on.contains(&FailOn::Extra),
            unchecked: self.fail_on.contains(&FailOn::Unchecked),
            foreign: self.fail_on.contains(&FailOn::Foreign),
        });
        if failures.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: verification failed: {}", failures.join("; "));
        Ok(exit::code(exit::FAILED))
    }

    /// Reads the policy files; no NetworkPolicy, or policies of kinds the evaluator cannot
    /// evaluate, are errors unless an option accepts them.
    fn read_policies(&self, limits: &Limits) -> anyhow::Result<evaluate::PolicyFiles> {
        let mut files = evaluate::PolicyFiles::default();
        for name in policy_files(&self.policies)? {
            files.extend(evaluate::read_policies(
                &name,
                &read(&name, limits)?,
                limits,
            )?);
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
    output::write_file(&dir.join("expected.yaml"), &expected)?;
    Ok(())
}

/// The policy files of PATH: the file itself, or the YAML files of the directory, sorted.
fn policy_files(name: &str) -> anyhow::Result<Vec<String>> {
    let path = Path::new(name);
    if name == "-" || !path.is_dir() {
        return Ok(vec![name.to_string()]);
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
    Ok(files.iter().map(|p| p.display().to_string()).collect())
}

fn check(dir: &Path, files: &BTreeMap<String, String>) -> anyhow::Result<ExitCode> {
    let differences = output::check_dir(dir, files)?;
    if differences.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let diffs: String = differences.iter().map(|d| d.diff.as_str()).collect();
    exit::write(diffs)?;
    eprintln!(
        "error: {}",
        dynakube_netpol::Error::Stale {
            dir: dir.display().to_string(),
            count: differences.len(),
        }
    );
    Ok(exit::code(exit::FAILED))
}
