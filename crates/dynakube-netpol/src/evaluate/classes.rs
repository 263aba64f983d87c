//! Pods the evaluator cannot tell apart, so that a caller deciding many connections (`verify`,
//! which tries every pod of an endpoint) decides each kind of connection once.
//!
//! What every dialect looks at in a pod: its namespace, its labels, its container ports (named
//! ports), whether it runs in the host network, and for Cilium's identity its service account
//! (`compile`, `cnp`, `cilium::identity`). Its addresses only where address blocks match pods
//! (NetworkPolicy `ipBlock`s on every plugin but Cilium, ClusterNetworkPolicy `networks` too,
//! `plugin`), and then only as far as a block tells them apart: which of the blocks the
//! policies name (CIDRs and their exceptions alike) hold one of its addresses. The node it runs on only for Cilium, and only where the other end is a
//! node's host (which is `host` to the pods on that node and `remote-node` to the others, and
//! reaches its own pods always) or where the cluster DNS runs in the host network (a lookup is
//! then decided against the pod's node). A pod in the host network is seen by its node's
//! addresses: it is a class of its own. A connection of a pod to itself is its own case (Cilium
//! always allows it), which the caller keeps apart.
//!
//! So two connections whose ends have equal [`EndKey`]s, and that have the same port, protocol
//! and DNS name and both join a pod to itself or both not, are decided alike, with the same
//! tiers, policies and rules.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use super::{ConnectionEnd, Index, NodeId, PodId};
use crate::matrix::Protocol;

/// A connection end as far as the evaluator tells ends apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum EndKey {
    /// A pod, by its class, with its node where it matters.
    Pod(u32, Option<Option<NodeId>>),
    /// An address.
    Ip(IpAddr),
    /// A node's host network.
    Node(NodeId),
}

/// What makes a pod's class (see the module's documentation).
type ClassKey<'a> = (
    usize,
    &'a BTreeMap<String, String>,
    Vec<(Option<&'a str>, u16, Protocol)>,
    Option<&'a str>,
    Option<Vec<u32>>,
    Option<PodId>,
);

impl Index {
    /// The class of every pod, by [`PodId`] (worked out on first use).
    fn pod_classes(&self) -> &[u32] {
        self.classes.get_or_init(|| {
            let blocks = self.addresses_match_pods().then(|| Blocks::of(self));
            let mut classes: HashMap<ClassKey<'_>, u32> = HashMap::new();
            (self.pods.iter().enumerate())
                .map(|(id, pod)| {
                    let mut ports: Vec<(Option<&str>, u16, Protocol)> = (pod.ports.iter())
                        .map(|p| (p.name.as_deref(), p.port, p.protocol))
                        .collect();
                    ports.sort_unstable();
                    let own = (pod.host_network || self.infos[id].by_address).then_some(id);
                    let key = (
                        self.infos[id].namespace,
                        &pod.labels,
                        ports,
                        pod.service_account.as_deref(),
                        blocks.as_ref().map(|blocks| blocks.holding(&pod.ips)),
                        own,
                    );
                    let next = u32::try_from(classes.len()).unwrap_or(u32::MAX);
                    *classes.entry(key).or_insert(next)
                })
                .collect()
        })
    }

    /// The address blocks of the policies that may match pods, on this plugin.
    fn pod_blocks(&self) -> impl Iterator<Item = IpNet> + '_ {
        let network_policies = (self.behaviour.ip_block.pods)
            .then_some(self.policies.iter())
            .into_iter()
            .flatten()
            .flat_map(|policy| [&policy.ingress, &policy.egress])
            .flatten()
            .flatten()
            .flat_map(|rule| rule.peers.iter().flatten())
            .filter_map(|peer| match peer {
                super::compile::PeerMatch::Block(block) => Some(block),
                super::compile::PeerMatch::Pods { .. } => None,
            })
            .flat_map(|block| std::iter::once(&block.cidr).chain(&block.except))
            .copied();
        let cluster = (self.behaviour.networks.pods)
            .then_some(self.cluster.iter())
            .into_iter()
            .flatten()
            .flat_map(|policy| policy.ingress.iter().chain(&policy.egress))
            .filter_map(|rule| match &rule.matches {
                super::cnp::Matches::Peers(peers, _) => Some(peers),
                _ => None,
            })
            .flatten()
            .filter_map(|peer| match peer {
                super::cnp::Peer::Networks(networks) => Some(networks),
                _ => None,
            })
            .flatten()
            .copied();
        network_policies.chain(cluster)
    }

    /// Whether an address block of some policy may match pods, on this plugin.
    fn addresses_match_pods(&self) -> bool {
        (self.behaviour.ip_block.pods && !self.policies.is_empty())
            || (self.behaviour.networks.pods && !self.cluster.is_empty())
    }

    /// Whether the node of a pod matters in its connections with `others`: Cilium's policies
    /// take part, and one of `others` may be a node's host, or the cluster DNS runs in the host
    /// network.
    pub(crate) fn node_matters<'a>(
        &self,
        mut others: impl Iterator<Item = &'a ConnectionEnd>,
    ) -> bool {
        let host = |end: &ConnectionEnd| match end {
            ConnectionEnd::Pod(id) => self.pods[*id].host_network,
            ConnectionEnd::Node(_) => true,
            ConnectionEnd::Ip(address) => {
                self.node_ips.contains(address) || self.unlisted_nodes.contains(*address)
            }
        };
        self.namespaced.is_some()
            && (others.any(host) || super::cilium_tier::dns_in_host_network(&self.pods))
    }

    /// The key of `end`, with the node of a pod when `node` (see [`Index::node_matters`]).
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] is not one of this index.
    pub(crate) fn end_key(&self, end: &ConnectionEnd, node: bool) -> EndKey {
        match end {
            ConnectionEnd::Pod(id) => {
                let at = node
                    .then(|| (self.pods[*id].node.as_deref()).and_then(|name| self.node_id(name)));
                EndKey::Pod(self.pod_classes()[*id], at)
            }
            ConnectionEnd::Ip(address) => EndKey::Ip(*address),
            ConnectionEnd::Node(id) => EndKey::Node(*id),
        }
    }
}

/// The distinct address blocks of the policies, by family and prefix length, so that the
/// blocks holding an address are found with one lookup per length.
struct Blocks {
    /// Each family (IPv6 or not) and prefix length met, with the blocks of that length and
    /// their numbers.
    lengths: Vec<((bool, u8), HashMap<IpNet, u32>)>,
}

impl Blocks {
    fn of(index: &Index) -> Blocks {
        let mut lengths: Vec<((bool, u8), HashMap<IpNet, u32>)> = Vec::new();
        let mut count = 0u32;
        for block in index.pod_blocks() {
            let length = (block.addr().is_ipv6(), block.prefix_len());
            let at = match lengths.iter().position(|(l, _)| *l == length) {
                Some(at) => at,
                None => {
                    lengths.push((length, HashMap::new()));
                    lengths.len() - 1
                }
            };
            lengths[at].1.entry(block.trunc()).or_insert_with(|| {
                count += 1;
                count
            });
        }
        Blocks { lengths }
    }

    /// The numbers of the blocks holding one of `ips`, sorted.
    fn holding(&self, ips: &[IpAddr]) -> Vec<u32> {
        let mut found = Vec::new();
        for ip in ips {
            for ((v6, length), blocks) in &self.lengths {
                if *v6 == ip.is_ipv6()
                    && let Ok(net) = IpNet::new(*ip, *length)
                    && let Some(&number) = blocks.get(&net.trunc())
                {
                    found.push(number);
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}
