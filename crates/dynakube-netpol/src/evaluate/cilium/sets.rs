//! What the rules selecting a pod (or, for a pod in the host network, its node's host) admit
//! and deny, as sets: the decision of `decide.rs` over every peer and port at once, so that
//! `verify` can compute what the policies allow beyond what is needed without trying
//! connections.
//!
//! The peers are those of a given set ([`Space`]): its pods, each as Cilium sees it (an
//! endpoint with its identity labels, or a host), and when it has addresses, every address,
//! in classes that no rule tells apart: each node's addresses (the host of the subject's node,
//! or a remote node), the addresses of the node blocks that no node has (nodes the cluster
//! does not list: `remote-node`, by address for CIDR rules that match nodes),
//! kube-apiserver's other addresses (`world` or `remote-node`, and `kube-apiserver`, each by
//! its address for CIDR rules), and every other address (`world`, by address for CIDR rules). A rule's ports are resolved on the destination as `decide.rs`
//! resolves them: named ports on the destination pod (for ingress, the subject).
//!
//! `toFQDNs` admits the addresses outside the cluster (the world's and kube-apiserver's
//! outside the nodes) when looked up by a name that both its patterns and the DNS rules of the
//! subject's lookups allow ([`Evaluator::lookup_names`], the set form of
//! `Evaluator::lookup_allowed`): a named part of the set.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use super::compile::{Peer as RulePeer, PeerRule, Peers, Ports, RuleRef};
use super::decide::{Port, Selecting, item_matches, named_ports, requirements, requires};
use super::fqdn::Fqdn;
use super::identity::{Peer, UNLISTED, Who};
use super::labels::{Label, Labels, Selector};
use super::ports::{NamedPort, PortSpec};
use super::{End, Evaluator};
use crate::evaluate::sets::{AddressSet, Names, PROTOCOLS, Pattern, PodSet, PortSet, Space};
use crate::matrix::{Direction, Protocol};

/// What the rules selecting a pod decide on one side, as sets of the peers asked about.
#[derive(Debug, Clone, Default)]
pub(crate) struct SideSets {
    /// What never meets policy: the pod with itself, and on ingress (with `allow-localhost`)
    /// its node's host.
    pub(crate) local: Space,
    /// What the deny rules match.
    pub(crate) denied: Space,
    /// What each allow rule admits, with the rule (`spec.egress[0]`) and its index in its list.
    pub(crate) allowed: Vec<(RuleRef, usize, Space)>,
    /// Whether a rule selecting the pod puts it into default deny on this side.
    pub(crate) default_deny: bool,
}

/// Which endpoints each endpoint selector (by its requirements) and each entity matches, by
/// pod, found on first use: an endpoint's identity labels are fixed, so whether a selector or
/// an entity matches them is too, and `verify` asks the same selectors of the same endpoints
/// for every group of Dynatrace pods (and many policies repeat one selector).
#[derive(Debug, Default)]
pub(super) struct Matched {
    by: Mutex<HashMap<Matcher, Arc<[AtomicU8]>>>,
}

/// What selects endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Matcher {
    Selector(Selector),
    Entity(super::raw::Entity),
}

/// A cache is not cloned: the clone finds its answers again.
impl Clone for Matched {
    fn clone(&self) -> Self {
        Matched::default()
    }
}

/// Not asked yet, no, yes.
const UNKNOWN: u8 = 0;
const NO: u8 = 1;
const YES: u8 = 2;

impl Matched {
    /// What `matcher` matches, by pod, of `pods` pods.
    fn of(&self, matcher: Matcher, pods: usize) -> Arc<[AtomicU8]> {
        let mut by = self
            .by
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        by.entry(matcher)
            .or_insert_with(|| {
                std::iter::repeat_with(|| AtomicU8::new(UNKNOWN))
                    .take(pods)
                    .collect()
            })
            .clone()
    }
}

/// Whether a rule matches a peer.
type PeerTest<'t> = dyn Fn(&Peer<'_>) -> bool + 't;

