//! The cluster profile: facts about the cluster that no DynaKube can give.
//!
//! Every field is optional. The format (YAML, unknown fields are errors):
//!
//! ```yaml
//! namespace: dynatrace                 # operator namespace (default: the CRs' namespace, else dynatrace)
//! operatorVersion: "1.10"              # the operator release (default: see below), quoted
//! apiServer:
//!   serviceCIDRs: [10.96.0.1/32]       # ClusterIP of the `kubernetes` Service, reached on 443
//!   endpointCIDRs: [192.0.2.10/32]     # the real kube-apiserver endpoints
//!   ports: [443, 6443]                 # endpoint ports (default 443 and 6443)
//! dns:
//!   provider: kube-dns                 # kube-dns (default) | openshift | node-local
//!   address: 169.254.20.10             # node-local only, and required there
//! nodeCIDRs: [192.0.2.0/24]            # kubelet probes, hostNetwork OneAgents
//! controlPlaneCIDRs: [192.0.2.10/32]   # where kube-apiserver calls the webhook from
//! prometheus:                          # absent: no metrics ingress
//!   namespace: monitoring
//!   podLabels: {app.kubernetes.io/name: prometheus}
//! prometheusTargets:                   # pods the ActiveGate (E10, annotated for Prometheus) and the
//!   - namespace: shop                  #   OpenTelemetry collector (E21, Prometheus extensions)
//!     podLabels: {app: web}            #   scrape; no namespace: every namespace; ports required
//!     ports: [9090]
//! databases:                           # what the SQL extension executors query (E22): address
//!   - cidrs: [10.20.0.0/16]            #   blocks, host names (resolved like the tenant's), or
//!     ports: [5432]                    #   pods (namespace, podLabels); ports required
//!   - hosts: [pg.corp.example]         # the names the connection strings use (Cilium lets the
//!     ports: [5432]                    #   executor resolve only the names its policies list)
//! classicFullStackNamespaces: [shop]   # classicFullStack: namespaces whose pods run the code
//!                                      #   modules the host agent loads (E12, I11); absent: every
//!                                      #   namespace, with a note
//! activeGateClients: [monitoring]      # more namespaces whose pods call the ActiveGate (metrics-ingest,
//!                                      #   dynatrace-api) besides the injected ones
//! helm:                                # Helm values of the operator chart that change traffic
//!   webhook:
//!     hostNetwork: false               # the webhook in the host network (no policy can select it)
//!     ports: {server: 8443, healthProbe: 10080, metrics: 8383}
//!   csidriver:
//!     migrationMode: false             # new pods get the bootstrapper (E13) while the CSI driver cleans up
//! csiDriver: true                      # Helm csidriver.enabled (default true)
//! networkZones:                        # the fallback mode of each zone in the tenant (default:
//!   k8s-prod: none                     #   --zone-fallback): none | any | only-default-zone
//! communicationEndpoints:              # the tenant's communication endpoints, for DynaKubes whose
//!   - https://10.0.0.1:443/communication  #   status does not name them (default: the apiUrl host)
//! platformToken: false                 # the DynaKubes' API tokens are platform tokens (dt0s16...):
//!                                      #   operator 1.10+ then uses the public registry
//! clusterDomain: cluster.local         # DNS domain of the cluster (Cilium DNS rules)
//! cilium:                              # the Cilium flavor's choices, and facts for verify
//!   hostFirewall: false                # write a host policy for the host-network OneAgent
//!   cidrMatchNodes: false              # the agent's policy-cidr-match-mode: nodes (verify, diff)
//!   controlPlaneHostNetwork: false     # kube-apiserver also calls from host/remote-node
//!   appEgress: false                   # allow the egress of injected application pods and of
//!                                      #   classicFullStackNamespaces (opt-in)
//! acknowledge: [E9, E10]               # rows whose notes the team has reviewed: their notes
//!                                      #   (not warnings) become one line of the output
//! ```
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::{ClusterProfile, DnsProvider};
//!
//! let profile = ClusterProfile::parse(
//!     "cluster.yaml",
//!     "nodeCIDRs: [192.0.2.0/24]\ndns: {provider: node-local, address: 169.254.20.10}\n",
//! )?;
//! assert_eq!(profile.node_cidrs[0].to_string(), "192.0.2.0/24");
//! assert_eq!(profile.dns.provider, DnsProvider::NodeLocal);
//! assert_eq!(ClusterProfile::parse("empty.yaml", "")?, ClusterProfile::default());
//!
//! // Unknown fields are errors, naming the field.
//! let error = ClusterProfile::parse("cluster.yaml", "nodeCIDR: [192.0.2.0/24]").unwrap_err();
//! assert!(error.to_string().contains("nodeCIDR"), "{error}");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Deserialize;

