//! The lock file on the command line: which hosts to resolve, asking DNS, writing the lock.
//!
//! When a lock is in use: `--lock`, `--nameserver` or `--offline` is given, or
//! `dynakube-netpol.lock` exists in the current directory. Otherwise `generate` never touches
//! the network and hosts without addresses in `--hosts` are an error, as before locks existed.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use dynakube_netpol::dns::{self, DnsOptions};
use dynakube_netpol::guard::AddressPolicy;
use dynakube_netpol::lock::{self, Lock, Reach};
use dynakube_netpol::matrix::Note;
use dynakube_netpol::output::{self, WriteLock};
use dynakube_netpol::resolve::Resolve;
use dynakube_netpol::values::{HostName, Shown};

/// The first line of every lock file the command line writes: what it is, and how to refresh
/// it.
pub const LOCK_HEADER: &str = "# dynakube-netpol lock: the addresses DNS gave for the hosts the policies need; review and commit it, refresh with `dynakube-netpol lock --refresh`";

/// The lock file used when `--lock` is not given.
pub const DEFAULT_LOCK: &str = "dynakube-netpol.lock";

/// Options of DNS resolution and the lock file.
#[derive(Debug, clap::Args)]
pub struct DnsArgs {
    /// The lock file: the addresses DNS gave for every host the policies need (default
    /// dynakube-netpol.lock in the current directory). Hosts it holds are never resolved
    /// again; hosts it lacks are resolved and added.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,

    /// A DNS server to ask instead of the system's (IP, or IP:PORT; port 53 by default); may
    /// be given more than once. Implies the lock.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_nameserver)]
    pub nameserver: Vec<SocketAddr>,

    /// Never use the network: hosts the lock and --hosts do not hold are an error naming them.
    #[arg(long)]
    pub offline: bool,

    /// Hosts DNS does not resolve (NXDOMAIN, SERVFAIL, timeout, empty answer) get no rule and
    /// a warning, instead of failing. (EdgeConnect forwarding targets always do.)
    #[arg(long)]
    pub allow_unresolved: bool,

    /// Seconds one DNS query may take (1 to 60).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3,
        value_parser = crate::ranges::u64_in(crate::ranges::DNS_TIMEOUT),
        allow_negative_numbers = true
    )]
    pub dns_timeout: u64,

    /// How many hosts are resolved at the same time (1 to 256).
    #[arg(
        long,
        value_name = "COUNT",
        default_value_t = 16,
        value_parser = crate::ranges::usize_in(crate::ranges::DNS_PARALLELISM),
        allow_negative_numbers = true
    )]
    pub dns_parallelism: usize,
}

fn parse_nameserver(s: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    let address = s
        .parse::<SocketAddr>()
        .map_err(|_| format!("`{}` is not an IP address or IP:PORT", Shown(s)))?;
    if address.port() == 0 {
        return Err(format!("`{}`: port 0 is no server's port", Shown(s)));
    }
    Ok(address)
}

/// A lock completed for a matrix: what it holds, whether it gained hosts, warnings.
pub struct Completed {
    /// The lock with every resolvable host.
    pub lock: Lock,
    /// Whether hosts were added (the file must be written).
    pub changed: bool,
    /// Warnings for hosts left without addresses (`--allow-unresolved`).
    pub notes: Vec<Note>,
}

impl DnsArgs {
    /// The options that change what a run writes, as command-line words: the lock file, the
    /// name servers, `--offline` and `--allow-unresolved`.
    pub fn arguments(&self) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(lock) = &self.lock {
            words.extend([
                "--lock".to_string(),
                crate::settings::quoted(&lock.display().to_string()),
            ]);
        }
        for server in &self.nameserver {
            words.extend(["--nameserver".to_string(), server.to_string()]);
        }
        if self.offline {
            words.push("--offline".into());
        }
        if self.allow_unresolved {
            words.push("--allow-unresolved".into());
        }
        words
    }

    /// The lock file's path.
    pub fn path(&self) -> PathBuf {
        self.lock
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LOCK))
    }

    /// Whether a lock is in use (see the module documentation).
    pub fn in_use(&self) -> bool {
        self.lock.is_some()
            || !self.nameserver.is_empty()
            || self.offline
            || Path::new(DEFAULT_LOCK).is_file()
    }

    fn options(&self) -> DnsOptions {
        DnsOptions {
            nameservers: self.nameserver.clone(),
            timeout: Duration::from_secs(self.dns_timeout.max(1)),
            parallelism: self.dns_parallelism.max(1),
        }
    }

    /// The lock file (within the default input limits) and its text, or an empty lock when
    /// it does not exist.
    pub fn read(&self) -> anyhow::Result<(Lock, String)> {
        let found = lock::read(&self.path(), &dynakube_netpol::source::Limits::default())?;
        Ok(found.unwrap_or_default())
    }

    /// Resolves `names` with DNS: the entries, and warnings (with `--allow-unresolved`) or an
    /// error naming each host that failed and why.
    pub fn resolve(
        &self,
        names: &std::collections::BTreeSet<HostName>,
        needed: &BTreeMap<HostName, Reach>,
    ) -> anyhow::Result<(Lock, Vec<Note>)> {
        if names.is_empty() {
            return Ok((Lock::default(), Vec::new()));
        }
        if self.offline {
            return Err(dynakube_netpol::Error::NotLocked {
                lock: self.path().display().to_string(),
                hosts: names.iter().map(ToString::to_string).collect(),
            }
            .into());
        }
        let resolution = dns::resolve_all(names, &self.options())?;
        Ok(resolution.checked(needed, self.allow_unresolved)?)
    }

    /// Whether the lock file lacks hosts of `needed` that `overrides` does not answer (so that
    /// completing it resolves and writes).
    pub fn lacks_hosts(
        &self,
        needed: &BTreeMap<HostName, Reach>,
        overrides: &dyn Resolve,
    ) -> anyhow::Result<bool> {
        let (lock, _) = self.read()?;
        Ok(!lock.missing(needed, overrides)?.is_empty())
    }

    /// The lock with every host of `needed` that `overrides` does not answer, resolving those
    /// it lacks; refuses private answers for public hosts unless allowed.
    pub fn complete(
        &self,
        needed: &BTreeMap<HostName, Reach>,
        overrides: &dyn Resolve,
        policy: &AddressPolicy,
    ) -> anyhow::Result<Completed> {
        let (mut lock, _) = self.read()?;
        let missing = lock.missing(needed, overrides)?;
        let (fresh, notes) = self.resolve(&missing, needed)?;
        let source = format!("lock file {}", self.path().display());
        let changed = lock.complete(&source, fresh, (needed, overrides, policy))?;
        Ok(Completed {
            lock,
            changed,
            notes,
        })
    }
}

