//! An exact evaluator of Kubernetes `networking.k8s.io/v1` NetworkPolicy semantics.
//!
//! Given namespaces, pods and policies, [`Index::new`] compiles everything once (selectors on
//! interned labels, the namespaces each `namespaceSelector` matches, which policies isolate which
//! pod in which direction, the named ports of every pod), and [`Index::evaluate`] then decides
//! one [`Connection`] cheaply, saying which policies allowed or isolated each side.
//! `Index::admits` and `Index::admitted_ports` give the same decisions as sets instead:
//! every pod, address range and port range each rule admits (see `sets`, which no dialect
//! owns), so that what policies allow can be compared with what is needed without trying
//! connections.
//!
//! # Semantics
//!
//! The rules are those of the Kubernetes documentation and API server:
//!
//! - A pod is isolated for ingress (egress) when a policy in its namespace selects it with its
//!   `podSelector` and has that policy type. An isolated side admits exactly the union of the
//!   rules of the policies isolating it; a side that is not isolated admits everything. A
//!   connection is allowed when the source's egress side and the destination's ingress side both
//!   admit it. An external address has no side of its own ([`Side::NotSubject`]).
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
//! Two points Kubernetes leaves to the network plugin are decided as follows.
//!
//! - **`ipBlock` matches external addresses only, never pods.** A pod peer, whatever its IP, is
//!   matched by selectors only, and a [`ConnectionEnd::Ip`] is an address outside the pod network, never
//!   looked up among the pods. This is what the independent analyzer NCA
//!   (network-config-analyzer 2.1.0) does: in its connectivity map an `ipBlock` covering a pod's
//!   IP admits the address range but not the pod.
//! - **hostNetwork pods are their node's addresses** (the default, [`HostNetwork::NodeAddress`]),
//!   which the Kubernetes documentation calls the most common implementation: such a pod is not
//!   subject to policy (both its sides are [`Side::NotSubject`]); as a peer, selectors never match
//!   it and an `ipBlock` matches it when it contains one of its IPs (the node's); named ports do
//!   not resolve on it. NCA differs: it ignores `hostNetwork` and treats such pods as ordinary
//!   pods (policies isolate them, selectors match them, `ipBlock`s do not), which
//!   [`HostNetwork::Pod`] reproduces for comparisons.
//!
//! Further choices: a connection of a pod to itself is evaluated like any other (plugins usually
//! admit it; Kubernetes does not say); traffic from the node to its pods (kubelet probes), which
//! plugins always admit, is not modelled, and a [`ConnectionEnd::Ip`] of a node address is an external
//! address. Pods and policies in a namespace missing from the namespace list get a namespace with
//! only the `kubernetes.io/metadata.name` label, which every namespace carries as the API server
//! sets it.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::evaluate::{Connection, Index, ConnectionEnd, read_cluster, read_policies};
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
//! let (namespaces, pods) = read_cluster("cluster.yaml", cluster, &Limits::default())?;
//! let index = Index::new(namespaces, pods, &read_policies("policies.yaml", policies, &Limits::default()).map(|read| read.policies)?)?;
//! let (web, db) = (index.pod_id("shop", "web").unwrap(), index.pod_id("shop", "db").unwrap());
//! let to_db = |from, port| Connection { from, to: ConnectionEnd::Pod(db), port, protocol: Protocol::Tcp };
//! assert!(index.evaluate(&to_db(ConnectionEnd::Pod(web), 5432)).allowed());
//! assert!(!index.evaluate(&to_db(ConnectionEnd::Pod(web), 5433)).allowed());
//! let verdict = index.evaluate(&to_db(ConnectionEnd::Ip("10.0.0.1".parse().unwrap()), 5432));
//! assert_eq!(verdict.ingress.to_string(), "denied (isolated by shop/db)");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

mod admitted;
pub(crate) mod cilium;
mod compile;
mod labels;
mod read;
pub(crate) mod sets;
mod write;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::NetworkPolicy;

use self::compile::{Context, Namespaces, PeerMatch, Policy, PortMatch, PortSpec, Rule};
use self::labels::{Interner, LabelSet};
use crate::error::{Error, Location, Result};
use crate::matrix::{Direction, Protocol};

pub(crate) use self::admitted::Admits;
pub use self::admitted::RuleRef;
pub use self::read::{PolicyFiles, read_cluster, read_policies};
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

