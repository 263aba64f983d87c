//! The traffic matrix: every connection the Dynatrace components make or accept, as data.
//!
//! [`TABLE`] holds one [`FlowRule`] per row of the traffic reference; [`build`] turns the table,
//! the resources and the cluster profile into the active [`Flow`]s. Building is pure: no I/O,
//! and the same inputs always give the same matrix in the same order.
//!
//! Architecture invariant: renderers read flows only from [`Matrix`]; they never add a flow of
//! their own. A connection between two Dynatrace workloads is one flow, which a renderer turns
//! into the egress rule of its source and the ingress rule of its destination.

mod build;
mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use build::build;
pub use table::TABLE;

use crate::model::ResourceRef;
use crate::values::{Host, HostPattern, HostPort, Name, PortNumber};

/// How the matrix is built, beyond what the resources and the cluster profile say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// The fallback mode of the network zones the DynaKubes name (`spec.networkZone`).
    pub zone_fallback: ZoneFallback,
}

/// The fallback mode of a Dynatrace network zone: where OneAgents go when no ActiveGate of
/// their zone answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ZoneFallback {
    /// `ANY` (Dynatrace's default): any ActiveGate or the tenant.
    #[default]
    Any,
    /// `ONLY_DEFAULT_ZONE`: ActiveGates of the default zone, which may be the tenant's.
    OnlyDefaultZone,
    /// `NONE`: only the ActiveGates of the zone. With the in-cluster ActiveGate as the zone's
    /// only member, OneAgents, code modules and log monitoring reach nothing else: the
    /// restricted-egress design, in which only the ActiveGate leaves the cluster for them.
    None,
}

/// A Dynatrace component: a kind of workload the operator or its Helm chart rolls out, or the
/// application pods it injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// The operator Deployment `dynatrace-operator`.
    Operator,
    /// The webhook Deployment `dynatrace-webhook`.
    Webhook,
    /// The CSI driver DaemonSet `dynatrace-oneagent-csi-driver`.
    CsiDriver,
    /// The CRD storage migration Job of Helm upgrades.
    CrdMigration,
    /// The ActiveGate StatefulSet `<dk>-activegate`.
    ActiveGate,
    /// The OneAgent DaemonSet `<dk>-oneagent` (hostNetwork).
    OneAgent,
    /// The log monitoring DaemonSet `<dk>-logmonitoring`.
    LogMonitoring,
    /// The KSPM node configuration collector DaemonSet `<dk>-node-config-collector`.
    Kspm,
    /// The extension execution controller StatefulSet `<dk>-extension-controller`.
    ExtensionController,
    /// The SQL extension executor Deployments `<dk>-sql-ext-exec-<id>`.
    SqlExecutor,
    /// The OpenTelemetry collector StatefulSet `<dk>-otel-collector`.
    OtelCollector,
    /// The EdgeConnect Deployment `<ec>`.
    EdgeConnect,
    /// Application pods in the namespaces the operator labelled for a DynaKube.
    InjectedApps,
}

/// Which resource a component belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// One per cluster: installed with the operator.
    Cluster,
    /// One per DynaKube.
    DynaKube,
    /// One per EdgeConnect.
    EdgeConnect,
    /// Every workload of the namespace (rows such as DNS).
    EveryWorkload,
}

impl Component {
    /// All components, in the order policies are written.
    pub const ALL: [Component; 13] = [
        Component::Operator,
        Component::Webhook,
        Component::CsiDriver,
        Component::CrdMigration,
        Component::ActiveGate,
        Component::OneAgent,
        Component::LogMonitoring,
        Component::Kspm,
        Component::ExtensionController,
        Component::SqlExecutor,
        Component::OtelCollector,
        Component::EdgeConnect,
        Component::InjectedApps,
    ];

