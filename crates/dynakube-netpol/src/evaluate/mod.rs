//! An exact evaluator of network policies as a cluster enforces them: Kubernetes
//! `networking.k8s.io/v1` NetworkPolicy, network-policy-api `policy.networking.k8s.io/v1alpha2`
//! ClusterNetworkPolicy (its Admin and Baseline tiers around the NetworkPolicies), and Cilium's
//! `cilium.io/v2` CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy, which Cilium enforces
//! together with the NetworkPolicies (`cilium`, through the slot `tiers::Namespaced`).
//!
//! Given namespaces, pods, nodes and policies, [`Index::with_options`] compiles everything once
//! (selectors on interned labels, the namespaces each namespace selector matches, which policies
//! isolate or have as subject which pod in which direction, the named ports of every pod), and
//! [`Index::evaluate`] then decides one [`Connection`] cheaply, saying for each side which
//! tier, policy and rule decided it ([`Decision`]); [`explain`] answers one question in words or
//! JSON. `Index::admits` and `Index::admitted_ports` give the NetworkPolicy and
//! ClusterNetworkPolicy decisions as sets instead: every pod, address range and port range each
//! rule admits (see `sets`, which no dialect owns), so that what policies allow can be compared
//! with what is needed without trying connections.
//!
//! # Tiers
//!
//! Each side (the source's egress, the destination's ingress) is decided in the tiers of
//! network-policy-api v0.2.0 (`ClusterNetworkPolicySpec.Tier`): the Admin tier, by priority,
//! each policy's rules in order (Accept and Deny are final, Pass goes on to the next tier);
//! then the NetworkPolicies (on Cilium with Cilium's policies: allows unioned, denies over
//! allows), which decide for every pod they isolate; then the Baseline tier;
//! then the Kubernetes default, which allows. A connection is allowed when both sides allow it.
//! The ClusterNetworkPolicy rules are documented in `cnp`, their combination in `tiers`, and
//! what is left to the network plugin in [`NetworkPlugin`].
//!
//! # Semantics
//!
//! The rules are those of the Kubernetes documentation and API server:
//!
//! - A pod is isolated for ingress (egress) when a policy in its namespace selects it with its
//!   `podSelector` and has that policy type. An isolated side admits exactly the union of the
//!   rules of the policies isolating it; a side that is not isolated admits everything. A
//!   connection is allowed when the source's egress side and the destination's ingress side both
//!   admit it. An external address has no side of its own (it is not subject to policy).
//! - Without `policyTypes` (or with an empty list) a policy has type Ingress, and also Egress
//!   when `spec.egress` is a non-empty list: the API server's defaulting.
//! - A rule without `from`/`to` (or with an empty list) admits every peer, pods and addresses; a
//!   rule without `ports` (or with an empty list) admits every port of every protocol.
//! - A peer with only `podSelector` means pods of the policy's namespace; with only
//!   `namespaceSelector`, every pod of the matching namespaces; with both, the pods matching the
//!   pod selector in the matching namespaces. The peers of a list are ORed.
//! - A label selector is the AND of its `matchLabels` and `matchExpressions`; `NotIn` matches a
//!   pod without the key; the empty selector matches everything.
//! - A port has protocol TCP unless it says UDP or SCTP; a numeric port with `endPort` is an
//!   inclusive range; a named port matches when the connection's destination is a pod with a
//!   container port of that name, that protocol and the connection's number. A named port never
//!   matches an external destination.
//!
//! Two points Kubernetes leaves to the network plugin are decided as follows, unless a
//! [`NetworkPlugin`] decides otherwise.
//!
//! - **`ipBlock` matches every address, pods' too** ([`NetworkPlugin::Generic`]): the
//!   NetworkPolicy reference says the blocks "should be cluster-external IPs", and the
//!   Kubernetes e2e tests (`test/e2e/network/netpol`, "should allow egress access to server in
//!   CIDR block" and the `except` tests after it) expect a block over a pod's address to match
//!   the pod, as Calico does. Cilium matches neither pods nor nodes. The independent analyzer
//!   NCA (network-config-analyzer 2.1.0) admits the address range but never the pod; the
//!   Cilium plugin's blocks with [`HostNetwork::Pod`] read policies as NCA does.
//! - **hostNetwork pods are their node's addresses** (the default, [`HostNetwork::NodeAddress`]),
//!   which the Kubernetes documentation calls the most common implementation: such a pod is not
//!   subject to policy (both its sides are not subject to policy); as a peer, selectors never match
//!   it and an `ipBlock` matches it when it contains one of its IPs (the node's); named ports do
//!   not resolve on it. NCA differs: it ignores `hostNetwork` and treats such pods as ordinary
//!   pods (policies isolate them, selectors match them, `ipBlock`s do not), which
//!   [`HostNetwork::Pod`] reproduces for comparisons.
//!
//! Further choices: NetworkPolicies cannot block a pod's connections with itself or with its
//! own node (the Kubernetes documentation, "Network Policies"; on Calico only the node's to
//! its pods, and on Cilium its engine decides: `Index::local_exempt`), and
//! ClusterNetworkPolicies do not apply to a pod with itself, as network-policy-api says
//! (`tiers`); a [`ConnectionEnd::Ip`] of a node address is that node. Pods and policies in a
//! namespace missing from the namespace list get a namespace with only the
//! `kubernetes.io/metadata.name` label, which every namespace carries as the API server sets
//! it.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::evaluate::{Connection, Index, ConnectionEnd, Options, read_cluster, read_policies};
//! use dynakube_netpol::source::Limits;
//! use dynakube_netpol::matrix::Protocol;
//!
//! let cluster = r#"
//! apiVersion: v1
//! kind: List
//! items:
//! - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
//! - apiVersion: v1
//!   kind: Pod
//!   metadata: {name: web, namespace: shop, labels: {app: web}}
//!   status: {podIP: 10.0.0.1}
//! - apiVersion: v1
//!   kind: Pod
//!   metadata: {name: db, namespace: shop, labels: {app: db}}
//!   spec: {containers: [{name: main, ports: [{name: sql, containerPort: 5432}]}]}
//!   status: {podIP: 10.0.0.2}
//! "#;
//! let policies = r#"
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: db, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {app: db}}
//!   ingress:
//!   - from: [{podSelector: {matchLabels: {app: web}}}]
//!     ports: [{port: sql}]
//! "#;
//! let cluster = read_cluster("cluster.yaml", cluster, &Limits::default())?;
//! let policies = read_policies("policies.yaml", policies, &Limits::default())?;
//! let index = Index::with_options(cluster, &policies, Options::default())?;
//! let (web, db) = (index.connection_end("shop/web").unwrap(), index.connection_end("shop/db").unwrap());
//! let to_db = |from, port| Connection { from, to: db, port, protocol: Protocol::Tcp };
//! assert!(index.evaluate(&to_db(web, 5432)).allowed());
//! assert!(!index.evaluate(&to_db(web, 5433)).allowed());
//! let verdict = index.evaluate(&to_db(ConnectionEnd::Ip("10.0.0.1".parse().unwrap()), 5432));
//! assert_eq!(verdict.ingress.to_string(), "denied (isolated by shop/db)");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

mod admitted;
mod agent;
pub(crate) mod cilium;
mod cilium_tier;
mod classes;
mod cnp;
mod compile;
mod decision;
mod explain;
mod labels;
mod meta;
mod plugin;
mod prepared;
mod read;
pub(crate) mod sets;
mod tiers;
mod write;

use std::collections::BTreeMap;

use foldhash::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use k8s_openapi::api::networking::v1::NetworkPolicy;

use self::compile::{Context, Namespaces, PeerMatch, Policy, PortMatch, PortSpec, Rule};
use self::labels::{Interner, LabelSet};
use self::sets::{AddressSet, PortSet, Space};
use crate::error::{Error, Location, Result};
use crate::matrix::{Direction, Protocol};
use crate::values::Cidr;

pub(crate) use self::admitted::{Admits, RuleRef};
use self::agent::CONFIG_MAP as CILIUM_CONFIG;
pub use self::agent::{CiliumAgent, Enforcement};
pub(crate) use self::classes::{EndKey, NodeKey, PeerView, Selection};
pub(crate) use self::decision::{Decider, Outcome, Tier};
pub use self::explain::{Explanation, explain};
#[cfg(feature = "internals")]
#[doc(hidden)]
pub use self::prepared::explain_scanned;
pub use self::prepared::{ExplainFiles, explain_files};
pub use self::read::{PolicyFiles, read_cluster, read_cluster_file, read_policies};
pub(crate) use self::tiers::{Namespaced, Query};
pub use self::write::Case;

/// The label the API server gives every namespace, with the namespace's name as value.
pub(crate) const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A namespace and its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The name.
    pub name: String,
    /// The labels.
    pub labels: BTreeMap<String, String>,
}

/// A port a container declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPort {
    /// The name, which policies may use instead of the number.
    pub name: Option<String>,
    /// The number.
    pub port: u16,
    /// The protocol.
    pub protocol: Protocol,
}

/// A port an init container declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitContainerPort {
    /// The port.
    pub port: ContainerPort,
    /// Whether the container is a sidecar (`restartPolicy: Always`), which keeps running
    /// beside the pod's containers, where another init container has ended before they start.
    pub sidecar: bool,
}

