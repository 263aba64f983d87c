//! Renderers: the matrix as policies of one flavor. What the flavors share lives here: which
//! workloads get policies, how policies are grouped and named, and their labels.
//!
//! # Example
//!
//! Both flavors name their policies alike: `<workload>-<direction>-<peers>`.
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::matrix::{self, Options};
//! use dynakube_netpol::Flavor;
//! use dynakube_netpol::resolve::{Fallback, FixedHosts, resolve};
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
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//! let addresses = resolve(&matrix, &hosts, Fallback::Fail, &Default::default())?;
//!
//! let kubernetes = Flavor::Kubernetes.render(&matrix, &addresses);
//! let cilium = Flavor::Cilium.render(&matrix, &addresses);
//! for policy in &kubernetes.policies {
//!     assert!(cilium.policies.iter().any(|p| p.name == policy.name), "{}", policy.name);
//! }
//! // Every policy carries the tool's labels; `sources` says which resources made it.
//! let labels = &kubernetes.policies[1].to_json()["metadata"]["labels"];
//! assert!(labels.as_object().unwrap().keys().any(|key| key.starts_with("dynakube-netpol/")));
//! let tenant = kubernetes
//!     .policies
//!     .iter()
//!     .find(|p| p.name == "dk-activegate-egress-communication-endpoints")
//!     .unwrap();
//! assert_eq!(tenant.sources.iter().next().unwrap().to_string(), "DynaKube dynatrace/dk");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

pub(crate) mod cilium;
pub(crate) mod cnp;
pub(crate) mod kubernetes;

use crate::matrix::{
    Direction, Endpoint, Flow, HostRole, INSTANCE_NAMESPACE_LABEL, Note, Pods, RowId, Selection,
    Workload,
};
use crate::resources::ResourceRef;
use crate::values::{Host, HostPattern, Name};
use std::collections::{BTreeMap, BTreeSet};

/// The prefix, as a literal for `concat!`.
macro_rules! prefix {
    () => {
        "dynakube-netpol"
    };
}

/// The label and annotation prefix of everything this tool writes.
pub(crate) const PREFIX: &str = prefix!();
/// The label that names the component a policy is for.
pub(crate) const COMPONENT_LABEL: &str = concat!(prefix!(), "/component");
/// The label that names the DynaKube or EdgeConnect a policy is for.
pub(crate) const INSTANCE_LABEL: &str = concat!(prefix!(), "/instance");
/// The annotation that lists the reference rows a policy implements.
pub(crate) const FLOWS_ANNOTATION: &str = concat!(prefix!(), "/flows");
/// The annotation that says in words what a policy allows.
pub(crate) const DESCRIPTION_ANNOTATION: &str = concat!(prefix!(), "/description");

/// The policies of one flavor, with the notes made while rendering them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The policies: default deny first, then the allow policies by workload.
    pub policies: Vec<Policy>,
    /// Remarks on what could not be expressed or was widened.
    pub notes: Vec<crate::matrix::Note>,
}

/// One policy object of any flavor, as the tool writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its `metadata.name`.
    pub name: String,
    /// Its `apiVersion` and `kind`, one of its flavor's
    /// (`Flavor::kinds`).
    pub kind: (&'static str, &'static str),
    /// The resources whose settings made it; none for the policies of the cluster
    /// components alone (the default deny).
    pub sources: BTreeSet<ResourceRef>,
    /// The object as YAML, serialized once from the renderer's typed value.
    yaml: String,
}

impl Policy {
    /// The policy `object` of the kind `kind`, named `name`.
    pub(crate) fn new<T: serde::Serialize>(
        object: &T,
        kind: (&'static str, &'static str),
        name: String,
        sources: BTreeSet<ResourceRef>,
    ) -> Self {
        let yaml = serde_yaml::to_string(object).expect("a policy serializes as YAML");
        Policy {
            name,
            kind,
            sources,
            yaml,
        }
    }

    /// The object as YAML (one document, without `---`).
    pub(crate) fn yaml(&self) -> &str {
        &self.yaml
    }

