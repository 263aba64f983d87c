//! `lock`: resolves the hosts the policies need into the lock file; refreshes or checks it.

use std::process::ExitCode;

use dynakube_netpol::Flavor;
use dynakube_netpol::lock::{Layered, Lock};
use dynakube_netpol::matrix::Matrix;
use dynakube_netpol::resolve::Addresses;

use crate::settings::{Loaded, Sources};
use crate::{exit, locking};

#[derive(Debug, clap::Args)]
pub(crate) struct LockArgs {
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
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let loaded = self.sources.load(Flavor::Kubernetes)?;
        let matrix = loaded.matrix()?;
        let needed = dynakube_netpol::lock::needed_hosts(&matrix);
        if self.refresh || self.check {
            let policy = loaded.config.address_policy();
            let summary =
                |before: &Lock, after: &Lock| connections(&loaded, &matrix, before, after);
            let check: Option<&locking::Summary<'_>> =
                if self.check { Some(&summary) } else { None };
            let resolver = (
                &loaded.hosts as &dyn dynakube_netpol::resolve::Resolve,
                &policy,
            );
            return locking::refresh(&self.dns, &needed, resolver, self.prune, check);
        }
        let hosts = loaded.hosts;
        let path = self.dns.path();
        let _held = if self.dns.lacks_hosts(&needed, &hosts)? {
            Some(locking::hold(&path)?)
        } else {
            None
        };
        let completed = self
            .dns
            .complete(&needed, &hosts, &loaded.config.address_policy())?;
        crate::say::print_notes(&completed.notes);
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

/// What a refresh of the lock from `before` to `after` does to connections: the policies of
/// the Kubernetes flavor (whose rules hold the addresses) with each lock, compared as `diff`
/// compares them, in the model cluster of `matrix`. Nothing without a lock before: no policy
/// could be written without it.
fn connections(loaded: &Loaded, matrix: &Matrix, before: &Lock, after: &Lock) -> String {
    if before.hosts.is_empty() {
        return String::new();
    }
    let policies = |lock: &Lock| -> anyhow::Result<(Vec<(String, String)>, Addresses)> {
        let resolver = Layered::hosts_over_lock(&loaded.hosts, lock);
        let options = loaded.config.generate_options(false);
        let generated = dynakube_netpol::pipeline::render(matrix.clone(), &options, &resolver)?;
        let addresses = dynakube_netpol::resolve::resolve_known(
            &generated.matrix,
            &resolver,
            loaded.config.fallback,
            &options.addresses,
        )?;
        let stream = (generated.objects().iter())
            .map(serde_yaml::to_string)
            .collect::<Result<Vec<_>, _>>()?
            .join("---\n");
        Ok((vec![("policies".to_string(), stream)], addresses))
    };
    match (policies(before), policies(after)) {
        (Ok((old, _)), Ok((new, addresses))) => crate::cmd::diff::summary(
            matrix,
            &addresses,
            ("the lock", &old),
            ("the refreshed lock", &new),
            &loaded.config.limits,
        ),
        (Err(error), _) | (_, Err(error)) => format!(
            "connections not compared: {}\n",
            crate::words::error_text(&error, &crate::words::Flags)
        ),
    }
}
