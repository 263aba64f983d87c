//! The traffic table: one row per row of the Dynatrace network-traffic reference.
//!
//! Ports are pod (target) ports: clients address Services, policies see the port after DNAT.
//! Rows I11 (ActiveGate ingress) and I14 (EEC ingress) are not rows of their own: they are the
//! destination side of E11, E12, E14, E16, E17, E19, E21, E22 and E29, listed in `also`.
//! E30 (proxy) is not a row either: [`build`](super::build) sends the proxied rows to the proxy
//! and adds E30 to their references.

use super::Component::*;
use super::{Component, Condition, Direction, FlowRule, PeerRule, Port, PortRule, Scope};

const fn ingress(
    id: &'static str,
    scope: Scope,
    components: &'static [Component],
    peer: PeerRule,
    ports: PortRule,
    when: Condition,
    purpose: &'static str,
) -> FlowRule {
    FlowRule {
        id,
        also: &[],
        scope,
        components,
        direction: Direction::Ingress,
        peer,
        ports,
        when,
        purpose,
    }
}

const fn egress(
    id: &'static str,
    scope: Scope,
    components: &'static [Component],
    peer: PeerRule,
    ports: PortRule,
    when: Condition,
    purpose: &'static str,
) -> FlowRule {
    FlowRule {
        id,
        also: &[],
        scope,
        components,
        direction: Direction::Egress,
        peer,
        ports,
        when,
        purpose,
    }
}

impl FlowRule {
    /// The same row, implementing the other side's reference rows too.
    const fn also(self, also: &'static [&'static str]) -> Self {
        FlowRule { also, ..self }
    }
}

const TCP_443: PortRule = PortRule::Fixed(&[Port::tcp(443)]);
/// The ActiveGate's HTTPS pod port (Service port 443).
const AG_HTTPS: PortRule = PortRule::Fixed(&[Port::tcp(9999)]);

