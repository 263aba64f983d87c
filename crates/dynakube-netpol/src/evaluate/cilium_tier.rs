//! Cilium's policies in the NetworkPolicy tier: the Cilium evaluator (`cilium`) decides a side
//! with the NetworkPolicies as Cilium enforces them together (`cilium::combine`: allows
//! unioned, denies over allows), and its answer becomes the tier's decision.
//!
//! The cluster Cilium sees is the index's: its pods (in the same order, so that pod ids agree),
//! nodes and namespaces, kube-apiserver's addresses, and the cluster DNS, which `toFQDNs` needs
//! to know the lookups a pod makes: the pods CoreDNS and kube-dns run as (`k8s-app: kube-dns`)
//! and OpenShift's (`dns.operator.openshift.io/daemonset-dns: default`), on their container
//! port named `dns` of UDP (53 when they name none), and the node-local DNS caches of the
//! cluster (NodeLocal DNSCache, at its link-local address on port 53), where pods whose kubelet
//! names the cache send their lookups: a `toFQDNs` rule is effective when the DNS rules let the
//! lookup through to any of them.

use super::sets::{AddressSet, PortSet, Space};
use super::tiers::{Namespaced, NetworkPolicySets, Query, TierSets};
use super::{
    ConnectionEnd, Decider, Decision, Index, Namespace, Node, NodeId, Outcome, Pod, PodId, RuleRef,
    Side, Tier, cilium,
};
use crate::evaluate::decision::Dialect;
use crate::matrix::{Direction, Protocol};

/// The Cilium evaluator of an index's cluster.
#[derive(Debug)]
pub(crate) struct CiliumTier {
    evaluator: cilium::Evaluator,
}

/// The labels and default port of the cluster DNS's pods.
pub(super) const DNS_PODS: [(&str, &str, u16); 2] = [
    ("k8s-app", "kube-dns", 53),
    ("dns.operator.openshift.io/daemonset-dns", "default", 5353),
];

/// The keys of the labels of [`DNS_PODS`].
pub(super) const DNS_LABELS: [&str; 2] = [DNS_PODS[0].0, DNS_PODS[1].0];

/// The port the cluster DNS's pod `pod` serves on when it names none (its entry of
/// [`DNS_PODS`]); `None` for a pod that is none of the cluster DNS's.
fn dns_default_port(pod: &Pod) -> Option<u16> {
    DNS_PODS
        .iter()
        .find(|(key, value, _)| pod.labels.get(*key).map(String::as_str) == Some(value))
        .map(|&(_, _, port)| port)
}

/// Whether `pod` is one of the cluster DNS's.
pub(super) fn is_dns_pod(pod: &Pod) -> bool {
    dns_default_port(pod).is_some()
}

/// Whether a pod of the cluster DNS runs in the host network (where Cilium decides lookups
/// against the node of the pod that looks up).
pub(super) fn dns_in_host_network(pods: &[Pod]) -> bool {
    pods.iter().any(|pod| pod.host_network && is_dns_pod(pod))
}

