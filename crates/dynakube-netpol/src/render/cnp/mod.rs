//! The ClusterNetworkPolicy flavor: `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicies
//! (network-policy-api v0.2.0) from the same matrix as the other flavors, in the Admin or the
//! Baseline tier.
//!
//! Per Dynatrace workload and direction there is one policy: its subject is the workload's pods
//! by namespace and pod labels; it has an Accept rule for each group of peers (named as the
//! Kubernetes flavor names its policies: `accept-dns`, `accept-kube-apiserver`, ...), and a
//! closing Deny of everything else the API lets it name, so that least privilege holds inside
//! the tier: egress to every pod and every address, ingress from every pod. The application
//! pods the operator injects get policies of their own that only accept (their egress for code
//! modules, the code-module download, OTLP export and DNS, E12, E13, E29 and E1), with the
//! namespaces the operator labels for the DynaKube as subject; in the Admin tier they hold
//! whatever the namespaces' own NetworkPolicies say.
//!
//! What the API cannot name, notes say: ingress rules name pods only, so connections to the
//! Dynatrace pods from nodes (kubelet probes, host-network OneAgents), kube-apiserver and
//! outside the cluster are admitted, and the rest refused, by NetworkPolicies written beside
//! (`ingress.rs`: the Kubernetes flavor's ingress of the workloads these policies cover);
//! host-network pods are never subjects. Hosts become `networks` of their
//! addresses (the hosts file or the lock, as in the Kubernetes flavor), or in the experimental
//! channel `domainNames`, whose `*.` matches one or more labels (in Cilium's `toFQDNs` it
//! matches one).
//!
//! Priorities come from a configurable range: two policies share one only where they cannot
//! decide one connection differently (see `policy.rs`). Names start with the tool's prefix and
//! the operator namespace (`dynakube-netpol.dynatrace.dk-activegate-egress`), so that they
//! cannot collide with the cluster's other policies, which share one namespace of names.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::resolve::FixedHosts;
//! use dynakube_netpol::resources::Inputs;
//! use dynakube_netpol::{Flavor, FlavorSettings, GenerateOptions};
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   activeGate: {capabilities: [routing]}
//! ";
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default())?;
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//! let mut settings = FlavorSettings::default();
//! settings.set(Flavor::ClusterNetworkPolicy, "tier", "baseline").unwrap();
//! let options = GenerateOptions {
//!     flavor: Flavor::ClusterNetworkPolicy,
//!     settings,
//!     ..GenerateOptions::default()
//! };
//! let generated = dynakube_netpol::generate(&inputs, &ClusterProfile::default(), &options, &hosts)?;
//! let egress = generated
//!     .policies
//!     .iter()
//!     .find(|p| p.name == "dynakube-netpol.dynatrace.dk-activegate-egress")
//!     .unwrap()
//!     .to_json();
//! assert_eq!(egress["spec"]["tier"], "Baseline");
//! let rules = egress["spec"]["egress"].as_array().unwrap();
//! let tenant = rules.iter().find(|r| r["name"] == "accept-communication-endpoints").unwrap();
//! assert_eq!(tenant["to"][0]["networks"][0], "203.0.113.10/32");
//! assert_eq!(rules.last().unwrap()["action"], "Deny");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

mod ingress;
mod model;
mod notes;
mod policy;
mod select;
mod settings;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use self::model::{DomainName, KIND as CNP_KIND};
use self::select::{Labels, PodsOf};
use self::settings::Options;
use crate::flavor::FlavorSettings;
use crate::lock::Reach;
use crate::matrix::{
    ApiServer, Direction, Endpoint, Flow, Matrix, Pods, PodsKind, Port, Ports, RowId, Selection,
    Workload,
};
use crate::render::{Rendered, group_name};
use crate::resolve::{Addresses, public_internet};
use crate::resources::ResourceRef;
use crate::values::{Cidr, Host, HostName, HostPattern};

