//! Exact sets of the parts of connections — ports per protocol, IP addresses, pods — and of the
//! connections from or to one pod ([`Space`]), with union, intersection and difference.
//!
//! The sets know no policy dialect. An evaluator says what a rule admits as a [`Space`] (see
//! [`Index::admits`](super::Index::admits) for NetworkPolicy); `verify` subtracts what the
//! matrix needs from it and reports the rest. Nothing is sampled: a set of addresses is a list
//! of ranges over the whole IPv4 and IPv6 spaces, a set of ports a list of ranges from 1 to
//! 65535 for each protocol, a set of DNS names ([`Names`], for destinations looked up by name)
//! an expression over patterns whose emptiness an automaton decides.

mod addresses;
mod names;
mod space;

use std::fmt;

use roaring::RoaringBitmap;
use smallvec::{SmallVec, smallvec};

pub(crate) use addresses::AddressSet;
pub(crate) use names::{Names, Pattern};
pub(crate) use space::Space;

use super::PodId;
use crate::matrix::Protocol;

/// A point of an ordered domain that [`Ranges`] are made of: a port (`u16`), an IPv4 address
/// (`u32`) or an IPv6 address (`u128`).
pub(crate) trait Point: Copy + Ord + fmt::Debug {
    /// The next point, `None` at the end of the domain.
    fn next(self) -> Option<Self>;
    /// The previous point, `None` at the start of the domain.
    fn previous(self) -> Option<Self>;
}

macro_rules! point {
    ($($t:ty),*) => {$(
        impl Point for $t {
            fn next(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn previous(self) -> Option<Self> {
                self.checked_sub(1)
            }
        }
    )*};
}
point!(u16, u32, u128);

/// A set of points: sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Ranges<T> {
    ranges: List<T>,
}

/// The ranges of a set: most sets hold one or two, kept in place.
type List<T> = SmallVec<[(T, T); 2]>;

impl<T: Point> Ranges<T> {
    /// The empty set.
    pub(crate) fn new() -> Self {
        Ranges {
            ranges: List::new(),
        }
    }

    /// The points from `first` to `last`, inclusive; empty when `first` is after `last`.
    pub(crate) fn range(first: T, last: T) -> Self {
        let ranges = if first <= last {
            smallvec![(first, last)]
        } else {
            List::new()
        };
        Ranges { ranges }
    }

    /// The union of inclusive ranges given in any order (those whose start is after their end
    /// are empty).
    pub(crate) fn from_ranges(ranges: impl IntoIterator<Item = (T, T)>) -> Self {
        let mut sorted: List<T> = ranges.into_iter().filter(|(a, b)| a <= b).collect();
        sorted.sort_unstable();
        Ranges {
            ranges: coalesce(sorted),
        }
    }

    /// Whether the set has no point.
    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, in order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = (T, T)> + '_ {
        self.ranges.iter().copied()
    }

    /// Whether `point` is in the set.
    pub(crate) fn contains(&self, point: T) -> bool {
        let after = self.ranges.partition_point(|&(first, _)| first <= point);
        after > 0 && self.ranges[after - 1].1 >= point
    }

    /// Whether every point of the set is in `other`.
    #[cfg(test)]
    pub(crate) fn is_subset(&self, other: &Self) -> bool {
        self.difference(other).is_empty()
    }

    /// The points in either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Self) -> Self {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        let mut merged = List::with_capacity(self.ranges.len() + other.ranges.len());
        let (mut a, mut b) = (
            self.ranges.iter().peekable(),
            other.ranges.iter().peekable(),
        );
        while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
            if x <= y {
                merged.push(x);
                a.next();
            } else {
                merged.push(y);
                b.next();
            }
        }
        merged.extend(a.copied());
        merged.extend(b.copied());
        Ranges {
            ranges: coalesce(merged),
        }
    }

    /// The points in both sets.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Self) -> Self {
        let mut out = List::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a, b) = self.ranges[i];
            let (c, d) = other.ranges[j];
            let (first, last) = (a.max(c), b.min(d));
            if first <= last {
                out.push((first, last));
            }
            if b < d {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ranges { ranges: out }
    }

    /// The points of this set that are not in `other`.
    #[must_use]
    pub(crate) fn difference(&self, other: &Self) -> Self {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        let mut out = List::new();
        let mut j = 0;
        for &(first, last) in &self.ranges {
            while j < other.ranges.len() && other.ranges[j].1 < first {
                j += 1;
            }
            let mut start = Some(first);
            let mut k = j;
            while let Some(from) = start {
                match other.ranges.get(k) {
                    Some(&(hole_first, hole_last)) if hole_first <= last => {
                        if hole_first > from {
                            out.push((from, hole_first.previous().unwrap_or(from)));
                        }
                        start = hole_last.next().filter(|&n| n <= last);
                        k += 1;
                    }
                    _ => {
                        out.push((from, last));
                        start = None;
                    }
                }
            }
        }
        Ranges { ranges: out }
    }
}

