//! The model cluster: pods and namespaces made from the matrix alone, for checking policies
//! when no real cluster is given.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use super::place::{ASSUMED_NODE, api_endpoints, first_address};
use crate::cluster::DnsProvider;
use crate::evaluate::{Cluster, ContainerPort, Namespace, Node, Pod};
use crate::matrix::releases::{self, OperatorVersion};
use crate::matrix::{
    Endpoint, INSTANCE_NAMESPACE_LABEL, Matrix, Pods, PodsKind, Port, Ports, Protocol, Scope,
    Selection, Workload, port_name,
};

/// A cluster made from the matrix alone: one pod per workload in the operator namespace with
/// the stable labels and the ports its flows reach, the cluster DNS (and the profile's
/// node-local DNS cache), the Prometheus of the profile, one injected application namespace per
/// DynaKube, and an unrelated namespace with an unrelated pod, all on node `node-0`; a second
/// node `node-1`; kube-apiserver where the profile says (else where `verify` assumes it).
/// Host-network pods get the first node address; where the profile has a second node, a
/// host-network workload (a DaemonSet) has a second pod there, so that its connections with
/// the pods of `node-0` cross nodes as most of them do (NetworkPolicies cannot block those on
/// one node). The profile's `nodeCIDRs` stand for the nodes: an address in them that neither
/// node has is a node the model does not list ([`Cluster::node_blocks`]).
pub fn model_cluster(matrix: &Matrix) -> Cluster {
    let cidrs = &matrix.profile.node_cidrs;
    let first = cidrs.first();
    let node = first.map_or(ASSUMED_NODE, first_address);
    // A second node of the profile: the second address of its first block, else the first of
    // its second block.
    let second = match first {
        None => Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11))),
        Some(block) => (block.net().hosts().nth(1)).or_else(|| cidrs.get(1).map(first_address)),
    };
    let other = second.unwrap_or(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)));
    let mut cluster = Model {
        node,
        other: second,
        operator: matrix.operator,
        namespaces: BTreeMap::new(),
        pods: Vec::new(),
        next_ip: 10,
    };
    cluster
        .namespaces
        .entry(matrix.namespace.to_string())
        .or_default();
    let workloads = workloads(matrix);
    for (workload, ports) in &workloads {
        cluster.workload(workload, ports);
    }
    cluster.dns(matrix.profile.dns.provider);
    cluster.prometheus(matrix);
    cluster.profile_pods(matrix);
    cluster.applications(matrix, workloads.keys());
    cluster.add_namespace("unrelated", BTreeMap::new());
    cluster.add_pod(
        "unrelated-0",
        "unrelated",
        label("app", "unrelated"),
        http_port(),
        false,
    );
    let (namespaces, pods) = cluster.finish();
    Cluster {
        namespaces,
        pods,
        nodes: [("node-0", node), ("node-1", other)]
            .into_iter()
            .map(|(name, address)| Node {
                name: name.into(),
                labels: label("kubernetes.io/hostname", name),
                addresses: vec![address],
            })
            .collect(),
        api_server: api_endpoints(&matrix.profile).0,
        dns_caches: matrix
            .profile
            .dns
            .node_local_address()
            .into_iter()
            .collect(),
        node_blocks: matrix.profile.node_cidrs.clone(),
        ..Cluster::default()
    }
}

/// The model's pods of the Dynatrace workloads, each with its component, for synthetic clusters
/// that give each workload as many pods as its controller makes.
#[cfg(any(test, feature = "internals"))]
pub(crate) fn workload_pods(matrix: &Matrix) -> Vec<(crate::matrix::Component, Pod)> {
    let mut model = Model {
        node: ASSUMED_NODE,
        other: None,
        operator: matrix.operator,
        namespaces: BTreeMap::new(),
        pods: Vec::new(),
        next_ip: 10,
    };
    let workloads = workloads(matrix);
    for (workload, ports) in &workloads {
        model.workload(workload, ports);
    }
    workloads
        .keys()
        .map(|w| w.component)
        .zip(model.pods)
        .collect()
}

