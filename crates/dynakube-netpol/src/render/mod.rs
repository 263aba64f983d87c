//! Renderers: the matrix as policies of one flavor. What the flavors share lives here: which
//! workloads get policies, how policies are grouped and named, and their labels.

pub mod cilium;
pub mod kubernetes;

use std::collections::{BTreeMap, BTreeSet};

use crate::matrix::{Component, Direction, Endpoint, Workload};
use crate::model::ResourceRef;

/// The label and annotation prefix of everything this tool writes.
pub const PREFIX: &str = "dynakube-netpol";

/// The policies of one flavor, with the notes made while rendering them.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered<P> {
    /// The policies: default deny first, then the allow policies by workload.
    pub policies: Vec<P>,
    /// The resources each policy comes from, by policy name (none for the policies of the
    /// cluster components alone).
    pub sources: BTreeMap<String, BTreeSet<ResourceRef>>,
    /// Remarks on what could not be expressed or was widened.
    pub notes: Vec<crate::matrix::Note>,
}

/// Whether a workload gets policies of its own: namespaced Dynatrace pods do; host-network
/// pods and application pods in other namespaces do not.
pub fn renders(workload: &Workload) -> bool {
    !workload.component.host_network() && workload.component != Component::InjectedApps
}

/// One policy: the workload it selects, the direction, and the group of peers it admits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PolicyGroup {
    pub workload: Workload,
    pub direction: Direction,
    pub peers: String,
}

impl PolicyGroup {
    /// `<workload>-<direction>-<peers>`, such as `dynakube-activegate-ingress-nodes`.
    pub fn name(&self) -> String {
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
    let peers = match peer {
        // Host-network pods reach others from node addresses, like the kubelet.
        Endpoint::Workload(w) if w.component.host_network() => "nodes".to_string(),
        Endpoint::Workload(w) => w.component.name().to_string(),
        Endpoint::Nodes => "nodes".into(),
        Endpoint::KubeApiServer => "kube-apiserver".into(),
        Endpoint::Dns => "dns".into(),
        Endpoint::Prometheus => "prometheus".into(),
        Endpoint::AllPods => "all-pods".into(),
        Endpoint::Host { role, .. } => role.name().into(),
        Endpoint::HostPattern(_) => "edgeconnect-hosts".into(),
        Endpoint::Unbounded(_) => "unbounded".into(),
    };
    PolicyGroup {
        workload: workload.clone(),
        direction,
        peers,
    }
}

/// Labels and annotations of an allow policy: who made it, for which component, and the
/// reference rows and purposes it implements.
pub(crate) fn annotations(
    group: &PolicyGroup,
    refs: &BTreeSet<&'static str>,
    purposes: &BTreeSet<&'static str>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut labels = BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_string(),
            PREFIX.to_string(),
        ),
        (
            format!("{PREFIX}/component"),
            group.workload.component.name().to_string(),
        ),
    ]);
    if let Some(instance) = &group.workload.instance {
        labels.insert(format!("{PREFIX}/instance"), instance.to_string());
    }
    let mut sorted: Vec<&str> = refs.iter().copied().collect();
    sorted.sort_by_key(|r| reference_order(r));
    let towards = match group.direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let purposes: Vec<&str> = purposes.iter().copied().collect();
    let annotations = BTreeMap::from([
        (format!("{PREFIX}/flows"), sorted.join(", ")),
        (
            format!("{PREFIX}/description"),
            format!(
                "{} of {} {towards} {}: {}.",
                capitalized(group.direction.name()),
                group.workload.name(),
                group.peers,
                purposes.join("; ")
            ),
        ),
    ]);
    (labels, annotations)
}

/// Sorts reference ids as the reference does: ingress rows, then egress rows, by number.
pub fn reference_order(id: &str) -> (u8, u32) {
    let (kind, number) = id.split_at(1);
    (u8::from(kind != "I"), number.parse().unwrap_or(u32::MAX))
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_uppercase().to_string() + chars.as_str()
    })
}