/// Sorted ranges with overlapping and adjacent ones joined.
fn coalesce<T: Point>(sorted: List<T>) -> List<T> {
    let mut out: List<T> = List::with_capacity(sorted.len());
    for (first, last) in sorted {
        match out.last_mut() {
            Some(previous) if previous.1.next().is_none_or(|n| first <= n) => {
                previous.1 = previous.1.max(last);
            }
            _ => out.push((first, last)),
        }
    }
    out
}

/// The highest port number; port 0 is no destination port.
const LAST_PORT: u16 = u16::MAX;

/// Destination ports of every protocol a NetworkPolicy knows (TCP, UDP, SCTP), as ranges from 1
/// to 65535 per protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PortSet {
    /// By protocol, in the order of [`PROTOCOLS`].
    by_protocol: [Ranges<u16>; 3],
}

/// The protocols, in the order ports are shown.
pub(crate) const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

fn slot(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

impl PortSet {
    /// No port.
    pub(crate) fn empty() -> Self {
        PortSet::default()
    }

    /// Every port of every protocol.
    pub(crate) fn all() -> Self {
        let every = Ranges::range(1, LAST_PORT);
        PortSet {
            by_protocol: [every.clone(), every.clone(), every],
        }
    }

    /// Every port of `protocol`.
    pub(crate) fn every_port(protocol: Protocol) -> Self {
        Self::ports(protocol, 1, LAST_PORT)
    }

    /// The ports from `first` to `last` (inclusive) of `protocol`; port 0 is left out.
    pub(crate) fn ports(protocol: Protocol, first: u16, last: u16) -> Self {
        let mut set = PortSet::default();
        set.by_protocol[slot(protocol)] = Ranges::range(first.max(1), last);
        set
    }

    /// One port of `protocol`.
    pub(crate) fn port(protocol: Protocol, number: u16) -> Self {
        Self::ports(protocol, number, number)
    }

    /// The ports of `protocol`.
    pub(crate) fn of(&self, protocol: Protocol) -> &Ranges<u16> {
        &self.by_protocol[slot(protocol)]
    }

    /// Whether the set has no port.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_protocol.iter().all(Ranges::is_empty)
    }

    /// Whether the set has every port of every protocol.
    pub(crate) fn is_all(&self) -> bool {
        *self == Self::all()
    }

    /// Whether `number` of `protocol` is in the set.
    #[cfg(test)]
    pub(crate) fn contains(&self, protocol: Protocol, number: u16) -> bool {
        self.of(protocol).contains(number)
    }

    fn zip(&self, other: &Self, op: fn(&Ranges<u16>, &Ranges<u16>) -> Ranges<u16>) -> Self {
        let [a, b, c] = &self.by_protocol;
        let [x, y, z] = &other.by_protocol;
        PortSet {
            by_protocol: [op(a, x), op(b, y), op(c, z)],
        }
    }

    /// The ports in either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Self) -> Self {
        self.zip(other, Ranges::union)
    }

    /// The ports in both sets.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Self) -> Self {
        self.zip(other, Ranges::intersection)
    }

    /// The ports of this set that are not in `other`.
    #[must_use]
    pub(crate) fn difference(&self, other: &Self) -> Self {
        self.zip(other, Ranges::difference)
    }

    /// The ranges in words, protocol by protocol: `443/TCP`, `40000-65535/UDP`.
    pub(crate) fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for protocol in PROTOCOLS {
            for (first, last) in self.of(protocol).iter() {
                out.push(if first == last {
                    format!("{first}/{}", protocol.name())
                } else {
                    format!("{first}-{last}/{}", protocol.name())
                });
            }
        }
        out
    }
}