    /// A short name for tables and policy names.
    pub fn name(self) -> &'static str {
        match self {
            Component::Operator => "operator",
            Component::Webhook => "webhook",
            Component::CsiDriver => "csi-driver",
            Component::CrdMigration => "crd-storage-migration",
            Component::ActiveGate => "activegate",
            Component::OneAgent => "oneagent",
            Component::LogMonitoring => "logmonitoring",
            Component::Kspm => "kspm",
            Component::ExtensionController => "extension-controller",
            Component::SqlExecutor => "sql-extension-executor",
            Component::OtelCollector => "otel-collector",
            Component::EdgeConnect => "edgeconnect",
            Component::InjectedApps => "injected-apps",
        }
    }

    /// Which resource the component belongs to.
    pub fn scope(self) -> Scope {
        match self {
            Component::Operator
            | Component::Webhook
            | Component::CsiDriver
            | Component::CrdMigration => Scope::Cluster,
            Component::EdgeConnect => Scope::EdgeConnect,
            _ => Scope::DynaKube,
        }
    }

    /// Whether the pods run in the host network namespace, where namespaced policies do not apply.
    pub fn host_network(self) -> bool {
        self == Component::OneAgent
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One workload: a component of the cluster, of one DynaKube, or of one EdgeConnect.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Workload {
    /// The component.
    pub component: Component,
    /// The DynaKube or EdgeConnect it belongs to; `None` for cluster components.
    pub instance: Option<Name>,
    /// The namespace of its pods (for injected apps: of the operator).
    pub namespace: Name,
}

/// The label the operator puts on every namespace it injects for a DynaKube.
pub const INSTANCE_NAMESPACE_LABEL: &str = "dynakube.internal.dynatrace.com/instance";

impl Workload {
    /// The workload's name, as `kubectl get` shows its controller (`<dk>-activegate`, ...).
    pub fn name(&self) -> String {
        let instance = self.instance.as_ref().map_or("", Name::as_str);
        match self.component {
            Component::Operator => "dynatrace-operator".into(),
            Component::Webhook => "dynatrace-webhook".into(),
            Component::CsiDriver => "dynatrace-oneagent-csi-driver".into(),
            Component::CrdMigration => "dynatrace-crd-storage-migration".into(),
            Component::ActiveGate => format!("{instance}-activegate"),
            Component::OneAgent => format!("{instance}-oneagent"),
            Component::LogMonitoring => format!("{instance}-logmonitoring"),
            Component::Kspm => format!("{instance}-node-config-collector"),
            Component::ExtensionController => format!("{instance}-extension-controller"),
            Component::SqlExecutor => format!("{instance}-sql-ext-exec"),
            Component::OtelCollector => format!("{instance}-otel-collector"),
            Component::EdgeConnect => instance.to_string(),
            Component::InjectedApps => format!("{instance}-injected-apps"),
        }
    }

    /// The stable pod labels that select the workload's pods (for injected apps: none, they are
    /// selected by the namespace label [`INSTANCE_NAMESPACE_LABEL`]).
    pub fn pod_labels(&self) -> BTreeMap<String, String> {
        let pairs: Vec<(&str, &str)> = match self.component {
            Component::Operator => vec![
                ("app.kubernetes.io/name", "dynatrace-operator"),
                ("app.kubernetes.io/component", "operator"),
            ],
            Component::Webhook => vec![
                ("internal.dynatrace.com/app", "webhook"),
                ("internal.dynatrace.com/component", "webhook"),
            ],
            Component::CsiDriver => vec![
                ("internal.oneagent.dynatrace.com/app", "csi-driver"),
                ("internal.oneagent.dynatrace.com/component", "csi-driver"),
            ],
            Component::CrdMigration => {
                vec![("app.kubernetes.io/component", "crd-storage-migration")]
            }
            Component::InjectedApps => vec![],
            component => {
                let name = match component {
                    Component::ActiveGate => "activegate",
                    Component::OneAgent => "oneagent",
                    Component::LogMonitoring => "logmonitoring",
                    Component::Kspm => "kspm",
                    Component::ExtensionController => "dynatrace-extension-controller",
                    Component::SqlExecutor => "dynatrace-sql-extension-executor",
                    Component::OtelCollector => "dynatrace-otel-collector",
                    _ => "edgeconnect",
                };
                let instance = self.instance.as_ref().map_or("", Name::as_str);
                return BTreeMap::from([
                    ("app.kubernetes.io/name".into(), name.into()),
                    ("app.kubernetes.io/created-by".into(), instance.into()),
                    (
                        "app.kubernetes.io/managed-by".into(),
                        "dynatrace-operator".into(),
                    ),
                ]);
            }
        };
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The direction of a table row, seen from its component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Connections to the component.
    Ingress,
    /// Connections from the component.
    Egress,
}

impl Direction {
    /// `ingress` or `egress`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// What an external host is to the Dynatrace components; names the policy that allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostRole {
    /// The Dynatrace API of `apiUrl` (after normalisation).
    DynatraceApi,
    /// Communication endpoints learnt at runtime (assumed: the `apiUrl` host and port).
    CommunicationEndpoint,
    /// A container registry.
    Registry,
    /// An HTTP proxy.
    Proxy,
    /// The Dynatrace platform host of an EdgeConnect (`apiServer`).
    EdgeConnectApi,
    /// The OAuth token endpoint of an EdgeConnect.
    OAuth,
}

impl HostRole {
    /// The kebab-case name used in policy names.
    pub fn name(self) -> &'static str {
        match self {
            HostRole::DynatraceApi => "dynatrace-api",
            HostRole::CommunicationEndpoint => "communication-endpoints",
            HostRole::Registry => "registry",
            HostRole::Proxy => "proxy",
            HostRole::EdgeConnectApi => "edgeconnect-api",
            HostRole::OAuth => "oauth",
        }
    }
}

/// One side of a connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// Pods of a Dynatrace workload.
    Workload(Workload),
    /// The nodes: kubelet (probes, its API on 10250) and anything else on the host network.
    Nodes,
    /// kube-apiserver: reached by pods as the `kubernetes` Service, calling webhooks from the
    /// control plane.
    KubeApiServer,
    /// The cluster DNS of the cluster profile.
    Dns,
    /// The Prometheus of the cluster profile.
    Prometheus,
    /// Every pod of every namespace.
    AllPods,
    /// An external host, reached by name (or IP literal).
    Host {
        /// The host name or IP address.
        host: Host,
        /// What the host is.
        role: HostRole,
    },
    /// Hosts matching an EdgeConnect host pattern such as `*.internal.example.com`.
    HostPattern(HostPattern),
    /// Peers that cannot be named in advance (annotated exporter pods, user databases).
    Unbounded(&'static str),
}

impl Endpoint {
    /// The workload, when the endpoint is one.
    pub fn workload(&self) -> Option<&Workload> {
        match self {
            Endpoint::Workload(w) => Some(w),
            _ => None,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Workload(w) => write!(f, "{w}"),
            Endpoint::Nodes => f.write_str("nodes"),
            Endpoint::KubeApiServer => f.write_str("kube-apiserver"),
            Endpoint::Dns => f.write_str("cluster DNS"),
            Endpoint::Prometheus => f.write_str("Prometheus"),
            Endpoint::AllPods => f.write_str("all pods"),
            Endpoint::Host { host, .. } => write!(f, "{host}"),
            Endpoint::HostPattern(p) => write!(f, "{p}"),
            Endpoint::Unbounded(what) => f.write_str(what),
        }
    }
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The protocol Kubernetes names so (`TCP`, `UDP`, `SCTP`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// `TCP`, `UDP` or `SCTP`, as Kubernetes spells it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A destination (pod) port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    /// The number.
    pub number: PortNumber,
    /// The protocol.
    pub protocol: Protocol,
}

impl Port {
    /// A TCP port; `number` is a constant from 1 to 65535.
    pub const fn tcp(number: u16) -> Self {
        Port {
            number: PortNumber::of(number),
            protocol: Protocol::Tcp,
        }
    }

    /// A UDP port; `number` is a constant from 1 to 65535.
    pub const fn udp(number: u16) -> Self {
        Port {
            number: PortNumber::of(number),
            protocol: Protocol::Udp,
        }
    }

    /// A TCP port of a validated number.
    pub const fn tcp_of(number: PortNumber) -> Self {
        Port {
            number,
            protocol: Protocol::Tcp,
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number, self.protocol.name())
    }
}

/// The destination ports of a flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ports {
    /// Any port: the reference gives none (EdgeConnect hosts, exporter ports).
    Any,
    /// These ports.
    List(BTreeSet<Port>),
}

impl Ports {
    /// The ports of a list.
    pub fn list(ports: impl IntoIterator<Item = Port>) -> Self {
        Ports::List(ports.into_iter().collect())
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ports::Any => f.write_str("any"),
            Ports::List(ports) => {
                let ports: Vec<String> = ports.iter().map(Port::to_string).collect();
                f.write_str(&ports.join(", "))
            }
        }
    }
}

