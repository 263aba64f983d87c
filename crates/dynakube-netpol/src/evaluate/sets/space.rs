//! Sets of connections from or to one pod: for each peer, the destination ports.

use std::collections::BTreeMap;
#[cfg(test)]
use std::net::IpAddr;

use super::{AddressSet, Names, PodSet, PortSet};
use crate::evaluate::PodId;
#[cfg(test)]
use crate::matrix::Protocol;

/// A set of connections seen from one end: the peers at the other end, each with the
/// destination ports (and protocols) of the connections. Pods are peers by id; addresses are
/// peers by range, and the ports may differ from range to range.
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
    /// Sorted by id; no empty port set.
    pods: Vec<(PodId, PortSet)>,
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
        space.pods = pods.iter().map(|id| (id, ports.clone())).collect();
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
        let mut pods: Vec<(PodId, PortSet)> =
            pods.into_iter().filter(|(_, p)| !p.is_empty()).collect();
        pods.sort_by_key(|(id, _)| *id);
        let mut merged: Vec<(PodId, PortSet)> = Vec::with_capacity(pods.len());
        for (id, ports) in pods {
            match merged.last_mut() {
                Some((last, existing)) if *last == id => *existing = existing.union(&ports),
                _ => merged.push((id, ports)),
            }
        }
        Space {
            pods: merged,
            ..Space::default()
        }
    }

    /// The connections of this set with addresses, and those with `pods` (each with its ports,
    /// in any order) in place of its own with pods.
    pub(crate) fn with_pods(&self, pods: impl IntoIterator<Item = (PodId, PortSet)>) -> Self {
        Space {
            addresses: self.addresses.clone(),
            named: self.named.clone(),
            ..Space::pods(pods)
        }
    }

    /// Whether the set has no connection.
    pub(crate) fn is_empty(&self) -> bool {
        self.pods.is_empty() && self.addresses.is_empty() && self.named.is_empty()
    }

    /// Whether the set has connections with addresses (by name or not).
    pub(crate) fn has_addresses(&self) -> bool {
        !self.addresses.is_empty() || !self.named.is_empty()
    }

    /// The pods, in order of id, with their ports.
    pub(crate) fn pod_parts(&self) -> &[(PodId, PortSet)] {
        &self.pods
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
        self.pods
            .binary_search_by_key(&id, |(p, _)| *p)
            .map(|i| self.pods[i].1.clone())
            .unwrap_or_default()
    }

    /// Whether the connection with pod `id` on `number` of `protocol` is in the set.
    #[cfg(test)]
    pub(crate) fn contains_pod(&self, id: PodId, protocol: Protocol, number: u16) -> bool {
        self.pods
            .binary_search_by_key(&id, |(p, _)| *p)
            .is_ok_and(|i| self.pods[i].1.contains(protocol, number))
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
        self.pods.retain(|(p, _)| *p != id);
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

/// Merges two sorted pod lists peer by peer.
fn combine_pods(
    a: &[(PodId, PortSet)],
    b: &[(PodId, PortSet)],
    op: fn(&PortSet, &PortSet) -> PortSet,
) -> Vec<(PodId, PortSet)> {
    let empty = PortSet::empty();
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let (id, ports) = match (a.get(i), b.get(j)) {
            (Some((x, p)), Some((y, q))) if x == y => {
                i += 1;
                j += 1;
                (*x, op(p, q))
            }
            (Some((x, p)), Some((y, _))) if x < y => {
                i += 1;
                (*x, op(p, &empty))
            }
            (Some((x, p)), None) => {
                i += 1;
                (*x, op(p, &empty))
            }
            (_, Some((y, q))) => {
                j += 1;
                (*y, op(&empty, q))
            }
            (None, None) => break,
        };
        if !ports.is_empty() {
            out.push((id, ports));
        }
    }
    out
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