/// A pod as far as policies care.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pod {
    /// The name.
    pub name: String,
    /// The namespace.
    pub namespace: String,
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// The addresses (the node's for a hostNetwork pod).
    pub ips: Vec<IpAddr>,
    /// The ports of all its containers (`spec.containers`).
    pub ports: Vec<ContainerPort>,
    /// The ports of its init containers (`spec.initContainers`), which name ports for
    /// policies as far as the network plugin reads them ([`NetworkPlugin`]).
    pub init_ports: Vec<InitContainerPort>,
    /// Whether the pod runs in the node's network namespace.
    pub host_network: bool,
    /// The node it runs on (`spec.nodeName`), when scheduled.
    pub node: Option<String>,
    /// Its service account (`spec.serviceAccountName`), when given.
    pub service_account: Option<String>,
}

/// A pod that has ended: its `status.phase` is `Succeeded` or `Failed`, all its containers have
/// stopped for good, and the network plugin has released its addresses, which a newer pod may
/// have now. It makes and takes no connections, so the evaluator leaves it out, as the plugins
/// do (Cilium's `IsPodRunning` in `pkg/k8s/utils`, Calico's `IsFinished` in libcalico-go's
/// converter) and as Kubernetes leaves it out of Services' endpoints; only its name is kept,
/// to say why a question about it has no answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndedPod {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// Whether it ended in phase `Failed` (else `Succeeded`).
    pub failed: bool,
}

impl EndedPod {
    /// Its `status.phase`.
    pub fn phase(&self) -> &'static str {
        if self.failed { "Failed" } else { "Succeeded" }
    }
}

/// A node: its labels, which ClusterNetworkPolicy `nodes` peers select, and its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The name.
    pub name: String,
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// The IP addresses of `status.addresses` (types `InternalIP` and `ExternalIP`).
    pub addresses: Vec<IpAddr>,
}

/// A Service, as Cilium's `toServices` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Service {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The labels (`metadata.labels`), which `k8sServiceSelector` selects by.
    pub labels: BTreeMap<String, String>,
    /// `spec.selector`: the labels of the pods behind it; empty for a Service without a
    /// selector, whose endpoints are listed by hand.
    pub selector: BTreeMap<String, String>,
    /// `spec.clusterIPs` (else `spec.clusterIP`): the virtual addresses that kube-proxy or
    /// Cilium translates to one of its endpoints before any policy sees the connection; none
    /// for a headless Service (`None`).
    pub cluster_ips: Vec<IpAddr>,
}

/// The addresses an EndpointSlice or Endpoints object lists for a Service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceEndpoints {
    /// The namespace.
    pub namespace: String,
    /// The Service's name (an EndpointSlice's `kubernetes.io/service-name` label, an Endpoints
    /// object's name).
    pub service: String,
    /// The addresses.
    pub addresses: Vec<IpAddr>,
}

/// Namespaces, pods and nodes, as `kubectl get namespaces,pods,nodes -o yaml` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cluster {
    /// The namespaces.
    pub namespaces: Vec<Namespace>,
    /// The pods, but those that have ended.
    pub pods: Vec<Pod>,
    /// The pods that have ended (see [`EndedPod`]).
    pub ended_pods: Vec<EndedPod>,
    /// The nodes.
    pub nodes: Vec<Node>,
    /// The addresses kube-apiserver serves on as pods reach it: the endpoints of the
    /// `kubernetes` Service (Cilium's `kube-apiserver` entity).
    pub api_server: Vec<IpAddr>,
    /// The addresses of node-local DNS caches that pods send their lookups to (NodeLocal
    /// DNSCache's link-local address, such as 169.254.20.10): DNS servers besides the cluster
    /// DNS's pods, where Cilium's DNS proxy sees the lookups that `toFQDNs` needs.
    pub dns_caches: Vec<IpAddr>,
    /// Address blocks that stand for the cluster's nodes, where the cluster lists only some of
    /// them: an address in a block that no node has is the host network of a node the cluster
    /// does not list, as a listed node's addresses are. A cluster modelled from a profile sets
    /// its `nodeCIDRs` here ([`crate::verify::model_cluster`]); a cluster read from a dump lists
    /// its nodes and leaves this empty, so that an address no node has is outside the cluster,
    /// as Cilium classes it (`world`), whatever block it is in.
    pub node_blocks: Vec<Cidr>,
    /// The options of the Cilium agent, from the `cilium-config` ConfigMaps of the dumps (one,
    /// or the same in each dump); none for Cilium's defaults. See [`CiliumAgent`].
    pub cilium_agents: Vec<CiliumAgent>,
    /// The Services, which Cilium's `toServices` names.
    pub services: Vec<Service>,
    /// The addresses of the Services' endpoints, from EndpointSlices and Endpoints objects.
    pub service_endpoints: Vec<ServiceEndpoints>,
}

impl Extend<Cluster> for Cluster {
    /// Adds the namespaces, pods, nodes and addresses of other dumps of the same cluster.
    fn extend<T: IntoIterator<Item = Cluster>>(&mut self, more: T) {
        for cluster in more {
            self.namespaces.extend(cluster.namespaces);
            self.pods.extend(cluster.pods);
            self.ended_pods.extend(cluster.ended_pods);
            self.nodes.extend(cluster.nodes);
            self.api_server.extend(cluster.api_server);
            self.node_blocks.extend(cluster.node_blocks);
            self.cilium_agents.extend(cluster.cilium_agents);
            self.services.extend(cluster.services);
            self.service_endpoints.extend(cluster.service_endpoints);
            for cache in cluster.dns_caches {
                if !self.dns_caches.contains(&cache) {
                    self.dns_caches.push(cache);
                }
            }
        }
    }
}

/// Refuses what Cilium's agent refuses for want of an option `agent` (`configured`: from the
/// cluster's ConfigMap) leaves off:
/// - `fromNodes`/`toNodes` (Cilium's policies) and `nodes` peers (the ClusterNetworkPolicies
///   the agent enforces, where `configured`) without `enable-node-selector-labels`
///   (`ErrFromToNodesRequiresNodeSelectorOption`; `ParseClusterNetworkPolicy`);
/// - L7 rules (Cilium's policies) and `domainNames` peers (ClusterNetworkPolicies) without
///   `enable-l7-proxy` (`IngressRule.sanitize`, `EgressRule.sanitize`;
///   `ParseClusterNetworkPolicy`);
/// - a port left out (Cilium's policies) without `enable-extended-ip-protocols`
///   (`PortProtocol.sanitize`: "port must be specified");
///
/// and what else the agent refuses of the ClusterNetworkPolicies ([`cluster_policy_refusals`]).
fn cilium_refusals(
    agent: &CiliumAgent,
    configured: bool,
    files: &PolicyFiles,
    cluster_policies: &[cnp::ClusterNetworkPolicy],
) -> Result<()> {
    let (nodes, names) = cluster_policy_refusals(cluster_policies)?;
    let refused = |at: Location, option: &str, why: &str| {
        Error::invalid(
            at,
            format!("needs Cilium's {option}, {why}; the agent refuses the policy"),
        )
    };
    if !agent.l7_proxy {
        let l7 = (files.cilium_policies.iter()).find_map(|p| p.first_l7().cloned());
        if let Some(at) = l7.or(names) {
            let why = "which the cluster's cilium-config ConfigMap turns off";
            return Err(refused(at, "L7 proxy (`enable-l7-proxy`)", why));
        }
    }
    // An option the agent leaves off unless its ConfigMap sets it.
    let unset = if configured {
        "which the cluster's cilium-config ConfigMap does not set"
    } else {
        "which is off unless the agent's cilium-config ConfigMap sets it, and the cluster holds no such ConfigMap"
    };
    if !agent.extended_ip_protocols {
        let left_out =
            (files.cilium_policies.iter()).find_map(|p| p.first_port_left_out().cloned());
        if let Some(at) = left_out {
            let option = "`enable-extended-ip-protocols` option for a port left out (the agent: \"port must be specified\")";
            return Err(refused(at, option, unset));
        }
    }
    // Without the ConfigMap, ClusterNetworkPolicies are taken as enforced as given (see
    // `enforced`), their `nodes` peers too.
    let cilium = (files.cilium_policies.iter()).find_map(|p| p.node_peers.clone());
    let cluster = nodes.filter(|_| configured);
    match cilium.or(cluster) {
        Some(at) if !agent.node_selector_labels => {
            let option = "`enable-node-selector-labels` option (Helm `nodeSelectorLabels: true`)";
            Err(refused(at, option, unset))
        }
        _ => Ok(()),
    }
}

