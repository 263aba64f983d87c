//! The peers of a row in a context: the one place that decides where a peer is — its labels,
//! addresses and ports, whether a proxy stands in for it (`E30`), and whether a network zone
//! narrows it to the ActiveGate.

use std::collections::BTreeMap;

use super::{Builder, ConcretePeer, Context};
use crate::matrix::components::{ACTIVEGATE_HTTPS, EXTENSION_CONTROLLER, KUBELET};
use crate::matrix::{
    ApiServer, Blocks, Component, Dns, Endpoint, FlowRule, HostRole, NodeScope, Nodes, PeerKind,
    Pods, PodsKind, Port, Ports, ProxyUse, RowId, ZoneRoute,
};
use crate::resources::{Capability, DynaKube, EdgeConnect, OneAgentMode, Proxy, Registry};
use crate::values::{Host, HostPort};

/// The registry the public code-modules image is served from, unless `publicRegistryOverride`
/// names another. The operator learns the exact image from the tenant at runtime; this default
/// is the documented public repository.
const PUBLIC_REGISTRY: &str = "public.ecr.aws";

impl Builder<'_> {
    /// The concrete peers of a row in a context.
    pub(super) fn peers(&mut self, rule: &'static FlowRule, ctx: Context<'_>) -> Vec<ConcretePeer> {
        let any = Ports::List(Default::default());
        match (rule.peer, ctx.dynakube(), ctx.edgeconnect()) {
            (PeerKind::Nodes, ..) => vec![ConcretePeer::plain(self.nodes(), any)],
            (PeerKind::KubeApiServer, ..) => vec![ConcretePeer::plain(self.api_server(), any)],
            (PeerKind::Dns, ..) => vec![self.dns(false)],
            (PeerKind::AppDns, ..) => vec![self.dns(true)],
            (PeerKind::Prometheus, ..) => self.prometheus().into_iter().collect(),
            (PeerKind::AllPods, ..) => vec![ConcretePeer::plain(all_pods(), any)],
            (PeerKind::Workload(component), ..) => {
                let workload = self.workload(component, ctx);
                vec![ConcretePeer::plain(Endpoint::Workload(workload), any)]
            }
            (PeerKind::InjectedApps, Some(dk), _)
                if rule.id == RowId::I11
                    && dk.mode() == Some(OneAgentMode::ClassicFullStack)
                    && dk.has_capability(Capability::Routing) =>
            {
                self.classic_apps(rule)
            }
            (PeerKind::InjectedApps, ..) => self.injected_apps(ctx),
            (PeerKind::AnnotatedExporters, ..) => {
                self.scrape_targets(rule, "pods annotated for Prometheus scraping")
            }
            (PeerKind::DynatraceApi, Some(dk), _) => {
                vec![self.host(rule, ctx, &dk.api_url.api, HostRole::DynatraceApi)]
            }
            (PeerKind::ActiveGateEndpoints, Some(dk), _) => self.endpoints(rule, ctx, dk),
            (PeerKind::OneAgentEndpoints, Some(dk), _) => self.one_agent_endpoints(rule, ctx, dk),
            (PeerKind::CodeModulesRegistry, Some(dk), _) => {
                self.registry(rule, ctx, &code_modules_registry(dk))
            }
            (PeerKind::TelemetryExport, Some(dk), _) => vec![self.telemetry_export(rule, ctx, dk)],
            (PeerKind::PrometheusExtension, ..) => {
                let kubelets =
                    Endpoint::Nodes(Nodes(self.profile.node_cidrs.clone(), NodeScope::Every));
                let mut peers = vec![
                    self.extension_controller(ctx),
                    ConcretePeer::plain(kubelets, Ports::list([KUBELET])),
                ];
                peers.extend(self.scrape_targets(rule, "Prometheus scrape targets"));
                peers
            }
            (PeerKind::DatabaseExtension, ..) => {
                let mut peers = vec![self.extension_controller(ctx)];
                peers.extend(self.databases(rule));
                peers
            }
            (PeerKind::EdgeConnectApi, _, Some(ec)) => {
                vec![self.host(rule, ctx, &ec.api_server, HostRole::EdgeConnectApi)]
            }
            (PeerKind::EdgeConnectOAuth, _, Some(ec)) => {
                vec![self.host(rule, ctx, &ec.oauth_endpoint, HostRole::OAuth)]
            }
            (PeerKind::EdgeConnectProvisioning, _, Some(ec)) => vec![
                self.host(rule, ctx, &ec.oauth_endpoint, HostRole::OAuth),
                self.host(rule, ctx, &ec.api_server, HostRole::EdgeConnectApi),
            ],
            (PeerKind::EdgeConnectRegistry, ..) => self.registry(rule, ctx, &Registry::DockerHub),
            (PeerKind::EdgeConnectTargets, _, Some(ec)) => self.edgeconnect_targets(rule, ec),
            // DynaKube rows in other contexts, and EdgeConnect rows likewise, have no peers.
            _ => Vec::new(),
        }
    }

    /// The injected application pods, and the pods of the profile's ActiveGate clients.
    fn injected_apps(&self, ctx: Context<'_>) -> Vec<ConcretePeer> {
        let any = Ports::List(Default::default());
        let apps = self.workload(Component::InjectedApps, ctx);
        let clients = self.profile.active_gate_clients.iter().map(|namespace| {
            let pods = Pods::named(
                PodsKind::ActiveGateClients,
                Some(namespace),
                &BTreeMap::<String, String>::new(),
            );
            ConcretePeer::plain(Endpoint::Pods(pods), Ports::List(Default::default()))
        });
        std::iter::once(ConcretePeer::plain(Endpoint::Workload(apps), any))
            .chain(clients)
            .collect()
    }

    /// The hosts an EdgeConnect forwards to; a warning when none can be named.
    fn edgeconnect_targets(&mut self, rule: &FlowRule, ec: &EdgeConnect) -> Vec<ConcretePeer> {
        let targets = edgeconnect_targets(ec);
        if targets
            .iter()
            .any(|t| matches!(t.endpoint, Endpoint::Unbounded(_)))
        {
            self.warn_closed(
                rule,
                &format!("{} spec.hostRestrictions", ec.resource()),
                "the hosts configured for the EdgeConnect in Dynatrace",
                "list them in the EdgeConnect's `hostRestrictions` or `hostPatterns`, with their addresses in the hosts file",
            );
        }
        targets
    }

    /// The scrape targets of the cluster profile on their ports; without any, the row stays
    /// closed with a warning that names the field.
    fn scrape_targets(&mut self, rule: &FlowRule, what: &'static str) -> Vec<ConcretePeer> {
        let targets = &self.profile.prometheus_targets;
        if targets.is_empty() {
            self.warn_closed(
                rule,
                "cluster profile prometheusTargets",
                what,
                "name them in the cluster profile's `prometheusTargets` (namespace, pod labels, ports)",
            );
            return vec![unbounded(what)];
        }
        targets
            .iter()
            .map(|target| {
                let pods = Pods::named(
                    PodsKind::ScrapeTargets,
                    target.namespace.as_ref(),
                    &target.pod_labels,
                );
                ConcretePeer::plain(
                    Endpoint::Pods(pods),
                    Ports::list(target.ports.iter().map(|&p| Port::tcp_of(p))),
                )
            })
            .collect()
    }

    /// The databases of the cluster profile on their ports: pods, address blocks, or hosts
    /// (internal ones, resolved like every host); without any, the row stays closed with a
    /// warning that names the field.
    fn databases(&mut self, rule: &FlowRule) -> Vec<ConcretePeer> {
        let databases = &self.profile.databases;
        if databases.is_empty() {
            self.warn_closed(
                rule,
                "cluster profile databases",
                "user databases",
                "name them in the cluster profile's `databases` (address blocks, host names or pods, and ports)",
            );
            return vec![unbounded("user databases")];
        }
        let mut peers = Vec::new();
        for db in databases {
            let ports = Ports::list(db.ports.iter().map(|&p| Port::tcp_of(p)));
            let endpoints = if !db.hosts.is_empty() {
                db.hosts
                    .iter()
                    .map(|host| Endpoint::Host {
                        host: Host::Name(host.clone()),
                        role: HostRole::Database,
                    })
                    .collect()
            } else if !db.cidrs.is_empty() {
                vec![Endpoint::Blocks(Blocks {
                    what: "database addresses",
                    name: "databases",
                    field: "databases",
                    cidrs: db.cidrs.clone(),
                })]
            } else {
                vec![Endpoint::Pods(Pods::named(
                    PodsKind::Databases,
                    db.namespace.as_ref(),
                    &db.pod_labels,
                ))]
            };
            peers.extend(
                endpoints
                    .into_iter()
                    .map(|e| ConcretePeer::plain(e, ports.clone())),
            );
        }
        peers
    }

    /// The application pods a classic full-stack OneAgent instruments, as peers of a routing
    /// ActiveGate (I11); a warning when they are every pod.
    fn classic_apps(&mut self, rule: &FlowRule) -> Vec<ConcretePeer> {
        if self.profile.classic_full_stack_namespaces.is_empty() {
            self.notes.insert(crate::matrix::Note::new(
                crate::matrix::Level::Warning,
                &[rule.id],
                "classicFullStack: the host agent instruments processes in every pod, whose code modules reach the routing ActiveGate; it admits all pods of all namespaces on its port (list the namespaces in the cluster profile's `classicFullStackNamespaces` to narrow this)",
            ).at("cluster profile classicFullStackNamespaces"));
        }
        self.classic_pods()
            .into_iter()
            .map(|pods| ConcretePeer::plain(pods, Ports::List(Default::default())))
            .collect()
    }

    /// The application pods a classic full-stack OneAgent instruments: the host agent loads
    /// code modules into their processes, which reach the OneAgent communication endpoints
    /// from the pods' addresses (E12) and resolve names (E1) as injected code modules do. No
    /// namespace is labelled for them (the operator labels namespaces only for
    /// `IsAppInjectionNeeded()`: `matchOneAgent` in `pkg/injection/namespace/mapper/mapper.go`,
    /// v1.10.2), so they are the pods of the profile's namespaces, or of every namespace.
    pub(super) fn classic_pods(&self) -> Vec<Endpoint> {
        let namespaces = &self.profile.classic_full_stack_namespaces;
        let none = BTreeMap::<String, String>::new();
        if namespaces.is_empty() {
            return vec![Endpoint::Pods(Pods::named(
                PodsKind::ClassicApps,
                None,
                &none,
            ))];
        }
        namespaces
            .iter()
            .map(|namespace| {
                Endpoint::Pods(Pods::named(PodsKind::ClassicApps, Some(namespace), &none))
            })
            .collect()
    }

    /// A warning that `rule` cannot reach `what`, and what would open it.
    fn warn_closed(&mut self, rule: &FlowRule, field: &str, what: &str, remedy: &str) {
        self.notes.insert(
            crate::matrix::Note::new(
                crate::matrix::Level::Warning,
                &[rule.id],
                format!("{what} cannot be named, so the policies do not allow them: {remedy}"),
            )
            .at(field),
        );
    }

    fn nodes(&self) -> Endpoint {
        Endpoint::Nodes(Nodes(self.profile.node_cidrs.clone(), NodeScope::Own))
    }

    fn api_server(&self) -> Endpoint {
        let api = &self.profile.api_server;
        Endpoint::KubeApiServer(ApiServer {
            service: api.service_cidrs.clone(),
            endpoints: api.endpoint_cidrs.clone(),
            endpoint_ports: api.ports.clone(),
            control_plane: self.profile.control_plane_cidrs.clone(),
        })
    }

    /// The cluster DNS of the profile's provider, on its port over UDP and TCP.
    fn dns(&self, any_name: bool) -> ConcretePeer {
        let dns = &self.profile.dns;
        let (namespace, (key, value)) = dns.provider.pods();
        let port = dns.provider.port();
        ConcretePeer::plain(
            Endpoint::Dns(Dns {
                namespace,
                labels: BTreeMap::from([(key.to_string(), value.to_string())]),
                cache: dns.node_local_address(),
                any_name,
            }),
            Ports::list([Port::udp_of(port), Port::tcp_of(port)]),
        )
    }

    fn prometheus(&self) -> Option<ConcretePeer> {
        let prometheus = self.profile.prometheus.as_ref()?;
        let pods = Pods::named(
            PodsKind::Prometheus,
            Some(&prometheus.namespace),
            &prometheus.pod_labels,
        );
        Some(ConcretePeer::plain(
            Endpoint::Pods(pods),
            Ports::List(Default::default()),
        ))
    }

    /// The proxy that stands in for the hosts of `rule`, if any.
    fn proxy_of<'a>(&self, rule: &FlowRule, ctx: Context<'a>) -> Option<&'a Proxy> {
        let dk = ctx.dynakube();
        let flags = dk.map(|d| &d.feature_flags);
        match rule.proxy {
            ProxyUse::Never => None,
            ProxyUse::DynaKube => dk?.proxy.as_ref(),
            ProxyUse::DynaKubeUnlessActiveGateIgnores => dk?
                .proxy
                .as_ref()
                .filter(|_| !flags.is_some_and(|f| f.activegate_ignore_proxy)),
            ProxyUse::DynaKubeUnlessOneAgentIgnores => dk?
                .proxy
                .as_ref()
                .filter(|_| !flags.is_some_and(|f| f.oneagent_ignore_proxy)),
            ProxyUse::EdgeConnect => ctx.edgeconnect()?.proxy.as_ref(),
        }
    }

    /// The hosts of `registry` and of the CDNs it redirects downloads to.
    fn registry(
        &self,
        rule: &FlowRule,
        ctx: Context<'_>,
        registry: &Registry,
    ) -> Vec<ConcretePeer> {
        let hosts = registry
            .hosts()
            .into_iter()
            .map(|h| (h, HostRole::Registry));
        let cdns = registry
            .cdn_hosts()
            .into_iter()
            .map(|h| (h, HostRole::RegistryCdn));
        hosts
            .chain(cdns)
            .map(|(host, role)| self.host(rule, ctx, &host, role))
            .collect()
    }

    /// The peer for `target`, or for the proxy when the row's traffic to it goes through one.
    fn host(
        &self,
        rule: &FlowRule,
        ctx: Context<'_>,
        target: &HostPort,
        role: HostRole,
    ) -> ConcretePeer {
        match self.proxy_of(rule, ctx) {
            Some(proxy) if !proxy.bypasses(target) => ConcretePeer {
                endpoint: Endpoint::Host {
                    host: proxy.address.host.clone(),
                    role: HostRole::Proxy,
                },
                ports: Ports::list([Port::tcp_of(proxy.address.port)]),
                refs: &[RowId::E30],
            },
            _ => ConcretePeer::plain(
                Endpoint::Host {
                    host: target.host.clone(),
                    role,
                },
                Ports::list([Port::tcp_of(target.port)]),
            ),
        }
    }

    /// The tenant's communication endpoints for `rule` (E8: the ActiveGate's, otherwise the
    /// OneAgent's): those the DynaKube's status names, else the cluster profile's, else the
    /// `apiUrl` host and port, assumed and noted.
    fn communication_endpoints(&mut self, rule: &FlowRule, dk: &DynaKube) -> Vec<HostPort> {
        let status = if rule.peer == PeerKind::ActiveGateEndpoints {
            &dk.status.active_gate_endpoints
        } else {
            &dk.status.one_agent_endpoints
        };
        if !status.is_empty() {
            return status.clone();
        }
        let profile = &self.profile.communication_endpoints;
        if !profile.is_empty() {
            return profile.iter().map(|e| e.0.clone()).collect();
        }
        self.assumed_endpoints.insert(rule.id);
        vec![dk.api_url.api.clone()]
    }

    /// Whether `endpoint` is the Service of the DynaKube's own ActiveGate: its name in the
    /// cluster (`<dynakube>-activegate.<namespace>`, with `.svc` and the cluster domain or
    /// without) or one of the Service addresses the status names.
    fn own_active_gate(&self, dk: &DynaKube, endpoint: &HostPort) -> bool {
        match &endpoint.host {
            Host::Ip(ip) => dk.status.active_gate_service_ips.contains(ip),
            Host::Name(name) => {
                let namespace = dk.namespace.as_ref().unwrap_or(&self.namespace);
                let service = format!("{}-activegate.{namespace}", dk.name);
                let name = name.as_str();
                name == service
                    || name == format!("{service}.svc")
                    || name == format!("{service}.svc.{}", self.profile.cluster_domain)
            }
        }
    }

    /// E8: the ActiveGate's communication endpoints (never itself).
    fn endpoints(&mut self, rule: &FlowRule, ctx: Context<'_>, dk: &DynaKube) -> Vec<ConcretePeer> {
        let endpoints = self.communication_endpoints(rule, dk);
        endpoints
            .iter()
            .filter(|e| !self.own_active_gate(dk, e))
            .map(|e| self.host(rule, ctx, e, HostRole::CommunicationEndpoint))
            .collect()
    }

    /// The in-cluster ActiveGate, when it routes; and the OneAgent communication endpoints,
    /// unless the network zone allows only the zone's ActiveGates. An endpoint that is the
    /// DynaKube's own ActiveGate Service is its pods on the ActiveGate's port.
    fn one_agent_endpoints(
        &mut self,
        rule: &FlowRule,
        ctx: Context<'_>,
        dk: &DynaKube,
    ) -> Vec<ConcretePeer> {
        let mut peers = Vec::new();
        let routes = dk.active_gate_enabled() && dk.has_capability(Capability::Routing);
        if routes {
            peers.push(self.active_gate(ctx));
        }
        if rule.zone == ZoneRoute::ActiveGateOnly && self.restricted(dk) {
            self.zone_rows.insert(rule.id);
            return peers;
        }
        let endpoints = self.communication_endpoints(rule, dk);
        let mut own = false;
        for endpoint in &endpoints {
            if self.own_active_gate(dk, endpoint) && dk.active_gate_enabled() {
                own = true;
            } else {
                peers.push(self.host(rule, ctx, endpoint, HostRole::CommunicationEndpoint));
            }
        }
        if own && !routes {
            peers.push(self.active_gate(ctx));
        }
        peers
    }

    /// The in-cluster ActiveGate if there is one, else the tenant's API.
    fn telemetry_export(&self, rule: &FlowRule, ctx: Context<'_>, dk: &DynaKube) -> ConcretePeer {
        if dk.active_gate_enabled() {
            self.active_gate(ctx)
        } else {
            self.host(rule, ctx, &dk.api_url.api, HostRole::DynatraceApi)
        }
    }

    fn active_gate(&self, ctx: Context<'_>) -> ConcretePeer {
        let ag = self.workload(Component::ActiveGate, ctx);
        ConcretePeer::plain(Endpoint::Workload(ag), Ports::list([ACTIVEGATE_HTTPS]))
    }

    fn extension_controller(&self, ctx: Context<'_>) -> ConcretePeer {
        let eec = self.workload(Component::ExtensionController, ctx);
        ConcretePeer::plain(Endpoint::Workload(eec), Ports::list([EXTENSION_CONTROLLER]))
    }
}

