//! Addresses for host names: the one step that may reach the network.
//!
//! A Kubernetes NetworkPolicy cannot name hosts, so every host of the matrix needs addresses.
//! They come from a [`Resolve`] implementation: [`FixedHosts`] reads them from a file, so that
//! output is reproducible; a live DNS resolver can implement the same trait.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::matrix::{self, Options};
//! use dynakube_netpol::resolve::{Fallback, FixedHosts, Resolve, resolve};
//! use dynakube_netpol::resources::Inputs;
//! use dynakube_netpol::values::{Cidr, HostPattern};
//! use dynakube_netpol::{Error, Result};
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   activeGate: {capabilities: [routing]}
//! ";
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default())?;
//! let matrix = matrix::build(&inputs, &ClusterProfile::default(), &Options::default())?;
//!
//! // Addresses from a hosts file.
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//! let addresses = resolve(&matrix, &hosts, Fallback::Fail, &Default::default())?;
//! let tenant = HostPattern::parse("abc12345.live.dynatrace.com").unwrap();
//! assert_eq!(addresses.hosts[&tenant], [Cidr::parse("203.0.113.10").unwrap()]);
//!
//! // Or from a resolver of one's own; hosts it does not know are an error by default.
//! struct Nothing;
//! impl Resolve for Nothing {
//!     fn resolve(&self, _host: &HostPattern) -> Result<Option<Vec<Cidr>>> {
//!         Ok(None)
//!     }
//! }
//! let error = resolve(&matrix, &Nothing, Fallback::Fail, &Default::default()).unwrap_err();
//! assert!(matches!(&error, Error::UnresolvedHosts { hosts } if hosts == &["abc12345.live.dynatrace.com"]));
//! // ... unless they may reach every public address on their ports.
//! let addresses = resolve(&matrix, &Nothing, Fallback::PublicInternet, &Default::default())?;
//! assert!(addresses.public_internet.iter().any(|host| host.as_str() == "abc12345.live.dynatrace.com"));
//! # Ok::<(), Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Location, Result};
use crate::guard::{AddressPolicy, AnyAddress};
use crate::lock::Reach;
use crate::matrix::{Endpoint, Flow, Matrix};
use crate::source::Limits;
use crate::values::{Cidr, Host, HostName, HostPattern, Shown};

/// Finds addresses for host names and host patterns.
pub trait Resolve {
    /// The addresses of `host` (a DNS name, or an EdgeConnect pattern such as
    /// `*.example.com`), or `None` when it knows none.
    fn resolve(&self, host: &HostPattern) -> Result<Option<Vec<Cidr>>>;

    /// Where this resolver's addresses come from, for messages (`hosts file hosts.yaml`).
    fn source(&self) -> String {
        "the resolver".to_string()
    }

    /// The addresses of `host`, with where they came from (for resolvers of resolvers, the
    /// one that answered).
    fn answer(&self, host: &HostPattern) -> Result<Option<(Vec<Cidr>, String)>> {
        Ok(self.resolve(host)?.map(|nets| (nets, self.source())))
    }

    /// The hosts the user gave addresses for that are not among `asked` (the hosts and
    /// patterns of a matrix), for the warning that names them: a misspelt host leaves the
    /// real one without addresses. None by default: a lock keeps hosts for other runs.
    fn unused(&self, asked: &BTreeSet<HostPattern>) -> Vec<HostPattern> {
        let _ = asked;
        Vec::new()
    }
}

/// Addresses given by the user: a YAML map from host name (or pattern) to IPs or CIDRs.
///
/// ```yaml
/// abc12345.live.dynatrace.com: [203.0.113.10, 203.0.113.11]
/// registry.example.internal: [10.20.0.0/24]
/// "*.internal.example.com": [10.30.0.0/16]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixedHosts {
    hosts: BTreeMap<HostPattern, Vec<Cidr>>,
    /// The file's name, for messages.
    file: String,
}

