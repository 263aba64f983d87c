//! The one check every address passes on its way into a rule, whatever its source: the
//! hosts file, the cluster profile, the lock file, DNS answers and the operator's status.
//!
//! Two questions are asked, and they are the same for every source:
//!
//! 1. **Does a set of blocks add up to everything?** A rule admits the union of its blocks,
//!    so `[0.0.0.0/1, 128.0.0.0/1]` is as wide as `0.0.0.0/0`. `covers_everything` answers
//!    for the union: every IPv4 or IPv6 address, or every public one (the internet without
//!    the special-purpose ranges, which is what a rule "to the internet" means), counting
//!    blocks of the IPv4-mapped (`::ffff:0:0/96`) and NAT64 (`64:ff9b::/96`) spaces as the
//!    IPv4 addresses they stand for. Refused unless [`AnyAddress::Allow`].
//! 2. **Can a host have this address?** (`AddressPolicy::check_host`) A host the matrix
//!    treats as on the internet (the tenant, communication endpoints, public registries,
//!    EdgeConnect's platform hosts; `Reach::public`) cannot be in a special-purpose range
//!    (`classify`) nor inside the cluster's own blocks (nodes, control plane,
//!    kube-apiserver): such an answer opens egress into the node, the cloud's metadata
//!    service, the cluster or a private network. A host that is internal by nature (a proxy,
//!    a custom registry, a database, an EdgeConnect target) may have private addresses, but
//!    never one that no server can have for a pod: loopback, link-local (the metadata
//!    service), unspecified, multicast, broadcast or IPv4-mapped. Both are refused unless
//!    [`Special::Allow`] or the host is named in [`AddressPolicy::internal_hosts`].
//!
//! The documentation ranges (RFC 5737's `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`,
//! RFC 3849's `2001:db8::/32`, RFC 9637's `3fff::/20`) pass as public: they are routed
//! nowhere, so a rule to them admits nothing, and examples are written with them.

use std::collections::BTreeSet;
#[cfg(test)]
use std::net::IpAddr;

use ipnet::IpNet;

use crate::advice::{Remedy, Setting};
use crate::error::{Error, Location, Result};
use crate::lock::Reach;
use crate::values::{Cidr, Host};

/// Whether a reader accepts blocks that admit every address (`0.0.0.0/0`, `::/0`, or blocks
/// whose union covers every address or every public one), which make a rule admit the whole
/// internet and the cluster network alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AnyAddress {
    /// Refuse them, naming the field (the default).
    #[default]
    Refuse,
    /// Accept them (`--allow-any-address`).
    Allow,
}

impl AnyAddress {
    /// Checks one block read at `location`.
    pub(crate) fn check(self, location: &Location, cidr: &Cidr) -> Result<()> {
        self.check_all(location, std::slice::from_ref(cidr))
    }

    /// Checks blocks read at `location` that end up in one rule, alone and together.
    pub(crate) fn check_all(self, location: &Location, blocks: &[Cidr]) -> Result<()> {
        if self == AnyAddress::Allow {
            return Ok(());
        }
        let Some(what) = covers_everything(blocks) else {
            return Ok(());
        };
        let shown: Vec<String> = blocks.iter().map(ToString::to_string).collect();
        let (subject, them) = match shown.as_slice() {
            [one] => (format!("`{one}` is"), "it"),
            _ => (format!("`{}` together are", shown.join(", ")), "them"),
        };
        Err(Error::invalid_unless(
            location.clone(),
            format!(
                "{subject} {what}: a rule with {them} admits the internet and the whole cluster network"
            ),
            vec![
                Remedy::Do("name the real addresses"),
                Remedy::set_when(Setting::AllowAnyAddress, "if this is intended"),
            ],
        ))
    }
}

/// Whether a host may have special-purpose addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Special {
    /// Refuse them as the module says (the default).
    #[default]
    Refuse,
    /// Accept them (`--allow-special-addresses`).
    Allow,
}

