//! The lock file: the addresses DNS gave for every host the policies need, reviewed and
//! committed, so that `generate` reproduces its output offline.
//!
//! The lock is data: reading, writing, merging and answering from it do no I/O beyond what the
//! caller does with the text. Resolving hosts into a lock is `dns::resolve_all`
//! (feature `dns`).
//!
//! ```yaml
//! # dynakube-netpol lock: ... refresh with `dynakube-netpol lock --refresh`
//! abc12345.live.dynatrace.com:
//!   addresses:
//!   - 203.0.113.10
//!   cnames: []
//!   ttl: 60
//!   resolved: 2026-01-02T03:04:05Z
//! ```
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::lock::{Layered, Lock};
//! use dynakube_netpol::resolve::{FixedHosts, Resolve};
//! use dynakube_netpol::values::HostPattern;
//!
//! let text = "\
//! abc12345.live.dynatrace.com:
//!   addresses: [203.0.113.10, 203.0.113.11]
//!   ttl: 60
//!   resolved: 2026-01-02T03:04:05Z
//! ";
//! let lock = Lock::parse("dynakube-netpol.lock", text)?;
//! let tenant = HostPattern::parse("abc12345.live.dynatrace.com").unwrap();
//! // Adjacent addresses become one block.
//! let blocks = lock.resolve(&tenant)?.unwrap();
//! assert_eq!(blocks.iter().map(ToString::to_string).collect::<Vec<_>>(), ["203.0.113.10/31"]);
//!
//! // A hosts file overrides the lock.
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [198.51.100.1]")?;
//! let both = Layered { first: &hosts, then: &lock };
//! assert_eq!(both.resolve(&tenant)?.unwrap()[0].to_string(), "198.51.100.1/32");
//!
//! // Written back, the lock starts with its header and reads the same.
//! let yaml = lock.to_yaml();
//! assert!(yaml.starts_with("# dynakube-netpol lock"));
//! assert_eq!(Lock::parse("again.lock", &yaml)?, lock);
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};
use crate::guard::AddressPolicy;
use crate::matrix::{Endpoint, HostRole, Matrix};
use crate::resolve::Resolve;
use crate::source::Limits;
use crate::values::{Cidr, Host, HostName, HostPattern, Shown};

/// The first line of every lock file.
pub(crate) const HEADER: &str = "# dynakube-netpol lock: the addresses DNS gave for the hosts the policies need; review and commit it";

/// What the lock knows of one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// The addresses (A and AAAA), sorted.
    pub addresses: BTreeSet<IpAddr>,
    /// The CNAME chain from the host to the name that has the addresses, in order.
    #[serde(default)]
    pub cnames: Vec<String>,
    /// The smallest TTL of the answers, in seconds.
    pub ttl: u32,
    /// When the host was resolved (UTC, RFC 3339).
    pub resolved: String,
}

/// The addresses of hosts, as a lock file holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// Entries by host name.
    pub hosts: BTreeMap<HostName, LockEntry>,
}

/// What a refresh changed, per host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Addresses that are new, by host.
    pub added: BTreeMap<HostName, BTreeSet<IpAddr>>,
    /// Addresses that were dropped, by host.
    pub removed: BTreeMap<HostName, BTreeSet<IpAddr>>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// One line per host and change: `+ host 192.0.2.1` or `- host 192.0.2.1`.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for (sign, map) in [("+", &self.added), ("-", &self.removed)] {
            for (host, ips) in map {
                for ip in ips {
                    text.push_str(&format!("{sign} {host} {ip}\n"));
                }
            }
        }
        text
    }
}

