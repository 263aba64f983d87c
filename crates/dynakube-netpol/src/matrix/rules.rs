//! The columns of the traffic table: the kinds of peer, port, condition and routing a row has.

use super::components::{ACTIVEGATE_HTTPS, EXTENSION_CONTROLLER, KUBELET, TELEMETRY_PORTS};
use super::{Component, Direction, Port, Ports, Protocol, RowId, Scope, TABLE};
use crate::cluster::DnsProvider;

/// The kind of peer a table row has, before the resources make it concrete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerKind {
    /// The nodes (kubelet).
    Nodes,
    /// kube-apiserver.
    KubeApiServer,
    /// The cluster DNS, for the names of the row's other flows.
    Dns,
    /// The cluster DNS, for any name: application pods resolve names of their own.
    AppDns,
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
    /// The EEC, the kubelets of every node, and the Prometheus scrape targets (Prometheus
    /// extensions).
    ///
    /// The collector's scrape configuration comes from the EEC (`--config=eec://...`), which
    /// builds it from the tenant's Prometheus extensions; its ClusterRole
    /// `dynatrace-extensions-prometheus` grants `nodes` and `nodes/metrics` (with the
    /// non-resource URLs `/metrics`, `/metrics/cadvisor`) and not `nodes/proxy`, so it scrapes
    /// the kubelets on their own port, not through kube-apiserver (the chart's
    /// `clusterole-extensions-prometheus.yaml`, v1.4.0 to v1.10.2; `buildArgs` in
    /// `pkg/controllers/dynakube/otelc/statefulset/container.go`, v1.10.2). A peer of E21, not
    /// a row of its own: the reference row is the collector scraping its targets.
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

impl PeerKind {
    /// The peer in words, for the generated table.
    pub(crate) fn describe(self) -> String {
        match self {
            PeerKind::Nodes => "nodes (kubelet)".into(),
            PeerKind::KubeApiServer => "kube-apiserver".into(),
            PeerKind::Dns => "cluster DNS".into(),
            PeerKind::AppDns => "cluster DNS (any name)".into(),
            PeerKind::Prometheus => "Prometheus of the cluster profile".into(),
            PeerKind::AllPods => "pods of every namespace".into(),
            PeerKind::Workload(component) => component.name().into(),
            PeerKind::InjectedApps => "pods in injected namespaces".into(),
            PeerKind::DynatraceApi => "`apiUrl` host (or proxy)".into(),
            PeerKind::ActiveGateEndpoints => "ActiveGate communication endpoints (or proxy)".into(),
            PeerKind::OneAgentEndpoints => {
                "in-cluster ActiveGate if `routing`; OneAgent communication endpoints (or proxy)"
                    .into()
            }
            PeerKind::CodeModulesRegistry => "registry of the code-modules image (or proxy)".into(),
            PeerKind::TelemetryExport => "in-cluster ActiveGate, else `apiUrl` host".into(),
            PeerKind::PrometheusExtension => {
                "extension-controller; kubelets of every node; Prometheus scrape targets".into()
            }
            PeerKind::DatabaseExtension => "extension-controller; user databases".into(),
            PeerKind::EdgeConnectApi => "`apiServer` host (or EdgeConnect proxy)".into(),
            PeerKind::EdgeConnectOAuth => "`oauth.endpoint` host (or EdgeConnect proxy)".into(),
            PeerKind::EdgeConnectProvisioning => "`oauth.endpoint` and `apiServer` hosts".into(),
            PeerKind::EdgeConnectRegistry => {
                "Docker Hub (`index.docker.io`, `auth.docker.io`)".into()
            }
            PeerKind::EdgeConnectTargets => {
                "hosts matching `hostRestrictions`, else `hostPatterns`".into()
            }
            PeerKind::AnnotatedExporters => "pods annotated for Prometheus scraping".into(),
        }
    }
}

/// The ports of a table row: where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortKind {
    /// Fixed pod ports.
    Fixed(&'static [Port]),
    /// The ports of the peer (host ports, the DNS of the profile, the workload's own port).
    OfPeer,
    /// The telemetry ingest protocols of the DynaKube.
    TelemetryProtocols,
    /// A port of the webhook, which Helm's `webhook.ports` may change.
    Webhook(WebhookPort),
}

