//! The Dynatrace components, their workloads, and how their pods are found: the labels the
//! operator and its Helm chart put on them, and the ports they listen on.

use std::fmt;

use super::releases::Selector;
use super::{Port, WebhookPort};
use crate::resources::TelemetryProtocol;
use crate::values::Name;

/// A Dynatrace component: a kind of workload the operator or its Helm chart rolls out, or the
/// application pods it injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
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
    /// Application pods whose processes the host agent of a classic full-stack OneAgent
    /// instruments: no workload, but the pods of the cluster profile's
    /// `classicFullStackNamespaces` (or of every namespace), which the operator does not label.
    ClassicApps,
}

/// Which resource a component belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Scope {
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
    pub(crate) const ALL: [Component; 14] = [
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
        Component::ClassicApps,
    ];

    /// A short name for tables and policy names.
    pub(crate) fn name(self) -> &'static str {
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
            Component::ClassicApps => "classic-apps",
        }
    }

    /// Whether the component is application pods (injected, or instrumented by a classic
    /// full-stack OneAgent) rather than a workload the operator or its chart rolls out.
    #[cfg(test)]
    pub(crate) fn applications(self) -> bool {
        matches!(self, Component::InjectedApps | Component::ClassicApps)
    }

    /// Which resource the component belongs to.
    pub(crate) fn scope(self) -> Scope {
        match self {
            Component::Operator
            | Component::Webhook
            | Component::CsiDriver
            | Component::CrdMigration => Scope::Cluster,
            Component::EdgeConnect => Scope::EdgeConnect,
            _ => Scope::DynaKube,
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The ActiveGate's HTTPS pod port (Service port 443): routing, ingest, API.
pub(crate) const ACTIVEGATE_HTTPS: Port = Port::tcp(9999);
/// The ActiveGate's plain-HTTP pod port (Service port 80).
pub(crate) const ACTIVEGATE_HTTP: Port = Port::tcp(9998);
/// The extension execution controller's port (Service port 14599).
pub(crate) const EXTENSION_CONTROLLER: Port = Port::tcp(14599);
/// The kubelet API's port: the kubelet default, since the operator sets none.
pub(crate) const KUBELET: Port = Port::tcp(10250);

/// The operator's metrics port.
pub(crate) const OPERATOR_METRICS: Port = Port::tcp(8080);
/// The operator's health probe port.
pub(crate) const OPERATOR_HEALTH: Port = Port::tcp(10080);

/// The OpenTelemetry collector's pod ports for each telemetry protocol it receives.
pub(crate) const TELEMETRY_PORTS: [(TelemetryProtocol, &[Port]); 4] = [
    (TelemetryProtocol::Otlp, &[Port::tcp(4317), Port::tcp(4318)]),
    (
        TelemetryProtocol::Jaeger,
        &[
            Port::tcp(14250),
            Port::tcp(14268),
            Port::udp(6831),
            Port::udp(6832),
        ],
    ),
    (TelemetryProtocol::Zipkin, &[Port::tcp(9411)]),
    (TelemetryProtocol::Statsd, &[Port::udp(8125)]),
];

/// The OpenTelemetry collector's pod ports that receive `protocol`.
pub(crate) fn telemetry_ports(protocol: TelemetryProtocol) -> &'static [Port] {
    TELEMETRY_PORTS
        .iter()
        .find(|(p, _)| *p == protocol)
        .map_or(&[], |(_, ports)| ports)
}

/// The label the operator puts on every namespace it injects for a DynaKube.
pub(crate) const INSTANCE_NAMESPACE_LABEL: &str = "dynakube.internal.dynatrace.com/instance";

/// One workload: a component of the cluster, of one DynaKube, or of one EdgeConnect, and how
/// its pods are found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Workload {
    /// The component.
    pub component: Component,
    /// The DynaKube or EdgeConnect it belongs to; `None` for cluster components.
    pub instance: Option<Name>,
    /// The namespace of its pods (for injected apps: of the operator).
    pub namespace: Name,
    /// How its pods are found.
    pub selection: Selection,
}

