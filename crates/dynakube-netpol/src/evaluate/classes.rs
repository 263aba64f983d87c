//! Pods the evaluator cannot tell apart, so that a caller deciding many connections (`verify`,
//! which tries every pod of an endpoint) decides each kind of connection once.
//!
//! What every dialect looks at in a pod: its namespace, its labels (those some selector looks
//! at), its container ports (named
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

use std::collections::HashSet;
use std::net::IpAddr;

use foldhash::HashMap;
use ipnet::IpNet;
use std::collections::hash_map::Entry;

use super::{ConnectionEnd, Index, NodeId, PodId};
use crate::matrix::{Direction, Protocol};

/// A connection end as far as the evaluator tells ends apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum EndKey {
    /// A pod, by its class, with its node where it matters.
    Pod(u32, Option<Option<NodeId>>),
    /// A pod in the host network, by its class but for its own addresses and by the class of
    /// its node, where only whether the other end is on its node matters
    /// ([`Index::pair_key`]).
    Host(u32, u32),
    /// An address.
    Ip(IpAddr),
    /// A node's host network.
    Node(NodeId),
}

/// What a side sees of a pod as its peer ([`Index::peer_view`]).
pub(crate) type PeerView = (u32, Vec<(u32, u32)>);

/// What a side of a pod depends on of the pod ([`Index::selection`]).
pub(crate) type Selection = (
    usize,
    Vec<u32>,
    [Vec<u32>; 2],
    Option<Vec<(u32, u32)>>,
    Option<Vec<(Option<String>, u16, Protocol)>>,
);

/// What makes a pod's class (see the module's documentation); labels as interned pairs.
type ClassKey<'a> = (
    usize,
    Vec<(u32, u32)>,
    Vec<(Option<&'a str>, u16, Protocol)>,
    Option<&'a str>,
    Option<Vec<u32>>,
    Option<PodId>,
);

/// What makes a pod's class but for its labels, its ports left out on ingress (where the
/// rules' named ports are the destination's, the subject's own): what a side's rules see of a
/// peer beside the labels they look at ([`Index::peer_view`]).
type RestKey<'a> = (
    usize,
    Vec<(Option<&'a str>, u16, Protocol)>,
    Option<&'a str>,
    Option<Vec<u32>>,
    Option<PodId>,
);

/// The class of every pod, by [`PodId`], and of every pod in the host network but for its own
/// addresses.
#[derive(Debug, Clone, Default)]
pub(super) struct Classes {
    of: Vec<u32>,
    host: Vec<u32>,
    /// Of each class, the number of what makes it but for its labels ([`Index::peer_view`]):
    /// with its ports (egress) and without them (ingress).
    rest: Vec<[u32; 2]>,
}

impl Index {
    /// The class of every pod, by [`PodId`] (worked out on first use).
    fn pod_classes(&self) -> &[u32] {
        &self.classes().of
    }

