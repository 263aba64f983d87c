//! `generate`: the policies of DynaKube and EdgeConnect resources, as a stream or into a
//! directory, with addresses from the hosts file, the lock file and DNS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dynakube_netpol::output;
use dynakube_netpol::resolve::{Addresses, FixedHosts};

use crate::say::{self, ReportFormat, counted, print_notes, verbose, waiting};
use crate::settings::{Loaded, Sources};
use crate::{exit, locking};

pub(crate) const HELP: &str = "\
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
  networkPlugin: calico               # calico | cilium | antrea | kube-ovn | ovn-kubernetes | other
  acknowledge: [E9, E10]              # rows whose notes were reviewed (also --ack)
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
  dynakube-netpol generate dynakube.yaml --hosts hosts.yaml -o policies/ --check
  dynakube-netpol generate -R -f manifests/ --cluster cluster.yaml --hosts hosts.yaml -o json";

#[derive(Debug, clap::Args)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    dns: locking::DnsArgs,

    #[command(flatten)]
    flavor: crate::settings::FlavorChoice,

    /// Where the policies go, as kubectl's -o reads: `yaml` (the default) or `json` (a v1 List)
    /// on standard output, as `-` does; a file name ending in .yaml, .yml or .json: the stream
    /// in that format, written to that file atomically; any other name, or an existing
    /// directory: one file per policy and a kustomization.yaml in that directory, removing
    /// files this tool wrote there before that are no longer generated. `-o DIR/` names a
    /// directory whatever its name.
    #[arg(
        short = 'o',
        long,
        visible_alias = "output",
        value_name = "DIR|FILE|FORMAT"
    )]
    output_dir: Option<PathBuf>,

    /// With -o DIR or -o FILE: write nothing; exit 1 and print a unified diff when it differs
    /// from what the inputs generate.
    #[arg(long, requires = "output_dir")]
    check: bool,

    /// With --check, how to report: `text` (unified diffs), `json`, `sarif` (SARIF 2.1.0 for
    /// code scanning), `junit` (JUnit XML, a test case per file) or `markdown` (for a
    /// pull-request comment).
    #[arg(
        long,
        value_name = "FORMAT",
        requires = "check",
        default_value = "text"
    )]
    format: ReportFormat,

    /// With --output-dir: flush the new files to disk before they take the place of the old
    /// ones, so that a crash of the machine right after the write cannot leave empty files.
    /// Costs about a millisecond per file on slow disks.
    #[arg(long, requires = "output_dir")]
    sync: bool,
}

impl GenerateArgs {
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
    /// policies), then the fallback; and the addresses of the matrix's hosts, as `verify`
    /// places them.
    fn generated(
        &self,
        loaded: &Loaded,
    ) -> anyhow::Result<(dynakube_netpol::Generated, Addresses)> {
        let options = loaded.config.generate_options(self.dns.allow_unresolved);
        let matrix = loaded.matrix()?;
        let needed = options.needed_hosts(&matrix);
        let completed = if needed.is_empty() {
            None
        } else {
            self.locked(&needed, &loaded.hosts, &options.addresses)?
        };
        let placed = |matrix: &dynakube_netpol::matrix::Matrix, resolver| {
            dynakube_netpol::resolve::resolve_known(
                matrix,
                resolver,
                loaded.config.fallback,
                &options.addresses,
            )
        };
        let Some(completed) = completed else {
            let options = dynakube_netpol::GenerateOptions {
                allow_unresolved: false,
                ..options.clone()
            };
            let generated = dynakube_netpol::pipeline::render(matrix, &options, &loaded.hosts)?;
            let addresses = placed(&generated.matrix, &loaded.hosts)?;
            return Ok((generated, addresses));
        };
        let resolver =
            dynakube_netpol::lock::Layered::hosts_over_lock(&loaded.hosts, &completed.lock);
        let mut generated = dynakube_netpol::pipeline::render(matrix, &options, &resolver)?;
        generated.add_notes(completed.notes);
        let addresses = placed(&generated.matrix, &resolver)?;
        Ok((generated, addresses))
    }

    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let target = Target::of(self.output_dir.as_deref())?;
        if let Target::Stdout(_) = target {
            for (flag, given) in [("--check", self.check), ("--sync", self.sync)] {
                if given {
                    anyhow::bail!(
                        "{flag} is for a directory or a file, and {} is standard output; name one with -o",
                        self.output_spelling()
                    );
                }
            }
        }
        let mut loaded = self.sources.load(self.flavor.flavor.flavor())?;
        self.flavor.apply(&mut loaded.config)?;
        let mut arguments = self.sources.arguments()?;
        arguments.extend(self.flavor.arguments());
        let (generated, addresses) = self.generated(&loaded)?;
        let output =
            generated.output_in(&loaded.inputs, arguments.clone(), &crate::words::Flags)?;
        print_notes(&generated.notes);
        let policies = counted(generated.policies.len(), "policy", "policies");
        let summary = |written: String| {
            say::summary(&written, &generated.notes, generated.acknowledged.len());
        };

