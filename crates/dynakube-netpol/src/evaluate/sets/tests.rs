//! Tests of the sets: hand-picked cases (IPv6, exceptions, port ranges, empty and full sets)
//! and properties checked point by point against a naive model.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use proptest::prelude::*;

use super::addresses::Block;
use super::*;

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn written(set: &AddressSet) -> Vec<String> {
    set.blocks().iter().map(ToString::to_string).collect()
}

/// The union of blocks, read back.
fn read_back(blocks: &[Block]) -> AddressSet {
    blocks.iter().fold(AddressSet::empty(), |all, block| {
        all.union(&AddressSet::block(&block.net, &block.except))
    })
}

#[test]
fn ranges_join_adjacent_and_overlapping() {
    let set = Ranges::from_ranges([(10u16, 20), (21, 30), (5, 12), (40, 40), (50, 45)]);
    assert_eq!(set.iter().collect::<Vec<_>>(), [(5, 30), (40, 40)]);
    assert!(set.contains(5) && set.contains(30) && set.contains(40));
    assert!(!set.contains(4) && !set.contains(31) && !set.contains(45));
    assert!(Ranges::<u16>::range(3, 2).is_empty());
    let end = Ranges::from_ranges([(u16::MAX, u16::MAX), (0, 0), (1, u16::MAX - 1)]);
    assert_eq!(end.iter().collect::<Vec<_>>(), [(0, u16::MAX)]);
}

#[test]
fn ranges_difference_at_the_ends_of_the_domain() {
    let all = Ranges::range(0u32, u32::MAX);
    let hole = Ranges::from_ranges([(0, 0), (u32::MAX, u32::MAX), (7, 9)]);
    let rest = all.difference(&hole);
    assert_eq!(
        rest.iter().collect::<Vec<_>>(),
        [(1, 6), (10, u32::MAX - 1)]
    );
    assert!(all.difference(&all).is_empty());
    assert_eq!(rest.union(&hole), all);
    assert!(rest.intersection(&hole).is_empty());
    assert!(hole.is_subset(&all) && !all.is_subset(&hole));
}

#[test]
fn port_sets_per_protocol() {
    let all = PortSet::all();
    assert!(all.is_all() && !all.is_empty());
    assert!(PortSet::empty().is_empty() && !PortSet::empty().is_all());
    assert!(
        !all.contains(Protocol::Tcp, 0),
        "port 0 is no destination port"
    );
    assert!(all.contains(Protocol::Sctp, 65535));
    // endPort: an inclusive range.
    let udp = PortSet::ports(Protocol::Udp, 40000, 65535);
    assert!(udp.contains(Protocol::Udp, 40000) && udp.contains(Protocol::Udp, 65535));
    assert!(!udp.contains(Protocol::Udp, 39999) && !udp.contains(Protocol::Tcp, 40000));
    assert_eq!(udp.describe(), ["40000-65535/UDP"]);
    let every_sctp = PortSet::every_port(Protocol::Sctp);
    let mixed = PortSet::port(Protocol::Tcp, 443).union(&every_sctp);
    assert_eq!(mixed.describe(), ["443/TCP", "1-65535/SCTP"]);
    assert_eq!(
        all.difference(&PortSet::port(Protocol::Tcp, 443))
            .describe(),
        ["1-442/TCP", "444-65535/TCP", "1-65535/UDP", "1-65535/SCTP"]
    );
    assert_eq!(all.to_string(), "every port and protocol");
    assert_eq!(
        mixed.intersection(&every_sctp.union(&udp)),
        PortSet::every_port(Protocol::Sctp)
    );
    let three = PROTOCOLS.into_iter().fold(PortSet::empty(), |all, p| {
        all.union(&PortSet::every_port(p))
    });
    assert!(three.is_all());
}

