//! The Cilium flavor: `cilium.io/v2` CiliumNetworkPolicies from the same matrix as the
//! Kubernetes flavor, naming hosts with `toFQDNs` and cluster peers with entities.
//!
//! Per workload, direction and peer group there is one policy, named like its Kubernetes
//! counterpart. Hosts become `toFQDNs` (with the DNS rule Cilium needs to learn their
//! addresses), kube-apiserver the `kube-apiserver` entity, kubelet probes the `host` entity,
//! host-network OneAgents and the kubelets of every node `host` and `remote-node`. Optional
//! clusterwide policies cover the host-network OneAgent (host firewall) and the egress of
//! application pods (injected ones, and those of the cluster profile's
//! `classicFullStackNamespaces`); they only add allows and never switch their subjects into
//! default deny.
//!
//! DNS rules: each workload may resolve the names of the hosts it reaches (`matchName`) and
//! names under the cluster domain (`matchPattern: "*.<clusterDomain>"`), which covers every
//! search-path expansion a pod tries first. Cilium's DNS proxy refuses other names, so a pod
//! cannot use DNS to reach hosts outside its matrix. Application pods (opt-in clusterwide
//! policy) get `matchPattern: "*"`: their own lookups are not ours to restrict.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::matrix::{self, Options};
//! use dynakube_netpol::Flavor;
//! use dynakube_netpol::resolve::{Fallback, FixedHosts, resolve_known};
//! use dynakube_netpol::resources::Inputs;
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
//! let matrix = matrix::build(&inputs, &ClusterProfile::default(), &Options::default())?;
//! // Hosts are named, not resolved: addresses matter only for IP literals and host policies.
//! let addresses = resolve_known(&matrix, &FixedHosts::default(), Fallback::Fail, &Default::default())?;
//!
//! let rendered = Flavor::Cilium.render(&matrix, &addresses);
//! let tenant = rendered
//!     .policies
//!     .iter()
//!     .find(|p| p.name == "dk-activegate-egress-communication-endpoints")
//!     .unwrap();
//! let json = tenant.to_json();
//! assert_eq!(json["kind"], "CiliumNetworkPolicy");
//! let fqdns: Vec<&serde_json::Value> = json["spec"]["egress"]
//!     .as_array()
//!     .unwrap()
//!     .iter()
//!     .filter_map(|rule| rule.get("toFQDNs"))
//!     .collect();
//! assert_eq!(fqdns[0][0]["matchName"], "abc12345.live.dynatrace.com");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

pub(crate) mod model;
mod policy;

use std::collections::{BTreeMap, BTreeSet};

use self::model::{
    CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy, EndpointSelector, Entity, FqdnPattern,
    FqdnSelector, LabelSelectorRequirement, NAMESPACE_LABEL, NAMESPACE_LABELS_PREFIX,
};
use super::{PolicyGroup, Rendered, Unexpressed, group_of};
use crate::matrix::{
    Direction, Endpoint, Flow, Level, Matrix, NodeScope, Nodes, Note, Pods, Port, Ports, RowId,
    Selection, Workload,
};
use crate::resolve::Addresses;
use crate::resources::ResourceRef;
use crate::values::{Cidr, Host, HostName, HostPattern};
use serde::Serialize;

/// One object of the Cilium flavor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum CiliumObject {
    /// A namespaced policy.
    Namespaced(CiliumNetworkPolicy),
    /// A clusterwide policy (host firewall, application namespaces).
    Clusterwide(CiliumClusterwideNetworkPolicy),
}

impl CiliumObject {
    /// The object's name.
    pub(crate) fn name(&self) -> String {
        let metadata = match self {
            CiliumObject::Namespaced(p) => p.metadata(),
            CiliumObject::Clusterwide(p) => p.metadata(),
        };
        metadata.name.clone().unwrap_or_default()
    }

    /// The object's rule.
    #[cfg(test)]
    pub(crate) fn spec(&self) -> &model::Rule {
        match self {
            CiliumObject::Namespaced(p) => p.spec(),
            CiliumObject::Clusterwide(p) => p.spec(),
        }
    }
}

