//! What the policies allow from and to the Dynatrace pods beyond the matrix, computed exactly:
//! for each Dynatrace pod and direction, every rule's set of peers and ports, less what the
//! other end refuses, less what the matrix needs. Nothing is sampled.
//!
//! A connection is allowed when the source's egress side and the destination's ingress side
//! both admit it (<https://kubernetes.io/docs/concepts/services-networking/network-policies/>:
//! "both the egress policy on the source pod and the ingress policy on the destination pod need
//! to allow the connection"). So the egress rules of a Dynatrace pod are cut by what each
//! destination pod's ingress admits, and its ingress rules by what each source pod's egress
//! admits; addresses have no side of their own, but a node's, whose host network Cilium's host
//! policies may restrict (an address of the cluster's node blocks that no node has is such a
//! host too, of a node the cluster does not list). A direction that no policy isolates admits everything: its extras are
//! the whole space less what the matrix needs, reported without a policy.
//!
//! A pod's connections to itself are left out: they never leave the pod, and plugins admit
//! them whatever the policies say (so is what Cilium always allows, a node to its own pods).
//! Pods of one namespace with the same labels and ports (and, where Cilium's policies take
//! part, service account) are treated alike by every policy and every flow, so they are
//! computed once, as a group. Where Cilium's policies take part, a pod's node changes how the
//! ends on its node are seen (its node is `host` to it, the others `remote-node`), and nothing
//! else ([`Index::node_key`] names the exceptions, which keep pods on other nodes apart): so the
//! group is computed once for its first pod, and again for each other pod only over the
//! neighbourhood of the two pods' nodes (their addresses and the pods on them), which replaces
//! the first pod's result there; for pods outside the host network, only the two nodes'
//! addresses, what a pod admits of its own node's being the same on every node of one class
//! (`Endpoints`). Pods whose results are then equal are reported together.
//!
//! What a pod's side cannot tell apart it admits alike: its rules are asked of one pod of each
//! class (`evaluate/classes.rs`) and every address, and what they admit of the one is given to
//! the others; the other end is asked only of what the matrix does not need.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use super::place::{Members, Places, Role};
use super::report::{AddressBlock, Extra, Peers};
use crate::evaluate::sets::{AddressSet, Names, Pattern, PodSet, PortSet, Space};
use crate::evaluate::{Admits, ConnectionEnd, EndKey, Index, NodeId, NodeKey, PodId, RuleRef};
use crate::matrix::{Direction, Endpoint, Flow, Matrix, Protocol};
use crate::values::{Host, HostPattern};

/// The extras of every group of Dynatrace pods, grouped by direction, policy and rule.
///
/// Two threads, each with the places `places` makes, take the groups and directions in turn,
/// each the next one not taken: a direction of some groups takes much longer than others.
pub(super) fn extras<'a>(
    matrix: &'a Matrix,
    index: &'a Index,
    places: &(dyn Fn() -> Places<'a> + Sync),
) -> Vec<Extra> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let near = Neighbourhoods::new(index);
    let classes = PodClasses::new(index);
    let (near, classes) = (&near, &classes);
    let next = AtomicUsize::new(0);
    let next = &next;
    let mut found: Vec<Extra> = std::thread::scope(|scope| {
        let threads = [(); 2].map(|()| {
            scope.spawn(move || {
                let places = places();
                let members = members(matrix, &places);
                let context = Context {
                    matrix,
                    index,
                    places: &places,
                    members: &members,
                    near,
                    classes,
                };
                let groups = dynatrace_groups(matrix, index, &places, true);
                let directions = [Direction::Egress, Direction::Ingress];
                let mut found = Vec::new();
                loop {
                    let task = next.fetch_add(1, Ordering::Relaxed);
                    let Some(group) = groups.get(task / 2) else {
                        break;
                    };
                    found.extend(beyond(&context, group, directions[task % 2]));
                }
                found
            })
        });
        (threads.into_iter())
            .flat_map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    found.sort();
    found
}

/// What computing the extras of a group needs.
struct Context<'a> {
    matrix: &'a Matrix,
    index: &'a Index,
    places: &'a Places<'a>,
    members: &'a AllMembers<'a>,
    near: &'a Neighbourhoods,
    classes: &'a PodClasses,
}

/// The pods seen as pods, by the class of pods the evaluator cannot tell apart
/// (`evaluate/classes.rs`).
struct PodClasses {
    /// The members of each class, by id.
    members: Vec<Vec<PodId>>,
    /// The class of each pod seen as a pod, by id.
    class: Vec<Option<usize>>,
}

impl PodClasses {
    fn new(index: &Index) -> Self {
        let mut numbers: foldhash::HashMap<EndKey, usize> = foldhash::HashMap::default();
        let mut members: Vec<Vec<PodId>> = Vec::new();
        let mut class = vec![None; index.pods().len()];
        for id in index.pod_peers().iter() {
            let key = index.end_key(&ConnectionEnd::Pod(id), false);
            let next = members.len();
            let number = *numbers.entry(key).or_insert(next);
            if number == next {
                members.push(Vec::new());
            }
            members[number].push(id);
            class[id] = Some(number);
        }
        PodClasses { members, class }
    }