/// The ClusterNetworkPolicy flavor in the registry ([`crate::flavor`]).
pub(crate) const UNIT: crate::flavor::Unit = crate::flavor::Unit {
    name: "cluster-network-policy",
    summary: "policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicies of the Admin or Baseline tier, for the Dynatrace workloads and the application namespaces the operator injects (hosts as networks, or domainNames in the experimental channel)",
    kinds: &[KIND, ingress::KIND],
    settings: &[settings::TIER, settings::CHANNEL, settings::PRIORITIES],
    hosts: needed_hosts,
    needs_every_address: true,
    render,
};

/// What this flavor writes.
const KIND: (&str, &str) = (model::API_VERSION, CNP_KIND);

/// Who a policy applies to, in which direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    /// A Dynatrace workload's pods: its rules, then a closing Deny.
    Workload(Workload, Direction),
    /// The application pods the operator injects for a DynaKube: their egress, accepted only.
    Apps(Workload),
    /// Application pods the cluster profile names (classic full stack): their egress, accepted
    /// only.
    AppPods(Pods),
}

impl Owner {
    fn direction(&self) -> Direction {
        match self {
            Owner::Workload(_, direction) => *direction,
            Owner::Apps(_) | Owner::AppPods(_) => Direction::Egress,
        }
    }
}

/// A peer in the making: a form that sorts and compares. The peers of a rule are packed into
/// the API's peers at the end (addresses and names into lists of at most 25).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Peer {
    /// Pods, every pod of their namespaces when `pods` is `None`.
    Pods(PodsOf),
    /// An address block.
    Network(Cidr),
    /// Every node's addresses (experimental channel).
    Nodes,
    /// A host by name (experimental channel).
    Domain(DomainName),
}

/// The rules of one group of peers: peers per port set.
type GroupRules = BTreeMap<Ports, BTreeSet<Peer>>;

/// One policy in the making.
#[derive(Debug, Default)]
struct Draft {
    /// The rules by group of peers, named as the Kubernetes flavor names its policies.
    groups: BTreeMap<String, GroupRules>,
    refs: BTreeSet<RowId>,
    purposes: BTreeSet<&'static str>,
    sources: BTreeSet<ResourceRef>,
}

impl Draft {
    fn add(&mut self, group: String, rules: Vec<(Ports, BTreeSet<Peer>)>, flow: &Flow) {
        let group = self.groups.entry(group).or_default();
        for (ports, peers) in rules {
            group.entry(ports).or_default().extend(peers);
        }
        self.refs.extend(flow.refs.iter().copied());
        self.sources.extend(flow.sources.iter().cloned());
        self.purposes.insert(flow.purpose);
    }
}

/// Renders the matrix as ClusterNetworkPolicies with `settings`.
fn render(matrix: &Matrix, addresses: &Addresses, settings: &FlavorSettings) -> Rendered {
    let options = Options::of(settings);
    let mut renderer = Renderer {
        matrix,
        addresses,
        named: options.named(&matrix.profile),
        drafts: BTreeMap::new(),
        notes: notes::Notes::default(),
    };
    for flow in &matrix.flows {
        renderer.flow(flow);
    }
    renderer.subjects_without_flows();
    let Renderer {
        drafts,
        mut notes,
        named,
        ..
    } = renderer;
    notes.plugin(&options, &matrix.profile, named);
    let covered: BTreeSet<Workload> = (drafts.keys())
        .filter_map(|owner| match owner {
            Owner::Workload(w, Direction::Ingress) => Some(w.clone()),
            _ => None,
        })
        .collect();
    let mut rendered = policy::finish(matrix, &options, named, drafts, notes);
    let (policies, warnings) = ingress::network_policies(matrix, addresses, &covered);
    rendered.policies.extend(policies);
    for warning in warnings {
        if !rendered.notes.contains(&warning) {
            rendered.notes.push(warning);
        }
    }
    rendered.notes.sort();
    rendered
}

