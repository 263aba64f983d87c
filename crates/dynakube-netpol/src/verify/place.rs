//! Where the endpoints of the matrix are in a cluster: pods, node and control-plane addresses,
//! host addresses; and the model cluster built from the matrix when no real one is given.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use super::report::{FlowCheck, Probe, Status};
use super::{admits, is_namespaced};
use crate::cluster::DnsProvider;
use crate::evaluate::{Connection, ContainerPort, Index, Namespace, Peer, Pod};
use crate::matrix::{
    Component, Endpoint, Flow, INSTANCE_NAMESPACE_LABEL, Matrix, Port, Ports, Protocol, Workload,
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
const ASSUMED_NODE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
/// The kube-apiserver endpoint assumed when the cluster profile gives none.
const ASSUMED_API_SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
/// The address a host without addresses is checked at under the public-internet fallback.
const PUBLIC_SAMPLE: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 99));

/// Addresses of the cluster's infrastructure, from the cluster profile and the pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Node addresses: the source of kubelet probes and of host-network pods.
    pub nodes: Vec<IpAddr>,
    /// Where kube-apiserver calls webhooks from.
    pub control_plane: Vec<IpAddr>,
    /// The kube-apiserver endpoints pods reach (after the Service is translated).
    pub api_endpoints: Vec<IpAddr>,
    /// The ports of those endpoints.
    pub api_ports: Vec<PortNumber>,
    /// The node-local DNS cache, if the cluster uses one.
    pub node_local_dns: Option<IpAddr>,
    /// What was assumed for lack of facts, in words.
    pub assumptions: Vec<String>,
}

impl Facts {
    /// The facts of the matrix's cluster profile, completed from the pods of `index`.
    pub fn new(matrix: &Matrix, index: &Index) -> Self {
        let profile = &matrix.profile;
        let mut assumptions = Vec::new();
        let mut nodes: Vec<IpAddr> = profile.node_cidrs.iter().map(first_address).collect();
        if nodes.is_empty() {
            nodes = index
                .pods()
                .iter()
                .filter(|p| p.host_network)
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
        let api = &profile.api_server;
        let mut api_endpoints: Vec<IpAddr> = api.endpoint_cidrs.iter().map(first_address).collect();
        let mut api_ports = api.ports.clone();
        if api_endpoints.is_empty() {
            if api.service_cidrs.is_empty() {
                api_endpoints.push(ASSUMED_API_SERVER);
                assumptions.push(format!(
                    "kube-apiserver at {ASSUMED_API_SERVER} (the cluster profile has no apiServer addresses)"
                ));
            } else {
                api_endpoints = api.service_cidrs.iter().map(first_address).collect();
                api_ports = vec![PortNumber::of(443)];
            }
        }
        Facts {
            nodes,
            control_plane,
            api_endpoints,
            api_ports,
            node_local_dns: profile.dns.node_local_address(),
            assumptions,
        }
    }

    /// Every infrastructure address, for the search beyond the matrix.
    pub fn known_addresses(&self) -> BTreeSet<IpAddr> {
        self.nodes
            .iter()
            .chain(&self.control_plane)
            .chain(&self.api_endpoints)
            .chain(&self.node_local_dns)
            .copied()
            .collect()
    }
}

/// The first host address of a network (the address itself for a single-address network).
fn first_address(cidr: &Cidr) -> IpAddr {
    let net = cidr.net();
    net.hosts().next().unwrap_or_else(|| net.addr())
}

/// Which side of a connection an endpoint is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Source,
    Destination,
}

/// The matrix's endpoints placed in one cluster.
pub(super) struct Places<'a> {
    matrix: &'a Matrix,
    index: &'a Index,
    addresses: &'a Addresses,
    pub(super) facts: Facts,
}

impl<'a> Places<'a> {
    pub(super) fn new(matrix: &'a Matrix, index: &'a Index, addresses: &'a Addresses) -> Self {
        Places {
            matrix,
            index,
            addresses,
            facts: Facts::new(matrix, index),
        }
    }

