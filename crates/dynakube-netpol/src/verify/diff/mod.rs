//! The connectivity diff: what changes between two sets of policies in one cluster, in
//! connections and by row of the matrix, not in bytes.
//!
//! Both sets are compiled against the same cluster (pods, namespaces, nodes), so that a pod is
//! the same pod on both sides. For every group of Dynatrace pods (pods of one namespace with
//! the same labels and ports, which every policy and flow treats alike; see `extras`) and
//! direction, the connections each set allows are computed exactly, as `verify` computes its
//! extras: every rule's set of peers and ports, cut by what the other end admits, without the
//! pod's connections to itself. Nothing is sampled. Their differences are split by what the
//! matrix needs:
//!
//! - connections newly allowed that no row needs: the widening a reviewer must see first,
//!   by the rule of the new set that admits them;
//! - connections a row needs that became allowed or are no longer allowed, by row;
//! - connections no row needs that are no longer allowed, by the rule of the old set that
//!   admitted them.
//!
//! A connection between two Dynatrace pods is allowed when the source's egress and the
//! destination's ingress both admit it, so it is in the egress of the one and the ingress of
//! the other: it is reported once, with the egress of its source.
//!
//! A row's connections are those its peers make, which may be fewer than what it needs of the
//! rules: a host reached by name is reached at its addresses by its name (rules may admit its
//! addresses by any name, or its name at any address), the kubelet probing a pod is on the
//! pod's node (rules may admit every node), kube-apiserver listens on its endpoints' ports
//! (rules may admit every port at every address). A change of what the rules admit beyond a
//! row's connections but within its needs — the same row in another dialect's terms — is no
//! change; beyond its needs it is.
//!
//! Cilium's engine sees a node by identity where the other dialects see its address; in a
//! cluster modelled from a profile, the profile's node blocks stand for the nodes (see
//! [`Cluster::node_blocks`](crate::evaluate::Cluster::node_blocks)), so that the sets of the
//! dialects compare address by address. Cilium translates kube-apiserver's Service address
//! before its policies decide, so that address is no destination there.
//!
//! Where what ClusterNetworkPolicy Deny and Pass rules decide by name is not followed, the
//! rows' connections are decided one by one as `verify` tries them, and what either set allows
//! beyond the matrix is not computed; the diff says so.

mod render;

use std::collections::BTreeMap;

use serde::Serialize;

use super::extras;
use super::place::Places;
use super::report::Peers;
use crate::error::Result;
use crate::evaluate::sets::{AddressSet, PodSet, PortSet, Space};
use crate::evaluate::{
    Admits, Cluster, Index, NetworkPlugin, Options, PodId, PolicyFiles, RuleRef,
};
use crate::matrix::{Direction, Endpoint, Flow, Matrix, NodeScope, Nodes};
use crate::resolve::Addresses;

/// What changes between two sets of policies in one cluster: connections no row of the matrix
/// needs that became allowed, the rows whose connections became allowed or denied, and
/// connections no row needs that are no longer allowed. [`Diff::render`] writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// The sets compared, as named.
    pub(crate) old: String,
    /// The new set, as named.
    pub(crate) new: String,
    /// Whether the connections were computed as sets (else the rows' connections were decided
    /// one by one and nothing beyond the matrix was computed).
    pub(crate) exact: bool,
    /// What was assumed, and what could not be computed.
    pub(crate) notes: Vec<String>,
    /// Connections newly allowed that no row needs, by the new rule that admits them.
    pub(crate) widened: Vec<Change>,
    /// The rows whose connections changed, in the matrix's order.
    pub(crate) rows: Vec<RowChange>,
    /// Connections no longer allowed that no row needs, by the old rule that admitted them.
    pub(crate) narrowed: Vec<Change>,
}

/// Connections of one group of Dynatrace pods in one direction that changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Change {
    /// The Dynatrace workload the pods belong to, as the matrix names it.
    pub(crate) workload: String,
    /// The pods, as `namespace/name`.
    pub(crate) pods: Vec<String>,
    /// `egress` (connections the pods open) or `ingress` (connections to them).
    pub(crate) direction: &'static str,
    /// The rules of the pods' side that admit the connections (in the new set for connections
    /// newly allowed, in the old one for those no longer allowed), as `policy spec.egress[0]`;
    /// `None` where no policy isolates the pods, so that everything is admitted.
    pub(crate) by: Vec<Option<String>>,
    /// The peers and their ports.
    pub(crate) peers: Vec<Peers>,
}