/// The host names of `matrix` that need addresses: those of the flows this flavor writes a
/// rule for, less those the experimental channel names in `domainNames`.
fn needed_hosts(matrix: &Matrix, settings: &FlavorSettings) -> BTreeMap<HostName, Reach> {
    let named = Options::of(settings).named(&matrix.profile);
    let written: Vec<&Flow> = (matrix.flows.iter())
        .filter(|flow| egress_owner(&flow.from).is_some())
        .collect();
    let by_name = |name: &HostName| named && domain_name(name, matrix).is_some();
    crate::lock::needed_hosts(matrix)
        .into_iter()
        .filter(|(name, _)| {
            !by_name(name)
                && written.iter().any(|flow| match &flow.to {
                    Endpoint::Host {
                        host: Host::Name(host),
                        ..
                    } => host == name,
                    Endpoint::HostPattern(HostPattern::Name(host)) => host == name,
                    _ => false,
                })
        })
        .collect()
}

/// The policy that carries the egress of `source`, if this flavor writes one: a Dynatrace
/// workload's own, or the application pods'. Host-network pods are never subjects.
fn egress_owner(source: &Endpoint) -> Option<Owner> {
    match source {
        Endpoint::Workload(w) => match &w.selection {
            Selection::Pods(_) => Some(Owner::Workload(w.clone(), Direction::Egress)),
            Selection::Namespaces { .. } => Some(Owner::Apps(w.clone())),
            Selection::HostNetwork(_) => None,
        },
        // Pods that are no Dynatrace workload are subjects as application pods only: those of
        // the cluster profile (classic full stack), and every pod as the sender of telemetry
        // the collector ingests (I17).
        Endpoint::Pods(pods) if pods.kind.applications() || pods.kind == PodsKind::Any => {
            Some(Owner::AppPods(pods.clone()))
        }
        _ => None,
    }
}

struct Renderer<'a> {
    matrix: &'a Matrix,
    addresses: &'a Addresses,
    /// Whether nodes and hosts are named with the `nodes` and `domainNames` peers.
    named: bool,
    drafts: BTreeMap<Owner, Draft>,
    notes: notes::Notes,
}

