//! `diff`: what changes in connections, by row of the matrix, between two sets of policies in
//! one cluster.

use std::process::ExitCode;

use clap::ValueEnum;
use dynakube_netpol::ci::Format;
use dynakube_netpol::source::Limits;
use dynakube_netpol::{Flavor, evaluate, verify};

use crate::git::Revised;
use crate::inputs::InputArgs;
use crate::settings::{Settings, read};
use crate::{exit, locking};

pub(crate) const HELP: &str = "\
Examples:
  dynakube-netpol diff main:policies/ policies/ -f dynakube.yaml --cluster cluster.yaml \\
    --hosts hosts.yaml
  dynakube-netpol diff old.yaml new.yaml -f dynakube.yaml --cluster cluster.yaml \\
    --hosts hosts.yaml --format markdown --fail-on widened
  kubectl get networkpolicies -n dynatrace -o yaml | dynakube-netpol diff - policies/ \\
    -f dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml";

#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// The policies before: a file or a directory of them (its *.yaml, *.yml and *.json
    /// files, its subdirectories' with -R) of any dialect the evaluator reads, `-` for
    /// standard input, or REV:PATH for a file or directory as git revision REV holds it (PATH
    /// from the top of the repository, or from the current directory as ./PATH).
    #[arg(value_name = "OLD")]
    old: String,

    /// The policies after, as OLD.
    #[arg(value_name = "NEW")]
    new: String,

    /// The DynaKube and EdgeConnect resources whose matrix names the rows: files or
    /// directories after OLD and NEW, as generate reads them. Without --pods, the cluster is
    /// the model built from that matrix.
    #[arg(
        value_name = "INPUT",
        required_unless_present = "filename",
        value_hint = clap::ValueHint::AnyPath
    )]
    inputs: Vec<String>,

    /// A resource file or directory as kubectl's -f names it, beside the inputs above (`-`
    /// reads standard input); may be given more than once.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        value_hint = clap::ValueHint::AnyPath
    )]
    filename: Vec<String>,

    /// Also read the subdirectories of every directory named (OLD, NEW, the inputs, --pods).
    #[arg(short = 'R', long)]
    recursive: bool,

    #[command(flatten)]
    settings: Settings,

    /// Pods, namespaces and nodes, as `kubectl get pods,namespaces,nodes -A -o yaml` prints
    /// them (may be given more than once). Without it, the model cluster verify builds from
    /// the matrix.
    #[arg(long, value_name = "FILE")]
    pods: Vec<String>,

    /// A lock file giving addresses of hosts --hosts does not (default dynakube-netpol.lock
    /// when it exists). diff reads it and never resolves.
    #[arg(long, value_name = "FILE")]
    lock: Option<std::path::PathBuf>,

    /// `text` (newly allowed connections no row needs first, then the rows of the matrix
    /// whose connections changed, `+` allowed and `-` no longer allowed), `markdown` (for a
    /// pull-request comment) or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: DiffFormat,

    /// What fails the run (exit 1): by default any change; `widened`: only connections newly
    /// allowed (whether a row needs them or not), so that narrowing passes.
    #[arg(long, value_name = "WHAT")]
    fail_on: Option<FailOn>,

    /// The network plugin, as for verify. Default: `cilium` when either set holds Cilium's
    /// kinds or --pods holds the Cilium agent's `cilium-config` ConfigMap, else `generic`. Both
    /// sets are decided as the one plugin enforces them.
    #[arg(long, value_name = "NAME")]
    network_plugin: Option<crate::cmd::explain::PluginArg>,
}

/// `--format` of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    /// For people.
    Text,
    /// For a pull-request comment.
    Markdown,
    /// JSON for tools.
    Json,
}

/// `--fail-on` of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Only connections newly allowed.
    Widened,
}