impl fmt::Display for PortSet {
    /// `every port and protocol`, or the ranges of [`PortSet::describe`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            f.write_str("every port and protocol")
        } else {
            f.write_str(&self.describe().join(", "))
        }
    }
}

/// A set of pods of an [`Index`](super::Index), by id: a compressed bitmap, so that a set of
/// every pod of the largest cluster (150,000) is a few thousand words, and a set of a few pods
/// a short list.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PodSet {
    ids: RoaringBitmap,
}

// Equality of bitmaps is equality of sets.
impl Eq for PodSet {}

/// A pod id as the bitmap holds it; an index has fewer pods than `u32` counts.
fn bit(id: PodId) -> u32 {
    u32::try_from(id).expect("an index has fewer than 2^32 pods")
}

impl PodSet {
    /// Whether `id` is in the set.
    pub(crate) fn contains(&self, id: PodId) -> bool {
        u32::try_from(id).is_ok_and(|id| self.ids.contains(id))
    }

    /// Whether the set has no pod.
    pub(crate) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// How many pods the set has.
    pub(crate) fn len(&self) -> usize {
        usize::try_from(self.ids.len()).unwrap_or(usize::MAX)
    }

    /// The pods, in order of id.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = PodId> + '_ {
        self.ids.iter().map(|id| id as PodId)
    }

    /// Adds pod `id`; whether it was not in the set.
    pub(crate) fn insert(&mut self, id: PodId) -> bool {
        self.ids.insert(bit(id))
    }

    /// Takes pod `id` away; whether it was in the set.
    pub(crate) fn remove(&mut self, id: PodId) -> bool {
        u32::try_from(id).is_ok_and(|id| self.ids.remove(id))
    }

    /// Whether the two sets have no pod in common.
    pub(crate) fn is_disjoint(&self, other: &Self) -> bool {
        self.ids.is_disjoint(&other.ids)
    }

    /// The pods in either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Self) -> Self {
        PodSet {
            ids: &self.ids | &other.ids,
        }
    }

    /// The pods in both sets.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Self) -> Self {
        PodSet {
            ids: &self.ids & &other.ids,
        }
    }

    /// The pods of this set that are not in `other`.
    #[must_use]
    pub(crate) fn difference(&self, other: &Self) -> Self {
        PodSet {
            ids: &self.ids - &other.ids,
        }
    }

    /// Adds the pods of `other`.
    pub(crate) fn union_with(&mut self, other: &Self) {
        self.ids |= &other.ids;
    }
}

// Sets are ordered as the lists of their ids are, so that a [`Space`] holding them can be a key.
impl Ord for PodSet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.ids == other.ids {
            return std::cmp::Ordering::Equal;
        }
        self.ids.iter().cmp(other.ids.iter())
    }
}

impl PartialOrd for PodSet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for PodSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.ids.len());
        for id in &self.ids {
            state.write_u32(id);
        }
    }
}

impl FromIterator<PodId> for PodSet {
    fn from_iter<I: IntoIterator<Item = PodId>>(iter: I) -> Self {
        let mut set = PodSet::default();
        for id in iter {
            set.insert(id);
        }
        set
    }
}

#[cfg(test)]
mod tests;