/// The webhook's ports, as Helm's `webhook.ports` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookPort {
    /// `server` (default 8443): admission requests from kube-apiserver.
    Server,
    /// `healthProbe` (default 10080): kubelet probes.
    HealthProbe,
    /// `metrics` (default 8383): Prometheus metrics.
    Metrics,
}

impl WebhookPort {
    /// Every port of the webhook.
    pub(crate) const ALL: [WebhookPort; 3] = [
        WebhookPort::Server,
        WebhookPort::HealthProbe,
        WebhookPort::Metrics,
    ];

    /// The chart's default.
    pub(crate) const fn default_port(self) -> u16 {
        match self {
            WebhookPort::Server => 8443,
            WebhookPort::HealthProbe => 10080,
            WebhookPort::Metrics => 8383,
        }
    }

    /// The name the chart gives the container port (in every release), by which a rendered
    /// chart's ports are read and a modelled cluster's pods name them.
    pub(crate) const fn container_port_name(self) -> &'static str {
        match self {
            WebhookPort::Server => "server-port",
            WebhookPort::HealthProbe => "livez",
            WebhookPort::Metrics => "metrics",
        }
    }
}

/// When a table row is active, beyond its component running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
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
    /// The OneAgent runs in `classicFullStack` mode: its host agent instruments the
    /// processes of application pods itself.
    ClassicFullStack,
    /// Code modules are downloaded by the init container (no CSI driver, no image).
    Bootstrapper,
    /// `telemetryIngest` is set.
    TelemetryIngest,
    /// `telemetryIngest` is set, and the operator gives the collector kubelet probes (1.10+).
    TelemetryIngestProbes,
    /// The ActiveGate has `metrics-ingest`, which opens its plain-HTTP port to applications.
    MetricsIngest,
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
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Condition::Always => "always",
            Condition::PrometheusConfigured => "cluster profile `prometheus`",
            Condition::CodeModulesDownload => {
                "code-module injection with CSI driver (not in `migrationMode`), no `codeModulesImage`, no public registry, no `node-image-pull`"
            }
            Condition::CodeModulesRegistry => {
                "`codeModulesImage` or `use-public-registry`, without `node-image-pull`"
            }
            Condition::KubernetesMonitoring => "`activeGate.capabilities: kubernetes-monitoring`",
            Condition::CodeModulesInjection => "`cloudNativeFullStack` or `applicationMonitoring`",
            Condition::ClassicFullStack => "`classicFullStack`",
            Condition::Bootstrapper => {
                "code-module injection without CSI driver (or in its `migrationMode`) and without `codeModulesImage`"
            }
            Condition::TelemetryIngest => "`telemetryIngest`",
            Condition::TelemetryIngestProbes => "`telemetryIngest`, operator 1.10 and later",
            Condition::MetricsIngest => "`activeGate.capabilities: metrics-ingest`",
            Condition::PrometheusExtensions => "`extensions` (v1beta6: `extensions.prometheus`)",
            Condition::OtlpExporter => "`otlpExporterConfiguration`",
            Condition::KubernetesAutomation => "`kubernetesAutomation.enabled`",
            Condition::Provisioning => "`oauth.provisioner` or `kubernetesAutomation.enabled`",
            Condition::DefaultEdgeConnectImage => "no `imageRef.repository`",
        }
    }
}

/// Whether a row's traffic goes through the proxy of its resource (`E30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyUse {
    /// Never: the component is not given the proxy.
    Never,
    /// Through the DynaKube's `spec.proxy`, unless its no-proxy hosts name the host.
    DynaKube,
    /// Like [`ProxyUse::DynaKube`], unless `feature.dynatrace.com/activegate-ignore-proxy`.
    DynaKubeUnlessActiveGateIgnores,
    /// Like [`ProxyUse::DynaKube`], unless `feature.dynatrace.com/oneagent-ignore-proxy`.
    DynaKubeUnlessOneAgentIgnores,
    /// Through the EdgeConnect's `spec.proxy`, unless its `noProxy` names the host.
    EdgeConnect,
}

impl ProxyUse {
    /// In words, for the generated table.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ProxyUse::Never => "no",
            ProxyUse::DynaKube => "`spec.proxy`",
            ProxyUse::DynaKubeUnlessActiveGateIgnores => {
                "`spec.proxy` unless `activegate-ignore-proxy`"
            }
            ProxyUse::DynaKubeUnlessOneAgentIgnores => {
                "`spec.proxy` unless `oneagent-ignore-proxy`"
            }
            ProxyUse::EdgeConnect => "EdgeConnect `spec.proxy`",
        }
    }
}

