//! The cluster profile, discovered: a dump of the cluster (`kubectl get nodes,services,
//! endpointslices,pods,namespaces,deployments,daemonsets -A -o json`) in, a commented cluster
//! profile out, and the warnings where the profile and the cluster disagree.
//!
//! What the profile takes from the dump, and from where:
//!
//! - `apiServer`: the ClusterIPs of the `kubernetes` Service in `default`, and the addresses
//!   and ports of its EndpointSlices (or Endpoints);
//! - `nodeCIDRs`: each node's own addresses as single-address blocks, as the kubelet picks
//!   them (`GetNodeHostIPs` of the kubelet), never a block that pods share;
//! - `controlPlaneCIDRs`: the nodes labelled `node-role.kubernetes.io/control-plane` or
//!   `master`, else the kube-apiserver static pods of `kube-system`; where a managed control
//!   plane hides them, a comment says what to give instead;
//! - `dns`: OpenShift's DNS, NodeLocal DNSCache and its address, or kube-dns/CoreDNS;
//! - `namespace`, `operatorVersion`, `csiDriver` and `helm.webhook`: the operator's
//!   Deployment, its CSI driver and its webhook, read as [`ChartFacts`] reads a rendered chart;
//! - `prometheus`: the pods of a Prometheus;
//! - and, as comments, the platform (EKS, GKE, AKS, OpenShift, kubeadm) with its caveats,
//!   the network plugin, and Cilium.
//!
//! The guard where profile and cluster disagree is [`verify::blocks_holding_pods`]: address
//! blocks of the nodes, the control plane or kube-apiserver that hold pod addresses widen
//! every rule that names them; `verify` runs it on the pods it is given, [`profile`] on the
//! pods of the dump.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::advice::{Remedy, Setting, Words};
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::source::Limits;
//!
//! /// How this program names settings in the comments (the command line says `--flavor`).
//! struct Plain;
//! impl Words for Plain {
//!     fn setting(&self, setting: Setting) -> String { setting.name().to_owned() }
//!     fn remedy(&self, _: &Remedy) -> Option<String> { None }
//!     fn profile_field(&self, field: &str) -> String { field.to_owned() }
//! }
//!
//! let dump = r#"{"apiVersion": "v1", "kind": "List", "items": [
//!   {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
//!    "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.11"},
//!                             {"type": "Hostname", "address": "n1"}]}},
//!   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
//!    "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"]}},
//!   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
//!    "status": {"podIP": "10.244.1.5"}}
//! ]}"#;
//! let found = dynakube_netpol::discover::profile(&[("dump.json".into(), dump.into())], &Limits::default())?;
//! assert_eq!(found.profile.node_cidrs[0].to_string(), "192.0.2.11/32");
//! assert_eq!(found.profile.api_server.service_cidrs[0].to_string(), "10.96.0.1/32");
//!
//! // The commented profile reads back as the same profile.
//! let text = found.to_yaml(&Plain);
//! assert!(text.contains("  - 192.0.2.11/32  # n1\n"), "{text}");
//! let read_back = ClusterProfile::parse("cluster.yaml", &text)?;
//! assert_eq!(read_back.node_cidrs, found.profile.node_cidrs);
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```
//!
//! [`ChartFacts`]: crate::stream::ChartFacts
//! [`verify::blocks_holding_pods`]: crate::verify::blocks_holding_pods

mod decide;
mod overlap;
mod platform;
mod read;
mod render;
mod stream;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub(crate) use decide::{discover, local_ip_argument};
pub(crate) use overlap::{BlockRows, blocks_holding_pods, pod_addresses};
pub(crate) use platform::Platform;
pub(crate) use read::{Item, Kept, Key, PodParts, kept_addresses, objects, read};
pub(crate) use stream::{StreamPart, Visit, objects as stream_objects};

use crate::advice::Remedy;
use crate::cluster::ClusterProfile;
use crate::error::Result;
use crate::matrix::Note;
use crate::source::Limits;

/// Reads the cluster dumps of `files` (name and text each: what `kubectl get nodes,services,
/// endpointslices,pods,namespaces,deployments,daemonsets -A -o json` or `-o yaml` prints, a
/// `List`, lists of one kind or single objects in several documents) as one cluster, and
/// discovers its profile.
///
/// A dump that is not one, or a field of the wrong type or an address that is no IP address
/// where the profile reads it, is an error naming the file, document and field.
pub fn profile(files: &[(String, String)], limits: &Limits) -> Result<Discovery> {
    Ok(discover(&read(files, limits)?))
}

/// What a dump says about the cluster: the profile, the comments that say where each value
/// came from and what to check, and the warnings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Discovery {
    /// The profile.
    pub profile: ClusterProfile,
    /// The platform, when the dump shows one.
    pub(crate) platform: Option<Platform>,
    /// Warnings (and a few notes) for standard error; the comments of the profile hold them
    /// too.
    pub notes: Vec<Note>,
    /// The comments of each part of the profile.
    said: BTreeMap<Part, Vec<Said>>,
    /// What each block of `nodeCIDRs` is, in its order.
    node_names: Vec<String>,
    /// What each block of `controlPlaneCIDRs` is, in its order.
    control_plane_names: Vec<String>,
}

/// The parts of a written profile, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Header,
    Namespace,
    OperatorVersion,
    ApiServer,
    Dns,
    Nodes,
    ControlPlane,
    Prometheus,
    CsiDriver,
    Helm,
    Cilium,
    NetworkPlugin,
}

/// A comment: text, or text followed by a remedy the front end words (`--flavor cilium`,
/// `spec.flavor: cilium`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    Text(String),
    Advice(String, Remedy),
}

impl Discovery {
    /// An empty discovery of the default profile.
    fn new() -> Self {
        Discovery {
            profile: ClusterProfile::default(),
            platform: None,
            notes: Vec::new(),
            said: BTreeMap::new(),
            node_names: Vec::new(),
            control_plane_names: Vec::new(),
        }
    }

    /// Adds the comment `text` to `part`.
    fn say(&mut self, part: Part, text: impl Into<String>) {
        self.said
            .entry(part)
            .or_default()
            .push(Said::Text(text.into()));
    }

    /// Adds `text` as a note of `level` on `field` to the notes, and to the comments of
    /// `part`.
    fn warn(&mut self, part: Part, level: crate::matrix::Level, field: &str, text: String) {
        let note = Note::new(level, &[], text);
        let note = if field.is_empty() {
            note
        } else {
            note.at(format!("cluster profile {field}"))
        };
        self.say(part, commented(&note));
        self.notes.push(note);
    }
}

/// A note as a sentence of a comment: `Warning: text.`
fn commented(note: &Note) -> String {
    let level = match note.level {
        crate::matrix::Level::Info => "Note",
        crate::matrix::Level::Warning => "Warning",
    };
    let refs = if note.refs.is_empty() {
        String::new()
    } else {
        format!(" ({})", crate::matrix::rows_joined(&note.refs))
    };
    format!("{level}{refs}: {}.", note.text)
}