/// What Cilium's agent refuses of ClusterNetworkPolicies, as it translates them
/// (`ParseClusterNetworkPolicy`, `pkg/k8s/cluster_network_policy.go`), installing none of a
/// refused policy's rules: a `domainNames` peer in a rule other than Accept ("egress.to.domainNames
/// is only supported for egress.action=Accept") is an error here. The first `nodes` and
/// `domainNames` peers, which the agent refuses without `enable-node-selector-labels` and
/// `enable-l7-proxy`, are returned for the caller to judge.
fn cluster_policy_refusals(
    policies: &[cnp::ClusterNetworkPolicy],
) -> Result<(Option<Location>, Option<Location>)> {
    let (mut nodes, mut names) = (None, None);
    for policy in policies {
        for (i, rule) in policy.egress.iter().enumerate() {
            for (j, peer) in rule.peers.iter().enumerate() {
                let at = |field: &str| {
                    (policy.location).join(&format!("spec.egress[{i}].to[{j}].{field}"))
                };
                match peer {
                    cnp::PeerSpec::Nodes(_) if nodes.is_none() => nodes = Some(at("nodes")),
                    cnp::PeerSpec::DomainNames(_) if rule.action != decision::Action::Accept => {
                        return Err(Error::invalid(
                            at("domainNames"),
                            "is followed by Cilium in Accept rules only; the agent refuses the policy",
                        ));
                    }
                    cnp::PeerSpec::DomainNames(_) if names.is_none() => {
                        names = Some(at("domainNames"));
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((nodes, names))
}

/// The NetworkPolicies, ClusterNetworkPolicies and Cilium policies of `files` that `agent`
/// enforces, and in words the dialects it leaves out (where `files` hold policies of them) and
/// its enforcement mode, where it is not `default`, and its audit mode.
fn enforced<'a>(
    agent: &CiliumAgent,
    files: &'a PolicyFiles,
) -> (
    &'a [NetworkPolicy],
    &'a [cnp::ClusterNetworkPolicy],
    &'a [cilium::Policy],
    Vec<String>,
) {
    /// `given` where `enforced`, else nothing, and `words` said of it where it is not empty.
    fn kept<'a, T>(
        (enforced, given): (bool, &'a [T]),
        words: &str,
        agent: &CiliumAgent,
        unenforced: &mut Vec<String>,
    ) -> &'a [T] {
        if enforced {
            return given;
        }
        if !given.is_empty() {
            let namespace = &agent.namespace;
            unenforced.push(format!("{words} (ConfigMap {namespace}/{CILIUM_CONFIG})"));
        }
        &[]
    }
    let mut unenforced = Vec::new();
    let namespace = &agent.namespace;
    if agent.audit {
        unenforced.push(format!(
            "the Cilium agent's policy-audit-mode is true: what the policies deny is logged as AUDITED, not dropped, until audit mode is turned off (ConfigMap {namespace}/{CILIUM_CONFIG})"
        ));
    }
    match agent.enforcement {
        Enforcement::Never => {
            unenforced.push(format!(
                "no policy is enforced: the Cilium agent's enable-policy is never (ConfigMap {namespace}/{CILIUM_CONFIG})"
            ));
            return (&[], &[], &[], unenforced);
        }
        Enforcement::Always => unenforced.push(format!(
            "every pod is in default deny both ways, selected by a policy or not, and so is every node's host under the host firewall: the Cilium agent's enable-policy is always (ConfigMap {namespace}/{CILIUM_CONFIG})"
        )),
        Enforcement::Default => {}
    }
    let policies = kept(
        (agent.network_policies, &files.policies),
        "NetworkPolicies are not enforced: the Cilium agent's enable-k8s-networkpolicy is false",
        agent,
        &mut unenforced,
    );
    let cluster_policies = kept(
        (
            agent.cluster_network_policies,
            &files.cluster_network_policies,
        ),
        "ClusterNetworkPolicies are not enforced: the Cilium agent's enable-k8s-cluster-network-policy is not true",
        agent,
        &mut unenforced,
    );
    (
        policies,
        cluster_policies,
        &files.cilium_policies,
        unenforced,
    )
}

/// A pod: its index in the pods given to [`Index::new`].
pub(crate) type PodId = usize;

/// A node: its index in the nodes of the [`Cluster`].
pub(crate) type NodeId = usize;

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectionEnd {
    /// A pod of the index.
    Pod(PodId),
    /// An address outside the pod network.
    Ip(IpAddr),
    /// The host network of a node of the index: its addresses.
    Node(NodeId),
}

/// A connection to decide: from one end to a destination port of the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Connection {
    /// The source.
    pub from: ConnectionEnd,
    /// The destination.
    pub to: ConnectionEnd,
    /// The destination port.
    pub port: u16,
    /// The protocol.
    pub protocol: Protocol,
}

/// A NetworkPolicy by namespace and name; displayed as `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PolicyRef {
    /// The namespace.
    pub(crate) namespace: String,
    /// The name.
    pub(crate) name: String,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What the NetworkPolicies alone decide on one side of a connection (the source's egress or
/// the destination's ingress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Side {
    /// The pod is not isolated in this direction: everything is admitted.
    NotIsolated,
    /// The peer is not subject to policy: an external address, or a hostNetwork pod.
    #[allow(
        dead_code,
        reason = "the NetworkPolicy tier gives sides of pods only; dialects enforced with it match on it"
    )]
    NotSubject,
    /// The pod is isolated, and these policies (in input order) have a rule admitting the
    /// connection.
    Allowed {
        /// The admitting policies.
        by: Vec<PolicyRef>,
    },
    /// The pod is isolated and no rule admits the connection.
    Denied {
        /// The policies isolating the pod in this direction, in input order.
        isolated_by: Vec<PolicyRef>,
    },
}

impl fmt::Display for Side {
    /// `not isolated`, `not subject to policy`, `allowed by a/x, a/y` or
    /// `denied (isolated by a/x)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |policies: &[PolicyRef]| {
            policies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Side::NotIsolated => f.write_str("not isolated"),
            Side::NotSubject => f.write_str("not subject to policy"),
            Side::Allowed { by } => write!(f, "allowed by {}", list(by)),
            Side::Denied { isolated_by } => write!(f, "denied (isolated by {})", list(isolated_by)),
        }
    }
}

/// The decision on a connection, side by side.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// The source's egress side.
    pub egress: Decision,
    /// The destination's ingress side.
    pub ingress: Decision,
}

impl Verdict {
    /// Whether both sides admit the connection (a side the policies leave undefined does not).
    pub fn allowed(&self) -> bool {
        self.egress.allows() && self.ingress.allows()
    }
}

/// What one side of a connection (the source's egress or the destination's ingress) decides,
/// and what decided it. Displayed in words: `allowed by a/x`, `denied (isolated by a/y)`,
/// `denied by ClusterNetworkPolicy z spec.egress[1] (Admin tier, priority 5)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decision {
    /// How it ended.
    pub(crate) outcome: Outcome,
    /// The tier that decided (none when no tier did).
    pub(crate) tier: Option<Tier>,
    /// The rules that decided, or the policies that isolate; for an undefined side, the rules of
    /// the same priority that disagree.
    pub(crate) by: Vec<Decider>,
    /// Pass rules that sent the evaluation on to a later tier.
    pub(crate) passed: Vec<Decider>,
}

/// The network plugin that enforces the policies, for the choices the specifications leave to
/// it (see `plugin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetworkPlugin {
    /// No particular plugin: what the specifications say, and where they leave a choice, what
    /// their own tests expect (an `ipBlock` matches every address, pods' too, as the Kubernetes
    /// e2e tests expect; ClusterNetworkPolicy `networks` match pods too, as the API says; every
    /// ClusterNetworkPolicy peer is implemented; a named port names a sidecar's ports too, as
    /// Kubernetes names them for Services). The default.
    #[default]
    Generic,
    /// Calico: address blocks match every address, pods' and nodes' too; the
    /// ClusterNetworkPolicy peers `nodes` and `domainNames` are not implemented; a named port
    /// names every init container's ports too.
    Calico,
    /// Cilium: address blocks match no pod and no node; Cilium's engine enforces the
    /// NetworkPolicies and Cilium's own policies together, and lets local traffic (a pod to
    /// itself, a node to its own pods) through whatever they say; a named port names the
    /// containers' ports alone. (See [`NetworkPlugin::names_init_port`].)
    Cilium,
}

impl NetworkPlugin {
    /// Whether a policy's named port names a port of an init container (a sidecar when
    /// `sidecar`). The NetworkPolicy API says a named port is "a named port on a pod" and
    /// leaves which containers' ports to the plugin:
    /// - Generic: the sidecars' too, as Kubernetes itself resolves a Service's named target
    ///   port since 1.32 (`FindPort` in `pkg/api/v1/pod/util.go`, kubernetes/kubernetes#127976):
    ///   a sidecar runs beside the containers, another init container has ended before them.
    /// - Calico: every init container's, as its workload endpoints list them
    ///   (`appendEndpointPorts` over `InitContainers` in libcalico-go's
    ///   `workload_endpoint_default.go`, projectcalico/calico#8885).
    /// - Cilium: none; its agent takes a pod's named ports from `spec.containers` alone
    ///   (`GetPodMetadata`, and the ipcache's `K8sMetadata.NamedPorts`).
    #[must_use]
    pub fn names_init_port(self, sidecar: bool) -> bool {
        match self {
            NetworkPlugin::Generic => sidecar,
            NetworkPlugin::Calico => true,
            NetworkPlugin::Cilium => false,
        }
    }
}

/// How hostNetwork pods are treated; Kubernetes leaves it to the network plugin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostNetwork {
    /// As their node's addresses: not subject to policy, matched by `ipBlock` on their IPs and
    /// never by selectors (the most common implementation, and the default).
    #[default]
    NodeAddress,
    /// As ordinary pods, `hostNetwork` ignored: what NCA does.
    Pod,
}

/// Choices for [`Index::with_options`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// How hostNetwork pods are treated.
    pub host_network: HostNetwork,
    /// The network plugin, for what the specifications leave to it; without one,
    /// [`NetworkPlugin::Cilium`] where the policies include Cilium's own kinds (only Cilium
    /// enforces them) or the cluster holds its agent's configuration
    /// ([`Cluster::cilium_agents`]), else [`NetworkPlugin::Generic`].
    pub network_plugin: Option<NetworkPlugin>,
    /// On Cilium, its agent's `policy-cidr-match-mode: nodes`: address blocks (NetworkPolicy
    /// `ipBlock`, ClusterNetworkPolicy `networks`, Cilium's CIDR rules) also match node
    /// addresses (Cilium's `Documentation/security/policy/layer3.rst`, "Selecting nodes with
    /// CIDR / ipBlock"). Off by default, as in Cilium. Where the cluster holds the agent's
    /// `cilium-config` ([`CiliumAgent`]), that decides instead.
    pub cilium_cidr_match_nodes: bool,
}

