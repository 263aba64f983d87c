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
//! part, service account and node) are treated alike by every policy and every flow, so they
//! are computed once, as a group.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::place::{Members, Places, Role};
use super::report::{AddressBlock, Extra, Peers};
use crate::evaluate::sets::{AddressSet, Names, Pattern, PodSet, PortSet, Space};
use crate::evaluate::{Admits, ConnectionEnd, EndKey, Index, PodId, RuleRef};
use crate::matrix::{Direction, Endpoint, Flow, Matrix, Protocol};
use crate::values::{Host, HostPattern};

/// The extras of every group of Dynatrace pods, grouped by direction, policy and rule.
pub(super) fn extras(matrix: &Matrix, index: &Index, places: &Places<'_>) -> Vec<Extra> {
    let members = members(matrix, places);
    let mut found = Vec::new();
    for group in dynatrace_groups(matrix, index, places) {
        for direction in [Direction::Egress, Direction::Ingress] {
            found.extend(beyond(matrix, index, places, &members, &group, direction));
        }
    }
    found.sort();
    found
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
/// that policies and flows cannot tell apart (same namespace, labels, ports and network, and
/// where Cilium's policies take part, service account and node), each group sorted by id.
pub(super) fn dynatrace_groups(
    matrix: &Matrix,
    index: &Index,
    places: &Places<'_>,
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
        Option<(Option<&'p str>, Option<&'p str>)>,
    );
    // Cilium also tells pods apart by service account, and its `host` is the pod's node.
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
        let identity = cilium.then_some((pod.service_account.as_deref(), pod.node.as_deref()));
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
/// admits anything (or one for the whole space when no policy isolates the group).
fn beyond(
    matrix: &Matrix,
    index: &Index,
    places: &Places<'_>,
    members: &AllMembers<'_>,
    group: &[PodId],
    direction: Direction,
) -> Vec<Extra> {
    let pod = group[0];
    let rules: Vec<(Option<RuleRef>, Space)> = match index.admits(pod, direction) {
        Admits::NotSubject => return Vec::new(),
        Admits::NotIsolated => vec![(None, index.everything())],
        Admits::Rules(rules) => rules.into_iter().map(|(r, s)| (Some(r), s)).collect(),
        Admits::Tiers(rules) => rules,
    };
    let needed = needed(matrix, places, members, pod, direction);
    let other = other_end(index, pod, direction, &rules);
    let mut found = Vec::new();
    for (rule, space) in rules {
        let mut rest = space
            .without_pod(pod)
            .intersection(&other)
            .difference(&needed);
        // The other pods of the group are peers as the first is; the first is theirs alike.
        if let Some(ports) = group[1..]
            .iter()
            .map(|&id| rest.ports_of_pod(id))
            .find(|ports| !ports.is_empty())
        {
            rest = rest.union(&Space::pods([(pod, ports)]));
        }
        if !rest.is_empty() {
            found.push(extra(index, group, direction, rule.as_ref(), &rest));
        }
    }
    found
}

/// What the matrix needs of pod `id` in `direction`: for every flow from (or to) it, the
/// members of the other end on the flow's ports, and a host reached by name by that name too.
fn needed(
    matrix: &Matrix,
    places: &Places<'_>,
    members: &AllMembers<'_>,
    id: PodId,
    direction: Direction,
) -> Space {
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
    let opposite = match direction {
        Direction::Egress => Direction::Ingress,
        Direction::Ingress => Direction::Egress,
    };
    let peers: PodSet = rules
        .iter()
        .flat_map(|(_, space)| space.pod_parts().iter().map(|(peer, _)| *peer))
        .collect();
    let subject = ConnectionEnd::Pod(id);
    let mut addresses = Space::addresses(AddressSet::all(), PortSet::all());
    let mut on_nodes = AddressSet::empty();
    for (node, info) in index.nodes().iter().enumerate() {
        // An address two nodes list is the first's.
        let own = AddressSet::addresses(info.addresses.iter().copied()).difference(&on_nodes);
        on_nodes = on_nodes.union(&own);
        if let Some(ports) = index.node_admitted_ports(Some(node), opposite, id) {
            addresses = addresses
                .difference(&Space::addresses(own.clone(), PortSet::all()))
                .union(&Space::addresses(own, ports));
        }
    }
    // The addresses that stand for nodes the cluster does not list are such nodes' hosts.
    let unlisted = index.unlisted_nodes();
    if !unlisted.is_empty()
        && let Some(ports) = index.node_admitted_ports(None, opposite, id)
    {
        addresses = addresses
            .difference(&Space::addresses(unlisted.clone(), PortSet::all()))
            .union(&Space::addresses(unlisted.clone(), ports));
    }
    // Peers the evaluator cannot tell apart are admitted alike (a pod with itself aside).
    let node = index.node_matters(std::iter::once(&subject));
    let mut known: HashMap<EndKey, PortSet> = HashMap::new();
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
    for (id, ports) in space.pod_parts() {
        by_ports
            .entry(ports)
            .or_default()
            .0
            .insert(pod_name(index, *id));
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
