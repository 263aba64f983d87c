//! An exact evaluator of Cilium's policies: `cilium.io/v2` CiliumNetworkPolicy (CNP) and
//! CiliumClusterwideNetworkPolicy (CCNP), alone or enforced together with Kubernetes
//! NetworkPolicies as Cilium enforces them.
//!
//! [`read_policies`] reads and compiles policies as strictly as the API server with the CRD
//! schema (Cilium v1.16.5, in `fixtures/schemas/cilium/`) and Cilium's agent together; an
//! [`Evaluator`] holds them with the [`Cluster`] they apply to and decides, per direction, a
//! connection between two [`End`]s, naming the rules that decided ([`Side`]). [`combine`]
//! merges a side with the NetworkPolicy evaluator's verdict on the same side.
//!
//! # Semantics
//!
//! The sources are the Cilium documentation (`Documentation/security/policy/` of
//! cilium/cilium: `intro.rst`, `layer3.rst`, `layer4.rst`, `deny.rst`, `host.rst`,
//! `kubernetes.rst`) and, where it is silent, the agent's code it describes; each rule is
//! written next to its code, with its source. In short:
//!
//! - **Subjects.** A rule applies to the endpoints (pods outside the host network) its
//!   `endpointSelector` selects, in the policy's namespace for a CNP, or to the nodes its
//!   `nodeSelector` selects (host policies, CCNP only), and then to the node's host network:
//!   the node itself and its host-network pods (host.rst). An `endpointSelector` never selects a
//!   node, a `nodeSelector` never a pod.
//! - **Default deny** (intro.rst, "Endpoint default policy"): an endpoint denies what no rule
//!   allows in a direction as soon as a rule selecting it has a section for that direction,
//!   unless that rule sets `enableDefaultDeny` to `false` for it (it then only adds allows);
//!   `enableDefaultDeny: true` puts it into default deny without a section.
//! - **Allows are a union, denies win** (intro.rst, "Rule Basics"; deny.rst): a connection is
//!   allowed in a direction when some allow rule of a rule selecting the subject admits it and
//!   no deny rule (`ingressDeny`, `egressDeny`) does, "regardless of whether they are a Cilium
//!   Network Policy, a Clusterwide Cilium Network Policy or even a Kubernetes Network Policy".
//!   A connection needs the source's egress and the destination's ingress.
//! - **Kubernetes NetworkPolicies** are translated into the same rules: their allows join the
//!   union, a NetworkPolicy isolating a pod puts it into default deny, and Cilium's denies win
//!   over them too ([`combine`]).
//! - **Peers** are identities: pods by their labels (with their namespace, its labels, service
//!   account and cluster as labels), the local node (`host`), other nodes (`remote-node`),
//!   kube-apiserver, and everything outside the cluster (`world`); see [`identity`]. CIDR rules
//!   and `toFQDNs` select outside addresses only, unless [`Options::cidr_match_nodes`].
//! - **Ports**: see [`ports`]; DNS names: see [`fqdn`].
//!
//! What the evaluator decides is whether a connection is admitted at layers 3 and 4. L7 rules
//! (HTTP, Kafka, listeners, TLS server names) filter requests on connections that are admitted;
//! DNS rules, besides, decide which names a pod may look up and so what `toFQDNs` can admit.

#![cfg_attr(
    not(test),
    allow(
        dead_code,
        unused_imports,
        reason = "the multi-dialect evaluator wires this module into verify and explain"
    )
)]

pub(crate) mod cidr_groups;
mod compile;
mod decide;
mod fqdn;
mod identity;
pub(super) mod labels;
mod peers;
mod ports;
mod raw;
mod read;
pub(crate) mod services;
mod sets;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

pub(crate) use self::compile::{Kind, Policy, PolicyRef, RuleRef};
pub(crate) use self::decide::combine;
pub(crate) use self::fqdn::Patterns;
pub(crate) use self::read::{API_VERSION, kind_of, policy, read_policies};
use crate::evaluate::ContainerPort;
use crate::evaluate::sets::Names;