/// How the pods of a workload are found in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Selection {
    /// Pods of the workload's namespace with these labels: they get policies of their own.
    Pods(Selector),
    /// Pods in the host network of their node, found by these labels: namespaced policies
    /// neither select nor restrict them, and others see them as their node's addresses.
    HostNetwork(Selector),
    /// Every pod of the namespaces that carry the label `key=value` (the application pods the
    /// operator injects): outside the operator namespace, so they get no policies here.
    Namespaces {
        /// The namespace label.
        key: &'static str,
        /// Its value.
        value: String,
    },
}

impl Selection {
    /// The pod selector, where pods are found by labels.
    pub(crate) fn pods(&self) -> Option<&Selector> {
        match self {
            Selection::Pods(selector) | Selection::HostNetwork(selector) => Some(selector),
            Selection::Namespaces { .. } => None,
        }
    }
}

impl Workload {
    /// The workload of `component`, for the DynaKube or EdgeConnect `instance`, in
    /// `namespace`, with the labels of today's operator.
    pub(crate) fn new(component: Component, instance: Option<Name>, namespace: Name) -> Self {
        let selection = selection(component, instance.as_ref());
        Workload {
            component,
            instance,
            namespace,
            selection,
        }
    }

    /// The workload's name, as `kubectl get` shows its controller in the newest release
    /// (`<dk>-activegate`, ...; see [`super::releases`]); application pods, which no
    /// controller runs, are `<dk>-injected-apps` and `<dk>-classic-apps`.
    pub(crate) fn name(&self) -> String {
        let instance = self.instance.as_ref().map_or("", Name::as_str);
        super::releases::controller_name(self.component, instance)
            .unwrap_or_else(|| format!("{instance}-{}", self.component.name()))
    }

    /// Whether the workload gets policies of its own: namespaced pods found by labels.
    pub(crate) fn has_policies(&self) -> bool {
        matches!(self.selection, Selection::Pods(_))
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// How the pods of `component` are found: by the labels the operator and its Helm chart put
/// on them in every release (see [`super::releases`]), or by the namespace label of injected
/// application pods.
fn selection(component: Component, instance: Option<&Name>) -> Selection {
    let instance = instance.map_or("", Name::as_str);
    match component {
        // Classic full-stack applications are pods of the cluster profile
        // (`PodsKind::ClassicApps`), never a workload; were one built, it would select the
        // injected namespaces, which classic full-stack mode does not label.
        Component::InjectedApps | Component::ClassicApps => Selection::Namespaces {
            key: INSTANCE_NAMESPACE_LABEL,
            value: instance.to_string(),
        },
        Component::OneAgent => {
            Selection::HostNetwork(super::releases::selector(component, instance))
        }
        _ => Selection::Pods(super::releases::selector(component, instance)),
    }
}

/// The name the operator's manifests give a container port of `component`, where they name it
/// (for clusters that refer to ports by name).
pub(crate) fn port_name(component: Component, port: Port) -> Option<&'static str> {
    Some(match (component, port.number.get()) {
        (Component::Operator, p) if p == OPERATOR_METRICS.number.get() => "metrics",
        (Component::Operator, p) if p == OPERATOR_HEALTH.number.get() => "livez",
        (Component::Webhook, p) => WebhookPort::ALL
            .into_iter()
            .find(|w| w.default_port() == p)?
            .container_port_name(),
        (Component::ActiveGate, p) if p == ACTIVEGATE_HTTPS.number.get() => "https",
        (Component::ActiveGate, p) if p == ACTIVEGATE_HTTP.number.get() => "http",
        (Component::ExtensionController, p) if p == EXTENSION_CONTROLLER.number.get() => {
            "collector-com"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_telemetry_protocol_has_its_ports() {
        for protocol in TelemetryProtocol::ALL {
            assert!(!telemetry_ports(protocol).is_empty(), "{protocol:?}");
        }
        assert_eq!(TELEMETRY_PORTS.len(), TelemetryProtocol::ALL.len());
    }

    #[test]
    fn the_charts_port_names_name_the_default_ports() {
        let webhook = |port: u16| port_name(Component::Webhook, Port::tcp(port));
        assert_eq!(webhook(8443), Some("server-port"));
        assert_eq!(webhook(10080), Some("livez"));
        assert_eq!(webhook(8383), Some("metrics"));
        assert_eq!(webhook(9999), None);
        assert_eq!(
            port_name(Component::Operator, OPERATOR_HEALTH),
            Some("livez")
        );
    }
}