    /// A pod of each class, other than `subject` (which a pod's side sees as itself).
    fn representatives(&self, subject: PodId) -> PodSet {
        (self.members.iter())
            .filter_map(|members| members.iter().copied().find(|&id| id != subject))
            .collect()
    }

    /// `space`, of representatives, with every pod of each representative's class.
    fn expand(&self, space: &Space) -> Space {
        // The classes are apart, and so are the sets of their members.
        space.map_pod_sets(|set| {
            (set.iter())
                .flat_map(|id| self.class[id].map_or(&[][..], |class| &self.members[class]))
                .copied()
                .collect()
        })
    }
}

/// The pods on each node and each node's addresses, to find the neighbourhood of nodes.
struct Neighbourhoods {
    /// The pods seen as pods on each node, by [`NodeId`].
    pods: Vec<Vec<PodId>>,
    /// Each node's addresses (an address two nodes list is the first's) and those of the
    /// pods in the host network on it.
    addresses: Vec<AddressSet>,
    /// Each node's addresses (an address two nodes list is the first's).
    own: Vec<Vec<IpAddr>>,
    /// Whether pods in the host network are seen as pods (`HostNetwork::Pod`), which Cilium
    /// sees as their node's host all the same.
    host_pods_as_pods: bool,
}

impl Neighbourhoods {
    fn new(index: &Index) -> Self {
        let mut pods = vec![Vec::new(); index.nodes().len()];
        let own = node_addresses(index);
        let mut addresses: Vec<AddressSet> = (own.iter())
            .map(|ips| AddressSet::addresses(ips.iter().copied()))
            .collect();
        let peers = index.pod_peers();
        let host_pods_as_pods = (index.pods().iter().enumerate())
            .any(|(id, pod)| pod.host_network && peers.contains(id));
        for (id, pod) in index.pods().iter().enumerate() {
            let Some(node) = node_of(index, id) else {
                continue;
            };
            if peers.contains(id) {
                pods[node].push(id);
            } else {
                let own = AddressSet::addresses(pod.ips.iter().copied());
                addresses[node] = addresses[node].union(&own);
            }
        }
        Neighbourhoods {
            pods,
            addresses,
            own,
            host_pods_as_pods,
        }
    }

    /// The addresses of node `node` (an address two nodes list is the first's).
    fn own_addresses(&self, node: NodeId) -> AddressSet {
        AddressSet::addresses(self.own[node].iter().copied())
    }

    /// Everything on the nodes `nodes`, and the pods `pods`, on every port.
    fn of(&self, nodes: &[NodeId], pods: &[PodId]) -> Space {
        let mut all = Space::pods(pods.iter().map(|&id| (id, PortSet::all())));
        for node in nodes {
            let on = Space::pods(self.pods[*node].iter().map(|&id| (id, PortSet::all())));
            let addresses = Space::addresses(self.addresses[*node].clone(), PortSet::all());
            all = all.union(&on).union(&addresses);
        }
        all
    }
}

/// Each node's addresses, an address two nodes list the first's.
pub(super) fn node_addresses(index: &Index) -> Vec<Vec<IpAddr>> {
    let mut on_nodes = std::collections::HashSet::new();
    (index.nodes().iter())
        .map(|node| {
            (node.addresses.iter().copied())
                .filter(|a| on_nodes.insert(*a))
                .collect()
        })
        .collect()
}

/// The node pod `id` runs on, when the cluster lists it.
fn node_of(index: &Index, id: PodId) -> Option<NodeId> {
    (index.pods()[id].node.as_deref()).and_then(|name| index.node_id(name))
}

/// The members of every endpoint of the matrix, at each end where a flow has it.
pub(super) type AllMembers<'a> = BTreeMap<(&'a Endpoint, Role), Members>;

pub(super) fn members<'a>(matrix: &'a Matrix, places: &Places<'_>) -> AllMembers<'a> {
    let mut all = BTreeMap::new();
    for flow in &matrix.flows {
        for (endpoint, role) in [(&flow.from, Role::Source), (&flow.to, Role::Destination)] {
            all.entry((endpoint, role))
                .or_insert_with(|| places.members(endpoint, role));
        }
    }
    all
}