/// Choices the Cilium agent's configuration makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// `policy-cidr-match-mode: nodes`: CIDR rules (and NetworkPolicy `ipBlock`s) also select
    /// node addresses. layer3.rst, "Selecting nodes with CIDR / ipBlock": "By default,
    /// CIDR-based selectors do not match in-cluster entities (pods or nodes)". Off by default.
    pub(crate) cidr_match_nodes: bool,
    /// `enable-node-selector-labels`: `fromNodes`/`toNodes` are allowed and select nodes by
    /// their labels (layer3.rst, "Node based"). Off by default, when the agent refuses them.
    pub(crate) node_selector_labels: bool,
    /// `allow-localhost` other than `policy`: traffic from a node to the pods on it is always
    /// allowed. layer3.rst, "Access to/from local host": "Kubernetes will automatically allow
    /// all communication from the local host of all local endpoints". On by default.
    pub(crate) allow_localhost: bool,
    /// How DNS patterns read a leading `**.`.
    pub(crate) patterns: Patterns,
    /// The cluster's name (`cluster-name`, `default` unless set), which the `cluster` entity
    /// matches on pods.
    pub(crate) cluster_name: String,
    /// `enable-host-firewall`: host policies are enforced. On by default here (a host policy
    /// given is taken as written for a host firewall); off, host policies select nothing.
    pub(crate) host_firewall: bool,
    /// `enable-policy: always`: every endpoint is in default deny both ways, selected by a
    /// rule or not (intro.rst, "Policy Enforcement Modes": "policy enforcement is enabled on
    /// all endpoints even if no rules select specific endpoints"); so is every node's host
    /// where the host firewall is on, the host being one of the agent's endpoints.
    pub(crate) enforce_always: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cidr_match_nodes: false,
            node_selector_labels: false,
            allow_localhost: true,
            patterns: Patterns::default(),
            cluster_name: "default".into(),
            host_firewall: true,
            enforce_always: false,
        }
    }
}

/// A pod, as far as Cilium's policies care: the evaluator's own, whose pods it shares (its
/// name, namespace, labels, `spec.serviceAccountName` (`default` when absent, as Kubernetes
/// sets it), `spec.nodeName`, `spec.hostNetwork` (a host-network pod is part of its node's
/// host, not an endpoint) and container ports, for named ports; its addresses Cilium does not
/// look at).
pub(crate) use crate::evaluate::Pod;

/// A node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Node {
    /// The name.
    pub(crate) name: String,
    /// The labels, which `nodeSelector`, `fromNodes` and `toNodes` select.
    pub(crate) labels: BTreeMap<String, String>,
    /// Its addresses (`status.addresses`).
    pub(crate) addresses: Vec<IpAddr>,
}

/// Where pods send DNS lookups: a DNS server and its port (after Service translation: the
/// port of the server pod, 53 for CoreDNS, 5353 for OpenShift's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnsServer {
    /// The server: a pod, or an address (a node-local cache).
    pub(crate) end: End,
    /// The port.
    pub(crate) port: u16,
}

/// What the evaluator needs from the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cluster {
    /// The labels of every namespace, by name (including `kubernetes.io/metadata.name`).
    pub(crate) namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The pods, shared with the evaluator of the other dialects.
    pub(crate) pods: Arc<[Pod]>,
    /// The nodes.
    pub(crate) nodes: Vec<Node>,
    /// The addresses kube-apiserver serves on, as pods reach it after the `kubernetes` Service
    /// (its endpoints); on a node or outside the cluster.
    pub(crate) api_server: Vec<IpAddr>,
    /// The DNS servers pods look names up at.
    pub(crate) dns: Vec<DnsServer>,
    /// Address blocks that stand for the nodes (a cluster modelled from a profile): an
    /// address in them that no node has is a node the cluster does not list.
    pub(crate) node_blocks: crate::evaluate::sets::AddressSet,
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum End {
    /// A pod of the cluster, by index (a host-network pod stands for its node's host).
    Pod(usize),
    /// The host network of a node of the cluster, by index.
    Node(usize),
    /// An address that is no pod; when it is a node's, the node. `name` is the DNS name a
    /// source looked it up by, for `toFQDNs`.
    Address {
        /// The address.
        ip: IpAddr,
        /// The name it was looked up by.
        name: Option<String>,
    },
}

/// What one side of a connection (the source's egress or the destination's ingress) decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Side {
    /// The end is no subject of policy in this direction (an address outside the cluster).
    NotSubject,
    /// Traffic Cilium always allows: a pod or host to itself, a node to its own pods.
    Local,
    /// No rule puts the subject into default deny in this direction and no rule denies.
    NotSelected,
    /// These allow rules admit the connection (no deny rule matched).
    Allowed {
        /// The admitting rules.
        by: Vec<Decider>,
    },
    /// These deny rules match the connection: denied whatever allows it.
    Denied {
        /// The denying rules.
        by: Vec<Decider>,
    },
    /// The subject is in default deny and no allow rule admits the connection.
    DefaultDenied {
        /// The rules (or NetworkPolicies) that put the subject into default deny.
        by: Vec<Decider>,
    },
}

