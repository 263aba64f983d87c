//! Connections decided in groups. The ends of a flow that the evaluator cannot tell apart
//! (pods of one class, `evaluate::classes`) are grouped on each side, and the connections
//! between two groups are decided once (twice where some join a pod to itself), so that the
//! pods of a namespace's Deployment, or the pods of a DaemonSet, are not decided one by one; the
//! probe of each group stands for all its connections. Verdicts are made into words once, and
//! the names of ends too, shared by the probes that carry them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::report::{Outcome, Shared};
use crate::evaluate::{ConnectionEnd, EndKey, Index, Verdict};
use crate::matrix::Protocol;

/// The ends of `ends` (by position) in groups that the evaluator cannot tell apart in
/// connections with `others`, in the order of their first members.
pub(super) fn groups(
    index: &Index,
    ends: &[ConnectionEnd],
    others: &[ConnectionEnd],
) -> Vec<(EndKey, Vec<usize>)> {
    let node = index.node_matters(others.iter());
    let mut order: HashMap<EndKey, usize> = HashMap::new();
    let mut groups: Vec<(EndKey, Vec<usize>)> = Vec::new();
    for (at, end) in ends.iter().enumerate() {
        let key = index.end_key(end, node);
        let group = *order.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[group].1.push(at);
    }
    groups
}

/// The connections from the sources at positions `from` to the destinations at positions
/// `to`: those joining two ends and those joining an end to itself, each kind as its first
/// connection (by the positions of source and destination) and how many there are.
pub(super) fn pairs(
    (sources, destinations): (&[ConnectionEnd], &[ConnectionEnd]),
    from: &[usize],
    to: &[usize],
) -> Vec<((usize, usize), usize)> {
    let mut at: HashMap<ConnectionEnd, Vec<usize>> = HashMap::new();
    for &j in to {
        at.entry(destinations[j]).or_default().push(j);
    }
    let mut same = 0;
    let mut first_same: Option<(usize, usize)> = None;
    for &i in from {
        if let Some(found) = at.get(&sources[i]) {
            same += found.len();
            let pair = (i, found[0]);
            first_same = Some(first_same.map_or(pair, |f| f.min(pair)));
        }
    }
    let mut found = Vec::new();
    let different = from.len() * to.len() - same;
    if different > 0 {
        // The first source with a destination other than itself, and that destination.
        let first = from
            .iter()
            .find_map(|&i| (to.iter().find(|&&j| destinations[j] != sources[i])).map(|&j| (i, j)));
        if let Some(first) = first {
            found.push((first, different));
        }
    }
    if let Some(first) = first_same {
        found.push((first, same));
    }
    found.sort_unstable();
    found
}

/// What decides one kind of connection: the keys of its ends, whether it joins an end to
/// itself, the port, the protocol, and the DNS name its destination was looked up by.
pub(super) type Kind<'n> = (EndKey, EndKey, bool, u16, Protocol, Option<Cow<'n, str>>);

/// The outcomes of the connections decided so far and the names of ends, made once.
#[derive(Default)]
pub(super) struct Made {
    outcomes: RefCell<HashMap<Kind<'static>, Shared>>,
    words: RefCell<HashMap<Verdict, Shared>>,
    names: RefCell<HashMap<ConnectionEnd, Arc<str>>>,
}

impl Made {
    /// The outcome of connections of `kind`, decided by `decide` the first time.
    pub(super) fn outcome(&self, kind: Kind<'_>, decide: impl FnOnce() -> Verdict) -> Shared {
        if let Some(known) = self.outcomes.borrow().get(&kind) {
            return known.clone();
        }
        let (from, to, same, port, protocol, name) = kind;
        let key = (
            from,
            to,
            same,
            port,
            protocol,
            name.map(|n| Cow::Owned(n.into_owned())),
        );
        let verdict = decide();
        let outcome = (self.words.borrow_mut())
            .entry(verdict)
            .or_insert_with_key(|verdict| Shared(Arc::new(Outcome::new(verdict))))
            .clone();
        self.outcomes.borrow_mut().insert(key, outcome.clone());
        outcome
    }

    /// The name of `end` in `index`.
    pub(super) fn name(&self, index: &Index, end: &ConnectionEnd) -> Arc<str> {
        (self.names.borrow_mut())
            .entry(*end)
            .or_insert_with(|| Arc::from(index.end_name(end)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_count_every_connection_once() {
        let pod = ConnectionEnd::Pod;
        let sources = [pod(1), pod(2), pod(3)];
        let destinations = [pod(3), pod(4), pod(1)];
        // Sources 1, 2 and 3 to destinations 3 and 1: pod 1 and pod 3 meet themselves once
        // each, four connections join two pods, the first of them 1 -> 3.
        let found = pairs((&sources, &destinations), &[0, 1, 2], &[0, 2]);
        assert_eq!(found, [((0, 0), 4), ((0, 2), 2)]);
        // Only pod 3 to itself.
        assert_eq!(pairs((&sources, &destinations), &[2], &[0]), [((2, 0), 1)]);
        // No pod to itself.
        assert_eq!(
            pairs((&sources, &destinations), &[0, 1], &[1]),
            [((0, 1), 2)]
        );
    }
}