impl Renderer<'_> {
    fn flow(&mut self, flow: &Flow) {
        let mut written = false;
        if let Some(owner) = egress_owner(&flow.from)
            && let Some(rules) = self.egress(&flow.to, &flow.ports, &flow.refs)
        {
            let group = group_name(&flow.to);
            self.drafts
                .entry(owner)
                .or_default()
                .add(group, rules, flow);
            written = true;
        }
        if let Some(destination) = flow.to.policy_subject() {
            match self.ingress(&flow.from) {
                Some(peer) => {
                    let owner = Owner::Workload(destination.clone(), Direction::Ingress);
                    let group = group_name(&flow.from);
                    let rules = vec![(flow.ports.clone(), BTreeSet::from([peer]))];
                    self.drafts
                        .entry(owner)
                        .or_default()
                        .add(group, rules, flow);
                    written = true;
                }
                None => {
                    self.notes.left_to_network_policies(flow, destination);
                    written = true;
                }
            }
        }
        if !written {
            self.notes.unwritten(flow, self.named);
        }
    }

    /// Every Dynatrace workload that has policies gets both directions, so that the closing
    /// Deny of a direction without flows still holds.
    fn subjects_without_flows(&mut self) {
        let workloads: BTreeSet<Workload> = self
            .drafts
            .keys()
            .filter_map(|owner| match owner {
                Owner::Workload(w, _) => Some(w.clone()),
                _ => None,
            })
            .collect();
        for w in workloads {
            for direction in [Direction::Ingress, Direction::Egress] {
                self.drafts
                    .entry(Owner::Workload(w.clone(), direction))
                    .or_default();
            }
        }
    }

    /// The source of an ingress rule; `None` for what ingress rules cannot name (nodes, the
    /// host network, kube-apiserver, addresses).
    fn ingress(&self, source: &Endpoint) -> Option<Peer> {
        match source {
            Endpoint::Workload(w) => match &w.selection {
                Selection::Pods(selector) => Some(Peer::Pods(PodsOf {
                    namespaces: Labels::namespace(w.namespace.as_str()),
                    pods: Some(Labels::of(selector)),
                })),
                Selection::Namespaces { key, value } => Some(Peer::Pods(self.apps(key, value))),
                Selection::HostNetwork(_) => None,
            },
            Endpoint::Pods(pods) => Some(Peer::Pods(pods_of(pods))),
            _ => None,
        }
    }

    /// The application namespaces labelled `key=value`, but the operator namespace.
    fn apps(&self, key: &str, value: &str) -> PodsOf {
        PodsOf {
            namespaces: Labels::label(key, value).except_namespace(self.matrix.namespace.as_str()),
            pods: None,
        }
    }

    /// The rules that admit `endpoint` on `ports`: usually one; kube-apiserver has two. `None`
    /// when it cannot be written (no addresses, no fixed peer).
    fn egress(
        &mut self,
        endpoint: &Endpoint,
        ports: &Ports,
        refs: &BTreeSet<RowId>,
    ) -> Option<Vec<(Ports, BTreeSet<Peer>)>> {
        let one = |peers: BTreeSet<Peer>| Some(vec![(ports.clone(), peers)]);
        match endpoint {
            Endpoint::Workload(w) => match &w.selection {
                Selection::Pods(selector) => one(BTreeSet::from([Peer::Pods(PodsOf {
                    namespaces: Labels::namespace(w.namespace.as_str()),
                    pods: Some(Labels::of(selector)),
                })])),
                Selection::HostNetwork(_) => one(self.nodes(refs)),
                Selection::Namespaces { key, value } => {
                    one(BTreeSet::from([Peer::Pods(self.apps(key, value))]))
                }
            },
            Endpoint::Pods(pods) => one(BTreeSet::from([Peer::Pods(pods_of(pods))])),
            Endpoint::Nodes(_) => one(self.nodes(refs)),
            Endpoint::KubeApiServer(api) => Some(self.api_server(api, ports, refs)),
            Endpoint::Dns(dns) => {
                let pods = Peer::Pods(PodsOf {
                    namespaces: Labels::namespace(dns.namespace),
                    pods: Some(Labels::pairs(&dns.labels)),
                });
                let cache = dns.cache.map(|ip| Peer::Network(Cidr::of_ip(ip)));
                one(cache.into_iter().chain([pods]).collect())
            }
            Endpoint::Host { host, .. } => one(self.host(host, refs)?),
            Endpoint::HostPattern(pattern) => one(self.pattern(pattern)?),
            Endpoint::Blocks(blocks) => one(networks(&blocks.cidrs)),
            Endpoint::Unbounded(_) => None,
        }
    }

    /// A host: by name in the experimental channel where the CRD's pattern takes it, else by
    /// its addresses (or every public address, where the fallback says so).
    fn host(&mut self, host: &Host, refs: &BTreeSet<RowId>) -> Option<BTreeSet<Peer>> {
        if let Host::Name(name) = host {
            if self.named
                && let Some(domain) = domain_name(name, self.matrix)
            {
                self.notes.by_name = true;
                return Some(BTreeSet::from([Peer::Domain(domain)]));
            }
            if self.addresses.public_internet.contains(name) {
                self.notes.public_internet(name, refs);
                return Some(public_blocks());
            }
        }
        Some(networks(&self.addresses.of_host(host)?))
    }

    /// A host pattern: by name in the experimental channel where the CRD's pattern takes it,
    /// else by the addresses the hosts file gives it.
    fn pattern(&mut self, pattern: &HostPattern) -> Option<BTreeSet<Peer>> {
        if self.named
            && let Some(domain) = domain_of(pattern, self.matrix)
        {
            self.notes.by_name = true;
            return Some(BTreeSet::from([Peer::Domain(domain)]));
        }
        match pattern {
            HostPattern::Ip(ip) => Some(networks(&[Cidr::of_ip(*ip)])),
            _ => Some(networks(self.addresses.hosts.get(pattern)?)),
        }
    }

    /// The nodes: the `nodes` peer in the experimental channel; else the profile's node
    /// addresses, or every address with a warning.
    fn nodes(&mut self, refs: &BTreeSet<RowId>) -> BTreeSet<Peer> {
        if self.named {
            return BTreeSet::from([Peer::Nodes]);
        }
        let cidrs = &self.matrix.profile.node_cidrs;
        if cidrs.is_empty() {
            self.notes.widened(notes::Widened::Nodes, refs);
            return anywhere();
        }
        networks(cidrs)
    }

    /// Egress to kube-apiserver: to the Service on the flow's ports and to the endpoints on
    /// theirs, so that it works whether the plugin decides before or after the Service is
    /// translated.
    fn api_server(
        &mut self,
        api: &ApiServer,
        ports: &Ports,
        refs: &BTreeSet<RowId>,
    ) -> Vec<(Ports, BTreeSet<Peer>)> {
        let endpoint_ports = Ports::list(api.endpoint_ports.iter().map(|&p| Port::tcp_of(p)));
        let mut rules = Vec::new();
        if !api.service.is_empty() {
            rules.push((ports.clone(), networks(&api.service)));
        }
        if api.endpoints.is_empty() {
            self.notes.widened(notes::Widened::ApiServer, refs);
            rules.push((union(ports, &endpoint_ports), anywhere()));
        } else {
            rules.push((endpoint_ports, networks(&api.endpoints)));
        }
        rules
    }
}