/// The Cilium flavor in the registry ([`crate::flavor`]): namespaced policies (default deny,
/// then per workload), then clusterwide ones.
pub(crate) const UNIT: crate::flavor::Unit = crate::flavor::Unit {
    name: "cilium",
    summary: "cilium.io/v2 CiliumNetworkPolicies (hosts as toFQDNs with DNS rules, kube-apiserver and nodes as entities; clusterwide policies for the host firewall and application egress when the cluster profile asks for them)",
    kinds: &[NAMESPACED, CLUSTERWIDE_KIND],
    settings: &[],
    hosts: |matrix, _| crate::lock::needed_by_host_policies(matrix),
    needs_every_address: false,
    render: |matrix, addresses, _| render(matrix, addresses),
};

/// The kinds this flavor writes.
const NAMESPACED: (&str, &str) = ("cilium.io/v2", "CiliumNetworkPolicy");
const CLUSTERWIDE_KIND: (&str, &str) = ("cilium.io/v2", "CiliumClusterwideNetworkPolicy");

impl CiliumObject {
    /// The object's kind.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            CiliumObject::Namespaced(_) => NAMESPACED,
            CiliumObject::Clusterwide(_) => CLUSTERWIDE_KIND,
        }
    }

    /// The object as a policy of the output, made by `sources`.
    pub(crate) fn into_policy(self, sources: BTreeSet<ResourceRef>) -> super::Policy {
        super::Policy::new(&self, self.kind(), self.name(), sources)
    }
}

/// Who a policy applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    /// A namespaced Dynatrace workload.
    Workload(PolicyGroup),
    /// The nodes, for a host-network workload (host firewall).
    Host(Workload),
    /// The injected application namespaces of a DynaKube.
    Apps(Workload),
    /// Application pods the cluster profile names in one namespace (classic full stack).
    AppPods(Pods),
}

/// Whose DNS rules a policy carries: the names of every policy of the same resolver.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Resolver {
    Workload(Workload),
    Pods(Pods),
}

impl Owner {
    /// Whose names the policy's DNS rules list.
    fn resolver(&self) -> Resolver {
        match self {
            Owner::Workload(group) => Resolver::Workload(group.workload.clone()),
            Owner::Host(w) | Owner::Apps(w) => Resolver::Workload(w.clone()),
            Owner::AppPods(pods) => Resolver::Pods(pods.clone()),
        }
    }
}

#[derive(Debug, Default)]
struct Draft {
    ingress: BTreeSet<(Ingress, Ports)>,
    egress: BTreeSet<(Egress, Ports)>,
    refs: BTreeSet<RowId>,
    purposes: BTreeSet<&'static str>,
    sources: BTreeSet<ResourceRef>,
}

impl Draft {
    fn record(&mut self, flow: &Flow) {
        self.refs.extend(flow.refs.iter().copied());
        self.sources.extend(flow.sources.iter().cloned());
        self.purposes.insert(flow.purpose);
    }
}

/// An ingress peer in a form that sorts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ingress {
    Endpoints(EndpointSelector),
    Entities(Vec<Entity>),
}

/// An egress peer in a form that sorts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Egress {
    Endpoints(EndpointSelector),
    Entities(Vec<Entity>),
    Cidrs(Vec<Cidr>),
    Fqdn(HostName),
    /// Every name below this domain.
    Pattern(HostName),
    /// The cluster DNS (its pods, and a node-local cache); `true` when the owner may resolve
    /// any name, else only the names of its other rules.
    Dns(EndpointSelector, Option<Cidr>, bool),
}

/// Renders the matrix as Cilium policies. `addresses` gives IP-literal hosts and, for the host
/// firewall, the addresses of hosts (host policies cannot name hosts).
pub(crate) fn render(matrix: &Matrix, addresses: &Addresses) -> Rendered {
    let typed = objects(matrix, addresses);
    Rendered {
        policies: (typed.objects.into_iter())
            .map(|(object, sources)| object.into_policy(sources))
            .collect(),
        notes: typed.notes,
    }
}

/// The policies of [`render`] as the model's values, each with the resources it comes from.
pub(crate) struct Typed {
    pub(crate) objects: Vec<(CiliumObject, BTreeSet<ResourceRef>)>,
    pub(crate) notes: Vec<Note>,
}

/// The work of [`render`], before the objects are serialized.
pub(crate) fn objects(matrix: &Matrix, addresses: &Addresses) -> Typed {
    let mut renderer = Renderer {
        matrix,
        addresses,
        drafts: BTreeMap::new(),
        notes: BTreeSet::new(),
    };
    for flow in &matrix.flows {
        renderer.flow(flow);
    }
    policy::finish(matrix, renderer.drafts, renderer.notes)
}