impl Side {
    /// Whether this side lets the connection through.
    pub(crate) fn allows(&self) -> bool {
        !matches!(self, Side::Denied { .. } | Side::DefaultDenied { .. })
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |by: &[Decider]| {
            by.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Side::NotSubject => f.write_str("not subject to policy"),
            Side::Local => f.write_str("always allowed (local traffic)"),
            Side::NotSelected => f.write_str("no policy puts it into default deny"),
            Side::Allowed { by } => write!(f, "allowed by {}", list(by)),
            Side::Denied { by } => write!(f, "denied by {}", list(by)),
            Side::DefaultDenied { by } => {
                write!(f, "denied by default (default deny from {})", list(by))
            }
        }
    }
}

/// A rule that decided: a Cilium rule, or a NetworkPolicy (whose rules Cilium merges).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Decider {
    /// A rule of a Cilium policy.
    Cilium(RuleRef),
    /// An allow rule whose `toFQDNs` name the destination, which admits nothing because no
    /// DNS rule lets the source's lookup of that name through Cilium's DNS proxy: said beside
    /// the rules that deny, for the reader who sees the name in the rule.
    NotLookedUp(RuleRef),
    /// A NetworkPolicy.
    NetworkPolicy(crate::evaluate::PolicyRef),
}

/// Why a [`Decider::NotLookedUp`] rule admits nothing.
pub(crate) const NOT_LOOKED_UP: &str =
    "its toFQDNs name the destination, but no DNS rule lets the lookup through Cilium's DNS proxy";

impl fmt::Display for Decider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decider::Cilium(rule) => write!(f, "{rule}"),
            Decider::NotLookedUp(rule) => write!(f, "{rule} ({NOT_LOOKED_UP})"),
            Decider::NetworkPolicy(policy) => write!(f, "NetworkPolicy {policy}"),
        }
    }
}

/// The decision on a connection, side by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The source's egress.
    pub(crate) egress: Side,
    /// The destination's ingress.
    pub(crate) ingress: Side,
}

impl Verdict {
    /// Whether both sides let the connection through.
    pub(crate) fn allowed(&self) -> bool {
        self.egress.allows() && self.ingress.allows()
    }
}

/// The keys of the labels that the selectors of `policies` look at: of nodes (host policies'
/// `nodeSelector`s, `toNodes`/`fromNodes`) with `nodes`, else of endpoints
/// (`endpointSelector`s, `toEndpoints`/`fromEndpoints`).
pub(crate) fn selector_keys(policies: &[Policy], nodes: bool) -> std::collections::BTreeSet<&str> {
    let mut selectors: Vec<&labels::Selector> = Vec::new();
    for rule in policies.iter().flat_map(|policy| &policy.rules) {
        match &rule.subject {
            compile::Subject::Nodes(selector) if nodes => selectors.push(selector),
            compile::Subject::Endpoints(selector) if !nodes => selectors.push(selector),
            _ => {}
        }
        let lists = [
            &rule.ingress,
            &rule.ingress_deny,
            &rule.egress,
            &rule.egress_deny,
        ];
        for item in lists.into_iter().flatten() {
            if let compile::Peers::Any(peers) = &item.peers {
                selectors.extend(peers.iter().filter_map(|peer| match peer {
                    compile::Peer::Nodes(selector) if nodes => Some(selector),
                    compile::Peer::Endpoints(selector) if !nodes => Some(selector),
                    _ => None,
                }));
            }
        }
    }
    (selectors.into_iter())
        .flat_map(|selector| &selector.requirements)
        .map(|requirement| requirement.key().name.as_str())
        .collect()
}

/// What endpoints may look up, by the rules selecting them (policy and rule numbers) and the
/// node where it matters. A copy starts empty.
#[derive(Debug, Default)]
struct Lookups(std::sync::Mutex<HashMap<LookupKey, Names>>);

/// The rules selecting an endpoint (policy and rule numbers), and its node where it matters.
type LookupKey = (Vec<(usize, usize)>, Option<usize>);

impl Clone for Lookups {
    fn clone(&self) -> Self {
        Lookups::default()
    }
}

/// Compiled policies and the cluster they apply to.
#[derive(Debug, Clone)]
pub(crate) struct Evaluator {
    policies: Vec<Policy>,
    cluster: Cluster,
    options: Options,
    /// Node indices by name.
    nodes: BTreeMap<String, usize>,
    /// Node indices by address (the first node of an address).
    node_addresses: HashMap<IpAddr, usize>,
    /// Which rules may select what (see [`Rules`]).
    rules: Rules,
    /// The rules selecting each pod, by policy and rule number, found on first use.
    selecting: Vec<OnceLock<Vec<(u32, u32)>>>,
    /// The addresses in classes no rule tells apart (see `sets.rs`), worked out on first use.
    partition: OnceLock<sets::Partition>,
    /// The identity labels of each endpoint, by pod, worked out on first use.
    endpoint_labels: Vec<OnceLock<labels::Labels>>,
    /// What endpoints may look up through the DNS proxy, by the rules selecting them (and
    /// their node, where a DNS server is a node's host), worked out on first use.
    lookups: Lookups,
    /// Which endpoints each selector and entity matches, found on first use.
    matched: sets::Matched,
    /// The identity labels of each namespace's endpoints that come from the namespace.
    namespace_identities: OnceLock<HashMap<String, Vec<labels::Label>>>,
}

