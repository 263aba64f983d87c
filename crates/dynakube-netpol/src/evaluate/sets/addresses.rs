//! Sets of IP addresses over the whole IPv4 and IPv6 spaces, and their shortest writing as
//! CIDR blocks with exceptions (the form of an `ipBlock`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::Ranges;

/// A set of IP addresses. IPv4 and IPv6 are apart: an IPv4-mapped IPv6 address such as
/// `::ffff:10.0.0.1` is an IPv6 address, as the evaluator's `ipBlock` matching treats it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct AddressSet {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

impl AddressSet {
    /// No address.
    pub(crate) fn empty() -> Self {
        AddressSet::default()
    }

    /// Every IPv4 and IPv6 address.
    pub(crate) fn all() -> Self {
        AddressSet {
            v4: Ranges::range(0, u32::MAX),
            v6: Ranges::range(0, u128::MAX),
        }
    }

    /// The addresses of a network (whatever its host bits).
    pub(crate) fn net(net: &IpNet) -> Self {
        match net {
            IpNet::V4(net) => AddressSet {
                v4: Ranges::range(net.network().into(), net.broadcast().into()),
                v6: Ranges::new(),
            },
            IpNet::V6(net) => AddressSet {
                v4: Ranges::new(),
                v6: Ranges::range(net.network().into(), net.broadcast().into()),
            },
        }
    }

    /// One address.
    pub(crate) fn address(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(a) => AddressSet {
                v4: Ranges::range(a.into(), a.into()),
                v6: Ranges::new(),
            },
            IpAddr::V6(a) => AddressSet {
                v4: Ranges::new(),
                v6: Ranges::range(a.into(), a.into()),
            },
        }
    }

    /// The addresses given, in any order.
    pub(crate) fn addresses(addresses: impl IntoIterator<Item = IpAddr>) -> Self {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for address in addresses {
            match address {
                IpAddr::V4(a) => v4.push((u32::from(a), u32::from(a))),
                IpAddr::V6(a) => v6.push((u128::from(a), u128::from(a))),
            }
        }
        AddressSet {
            v4: Ranges::from_ranges(v4),
            v6: Ranges::from_ranges(v6),
        }
    }

    /// The addresses of `net` outside every network of `except`: an `ipBlock`.
    pub(crate) fn block(net: &IpNet, except: &[IpNet]) -> Self {
        except
            .iter()
            .fold(Self::net(net), |set, hole| set.difference(&Self::net(hole)))
    }

    /// Whether the set has no address.
    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Whether `address` is in the set.
    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(a) => self.v4.contains(a.into()),
            IpAddr::V6(a) => self.v6.contains(a.into()),
        }
    }

    /// The IPv4 addresses, as ranges of numbers.
    #[cfg(test)]
    pub(crate) fn v4(&self) -> &Ranges<u32> {
        &self.v4
    }

    /// The IPv6 addresses, as ranges of numbers.
    #[cfg(test)]
    pub(crate) fn v6(&self) -> &Ranges<u128> {
        &self.v6
    }

    /// The addresses in either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Self) -> Self {
        AddressSet {
            v4: self.v4.union(&other.v4),
            v6: self.v6.union(&other.v6),
        }
    }

    /// The addresses in both sets.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Self) -> Self {
        AddressSet {
            v4: self.v4.intersection(&other.v4),
            v6: self.v6.intersection(&other.v6),
        }
    }

    /// The addresses of this set that are not in `other`.
    #[must_use]
    pub(crate) fn difference(&self, other: &Self) -> Self {
        AddressSet {
            v4: self.v4.difference(&other.v4),
            v6: self.v6.difference(&other.v6),
        }
    }

    /// The set written in few CIDRs, as blocks with the exceptions that cut them:
    /// `0.0.0.0/0 (except 10.0.0.0/8)` rather than the 8 blocks around `10.0.0.0/8`. The union
    /// of the blocks, each without its exceptions, is the set. IPv4 first, each family in
    /// address order (a block that adds back part of an earlier block's exception comes by its
    /// own address).
    pub(crate) fn blocks(&self) -> Vec<Block> {
        let v4: Vec<(u128, u128)> = self
            .v4
            .iter()
            .map(|(a, b)| (u128::from(a), u128::from(b)))
            .collect();
        let v6: Vec<(u128, u128)> = self.v6.iter().collect();
        let mut out = Vec::new();
        for (ranges, bits) in [(v4, 32), (v6, 128)] {
            if ranges.is_empty() {
                continue;
            }
            let mut blocks = Trie {
                ranges: &ranges,
                bits,
            }
            .plan(0, 0)
            .own
            .blocks;
            blocks.sort_by_key(|(node, _)| node.first);
            out.extend(blocks.into_iter().map(|(node, holes)| Block {
                net: node.net(bits),
                except: holes.into_iter().map(|hole| hole.net(bits)).collect(),
            }));
        }
        out
    }
}