impl Lock {
    /// Reads a lock file; `file` names it in messages.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let location = Location::new(file, None, "");
        let mut documents = crate::source::documents(file, text, &Limits::default())?.into_iter();
        let Some((_, value)) = documents.next() else {
            return Ok(Lock::default());
        };
        let raw: BTreeMap<String, LockEntry> = serde_path_to_error::deserialize(value)
            .map_err(|e| crate::error::field_error(&location, e))?;
        let mut hosts = BTreeMap::new();
        for (key, entry) in raw {
            let at = location.at(&key);
            let host = HostName::parse(&key)
                .map_err(|e| Error::invalid(at.clone(), format!("`{}` {e}", Shown(&key))))?;
            if entry.addresses.is_empty() {
                return Err(Error::invalid(at, "lists no address"));
            }
            hosts.insert(host, entry);
        }
        Ok(Lock { hosts })
    }

    /// The lock as YAML: the header line, then the hosts sorted by name. Equal locks give equal
    /// bytes.
    pub fn to_yaml(&self) -> String {
        self.to_yaml_under(HEADER)
    }

    /// [`Lock::to_yaml`] under a header line of the caller's (a front end saying how to
    /// refresh the lock in its own terms).
    pub fn to_yaml_under(&self, header: &str) -> String {
        let map: BTreeMap<&str, &LockEntry> =
            self.hosts.iter().map(|(h, e)| (h.as_ref(), e)).collect();
        let body = if map.is_empty() {
            "{}\n".to_string()
        } else {
            serde_yaml::to_string(&map).expect("a lock serializes")
        };
        format!("{header}\n{body}")
    }

    /// Takes the entries of `fresh`. Addresses the lock held before are kept unless `prune`
    /// (a CDN that rotates addresses must not break running pods between two refreshes);
    /// hosts `fresh` does not hold, and hosts whose answers did not change, are kept as they
    /// are. Returns what changed.
    pub(crate) fn merge(&mut self, fresh: Lock, prune: bool) -> Changes {
        let mut changes = Changes::default();
        for (host, mut entry) in fresh.hosts {
            let old = self.hosts.get(&host).map(|e| e.addresses.clone());
            let old = old.unwrap_or_default();
            if !prune {
                entry.addresses.extend(old.iter().copied());
            }
            let added: BTreeSet<_> = entry.addresses.difference(&old).copied().collect();
            let removed: BTreeSet<_> = old.difference(&entry.addresses).copied().collect();
            if !added.is_empty() {
                changes.added.insert(host.clone(), added);
            }
            if !removed.is_empty() {
                changes.removed.insert(host.clone(), removed);
            }
            // An entry whose answers did not move keeps its TTL and time: refreshing a lock
            // where nothing moved leaves its bytes alone.
            let same = self
                .hosts
                .get(&host)
                .is_some_and(|e| e.addresses == entry.addresses && e.cnames == entry.cnames);
            if !same {
                self.hosts.insert(host, entry);
            }
        }
        changes
    }
}

impl Lock {
    /// The hosts of `needed` that neither `overrides` (the user's hosts file) nor this lock
    /// answer: what DNS must resolve to complete it.
    pub fn missing(
        &self,
        needed: &BTreeMap<HostName, Reach>,
        overrides: &dyn Resolve,
    ) -> Result<BTreeSet<HostName>> {
        let mut missing = BTreeSet::new();
        for host in needed.keys() {
            let overridden = overrides
                .resolve(&HostPattern::Name(host.clone()))?
                .is_some();
            if !overridden && !self.hosts.contains_key(host) {
                missing.insert(host.clone());
            }
        }
        Ok(missing)
    }

    /// Completes the lock (as read from `source`, a file's name for messages) with `fresh`,
    /// the DNS answers for its [missing](Lock::missing) hosts. Refuses answers and entries a
    /// host of `needed` cannot have (see [`crate::guard`]); returns whether hosts were added,
    /// so that the file must be written.
    pub fn complete(
        &mut self,
        source: &str,
        fresh: Lock,
        (needed, overrides, policy): (&BTreeMap<HostName, Reach>, &dyn Resolve, &AddressPolicy),
    ) -> Result<bool> {
        refuse_special_answers((self, source), &fresh, needed, overrides, policy)?;
        let changed = !fresh.hosts.is_empty();
        self.merge(fresh, false);
        Ok(changed)
    }