/// The pods of the Dynatrace workloads that have policies of their own, in groups of pods
/// that policies and flows treat alike but for their nodes' neighbourhoods (same namespace,
/// labels, ports and network, and where Cilium's policies take part, service account and
/// [`Index::node_key`]), each group sorted by id.
///
/// With `across_nodes` false, pods on different nodes are in different groups wherever
/// Cilium's policies take part, so that every pod of a group is admitted exactly alike.
pub(super) fn dynatrace_groups(
    matrix: &Matrix,
    index: &Index,
    places: &Places<'_>,
    across_nodes: bool,
) -> Vec<Vec<PodId>> {
    let pods: BTreeSet<PodId> = matrix
        .flows
        .iter()
        .flat_map(|f| [&f.from, &f.to])
        .filter(|e| e.policy_subject().is_some())
        .flat_map(|e| places.pods_of(e))
        .collect();
    type Key<'p> = (
        &'p str,
        &'p BTreeMap<String, String>,
        Vec<(Option<&'p str>, u16, Protocol)>,
        bool,
        Option<(Option<&'p str>, NodeKey<'p>)>,
    );
    // Cilium also tells pods apart by service account, and sometimes by node.
    let cilium = index.has_namespaced_dialect();
    let mut groups: BTreeMap<Key<'_>, Vec<PodId>> = BTreeMap::new();
    for id in pods {
        let pod = &index.pods()[id];
        let mut ports: Vec<(Option<&str>, u16, Protocol)> = pod
            .ports
            .iter()
            .map(|p| (p.name.as_deref(), p.port, p.protocol))
            .collect();
        ports.sort_unstable();
        let node = if across_nodes {
            index.node_key(id)
        } else {
            NodeKey::On(pod.node.as_deref())
        };
        let identity = cilium.then_some((pod.service_account.as_deref(), node));
        let key = (
            pod.namespace.as_str(),
            &pod.labels,
            ports,
            pod.host_network,
            identity,
        );
        groups.entry(key).or_default().push(id);
    }
    groups.into_values().collect()
}

/// What the `direction` rules of `group` admit beyond the matrix, one [`Extra`] per rule that
/// admits anything (or one for the whole space when no policy isolates the group), for the
/// pods of the group whose extras are equal.
fn beyond(context: &Context<'_>, group: &[PodId], direction: Direction) -> Vec<Extra> {
    let Context { index, .. } = *context;
    let pod = group[0];
    // Where the pod's side cannot tell apart the pods of a class, one of each is asked.
    let by_class = !index.has_namespaced_dialect() || Endpoints::hold(context, pod);
    let rules = if by_class {
        let classes = context.classes;
        let universe = Space::product(
            &classes.representatives(pod),
            AddressSet::all(),
            &PortSet::all(),
        );
        admitted(index, pod, direction, Some(&universe)).map(|rules| {
            (rules.into_iter())
                .map(|(rule, space)| (rule, classes.expand(&space)))
                .collect::<Vec<_>>()
        })
    } else {
        admitted(index, pod, direction, None)
    };
    let Some(rules) = rules else {
        return Vec::new();
    };
    let needed = needed(context, pod, direction);
    // What the matrix needs is taken first, so that the other end is asked only of the rest.
    let rules: Vec<(Option<RuleRef>, Space)> = (rules.into_iter())
        .map(|(rule, space)| (rule, space.without_pod(pod).difference(&needed)))
        .collect();
    let other = other_end_of(index, pod, direction, &rules, (&context.near.own, None));
    let first: Rests = (rules.into_iter())
        .map(|(rule, rest)| (rule, rest.intersection(&other)))
        .collect();
    let mut alike: BTreeMap<Vec<(Option<RuleRef>, Space)>, Vec<PodId>> = BTreeMap::new();
    if !index.has_namespaced_dialect() {
        // Nothing tells the pods of the group apart.
        alike.insert(as_group_sees(first, pod, group), group.to_vec());
    } else if let Some(mut endpoints) = Endpoints::new(context, group, direction, &needed) {
        let seen = as_group_sees(first, pod, group);
        for &id in group {
            alike
                .entry(endpoints.rests(id, &seen))
                .or_default()
                .push(id);
        }
    } else {
        let home = node_of(index, pod);
        (alike.entry(as_group_sees(first.clone(), pod, group)))
            .or_default()
            .push(pod);
        for &other_pod in &group[1..] {
            let nodes: Vec<NodeId> = [home, node_of(index, other_pod)]
                .into_iter()
                .flatten()
                .collect();
            let near = context.near.of(&nodes, &[pod, other_pod]);
            let rests = near_rests(context, (other_pod, direction), (&near, &nodes), &needed);
            let mut all: Rests = (first.iter())
                .map(|(rule, rest)| (rule.clone(), rest.difference(&near)))
                .collect();
            for (rule, rest) in rests {
                let entry = all.entry(rule).or_default();
                *entry = entry.union(&rest);
            }
            (alike.entry(as_group_sees(all, other_pod, group)))
                .or_default()
                .push(other_pod);
        }
    }
    let mut found = Vec::new();
    for (rests, pods) in alike {
        for (rule, rest) in rests {
            found.push(extra(index, &pods, direction, rule.as_ref(), &rest));
        }
    }
    found
}

/// What each rule admits beyond the matrix, by rule.
type Rests = BTreeMap<Option<RuleRef>, Space>;

/// A group of endpoints (pods outside the host network, seen as pods) on several nodes, where
/// nothing but the addresses of a pod's own node depends on its node: Cilium sees every other
/// end alike from any node (an endpoint by its identity, a node's host as `remote-node`), and
/// the other end sees the pod by its identity. So a pod of the group admits what the first
/// does, but for the addresses of its own node (`host` to it) and of the first's node
/// (`remote-node` to it); and what a pod admits of its own node's addresses is the same on
/// every node of one class (same labels that rules look at, same host policies' answer) where
/// the matrix needs the same of them, and is worked out once per class.
struct Endpoints<'a> {
    context: &'a Context<'a>,
    direction: Direction,
    needed: &'a Space,
    /// The first pod's node.
    home: Option<NodeId>,
    /// What the pods on other nodes admit of the addresses of the first pod's node.
    remote_home: Rests,
    /// What a pod admits of its own node's addresses, on every port of a rule's, by node class,
    /// the ports the node's host admits and what the matrix needs there; `None` where that
    /// is not all or nothing of the node's addresses.
    local: HashMap<LocalKey, Option<RulePorts>>,
}