    /// The pods of a workload: by namespace and stable labels; injected apps by the namespace
    /// label the operator sets.
    pub(super) fn pods_of(&self, workload: &Workload) -> Vec<usize> {
        let pods = self.index.pods().iter().enumerate();
        if workload.component == Component::InjectedApps {
            let instance = workload.instance.as_ref().map_or("", |n| n.as_str());
            let injected: BTreeSet<&str> = self
                .index
                .namespaces()
                .iter()
                .filter(|ns| {
                    ns.labels
                        .get(INSTANCE_NAMESPACE_LABEL)
                        .is_some_and(|v| v == instance)
                })
                .map(|ns| ns.name.as_str())
                .collect();
            return pods
                .filter(|(_, p)| !p.host_network && injected.contains(p.namespace.as_str()))
                .map(|(id, _)| id)
                .collect();
        }
        let labels = workload.pod_labels();
        pods.filter(|(_, p)| p.namespace == workload.namespace.as_str() && has_labels(p, &labels))
            .map(|(id, _)| id)
            .collect()
    }

    fn pods_where(&self, namespace: &str, labels: &BTreeMap<String, String>) -> Vec<usize> {
        self.index
            .pods()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.namespace == namespace && !p.host_network && has_labels(p, labels))
            .map(|(id, _)| id)
            .collect()
    }

    fn dns_pods(&self) -> Vec<usize> {
        match self.matrix.profile.dns.provider {
            DnsProvider::Openshift => self.pods_where(
                "openshift-dns",
                &label("dns.operator.openshift.io/daemonset-dns", "default"),
            ),
            DnsProvider::KubeDns | DnsProvider::NodeLocal => {
                self.pods_where("kube-system", &label("k8s-app", "kube-dns"))
            }
        }
    }

    fn prometheus_pods(&self) -> Vec<usize> {
        match &self.matrix.profile.prometheus {
            Some(p) => {
                let labels = p
                    .pod_labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                self.pods_where(p.namespace.as_str(), &labels)
            }
            None => Vec::new(),
        }
    }

    /// The peers that stand for `endpoint`, or why none can.
    fn peers(&self, endpoint: &Endpoint, role: Role) -> Result<Vec<Peer>, String> {
        let pods = |ids: Vec<usize>, what: &str| {
            if ids.is_empty() {
                Err(format!("no pod of {what} in the cluster"))
            } else {
                Ok(ids.into_iter().map(Peer::Pod).collect())
            }
        };
        let ips = |ips: &[IpAddr]| Ok(ips.iter().copied().map(Peer::Ip).collect());
        match endpoint {
            Endpoint::Workload(w) => pods(self.pods_of(w), &w.name()),
            Endpoint::Nodes => ips(&self.facts.nodes),
            Endpoint::KubeApiServer => match role {
                Role::Source => ips(&self.facts.control_plane),
                Role::Destination => ips(&self.facts.api_endpoints),
            },
            Endpoint::Dns => match self.facts.node_local_dns {
                Some(ip) => Ok(vec![Peer::Ip(ip)]),
                None => pods(self.dns_pods(), "the cluster DNS"),
            },
            Endpoint::Prometheus => pods(self.prometheus_pods(), "Prometheus"),
            Endpoint::AllPods => {
                // One ordinary pod per namespace stands for all application pods; the
                // operator namespace holds Dynatrace components, not applications.
                let mut seen = BTreeSet::new();
                let ids = self
                    .index
                    .pods()
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        !p.host_network
                            && p.namespace != self.matrix.namespace.as_str()
                            && seen.insert(p.namespace.clone())
                    })
                    .map(|(id, _)| id)
                    .collect();
                pods(ids, "any namespace")
            }
            Endpoint::Host { host, .. } => self.host(&host_pattern(host)),
            Endpoint::HostPattern(pattern) => self.host(pattern),
            Endpoint::Unbounded(what) => Err(format!("{what} are not fixed peers")),
        }
    }

    fn host(&self, pattern: &HostPattern) -> Result<Vec<Peer>, String> {
        if let HostPattern::Ip(ip) = pattern {
            return Ok(vec![Peer::Ip(*ip)]);
        }
        if let Some(nets) = self.addresses.hosts.get(pattern) {
            return Ok(nets.iter().map(|n| Peer::Ip(first_address(n))).collect());
        }
        if let HostPattern::Name(name) = pattern
            && self.addresses.public_internet.contains(name)
        {
            return Ok(vec![Peer::Ip(PUBLIC_SAMPLE)]);
        }
        Err(format!(
            "no address for {pattern} (give it in the hosts file)"
        ))
    }

    /// Whether `peer` is (part of) `endpoint`. A host-network pod is also its addresses.
    fn contains(&self, endpoint: &Endpoint, peer: &Peer, role: Role) -> bool {
        if let Peer::Pod(id) = peer {
            let pod = &self.index.pods()[*id];
            if pod.host_network
                && pod
                    .ips
                    .iter()
                    .any(|ip| self.contains_one(endpoint, &Peer::Ip(*ip), role))
            {
                return true;
            }
        }
        self.contains_one(endpoint, peer, role)
    }

    fn contains_one(&self, endpoint: &Endpoint, peer: &Peer, role: Role) -> bool {
        let ip_in = |nets: &[Cidr], ip: &IpAddr| nets.iter().any(|n| n.net().contains(ip));
        let pod = |id: &usize| &self.index.pods()[*id];
        match (endpoint, peer) {
            (Endpoint::Workload(w), Peer::Pod(id)) => self.pods_of(w).contains(id),
            // Host-network pods are seen by their node's address.
            (Endpoint::Workload(w), Peer::Ip(ip)) if w.component.host_network() => {
                self.facts.nodes.contains(ip) || ip_in(&self.matrix.profile.node_cidrs, ip)
            }
            (Endpoint::Nodes, Peer::Ip(ip)) => {
                self.facts.nodes.contains(ip) || ip_in(&self.matrix.profile.node_cidrs, ip)
            }
            (Endpoint::Nodes, Peer::Pod(id)) => pod(id).host_network,
            (Endpoint::KubeApiServer, Peer::Ip(ip)) => match role {
                Role::Source => {
                    self.facts.control_plane.contains(ip)
                        || ip_in(&self.matrix.profile.control_plane_cidrs, ip)
                }
                Role::Destination => {
                    let api = &self.matrix.profile.api_server;
                    self.facts.api_endpoints.contains(ip)
                        || ip_in(&api.endpoint_cidrs, ip)
                        || ip_in(&api.service_cidrs, ip)
                }
            },
            (Endpoint::Dns, Peer::Pod(id)) => self.dns_pods().contains(id),
            (Endpoint::Dns, Peer::Ip(ip)) => self.facts.node_local_dns == Some(*ip),
            (Endpoint::Prometheus, Peer::Pod(id)) => self.prometheus_pods().contains(id),
            (Endpoint::AllPods, Peer::Pod(id)) => !pod(id).host_network,
            (Endpoint::Host { host, .. }, Peer::Ip(ip)) => {
                self.host_contains(&host_pattern(host), ip)
            }
            (Endpoint::HostPattern(pattern), Peer::Ip(ip)) => self.host_contains(pattern, ip),
            _ => false,
        }
    }

    fn host_contains(&self, pattern: &HostPattern, ip: &IpAddr) -> bool {
        if let HostPattern::Ip(address) = pattern {
            return address == ip;
        }
        if let Some(nets) = self.addresses.hosts.get(pattern) {
            return nets.iter().any(|n| n.net().contains(ip));
        }
        matches!(pattern, HostPattern::Name(name) if self.addresses.public_internet.contains(name))
            && public_internet().iter().any(|(net, except)| {
                net.net().contains(ip) && !except.iter().any(|e| e.net().contains(ip))
            })
    }

    /// Whether `flow` needs `connection`.
    pub(super) fn covers(&self, flow: &Flow, connection: &Connection) -> bool {
        let ports_ok = admits(&flow.ports, connection.port, connection.protocol)
            || (flow.to == Endpoint::KubeApiServer
                && connection.protocol == Protocol::Tcp
                && self
                    .facts
                    .api_ports
                    .iter()
                    .any(|p| p.get() == connection.port));
        ports_ok
            && self.contains(&flow.from, &connection.from, Role::Source)
            && self.contains(&flow.to, &connection.to, Role::Destination)
    }

    /// Decides every connection of `flow`.
    pub(super) fn check(&self, flow: &Flow) -> FlowCheck {
        let mut check = FlowCheck::new(flow);
        let sources = self.peers(&flow.from, Role::Source);
        let destinations = self.peers(&flow.to, Role::Destination);
        let (sources, destinations) = match (sources, destinations) {
            (Ok(s), Ok(d)) => (s, d),
            (Err(why), _) | (_, Err(why)) => {
                check.status = Status::Unchecked(why);
                return check;
            }
        };
        let ports: Vec<Port> = match &flow.ports {
            Ports::Any => {
                check.status = Status::Unchecked("the flow has no fixed port".into());
                return check;
            }
            Ports::List(list) => list.iter().copied().collect(),
        };
        let mut denied = false;
        for from in &sources {
            for to in &destinations {
                for port in &ports {
                    // Pods reach kube-apiserver through its Service; policies see the endpoint
                    // port after translation, so any endpoint port will do.
                    let alternatives: Vec<u16> = if flow.to == Endpoint::KubeApiServer {
                        self.facts.api_ports.iter().map(|p| p.get()).collect()
                    } else {
                        vec![port.number.get()]
                    };
                    let mut probes: Vec<Probe> = alternatives
                        .iter()
                        .map(|&number| {
                            let connection = Connection {
                                from: *from,
                                to: *to,
                                port: number,
                                protocol: port.protocol,
                            };
                            Probe::new(self.index, &connection, &self.index.evaluate(&connection))
                        })
                        .collect();
                    let allowed = probes.iter().find(|p| p.allowed).cloned();
                    match allowed {
                        Some(probe) => check.probes.push(probe),
                        None => {
                            denied = true;
                            check.probes.push(probes.remove(0));
                        }
                    }
                }
            }
        }
        check.status = if denied {
            Status::Denied
        } else {
            Status::Allowed
        };
        check
    }
}