use crate::error::{Error, Location, Result};
use crate::matrix::WebhookPort;
use crate::matrix::{Level, Note};
use crate::source::Limits;
use crate::stream::ChartFacts;
use crate::values::{
    Cidr, EndpointUrl, HostName, LabelKey, LabelValue, Name, OperatorVersion, PortNumber,
};

/// The cluster profile. `Default` is the profile of an empty file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ClusterProfile {
    /// The operator's namespace; `None` takes the namespace of the resources, else `dynatrace`.
    pub namespace: Option<Name>,
    /// The operator release; `None`: the newest release that serves the resources' API
    /// versions.
    pub operator_version: Option<OperatorVersion>,
    /// How pods reach kube-apiserver.
    pub api_server: ApiServer,
    /// The cluster DNS.
    pub dns: Dns,
    /// Node addresses: kubelet probes and hostNetwork OneAgents come from here.
    #[serde(rename = "nodeCIDRs")]
    pub node_cidrs: Vec<Cidr>,
    /// Where kube-apiserver calls admission webhooks from; empty: from anywhere, port-limited.
    #[serde(rename = "controlPlaneCIDRs")]
    pub control_plane_cidrs: Vec<Cidr>,
    /// The Prometheus that scrapes metrics; `None`: no metrics ingress.
    pub prometheus: Option<Prometheus>,
    /// Whether the operator's CSI driver is installed (Helm `csidriver.enabled`).
    pub csi_driver: bool,
    /// Helm values of the operator chart that change traffic.
    pub helm: Helm,
    /// The pods the ActiveGate and the OpenTelemetry collector scrape (E10, E21); empty: those
    /// rows stay closed, with a warning.
    pub prometheus_targets: Vec<PodPeer>,
    /// Namespaces whose pods call the ActiveGate (I11, I12) besides the injected ones.
    pub active_gate_clients: Vec<Name>,
    /// With `classicFullStack`, the namespaces whose application pods the host agent
    /// instruments: their code modules reach the OneAgent communication endpoints (a routing
    /// ActiveGate, the tenant); empty: every namespace.
    pub classic_full_stack_namespaces: Vec<Name>,
    /// The databases the SQL extension executors query (E22); empty: that row stays closed,
    /// with a warning.
    pub databases: Vec<Database>,
    /// The fallback mode of each network zone, as the zone is set up in the tenant; zones not
    /// listed take `--zone-fallback`.
    pub network_zones: BTreeMap<crate::values::ZoneName, crate::matrix::ZoneFallback>,
    /// The tenant's communication endpoints (ActiveGate, OneAgent and log monitoring data),
    /// for DynaKubes whose status does not name them; empty: the `apiUrl` host is assumed.
    pub communication_endpoints: Vec<EndpointUrl>,
    /// Whether the DynaKubes' API tokens are platform tokens, with which operator 1.10 and
    /// later use the public registry (as a DynaKube's `status.apiToken.platform` says).
    pub platform_token: bool,
    /// The cluster's DNS domain (default `cluster.local`), for DNS rules of the Cilium flavor.
    pub cluster_domain: HostName,
    /// Facts and choices for the Cilium flavor.
    pub cilium: Cilium,
    /// The network plugin that enforces the policies, where the profile names it: what the
    /// ClusterNetworkPolicy flavor may use, and what it says about the plugin.
    pub(crate) network_plugin: Option<Plugin>,
    /// Rows of the traffic matrix whose notes the team has reviewed: notes on these rows alone
    /// are left out of the output, and one note says how many (warnings stay).
    pub acknowledge: BTreeSet<crate::matrix::RowId>,
    /// The fields the profile's text gave, of those a rendered chart may fill
    /// ([`ClusterProfile::fill_from_chart`]), as dotted paths.
    #[serde(skip)]
    pub(crate) given: BTreeSet<&'static str>,
}

