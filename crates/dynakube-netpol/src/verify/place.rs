//! Where the endpoints of the matrix are in a cluster: pods, node and control-plane addresses,
//! host addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnet::IpNet;

use super::groups;
use super::report::{FlowCheck, Probe, Status};
use crate::evaluate::sets::{AddressSet, PodSet, PortSet};
use crate::evaluate::{Connection, ConnectionEnd, EndKey, Index, NodeId, Pod, Query};
use crate::matrix::{
    Direction, Endpoint, Flow, Matrix, NodeScope, Nodes, Port, Ports, Protocol, Selection, Selector,
};
use crate::resolve::{Addresses, public_internet};
use crate::values::{Cidr, Host, HostPattern, PortNumber};

/// The host of an endpoint as the addresses know it.
fn host_pattern(host: &Host) -> HostPattern {
    match host {
        Host::Name(name) => HostPattern::Name(name.clone()),
        Host::Ip(ip) => HostPattern::Ip(*ip),
    }
}

/// The node address assumed when neither the cluster profile nor the pods give one.
pub(super) const ASSUMED_NODE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
/// The kube-apiserver endpoint assumed when the cluster profile gives none.
const ASSUMED_API_SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
/// The address a host without addresses is checked at under the public-internet fallback.
const PUBLIC_SAMPLE: IpAddr = IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8));

/// Addresses of the cluster's infrastructure, from the cluster profile and the pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Infrastructure {
    /// Node addresses: the source of kubelet probes and of host-network pods.
    pub(crate) nodes: Vec<IpAddr>,
    /// Where kube-apiserver calls webhooks from.
    pub(crate) control_plane: Vec<IpAddr>,
    /// The kube-apiserver endpoints pods reach (after the Service is translated).
    pub(crate) api_endpoints: Vec<IpAddr>,
    /// The ports of those endpoints.
    pub(crate) api_ports: Vec<PortNumber>,
    /// The node-local DNS cache, if the cluster uses one.
    pub(crate) node_local_dns: Option<IpAddr>,
    /// The node address blocks of the cluster profile.
    pub(crate) node_cidrs: Vec<Cidr>,
    /// What was assumed for lack of facts, in words.
    pub(crate) assumptions: Vec<String>,
}

impl Infrastructure {
    /// The infrastructure of the matrix's cluster profile, completed from the pods of `index`.
    pub(crate) fn new(matrix: &Matrix, index: &Index) -> Self {
        let profile = &matrix.profile;
        let mut assumptions = Vec::new();
        let mut nodes: Vec<IpAddr> = profile.node_cidrs.iter().map(first_address).collect();
        if nodes.is_empty() {
            // The node of the host-network pods that share one with the first other pod: the
            // kubelet probes a pod from its own node (a DaemonSet's pods run on the others too).
            let pods = index.pods();
            let home = (pods.iter().find(|p| !p.host_network)).and_then(|p| p.node.as_ref());
            let at_home = (pods.iter()).any(|p| p.host_network && p.node.as_ref() == home);
            nodes = (pods.iter())
                .filter(|p| p.host_network && (!at_home || p.node.as_ref() == home))
                .flat_map(|p| p.ips.iter().copied())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
        }
        if nodes.is_empty() {
            nodes.push(ASSUMED_NODE);
            assumptions.push(format!(
                "node address {ASSUMED_NODE} (the cluster profile has no nodeCIDRs)"
            ));
        }
        let mut control_plane: Vec<IpAddr> = profile
            .control_plane_cidrs
            .iter()
            .map(first_address)
            .collect();
        if control_plane.is_empty() {
            control_plane = nodes.clone();
            assumptions.push("kube-apiserver calls webhooks from the node addresses (the cluster profile has no controlPlaneCIDRs)".into());
        }
        let (api_endpoints, api_ports) = api_endpoints(profile);
        if profile.api_server.endpoint_cidrs.is_empty()
            && profile.api_server.service_cidrs.is_empty()
        {
            assumptions.push(format!(
                "kube-apiserver at {ASSUMED_API_SERVER} (the cluster profile has no apiServer addresses)"
            ));
        }
        Infrastructure {
            nodes,
            control_plane,
            api_endpoints,
            api_ports,
            node_local_dns: profile.dns.node_local_address(),
            node_cidrs: profile.node_cidrs.clone(),
            assumptions,
        }
    }
}