    /// The classes of pods (worked out on first use).
    fn classes(&self) -> &Classes {
        self.classes.get_or_init(|| {
            let blocks = self.addresses_match_pods().then(|| Blocks::of(self));
            let mut classes: HashMap<ClassKey<'_>, u32> = HashMap::default();
            let mut host_classes: HashMap<ClassKey<'_>, u32> = HashMap::default();
            let mut host = vec![u32::MAX; self.pods.len()];
            let mut rests: HashMap<RestKey<'_>, u32> = HashMap::default();
            let mut rest: Vec<[u32; 2]> = Vec::new();
            // The keys some selector looks at, interned (a key no pod has is not).
            let looked_at: foldhash::HashSet<u32> = (self.pod_label_keys.iter())
                .filter_map(|key| self.interner.get(key))
                .collect();
            let of = (self.pods.iter().enumerate())
                .map(|(id, pod)| {
                    let mut ports: Vec<(Option<&str>, u16, Protocol)> = (pod.ports.iter())
                        .map(|p| (p.name.as_deref(), p.port, p.protocol))
                        .collect();
                    ports.sort_unstable();
                    let own = (pod.host_network || self.infos[id].by_address).then_some(id);
                    // Only the labels some selector looks at tell pods apart.
                    let labels: Vec<(u32, u32)> = (self.infos[id].labels.pairs().iter())
                        .filter(|(key, _)| looked_at.contains(key))
                        .copied()
                        .collect();
                    let key = (
                        self.infos[id].namespace,
                        labels,
                        ports,
                        pod.service_account.as_deref(),
                        blocks.as_ref().map(|blocks| blocks.holding(&pod.ips)),
                        own,
                    );
                    if pod.host_network {
                        let next = u32::try_from(host_classes.len()).unwrap_or(u32::MAX);
                        let (namespace, labels, ports, account, held, _) = &key;
                        let shared = (
                            *namespace,
                            labels.clone(),
                            ports.clone(),
                            *account,
                            held.clone(),
                            None,
                        );
                        host[id] = *host_classes.entry(shared).or_insert(next);
                    }
                    let next = u32::try_from(classes.len()).unwrap_or(u32::MAX);
                    match classes.entry(key) {
                        Entry::Occupied(class) => *class.get(),
                        Entry::Vacant(class) => {
                            let (namespace, _, ports, account, held, own) = class.key();
                            let parts = |ports: Vec<_>| -> RestKey<'_> {
                                (*namespace, ports, *account, held.clone(), *own)
                            };
                            let keys = [parts(ports.clone()), parts(Vec::new())];
                            rest.push(keys.map(|parts| {
                                let next = u32::try_from(rests.len()).unwrap_or(u32::MAX);
                                *rests.entry(parts).or_insert(next)
                            }));
                            *class.insert(next)
                        }
                    }
                })
                .collect();
            Classes { of, host, rest }
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
            .then(|| cluster_peers(&self.cluster))
            .into_iter()
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
    /// network; or NetworkPolicies alone decide their tier, which cannot block a pod's
    /// connections with its own node ([`Index::local_exempt`]), and one of `others` may be a
    /// node's host.
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
        match &self.namespaced {
            Some(_) => self.dns_in_host_network || others.any(host),
            None => !self.policies.is_empty() && others.any(host),
        }
    }

    /// The key of `end` in connections with ends where `node` (see [`Index::node_matters`]),
    /// when `near`, along with [`Index::same_node`] of the two ends. With Cilium, a pod's node
    /// changes how the ends on its node are seen, and nothing else ([`Index::node_key`]): where
    /// [`Index::node_key`] is no node, or a class of nodes, a pod's node need not be told
    /// apart beyond whether the other end is on it, and a pod in the host network is known by
    /// that class instead of its own addresses. Otherwise, and without `near`, the key is
    /// [`Index::end_key`].
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] is not one of this index.
    pub(crate) fn pair_key(&self, end: &ConnectionEnd, node: bool, near: bool) -> EndKey {
        if let (true, ConnectionEnd::Pod(id)) = (near, end) {
            let on = (self.pods[*id].node.as_deref()).and_then(|name| self.node_id(name));
            match (on, self.node_key(*id)) {
                (Some(_), NodeKey::Anywhere) => return EndKey::Pod(self.pod_classes()[*id], None),
                (Some(_), NodeKey::Like(class)) => {
                    return EndKey::Host(self.classes().host[*id], class);
                }
                _ => {}
            }
        }
        self.end_key(end, node)
    }

    /// Whether the two ends are on one node: a pod on the node it runs on, a node's host or
    /// address on that node. Where [`Index::pair_key`] leaves nodes out, two connections whose
    /// ends have equal keys are decided alike only if their ends agree on this too.
    pub(crate) fn same_node(&self, a: &ConnectionEnd, b: &ConnectionEnd) -> bool {
        let a = self.node_of_end(a);
        a.is_some() && a == self.node_of_end(b)
    }

    /// The node `end` is on: a pod's (when the cluster lists it), a node's host's, the first
    /// node that lists an address.
    pub(crate) fn node_of_end(&self, end: &ConnectionEnd) -> Option<NodeId> {
        match end {
            ConnectionEnd::Pod(id) => {
                (self.pods[*id].node.as_deref()).and_then(|name| self.node_id(name))
            }
            ConnectionEnd::Node(id) => Some(*id),
            ConnectionEnd::Ip(address) => (self.node_ips.contains(address))
                .then(|| (self.nodes.iter()).position(|node| node.addresses.contains(address)))
                .flatten(),
        }
    }