/// The table. Order is the reference's order, ingress first.
#[rustfmt::skip]
pub static TABLE: &[FlowRule] = &[
    ingress("I1", Scope::Cluster, &[Operator], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(10080)]), Condition::Always,
        "kubelet liveness probe /livez"),
    ingress("I2", Scope::Cluster, &[Operator], PeerRule::Prometheus, PortRule::Fixed(&[Port::tcp(8080)]), Condition::PrometheusConfigured,
        "Prometheus scrapes /metrics"),
    ingress("I3", Scope::Cluster, &[Webhook], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(10080)]), Condition::Always,
        "kubelet probes /livez, /readyz"),
    ingress("I4", Scope::Cluster, &[Webhook], PeerRule::KubeApiServer, PortRule::Fixed(&[Port::tcp(8443)]), Condition::Always,
        "admission (/inject, /label-ns, validation) and CRD conversion calls, Service port 443"),
    // The documentation says 8080; the operator code and Helm chart use 8383, which we follow.
    ingress("I5", Scope::Cluster, &[Webhook], PeerRule::Prometheus, PortRule::Fixed(&[Port::tcp(8383)]), Condition::PrometheusConfigured,
        "Prometheus scrapes /metrics (8383 per code; the documentation says 8080)"),
    ingress("I6", Scope::Cluster, &[CsiDriver], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(9808)]), Condition::Always,
        "kubelet liveness probe /healthz (liveness-probe sidecar)"),
    ingress("I7", Scope::Cluster, &[CsiDriver], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(10090)]), Condition::Always,
        "kubelet liveness probe /livez of the provisioner"),
    ingress("I8", Scope::Cluster, &[CsiDriver], PeerRule::Prometheus, PortRule::Fixed(&[Port::tcp(8080)]), Condition::PrometheusConfigured,
        "Prometheus scrapes the server's /metrics"),
    ingress("I9", Scope::Cluster, &[CsiDriver], PeerRule::Prometheus, PortRule::Fixed(&[Port::tcp(8090)]), Condition::PrometheusConfigured,
        "Prometheus scrapes the provisioner's /metrics"),
    ingress("I10", Scope::DynaKube, &[ActiveGate], PeerRule::Nodes, AG_HTTPS, Condition::Always,
        "kubelet probes /rest/health, /rest/state"),
    // I12: the reference names no client beyond "application pods"; we admit the injected namespaces.
    ingress("I12", Scope::DynaKube, &[ActiveGate], PeerRule::InjectedApps, PortRule::Fixed(&[Port::tcp(9998)]), Condition::NamespacesLabelled,
        "plain-HTTP ingest and API from application pods (Service port 80)"),
    ingress("I13", Scope::DynaKube, &[ExtensionController], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(14599)]), Condition::Always,
        "kubelet readiness probe /readyz"),
    ingress("I15", Scope::DynaKube, &[SqlExecutor], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(8080)]), Condition::Always,
        "kubelet probes /health/live, /health/ready"),
    ingress("I16", Scope::DynaKube, &[OtelCollector], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(13133)]), Condition::TelemetryIngest,
        "kubelet probes (health_check extension)"),
    ingress("I17", Scope::DynaKube, &[OtelCollector], PeerRule::AllPods, PortRule::TelemetryProtocols, Condition::TelemetryIngest,
        "telemetry ingest from application pods of any namespace"),
    egress("E1", Scope::EveryWorkload, &[ Operator, Webhook, CsiDriver, CrdMigration, ActiveGate, OneAgent, LogMonitoring, Kspm, ExtensionController, SqlExecutor, OtelCollector, EdgeConnect, ], PeerRule::Dns, PortRule::OfPeer, Condition::Always,
        "name resolution; the startup probes need it"),
    egress("E2", Scope::DynaKube, &[Operator], PeerRule::DynatraceApi, PortRule::OfPeer, Condition::Always,
        "Dynatrace API: tokens, connection info, settings, image discovery"),
    egress("E3", Scope::Cluster, &[Operator, CrdMigration], PeerRule::KubeApiServer, TCP_443, Condition::Always,
        "lifecycle management, leader election, certificate rotation, CRD migration"),
    egress("E4", Scope::Cluster, &[Webhook], PeerRule::KubeApiServer, TCP_443, Condition::Always,
        "reads DynaKubes and secrets, replicates secrets into application namespaces"),
    egress("E5", Scope::DynaKube, &[CsiDriver], PeerRule::DynatraceApi, PortRule::OfPeer, Condition::CodeModulesDownload,
        "downloads the code-module archive from the tenant"),
    egress("E6", Scope::DynaKube, &[CsiDriver], PeerRule::CodeModulesRegistry, PortRule::OfPeer, Condition::CodeModulesRegistry,
        "pulls the code-modules image"),
    egress("E7", Scope::Cluster, &[CsiDriver], PeerRule::KubeApiServer, TCP_443, Condition::Always,
        "volume handling, reads DynaKubes"),
    egress("E8", Scope::DynaKube, &[ActiveGate], PeerRule::ActiveGateEndpoints, PortRule::OfPeer, Condition::Always,
        "sends observability data upstream to its communication endpoints"),
    egress("E9", Scope::DynaKube, &[ActiveGate], PeerRule::KubeApiServer, TCP_443, Condition::KubernetesMonitoring,
        "Kubernetes API monitoring"),
    egress("E10", Scope::DynaKube, &[ActiveGate], PeerRule::AnnotatedExporters, PortRule::OfPeer, Condition::KubernetesMonitoring,
        "scrapes pods annotated for Prometheus on their exporter ports"),
    egress("E11", Scope::DynaKube, &[OneAgent], PeerRule::OneAgentEndpoints, PortRule::OfPeer, Condition::Always,
        "host agent data to its communication endpoints").also(&["I11"]),
    egress("E12", Scope::DynaKube, &[InjectedApps], PeerRule::OneAgentEndpoints, PortRule::OfPeer, Condition::CodeModulesInjection,
        "code-module data to the OneAgent communication endpoints").also(&["I11"]),
    egress("E13", Scope::DynaKube, &[InjectedApps], PeerRule::DynatraceApi, PortRule::OfPeer, Condition::Bootstrapper,
        "init container downloads code modules at pod start"),
    egress("E14", Scope::DynaKube, &[LogMonitoring], PeerRule::OneAgentEndpoints, PortRule::OfPeer, Condition::Always,
        "log ingest to the OneAgent communication endpoints").also(&["I11"]),
    // The operator does not set the kubelet port; 10250 is the kubelet default (the operator code does not set it).
    egress("E15", Scope::DynaKube, &[LogMonitoring], PeerRule::Nodes, PortRule::Fixed(&[Port::tcp(10250)]), Condition::Always,
        "pod metadata from the kubelet API of its own node (port assumed: kubelet default)"),
    egress("E16", Scope::DynaKube, &[Kspm], PeerRule::Workload(ActiveGate), AG_HTTPS, Condition::Always,
        "node configuration findings to the ActiveGate").also(&["I11"]),
    egress("E17", Scope::DynaKube, &[ExtensionController], PeerRule::Workload(ActiveGate), AG_HTTPS, Condition::Always,
        "extension configuration and telemetry via the ActiveGate").also(&["I11"]),
    egress("E18", Scope::DynaKube, &[ExtensionController], PeerRule::KubeApiServer, TCP_443, Condition::Always,
        "lists and watches pods and services"),
    egress("E19", Scope::DynaKube, &[OtelCollector], PeerRule::TelemetryExport, PortRule::OfPeer, Condition::TelemetryIngest,
        "exports telemetry to the ActiveGate, or to the tenant without one").also(&["I11"]),
    egress("E20", Scope::DynaKube, &[OtelCollector], PeerRule::KubeApiServer, TCP_443, Condition::Always,
        "k8sattributes enrichment"),
    egress("E21", Scope::DynaKube, &[OtelCollector], PeerRule::PrometheusExtension, PortRule::OfPeer, Condition::PrometheusExtensions,
        "pulls its Prometheus configuration from the EEC and scrapes the targets").also(&["I14"]),
    egress("E22", Scope::DynaKube, &[SqlExecutor], PeerRule::DatabaseExtension, PortRule::OfPeer, Condition::Always,
        "datasource data to the EEC; queries the user databases").also(&["I14"]),
    egress("E23", Scope::EdgeConnect, &[EdgeConnect], PeerRule::EdgeConnectApi, PortRule::OfPeer, Condition::Always,
        "the EdgeConnect tunnel (HTTPS and secure WebSocket)"),
    egress("E24", Scope::EdgeConnect, &[EdgeConnect], PeerRule::EdgeConnectOAuth, PortRule::OfPeer, Condition::Always,
        "OAuth client-credentials token"),
    egress("E25", Scope::EdgeConnect, &[EdgeConnect], PeerRule::KubeApiServer, TCP_443, Condition::KubernetesAutomation,
        "Kubernetes automation for workflows"),
    egress("E26", Scope::EdgeConnect, &[EdgeConnect], PeerRule::EdgeConnectTargets, PortRule::OfPeer, Condition::Always,
        "forwards platform requests to internal hosts (hostRestrictions, else hostPatterns)"),
    egress("E27", Scope::EdgeConnect, &[Operator], PeerRule::EdgeConnectProvisioning, PortRule::OfPeer, Condition::Provisioning,
        "creates the EdgeConnect, its OAuth client and the Kubernetes connection setting"),
    egress("E28", Scope::EdgeConnect, &[Operator], PeerRule::EdgeConnectRegistry, PortRule::OfPeer, Condition::DefaultEdgeConnectImage,
        "resolves the EdgeConnect image tag for updates"),
    egress("E29", Scope::DynaKube, &[InjectedApps], PeerRule::TelemetryExport, PortRule::OfPeer, Condition::OtlpExporter,
        "OTLP export of application SDKs").also(&["I11"]),
];
