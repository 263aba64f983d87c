//! The traffic table: one row per row of the Dynatrace network-traffic reference.
//!
//! Ports are pod (target) ports: clients address Services, policies see the port after DNAT.
//! Rows I11 (ActiveGate ingress) and I14 (EEC ingress) are mostly the destination side of E11,
//! E12, E14, E16, E17, E19, E21, E22 and E29, listed in `also`; I11 also has a row of its own for
//! application pods that call the ActiveGate without code modules.
//! E30 (proxy) is not a row either: [`build`](super::build) sends the proxied rows to the proxy
//! and adds E30 to their references.

use super::Component::*;
use super::RowId::*;
use super::components::{
    ACTIVEGATE_HTTP, ACTIVEGATE_HTTPS, EXTENSION_CONTROLLER, KUBELET, OPERATOR_HEALTH,
    OPERATOR_METRICS,
};
use super::{
    Component, Condition, FlowRule, PeerKind, Port, PortKind, ProxyUse, RowId, Scope, WebhookPort,
    ZoneRoute,
};

/// A row that goes direct and is the same in every network zone; the direction follows from
/// the id: `I` rows are ingress, `E` rows egress.
const fn row(
    id: RowId,
    scope: Scope,
    components: &'static [Component],
    peer: PeerKind,
    ports: PortKind,
    when: Condition,
    purpose: &'static str,
) -> FlowRule {
    FlowRule {
        id,
        also: &[],
        scope,
        components,
        direction: id.direction(),
        peer,
        ports,
        when,
        proxy: ProxyUse::Never,
        zone: ZoneRoute::Unchanged,
        purpose,
    }
}

impl FlowRule {
    /// The same row, implementing the other side's reference rows too.
    const fn also(self, also: &'static [RowId]) -> Self {
        FlowRule { also, ..self }
    }

    /// The same row, through a proxy.
    const fn proxy(self, proxy: ProxyUse) -> Self {
        FlowRule { proxy, ..self }
    }

    /// The same row, to the zone's ActiveGates only when the zone's fallback is NONE.
    const fn zone_active_gate_only(self) -> Self {
        FlowRule {
            zone: ZoneRoute::ActiveGateOnly,
            ..self
        }
    }
}

const TCP_443: PortKind = PortKind::Fixed(&[Port::tcp(443)]);
const AG_HTTPS: PortKind = PortKind::Fixed(&[ACTIVEGATE_HTTPS]);

