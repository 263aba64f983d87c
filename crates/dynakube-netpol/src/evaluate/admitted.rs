//! What NetworkPolicies admit, as sets: for one pod and direction, every rule's peers and
//! ports ([`Index::admits`]), and the ports one side admits for a given peer
//! ([`Index::admitted_ports`]). Together they give exactly the connections
//! [`Index::evaluate`] allows, without trying any.
//!
//! The semantics are the evaluator's (see the [module](super) documentation), following the
//! Kubernetes documentation (<https://kubernetes.io/docs/concepts/services-networking/network-policies/>)
//! and the API reference
//! (<https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/>):
//!
//! - An isolated side admits the union of the rules of the policies isolating it; each rule
//!   admits its peers times its ports. A side that no policy isolates admits everything.
//! - A rule without `to`/`from` admits every pod and every address; without `ports`, every port
//!   of every protocol; a port without `port` every port of its protocol; `endPort` makes a
//!   range.
//! - `ipBlock` admits addresses (its `cidr` less its `except` holes), never pods: this is the
//!   choice the evaluator documents for what the specification leaves to the plugin ("ipBlock
//!   ... cluster-external IPs", "may or may not be subject to ipBlock policies"). Pods seen by
//!   their addresses (hostNetwork pods, by default) are addresses here too.
//! - A named port is resolved on the destination pod ("`port` ... can either be a numerical or
//!   named port on a pod"): for egress on each destination pod, for ingress on the pod itself;
//!   it never matches an address.

use std::fmt;

use super::compile::{Namespaces, PeerMatch, Policy, PortMatch, PortSpec, Rule};
use super::decision::Dialect;
use super::sets::{AddressSet, PodSet, PortSet, Space};
use super::{ConnectionEnd, Index, NodeId, PodId, PodInfo, View, rules_of};
use crate::matrix::Direction;

/// One rule of a policy: the policy, the direction, the rule's index in its list and its
/// field. Displayed as `namespace/name spec.egress[0]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RuleRef {
    /// The policy, in words: `namespace/name` for a NetworkPolicy (as verify has always named
    /// them), `ClusterNetworkPolicy name` for a ClusterNetworkPolicy,
    /// `CiliumNetworkPolicy namespace/name` and `CiliumClusterwideNetworkPolicy name` for
    /// Cilium's.
    pub(crate) policy: String,
    /// Whether the rule is an ingress or an egress rule.
    pub(crate) direction: Direction,
    /// Its index in its list (`spec.ingress`, `spec.egress`, a Cilium rule's `egress`).
    pub(crate) index: usize,
    /// The kind of the policy.
    pub(crate) dialect: Dialect,
    /// The field of the rule in its policy: `spec.egress[0]`, or for a Cilium policy of
    /// several rules `specs[1].egress[0]`.
    pub(crate) field: String,
}

impl RuleRef {
    /// Rule `index` of `spec.ingress` or `spec.egress` (`direction`) of `policy` (in words),
    /// a policy of `dialect`.
    pub(crate) fn new(
        dialect: Dialect,
        policy: String,
        direction: Direction,
        index: usize,
    ) -> Self {
        RuleRef {
            field: format!("spec.{}[{index}]", direction.name()),
            policy,
            direction,
            index,
            dialect,
        }
    }
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.policy, self.field)
    }
}

/// What one side of a pod admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admits {
    /// The pod is not subject to policy (a hostNetwork pod seen as its node's addresses, which
    /// no host policy of Cilium's selects on this side): no policy can restrict it.
    NotSubject,
    /// No policy isolates the pod in this direction: every connection is admitted.
    NotIsolated,
    /// The pod is isolated; each rule of the isolating policies (in input order) admits its
    /// set. A connection several rules admit is in each of their sets.
    Rules(Vec<(RuleRef, Space)>),
    /// ClusterNetworkPolicies take part: the connections each deciding rule allows through the
    /// tiers, and those no tier decides (allowed by default) without a rule.
    Tiers(Vec<(Option<RuleRef>, Space)>),
}

impl Index {
    /// What the `direction` side of pod `id` admits: for egress, the destinations and their
    /// ports; for ingress, the sources and the pod's ports. Only this side is considered: a
    /// connection also needs the other end's side (see [`Index::admitted_ports`]).
    ///
    /// # Panics
    ///
    /// When `id` is not a pod of this index.
    pub(crate) fn admits(&self, id: PodId, direction: Direction) -> Admits {
        self.admits_within(id, direction, None)
    }