/// Where pods reach kube-apiserver, and on which ports: the profile's endpoints, else its
/// Service addresses on 443, else an assumed address.
pub(super) fn api_endpoints(
    profile: &crate::cluster::ClusterProfile,
) -> (Vec<IpAddr>, Vec<PortNumber>) {
    let api = &profile.api_server;
    let endpoints: Vec<IpAddr> = api.endpoint_cidrs.iter().map(first_address).collect();
    if !endpoints.is_empty() {
        return (endpoints, api.ports.clone());
    }
    if api.service_cidrs.is_empty() {
        (vec![ASSUMED_API_SERVER], api.ports.clone())
    } else {
        let service = api.service_cidrs.iter().map(first_address).collect();
        (service, vec![PortNumber::of(443)])
    }
}

/// The first host address of a network (the address itself for a single-address network).
pub(super) fn first_address(cidr: &Cidr) -> IpAddr {
    let net = cidr.net();
    net.hosts().next().unwrap_or_else(|| net.addr())
}

/// Which side of a connection an endpoint is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Role {
    /// The source.
    Source,
    /// The destination.
    Destination,
}

/// The peers an endpoint stands for, as sets.
#[derive(Debug, Clone, Default)]
pub(super) struct Members {
    /// The pods seen as pods.
    pub(super) pods: PodSet,
    /// The addresses.
    pub(super) addresses: AddressSet,
}

/// The matrix's endpoints placed in one cluster, with the pods of every endpoint looked up
/// once.
pub(super) struct Places<'a> {
    index: &'a Index,
    addresses: &'a Addresses,
    /// What every thread's places share.
    found: Arc<Found<'a>>,
    /// The outcomes and names of ends made so far.
    made: groups::Made,
    /// Whether every connection is a probe of its own (not one per group the evaluator cannot
    /// tell apart), so that the probes of two policy sets correspond one to one.
    each: bool,
}

/// The matrix's endpoints found in the cluster, once for the places of every thread.
pub(super) struct Found<'a> {
    infrastructure: Infrastructure,
    /// The pods of every endpoint that stands for pods.
    pods: BTreeMap<&'a Endpoint, BTreeSet<usize>>,
    /// The pods the evaluator sees as pods (not by their addresses).
    pod_peers: PodSet,
}

impl<'a> Places<'a> {
    pub(super) fn new(matrix: &'a Matrix, index: &'a Index, addresses: &'a Addresses) -> Self {
        let by_namespace = pods_by_namespace(index);
        let mut pods = BTreeMap::new();
        for endpoint in matrix.flows.iter().flat_map(|f| [&f.from, &f.to]) {
            if !pods.contains_key(endpoint)
                && let Some(found) = find_pods(index, &by_namespace, endpoint, matrix)
            {
                pods.insert(endpoint, found);
            }
        }
        let found = Found {
            infrastructure: Infrastructure::new(matrix, index),
            pods,
            pod_peers: index.pod_peers(),
        };
        Places::sharing(index, addresses, Arc::new(found))
    }

    /// Places of their own (for a thread of its own) that share what was `found`.
    pub(super) fn sharing(
        index: &'a Index,
        addresses: &'a Addresses,
        found: Arc<Found<'a>>,
    ) -> Self {
        Places {
            index,
            addresses,
            found,
            made: groups::Made::default(),
            each: false,
        }
    }