    /// Refreshes the lock (as read from `source`) with `fresh`, DNS's new answers for the
    /// hosts `asked`: addresses seen before are kept unless `prune`, which also drops the
    /// hosts that were not asked for (no longer needed). Refuses what a host of `needed`
    /// cannot have, in the lock as kept and in the answers; returns what changed.
    pub fn refresh(
        &mut self,
        source: &str,
        (fresh, asked): (Lock, &BTreeSet<HostName>),
        prune: bool,
        (needed, overrides, policy): (&BTreeMap<HostName, Reach>, &dyn Resolve, &AddressPolicy),
    ) -> Result<Changes> {
        let answered = fresh.clone();
        let mut changes = self.merge(fresh, prune);
        if prune {
            let gone: Vec<HostName> = self
                .hosts
                .keys()
                .filter(|h| !asked.contains(*h))
                .cloned()
                .collect();
            for host in gone {
                if let Some(entry) = self.hosts.remove(&host) {
                    changes.removed.insert(host, entry.addresses);
                }
            }
        }
        // What the refresh keeps of the lock (addresses seen before, hosts DNS did not
        // answer) and what DNS answered, each named by its source.
        let mut kept = self.clone();
        kept.hosts
            .retain(|host, _| !answered.hosts.contains_key(host));
        refuse_special_answers((&kept, source), &answered, needed, overrides, policy)?;
        Ok(changes)
    }
}

/// Reads the lock file at `path` within `limits` (a lock is data like any input, and as
/// bounded): the lock and its text, or `None` when there is no file.
pub fn read(path: &std::path::Path, limits: &Limits) -> Result<Option<(Lock, String)>> {
    let name = path.display().to_string();
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let text = crate::source::read_file(&name, path, limits)?;
    Ok(Some((Lock::parse(&name, &text)?, text)))
}

impl Resolve for Lock {
    fn resolve(&self, host: &HostPattern) -> Result<Option<Vec<Cidr>>> {
        let HostPattern::Name(name) = host else {
            return Ok(None);
        };
        Ok(self.hosts.get(name).map(|entry| merged(&entry.addresses)))
    }
}

/// Addresses as `/32` and `/128` blocks, adjacent ones merged (`192.0.2.0` and `192.0.2.1`
/// become `192.0.2.0/31`): the same addresses in fewer rules.
pub(crate) fn merged(addresses: &BTreeSet<IpAddr>) -> Vec<Cidr> {
    let nets: Vec<ipnet::IpNet> = addresses.iter().map(|ip| ipnet::IpNet::from(*ip)).collect();
    let mut blocks: Vec<Cidr> = ipnet::IpNet::aggregate(&nets)
        .into_iter()
        .map(Cidr::of_net)
        .collect();
    blocks.sort();
    blocks
}

/// Two resolvers, the first winning: the user's `--hosts` over the lock.
pub struct Layered<'a> {
    /// Asked first (the overrides).
    pub first: &'a dyn Resolve,
    /// Asked for what the first does not know.
    pub then: &'a dyn Resolve,
}

impl<'a> Layered<'a> {
    /// The resolver of every run: the user's hosts file over the lock file (over nothing:
    /// what neither answers has no addresses).
    pub fn hosts_over_lock(hosts: &'a crate::resolve::FixedHosts, lock: &'a Lock) -> Self {
        Layered {
            first: hosts,
            then: lock,
        }
    }
}

impl Resolve for Layered<'_> {
    fn resolve(&self, host: &HostPattern) -> Result<Option<Vec<Cidr>>> {
        match self.first.resolve(host)? {
            Some(found) => Ok(Some(found)),
            None => self.then.resolve(host),
        }
    }

    fn unused(&self, asked: &BTreeSet<HostPattern>) -> Vec<HostPattern> {
        let mut unused = self.first.unused(asked);
        unused.extend(self.then.unused(asked));
        unused
    }
}

/// Whether the matrix treats a host as on the public internet (its DNS answers must be public
/// addresses) or as internal (a proxy, a private registry: any address is plausible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// The tenant, communication endpoints, public registries, EdgeConnect's platform hosts.
    Public,
    /// A content delivery network a public registry redirects to: public, and optional — when
    /// DNS does not know it, its flows get no rule and a note, as they do without a lock.
    Cdn,
    /// A proxy, the registry of a custom image, or a database the cluster profile names by host.
    Internal,
    /// A host an EdgeConnect forwards to (`hostRestrictions`, `hostPatterns` without a
    /// wildcard): internal, and optional — when DNS does not know it, its flows get no rule
    /// and a note, as they do without a lock.
    Target,
}

impl Reach {
    /// Whether the host may stay without addresses (a warning, not an error).
    #[cfg(feature = "dns")]
    pub(crate) fn optional(self) -> bool {
        matches!(self, Reach::Cdn | Reach::Target)
    }

