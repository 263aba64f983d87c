//! `lock`: resolves the hosts the policies need into the lock file; refreshes or checks it.

use std::process::ExitCode;

use dynakube_netpol::Flavor;

use crate::settings::Sources;
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