/// Where a row's traffic goes when the DynaKube's network zone has the fallback mode NONE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZoneRoute {
    /// The zone changes nothing.
    Unchanged,
    /// Only to the ActiveGates of the zone: here, the in-cluster ActiveGate.
    ActiveGateOnly,
}

/// One row of the traffic table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowRule {
    /// The reference row (`I1`–`I17`, `E1`–`E29`). A reference row may take several table rows
    /// when its components differ in scope or condition; (id, component) is unique.
    pub(crate) id: RowId,
    /// Other reference rows the same connections implement (the other side's view).
    pub(crate) also: &'static [RowId],
    /// Which resource the row is evaluated for.
    pub(crate) scope: Scope,
    /// The components the row applies to.
    pub(crate) components: &'static [Component],
    /// Whether the component accepts (ingress) or opens (egress) the connections.
    pub(crate) direction: Direction,
    /// The other side.
    pub(crate) peer: PeerKind,
    /// The destination ports.
    pub(crate) ports: PortKind,
    /// What switches the row on, beyond the component running.
    pub(crate) when: Condition,
    /// Whether the traffic goes through a proxy.
    pub(crate) proxy: ProxyUse,
    /// Where the traffic goes in a network zone with fallback NONE.
    pub(crate) zone: ZoneRoute,
    /// What the connections are for.
    pub(crate) purpose: &'static str,
}

impl PortKind {
    /// The ports in words, for the generated table.
    pub(crate) fn describe(self, peer: PeerKind) -> String {
        match (self, peer) {
            (PortKind::Fixed(ports), _) => Ports::list(ports.iter().copied()).to_string(),
            (PortKind::Webhook(port), _) => {
                format!("{}/TCP (Helm `webhook.ports`)", port.default_port())
            }
            (PortKind::TelemetryProtocols, _) => {
                let ports: Vec<Port> = TELEMETRY_PORTS
                    .iter()
                    .flat_map(|(_, ports)| ports.iter().copied())
                    .collect();
                let numbers = |protocol| {
                    let of: Vec<String> = ports
                        .iter()
                        .filter(|p| p.protocol == protocol)
                        .map(|p| p.number.to_string())
                        .collect();
                    of.join(", ")
                };
                format!(
                    "per protocol: {}/TCP; {}/UDP",
                    numbers(Protocol::Tcp),
                    numbers(Protocol::Udp)
                )
            }
            (PortKind::OfPeer, PeerKind::Dns | PeerKind::AppDns) => format!(
                "{}/UDP, {}/TCP (OpenShift: {})",
                DnsProvider::KubeDns.port(),
                DnsProvider::KubeDns.port(),
                DnsProvider::Openshift.port()
            ),
            (PortKind::OfPeer, PeerKind::OneAgentEndpoints | PeerKind::TelemetryExport) => {
                format!("{ACTIVEGATE_HTTPS} (ActiveGate); host port")
            }
            (PortKind::OfPeer, PeerKind::PrometheusExtension) => {
                format!("{EXTENSION_CONTROLLER}; {KUBELET} (kubelet default); any")
            }
            (PortKind::OfPeer, PeerKind::DatabaseExtension) => {
                format!("{EXTENSION_CONTROLLER}; any")
            }
            (PortKind::OfPeer, PeerKind::EdgeConnectTargets | PeerKind::AnnotatedExporters) => {
                "any".into()
            }
            (PortKind::OfPeer, _) => "host port (URL port, default 443)".into(),
        }
    }
}

/// The table as a Markdown table, one line per row (for `docs/traffic-matrix.md`; `cargo xtask docs`).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Row | Also | Component | Direction | Peer | Ports | Switched on by | Proxy (E30) | Zone fallback NONE | Purpose |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for rule in TABLE {
        let components: Vec<&str> = rule.components.iter().map(|c| c.name()).collect();
        let zone = match rule.zone {
            ZoneRoute::Unchanged => "",
            ZoneRoute::ActiveGateOnly => "ActiveGate only",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {zone} | {} |\n",
            rule.id,
            super::rows::joined(rule.also),
            components.join(", "),
            rule.direction.name(),
            rule.peer.describe(),
            rule.ports.describe(rule.peer),
            rule.when.describe(),
            rule.proxy.describe(),
            rule.purpose,
        ));
    }
    out
}