    /// Whether the host is on the internet, so that special-purpose answers are suspect.
    pub(crate) fn public(self) -> bool {
        matches!(self, Reach::Public | Reach::Cdn)
    }
}

/// Registries on the internet that a DynaKube or EdgeConnect pulls from by default.
const PUBLIC_REGISTRIES: [&str; 5] = [
    "index.docker.io",
    "registry-1.docker.io",
    "auth.docker.io",
    "public.ecr.aws",
    "docker.io",
];

/// Where `role` puts `host`.
pub(crate) fn reach(host: &HostName, role: HostRole) -> Reach {
    match role {
        HostRole::Registry if PUBLIC_REGISTRIES.contains(&host.as_ref()) => Reach::Public,
        _ => reach_of_role(role),
    }
}

/// Where `role` puts a host, whatever its name: a registry other than the public ones is
/// internal.
pub(crate) fn reach_of_role(role: HostRole) -> Reach {
    match role {
        HostRole::Proxy | HostRole::Registry | HostRole::Database => Reach::Internal,
        HostRole::RegistryCdn => Reach::Cdn,
        _ => Reach::Public,
    }
}

/// The host names of a matrix that need addresses, with their reach (the last variant of
/// [`Reach`] wins when a host has several roles). EdgeConnect patterns with a wildcard are
/// not names and are not resolved.
pub fn needed_hosts(matrix: &Matrix) -> BTreeMap<HostName, Reach> {
    hosts_of(matrix.flows.iter().flat_map(|f| [&f.from, &f.to]))
}

/// The host names a Cilium host policy needs addresses for: the external peers of workloads
/// in the host network, when the cluster profile switches the host firewall on (`toFQDNs`
/// names every other host).
pub(crate) fn needed_by_host_policies(matrix: &Matrix) -> BTreeMap<HostName, Reach> {
    if !matrix.profile.cilium.host_firewall {
        return BTreeMap::new();
    }
    let from_host_network = |from: &Endpoint| matches!(from, Endpoint::Workload(w) if matches!(w.selection, crate::matrix::Selection::HostNetwork(_)));
    hosts_of(
        matrix
            .flows
            .iter()
            .filter(|f| from_host_network(&f.from))
            .map(|f| &f.to),
    )
}

fn hosts_of<'a>(endpoints: impl Iterator<Item = &'a Endpoint>) -> BTreeMap<HostName, Reach> {
    let mut hosts = BTreeMap::new();
    for endpoint in endpoints {
        let (name, reach) = match endpoint {
            Endpoint::Host {
                host: Host::Name(name),
                role,
            } => (name, reach(name, *role)),
            Endpoint::HostPattern(HostPattern::Name(name)) => (name, Reach::Target),
            _ => continue,
        };
        let entry = hosts.entry(name.clone()).or_insert(reach);
        *entry = (*entry).max(reach);
    }
    hosts
}

/// The addresses the lock gives hosts of `needed` that they cannot have (see
/// [`crate::guard`]): `host: address is range (from source)`, `source` naming where the lock's
/// answers came from (a lock file, DNS). The lock holds single addresses, so this is the
/// special-purpose check; hosts `overrides` answers (the user's `--hosts`) are checked where
/// their addresses are used instead.
pub(crate) fn special_answers(
    lock: &Lock,
    needed: &BTreeMap<HostName, Reach>,
    overrides: &dyn Resolve,
    policy: &AddressPolicy,
    source: &str,
) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for (host, reach) in needed {
        let Some(entry) = lock.hosts.get(host) else {
            continue;
        };
        if overrides
            .resolve(&HostPattern::Name(host.clone()))?
            .is_some()
        {
            continue;
        }
        let nets: Vec<Cidr> = entry.addresses.iter().map(|ip| Cidr::of_ip(*ip)).collect();
        let problems = policy.check_host(&Host::Name(host.clone()), *reach, &nets, &[]);
        found.extend(problems.into_iter().map(|p| format!("{p} (from {source})")));
    }
    Ok(found)
}

