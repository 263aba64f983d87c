//! Connections decided in groups. The ends of a flow that the evaluator cannot tell apart
//! (pods of one class, `evaluate::classes`) are grouped on each side, and the connections
//! between two groups are decided once (twice where some join a pod to itself, and where some
//! join ends on one node), so that the pods of a namespace's Deployment, or the pods of a
//! DaemonSet, are not decided one by one; the probe of each group stands for all its
//! connections. Each side of a connection is decided once too for the pods whose side depends
//! on the same things (`Index::selection`), across classes, and for the peers that its rules
//! see alike (`Index::peer_view`). Verdicts are made into words once, and the names of ends
//! too, shared by the probes that carry them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use foldhash::{HashMap, HashSet};

use super::report::{Outcome, Shared};
use crate::evaluate::{
    ConnectionEnd, Decision, EndKey, Index, NodeId, PeerView, PodId, Selection, Verdict,
};
use crate::matrix::{Direction, Protocol};

/// Whether the connections between `a` and `b` are told apart by whether their ends are on
/// one node ([`Index::pair_key`]): where the node of an end of either matters.
pub(super) fn near_matters(index: &Index, a: &[ConnectionEnd], b: &[ConnectionEnd]) -> bool {
    index.node_matters(a.iter()) || index.node_matters(b.iter())
}

/// The ends of `ends` (by position) in groups that the evaluator cannot tell apart in
/// connections with `others` (by [`Index::pair_key`]; `near` is [`near_matters`] of the two,
/// which the caller keeps for the kinds of connection), in the order of their first members.
pub(super) fn groups(
    index: &Index,
    ends: &[ConnectionEnd],
    others: &[ConnectionEnd],
    near: bool,
) -> Vec<(EndKey, Vec<usize>)> {
    let node = index.node_matters(others.iter());
    let mut order: HashMap<EndKey, usize> = HashMap::default();
    let mut groups: Vec<(EndKey, Vec<usize>)> = Vec::new();
    for (at, end) in ends.iter().enumerate() {
        let key = index.pair_key(end, node, near);
        let group = *order.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[group].1.push(at);
    }
    groups
}

/// The nodes of the sources and of the destinations of a flow, where connections on one node
/// are a kind of their own ([`Index::same_node`]).
pub(super) type Nodes<'a> = Option<(&'a [Option<NodeId>], &'a [Option<NodeId>])>;

/// The destinations at some positions by end and by node, for [`pairs`]: made once for a
/// group of destinations, which meets many groups of sources.
pub(super) struct Targets {
    at: HashMap<ConnectionEnd, Vec<usize>>,
    on: HashMap<NodeId, Vec<usize>>,
}

impl Targets {
    /// The destinations at positions `to` of `destinations`, with their `nodes` (where given).
    pub(super) fn of(destinations: &[ConnectionEnd], nodes: Nodes<'_>, to: &[usize]) -> Targets {
        let mut at: HashMap<ConnectionEnd, Vec<usize>> = HashMap::default();
        let mut on: HashMap<NodeId, Vec<usize>> = HashMap::default();
        for &j in to {
            at.entry(destinations[j]).or_default().push(j);
            if let Some(node) = nodes.and_then(|(_, of)| of[j]) {
                on.entry(node).or_default().push(j);
            }
        }
        Targets { at, on }
    }
}

/// The connections from the sources at positions `from` (in increasing order) to the
/// destinations at positions `to` (likewise): those joining an end to itself, those joining two
/// ends on one node (where `nodes` are given), and the others, each kind as its first
/// connection (by the positions of source and destination) and how many there are.
pub(super) fn pairs(
    (sources, destinations): (&[ConnectionEnd], &[ConnectionEnd]),
    nodes: Nodes<'_>,
    from: &[usize],
    (to, targets): (&[usize], &Targets),
) -> Vec<((usize, usize), usize)> {
    let Targets { at, on } = targets;
    let node_of = |i: usize| nodes.and_then(|(of, _)| of[i]);
    let same_node = |i: usize, j: usize| {
        node_of(i).is_some_and(|n| nodes.is_some_and(|(_, of)| of[j] == Some(n)))
    };
    // By kind: other ends elsewhere, other ends on the node, the end itself.
    let mut counts = [0usize; 3];
    let mut firsts: [Option<(usize, usize)>; 3] = [None; 3];
    for &i in from {
        let itself = at.get(&sources[i]).map_or(&[][..], Vec::as_slice);
        if let Some(&j) = itself.first() {
            counts[2] += itself.len();
            firsts[2] = firsts[2].or(Some((i, j)));
        }
        // An end is on its own node, if on any.
        let neighbours = node_of(i)
            .and_then(|n| on.get(&n))
            .map_or(&[][..], Vec::as_slice);
        let near = neighbours.len()
            - neighbours
                .iter()
                .filter(|&&j| destinations[j] == sources[i])
                .count();
        if near > 0 {
            counts[1] += near;
            if firsts[1].is_none() {
                let j = neighbours.iter().find(|&&j| destinations[j] != sources[i]);
                firsts[1] = j.map(|&j| (i, j));
            }
        }
    }
    counts[0] = from.len() * to.len() - counts[1] - counts[2];
    if counts[0] > 0 {
        // The first source with a destination other than itself and off its node.
        firsts[0] = from.iter().find_map(|&i| {
            (to.iter())
                .find(|&&j| destinations[j] != sources[i] && !same_node(i, j))
                .map(|&j| (i, j))
        });
    }
    let mut found: Vec<((usize, usize), usize)> = (firsts.into_iter().zip(counts))
        .filter_map(|(first, count)| Some((first?, count)))
        .filter(|(_, count)| *count > 0)
        .collect();
    found.sort_unstable();
    found
}