struct Renderer<'a> {
    matrix: &'a Matrix,
    addresses: &'a Addresses,
    drafts: BTreeMap<Owner, Draft>,
    notes: BTreeSet<Note>,
}

impl Renderer<'_> {
    fn flow(&mut self, flow: &Flow) {
        let mut rendered = false;
        let owner = match &flow.from {
            Endpoint::Workload(w) => self.egress_owner(w, flow),
            Endpoint::Pods(pods) => self.app_pods_owner(pods),
            _ => None,
        };
        if let Some(owner) = owner {
            let host = matches!(owner, Owner::Host(_));
            if let Some(peer) = self.egress_peer(&flow.to, host) {
                let draft = self.drafts.entry(owner).or_default();
                draft.egress.insert((peer, egress_ports(flow)));
                draft.record(flow);
                rendered = true;
                if let (Endpoint::Blocks(blocks), false) = (&flow.to, host) {
                    self.notes.insert(by_address(flow, blocks));
                }
            }
        }
        if let Some(destination) = flow.to.policy_subject()
            && let Some(peer) = self.ingress_peer(&flow.from)
        {
            let owner = Owner::Workload(group_of(destination, Direction::Ingress, &flow.from));
            let draft = self.drafts.entry(owner).or_default();
            draft.ingress.insert((peer, flow.ports.clone()));
            draft.record(flow);
            rendered = true;
            if matches!(flow.from, Endpoint::KubeApiServer(_))
                && self.matrix.profile.cilium.control_plane_host_network
            {
                self.notes.insert(every_node_as_api_server(flow));
            }
        }
        if !rendered {
            self.unrendered(flow);
        }
    }

    /// The policy that carries the egress of `source`: its own, the host policy of a
    /// host-network workload, or the clusterwide policy of application pods, where the cluster
    /// profile asks for them.
    fn egress_owner(&self, source: &Workload, flow: &Flow) -> Option<Owner> {
        let cilium = &self.matrix.profile.cilium;
        match &source.selection {
            Selection::Pods(_) => Some(Owner::Workload(group_of(
                source,
                Direction::Egress,
                &flow.to,
            ))),
            Selection::HostNetwork(_) if cilium.host_firewall => Some(Owner::Host(source.clone())),
            Selection::Namespaces { .. } if cilium.app_egress => Some(Owner::Apps(source.clone())),
            _ => None,
        }
    }

    /// The clusterwide policy of application pods the cluster profile names, where it asks
    /// for application egress; pods of every namespace get none, since a policy for them
    /// would open the operator namespace too.
    fn app_pods_owner(&self, pods: &Pods) -> Option<Owner> {
        let wanted = self.matrix.profile.cilium.app_egress
            && pods.kind.applications()
            && pods.namespace.is_some();
        wanted.then(|| Owner::AppPods(pods.clone()))
    }

    fn ingress_peer(&self, endpoint: &Endpoint) -> Option<Ingress> {
        Some(match endpoint {
            Endpoint::Workload(w) => match &w.selection {
                Selection::Pods(_) => Ingress::Endpoints(workload_selector(w)),
                Selection::HostNetwork(_) => {
                    Ingress::Entities(vec![Entity::Host, Entity::RemoteNode])
                }
                Selection::Namespaces { key, value } => {
                    Ingress::Endpoints(namespaces_selector(key, value))
                }
            },
            Endpoint::Pods(pods) => Ingress::Endpoints(pods_selector(pods)),
            // Kubelet probes come from the local node only.
            Endpoint::Nodes(Nodes(_, NodeScope::Own)) => Ingress::Entities(vec![Entity::Host]),
            Endpoint::Nodes(Nodes(_, NodeScope::Every)) => {
                Ingress::Entities(vec![Entity::Host, Entity::RemoteNode])
            }
            Endpoint::KubeApiServer(_) if self.matrix.profile.cilium.control_plane_host_network => {
                Ingress::Entities(vec![
                    Entity::Host,
                    Entity::RemoteNode,
                    Entity::KubeApiserver,
                ])
            }
            Endpoint::KubeApiServer(_) => Ingress::Entities(vec![Entity::KubeApiserver]),
            Endpoint::Dns(_)
            | Endpoint::Host { .. }
            | Endpoint::HostPattern(_)
            | Endpoint::Blocks(_)
            | Endpoint::Unbounded(_) => return None,
        })
    }

    /// The egress peer; `host` for host policies, which cannot name hosts or use DNS rules.
    fn egress_peer(&self, endpoint: &Endpoint, host: bool) -> Option<Egress> {
        Some(match endpoint {
            Endpoint::Workload(w) => match &w.selection {
                Selection::Pods(_) => Egress::Endpoints(workload_selector(w)),
                Selection::HostNetwork(_) | Selection::Namespaces { .. } => return None,
            },
            // The kubelet API of the pod's own node, or of every node.
            Endpoint::Nodes(Nodes(_, NodeScope::Own)) => Egress::Entities(vec![Entity::Host]),
            Endpoint::Nodes(Nodes(_, NodeScope::Every)) => {
                Egress::Entities(vec![Entity::Host, Entity::RemoteNode])
            }
            Endpoint::KubeApiServer(_) => Egress::Entities(vec![Entity::KubeApiserver]),
            Endpoint::Dns(dns) => {
                let mut labels = dns.labels.clone();
                labels.insert(NAMESPACE_LABEL.into(), dns.namespace.into());
                Egress::Dns(
                    EndpointSelector::labels(labels),
                    dns.cache.map(Cidr::of_ip),
                    dns.any_name,
                )
            }
            Endpoint::Host { host: target, .. } if host => {
                Egress::Cidrs(self.addresses.of_host(target)?)
            }
            Endpoint::Host {
                host: Host::Ip(ip), ..
            } => Egress::Cidrs(vec![Cidr::of_ip(*ip)]),
            Endpoint::Host {
                host: Host::Name(name),
                ..
            } => Egress::Fqdn(name.clone()),
            Endpoint::HostPattern(HostPattern::Ip(ip)) => Egress::Cidrs(vec![Cidr::of_ip(*ip)]),
            Endpoint::HostPattern(_) if host => return None,
            Endpoint::HostPattern(HostPattern::Name(name)) => Egress::Fqdn(name.clone()),
            Endpoint::HostPattern(HostPattern::Below(domain)) => Egress::Pattern(domain.clone()),
            Endpoint::Pods(pods) if !host => Egress::Endpoints(pods_selector(pods)),
            Endpoint::Blocks(b) => Egress::Cidrs(b.cidrs.clone()),
            Endpoint::Pods(_) | Endpoint::Unbounded(_) => return None,
        })
    }

    fn unrendered(&mut self, flow: &Flow) {
        let peer = || super::peer_on_ports(&flow.to, flow);
        let note = match Unexpressed::of(flow) {
            Unexpressed::HostNetworkSource(w) if self.matrix.profile.cilium.host_firewall => {
                Note::listing(
                    flow,
                    format!(
                        "{w} runs in the host network: host policies cannot name hosts, so its traffic to "
                    ),
                    peer(),
                    " needs the host's addresses in the hosts file",
                )
            }
            Unexpressed::HostNetworkSource(w) => Note::listing(
                flow,
                format!("{w} runs in the host network: its traffic to "),
                peer(),
                " is covered only by a host policy; set `cilium.hostFirewall` in the cluster profile when Cilium's host firewall is on",
            ),
            Unexpressed::HostNetworkDestination(w) => super::to_host_network(w, flow),
            Unexpressed::AppSource(w) => super::apps_need_egress(
                &super::injected_apps(w),
                flow,
                "; set `cilium.appEgress` in the cluster profile to write a clusterwide policy for it",
            ),
            Unexpressed::AppPods(pods) if pods.namespace.is_none() => super::apps_need_egress(
                &pods.describe(),
                flow,
                "; `cilium.appEgress` writes a clusterwide policy for it only for the namespaces listed in the cluster profile's `classicFullStackNamespaces` (one for every namespace would open the operator namespace too)",
            ),
            Unexpressed::AppPods(pods) => super::apps_need_egress(
                &pods.describe(),
                flow,
                "; set `cilium.appEgress` in the cluster profile to write a clusterwide policy for it",
            ),
            Unexpressed::PatternWithoutAddresses(_)
            | Unexpressed::CdnWithoutAddresses(_)
            | Unexpressed::NoFixedPeer => Note::on_flow(
                flow,
                format!(
                    "{} reaches {} on {} ports: no fixed peer; not allowed",
                    flow.from, flow.to, flow.ports
                ),
            ),
        };
        self.notes.insert(note);
    }
}