impl Options {
    /// What the network plugin does where the specifications leave it a choice, with Cilium's
    /// `policy-cidr-match-mode: nodes`.
    fn behaviour(&self) -> plugin::Behaviour {
        let plugin = self.network_plugin.unwrap_or_default();
        let mut behaviour = plugin.behaviour();
        if plugin == NetworkPlugin::Cilium && self.cilium_cidr_match_nodes {
            behaviour.ip_block.nodes = true;
            behaviour.networks.nodes = true;
        }
        behaviour
    }
}

/// What the evaluator keeps of a pod.
#[derive(Debug, Clone)]
struct PodInfo {
    /// The index of its namespace.
    namespace: usize,
    /// Its interned labels.
    labels: LabelSet,
    /// Its named ports: interned name, number, protocol.
    named_ports: Vec<(u32, u16, Protocol)>,
    /// Whether it is seen by its addresses only (a hostNetwork pod, by default).
    by_address: bool,
    /// The NetworkPolicies isolating it for ingress, in input order.
    ingress: Vec<u32>,
    /// The NetworkPolicies isolating it for egress, in input order.
    egress: Vec<u32>,
}

/// The other end of a connection, as a rule's peers see it.
#[derive(Clone, Copy)]
enum View<'a> {
    /// A pod matched by selectors (and by address blocks where the plugin says so).
    Pod(PodId, &'a PodInfo),
    /// Addresses matched by address blocks; `node` when they are a node's (its host network).
    Addresses(&'a [IpAddr], bool),
}

/// Namespaces, pods, nodes and compiled policies of every dialect, ready to decide connections
/// as the cluster's network plugin combines them.
#[derive(Debug, Clone)]
pub struct Index {
    namespaces: Vec<Namespace>,
    /// How many of the namespaces the cluster gave; the others only pods or policies name.
    given_namespaces: usize,
    /// Whether the cluster lists its nodes (or the blocks of their addresses): where it lists
    /// none, an address may be a node's unbeknown.
    nodes_listed: bool,
    /// The pods, shared with the dialects enforced with the NetworkPolicies (Cilium's).
    pods: Arc<[Pod]>,
    nodes: Vec<Node>,
    pod_ids: HashMap<String, HashMap<String, PodId>>,
    node_ids: HashMap<String, NodeId>,
    infos: Vec<PodInfo>,
    /// The pods of each namespace, by namespace index.
    namespace_pods: Vec<Vec<PodId>>,
    /// The NetworkPolicies, in input order.
    policies: Vec<Policy>,
    /// The ClusterNetworkPolicies, by tier, priority and name.
    cluster: Vec<cnp::Compiled>,
    /// The ClusterNetworkPolicies whose subject may be pods of a namespace, by namespace index.
    namespace_tiers: Vec<NamespaceTiers>,
    /// The addresses of nodes and of the pods seen by their addresses.
    node_ips: HashSet<IpAddr>,
    /// The same addresses as a set, with those that stand for nodes the cluster does not list.
    node_set: AddressSet,
    /// Whether the cluster DNS runs in the host network (see `cilium_tier`).
    dns_in_host_network: bool,
    /// The addresses that stand for nodes the cluster does not list ([`Cluster::node_blocks`]
    /// less the listed nodes' addresses).
    unlisted_nodes: AddressSet,
    /// The pods seen as pods, by address.
    pod_ips: HashMap<IpAddr, PodId>,
    /// kube-apiserver's addresses.
    api_server: Vec<IpAddr>,
    /// The network plugin, chosen.
    plugin: NetworkPlugin,
    behaviour: plugin::Behaviour,
    /// The engine that enforces the NetworkPolicies together with the plugin's own policies
    /// (Cilium's, on Cilium, whether there are any or not).
    namespaced: Option<Arc<dyn Namespaced>>,
    /// The class of every pod (see `classes`), worked out on first use.
    classes: std::sync::OnceLock<classes::Classes>,
    /// The keys of the pod labels that some selector looks at (see `classes`).
    pod_label_keys: HashSet<String>,
    /// The class of every node (see `classes`), worked out on first use.
    node_classes: std::sync::OnceLock<Vec<u32>>,
    /// The numbers of the labels, label values and port names of the pods and policies.
    interner: Arc<Interner>,
    /// Of each ClusterNetworkPolicy, the keys of the pod labels its peers look at, ingress
    /// and egress (see `classes`), worked out on first use.
    cluster_peer_keys: std::sync::OnceLock<Vec<[Vec<u32>; 2]>>,
    /// How the cluster's Cilium agent enforces the policies given otherwise than as written, in
    /// words: dialects its options leave out, its enforcement mode where it is not `default`,
    /// its audit mode.
    unenforced: Vec<String>,
    /// The cluster's Cilium agent audits instead of dropping (`policy-audit-mode`).
    audit: bool,
    /// The pods of the cluster that have ended, which it leaves out.
    ended_pods: Vec<EndedPod>,
    /// The Services by their cluster IPs, as `namespace/name`.
    service_ips: HashMap<IpAddr, String>,
}

impl Index {
    /// Compiles NetworkPolicies against `namespaces` and `pods`, treating hostNetwork pods as
    /// their node's addresses, for no particular network plugin.
    ///
    /// A policy the API server would reject (a bad CIDR, an unknown operator or protocol, a
    /// missing name or namespace, a numeric string as port) is an error naming
    /// the policy and the field; so are two namespaces, pods or policies of the same name.
    pub fn new(
        namespaces: Vec<Namespace>,
        pods: Vec<Pod>,
        policies: &[NetworkPolicy],
    ) -> Result<Index> {
        let cluster = Cluster {
            namespaces,
            pods,
            ..Cluster::default()
        };
        Self::build(cluster, policies, &[], Options::default(), None)
    }

    /// Compiles the policies of every dialect `files` holds against `cluster`, with `options`:
    /// [`Index::new`] for a whole cluster, ClusterNetworkPolicies, Cilium's policies and a
    /// network plugin. Cilium's policies with another network plugin than Cilium are an error:
    /// no other plugin enforces them. On Cilium, Cilium's engine decides the NetworkPolicy tier
    /// with or without Cilium's own policies: it enforces the NetworkPolicies as its own, and
    /// (unless its agent's `allow-localhost` is `policy`) lets a node reach its own pods and a
    /// pod itself whatever they say. The agent's options are those of the cluster's
    /// `cilium-config` ConfigMap ([`CiliumAgent`]); a policy with `fromNodes` or `toNodes` is an
    /// error where they do not enable node selector labels, as the agent refuses it.
    pub fn with_options(
        mut cluster: Cluster,
        files: &PolicyFiles,
        options: Options,
    ) -> Result<Index> {
        // Only Cilium's evaluator knows DNS servers and Services.
        let dns_caches = std::mem::take(&mut cluster.dns_caches);
        let services = std::mem::take(&mut cluster.services);
        let service_ips: HashMap<IpAddr, String> = (services.iter())
            .flat_map(|s| {
                (s.cluster_ips.iter()).map(|ip| (*ip, format!("{}/{}", s.namespace, s.name)))
            })
            .collect();
        let service_endpoints = std::mem::take(&mut cluster.service_endpoints);
        let agents = std::mem::take(&mut cluster.cilium_agents);
        let cilium = !files.cilium_policies.is_empty();
        let plugin = match options.network_plugin {
            None if cilium || !agents.is_empty() => NetworkPlugin::Cilium,
            None => NetworkPlugin::Generic,
            Some(plugin) => plugin,
        };
        if cilium && plugin != NetworkPlugin::Cilium {
            let policy = &files.cilium_policies[0].reference;
            return Err(Error::invalid(
                Location::new(policy.to_string(), None, ""),
                format!("only Cilium enforces Cilium's policies, not the network plugin {plugin}"),
            ));
        }
        let agent = if plugin == NetworkPlugin::Cilium {
            CiliumAgent::of(&agents)?
        } else {
            CiliumAgent::default()
        };
        // The dialects the cluster's agent does not enforce are left out, and said so.
        let (policies, cluster_policies, cilium_policies, unenforced) = enforced(&agent, files);
        if plugin == NetworkPlugin::Cilium {
            cilium_refusals(&agent, !agents.is_empty(), files, cluster_policies)?;
        }
        let options = Options {
            network_plugin: Some(plugin),
            // The cluster's own configuration, where it holds one, over what the caller assumed.
            cilium_cidr_match_nodes: if agents.is_empty() {
                options.cilium_cidr_match_nodes
            } else {
                agent.cidr_match_nodes
            },
            ..options
        };
        let cilium_cluster = (plugin == NetworkPlugin::Cilium).then_some(&*agent.cluster_name);
        let mut index = Self::build(cluster, policies, cluster_policies, options, cilium_cluster)?;
        index.unenforced = unenforced;
        index.unenforced.extend(files.notes.iter().cloned());
        index.audit = plugin == NetworkPlugin::Cilium && agent.audit;
        index.service_ips = service_ips;
        // Cilium enforces NetworkPolicies with its own engine: its local traffic holds for
        // them too (layer3.rst: "Kubernetes will automatically allow all communication from
        // the local host of all local endpoints").
        if plugin == NetworkPlugin::Cilium {
            let mut policies = cilium_policies.to_vec();
            let services = cilium::services::of_cluster(services, &service_endpoints);
            cilium::services::resolve(&mut policies, &services);
            cilium::cidr_groups::resolve(&mut policies, &files.cilium_cidr_groups)?;
            let keys = cilium::selector_keys(&policies, false);
            index
                .pod_label_keys
                .extend(keys.into_iter().map(String::from));
            index.namespaced = Some(Arc::new(cilium_tier::CiliumTier::new(
                policies,
                &index.namespaces,
                &index.pods,
                (&index.nodes, &index.unlisted_nodes),
                &index.api_server,
                &dns_caches,
                cilium::Options {
                    cidr_match_nodes: options.cilium_cidr_match_nodes,
                    node_selector_labels: agent.node_selector_labels,
                    allow_localhost: agent.allow_localhost,
                    cluster_name: agent.cluster_name,
                    host_firewall: agent.host_firewall,
                    enforce_always: agent.enforcement == Enforcement::Always,
                    ..cilium::Options::default()
                },
            )));
        }
        Ok(index)
    }

    /// Builds the index; `cilium_cluster` is the cluster's name to Cilium when Cilium is the
    /// network plugin (see `pod_infos`).
    fn build(
        cluster: Cluster,
        policies: &[NetworkPolicy],
        cluster_policies: &[cnp::ClusterNetworkPolicy],
        options: Options,
        cilium_cluster: Option<&str>,
    ) -> Result<Index> {
        let mut cluster = cluster;
        let namespace_ids = index_namespaces(&mut cluster.namespaces)?;
        // The ports a policy may name: the containers', and the init containers' the plugin
        // reads.
        let plugin = options.network_plugin.unwrap_or_default();
        for pod in &mut cluster.pods {
            let named = (pod.init_ports.iter()).filter(|p| plugin.names_init_port(p.sidecar));
            pod.ports.extend(named.map(|p| p.port.clone()));
        }
        let pods: Arc<[Pod]> = std::mem::take(&mut cluster.pods).into();
        // The pods by name are indexed on a thread of their own while the rest is built; their
        // errors come first, as in one pass.
        std::thread::scope(|scope| {
            let named = scope.spawn(|| index_pods(&pods));
            let built = Self::build_rest(
                (cluster, pods.clone(), namespace_ids),
                policies,
                cluster_policies,
                (options, cilium_cluster),
            );
            let pod_ids =
                (named.join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            Ok(Index { pod_ids, ..built? })
        })
    }

    /// [`Index::build`] but for the pods by name, of `cluster` whose namespaces are numbered
    /// (`namespace_ids`) and whose pods are `pods`.
    fn build_rest(
        (cluster, pods, mut namespace_ids): (Cluster, Arc<[Pod]>, HashMap<String, usize>),
        policies: &[NetworkPolicy],
        cluster_policies: &[cnp::ClusterNetworkPolicy],
        (options, cilium_cluster): (Options, Option<&str>),
    ) -> Result<Index> {
        let Cluster {
            mut namespaces,
            nodes,
            api_server,
            node_blocks,
            ended_pods,
            ..
        } = cluster;
        // The namespaces given, then those only pods or policies name.
        let given_namespaces = namespaces.len();
        let (pod_namespaces, policy_namespaces) =
            namespaces_named(&pods, policies, &mut namespaces, &mut namespace_ids)?;
        let node_ids = index_nodes(&nodes)?;
        let plugin = options.network_plugin.unwrap_or_default();
        let behaviour = options.behaviour();
        // Policies compiled on interned labels, namespace selectors resolved once.
        let (mut interner, namespace_labels, node_labels) = intern_labels(&namespaces, &nodes);
        let mut context = Context {
            interner: &mut interner,
            namespace_labels: &namespace_labels,
            resolved: HashMap::default(),
            cilium: cilium_cluster.is_some(),
        };
        let compiled = policies
            .iter()
            .zip(&policy_namespaces)
            .map(|(policy, &namespace)| compile::policy(&mut context, policy, namespace))
            .collect::<Result<Vec<_>>>()?;
        let cluster = compile_cluster_policies(
            &mut context,
            &cnp::NodeLabels {
                nodes: &node_labels,
            },
            behaviour,
            cluster_policies,
        )?;
        // On Cilium, the labels Cilium adds that some selector looks at (see `pod_infos`).
        let cilium =
            cilium_cluster.map(|name| (name, classes::pod_label_key_ids(&compiled, &cluster)));
        let mut infos = pod_infos(
            &pods,
            (&pod_namespaces, &namespaces),
            &mut interner,
            options,
            cilium.as_ref().map(|(name, keys)| (*name, keys)),
        );
        let namespace_pods = pods_by_namespace(&infos, namespaces.len());
        isolate(&mut infos, &compiled, &namespace_pods);
        let namespace_tiers = subjects(&cluster, namespaces.len());
        let (node_ips, pod_ips) = addresses(&nodes, &pods, &infos);
        let unlisted_nodes = unlisted_nodes(&node_blocks, &node_ips);
        Ok(Index {
            nodes_listed: !nodes.is_empty() || !node_blocks.is_empty(),
            namespaces,
            given_namespaces,
            // Before the pods move.
            dns_in_host_network: cilium_tier::dns_in_host_network(&pods),
            pods,
            nodes,
            pod_ids: HashMap::default(),
            node_ids,
            infos,
            namespace_pods,
            // Before the policies move.
            pod_label_keys: classes::pod_label_keys(&compiled, &cluster, &interner),
            policies: compiled,
            cluster,
            namespace_tiers,
            node_set: AddressSet::addresses(node_ips.iter().copied()).union(&unlisted_nodes),
            node_ips,
            unlisted_nodes,
            pod_ips,
            api_server,
            plugin,
            behaviour,
            namespaced: None,
            classes: std::sync::OnceLock::new(),
            node_classes: std::sync::OnceLock::new(),
            interner: Arc::new(interner),
            cluster_peer_keys: std::sync::OnceLock::new(),
            unenforced: Vec::new(),
            audit: false,
            ended_pods,
            service_ips: HashMap::default(),
        })
    }

    /// The ClusterNetworkPolicies of `tier` whose subject the pod `info` is, in order of
    /// priority: those of its namespace whose subject is every pod there, and those whose pod
    /// selector selects it; none for a pod seen by its addresses (no subject).
    fn tier_subjects<'a>(&'a self, tier: Tier, info: &PodInfo) -> std::borrow::Cow<'a, [u32]> {
        use std::borrow::Cow;
        let tier = match tier {
            _ if info.by_address => return Cow::Borrowed(&[]),
            Tier::Admin => 0,
            Tier::Baseline => 1,
            Tier::NetworkPolicy => return Cow::Borrowed(&[]),
        };
        let tiers = &self.namespace_tiers[info.namespace];
        let every = &tiers.every[tier];
        if tiers.selecting[tier].is_empty() {
            return Cow::Borrowed(every);
        }
        let mut selected = (tiers.selecting[tier].iter().copied())
            .filter(|&n| self.cluster[n as usize].pods.matches(&info.labels))
            .peekable();
        // Mostly none are: the list of the namespace, without a copy.
        if selected.peek().is_none() {
            return Cow::Borrowed(every);
        }
        let mut merged: Vec<u32> = every.iter().copied().chain(selected).collect();
        merged.sort_unstable();
        Cow::Owned(merged)
    }

    /// Each namespace, with the ClusterNetworkPolicies of either tier that may have pods of it
    /// as subject (see [`Index::tier_subjects`]), by their positions in
    /// [`Index::cluster_policy_names`], in order: what `explain` keeps to read only those again.
    pub(crate) fn cluster_policies_by_namespace(&self) -> Vec<(&str, Vec<u32>)> {
        (self.namespaces.iter().zip(&self.namespace_tiers))
            .map(|(namespace, tiers)| {
                let mut numbers: Vec<u32> = (tiers.every.iter().chain(&tiers.selecting))
                    .flatten()
                    .copied()
                    .collect();
                numbers.sort_unstable();
                numbers.dedup();
                (namespace.name.as_str(), numbers)
            })
            .collect()
    }

    /// The names of the ClusterNetworkPolicies, by their positions.
    pub(crate) fn cluster_policy_names(&self) -> Vec<&str> {
        self.cluster
            .iter()
            .map(|policy| policy.name.as_str())
            .collect()
    }

    /// The pods, indexed by [`PodId`].
    pub(crate) fn pods(&self) -> &[Pod] {
        &self.pods
    }

    /// The nodes, indexed by [`NodeId`].
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The namespaces: those given (with the `kubernetes.io/metadata.name` label added where
    /// missing), then those only pods or policies name.
    pub(crate) fn namespaces(&self) -> &[Namespace] {
        &self.namespaces
    }

    /// The network plugin the index decides for.
    pub(crate) fn network_plugin(&self) -> NetworkPlugin {
        self.plugin
    }

    /// Whether the index holds policies of other dialects than NetworkPolicy.
    pub(crate) fn has_other_dialects(&self) -> bool {
        !self.cluster.is_empty() || self.namespaced.is_some()
    }

    /// Whether the plugin's own engine decides the NetworkPolicy tier (Cilium's, on Cilium).
    pub(crate) fn has_namespaced_dialect(&self) -> bool {
        self.namespaced.is_some()
    }

    /// Whether NetworkPolicies let the connection on the `direction` side of pod `id` with
    /// `peer` through whatever they say, where no plugin engine of its own decides their tier:
    /// the pod with itself, and with its own node (its addresses, and the pods in its host
    /// network). The Kubernetes documentation, "Network Policies": "a pod cannot block access
    /// to itself", "traffic to and from the node where a Pod is running is always allowed,
    /// regardless of the IP address of the Pod or the node", and "When a pod is isolated for
    /// ingress, the only allowed connections into the pod are those from the pod's node and
    /// those allowed by the ingress list". Calico lets a node reach its own pods (kubelet
    /// probes), but puts a pod's traffic to its own node under the pod's egress policy
    /// (Felix's `DefaultEndpointToHostAction` acts "after the traffic hits the endpoint egress
    /// policy"). Cilium's engine decides all this on Cilium (its `allow-localhost`).
    pub(crate) fn local_exempt(
        &self,
        id: PodId,
        direction: Direction,
        peer: &ConnectionEnd,
    ) -> bool {
        let host = match peer {
            ConnectionEnd::Pod(other) if *other == id => return true,
            ConnectionEnd::Pod(other) => self.infos[*other].by_address,
            ConnectionEnd::Node(_) => true,
            ConnectionEnd::Ip(address) => self.node_ips.contains(address),
        };
        let plugin = match self.network_plugin() {
            NetworkPlugin::Generic => true,
            NetworkPlugin::Calico => direction == Direction::Ingress,
            NetworkPlugin::Cilium => false,
        };
        host && plugin && self.same_node(&ConnectionEnd::Pod(id), peer)
    }

    /// The connections of pod `id`'s `direction` side with its own node that NetworkPolicies
    /// cannot block ([`Index::local_exempt`]): its node's addresses, every port; none on
    /// Cilium, whose engine decides them.
    pub(crate) fn node_local(&self, id: PodId, direction: Direction) -> Space {
        let node = self.node_of_end(&ConnectionEnd::Pod(id));
        match node {
            Some(node) if self.local_exempt(id, direction, &ConnectionEnd::Node(node)) => {
                let addresses = AddressSet::addresses(self.nodes[node].addresses.iter().copied());
                Space::addresses(addresses, PortSet::all())
            }
            _ => Space::empty(),
        }
    }

    /// The policies, in input order.
    #[cfg(test)]
    pub(crate) fn policies(&self) -> impl ExactSizeIterator<Item = &PolicyRef> {
        self.policies.iter().map(|policy| &policy.reference)
    }

    /// The pod `name` in `namespace`.
    pub(crate) fn pod_id(&self, namespace: &str, name: &str) -> Option<PodId> {
        self.pod_ids.get(namespace)?.get(name).copied()
    }

    /// The Service (as `namespace/name`) whose cluster IP `address` is, if any.
    pub(crate) fn service_at(&self, address: &IpAddr) -> Option<&str> {
        self.service_ips.get(address).map(String::as_str)
    }

    /// The namespaces that the cluster did not give but its pods name, where selectors see one
    /// of those pods by its labels, in the order of their first pods (see
    /// [`Index::implied_namespace`]).
    pub(crate) fn implied_namespaces(&self) -> Vec<&str> {
        self.of_pods(|pod| self.implied_namespace(pod))
    }

    /// Each name that `of` gives of some pod, once, in the order of their first pods.
    fn of_pods<'a>(&'a self, of: impl Fn(PodId) -> Option<&'a str>) -> Vec<&'a str> {
        let mut seen = HashSet::default();
        (0..self.pods.len())
            .filter_map(of)
            .filter(|name| seen.insert(*name))
            .collect()
    }

    /// Pod `id`'s namespace where the cluster did not give it (only pods or policies name it)
    /// and selectors see the pod by its labels: its labels are the one the API server gives
    /// every namespace, its name ([`NAMESPACE_NAME_LABEL`]), and no other.
    pub(crate) fn implied_namespace(&self, id: PodId) -> Option<&str> {
        let info = &self.infos[id];
        (info.namespace >= self.given_namespaces && !info.by_address)
            .then(|| self.namespaces[info.namespace].name.as_str())
    }

    /// The node pod `id` runs on (`spec.nodeName`) where the cluster does not list it: its
    /// addresses and labels are not known.
    pub(crate) fn unlisted_node(&self, id: PodId) -> Option<&str> {
        let node = self.pods[id].node.as_deref()?;
        (!self.node_ids.contains_key(node)).then_some(node)
    }

    /// The nodes the pods run on that the cluster does not list, in the order of their first
    /// pods (see [`Index::unlisted_node`]).
    pub(crate) fn unlisted_pod_nodes(&self) -> Vec<&str> {
        self.of_pods(|pod| self.unlisted_node(pod))
    }

    /// Whether the cluster lists its nodes (or blocks of their addresses): where it lists
    /// none, an address no pod has may still be a node's.
    pub(crate) fn nodes_listed(&self) -> bool {
        self.nodes_listed
    }

    /// Says whether the cluster lists its nodes, where the index was built of some of its
    /// items (see `prepared`).
    pub(super) fn set_nodes_listed(&mut self, listed: bool) {
        self.nodes_listed = listed;
    }

    /// The pods of the cluster that have ended, which the index leaves out.
    pub(crate) fn ended_pods(&self) -> &[EndedPod] {
        &self.ended_pods
    }

    /// The pod `name` of `namespace` where it has ended (and so is no pod of the index).
    pub(crate) fn ended_pod(&self, namespace: &str, name: &str) -> Option<&EndedPod> {
        (self.ended_pods.iter()).find(|pod| pod.namespace == namespace && pod.name == name)
    }

    /// The node `name`.
    pub(crate) fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_ids.get(name).copied()
    }

    /// The pod outside the host network that has `address`, if any.
    pub(crate) fn pod_at(&self, address: &IpAddr) -> Option<PodId> {
        self.pod_ips.get(address).copied()
    }

    /// The end of a connection that `text` names: an IP address, `namespace/name` of a known
    /// pod, or `node/name` of a known node.
    pub fn connection_end(&self, text: &str) -> Option<ConnectionEnd> {
        if let Ok(address) = text.parse() {
            return Some(ConnectionEnd::Ip(address));
        }
        let (namespace, name) = text.split_once('/')?;
        match self.pod_id(namespace, name) {
            Some(id) => Some(ConnectionEnd::Pod(id)),
            None if namespace == "node" => self.node_id(name).map(ConnectionEnd::Node),
            None => None,
        }
    }

    /// `namespace/name` of a pod, `node/name` of a node, or the address.
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] or [`ConnectionEnd::Node`] is not one of this index.
    pub fn end_name(&self, end: &ConnectionEnd) -> String {
        match end {
            ConnectionEnd::Pod(id) => {
                format!("{}/{}", self.pods[*id].namespace, self.pods[*id].name)
            }
            ConnectionEnd::Ip(address) => address.to_string(),
            ConnectionEnd::Node(id) => format!("node/{}", self.nodes[*id].name),
        }
    }

    /// How the cluster enforces the policies given otherwise than as written, in words: its
    /// Cilium agent's options leave their dialect out, its enforcement mode (`enable-policy`)
    /// is `always` or `never`, or it only audits (`policy-audit-mode`, see [`Index::audits`])
    /// ([`CiliumAgent`]).
    pub fn unenforced(&self) -> &[String] {
        &self.unenforced
    }

    /// Whether the cluster's Cilium agent is in audit mode (`policy-audit-mode`): it drops
    /// nothing the policies deny, and only logs it. The verdicts are still the policies'
    /// (what `verify` checks is what they will do once enforced); `explain` says a connection
    /// they deny goes through, audited.
    pub fn audits(&self) -> bool {
        self.audit
    }

    /// The policies isolating pod `id` for ingress and for egress (empty for a pod that is not
    /// subject to policy).
    ///
    /// # Panics
    ///
    /// When `id` is not a pod of this index.
    #[cfg(test)]
    pub(crate) fn isolating(&self, id: PodId) -> (Vec<&PolicyRef>, Vec<&PolicyRef>) {
        let refs = |numbers: &[u32]| -> Vec<&PolicyRef> {
            numbers
                .iter()
                .map(|&n| &self.policies[n as usize].reference)
                .collect()
        };
        (refs(&self.infos[id].ingress), refs(&self.infos[id].egress))
    }

    /// Decides `connection`, naming what decided each side: the tier, the policies and their
    /// rules.
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] or [`ConnectionEnd::Node`] is not one of this index.
    pub fn evaluate(&self, connection: &Connection) -> Verdict {
        self.decide(&Query {
            connection,
            name: None,
        })
    }

    /// Whether `connection` is allowed: [`Index::evaluate`] without naming policies, stopping
    /// at the first admitting rule where only NetworkPolicies are involved.
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] or [`ConnectionEnd::Node`] is not one of this index.
    pub fn allows(&self, connection: &Connection) -> bool {
        if self.has_other_dialects() {
            return self.evaluate(connection).allowed();
        }
        let side = |direction, subject: &ConnectionEnd, other: &ConnectionEnd| match self
            .subject(subject)
        {
            None => true,
            Some((id, info)) => {
                let isolating = match direction {
                    Direction::Ingress => &info.ingress,
                    Direction::Egress => &info.egress,
                };
                isolating.is_empty()
                    || self.local_exempt(id, direction, other)
                    || self
                        .admitting(isolating, direction, connection, other)
                        .next()
                        .is_some()
            }
        };
        side(Direction::Egress, &connection.from, &connection.to)
            && side(Direction::Ingress, &connection.to, &connection.from)
    }

    /// The pod behind `end` when it is subject to policy (NetworkPolicy and
    /// ClusterNetworkPolicy; not a host-network pod).
    fn subject(&self, end: &ConnectionEnd) -> Option<(PodId, &PodInfo)> {
        match end {
            ConnectionEnd::Pod(id) => Some((*id, &self.infos[*id])).filter(|(_, i)| !i.by_address),
            ConnectionEnd::Ip(_) | ConnectionEnd::Node(_) => None,
        }
    }

    /// How rules see `end`.
    fn view<'a>(&'a self, end: &'a ConnectionEnd) -> View<'a> {
        match end {
            ConnectionEnd::Pod(id) if self.infos[*id].by_address => {
                View::Addresses(&self.pods[*id].ips, true)
            }
            ConnectionEnd::Pod(id) => View::Pod(*id, &self.infos[*id]),
            ConnectionEnd::Ip(address) => View::Addresses(
                std::slice::from_ref(address),
                self.node_ips.contains(address) || self.unlisted_nodes.contains(*address),
            ),
            ConnectionEnd::Node(id) => View::Addresses(&self.nodes[*id].addresses, true),
        }
    }

    /// The destination pod of `connection` when rules see it as a pod: where named ports
    /// resolve.
    fn destination<'a>(&'a self, connection: &'a Connection) -> Option<&'a PodInfo> {
        match self.view(&connection.to) {
            View::Pod(_, info) => Some(info),
            View::Addresses(..) => None,
        }
    }

    /// Whether an address block (a test of addresses) that reaches what `reach` says matches
    /// `other`.
    fn block_matches(
        &self,
        other: View<'_>,
        reach: plugin::Reach,
        contains: impl Fn(&IpAddr) -> bool,
    ) -> bool {
        match other {
            View::Pod(id, _) => reach.pods && self.pods[id].ips.iter().any(contains),
            View::Addresses(ips, node) => (!node || reach.nodes) && ips.iter().any(contains),
        }
    }

    /// The NetworkPolicies among `isolating` with a rule of `direction` admitting
    /// `connection`, whose other end is `other`.
    fn admitting<'a>(
        &'a self,
        isolating: &'a [u32],
        direction: Direction,
        connection: &'a Connection,
        other: &'a ConnectionEnd,
    ) -> impl Iterator<Item = &'a Policy> {
        let other = self.view(other);
        let destination = self.destination(connection);
        isolating
            .iter()
            .map(|&n| &self.policies[n as usize])
            .filter(move |policy| {
                rules_of(policy, direction).iter().any(|rule| {
                    ports_admit(rule.ports.as_deref(), connection, destination)
                        && self.peers_admit(policy, rule, other)
                })
            })
    }

    /// What the NetworkPolicies decide on the `direction` side of the pod `info`, and the
    /// policies and rules behind it: the admitting rules, or the isolating policies.
    fn network_policy_side(
        &self,
        direction: Direction,
        info: &PodInfo,
        connection: &Connection,
        other: &ConnectionEnd,
    ) -> (Side, Vec<Decider>) {
        let isolating = match direction {
            Direction::Ingress => &info.ingress,
            Direction::Egress => &info.egress,
        };
        if isolating.is_empty() {
            return (Side::NotIsolated, Vec::new());
        }
        let view = self.view(other);
        let destination = self.destination(connection);
        let (mut by, mut rules) = (Vec::new(), Vec::new());
        for &n in isolating {
            let policy = &self.policies[n as usize];
            let mut admitted = false;
            for (index, rule) in rules_of(policy, direction).iter().enumerate() {
                if ports_admit(rule.ports.as_deref(), connection, destination)
                    && self.peers_admit(policy, rule, view)
                {
                    admitted = true;
                    rules.push(Decider::network_policy(
                        &policy.reference,
                        Some((direction, index)),
                    ));
                }
            }
            if admitted {
                by.push(policy.reference.clone());
            }
        }
        if by.is_empty() {
            let isolated_by: Vec<PolicyRef> = isolating
                .iter()
                .map(|&n| self.policies[n as usize].reference.clone())
                .collect();
            let deciders = isolated_by
                .iter()
                .map(|p| Decider::network_policy(p, None))
                .collect();
            (Side::Denied { isolated_by }, deciders)
        } else {
            (Side::Allowed { by }, rules)
        }
    }

    /// Whether a peer of `rule` in `policy` matches `other`.
    fn peers_admit(&self, policy: &Policy, rule: &Rule, other: View<'_>) -> bool {
        let Some(peers) = &rule.peers else {
            return true;
        };
        peers.iter().any(|peer| match (peer, other) {
            (PeerMatch::Pods { namespaces, pods }, View::Pod(_, info)) => {
                let namespace = match namespaces {
                    Namespaces::Own => info.namespace == policy.namespace,
                    Namespaces::All => true,
                    Namespaces::Set(set) => set.contains(info.namespace),
                };
                namespace && pods.matches(&info.labels)
            }
            (PeerMatch::Block(block), other) => {
                self.block_matches(other, self.behaviour.ip_block, |a| block.contains(a))
            }
            (PeerMatch::Pods { .. }, View::Addresses(..)) => false,
        })
    }
}