    /// What the `direction` side of pod `id` depends on of the pod itself, beside its node and
    /// whether the other end is the pod or on its node: its namespace, the policies of every
    /// dialect that select it (NetworkPolicies isolating it on that side, ClusterNetworkPolicies
    /// of both tiers, as far as the namespace does not give them: those that select it by its
    /// labels, the network plugin's rules), and on ingress its ports (the rules' named
    /// ports are the destination's). A selector's other labels, the pod's addresses and its
    /// service account are seen only by rules of other pods, of which it is the peer. `None`
    /// for a pod in the host network or seen by its addresses, which its key tells apart.
    pub(crate) fn selection(&self, id: PodId, direction: Direction) -> Option<Selection> {
        let (pod, info) = (&self.pods[id], &self.infos[id]);
        if pod.host_network || info.by_address {
            return None;
        }
        let policies = match direction {
            Direction::Ingress => info.ingress.clone(),
            Direction::Egress => info.egress.clone(),
        };
        // Those of its namespace are the namespace's; only those that select it by its labels
        // tell it apart.
        let tiers = [0, 1].map(|tier| {
            let selecting = self.namespace_tiers[info.namespace].selecting[tier].iter();
            (selecting.copied())
                .filter(|&n| self.cluster[n as usize].pods.matches(&info.labels))
                .collect()
        });
        let rules = (self.namespaced.as_ref()).map(|dialect| dialect.subject_rules(id));
        let ports = (direction == Direction::Ingress).then(|| {
            let mut ports: Vec<(Option<String>, u16, Protocol)> = (pod.ports.iter())
                .map(|p| (p.name.clone(), p.port, p.protocol))
                .collect();
            ports.sort_unstable();
            ports
        });
        Some((info.namespace, policies, tiers, rules, ports))
    }