/// What an address of a host may be: the options that widen the checks of this module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Blocks that add up to every address.
    pub any_address: AnyAddress,
    /// Special-purpose addresses.
    pub special: Special,
    /// Hosts (names or IP addresses) to treat as internal whatever the matrix says, such as
    /// an Environment ActiveGate on a private address that the status names
    /// (`--internal-host`).
    pub internal_hosts: BTreeSet<Host>,
}

impl AddressPolicy {
    /// Why `blocks` cannot be the addresses of `host`, which the matrix treats as `reach`, in
    /// a cluster whose own blocks are `cluster` (field name and blocks); empty when they can.
    pub(crate) fn check_host(
        &self,
        host: &Host,
        reach: Reach,
        blocks: &[Cidr],
        cluster: &[(&'static str, &[Cidr])],
    ) -> Vec<String> {
        if self.special == Special::Allow {
            return Vec::new();
        }
        // Blocks that add up to everything, accepted as such: the host is every address,
        // special ones included.
        if self.any_address == AnyAddress::Allow && covers_everything(blocks).is_some() {
            return Vec::new();
        }
        let public = reach.public() && !self.internal_hosts.contains(host);
        // A block wider than a range it holds is a question of breadth, which
        // `--allow-any-address` answers; a block inside a range is an address of that range.
        let wide_ok = self.any_address == AnyAddress::Allow;
        let overlaps = |outer: &IpNet, inner: &IpNet| {
            outer.contains(inner) || (inner.contains(outer) && !wide_ok)
        };
        let mut problems = Vec::new();
        for block in blocks {
            let net = block.net();
            let special = RANGES
                .iter()
                .map(|range| (range, range.net()))
                .find(|(range, r)| (public || range.kind == Kind::Never) && overlaps(r, &net));
            if let Some((range, r)) = special {
                let within = if r.contains(&net) {
                    format!("is {}", range.name)
                } else {
                    format!("holds {r}, which is {}", range.name)
                };
                problems.push(format!("{host}: {block} {within}"));
                continue;
            }
            if !public {
                continue;
            }
            if net.addr().is_ipv6()
                && !global_unicast().contains(&net)
                && !(wide_ok && net.contains(&global_unicast()))
            {
                problems.push(format!("{host}: {block} is {NOT_GLOBAL}"));
                continue;
            }
            let inside = cluster.iter().find_map(|(field, nets)| {
                nets.iter()
                    .find(|n| overlaps(&n.net(), &net))
                    .map(|n| (field, n))
            });
            if let Some((field, n)) = inside {
                problems.push(format!(
                    "{host}: {block} overlaps {n} of the cluster profile's {field}, the cluster's own addresses"
                ));
            }
        }
        problems
    }
}

/// How bad a special-purpose range is for a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No server a pod reaches over the network can have such an address: refused for every
    /// host.
    Never,
    /// Not on the internet: refused for hosts the matrix treats as public.
    NotPublic,
}

/// A special-purpose range (IANA's IPv4 and IPv6 special-purpose registries, multicast, and
/// what is not global unicast IPv6), with its name in messages.
struct Range {
    net: &'static str,
    name: &'static str,
    kind: Kind,
}

impl Range {
    fn net(&self) -> IpNet {
        self.net.parse().expect("a valid constant range")
    }
}

const fn range(net: &'static str, name: &'static str, kind: Kind) -> Range {
    Range { net, name, kind }
}

/// The special-purpose ranges, most specific first (the first that holds an address names
/// it). The documentation ranges are not here (see the module documentation).
const RANGES: [Range; 30] = [
    range("0.0.0.0/8", "\"this network\" (0.0.0.0/8)", Kind::Never),
    range("127.0.0.0/8", "loopback", Kind::Never),
    range(
        "169.254.0.0/16",
        "link-local, the range of cloud instance metadata",
        Kind::Never,
    ),
    range("224.0.0.0/4", "multicast", Kind::Never),
    range("255.255.255.255/32", "the broadcast address", Kind::Never),
    range("10.0.0.0/8", "private", Kind::NotPublic),
    range("172.16.0.0/12", "private", Kind::NotPublic),
    range("192.168.0.0/16", "private", Kind::NotPublic),
    range(
        "100.64.0.0/10",
        "CGNAT (shared address space)",
        Kind::NotPublic,
    ),
    range("192.0.0.0/24", "IETF protocol assignments", Kind::NotPublic),
    range("192.31.196.0/24", "AS112", Kind::NotPublic),
    range("192.52.193.0/24", "AMT", Kind::NotPublic),
    range("192.88.99.0/24", "the 6to4 relay anycast", Kind::NotPublic),
    range("192.175.48.0/24", "AS112", Kind::NotPublic),
    range("198.18.0.0/15", "benchmarking", Kind::NotPublic),
    range("240.0.0.0/4", "reserved", Kind::NotPublic),
    range("::/128", "the unspecified address", Kind::Never),
    range("::1/128", "loopback", Kind::Never),
    range(
        "::ffff:0:0/96",
        "IPv4-mapped (write the IPv4 address)",
        Kind::Never,
    ),
    range(
        "::/96",
        "IPv4-compatible (deprecated; write the IPv4 address)",
        Kind::Never,
    ),
    range("fe80::/10", "link-local", Kind::Never),
    range("ff00::/8", "multicast", Kind::Never),
    range("64:ff9b::/96", "NAT64", Kind::NotPublic),
    range("64:ff9b:1::/48", "local NAT64", Kind::NotPublic),
    range("100::/64", "discard-only", Kind::NotPublic),
    range(
        "2001::/23",
        "IETF protocol assignments (Teredo and others)",
        Kind::NotPublic,
    ),
    range("2002::/16", "6to4", Kind::NotPublic),
    range("2620:4f:8000::/48", "AS112", Kind::NotPublic),
    range("5f00::/16", "SRv6", Kind::NotPublic),
    range("fc00::/7", "private (unique local)", Kind::NotPublic),
];

/// What is outside global unicast IPv6 (`2000::/3`) and no range above names.
const NOT_GLOBAL: &str = "not global unicast";

/// Global unicast IPv6.
fn global_unicast() -> IpNet {
    "2000::/3".parse().expect("a valid constant range")
}

/// The name of the special-purpose range that holds `ip`, and whether no server at all can
/// have it (`true`) or only none on the internet (`false`); `None` for a public address.
#[cfg(test)]
pub(crate) fn classify(ip: IpAddr) -> Option<(&'static str, bool)> {
    let net = IpNet::from(ip);
    if let Some(range) = RANGES.iter().find(|r| r.net().contains(&net)) {
        return Some((range.name, range.kind == Kind::Never));
    }
    (ip.is_ipv6() && !global_unicast().contains(&net)).then_some((NOT_GLOBAL, false))
}

/// What the union of `blocks` covers when that is every address, or every public one, of
/// IPv4 or IPv6 (in words), else `None`. IPv6 blocks in the IPv4-mapped and NAT64 prefixes
/// count as the IPv4 addresses they stand for.
pub(crate) fn covers_everything(blocks: &[Cidr]) -> Option<&'static str> {
    let mut v4: Vec<(u128, u128)> = Vec::new();
    let mut v6: Vec<(u128, u128)> = Vec::new();
    for block in blocks {
        match block.net() {
            IpNet::V4(net) => v4.push((
                u128::from(u32::from(net.network())),
                u128::from(u32::from(net.broadcast())),
            )),
            IpNet::V6(net) => {
                let (start, end) = (u128::from(net.network()), u128::from(net.broadcast()));
                v6.push((start, end));
                for prefix in ["::ffff:0:0/96", "64:ff9b::/96"] {
                    let translated: IpNet = prefix.parse().expect("a valid constant prefix");
                    let base = match translated {
                        IpNet::V6(t) => u128::from(t.network()),
                        IpNet::V4(_) => unreachable!("an IPv6 prefix"),
                    };
                    let (low, high) = (start.max(base), end.min(base + u128::from(u32::MAX)));
                    if low <= high {
                        v4.push((low - base, high - base));
                    }
                }
            }
        }
    }
    let (v4, v6) = (merged(v4), merged(v6));
    if holds(&v6, &[(0, u128::MAX)]) {
        return Some("every IPv6 address");
    }
    if holds(&v4, &[(0, u128::from(u32::MAX))]) {
        return Some("every IPv4 address");
    }
    // The public internet of `--fqdn-fallback public-internet`: a block and its holes per
    // family.
    for (public, what) in crate::resolve::public_internet()
        .into_iter()
        .zip(["every public IPv4 address", "every public IPv6 address"])
    {
        let (base, except) = public;
        let holes = merged(except.iter().map(|e| bounds(&e.net())).collect());
        let union = if base.net().addr().is_ipv4() {
            &v4
        } else {
            &v6
        };
        if holds(union, &without(bounds(&base.net()), &holes)) {
            return Some(what);
        }
    }
    None
}

