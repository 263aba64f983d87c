//! Sets of connections from or to one pod: for each peer, the destination ports.

use std::collections::BTreeMap;
#[cfg(test)]
use std::net::IpAddr;

use super::{AddressSet, Names, PodSet, PortSet};
use crate::evaluate::PodId;
#[cfg(test)]
use crate::matrix::Protocol;

/// A set of connections seen from one end: the peers at the other end, each with the
/// destination ports (and protocols) of the connections. Pods are peers by id, in sets of pods
/// with equal ports; addresses are peers by range, and the ports may differ from range to range.
/// A rule that admits every pod of a large cluster on a port or two is a set or two of pods.
///
/// Which end is the subject is the caller's: for egress, the peers are destinations; for
/// ingress, sources (and the ports are the subject's).
///
/// Destinations the source looked up by a DNS name are a third kind of peer: the connections
/// to some addresses on some ports when looked up by a name of some set ([`Space::named`],
/// what Cilium's `toFQDNs` admits). The address parts hold whatever name an address was
/// looked up by, or none. The two kinds are kept apart, each exact: the address parts are what
/// is admitted of an address without a name, the named parts what is admitted besides of an
/// address looked up by a name. So a difference takes from the address parts only what the
/// other set's address parts hold (what it admits by name alone does not cover an address
/// reached without one), and from the named parts what the other set holds of either kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Space {
    /// Disjoint, non-empty pod sets, each with a distinct, non-empty port set; sorted by port
    /// set.
    pods: Vec<(PodSet, PortSet)>,
    /// Disjoint, non-empty address sets, each with a distinct, non-empty port set; sorted by
    /// port set.
    addresses: Vec<(AddressSet, PortSet)>,
    /// By non-empty set of names, the addresses and ports, as `addresses` holds them.
    named: BTreeMap<Names, Vec<(AddressSet, PortSet)>>,
}

impl Space {
    /// No connection.
    pub(crate) fn empty() -> Self {
        Space::default()
    }

    /// Every pod of `pods` and every address of `addresses`, on `ports`.
    pub(crate) fn product(pods: &PodSet, addresses: AddressSet, ports: &PortSet) -> Self {
        if ports.is_empty() {
            return Space::empty();
        }
        let mut space = Space::addresses(addresses, ports.clone());
        if !pods.is_empty() {
            space.pods = vec![(pods.clone(), ports.clone())];
        }
        space
    }

    /// Every address of `addresses`, on `ports`.
    pub(crate) fn addresses(addresses: AddressSet, ports: PortSet) -> Self {
        let addresses = if addresses.is_empty() || ports.is_empty() {
            Vec::new()
        } else {
            vec![(addresses, ports)]
        };
        Space {
            pods: Vec::new(),
            addresses,
            named: BTreeMap::new(),
        }
    }

    /// Every address of `addresses` on `ports`, when looked up by a name of `names`.
    pub(crate) fn named(names: Names, addresses: AddressSet, ports: PortSet) -> Self {
        let mut named = BTreeMap::new();
        if !names.is_empty() && !addresses.is_empty() && !ports.is_empty() {
            named.insert(names, vec![(addresses, ports)]);
        }
        Space {
            named,
            ..Space::default()
        }
    }

    /// Pods, each with its ports, in any order; a pod given twice has the union of its ports.
    pub(crate) fn pods(pods: impl IntoIterator<Item = (PodId, PortSet)>) -> Self {
        let mut by_ports: BTreeMap<PortSet, PodSet> = BTreeMap::new();
        for (id, ports) in pods {
            if !ports.is_empty() {
                by_ports.entry(ports).or_default().insert(id);
            }
        }
        let parts: Vec<(PodSet, PortSet)> = (by_ports.into_iter())
            .map(|(ports, set)| (set, ports))
            .collect();
        let given: usize = parts.iter().map(|(set, _)| set.len()).sum();
        let distinct = (parts.iter()).fold(PodSet::default(), |all, (set, _)| all.union(set));
        if parts.len() < 2 || distinct.len() == given {
            return Space {
                pods: parts,
                ..Space::default()
            };
        }
        // A pod given with different ports: joined one set at a time.
        (parts.into_iter()).fold(Space::empty(), |all, part| {
            all.union(&Space {
                pods: vec![part],
                ..Space::default()
            })
        })
    }

    /// Whether the set has no connection.
    pub(crate) fn is_empty(&self) -> bool {
        self.pods.is_empty() && self.addresses.is_empty() && self.named.is_empty()
    }

    /// Whether the set has connections with addresses (by name or not).
    pub(crate) fn has_addresses(&self) -> bool {
        !self.addresses.is_empty() || !self.named.is_empty()
    }