    /// The keys of the pod labels (interned, sorted) that the rules of a `direction` side of
    /// pod with `selection` ([`Index::selection`]) look at in its peer: those of the pod
    /// selectors among the peers of the NetworkPolicies' rules that isolate it, of its
    /// ClusterNetworkPolicies' rules of both tiers, and of the network plugin's rules that
    /// select it (`Namespaced::peer_label_keys`), with the cluster DNS's labels.
    ///
    /// A peer pod's other labels are seen by no rule that decides the side, so peers that
    /// differ only there are decided alike ([`Index::peer_view`]).
    pub(crate) fn peer_label_keys(&self, direction: Direction, selection: &Selection) -> Vec<u32> {
        let (namespace, policies, tiers, rules, _) = selection;
        let mut keys: Vec<u32> = Vec::new();
        for &number in policies {
            let policy = &self.policies[number as usize];
            let rules = match direction {
                Direction::Ingress => &policy.ingress,
                Direction::Egress => &policy.egress,
            };
            let peers = (rules.iter().flatten()).flat_map(|rule| rule.peers.iter().flatten());
            for peer in peers {
                if let super::compile::PeerMatch::Pods { pods, .. } = peer {
                    keys.extend(pods.keys());
                }
            }
        }
        let cluster_keys = self.cluster_peer_keys.get_or_init(|| {
            (self.cluster.iter())
                .map(|policy| {
                    [&policy.ingress, &policy.egress].map(|rules| {
                        let mut keys: Vec<u32> = (cluster_rule_peers(rules))
                            .filter_map(|peer| match peer {
                                super::cnp::Peer::Pods { pods, .. } => Some(pods.keys()),
                                _ => None,
                            })
                            .flatten()
                            .collect();
                        keys.sort_unstable();
                        keys.dedup();
                        keys
                    })
                })
                .collect()
        });
        let side = usize::from(direction == Direction::Egress);
        let every = &self.namespace_tiers[*namespace].every;
        for &number in every.iter().chain(tiers).flatten() {
            keys.extend(&cluster_keys[number as usize][side]);
        }
        if let (Some(dialect), Some(rules)) = (&self.namespaced, rules) {
            let texts = dialect.peer_label_keys(direction, rules);
            keys.extend(
                texts
                    .into_iter()
                    .filter_map(|text| self.interner.get(&text)),
            );
        }
        let dns = super::cilium_tier::DNS_LABELS.iter();
        keys.extend(dns.filter_map(|text| self.interner.get(text)));
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// What the rules of a `direction` side that look at the pod labels `keys` (sorted, from
    /// [`Index::peer_label_keys`]) see of pod `id` as its peer: the number of what makes its
    /// class but for its labels (on ingress, its ports too: the rules' named ports are the
    /// subject's), and its labels at `keys`. Peers of equal views are decided alike on that
    /// side, with the same tiers, policies and rules.
    ///
    /// # Panics
    ///
    /// When `id` is no pod of this index.
    pub(crate) fn peer_view(&self, direction: Direction, keys: &[u32], id: PodId) -> PeerView {
        let rest = self.classes().rest[self.pod_classes()[id] as usize];
        let rest = match direction {
            Direction::Egress => rest[0],
            Direction::Ingress => rest[1],
        };
        let labels = (self.infos[id].labels.pairs())
            .iter()
            .filter(|(key, _)| keys.binary_search(key).is_ok())
            .copied()
            .collect();
        (rest, labels)
    }

    /// Whether `address` is one that no rule of any dialect can have as its subject: no pod's,
    /// node's or kube-apiserver's, nor in the blocks of nodes the cluster does not list. A
    /// side of such an address is no policy's, whatever its peer.
    pub(crate) fn subject_of_none(&self, address: IpAddr) -> bool {
        !(self.pod_ips.contains_key(&address)
            || self.node_set.contains(address)
            || self.api_server.contains(&address))
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

/// What makes a node's class: its labels that rules look at, the ClusterNetworkPolicy `nodes`
/// peers that hold it, and whether kube-apiserver serves on it.
type NodeClassKey<'a> = (Vec<(&'a str, &'a str)>, Vec<u32>, bool);

/// How far the node of a pod matters to what the policies admit of its connections with the
/// ends that are neither on its node nor on the node of the pod it is compared with (see
/// [`Index::node_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum NodeKey<'a> {
    /// Not at all.
    Anywhere,
    /// A pod in the host network is its node's host to Cilium: nodes of one class (see
    /// [`Index::node_key`]) are alike.
    Like(u32),
    /// Pods on other nodes are told apart (by node name; `None`: no node known).
    On(Option<&'a str>),
}

impl Index {
    /// What of the node of pod `id` two pods of one class must share to be admitted alike
    /// everything that is on neither of their nodes: what `verify` computes once for the
    /// pods of a DaemonSet, and again for each pod only over its node's neighbourhood.
    ///
    /// Where only NetworkPolicies and ClusterNetworkPolicies take part, a pod's node never
    /// matters. On Cilium, a node is `host` to the pods on it and `remote-node` to the others
    /// (`cilium/identity.rs`), so a pod's node changes how the ends on its node (their
    /// addresses, the pods in their host network, and for a pod in the host network every pod
    /// on it) are seen, and nothing else, with two exceptions:
    ///
    /// - a pod in the host network is its node's host, which rules select by the node's labels
    ///   (host policies, `toNodes`, ClusterNetworkPolicy `nodes`) and by whether
    ///   kube-apiserver serves on it; where address blocks match nodes, by its addresses too;
    /// - where the cluster DNS runs in the host network, what a pod may look up depends on
    ///   whether the DNS server is on its node.
    pub(crate) fn node_key(&self, id: PodId) -> NodeKey<'_> {
        let pod = &self.pods[id];
        let Some(dialect) = &self.namespaced else {
            return NodeKey::Anywhere;
        };
        let exact = NodeKey::On(pod.node.as_deref());
        if self.dns_in_host_network {
            return exact;
        }
        if !pod.host_network {
            return NodeKey::Anywhere;
        }
        if self.behaviour.ip_block.nodes || self.behaviour.networks.nodes {
            return exact;
        }
        match pod.node.as_deref().and_then(|name| self.node_id(name)) {
            Some(node) => NodeKey::Like(self.node_classes(dialect.as_ref())[node]),
            None => exact,
        }
    }

    /// The class of node `node` (see [`Index::node_key`]), where the plugin's own policies
    /// take part.
    pub(crate) fn node_class(&self, node: NodeId) -> Option<u32> {
        let dialect = self.namespaced.as_ref()?;
        Some(self.node_classes(dialect.as_ref())[node])
    }

    /// Whether address blocks (`ipBlock`s, `networks`) match node addresses on this plugin.
    pub(crate) fn blocks_match_nodes(&self) -> bool {
        self.behaviour.ip_block.nodes || self.behaviour.networks.nodes
    }

    /// The class of every node: its labels of the keys Cilium's rules look at, the
    /// ClusterNetworkPolicy `nodes` peers that hold it, and whether kube-apiserver serves on
    /// it.
    fn node_classes(&self, dialect: &dyn super::tiers::Namespaced) -> &[u32] {
        self.node_classes.get_or_init(|| {
            let keys = dialect.node_label_keys();
            let by_address: HashMap<IpAddr, NodeId> = (self.nodes.iter().enumerate())
                .flat_map(|(id, node)| node.addresses.iter().map(move |ip| (*ip, id)))
                .collect();
            let mut peers: Vec<Vec<u32>> = vec![Vec::new(); self.nodes.len()];
            let nodes_peers = cluster_peers(&self.cluster).filter_map(|peer| match peer {
                super::cnp::Peer::Nodes(addresses) => Some(addresses),
                _ => None,
            });
            for (number, addresses) in nodes_peers.enumerate() {
                let number = u32::try_from(number).unwrap_or(u32::MAX);
                for ip in addresses {
                    if let Some(&node) = by_address.get(ip)
                        && peers[node].last() != Some(&number)
                    {
                        peers[node].push(number);
                    }
                }
            }
            let mut classes: HashMap<NodeClassKey<'_>, u32> = HashMap::default();
            (self.nodes.iter().zip(peers))
                .map(|(node, peers)| {
                    let labels: Vec<(&str, &str)> = (node.labels.iter())
                        .filter(|(key, _)| keys.contains(key.as_str()))
                        .map(|(key, value)| (key.as_str(), value.as_str()))
                        .collect();
                    let api = (node.addresses.iter()).any(|ip| self.api_server.contains(ip));
                    let next = u32::try_from(classes.len()).unwrap_or(u32::MAX);
                    *classes.entry((labels, peers, api)).or_insert(next)
                })
                .collect()
        })
    }
}

/// The peers of every rule of the ClusterNetworkPolicies `cluster`.
fn cluster_peers(cluster: &[super::cnp::Compiled]) -> impl Iterator<Item = &super::cnp::Peer> {
    (cluster.iter()).flat_map(|policy| {
        cluster_rule_peers(&policy.ingress).chain(cluster_rule_peers(&policy.egress))
    })
}

/// The peers of the ClusterNetworkPolicy rules `rules`.
fn cluster_rule_peers(rules: &[super::cnp::Rule]) -> impl Iterator<Item = &super::cnp::Peer> {
    (rules.iter())
        .filter_map(|rule| match &rule.matches {
            super::cnp::Matches::Peers(peers, _) => Some(peers),
            _ => None,
        })
        .flatten()
}

/// The keys of the pod labels that the selectors of the NetworkPolicies `policies` and the
/// ClusterNetworkPolicies `cluster` look at (subjects and peers), and those of the cluster
/// DNS's pods (which Cilium's DNS proxy knows by them): pods whose labels agree on these are
/// selected alike. Cilium's selectors add theirs (`Index::with_options`).
pub(super) fn pod_label_keys(
    policies: &[super::compile::Policy],
    cluster: &[super::cnp::Compiled],
    interner: &super::labels::Interner,
) -> foldhash::HashSet<String> {
    let ids = pod_label_key_ids(policies, cluster);
    let mut keys: foldhash::HashSet<String> = interner.texts(&ids).into_iter().collect();
    keys.extend(
        super::cilium_tier::DNS_LABELS
            .iter()
            .map(|key| (*key).to_string()),
    );
    keys
}

/// The interned keys of the pod labels that the selectors of `policies` and `cluster` look at.
pub(super) fn pod_label_key_ids(
    policies: &[super::compile::Policy],
    cluster: &[super::cnp::Compiled],
) -> HashSet<u32> {
    let mut ids = HashSet::new();
    for policy in policies {
        ids.extend(policy.selector.keys());
        let rules = [&policy.ingress, &policy.egress]
            .into_iter()
            .flatten()
            .flatten();
        for peer in rules.flat_map(|rule| rule.peers.iter().flatten()) {
            if let super::compile::PeerMatch::Pods { pods, .. } = peer {
                ids.extend(pods.keys());
            }
        }
    }
    ids.extend(cluster.iter().flat_map(|policy| policy.pods.keys()));
    for peer in cluster_peers(cluster) {
        if let super::cnp::Peer::Pods { pods, .. } = peer {
            ids.extend(pods.keys());
        }
    }
    ids
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
                    lengths.push((length, HashMap::default()));
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