/// The first and last address of `net` as numbers of its family.
fn bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// Intervals sorted and merged where they overlap or touch.
fn merged(mut intervals: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    intervals.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match out.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Whether the merged intervals `union` hold every interval of `wanted`.
fn holds(union: &[(u128, u128)], wanted: &[(u128, u128)]) -> bool {
    wanted.iter().all(|&(start, end)| {
        let i = union.partition_point(|&(_, e)| e < start);
        union.get(i).is_some_and(|&(s, e)| s <= start && end <= e)
    })
}

/// `base` without the merged intervals `holes`.
fn without(base: (u128, u128), holes: &[(u128, u128)]) -> Vec<(u128, u128)> {
    let mut out = Vec::new();
    let mut next = Some(base.0);
    for &(start, end) in holes {
        let Some(from) = next else { break };
        if end < from || start > base.1 {
            continue;
        }
        if start > from {
            out.push((from, start - 1));
        }
        next = end.checked_add(1).filter(|n| *n <= base.1);
    }
    if let Some(from) = next {
        out.push((from, base.1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|b| Cidr::parse(b).unwrap()).collect()
    }

    #[test]
    fn unions_that_cover_everything() {
        for (list, what) in [
            (&["0.0.0.0/0"][..], "every IPv4 address"),
            (&["0.0.0.0/1", "128.0.0.0/1"], "every IPv4 address"),
            (&["::/0"], "every IPv6 address"),
            (&["::/1", "8000::/1"], "every IPv6 address"),
            (&["::ffff:0:0/96"], "every IPv4 address"),
            (&["::ffff:0:0/97", "128.0.0.0/1"], "every IPv4 address"),
            (&["64:ff9b::/96"], "every IPv4 address"),
            (&["2000::/3"], "every public IPv6 address"),
            (&["2000::/4", "3000::/4"], "every public IPv6 address"),
            (
                &[
                    "1.0.0.0/8",
                    "2.0.0.0/7",
                    "4.0.0.0/6",
                    "8.0.0.0/5",
                    "16.0.0.0/4",
                    "32.0.0.0/3",
                    "64.0.0.0/2",
                    "128.0.0.0/2",
                    "192.0.0.0/3",
                ],
                "every public IPv4 address",
            ),
        ] {
            assert_eq!(covers_everything(&blocks(list)), Some(what), "{list:?}");
        }
        for list in [
            &["0.0.0.0/1"][..],
            &["0.0.0.0/1", "128.0.0.0/2"],
            &["2000::/4"],
            &["::ffff:0:0/97"],
            &["10.0.0.0/8", "192.168.0.0/16"],
            &["52.0.0.0/8", "2600::/12"],
            &[],
        ] {
            assert_eq!(covers_everything(&blocks(list)), None, "{list:?}");
        }
    }

    #[test]
    fn special_purpose_ranges_by_name() {
        for (ip, expected) in [
            ("127.0.0.1", Some(("loopback", true))),
            (
                "169.254.169.254",
                Some(("link-local, the range of cloud instance metadata", true)),
            ),
            ("10.1.2.3", Some(("private", false))),
            ("100.64.0.1", Some(("CGNAT (shared address space)", false))),
            ("240.0.0.1", Some(("reserved", false))),
            ("255.255.255.255", Some(("the broadcast address", true))),
            ("::1", Some(("loopback", true))),
            (
                "::ffff:10.0.0.1",
                Some(("IPv4-mapped (write the IPv4 address)", true)),
            ),
            ("fd00::1", Some(("private (unique local)", false))),
            ("fe80::1", Some(("link-local", true))),
            ("64:ff9b::808:808", Some(("NAT64", false))),
            ("2002:808:808::1", Some(("6to4", false))),
            ("4000::1", Some(("not global unicast", false))),
            ("8.8.8.8", None),
            ("2600:1f18::1", None),
            ("203.0.113.10", None),
            ("2001:db8::1", None),
        ] {
            assert_eq!(classify(ip.parse().unwrap()), expected, "{ip}");
        }
    }

    #[test]
    fn hosts_and_their_addresses() {
        let tenant = Host::parse("abc.live.dynatrace.com").unwrap();
        let policy = AddressPolicy::default();
        let nodes = blocks(&["52.1.0.0/16"]);
        let cluster = [("nodeCIDRs", nodes.as_slice())];
        let check = |policy: &AddressPolicy, host: &Host, reach, list: &[&str]| {
            policy.check_host(host, reach, &blocks(list), &cluster)
        };
        assert!(
            check(
                &policy,
                &tenant,
                Reach::Public,
                &["52.9.0.1", "203.0.113.9"]
            )
            .is_empty()
        );
        assert_eq!(
            check(
                &policy,
                &tenant,
                Reach::Public,
                &["10.0.0.5", "52.1.2.3", "0.0.0.0/1"]
            ),
            [
                "abc.live.dynatrace.com: 10.0.0.5/32 is private",
                "abc.live.dynatrace.com: 52.1.2.3/32 overlaps 52.1.0.0/16 of the cluster profile's nodeCIDRs, the cluster's own addresses",
                "abc.live.dynatrace.com: 0.0.0.0/1 holds 0.0.0.0/8, which is \"this network\" (0.0.0.0/8)",
            ]
        );
        // An internal host may be private or a node, never link-local.
        assert!(check(&policy, &tenant, Reach::Internal, &["10.0.0.5", "52.1.2.3"]).is_empty());
        assert_eq!(
            check(&policy, &tenant, Reach::Internal, &["169.254.169.254"]).len(),
            1
        );
        // Marked internal, or special addresses allowed.
        let marked = AddressPolicy {
            internal_hosts: BTreeSet::from([tenant.clone()]),
            ..AddressPolicy::default()
        };
        assert!(check(&marked, &tenant, Reach::Public, &["10.0.0.5"]).is_empty());
        assert_eq!(
            check(&marked, &tenant, Reach::Public, &["127.0.0.1"]).len(),
            1
        );
        let allowed = AddressPolicy {
            special: Special::Allow,
            ..AddressPolicy::default()
        };
        assert!(check(&allowed, &tenant, Reach::Public, &["127.0.0.1"]).is_empty());
    }

    #[test]
    fn interval_arithmetic() {
        assert_eq!(
            merged(vec![(5, 9), (0, 3), (4, 4), (20, 30)]),
            [(0, 9), (20, 30)]
        );
        assert_eq!(
            without((0, 100), &[(0, 9), (50, 60), (95, 200)]),
            [(10, 49), (61, 94)]
        );
        assert_eq!(without((0, u128::MAX), &[(0, u128::MAX)]), []);
        assert!(holds(&[(0, 100)], &[(5, 10), (90, 100)]));
        assert!(!holds(&[(0, 100)], &[(5, 101)]));
    }
}
