//! Resolving host names with DNS into a [`Lock`] (feature `dns`).
//!
//! This is the one place that queries DNS. It asks for A and AAAA of every name at once,
//! at most [`DnsOptions::parallelism`] names at a time, follows CNAME chains, and reports each
//! name's failure (NXDOMAIN, SERVFAIL, timeout, empty answer) as data. What to do with the
//! result — write it, refuse private answers, fail — is the caller's; the renderers only ever
//! see the addresses.
//!
//! # Example
//!
//! Resolving the hosts a matrix needs into a lock (this queries DNS, so it is not run here):
//!
//! ```no_run
//! use std::collections::BTreeSet;
//!
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::dns::{DnsOptions, resolve_all};
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::lock::needed_hosts;
//! use dynakube_netpol::matrix::{self, Options};
//! use dynakube_netpol::resources::Inputs;
//!
//! let mut inputs = Inputs::default();
//! let yaml = std::fs::read_to_string("dynakube.yaml")?;
//! parse_into(&mut inputs, "dynakube.yaml", &yaml, &ParseOptions::default())?;
//! let matrix = matrix::build(&inputs, &ClusterProfile::default(), &Options::default())?;
//!
//! let names: BTreeSet<_> = needed_hosts(&matrix).into_keys().collect();
//! let options = DnsOptions { nameservers: vec!["192.0.2.53:53".parse()?], ..DnsOptions::default() };
//! let resolution = resolve_all(&names, &options)?;
//! for (name, failure) in &resolution.failures {
//!     eprintln!("{name}: {failure}");
//! }
//! std::fs::write("dynakube-netpol.lock", resolution.lock.to_yaml())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

use crate::lock::{Lock, LockEntry, rfc3339};
use crate::values::HostName;

/// How to query DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsOptions {
    /// The servers to ask (UDP, then TCP); empty: the system's configuration.
    pub nameservers: Vec<SocketAddr>,
    /// How long one query may take (taken as 1 ms to `MAX_TIMEOUT`).
    pub timeout: Duration,
    /// How many names are resolved at the same time (taken as 1 to `MAX_PARALLELISM`).
    pub parallelism: usize,
}

impl Default for DnsOptions {
    fn default() -> Self {
        DnsOptions {
            nameservers: Vec::new(),
            timeout: Duration::from_secs(3),
            parallelism: 16,
        }
    }
}

/// Why a name has no addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
    /// The server failed (SERVFAIL).
    ServerFailure,
    /// No answer within the timeout.
    Timeout,
    /// The name exists but has no A or AAAA records.
    NoAddresses,
    /// Anything else, in words.
    Other(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NoSuchName => f.write_str("the name does not exist (NXDOMAIN)"),
            Failure::ServerFailure => f.write_str("the DNS server failed (SERVFAIL)"),
            Failure::Timeout => f.write_str("no answer from DNS within the timeout"),
            Failure::NoAddresses => f.write_str("DNS has no A or AAAA record for it"),
            Failure::Other(reason) => write!(f, "{}", crate::values::escape(reason)),
        }
    }
}

/// What a batch resolution gave: entries for the names that resolved, failures for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// The names that resolved.
    pub lock: Lock,
    /// The names that did not, and why.
    pub failures: BTreeMap<HostName, Failure>,
}

impl Resolution {
    /// The answers as a lock, with a warning for every name DNS did not resolve: an error
    /// naming each failed host that `needed` does not hold optional (see
    /// `Reach::optional`), unless `allow_unresolved`. Those
    /// hosts' flows get no rule.
    pub fn checked(
        self,
        needed: &BTreeMap<HostName, crate::lock::Reach>,
        allow_unresolved: bool,
    ) -> crate::Result<(Lock, Vec<crate::matrix::Note>)> {
        let optional = |host: &HostName| needed.get(host).is_some_and(|r| r.optional());
        let line = |(host, why): (&HostName, &Failure)| format!("{host}: {why}");
        let fatal: Vec<String> = (self.failures.iter())
            .filter(|(host, _)| !optional(host))
            .map(line)
            .collect();
        if !fatal.is_empty() && !allow_unresolved {
            return Err(crate::Error::Dns { failures: fatal });
        }
        let notes = self.failures.iter().map(line).map(|failure| {
            crate::matrix::Note::new(
                crate::matrix::Level::Warning,
                &[],
                format!("DNS did not resolve {failure}; its flows get no rule"),
            )
        });
        Ok((self.lock, notes.collect()))
    }
}

/// The longest one query may take, whatever [`DnsOptions::timeout`] says.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// The most names resolved at the same time, whatever [`DnsOptions::parallelism`] says.
pub(crate) const MAX_PARALLELISM: usize = 256;

/// Resolves every name of `names` concurrently (at most `options.parallelism` at a time).
///
/// # Errors
///
/// [`Error::Resolver`](crate::Error::Resolver) only, when no resolver can be set up (an
/// unreadable system configuration); a name that does not resolve is a failure in the
/// [`Resolution`].
pub fn resolve_all(names: &BTreeSet<HostName>, options: &DnsOptions) -> crate::Result<Resolution> {
    let resolver_error = |reason: String| crate::Error::Resolver { reason };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| resolver_error(format!("the DNS client did not start: {e}")))?;
    runtime.block_on(async {
        let resolver = Arc::new(resolver(options).map_err(resolver_error)?);
        let semaphore = Arc::new(tokio::sync::Semaphore::new(
            options.parallelism.clamp(1, MAX_PARALLELISM),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        for name in names {
            let (resolver, semaphore, name) = (resolver.clone(), semaphore.clone(), name.clone());
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                let result = resolve_one(&resolver, &name).await;
                (name, result)
            });
        }
        let mut resolution = Resolution::default();
        while let Some(joined) = tasks.join_next().await {
            let (name, result) =
                joined.map_err(|e| resolver_error(format!("a DNS query failed: {e}")))?;
            match result {
                Ok(entry) => {
                    resolution.lock.hosts.insert(name, entry);
                }
                Err(failure) => {
                    resolution.failures.insert(name, failure);
                }
            }
        }
        Ok(resolution)
    })
}

