//! What the ends of a connection are to Cilium: endpoints with identity labels, hosts, and the
//! world outside the cluster.
//!
//! Documentation: `Documentation/security/policy/layer3.rst`, "Entities based" and "IP/CIDR
//! based", and `kubernetes.rst`, "Namespaces", "ServiceAccounts", "Multi-Cluster":
//!
//! - A pod outside the host network is an endpoint. Its identity labels are its labels that
//!   the label filter keeps ([`labels::identity_relevant`]), with source `k8s`, and
//!   `k8s:io.kubernetes.pod.namespace`, `k8s:io.cilium.k8s.namespace.labels.<key>` for every
//!   label of its namespace, `k8s:io.cilium.k8s.policy.serviceaccount` and
//!   `k8s:io.cilium.k8s.policy.cluster`.
//! - A node is `host` to the endpoints on it and `remote-node` to the others ("The host entity
//!   includes the local host. This also includes all containers running in host networking
//!   mode on the local host"; remote-node: "Any node ... other than the local host. This also
//!   includes all containers running in host-networking mode on remote nodes"). A node whose
//!   address kube-apiserver serves on is also `kube-apiserver` ("both deployments of the
//!   kube-apiserver: within the cluster and outside of the cluster").
//! - Any other address is `world` ("all endpoints outside of the cluster"), and
//!   `kube-apiserver` too when kube-apiserver serves on it. Cilium knows a node by the
//!   addresses of its `CiliumNode` (from the Node's `status.addresses`), so an address inside
//!   the nodes' subnet that no node has is `world` to it, like any address outside the
//!   cluster. A cluster modelled from a profile lists a few nodes only and says that its node
//!   blocks stand for the nodes ([`Cluster::node_blocks`](super::Cluster::node_blocks)): there
//!   an address of a block that no listed node has is a node the cluster does not list
//!   ([`Who::Unlisted`]), `remote-node` to every endpoint (the endpoints' own nodes are
//!   listed), and `kube-apiserver` too when kube-apiserver serves on it. The evaluator has no unmanaged
//!   pods, health or ingress endpoints, or endpoints still initialising, so the entities
//!   `unmanaged`, `health`, `ingress` and `init` select none of its ends; an address the
//!   cluster does not know is outside it.
//! - CIDR rules select by address "if Cilium cannot map the source or destination to an
//!   identity derived from endpoint labels": `world` only, and node addresses too with
//!   `policy-cidr-match-mode: nodes` ("Selecting nodes with CIDR / ipBlock").

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::labels::{self, CLUSTER, K8S, Label, Labels, SERVICE_ACCOUNT};
use super::{End, Evaluator, Node, Pod};

/// What an end is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Who<'a> {
    /// An endpoint: a pod outside the host network, with its index.
    Endpoint(usize, &'a Pod),
    /// The host network of a node (by index; `None` for a node the cluster does not list).
    Host(Option<usize>),
    /// An address outside the cluster, and the name it was looked up by.
    Outside(IpAddr, Option<&'a str>),
    /// An address of the cluster's node blocks that no node has: the host network of a node
    /// the cluster does not list, with no labels known.
    Unlisted(IpAddr),
}

/// The node a node block's address stands for when no node has it: no name, no labels.
pub(super) static UNLISTED: Node = Node {
    name: String::new(),
    labels: BTreeMap::new(),
    addresses: Vec::new(),
};

/// A peer as the rules of a subject see it.
#[derive(Debug, Clone)]
pub(super) struct Peer<'a> {
    /// Its identity labels (an endpoint's, worked out once).
    pub(super) labels: std::borrow::Cow<'a, Labels>,
    /// The addresses CIDR rules may match (none for endpoints).
    pub(super) cidr_addresses: Vec<IpAddr>,
    /// Its node, when it is a host, for `fromNodes`/`toNodes`.
    pub(super) node: Option<&'a Node>,
    /// The name it was looked up by, when it is outside the cluster.
    pub(super) name: Option<&'a str>,
}

impl Evaluator {
    /// What `end` is.
    pub(super) fn who<'a>(&'a self, end: &'a End) -> Who<'a> {
        match end {
            End::Pod(id) => {
                let pod = &self.cluster.pods[*id];
                if pod.host_network {
                    Who::Host(pod.node.as_ref().and_then(|n| self.nodes.get(n).copied()))
                } else {
                    Who::Endpoint(*id, pod)
                }
            }
            End::Node(id) => Who::Host(Some(*id)),
            End::Address { ip, name } => match self.node_addresses.get(ip) {
                Some(&node) => Who::Host(Some(node)),
                None if self.cluster.node_blocks.contains(*ip) => Who::Unlisted(*ip),
                None => Who::Outside(*ip, name.as_deref()),
            },
        }
    }