/// The peer of a table row, before the resources make it concrete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRule {
    /// The nodes (kubelet).
    Nodes,
    /// kube-apiserver.
    KubeApiServer,
    /// The cluster DNS.
    Dns,
    /// The Prometheus of the cluster profile.
    Prometheus,
    /// Every pod of the cluster.
    AllPods,
    /// Another workload of the same DynaKube (or the cluster components).
    Workload(Component),
    /// The namespaces injected for the DynaKube.
    InjectedApps,
    /// The `apiUrl` host and port, through the proxy when one is set.
    DynatraceApi,
    /// The ActiveGate's communication endpoints, through the proxy.
    ActiveGateEndpoints,
    /// The OneAgent communication endpoints: the in-cluster ActiveGate when it routes, and the
    /// tenant; through the proxy.
    OneAgentEndpoints,
    /// The registry of the code-modules image, through the proxy unless exempt.
    CodeModulesRegistry,
    /// Where telemetry is exported: the in-cluster ActiveGate if there is one, else `apiUrl`.
    TelemetryExport,
    /// The EEC, plus the Prometheus scrape targets (Prometheus extensions).
    PrometheusExtension,
    /// The EEC, plus the user databases (SQL extensions).
    DatabaseExtension,
    /// The EdgeConnect `apiServer`, through the EdgeConnect proxy.
    EdgeConnectApi,
    /// The EdgeConnect OAuth endpoint, through the EdgeConnect proxy.
    EdgeConnectOAuth,
    /// Both EdgeConnect hosts, called by the operator directly.
    EdgeConnectProvisioning,
    /// The default EdgeConnect image registry (Docker Hub).
    EdgeConnectRegistry,
    /// The hosts an EdgeConnect forwards to: `hostRestrictions`, else `hostPatterns`.
    EdgeConnectTargets,
    /// Pods annotated for Prometheus scraping, anywhere.
    AnnotatedExporters,
}