        match target {
            Target::Stdout(stream) => {
                exit::write(stream.text(&output)?)?;
                // A reader that stopped early got part of it; that is no news (see `exit`).
                if !exit::reader_gone() {
                    summary(format!("{policies} written to standard output"));
                }
                Ok(ExitCode::SUCCESS)
            }
            Target::File(ref path, _) | Target::Dir(ref path) if self.check => {
                let placed = (&generated.matrix, &addresses);
                let checked = self.checked(&target, path, &output, placed, &loaded)?;
                let refresh = self.refresh_command(arguments, path);
                let code = check(path, &checked, self.format, refresh)?;
                if code == exit::SUCCESS {
                    summary(format!("{policies} checked: {} is up to date", shown(path)));
                }
                Ok(exit::code(code))
            }
            Target::File(file, stream) => {
                let changed = write_file(&file, &stream.text(&output)?)?;
                let written = if changed {
                    "written"
                } else {
                    "nothing changed"
                };
                summary(format!("{policies} in {}: {written}", shown(&file)));
                Ok(ExitCode::SUCCESS)
            }
            Target::Dir(dir) => {
                let flush = if self.sync {
                    output::Flush::Yes
                } else {
                    output::Flush::No
                };
                let written = output::write_dir(&dir, &output.to_files(), flush, &mut waiting)?;
                verbose(|| changed_files(&written));
                summary(format!(
                    "{policies} in {}: {}",
                    shown(&dir),
                    files(&written)
                ));
                Ok(ExitCode::SUCCESS)
            }
        }
    }

    /// What `--check` finds at `target` (`path`, a directory or a file); with `--format
    /// text`, when it is stale, what that does to connections is printed first, between the
    /// policies on disk and those of `output`, placed by the matrix and addresses of `placed`.
    fn checked(
        &self,
        target: &Target,
        path: &Path,
        output: &output::Output,
        (matrix, addresses): (&dynakube_netpol::matrix::Matrix, &Addresses),
        loaded: &Loaded,
    ) -> anyhow::Result<output::Checked> {
        let expected = match target {
            Target::File(file, stream) => {
                BTreeMap::from([(file.display().to_string(), stream.text(output)?)])
            }
            _ => output.to_files(),
        };
        let checked = match target {
            Target::File(file, _) => {
                output::check_file(file, expected.values().next().expect("one file"))?
            }
            _ => output::check_dir(path, &expected)?,
        };
        if self.format == ReportFormat::Text && checked.fresh().is_err() {
            let old = on_disk(target, &checked);
            let new: Vec<(String, String)> = expected.into_iter().collect();
            let name = path.display().to_string();
            let found = crate::cmd::diff::summary(
                matrix,
                addresses,
                (&name, &old),
                ("the inputs", &new),
                &loaded.config.limits,
            );
            exit::write(found + "\n")?;
        }
        Ok(checked)
    }

    /// `-o` as given, for messages (nothing given is `-o yaml`).
    fn output_spelling(&self) -> String {
        let given = self
            .output_dir
            .as_deref()
            .map_or_else(|| "yaml".into(), |o| o.display().to_string());
        format!("`-o {}`", dynakube_netpol::values::Shown(&given))
    }

    /// The command line that writes `dir` afresh: this run's without `--check`.
    fn refresh_command(&self, arguments: Vec<String>, dir: &Path) -> String {
        let mut words = vec!["dynakube-netpol".to_string(), "generate".to_string()];
        words.extend(arguments);
        words.extend(self.dns.arguments());
        words.extend([
            "-o".to_string(),
            crate::settings::quoted(&dir.display().to_string()),
        ]);
        words.join(" ")
    }
}

