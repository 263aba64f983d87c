//! The traffic matrix: every connection the Dynatrace components make or accept, as data.
//!
//! `TABLE` holds one `FlowRule` per row of the traffic reference; [`build`] turns the table,
//! the resources and the cluster profile into the active [`Flow`]s. Building is pure: no I/O,
//! and the same inputs always give the same matrix in the same order.
//!
//! Each side of a flow is an [`Endpoint`] resolved once, here: what it is in the cluster (pods
//! by labels, the operator-labelled application namespaces, nodes, kube-apiserver, the cluster
//! DNS, external hosts, or a peer no policy can name, with the reason), with every fact a
//! renderer needs — labels, addresses, the DNS server — so that renderers only translate.
//!
//! Architecture invariant: renderers read flows only from [`Matrix`]; they never add a flow of
//! their own. A connection between two Dynatrace workloads is one flow, which a renderer turns
//! into the egress rule of its source and the ingress rule of its destination.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::matrix::{self, Options, RowId};
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
//! assert_eq!(matrix.namespace.as_str(), "dynatrace");
//!
//! // E8: the ActiveGate's connections to the tenant.
//! let e8 = RowId::parse("E8").unwrap();
//! let flow = matrix.flows.iter().find(|flow| flow.id == e8).unwrap();
//! assert_eq!(flow.from.to_string(), "dk-activegate");
//! assert_eq!(flow.to.to_string(), "abc12345.live.dynatrace.com");
//! assert_eq!(flow.ports.to_string(), "443/TCP");
//! // No OneAgent in this DynaKube, so no flow of its rows.
//! assert!(!matrix.flows.iter().any(|flow| flow.from.to_string() == "dk-oneagent"));
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

mod build;
mod components;
mod notes;
mod peers;
mod ports;
mod reference;
pub(crate) mod releases;
mod rows;
mod rules;
mod table;

use std::collections::BTreeSet;

pub(crate) use crate::values::OperatorVersion;
pub use build::build;
pub(crate) use build::{MEANINGS, Meaning};
pub use components::{Component, Selection, Workload};
pub(crate) use components::{INSTANCE_NAMESPACE_LABEL, Scope, port_name};
pub use notes::{Level, Note};
pub(crate) use notes::{
    acknowledged_line, is_acknowledged, merged as merged_notes, without_profile,
};
pub use peers::{ApiServer, Blocks, Dns, Endpoint, HostRole, NodeScope, Nodes, Pods, PodsKind};
pub use ports::{Port, Ports, Protocol};
pub use releases::Selector;
pub use releases::markdown_table as releases_markdown_table;
pub use rows::RowId;
pub(crate) use rows::joined as rows_joined;
pub(crate) use rules::{Condition, FlowRule, PeerKind, PortKind, ProxyUse, ZoneRoute};
pub use rules::{WebhookPort, markdown_table};
pub(crate) use table::TABLE;

use crate::resources::ResourceRef;
use crate::values::Name;

/// How the matrix is built, beyond what the resources and the cluster profile say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// The fallback mode of the network zones the DynaKubes name (`spec.networkZone`).
    pub zone_fallback: ZoneFallback,
    /// Accept an operator namespace the cluster or other software shares (`kube-system`,
    /// `default`, `openshift-*`, see `shared_namespace`): the default deny then isolates
    /// every other pod in it too. Refused without.
    pub shared_namespace: bool,
}

/// Why `namespace` is not Dynatrace's own, or `None` when it may be: the policies put every
/// pod of the operator namespace into default deny, which in these namespaces cuts off pods
/// the cluster needs (cluster DNS in `kube-system`, OpenShift's DNS and operators).
pub(crate) fn shared_namespace(namespace: &str) -> Option<&'static str> {
    match namespace {
        "default" => Some("the namespace of everything deployed without one"),
        "openshift" => Some("reserved by OpenShift for its own components"),
        _ if namespace.starts_with("kube-") => Some(
            "reserved by Kubernetes for the cluster's own components (kube-system runs the cluster DNS)",
        ),
        _ if namespace.starts_with("openshift-") => Some(
            "reserved by OpenShift for its own components (openshift-dns runs the cluster DNS, openshift-operators every operator installed for all namespaces)",
        ),
        _ => None,
    }
}

/// The fallback mode of a Dynatrace network zone: where OneAgents go when no ActiveGate of
/// their zone answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneFallback {
    /// `ANY` (Dynatrace's default): any ActiveGate or the tenant.
    #[default]
    Any,
    /// `ONLY_DEFAULT_ZONE`: ActiveGates of the default zone, which may be the tenant's.
    OnlyDefaultZone,
    /// `NONE`: only the ActiveGates of the zone. With the in-cluster ActiveGate as the zone's
    /// only member, OneAgents, code modules and log monitoring reach nothing else: the
    /// restricted-egress design, in which only the ActiveGate leaves the cluster for them.
    None,
}

/// The direction of a table row, seen from its component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Connections to the component.
    Ingress,
    /// Connections from the component.
    Egress,
}

impl Direction {
    /// `ingress` or `egress`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// An active connection: a row of the table made concrete by the resources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flow {
    /// The table row it comes from.
    pub id: RowId,
    /// Who opens the connection.
    pub from: Endpoint,
    /// Who accepts it.
    pub to: Endpoint,
    /// Destination ports.
    pub ports: Ports,
    /// All reference rows it implements (its own id first when sorted by the table).
    pub refs: BTreeSet<RowId>,
    /// The resources whose settings made the flow; empty for the flows of the cluster
    /// components themselves (kube-apiserver, DNS, probes).
    pub sources: BTreeSet<ResourceRef>,
    /// What the connections are for: the purpose of the table row.
    pub purpose: &'static str,
}

/// The active flows of a set of resources in one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// The operator namespace, where every Dynatrace workload runs.
    pub namespace: Name,
    /// The flows, sorted and free of duplicates.
    pub flows: Vec<Flow>,
    /// Remarks: assumptions, uncertainties, rows that need attention.
    pub notes: Vec<Note>,
    /// The cluster profile the matrix was built for: flavor settings (`cilium`) and the facts
    /// the model cluster of `verify` starts from.
    pub profile: crate::cluster::ClusterProfile,
    /// The operator release the matrix is built for: the cluster profile's, else the newest
    /// release that serves every DynaKube's API version (a note says so).
    pub operator: OperatorVersion,
}

/// How [`describe_rows`] writes the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowsFormat {
    /// Plain text: a block per row.
    Text,
    /// Markdown: a section per row, with a table per part of it.
    Markdown,
    /// One JSON object: `{"rows": [{"id", "direction", "table", "implementedBy", "notes"}]}`.
    Json,
}

/// The rows `ids` of the traffic matrix (every row when `ids` is empty, in the reference's
/// order), each once, as `dynakube-netpol matrix` prints them: the parts each has in the table
/// (purpose, from, to, ports, when, proxy), the rows that implement a reference row without a
/// part of its own (I14, E30), and what each kind of note on it means.
///
/// ```
/// use dynakube_netpol::matrix::{RowId, RowsFormat, describe_rows};
///
/// let e9: RowId = "E9".parse()?;
/// let text = describe_rows(&[e9], RowsFormat::Text);
/// assert!(text.starts_with("E9 (egress)\n  Kubernetes API monitoring\n"));
/// let json: serde_json::Value = serde_json::from_str(&describe_rows(&[e9], RowsFormat::Json))?;
/// assert_eq!(json["rows"][0]["table"][0]["to"], "kube-apiserver");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn describe_rows(ids: &[RowId], format: RowsFormat) -> String {
    reference::describe(ids, format)
}