impl PeerRule {
    /// The peer in words, for the generated table.
    pub fn describe(self) -> String {
        match self {
            PeerRule::Nodes => "nodes (kubelet)".into(),
            PeerRule::KubeApiServer => "kube-apiserver".into(),
            PeerRule::Dns => "cluster DNS".into(),
            PeerRule::Prometheus => "Prometheus of the cluster profile".into(),
            PeerRule::AllPods => "pods of every namespace".into(),
            PeerRule::Workload(component) => component.name().into(),
            PeerRule::InjectedApps => "pods in injected namespaces".into(),
            PeerRule::DynatraceApi => "`apiUrl` host (or proxy)".into(),
            PeerRule::ActiveGateEndpoints => "ActiveGate communication endpoints (or proxy)".into(),
            PeerRule::OneAgentEndpoints => {
                "in-cluster ActiveGate if `routing`; OneAgent communication endpoints (or proxy)"
                    .into()
            }
            PeerRule::CodeModulesRegistry => "registry of the code-modules image (or proxy)".into(),
            PeerRule::TelemetryExport => "in-cluster ActiveGate, else `apiUrl` host".into(),
            PeerRule::PrometheusExtension => {
                "extension-controller; Prometheus scrape targets".into()
            }
            PeerRule::DatabaseExtension => "extension-controller; user databases".into(),
            PeerRule::EdgeConnectApi => "`apiServer` host (or EdgeConnect proxy)".into(),
            PeerRule::EdgeConnectOAuth => "`oauth.endpoint` host (or EdgeConnect proxy)".into(),
            PeerRule::EdgeConnectProvisioning => "`oauth.endpoint` and `apiServer` hosts".into(),
            PeerRule::EdgeConnectRegistry => {
                "Docker Hub (`index.docker.io`, `auth.docker.io`)".into()
            }
            PeerRule::EdgeConnectTargets => {
                "hosts matching `hostRestrictions`, else `hostPatterns`".into()
            }
            PeerRule::AnnotatedExporters => "pods annotated for Prometheus scraping".into(),
        }
    }
}