/// What decides one kind of connection: the keys of its ends, whether it joins an end to
/// itself and whether its ends are on one node, the port, the protocol, and the DNS name its
/// destination was looked up by.
pub(super) type Kind<'n> = (
    EndKey,
    EndKey,
    (bool, bool),
    u16,
    Protocol,
    Option<Cow<'n, str>>,
);

/// What decides one side of a kind of connection: the direction, the subject (see
/// [`Subject`]), the peer (see [`Peer`]), whether the connection joins an end to itself and
/// whether its ends are on one node, the port, the protocol, and the DNS name the destination
/// was looked up by. Many kinds of connection share a side: the egress side of the pods of
/// many classes that the same policies select, towards one destination.
pub(super) type SideKind<'n> = (
    Direction,
    Subject,
    Peer,
    (bool, bool),
    u16,
    Protocol,
    Option<Cow<'n, str>>,
);

/// The subject of a side: a pod by what its side depends on of it ([`Index::selection`], as
/// numbered by [`Made`]) and the node its key holds, or any end by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Subject {
    Selected(u32, Option<Option<NodeId>>),
    End(EndKey),
}

/// The peer of a side: a pod, of a subject selected by what its side depends on of it, by
/// what that side's rules see of it (its [`PeerView`], as numbered by [`Made`] for the
/// subject) and the node its key holds; any other end by its key. The pods of many classes
/// look alike to the rules of one side: to an ActiveGate's ingress, the application pods of a
/// namespace that its rules' selectors do not tell apart.
///
/// The side of an address that no rule can have as its subject sees nothing of its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Peer {
    Seen(u32, Option<Option<NodeId>>),
    End(EndKey),
    Unseen,
}

/// The outcomes of the connections decided so far, their sides, and the names of ends, made
/// once.
#[derive(Default)]
pub(super) struct Made {
    outcomes: RefCell<HashMap<Kind<'static>, Shared>>,
    /// The outcome of each verdict, by the decisions (of `decisions`) of its sides.
    words: RefCell<HashMap<(usize, usize), Shared>>,
    /// The name of each end.
    names: RefCell<HashMap<ConnectionEnd, Arc<str>>>,
    /// The DNS names addresses were looked up by, once each.
    hosts: RefCell<HashMap<String, Arc<str>>>,
    /// The decision of each kind of side, one of `decisions`.
    sides: RefCell<HashMap<SideKind<'static>, Arc<Decision>>>,
    /// The decisions made, each kept once.
    decisions: RefCell<HashSet<Arc<Decision>>>,
    /// The number of each pod's selection on each side, `None` where it has none.
    selected: RefCell<HashMap<(PodId, Direction), Option<u32>>>,
    /// The selections met on each side, numbered.
    selections: RefCell<HashMap<(Direction, Selection), u32>>,
    /// Of each selection, by number, the keys of the pod labels its rules look at in a peer.
    peer_keys: RefCell<Vec<Arc<[u32]>>>,
    /// What the side of each selection sees of its peers, numbered.
    views: RefCell<HashMap<(u32, PeerView), u32>>,
}

impl Made {
    /// The subject `end`, of key `key`, of its `direction` side.
    pub(super) fn subject(
        &self,
        index: &Index,
        direction: Direction,
        (end, key): (&ConnectionEnd, EndKey),
    ) -> Subject {
        let (ConnectionEnd::Pod(id), EndKey::Pod(_, node)) = (end, key) else {
            return Subject::End(key);
        };
        let number = *(self.selected.borrow_mut())
            .entry((*id, direction))
            .or_insert_with(|| {
                let selection = index.selection(*id, direction)?;
                let mut numbers = self.selections.borrow_mut();
                let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
                Some(*(numbers.entry((direction, selection))).or_insert_with_key(
                    |(_, selection)| {
                        let keys = index.peer_label_keys(direction, selection);
                        self.peer_keys.borrow_mut().push(keys.into());
                        next
                    },
                ))
            });
        number.map_or(Subject::End(key), |number| Subject::Selected(number, node))
    }