    /// The node an end runs on, when known.
    pub(super) fn node_of(&self, who: Who<'_>) -> Option<usize> {
        match who {
            Who::Endpoint(_, pod) => pod.node.as_ref().and_then(|n| self.nodes.get(n).copied()),
            Who::Host(node) => node,
            Who::Outside(..) | Who::Unlisted(_) => None,
        }
    }

    /// The identity labels of the endpoint `pod`.
    pub(super) fn endpoint_labels(&self, pod: &Pod) -> Labels {
        let mut out: Vec<Label> = labels::own_identity_labels(&pod.labels)
            .map(|(key, value)| Label::new(K8S, key, value))
            .collect();
        let namespaces = self.namespace_identities.get_or_init(|| {
            (self.cluster.namespaces.keys())
                .map(|name| (name.clone(), self.namespace_identity(name)))
                .collect()
        });
        match namespaces.get(&pod.namespace) {
            Some(labels) => out.extend(labels.iter().cloned()),
            None => out.extend(self.namespace_identity(&pod.namespace)),
        }
        let account = pod.service_account.as_deref().unwrap_or("default");
        out.push(Label::new(K8S, SERVICE_ACCOUNT, account));
        out.push(Label::new(K8S, CLUSTER, &self.options.cluster_name));
        Labels(out)
    }

    /// The identity labels of the endpoint `pod` (pod `id`), worked out once for a pod of the
    /// cluster.
    pub(super) fn identity<'a>(&'a self, id: usize, pod: &'a Pod) -> std::borrow::Cow<'a, Labels> {
        match self.endpoint_labels.get(id) {
            Some(cached) if std::ptr::eq(pod, &self.cluster.pods[id]) => {
                std::borrow::Cow::Borrowed(cached.get_or_init(|| self.endpoint_labels(pod)))
            }
            _ => std::borrow::Cow::Owned(self.endpoint_labels(pod)),
        }
    }

    /// The identity labels an endpoint has of its namespace `name` (the same for every
    /// endpoint there, worked out once for each namespace).
    fn namespace_identity(&self, name: &str) -> Vec<Label> {
        let empty = BTreeMap::new();
        let namespace = self.cluster.namespaces.get(name).unwrap_or(&empty);
        (labels::namespace_identity_labels(name, namespace).iter())
            .map(|(key, value)| Label::new(K8S, key, value))
            .collect()
    }

    /// The labels a `nodeSelector` selects a node's host by: `reserved:host` and the node's
    /// labels (layer3.rst, "Node based": "all labels that Node object has attached are taken
    /// into account").
    pub(super) fn node_labels(&self, node: Option<usize>) -> Labels {
        let mut out = vec![Label::reserved("host")];
        if let Some(node) = node {
            for (key, value) in &self.cluster.nodes[node].labels {
                out.push(Label::new(K8S, key, value));
            }
        }
        Labels(out)
    }

    /// The peer `who` as seen from a subject on node `local`.
    pub(super) fn peer<'a>(&'a self, who: Who<'a>, local: Option<usize>) -> Peer<'a> {
        match who {
            Who::Endpoint(id, pod) => Peer {
                labels: self.identity(id, pod),
                cidr_addresses: Vec::new(),
                node: None,
                name: None,
            },
            Who::Host(node) => {
                let same = node.is_some() && node == local;
                let mut out = vec![Label::reserved(if same { "host" } else { "remote-node" })];
                let addresses = node.map_or(&[][..], |n| &self.cluster.nodes[n].addresses);
                if addresses
                    .iter()
                    .any(|a| self.cluster.api_server.contains(a))
                {
                    out.push(Label::reserved("kube-apiserver"));
                }
                Peer {
                    labels: std::borrow::Cow::Owned(Labels(out)),
                    cidr_addresses: if self.options.cidr_match_nodes {
                        addresses.to_vec()
                    } else {
                        Vec::new()
                    },
                    node: node.map(|n| &self.cluster.nodes[n]),
                    name: None,
                }
            }
            Who::Unlisted(ip) => {
                let mut out = vec![Label::reserved("remote-node")];
                if self.cluster.api_server.contains(&ip) {
                    out.push(Label::reserved("kube-apiserver"));
                }
                Peer {
                    labels: std::borrow::Cow::Owned(Labels(out)),
                    cidr_addresses: if self.options.cidr_match_nodes {
                        vec![ip]
                    } else {
                        Vec::new()
                    },
                    node: Some(&UNLISTED),
                    name: None,
                }
            }
            Who::Outside(ip, name) => {
                let mut out = vec![Label::reserved("world")];
                if self.cluster.api_server.contains(&ip) {
                    out.push(Label::reserved("kube-apiserver"));
                }
                Peer {
                    labels: std::borrow::Cow::Owned(Labels(out)),
                    cidr_addresses: vec![ip],
                    node: None,
                    name,
                }
            }
        }
    }
}