/// A row of the matrix whose connections changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RowChange {
    /// The row.
    pub(crate) id: &'static str,
    /// Every reference row the flow implements.
    pub(crate) refs: Vec<&'static str>,
    /// Who opens the connections.
    pub(crate) from: String,
    /// Who accepts them.
    pub(crate) to: String,
    /// The row's destination ports.
    pub(crate) ports: String,
    /// Its connections newly allowed.
    pub(crate) allowed: Vec<Change>,
    /// Its connections no longer allowed.
    pub(crate) denied: Vec<Change>,
    /// The ports of the connections newly allowed: `443/TCP`, `40000-65535/UDP`.
    pub(crate) gained: Vec<String>,
    /// The ports of the connections no longer allowed.
    pub(crate) lost: Vec<String>,
    /// Where the connections were decided one by one: those whose verdict changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) connections: Vec<Connection>,
}

/// One connection of a row whose verdict changed, decided one by one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Connection {
    /// The source: `namespace/pod` or an address.
    pub(crate) from: String,
    /// The destination: `namespace/pod` or an address.
    pub(crate) to: String,
    /// The destination port.
    pub(crate) port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub(crate) protocol: &'static str,
    /// Whether the new set allows it (the old one decided otherwise).
    pub(crate) allowed: bool,
    /// The new set's decision, side by side, in words.
    pub(crate) decided: String,
}

/// The connections of `matrix` that change from the policies of `old` to those of `new`, each
/// with the name it is shown by, both in `cluster` as one network plugin enforces them:
/// `options.network_plugin`, else Cilium when either set holds Cilium's kinds (only Cilium
/// enforces them) or `cluster` holds its agent's configuration, else
/// [`NetworkPlugin::Generic`]; Cilium's `policy-cidr-match-mode: nodes` as the agent's
/// configuration in `cluster` says, else where `options` or the matrix's cluster profile
/// (`cilium.cidrMatchNodes`) says so.
/// `addresses` places the matrix's hosts, as for [`super::verify`].
///
/// Fails where [`Index::with_options`] fails for either set.
pub fn diff(
    matrix: &Matrix,
    cluster: &Cluster,
    old: (&str, &PolicyFiles),
    new: (&str, &PolicyFiles),
    options: Options,
    addresses: &Addresses,
) -> Result<Diff> {
    // Cilium's kinds, or its agent's configuration in the cluster, make Cilium the default.
    let agent = cluster.cilium_agents.first();
    let cilium =
        !(old.1.cilium_policies.is_empty() && new.1.cilium_policies.is_empty()) || agent.is_some();
    let plugin = match options.network_plugin {
        Some(plugin) => plugin,
        None if cilium => NetworkPlugin::Cilium,
        None => NetworkPlugin::Generic,
    };
    let options = Options {
        network_plugin: Some(plugin),
        // The agent's own configuration, where the cluster holds it, decides (as in
        // `Index::with_options`).
        cilium_cidr_match_nodes: agent.map_or(
            options.cilium_cidr_match_nodes || matrix.profile.cilium.cidr_match_nodes,
            |agent| agent.cidr_match_nodes,
        ),
        ..options
    };
    let before = Index::with_options(cluster.clone(), old.1, options)?;
    let after = Index::with_options(cluster.clone(), new.1, options)?;
    let mut found = compare(matrix, (old.0, &before), (new.0, &after), addresses);
    // Policies of a set the cluster's agent does not enforce.
    for (name, index) in [(old.0, &before), (new.0, &after)] {
        let name = crate::values::escape(name);
        (found.notes).extend(
            index
                .unenforced()
                .iter()
                .map(|note| format!("{name}: {note}")),
        );
    }
    let blocks = |files: &PolicyFiles| {
        !(files.policies.is_empty() && files.cluster_network_policies.is_empty())
    };
    if plugin == NetworkPlugin::Cilium
        && !options.cilium_cidr_match_nodes
        && (blocks(old.1) || blocks(new.1))
    {
        found.notes.push(match agent {
            None => format!("{CIDR_MATCH}; set cilium.cidrMatchNodes in the cluster profile where the agent runs with policy-cidr-match-mode: nodes"),
            Some(_) => format!("{CIDR_MATCH}, as the agent's cilium-config in the cluster says"),
        });
    }
    Ok(found)
}