#[test]
fn address_sets_in_both_families() {
    let all = AddressSet::all();
    assert_eq!(written(&all), ["0.0.0.0/0", "::/0"]);
    assert!(written(&AddressSet::empty()).is_empty());
    let v6 = AddressSet::block(&net("::/0"), &[net("fd00::/8"), net("2001:db8::1/128")]);
    assert!(v6.contains(ip("2001:db8::2")) && !v6.contains(ip("2001:db8::1")));
    assert!(!v6.contains(ip("fd00::7")) && !v6.contains(ip("10.0.0.1")));
    assert_eq!(written(&v6), ["::/0 (except 2001:db8::1/128, fd00::/8)"]);
    // IPv4-mapped IPv6 addresses are IPv6 addresses.
    let mapped = AddressSet::net(&net("::ffff:0:0/96"));
    assert!(mapped.contains(ip("::ffff:10.0.0.1")) && !mapped.contains(ip("10.0.0.1")));
    // Host bits of a network are ignored.
    assert_eq!(
        AddressSet::net(&net("10.1.2.3/8")),
        AddressSet::net(&net("10.0.0.0/8"))
    );
    let v4 = AddressSet::block(
        &net("0.0.0.0/0"),
        &[net("10.0.0.0/8"), net("192.168.0.0/16")],
    );
    assert_eq!(
        written(&v4),
        ["0.0.0.0/0 (except 10.0.0.0/8, 192.168.0.0/16)"]
    );
    assert_eq!(
        written(&v4.union(&v6)),
        [
            "0.0.0.0/0 (except 10.0.0.0/8, 192.168.0.0/16)",
            "::/0 (except 2001:db8::1/128, fd00::/8)"
        ]
    );
    assert!(v4.intersection(&v6).is_empty());
    assert_eq!(all.difference(&v4).difference(&v6), {
        let holes = [
            "10.0.0.0/8",
            "192.168.0.0/16",
            "fd00::/8",
            "2001:db8::1/128",
        ];
        holes.iter().fold(AddressSet::empty(), |s, h| {
            s.union(&AddressSet::net(&net(h)))
        })
    });
}