    /// The pods, in sets of equal ports.
    pub(crate) fn pod_parts(&self) -> &[(PodSet, PortSet)] {
        &self.pods
    }

    /// The pods.
    pub(crate) fn pod_ids(&self) -> PodSet {
        match self.pods.as_slice() {
            [(set, _)] => set.clone(),
            parts => (parts.iter()).fold(PodSet::default(), |all, (set, _)| all.union(set)),
        }
    }

    /// This set with each set of pods `f` of it: `f` must keep apart sets that are apart.
    pub(crate) fn map_pod_sets(&self, f: impl Fn(&PodSet) -> PodSet) -> Self {
        let pods = (self.pods.iter())
            .map(|(set, ports)| (f(set), ports.clone()))
            .filter(|(set, _)| !set.is_empty())
            .collect();
        Space {
            pods,
            addresses: self.addresses.clone(),
            named: self.named.clone(),
        }
    }

    /// The connections of this set with pods.
    pub(crate) fn only_pods(&self) -> Self {
        Space {
            pods: self.pods.clone(),
            ..Space::default()
        }
    }

    /// How many pods are peers.
    pub(crate) fn pod_count(&self) -> usize {
        self.pods.iter().map(|(set, _)| set.len()).sum()
    }

    /// The addresses, in parts of equal ports.
    pub(crate) fn address_parts(&self) -> &[(AddressSet, PortSet)] {
        &self.addresses
    }

    /// The addresses looked up by names: for each set of names, the addresses in parts of
    /// equal ports.
    pub(crate) fn named_parts(&self) -> impl Iterator<Item = (&Names, &[(AddressSet, PortSet)])> {
        self.named
            .iter()
            .map(|(names, parts)| (names, parts.as_slice()))
    }

    /// The ports of pod `id` (empty when it is no peer).
    pub(crate) fn ports_of_pod(&self, id: PodId) -> PortSet {
        (self.pods.iter())
            .find(|(set, _)| set.contains(id))
            .map(|(_, ports)| ports.clone())
            .unwrap_or_default()
    }

    /// Whether the connection with pod `id` on `number` of `protocol` is in the set.
    #[cfg(test)]
    pub(crate) fn contains_pod(&self, id: PodId, protocol: Protocol, number: u16) -> bool {
        (self.pods.iter()).any(|(set, ports)| set.contains(id) && ports.contains(protocol, number))
    }

    /// Whether the connection with `address` on `number` of `protocol` is in the set.
    #[cfg(test)]
    pub(crate) fn contains_address(
        &self,
        address: IpAddr,
        protocol: Protocol,
        number: u16,
    ) -> bool {
        self.addresses
            .iter()
            .any(|(set, ports)| set.contains(address) && ports.contains(protocol, number))
    }

    /// Whether the connection with `address` looked up by `name` on `number` of `protocol` is
    /// in the set.
    #[cfg(test)]
    pub(crate) fn contains_named(
        &self,
        address: IpAddr,
        name: &str,
        protocol: Protocol,
        number: u16,
    ) -> bool {
        self.contains_address(address, protocol, number)
            || self.named.iter().any(|(names, parts)| {
                names.contains(name)
                    && parts.iter().any(|(set, ports)| {
                        set.contains(address) && ports.contains(protocol, number)
                    })
            })
    }

    /// The set without any connection with pod `id`.
    #[must_use]
    pub(crate) fn without_pod(mut self, id: PodId) -> Self {
        for (set, _) in &mut self.pods {
            set.remove(id);
        }
        self.pods.retain(|(set, _)| !set.is_empty());
        self
    }

    /// The connections in either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Self) -> Self {
        let mut union = self.combine(other, PortSet::union);
        for (names, parts) in self.named.iter().chain(&other.named) {
            add_named(&mut union.named, names, parts);
        }
        union
    }

    /// The connections in both sets.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Self) -> Self {
        let mut both = self.combine(other, PortSet::intersection);
        let meet = |a: &[(AddressSet, PortSet)], b: &[(AddressSet, PortSet)]| {
            combine_addresses(a, b, PortSet::intersection)
        };
        for (names, parts) in &self.named {
            add_named(&mut both.named, names, &meet(parts, &other.addresses));
            for (more, other_parts) in &other.named {
                let common = names.intersection(more);
                if !common.is_empty() {
                    add_named(&mut both.named, &common, &meet(parts, other_parts));
                }
            }
        }
        for (names, parts) in &other.named {
            add_named(&mut both.named, names, &meet(&self.addresses, parts));
        }
        both
    }

    /// The connections of this set that are not in `other`: see [`Space`] for the address
    /// parts.
    #[must_use]
    pub(crate) fn difference(&self, other: &Self) -> Self {
        let mut rest = self.combine(other, PortSet::difference);
        let less = |a: &[(AddressSet, PortSet)], b: &[(AddressSet, PortSet)]| {
            combine_addresses(a, b, PortSet::difference)
        };
        for (names, parts) in &self.named {
            let mut left = vec![(names.clone(), less(parts, &other.addresses))];
            for (more, other_parts) in &other.named {
                let mut next = Vec::new();
                for (names, parts) in left {
                    let common = names.intersection(more);
                    if common.is_empty() {
                        next.push((names, parts));
                        continue;
                    }
                    next.push((names.difference(more), parts.clone()));
                    next.push((common, less(&parts, other_parts)));
                }
                left = next;
            }
            for (names, parts) in left {
                add_named(&mut rest.named, &names, &parts);
            }
        }
        rest
    }

    /// The set whose ports for each pod and address are `op` of the two sets' ports for it,
    /// without named parts. `op` of two empty port sets must be empty.
    fn combine(&self, other: &Self, op: fn(&PortSet, &PortSet) -> PortSet) -> Self {
        Space {
            pods: combine_pods(&self.pods, &other.pods, op),
            addresses: combine_addresses(&self.addresses, &other.addresses, op),
            named: BTreeMap::new(),
        }
    }
}