/// What Cilium's default means for NetworkPolicies and ClusterNetworkPolicies.
const CIDR_MATCH: &str = "Cilium enforces the policies with its default policy-cidr-match-mode: address blocks of NetworkPolicies and ClusterNetworkPolicies match no node address (and so not kube-apiserver on the nodes)";

/// [`diff`] of two indexes of one cluster (the same pods in the same order).
fn compare(
    matrix: &Matrix,
    old: (&str, &Index),
    new: (&str, &Index),
    addresses: &Addresses,
) -> Diff {
    let (old_places, new_places) = (
        Places::new(matrix, old.1, addresses).one_by_one(),
        Places::new(matrix, new.1, addresses).one_by_one(),
    );
    let mut notes = new_places.infrastructure().assumptions.clone();
    let mut diff = Diff {
        old: old.0.to_string(),
        new: new.0.to_string(),
        exact: exact(old.1) && exact(new.1),
        notes: Vec::new(),
        widened: Vec::new(),
        rows: Vec::new(),
        narrowed: Vec::new(),
    };
    if diff.exact {
        exactly(&mut diff, matrix, (old.1, new.1), &new_places);
    } else {
        notes.push(NOT_EXACT.into());
        diff.rows = one_by_one(matrix, &old_places, &new_places);
    }
    diff.notes = notes;
    diff
}

/// Why a diff was not computed as sets.
const NOT_EXACT: &str = "what the policies allow beyond the matrix is not compared where ClusterNetworkPolicy Deny or Pass rules have domainNames: the rows' connections were decided one by one, as verify tries them";

/// Whether the diff compares what the policies of `index` allow as sets: wherever the sets
/// are exact, which they are for every dialect (Cilium's too: its nodes are the addresses of
/// the cluster's nodes, and of its node blocks where they stand for nodes) but where
/// ClusterNetworkPolicy Deny and Pass rules decide by name, which the sets do not follow.
fn exact(index: &Index) -> bool {
    !index.names_not_followed()
}

/// What one set of policies allows a pod in one direction, both sides considered, by the rule
/// of the pod's side that admits it (`None`: no policy isolates it); `None` for a pod that is
/// not subject to policy.
type Allowed = Option<Vec<(Option<RuleRef>, Space)>>;

/// What the policies of `index` allow pod `id` in `direction`: each rule's set less the pod's
/// connections to itself and those with its node that NetworkPolicies cannot block
/// ([`Index::node_local`]), cut by what the other end admits.
fn allowed(index: &Index, id: PodId, direction: Direction) -> Allowed {
    let rules: Vec<(Option<RuleRef>, Space)> = match index.admits(id, direction) {
        Admits::NotSubject => return None,
        Admits::NotIsolated => vec![(None, index.everything())],
        Admits::Rules(rules) => rules.into_iter().map(|(r, s)| (Some(r), s)).collect(),
        Admits::Tiers(rules) => rules,
    };
    let other = extras::other_end(index, id, direction, &rules);
    let local = index.node_local(id, direction);
    Some(
        rules
            .into_iter()
            .map(|(rule, space)| {
                let space = space.without_pod(id).difference(&local);
                (rule, space.intersection(&other))
            })
            .filter(|(_, space)| !space.is_empty())
            .collect(),
    )
}

/// Every set of `rules`, together.
fn union(rules: &[(Option<RuleRef>, Space)]) -> Space {
    (rules.iter()).fold(Space::empty(), |all, (_, space)| all.union(space))
}