/// A CIDR block with exceptions, as an `ipBlock` writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Block {
    /// The block.
    pub(crate) net: IpNet,
    /// Networks within it that are not part of the set.
    pub(crate) except: Vec<IpNet>,
}

impl fmt::Display for Block {
    /// `10.0.0.0/8`, or `0.0.0.0/0 (except 10.0.0.0/8, 192.168.0.0/16)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.net)?;
        if !self.except.is_empty() {
            let holes: Vec<String> = self.except.iter().map(ToString::to_string).collect();
            write!(f, " (except {})", holes.join(", "))?;
        }
        Ok(())
    }
}

/// A network of the binary trie of addresses: its first address and prefix length.
#[derive(Debug, Clone, Copy)]
struct Node {
    first: u128,
    prefix: u8,
}

impl Node {
    /// The last address of the network, in a family of `bits` bits.
    fn last(self, bits: u8) -> u128 {
        let host_bits = u32::from(bits - self.prefix);
        if host_bits == 128 {
            u128::MAX
        } else {
            self.first | ((1u128 << host_bits) - 1)
        }
    }

    fn net(self, bits: u8) -> IpNet {
        if bits == 32 {
            let address = Ipv4Addr::from(u32::try_from(self.first).unwrap_or(u32::MAX));
            IpNet::V4(Ipv4Net::new(address, self.prefix).unwrap_or_default())
        } else {
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(self.first), self.prefix).unwrap_or_default())
        }
    }
}

/// Blocks with their exceptions, and how many CIDRs they take to write.
#[derive(Clone, Default)]
struct Blocks {
    blocks: Vec<(Node, Vec<Node>)>,
    cost: usize,
}

impl Blocks {
    fn one(node: Node, except: Vec<Node>) -> Self {
        Blocks {
            cost: 1 + except.len(),
            blocks: vec![(node, except)],
        }
    }

    fn join(mut self, other: Blocks) -> Self {
        self.blocks.extend(other.blocks);
        self.cost += other.cost;
        self
    }
}

/// How to write the part of the set within a node, two ways.
struct Plan {
    /// As blocks of their own.
    own: Blocks,
    /// Inside a block of an ancestor: the exceptions the ancestor takes in this node, and the
    /// blocks that add back what an exception removes but the set holds.
    inside: (Vec<Node>, Blocks),
}

impl Plan {
    fn inside_cost(&self) -> usize {
        self.inside.0.len() + self.inside.1.cost
    }
}

/// The ranges of one family, walked as a binary trie of networks.
struct Trie<'a> {
    ranges: &'a [(u128, u128)],
    bits: u8,
}

impl Trie<'_> {
    /// The cheapest writings of the set within the network at `first`/`prefix`. A node fully in
    /// the set is one block (and needs no exception inside an ancestor); a node outside it is
    /// nothing (or one exception). A node partly in it is written either as its children's
    /// writings, or as one block whose exceptions are its children's (with what those remove
    /// but the set holds added back as blocks); and inside an ancestor, either as its
    /// children's exceptions or as one exception with the node's own writing added back.
    /// Whichever takes fewer CIDRs wins, the children's on a tie. Only nodes that a range
    /// boundary cuts are visited, so the work grows with the ranges times the address width.
    fn plan(&self, first: u128, prefix: u8) -> Plan {
        let node = Node { first, prefix };
        let last = node.last(self.bits);
        let start = self.ranges.partition_point(|&(_, b)| b < first);
        let end = self.ranges.partition_point(|&(a, _)| a <= last);
        match &self.ranges[start..end] {
            [] => Plan {
                own: Blocks::default(),
                inside: (vec![node], Blocks::default()),
            },
            [(a, b)] if *a <= first && *b >= last => Plan {
                own: Blocks::one(node, Vec::new()),
                inside: (Vec::new(), Blocks::default()),
            },
            _ => {
                // A partly covered node is never a single address, so it has two children.
                let half = 1u128 << u32::from(self.bits - prefix - 1);
                let left = self.plan(first, prefix + 1);
                let right = self.plan(first + half, prefix + 1);
                let whole_cost = 1 + left.inside_cost() + right.inside_cost();
                let split_cost = left.own.cost + right.own.cost;
                let mut holes = left.inside.0;
                holes.extend(right.inside.0);
                let refills = left.inside.1.join(right.inside.1);
                let split_inside = holes.len() + refills.cost;
                let own = if whole_cost < split_cost {
                    Blocks::one(node, holes.clone()).join(refills.clone())
                } else {
                    left.own.join(right.own)
                };
                let inside = if 1 + own.cost < split_inside {
                    (vec![node], own.clone())
                } else {
                    (holes, refills)
                };
                Plan { own, inside }
            }
        }
    }
}