impl FixedHosts {
    /// Parses a hosts file with the default limits, refusing blocks of every address; `file`
    /// names it in messages.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        Self::parse_with(file, text, &Limits::default(), AnyAddress::Refuse)
    }

    /// Parses a hosts file; `file` names it in messages.
    pub fn parse_with(file: &str, text: &str, limits: &Limits, any: AnyAddress) -> Result<Self> {
        let location = Location::new(file, None, "");
        let mut documents = crate::source::documents(file, text, limits)?.into_iter();
        let Some((_, value)) = documents.next() else {
            return Ok(FixedHosts::default());
        };
        if let Some((second, _)) = documents.next() {
            return Err(Error::invalid(second, "a hosts file is one YAML document"));
        }
        let raw: BTreeMap<String, Vec<String>> = serde_path_to_error::deserialize(value).map_err(
            |e| match crate::error::field_error(&location, e) {
                Error::Invalid {
                    location,
                    reason,
                    remedies,
                } => {
                    const SHAPE: &str = "a map from host name to a list of IPs or CIDRs";
                    let reason = match reason.strip_suffix("expected a map") {
                        Some(head) => format!("{head}expected {SHAPE}"),
                        None => format!("{reason} (expected {SHAPE})"),
                    };
                    Error::Invalid {
                        location,
                        reason,
                        remedies,
                    }
                }
                other => other,
            },
        )?;
        let mut hosts: BTreeMap<HostPattern, (String, Vec<Cidr>)> = BTreeMap::new();
        for (key, addresses) in raw {
            let at = location.at(&key);
            let host = HostPattern::parse(&key)
                .map_err(|e| Error::invalid(at.clone(), format!("`{}` {e}", Shown(&key))))?;
            if addresses.is_empty() {
                return Err(Error::invalid(at, "lists no address"));
            }
            let mut nets = Vec::new();
            for (i, address) in addresses.iter().enumerate() {
                let at = location.at(format!("{key}[{i}]"));
                let cidr = Cidr::parse(address)
                    .map_err(|e| Error::invalid(at.clone(), format!("`{}` {e}", Shown(address))))?;
                any.check(&at, &cidr)?;
                nets.push(cidr);
            }
            nets.sort();
            nets.dedup();
            any.check_all(&at, &nets)?;
            if let Some((first, _)) = hosts.get(&host) {
                return Err(Error::invalid(
                    at,
                    format!("names the same host as `{}`", Shown(first)),
                ));
            }
            hosts.insert(host, (key, nets));
        }
        // Hosts whose flows share a rule (the tenant and its communication endpoints, say)
        // must not add up to everything together either.
        let all: Vec<Cidr> = hosts.values().flat_map(|(_, nets)| nets).copied().collect();
        any.check_all(&location, &all)?;
        Ok(FixedHosts {
            hosts: hosts
                .into_iter()
                .map(|(host, (_, nets))| (host, nets))
                .collect(),
            file: file.to_string(),
        })
    }
}

impl Resolve for FixedHosts {
    fn resolve(&self, host: &HostPattern) -> Result<Option<Vec<Cidr>>> {
        Ok(self.hosts.get(host).cloned())
    }

    fn source(&self) -> String {
        format!("hosts file {}", crate::values::escape(&self.file))
    }

    fn unused(&self, asked: &BTreeSet<HostPattern>) -> Vec<HostPattern> {
        self.hosts
            .keys()
            .filter(|host| !asked.contains(*host))
            .cloned()
            .collect()
    }
}

/// The warning on the hosts `resolver` holds that no flow of `matrix` reaches, naming them.
pub(crate) fn unused_hosts(matrix: &Matrix, resolver: &dyn Resolve) -> Option<crate::matrix::Note> {
    let asked: BTreeSet<HostPattern> = matrix
        .flows
        .iter()
        .flat_map(|flow| [&flow.from, &flow.to])
        .filter_map(pattern_of)
        .collect();
    let unused = resolver.unused(&asked);
    if unused.is_empty() {
        return None;
    }
    let names: Vec<String> = unused.iter().map(ToString::to_string).collect();
    Some(
        crate::matrix::Note::new(
            crate::matrix::Level::Warning,
            &[],
            format!(
                "the hosts file gives addresses for hosts no flow of these resources reaches, which change nothing: {}; a misspelt name leaves the real host without addresses",
                names.join(", ")
            ),
        )
        .by(crate::advice::Setting::Hosts),
    )
}

