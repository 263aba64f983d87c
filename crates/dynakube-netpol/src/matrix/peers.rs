//! The peers of flows, resolved: what each side of a connection is in the cluster, with every
//! fact a renderer needs to name it.
//!
//! This is the one closed set renderers translate. Adding a kind of peer is a variant here and
//! one arm in each renderer's translation.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use super::Workload;
use crate::values::{Cidr, Host, HostPattern, Name, PortNumber};

/// One side of a connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// Pods of a Dynatrace workload (see its [`Selection`](super::Selection)).
    Workload(Workload),
    /// Pods that are no Dynatrace workload: the Prometheus of the cluster profile, any pod.
    Pods(Pods),
    /// The node itself: kubelet probes come from it, the kubelet API listens on it.
    Nodes(Nodes),
    /// kube-apiserver: reached by pods as the `kubernetes` Service, calling webhooks from the
    /// control plane.
    KubeApiServer(ApiServer),
    /// The cluster DNS of the cluster profile.
    Dns(Dns),
    /// An external host, reached by name (or IP literal).
    Host {
        /// The host name or IP address.
        host: Host,
        /// What the host is.
        role: HostRole,
    },
    /// Hosts matching an EdgeConnect host pattern such as `*.internal.example.com`.
    HostPattern(HostPattern),
    /// Address blocks the cluster profile names (databases outside the cluster).
    Blocks(Blocks),
    /// Peers that cannot be named in advance (annotated exporter pods, user databases): what
    /// they are.
    Unbounded(&'static str),
}

impl Endpoint {
    /// The workload, when the endpoint is one.
    pub(crate) fn workload(&self) -> Option<&Workload> {
        match self {
            Endpoint::Workload(w) => Some(w),
            _ => None,
        }
    }

    /// The workload, when the endpoint is one that gets policies of its own.
    pub(crate) fn policy_subject(&self) -> Option<&Workload> {
        self.workload().filter(|w| w.has_policies())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Workload(w) => write!(f, "{w}"),
            Endpoint::Pods(pods) => f.write_str(pods.kind.describe()),
            Endpoint::Nodes(_) => f.write_str("nodes"),
            Endpoint::KubeApiServer(_) => f.write_str("kube-apiserver"),
            Endpoint::Dns(_) => f.write_str("cluster DNS"),
            Endpoint::Host { host, .. } => write!(f, "{host}"),
            Endpoint::HostPattern(p) => write!(f, "{p}"),
            Endpoint::Blocks(blocks) => f.write_str(blocks.what),
            Endpoint::Unbounded(what) => f.write_str(what),
        }
    }
}

/// Address blocks outside the cluster, named in the cluster profile.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Blocks {
    /// What they are, in words.
    pub what: &'static str,
    /// The kebab-case name used in policy names.
    pub name: &'static str,
    /// The field of the cluster profile that names them, and names them by host instead.
    pub field: &'static str,
    /// The blocks.
    pub cidrs: Vec<Cidr>,
}

/// The addresses of the cluster's nodes (empty when the cluster profile gives none), and which
/// of them a flow concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nodes(pub Vec<Cidr>, pub NodeScope);

/// Which nodes a flow concerns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeScope {
    /// The node of the pod: the kubelet probing it, the kubelet API of a DaemonSet pod's node.
    #[default]
    Own,
    /// Every node of the cluster: a pod that scrapes every kubelet.
    Every,
}

/// How pods reach kube-apiserver, and where it calls webhooks from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiServer {
    /// The ClusterIP(s) of the `kubernetes` Service (reached on the flow's port, 443).
    pub service: Vec<Cidr>,
    /// The addresses of the kube-apiserver endpoints; empty when unknown.
    pub endpoints: Vec<Cidr>,
    /// The ports the endpoints listen on.
    pub endpoint_ports: Vec<PortNumber>,
    /// Where kube-apiserver calls webhooks from; empty when unknown.
    pub control_plane: Vec<Cidr>,
}

/// The cluster DNS: its pods, and a node-local cache in front of them. The flow's ports are
/// the DNS port of the provider.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dns {
    /// The namespace of the DNS pods.
    pub namespace: &'static str,
    /// Their labels.
    pub labels: BTreeMap<String, String>,
    /// The node-local cache, when the cluster has one.
    pub cache: Option<IpAddr>,
    /// Whether the source asks for names of its own choosing (application pods); otherwise it
    /// asks only for the hosts of its other flows, and a DNS-aware policy may say so.
    pub any_name: bool,
}

