//! Addresses for host names: the one step that may reach the network.
//!
//! A Kubernetes NetworkPolicy cannot name hosts, so every host of the matrix needs addresses.
//! They come from a [`Resolve`] implementation: [`FixedHosts`] reads them from a file, so that
//! output is reproducible; a live DNS resolver can implement the same trait.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Error, Location, Result};
use crate::matrix::{Endpoint, Matrix};

/// Finds addresses for host names and host patterns.
pub trait Resolve {
    /// The addresses of `host` (a DNS name or an EdgeConnect pattern such as `*.example.com`),
    /// or `None` when it knows none.
    fn resolve(&self, host: &str) -> Result<Option<Vec<IpNet>>>;
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
    hosts: BTreeMap<String, Vec<IpNet>>,
}

impl FixedHosts {
    /// Parses a hosts file; `file` names it in messages.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let location = Location::new(file, None, "");
        if text.trim().is_empty() {
            return Ok(FixedHosts::default());
        }
        let raw: BTreeMap<String, Vec<String>> = serde_path_to_error::deserialize(
            serde_yaml::Deserializer::from_str(text),
        )
        .map_err(|e| match crate::error::field_error(&location, e) {
            Error::Invalid { location, reason } => Error::Invalid {
                location,
                reason: format!(
                    "{reason} (expected a map from host name to a list of IPs or CIDRs)"
                ),
            },
            other => other,
        })?;
        let mut hosts = BTreeMap::new();
        for (host, addresses) in raw {
            let key = host.trim().trim_end_matches('.').to_ascii_lowercase();
            if key.is_empty() || key.contains(['/', ' ', ':']) {
                return Err(Error::invalid(location.at(&host), "is not a host name"));
            }
            if addresses.is_empty() {
                return Err(Error::invalid(location.at(&host), "lists no address"));
            }
            let mut nets = Vec::new();
            for (i, address) in addresses.iter().enumerate() {
                let net = parse_net(address).ok_or_else(|| {
                    Error::invalid(
                        location.at(format!("{host}[{i}]")),
                        format!("`{address}` is not an IP address or CIDR"),
                    )
                })?;
                nets.push(net);
            }
            nets.sort();
            nets.dedup();
            hosts.insert(key, nets);
        }
        Ok(FixedHosts { hosts })
    }

    /// The host names and patterns the file knows.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }
}

impl Resolve for FixedHosts {
    fn resolve(&self, host: &str) -> Result<Option<Vec<IpNet>>> {
        Ok(self.hosts.get(host).cloned())
    }
}

/// An IP address (as a /32 or /128) or a CIDR; host bits are cleared.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    s.parse::<IpNet>().ok().map(|n| n.trunc())
}

/// What to do with a host that has no addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fallback {
    /// Fail, listing the hosts.
    #[default]
    Fail,
    /// Allow the host's ports to every public address (IPv4 and IPv6, without private,
    /// loopback, link-local and CGNAT ranges).
    PublicInternet,
}

/// The addresses of every host of a matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    /// Addresses by host name or pattern.
    pub hosts: BTreeMap<String, Vec<IpNet>>,
    /// Hosts without addresses that fall back to the public internet.
    pub public_internet: BTreeSet<String>,
    /// Host patterns without addresses (they get no rule; a note says so).
    pub unresolved_patterns: BTreeSet<String>,
    /// Host names without addresses (only from [`resolve_known`]).
    pub unresolved_hosts: BTreeSet<String>,
}

/// Finds addresses for every host and pattern of `matrix`.
///
/// IP literals need no resolver. Fails with [`Error::UnresolvedHosts`] when hosts stay
/// without addresses and `fallback` is [`Fallback::Fail`]; patterns never fall back to the
/// public internet, since EdgeConnect reaches internal hosts.
pub fn resolve(matrix: &Matrix, resolver: &dyn Resolve, fallback: Fallback) -> Result<Addresses> {
    let addresses = resolve_known(matrix, resolver, fallback)?;
    if !addresses.unresolved_hosts.is_empty() {
        return Err(Error::UnresolvedHosts {
            hosts: addresses.unresolved_hosts.into_iter().collect(),
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
) -> Result<Addresses> {
    let mut addresses = Addresses::default();
    for endpoint in matrix.flows.iter().flat_map(|f| [&f.from, &f.to]) {
        match endpoint {
            Endpoint::Host { name, .. } => {
                if addresses.hosts.contains_key(name)
                    || addresses.public_internet.contains(name)
                    || addresses.unresolved_hosts.contains(name)
                {
                    continue;
                }
                if let Ok(ip) = name.parse::<IpAddr>() {
                    addresses.hosts.insert(name.clone(), vec![IpNet::from(ip)]);
                    continue;
                }
                match resolver.resolve(name)? {
                    Some(nets) => {
                        addresses.hosts.insert(name.clone(), nets);
                    }
                    None if fallback == Fallback::PublicInternet => {
                        addresses.public_internet.insert(name.clone());
                    }
                    None => {
                        addresses.unresolved_hosts.insert(name.clone());
                    }
                }
            }
            Endpoint::HostPattern(pattern) => {
                if addresses.hosts.contains_key(pattern)
                    || addresses.unresolved_patterns.contains(pattern)
                {
                    continue;
                }
                match resolver.resolve(pattern)? {
                    Some(nets) => {
                        addresses.hosts.insert(pattern.clone(), nets);
                    }
                    None => {
                        addresses.unresolved_patterns.insert(pattern.clone());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(addresses)
}

/// The public internet as CIDRs with the ranges each excludes: everything but private,
/// loopback, link-local and CGNAT addresses.
pub fn public_internet() -> Vec<(IpNet, Vec<IpNet>)> {
    let net = |s: &str| s.parse::<IpNet>().expect("a valid constant CIDR");
    vec![
        (
            net("0.0.0.0/0"),
            [
                "10.0.0.0/8",
                "100.64.0.0/10",
                "127.0.0.0/8",
                "169.254.0.0/16",
                "172.16.0.0/12",
                "192.168.0.0/16",
            ]
            .map(net)
            .to_vec(),
        ),
        (
            net("::/0"),
            ["::1/128", "fc00::/7", "fe80::/10"].map(net).to_vec(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file() {
        let hosts =
            FixedHosts::parse("h.yaml", "A.example.com.: [192.0.2.1, 198.51.100.7/24]\n").unwrap();
        assert_eq!(
            hosts.resolve("a.example.com").unwrap().unwrap(),
            [
                "192.0.2.1/32".parse::<IpNet>().unwrap(),
                "198.51.100.0/24".parse().unwrap()
            ]
        );
        assert_eq!(hosts.resolve("b.example.com").unwrap(), None);
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
    }

    #[test]
    fn public_internet_excludes_private_ranges() {
        let ranges = public_internet();
        let private: IpAddr = "10.1.2.3".parse().unwrap();
        let public: IpAddr = "203.0.113.9".parse().unwrap();
        let allowed = |ip: &IpAddr| {
            ranges
                .iter()
                .any(|(net, except)| net.contains(ip) && !except.iter().any(|e| e.contains(ip)))
        };
        assert!(!allowed(&private));
        assert!(allowed(&public));
        assert!(!allowed(&"fd00::1".parse().unwrap()));
        assert!(allowed(&"2001:db8::1".parse().unwrap()));
    }
}