    /// What these places found, to share.
    pub(super) fn found(&self) -> Arc<Found<'a>> {
        self.found.clone()
    }

    /// What places of their own for another thread are made of ([`Places::sharing`]).
    pub(super) fn parts(&self) -> (&'a Index, &'a Addresses, Arc<Found<'a>>) {
        (self.index, self.addresses, self.found.clone())
    }

    /// The infrastructure of the cluster.
    pub(super) fn infrastructure(&self) -> &Infrastructure {
        &self.found.infrastructure
    }

    /// These places with every connection a probe of its own.
    pub(super) fn one_by_one(self) -> Self {
        Places { each: true, ..self }
    }

    /// The pods of an endpoint that stands for pods (none for others).
    pub(super) fn pods_of(&self, endpoint: &Endpoint) -> impl Iterator<Item = usize> + '_ {
        self.found.pods.get(endpoint).into_iter().flatten().copied()
    }

    /// How much checking `flow` takes, roughly: its ends, times its ports.
    pub(super) fn weight(&self, flow: &Flow) -> usize {
        let ends = |endpoint, role| self.ends(endpoint, role).map_or(0, |ends| ends.len());
        let ports = match &flow.ports {
            Ports::List(list) => list.len(),
            Ports::Any => 0,
        };
        (ends(&flow.from, Role::Source) + ends(&flow.to, Role::Destination)) * ports
    }

    /// The connection ends that stand for `endpoint`, or why none can.
    fn ends(&self, endpoint: &Endpoint, role: Role) -> Result<Vec<ConnectionEnd>, String> {
        let ips = |ips: &[IpAddr]| Ok(ips.iter().copied().map(ConnectionEnd::Ip).collect());
        match endpoint {
            Endpoint::Nodes(_) => ips(&self.found.infrastructure.nodes),
            Endpoint::KubeApiServer(_) => match role {
                Role::Source => ips(&self.found.infrastructure.control_plane),
                Role::Destination => ips(&self.found.infrastructure.api_endpoints),
            },
            Endpoint::Dns(dns) if dns.cache.is_some() => {
                Ok(dns.cache.into_iter().map(ConnectionEnd::Ip).collect())
            }
            Endpoint::Host { host, .. } => self.host(&host_pattern(host)),
            Endpoint::HostPattern(pattern) => self.host(pattern),
            Endpoint::Blocks(b) => Ok(b
                .cidrs
                .iter()
                .map(|c| ConnectionEnd::Ip(c.net().network()))
                .collect()),
            Endpoint::Unbounded(what) => Err(format!("{what} are not fixed peers")),
            Endpoint::Workload(_) | Endpoint::Dns(_) | Endpoint::Pods(_) => {
                let ids: Vec<ConnectionEnd> =
                    self.pods_of(endpoint).map(ConnectionEnd::Pod).collect();
                if ids.is_empty() {
                    Err(format!("no pod of {endpoint} in the cluster"))
                } else {
                    Ok(ids)
                }
            }
        }
    }

    fn host(&self, pattern: &HostPattern) -> Result<Vec<ConnectionEnd>, String> {
        if let HostPattern::Ip(ip) = pattern {
            return Ok(vec![ConnectionEnd::Ip(*ip)]);
        }
        if let Some(nets) = self.addresses.hosts.get(pattern) {
            return Ok(nets
                .iter()
                .map(|n| ConnectionEnd::Ip(first_address(n)))
                .collect());
        }
        if let HostPattern::Name(name) = pattern
            && self.addresses.public_internet.contains(name)
        {
            return Ok(vec![ConnectionEnd::Ip(PUBLIC_SAMPLE)]);
        }
        Err(format!(
            "no address for {pattern} (give it in the hosts file)"
        ))
    }

    /// The peers `endpoint` stands for at the end of `role`, as sets: the pods seen as pods,
    /// and the addresses (among them those of the pods the evaluator sees by their addresses,
    /// hostNetwork pods by default). A connection of a flow has its source among the members
    /// of the flow's source and its destination among those of its destination.
    pub(super) fn members(&self, endpoint: &Endpoint, role: Role) -> Members {
        let pods = self.index.pods();
        let peers = &self.found.pod_peers;
        let standing: PodSet = match endpoint {
            // Every ordinary pod is one of "all pods", not only those that stand for them.
            Endpoint::Pods(p) if p.namespace.is_none() && p.labels.is_empty() => (0..pods.len())
                .filter(|&id| !pods[id].host_network)
                .collect(),
            Endpoint::Workload(_) | Endpoint::Dns(_) | Endpoint::Pods(_) => {
                self.pods_of(endpoint).collect()
            }
            Endpoint::Nodes(_) => (0..pods.len())
                .filter(|&id| pods[id].host_network)
                .collect(),
            _ => PodSet::default(),
        };
        let seen_by_address = standing.difference(peers);
        let addresses = self
            .addresses_of(endpoint, role)
            .union(&AddressSet::addresses(
                seen_by_address
                    .iter()
                    .flat_map(|id| pods[id].ips.iter().copied()),
            ));
        // A host-network pod seen as a pod is also its addresses.
        let by_address: PodSet = peers
            .iter()
            .filter(|&id| {
                pods[id].host_network && pods[id].ips.iter().any(|ip| addresses.contains(*ip))
            })
            .collect();
        Members {
            pods: standing.intersection(peers).union(&by_address),
            addresses,
        }
    }

    /// The addresses that stand for `endpoint` at the end of `role`.
    fn addresses_of(&self, endpoint: &Endpoint, role: Role) -> AddressSet {
        let nets = |nets: &[Cidr]| {
            nets.iter().fold(AddressSet::empty(), |set, net| {
                set.union(&AddressSet::net(&net.net()))
            })
        };
        let ips = |ips: &[IpAddr]| AddressSet::addresses(ips.iter().copied());
        let infra = &self.found.infrastructure;
        match endpoint {
            // Host-network pods are seen by their node's address.
            Endpoint::Workload(w) => match &w.selection {
                Selection::HostNetwork(_) => ips(&infra.nodes).union(&nets(&infra.node_cidrs)),
                _ => AddressSet::empty(),
            },
            Endpoint::Nodes(nodes) => ips(&infra.nodes).union(&nets(&nodes.0)),
            // kube-apiserver calls from the control plane, and from where it serves (which
            // Cilium's `kube-apiserver` entity names).
            Endpoint::KubeApiServer(api) => match role {
                Role::Source => ips(&infra.control_plane)
                    .union(&nets(&api.control_plane))
                    .union(&ips(&infra.api_endpoints))
                    .union(&nets(&api.endpoints)),
                Role::Destination => ips(&infra.api_endpoints)
                    .union(&nets(&api.endpoints))
                    .union(&nets(&api.service)),
            },
            Endpoint::Dns(dns) => ips(dns.cache.as_slice()),
            Endpoint::Host { host, .. } => self.host_addresses(&host_pattern(host)),
            Endpoint::HostPattern(pattern) => self.host_addresses(pattern),
            Endpoint::Blocks(b) => nets(&b.cidrs),
            Endpoint::Pods(_) | Endpoint::Unbounded(_) => AddressSet::empty(),
        }
    }

    /// The addresses of a host: its IP, what the addresses give for it, or the public internet
    /// for a host that falls back to it.
    fn host_addresses(&self, pattern: &HostPattern) -> AddressSet {
        if let HostPattern::Ip(address) = pattern {
            return AddressSet::address(*address);
        }
        if let Some(nets) = self.addresses.hosts.get(pattern) {
            return nets.iter().fold(AddressSet::empty(), |set, net| {
                set.union(&AddressSet::net(&net.net()))
            });
        }
        match pattern {
            HostPattern::Name(name) if self.addresses.public_internet.contains(name) => {
                public_internet()
                    .iter()
                    .fold(AddressSet::empty(), |set, (net, except)| {
                        let except: Vec<IpNet> = except.iter().map(Cidr::net).collect();
                        set.union(&AddressSet::block(&net.net(), &except))
                    })
            }
            _ => AddressSet::empty(),
        }
    }

    /// The destination ports of `flow`; pods reach kube-apiserver through its Service, and
    /// policies may see the endpoint ports after translation, so those count too.
    pub(super) fn flow_ports(&self, flow: &Flow) -> PortSet {
        let mut ports = match &flow.ports {
            Ports::Any => PortSet::all(),
            Ports::List(list) => list.iter().fold(PortSet::empty(), |set, p| {
                set.union(&PortSet::port(p.protocol, p.number.get()))
            }),
        };
        if matches!(flow.to, Endpoint::KubeApiServer(_)) {
            for port in &self.found.infrastructure.api_ports {
                ports = ports.union(&PortSet::port(Protocol::Tcp, port.get()));
            }
        }
        ports
    }

    /// Decides every connection of `flow`: in groups of connections that the evaluator cannot
    /// tell apart, each decided once and tried as its first connection (see `groups`); the
    /// probes come in the order of the connections they begin with.
    pub(super) fn check(&self, flow: &Flow) -> FlowCheck {
        let mut check = FlowCheck::new(flow);
        let sources = self.ends(&flow.from, Role::Source);
        let destinations = self.ends(&flow.to, Role::Destination);
        let (sources, destinations) = match (sources, destinations) {
            (Ok(s), Ok(d)) => (s, d),
            (Err(why), _) | (_, Err(why)) => {
                check.status = Status::Unchecked(why);
                return check;
            }
        };
        let (sources, destinations, own) = self.own_nodes(flow, sources, destinations);
        let ports: Vec<Port> = match &flow.ports {
            Ports::Any => {
                check.status = Status::Unchecked("the flow has no fixed port".into());
                return check;
            }
            Ports::List(list) => list.iter().copied().collect(),
        };
        // Where a node matters, whether the two ends are on one node does; between pods and
        // their own nodes, only connections on one node are the flow's.
        let near = own || groups::near_matters(self.index, &sources, &destinations);
        let (from_groups, to_groups) = if self.each {
            (self.singles(&sources), self.singles(&destinations))
        } else {
            (
                groups::groups(self.index, &sources, &destinations, near),
                groups::groups(self.index, &destinations, &sources, near),
            )
        };
        let nodes = near.then(|| {
            let of = |ends: &[ConnectionEnd]| -> Vec<Option<NodeId>> {
                ends.iter().map(|end| self.index.node_of_end(end)).collect()
            };
            (of(&sources), of(&destinations))
        });
        let nodes = nodes.as_ref().map(|(a, b)| (a.as_slice(), b.as_slice()));
        let targets: Vec<groups::Targets> = (to_groups.iter())
            .map(|(_, to)| groups::Targets::of(&destinations, nodes, to))
            .collect();
        let mut probes = Vec::new();
        for (from_key, from) in &from_groups {
            for ((to_key, to), targets) in to_groups.iter().zip(&targets) {
                let ends = (&sources[..], &destinations[..]);
                for ((i, j), connections) in groups::pairs(ends, nodes, from, (to, targets)) {
                    let near =
                        nodes.is_some() && (self.index).same_node(&sources[i], &destinations[j]);
                    if own && !near {
                        continue;
                    }
                    for (p, port) in ports.iter().enumerate() {
                        let ends = (sources[i], destinations[j]);
                        let keys = (*from_key, *to_key, near);
                        let probe = self.probe(flow, ends, keys, *port);
                        probes.push((
                            (i, j, p),
                            Probe {
                                connections,
                                ..probe
                            },
                        ));
                    }
                }
            }
        }
        probes.sort_unstable_by_key(|(at, _)| *at);
        let denied = probes.iter().any(|(_, probe)| !probe.outcome.allowed);
        check.probes = probes.into_iter().map(|(_, probe)| probe).collect();
        check.status = if denied {
            Status::Denied
        } else {
            Status::Allowed
        };
        check
    }

    /// For a flow between pods and their own nodes (`NodeScope::Own`: the kubelet probing a
    /// pod, the kubelet API of a DaemonSet pod's node), the nodes of those pods in place of the
    /// profile's node addresses, where the cluster lists the node of every such pod, and `true`
    /// (only connections on one node are then the flow's); else the ends as they are. Cilium
    /// tells a pod's own node (`host`) from the others (`remote-node`), and every plugin lets a
    /// node reach its own pods, so an address of another node would decide another connection.
    fn own_nodes(
        &self,
        flow: &Flow,
        sources: Vec<ConnectionEnd>,
        destinations: Vec<ConnectionEnd>,
    ) -> (Vec<ConnectionEnd>, Vec<ConnectionEnd>, bool) {
        let own =
            |endpoint: &Endpoint| matches!(endpoint, Endpoint::Nodes(Nodes(_, NodeScope::Own)));
        let nodes_of = |pods: &[ConnectionEnd]| -> Option<Vec<ConnectionEnd>> {
            let nodes = pods.iter().map(|end| match end {
                ConnectionEnd::Pod(_) => self.index.node_of_end(end),
                _ => None,
            });
            let nodes: Option<BTreeSet<NodeId>> = nodes.collect();
            nodes
                .filter(|nodes| !nodes.is_empty())
                .map(|nodes| nodes.into_iter().map(ConnectionEnd::Node).collect())
        };
        if own(&flow.from)
            && let Some(nodes) = nodes_of(&destinations)
        {
            return (nodes, destinations, true);
        }
        if own(&flow.to)
            && let Some(nodes) = nodes_of(&sources)
        {
            return (sources, nodes, true);
        }
        (sources, destinations, false)
    }

    /// Every end of `ends` a group of its own.
    fn singles(&self, ends: &[ConnectionEnd]) -> Vec<(EndKey, Vec<usize>)> {
        (ends.iter().enumerate())
            .map(|(at, end)| (self.index.end_key(end, true), vec![at]))
            .collect()
    }

    /// One connection of a flow, between ends of the keys `keys` (and on one node or not).
    /// Pods reach kube-apiserver through its Service; policies see the endpoint port after
    /// translation, so any endpoint port will do. A host's address is looked up by the host's
    /// name (for Cilium's `toFQDNs`). Each side is decided once for its kind of side.
    fn probe(
        &self,
        flow: &Flow,
        (from, to): (ConnectionEnd, ConnectionEnd),
        (from_key, to_key, near): (EndKey, EndKey, bool),
        port: Port,
    ) -> Probe {
        let name = match &flow.to {
            Endpoint::Host {
                host: Host::Name(name),
                ..
            } => Some(name.as_str()),
            _ => None,
        };
        let alternatives: Vec<u16> = if matches!(flow.to, Endpoint::KubeApiServer(_)) {
            (self.found.infrastructure)
                .api_ports
                .iter()
                .map(|p| p.get())
                .collect()
        } else {
            vec![port.number.get()]
        };
        let mut probes: Vec<Probe> = alternatives
            .iter()
            .map(|&number| {
                let connection = Connection {
                    from,
                    to,
                    port: number,
                    protocol: port.protocol,
                };
                let kind = (
                    from_key,
                    to_key,
                    (from == to, near),
                    number,
                    port.protocol,
                    name.map(std::borrow::Cow::Borrowed),
                );
                let outcome = self.made.outcome(kind, || {
                    let query = Query {
                        connection: &connection,
                        name,
                    };
                    let rest = ((from == to, near), number, port.protocol);
                    let side = |direction,
                                subject: (&ConnectionEnd, EndKey),
                                peer: (&ConnectionEnd, EndKey)| {
                        let made = &self.made;
                        let seen = made.subject(self.index, direction, subject);
                        let kind = (
                            direction,
                            seen,
                            made.peer(self.index, direction, seen, (peer.0, peer.1)),
                            rest.0,
                            rest.1,
                            rest.2,
                            name.map(std::borrow::Cow::Borrowed),
                        );
                        made.side(kind, || {
                            (self.index).decide_side(direction, &query, subject.0, peer.0)
                        })
                    };
                    (
                        side(Direction::Egress, (&from, from_key), (&to, to_key)),
                        side(Direction::Ingress, (&to, to_key), (&from, from_key)),
                    )
                });
                Probe {
                    from: self.made.name(self.index, &from),
                    to: self.made.name(self.index, &to),
                    name: name.map(|name| self.made.host(name)),
                    port: number,
                    protocol: port.protocol.name(),
                    outcome,
                    connections: 1,
                }
            })
            .collect();
        match probes.iter().position(|p| p.outcome.allowed) {
            Some(allowed) => probes.swap_remove(allowed),
            None => probes.swap_remove(0),
        }
    }
}