/// Each rule's ports.
type RulePorts = Vec<(Option<RuleRef>, PortSet)>;

/// A node's class, the ports its host admits of the pod (none: every port) and the parts of
/// what the matrix needs that hold its addresses.
type LocalKey = (u32, Option<PortSet>, Vec<usize>);

impl<'a> Endpoints<'a> {
    /// The group `group` as endpoints, or `None` where the shortcut does not hold: pods in the
    /// host network, address blocks that match node addresses (which tell a node's addresses
    /// apart), pods in the host network seen as pods.
    fn new(
        context: &'a Context<'a>,
        group: &[PodId],
        direction: Direction,
        needed: &'a Space,
    ) -> Option<Self> {
        let index = context.index;
        let pod = group[0];
        if !Endpoints::hold(context, pod) {
            return None;
        }
        let home = node_of(index, pod);
        let remote_home = match (home, group.iter().find(|&&id| node_of(index, id) != home)) {
            (Some(home), Some(&other)) => {
                let addresses = context.near.own_addresses(home);
                let universe = Space::addresses(addresses, PortSet::all());
                near_rests(context, (other, direction), (&universe, &[home]), needed)
            }
            _ => Rests::new(),
        };
        Some(Endpoints {
            context,
            direction,
            needed,
            home,
            remote_home,
            local: HashMap::new(),
        })
    }

    /// Whether the pods of the group of `pod` are such endpoints.
    fn hold(context: &Context<'_>, pod: PodId) -> bool {
        let index = context.index;
        !index.pods()[pod].host_network
            && index.node_key(pod) == NodeKey::Anywhere
            && !index.blocks_match_nodes()
            && !context.near.host_pods_as_pods
    }

    /// What pod `id` of the group admits beyond the matrix, as the group reports it, given
    /// the first pod's (`seen`).
    fn rests(
        &mut self,
        id: PodId,
        seen: &[(Option<RuleRef>, Space)],
    ) -> Vec<(Option<RuleRef>, Space)> {
        let node = node_of(self.context.index, id);
        if node == self.home {
            return seen.to_vec();
        }
        let near = &self.context.near;
        let mut cut: Vec<IpAddr> = Vec::new();
        for node in [self.home, node].into_iter().flatten() {
            cut.extend(&near.own[node]);
        }
        let cut = Space::addresses(AddressSet::addresses(cut), PortSet::all());
        let mut all: Rests = (seen.iter())
            .map(|(rule, rest)| (rule.clone(), rest.difference(&cut)))
            .collect();
        let local = node.map(|node| self.local(id, node)).unwrap_or_default();
        for (rule, rest) in self.remote_home.iter().chain(&local) {
            let entry = all.entry(rule.clone()).or_default();
            *entry = entry.union(rest);
        }
        all.into_iter()
            .filter(|(_, rest)| !rest.is_empty())
            .collect()
    }

    /// What pod `id` admits of the addresses of its node `node`.
    fn local(&mut self, id: PodId, node: NodeId) -> Rests {
        let index = self.context.index;
        let addresses = self.context.near.own_addresses(node);
        let opposite = match self.direction {
            Direction::Egress => Direction::Ingress,
            Direction::Ingress => Direction::Egress,
        };
        let key = (index.node_class(node))
            .zip(needed_at(self.needed, &addresses))
            .map(|(class, needed)| {
                (
                    class,
                    index.node_admitted_ports(Some(node), opposite, id),
                    needed,
                )
            });
        if let Some(Some(ports)) = key.as_ref().and_then(|key| self.local.get(key)) {
            return (ports.iter())
                .map(|(rule, ports)| {
                    (
                        rule.clone(),
                        Space::addresses(addresses.clone(), ports.clone()),
                    )
                })
                .collect();
        }
        let universe = Space::addresses(addresses.clone(), PortSet::all());
        let rests = near_rests(
            self.context,
            (id, self.direction),
            (&universe, &[node]),
            self.needed,
        );
        if let Some(key) = key {
            self.local.insert(key, all_or_nothing(&rests, &addresses));
        }
        rests
    }
}

/// Which parts of `needed` (address parts, then those looked up by name) hold the addresses
/// `addresses`, by number, when each part holds all of them or none.
fn needed_at(needed: &Space, addresses: &AddressSet) -> Option<Vec<usize>> {
    let named = (needed.named_parts()).flat_map(|(_, parts)| parts);
    let mut holding = Vec::new();
    for (number, (set, _)) in needed.address_parts().iter().chain(named).enumerate() {
        let common = set.intersection(addresses);
        if common.is_empty() {
            continue;
        }
        if &common != addresses {
            return None;
        }
        holding.push(number);
    }
    Some(holding)
}