    /// [`Index::admits`] of the connections with `within` only, when given: every set is a
    /// part of it.
    ///
    /// # Panics
    ///
    /// When `id` is not a pod of this index.
    pub(crate) fn admits_within(
        &self,
        id: PodId,
        direction: Direction,
        within: Option<&Space>,
    ) -> Admits {
        let info = &self.infos[id];
        let universe = || within.map_or_else(|| self.everything(), Space::clone);
        if info.by_address {
            // Only Cilium's host policies select a pod in the host network (its node's host).
            return match &self.namespaced {
                Some(dialect) if dialect.has_side(direction, id) => {
                    Admits::Tiers(self.allowed_in_tiers(id, direction, universe()))
                }
                _ => Admits::NotSubject,
            };
        }
        if self.has_other_dialects() {
            return Admits::Tiers(self.allowed_in_tiers(id, direction, universe()));
        }
        let isolating = match direction {
            Direction::Ingress => &info.ingress,
            Direction::Egress => &info.egress,
        };
        if isolating.is_empty() {
            return Admits::NotIsolated;
        }
        let mut rules = Vec::new();
        let few = Among::few_of(self, within);
        for &number in isolating {
            let policy = &self.policies[number as usize];
            for (index, rule) in rules_of(policy, direction).iter().enumerate() {
                let reference = RuleRef::new(
                    Dialect::Kubernetes,
                    policy.reference.to_string(),
                    direction,
                    index,
                );
                let space =
                    self.rule_space(policy, rule, direction, (info, Among::of(few.as_ref())));
                let space = match within {
                    Some(within) => space.intersection(within),
                    None => space,
                };
                rules.push((reference, space));
            }
        }
        Admits::Rules(rules)
    }

    /// The ports that the `direction` side of pod `id` admits on connections whose other end
    /// is `other`: every port when the pod is not isolated in that direction or not subject to
    /// policy.
    ///
    /// # Panics
    ///
    /// When `id`, or `other` as a pod, is not a pod of this index.
    pub(crate) fn admitted_ports(
        &self,
        id: PodId,
        direction: Direction,
        other: &ConnectionEnd,
    ) -> PortSet {
        let info = &self.infos[id];
        if self.has_other_dialects() && !info.by_address {
            return self.ports_in_tiers(id, direction, other);
        }
        let isolating = match direction {
            Direction::Ingress => &info.ingress,
            Direction::Egress => &info.egress,
        };
        if info.by_address || isolating.is_empty() {
            return PortSet::all();
        }
        let other_view = self.view(other);
        // Named ports resolve on the destination, when it is a pod seen as a pod.
        let destination = match (direction, other_view) {
            (Direction::Ingress, _) => Some(info),
            (Direction::Egress, View::Pod(_, pod)) => Some(pod),
            (Direction::Egress, View::Addresses(..)) => None,
        };
        let mut ports = PortSet::empty();
        for &number in isolating {
            let policy = &self.policies[number as usize];
            for rule in rules_of(policy, direction) {
                if self.peers_admit(policy, rule, other_view) {
                    ports = ports.union(&ports_set(rule.ports.as_deref(), destination));
                }
            }
        }
        ports
    }

    /// The ports the `direction` side of node `node`'s host network (`None`: a node the
    /// cluster does not list, at an address of [`Index::unlisted_nodes`]) admits on connections
    /// with pod `pod`, as the plugin's host policies decide (Cilium's); `None` when nothing
    /// restricts it (every port: NetworkPolicies and ClusterNetworkPolicies select no node).
    ///
    /// # Panics
    ///
    /// When `node` or `pod` is not one of this index.
    pub(crate) fn node_admitted_ports(
        &self,
        node: Option<NodeId>,
        direction: Direction,
        pod: PodId,
    ) -> Option<PortSet> {
        self.namespaced.as_ref()?.node_ports(direction, node, pod)
    }

    /// [`Index::admitted_ports`] through the tiers of ClusterNetworkPolicies.
    fn ports_in_tiers(&self, id: PodId, direction: Direction, other: &ConnectionEnd) -> PortSet {
        let (universe, pod, ips) = match self.view(other) {
            View::Pod(peer, _) => (Space::pods([(peer, PortSet::all())]), Some(peer), &[][..]),
            View::Addresses(ips, _) => (
                Space::addresses(AddressSet::addresses(ips.iter().copied()), PortSet::all()),
                None,
                ips,
            ),
        };
        let allowed = self
            .allowed_in_tiers(id, direction, universe)
            .into_iter()
            .fold(Space::empty(), |all, (_, space)| all.union(&space));
        match pod {
            Some(peer) => allowed.ports_of_pod(peer),
            None => allowed
                .address_parts()
                .iter()
                .filter(|(set, _)| ips.iter().any(|ip| set.contains(*ip)))
                .fold(PortSet::empty(), |all, (_, ports)| all.union(ports)),
        }
    }

