//! `dynakube-netpol`: least-privilege network policies for the Dynatrace Operator, from its
//! DynaKube and EdgeConnect resources.

mod cmd;
mod exit;
mod git;
mod inputs;
mod kubectl_complete;
mod locking;
mod manifests;
mod ranges;
mod say;
mod settings;
mod style;
mod words;
mod zone_apply;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cmd::{
    audit::AuditArgs, diff::DiffArgs, explain::ExplainArgs, generate::GenerateArgs,
    helm_post_render::HelmPostRenderArgs, krm, lock::LockArgs, matrix::MatrixArgs, plugins,
    profile::ProfileArgs, verify::VerifyArgs, zone_plan::ZonePlanArgs,
};

/// The allocator: reading a dump of 150,000 pods and deciding their connections allocates by
/// the million, and mimalloc takes about a fifth less CPU there than the system's allocator
/// (`cargo xtask bench-verify`, docs/performance.md). The library leaves the choice to the
/// programs that use it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Least-privilege Kubernetes network policies for the Dynatrace Operator.
///
/// Reads DynaKube (dynatrace.com/v1beta3 to v1beta6) and EdgeConnect (v1alpha1, v1alpha2)
/// resources, builds the matrix of every connection the Dynatrace components make or accept,
/// and writes NetworkPolicies that allow exactly that matrix and deny everything else in the
/// operator namespace.
#[derive(Debug, Parser)]
#[command(name = "dynakube-netpol", version, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Print fewer notes on standard error: `-q` keeps warnings and errors, `-qq` errors only
    /// (notes and warnings stay in the output's header).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    quiet: u8,

    /// Also print what was read, skipped and written on standard error.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate network policies from DynaKube and EdgeConnect resources.
    ///
    /// Writes one multi-document YAML stream to standard output (`-o json`: one JSON List;
    /// `-o FILE.yaml` or `-o FILE.json`: into that file), or with `-o DIR` one file per policy
    /// plus a kustomization.yaml. The output is byte-identical for identical inputs.
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
    #[command(after_long_help = cmd::generate::HELP)]
    Generate(GenerateArgs),

    /// Check network policies against the matrix of DynaKube and EdgeConnect resources.
    ///
    /// Places every flow of the matrix in a cluster — the pods and namespaces of --pods, or a
    /// model built from the matrix's own labels — and decides each with an exact evaluator of
    /// NetworkPolicy, ClusterNetworkPolicy and Cilium semantics: allowed (and by which policies), denied (and which policies
    /// isolate the pod), or unchecked (a peer without address or fixed port). Then tries
    /// connections from and to the Dynatrace pods that no flow needs (other pods' ports,
    /// common ports, outside addresses) and lists those the policies allow.
    ///
    /// Exit status: 0 when no flow is denied (and nothing --fail-on names is found); 1 when some
    /// flow is denied (or --fail-on finds something); 2 when the input or an option is invalid.
    #[command(after_long_help = cmd::verify::HELP)]
    Verify(VerifyArgs),

    /// Explain whether one connection is allowed under a cluster's policies, and why.
    ///
    /// Reads policies of every dialect the evaluator knows (NetworkPolicy, ClusterNetworkPolicy
    /// of network-policy-api v0.2.0, CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy)
    /// and a dump of the cluster's namespaces, pods and nodes, and decides the connection from
    /// --from to --port on --to as the cluster combines them: the Admin tier of
    /// ClusterNetworkPolicies by priority (Accept, Deny, Pass), then the NetworkPolicies (with
    /// Cilium's policies on Cilium: allows unioned, denies over allows), then the Baseline
    /// tier, then the Kubernetes default, which allows. The
    /// answer names, for the source's egress and the destination's ingress, the verdict and the
    /// tier, policy and rule that decided it, or that no policy isolates the pod. Policies of
    /// the same priority that decide differently leave a side undefined, which does not count
    /// as allowed. Where the specifications leave a choice to the network plugin, --network-plugin
    /// makes it.
    ///
    /// Exit status: 0 when the connection is allowed; 1 when it is denied (or left undefined);
    /// 2 when the input or an option is invalid (an endpoint the pods file does not hold,
    /// policies of kinds it cannot evaluate).
    #[command(after_long_help = cmd::explain::HELP)]
    Explain(ExplainArgs),

    /// Compare two sets of policies in connections, by row of the traffic matrix.
    ///
    /// Reads the policies before (OLD) and after (NEW) — files, directories, standard input or
    /// REV:PATH from git, of any dialect the evaluator reads — and decides both in one cluster:
    /// the pods of --pods, or the model built from the matrix of the DynaKube and EdgeConnect
    /// resources named after them (or with -f). For every Dynatrace workload, the connections each set allows are
    /// computed exactly, as sets of peers and ports (where Cilium's engine decides, the rows'
    /// connections one by one). First come connections newly allowed that no row of the matrix
    /// needs, with the rule that admits them; then each row whose connections became allowed
    /// (`+I12 ... 9998/TCP`) or no longer are (`-E2 ...`); then connections no row needs that
    /// are no longer allowed.
    ///
    /// Exit status: 0 when both sets allow the same connections; 1 when they differ (with
    /// --fail-on widened, only when some connection is newly allowed); 2 when the input or an
    /// option is invalid.
    #[command(after_long_help = cmd::diff::HELP)]
    Diff(DiffArgs),

    /// Write a commented cluster profile from a dump of the cluster.
    ///
    /// Reads what `kubectl get nodes,services,endpointslices,pods,namespaces,deployments,
    /// daemonsets -A -o json` prints (or `-o yaml`; `-` for standard input) and writes the
    /// cluster profile on standard output: the `kubernetes` Service and its endpoints, each
    /// node's own address as a single-address block, the control-plane nodes (or, where a
    /// managed control plane hides them, what to give instead), the cluster DNS (CoreDNS or
    /// kube-dns, OpenShift's, NodeLocal DNSCache and its address), the operator's namespace,
    /// release, CSI driver and webhook, and a Prometheus. Comments say where each value came
    /// from, the platform (EKS, GKE, AKS, OpenShift, kubeadm) and its caveats, and whether Cilium
    /// runs. Address blocks of the profile that hold pod addresses are warnings naming the
    /// rules they widen.
    ///
    /// Exit status: 0 on success; 2 when a dump or an option is invalid (nothing is written
    /// then).
    #[command(after_long_help = cmd::profile::HELP)]
    Profile(ProfileArgs),

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
    /// Exit status: 0 when no pod needs attention (none skipped, or only NoMutationNeeded); 1
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

    /// Print rows of the traffic matrix: what each is for, who talks to whom on which ports,
    /// when, through which proxy, and what the notes on it mean.
    ///
    /// The notes of generate name the rows they concern, such as `note (E9): ...`; this says
    /// what such a note means and what to do about it. Rows the team has reviewed can be
    /// acknowledged (`--ack E9`, or `acknowledge: [E9]` in the cluster profile): their notes
    /// then shrink to one line. Without ROW, every row is printed.
    ///
    /// Exit status: 0 on success; 2 for a ROW that is no row of the matrix (with the nearest
    /// one), or when standard output is closed or fails.
    Matrix(MatrixArgs),

    /// Helm post-renderer: the rendered release on standard input, written back unchanged,
    /// followed by the policies of its DynaKubes and EdgeConnects.
    ///
    /// Takes the options of generate without input files and DNS (a lock file is only read).
    /// Where the release renders the operator itself, the namespace, the operator release (its
    /// version label), whether the CSI driver is deployed and the webhook's host network and
    /// ports are read from it (a note says what came from where); the cluster profile's values
    /// win over them. A release without DynaKube or EdgeConnect is written back alone, with a
    /// note. Installed as the Helm 4 plugin `dynakube-netpol`
    /// (`helm template … --post-renderer dynakube-netpol`), see docs/integrations.md.
    ///
    /// Run by Helm as its plugin (HELM_PLUGIN_NAME=dynakube-netpol), a rejected release or a
    /// mistyped option is written as a YAML string holding the error, which Helm refuses and
    /// quotes in its own error: Helm shows nothing of a plugin that exits with an error.
    ///
    /// Exit status: 0 on success, and for a rejected release that Helm runs (see above); 2 when
    /// the input or an option is invalid (nothing is written then).
    #[command(after_long_help = cmd::helm_post_render::HELP)]
    HelmPostRender(HelmPostRenderArgs),

    /// KRM function: a ResourceList on standard input, the same list with the policies
    /// appended to its items on standard output.
    ///
    /// The options come from the list's functionConfig (kind NetworkPolicyGenerator, see the
    /// docs/integrations.md). Problems are reported in the list's results, with severity, resource and
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
        manifests::TRANSFORMER_NAME => cmd::kustomize_transformer::run(&args[1..]),
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
            say::set_verbosity(&cli);
            cli.command.run()
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            anstream::eprintln!(
                "{}: {}",
                style::error(),
                words::error_text(&error, &words::Flags)
            );
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
    let helm = args.get(1).is_some_and(|a| a == "helm-post-render")
        && cmd::helm_post_render::run_by_helm();
    let matches = command.try_get_matches_from(args).unwrap_or_else(|e| {
        // Helm shows nothing of a plugin that exits with an error: a mistyped
        // --post-renderer-args reaches it the way a rejected release does.
        if helm && e.use_stderr() {
            match cmd::helm_post_render::fail_for_helm(e.render().to_string().trim_end()) {
                Ok(_) => std::process::exit(0),
                Err(error) => {
                    eprintln!("error: {error}");
                    std::process::exit(i32::from(exit::INVALID));
                }
            }
        }
        e.exit()
    });
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

impl Command {
    fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Generate(generate) => generate.run(),
            Command::Verify(verify) => verify.run(),
            Command::Explain(explain) => explain.run(),
            Command::Diff(diff) => diff.run(),
            Command::Profile(profile) => profile.run(),
            Command::Audit(audit) => audit.run(),
            Command::ZonePlan(plan) => plan.run(),
            Command::Lock(lock) => lock.run(),
            Command::Matrix(matrix) => matrix.run(),
            Command::HelmPostRender(render) => render.run(),
            Command::Krm => krm::run(),
            Command::KustomizeTransformer { config } => {
                cmd::kustomize_transformer::run(&[config.into_os_string()])
            }
            Command::Plugins(plugins) => plugins.run(),
            Command::Completions { shell } => cmd::completions::completions(shell),
            Command::Man { dir } => {
                use clap::CommandFactory;
                cmd::completions::write_man_pages(Cli::command(), &dir)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}