/// Each rule's ports, where each rule of `rests` admits all of `addresses` on them or
/// nothing.
fn all_or_nothing(
    rests: &Rests,
    addresses: &AddressSet,
) -> Option<Vec<(Option<RuleRef>, PortSet)>> {
    let mut all = Vec::new();
    for (rule, rest) in rests {
        if rest.is_empty() {
            continue;
        }
        let parts = rest.address_parts();
        let only = rest.pod_count() == 0 && rest.named_parts().next().is_none();
        match parts {
            [(set, ports)] if only && set == addresses => all.push((rule.clone(), ports.clone())),
            _ => return None,
        }
    }
    Some(all)
}

/// The rules of `rests` (pod `id`'s) that admit anything, as its group reports them: with
/// `id` among its own peers on the ports it admits of the first other pod of `group` it
/// admits any of (the pods of a group are peers of one another alike; a pod with itself is
/// left out, so this is how the group says what each of its pods admits of the others).
fn as_group_sees(rests: Rests, id: PodId, group: &[PodId]) -> Vec<(Option<RuleRef>, Space)> {
    (rests.into_iter())
        .filter(|(_, rest)| !rest.is_empty())
        .map(|(rule, rest)| {
            // The first pod of the group (sorted by id) other than `id` among the peers.
            let sibling = (rest.pod_parts().iter())
                .filter_map(|(set, ports)| {
                    let first = group
                        .iter()
                        .find(|&&peer| peer != id && set.contains(peer))?;
                    Some((*first, ports))
                })
                .min_by_key(|(first, _)| *first)
                .map(|(_, ports)| ports.clone());
            match sibling {
                Some(ports) => (rule, rest.union(&Space::pods([(id, ports)]))),
                None => (rule, rest),
            }
        })
        .collect()
}

/// What the `direction` side of pod `id` admits, by rule (`None`: what no policy isolates),
/// of everything or of `within`; `None` when the pod is not subject to policy.
fn admitted(
    index: &Index,
    id: PodId,
    direction: Direction,
    within: Option<&Space>,
) -> Option<Vec<(Option<RuleRef>, Space)>> {
    Some(match index.admits_within(id, direction, within) {
        Admits::NotSubject => return None,
        Admits::NotIsolated => vec![(None, within.cloned().unwrap_or_else(|| index.everything()))],
        Admits::Rules(rules) => rules.into_iter().map(|(r, s)| (Some(r), s)).collect(),
        Admits::Tiers(rules) => rules,
    })
}

/// What the `direction` rules of pod `id` admit beyond the matrix (`needed`) of `near`, by
/// rule.
fn near_rests(
    context: &Context<'_>,
    (id, direction): (PodId, Direction),
    (near, nodes): (&Space, &[NodeId]),
    needed: &Space,
) -> Rests {
    let index = context.index;
    let Some(rules) = admitted(index, id, direction, Some(near)) else {
        return Rests::new();
    };
    let rules: Vec<(Option<RuleRef>, Space)> = (rules.into_iter())
        .map(|(rule, space)| (rule, space.without_pod(id).difference(needed)))
        .collect();
    let other = other_end_of(
        index,
        id,
        direction,
        &rules,
        (&context.near.own, Some(nodes)),
    );
    let mut rests = Rests::new();
    for (rule, space) in rules {
        let rest = space.intersection(&other).intersection(near);
        let entry = rests.entry(rule).or_default();
        *entry = entry.union(&rest);
    }
    rests
}

/// What the matrix needs of pod `id` in `direction`: for every flow from (or to) it, the
/// members of the other end on the flow's ports, and a host reached by name by that name too.
fn needed(context: &Context<'_>, id: PodId, direction: Direction) -> Space {
    let Context {
        matrix,
        places,
        members,
        ..
    } = *context;
    let mut needed = Space::empty();
    for flow in &matrix.flows {
        let Some(more) = flow_needs(places, members, flow, id, direction) else {
            continue;
        };
        needed = needed.union(&more);
        if let Some(named) = needed_by_name(places, flow, direction) {
            needed = needed.union(&named);
        }
    }
    needed
}

/// What `flow` needs by name in `direction`: a host reached by name is needed by that name,
/// whatever its addresses, on the flow's ports (egress only: the name is the source's).
pub(super) fn needed_by_name(
    places: &Places<'_>,
    flow: &Flow,
    direction: Direction,
) -> Option<Space> {
    let names = names_of(&flow.to).filter(|_| direction == Direction::Egress)?;
    Some(Space::named(
        names,
        AddressSet::all(),
        places.flow_ports(flow),
    ))
}

/// What `flow` needs of pod `id` in `direction`: the members of its other end on its ports,
/// when `id` is among the members of its own end.
pub(super) fn flow_needs(
    places: &Places<'_>,
    members: &AllMembers<'_>,
    flow: &Flow,
    id: PodId,
    direction: Direction,
) -> Option<Space> {
    let (own, other) = match direction {
        Direction::Egress => ((&flow.from, Role::Source), (&flow.to, Role::Destination)),
        Direction::Ingress => ((&flow.to, Role::Destination), (&flow.from, Role::Source)),
    };
    if !members[&own].pods.contains(id) {
        return None;
    }
    let peers = &members[&other];
    let ports = places.flow_ports(flow);
    Some(Space::product(&peers.pods, peers.addresses.clone(), &ports))
}

