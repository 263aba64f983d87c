//! From resources and cluster profile to the active flows: a pure function.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Component, Condition, Direction, Endpoint, Flow, FlowRule, HostRole, Level, Matrix, Note,
    Options, PeerRule, Port, PortRule, Ports, Scope, TABLE, Workload, ZoneFallback, host_endpoint,
};
use crate::cluster::{ClusterProfile, DnsProvider};
use crate::error::{Error, Location, Result};
use crate::model::{
    Capability, DynaKube, EdgeConnect, Inputs, Proxy, Registry, ResourceRef, TelemetryProtocol,
};
use crate::values::{HostPort, Name};

/// The registry the public code-modules image is served from, unless `publicRegistryOverride`
/// names another. The operator learns the exact image from the tenant at runtime; this default
/// is the documented public repository.
const PUBLIC_REGISTRY: &str = "public.ecr.aws";

/// Builds the matrix of `inputs` in the cluster described by `profile`.
///
/// Fails when the resources live in different namespaces, or in another namespace than the
/// profile's: the operator only manages resources of its own namespace.
///
/// With [`ZoneFallback::None`], every DynaKube with a `networkZone` must have an ActiveGate with
/// `routing`: its OneAgents have no other endpoint.
pub fn build(inputs: &Inputs, profile: &ClusterProfile, options: &Options) -> Result<Matrix> {
    let namespace = namespace(inputs, profile)?;
    unique_resources(inputs, &namespace)?;
    if options.zone_fallback == ZoneFallback::None {
        for dk in &inputs.dynakubes {
            if dk.network_zone.is_some() && !dk.has_capability(Capability::Routing) {
                return Err(Error::invalid(
                    dk.origin.join("spec.activeGate.capabilities"),
                    format!(
                        "network zone fallback NONE leaves the OneAgents of DynaKube {} no endpoint: add the `routing` capability",
                        dk.name
                    ),
                ));
            }
        }
    }
    let mut builder = Builder {
        options,
        profile,
        namespace: namespace.clone(),
        flows: BTreeMap::new(),
        notes: BTreeSet::new(),
    };
    let cluster = Context {
        dynakube: None,
        edgeconnect: None,
    };
    builder.rows(Scope::Cluster, &cluster);
    for dynakube in &inputs.dynakubes {
        builder.rows(
            Scope::DynaKube,
            &Context {
                dynakube: Some(dynakube),
                edgeconnect: None,
            },
        );
        builder.dynakube_notes(dynakube);
    }
    for edgeconnect in &inputs.edgeconnects {
        builder.rows(
            Scope::EdgeConnect,
            &Context {
                dynakube: None,
                edgeconnect: Some(edgeconnect),
            },
        );
    }
    builder.dns_rows(inputs);
    builder.profile_notes();

    let order = |f: &Flow| {
        TABLE
            .iter()
            .position(|r| r.id == f.id)
            .unwrap_or(usize::MAX)
    };
    let mut flows: Vec<Flow> = builder
        .flows
        .into_iter()
        .map(|((id, from, to, ports), (refs, sources))| Flow {
            id,
            from,
            to,
            ports,
            refs,
            sources,
        })
        .collect();
    flows.sort_by(|a, b| order(a).cmp(&order(b)).then_with(|| a.cmp(b)));
    unique_workloads(inputs, &flows)?;
    Ok(Matrix {
        namespace,
        flows,
        notes: builder.notes.into_iter().collect(),
        profile: profile.clone(),
    })
}