#[test]
fn blocks_are_the_shortest_writing() {
    // Two halves are one block.
    let halves = AddressSet::net(&net("0.0.0.0/1")).union(&AddressSet::net(&net("128.0.0.0/1")));
    assert_eq!(written(&halves), ["0.0.0.0/0"]);
    // A block missing a quarter: two plain blocks beat one with an exception (a tie goes to
    // the plain blocks).
    let three = AddressSet::block(&net("10.0.0.0/8"), &[net("10.0.0.0/10")]);
    assert_eq!(written(&three), ["10.64.0.0/10", "10.128.0.0/9"]);
    // An address range that no CIDR aligns with.
    let odd = AddressSet::net(&net("10.0.0.1/32"))
        .union(&AddressSet::net(&net("10.0.0.2/31")))
        .union(&AddressSet::net(&net("10.0.0.4/32")));
    assert_eq!(written(&odd), ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/32"]);
    // An exception with a hole of its own: the hole is added back as a block.
    let nested = AddressSet::block(&net("8.0.0.0/8"), &[net("8.8.0.0/16")])
        .union(&AddressSet::address(ip("8.8.8.8")));
    assert_eq!(
        written(&nested),
        ["8.0.0.0/8 (except 8.8.0.0/16)", "8.8.8.8/32"]
    );
    // What the audit appended, less one needed address.
    let rest =
        AddressSet::net(&net("::/0")).difference(&AddressSet::address(ip("2001:db8:10::10")));
    assert_eq!(written(&rest), ["::/0 (except 2001:db8:10::10/128)"]);
    assert_eq!(read_back(&nested.blocks()), nested);
}

#[test]
fn pod_sets() {
    let a: PodSet = [3, 1, 2, 3].into_iter().collect();
    let b: PodSet = [2, 5].into_iter().collect();
    assert_eq!(a.len(), 3);
    assert_eq!(a.union(&b).iter().collect::<Vec<_>>(), [1, 2, 3, 5]);
    assert_eq!(a.intersection(&b).iter().collect::<Vec<_>>(), [2]);
    assert_eq!(a.difference(&b).iter().collect::<Vec<_>>(), [1, 3]);
    assert!(PodSet::default().is_empty() && !a.contains(5) && b.contains(5));
}

#[test]
fn spaces_keep_ports_per_peer() {
    let tcp443 = PortSet::port(Protocol::Tcp, 443);
    let pods: PodSet = [1, 2].into_iter().collect();
    let admitted = Space::product(&pods, AddressSet::all(), &PortSet::all());
    let needed = Space::product(
        &[2].into_iter().collect(),
        AddressSet::address(ip("203.0.113.10")),
        &tcp443,
    );
    let beyond = admitted.difference(&needed);
    assert!(beyond.contains_pod(1, Protocol::Tcp, 443));
    assert!(!beyond.contains_pod(2, Protocol::Tcp, 443));
    assert!(beyond.contains_pod(2, Protocol::Udp, 443));
    assert!(!beyond.contains_pod(3, Protocol::Tcp, 80));
    assert!(!beyond.contains_address(ip("203.0.113.10"), Protocol::Tcp, 443));
    assert!(beyond.contains_address(ip("203.0.113.10"), Protocol::Tcp, 80));
    assert!(beyond.contains_address(ip("2001:db8::1"), Protocol::Sctp, 9));
    // Two parts: every other address on every port, and the needed one on other ports.
    assert_eq!(beyond.address_parts().len(), 2);
    assert_eq!(beyond.union(&needed), admitted);
    assert!(beyond.intersection(&needed).is_empty());
    assert!(admitted.difference(&admitted).is_empty());
    assert!(Space::product(&pods, AddressSet::all(), &PortSet::empty()).is_empty());
    assert_eq!(beyond.clone().without_pod(1).pod_parts().len(), 1);
    assert_eq!(
        Space::pods([(4, tcp443.clone()), (4, PortSet::port(Protocol::Udp, 53))])
            .ports_of_pod(4)
            .describe(),
        ["443/TCP", "53/UDP"]
    );
}

// Properties against a naive model.

/// Port ranges as the model keeps them: inclusive, in any order, possibly overlapping.
type PortRanges = Vec<(u16, u16)>;

/// A set of small ranges near both ends of the `u16` domain, as the model keeps it.
fn ranges16() -> impl Strategy<Value = Vec<(u16, u16)>> {
    let point = prop_oneof![0u16..48, (u16::MAX - 40)..=u16::MAX];
    prop::collection::vec((point.clone(), point), 0..6)
}

fn member(model: &[(u16, u16)], p: u16) -> bool {
    model.iter().any(|&(a, b)| a <= p && p <= b)
}

/// Points where membership may change: every bound, its neighbours, and both ends.
fn probes(models: &[&[(u16, u16)]]) -> BTreeSet<u16> {
    let mut points = BTreeSet::from([0, u16::MAX]);
    for &(a, b) in models.iter().flat_map(|m| m.iter()) {
        for p in [a, b] {
            points.extend([p.saturating_sub(1), p, p.saturating_add(1)]);
        }
    }
    points
}

fn well_formed(set: &Ranges<u16>) -> bool {
    set.ranges.iter().all(|(a, b)| a <= b)
        && set
            .ranges
            .windows(2)
            .all(|w| w[0].1.checked_add(1).is_some_and(|n| n < w[1].0))
}

/// A set of IPv4 and IPv6 addresses near a few corners of both spaces, with holes.
fn address_set() -> impl Strategy<Value = AddressSet> {
    let v4 = (any::<u32>(), 0u8..=32).prop_map(|(a, p)| {
        IpNet::V4(
            ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(a), p)
                .unwrap()
                .trunc(),
        )
    });
    let v6 = (any::<u128>(), 0u8..=128, any::<bool>()).prop_map(|(a, p, low)| {
        let a = if low { a & 0xffff_ffff } else { a };
        IpNet::V6(
            ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(a), p)
                .unwrap()
                .trunc(),
        )
    });
    let net = prop_oneof![v4, v6];
    prop::collection::vec((net.clone(), prop::collection::vec(net, 0..4)), 0..5).prop_map(
        |blocks| {
            blocks
                .iter()
                .fold(AddressSet::empty(), |all, (block, holes)| {
                    all.union(&AddressSet::block(block, holes))
                })
        },
    )
}