/// The names a pod looks `endpoint` up by, when it is a host reached by name: its name, or
/// every name below its domain.
pub(super) fn names_of(endpoint: &Endpoint) -> Option<Names> {
    let pattern = match endpoint {
        Endpoint::Host {
            host: Host::Name(name),
            ..
        }
        | Endpoint::HostPattern(HostPattern::Name(name)) => Pattern::Name(name.to_string()),
        Endpoint::HostPattern(HostPattern::Below(domain)) => Pattern::Below(domain.to_string()),
        _ => return None,
    };
    Some(Names::of([pattern]))
}

/// What the other end admits of connections with pod `id` in `direction`: for every pod
/// among the peers of `rules`, the ports its opposite side admits; for a node's addresses, the
/// ports its host network's side admits (Cilium's host policies); every other address on every
/// port (an address has no side of its own).
pub(super) fn other_end(
    index: &Index,
    id: PodId,
    direction: Direction,
    rules: &[(Option<RuleRef>, Space)],
) -> Space {
    other_end_of(index, id, direction, rules, (&node_addresses(index), None))
}

/// What the host of each of `nodes` admits on its `direction` side of connections with pod
/// `id` ([`Index::node_admitted_ports`]). The rules selecting a host, and what they see of a
/// pod, depend on the node only by its class ([`Index::node_class`]: the labels the rules look
/// at, whether kube-apiserver serves on it) and by whether the pod runs on it (a pod in the
/// host network is that host): asked once for each, where address blocks match no node.
fn hosts_admitted_ports(
    index: &Index,
    id: PodId,
    direction: Direction,
    nodes: &[NodeId],
) -> Vec<Option<PortSet>> {
    let on = node_of(index, id);
    let by_class = !index.blocks_match_nodes();
    let mut known: foldhash::HashMap<(u32, bool), Option<PortSet>> = foldhash::HashMap::default();
    (nodes.iter())
        .map(|&node| {
            let ask = || index.node_admitted_ports(Some(node), direction, id);
            match index.node_class(node).filter(|_| by_class) {
                Some(class) => (known.entry((class, on == Some(node))))
                    .or_insert_with(ask)
                    .clone(),
                None => ask(),
            }
        })
        .collect()
}

/// [`other_end`], with each node's addresses (`own`, see [`node_addresses`]), of the nodes
/// `nodes` only (and no address of a node the cluster does not list) when given: the caller
/// looks at their addresses and pods only.
fn other_end_of(
    index: &Index,
    id: PodId,
    direction: Direction,
    rules: &[(Option<RuleRef>, Space)],
    (own, nodes): (&[Vec<IpAddr>], Option<&[NodeId]>),
) -> Space {
    let opposite = match direction {
        Direction::Egress => Direction::Ingress,
        Direction::Ingress => Direction::Egress,
    };
    let peers = (rules.iter()).fold(PodSet::default(), |mut all, (_, space)| {
        for (set, _) in space.pod_parts() {
            all.union_with(set);
        }
        all
    });
    let subject = ConnectionEnd::Pod(id);
    // Each node's host admits what its side admits (gathered by ports, so that the sets are
    // built once), every other address every port.
    let whole = nodes.is_none();
    let all: Vec<NodeId>;
    let nodes = match nodes {
        Some(nodes) => nodes,
        None => {
            all = (0..index.nodes().len()).collect();
            &all
        }
    };
    let mut restricted: Vec<IpAddr> = Vec::new();
    let mut by_ports: BTreeMap<PortSet, Vec<IpAddr>> = BTreeMap::new();
    for (&node, ports) in nodes
        .iter()
        .zip(hosts_admitted_ports(index, id, opposite, nodes))
    {
        if let Some(ports) = ports {
            restricted.extend(&own[node]);
            by_ports.entry(ports).or_default().extend(&own[node]);
        }
    }
    let mut rest = AddressSet::all().difference(&AddressSet::addresses(restricted));
    let mut addresses = Space::empty();
    // The addresses that stand for nodes the cluster does not list are such nodes' hosts.
    let unlisted = index.unlisted_nodes();
    if whole
        && !unlisted.is_empty()
        && let Some(ports) = index.node_admitted_ports(None, opposite, id)
    {
        rest = rest.difference(unlisted);
        addresses = Space::addresses(unlisted.clone(), ports);
    }
    addresses = addresses.union(&Space::addresses(rest, PortSet::all()));
    for (ports, ips) in by_ports {
        addresses = addresses.union(&Space::addresses(AddressSet::addresses(ips), ports));
    }
    // Peers the evaluator cannot tell apart are admitted alike (a pod with itself aside).
    let node = index.node_matters(std::iter::once(&subject));
    let mut known: foldhash::HashMap<EndKey, PortSet> = foldhash::HashMap::default();
    let mut admitted = |peer: PodId| {
        if peer == id {
            return index.admitted_ports(peer, opposite, &subject);
        }
        let key = index.end_key(&ConnectionEnd::Pod(peer), node);
        (known.entry(key))
            .or_insert_with(|| index.admitted_ports(peer, opposite, &subject))
            .clone()
    };
    Space::pods(peers.iter().map(|peer| (peer, admitted(peer)))).union(&addresses)
}