/// Adds `parts` for `names` to `named`, joined with what it has for the same names.
fn add_named(
    named: &mut BTreeMap<Names, Vec<(AddressSet, PortSet)>>,
    names: &Names,
    parts: &[(AddressSet, PortSet)],
) {
    if names.is_empty() || parts.is_empty() {
        return;
    }
    let joined = match named.get(names) {
        Some(existing) => combine_addresses(existing, parts, PortSet::union),
        None => parts.to_vec(),
    };
    if !joined.is_empty() {
        named.insert(names.clone(), joined);
    }
}

/// Refines two partitions of pods into their common parts, takes `op` of the ports on each,
/// and joins the parts with equal ports again. Only the parts whose ports `op` leaves non-empty
/// are worked out.
fn combine_pods(
    a: &[(PodSet, PortSet)],
    b: &[(PodSet, PortSet)],
    op: fn(&PortSet, &PortSet) -> PortSet,
) -> Vec<(PodSet, PortSet)> {
    let empty = PortSet::empty();
    let cover = |parts: &[(PodSet, PortSet)]| match parts {
        [(set, _)] => set.clone(),
        parts => (parts.iter()).fold(PodSet::default(), |all, (set, _)| all.union(set)),
    };
    let (mut all_a, mut all_b) = (None, None);
    let mut by_ports: BTreeMap<PortSet, PodSet> = BTreeMap::new();
    let mut add = |set: PodSet, ports: PortSet| {
        if !set.is_empty() {
            by_ports.entry(ports).or_default().union_with(&set);
        }
    };
    for (set, ports) in a {
        for (other, other_ports) in b {
            let both = op(ports, other_ports);
            if !both.is_empty() && !set.is_disjoint(other) {
                add(set.intersection(other), both);
            }
        }
        let alone = op(ports, &empty);
        if !alone.is_empty() {
            add(set.difference(all_b.get_or_insert_with(|| cover(b))), alone);
        }
    }
    for (other, other_ports) in b {
        let alone = op(&empty, other_ports);
        if !alone.is_empty() {
            add(
                other.difference(all_a.get_or_insert_with(|| cover(a))),
                alone,
            );
        }
    }
    by_ports
        .into_iter()
        .map(|(ports, set)| (set, ports))
        .collect()
}

/// Refines two partitions of addresses into their common parts, takes `op` of the ports on
/// each, and joins the parts with equal ports again.
fn combine_addresses(
    a: &[(AddressSet, PortSet)],
    b: &[(AddressSet, PortSet)],
    op: fn(&PortSet, &PortSet) -> PortSet,
) -> Vec<(AddressSet, PortSet)> {
    let empty = PortSet::empty();
    let cover = |parts: &[(AddressSet, PortSet)]| {
        parts
            .iter()
            .fold(AddressSet::empty(), |all, (set, _)| all.union(set))
    };
    let (all_a, all_b) = (cover(a), cover(b));
    let mut by_ports: BTreeMap<PortSet, AddressSet> = BTreeMap::new();
    let mut add = |set: AddressSet, ports: PortSet| {
        if !set.is_empty() && !ports.is_empty() {
            let entry = by_ports.entry(ports).or_default();
            *entry = entry.union(&set);
        }
    };
    for (set, ports) in a {
        for (other, other_ports) in b {
            add(set.intersection(other), op(ports, other_ports));
        }
        add(set.difference(&all_b), op(ports, &empty));
    }
    for (other, other_ports) in b {
        add(other.difference(&all_a), op(&empty, other_ports));
    }
    by_ports
        .into_iter()
        .map(|(ports, set)| (set, ports))
        .collect()
}