/// The warning on a flow from kube-apiserver when the control plane runs in the host network:
/// `host` and `remote-node` name every node, not the control plane's alone.
fn every_node_as_api_server(flow: &Flow) -> Note {
    Note::new(
        Level::Warning,
        &flow.refs.iter().copied().collect::<Vec<_>>(),
        format!(
            "kube-apiserver runs in the host network, where Cilium sees its calls as `host` or `remote-node`: entities that name every node, so {} admits every node's host network on {}",
            flow.to, flow.ports
        ),
    )
    .at("cluster profile cilium.controlPlaneHostNetwork")
}

/// The note on a flow to address blocks: Cilium's DNS proxy lets the source resolve only the
/// names of its policies, so a peer it connects to by name fails its lookup although the
/// address is allowed.
fn by_address(flow: &Flow, blocks: &crate::matrix::Blocks) -> Note {
    let cidrs: Vec<String> = blocks.cidrs.iter().map(ToString::to_string).collect();
    Note::on_flow(
        flow,
        format!(
            "{} reaches {} {} ({}) by address: its DNS rule lets it resolve only the names its policies list, so a connection string that names a host there fails its lookup although the address is allowed; give such a peer by `hosts` in the cluster profile's `{}`",
            flow.from,
            blocks.what,
            cidrs.join(", "),
            flow.ports,
            blocks.field
        ),
    )
    .at(format!("cluster profile {}", blocks.field))
}