/// The ports of a table row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRule {
    /// Fixed pod ports.
    Fixed(&'static [Port]),
    /// The ports of the peer (host ports, the DNS of the profile, the workload's own port).
    OfPeer,
    /// The telemetry ingest protocols of the DynaKube.
    TelemetryProtocols,
}

/// When a table row is active, beyond its component running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Whenever the component runs.
    Always,
    /// The cluster profile names a Prometheus.
    PrometheusConfigured,
    /// The CSI driver downloads code modules from the tenant.
    CodeModulesDownload,
    /// The CSI driver pulls code modules from a registry.
    CodeModulesRegistry,
    /// The ActiveGate has `kubernetes-monitoring`.
    KubernetesMonitoring,
    /// Code modules are injected into application pods.
    CodeModulesInjection,
    /// Code modules are downloaded by the init container (no CSI driver, no image).
    Bootstrapper,
    /// `telemetryIngest` is set.
    TelemetryIngest,
    /// Prometheus extensions are on.
    PrometheusExtensions,
    /// `otlpExporterConfiguration` is set.
    OtlpExporter,
    /// EdgeConnect `kubernetesAutomation.enabled`.
    KubernetesAutomation,
    /// EdgeConnect `oauth.provisioner` or Kubernetes automation.
    Provisioning,
    /// EdgeConnect without `imageRef.repository`.
    DefaultEdgeConnectImage,
}

impl Condition {
    /// The CR field or setting that switches the row on, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Condition::Always => "always",
            Condition::PrometheusConfigured => "cluster profile `prometheus`",
            Condition::CodeModulesDownload => {
                "code-module injection with CSI driver, no `codeModulesImage`, no public registry, no `node-image-pull`"
            }
            Condition::CodeModulesRegistry => {
                "`codeModulesImage` or `use-public-registry`, without `node-image-pull`"
            }
            Condition::KubernetesMonitoring => "`activeGate.capabilities: kubernetes-monitoring`",
            Condition::CodeModulesInjection => "`cloudNativeFullStack` or `applicationMonitoring`",
            Condition::Bootstrapper => {
                "code-module injection without CSI driver and without `codeModulesImage`"
            }
            Condition::TelemetryIngest => "`telemetryIngest`",
            Condition::PrometheusExtensions => "`extensions` (v1beta6: `extensions.prometheus`)",
            Condition::OtlpExporter => "`otlpExporterConfiguration`",
            Condition::KubernetesAutomation => "`kubernetesAutomation.enabled`",
            Condition::Provisioning => "`oauth.provisioner` or `kubernetesAutomation.enabled`",
            Condition::DefaultEdgeConnectImage => "no `imageRef.repository`",
        }
    }
}

/// One row of the traffic table.
#[derive(Debug, Clone, Copy)]
pub struct FlowRule {
    /// The reference row (`I1`–`I17`, `E1`–`E29`); unique in [`TABLE`].
    pub id: &'static str,
    /// Other reference rows the same connections implement (the other side's view).
    pub also: &'static [&'static str],
    /// Which resource the row is evaluated for.
    pub scope: Scope,
    /// The components the row applies to.
    pub components: &'static [Component],
    /// Whether the component accepts (ingress) or opens (egress) the connections.
    pub direction: Direction,
    /// The other side.
    pub peer: PeerRule,
    /// The destination ports.
    pub ports: PortRule,
    /// What switches the row on, beyond the component running.
    pub when: Condition,
    /// What the connections are for.
    pub purpose: &'static str,
}