/// A pod as far as policies care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// The name.
    pub name: String,
    /// The namespace.
    pub namespace: String,
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// The addresses (the node's for a hostNetwork pod).
    pub ips: Vec<IpAddr>,
    /// The ports of all its containers.
    pub ports: Vec<ContainerPort>,
    /// Whether the pod runs in the node's network namespace.
    pub host_network: bool,
}

/// A pod: its index in the pods given to [`Index::new`].
pub(crate) type PodId = usize;

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectionEnd {
    /// A pod of the index.
    Pod(PodId),
    /// An address outside the pod network.
    Ip(IpAddr),
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

/// A policy by namespace and name; displayed as `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyRef {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What one side of a connection (the source's egress or the destination's ingress) decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// The pod is not isolated in this direction: everything is admitted.
    NotIsolated,
    /// The peer is not subject to policy: an external address, or a hostNetwork pod.
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

impl Side {
    /// Whether this side admits the connection.
    pub(crate) fn allows(&self) -> bool {
        !matches!(self, Side::Denied { .. })
    }
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The source's egress side.
    pub egress: Side,
    /// The destination's ingress side.
    pub ingress: Side,
}

impl Verdict {
    /// Whether both sides admit the connection.
    pub fn allowed(&self) -> bool {
        self.egress.allows() && self.ingress.allows()
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
    /// The policies isolating it for ingress, in input order.
    ingress: Vec<u32>,
    /// The policies isolating it for egress, in input order.
    egress: Vec<u32>,
}

/// The other end of a connection, as a rule's peers see it.
#[derive(Clone, Copy)]
enum View<'a> {
    /// A pod matched by selectors.
    Pod(&'a PodInfo),
    /// Addresses matched by `ipBlock`s.
    Addresses(&'a [IpAddr]),
}

/// Namespaces, pods and compiled policies, ready to decide connections.
#[derive(Debug, Clone)]
pub struct Index {
    namespaces: Vec<Namespace>,
    pods: Vec<Pod>,
    pod_ids: HashMap<String, HashMap<String, PodId>>,
    infos: Vec<PodInfo>,
    /// The pods of each namespace, by namespace index.
    namespace_pods: Vec<Vec<PodId>>,
    policies: Vec<Policy>,
}

impl Index {
    /// Compiles `policies` against `namespaces` and `pods`, treating hostNetwork pods as their
    /// node's addresses.
    ///
    /// A policy the API server would reject (a bad CIDR, an unknown operator or protocol, a
    /// missing `podSelector`, name or namespace, a numeric string as port) is an error naming
    /// the policy and the field; so are two namespaces, pods or policies of the same name.
    pub fn new(
        namespaces: Vec<Namespace>,
        pods: Vec<Pod>,
        policies: &[NetworkPolicy],
    ) -> Result<Index> {
        Self::with_options(namespaces, pods, policies, Options::default())
    }

    /// [`Index::new`] with `options`.
    pub fn with_options(
        mut namespaces: Vec<Namespace>,
        pods: Vec<Pod>,
        policies: &[NetworkPolicy],
        options: Options,
    ) -> Result<Index> {
        let mut namespace_ids = index_namespaces(&mut namespaces)?;
        let (pod_ids, pod_namespaces) = index_pods(&pods, &mut namespaces, &mut namespace_ids)?;
        let policy_namespaces = index_policies(policies, &mut namespaces, &mut namespace_ids)?;

        // Policies compiled on interned labels, namespace selectors resolved once.
        let mut interner = Interner::default();
        let namespace_labels: Vec<LabelSet> = namespaces
            .iter()
            .map(|namespace| LabelSet::new(&mut interner, &namespace.labels))
            .collect();
        let mut context = Context {
            interner: &mut interner,
            namespace_labels: &namespace_labels,
        };
        let compiled = policies
            .iter()
            .zip(&policy_namespaces)
            .map(|(policy, &namespace)| compile::policy(&mut context, policy, namespace))
            .collect::<Result<Vec<_>>>()?;

        let mut infos = pod_infos(&pods, &pod_namespaces, &mut interner, options);
        let mut namespace_pods = vec![Vec::new(); namespaces.len()];
        for (id, info) in infos.iter().enumerate() {
            namespace_pods[info.namespace].push(id);
        }
        isolate(&mut infos, &compiled, &namespace_pods);
        Ok(Index {
            namespaces,
            pods,
            pod_ids,
            infos,
            namespace_pods,
            policies: compiled,
        })
    }

    /// The pods, indexed by [`PodId`].
    pub(crate) fn pods(&self) -> &[Pod] {
        &self.pods
    }

    /// The namespaces: those given (with the `kubernetes.io/metadata.name` label added where
    /// missing), then those only pods or policies name.
    pub(crate) fn namespaces(&self) -> &[Namespace] {
        &self.namespaces
    }

    /// The policies, in input order.
    #[cfg(test)]
    pub(crate) fn policies(&self) -> impl ExactSizeIterator<Item = &PolicyRef> {
        self.policies.iter().map(|policy| &policy.reference)
    }

    /// The pod `name` in `namespace`.
    pub fn pod_id(&self, namespace: &str, name: &str) -> Option<PodId> {
        self.pod_ids.get(namespace)?.get(name).copied()
    }

    /// The end of a connection that `text` names: an IP address, or `namespace/name` of a known pod.
    pub fn connection_end(&self, text: &str) -> Option<ConnectionEnd> {
        if let Ok(address) = text.parse() {
            return Some(ConnectionEnd::Ip(address));
        }
        let (namespace, name) = text.split_once('/')?;
        self.pod_id(namespace, name).map(ConnectionEnd::Pod)
    }

    /// `namespace/name` of a pod, or the address.
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] is not a pod of this index.
    pub fn end_name(&self, end: &ConnectionEnd) -> String {
        match end {
            ConnectionEnd::Pod(id) => {
                format!("{}/{}", self.pods[*id].namespace, self.pods[*id].name)
            }
            ConnectionEnd::Ip(address) => address.to_string(),
        }
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

    /// Decides `connection`, naming the policies behind each side.
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] is not a pod of this index.
    pub fn evaluate(&self, connection: &Connection) -> Verdict {
        let side = |direction, subject: &ConnectionEnd, other: &ConnectionEnd| match self
            .subject(subject)
        {
            None => Side::NotSubject,
            Some(info) => {
                let isolating = match direction {
                    Direction::Ingress => &info.ingress,
                    Direction::Egress => &info.egress,
                };
                if isolating.is_empty() {
                    return Side::NotIsolated;
                }
                let by: Vec<PolicyRef> = self
                    .admitting(isolating, direction, connection, other)
                    .map(|policy| policy.reference.clone())
                    .collect();
                if by.is_empty() {
                    Side::Denied {
                        isolated_by: isolating
                            .iter()
                            .map(|&n| self.policies[n as usize].reference.clone())
                            .collect(),
                    }
                } else {
                    Side::Allowed { by }
                }
            }
        };
        Verdict {
            egress: side(Direction::Egress, &connection.from, &connection.to),
            ingress: side(Direction::Ingress, &connection.to, &connection.from),
        }
    }

    /// Whether `connection` is allowed: [`Index::evaluate`] without naming policies, stopping
    /// at the first admitting rule.
    ///
    /// # Panics
    ///
    /// When a [`ConnectionEnd::Pod`] is not a pod of this index.
    pub fn allows(&self, connection: &Connection) -> bool {
        let side = |direction, subject: &ConnectionEnd, other: &ConnectionEnd| match self
            .subject(subject)
        {
            None => true,
            Some(info) => {
                let isolating = match direction {
                    Direction::Ingress => &info.ingress,
                    Direction::Egress => &info.egress,
                };
                isolating.is_empty()
                    || self
                        .admitting(isolating, direction, connection, other)
                        .next()
                        .is_some()
            }
        };
        side(Direction::Egress, &connection.from, &connection.to)
            && side(Direction::Ingress, &connection.to, &connection.from)
    }

    /// The pod behind `end` when it is subject to policy.
    fn subject(&self, end: &ConnectionEnd) -> Option<&PodInfo> {
        match end {
            ConnectionEnd::Pod(id) => Some(&self.infos[*id]).filter(|info| !info.by_address),
            ConnectionEnd::Ip(_) => None,
        }
    }

    /// How rules see `end`.
    fn view<'a>(&'a self, end: &'a ConnectionEnd) -> View<'a> {
        match end {
            ConnectionEnd::Pod(id) if self.infos[*id].by_address => {
                View::Addresses(&self.pods[*id].ips)
            }
            ConnectionEnd::Pod(id) => View::Pod(&self.infos[*id]),
            ConnectionEnd::Ip(address) => View::Addresses(std::slice::from_ref(address)),
        }
    }

    /// The policies among `isolating` with a rule of `direction` admitting `connection`, whose
    /// other end is `other`.
    fn admitting<'a>(
        &'a self,
        isolating: &'a [u32],
        direction: Direction,
        connection: &'a Connection,
        other: &'a ConnectionEnd,
    ) -> impl Iterator<Item = &'a Policy> {
        let other = self.view(other);
        // Named ports resolve on the destination, when it is a pod seen as a pod.
        let destination = match self.view(&connection.to) {
            View::Pod(info) => Some(info),
            View::Addresses(_) => None,
        };
        isolating
            .iter()
            .map(|&n| &self.policies[n as usize])
            .filter(move |policy| {
                let rules = match direction {
                    Direction::Ingress => policy.ingress.as_deref(),
                    Direction::Egress => policy.egress.as_deref(),
                };
                rules.unwrap_or_default().iter().any(|rule| {
                    ports_admit(rule, connection, destination) && peers_admit(policy, rule, other)
                })
            })
    }
}