proptest! {
    #[test]
    fn ranges_agree_with_the_model(a in ranges16(), b in ranges16()) {
        let (x, y) = (Ranges::from_ranges(a.clone()), Ranges::from_ranges(b.clone()));
        let (union, both, only) = (x.union(&y), x.intersection(&y), x.difference(&y));
        for set in [&x, &y, &union, &both, &only] {
            prop_assert!(well_formed(set), "{set:?}");
        }
        for p in probes(&[&a, &b]) {
            let (in_a, in_b) = (member(&a, p), member(&b, p));
            prop_assert_eq!(x.contains(p), in_a);
            prop_assert_eq!(union.contains(p), in_a || in_b);
            prop_assert_eq!(both.contains(p), in_a && in_b);
            prop_assert_eq!(only.contains(p), in_a && !in_b);
        }
    }

    #[test]
    fn blocks_read_back_as_the_set(set in address_set()) {
        let blocks = set.blocks();
        prop_assert_eq!(read_back(&blocks), set.clone());
        // Every exception lies within its block, as an ipBlock requires.
        for block in &blocks {
            prop_assert!(block.except.iter().all(|hole| block.net.contains(hole)));
        }
        // Never longer than the plain CIDRs of the ranges.
        let plain: usize = set.v4().iter().map(|(a, b)| {
            ipnet::Ipv4Subnets::new(a.into(), b.into(), 0).count()
        }).sum::<usize>() + set.v6().iter().map(|(a, b)| {
            ipnet::Ipv6Subnets::new(a.into(), b.into(), 0).count()
        }).sum::<usize>();
        let written: usize = blocks.iter().map(|b| 1 + b.except.len()).sum();
        prop_assert!(written <= plain, "{written} > {plain}");
    }

    #[test]
    fn address_operations_are_set_operations(a in address_set(), b in address_set()) {
        let union = a.union(&b);
        let both = a.intersection(&b);
        let only = a.difference(&b);
        prop_assert_eq!(only.union(&both), a.clone());
        prop_assert!(only.intersection(&b).is_empty());
        prop_assert_eq!(union.difference(&a), b.difference(&a));
        for block in a.blocks().iter().chain(&b.blocks()) {
            for address in [block.net.network(), block.net.broadcast()] {
                let (in_a, in_b) = (a.contains(address), b.contains(address));
                prop_assert_eq!(union.contains(address), in_a || in_b);
                prop_assert_eq!(both.contains(address), in_a && in_b);
                prop_assert_eq!(only.contains(address), in_a && !in_b);
            }
        }
    }

    #[test]
    fn space_operations_are_pointwise(
        a in prop::collection::vec((0usize..4, ranges16()), 0..4),
        b in prop::collection::vec((0usize..4, ranges16()), 0..4),
        a_nets in prop::collection::vec((0u32..64, 26u8..=32, ranges16()), 0..3),
        b_nets in prop::collection::vec((0u32..64, 26u8..=32, ranges16()), 0..3),
    ) {
        let ports = |r: &[(u16, u16)]| PortSet {
            by_protocol: [Ranges::from_ranges(r.to_vec()), Ranges::new(), Ranges::from_ranges(r.iter().map(|&(x, y)| (x / 2, y / 2)))],
        };
        let address = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        let space = |pods: &[(usize, PortRanges)], nets: &[(u32, u8, PortRanges)]| {
            let pods = Space::pods(pods.iter().map(|(id, r)| (*id, ports(r))));
            nets.iter().fold(pods, |all, (n, prefix, r)| {
                let net = IpNet::new(address(*n), *prefix).unwrap();
                all.union(&Space::addresses(AddressSet::net(&net), ports(r)))
            })
        };
        let (x, y) = (space(&a, &a_nets), space(&b, &b_nets));
        let (union, both, only) = (x.union(&y), x.intersection(&y), x.difference(&y));
        let mut bounds: Vec<(u16, u16)> = Vec::new();
        for (_, r) in a.iter().chain(&b) { bounds.extend(r); }
        for (_, _, r) in a_nets.iter().chain(&b_nets) { bounds.extend(r); }
        let points = probes(&[&bounds]);
        for protocol in PROTOCOLS {
            for &p in &points {
                for id in 0..4 {
                    let (in_x, in_y) = (x.contains_pod(id, protocol, p), y.contains_pod(id, protocol, p));
                    prop_assert_eq!(union.contains_pod(id, protocol, p), in_x || in_y);
                    prop_assert_eq!(both.contains_pod(id, protocol, p), in_x && in_y);
                    prop_assert_eq!(only.contains_pod(id, protocol, p), in_x && !in_y);
                }
                for n in 0..70 {
                    let at = address(n);
                    let (in_x, in_y) = (x.contains_address(at, protocol, p), y.contains_address(at, protocol, p));
                    prop_assert_eq!(union.contains_address(at, protocol, p), in_x || in_y);
                    prop_assert_eq!(both.contains_address(at, protocol, p), in_x && in_y);
                    prop_assert_eq!(only.contains_address(at, protocol, p), in_x && !in_y);
                }
            }
        }
        // Parts stay disjoint, with distinct ports, so that equal sets are equal values.
        for s in [&union, &both, &only] {
            let parts = s.address_parts();
            for (i, (set, ports)) in parts.iter().enumerate() {
                prop_assert!(!set.is_empty() && !ports.is_empty());
                for (other, other_ports) in &parts[i + 1..] {
                    prop_assert!(set.intersection(other).is_empty());
                    prop_assert_ne!(ports, other_ports);
                }
            }
            let parts = s.pod_parts();
            for (i, (set, ports)) in parts.iter().enumerate() {
                prop_assert!(!set.is_empty() && !ports.is_empty());
                for (other, other_ports) in &parts[i + 1..] {
                    prop_assert!(set.is_disjoint(other));
                    prop_assert_ne!(ports, other_ports);
                }
            }
        }
        prop_assert_eq!(&union, &y.union(&x));
        prop_assert_eq!(&both, &y.intersection(&x));
        prop_assert_eq!(union.difference(&both), only.union(&y.difference(&x)));
    }
}