/// The fields of the profile that a rendered operator chart may fill where the profile is
/// silent, as dotted paths.
const CHART_FIELDS: [&str; 8] = [
    "namespace",
    "operatorVersion",
    "csiDriver",
    "helm.csidriver.migrationMode",
    "helm.webhook.hostNetwork",
    "helm.webhook.ports.server",
    "helm.webhook.ports.healthProbe",
    "helm.webhook.ports.metrics",
];

/// A network plugin, as the profile's `networkPlugin` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Plugin {
    /// Calico.
    Calico,
    /// Cilium.
    Cilium,
    /// Antrea.
    Antrea,
    /// Kube-OVN.
    KubeOvn,
    /// OVN-Kubernetes, OpenShift's plugin.
    OvnKubernetes,
    /// Any other.
    Other,
}

impl Plugin {
    /// The name, as the profile's `networkPlugin` takes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Plugin::Calico => "calico",
            Plugin::Cilium => "cilium",
            Plugin::Antrea => "antrea",
            Plugin::KubeOvn => "kube-ovn",
            Plugin::OvnKubernetes => "ovn-kubernetes",
            Plugin::Other => "other",
        }
    }
}

/// Facts and choices for the Cilium flavor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Cilium {
    /// Cilium's host firewall is on: write a host policy for the host-network OneAgent.
    pub host_firewall: bool,
    /// kube-apiserver runs in the host network of cluster nodes, so its calls to the webhook
    /// arrive from the `host` and `remote-node` entities too.
    pub control_plane_host_network: bool,
    /// Write clusterwide policies that allow the egress application pods need (code modules,
    /// OTLP export): injected ones, and those of `classicFullStackNamespaces`; they never put
    /// those pods into default deny.
    pub app_egress: bool,
    /// Cilium's agent runs with `policy-cidr-match-mode: nodes`, so that address blocks
    /// (NetworkPolicy `ipBlock`s among them) also match node addresses: what `verify` and
    /// `diff` take when Cilium enforces the policies.
    pub cidr_match_nodes: bool,
}

impl Default for ClusterProfile {
    fn default() -> Self {
        ClusterProfile {
            namespace: None,
            operator_version: None,
            api_server: ApiServer::default(),
            dns: Dns::default(),
            node_cidrs: Vec::new(),
            control_plane_cidrs: Vec::new(),
            prometheus: None,
            csi_driver: true,
            helm: Helm::default(),
            prometheus_targets: Vec::new(),
            active_gate_clients: Vec::new(),
            classic_full_stack_namespaces: Vec::new(),
            databases: Vec::new(),
            communication_endpoints: Vec::new(),
            network_zones: BTreeMap::new(),
            platform_token: false,
            cluster_domain: HostName::parse("cluster.local").expect("a valid constant name"),
            cilium: Cilium::default(),
            network_plugin: None,
            acknowledge: BTreeSet::new(),
            given: BTreeSet::new(),
        }
    }
}

/// How pods reach kube-apiserver.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ApiServer {
    /// The ClusterIP(s) of the `kubernetes` Service; reached on port 443.
    #[serde(rename = "serviceCIDRs")]
    pub service_cidrs: Vec<Cidr>,
    /// The addresses of the kube-apiserver endpoints.
    #[serde(rename = "endpointCIDRs")]
    pub endpoint_cidrs: Vec<Cidr>,
    /// The ports the endpoints listen on.
    pub ports: Vec<PortNumber>,
}

impl Default for ApiServer {
    fn default() -> Self {
        ApiServer {
            service_cidrs: Vec::new(),
            endpoint_cidrs: Vec::new(),
            ports: vec![PortNumber::of(443), PortNumber::of(6443)],
        }
    }
}

/// The cluster DNS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dns {
    /// Which DNS the pods use.
    #[serde(default)]
    pub provider: DnsProvider,
    /// The node-local cache address (node-local only, and required there).
    #[serde(default)]
    pub address: Option<IpAddr>,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            provider: DnsProvider::KubeDns,
            address: None,
        }
    }
}

impl Dns {
    /// The node-local cache address, when the provider is node-local.
    pub(crate) fn node_local_address(&self) -> Option<IpAddr> {
        self.address
            .filter(|_| self.provider == DnsProvider::NodeLocal)
    }
}