    /// The object as JSON (`apiVersion`, `kind`, `metadata`, `spec`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_yaml::from_str(&self.yaml).expect("the tool's own YAML reads back")
    }

    /// The object as a type of one's own, such as k8s-openapi's `NetworkPolicy`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> crate::Result<T> {
        serde_yaml::from_str(&self.yaml).map_err(|e| {
            crate::Error::invalid(
                crate::Location::new(format!("{}.yaml", self.name), None, ""),
                e.to_string(),
            )
        })
    }
}

/// Why a flow gets no rule in a flavor: the one place that decides it, for every flavor. Each
/// flavor words the note on it, with its own advice.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unexpressed<'a> {
    /// The source runs in the host network, where namespaced policies do not apply.
    HostNetworkSource(&'a Workload),
    /// The source is application pods outside the operator namespace.
    AppSource(&'a Workload),
    /// The source is pods the cluster profile names outside the operator namespace (the
    /// applications of a classic full-stack OneAgent).
    AppPods(&'a Pods),
    /// The destination runs in the host network (the webhook with Helm's
    /// `webhook.hostNetwork`), where namespaced policies do not apply.
    HostNetworkDestination(&'a Workload),
    /// The peer is a host pattern without addresses.
    PatternWithoutAddresses(&'a HostPattern),
    /// The peer is a registry's CDN host without addresses.
    CdnWithoutAddresses(&'a Host),
    /// The peer has no fixed identity or port.
    NoFixedPeer,
}

impl<'a> Unexpressed<'a> {
    /// Why `flow` got no rule.
    pub(crate) fn of(flow: &'a Flow) -> Self {
        match (flow.from.workload(), &flow.from, &flow.to) {
            (Some(w), ..) if matches!(w.selection, Selection::HostNetwork(_)) => {
                Unexpressed::HostNetworkSource(w)
            }
            (Some(w), ..) if matches!(w.selection, Selection::Namespaces { .. }) => {
                Unexpressed::AppSource(w)
            }
            (_, _, Endpoint::Workload(w)) if matches!(w.selection, Selection::HostNetwork(_)) => {
                Unexpressed::HostNetworkDestination(w)
            }
            (_, Endpoint::Pods(pods), _) => Unexpressed::AppPods(pods),
            (.., Endpoint::HostPattern(pattern)) => Unexpressed::PatternWithoutAddresses(pattern),
            (
                ..,
                Endpoint::Host {
                    host,
                    role: HostRole::RegistryCdn,
                },
            ) => Unexpressed::CdnWithoutAddresses(host),
            _ => Unexpressed::NoFixedPeer,
        }
    }
}

/// What every flavor says of a workload in the host network, where no namespaced policy of
/// any flavor reaches it.
pub(crate) fn in_host_network(workload: &Workload) -> String {
    format!(
        "{workload} runs in the host network, where namespaced policies neither restrict nor protect it"
    )
}

/// A peer of `flow` and the flow's ports, as notes list them: `abc12345.live.dynatrace.com
/// (443/TCP)`.
pub(crate) fn peer_on_ports(peer: &Endpoint, flow: &Flow) -> String {
    format!("{peer} ({})", flow.ports)
}

/// The note on a flow to a workload in the host network ([`Unexpressed::HostNetworkDestination`]),
/// the same in every flavor; the flows from several peers make one note listing them.
pub(crate) fn to_host_network(workload: &Workload, flow: &Flow) -> Note {
    Note::listing(
        flow,
        format!("{}: traffic to it from ", in_host_network(workload)),
        peer_on_ports(&flow.from, flow),
        " is not governed by these policies; protect it with a host firewall",
    )
}

/// What every flavor says of application pods outside the operator namespace
/// ([`Unexpressed::AppSource`], [`Unexpressed::AppPods`]): that `apps` need egress to the flow's
/// peer, and the flavor's `advice`; the flows to several peers make one note listing them.
pub(crate) fn apps_need_egress(apps: &str, flow: &Flow, advice: &str) -> Note {
    Note::listing(
        flow,
        format!("{apps} need egress to "),
        peer_on_ports(&flow.to, flow),
        format!(" wherever their namespace restricts egress{advice}"),
    )
}

/// The application pods the operator injects for the DynaKube of `workload`, in words.
pub(crate) fn injected_apps(workload: &Workload) -> String {
    format!(
        "application pods in namespaces labelled {INSTANCE_NAMESPACE_LABEL}={}",
        workload.instance.as_ref().map_or("", |n| n.as_str())
    )
}

/// One policy: the workload it selects, the direction, and the group of peers it admits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PolicyGroup {
    pub(crate) workload: Workload,
    pub(crate) direction: Direction,
    pub(crate) peers: String,
}

impl PolicyGroup {
    /// `<workload>-<direction>-<peers>`, such as `dynakube-activegate-ingress-nodes`.
    pub(crate) fn name(&self) -> String {
        format!(
            "{}-{}-{}",
            self.workload.name(),
            self.direction.name(),
            self.peers
        )
    }
}

/// The group of `peer` in the policies of `workload`.
pub(crate) fn group_of(workload: &Workload, direction: Direction, peer: &Endpoint) -> PolicyGroup {
    PolicyGroup {
        workload: workload.clone(),
        direction,
        peers: group_name(peer),
    }
}

/// The name of the group of peers `peer` belongs to: `dns`, `kube-apiserver`, `nodes`, ...
pub(crate) fn group_name(peer: &Endpoint) -> String {
    match peer {
        // Host-network pods reach others from node addresses, like the kubelet.
        Endpoint::Workload(w) if matches!(w.selection, Selection::HostNetwork(_)) => "nodes",
        Endpoint::Workload(w) => w.component.name(),
        Endpoint::Pods(pods) => pods.kind.name(),
        Endpoint::Nodes(_) => "nodes",
        Endpoint::KubeApiServer(_) => "kube-apiserver",
        Endpoint::Dns(_) => "dns",
        Endpoint::Host { role, .. } => role.name(),
        Endpoint::HostPattern(_) => "edgeconnect-hosts",
        Endpoint::Blocks(blocks) => blocks.name,
        Endpoint::Unbounded(_) => "unbounded",
    }
    .to_string()
}

/// Whom a policy is for, as its labels and description say: the component (a label), the
/// DynaKube or EdgeConnect (a label, if any), and the name the description gives.
pub(crate) struct Whom<'a> {
    pub(crate) component: &'static str,
    pub(crate) instance: Option<&'a Name>,
    pub(crate) name: String,
}

impl<'a> Whom<'a> {
    /// A workload.
    pub(crate) fn of(workload: &'a Workload) -> Self {
        Whom {
            component: workload.component.name(),
            instance: workload.instance.as_ref(),
            name: workload.name(),
        }
    }
}

impl PolicyGroup {
    /// Whom the group's policy is for: its workload.
    pub(crate) fn whom(&self) -> Whom<'_> {
        Whom::of(&self.workload)
    }
}

/// Labels and annotations of an allow policy: who made it, for whom, and the reference rows
/// and purposes it implements.
pub(crate) fn annotations(
    whom: &Whom<'_>,
    direction: Direction,
    peers: &str,
    refs: &BTreeSet<RowId>,
    purposes: &BTreeSet<&'static str>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut labels = BTreeMap::from([
        (
            crate::stream::MANAGED_BY.0.to_string(),
            crate::stream::MANAGED_BY.1.to_string(),
        ),
        (COMPONENT_LABEL.to_string(), whom.component.to_string()),
    ]);
    if let Some(instance) = whom.instance {
        labels.insert(INSTANCE_LABEL.to_string(), instance.to_string());
    }
    let towards = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let purposes: Vec<&str> = purposes.iter().copied().collect();
    let annotations = BTreeMap::from([
        (
            FLOWS_ANNOTATION.to_string(),
            crate::matrix::rows_joined(refs),
        ),
        (
            DESCRIPTION_ANNOTATION.to_string(),
            format!(
                "{} of {} {towards} {peers}: {}.",
                capitalized(direction.name()),
                whom.name,
                purposes.join("; ")
            ),
        ),
    ]);
    (labels, annotations)
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_uppercase().to_string() + chars.as_str()
    })
}