/// What to do with a host that has no addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fallback {
    /// Fail, listing the hosts.
    #[default]
    Fail,
    /// Allow the host's ports to every public address: IPv4 and IPv6 global unicast without the
    /// special-purpose ranges of the IANA registries (see `public_internet`).
    PublicInternet,
}

/// The addresses of every host of a matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    /// Warnings on the addresses: hosts whose blocks add up to every address, which only
    /// [`AnyAddress::Allow`] lets through.
    pub notes: Vec<crate::matrix::Note>,
    /// Addresses by host name, IP or pattern.
    pub hosts: BTreeMap<HostPattern, Vec<Cidr>>,
    /// Hosts without addresses that fall back to the public internet.
    pub public_internet: BTreeSet<HostName>,
    /// Host patterns without addresses (they get no rule; a note says so).
    pub unresolved_patterns: BTreeSet<HostPattern>,
    /// Host names without addresses (only from [`resolve_known`]).
    pub unresolved_hosts: BTreeSet<HostName>,
}

impl Addresses {
    /// The addresses of a host: its IP, or what was resolved for its name.
    pub(crate) fn of_host(&self, host: &Host) -> Option<Vec<Cidr>> {
        match host {
            Host::Ip(ip) => Some(vec![Cidr::of_ip(*ip)]),
            Host::Name(name) => self.hosts.get(&HostPattern::Name(name.clone())).cloned(),
        }
    }
}

/// Finds addresses for every host and pattern of `matrix`, and checks them with `policy`
/// (see [`crate::guard`]).
///
/// IP literals need no resolver. Fails with [`Error::UnresolvedHosts`] when hosts stay
/// without addresses and `fallback` is [`Fallback::Fail`]; patterns never fall back to the
/// public internet, since EdgeConnect reaches internal hosts. Fails with
/// [`Error::SpecialAddresses`] when a host has an address it cannot have, wherever the
/// address came from, and with [`Error::Invalid`] when the addresses of all hosts add up to
/// every address.
pub fn resolve(
    matrix: &Matrix,
    resolver: &dyn Resolve,
    fallback: Fallback,
    policy: &AddressPolicy,
) -> Result<Addresses> {
    let addresses = resolve_known(matrix, resolver, fallback, policy)?;
    if !addresses.unresolved_hosts.is_empty() {
        return Err(Error::UnresolvedHosts {
            hosts: addresses
                .unresolved_hosts
                .iter()
                .map(ToString::to_string)
                .collect(),
        });
    }
    Ok(addresses)
}

/// Like [`resolve`], but hosts without addresses are listed in
/// [`Addresses::unresolved_hosts`] instead of failing: for checking policies, where a flow to
/// such a host simply cannot be checked.
pub fn resolve_known(
    matrix: &Matrix,
    resolver: &dyn Resolve,
    fallback: Fallback,
    policy: &AddressPolicy,
) -> Result<Addresses> {
    let mut addresses = Addresses::default();
    let mut checks = Checks::new(matrix, policy);
    for flow in &matrix.flows {
        for endpoint in [&flow.from, &flow.to] {
            let found = lookup(&mut addresses, endpoint, resolver, fallback)?;
            if let Some((host, reach, nets, source)) = found {
                checks.check(flow, &host, reach, &nets, &source);
            }
            if let Some(pattern) = pattern_of(endpoint) {
                checks.rows.entry(pattern).or_default().extend(&flow.refs);
            }
        }
    }
    checks.finish(&mut addresses)?;
    Ok(addresses)
}