/// A path as the summary shows it: escaped, so that no control character reaches the terminal.
fn shown(path: &Path) -> String {
    dynakube_netpol::values::escape(&path.display().to_string()).into_owned()
}

/// What a write did, in words: `3 files written, 22 unchanged, 1 removed`, or that nothing
/// changed.
fn files(written: &output::Written) -> String {
    if written.changed.is_empty() && written.removed.is_empty() {
        return format!(
            "nothing changed ({} as they were)",
            counted(written.unchanged.len(), "file", "files")
        );
    }
    let mut parts = vec![format!(
        "{} written",
        counted(written.changed.len(), "file", "files")
    )];
    if !written.unchanged.is_empty() {
        parts.push(format!("{} unchanged", written.unchanged.len()));
    }
    if !written.removed.is_empty() {
        parts.push(format!("{} removed", written.removed.len()));
    }
    parts.join(", ")
}

/// The files a write changed and removed, by name, for --verbose.
fn changed_files(written: &output::Written) -> String {
    // Removed names come from the directory's previous kustomization: escaped.
    let names = |set: &std::collections::BTreeSet<String>| {
        set.iter()
            .map(|name| dynakube_netpol::values::escape(name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (written.changed.is_empty(), written.removed.is_empty()) {
        (true, true) => "no file changed".to_string(),
        (false, true) => format!("written: {}", names(&written.changed)),
        (true, false) => format!("removed: {}", names(&written.removed)),
        (false, false) => format!(
            "written: {}; removed: {}",
            names(&written.changed),
            names(&written.removed)
        ),
    }
}

/// The policy files of `target` as they are on disk, by name: the file, or the directory's
/// files the check compared (those the inputs generate, and generated files left over).
fn on_disk(target: &Target, checked: &output::Checked) -> Vec<(String, String)> {
    let limits = dynakube_netpol::source::Limits::default();
    let read = |path: &Path| crate::settings::read_path(path, &limits).ok();
    match target {
        Target::File(file, _) => (read(file).into_iter())
            .map(|text| (file.display().to_string(), text))
            .collect(),
        Target::Dir(dir) => (checked.files.iter())
            .filter_map(|name| read(&dir.join(name)).map(|text| (name.clone(), text)))
            .collect(),
        Target::Stdout(_) => Vec::new(),
    }
}

/// What `--check` found at `path` (a directory or a file): the report in `format` on
/// standard output, and an error naming `refresh` when it is stale. The exit status.
fn check(
    path: &Path,
    checked: &output::Checked,
    format: ReportFormat,
    refresh: String,
) -> anyhow::Result<u8> {
    exit::write(checked.render(format.format()))?;
    let Err(mut stale) = checked.fresh() else {
        return Ok(exit::SUCCESS);
    };
    if let dynakube_netpol::Error::Stale {
        dir,
        refresh: command,
        ..
    } = &mut stale
    {
        // A file's report names its directory; the message names the file.
        *dir = path.display().to_string();
        *command = Some(refresh);
    }
    anstream::eprintln!(
        "{}: {}",
        crate::style::error(),
        stale.to_string_in(&crate::words::Flags)
    );
    Ok(exit::FAILED)
}

/// The format of a stream of policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    /// A YAML stream with the provenance as comments.
    Yaml,
    /// One JSON document, a `v1` `List`.
    Json,
}

impl Stream {
    /// The policies of `output` in this format. JSON is one `v1` `List`, as `kubectl get -o
    /// json` prints several objects: one document every JSON reader takes whole (a stream of
    /// objects is no JSON document), which kubectl's `-f` reads item by item. JSON has no
    /// comments: the provenance and header lines are left out; the objects are those of the
    /// YAML stream, their fields in the same order.
    fn text(self, output: &output::Output) -> anyhow::Result<String> {
        Ok(match self {
            Stream::Yaml => output.to_stream(),
            Stream::Json => {
                let list = List {
                    api_version: "v1",
                    kind: "List",
                    items: output.objects()?,
                };
                serde_json::to_string_pretty(&list)? + "\n"
            }
        })
    }
}

/// A `v1` `List`, its fields in kubectl's order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct List {
    api_version: &'static str,
    kind: &'static str,
    items: Vec<serde_yaml::Value>,
}

/// Where `-o` sends the policies.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Standard output.
    Stdout(Stream),
    /// One file, replaced atomically.
    File(PathBuf, Stream),
    /// A directory of one file per policy and a kustomization.
    Dir(PathBuf),
}