/// Which DNS the pods use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DnsProvider {
    /// `kube-dns`: pods labelled `k8s-app=kube-dns` in `kube-system`, port 53.
    #[default]
    KubeDns,
    /// `openshift`: the DNS daemon set in `openshift-dns`, pod port 5353.
    Openshift,
    /// `node-local`: a node-local cache at `address`, with kube-dns behind it.
    NodeLocal,
}

impl DnsProvider {
    /// The port the DNS pods listen on, over UDP and TCP.
    pub(crate) fn port(self) -> PortNumber {
        match self {
            DnsProvider::Openshift => PortNumber::of(5353),
            DnsProvider::KubeDns | DnsProvider::NodeLocal => PortNumber::of(53),
        }
    }

    /// The namespace and the label of the DNS pods (behind a node-local cache: kube-dns).
    pub(crate) fn pods(self) -> (&'static str, (&'static str, &'static str)) {
        match self {
            DnsProvider::Openshift => (
                "openshift-dns",
                ("dns.operator.openshift.io/daemonset-dns", "default"),
            ),
            DnsProvider::KubeDns | DnsProvider::NodeLocal => {
                ("kube-system", ("k8s-app", "kube-dns"))
            }
        }
    }
}

/// The Prometheus that scrapes the operator's metrics.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prometheus {
    /// Its namespace.
    pub namespace: Name,
    /// Labels of its pods; empty: every pod of the namespace.
    #[serde(default)]
    pub pod_labels: BTreeMap<LabelKey, LabelValue>,
}

/// Helm values of the operator chart that change traffic, under their names in the chart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Helm {
    /// `webhook.*`.
    pub webhook: HelmWebhook,
    /// `csidriver.*` (`csidriver.enabled` is the profile's `csiDriver`).
    pub csidriver: HelmCsiDriver,
}

/// Helm's `webhook.*` values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HelmWebhook {
    /// `webhook.hostNetwork`: the webhook runs in the host network.
    pub host_network: bool,
    /// `webhook.ports`.
    pub ports: WebhookPorts,
}

/// Helm's `webhook.ports`; absent ports keep the chart's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct WebhookPorts {
    /// `server` (default 8443).
    pub server: Option<PortNumber>,
    /// `healthProbe` (default 10080).
    pub health_probe: Option<PortNumber>,
    /// `metrics` (default 8383).
    pub metrics: Option<PortNumber>,
}

impl WebhookPorts {
    /// The port of `port`: the value given, else the chart's default.
    pub(crate) fn of(&self, port: WebhookPort) -> PortNumber {
        let given = match port {
            WebhookPort::Server => self.server,
            WebhookPort::HealthProbe => self.health_probe,
            WebhookPort::Metrics => self.metrics,
        };
        given.unwrap_or(PortNumber::of(port.default_port()))
    }
}

/// Helm's `csidriver.*` values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HelmCsiDriver {
    /// `csidriver.migrationMode`: the driver only cleans up, new pods get the bootstrapper.
    pub migration_mode: bool,
}

/// Pods named in the cluster profile, and the ports they are reached on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodPeer {
    /// Their namespace; `None`: every namespace.
    #[serde(default)]
    pub namespace: Option<Name>,
    /// Labels of the pods; empty: every pod of the namespace(s).
    #[serde(default)]
    pub pod_labels: BTreeMap<LabelKey, LabelValue>,
    /// The ports, at least one (an empty list would allow every port).
    pub ports: Vec<PortNumber>,
}

/// A database of SQL extensions: address blocks, host names, or pods; and its ports.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Database {
    /// Address blocks outside the cluster; empty when the database is named otherwise.
    #[serde(default, rename = "cidrs")]
    pub cidrs: Vec<Cidr>,
    /// Fully qualified names outside the cluster domain, as the connection strings (JDBC URLs)
    /// name the database; resolved like every other host (hosts file, lock, DNS). Empty when
    /// the database is named otherwise.
    #[serde(default)]
    pub hosts: Vec<HostName>,
    /// The pods' namespace; `None` with pod labels: every namespace.
    #[serde(default)]
    pub namespace: Option<Name>,
    /// Labels of the pods.
    #[serde(default)]
    pub pod_labels: BTreeMap<LabelKey, LabelValue>,
    /// The ports, at least one.
    pub ports: Vec<PortNumber>,
}