impl DiffArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let input = InputArgs {
            inputs: self.inputs.clone(),
            filename: self.filename.clone(),
            recursive: self.recursive,
        };
        let loaded = self.settings.load(&input, Flavor::Kubernetes)?;
        let matrix = loaded.matrix()?;
        // The policies and pods are what a cluster prints.
        let limits = self.settings.limits.dump_limits();
        let lock = locking::read_only(self.lock.as_deref())?;
        let resolver = dynakube_netpol::lock::Layered::hosts_over_lock(&loaded.hosts, &lock);
        let addresses = dynakube_netpol::resolve::resolve_known(
            &matrix,
            &resolver,
            loaded.config.fallback,
            &loaded.config.address_policy(),
        )?;
        let (old, new) = (
            self.policies(&self.old, &limits)?,
            self.policies(&self.new, &limits)?,
        );
        let options = evaluate::Options {
            network_plugin: self
                .network_plugin
                .map(crate::cmd::explain::PluginArg::plugin),
            ..evaluate::Options::default()
        };
        let cluster = self.cluster(&matrix, &limits)?;
        let found = verify::diff(
            &matrix,
            &cluster,
            (&self.old, &old),
            (&self.new, &new),
            options,
            &addresses,
        )?;
        let widened_only = self.fail_on == Some(FailOn::Widened);
        let format = match self.format {
            DiffFormat::Text => Format::Text,
            DiffFormat::Markdown => Format::Markdown,
            DiffFormat::Json => Format::Json,
        };
        exit::write(found.render(format, widened_only))?;
        Ok(exit::code(if found.fails(widened_only) {
            exit::FAILED
        } else {
            exit::SUCCESS
        }))
    }

    /// The policies of `name`: a file, a directory, `-` or `REV:PATH`; policies of kinds the
    /// evaluator cannot evaluate are an error, since the diff would not account for them.
    fn policies(&self, name: &str, limits: &Limits) -> anyhow::Result<evaluate::PolicyFiles> {
        let texts: Vec<(String, String)> = match Revised::parse(name) {
            Some(revised) => revised.read(self.recursive, limits)?,
            None => (crate::inputs::expand_or_none(name, self.recursive)?.into_iter())
                .map(|file| read(&file, limits).map(|text| (file, text)))
                .collect::<anyhow::Result<_>>()?,
        };
        let mut files = evaluate::PolicyFiles::default();
        for (file, text) in &texts {
            files.extend([evaluate::read_policies(file, text, limits)?]);
        }
        if !files.unevaluated.is_empty() {
            let kinds: Vec<String> = (files.unevaluated.iter())
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            anyhow::bail!(
                "{} holds policies diff cannot evaluate ({}): the diff would not account for them",
                dynakube_netpol::values::Shown(name),
                kinds.join(", ")
            );
        }
        Ok(files)
    }

    /// The cluster of --pods, or the model of `matrix`.
    fn cluster(
        &self,
        matrix: &dynakube_netpol::matrix::Matrix,
        limits: &Limits,
    ) -> anyhow::Result<evaluate::Cluster> {
        if self.pods.is_empty() {
            return Ok(verify::model_cluster(matrix));
        }
        let mut cluster = evaluate::Cluster::default();
        for name in &self.pods {
            for name in crate::inputs::expand(name, self.recursive)? {
                let more = evaluate::read_cluster(&name, &read(&name, limits)?, limits)?;
                cluster.extend([more]);
            }
        }
        Ok(cluster)
    }
}

/// What changes in connections from `old` to `new` (each named, with its files' names and
/// texts), in the model cluster of `matrix`, as `diff` writes it in text: what `generate
/// --check` and `lock --check` print above their unified diffs. When a set cannot be read as
/// policies, a line says so instead: the check goes on without it.
pub(crate) fn summary(
    matrix: &dynakube_netpol::matrix::Matrix,
    addresses: &dynakube_netpol::resolve::Addresses,
    old: (&str, &[(String, String)]),
    new: (&str, &[(String, String)]),
    limits: &Limits,
) -> String {
    let read = |files: &[(String, String)]| -> dynakube_netpol::Result<evaluate::PolicyFiles> {
        let mut read = evaluate::PolicyFiles::default();
        for (file, text) in files {
            read.extend([evaluate::read_policies(file, text, limits)?]);
        }
        Ok(read)
    };
    let found = read(old.1).and_then(|before| {
        let after = read(new.1)?;
        verify::diff(
            matrix,
            &verify::model_cluster(matrix),
            (old.0, &before),
            (new.0, &after),
            evaluate::Options::default(),
            addresses,
        )
    });
    match found {
        Ok(found) => found.render(Format::Text, false),
        Err(error) => format!(
            "connections not compared: {}\n",
            crate::words::error_text(&error.into(), &crate::words::Flags)
        ),
    }
}