/// kubectl's output formats that this tool does not write; `-o wide` must not become a
/// directory named `wide`.
const KUBECTL_FORMATS: [&str; 12] = [
    "name",
    "wide",
    "kyaml",
    "jsonpath",
    "jsonpath-as-json",
    "jsonpath-file",
    "go-template",
    "go-template-file",
    "template",
    "templatefile",
    "custom-columns",
    "custom-columns-file",
];

impl Target {
    /// What `-o` names. An existing directory stays a directory, as before `-o` knew formats
    /// and files (with a warning when its name reads as a format or a file); otherwise `yaml`
    /// and `json` are formats, kubectl's other formats are refused, a name ending in .yaml,
    /// .yml or .json is a file, and anything else (a name ending in `/` too) a directory.
    fn of(given: Option<&Path>) -> anyhow::Result<Target> {
        let Some(path) = given else {
            return Ok(Target::Stdout(Stream::Yaml));
        };
        let text = path.to_string_lossy();
        let word = match text.as_ref() {
            "-" | "yaml" => Some(Stream::Yaml),
            "json" => Some(Stream::Json),
            _ => None,
        };
        let file = match path.extension().and_then(|e| e.to_str()) {
            _ if text.ends_with('/') => None,
            Some("yaml" | "yml") => Some(Stream::Yaml),
            Some("json") => Some(Stream::Json),
            _ => None,
        };
        let shown = dynakube_netpol::values::Shown(&text).to_string();
        if text != "-" && path.is_dir() {
            let instead = match (word, file) {
                (Some(_), _) => {
                    Some("for the stream on standard output leave -o out, or give `-o -`")
                }
                (None, Some(_)) => Some("remove the directory to write one file of that name"),
                (None, None) => None,
            };
            if let Some(instead) = instead {
                let note = dynakube_netpol::matrix::Note::new(
                    dynakube_netpol::matrix::Level::Warning,
                    &[],
                    format!(
                        "-o {shown}: writing into the existing directory {shown}, as before; {instead}"
                    ),
                );
                print_notes([&note]);
            }
            return Ok(Target::Dir(path.to_path_buf()));
        }
        if let Some(stream) = word {
            return Ok(Target::Stdout(stream));
        }
        let kubectl = text.split_once('=').map_or(text.as_ref(), |(word, _)| word);
        if KUBECTL_FORMATS.contains(&kubectl) {
            anyhow::bail!(
                "-o {shown}: this tool writes no `{kubectl}` output; -o yaml (the default) and -o json print the policies, -o FILE.yaml or -o FILE.json writes them to a file, and -o {kubectl}/ writes a directory of that name"
            );
        }
        Ok(match file {
            Some(stream) => Target::File(path.to_path_buf(), stream),
            None => Target::Dir(path.to_path_buf()),
        })
    }
}

/// Writes `text` to `file` atomically, unless it already holds it; whether it wrote.
fn write_file(file: &Path, text: &str) -> anyhow::Result<bool> {
    if std::fs::read_to_string(file).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    output::write_file(file, text)?;
    Ok(true)
}