    /// The addresses that stand for nodes the cluster does not list: those of its node blocks
    /// that no node has.
    pub(crate) fn unlisted_nodes(&self) -> &AddressSet {
        &self.unlisted_nodes
    }

    /// Every connection with any peer: every pod seen as a pod and every address, on every
    /// port.
    pub(crate) fn everything(&self) -> Space {
        Space::product(&self.pod_peers(), AddressSet::all(), &PortSet::all())
    }

    /// The pods that are peers as pods (not by their addresses).
    pub(crate) fn pod_peers(&self) -> PodSet {
        (0..self.pods.len())
            .filter(|&id| !self.infos[id].by_address)
            .collect()
    }

    /// What `rule` of `policy` admits for the pod `subject` in `direction`.
    pub(super) fn rule_space(
        &self,
        policy: &Policy,
        rule: &Rule,
        direction: Direction,
        (subject, among): (&PodInfo, Among<'_>),
    ) -> Space {
        let (pods, addresses) = self.rule_peers(policy, rule, among);
        self.space(&pods, addresses, rule.ports.as_deref(), direction, subject)
    }

    /// The connections with `pods` and `addresses` on `ports` (every port when `None`) that a
    /// rule of `direction` admits for the pod `subject`.
    pub(super) fn space(
        &self,
        pods: &PodSet,
        addresses: AddressSet,
        ports: Option<&[PortMatch]>,
        direction: Direction,
        subject: &PodInfo,
    ) -> Space {
        match direction {
            // The subject is the destination: its named ports, whatever the source.
            Direction::Ingress => Space::product(pods, addresses, &ports_set(ports, Some(subject))),
            // Each destination pod resolves the rule's named ports; addresses have none.
            Direction::Egress => {
                let named = ports
                    .into_iter()
                    .flatten()
                    .any(|p| matches!(p.port, PortSpec::Named(_)));
                let fixed = ports_set(ports, None);
                if !named {
                    return Space::product(pods, addresses, &fixed);
                }
                let per_pod = (pods.iter()).map(|id| (id, ports_set(ports, Some(&self.infos[id]))));
                Space::pods(per_pod).union(&Space::addresses(addresses, fixed))
            }
        }
    }

    /// The pods (seen as pods) and addresses an address block matches on this plugin: its
    /// addresses (less node addresses where the plugin matches no node), and the pods with an
    /// address in it where the plugin matches pods.
    pub(super) fn block_peers(
        &self,
        reach: super::plugin::Reach,
        set: AddressSet,
        among: Among<'_>,
    ) -> (Vec<PodId>, AddressSet) {
        let addresses = if reach.nodes {
            set
        } else {
            set.difference(&self.node_set)
        };
        let pods = if reach.pods {
            (among.pods(self))
                .filter(|&id| {
                    !self.infos[id].by_address
                        && self.pods[id].ips.iter().any(|ip| addresses.contains(*ip))
                })
                .collect()
        } else {
            Vec::new()
        };
        (pods, addresses)
    }

    /// The pods of `among` (seen as pods) that a peer selects: in its `namespaces` (the
    /// policy's own, when it has one, for [`Namespaces::Own`]) and matched by `selector`.
    pub(super) fn selected_among<'s>(
        &'s self,
        among: Among<'s>,
        (namespaces, own): (&'s Namespaces, Option<usize>),
        selector: &'s super::labels::Selector,
    ) -> impl Iterator<Item = PodId> + 's {
        among.pods(self).filter(move |&id| {
            let info = &self.infos[id];
            let namespace = match namespaces {
                Namespaces::Own => Some(info.namespace) == own,
                Namespaces::All => true,
                Namespaces::Set(set) => set.contains(info.namespace),
            };
            namespace && !info.by_address && selector.matches(&info.labels)
        })
    }

