//! `generate`: the policies of DynaKube and EdgeConnect resources, as a stream or into a
//! directory, with addresses from the hosts file, the lock file and DNS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dynakube_netpol::Flavor;
use dynakube_netpol::output;
use dynakube_netpol::resolve::FixedHosts;

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
  dynakube-netpol generate dynakube.yaml --hosts hosts.yaml -o policies/ --check";

#[derive(Debug, clap::Args)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    dns: locking::DnsArgs,

    #[command(flatten)]
    flavor: crate::settings::FlavorChoice,

    /// Write one file per policy and a kustomization.yaml into DIR, removing files this tool
    /// wrote there before that are no longer generated. `-o -` writes the stream to standard
    /// output, as without the option.
    #[arg(short = 'o', long, value_name = "DIR")]
    output_dir: Option<PathBuf>,

    /// With --output-dir: write nothing; exit 1 and print a unified diff when DIR differs from
    /// what the inputs generate.
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
        let resolver =
            dynakube_netpol::lock::Layered::hosts_over_lock(&loaded.hosts, &completed.lock);
        let mut generated = dynakube_netpol::pipeline::render(matrix, &options, &resolver)?;
        generated.add_notes(completed.notes);
        Ok(generated)
    }

    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        if self.check && self.output_dir.as_deref() == Some(Path::new("-")) {
            anyhow::bail!("--check compares with a directory; `-o -` is standard output");
        }
        let flavor = self.flavor.flavor.flavor();
        let loaded = self.sources.load(flavor)?;
        let mut arguments = self.sources.arguments()?;
        if flavor != Flavor::default() {
            arguments.extend(["--flavor".into(), flavor.as_str().into()]);
        }
        let generated = self.generated(&loaded)?;
        let output =
            generated.output_in(&loaded.inputs, arguments.clone(), &crate::words::Flags)?;
        print_notes(&generated.notes);
        let policies = counted(generated.policies.len(), "policy", "policies");
        let summary = |written: String| {
            say::summary(&written, &generated.notes, generated.acknowledged.len());
        };

        let dir = self.output_dir.as_deref().filter(|d| *d != Path::new("-"));
        match dir {
            None => {
                exit::write(output.to_stream())?;
                // A reader that stopped early got part of it; that is no news (see `exit`).
                if !exit::reader_gone() {
                    summary(format!("{policies} written to standard output"));
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(dir) if self.check => {
                let refresh = self.refresh_command(arguments, dir);
                let code = check(dir, &output.to_files(), self.format, refresh)?;
                if code == exit::SUCCESS {
                    summary(format!("{policies} checked: {} is up to date", shown(dir)));
                }
                Ok(exit::code(code))
            }
            Some(dir) => {
                let flush = if self.sync {
                    output::Flush::Yes
                } else {
                    output::Flush::No
                };
                let written = output::write_dir(dir, &output.to_files(), flush, &mut waiting)?;
                verbose(|| changed_files(&written));
                summary(format!("{policies} in {}: {}", shown(dir), files(&written)));
                Ok(ExitCode::SUCCESS)
            }
        }
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

/// Compares `dir` with `files`: the report in `format` on standard output, and an error
/// naming `refresh` when they differ. The exit status.
fn check(
    dir: &Path,
    files: &BTreeMap<String, String>,
    format: ReportFormat,
    refresh: String,
) -> anyhow::Result<u8> {
    let checked = output::check_dir(dir, files)?;
    exit::write(checked.render(format.format()))?;
    let Err(mut stale) = checked.fresh() else {
        return Ok(exit::SUCCESS);
    };
    if let dynakube_netpol::Error::Stale {
        refresh: command, ..
    } = &mut stale
    {
        *command = Some(refresh);
    }
    anstream::eprintln!(
        "{}: {}",
        crate::style::error(),
        stale.to_string_in(&crate::words::Flags)
    );
    Ok(exit::FAILED)
}