/// The report of what `rule` admits for `group` beyond the matrix: peers with equal ports
/// together.
fn extra(
    index: &Index,
    group: &[PodId],
    direction: Direction,
    rule: Option<&RuleRef>,
    rest: &Space,
) -> Extra {
    Extra {
        pods: pod_names(index, group),
        direction: direction.name(),
        policy: rule.map(|r| r.policy.clone()),
        rule: rule.map(|r| r.index),
        dialect: rule.map(|r| r.dialect.name()),
        field: rule.map(|r| r.field.clone()),
        beyond: peers(index, rest),
    }
}

/// The pods `ids` as `namespace/name`, sorted.
pub(super) fn pod_names(index: &Index, ids: &[PodId]) -> Vec<String> {
    let mut names: Vec<String> = ids.iter().map(|&id| pod_name(index, id)).collect();
    names.sort();
    names
}

fn pod_name(index: &Index, id: PodId) -> String {
    let pod = &index.pods()[id];
    format!("{}/{}", pod.namespace, pod.name)
}

/// `addresses` as CIDR blocks with exceptions.
pub(super) fn blocks(addresses: &AddressSet) -> Vec<AddressBlock> {
    (addresses.blocks().into_iter())
        .map(|block| AddressBlock {
            cidr: block.net.to_string(),
            except: block.except.iter().map(ToString::to_string).collect(),
        })
        .collect()
}