/// The operator namespace: the profile's, else the one all resources share, else `dynatrace`.
fn namespace(inputs: &Inputs, profile: &ClusterProfile) -> Result<Name> {
    let resources = inputs
        .dynakubes
        .iter()
        .map(|d| (&d.namespace, &d.origin))
        .chain(
            inputs
                .edgeconnects
                .iter()
                .map(|e| (&e.namespace, &e.origin)),
        );
    let mut chosen: Option<(Name, String)> = profile
        .namespace
        .clone()
        .map(|ns| (ns, "the cluster profile".into()));
    for (ns, origin) in resources {
        let Some(ns) = ns else { continue };
        match &chosen {
            None => chosen = Some((ns.clone(), origin.origin())),
            Some((expected, from)) if expected != ns => {
                return Err(Error::invalid(
                    origin.join("metadata.namespace"),
                    format!(
                        "`{ns}` differs from `{expected}` ({from}); the operator manages only resources in its own namespace"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(chosen.map_or_else(
        || Name::parse("dynatrace").expect("a valid constant name"),
        |(ns, _)| ns,
    ))
}

/// Fails when two resources are the same object: same kind and name in the operator
/// namespace. The API server would keep only one of them, so the policies of either would be
/// wrong.
fn unique_resources(inputs: &Inputs, namespace: &Name) -> Result<()> {
    let mut seen: BTreeMap<ResourceRef, &Location> = BTreeMap::new();
    let resources = inputs
        .dynakubes
        .iter()
        .map(|d| (d.resource(), &d.origin))
        .chain(
            inputs
                .edgeconnects
                .iter()
                .map(|e| (e.resource(), &e.origin)),
        );
    for (mut resource, origin) in resources {
        resource.namespace = Some(namespace.clone());
        if let Some(first) = seen.get(&resource) {
            return Err(Error::invalid(
                origin.join("metadata.name"),
                format!(
                    "{resource} appears twice: here and in {}; the cluster holds one object per kind, namespace and name",
                    first.origin()
                ),
            ));
        }
        seen.insert(resource, origin);
    }
    Ok(())
}

/// Fails when two workloads would have the same name, such as an EdgeConnect named
/// `dk-activegate` beside the ActiveGate of DynaKube `dk`: their policies would have the same
/// names and one would overwrite the other.
fn unique_workloads(inputs: &Inputs, flows: &[Flow]) -> Result<()> {
    let origin_of = |workload: &Workload| -> Option<&Location> {
        let instance = workload.instance.as_ref()?;
        match workload.component.scope() {
            Scope::EdgeConnect => inputs
                .edgeconnects
                .iter()
                .find(|e| &e.name == instance)
                .map(|e| &e.origin),
            _ => inputs
                .dynakubes
                .iter()
                .find(|d| &d.name == instance)
                .map(|d| &d.origin),
        }
    };
    let describe = |workload: &Workload| -> String {
        let owner = match (workload.component.scope(), &workload.instance) {
            (Scope::EdgeConnect, Some(name)) => format!("EdgeConnect {name}"),
            (_, Some(name)) => format!("the {} of DynaKube {name}", workload.component),
            (_, None) => format!("the cluster's {}", workload.component),
        };
        match origin_of(workload) {
            Some(origin) => format!("{owner} ({})", origin.origin()),
            None => owner,
        }
    };
    let mut seen: BTreeMap<String, &Workload> = BTreeMap::new();
    let workloads = flows
        .iter()
        .flat_map(|f| [&f.from, &f.to])
        .filter_map(Endpoint::workload);
    for workload in workloads {
        match seen.get(&workload.name()) {
            Some(&other) if other != workload => {
                let at = origin_of(workload)
                    .or_else(|| origin_of(other))
                    .map_or_else(|| Location::new("", None, ""), |l| l.join("metadata.name"));
                return Err(Error::invalid(
                    at,
                    format!(
                        "{} and {} would both be named `{}`, so their policies would collide; rename one of them",
                        describe(other),
                        describe(workload),
                        workload.name()
                    ),
                ));
            }
            Some(_) => {}
            None => {
                seen.insert(workload.name(), workload);
            }
        }
    }
    Ok(())
}

/// The resource a row is evaluated for.
struct Context<'a> {
    dynakube: Option<&'a DynaKube>,
    edgeconnect: Option<&'a EdgeConnect>,
}

type FlowKey = (&'static str, Endpoint, Endpoint, Ports);

/// The references and source resources of a flow.
type FlowRefs = (BTreeSet<&'static str>, BTreeSet<ResourceRef>);

struct Builder<'a> {
    options: &'a Options,
    profile: &'a ClusterProfile,
    namespace: Name,
    /// Flows by identity, with the union of their references and sources.
    flows: BTreeMap<FlowKey, FlowRefs>,
    notes: BTreeSet<Note>,
}

/// One peer of a row, made concrete: the endpoint, its ports, and extra references (E30).
struct Peer {
    endpoint: Endpoint,
    ports: Ports,
    refs: &'static [&'static str],
}

impl Peer {
    fn plain((endpoint, ports): (Endpoint, Ports)) -> Self {
        Peer {
            endpoint,
            ports,
            refs: &[],
        }
    }
}

impl Builder<'_> {
    /// Whether the DynaKube's OneAgents reach only the in-cluster ActiveGate.
    fn restricted(&self, dk: &DynaKube) -> bool {
        self.options.zone_fallback == ZoneFallback::None && dk.network_zone.is_some()
    }

    fn workload(&self, component: Component, ctx: &Context<'_>) -> Workload {
        let instance = match component.scope() {
            Scope::Cluster | Scope::EveryWorkload => None,
            Scope::DynaKube => ctx.dynakube.map(|d| d.name.clone()),
            Scope::EdgeConnect => ctx.edgeconnect.map(|e| e.name.clone()),
        };
        Workload {
            component,
            instance,
            namespace: self.namespace.clone(),
        }
    }

    /// Whether `component` runs, given the resource of the context.
    fn runs(&self, component: Component, ctx: &Context<'_>) -> bool {
        let dk = ctx.dynakube;
        match component {
            Component::Operator | Component::Webhook | Component::CrdMigration => true,
            Component::CsiDriver => self.profile.csi_driver,
            Component::EdgeConnect => ctx.edgeconnect.is_some(),
            Component::ActiveGate => dk.is_some_and(DynaKube::active_gate_enabled),
            Component::OneAgent => dk
                .and_then(DynaKube::mode)
                .is_some_and(|m| m.has_daemonset()),
            Component::LogMonitoring => {
                dk.is_some_and(|d| d.log_monitoring && !d.mode().is_some_and(|m| m.has_daemonset()))
            }
            Component::Kspm => dk.is_some_and(|d| d.kspm),
            Component::ExtensionController => dk.is_some_and(|d| d.extensions.enabled()),
            Component::SqlExecutor => dk.is_some_and(|d| !d.extensions.databases.is_empty()),
            Component::OtelCollector => {
                dk.is_some_and(|d| d.telemetry_ingest.is_some() || d.extensions.prometheus)
            }
            Component::InjectedApps => dk.is_some_and(DynaKube::labels_namespaces),
        }
    }

    fn holds(&self, condition: Condition, ctx: &Context<'_>) -> bool {
        let dk = ctx.dynakube;
        let ec = ctx.edgeconnect;
        let injects = dk
            .and_then(DynaKube::mode)
            .is_some_and(|m| m.injects_code_modules());
        match condition {
            Condition::Always => true,
            Condition::PrometheusConfigured => self.profile.prometheus.is_some(),
            Condition::CodeModulesDownload => {
                injects
                    && dk.is_some_and(|d| {
                        !d.code_modules_from_registry() && !d.feature_flags.node_image_pull
                    })
            }
            Condition::CodeModulesRegistry => {
                injects
                    && dk.is_some_and(|d| {
                        d.code_modules_from_registry() && !d.feature_flags.node_image_pull
                    })
            }
            Condition::KubernetesMonitoring => {
                dk.is_some_and(|d| d.has_capability(Capability::KubernetesMonitoring))
            }
            Condition::CodeModulesInjection => injects,
            Condition::Bootstrapper => {
                injects
                    && !self.profile.csi_driver
                    && dk.is_some_and(|d| !d.code_modules_from_registry())
            }
            Condition::TelemetryIngest => dk.is_some_and(|d| d.telemetry_ingest.is_some()),
            Condition::PrometheusExtensions => dk.is_some_and(|d| d.extensions.prometheus),
            Condition::OtlpExporter => dk.is_some_and(|d| d.otlp_exporter),
            Condition::KubernetesAutomation => ec.is_some_and(|e| e.kubernetes_automation),
            Condition::Provisioning => ec.is_some_and(|e| e.provisioner || e.kubernetes_automation),
            Condition::DefaultEdgeConnectImage => ec.is_some_and(|e| e.image.is_none()),
        }
    }

    fn rows(&mut self, scope: Scope, ctx: &Context<'_>) {
        for rule in TABLE.iter().filter(|r| r.scope == scope) {
            if !self.holds(rule.when, ctx) {
                continue;
            }
            for &component in rule.components {
                if self.runs(component, ctx) {
                    let workload = self.workload(component, ctx);
                    self.add(rule, &workload, ctx);
                }
            }
        }
    }

    /// E1 for every workload that runs, whatever resource it belongs to.
    fn dns_rows(&mut self, inputs: &Inputs) {
        let rule = TABLE
            .iter()
            .find(|r| r.scope == Scope::EveryWorkload)
            .expect("the DNS row");
        let mut contexts = vec![Context {
            dynakube: None,
            edgeconnect: None,
        }];
        contexts.extend(inputs.dynakubes.iter().map(|d| Context {
            dynakube: Some(d),
            edgeconnect: None,
        }));
        contexts.extend(inputs.edgeconnects.iter().map(|e| Context {
            dynakube: None,
            edgeconnect: Some(e),
        }));
        for ctx in &contexts {
            for &component in rule.components {
                let belongs = match component.scope() {
                    Scope::Cluster => ctx.dynakube.is_none() && ctx.edgeconnect.is_none(),
                    Scope::DynaKube => ctx.dynakube.is_some(),
                    Scope::EdgeConnect => ctx.edgeconnect.is_some(),
                    Scope::EveryWorkload => false,
                };
                if belongs && self.runs(component, ctx) {
                    let workload = self.workload(component, ctx);
                    self.add(rule, &workload, ctx);
                }
            }
        }
    }

    fn add(&mut self, rule: &'static FlowRule, workload: &Workload, ctx: &Context<'_>) {
        for peer in self.peers(rule, ctx) {
            let ports = match rule.ports {
                PortRule::Fixed(ports) => Ports::list(ports.iter().copied()),
                PortRule::OfPeer => peer.ports,
                PortRule::TelemetryProtocols => telemetry_ports(ctx.dynakube),
            };
            let me = Endpoint::Workload(workload.clone());
            let (from, to) = match rule.direction {
                Direction::Ingress => (peer.endpoint, me),
                Direction::Egress => (me, peer.endpoint),
            };
            let (refs, sources) = self.flows.entry((rule.id, from, to, ports)).or_default();
            refs.insert(rule.id);
            refs.extend(rule.also.iter().copied());
            refs.extend(peer.refs.iter().copied());
            let source = ctx
                .dynakube
                .map(DynaKube::resource)
                .or_else(|| ctx.edgeconnect.map(EdgeConnect::resource));
            sources.extend(source);
        }
    }

    /// The concrete peers of a row in a context.
    fn peers(&mut self, rule: &'static FlowRule, ctx: &Context<'_>) -> Vec<Peer> {
        let dk = ctx.dynakube;
        let ec = ctx.edgeconnect;
        let no_ports = || Ports::List(BTreeSet::new());
        match rule.peer {
            PeerRule::Nodes => vec![Peer::plain((Endpoint::Nodes, no_ports()))],
            PeerRule::KubeApiServer => vec![Peer::plain((Endpoint::KubeApiServer, no_ports()))],
            PeerRule::Prometheus => vec![Peer::plain((Endpoint::Prometheus, no_ports()))],
            PeerRule::AllPods => vec![Peer::plain((Endpoint::AllPods, no_ports()))],
            PeerRule::Dns => {
                let port = match self.profile.dns.provider {
                    DnsProvider::Openshift => 5353,
                    DnsProvider::KubeDns | DnsProvider::NodeLocal => 53,
                };
                vec![Peer::plain((
                    Endpoint::Dns,
                    Ports::list([Port::udp(port), Port::tcp(port)]),
                ))]
            }
            PeerRule::Workload(component) => {
                vec![Peer::plain((
                    Endpoint::Workload(self.workload(component, ctx)),
                    no_ports(),
                ))]
            }
            PeerRule::InjectedApps => {
                vec![Peer::plain((
                    Endpoint::Workload(self.workload(Component::InjectedApps, ctx)),
                    no_ports(),
                ))]
            }
            PeerRule::DynatraceApi => {
                let dk = dk.expect("DynaKube rows have a DynaKube");
                vec![proxied(
                    dk.proxy.as_ref(),
                    &dk.api_url.api,
                    HostRole::DynatraceApi,
                )]
            }
            PeerRule::ActiveGateEndpoints => {
                let dk = dk.expect("DynaKube rows have a DynaKube");
                let proxy = dk
                    .proxy
                    .as_ref()
                    .filter(|_| !dk.feature_flags.activegate_ignore_proxy);
                vec![proxied(
                    proxy,
                    &dk.api_url.api,
                    HostRole::CommunicationEndpoint,
                )]
            }
            PeerRule::OneAgentEndpoints => {
                let dk = dk.expect("DynaKube rows have a DynaKube");
                let mut peers = Vec::new();
                if dk.active_gate_enabled() && dk.has_capability(Capability::Routing) {
                    let ag = self.workload(Component::ActiveGate, ctx);
                    peers.push(Peer::plain((
                        Endpoint::Workload(ag),
                        Ports::list([Port::tcp(9999)]),
                    )));
                }
                if self.restricted(dk) {
                    return peers;
                }
                let ignore = rule.components.contains(&Component::OneAgent)
                    || rule.components.contains(&Component::InjectedApps);
                let proxy = dk
                    .proxy
                    .as_ref()
                    .filter(|_| !(ignore && dk.feature_flags.oneagent_ignore_proxy));
                peers.push(proxied(
                    proxy,
                    &dk.api_url.api,
                    HostRole::CommunicationEndpoint,
                ));
                peers
            }
            PeerRule::CodeModulesRegistry => {
                let dk = dk.expect("DynaKube rows have a DynaKube");
                let image = dk
                    .one_agent
                    .as_ref()
                    .and_then(|o| o.code_modules_image.as_ref());
                let hosts = match (image, &dk.public_registry_override) {
                    (Some(image), _) => image.registry.hosts(),
                    (None, Some(registry)) => registry.hosts(),
                    (None, None) => Registry::parse(PUBLIC_REGISTRY)
                        .map(|r| r.hosts())
                        .unwrap_or_default(),
                };
                hosts
                    .iter()
                    .map(|h| proxied(dk.proxy.as_ref(), h, HostRole::Registry))
                    .collect()
            }
            PeerRule::TelemetryExport => {
                let dk = dk.expect("DynaKube rows have a DynaKube");
                if dk.active_gate_enabled() {
                    let ag = self.workload(Component::ActiveGate, ctx);
                    vec![Peer::plain((
                        Endpoint::Workload(ag),
                        Ports::list([Port::tcp(9999)]),
                    ))]
                } else {
                    // Application SDKs (E29) are not configured with the proxy; the collector is.
                    let proxy = dk
                        .proxy
                        .as_ref()
                        .filter(|_| rule.components.contains(&Component::OtelCollector));
                    vec![proxied(proxy, &dk.api_url.api, HostRole::DynatraceApi)]
                }
            }
            PeerRule::PrometheusExtension => vec![
                Peer::plain((
                    Endpoint::Workload(self.workload(Component::ExtensionController, ctx)),
                    Ports::list([Port::tcp(14599)]),
                )),
                Peer::plain((Endpoint::Unbounded("Prometheus scrape targets"), Ports::Any)),
            ],
            PeerRule::DatabaseExtension => vec![
                Peer::plain((
                    Endpoint::Workload(self.workload(Component::ExtensionController, ctx)),
                    Ports::list([Port::tcp(14599)]),
                )),
                Peer::plain((Endpoint::Unbounded("user databases"), Ports::Any)),
            ],
            PeerRule::AnnotatedExporters => {
                vec![Peer::plain((
                    Endpoint::Unbounded("pods annotated for Prometheus scraping"),
                    Ports::Any,
                ))]
            }
            PeerRule::EdgeConnectApi => {
                let ec = ec.expect("EdgeConnect rows have an EdgeConnect");
                vec![proxied(
                    ec.proxy.as_ref(),
                    &ec.api_server,
                    HostRole::EdgeConnectApi,
                )]
            }
            PeerRule::EdgeConnectOAuth => {
                let ec = ec.expect("EdgeConnect rows have an EdgeConnect");
                vec![proxied(
                    ec.proxy.as_ref(),
                    &ec.oauth_endpoint,
                    HostRole::OAuth,
                )]
            }
            // The operator's own EdgeConnect calls use its pod's environment, not the EdgeConnect
            // proxy (inferred from the operator code; unverified at runtime).
            PeerRule::EdgeConnectProvisioning => {
                let ec = ec.expect("EdgeConnect rows have an EdgeConnect");
                vec![
                    Peer::plain(host_endpoint(&ec.oauth_endpoint, HostRole::OAuth)),
                    Peer::plain(host_endpoint(&ec.api_server, HostRole::EdgeConnectApi)),
                ]
            }
            PeerRule::EdgeConnectRegistry => Registry::DockerHub
                .hosts()
                .iter()
                .map(|h| Peer::plain(host_endpoint(h, HostRole::Registry)))
                .collect(),
            PeerRule::EdgeConnectTargets => {
                let ec = ec.expect("EdgeConnect rows have an EdgeConnect");
                // Restrictions narrow what the patterns allow; without either, the hosts are
                // configured in Dynatrace and unknown here.
                let hosts = if ec.host_restrictions.is_empty() {
                    &ec.host_patterns
                } else {
                    &ec.host_restrictions
                };
                if hosts.is_empty() {
                    return vec![Peer::plain((
                        Endpoint::Unbounded("hosts configured for the EdgeConnect in Dynatrace"),
                        Ports::Any,
                    ))];
                }
                hosts
                    .iter()
                    .map(|p| Peer::plain((Endpoint::HostPattern(p.clone()), Ports::Any)))
                    .collect()
            }
        }
    }

    fn dynakube_notes(&mut self, dk: &DynaKube) {
        let name = &dk.name;
        let api = &dk.api_url.api;
        let daemonset = dk.mode().is_some_and(|m| m.has_daemonset());
        let mut endpoint_rows = Vec::new();
        for (row, used) in [
            ("E8", dk.active_gate_enabled()),
            ("E11", daemonset && !self.restricted(dk)),
            (
                "E12",
                dk.mode().is_some_and(|m| m.injects_code_modules()) && !self.restricted(dk),
            ),
            (
                "E14",
                dk.log_monitoring && !daemonset && !self.restricted(dk),
            ),
        ] {
            if used {
                endpoint_rows.push(row);
            }
        }
        if !endpoint_rows.is_empty() {
            self.notes.insert(Note::new(
                Level::Info,
                &endpoint_rows,
                format!(
                    "DynaKube {name}: communication endpoints are learnt from the tenant at runtime; without them the policies assume {api} (the apiUrl host and port, where a SaaS tenant serves them)"
                ),
            ));
        }
        for field in &dk.ignored_fields {
            self.notes.insert(Note::new(
                Level::Warning,
                &[],
                format!(
                    "DynaKube {name}: `{field}` does not exist in {} and is ignored, as the API server would drop it",
                    dk.version.api_version()
                ),
            ));
        }
        match (&dk.network_zone, self.options.zone_fallback) {
            (Some(zone), ZoneFallback::None) => {
                let daemonset = dk.mode().is_some_and(|m| m.has_daemonset());
                let rows: Vec<&'static str> = [
                    ("E11", daemonset),
                    ("E12", dk.mode().is_some_and(|m| m.injects_code_modules())),
                    ("E14", dk.log_monitoring && !daemonset),
                ]
                .into_iter()
                .filter_map(|(row, used)| used.then_some(row))
                .collect();
                self.notes.insert(Note::new(
                    Level::Info,
                    &rows,
                    format!(
                        "DynaKube {name}: network zone `{zone}` with fallback NONE: OneAgents, code modules and log monitoring reach the in-cluster ActiveGate only; the zone must exist in the tenant with that fallback"
                    ),
                ));
            }
            (Some(zone), _) => {
                self.notes.insert(Note::new(
                    Level::Info,
                    &["E8", "E11", "E12", "E14"],
                    format!(
                        "DynaKube {name}: network zone `{zone}` can route OneAgents to other ActiveGates; unless the zone's fallback is NONE they may also use tenant endpoints"
                    ),
                ));
            }
            (None, ZoneFallback::None) => {
                self.notes.insert(Note::new(
                    Level::Warning,
                    &[],
                    format!("DynaKube {name} has no networkZone: the zone fallback NONE does not apply to it"),
                ));
            }
            (None, _) => {}
        }
        if dk.kspm && !dk.has_capability(Capability::KubernetesMonitoring) {
            self.notes.insert(Note::new(
                Level::Warning,
                &["E16"],
                format!("DynaKube {name}: kspm needs an ActiveGate with kubernetes-monitoring, which this DynaKube lacks"),
            ));
        }
        if dk.has_capability(Capability::KubernetesMonitoring) {
            self.notes.insert(Note::new(
                Level::Info,
                &["E9"],
                format!(
                    "DynaKube {name}: the ActiveGate may read node metrics from the kubelet (10250) directly instead of through kube-apiserver; no source settles this, so only kube-apiserver is allowed"
                ),
            ));
        }
        if self.holds(
            Condition::CodeModulesRegistry,
            &Context {
                dynakube: Some(dk),
                edgeconnect: None,
            },
        ) {
            self.notes.insert(Note::new(
                Level::Info,
                &["E6"],
                format!(
                    "DynaKube {name}: registries may redirect layer downloads to CDN hosts that no source names; add them if pulls fail"
                ),
            ));
        }
        if dk.feature_flags.node_image_pull || dk.mode().is_some() || dk.active_gate_enabled() {
            self.notes.insert(Note::new(
                Level::Info,
                &[],
                "image pulls are made by the kubelet and container runtime on the node, not by pods; namespaced policies do not govern them",
            ));
        }
        if dk.enable_istio {
            self.notes.insert(Note::new(
                Level::Info,
                &[],
                format!(
                    "DynaKube {name}: enableIstio makes the operator create ServiceEntries and VirtualServices for the same external hosts; sidecars then send this traffic through the mesh"
                ),
            ));
        }
        if dk.feature_flags.activegate_ignore_proxy || dk.feature_flags.oneagent_ignore_proxy {
            self.notes.insert(Note::new(
                Level::Info,
                &["E30"],
                format!("DynaKube {name}: deprecated *-ignore-proxy feature flags send those components direct"),
            ));
        }
    }

    fn profile_notes(&mut self) {
        if self.profile.prometheus.is_none() {
            self.notes.insert(Note::new(
                Level::Info,
                &["I2", "I5", "I8", "I9"],
                "no `prometheus` in the cluster profile: metrics ports get no ingress",
            ));
        }
        if !self.profile.csi_driver {
            self.notes.insert(Note::new(
                Level::Info,
                &["I6", "I7", "I8", "I9", "E7"],
                "cluster profile says the CSI driver is not installed",
            ));
        }
    }
}

/// The peer for `host`, or for the proxy when traffic to `host` goes through it.
fn proxied(proxy: Option<&Proxy>, host: &HostPort, role: HostRole) -> Peer {
    match proxy {
        Some(proxy) if !proxy.bypasses(host) => Peer {
            endpoint: Endpoint::Host {
                host: proxy.address.host.clone(),
                role: HostRole::Proxy,
            },
            ports: Ports::list([Port::tcp_of(proxy.address.port)]),
            refs: &["E30"],
        },
        _ => Peer::plain(host_endpoint(host, role)),
    }
}

/// The OpenTelemetry collector's pod ports for the DynaKube's telemetry protocols.
fn telemetry_ports(dk: Option<&DynaKube>) -> Ports {
    let protocols = dk
        .and_then(|d| d.telemetry_ingest.clone())
        .unwrap_or_default();
    Ports::list(protocols.into_iter().flat_map(|p| match p {
        TelemetryProtocol::Otlp => vec![Port::tcp(4317), Port::tcp(4318)],
        TelemetryProtocol::Jaeger => vec![
            Port::tcp(14250),
            Port::tcp(14268),
            Port::udp(6831),
            Port::udp(6832),
        ],
        TelemetryProtocol::Zipkin => vec![Port::tcp(9411)],
        TelemetryProtocol::Statsd => vec![Port::udp(8125)],
    }))
}