/// The rules of `policy` in `direction` (none when it does not have that policy type).
fn rules_of(policy: &Policy, direction: Direction) -> &[Rule] {
    match direction {
        Direction::Ingress => policy.ingress.as_deref(),
        Direction::Egress => policy.egress.as_deref(),
    }
    .unwrap_or_default()
}

/// The ClusterNetworkPolicies compiled, sorted by tier, priority and name; two of one name are
/// an error.
fn compile_cluster_policies(
    context: &mut Context<'_>,
    nodes: &cnp::NodeLabels<'_>,
    behaviour: plugin::Behaviour,
    policies: &[cnp::ClusterNetworkPolicy],
) -> Result<Vec<cnp::Compiled>> {
    let mut seen = HashSet::default();
    let mut compiled = Vec::with_capacity(policies.len());
    for policy in policies {
        if !seen.insert(policy.name.as_str()) {
            return Err(Error::invalid(
                policy.location.join("metadata.name"),
                "is given twice",
            ));
        }
        compiled.push(cnp::compile(context, nodes, behaviour, policy)?);
    }
    compiled.sort_by(|a, b| (a.tier, a.priority, &a.name).cmp(&(b.tier, b.priority, &b.name)));
    Ok(compiled)
}

/// Namespaces by name, each with the name label the API server gives it.
fn index_namespaces(namespaces: &mut [Namespace]) -> Result<HashMap<String, usize>> {
    let mut ids = HashMap::default();
    for (id, namespace) in namespaces.iter_mut().enumerate() {
        let location = Location::new(
            format!("Namespace {}", namespace.name),
            None,
            "metadata.name",
        );
        if namespace.name.is_empty() {
            return Err(Error::invalid(location, "is missing"));
        }
        if ids.insert(namespace.name.clone(), id).is_some() {
            return Err(Error::invalid(location, "is given twice"));
        }
        namespace
            .labels
            .entry(NAMESPACE_NAME_LABEL.to_string())
            .or_insert_with(|| namespace.name.clone());
    }
    Ok(ids)
}