/// The peers of `space` and their ports, peers with equal ports together.
pub(super) fn peers(index: &Index, space: &Space) -> Vec<Peers> {
    type Group = (BTreeSet<String>, Vec<AddressBlock>, Vec<String>);
    let mut by_ports: BTreeMap<&PortSet, Group> = BTreeMap::new();
    for (set, ports) in space.pod_parts() {
        let names = &mut by_ports.entry(ports).or_default().0;
        names.extend(set.iter().map(|id| pod_name(index, id)));
    }
    for (addresses, ports) in space.address_parts() {
        by_ports
            .entry(ports)
            .or_default()
            .1
            .extend(blocks(addresses));
    }
    // Destinations looked up by name are named by the patterns that admit them.
    for (names, parts) in space.named_parts() {
        for (_, ports) in parts {
            let group = &mut by_ports.entry(ports).or_default().2;
            for shown in names.shown() {
                if !group.contains(&shown) {
                    group.push(shown);
                }
            }
        }
    }
    by_ports
        .into_iter()
        .map(|(ports, (pods, addresses, names))| Peers {
            pods: pods.into_iter().collect(),
            addresses,
            names,
            ports: ports.describe(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{NetworkPlugin, Options, read_cluster, read_policies};
    use crate::resolve::{Fallback, FixedHosts, resolve_known};
    use crate::source::Limits;
    use crate::synthetic::{Scale, large_files};

    /// The extras as defined, pod by pod: every Dynatrace pod's rules over everything, cut by
    /// the other end and the matrix, reported as [`extras`] reports a group (pods with equal
    /// results together).
    fn pod_by_pod(matrix: &Matrix, index: &Index, places: &Places<'_>) -> Vec<Extra> {
        let members = members(matrix, places);
        let near = Neighbourhoods::new(index);
        let classes = PodClasses::new(index);
        let context = Context {
            matrix,
            index,
            places,
            members: &members,
            near: &near,
            classes: &classes,
        };
        let mut found = Vec::new();
        for group in dynatrace_groups(matrix, index, places, true) {
            for direction in [Direction::Egress, Direction::Ingress] {
                let mut alike: BTreeMap<Vec<(Option<RuleRef>, Space)>, Vec<PodId>> =
                    BTreeMap::new();
                for &pod in &group {
                    let Some(rules) = admitted(index, pod, direction, None) else {
                        continue;
                    };
                    let needed = needed(&context, pod, direction);
                    let other = other_end(index, pod, direction, &rules);
                    let mut rests = Rests::new();
                    for (rule, space) in rules {
                        let rest = space
                            .without_pod(pod)
                            .intersection(&other)
                            .difference(&needed);
                        let entry = rests.entry(rule).or_default();
                        *entry = entry.union(&rest);
                    }
                    let seen = as_group_sees(rests, pod, &group);
                    alike.entry(seen).or_default().push(pod);
                }
                for (rests, pods) in alike {
                    for (rule, rest) in rests {
                        found.push(extra(index, &pods, direction, rule.as_ref(), &rest));
                    }
                }
            }
        }
        found.sort();
        found
    }

    /// Cilium policies that admit a pod's own node and the others differently.
    const NODE_RULES: &str = "\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: own-node}
spec:
  endpointSelector:
    matchLabels: {k8s:io.kubernetes.pod.namespace: dynatrace}
  egress:
  - toEntities: [host]
    toPorts: [{ports: [{port: '7001', protocol: TCP}]}]
  - toEntities: [remote-node]
    toPorts: [{ports: [{port: '7002', protocol: TCP}]}]
  - toEntities: [cluster]
    toPorts: [{ports: [{port: '7003', protocol: TCP}]}]
  ingress:
  - fromEntities: [remote-node]
    toPorts: [{ports: [{port: '7004', protocol: TCP}]}]
  - fromEntities: [host]
    toPorts: [{ports: [{port: '7005', protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: nodes}
spec:
  nodeSelector: {}
  ingress:
  - fromEntities: [cluster]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: zone-a-nodes}
spec:
  nodeSelector:
    matchLabels: {topology.kubernetes.io/zone: eu-west-1a}
  egress:
  - toEntities: [cluster]
    toPorts: [{ports: [{port: '7006', protocol: TCP}]}]
";

    /// A generated cluster of a few nodes with policies of every dialect (host policies,
    /// entities, denies) and the DynaKube's Cilium policies, on `plugin` (without Cilium's
    /// policies but on Cilium).
    fn checked(seed: u64, plugin: NetworkPlugin, cidr_match_nodes: bool) -> (usize, usize) {
        let scale = Scale {
            nodes: 6,
            namespaces: 8,
            pods: 160,
            network_policies: 30,
            cluster_network_policies: 20,
            cilium_policies: 40,
        };
        let files: BTreeMap<String, String> = large_files(&scale, seed).into_iter().collect();
        let limits = Limits {
            max_bytes: usize::MAX,
            ..Limits::default()
        };
        let cluster = read_cluster("cluster.json", &files["cluster.json"], &limits).unwrap();
        // Rules that tell a pod's own node from the others, for the CSI driver's pods (one on
        // every node), the ActiveGate's and the OneAgent's nodes (host policies).
        let policies = format!("{}---\n{NODE_RULES}", files["policies.yaml"]);
        let mut policies = read_policies("policies.yaml", &policies, &limits).unwrap();
        if plugin != NetworkPlugin::Cilium {
            policies.cilium_policies.clear();
        }
        let options = Options {
            network_plugin: Some(plugin),
            cilium_cidr_match_nodes: cidr_match_nodes,
            ..Options::default()
        };
        let index = Index::with_options(cluster, &policies, options).unwrap();
        let mut inputs = crate::resources::Inputs::default();
        let parse = crate::input::ParseOptions::default();
        crate::input::parse_into(&mut inputs, "dk.yaml", &files["dynakube.yaml"], &parse).unwrap();
        let profile =
            crate::cluster::ClusterProfile::parse("profile.yaml", &files["cluster-profile.yaml"])
                .unwrap();
        let hosts = FixedHosts::parse("hosts.yaml", &files["hosts.yaml"]).unwrap();
        let generate = crate::GenerateOptions {
            flavor: crate::Flavor::Cilium,
            ..crate::GenerateOptions::default()
        };
        let matrix = crate::generate(&inputs, &profile, &generate, &hosts)
            .unwrap()
            .matrix;
        let addresses =
            resolve_known(&matrix, &hosts, Fallback::Fail, &Default::default()).unwrap();
        let places = Places::new(&matrix, &index, &addresses);
        let found = extras(&matrix, &index, &|| {
            Places::new(&matrix, &index, &addresses)
        });
        assert_eq!(found, pod_by_pod(&matrix, &index, &places), "seed {seed}");
        // The hosts of nodes of one class admit a pod alike, but for the pod's own node.
        let nodes: Vec<NodeId> = (0..index.nodes().len()).collect();
        for id in (0..index.pods().len()).step_by(7) {
            for direction in [Direction::Egress, Direction::Ingress] {
                let each: Vec<Option<PortSet>> = (nodes.iter())
                    .map(|&node| index.node_admitted_ports(Some(node), direction, id))
                    .collect();
                assert_eq!(hosts_admitted_ports(&index, id, direction, &nodes), each);
            }
        }
        // Groups whose pods run on several nodes were computed once and corrected by node.
        let spread = (dynatrace_groups(&matrix, &index, &places, true).iter())
            .filter(|group| {
                let nodes: BTreeSet<Option<NodeId>> =
                    group.iter().map(|&id| node_of(&index, id)).collect();
                nodes.len() > 1
            })
            .count();
        (found.len(), spread)
    }

    #[test]
    fn groups_across_nodes_are_what_each_pod_admits() {
        let mut totals = (0, 0);
        for seed in 1..=3 {
            for cidr_match_nodes in [false, true] {
                let (found, spread) = checked(seed, NetworkPlugin::Cilium, cidr_match_nodes);
                totals = (totals.0 + found, totals.1 + spread);
            }
            // Without Cilium, pods are told apart by class only.
            let (found, _) = checked(seed, NetworkPlugin::Calico, false);
            assert!(found > 0, "seed {seed}");
        }
        // The comparison means something: there are extras, and groups across nodes (the
        // rules above admit each pod's own node differently from the others, so a group's
        // pods differ where the correction by node is left out).
        assert!(totals.0 > 10 && totals.1 > 0, "{totals:?}");
    }
}
