//! The NetworkPolicies beside the ClusterNetworkPolicies: the ingress the Kubernetes flavor
//! writes for the Dynatrace workloads the ClusterNetworkPolicies cover, since their ingress
//! rules cannot name nodes, kube-apiserver or other addresses (their peers are pods only).
//!
//! Without them connections from outside the pod network fall through every tier, and a
//! workload that no NetworkPolicy isolates admits them from anywhere on every port: the rows
//! that take ingress from there are admitted here, and every such workload is isolated, by a
//! policy without rules where it has no ingress row at all (isolating only the workloads whose
//! rows come from outside would leave the others open to every address). A NetworkPolicy that
//! isolates a pod decides before the Baseline tier, so each holds every ingress row of its
//! workload, those from pods too: in the Baseline tier they would otherwise be refused before
//! the ClusterNetworkPolicy's Accept is looked at; in the Admin tier its Accept decides first,
//! and the same rule here changes nothing. Egress needs none: ClusterNetworkPolicy egress rules
//! name every peer the matrix has, and the closing Deny refuses the rest.
//!
//! Names carry the tool's prefix (`dynakube-netpol.dynakube-activegate-ingress-nodes`), so that
//! they collide neither with the Kubernetes flavor's policies beside them nor with the
//! namespace's own; an annotation says why they are there.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::Resource as _;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::matrix::{Direction, Level, Matrix, Note, Workload};
use crate::render::kubernetes::label_selector;
use crate::render::{DESCRIPTION_ANNOTATION, Policy, Whom, annotations};
use crate::resolve::Addresses;

/// What the flavor writes of them.
pub(super) const KIND: (&str, &str) = (NetworkPolicy::API_VERSION, NetworkPolicy::KIND);

/// The prefix of their names.
const PREFIX: &str = "dynakube-netpol.";

/// Why they are there, before what the policy admits.
const WHY: &str = "Beside the ClusterNetworkPolicies, whose ingress rules name pods only: isolates this workload for ingress, admitting what the matrix needs from outside the pod network and from pods.";

/// The NetworkPolicies for the ingress of `workloads` in `matrix`, as the Kubernetes flavor
/// writes it (a policy without rules for a workload without ingress rows), and the warnings of
/// that flavor on them (where it widened).
pub(super) fn network_policies(
    matrix: &Matrix,
    addresses: &Addresses,
    workloads: &BTreeSet<Workload>,
) -> (Vec<Policy>, Vec<Note>) {
    if workloads.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let ingress = Matrix {
        namespace: matrix.namespace.clone(),
        flows: (matrix.flows.iter())
            .filter(|flow| {
                flow.to
                    .policy_subject()
                    .is_some_and(|w| workloads.contains(w))
            })
            .cloned()
            .collect(),
        notes: Vec::new(),
        profile: matrix.profile.clone(),
        operator: matrix.operator,
    };
    let typed = crate::render::kubernetes::network_policies(&ingress, addresses);
    let mut written: Vec<(NetworkPolicy, BTreeSet<crate::resources::ResourceRef>)> =
        (typed.policies.into_iter())
            .filter(|(policy, _)| {
                let types = policy.spec.as_ref().and_then(|s| s.policy_types.as_deref());
                types == Some(&["Ingress".to_string()][..])
            })
            .collect();
    for workload in workloads {
        let selector = workload.selection.pods().map(label_selector);
        let isolated = (written.iter()).any(|(p, _)| {
            p.spec.as_ref().and_then(|s| s.pod_selector.as_ref()) == selector.as_ref()
        });
        if !isolated && let Some(policy) = isolation(workload) {
            written.push((policy, BTreeSet::new()));
        }
    }
    let policies = (written.into_iter())
        .map(|(mut policy, sources)| {
            let name = format!(
                "{PREFIX}{}",
                policy.metadata.name.as_deref().unwrap_or_default()
            );
            policy.metadata.name = Some(name.clone());
            if let Some(description) = (policy.metadata.annotations.as_mut())
                .and_then(|annotations| annotations.get_mut(DESCRIPTION_ANNOTATION))
            {
                *description = format!("{WHY} {description}");
            }
            Policy::new(&policy, KIND, name, sources)
        })
        .collect();
    let warnings = (typed.notes.into_iter())
        .filter(|note| note.level == Level::Warning)
        .collect();
    (policies, warnings)
}

/// A policy that isolates the pods of `workload` for ingress and admits nothing: for a
/// workload no row reaches; `None` for one whose pods no selector names.
fn isolation(workload: &Workload) -> Option<NetworkPolicy> {
    let selector = workload.selection.pods()?;
    let whom = Whom::of(workload);
    let (labels, mut notes) = annotations(
        &whom,
        Direction::Ingress,
        "nothing",
        &BTreeSet::new(),
        &BTreeSet::new(),
    );
    notes.insert(
        DESCRIPTION_ANNOTATION.to_string(),
        format!("Ingress of {}: no row of the matrix reaches it.", whom.name),
    );
    notes.retain(|key, _| key == DESCRIPTION_ANNOTATION);
    Some(NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(format!("{}-ingress", whom.name)),
            namespace: Some(workload.namespace.to_string()),
            labels: Some(labels),
            annotations: Some(notes.into_iter().collect::<BTreeMap<_, _>>()),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(label_selector(selector)),
            policy_types: Some(vec!["Ingress".into()]),
            ..NetworkPolicySpec::default()
        }),
    })
}