/// The host or pattern an endpoint names, if any.
fn pattern_of(endpoint: &Endpoint) -> Option<HostPattern> {
    match endpoint {
        Endpoint::Host {
            host: Host::Name(name),
            ..
        } => Some(HostPattern::Name(name.clone())),
        Endpoint::Host {
            host: Host::Ip(ip), ..
        } => Some(HostPattern::Ip(*ip)),
        Endpoint::HostPattern(pattern) => Some(pattern.clone()),
        _ => None,
    }
}

/// Looks up the addresses of one endpoint into `addresses`: the host, its reach, the
/// addresses found and where they came from, for the checks; `None` for what is no host, a
/// host already looked up, and a host without addresses.
fn lookup(
    addresses: &mut Addresses,
    endpoint: &Endpoint,
    resolver: &dyn Resolve,
    fallback: Fallback,
) -> Result<Option<Found>> {
    let (pattern, name, reach) = match endpoint {
        Endpoint::Host { host, role } => {
            let reach = match host {
                Host::Name(name) => crate::lock::reach(name, *role),
                Host::Ip(_) => crate::lock::reach_of_role(*role),
            };
            let name = match host {
                Host::Name(name) => Some(name),
                Host::Ip(_) => None,
            };
            let pattern = match host {
                Host::Name(name) => HostPattern::Name(name.clone()),
                Host::Ip(ip) => HostPattern::Ip(*ip),
            };
            (pattern, name, reach)
        }
        Endpoint::HostPattern(pattern) => (pattern.clone(), None, Reach::Target),
        _ => return Ok(None),
    };
    let known = addresses.hosts.contains_key(&pattern)
        || addresses.unresolved_patterns.contains(&pattern)
        || name.is_some_and(|n| {
            addresses.public_internet.contains(n) || addresses.unresolved_hosts.contains(n)
        });
    if known {
        return Ok(None);
    }
    // CDN hosts are admitted when addresses are given (or the fallback allows the internet);
    // without them, renderers that cannot name hosts say so in a note.
    let optional_cdn = reach == Reach::Cdn && fallback != Fallback::PublicInternet;
    let found = match &pattern {
        HostPattern::Ip(ip) => Some((
            vec![Cidr::of_ip(*ip)],
            "an IP address in the resources".to_string(),
        )),
        _ => resolver.answer(&pattern)?,
    };
    let host = match &pattern {
        HostPattern::Name(name) | HostPattern::Below(name) => Host::Name(name.clone()),
        HostPattern::Ip(ip) => Host::Ip(*ip),
    };
    match (found, name) {
        (Some((nets, source)), _) => {
            addresses.hosts.insert(pattern, nets.clone());
            return Ok(Some((host, reach, nets, source)));
        }
        (None, _) if optional_cdn => {}
        (None, Some(name)) if fallback == Fallback::PublicInternet => {
            addresses.public_internet.insert(name.clone());
        }
        (None, Some(name)) => {
            addresses.unresolved_hosts.insert(name.clone());
        }
        (None, None) => {
            addresses.unresolved_patterns.insert(pattern);
        }
    }
    Ok(None)
}

/// A host looked up: the host, its reach, its addresses and where they came from.
type Found = (Host, Reach, Vec<Cidr>, String);

/// The checks of [`crate::guard`] over every address [`resolve_known`] finds.
struct Checks<'a> {
    policy: &'a AddressPolicy,
    cluster: [(&'static str, &'a [Cidr]); 4],
    problems: Vec<String>,
    /// The rows of the flows of each host, for warnings.
    rows: BTreeMap<HostPattern, BTreeSet<crate::matrix::RowId>>,
}

impl<'a> Checks<'a> {
    fn new(matrix: &'a Matrix, policy: &'a AddressPolicy) -> Self {
        let profile = &matrix.profile;
        Checks {
            policy,
            cluster: [
                ("nodeCIDRs", &profile.node_cidrs),
                ("controlPlaneCIDRs", &profile.control_plane_cidrs),
                (
                    "apiServer.endpointCIDRs",
                    &profile.api_server.endpoint_cidrs,
                ),
                ("apiServer.serviceCIDRs", &profile.api_server.service_cidrs),
            ],
            problems: Vec::new(),
            rows: BTreeMap::new(),
        }
    }