use crate::guard::AnyAddress;

impl ClusterProfile {
    /// Parses a cluster profile with the default limits, refusing blocks of every address;
    /// `file` names it in messages.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        Self::parse_with(file, text, &Limits::default(), AnyAddress::Refuse)
    }

    /// The pods, blocks and hosts the profile names as peers: ports required, blocks and hosts
    /// checked.
    fn check_peers(&self, location: &Location, any: AnyAddress) -> Result<()> {
        for (i, target) in self.prometheus_targets.iter().enumerate() {
            if target.ports.is_empty() {
                return Err(Error::invalid(
                    location.at(format!("prometheusTargets[{i}].ports")),
                    "must list ports from 1 to 65535 (no ports would mean every port)",
                ));
            }
        }
        for (i, db) in self.databases.iter().enumerate() {
            let at = |field: &str| location.at(format!("databases[{i}]{field}"));
            if db.ports.is_empty() {
                return Err(Error::invalid(
                    at(".ports"),
                    "must list ports from 1 to 65535 (no ports would mean every port)",
                ));
            }
            let pods = db.namespace.is_some() || !db.pod_labels.is_empty();
            let kinds = [!db.cidrs.is_empty(), !db.hosts.is_empty(), pods];
            if kinds.iter().filter(|&&named| named).count() != 1 {
                return Err(Error::invalid(
                    at(""),
                    "names the database by exactly one of `cidrs`, `hosts` or pods (`namespace`, `podLabels`)",
                ));
            }
            for (j, cidr) in db.cidrs.iter().enumerate() {
                any.check(&at(&format!(".cidrs[{j}]")), cidr)?;
            }
            any.check_all(&at(".cidrs"), &db.cidrs)?;
            for (j, host) in db.hosts.iter().enumerate() {
                self.check_database_host(&at(&format!(".hosts[{j}]")), host)?;
            }
        }
        Ok(())
    }

    /// A database's host name must be the fully qualified name a connection string uses outside
    /// the cluster: a pod resolves a single label through its search domains, so Cilium's DNS
    /// proxy sees another name; and a name of the cluster domain is a Service, whose pods the
    /// profile names by `namespace` and `podLabels`.
    fn check_database_host(&self, location: &Location, host: &HostName) -> Result<()> {
        let name = host.as_str();
        let domain = self.cluster_domain.as_str();
        if !name.contains('.') {
            return Err(Error::invalid(
                location.clone(),
                format!(
                    "`{name}` is a single label, which pods resolve through their search domains: give the fully qualified name the connection string uses"
                ),
            ));
        }
        if name == domain || name.ends_with(&format!(".{domain}")) {
            return Err(Error::invalid(
                location.clone(),
                format!(
                    "`{name}` is in the cluster domain `{domain}`: name a database that runs in the cluster by `namespace` and `podLabels`"
                ),
            ));
        }
        Ok(())
    }

    /// Parses a cluster profile; `file` names it in messages.
    pub fn parse_with(file: &str, text: &str, limits: &Limits, any: AnyAddress) -> Result<Self> {
        let location = Location::new(file, None, "");
        let mut documents = crate::source::documents(file, text, limits)?.into_iter();
        let Some((_, value)) = documents.next() else {
            return Ok(ClusterProfile::default());
        };
        if let Some((second, _)) = documents.next() {
            return Err(Error::invalid(
                second,
                "a cluster profile is one YAML document",
            ));
        }
        let given: BTreeSet<&'static str> = CHART_FIELDS
            .into_iter()
            .filter(|path| {
                path.split('.')
                    .try_fold(&value, |v, key| v.get(key))
                    .is_some_and(|v| !v.is_null())
            })
            .collect();
        let mut profile: ClusterProfile = serde_path_to_error::deserialize(value)
            .map_err(|e| crate::error::field_error(&location, e))?;
        profile.given = given;
        let blocks = [
            ("apiServer.serviceCIDRs", &profile.api_server.service_cidrs),
            (
                "apiServer.endpointCIDRs",
                &profile.api_server.endpoint_cidrs,
            ),
            ("nodeCIDRs", &profile.node_cidrs),
            ("controlPlaneCIDRs", &profile.control_plane_cidrs),
        ];
        for (field, cidrs) in blocks {
            for (i, cidr) in cidrs.iter().enumerate() {
                any.check(&location.at(format!("{field}[{i}]")), cidr)?;
            }
            any.check_all(&location.at(field), cidrs)?;
        }
        profile.check_peers(&location, any)?;
        // A rule may name the blocks of several fields (nodes and the control plane, say):
        // together they must not add up to everything either.
        let all: Vec<Cidr> = blocks
            .iter()
            .flat_map(|(_, cidrs)| cidrs.iter())
            .chain(profile.databases.iter().flat_map(|db| &db.cidrs))
            .copied()
            .collect();
        any.check_all(&location, &all)?;
        if profile.api_server.ports.is_empty() {
            return Err(Error::invalid(
                location.at("apiServer.ports"),
                "must list ports from 1 to 65535",
            ));
        }
        match (profile.dns.provider, profile.dns.address) {
            (DnsProvider::NodeLocal, None) => {
                return Err(Error::invalid(
                    location.at("dns.address"),
                    "is required with `provider: node-local` (the cache address, such as 169.254.20.10)",
                ));
            }
            (DnsProvider::NodeLocal, Some(address)) if address.is_unspecified() => {
                return Err(Error::invalid(
                    location.at("dns.address"),
                    format!("`{address}` is the unspecified address, not a DNS cache"),
                ));
            }
            (DnsProvider::NodeLocal, Some(_)) => {}
            (_, Some(_)) => {
                return Err(Error::invalid(
                    location.at("dns.address"),
                    "is only used with `provider: node-local`",
                ));
            }
            (_, None) => {}
        }
        Ok(profile)
    }
}