/// A resolver for `options`: its name servers, else the system's.
fn resolver(options: &DnsOptions) -> std::result::Result<TokioResolver, String> {
    let mut builder = if options.nameservers.is_empty() {
        TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?
    } else {
        let servers = options
            .nameservers
            .iter()
            .map(|server| {
                let connection = |mut c: ConnectionConfig| {
                    c.port = server.port();
                    c
                };
                NameServerConfig::new(
                    server.ip(),
                    true,
                    vec![
                        connection(ConnectionConfig::udp()),
                        connection(ConnectionConfig::tcp()),
                    ],
                )
            })
            .collect();
        Resolver::builder_with_config(
            ResolverConfig::from_name_servers(servers),
            TokioRuntimeProvider::default(),
        )
    };
    let opts = builder.options_mut();
    opts.timeout = options.timeout.clamp(Duration::from_millis(1), MAX_TIMEOUT);
    opts.attempts = 1;
    opts.cache_size = 0;
    opts.preserve_intermediates = true;
    builder
        .build()
        .map_err(|e| format!("cannot set up the DNS client: {e}"))
}

/// A and AAAA of one name, asked at the same time.
async fn resolve_one(resolver: &TokioResolver, name: &HostName) -> Result<LockEntry, Failure> {
    let fqdn = format!("{name}.");
    let (v4, v6) = tokio::join!(
        resolver.lookup(fqdn.as_str(), RecordType::A),
        resolver.lookup(fqdn.as_str(), RecordType::AAAA)
    );
    let mut entry = LockEntry {
        addresses: BTreeSet::new(),
        cnames: Vec::new(),
        ttl: u32::MAX,
        resolved: rfc3339(SystemTime::now()),
    };
    let mut failures = Vec::new();
    for result in [v4, v6] {
        match result {
            Ok(lookup) => add(&mut entry, name, &lookup),
            Err(error) => failures.push(failure(&error)),
        }
    }
    if let Some(hard) = failures.iter().find(|f| **f != Failure::NoAddresses) {
        return Err(hard.clone());
    }
    if entry.addresses.is_empty() {
        return Err(Failure::NoAddresses);
    }
    Ok(entry)
}

/// The longest CNAME chain followed within one answer; resolvers stop well before.
const MAX_CHAIN: usize = 16;

/// Adds the addresses, CNAMEs and TTLs of an answer for `name` to `entry`.
///
/// Only records that answer the question count: a CNAME whose owner is `name` or the last
/// name of the chain so far, and addresses whose owner is a name of that chain. A server may
/// put records of other names into its answer section (a cache's leftovers, or an attacker's
/// `evil.example. A 66.66.66.66`); RFC 1034, section 5.3.3, has a resolver use only the
/// records of the name it asked for and its aliases, and so does this.
fn add(entry: &mut LockEntry, name: &HostName, lookup: &Lookup) {
    let owner = |record: &hickory_resolver::proto::rr::Record| {
        record
            .name
            .to_ascii()
            .trim_end_matches('.')
            .to_ascii_lowercase()
    };
    let records = lookup.answers();
    let mut chain = vec![name.as_str().to_ascii_lowercase()];
    while chain.len() <= MAX_CHAIN {
        let last = chain.last().expect("the chain starts with the name");
        let next = records.iter().find_map(|record| match &record.data {
            RData::CNAME(target) if owner(record) == *last => Some((
                target
                    .0
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase(),
                record.ttl,
            )),
            _ => None,
        });
        let Some((target, ttl)) = next else { break };
        if chain.contains(&target) {
            break;
        }
        entry.ttl = entry.ttl.min(ttl);
        if !entry.cnames.contains(&target) {
            entry.cnames.push(target.clone());
        }
        chain.push(target);
    }
    for record in records {
        if !chain.contains(&owner(record)) {
            continue;
        }
        let address = match &record.data {
            RData::A(a) => IpAddr::V4(a.0),
            RData::AAAA(aaaa) => IpAddr::V6(aaaa.0),
            _ => continue,
        };
        entry.ttl = entry.ttl.min(record.ttl);
        entry.addresses.insert(address);
    }
}

/// The failure a resolver error stands for.
fn failure(error: &NetError) -> Failure {
    match error {
        NetError::Timeout => Failure::Timeout,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => Failure::ServerFailure,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::NXDomain)) => Failure::NoSuchName,
        NetError::Dns(DnsError::NoRecordsFound(none))
            if none.response_code == ResponseCode::NXDomain =>
        {
            Failure::NoSuchName
        }
        NetError::Dns(DnsError::NoRecordsFound(none))
            if none.response_code == ResponseCode::ServFail =>
        {
            Failure::ServerFailure
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => Failure::NoAddresses,
        NetError::Dns(DnsError::ResponseCode(code)) => {
            Failure::Other(format!("the DNS server answered {code}"))
        }
        other if other.to_string().contains("timed out") => Failure::Timeout,
        other => Failure::Other(other.to_string()),
    }
}