fn all_pods() -> Endpoint {
    Endpoint::Pods(Pods {
        kind: PodsKind::Any,
        namespace: None,
        labels: BTreeMap::new(),
    })
}

fn unbounded(what: &'static str) -> ConcretePeer {
    ConcretePeer::plain(Endpoint::Unbounded(what), Ports::Any)
}

/// The registry the CSI driver pulls code modules from: the custom image's, else the public
/// registry (or its override).
fn code_modules_registry(dk: &DynaKube) -> Registry {
    let image = dk
        .one_agent
        .as_ref()
        .and_then(|o| o.code_modules_image.as_ref());
    match (image, &dk.public_registry_override) {
        (Some(image), _) => image.registry.clone(),
        (None, Some(registry)) => registry.clone(),
        (None, None) => Registry::parse(PUBLIC_REGISTRY).expect("a valid constant registry"),
    }
}

/// The hosts an EdgeConnect forwards to: restrictions narrow what the patterns allow; without
/// either, the hosts are configured in Dynatrace and unknown here.
fn edgeconnect_targets(ec: &EdgeConnect) -> Vec<ConcretePeer> {
    let hosts = if ec.host_restrictions.is_empty() {
        &ec.host_patterns
    } else {
        &ec.host_restrictions
    };
    if hosts.is_empty() {
        return vec![unbounded(
            "hosts configured for the EdgeConnect in Dynatrace",
        )];
    }
    hosts
        .iter()
        .map(|p| ConcretePeer::plain(Endpoint::HostPattern(p.clone()), Ports::Any))
        .collect()
}

/// The OpenTelemetry collector's pod ports for the DynaKube's telemetry protocols.
pub(super) fn telemetry_ports(dk: Option<&DynaKube>) -> Ports {
    let protocols = dk
        .and_then(|d| d.telemetry_ingest.clone())
        .unwrap_or_default();
    Ports::list(protocols.into_iter().flat_map(|p| {
        crate::matrix::components::telemetry_ports(p)
            .iter()
            .copied()
    }))
}