/// The pods of every namespace.
fn pods_by_namespace(index: &Index) -> BTreeMap<&str, Vec<usize>> {
    let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (id, pod) in index.pods().iter().enumerate() {
        by_namespace
            .entry(pod.namespace.as_str())
            .or_default()
            .push(id);
    }
    by_namespace
}

/// The pods an endpoint stands for: the pods of a workload (the namespace label of injected
/// application namespaces), of the cluster DNS, of other pods by namespace and labels. `None`
/// for endpoints that are addresses.
fn find_pods(
    index: &Index,
    by_namespace: &BTreeMap<&str, Vec<usize>>,
    endpoint: &Endpoint,
    matrix: &Matrix,
) -> Option<BTreeSet<usize>> {
    let pods = index.pods();
    let in_namespace = |namespace: &str| by_namespace.get(namespace).into_iter().flatten().copied();
    let labelled = |namespace: &str, selector: &Selector| {
        in_namespace(namespace)
            .filter(|&id| selects(selector, &pods[id]))
            .collect::<BTreeSet<usize>>()
    };
    let ordinary = |id: &usize| !pods[*id].host_network;
    Some(match endpoint {
        Endpoint::Workload(w) => match &w.selection {
            Selection::Pods(selector) | Selection::HostNetwork(selector) => {
                labelled(w.namespace.as_str(), selector)
            }
            Selection::Namespaces { key, value } => index
                .namespaces()
                .iter()
                .filter(|ns| ns.labels.get(*key) == Some(value))
                .flat_map(|ns| in_namespace(&ns.name))
                .filter(ordinary)
                .collect(),
        },
        Endpoint::Dns(dns) => labelled(dns.namespace, &Selector::labels(dns.labels.clone()))
            .into_iter()
            .filter(ordinary)
            .collect(),
        Endpoint::Pods(p) => match &p.namespace {
            Some(namespace) if p.labels.is_empty() => {
                in_namespace(namespace.as_str()).filter(ordinary).collect()
            }
            Some(namespace) => labelled(namespace.as_str(), &Selector::labels(p.labels.clone()))
                .into_iter()
                .filter(ordinary)
                .collect(),
            // Labelled pods of every namespace.
            None if !p.labels.is_empty() => {
                let selector = Selector::labels(p.labels.clone());
                pods.iter()
                    .enumerate()
                    .filter(|(_, pod)| selector.matches(&pod.labels))
                    .map(|(id, _)| id)
                    .filter(ordinary)
                    .collect()
            }
            // One ordinary pod per namespace stands for all application pods; the operator
            // namespace holds Dynatrace components, not applications.
            None => by_namespace
                .iter()
                .filter(|(namespace, _)| **namespace != matrix.namespace.as_str())
                .filter_map(|(_, ids)| ids.iter().copied().find(|&id| !pods[id].host_network))
                .collect(),
        },
        _ => return None,
    })
}