/// The rules of the policies by what they may select, each list in the order of the policies
/// and their rules: a namespaced policy's `endpointSelector` selects pods of its namespace only
/// (the reader completes it so), a clusterwide one's pods of any namespace, a `nodeSelector`
/// nodes only.
#[derive(Debug, Clone, Default)]
struct Rules {
    /// The endpoint rules of the namespaced policies, by namespace.
    namespaced: HashMap<String, Vec<(u32, u32)>>,
    /// The endpoint rules of the clusterwide policies.
    clusterwide: Vec<(u32, u32)>,
    /// The node rules (host policies).
    hosts: Vec<(u32, u32)>,
}

impl Rules {
    /// The rules of `policies` by whom they may select; host policies only with
    /// `host_firewall`, which enforces them.
    fn new(policies: &[Policy], host_firewall: bool) -> Self {
        let mut rules = Rules::default();
        for (p, policy) in policies.iter().enumerate() {
            for (r, rule) in policy.rules.iter().enumerate() {
                if !host_firewall && matches!(rule.subject, compile::Subject::Nodes(_)) {
                    continue;
                }
                let number = (
                    u32::try_from(p).unwrap_or(u32::MAX),
                    u32::try_from(r).unwrap_or(u32::MAX),
                );
                let list = match (&rule.subject, &policy.reference.namespace) {
                    (compile::Subject::Nodes(_), _) => &mut rules.hosts,
                    (compile::Subject::Endpoints(_), Some(namespace)) => {
                        rules.namespaced.entry(namespace.clone()).or_default()
                    }
                    (compile::Subject::Endpoints(_), None) => &mut rules.clusterwide,
                };
                list.push(number);
            }
        }
        rules
    }
}

impl Evaluator {
    /// The evaluator of `policies` in `cluster`; `options` must be those the policies were
    /// read with.
    pub(crate) fn new(policies: Vec<Policy>, cluster: Cluster, options: Options) -> Self {
        let nodes = cluster
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut node_addresses = HashMap::new();
        for (i, node) in cluster.nodes.iter().enumerate() {
            for address in &node.addresses {
                node_addresses.entry(*address).or_insert(i);
            }
        }
        let pods = cluster.pods.len();
        Evaluator {
            rules: Rules::new(&policies, options.host_firewall),
            policies,
            cluster,
            options,
            nodes,
            node_addresses,
            selecting: std::iter::repeat_with(OnceLock::new).take(pods).collect(),
            partition: OnceLock::new(),
            endpoint_labels: std::iter::repeat_with(OnceLock::new).take(pods).collect(),
            lookups: Lookups::default(),
            matched: sets::Matched::default(),
            namespace_identities: OnceLock::new(),
        }
    }

    /// The keys of the node labels that some rule looks at: those of host policies'
    /// `nodeSelector`s and of `toNodes`/`fromNodes` peers. Two nodes whose labels agree on
    /// these are selected alike by every rule.
    pub(crate) fn node_label_keys(&self) -> std::collections::BTreeSet<&str> {
        selector_keys(&self.policies, true)
    }

    /// The cluster.
    pub(crate) fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The policies.
    pub(crate) fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The end `text` names, as `explain` writes ends: `node/NAME` (that node's host network),
    /// `NAMESPACE/POD`, an IP address, or `NAME=IP` (an address a source looked up by the DNS
    /// name `NAME`). `None` when no such pod or node is in the cluster.
    pub(crate) fn end(&self, text: &str) -> Option<End> {
        if let Some((name, ip)) = text.split_once('=') {
            return Some(End::Address {
                ip: ip.parse().ok()?,
                name: Some(name.to_string()),
            });
        }
        if let Ok(ip) = text.parse() {
            return Some(End::Address { ip, name: None });
        }
        let (first, second) = text.split_once('/')?;
        if first == "node" {
            return self.nodes.get(second).map(|&n| End::Node(n));
        }
        self.cluster
            .pods
            .iter()
            .position(|p| p.namespace == first && p.name == second)
            .map(End::Pod)
    }
}

#[cfg(test)]
mod tests;
