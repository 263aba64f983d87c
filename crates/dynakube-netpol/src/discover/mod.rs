//! The cluster profile, discovered: a dump of the cluster (`kubectl get nodes,services,
//! endpointslices,pods,namespaces,deployments,daemonsets -A -o json`) in, a commented cluster
//! profile out, and the warnings where the profile and the cluster disagree.
//!
//! What the profile takes from the dump, and from where:
//!
//! - `apiServer`: the ClusterIPs of the `kubernetes` Service in `default`, and the addresses
//!   and ports of its EndpointSlices (or Endpoints);
//! - `nodeCIDRs`: each node's own addresses as single-address blocks, as the kubelet picks
//!   them ([`Node::host_ips`]), never a block that pods share;
//! - `controlPlaneCIDRs`: the nodes labelled `node-role.kubernetes.io/control-plane` or
//!   `master`; where a managed control plane hides them, a comment says what to give instead;
//! - `dns`: OpenShift's DNS, NodeLocal DNSCache and its address, or kube-dns/CoreDNS;
//! - `namespace`, `operatorVersion`, `csiDriver` and `helm.webhook`: the operator's
//!   Deployment, its CSI driver and its webhook, read as [`ChartFacts`] reads a rendered chart;
//! - `prometheus`: the pods of a Prometheus;
//! - and, as comments, the platform (EKS, GKE, AKS, OpenShift) with its caveats, and Cilium.
//!
//! The guard where profile and cluster disagree is [`blocks_holding_pods`]: address blocks of
//! the nodes, the control plane or kube-apiserver that hold pod addresses widen every rule that
//! names them; `verify` runs it on the pods it is given, [`discover`] on the pods of the dump.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::advice::Neutral;
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::discover::{discover, read};
//! use dynakube_netpol::source::Limits;
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
//! let dump = read(&[("dump.json".into(), dump.into())], &Limits::default())?;
//! let found = discover(&dump);
//! assert_eq!(found.profile.node_cidrs[0].to_string(), "192.0.2.11/32");
//! assert_eq!(found.profile.api_server.service_cidrs[0].to_string(), "10.96.0.1/32");
//!
//! // The commented profile reads back as the same profile.
//! let text = found.to_yaml(&Neutral);
//! assert!(text.contains("  - 192.0.2.11/32  # n1\n"), "{text}");
//! let read_back = ClusterProfile::parse("cluster.yaml", &text)?;
//! assert_eq!(read_back.node_cidrs, found.profile.node_cidrs);
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```
//!
//! [`ChartFacts`]: crate::stream::ChartFacts

mod decide;
mod overlap;
mod platform;
mod read;
mod render;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use decide::discover;
pub use overlap::{BlockRows, PodAddress, blocks_holding_pods, pod_addresses};
pub use platform::{Network, Platform};
pub use read::{Dump, Node, Pod, Service, ServiceEndpoints, read};

use crate::advice::Remedy;
use crate::cluster::ClusterProfile;
use crate::matrix::Note;

/// What a dump says about the cluster: the profile, the comments that say where each value
/// came from and what to check, and the warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// The profile.
    pub profile: ClusterProfile,
    /// The platform, when the dump shows one.
    pub platform: Option<Platform>,
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

/// A cluster dump of `nodes` nodes and `pods` pods, as `kubectl get nodes,services,
/// endpointslices,pods,namespaces,deployments,daemonsets -A -o json` prints it: a
/// `kubernetes` Service with three endpoints, CoreDNS, the operator with its webhook and CSI
/// driver, and pods of 50 namespaces. For benchmarks of [`read`] and [`discover`].
pub fn synthetic_dump(nodes: usize, pods: usize) -> String {
    let mut items: Vec<String> = Vec::with_capacity(nodes + pods + 16);
    let node_ip = |i: usize| format!("10.{}.{}.{}", 128 + i / 65536, (i / 256) % 256, i % 256);
    for i in 0..nodes {
        items.push(format!(
            r#"{{"apiVersion":"v1","kind":"Node","metadata":{{"name":"node-{i}","labels":{{"kubernetes.io/hostname":"node-{i}","kubernetes.io/os":"linux"}}}},"spec":{{"podCIDR":"10.0.0.0/24"}},"status":{{"addresses":[{{"type":"InternalIP","address":"{}"}},{{"type":"Hostname","address":"node-{i}"}}],"nodeInfo":{{"kubeletVersion":"v1.34.1"}}}}}}"#,
            node_ip(i)
        ));
    }
    items.push(r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default"},"spec":{"clusterIP":"10.96.0.1","clusterIPs":["10.96.0.1"],"ports":[{"name":"https","port":443,"targetPort":6443}]}}"#.into());
    items.push(r#"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"kubernetes","namespace":"default","labels":{"kubernetes.io/service-name":"kubernetes"}},"addressType":"IPv4","endpoints":[{"addresses":["10.128.0.0"]},{"addresses":["10.128.0.1"]},{"addresses":["10.128.0.2"]}],"ports":[{"name":"https","port":6443,"protocol":"TCP"}]}"#.into());
    items.push(r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dynatrace-operator","namespace":"dynatrace","labels":{"app.kubernetes.io/name":"dynatrace-operator","app.kubernetes.io/version":"1.10.2"}},"spec":{"template":{"spec":{"containers":[{"name":"dynatrace-operator","image":"public.ecr.aws/dynatrace/dynatrace-operator:v1.10.2"}]}}}}"#.into());
    for i in 0..pods {
        let (namespace, app) = (i % 50, i / 7);
        items.push(format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"app{app}-5d8c9b7f6-{i:06}","namespace":"ns{namespace}","labels":{{"app":"app{app}","pod-template-hash":"5d8c9b7f6"}},"annotations":{{"kubectl.kubernetes.io/restartedAt":"2026-11-24T00:00:00Z"}},"ownerReferences":[{{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"app{app}-5d8c9b7f6","uid":"u{i}","controller":true}}]}},"spec":{{"containers":[{{"name":"main","image":"registry.example.com/app:1","ports":[{{"containerPort":8080,"protocol":"TCP"}}],"resources":{{"requests":{{"cpu":"100m","memory":"128Mi"}}}}}}],"nodeName":"node-{}"}},"status":{{"phase":"Running","hostIP":"{}","podIP":"10.{}.{}.{}","podIPs":[{{"ip":"10.{}.{}.{}"}}]}}}}"#,
            i % nodes.max(1),
            node_ip(i % nodes.max(1)),
            i / 65536,
            (i / 256) % 256,
            i % 256,
            i / 65536,
            (i / 256) % 256,
            i % 256,
        ));
    }
    format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}],\"metadata\":{{\"resourceVersion\":\"\"}}}}\n",
        items.join(",")
    )
}