impl PortRule {
    /// The ports in words, for the generated table.
    pub fn describe(self, peer: PeerRule) -> String {
        match (self, peer) {
            (PortRule::Fixed(ports), _) => Ports::list(ports.iter().copied()).to_string(),
            (PortRule::TelemetryProtocols, _) => {
                "per protocol: 4317, 4318, 14250, 14268, 9411/TCP; 6831, 6832, 8125/UDP".into()
            }
            (PortRule::OfPeer, PeerRule::Dns) => "53/UDP, 53/TCP (OpenShift: 5353)".into(),
            (PortRule::OfPeer, PeerRule::OneAgentEndpoints | PeerRule::TelemetryExport) => {
                "9999/TCP (ActiveGate); host port".into()
            }
            (PortRule::OfPeer, PeerRule::PrometheusExtension | PeerRule::DatabaseExtension) => {
                "14599/TCP; any".into()
            }
            (PortRule::OfPeer, PeerRule::EdgeConnectTargets | PeerRule::AnnotatedExporters) => {
                "any".into()
            }
            (PortRule::OfPeer, _) => "host port (URL port, default 443)".into(),
        }
    }
}

/// The table as a Markdown table, one line per row (for the README; `cargo xtask docs`).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Row | Also | Component | Direction | Peer | Ports | Switched on by | Purpose |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for rule in TABLE {
        let components: Vec<&str> = rule.components.iter().map(|c| c.name()).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            rule.id,
            rule.also.join(", "),
            components.join(", "),
            rule.direction.name(),
            rule.peer.describe(),
            rule.ports.describe(rule.peer),
            rule.when.describe(),
            rule.purpose,
        ));
    }
    out
}

/// An active connection: a row of the table made concrete by the resources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flow {
    /// The table row it comes from.
    pub id: &'static str,
    /// Who opens the connection.
    pub from: Endpoint,
    /// Who accepts it.
    pub to: Endpoint,
    /// Destination ports.
    pub ports: Ports,
    /// All reference rows it implements (its own id first when sorted by the table).
    pub refs: BTreeSet<&'static str>,
    /// The resources whose settings made the flow; empty for the flows of the cluster
    /// components themselves (kube-apiserver, DNS, probes).
    pub sources: BTreeSet<ResourceRef>,
}

impl Flow {
    /// The table row of the flow.
    pub fn rule(&self) -> &'static FlowRule {
        TABLE
            .iter()
            .find(|r| r.id == self.id)
            .expect("every flow comes from a row of the table")
    }
}

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Something the reviewer should know.
    Info,
    /// Something that makes the policies broader or weaker than the matrix; fix the input.
    Warning,
}

/// A remark on the generated policies, printed on stderr and in the output header.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    /// How much it matters.
    pub level: Level,
    /// The reference rows it concerns.
    pub refs: BTreeSet<&'static str>,
    /// The remark, one sentence or two.
    pub text: String,
}

impl Note {
    /// A note about `refs`.
    pub fn new(level: Level, refs: &[&'static str], text: impl Into<String>) -> Self {
        Note {
            level,
            refs: refs.iter().copied().collect(),
            text: text.into(),
        }
    }
}

impl Note {
    /// An informational note about one flow: it concerns the flow's reference rows.
    pub fn on_flow(flow: &Flow, text: impl Into<String>) -> Self {
        Note {
            level: Level::Info,
            refs: flow.refs.clone(),
            text: text.into(),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Info => "note",
            Level::Warning => "warning",
        };
        let text = crate::values::escape(&self.text);
        if self.refs.is_empty() {
            write!(f, "{level}: {text}")
        } else {
            let mut refs: Vec<&str> = self.refs.iter().copied().collect();
            refs.sort_by_key(|r| crate::render::reference_order(r));
            write!(f, "{level} ({}): {text}", refs.join(", "))
        }
    }
}

/// The active flows of a set of resources in one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// The operator namespace, where every Dynatrace workload runs.
    pub namespace: Name,
    /// The flows, sorted and free of duplicates.
    pub flows: Vec<Flow>,
    /// Remarks: assumptions, uncertainties, rows that need attention.
    pub notes: Vec<Note>,
    /// The cluster profile the matrix was built for.
    pub profile: crate::cluster::ClusterProfile,
}

/// The endpoint and port of a host reached directly (not through a proxy).
pub(crate) fn host_endpoint(host: &HostPort, role: HostRole) -> (Endpoint, Ports) {
    (
        Endpoint::Host {
            host: host.host.clone(),
            role,
        },
        Ports::list([Port::tcp_of(host.port)]),
    )
}