/// Nodes by name; two of one name are an error.
/// The pods of each of `count` namespaces, by namespace index.
fn pods_by_namespace(infos: &[PodInfo], count: usize) -> Vec<Vec<PodId>> {
    let mut namespace_pods = vec![Vec::new(); count];
    for (id, info) in infos.iter().enumerate() {
        namespace_pods[info.namespace].push(id);
    }
    namespace_pods
}

/// The addresses of `node_blocks` that stand for nodes none of whose addresses `node_ips` are.
fn unlisted_nodes(node_blocks: &[Cidr], node_ips: &HashSet<IpAddr>) -> AddressSet {
    (node_blocks.iter())
        .fold(AddressSet::empty(), |all, block| {
            all.union(&AddressSet::net(&block.net()))
        })
        .difference(&AddressSet::addresses(node_ips.iter().copied()))
}

fn index_nodes(nodes: &[Node]) -> Result<HashMap<String, NodeId>> {
    let mut ids = HashMap::default();
    for (id, node) in nodes.iter().enumerate() {
        let location = Location::new(format!("Node {}", node.name), None, "metadata.name");
        if node.name.is_empty() {
            return Err(Error::invalid(location, "is missing"));
        }
        if ids.insert(node.name.clone(), id).is_some() {
            return Err(Error::invalid(location, "is given twice"));
        }
    }
    Ok(ids)
}