/// The domain name of a host or pattern, where `domainNames` can name it: the CRD's pattern
/// takes it, and it is no name of the cluster's own (a Service's name selects nothing there,
/// NPEP-133).
fn domain_of(pattern: &HostPattern, matrix: &Matrix) -> Option<DomainName> {
    let domain = matrix.profile.cluster_domain.as_str();
    let own =
        |name: &HostName| name.as_str() == domain || name.as_str().ends_with(&format!(".{domain}"));
    match pattern {
        HostPattern::Name(name) | HostPattern::Below(name) if own(name) => None,
        _ => DomainName::of(pattern),
    }
}

/// The domain name of a host name, as [`domain_of`].
fn domain_name(name: &HostName, matrix: &Matrix) -> Option<DomainName> {
    domain_of(&HostPattern::Name(name.clone()), matrix)
}

/// Pods of the cluster profile: in their namespace, or in every namespace.
fn pods_of(pods: &Pods) -> PodsOf {
    PodsOf {
        namespaces: pods
            .namespace
            .as_ref()
            .map_or_else(Labels::everything, |n| Labels::namespace(n.as_str())),
        pods: (!pods.labels.is_empty()).then(|| Labels::pairs(&pods.labels)),
    }
}

fn networks(cidrs: &[Cidr]) -> BTreeSet<Peer> {
    cidrs.iter().map(|&cidr| Peer::Network(cidr)).collect()
}

/// Every IPv4 and IPv6 address (pods' too, as `networks` match them): the fallback for node and
/// kube-apiserver addresses the cluster profile does not give, always announced by a warning.
fn anywhere() -> BTreeSet<Peer> {
    ["0.0.0.0/0", "::/0"]
        .into_iter()
        .filter_map(|cidr| Cidr::parse(cidr).ok())
        .map(Peer::Network)
        .collect()
}

/// Every public address, as blocks without exceptions (`networks` have none).
fn public_blocks() -> BTreeSet<Peer> {
    public_internet()
        .into_iter()
        .flat_map(|(cidr, except)| policy::subtract(cidr, &except))
        .map(Peer::Network)
        .collect()
}

fn union(a: &Ports, b: &Ports) -> Ports {
    match (a, b) {
        (Ports::List(a), Ports::List(b)) => Ports::List(a.union(b).copied().collect()),
        _ => Ports::Any,
    }
}