    /// The peer `end`, of key `key`, of the `direction` side of `subject` (from
    /// [`Made::subject`]): a pod outside the host network, of a selected subject, by what the
    /// subject's rules see of it ([`Index::peer_view`]).
    pub(super) fn peer(
        &self,
        index: &Index,
        direction: Direction,
        subject: Subject,
        (end, key): (&ConnectionEnd, EndKey),
    ) -> Peer {
        if let Subject::End(EndKey::Ip(address)) = subject
            && index.subject_of_none(address)
        {
            return Peer::Unseen;
        }
        let (Subject::Selected(number, _), ConnectionEnd::Pod(id), EndKey::Pod(_, node)) =
            (subject, end, key)
        else {
            return Peer::End(key);
        };
        let keys = self.peer_keys.borrow()[number as usize].clone();
        let view = index.peer_view(direction, &keys, *id);
        let mut views = self.views.borrow_mut();
        let next = u32::try_from(views.len()).unwrap_or(u32::MAX);
        Peer::Seen(*views.entry((number, view)).or_insert(next), node)
    }

    /// The decision of sides of `kind`, made by `decide` the first time.
    pub(super) fn side(
        &self,
        kind: SideKind<'_>,
        decide: impl FnOnce() -> Decision,
    ) -> Arc<Decision> {
        if let Some(known) = self.sides.borrow().get(&kind) {
            return known.clone();
        }
        let (direction, subject, peer, same, port, protocol, name) = kind;
        let name = name.map(|n| Cow::Owned(n.into_owned()));
        let decision = decide();
        let kept = {
            let mut decisions = self.decisions.borrow_mut();
            match decisions.get(&decision) {
                Some(kept) => kept.clone(),
                None => {
                    let kept = Arc::new(decision.clone());
                    decisions.insert(kept.clone());
                    kept
                }
            }
        };
        let key = (direction, subject, peer, same, port, protocol, name);
        self.sides.borrow_mut().insert(key, kept.clone());
        kept
    }

    /// The outcome of connections of `kind`, whose sides `decide` decides (by
    /// [`Made::side`]) the first time.
    pub(super) fn outcome(
        &self,
        kind: Kind<'_>,
        decide: impl FnOnce() -> (Arc<Decision>, Arc<Decision>),
    ) -> Shared {
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
        // The decisions are kept once each: equal verdicts are the same two.
        let (egress, ingress) = decide();
        let outcome = (self.words.borrow_mut())
            .entry((Arc::as_ptr(&egress).addr(), Arc::as_ptr(&ingress).addr()))
            .or_insert_with(|| {
                let verdict = Verdict {
                    egress: Decision::clone(&egress),
                    ingress: Decision::clone(&ingress),
                };
                Shared(Arc::new(Outcome::new(&verdict)))
            })
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

    /// The DNS name `name`, shared.
    pub(super) fn host(&self, name: &str) -> Arc<str> {
        let mut hosts = self.hosts.borrow_mut();
        if let Some(known) = hosts.get(name) {
            return known.clone();
        }
        let shared: Arc<str> = Arc::from(name);
        hosts.insert(name.to_string(), shared.clone());
        shared
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
        let to = |nodes, to: &'static [usize]| (to, Targets::of(&destinations, nodes, to));
        let pairs = |nodes, from: &[usize], (to, targets): (&[usize], Targets)| {
            pairs((&sources, &destinations), nodes, from, (to, &targets))
        };
        let found = pairs(None, &[0, 1, 2], to(None, &[0, 2]));
        assert_eq!(found, [((0, 0), 4), ((0, 2), 2)]);
        // Only pod 3 to itself.
        assert_eq!(pairs(None, &[2], to(None, &[0])), [((2, 0), 1)]);
        // No pod to itself.
        assert_eq!(pairs(None, &[0, 1], to(None, &[1])), [((0, 1), 2)]);
    }

    #[test]
    fn pairs_on_one_node_are_a_kind_of_their_own() {
        let pod = ConnectionEnd::Pod;
        let sources = [pod(1), pod(2), pod(3), pod(5)];
        let destinations = [pod(3), pod(4), pod(1)];
        // Pods 1 and 4 on node 0, 2 and 3 on node 1, 5 on none.
        let from_nodes = [Some(0), Some(1), Some(1), None];
        let to_nodes = [Some(1), Some(0), Some(0)];
        let nodes = Some((&from_nodes[..], &to_nodes[..]));
        let to = |nodes, to: &'static [usize]| (to, Targets::of(&destinations, nodes, to));
        let pairs = |nodes, from: &[usize], (to, targets): (&[usize], Targets)| {
            pairs((&sources, &destinations), nodes, from, (to, &targets))
        };
        let all: &[usize] = &[0, 1, 2];
        let found = pairs(nodes, &[0, 1, 2, 3], to(nodes, all));
        // Itself: 1 -> 1, 3 -> 3. On one node: 1 -> 4, 2 -> 3. Elsewhere: the other eight,
        // the first 1 -> 3.
        assert_eq!(found, [((0, 0), 8), ((0, 1), 2), ((0, 2), 2)]);
        let total: usize = found.iter().map(|(_, n)| n).sum();
        assert_eq!(total, sources.len() * destinations.len());
        // Without nodes, those on one node are with the others.
        let found = pairs(None, &[0, 1, 2, 3], to(None, all));
        assert_eq!(found, [((0, 0), 10), ((0, 2), 2)]);
        // Only pods on one node: no other kind.
        assert_eq!(pairs(nodes, &[1], to(nodes, &[0])), [((1, 0), 1)]);
    }
}