/// Writes `lock` to `path` atomically: a new file with a random name beside it, then a
/// rename (never through a link). The caller holds the [`WriteLock`] of `path` from reading
/// the lock to writing it, so that concurrent runs take turns and lose no host.
pub fn write_lock(path: &Path, lock: &Lock) -> anyhow::Result<()> {
    output::write_file(path, &lock.to_yaml_under(LOCK_HEADER))
        .with_context(|| format!("cannot write the lock file {}", path.display()))
}

/// The write lock of the lock file, held while it is read, completed and written.
pub fn hold(path: &Path) -> anyhow::Result<WriteLock> {
    Ok(WriteLock::take(path, &mut |held| {
        crate::say::waiting(held)
    })?)
}

/// What `lock --check` says above its diff of the lock before and after a refresh.
pub type Summary<'a> = dyn Fn(&Lock, &Lock) -> String + 'a;

/// The lock at `path`, else `dynakube-netpol.lock` when it exists, else an empty one: for
/// the subcommands that read a lock and never resolve (`verify`, `diff`). A `path` that does
/// not exist is an error.
pub fn read_only(path: Option<&Path>) -> anyhow::Result<Lock> {
    let path = match path {
        Some(path) => path,
        None if Path::new(DEFAULT_LOCK).is_file() => Path::new(DEFAULT_LOCK),
        None => return Ok(Lock::default()),
    };
    let found = lock::read(path, &dynakube_netpol::source::Limits::default())?;
    let (lock, _) = found.ok_or_else(|| dynakube_netpol::Error::Read {
        file: path.display().to_string(),
        reason: "no such file".into(),
    })?;
    Ok(lock)
}

/// `lock --refresh` and `lock --check`: resolves every host of `needed` that `overrides` does
/// not answer again and merges the answers into the lock (keeping addresses seen before unless
/// `prune`, which also drops hosts no longer needed). With `check`, writes nothing and returns
/// 1 with a unified diff when the lock would change, under what `summary` says of the lock
/// before and after (when it says anything); else writes it and prints the changes.
pub fn refresh(
    dns: &DnsArgs,
    needed: &BTreeMap<HostName, Reach>,
    (overrides, policy): (&dyn Resolve, &AddressPolicy),
    prune: bool,
    check: Option<&Summary<'_>>,
) -> anyhow::Result<std::process::ExitCode> {
    let path = dns.path();
    let _held = if check.is_some() {
        None
    } else {
        Some(hold(&path)?)
    };
    let found = lock::read(&path, &dynakube_netpol::source::Limits::default())?;
    let existed = found.is_some();
    let (mut lock, old_text) = found.unwrap_or_default();
    let before = lock.clone();
    let names = Lock::default().missing(needed, overrides)?;
    let (fresh, notes) = dns.resolve(&names, needed)?;
    let source = format!("lock file {}", path.display());
    let changes = lock.refresh(&source, (fresh, &names), prune, (needed, overrides, policy))?;
    crate::say::print_notes(&notes);
    let new_text = lock.to_yaml_under(LOCK_HEADER);
    if let Some(summary) = check {
        if new_text == old_text {
            return Ok(crate::exit::code(crate::exit::SUCCESS));
        }
        let name = path.display().to_string();
        let old = existed.then_some(old_text.as_str());
        let summary = summary(&before, &lock);
        if !summary.is_empty() {
            crate::exit::write(summary + "\n")?;
        }
        crate::exit::write(dynakube_netpol::output::unified_diff(
            &name,
            old,
            Some(&new_text),
        ))?;
        return Ok(crate::exit::code(crate::exit::FAILED));
    }
    if new_text != old_text {
        write_lock(&path, &lock)?;
    }
    if changes.is_empty() {
        crate::exit::write(format!("{}: no address changed\n", path.display()))?;
    } else {
        crate::exit::write(changes.to_text())?;
    }
    Ok(crate::exit::code(crate::exit::SUCCESS))
}