/// The Dynatrace workloads of the operator namespace, with the ports their flows reach.
fn workloads(matrix: &Matrix) -> BTreeMap<Workload, BTreeSet<Port>> {
    let mut workloads: BTreeMap<Workload, BTreeSet<Port>> = BTreeMap::new();
    for flow in &matrix.flows {
        for endpoint in [&flow.from, &flow.to] {
            if let Some(w) = endpoint.workload().filter(|w| placed(w)) {
                workloads.entry(w.clone()).or_default();
            }
        }
        if let (Some(w), Ports::List(ports)) = (flow.to.workload(), &flow.ports)
            && placed(w)
        {
            workloads.entry(w.clone()).or_default().extend(ports);
        }
    }
    workloads
}

/// Whether the model places the workload's pods in the operator namespace.
fn placed(workload: &Workload) -> bool {
    workload.selection.pods().is_some()
}

struct Model {
    /// The address of node-0, where the pods run.
    node: IpAddr,
    /// The address of node-1, where only the host-network pods of DaemonSets run too (none:
    /// one pod of each workload).
    other: Option<IpAddr>,
    /// The release whose labels the pods carry.
    operator: OperatorVersion,
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    pods: Vec<Pod>,
    next_ip: u32,
}

impl Model {
    fn add_namespace(&mut self, name: &str, labels: BTreeMap<String, String>) {
        self.namespaces
            .entry(name.to_string())
            .or_default()
            .extend(labels);
    }

    fn add_pod(
        &mut self,
        name: &str,
        namespace: &str,
        labels: BTreeMap<String, String>,
        ports: Vec<ContainerPort>,
        host_network: bool,
    ) {
        let ip = if host_network {
            self.node
        } else {
            self.next_ip += 1;
            IpAddr::V4(Ipv4Addr::from(
                u32::from(Ipv4Addr::new(10, 244, 0, 0)) + self.next_ip,
            ))
        };
        self.pods.push(Pod {
            name: name.to_string(),
            namespace: namespace.to_string(),
            labels,
            ips: vec![ip],
            ports,
            host_network,
            node: Some("node-0".into()),
            ..Pod::default()
        });
    }

    fn workload(&mut self, workload: &Workload, ports: &BTreeSet<Port>) {
        let ports: Vec<ContainerPort> = ports
            .iter()
            .map(|&p| ContainerPort {
                name: port_name(workload.component, p).map(String::from),
                port: p.number.get(),
                protocol: p.protocol,
            })
            .collect();
        let host_network = matches!(workload.selection, Selection::HostNetwork(_));
        let instance = workload.instance.as_ref().map_or("", |i| i.as_str());
        let labels = releases::pod_labels(workload.component, instance, self.operator)
            .unwrap_or_else(|| {
                let selector = workload.selection.pods().cloned().unwrap_or_default();
                selector.labels
            });
        self.add_pod(
            &format!("{}-0", workload.name()),
            workload.namespace.as_str(),
            labels,
            ports,
            host_network,
        );
        if let (true, Some(other)) = (host_network, self.other) {
            // A DaemonSet in the host network runs on every node: its pod on node-1 reaches
            // the pods of node-0 from another node, where NetworkPolicies decide.
            let first = self.pods.len() - 1;
            let mut second = self.pods[first].clone();
            second.name = format!("{}-1", workload.name());
            second.ips = vec![other];
            second.node = Some("node-1".into());
            self.pods.push(second);
        }
    }

    /// The DNS pods of the provider, on its port over UDP and TCP.
    fn dns(&mut self, provider: DnsProvider) {
        let (namespace, (key, value)) = provider.pods();
        let port = provider.port().get();
        let ports = vec![
            ContainerPort {
                name: Some("dns".into()),
                port,
                protocol: Protocol::Udp,
            },
            ContainerPort {
                name: Some("dns-tcp".into()),
                port,
                protocol: Protocol::Tcp,
            },
        ];
        let name = match provider {
            DnsProvider::Openshift => "dns-default-0",
            DnsProvider::KubeDns | DnsProvider::NodeLocal => "coredns-0",
        };
        self.add_namespace(namespace, BTreeMap::new());
        self.add_pod(name, namespace, label(key, value), ports, false);
    }

