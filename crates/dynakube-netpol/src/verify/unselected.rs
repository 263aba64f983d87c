//! Pods of the operator namespace that the policies cut off: pods that look like a Dynatrace
//! workload's but that its policies do not select (named after one of the workload's
//! controllers, in any operator release, and not selected by any workload of the matrix: the
//! cluster's operator labels its pods in a way the policies do not know), and pods that no
//! Dynatrace component accounts for at all (someone else's, which the namespace-wide default
//! deny isolates too).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::evaluate::{Index, Pod};
use crate::matrix::{Matrix, Selection, Workload, releases};

/// A workload some of whose pods no policy of it selects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Unselected {
    /// The workload, as its policies name it.
    pub(crate) workload: String,
    /// The pods, as `namespace/name`.
    pub(crate) pods: Vec<String>,
    /// What the policies select, in words.
    pub(crate) selector: String,
}

/// The workloads of `matrix` with pods in `index` that look like theirs and are not selected.
pub(super) fn unselected(matrix: &Matrix, index: &Index) -> Vec<Unselected> {
    let workloads: BTreeSet<&Workload> = matrix
        .flows
        .iter()
        .flat_map(|f| [&f.from, &f.to])
        .filter_map(|e| e.workload())
        .filter(|w| matches!(w.selection, Selection::Pods(_)))
        .collect();
    let selected_by_any = |pod: &Pod| {
        workloads.iter().any(|w| {
            w.namespace.as_str() == pod.namespace
                && w.selection.pods().is_some_and(|s| s.matches(&pod.labels))
        })
    };
    let mut found = Vec::new();
    for workload in &workloads {
        let Some(selector) = workload.selection.pods() else {
            continue;
        };
        let instance = workload.instance.as_ref().map_or("", |n| n.as_str());
        let controllers = releases::controller_names(workload.component, instance);
        let pods: Vec<String> = index
            .pods()
            .iter()
            .filter(|pod| pod.namespace == workload.namespace.as_str() && !pod.host_network)
            .filter(|pod| {
                controllers
                    .iter()
                    .any(|(name, infix)| made_by(&pod.name, name, *infix))
            })
            .filter(|pod| !selected_by_any(pod))
            .map(|pod| format!("{}/{}", pod.namespace, pod.name))
            .collect();
        if !pods.is_empty() {
            found.push(Unselected {
                workload: workload.name(),
                pods,
                selector: describe(selector),
            });
        }
    }
    found
}

/// Whether a pod named `pod` was made by the controller `controller`: its name, then the
/// random parts Kubernetes adds (a StatefulSet ordinal, a DaemonSet or Job suffix, or a
/// Deployment's template hash and suffix). With `infix`, `controller` is a prefix that an id
/// completes (SQL executor Deployments).
fn made_by(pod: &str, controller: &str, infix: bool) -> bool {
    let Some(rest) = pod.strip_prefix(controller) else {
        return false;
    };
    let rest = if infix {
        rest
    } else {
        match rest.strip_prefix('-') {
            Some(rest) => rest,
            None => return false,
        }
    };
    let parts: Vec<&str> = rest.split('-').collect();
    let generated = |part: &&str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let count = if infix { 2..=3 } else { 1..=2 };
    count.contains(&parts.len()) && parts.iter().all(generated)
}

/// The pods of the operator namespace that no workload of `matrix` selects and that look like
/// no Dynatrace workload's (those are [`unselected`]), as `namespace/name`: the default deny
/// isolates them although no policy allows them anything. Host-network pods are left out, since
/// no NetworkPolicy applies to them.
pub(super) fn foreign(matrix: &Matrix, index: &Index, unselected: &[Unselected]) -> Vec<String> {
    let selections: Vec<&crate::matrix::Selector> = matrix
        .flows
        .iter()
        .flat_map(|f| [&f.from, &f.to])
        .filter_map(|e| e.workload())
        .filter(|w| w.namespace == matrix.namespace)
        .filter_map(|w| w.selection.pods())
        .collect();
    let known: BTreeSet<&str> = unselected
        .iter()
        .flat_map(|u| &u.pods)
        .map(String::as_str)
        .collect();
    index
        .pods()
        .iter()
        .filter(|pod| pod.namespace == matrix.namespace.as_str() && !pod.host_network)
        .filter(|pod| !selections.iter().any(|s| s.matches(&pod.labels)))
        .map(|pod| format!("{}/{}", pod.namespace, pod.name))
        .filter(|name| !known.contains(name.as_str()))
        .collect()
}

/// A selector in words: `a=b, c in (d, e)`.
fn describe(selector: &crate::matrix::Selector) -> String {
    let labels = selector.labels.iter().map(|(k, v)| format!("{k}={v}"));
    let sets = selector.one_of.iter().map(|(k, values)| {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        format!("{k} in ({})", values.join(", "))
    });
    labels.chain(sets).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::made_by;

    #[test]
    fn pod_names_of_controllers() {
        assert!(made_by("dk-activegate-0", "dk-activegate", false));
        assert!(made_by("dk-logmonitoring-x7k2p", "dk-logmonitoring", false));
        assert!(made_by(
            "dynatrace-operator-5d8c9b7f6-abcde",
            "dynatrace-operator",
            false
        ));
        assert!(!made_by(
            "dynatrace-operator-crd-storage-migration-x2k4z",
            "dynatrace-operator",
            false
        ));
        assert!(!made_by("dk-activegate", "dk-activegate", false));
        assert!(!made_by("dk-activegatex-0", "dk-activegate", false));
        assert!(made_by(
            "dk-sql-ext-exec-db1-6f7d8-abcde",
            "dk-sql-ext-exec-",
            true
        ));
        assert!(!made_by("dk-sql-ext-exec-", "dk-sql-ext-exec-", true));
        assert!(!made_by(
            "dk-activegate-web-frontend-abc-def",
            "dk-activegate",
            false
        ));
    }
}