/// The names the named-part properties draw from, and the patterns that make their sets.
const NAMES: [&str; 6] = [
    "a.example.com",
    "b.example.com",
    "x.a.example.com",
    "example.com",
    "a.example.org",
    "z.y",
];

fn name_patterns() -> [Pattern; 6] {
    [
        Pattern::Name("a.example.com".into()),
        Pattern::Glob("*.example.com".into()),
        Pattern::Below("example.com".into()),
        Pattern::Glob("a*".into()),
        Pattern::Any,
        Pattern::Name("z.y".into()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // Named parts: a union and an intersection are exact for every address and name; a
    // difference is exact for addresses reached without a name, and for names takes away what
    // the other set holds by name or for every name.
    #[test]
    fn named_parts_follow_their_semantics(
        a in prop::collection::vec((0usize..6, 0usize..6, 0u32..8, ranges16()), 0..3),
        b in prop::collection::vec((0usize..6, 0usize..6, 0u32..8, ranges16()), 0..3),
        a_plain in prop::collection::vec((0u32..8, ranges16()), 0..2),
        b_plain in prop::collection::vec((0u32..8, ranges16()), 0..2),
    ) {
        let patterns = name_patterns();
        let ports = |r: &[(u16, u16)]| PortSet {
            by_protocol: [Ranges::from_ranges(r.to_vec()), Ranges::new(), Ranges::new()],
        };
        let address = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        let block = |n: u32| AddressSet::net(&IpNet::new(address(n * 4), 30).unwrap());
        let space = |named: &[(usize, usize, u32, PortRanges)], plain: &[(u32, PortRanges)]| {
            let mut all = Space::empty();
            for (first, second, n, r) in named {
                let names = Names::of([patterns[*first].clone()])
                    .difference(&Names::of([patterns[*second].clone()]));
                all = all.union(&Space::named(names, block(*n), ports(r)));
            }
            for (n, r) in plain {
                all = all.union(&Space::addresses(block(*n), ports(r)));
            }
            all
        };
        let (x, y) = (space(&a, &a_plain), space(&b, &b_plain));
        let (union, both, only) = (x.union(&y), x.intersection(&y), x.difference(&y));
        let mut bounds: Vec<(u16, u16)> = Vec::new();
        for (_, _, _, r) in a.iter().chain(&b) { bounds.extend(r); }
        for (_, r) in a_plain.iter().chain(&b_plain) { bounds.extend(r); }
        for &p in &probes(&[&bounds]) {
            for n in 0..34 {
                let at = address(n);
                let plain = |s: &Space| s.contains_address(at, Protocol::Tcp, p);
                prop_assert_eq!(plain(&union), plain(&x) || plain(&y));
                prop_assert_eq!(plain(&both), plain(&x) && plain(&y));
                prop_assert_eq!(plain(&only), plain(&x) && !plain(&y));
                for name in NAMES {
                    let named = |s: &Space| s.contains_named(at, name, Protocol::Tcp, p);
                    prop_assert_eq!(named(&union), named(&x) || named(&y));
                    prop_assert_eq!(named(&both), named(&x) && named(&y));
                    prop_assert_eq!(
                        named(&only),
                        (plain(&x) && !plain(&y)) || (named(&x) && !named(&y))
                    );
                }
            }
        }
    }
}

/// The module's example: what a rule admits beyond what is needed, in words.
#[test]
fn beyond_the_needed_in_words() -> Result<(), Box<dyn std::error::Error>> {
    // What a rule admits: 10.0.0.0/8 except 10.1.0.0/16, TCP 8000 to 8999.
    let admitted = Space::addresses(
        AddressSet::block(&"10.0.0.0/8".parse()?, &["10.1.0.0/16".parse()?]),
        PortSet::ports(Protocol::Tcp, 8000, 8999),
    );
    // What is needed: 10.2.0.1 on 8443.
    let needed = Space::addresses(
        AddressSet::address("10.2.0.1".parse()?),
        PortSet::port(Protocol::Tcp, 8443),
    );
    let beyond = admitted.difference(&needed);
    assert!(beyond.contains_address("10.2.0.1".parse()?, Protocol::Tcp, 8080));
    assert!(!beyond.contains_address("10.2.0.1".parse()?, Protocol::Tcp, 8443));
    assert!(!beyond.contains_address("10.1.2.3".parse()?, Protocol::Tcp, 8080));
    // In words: the needed address on the other ports, every other address on all of them.
    let words: Vec<String> = beyond
        .address_parts()
        .iter()
        .map(|(addresses, ports)| {
            let blocks: Vec<String> = addresses.blocks().iter().map(ToString::to_string).collect();
            format!("{} on {ports}", blocks.join(", "))
        })
        .collect();
    assert_eq!(
        words,
        [
            "10.2.0.1/32 on 8000-8442/TCP, 8444-8999/TCP",
            "10.0.0.0/8 (except 10.1.0.0/16, 10.2.0.1/32) on 8000-8999/TCP",
        ]
    );
    Ok(())
}