/// Pods that are no Dynatrace workload.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pods {
    /// What they are.
    pub kind: PodsKind,
    /// Their namespace; `None` for every namespace.
    pub namespace: Option<Name>,
    /// Their labels; empty for every pod of the namespaces.
    pub labels: BTreeMap<String, String>,
}

impl Pods {
    /// What they are and where, in words: `application pods (classic full-stack) in
    /// namespace shop`.
    pub(crate) fn describe(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{} in namespace {namespace}", self.kind.describe()),
            None => format!("{} of every namespace", self.kind.describe()),
        }
    }

    /// The pods of `kind` the cluster profile names: in `namespace` (every namespace when
    /// `None`), with `labels` (every pod when empty).
    pub(crate) fn named<K: fmt::Display, V: fmt::Display>(
        kind: PodsKind,
        namespace: Option<&Name>,
        labels: &BTreeMap<K, V>,
    ) -> Self {
        Pods {
            kind,
            namespace: namespace.cloned(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// What pods that are no Dynatrace workload are to the Dynatrace components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PodsKind {
    /// The Prometheus of the cluster profile.
    Prometheus,
    /// Every pod of every namespace.
    Any,
    /// Pods the cluster profile names as Prometheus scrape targets.
    ScrapeTargets,
    /// Pods of namespaces the cluster profile names as ActiveGate clients.
    ActiveGateClients,
    /// Pods the cluster profile names as databases of SQL extensions.
    Databases,
    /// Application pods of the namespaces the cluster profile names, instrumented by a
    /// classic full-stack OneAgent.
    ClassicApps,
}

impl PodsKind {
    /// Whether they are application pods running Dynatrace code modules, whose egress a
    /// flavor may allow outside the operator namespace (Cilium's `appEgress`).
    pub(crate) fn applications(self) -> bool {
        matches!(self, PodsKind::ClassicApps)
    }

    /// In words.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            PodsKind::Prometheus => "Prometheus",
            PodsKind::Any => "all pods",
            PodsKind::ScrapeTargets => "Prometheus scrape targets",
            PodsKind::ActiveGateClients => "ActiveGate clients",
            PodsKind::Databases => "databases",
            PodsKind::ClassicApps => "application pods (classic full-stack)",
        }
    }

    /// The kebab-case name used in policy names.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PodsKind::Prometheus => "prometheus",
            PodsKind::Any => "all-pods",
            PodsKind::ScrapeTargets => "scrape-targets",
            PodsKind::ActiveGateClients => "activegate-clients",
            PodsKind::Databases => "databases",
            PodsKind::ClassicApps => "classic-apps",
        }
    }
}

/// What an external host is to the Dynatrace components; names the policy that allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum HostRole {
    /// The Dynatrace API of `apiUrl` (after normalisation).
    DynatraceApi,
    /// Communication endpoints learnt at runtime (assumed: the `apiUrl` host and port).
    CommunicationEndpoint,
    /// A container registry.
    Registry,
    /// A content delivery network a registry redirects downloads to. Its addresses change at
    /// the CDN's will, so a policy that cannot name hosts admits it only with addresses given.
    RegistryCdn,
    /// An HTTP proxy.
    Proxy,
    /// The Dynatrace platform host of an EdgeConnect (`apiServer`).
    EdgeConnectApi,
    /// The OAuth token endpoint of an EdgeConnect.
    OAuth,
    /// A database of SQL extensions the cluster profile names by host: internal, like a
    /// proxy, so its addresses may be private.
    Database,
}

impl HostRole {
    /// The kebab-case name used in policy names.
    pub(crate) fn name(self) -> &'static str {
        match self {
            HostRole::DynatraceApi => "dynatrace-api",
            HostRole::CommunicationEndpoint => "communication-endpoints",
            HostRole::Registry => "registry",
            HostRole::RegistryCdn => "registry-cdn",
            HostRole::Proxy => "proxy",
            HostRole::EdgeConnectApi => "edgeconnect-api",
            HostRole::OAuth => "oauth",
            HostRole::Database => "databases",
        }
    }
}