    fn prometheus(&mut self, matrix: &Matrix) {
        let Some(prometheus) = &matrix.profile.prometheus else {
            return;
        };
        let namespace = prometheus.namespace.as_str();
        let labels = if prometheus.pod_labels.is_empty() {
            label("app", "prometheus")
        } else {
            prometheus
                .pod_labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        self.add_namespace(namespace, BTreeMap::new());
        self.add_pod("prometheus-0", namespace, labels, Vec::new(), false);
    }

    /// The pods the cluster profile names (scrape targets, ActiveGate clients, databases): one
    /// per selector, listening on the ports its flows reach.
    fn profile_pods(&mut self, matrix: &Matrix) {
        let mut wanted: BTreeMap<&Pods, BTreeSet<Port>> = BTreeMap::new();
        for flow in &matrix.flows {
            for (endpoint, destination) in [(&flow.from, false), (&flow.to, true)] {
                let Endpoint::Pods(pods) = endpoint else {
                    continue;
                };
                if matches!(pods.kind, PodsKind::Prometheus | PodsKind::Any) {
                    continue;
                }
                let ports = wanted.entry(pods).or_default();
                if let (true, Ports::List(list)) = (destination, &flow.ports) {
                    ports.extend(list.iter().copied());
                }
            }
        }
        for (i, (pods, ports)) in wanted.into_iter().enumerate() {
            let namespace = pods.namespace.as_ref().map_or("elsewhere", |n| n.as_str());
            let labels = if pods.labels.is_empty() {
                label("app", pods.kind.name())
            } else {
                pods.labels.clone()
            };
            let ports = ports
                .iter()
                .map(|p| ContainerPort {
                    name: None,
                    port: p.number.get(),
                    protocol: p.protocol,
                })
                .collect();
            self.add_namespace(namespace, BTreeMap::new());
            self.add_pod(
                &format!("{}-{i}", pods.kind.name()),
                namespace,
                labels,
                ports,
                false,
            );
        }
    }

    /// One application namespace per DynaKube, labelled as the operator labels the namespaces
    /// it injects, with one application pod.
    fn applications<'a>(
        &mut self,
        matrix: &'a Matrix,
        workloads: impl Iterator<Item = &'a Workload>,
    ) {
        let apps = matrix
            .flows
            .iter()
            .flat_map(|f| [&f.from, &f.to])
            .filter_map(Endpoint::workload)
            .filter(|w| matches!(w.selection, Selection::Namespaces { .. }));
        let instances: BTreeSet<String> = workloads
            .filter(|w| w.component.scope() == Scope::DynaKube)
            .chain(apps)
            .filter_map(|w| w.instance.as_ref().map(ToString::to_string))
            .collect();
        for instance in instances {
            let namespace = format!("apps-{instance}");
            self.add_namespace(&namespace, label(INSTANCE_NAMESPACE_LABEL, &instance));
            self.add_pod("app-0", &namespace, label("app", "app"), http_port(), false);
        }
    }

    fn finish(self) -> (Vec<Namespace>, Vec<Pod>) {
        let namespaces = self
            .namespaces
            .into_iter()
            .map(|(name, mut labels)| {
                labels.insert(crate::evaluate::NAMESPACE_NAME_LABEL.into(), name.clone());
                Namespace { name, labels }
            })
            .collect();
        (namespaces, self.pods)
    }
}

/// The one port of the model's application pods.
fn http_port() -> Vec<ContainerPort> {
    vec![ContainerPort {
        name: Some("http".into()),
        port: 8080,
        protocol: Protocol::Tcp,
    }]
}

fn label(key: &str, value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_string(), value.to_string())])
}