/// Whether `selector` selects `pod`; an empty selector selects nothing here.
fn selects(selector: &Selector, pod: &Pod) -> bool {
    !(selector.labels.is_empty() && selector.one_of.is_empty()) && selector.matches(&pod.labels)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::evaluate::{Options, PolicyFiles, Verdict, read_cluster, read_policies};
    use crate::synthetic::{Scale, large_files};

    /// A generated cluster with pods of one class on several nodes, its DynaKube's matrix and
    /// addresses, and its policies (those of NetworkPolicies only when `all` is false).
    fn scene(all: bool) -> (Matrix, Index, Addresses) {
        let scale = Scale {
            nodes: 5,
            namespaces: 7,
            pods: 160,
            network_policies: 40,
            cluster_network_policies: if all { 30 } else { 0 },
            cilium_policies: if all { 30 } else { 0 },
        };
        let files: BTreeMap<String, String> = large_files(&scale, 11).into_iter().collect();
        let mut inputs = crate::resources::Inputs::default();
        let options = crate::input::ParseOptions::default();
        crate::input::parse_into(&mut inputs, "dk", &files["dynakube.yaml"], &options).unwrap();
        let profile =
            crate::cluster::ClusterProfile::parse("p", &files["cluster-profile.yaml"]).unwrap();
        let matrix = crate::matrix::build(&inputs, &profile, &Default::default()).unwrap();
        let hosts = crate::resolve::FixedHosts::parse("h", &files["hosts.yaml"]).unwrap();
        let fallback = crate::resolve::Fallback::Fail;
        let addresses =
            crate::resolve::resolve_known(&matrix, &hosts, fallback, &Default::default()).unwrap();
        let limits = crate::source::Limits {
            max_bytes: usize::MAX,
            ..Default::default()
        };
        let cluster = read_cluster("c", &files["cluster.json"], &limits).unwrap();
        let mut policies = read_policies("p", &files["policies.json"], &limits).unwrap();
        if !all {
            policies = PolicyFiles::from(policies.policies);
        }
        let index = Index::with_options(cluster, &policies, Options::default()).unwrap();
        (matrix, index, addresses)
    }

    /// The sides of each kind of side, as first decided, and the sides met by the keys of
    /// their ends.
    #[derive(Default)]
    struct Sides<'n> {
        first: HashMap<groups::SideKind<'n>, crate::evaluate::Decision>,
        by_keys: std::collections::HashSet<(Direction, groups::Subject, EndKey, u16, bool)>,
    }

    /// Asserts that both sides of `connection` (decided as `verdict`, its ends of keys `keys`,
    /// on one node or not, the destination looked up by `name`) are decided as the first side
    /// of their kind in `sides`.
    fn same_sides<'n>(
        index: &Index,
        made: &groups::Made,
        sides: &mut Sides<'n>,
        (connection, keys, near, name): (&Connection, (EndKey, EndKey), bool, Option<&'n str>),
        verdict: &Verdict,
    ) {
        let (from, to) = (&connection.from, &connection.to);
        for (direction, subject, peer, decision) in [
            (
                Direction::Egress,
                (from, keys.0),
                (to, keys.1),
                &verdict.egress,
            ),
            (
                Direction::Ingress,
                (to, keys.1),
                (from, keys.0),
                &verdict.ingress,
            ),
        ] {
            let seen = made.subject(index, direction, subject);
            let side = (
                direction,
                seen,
                made.peer(index, direction, seen, peer),
                (from == to, near),
                connection.port,
                connection.protocol,
                name.map(std::borrow::Cow::Borrowed),
            );
            let first = sides.first.entry(side).or_insert_with(|| decision.clone());
            assert_eq!(first, decision, "{direction:?}: {connection:?}");
            (sides.by_keys).insert((direction, seen, peer.1, connection.port, from == to));
        }
    }

    impl Sides<'_> {
        /// Asserts that connections of `kinds` kinds share sides: pods of several classes, and
        /// peers of several classes (which some sides' rules see alike).
        fn assert_shared(&self, kinds: usize) {
            let sides = self.first.len();
            assert!(sides < 2 * kinds, "{sides} sides of {kinds} kinds");
            let by_keys = self.by_keys.len();
            assert!(
                sides < by_keys,
                "{sides} sides, {by_keys} by the keys of their ends"
            );
        }
    }

    #[test]
    fn connections_of_one_kind_are_decided_alike() {
        for all in [true, false] {
            let (matrix, index, addresses) = scene(all);
            let places = Places::new(&matrix, &index, &addresses);
            let (mut kinds, mut grouped, mut hosts) = (0, 0, 0);
            let mut decided: HashMap<groups::Kind<'_>, Verdict> = HashMap::new();
            let made = groups::Made::default();
            let mut sides = Sides::default();
            for flow in &matrix.flows {
                let (Ok(sources), Ok(destinations), Ports::List(ports)) = (
                    places.ends(&flow.from, Role::Source),
                    places.ends(&flow.to, Role::Destination),
                    &flow.ports,
                ) else {
                    continue;
                };
                let nodes = groups::near_matters(&index, &sources, &destinations);
                let mut keys = |ends: &[ConnectionEnd], others: &[ConnectionEnd]| {
                    let mut keys = vec![None; ends.len()];
                    for (key, members) in groups::groups(&index, ends, others, nodes) {
                        grouped += usize::from(members.len() > 1);
                        // Pods in the host network on several nodes of one class.
                        hosts += usize::from(matches!(key, EndKey::Host(..)) && members.len() > 1);
                        members.iter().for_each(|&at| keys[at] = Some(key));
                    }
                    keys
                };
                let (from_keys, to_keys) =
                    (keys(&sources, &destinations), keys(&destinations, &sources));
                // Every connection of a flow is decided as the other connections of its kind.
                for (from, from_key) in sources.iter().zip(&from_keys) {
                    for (to, to_key) in destinations.iter().zip(&to_keys) {
                        for port in ports {
                            let connection = Connection {
                                from: *from,
                                to: *to,
                                port: port.number.get(),
                                protocol: port.protocol,
                            };
                            let name = match &flow.to {
                                Endpoint::Host {
                                    host: Host::Name(name),
                                    ..
                                } => Some(name.as_str()),
                                _ => None,
                            };
                            let verdict = index.decide(&Query {
                                connection: &connection,
                                name,
                            });
                            let near = nodes && index.same_node(from, to);
                            let kind = (
                                from_key.unwrap(),
                                to_key.unwrap(),
                                (from == to, near),
                                connection.port,
                                connection.protocol,
                                name.map(std::borrow::Cow::Borrowed),
                            );
                            // Each side is decided as the other sides of its kind.
                            let keys = (from_key.unwrap(), to_key.unwrap());
                            let kind_of = (&connection, keys, near, name);
                            same_sides(&index, &made, &mut sides, kind_of, &verdict);
                            let first = decided.entry(kind).or_insert_with(|| {
                                kinds += 1;
                                verdict.clone()
                            });
                            assert_eq!(*first, verdict, "{connection:?}");
                        }
                    }
                }
                // The probes stand for every connection, once.
                let check = places.check(flow);
                let counted: usize = check.probes.iter().map(|p| p.connections).sum();
                assert_eq!(counted, sources.len() * destinations.len() * ports.len());
            }
            assert!(grouped > 5, "{grouped} groups of several ends");
            assert!(kinds > 20, "{kinds} kinds of connections");
            // Pods of several classes share sides.
            sides.assert_shared(kinds);
            // With Cilium's policies, the pods of the OneAgent's DaemonSet are one group.
            assert_eq!(hosts > 0, all, "{hosts} groups of pods in the host network");
        }
    }

    /// The kubelet probes a pod from the pod's own node, which Cilium tells from the others
    /// (its policies admit the probes from `host`), not from the first address of the
    /// profile's node blocks.
    #[test]
    fn the_kubelet_probes_a_pod_from_its_own_node() {
        let (matrix, index, addresses) = scene(true);
        let places = Places::new(&matrix, &index, &addresses);
        let first_node = places.found.infrastructure.nodes[0];
        let (mut probed, mut elsewhere) = (0, 0);
        let own =
            |endpoint: &Endpoint| matches!(endpoint, Endpoint::Nodes(Nodes(_, NodeScope::Own)));
        for flow in &matrix.flows {
            let Ports::List(ports) = &flow.ports else {
                continue;
            };
            // The pods' end, and whether the nodes are the sources.
            let (pods, from_nodes) = match (own(&flow.from), own(&flow.to)) {
                (true, _) => (places.ends(&flow.to, Role::Destination).unwrap(), true),
                (_, true) => (places.ends(&flow.from, Role::Source).unwrap(), false),
                _ => continue,
            };
            let check = places.check(flow);
            assert_eq!(check.status, Status::Allowed, "{:?}", flow.id);
            let counted: usize = check.probes.iter().map(|p| p.connections).sum();
            assert_eq!(counted, pods.len() * ports.len(), "{:?}", flow.id);
            for probe in &check.probes {
                let pod = if from_nodes { &probe.to } else { &probe.from };
                let (namespace, name) = pod.split_once('/').unwrap();
                let pod = &index.pods()[index.pod_id(namespace, name).unwrap()];
                let node = pod.node.as_deref().unwrap();
                let end = if from_nodes { &probe.from } else { &probe.to };
                assert_eq!(&**end, format!("node/{node}"), "{:?}", flow.id);
                let node = index.node_id(node).unwrap();
                elsewhere += usize::from(!index.nodes()[node].addresses.contains(&first_node));
                probed += 1;
            }
        }
        assert!(
            probed > 5 && elsewhere > 0,
            "{probed} probes, {elsewhere} elsewhere"
        );
    }
}