impl ClusterProfile {
    /// Whether the profile names no fact of the cluster: none was given, or an empty one (rows
    /// acknowledged are no fact).
    pub(crate) fn names_nothing(&self) -> bool {
        let facts = ClusterProfile {
            acknowledge: BTreeSet::new(),
            given: BTreeSet::new(),
            ..self.clone()
        };
        facts == ClusterProfile::default()
    }

    /// Takes the facts of a rendered operator chart where the profile (named `name` in
    /// notes) says nothing: a note per fact says where it came from, and a warning where the
    /// profile says otherwise (its value is used).
    pub fn fill_from_chart(&mut self, facts: &ChartFacts, name: &str) -> Vec<Note> {
        let mut filler = Filler {
            profile: self,
            name,
            notes: Vec::new(),
        };
        if let Some((namespace, from)) = &facts.namespace {
            let current = filler.profile.namespace.as_ref().map(ToString::to_string);
            filler.fact("namespace", namespace, from, current, |p| {
                p.namespace = Some(namespace.clone());
            });
        }
        if let Some((release, from)) = &facts.operator_version {
            let current = filler.profile.operator_version.map(|v| v.to_string());
            filler.fact("operatorVersion", release, from, current, |p| {
                p.operator_version = Some(*release);
            });
        }
        if let Some((deployed, from)) = &facts.csi_driver {
            let current = Some(filler.profile.csi_driver.to_string());
            filler.fact("csiDriver", deployed, from, current, |p| {
                p.csi_driver = *deployed
            });
        }
        if let Some((migrating, from)) = &facts.csi_migration_mode {
            let current = Some(filler.profile.helm.csidriver.migration_mode.to_string());
            filler.fact(
                "helm.csidriver.migrationMode",
                migrating,
                from,
                current,
                |p| p.helm.csidriver.migration_mode = *migrating,
            );
        }
        if let Some((host_network, from)) = &facts.webhook_host_network {
            let current = Some(filler.profile.helm.webhook.host_network.to_string());
            filler.fact(
                "helm.webhook.hostNetwork",
                host_network,
                from,
                current,
                |p| {
                    p.helm.webhook.host_network = *host_network;
                },
            );
        }
        for (port, number, from) in &facts.webhook_ports {
            let field = match port {
                WebhookPort::Server => "helm.webhook.ports.server",
                WebhookPort::HealthProbe => "helm.webhook.ports.healthProbe",
                WebhookPort::Metrics => "helm.webhook.ports.metrics",
            };
            let current =
                slot(&mut filler.profile.helm.webhook.ports, *port).map(|p| p.to_string());
            filler.fact(field, number, from, current, |p| {
                *slot(&mut p.helm.webhook.ports, *port) = Some(*number);
            });
        }
        filler.notes
    }
}