/// The index of namespace `name`, added with only its name label when missing.
/// Namespaces by name, each with the name label the API server gives it.
fn index_namespaces(namespaces: &mut [Namespace]) -> Result<HashMap<String, usize>> {
    let mut ids = HashMap::new();
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

/// Pods by namespace and name, and the namespace of each pod; a namespace only pods name is
/// added.
type PodIds = HashMap<String, HashMap<String, PodId>>;

fn index_pods(
    pods: &[Pod],
    namespaces: &mut Vec<Namespace>,
    namespace_ids: &mut HashMap<String, usize>,
) -> Result<(PodIds, Vec<usize>)> {
    let mut pod_ids: PodIds = HashMap::new();
    let mut pod_namespaces = Vec::with_capacity(pods.len());
    for (id, pod) in pods.iter().enumerate() {
        let location = Location::new(format!("Pod {}/{}", pod.namespace, pod.name), None, "");
        if pod.name.is_empty() {
            return Err(Error::invalid(location.at("metadata.name"), "is missing"));
        }
        if pod.namespace.is_empty() {
            return Err(Error::invalid(
                location.at("metadata.namespace"),
                "is missing",
            ));
        }
        let names = pod_ids.entry(pod.namespace.clone()).or_default();
        if names.insert(pod.name.clone(), id).is_some() {
            return Err(Error::invalid(
                location.at("metadata.name"),
                "is given twice",
            ));
        }
        pod_namespaces.push(namespace_id(namespaces, namespace_ids, &pod.namespace));
    }
    Ok((pod_ids, pod_namespaces))
}

/// The namespace of each policy; a namespace only policies name is added. Two policies of the
/// same namespace and name are an error.
fn index_policies(
    policies: &[NetworkPolicy],
    namespaces: &mut Vec<Namespace>,
    namespace_ids: &mut HashMap<String, usize>,
) -> Result<Vec<usize>> {
    let mut policy_namespaces = Vec::with_capacity(policies.len());
    let mut seen = std::collections::HashSet::new();
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

/// Pods on interned labels and port names.
fn pod_infos(
    pods: &[Pod],
    pod_namespaces: &[usize],
    interner: &mut Interner,
    options: Options,
) -> Vec<PodInfo> {
    pods.iter()
        .zip(pod_namespaces)
        .map(|(pod, &namespace)| PodInfo {
            namespace,
            labels: LabelSet::new(interner, &pod.labels),
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

fn namespace_id(
    namespaces: &mut Vec<Namespace>,
    ids: &mut HashMap<String, usize>,
    name: &str,
) -> usize {
    *ids.entry(name.to_string()).or_insert_with(|| {
        namespaces.push(Namespace {
            name: name.to_string(),
            labels: [(NAMESPACE_NAME_LABEL.to_string(), name.to_string())].into(),
        });
        namespaces.len() - 1
    })
}

/// Whether `rule` admits the port and protocol of `connection` to `destination`.
fn ports_admit(rule: &Rule, connection: &Connection, destination: Option<&PodInfo>) -> bool {
    let Some(ports) = &rule.ports else {
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

/// Whether a peer of `rule` in `policy` matches `other`.
fn peers_admit(policy: &Policy, rule: &Rule, other: View<'_>) -> bool {
    let Some(peers) = &rule.peers else {
        return true;
    };
    peers.iter().any(|peer| match (peer, other) {
        (PeerMatch::Pods { namespaces, pods }, View::Pod(info)) => {
            let namespace = match namespaces {
                Namespaces::Own => info.namespace == policy.namespace,
                Namespaces::All => true,
                Namespaces::Set(set) => set.contains(info.namespace),
            };
            namespace && pods.matches(&info.labels)
        }
        (PeerMatch::Block(block), View::Addresses(addresses)) => {
            addresses.iter().any(|a| block.contains(a))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests;