/// Pods by namespace and name.
type PodIds = HashMap<String, HashMap<String, PodId>>;

/// The pods by namespace and name; a pod without either, or given twice, is an error.
fn index_pods(pods: &[Pod]) -> Result<PodIds> {
    let mut pod_ids: PodIds = HashMap::default();
    for (id, pod) in pods.iter().enumerate() {
        // Made only for an error: most pods need none.
        let at = |field: &str| {
            Location::new(format!("Pod {}/{}", pod.namespace, pod.name), None, "").at(field)
        };
        if pod.name.is_empty() {
            return Err(Error::invalid(at("metadata.name"), "is missing"));
        }
        if pod.namespace.is_empty() {
            return Err(Error::invalid(at("metadata.namespace"), "is missing"));
        }
        let names = match pod_ids.get_mut(&pod.namespace) {
            Some(names) => names,
            None => pod_ids.entry(pod.namespace.clone()).or_default(),
        };
        if names.insert(pod.name.clone(), id).is_some() {
            return Err(Error::invalid(at("metadata.name"), "is given twice"));
        }
    }
    Ok(pod_ids)
}

/// The namespace of each pod and of each policy; a namespace only pods or policies name is
/// added. Two policies of the same namespace and name are an error.
fn namespaces_named(
    pods: &[Pod],
    policies: &[NetworkPolicy],
    namespaces: &mut Vec<Namespace>,
    ids: &mut HashMap<String, usize>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let pod_namespaces = (pods.iter())
        .map(|pod| namespace_id(namespaces, ids, &pod.namespace))
        .collect();
    Ok((pod_namespaces, index_policies(policies, namespaces, ids)?))
}