/// The value of `port` in `ports`.
fn slot(ports: &mut WebhookPorts, port: WebhookPort) -> &mut Option<PortNumber> {
    match port {
        WebhookPort::Server => &mut ports.server,
        WebhookPort::HealthProbe => &mut ports.health_probe,
        WebhookPort::Metrics => &mut ports.metrics,
    }
}

/// A profile taking a chart's facts, and the notes on them.
struct Filler<'a> {
    profile: &'a mut ClusterProfile,
    name: &'a str,
    notes: Vec<Note>,
}

impl Filler<'_> {
    /// The fact that `field` is `value` (read `from` the chart): set where the profile does
    /// not give the field, with a note; a warning where it gives another value (`current`).
    fn fact(
        &mut self,
        field: &'static str,
        value: &dyn std::fmt::Display,
        from: &str,
        current: Option<String>,
        set: impl FnOnce(&mut ClusterProfile),
    ) {
        let value = value.to_string();
        if !self.profile.given.contains(field) {
            set(self.profile);
            self.profile.given.insert(field);
            self.notes.push(Note::new(
                Level::Info,
                &[],
                format!("cluster profile {field}: {value} taken from {from}"),
            ));
        } else if current.as_deref() != Some(value.as_str()) {
            self.notes.push(Note::new(
                Level::Warning,
                &[],
                format!(
                    "{} sets {field}: {}, the rendered chart {from}: {value}; the profile's value is used",
                    crate::values::escape(self.name),
                    current.unwrap_or_default()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_profile_is_the_default() {
        assert_eq!(
            ClusterProfile::parse("c.yaml", "").unwrap(),
            ClusterProfile::default()
        );
        assert_eq!(
            ClusterProfile::parse("c.yaml", "{}\n").unwrap(),
            ClusterProfile::default()
        );
    }

    #[test]
    fn full_profile() {
        let text = "namespace: dt\napiServer: {serviceCIDRs: [10.96.0.1/32], ports: [6443]}\ndns: {provider: node-local, address: 169.254.20.10}\nnodeCIDRs: [192.0.2.0/24]\nprometheus: {namespace: monitoring}\ncsiDriver: false\n";
        let profile = ClusterProfile::parse("c.yaml", text).unwrap();
        assert_eq!(profile.namespace.as_ref().map(Name::as_str), Some("dt"));
        assert_eq!(profile.api_server.ports, [PortNumber::of(6443)]);
        assert_eq!(
            profile.dns.node_local_address(),
            "169.254.20.10".parse().ok()
        );
        assert!(!profile.csi_driver);
    }

    #[test]
    fn acknowledged_rows_are_row_ids() {
        let profile = ClusterProfile::parse("c.yaml", "acknowledge: [E9, I11]\n").unwrap();
        assert_eq!(
            profile.acknowledge,
            BTreeSet::from([crate::matrix::RowId::E9, crate::matrix::RowId::I11])
        );
        assert!(profile.names_nothing());
        let err = ClusterProfile::parse("c.yaml", "acknowledge: [E9, e10]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.yaml, field `acknowledge[1]`: `e10` is not a row of the traffic matrix (I1 to I17, E1 to E30); did you mean `E10`?"
        );
        assert!(
            !ClusterProfile::parse("c.yaml", "csiDriver: false\n")
                .unwrap()
                .names_nothing()
        );
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let err = ClusterProfile::parse("c.yaml", "nodeCidrs: []\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.yaml, field `nodeCidrs`: unknown field `nodeCidrs`; did you mean `nodeCIDRs`?"
        );
        let err = ClusterProfile::parse("c.yaml", "dns: {provider: kubedns}\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.yaml, field `dns.provider`: unknown variant `kubedns`; did you mean `kube-dns`?"
        );
        // Nothing near: every field is listed.
        let err = ClusterProfile::parse("c.yaml", "apiServer: {zzz: 1}\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.yaml, field `apiServer.zzz`: unknown field `zzz`, expected one of `serviceCIDRs`, `endpointCIDRs`, `ports`"
        );
        let err = ClusterProfile::parse("c.yaml", "nodeCIDRs: [300.1.1.1/8]\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml, field `nodeCIDRs[0]`"), "{err}");
        for (text, field) in [
            ("nodeCIDRs: [10.0.0.1/8]\n", "nodeCIDRs[0]"),
            ("nodeCIDRs: [0.0.0.0/0]\n", "nodeCIDRs[0]"),
            (
                "controlPlaneCIDRs: [192.0.2.1/32, '::/0']\n",
                "controlPlaneCIDRs[1]",
            ),
            ("apiServer: {ports: [0]}\n", "apiServer.ports[0]"),
            ("namespace: Dynatrace\n", "namespace"),
            ("namespace: ''\n", "namespace"),
            ("clusterDomain: 'cluster local'\n", "clusterDomain"),
            (
                "prometheus: {namespace: m, podLabels: {'a b': x}}\n",
                "prometheus.podLabels.a b",
            ),
            (
                "prometheus: {namespace: m, podLabels: {a: 'x\\ny'}}\n",
                "prometheus.podLabels.a",
            ),
        ] {
            let err = ClusterProfile::parse("c.yaml", text)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("c.yaml, field `{field}`")),
                "{text}: {err}"
            );
        }
        let any = ClusterProfile::parse_with(
            "c.yaml",
            "nodeCIDRs: [0.0.0.0/0]\n",
            &Limits::default(),
            AnyAddress::Allow,
        );
        assert!(any.is_ok());
    }

    #[test]
    fn databases_are_named_by_blocks_hosts_or_pods() {
        let profile = ClusterProfile::parse(
            "c.yaml",
            "databases:\n- {hosts: [PG.corp.example.], ports: [5432]}\n- {cidrs: [10.20.0.0/16], ports: [1433]}\n- {namespace: data, ports: [3306]}\n",
        )
        .unwrap();
        assert_eq!(profile.databases[0].hosts[0].as_str(), "pg.corp.example");
        assert!(profile.databases[0].cidrs.is_empty());
        assert_eq!(profile.databases[1].cidrs.len(), 1);
        assert!(profile.databases[2].namespace.is_some());
        let error = |text: &str| {
            ClusterProfile::parse("c.yaml", text)
                .unwrap_err()
                .to_string()
        };
        for (text, expected) in [
            (
                "databases: [{hosts: [pg.corp.example], cidrs: [10.0.0.0/8], ports: [5432]}]\n",
                "c.yaml, field `databases[0]`: names the database by exactly one of `cidrs`, `hosts` or pods (`namespace`, `podLabels`)",
            ),
            (
                "databases: [{hosts: [pg.corp.example], namespace: data, ports: [5432]}]\n",
                "c.yaml, field `databases[0]`: names the database by exactly one of",
            ),
            (
                "databases: [{ports: [5432]}]\n",
                "c.yaml, field `databases[0]`: names the database by exactly one of",
            ),
            (
                "databases: [{hosts: [pg.corp.example], ports: []}]\n",
                "c.yaml, field `databases[0].ports`: must list ports",
            ),
            (
                "databases: [{hosts: [postgres], ports: [5432]}]\n",
                "c.yaml, field `databases[0].hosts[0]`: `postgres` is a single label, which pods resolve through their search domains",
            ),
            (
                "databases: [{hosts: [pg.data.svc.cluster.local], ports: [5432]}]\n",
                "c.yaml, field `databases[0].hosts[0]`: `pg.data.svc.cluster.local` is in the cluster domain `cluster.local`",
            ),
            (
                "clusterDomain: k8s.example\ndatabases: [{hosts: [pg.k8s.example], ports: [5432]}]\n",
                "c.yaml, field `databases[0].hosts[0]`: `pg.k8s.example` is in the cluster domain `k8s.example`",
            ),
            (
                "databases: [{hosts: [10.20.30.40], ports: [5432]}]\n",
                "c.yaml, field `databases[0].hosts[0]`: `10.20.30.40` is an IP address, not a host name",
            ),
            (
                "databases: [{hosts: ['*.corp.example'], ports: [5432]}]\n",
                "c.yaml, field `databases[0].hosts[0]`: `*.corp.example` is not a host name",
            ),
            (
                "databases: [{host: [pg.corp.example], ports: [5432]}]\n",
                "c.yaml, field `databases[0].host`: unknown field `host`; did you mean `hosts`?",
            ),
        ] {
            let message = error(text);
            assert!(message.starts_with(expected), "{text}: {message}");
        }
    }
}