/// The table. Order is the reference's order, ingress first.
#[rustfmt::skip]
pub(crate) static TABLE: &[FlowRule] = &[
    row(I1, Scope::Cluster, &[Operator], PeerKind::Nodes, PortKind::Fixed(&[OPERATOR_HEALTH]), Condition::Always,
        "kubelet liveness probe /livez"),
    row(I2, Scope::Cluster, &[Operator], PeerKind::Prometheus, PortKind::Fixed(&[OPERATOR_METRICS]), Condition::PrometheusConfigured,
        "Prometheus scrapes /metrics"),
    row(I3, Scope::Cluster, &[Webhook], PeerKind::Nodes, PortKind::Webhook(WebhookPort::HealthProbe), Condition::Always,
        "kubelet probes /livez, /readyz"),
    row(I4, Scope::Cluster, &[Webhook], PeerKind::KubeApiServer, PortKind::Webhook(WebhookPort::Server), Condition::Always,
        "admission (/inject, /label-ns, validation) and CRD conversion calls, Service port 443"),
    // The documentation says 8080; the operator code and Helm chart use 8383, which we follow.
    row(I5, Scope::Cluster, &[Webhook], PeerKind::Prometheus, PortKind::Webhook(WebhookPort::Metrics), Condition::PrometheusConfigured,
        "Prometheus scrapes /metrics (8383 per code; the documentation says 8080)"),
    row(I6, Scope::Cluster, &[CsiDriver], PeerKind::Nodes, PortKind::Fixed(&[Port::tcp(9808)]), Condition::Always,
        "kubelet liveness probe /healthz (liveness-probe sidecar)"),
    row(I7, Scope::Cluster, &[CsiDriver], PeerKind::Nodes, PortKind::Fixed(&[Port::tcp(10090)]), Condition::Always,
        "kubelet liveness probe /livez of the provisioner"),
    row(I8, Scope::Cluster, &[CsiDriver], PeerKind::Prometheus, PortKind::Fixed(&[Port::tcp(8080)]), Condition::PrometheusConfigured,
        "Prometheus scrapes the server's /metrics"),
    row(I9, Scope::Cluster, &[CsiDriver], PeerKind::Prometheus, PortKind::Fixed(&[Port::tcp(8090)]), Condition::PrometheusConfigured,
        "Prometheus scrapes the provisioner's /metrics"),
    row(I10, Scope::DynaKube, &[ActiveGate], PeerKind::Nodes, AG_HTTPS, Condition::Always,
        "kubelet probes /rest/health, /rest/state"),
    // I11, I12: the reference names no client beyond "application pods" and "apps using AG
    // APIs"; we admit the namespaces the operator labels for the DynaKube, whatever labels them.
    row(I11, Scope::DynaKube, &[ActiveGate], PeerKind::InjectedApps, AG_HTTPS, Condition::Always,
        "ingest and API calls from application pods (Service port 443)"),
    row(I12, Scope::DynaKube, &[ActiveGate], PeerKind::InjectedApps, PortKind::Fixed(&[ACTIVEGATE_HTTP]), Condition::MetricsIngest,
        "plain-HTTP ingest and API from application pods (Service port 80)"),
    row(I13, Scope::DynaKube, &[ExtensionController], PeerKind::Nodes, PortKind::Fixed(&[EXTENSION_CONTROLLER]), Condition::Always,
        "kubelet readiness probe /readyz"),
    row(I15, Scope::DynaKube, &[SqlExecutor], PeerKind::Nodes, PortKind::Fixed(&[Port::tcp(8080)]), Condition::Always,
        "kubelet probes /health/live, /health/ready"),
    row(I16, Scope::DynaKube, &[OtelCollector], PeerKind::Nodes, PortKind::Fixed(&[Port::tcp(13133)]), Condition::TelemetryIngestProbes,
        "kubelet probes (health_check extension)"),
    row(I17, Scope::DynaKube, &[OtelCollector], PeerKind::AllPods, PortKind::TelemetryProtocols, Condition::TelemetryIngest,
        "telemetry ingest from application pods of any namespace"),
    row(E1, Scope::EveryWorkload, &[ Operator, Webhook, CsiDriver, CrdMigration, ActiveGate, OneAgent, LogMonitoring, Kspm, ExtensionController, SqlExecutor, OtelCollector, EdgeConnect, ], PeerKind::Dns, PortKind::OfPeer, Condition::Always,
        "name resolution; the startup probes need it"),
    // Not a row of the reference, which leaves application pods to the user; Cilium's DNS-aware
    // egress (`toFQDNs`) of those pods needs it, and policies that restrict their egress do too.
    // Classic full-stack applications run code modules as injected ones do.
    row(E1, Scope::DynaKube, &[InjectedApps, ClassicApps], PeerKind::AppDns, PortKind::OfPeer, Condition::Always,
        "name resolution of application pods, their own names and the Dynatrace endpoints"),
    row(E2, Scope::DynaKube, &[Operator], PeerKind::DynatraceApi, PortKind::OfPeer, Condition::Always,
        "Dynatrace API: tokens, connection info, settings, image discovery").proxy(ProxyUse::DynaKube),
    row(E3, Scope::Cluster, &[Operator, CrdMigration], PeerKind::KubeApiServer, TCP_443, Condition::Always,
        "lifecycle management, leader election, certificate rotation, CRD migration"),
    row(E4, Scope::Cluster, &[Webhook], PeerKind::KubeApiServer, TCP_443, Condition::Always,
        "reads DynaKubes and secrets, replicates secrets into application namespaces"),
    row(E5, Scope::DynaKube, &[CsiDriver], PeerKind::DynatraceApi, PortKind::OfPeer, Condition::CodeModulesDownload,
        "downloads the code-module archive from the tenant").proxy(ProxyUse::DynaKube),
    row(E6, Scope::DynaKube, &[CsiDriver], PeerKind::CodeModulesRegistry, PortKind::OfPeer, Condition::CodeModulesRegistry,
        "pulls the code-modules image").proxy(ProxyUse::DynaKube),
    row(E7, Scope::Cluster, &[CsiDriver], PeerKind::KubeApiServer, TCP_443, Condition::Always,
        "volume handling, reads DynaKubes"),
    row(E8, Scope::DynaKube, &[ActiveGate], PeerKind::ActiveGateEndpoints, PortKind::OfPeer, Condition::Always,
        "sends observability data upstream to its communication endpoints").proxy(ProxyUse::DynaKubeUnlessActiveGateIgnores),
    row(E9, Scope::DynaKube, &[ActiveGate], PeerKind::KubeApiServer, TCP_443, Condition::KubernetesMonitoring,
        "Kubernetes API monitoring"),
    row(E10, Scope::DynaKube, &[ActiveGate], PeerKind::AnnotatedExporters, PortKind::OfPeer, Condition::KubernetesMonitoring,
        "scrapes pods annotated for Prometheus on their exporter ports"),
    row(E11, Scope::DynaKube, &[OneAgent], PeerKind::OneAgentEndpoints, PortKind::OfPeer, Condition::Always,
        "host agent data to its communication endpoints").also(&[I11]).proxy(ProxyUse::DynaKubeUnlessOneAgentIgnores).zone_active_gate_only(),
    row(E12, Scope::DynaKube, &[InjectedApps], PeerKind::OneAgentEndpoints, PortKind::OfPeer, Condition::CodeModulesInjection,
        "code-module data to the OneAgent communication endpoints").also(&[I11]).proxy(ProxyUse::DynaKubeUnlessOneAgentIgnores).zone_active_gate_only(),
    // The download gets the proxy only when `NeedsOneAgentProxy()` (`!OneAgentIgnoresProxy() &&
    // HasProxy()`, v1.10.2 `pkg/api/latest/dynakube/proxy.go`): in `prepareDownloadConfig` of
    // `pkg/injection/namespace/bootstrapperconfig/bootstrapperconfig.go` from v1.7.0 to v1.10.2,
    // and in `createSecretConfigForDynaKube` of
    // `pkg/injection/namespace/initgeneration/initgeneration.go` (the init container's
    // `startup.SecretConfig.Proxy`) from v1.4.0 to v1.6.3. So `oneagent-ignore-proxy` sends it
    // direct in every release this tool knows.
    // Classic full stack: the host agent loads the code modules into the processes of the
    // application pods and gives them its communication endpoints, proxy (`--set-proxy` only
    // when `NeedsOneAgentProxy()`) and network zone (`--set-network-zone`): `arguments.go` in
    // `pkg/controllers/dynakube/oneagent/daemonset/`, v1.4.0 to v1.10.2. The pods are those of
    // the profile's `classicFullStackNamespaces` (`ClassicApps`).
    row(E12, Scope::DynaKube, &[ClassicApps], PeerKind::OneAgentEndpoints, PortKind::OfPeer, Condition::ClassicFullStack,
        "code-module data to the OneAgent communication endpoints").also(&[I11]).proxy(ProxyUse::DynaKubeUnlessOneAgentIgnores).zone_active_gate_only(),
    row(E13, Scope::DynaKube, &[InjectedApps], PeerKind::DynatraceApi, PortKind::OfPeer, Condition::Bootstrapper,
        "init container downloads code modules at pod start").proxy(ProxyUse::DynaKubeUnlessOneAgentIgnores),
    row(E14, Scope::DynaKube, &[LogMonitoring], PeerKind::OneAgentEndpoints, PortKind::OfPeer, Condition::Always,
        "log ingest to the OneAgent communication endpoints").also(&[I11]).proxy(ProxyUse::DynaKube).zone_active_gate_only(),
    // The operator does not set the kubelet port; 10250 is the kubelet default.
    row(E15, Scope::DynaKube, &[LogMonitoring], PeerKind::Nodes, PortKind::Fixed(&[KUBELET]), Condition::Always,
        "pod metadata from the kubelet API of its own node (port assumed: kubelet default)"),
    row(E16, Scope::DynaKube, &[Kspm], PeerKind::Workload(ActiveGate), AG_HTTPS, Condition::Always,
        "node configuration findings to the ActiveGate").also(&[I11]),
    row(E17, Scope::DynaKube, &[ExtensionController], PeerKind::Workload(ActiveGate), AG_HTTPS, Condition::Always,
        "extension configuration and telemetry via the ActiveGate").also(&[I11]),
    row(E18, Scope::DynaKube, &[ExtensionController], PeerKind::KubeApiServer, TCP_443, Condition::Always,
        "lists and watches pods and services"),
    row(E19, Scope::DynaKube, &[OtelCollector], PeerKind::TelemetryExport, PortKind::OfPeer, Condition::TelemetryIngest,
        "exports telemetry to the ActiveGate, or to the tenant without one").also(&[I11]).proxy(ProxyUse::DynaKube),
    row(E20, Scope::DynaKube, &[OtelCollector], PeerKind::KubeApiServer, TCP_443, Condition::Always,
        "k8sattributes enrichment"),
    // The kubelets of every node are targets too: see `PeerKind::PrometheusExtension`.
    row(E21, Scope::DynaKube, &[OtelCollector], PeerKind::PrometheusExtension, PortKind::OfPeer, Condition::PrometheusExtensions,
        "pulls its Prometheus configuration from the EEC and scrapes the targets").also(&[I14]),
    row(E22, Scope::DynaKube, &[SqlExecutor], PeerKind::DatabaseExtension, PortKind::OfPeer, Condition::Always,
        "datasource data to the EEC; queries the user databases").also(&[I14]),
    row(E23, Scope::EdgeConnect, &[EdgeConnect], PeerKind::EdgeConnectApi, PortKind::OfPeer, Condition::Always,
        "the EdgeConnect tunnel (HTTPS and secure WebSocket)").proxy(ProxyUse::EdgeConnect),
    row(E24, Scope::EdgeConnect, &[EdgeConnect], PeerKind::EdgeConnectOAuth, PortKind::OfPeer, Condition::Always,
        "OAuth client-credentials token").proxy(ProxyUse::EdgeConnect),
    row(E25, Scope::EdgeConnect, &[EdgeConnect], PeerKind::KubeApiServer, TCP_443, Condition::KubernetesAutomation,
        "Kubernetes automation for workflows"),
    row(E26, Scope::EdgeConnect, &[EdgeConnect], PeerKind::EdgeConnectTargets, PortKind::OfPeer, Condition::Always,
        "forwards platform requests to internal hosts (hostRestrictions, else hostPatterns)"),
    row(E27, Scope::EdgeConnect, &[Operator], PeerKind::EdgeConnectProvisioning, PortKind::OfPeer, Condition::Provisioning,
        "creates the EdgeConnect, its OAuth client and the Kubernetes connection setting"),
    row(E28, Scope::EdgeConnect, &[Operator], PeerKind::EdgeConnectRegistry, PortKind::OfPeer, Condition::DefaultEdgeConnectImage,
        "resolves the EdgeConnect image tag for updates"),
    row(E29, Scope::DynaKube, &[InjectedApps], PeerKind::TelemetryExport, PortKind::OfPeer, Condition::OtlpExporter,
        "OTLP export of application SDKs").also(&[I11]),
];