impl CiliumTier {
    /// The Cilium evaluator of `policies` in the cluster of `namespaces`, `pods` (shared),
    /// `nodes` (and the addresses `node_blocks` that stand for nodes), kube-apiserver's
    /// addresses `api_server` and the node-local DNS caches `dns_caches`, under the agent's
    /// `options` (those the policies were compiled with).
    pub(crate) fn new(
        policies: Vec<cilium::Policy>,
        namespaces: &[Namespace],
        pods: &std::sync::Arc<[Pod]>,
        (nodes, node_blocks): (&[Node], &AddressSet),
        api_server: &[std::net::IpAddr],
        dns_caches: &[std::net::IpAddr],
        options: cilium::Options,
    ) -> CiliumTier {
        let mut dns: Vec<cilium::DnsServer> = pods
            .iter()
            .enumerate()
            .filter_map(|(id, pod)| {
                let default = dns_default_port(pod)?;
                let port = pod
                    .ports
                    .iter()
                    .find(|p| p.protocol == Protocol::Udp && p.name.as_deref() == Some("dns"))
                    .map_or(default, |p| p.port);
                Some(cilium::DnsServer {
                    end: cilium::End::Pod(id),
                    port,
                })
            })
            .collect();
        // NodeLocal DNSCache serves on port 53 ("Using NodeLocal DNSCache in Kubernetes
        // Clusters": the cache listens on the link-local address, as kube-dns does).
        dns.extend(dns_caches.iter().map(|&ip| cilium::DnsServer {
            end: cilium::End::Address { ip, name: None },
            port: 53,
        }));
        let cluster = cilium::Cluster {
            namespaces: namespaces
                .iter()
                .map(|n| (n.name.clone(), n.labels.clone()))
                .collect(),
            pods: std::sync::Arc::clone(pods),
            nodes: nodes
                .iter()
                .map(|n| cilium::Node {
                    name: n.name.clone(),
                    labels: n.labels.clone(),
                    addresses: n.addresses.clone(),
                })
                .collect(),
            api_server: api_server.to_vec(),
            dns,
            node_blocks: node_blocks.clone(),
        };
        CiliumTier {
            evaluator: cilium::Evaluator::new(policies, cluster, options),
        }
    }
}

#[cfg(test)]
impl CiliumTier {
    /// The Cilium evaluator.
    pub(crate) fn evaluator(&self) -> &cilium::Evaluator {
        &self.evaluator
    }
}

/// `end` as Cilium sees it; a destination address carries the name it was looked up by.
fn end(end: &ConnectionEnd, name: Option<&str>) -> cilium::End {
    match end {
        ConnectionEnd::Pod(id) => cilium::End::Pod(*id),
        ConnectionEnd::Node(id) => cilium::End::Node(*id),
        ConnectionEnd::Ip(ip) => cilium::End::Address {
            ip: *ip,
            name: name.map(str::to_owned),
        },
    }
}

/// A decider of the Cilium evaluator as one of ours: a Cilium rule, or a NetworkPolicy (with
/// its rules that decided, when `network_policy` names them).
fn decider(decider: &cilium::Decider, network_policy: &[Decider]) -> Vec<Decider> {
    match decider {
        cilium::Decider::Cilium(rule) | cilium::Decider::NotLookedUp(rule) => {
            let policy = &rule.policy;
            vec![Decider {
                dialect: match policy.kind {
                    cilium::Kind::Namespaced => Dialect::Cilium,
                    cilium::Kind::Clusterwide => Dialect::CiliumClusterwide,
                },
                namespace: policy.namespace.clone(),
                name: policy.name.clone(),
                priority: None,
                rule: Some(rule.field.clone()),
                rule_name: None,
                action: None,
                note: matches!(decider, cilium::Decider::NotLookedUp(_))
                    .then_some(cilium::NOT_LOOKED_UP),
            }]
        }
        cilium::Decider::NetworkPolicy(policy) => {
            let rules: Vec<Decider> = network_policy
                .iter()
                .filter(|d| {
                    d.namespace.as_deref() == Some(policy.namespace.as_str())
                        && d.name == policy.name
                })
                .cloned()
                .collect();
            if rules.is_empty() {
                vec![Decider::network_policy(policy, None)]
            } else {
                rules
            }
        }
    }
}

/// A Cilium rule as a rule of the sets.
fn rule_ref(rule: cilium::RuleRef, direction: Direction, index: usize) -> RuleRef {
    RuleRef {
        policy: rule.policy.to_string(),
        direction,
        index,
        dialect: match rule.policy.kind {
            cilium::Kind::Namespaced => Dialect::Cilium,
            cilium::Kind::Clusterwide => Dialect::CiliumClusterwide,
        },
        field: rule.field,
    }
}