/// Fails with [`Error::SpecialAddresses`] when the lock (`old`, as read from `source`) or the
/// answers DNS added to it (`fresh`) give a host of `needed` an address it cannot have,
/// unless `overrides` names the host (its addresses are checked where used).
pub(crate) fn refuse_special_answers(
    (old, source): (&Lock, &str),
    fresh: &Lock,
    needed: &BTreeMap<HostName, Reach>,
    overrides: &dyn Resolve,
    policy: &AddressPolicy,
) -> Result<()> {
    let mut addresses = special_answers(old, needed, overrides, policy, source)?;
    addresses.extend(special_answers(fresh, needed, overrides, policy, "DNS")?);
    if addresses.is_empty() {
        Ok(())
    } else {
        Err(Error::SpecialAddresses { addresses })
    }
}

/// `time` as UTC RFC 3339 with seconds, such as `2026-01-02T03:04:05Z`.
#[cfg(any(test, feature = "dns"))]
pub(crate) fn rfc3339(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(any(test, feature = "dns"))]
/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn entry(ips: &[&str]) -> LockEntry {
        LockEntry {
            addresses: ips.iter().map(|ip| ip.parse().unwrap()).collect(),
            cnames: vec![],
            ttl: 60,
            resolved: "2026-01-02T03:04:05Z".into(),
        }
    }

    fn host(s: &str) -> HostName {
        HostName::parse(s).unwrap()
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn lock_round_trips_byte_stable() {
        let mut lock = Lock::default();
        lock.hosts
            .insert(host("b.example.com"), entry(&["2001:db8::1", "192.0.2.1"]));
        lock.hosts
            .insert(host("a.example.com"), entry(&["8.8.8.8"]));
        let yaml = lock.to_yaml();
        assert!(yaml.starts_with(HEADER));
        assert!(yaml.find("a.example.com").unwrap() < yaml.find("b.example.com").unwrap());
        let again = Lock::parse("x.lock", &yaml).unwrap();
        assert_eq!(again, lock);
        assert_eq!(again.to_yaml(), yaml);
    }

    #[test]
    fn merge_keeps_old_addresses_unless_pruned() {
        let mut lock = Lock::default();
        lock.hosts
            .insert(host("a.example.com"), entry(&["8.8.8.8"]));
        let mut fresh = Lock::default();
        fresh
            .hosts
            .insert(host("a.example.com"), entry(&["8.8.4.4"]));
        let mut kept = lock.clone();
        let changes = kept.merge(fresh.clone(), false);
        assert_eq!(changes.to_text(), "+ a.example.com 8.8.4.4\n");
        assert_eq!(kept.hosts[&host("a.example.com")].addresses.len(), 2);
        let changes = lock.merge(fresh, true);
        assert_eq!(
            changes.to_text(),
            "+ a.example.com 8.8.4.4\n- a.example.com 8.8.8.8\n"
        );
    }

    #[test]
    fn adjacent_addresses_merge() {
        let e = entry(&["52.1.1.0", "52.1.1.1", "52.1.1.3", "2600::1"]);
        let blocks: Vec<String> = merged(&e.addresses)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(blocks, ["52.1.1.0/31", "52.1.1.3/32", "2600::1/128"]);
    }

    #[test]
    fn special_answers_of_public_and_internal_hosts() {
        let mut lock = Lock::default();
        lock.hosts.insert(
            host("tenant.example.com"),
            entry(&["169.254.169.254", "8.8.8.8"]),
        );
        lock.hosts
            .insert(host("proxy.example.com"), entry(&["10.0.0.1"]));
        lock.hosts
            .insert(host("given.example.com"), entry(&["127.0.0.1"]));
        let needed = BTreeMap::from([
            (host("tenant.example.com"), Reach::Public),
            (host("proxy.example.com"), Reach::Internal),
            (host("given.example.com"), Reach::Public),
        ]);
        let overrides =
            crate::resolve::FixedHosts::parse("h.yaml", "given.example.com: [8.8.4.4]").unwrap();
        let found = special_answers(
            &lock,
            &needed,
            &overrides,
            &AddressPolicy::default(),
            "lock file x.lock",
        )
        .unwrap();
        assert_eq!(
            found,
            [
                "tenant.example.com: 169.254.169.254/32 is link-local, the range of cloud instance metadata (from lock file x.lock)"
            ]
        );
    }
}