/// The diff as sets: for every group of Dynatrace pods and direction.
fn exactly(diff: &mut Diff, matrix: &Matrix, (old, new): (&Index, &Index), places: &Places<'_>) {
    let members = extras::members(matrix, places);
    let groups = extras::dynatrace_groups(matrix, new, places, false);
    // Connections from Dynatrace pods are reported with their egress.
    let dynatrace = Space::pods((groups.iter().flatten()).map(|&id| (id, PortSet::all())));
    let workloads = workloads(matrix, places);
    let translated = Space::addresses(translated(matrix, new), PortSet::all());
    let mut rows = Rows::default();
    for group in &groups {
        for direction in [Direction::Egress, Direction::Ingress] {
            let pod = group[0];
            let (Some(before), Some(after)) =
                (allowed(old, pod, direction), allowed(new, pod, direction))
            else {
                continue;
            };
            let seen = |rules: Vec<(Option<RuleRef>, Space)>| match direction {
                Direction::Egress => (rules.into_iter())
                    .map(|(rule, space)| (rule, space.difference(&translated)))
                    .collect(),
                Direction::Ingress => (rules.into_iter())
                    .map(|(rule, space)| (rule, space.difference(&dynatrace)))
                    .collect(),
            };
            let side = Side {
                index: new,
                workload: workloads.get(&pod).cloned().unwrap_or_default(),
                group,
                direction,
                before: seen(before),
                after: seen(after),
            };
            let (was, is) = (union(&side.before), union(&side.after));
            let (gained, lost) = (is.difference(&was), was.difference(&is));
            if gained.is_empty() && lost.is_empty() {
                continue;
            }
            let mut needed = Space::empty();
            for (number, flow) in matrix.flows.iter().enumerate() {
                let Some(needs) = extras::flow_needs(places, &members, flow, pod, direction) else {
                    continue;
                };
                let by_name = extras::needed_by_name(places, flow, direction);
                let connections = connections(new, flow, pod, direction, &needs, by_name.as_ref());
                let (was, is) = (
                    was.intersection(&connections),
                    is.intersection(&connections),
                );
                rows.add(
                    number,
                    flow,
                    &side,
                    &is.difference(&was),
                    &was.difference(&is),
                );
                needed = needed.union(&needs).union(&by_name.unwrap_or_default());
            }
            let widened = side.by_rule(&side.after, &gained.difference(&needed), &was);
            diff.widened.extend(widened);
            let narrowed = side.by_rule(&side.before, &lost.difference(&needed), &is);
            diff.narrowed.extend(narrowed);
        }
    }
    diff.rows = rows.finish();
    diff.widened.sort();
    diff.narrowed.sort();
}

/// The connections of `flow` for pod `pod` in `direction` among what it `needs`: those the
/// flow's peers make, where its rules must admit more. A host reached by name (`by_name`):
/// its addresses looked up by its name, which both its addresses and its name admit; what
/// either admits besides (its addresses by another name, its name at another address) is
/// needed by the row but none of its connections. The nodes of a pod's own node (the kubelet
/// probing it): that node's addresses and host-network pods, where the rules name every node.
/// kube-apiserver as a destination, where the profile gives its endpoints: its endpoints on
/// their ports and its Service's addresses on the flow's, where the rules may admit every
/// port at every address.
fn connections(
    index: &Index,
    flow: &Flow,
    pod: PodId,
    direction: Direction,
    needs: &Space,
    by_name: Option<&Space>,
) -> Space {
    if let Some(named) = by_name {
        return needs.intersection(named);
    }
    let other = match direction {
        Direction::Egress => &flow.to,
        Direction::Ingress => &flow.from,
    };
    let node = (index.pods()[pod].node.as_deref()).and_then(|name| index.node_id(name));
    match (other, node) {
        (Endpoint::KubeApiServer(api), _)
            if direction == Direction::Egress && !api.endpoints.is_empty() =>
        {
            let nets = |cidrs: &[crate::values::Cidr]| {
                (cidrs.iter()).fold(AddressSet::empty(), |all, c| {
                    all.union(&AddressSet::net(&c.net()))
                })
            };
            let tcp = |ports: &mut dyn Iterator<Item = u16>| {
                ports.fold(PortSet::empty(), |all, port| {
                    all.union(&PortSet::port(crate::matrix::Protocol::Tcp, port))
                })
            };
            let endpoint_ports = tcp(&mut api.endpoint_ports.iter().map(|p| p.get()));
            let service_ports = match &flow.ports {
                crate::matrix::Ports::Any => PortSet::all(),
                crate::matrix::Ports::List(list) => (list.iter())
                    .fold(PortSet::empty(), |all, p| {
                        all.union(&PortSet::port(p.protocol, p.number.get()))
                    }),
            };
            needs.intersection(
                &Space::addresses(nets(&api.endpoints), endpoint_ports)
                    .union(&Space::addresses(nets(&api.service), service_ports)),
            )
        }
        (Endpoint::Nodes(Nodes(_, NodeScope::Own)), Some(node)) => {
            let name = index.nodes()[node].name.as_str();
            let addresses = AddressSet::addresses(index.nodes()[node].addresses.iter().copied());
            let on_node: PodSet = (needs.pod_ids().iter())
                .filter(|&id| index.pods()[id].node.as_deref() == Some(name))
                .collect();
            needs.intersection(&Space::product(&on_node, addresses, &PortSet::all()))
        }
        _ => needs.clone(),
    }
}