impl Namespaced for CiliumTier {
    /// `cilium::combine` over sets: what never meets policy is decided first, then the denies
    /// over `rest`; of the rest, each Cilium allow rule and each rule of the isolating
    /// NetworkPolicies allows its part. A subject in default deny (by Cilium's rules or an
    /// isolating NetworkPolicy) has everything decided; otherwise what no rule allows or denies
    /// goes on.
    fn tier_sets(
        &self,
        direction: Direction,
        subject: PodId,
        rest: &Space,
        network_policy: &NetworkPolicySets,
    ) -> TierSets {
        let sets = self
            .evaluator
            .side_sets(direction, subject, rest)
            .unwrap_or_default();
        let local = rest.intersection(&sets.local);
        let denied = rest.difference(&local).intersection(&sets.denied);
        let open = rest.difference(&local).difference(&denied);
        let mut allowed = Vec::new();
        for (rule, index, space) in sets.allowed {
            let part = open.intersection(&space);
            if !part.is_empty() {
                allowed.push((rule_ref(rule, direction, index), part));
            }
        }
        if network_policy.isolating {
            for (rule, space) in &network_policy.rules {
                let part = open.intersection(space);
                if !part.is_empty() {
                    allowed.push((rule.clone(), part));
                }
            }
        }
        let decided = if sets.default_deny || network_policy.isolating {
            rest.clone()
        } else {
            allowed
                .iter()
                .fold(local.union(&denied), |all, (_, part)| all.union(part))
        };
        TierSets { allowed, decided }
    }

    fn has_side(&self, direction: Direction, subject: PodId) -> bool {
        self.evaluator.has_side(direction, subject)
    }

    fn subject_rules(&self, subject: PodId) -> Vec<(u32, u32)> {
        self.evaluator.rule_numbers(subject)
    }

    fn peer_label_keys(&self, direction: Direction, rules: &[(u32, u32)]) -> Vec<String> {
        (self.evaluator.peer_label_keys(direction, rules).into_iter())
            .map(String::from)
            .collect()
    }

    fn node_ports(
        &self,
        direction: Direction,
        node: Option<NodeId>,
        pod: PodId,
    ) -> Option<PortSet> {
        self.evaluator.node_ports(direction, node, pod)
    }

    fn node_label_keys(&self) -> std::collections::BTreeSet<String> {
        (self.evaluator.node_label_keys().into_iter())
            .map(String::from)
            .collect()
    }

    /// Cilium's decision on the side, with the NetworkPolicies' (`cilium::combine`): `None`
    /// when no rule puts the subject into default deny and none denies (the next tier decides)
    /// or the subject is no endpoint of Cilium's.
    fn decide(
        &self,
        _index: &Index,
        direction: Direction,
        (subject, peer): (&ConnectionEnd, &ConnectionEnd),
        query: &Query<'_>,
        network_policy: Option<(&Side, &[Decider])>,
    ) -> Option<Decision> {
        let connection = query.connection;
        let (subject_name, peer_name) = match direction {
            Direction::Egress => (None, query.name),
            Direction::Ingress => (query.name, None),
        };
        let cilium_side = self.evaluator.side(
            direction,
            &end(subject, subject_name),
            &end(peer, peer_name),
            connection.port,
            connection.protocol,
        );
        let (np_side, np_deciders) = network_policy.unwrap_or((&Side::NotSubject, &[]));
        let combined = cilium::combine(cilium_side, np_side);
        let deciders = |by: &[cilium::Decider]| -> Vec<Decider> {
            let mut out: Vec<Decider> = Vec::new();
            for d in by.iter().flat_map(|d| decider(d, np_deciders)) {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
            out
        };
        match combined {
            cilium::Side::NotSubject | cilium::Side::NotSelected => None,
            cilium::Side::Local => Some(Decision::by(
                Outcome::Local,
                Tier::NetworkPolicy,
                Vec::new(),
            )),
            cilium::Side::Allowed { by } => Some(Decision::by(
                Outcome::Allowed,
                Tier::NetworkPolicy,
                deciders(&by),
            )),
            cilium::Side::Denied { by } => Some(Decision::by(
                Outcome::Denied,
                Tier::NetworkPolicy,
                deciders(&by),
            )),
            cilium::Side::DefaultDenied { by } => Some(Decision::by(
                Outcome::Isolated,
                Tier::NetworkPolicy,
                deciders(&by),
            )),
        }
    }
}