/// The ports of an egress rule. kube-apiserver is reached through its Service: Cilium sees the
/// endpoint ports as well.
fn egress_ports(flow: &Flow) -> Ports {
    match (&flow.to, &flow.ports) {
        (Endpoint::KubeApiServer(api), Ports::List(list)) => {
            let mut list = list.clone();
            list.extend(api.endpoint_ports.iter().map(|&p| Port::tcp_of(p)));
            Ports::List(list)
        }
        (_, ports) => ports.clone(),
    }
}

/// The endpoints of a Dynatrace workload: its stable labels in its namespace.
fn workload_selector(workload: &Workload) -> EndpointSelector {
    let selector = workload.selection.pods().cloned().unwrap_or_default();
    EndpointSelector::of(&selector, Some(workload.namespace.as_str()))
}

/// Every pod of the namespaces labelled `key=value`.
fn namespaces_selector(key: &str, value: &str) -> EndpointSelector {
    EndpointSelector::labels([(format!("{NAMESPACE_LABELS_PREFIX}{key}"), value)])
}

/// The names a policy owner may resolve: the names and patterns of its hosts, and the cluster
/// domain. Computed once for every owner's workload.
fn resolvable_names(
    drafts: &BTreeMap<Owner, Draft>,
    cluster_domain: &HostName,
) -> BTreeMap<Resolver, BTreeSet<FqdnSelector>> {
    let mut names: BTreeMap<Resolver, BTreeSet<FqdnSelector>> = BTreeMap::new();
    for (owner, draft) in drafts {
        let set = names.entry(owner.resolver()).or_insert_with(|| {
            BTreeSet::from([FqdnSelector::Pattern(FqdnPattern::Below(
                cluster_domain.clone(),
            ))])
        });
        for (peer, _) in &draft.egress {
            match peer {
                Egress::Fqdn(name) => set.insert(FqdnSelector::Name(name.clone())),
                Egress::Pattern(domain) => {
                    set.insert(FqdnSelector::Pattern(FqdnPattern::Below(domain.clone())))
                }
                _ => false,
            };
        }
    }
    names
}

/// The pods of a namespace, or of every namespace (any pod has the namespace label).
fn pods_selector(pods: &Pods) -> EndpointSelector {
    match &pods.namespace {
        Some(namespace) => {
            let mut labels = pods.labels.clone();
            labels.insert(NAMESPACE_LABEL.into(), namespace.to_string());
            EndpointSelector::labels(labels)
        }
        None => EndpointSelector {
            match_labels: pods.labels.clone(),
            match_expressions: vec![LabelSelectorRequirement::exists(NAMESPACE_LABEL)],
        },
    }
}