fn has_labels(pod: &Pod, labels: &BTreeMap<String, String>) -> bool {
    !labels.is_empty() && labels.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
}

fn label(key: &str, value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_string(), value.to_string())])
}

/// The one port of the model's application pods.
fn http_port() -> Vec<ContainerPort> {
    vec![ContainerPort {
        name: Some("http".into()),
        port: 8080,
        protocol: Protocol::Tcp,
    }]
}

/// Port names the operator's manifests give, where known.
fn port_name(component: Component, port: Port) -> Option<&'static str> {
    Some(match (component, port.number.get()) {
        (Component::Operator, 8080) => "metrics",
        (Component::Operator | Component::Webhook, 10080) => "livez",
        (Component::Webhook, 8443) => "server-port",
        (Component::Webhook, 8383) => "metrics",
        (Component::ActiveGate, 9999) => "https",
        (Component::ActiveGate, 9998) => "http",
        (Component::ExtensionController, 14599) => "collector-com",
        _ => return None,
    })
}

/// A cluster made from the matrix alone: one pod per workload in the operator namespace with
/// the stable labels and the ports its flows reach, the cluster DNS, the Prometheus of the
/// profile, one injected application namespace per DynaKube, and an unrelated namespace with
/// an unrelated pod. Host-network pods get the first node address.
pub fn model_cluster(matrix: &Matrix) -> (Vec<Namespace>, Vec<Pod>) {
    let profile = &matrix.profile;
    let node = profile
        .node_cidrs
        .first()
        .map_or(ASSUMED_NODE, first_address);
    let mut namespaces: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut pods = Vec::new();
    let mut next_ip = 10u32;
    let mut add_pod = |pods: &mut Vec<Pod>,
                       name: String,
                       namespace: &str,
                       labels: BTreeMap<String, String>,
                       ports: Vec<ContainerPort>,
                       host_network: bool| {
        let ip = if host_network {
            node
        } else {
            next_ip += 1;
            IpAddr::V4(Ipv4Addr::from(
                u32::from(Ipv4Addr::new(10, 244, 0, 0)) + next_ip,
            ))
        };
        pods.push(Pod {
            name,
            namespace: namespace.to_string(),
            labels,
            ips: vec![ip],
            ports,
            host_network,
        });
    };
    namespaces.entry(matrix.namespace.to_string()).or_default();

    // The Dynatrace workloads, with the ports their flows reach.
    let mut workloads: BTreeMap<Workload, BTreeSet<Port>> = BTreeMap::new();
    for flow in &matrix.flows {
        for endpoint in [&flow.from, &flow.to] {
            if let Some(w) = endpoint.workload().filter(|w| is_namespaced(w.component)) {
                workloads.entry(w.clone()).or_default();
            }
        }
        if let (Some(w), Ports::List(ports)) = (flow.to.workload(), &flow.ports)
            && is_namespaced(w.component)
        {
            workloads.entry(w.clone()).or_default().extend(ports);
        }
    }
    for (workload, ports) in &workloads {
        let ports = ports
            .iter()
            .map(|&p| ContainerPort {
                name: port_name(workload.component, p).map(String::from),
                port: p.number.get(),
                protocol: p.protocol,
            })
            .collect();
        let host_network = workload.component.host_network();
        add_pod(
            &mut pods,
            format!("{}-0", workload.name()),
            workload.namespace.as_str(),
            workload.pod_labels(),
            ports,
            host_network,
        );
    }

    // Infrastructure and neighbours.
    let dns_port = |number| {
        vec![
            ContainerPort {
                name: Some("dns".into()),
                port: number,
                protocol: Protocol::Udp,
            },
            ContainerPort {
                name: Some("dns-tcp".into()),
                port: number,
                protocol: Protocol::Tcp,
            },
        ]
    };
    match profile.dns.provider {
        DnsProvider::Openshift => {
            namespaces.entry("openshift-dns".into()).or_default();
            add_pod(
                &mut pods,
                "dns-default-0".into(),
                "openshift-dns",
                label("dns.operator.openshift.io/daemonset-dns", "default"),
                dns_port(5353),
                false,
            );
        }
        DnsProvider::KubeDns | DnsProvider::NodeLocal => {
            namespaces.entry("kube-system".into()).or_default();
            add_pod(
                &mut pods,
                "coredns-0".into(),
                "kube-system",
                label("k8s-app", "kube-dns"),
                dns_port(53),
                false,
            );
        }
    }
    if let Some(prometheus) = &profile.prometheus {
        namespaces
            .entry(prometheus.namespace.to_string())
            .or_default();
        let labels = if prometheus.pod_labels.is_empty() {
            label("app", "prometheus")
        } else {
            prometheus
                .pod_labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        add_pod(
            &mut pods,
            "prometheus-0".into(),
            prometheus.namespace.as_str(),
            labels,
            Vec::new(),
            false,
        );
    }
    let instances: BTreeSet<String> = workloads
        .keys()
        .filter(|w| w.component.scope() == crate::matrix::Scope::DynaKube)
        .filter_map(|w| w.instance.as_ref().map(ToString::to_string))
        .chain(
            matrix
                .flows
                .iter()
                .flat_map(|f| [&f.from, &f.to])
                .filter_map(|e| e.workload())
                .filter(|w| w.component == Component::InjectedApps)
                .filter_map(|w| w.instance.as_ref().map(ToString::to_string)),
        )
        .collect();
    for instance in instances {
        let namespace = format!("apps-{instance}");
        namespaces
            .entry(namespace.clone())
            .or_default()
            .insert(INSTANCE_NAMESPACE_LABEL.into(), instance);
        add_pod(
            &mut pods,
            "app-0".into(),
            &namespace,
            label("app", "app"),
            http_port(),
            false,
        );
    }
    namespaces.entry("unrelated".into()).or_default();
    add_pod(
        &mut pods,
        "unrelated-0".into(),
        "unrelated",
        label("app", "unrelated"),
        http_port(),
        false,
    );

    let namespaces = namespaces
        .into_iter()
        .map(|(name, mut labels)| {
            labels.insert("kubernetes.io/metadata.name".into(), name.clone());
            Namespace { name, labels }
        })
        .collect();
    (namespaces, pods)
}