/// Whether endpoint `id` is matched, by `known` or else by `test` (kept in `known`).
fn known_or(known: &[AtomicU8], id: usize, test: impl FnOnce() -> bool) -> bool {
    match known[id].load(Ordering::Relaxed) {
        NO => false,
        YES => true,
        _ => {
            let matched = test();
            known[id].store(if matched { YES } else { NO }, Ordering::Relaxed);
            matched
        }
    }
}

/// The addresses of the cluster in classes no rule tells apart, whoever asks.
#[derive(Debug, Clone)]
pub(super) struct Partition {
    /// Each node's addresses (an address two nodes list is the first's).
    nodes: Vec<(usize, AddressSet)>,
    /// kube-apiserver's addresses that no node has, and whether each is outside the cluster
    /// (not in a node block).
    api: Vec<(IpAddr, bool)>,
    /// The addresses of the node blocks that no node has, less kube-apiserver's.
    unlisted: AddressSet,
    /// Every other address.
    world: AddressSet,
}

/// The peers asked about, as Cilium sees them from one subject.
struct Classes<'a> {
    /// The pods, each with its identity and named ports, and whether it is an endpoint (with
    /// the identity labels of [`Matched`]).
    pods: Vec<(usize, Peer<'a>, Vec<NamedPort<'a>>, bool)>,
    /// Whether addresses are asked about.
    addresses: bool,
    /// Each node's addresses (an address two nodes list is the first's), as a host.
    nodes: Vec<(usize, AddressSet, Peer<'a>)>,
    /// The addresses of the node blocks that no node has, less kube-apiserver's.
    unlisted: AddressSet,
    /// Them as a peer, without the address CIDR rules look at.
    unlisted_peer: Peer<'a>,
    /// kube-apiserver's addresses that no node has, each as a peer, and whether it is
    /// outside the cluster (not in a node block).
    api: Vec<(IpAddr, Peer<'a>, bool)>,
    /// Every other address.
    world: AddressSet,
    /// Them as a peer, without the address CIDR rules look at.
    world_peer: Peer<'a>,
}

impl Evaluator {
    /// The `direction` side of pod `subject` over the peers of `within`: an endpoint's, or for
    /// a pod in the host network, its node's host (host policies).
    pub(crate) fn side_sets(
        &self,
        direction: Direction,
        subject: usize,
        within: &Space,
    ) -> Option<SideSets> {
        self.sets_of(direction, self.pod_who(subject), Some(subject), within)
    }

    /// The ports the `direction` side of node `node`'s host (`None`: a node the cluster does
    /// not list) admits on connections with pod `pod`; `None` when no host policy has anything
    /// to say on that side (every port).
    pub(crate) fn node_ports(
        &self,
        direction: Direction,
        node: Option<usize>,
        pod: usize,
    ) -> Option<PortSet> {
        let me = Who::Host(node);
        let with = Space::pods([(pod, PortSet::all())]);
        let sets = self.sets_of(direction, me, None, &with)?;
        let selecting = self.selecting(me)?;
        if !has_side(&selecting, direction) && !self.always_denies(me) {
            return None;
        }
        let allowed = sets
            .allowed
            .iter()
            .fold(Space::empty(), |all, (_, _, space)| all.union(space));
        let admitted = if sets.default_deny {
            allowed.difference(&sets.denied)
        } else {
            with.difference(&sets.denied)
        };
        Some(sets.local.union(&admitted).ports_of_pod(pod))
    }

    /// The `direction` side of `me` (pod `id`, when it is one) over the peers of `within`.
    fn sets_of(
        &self,
        direction: Direction,
        me: Who<'_>,
        id: Option<usize>,
        within: &Space,
    ) -> Option<SideSets> {
        let selecting = self.selecting(me)?;
        let classes = self.classes(me, within);
        let mine = named_ports(me);
        let section = match direction {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        };
        let mut sets = SideSets {
            local: self.local_set(direction, me, id, &classes),
            ..SideSets::default()
        };
        let no_names = Names::empty();
        let requires = requirements(&selecting, direction);
        let names = if direction == Direction::Egress && classes.addresses {
            self.lookup_names(me, &selecting)
        } else {
            Names::empty()
        };
        let (mut failing_specific, mut failing_wide, mut standing) =
            (Space::default(), Space::default(), Space::default());
        for &(_, rule) in &selecting {
            let (denies, allows) = match direction {
                Direction::Ingress => (&rule.ingress_deny, &rule.ingress),
                Direction::Egress => (&rule.egress_deny, &rule.egress),
            };
            for item in denies {
                let space = self.item_space(me, direction, item, &[], &classes, &no_names, &mine);
                sets.denied = sets.denied.union(&space);
            }
            // What allow rules whose authentication never succeeds match, where theirs is the
            // connection's (see `decide`): those for some ports, and those for every port but
            // where a rule for the port sets an authentication that succeeds.
            for item in allows.iter() {
                let stands = item.sets_authentication && item.port_specific();
                if !(item.never_authenticated || stands) {
                    continue;
                }
                let space =
                    self.item_space(me, direction, item, &requires, &classes, &names, &mine);
                let held = match (item.never_authenticated, item.port_specific()) {
                    (true, true) => &mut failing_specific,
                    (true, false) => &mut failing_wide,
                    (false, _) => &mut standing,
                };
                *held = held.union(&space);
            }
        }
        sets.denied = (sets.denied)
            .union(&failing_specific)
            .union(&failing_wide.difference(&standing));
        for &(policy, rule) in &selecting {
            let items = match direction {
                Direction::Ingress => &rule.ingress,
                Direction::Egress => &rule.egress,
            };
            for item in items.iter().filter(|item| !item.never_authenticated) {
                let space =
                    self.item_space(me, direction, item, &requires, &classes, &names, &mine);
                let reference = RuleRef {
                    policy: self.policies()[policy].reference.clone(),
                    field: format!("{}.{section}[{}]", rule.field, item.index),
                };
                sets.allowed.push((reference, item.index, space));
            }
        }
        sets.default_deny = self.always_denies(me)
            || selecting.iter().any(|(_, rule)| match direction {
                Direction::Ingress => rule.default_deny_ingress,
                Direction::Egress => rule.default_deny_egress,
            });
        Some(sets)
    }

    /// Whether a rule selecting pod `id` (for a pod in the host network, its node's host) has
    /// anything to say on its `direction` side: allow or deny rules, or default deny.
    pub(crate) fn has_side(&self, direction: Direction, id: usize) -> bool {
        let me = self.pod_who(id);
        self.selecting(me)
            .is_some_and(|selecting| has_side(&selecting, direction) || self.always_denies(me))
    }

    /// What pod `id` is, as `Evaluator::who` says.
    fn pod_who(&self, id: usize) -> Who<'_> {
        let end = End::Pod(id);
        match self.who(&end) {
            Who::Endpoint(id, _) => Who::Endpoint(id, &self.cluster().pods[id]),
            Who::Host(node) => Who::Host(node),
            Who::Outside(..) | Who::Unlisted(_) => Who::Host(None),
        }
    }

    /// The addresses in classes no rule tells apart, worked out once.
    fn partition(&self) -> &Partition {
        self.partition.get_or_init(|| {
            let mut on_nodes = AddressSet::empty();
            let mut nodes = Vec::new();
            for (number, node) in self.cluster().nodes.iter().enumerate() {
                // An address two nodes list is the first's.
                let own = AddressSet::addresses(
                    (node.addresses.iter().copied()).filter(|a| !on_nodes.contains(*a)),
                );
                on_nodes = on_nodes.union(&own);
                nodes.push((number, own));
            }
            let blocks = &self.cluster().node_blocks;
            let api: Vec<(IpAddr, bool)> = (self.cluster().api_server.iter())
                .filter(|ip| !on_nodes.contains(**ip))
                .map(|&ip| (ip, !blocks.contains(ip)))
                .collect();
            let api_addresses = AddressSet::addresses(api.iter().map(|(ip, _)| *ip));
            Partition {
                unlisted: blocks.difference(&on_nodes).difference(&api_addresses),
                world: (AddressSet::all().difference(&on_nodes))
                    .difference(blocks)
                    .difference(&api_addresses),
                nodes,
                api,
            }
        })
    }

    /// The peers of `within` as `me` sees them. Only the nodes with an address in `within`
    /// are asked about: the others have nothing to add.
    fn classes<'a>(&'a self, me: Who<'a>, within: &Space) -> Classes<'a> {
        let local = self.node_of(me);
        let pods = (within.pod_ids().iter())
            .map(|id| {
                let who = self.pod_who(id);
                let endpoint = matches!(who, Who::Endpoint(..));
                (id, self.peer(who, local), named_ports(who), endpoint)
            })
            .collect();
        let partition = self.partition();
        let addresses = within.has_addresses();
        let asked = if addresses {
            (within.address_parts().iter())
                .chain(within.named_parts().flat_map(|(_, parts)| parts))
                .fold(AddressSet::empty(), |all, (set, _)| all.union(set))
        } else {
            AddressSet::empty()
        };
        let nodes = (partition.nodes.iter())
            .filter(|(_, own)| addresses && !own.intersection(&asked).is_empty())
            .map(|(number, own)| {
                let peer = self.peer(Who::Host(Some(*number)), local);
                (*number, own.clone(), peer)
            })
            .collect();
        let api = (partition.api.iter())
            .map(|&(ip, outside)| {
                let who = if outside {
                    Who::Outside(ip, None)
                } else {
                    Who::Unlisted(ip)
                };
                (ip, self.peer(who, local), outside)
            })
            .collect();
        Classes {
            pods,
            addresses,
            nodes,
            unlisted: partition.unlisted.clone(),
            unlisted_peer: Peer {
                labels: std::borrow::Cow::Owned(Labels(vec![Label::reserved("remote-node")])),
                cidr_addresses: Vec::new(),
                node: Some(&UNLISTED),
                name: None,
            },
            api,
            world: partition.world.clone(),
            world_peer: Peer {
                labels: std::borrow::Cow::Owned(Labels(vec![Label::reserved("world")])),
                cidr_addresses: Vec::new(),
                node: None,
                name: None,
            },
        }
    }

    /// What never meets policy (`Evaluator::local`): the pod with itself; a host with itself
    /// (its addresses, and pods seen as that host); on ingress of an endpoint, with
    /// `allow-localhost`, its node's host.
    fn local_set(
        &self,
        direction: Direction,
        me: Who<'_>,
        id: Option<usize>,
        classes: &Classes<'_>,
    ) -> Space {
        let mut local = Space::pods(id.map(|id| (id, PortSet::all())));
        let node = self.node_of(me);
        let host = match me {
            Who::Host(_) => true,
            Who::Endpoint(..) => direction == Direction::Ingress && self.options.allow_localhost,
            Who::Outside(..) | Who::Unlisted(_) => false,
        };
        if !host || node.is_none() {
            return local;
        }
        for (pod, _, _, _) in &classes.pods {
            if matches!(self.pod_who(*pod), Who::Host(host) if host == node) {
                local = local.union(&Space::pods([(*pod, PortSet::all())]));
            }
        }
        if classes.addresses {
            for (number, addresses, _) in &classes.nodes {
                if Some(*number) == node {
                    local = local.union(&Space::addresses(addresses.clone(), PortSet::all()));
                }
            }
        }
        local
    }

    /// What the allow or deny rule `item` of a rule selecting `me` matches among `classes`,
    /// with `requires` to hold for the peer; `names` are the names `me` may look up (for
    /// `toFQDNs`), `mine` its named ports.
    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of one side's decision"
    )]
    fn item_space(
        &self,
        me: Who<'_>,
        direction: Direction,
        item: &PeerRule,
        requires: &[&Selector],
        classes: &Classes<'_>,
        names: &Names,
        mine: &[NamedPort<'_>],
    ) -> Space {
        let allowed = |peer: &Peer<'_>| requires.iter().all(|s| s.matches(&peer.labels));
        let matches = |peer: &Peer<'_>| {
            allowed(peer)
                && match &item.peers {
                    Peers::All => true,
                    Peers::Nothing => false,
                    Peers::Any(list) => list.iter().any(|p| self.peer_matches(me, p, peer)),
                }
        };
        let destination = |theirs: &[NamedPort<'_>]| match direction {
            Direction::Egress => port_set(&item.ports, theirs),
            Direction::Ingress => port_set(&item.ports, mine),
        };
        let endpoint_matches = self.endpoint_matcher(me, item, requires);
        let matched = (classes.pods.iter()).filter(|(id, peer, _, endpoint)| {
            if *endpoint {
                endpoint_matches(*id, peer)
            } else {
                matches(peer)
            }
        });
        // Ports the peers name differently only on egress, and only by name.
        let mut space = if direction == Direction::Egress && has_named(&item.ports) {
            Space::pods(matched.map(|(id, _, named, _)| (*id, destination(named))))
        } else {
            let ports = destination(&[]);
            let pods = if ports.is_empty() {
                PodSet::default()
            } else {
                matched.map(|(id, _, _, _)| *id).collect()
            };
            Space::product(&pods, AddressSet::empty(), &ports)
        };
        let ports = destination(&[]);
        if !classes.addresses || ports.is_empty() {
            return space;
        }
        let addresses = self.item_addresses(me, item, requires, &matches, classes);
        space = space.union(&Space::addresses(addresses, ports.clone()));
        if let Peers::Any(list) = &item.peers {
            space = space.union(&self.fqdn_space(list, requires, classes, names, ports));
        }
        space
    }

    /// The addresses (of the classes of `classes`) that `item` matches, where `requires` hold
    /// (`matches` tells whether a peer is matched with them).
    fn item_addresses(
        &self,
        me: Who<'_>,
        item: &PeerRule,
        requires: &[&Selector],
        matches: &PeerTest<'_>,
        classes: &Classes<'_>,
    ) -> AddressSet {
        let allowed = |peer: &Peer<'_>| requires.iter().all(|s| s.matches(&peer.labels));
        let mut addresses = AddressSet::empty();
        for (_, set, peer) in &classes.nodes {
            if matches(peer) {
                addresses = addresses.union(set);
            }
        }
        for (ip, peer, _) in &classes.api {
            if matches(peer) {
                addresses = addresses.union(&AddressSet::address(*ip));
            }
        }
        let unlisted = &classes.unlisted;
        if matches(&classes.unlisted_peer) {
            addresses = addresses.union(unlisted);
        } else if self.options.cidr_match_nodes
            && allowed(&classes.unlisted_peer)
            && let Peers::Any(list) = &item.peers
        {
            for peer in list {
                if let RulePeer::Cidrs(set) = peer {
                    addresses = addresses.union(&set.intersection(unlisted));
                }
            }
        }
        let world = &classes.world;
        if allowed(&classes.world_peer) {
            match &item.peers {
                Peers::All => addresses = addresses.union(world),
                Peers::Nothing => {}
                Peers::Any(list) => {
                    for peer in list {
                        match peer {
                            RulePeer::Cidrs(set) => {
                                addresses = addresses.union(&set.intersection(world));
                            }
                            RulePeer::Fqdns(_) => {}
                            other if self.peer_matches(me, other, &classes.world_peer) => {
                                addresses = addresses.union(world);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        addresses
    }

    /// [`Evaluator::item_space`]'s test of an endpoint (by pod and identity): whether `item`
    /// matches it, with `requires` holding. Only endpoint selectors and entities match an
    /// endpoint, and their answers are kept ([`Matched`]).
    fn endpoint_matcher<'s>(
        &'s self,
        me: Who<'s>,
        item: &'s PeerRule,
        requires: &'s [&'s Selector],
    ) -> impl Fn(usize, &Peer<'_>) -> bool + 's {
        let pods = self.cluster().pods.len();
        let known_requires: Vec<Arc<[AtomicU8]>> = (requires.iter())
            .map(|s| self.matched.of(Matcher::Selector((*s).clone()), pods))
            .collect();
        let known_peers: Vec<Option<Arc<[AtomicU8]>>> = match &item.peers {
            Peers::Any(list) => (list.iter())
                .map(|peer| match peer {
                    RulePeer::Endpoints(s) => {
                        Some(self.matched.of(Matcher::Selector(s.clone()), pods))
                    }
                    RulePeer::Entities(e) => Some(self.matched.of(Matcher::Entity(*e), pods)),
                    _ => None,
                })
                .collect(),
            Peers::All | Peers::Nothing => Vec::new(),
        };
        move |id: usize, peer: &Peer<'_>| {
            let allowed = (requires.iter().zip(&known_requires))
                .all(|(s, known)| known_or(known, id, || s.matches(&peer.labels)));
            allowed
                && match &item.peers {
                    Peers::All => true,
                    Peers::Nothing => false,
                    Peers::Any(list) => (list.iter().zip(&known_peers)).any(|(p, known)| {
                        let test = || self.peer_matches(me, p, peer);
                        known
                            .as_ref()
                            .map_or_else(test, |known| known_or(known, id, test))
                    }),
                }
        }
    }

    /// What the `toFQDNs` peers among `list` admit: the addresses outside the cluster (where
    /// `requires` hold) on `ports`, looked up by a name that they and `names` allow.
    fn fqdn_space(
        &self,
        list: &[RulePeer],
        requires: &[&Selector],
        classes: &Classes<'_>,
        names: &Names,
        ports: PortSet,
    ) -> Space {
        let patterns: Vec<Pattern> = list
            .iter()
            .filter_map(|peer| match peer {
                RulePeer::Fqdns(fqdns) => Some(fqdns),
                _ => None,
            })
            .flatten()
            .map(|fqdn| self.pattern(fqdn))
            .collect();
        if patterns.is_empty() || names.is_empty() {
            return Space::empty();
        }
        let admitted = Names::of(patterns).intersection(names);
        let allowed = |peer: &Peer<'_>| requires.iter().all(|s| s.matches(&peer.labels));
        let mut outside = if allowed(&classes.world_peer) {
            classes.world.clone()
        } else {
            AddressSet::empty()
        };
        for (ip, peer, _) in classes.api.iter().filter(|(_, _, outside)| *outside) {
            if allowed(peer) {
                outside = outside.union(&AddressSet::address(*ip));
            }
        }
        Space::named(admitted, outside, ports)
    }

    /// A name or pattern of `toFQDNs` or of DNS rules as a pattern of the sets.
    fn pattern(&self, fqdn: &Fqdn) -> Pattern {
        match fqdn {
            Fqdn::Name(name) => Pattern::Name(name.clone()),
            Fqdn::Pattern(pattern) if pattern == "*" => Pattern::Any,
            Fqdn::Pattern(pattern) => match pattern.strip_prefix("**.") {
                Some(rest) if self.options.patterns.double_star => Pattern::Below(rest.into()),
                _ => Pattern::Glob(pattern.clone()),
            },
        }
    }

    /// The names `me` may look up through Cilium's DNS proxy: the set that
    /// `Evaluator::lookup_allowed` tests one name against, server by server.
    pub(super) fn lookup_names(&self, me: Who<'_>, selecting: &Selecting<'_>) -> Names {
        // What the rules selecting `me` let it look up depends on `me` only through those
        // rules and, where a DNS server is a node's host, its node: asked once for each.
        let on_hosts =
            (self.cluster().dns.iter()).any(|s| matches!(self.who(&s.end), Who::Host(_)));
        let key = (
            (selecting.iter())
                .map(|(policy, rule)| {
                    let rules = &self.policies()[*policy].rules;
                    (
                        *policy,
                        rules
                            .iter()
                            .position(|r| std::ptr::eq(r, *rule))
                            .unwrap_or(usize::MAX),
                    )
                })
                .collect::<Vec<_>>(),
            on_hosts.then(|| self.node_of(me)).flatten(),
        );
        let lookups = &self.lookups.0;
        if let Some(names) = lookups
            .lock()
            .ok()
            .and_then(|known| known.get(&key).cloned())
        {
            return names;
        }
        let names = self.lookup_names_of(me, selecting);
        if let Ok(mut known) = lookups.lock() {
            known.insert(key, names.clone());
        }
        names
    }

    /// [`Evaluator::lookup_names`], worked out.
    fn lookup_names_of(&self, me: Who<'_>, selecting: &Selecting<'_>) -> Names {
        let requires: Vec<&Selector> = selecting
            .iter()
            .flat_map(|(_, rule)| requires(rule, Direction::Egress))
            .collect();
        let mut all = Names::empty();
        for server in &self.cluster().dns {
            let who = self.who(&server.end);
            if matches!(who, Who::Outside(_, Some(_))) {
                continue;
            }
            let named = named_ports(who);
            let port = Port {
                number: server.port,
                protocol: Protocol::Udp,
                named: &named,
            };
            let peer = self.peer(who, self.node_of(me));
            let denied = selecting.iter().any(|(_, rule)| {
                rule.egress_deny
                    .iter()
                    .any(|item| self.rule_matches(me, item, &peer, port, &[]))
            });
            if denied {
                continue;
            }
            let (mut proxied, mut every, mut names) = (false, false, Names::empty());
            for (_, _, item) in
                self.admitting(me, selecting, Direction::Egress, &peer, port, &requires)
            {
                match &item.ports {
                    Ports::Items(items) => {
                        for port_item in items.iter().filter(|i| item_matches(i, port)) {
                            match &port_item.dns {
                                Some(list) => {
                                    proxied = true;
                                    let more = list.iter().map(|f| self.pattern(f));
                                    names = names.union(&Names::of(more));
                                }
                                None => every = true,
                            }
                        }
                    }
                    Ports::All => every = true,
                    Ports::Icmp => {}
                }
            }
            if proxied {
                all = all.union(&if every { Names::any() } else { names });
            }
        }
        all
    }
}

/// Whether a rule of `selecting` has allow or deny rules for `direction`, or default deny.
fn has_side(selecting: &Selecting<'_>, direction: Direction) -> bool {
    selecting.iter().any(|(_, rule)| match direction {
        Direction::Ingress => {
            rule.default_deny_ingress || !rule.ingress.is_empty() || !rule.ingress_deny.is_empty()
        }
        Direction::Egress => {
            rule.default_deny_egress || !rule.egress.is_empty() || !rule.egress_deny.is_empty()
        }
    })
}

/// The ports `ports` admit to a destination with the named ports `named`.
/// Whether `ports` name a port, which each destination resolves.
fn has_named(ports: &Ports) -> bool {
    match ports {
        Ports::All | Ports::Icmp => false,
        Ports::Items(items) => (items.iter())
            .flat_map(|item| &item.ports)
            .any(|port| matches!(port.port, PortSpec::Named(_))),
    }
}

fn port_set(ports: &Ports, named: &[NamedPort<'_>]) -> PortSet {
    let items = match ports {
        Ports::All => return PortSet::all(),
        Ports::Icmp => return PortSet::empty(),
        Ports::Items(items) => items,
    };
    let mut set = PortSet::empty();
    for item in items {
        if item.ports.is_empty() {
            return PortSet::all();
        }
        for port in &item.ports {
            for protocol in PROTOCOLS {
                if !port.protocols.contains(protocol) {
                    continue;
                }
                let more = match &port.port {
                    PortSpec::All => PortSet::every_port(protocol),
                    PortSpec::Range(first, last) => PortSet::ports(protocol, *first, *last),
                    PortSpec::Named(name) => named
                        .iter()
                        .filter(|&&(n, _, p)| n.eq_ignore_ascii_case(name) && p == protocol)
                        .fold(PortSet::empty(), |all, &(_, number, _)| {
                            all.union(&PortSet::port(protocol, number))
                        }),
                };
                set = set.union(&more);
            }
        }
    }
    set
}