    /// The pods (seen as pods) and the addresses that the peers of `rule` in `policy` match.
    fn rule_peers(&self, policy: &Policy, rule: &Rule, among: Among<'_>) -> (PodSet, AddressSet) {
        let Some(peers) = &rule.peers else {
            let pods = match among {
                Among::All => self.pod_peers(),
                Among::Pods(_) => (among.pods(self))
                    .filter(|&id| !self.infos[id].by_address)
                    .collect(),
            };
            return (pods, AddressSet::all());
        };
        let mut pods = Vec::new();
        let mut addresses = AddressSet::empty();
        for peer in peers {
            match peer {
                PeerMatch::Pods {
                    namespaces,
                    pods: selector,
                } if matches!(among, Among::Pods(_)) => {
                    let scope = (namespaces, Some(policy.namespace));
                    pods.extend(self.selected_among(among, scope, selector));
                }
                PeerMatch::Pods {
                    namespaces,
                    pods: selector,
                } => {
                    let in_namespace: Box<dyn Iterator<Item = &PodId>> = match namespaces {
                        Namespaces::Own => Box::new(self.namespace_pods[policy.namespace].iter()),
                        Namespaces::All => Box::new(self.namespace_pods.iter().flatten()),
                        Namespaces::Set(set) => Box::new(
                            self.namespace_pods
                                .iter()
                                .enumerate()
                                .filter(|(namespace, _)| set.contains(*namespace))
                                .flat_map(|(_, ids)| ids),
                        ),
                    };
                    pods.extend(in_namespace.copied().filter(|&id| {
                        let info = &self.infos[id];
                        !info.by_address && selector.matches(&info.labels)
                    }));
                }
                PeerMatch::Block(block) => {
                    let set = AddressSet::block(&block.cidr, &block.except);
                    let (more, set) = self.block_peers(self.behaviour.ip_block, set, among);
                    pods.extend(more);
                    addresses = addresses.union(&set);
                }
            }
        }
        (pods.into_iter().collect(), addresses)
    }
}

/// The pods a set computed for a universe of connections may hold: every pod, or when the
/// universe has few pods, those (the rest is cut away after).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Among<'a> {
    /// Every pod.
    All,
    /// These, by id.
    Pods(&'a PodSet),
}

impl<'a> Among<'a> {
    /// Whether `within` has few pods: an eighth of the cluster's or fewer, which are faster
    /// gone through than the pods of the namespaces a peer selects.
    pub(crate) fn few(index: &Index, within: &Space) -> bool {
        within.pod_count() * 8 < index.pods.len()
    }

    /// The pods of `within`, when it has few: for [`Among::of`].
    pub(crate) fn few_of(index: &Index, within: Option<&Space>) -> Option<PodSet> {
        within
            .filter(|within| Among::few(index, within))
            .map(Space::pod_ids)
    }

    /// `few` (of [`Among::few_of`]), or every pod.
    pub(crate) fn of(few: Option<&'a PodSet>) -> Self {
        few.map_or(Among::All, Among::Pods)
    }

    /// The pods, by id.
    pub(crate) fn pods(self, index: &Index) -> Box<dyn Iterator<Item = PodId> + 'a> {
        match self {
            Among::All => Box::new(0..index.pods.len()),
            Among::Pods(set) => Box::new(set.iter()),
        }
    }
}

/// The ports `ports` (every port when `None`) admit to `destination` (a pod seen as a pod, or
/// `None` for an address).
pub(super) fn ports_set(ports: Option<&[PortMatch]>, destination: Option<&PodInfo>) -> PortSet {
    let Some(ports) = ports else {
        return PortSet::all();
    };
    let mut set = PortSet::empty();
    for port in ports {
        let protocol = port.protocol;
        match port.port {
            PortSpec::Any => set = set.union(&PortSet::every_port(protocol)),
            PortSpec::Range(first, last) => {
                set = set.union(&PortSet::ports(protocol, first, last));
            }
            PortSpec::Named(name) => {
                for &(n, number, p) in destination.map_or(&[][..], |d| &d.named_ports) {
                    if n == name && p == protocol {
                        set = set.union(&PortSet::port(protocol, number));
                    }
                }
            }
        }
    }
    set
}

/// What the benchmarks measure of the sets, without the sets in the public API.
#[cfg(feature = "internals")]
impl Index {
    /// How many rules admit something, over every pod in both directions: the work of
    /// [`Index::admits`] for the whole cluster.
    #[doc(hidden)]
    pub fn count_admitting_rules(&self) -> usize {
        let mut rules = 0;
        for id in 0..self.pods().len() {
            for direction in [Direction::Egress, Direction::Ingress] {
                match self.admits(id, direction) {
                    Admits::Rules(admitted) => rules += admitted.len(),
                    Admits::Tiers(admitted) => rules += admitted.len(),
                    Admits::NotSubject | Admits::NotIsolated => {}
                }
            }
        }
        rules
    }

    /// How many pods' ingress admits some port from `source`: the work of
    /// [`Index::admitted_ports`] for every pod.
    #[doc(hidden)]
    pub fn count_admitting_pods(&self, source: &ConnectionEnd) -> usize {
        (0..self.pods().len())
            .filter(|&id| {
                !self
                    .admitted_ports(id, Direction::Ingress, source)
                    .is_empty()
            })
            .count()
    }
}