/// The namespace of each policy; a namespace only policies name is added. Two policies of the
/// same namespace and name are an error.
fn index_policies(
    policies: &[NetworkPolicy],
    namespaces: &mut Vec<Namespace>,
    namespace_ids: &mut HashMap<String, usize>,
) -> Result<Vec<usize>> {
    let mut policy_namespaces = Vec::with_capacity(policies.len());
    let mut seen = HashSet::default();
    for policy in policies {
        let (reference, location) = compile::identify(policy)?;
        policy_namespaces.push(namespace_id(
            namespaces,
            namespace_ids,
            &reference.namespace,
        ));
        if !seen.insert(reference) {
            return Err(Error::invalid(
                location.at("metadata.name"),
                "is given twice",
            ));
        }
    }
    Ok(policy_namespaces)
}

/// A node's interned labels and its addresses.
type NodeLabels = (LabelSet, Vec<IpAddr>);

/// The labels of `namespaces` and of `nodes` (with the nodes' addresses), interned.
fn intern_labels(
    namespaces: &[Namespace],
    nodes: &[Node],
) -> (Interner, Vec<LabelSet>, Vec<NodeLabels>) {
    let mut interner = Interner::default();
    let namespace_labels: Vec<LabelSet> = (namespaces.iter())
        .map(|namespace| LabelSet::new(&mut interner, &namespace.labels))
        .collect();
    let node_labels: Vec<NodeLabels> = (nodes.iter())
        .map(|node| {
            let labels = LabelSet::new(&mut interner, &node.labels);
            (labels, node.addresses.clone())
        })
        .collect();
    (interner, namespace_labels, node_labels)
}

/// Pods on interned labels and port names.
///
/// On Cilium (`cilium` is its cluster name) the labels are those of the pod's endpoint: Cilium
/// translates NetworkPolicies and ClusterNetworkPolicies into its own rules, whose selectors
/// match the identity labels of endpoints (`pkg/k8s/network_policy.go`, `ParseNetworkPolicy`
/// and `parseNetworkPolicyPeer`; `pkg/k8s/cluster_network_policy.go`,
/// `kcnpParseNamespacedPod`), not the pod's labels as the API server holds them. A selector
/// on a label the filter leaves out (`pod-template-hash`) selects nothing there, and one on
/// `io.cilium.k8s.policy.serviceaccount` or `io.cilium.k8s.policy.cluster` selects by them
/// (Cilium's own connectivity tests select `io.cilium.k8s.policy.cluster` in NetworkPolicies).
/// The labels of the namespace under `io.cilium.k8s.namespace.labels` are what a namespace
/// selector matches in Cilium's translation; the evaluator matches those on the namespace, which
/// is the same.
fn pod_infos(
    pods: &[Pod],
    (pod_namespaces, namespaces): (&[usize], &[Namespace]),
    interner: &mut Interner,
    options: Options,
    cilium: Option<(&str, &std::collections::HashSet<u32>)>,
) -> Vec<PodInfo> {
    // The labels Cilium adds are the same for every pod of a namespace but for the service
    // account; only those some selector looks at are kept, so that the sets stay small.
    let endpoint = cilium.map(|(cluster, looked_at)| {
        // A key no selector looks at has no number yet.
        let key = |interner: &Interner, key: &str| {
            (interner.get(key)).filter(|key| looked_at.contains(key))
        };
        let namespaces: Vec<Vec<(u32, u32)>> = (namespaces.iter())
            .map(|namespace| {
                (cilium::labels::namespace_identity_labels(&namespace.name, &namespace.labels))
                    .iter()
                    .filter_map(|(name, value)| Some((key(interner, name)?, interner.id(value))))
                    .collect()
            })
            .collect();
        let cluster = key(interner, cilium::labels::CLUSTER).map(|key| (key, interner.id(cluster)));
        let account = key(interner, cilium::labels::SERVICE_ACCOUNT);
        (namespaces, cluster, account)
    });
    let labels = |interner: &mut Interner, pod: &Pod, namespace: usize| match &endpoint {
        None => LabelSet::new(interner, &pod.labels),
        Some((namespaces, cluster, account)) => {
            let mut pairs: Vec<(u32, u32)> = cilium::labels::own_identity_labels(&pod.labels)
                .map(|(key, value)| (interner.id(key), interner.id(value)))
                .collect();
            pairs.extend_from_slice(&namespaces[namespace]);
            if let Some(account) = account {
                let name = pod.service_account.as_deref().unwrap_or("default");
                pairs.push((*account, interner.id(name)));
            }
            pairs.extend(*cluster);
            LabelSet::of_pairs(pairs)
        }
    };
    pods.iter()
        .zip(pod_namespaces)
        .map(|(pod, &namespace)| PodInfo {
            namespace,
            labels: labels(interner, pod, namespace),
            named_ports: pod
                .ports
                .iter()
                .filter_map(|p| Some((interner.id(p.name.as_deref()?), p.port, p.protocol)))
                .collect(),
            by_address: pod.host_network && options.host_network == HostNetwork::NodeAddress,
            ingress: Vec::new(),
            egress: Vec::new(),
        })
        .collect()
}

/// Records which policies isolate which pod in which direction, in input order.
fn isolate(infos: &mut [PodInfo], policies: &[Policy], pods_by_namespace: &[Vec<PodId>]) {
    for (number, policy) in policies.iter().enumerate() {
        let number = u32::try_from(number).unwrap_or(u32::MAX);
        for &id in &pods_by_namespace[policy.namespace] {
            let info = &mut infos[id];
            if info.by_address || !policy.selector.matches(&info.labels) {
                continue;
            }
            if policy.ingress.is_some() {
                info.ingress.push(number);
            }
            if policy.egress.is_some() {
                info.egress.push(number);
            }
        }
    }
}

/// The addresses of nodes and of the pods seen by their addresses, and the pods seen as pods
/// by address.
fn addresses(
    nodes: &[Node],
    pods: &[Pod],
    infos: &[PodInfo],
) -> (HashSet<IpAddr>, HashMap<IpAddr, PodId>) {
    let mut node_ips: HashSet<IpAddr> = nodes
        .iter()
        .flat_map(|node| node.addresses.iter().copied())
        .collect();
    let mut pod_ips = HashMap::default();
    for (id, (pod, info)) in pods.iter().zip(infos).enumerate() {
        if info.by_address {
            node_ips.extend(pod.ips.iter().copied());
        } else {
            for ip in &pod.ips {
                pod_ips.entry(*ip).or_insert(id);
            }
        }
    }
    (node_ips, pod_ips)
}

/// The ClusterNetworkPolicies of a namespace's pods, per tier (Admin, Baseline), each list in
/// the order of the policies (by tier, priority and name).
#[derive(Debug, Clone, Default)]
struct NamespaceTiers {
    /// Those whose subject is every pod of the namespace.
    every: [Vec<u32>; 2],
    /// Those whose subject is the pods of the namespace that their pod selector selects.
    selecting: [Vec<u32>; 2],
}

/// Which ClusterNetworkPolicies may have pods of which namespace as subject (see
/// [`Index::tier_subjects`]).
fn subjects(policies: &[cnp::Compiled], namespaces: usize) -> Vec<NamespaceTiers> {
    let mut by_namespace = vec![NamespaceTiers::default(); namespaces];
    for (number, policy) in policies.iter().enumerate() {
        let number = u32::try_from(number).unwrap_or(u32::MAX);
        let tier = match policy.tier {
            Tier::Admin => 0,
            Tier::Baseline => 1,
            Tier::NetworkPolicy => continue,
        };
        for (namespace, tiers) in by_namespace.iter_mut().enumerate() {
            let selected = match &policy.namespaces {
                Namespaces::Own => false,
                Namespaces::All => true,
                Namespaces::Set(set) => set.contains(namespace),
            };
            if !selected {
                continue;
            }
            if policy.pods.is_everything() {
                tiers.every[tier].push(number);
            } else {
                tiers.selecting[tier].push(number);
            }
        }
    }
    by_namespace
}

fn namespace_id(
    namespaces: &mut Vec<Namespace>,
    ids: &mut HashMap<String, usize>,
    name: &str,
) -> usize {
    if let Some(&id) = ids.get(name) {
        return id;
    }
    *ids.entry(name.to_string()).or_insert_with(|| {
        namespaces.push(Namespace {
            name: name.to_string(),
            labels: [(NAMESPACE_NAME_LABEL.to_string(), name.to_string())].into(),
        });
        namespaces.len() - 1
    })
}

/// Whether `ports` (every port when `None`) admit the port and protocol of `connection` to
/// `destination`, where named ports resolve.
fn ports_admit(
    ports: Option<&[PortMatch]>,
    connection: &Connection,
    destination: Option<&PodInfo>,
) -> bool {
    let Some(ports) = ports else {
        return true;
    };
    ports.iter().any(|&PortMatch { protocol, port }| {
        protocol == connection.protocol
            && match port {
                PortSpec::Any => true,
                PortSpec::Range(first, last) => (first..=last).contains(&connection.port),
                PortSpec::Named(name) => destination.is_some_and(|pod| {
                    pod.named_ports.iter().any(|&(n, number, p)| {
                        n == name && number == connection.port && p == protocol
                    })
                }),
            }
    })
}

#[cfg(test)]
mod tests;