    /// Checks the addresses `nets` of `host` (from `source`), an endpoint of `flow`.
    fn check(&mut self, flow: &Flow, host: &Host, reach: Reach, nets: &[Cidr], source: &str) {
        let found = self.policy.check_host(host, reach, nets, &self.cluster);
        let from = match (host, flow.sources.first()) {
            // An IP literal comes from a resource: its spec (apiUrl, proxy) or its status.
            (Host::Ip(_), Some(resource)) => format!("named for {resource}"),
            _ => format!("from {source}"),
        };
        self.problems.extend(
            found
                .into_iter()
                .map(|problem| format!("{problem} ({from}, {})", flow.id)),
        );
    }

    /// Fails on the problems found, and when all addresses together are every address; with
    /// [`AnyAddress::Allow`], warns instead, naming the hosts.
    fn finish(mut self, addresses: &mut Addresses) -> Result<()> {
        self.problems.dedup();
        if !self.problems.is_empty() {
            return Err(Error::SpecialAddresses {
                addresses: self.problems,
            });
        }
        let all: Vec<Cidr> = addresses.hosts.values().flatten().copied().collect();
        self.policy
            .any_address
            .check_all(&Location::new("the addresses of all hosts", None, ""), &all)?;
        // Accepted (`AnyAddress::Allow`): a warning per host whose addresses are everything,
        // with the rows whose rules admit it, or one for the hosts together.
        let mut wide: Vec<(String, &'static str, BTreeSet<crate::matrix::RowId>)> = addresses
            .hosts
            .iter()
            .filter_map(|(host, nets)| {
                let what = crate::guard::covers_everything(nets)?;
                let rows = self.rows.get(host).cloned().unwrap_or_default();
                Some((format!("the addresses of {host}"), what, rows))
            })
            .collect();
        if let Some(what) = crate::guard::covers_everything(&all).filter(|_| wide.is_empty()) {
            let rows = self.rows.values().flatten().copied().collect();
            wide.push((
                "the addresses of the hosts together".to_string(),
                what,
                rows,
            ));
        }
        addresses.notes.extend(wide.into_iter().map(|(whose, what, rows)| {
            let rows: Vec<crate::matrix::RowId> = rows.into_iter().collect();
            crate::matrix::Note::new(
                crate::matrix::Level::Warning,
                &rows,
                format!(
                    "{} cover {what}, as allowed: every rule with them admits the internet and the whole cluster network",
                    crate::values::escape(&whose)
                ),
            )
            .by(crate::advice::Setting::AllowAnyAddress)
        }));
        Ok(())
    }
}

/// The IPv4 ranges of the IANA special-purpose address registry, and multicast: none of them
/// is where a Dynatrace tenant, registry or proxy on the internet can be.
const SPECIAL_PURPOSE_V4: [&str; 18] = [
    "0.0.0.0/8",       // this network
    "10.0.0.0/8",      // private use
    "100.64.0.0/10",   // shared address space (CGNAT)
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link local
    "172.16.0.0/12",   // private use
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation (TEST-NET-1)
    "192.31.196.0/24", // AS112
    "192.52.193.0/24", // AMT
    "192.88.99.0/24",  // deprecated 6to4 relay anycast
    "192.168.0.0/16",  // private use
    "192.175.48.0/24", // AS112 direct delegation
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation (TEST-NET-2)
    "203.0.113.0/24",  // documentation (TEST-NET-3)
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, and the limited broadcast address
];

/// The special-purpose IPv6 ranges inside global unicast (`2000::/3`); everything outside it
/// (loopback, IPv4-mapped, NAT64 `64:ff9b::/96`, discard, SRv6, unique local, link local,
/// multicast) is not global unicast in the first place.
const SPECIAL_PURPOSE_V6: [&str; 5] = [
    "2001::/23",         // IETF protocol assignments (Teredo, benchmarking, ORCHID, ...)
    "2001:db8::/32",     // documentation
    "2002::/16",         // 6to4
    "2620:4f:8000::/48", // AS112 direct delegation
    "3fff::/20",         // documentation
];

/// The public internet as CIDRs with the ranges each excludes: every IPv4 address but the
/// special-purpose ranges of the IANA registry and multicast, and IPv6 global unicast but its
/// special-purpose ranges.
pub(crate) fn public_internet() -> Vec<(Cidr, Vec<Cidr>)> {
    let net = |s: &str| Cidr::parse(s).expect("a valid constant CIDR");
    vec![
        (net("0.0.0.0/0"), SPECIAL_PURPOSE_V4.map(net).to_vec()),
        (net("2000::/3"), SPECIAL_PURPOSE_V6.map(net).to_vec()),
    ]
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn pattern(s: &str) -> HostPattern {
        HostPattern::parse(s).unwrap()
    }

    #[test]
    fn hosts_file() {
        let hosts =
            FixedHosts::parse("h.yaml", "A.example.com.: [192.0.2.1, 198.51.100.0/24]\n").unwrap();
        assert_eq!(
            hosts.resolve(&pattern("a.example.com")).unwrap().unwrap(),
            [
                Cidr::parse("192.0.2.1/32").unwrap(),
                Cidr::parse("198.51.100.0/24").unwrap()
            ]
        );
        assert_eq!(hosts.resolve(&pattern("b.example.com")).unwrap(), None);
    }

    #[test]
    fn bad_hosts_files() {
        let err = FixedHosts::parse("h.yaml", "a.example.com: [not-an-ip]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "h.yaml, field `a.example.com[0]`: `not-an-ip` is not an IP address or CIDR"
        );
        assert!(FixedHosts::parse("h.yaml", "a.example.com: 192.0.2.1\n").is_err());
        assert!(FixedHosts::parse("h.yaml", "a.example.com: []\n").is_err());
        for (text, message) in [
            (
                "a.example.com: [1.2.3.4/0]\n",
                "h.yaml, field `a.example.com[0]`: `1.2.3.4/0` has host bits set: the block is 0.0.0.0/0",
            ),
            (
                "'*.corp': ['0.0.0.0/0']\n",
                "h.yaml, field `*.corp[0]`: `0.0.0.0/0` is every IPv4 address: a rule with it admits the internet and the whole cluster network; name the real addresses, or turn on the setting `allow-any-address` if this is intended",
            ),
            (
                "a.example.com: [192.0.2.1]\nA.EXAMPLE.COM: [192.0.2.2]\n",
                "h.yaml, field `a.example.com`: names the same host as `A.EXAMPLE.COM`",
            ),
            (
                "'a..b': [192.0.2.1]\n",
                "h.yaml, field `a..b`: `a..b` is not a host name: it has an empty label",
            ),
            (
                "[a.example.com]\n",
                "h.yaml: invalid type: sequence, expected a map from host name to a list of IPs or CIDRs",
            ),
            (
                "a.example.com: 5\n",
                "h.yaml, field `a.example.com`: invalid type: integer `5`, expected a list (expected a map from host name to a list of IPs or CIDRs)",
            ),
        ] {
            let err = FixedHosts::parse("h.yaml", text).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn public_internet_excludes_private_ranges() {
        let ranges = public_internet();
        let allowed = |ip: &str| {
            let ip: IpAddr = ip.parse().unwrap();
            ranges.iter().any(|(net, except)| {
                net.net().contains(&ip) && !except.iter().any(|e| e.net().contains(&ip))
            })
        };
        for public in ["8.8.8.8", "52.1.2.3", "2600:1f18::1", "2a05:d014::1"] {
            assert!(allowed(public), "{public}");
        }
        for special in [
            "10.1.2.3",
            "100.64.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.251",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2001:db8::1",
            "2001::1",
            "2002:808:808::1",
            "3fff::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(!allowed(special), "{special}");
        }
        for (net, except) in &ranges {
            for e in except {
                assert!(net.net().contains(&e.net()), "{e} is inside {net}");
            }
        }
    }
}