/// The destinations that no connection has where Cilium's engine decides: the addresses of
/// kube-apiserver's Service where the profile gives its endpoints too. Cilium's load
/// balancing of ClusterIP Services replaces the Service's address by an endpoint's in the
/// pod's own datapath, before the policy lookup, so its policies see the endpoint: what
/// either set admits of the Service's address decides nothing there, and the endpoints are
/// compared.
fn translated(matrix: &Matrix, index: &Index) -> AddressSet {
    let api = &matrix.profile.api_server;
    if !index.has_namespaced_dialect() || api.endpoint_cidrs.is_empty() {
        return AddressSet::empty();
    }
    let nets = |cidrs: &[crate::values::Cidr]| {
        (cidrs.iter()).fold(AddressSet::empty(), |all, c| {
            all.union(&AddressSet::net(&c.net()))
        })
    };
    nets(&api.service_cidrs).difference(&nets(&api.endpoint_cidrs))
}

/// The rows that changed, by their place in the matrix, with the ports that did.
#[derive(Default)]
struct Rows(BTreeMap<usize, (RowChange, PortSet, PortSet)>);

impl Rows {
    /// Records that `flow` (the matrix's `number`th) gained `more` and lost `less` on `side`.
    fn add(&mut self, number: usize, flow: &Flow, side: &Side<'_>, more: &Space, less: &Space) {
        if more.is_empty() && less.is_empty() {
            return;
        }
        let (row, gained, lost) = (self.0.entry(number))
            .or_insert_with(|| (RowChange::new(flow), PortSet::empty(), PortSet::empty()));
        if !more.is_empty() {
            row.allowed.push(side.change(&side.after, more, flow));
            *gained = gained.union(&ports(more));
        }
        if !less.is_empty() {
            row.denied.push(side.change(&side.before, less, flow));
            *lost = lost.union(&ports(less));
        }
    }

    fn finish(self) -> Vec<RowChange> {
        (self.0.into_values())
            .map(|(row, gained, lost)| RowChange {
                gained: gained.describe(),
                lost: lost.describe(),
                ..row
            })
            .collect()
    }
}

/// Every port of `space`, whatever the peer.
fn ports(space: &Space) -> PortSet {
    let space = unnamed(space);
    let pods = space.pod_parts().iter().map(|(_, ports)| ports);
    let addresses = space.address_parts().iter().map(|(_, ports)| ports);
    pods.chain(addresses)
        .fold(PortSet::empty(), |all, ports| all.union(ports))
}

/// `space` with the addresses looked up by names as addresses, whatever the name.
fn unnamed(space: &Space) -> Space {
    let named = (space.named_parts())
        .flat_map(|(_, parts)| parts)
        .map(|(addresses, ports)| Space::addresses(addresses.clone(), ports.clone()));
    let plain = space.only_pods();
    (space.address_parts().iter())
        .map(|(addresses, ports)| Space::addresses(addresses.clone(), ports.clone()))
        .chain(named)
        .fold(plain, |all, part| all.union(&part))
}

/// The Dynatrace workload each pod belongs to, as the matrix names it.
fn workloads(matrix: &Matrix, places: &Places<'_>) -> BTreeMap<PodId, String> {
    let mut names = BTreeMap::new();
    for endpoint in matrix.flows.iter().flat_map(|f| [&f.from, &f.to]) {
        if endpoint.policy_subject().is_some() {
            for id in places.pods_of(endpoint) {
                names.entry(id).or_insert_with(|| endpoint.to_string());
            }
        }
    }
    names
}

/// One group of Dynatrace pods in one direction, and what each set allows there by rule.
struct Side<'a> {
    index: &'a Index,
    workload: String,
    group: &'a [PodId],
    direction: Direction,
    before: Vec<(Option<RuleRef>, Space)>,
    after: Vec<(Option<RuleRef>, Space)>,
}

