//! Sets of connections from or to one pod: for each peer, the destination ports.

use std::collections::BTreeMap;
#[cfg(test)]
use std::net::IpAddr;

use super::{AddressSet, PodSet, PortSet};
use crate::evaluate::PodId;
#[cfg(test)]
use crate::matrix::Protocol;

/// A set of connections seen from one end: the peers at the other end, each with the
/// destination ports (and protocols) of the connections. Pods are peers by id; addresses are
/// peers by range, and the ports may differ from range to range.
///
/// Which end is the subject is the caller's: for egress, the peers are destinations; for
/// ingress, sources (and the ports are the subject's).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Space {
    /// Sorted by id; no empty port set.
    pods: Vec<(PodId, PortSet)>,
    /// Disjoint, non-empty address sets, each with a distinct, non-empty port set; sorted by
    /// port set.
    addresses: Vec<(AddressSet, PortSet)>,
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
            addresses: Vec::new(),
        }
    }

    /// Whether the set has no connection.
    pub(crate) fn is_empty(&self) -> bool {
        self.pods.is_empty() && self.addresses.is_empty()
    }

    /// The pods, in order of id, with their ports.
    pub(crate) fn pod_parts(&self) -> &[(PodId, PortSet)] {
        &self.pods
    }

    /// The addresses, in parts of equal ports.
    pub(crate) fn address_parts(&self) -> &[(AddressSet, PortSet)] {
        &self.addresses
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

    /// The set without any connection with pod `id`.
    #[must_use]
    pub(crate) fn without_pod(mut self, id: PodId) -> Self {
        self.pods.retain(|(p, _)| *p != id);
        self
    }

    /// The connections in either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Self) -> Self {
        self.combine(other, PortSet::union)
    }

    /// The connections in both sets.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Self) -> Self {
        self.combine(other, PortSet::intersection)
    }

    /// The connections of this set that are not in `other`.
    #[must_use]
    pub(crate) fn difference(&self, other: &Self) -> Self {
        self.combine(other, PortSet::difference)
    }

    /// The set whose ports for each peer are `op` of the two sets' ports for that peer.
    /// `op` of two empty port sets must be empty.
    fn combine(&self, other: &Self, op: fn(&PortSet, &PortSet) -> PortSet) -> Self {
        Space {
            pods: combine_pods(&self.pods, &other.pods, op),
            addresses: combine_addresses(&self.addresses, &other.addresses, op),
        }
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