impl Side<'_> {
    /// The change of `part` (connections of `flow`'s row; addresses looked up by names shown
    /// with their addresses, and with the names where they are not the row's own), naming
    /// every rule of `rules` that admits some of it.
    fn change(&self, rules: &[(Option<RuleRef>, Space)], part: &Space, flow: &Flow) -> Change {
        let own = extras::names_of(&flow.to);
        let by = (rules.iter())
            .filter(|(_, space)| !space.intersection(part).is_empty())
            .map(|(rule, _)| rule.as_ref().map(ToString::to_string))
            .collect();
        let plain = (part.address_parts().iter())
            .map(|(addresses, ports)| Space::addresses(addresses.clone(), ports.clone()))
            .fold(part.only_pods(), |all, p| all.union(&p));
        let mut peers = extras::peers(self.index, &plain);
        for (names, parts) in part.named_parts() {
            for (addresses, ports) in parts {
                peers.push(Peers {
                    pods: Vec::new(),
                    addresses: extras::blocks(addresses),
                    names: if own.as_ref() == Some(names) {
                        Vec::new()
                    } else {
                        vec![names.to_string()]
                    },
                    ports: ports.describe(),
                });
            }
        }
        Change {
            peers,
            ..self.made(by, &Space::empty())
        }
    }

    /// The changes of `part`, one per rule of `rules` that admits some of it beyond what the
    /// other set allows (`other`): a rule that admits an address by name only does not admit
    /// what became allowed of it whatever the name.
    fn by_rule(
        &self,
        rules: &[(Option<RuleRef>, Space)],
        part: &Space,
        other: &Space,
    ) -> Vec<Change> {
        if part.is_empty() {
            return Vec::new();
        }
        (rules.iter())
            .map(|(rule, space)| (rule, space.intersection(part).difference(other)))
            .filter(|(_, space)| !space.is_empty())
            .map(|(rule, space)| self.made(vec![rule.as_ref().map(ToString::to_string)], &space))
            .collect()
    }

    fn made(&self, by: Vec<Option<String>>, part: &Space) -> Change {
        Change {
            workload: self.workload.clone(),
            pods: extras::pod_names(self.index, self.group),
            direction: self.direction.name(),
            by,
            peers: extras::peers(self.index, part),
        }
    }
}

impl RowChange {
    fn new(flow: &Flow) -> Self {
        RowChange {
            id: flow.id.name(),
            refs: flow.refs.iter().map(|r| r.name()).collect(),
            from: flow.from.to_string(),
            to: flow.to.to_string(),
            ports: flow.ports.to_string(),
            allowed: Vec::new(),
            denied: Vec::new(),
            gained: Vec::new(),
            lost: Vec::new(),
            connections: Vec::new(),
        }
    }
}

/// The rows whose connections, decided one by one as `verify` tries them, changed verdict.
fn one_by_one(matrix: &Matrix, old: &Places<'_>, new: &Places<'_>) -> Vec<RowChange> {
    let mut rows = Vec::new();
    for flow in &matrix.flows {
        let (before, after) = (old.check(flow), new.check(flow));
        let connections: Vec<Connection> = (before.probes.iter().zip(&after.probes))
            .filter(|(was, is)| was.outcome.allowed != is.outcome.allowed)
            .map(|(_, is)| Connection {
                from: is.from.to_string(),
                to: is.to.to_string(),
                port: is.port,
                protocol: is.protocol,
                allowed: is.outcome.allowed,
                decided: format!(
                    "egress {}; ingress {}",
                    is.outcome.egress, is.outcome.ingress
                ),
            })
            .collect();
        let ports = |allowed: bool| {
            let mut ports: Vec<String> = Vec::new();
            for c in connections.iter().filter(|c| c.allowed == allowed) {
                let port = format!("{}/{}", c.port, c.protocol);
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
            ports
        };
        if !connections.is_empty() {
            rows.push(RowChange {
                gained: ports(true),
                lost: ports(false),
                connections,
                ..RowChange::new(flow)
            });
        }
    }
    rows
}

impl Diff {
    /// Whether anything changed.
    pub(crate) fn changed(&self) -> bool {
        !(self.widened.is_empty() && self.rows.is_empty() && self.narrowed.is_empty())
    }

    /// Whether some connection is newly allowed, whether a row needs it or not.
    pub(crate) fn widens(&self) -> bool {
        !self.widened.is_empty()
            || (self.rows.iter())
                .any(|row| !row.allowed.is_empty() || row.connections.iter().any(|c| c.allowed))
    }
}

#[cfg(test)]
mod tests;
