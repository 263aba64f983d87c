//! Where the cluster profile and the cluster disagree: address blocks the profile gives to
//! the nodes, the control plane or kube-apiserver that hold the addresses of pods. Every rule
//! that names such a block admits (or reaches) those pods too.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::cluster::ClusterProfile;
use crate::evaluate::sets::AddressSet;
use crate::matrix::{Direction, Endpoint, Level, Matrix, Note, PeerKind, RowId, TABLE};
use crate::values::{Cidr, Shown};

/// How many pods a warning names.
const EXAMPLES: usize = 3;

/// The rows whose rules name the blocks of each field of the profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BlockRows {
    /// `nodeCIDRs`: the rows from the nodes (kubelet probes, host-network pods) and to them
    /// (the kubelet API).
    pub(crate) nodes: BTreeSet<RowId>,
    /// `controlPlaneCIDRs`: the rows from kube-apiserver (webhook calls).
    pub(crate) control_plane: BTreeSet<RowId>,
    /// `apiServer.endpointCIDRs`: the rows to kube-apiserver.
    pub(crate) api_endpoints: BTreeSet<RowId>,
}

impl BlockRows {
    /// Every row of the table that names the blocks, whatever the resources.
    pub(crate) fn of_table() -> Self {
        let mut rows = BlockRows::default();
        for rule in TABLE {
            match (rule.peer, rule.direction) {
                // E21's peers include the kubelets of every node.
                (PeerKind::Nodes, _) | (PeerKind::PrometheusExtension, Direction::Egress) => {
                    rows.nodes.insert(rule.id);
                }
                (PeerKind::KubeApiServer, Direction::Ingress) => {
                    rows.control_plane.insert(rule.id);
                }
                (PeerKind::KubeApiServer, Direction::Egress) => {
                    rows.api_endpoints.insert(rule.id);
                }
                _ => {}
            }
        }
        rows
    }

    /// The rows of the flows of `matrix` that name the blocks.
    pub(crate) fn of_matrix(matrix: &Matrix) -> Self {
        let mut rows = BlockRows::default();
        for flow in &matrix.flows {
            if matches!(flow.from, Endpoint::Nodes(_)) || matches!(flow.to, Endpoint::Nodes(_)) {
                rows.nodes.insert(flow.id);
            }
            if matches!(flow.from, Endpoint::KubeApiServer(_)) {
                rows.control_plane.insert(flow.id);
            }
            if matches!(flow.to, Endpoint::KubeApiServer(_)) {
                rows.api_endpoints.insert(flow.id);
            }
        }
        rows
    }
}

/// The address of a pod outside the host network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PodAddress<'a> {
    /// The pod's namespace.
    pub(crate) namespace: &'a str,
    /// The pod's name.
    pub(crate) name: &'a str,
    /// One of its addresses.
    pub(crate) ip: IpAddr,
}

/// The addresses of the pods of `pods` that are not in the host network (a host-network pod
/// has its node's addresses, which node blocks hold by right).
pub(crate) fn pod_addresses<'a>(
    pods: &'a [crate::evaluate::Pod],
) -> impl Iterator<Item = PodAddress<'a>> + 'a {
    pods.iter().filter(|p| !p.host_network).flat_map(|p| {
        p.ips.iter().map(|&ip| PodAddress {
            namespace: &p.namespace,
            name: &p.name,
            ip,
        })
    })
}

/// The pods one block holds.
#[derive(Debug, Default)]
struct Held {
    count: usize,
    examples: Vec<String>,
}

/// A warning for every block of `profile`'s `nodeCIDRs`, `controlPlaneCIDRs` and
/// `apiServer.endpointCIDRs` that holds the address of a pod of `pods`, naming the rows of
/// `rows` that it widens. Fields whose rows are empty are not checked (no rule names them).
pub(crate) fn blocks_holding_pods<'a>(
    profile: &ClusterProfile,
    rows: &BlockRows,
    pods: impl IntoIterator<Item = PodAddress<'a>>,
) -> Vec<Note> {
    let fields: [(&str, &[Cidr], &BTreeSet<RowId>, &str); 3] = [
        (
            "nodeCIDRs",
            &profile.node_cidrs,
            &rows.nodes,
            "the rules from the nodes admit them too, and the rules to the nodes reach them; list each node's own address instead",
        ),
        (
            "controlPlaneCIDRs",
            &profile.control_plane_cidrs,
            &rows.control_plane,
            "the webhook's rule from kube-apiserver admits them too; list the control plane's own addresses instead",
        ),
        (
            "apiServer.endpointCIDRs",
            &profile.api_server.endpoint_cidrs,
            &rows.api_endpoints,
            "the rules to kube-apiserver reach them too on its ports; list the endpoints' own addresses instead",
        ),
    ];
    let checked: Vec<_> = fields.iter().filter(|f| !f.2.is_empty()).collect();
    let all = checked
        .iter()
        .flat_map(|f| f.1)
        .fold(AddressSet::empty(), |set, cidr| {
            set.union(&AddressSet::net(&cidr.net()))
        });
    let mut held: BTreeMap<(usize, usize), Held> = BTreeMap::new();
    for pod in pods {
        if !all.contains(pod.ip) {
            continue;
        }
        for (f, field) in checked.iter().enumerate() {
            for (b, cidr) in field.1.iter().enumerate() {
                if cidr.net().contains(&pod.ip) {
                    let entry = held.entry((f, b)).or_default();
                    entry.count += 1;
                    if entry.examples.len() < EXAMPLES {
                        entry.examples.push(format!(
                            "{}/{} at {}",
                            Shown(pod.namespace),
                            Shown(pod.name),
                            pod.ip
                        ));
                    }
                }
            }
        }
    }
    held.into_iter()
        .map(|((f, b), held)| {
            let (field, cidrs, rows, consequence) = checked[f];
            let rows: Vec<RowId> = rows.iter().copied().collect();
            let pods = if held.count == 1 { "pod" } else { "pods" };
            Note::new(
                Level::Warning,
                &rows,
                format!(
                    "{field}[{b}] {} holds the addresses of {} {pods} outside the host network (such as {}): {consequence}",
                    cidrs[b],
                    held.count,
                    held.examples.join(", ")
                ),
            )
            .at(format!("cluster profile {field}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod<'a>(namespace: &'a str, name: &'a str, ip: &str) -> PodAddress<'a> {
        PodAddress {
            namespace,
            name,
            ip: ip.parse().unwrap(),
        }
    }

    #[test]
    fn table_rows_are_those_whose_peer_is_the_nodes_or_kube_apiserver() {
        let rows = BlockRows::of_table();
        for id in [
            RowId::I1,
            RowId::I3,
            RowId::I6,
            RowId::I10,
            RowId::E15,
            RowId::E21,
        ] {
            assert!(rows.nodes.contains(&id), "{id:?}");
        }
        assert!(!rows.nodes.contains(&RowId::I4));
        assert_eq!(rows.control_plane, BTreeSet::from([RowId::I4]));
        assert!(rows.api_endpoints.contains(&RowId::E3));
        assert!(!rows.api_endpoints.contains(&RowId::I4));
    }

    #[test]
    fn a_node_subnet_that_pods_share_is_a_warning_naming_the_rows() {
        let profile = ClusterProfile::parse(
            "c.yaml",
            "nodeCIDRs: [10.0.0.0/19, 192.0.2.7/32]\ncontrolPlaneCIDRs: [10.0.8.0/24]\napiServer: {endpointCIDRs: [10.0.9.1/32]}\n",
        )
        .unwrap();
        let rows = BlockRows::of_table();
        let pods = [
            pod("shop", "web-1", "10.0.3.4"),
            pod("shop", "web-2", "10.0.3.5"),
            pod("shop", "web-3", "10.0.3.6"),
            pod("shop", "web-4", "10.0.8.9"),
            pod("other", "far", "10.1.0.1"),
            pod("other", "v6", "fd00::1"),
        ];
        let notes = blocks_holding_pods(&profile, &rows, pods);
        assert_eq!(notes.len(), 2, "{notes:#?}");
        let nodes = &notes[0];
        assert_eq!(nodes.level, Level::Warning);
        assert_eq!(nodes.refs, rows.nodes);
        assert_eq!(
            nodes.to_string(),
            format!(
                "warning ({}) [cluster profile nodeCIDRs]: nodeCIDRs[0] 10.0.0.0/19 holds the addresses of 4 pods outside the host network (such as shop/web-1 at 10.0.3.4, shop/web-2 at 10.0.3.5, shop/web-3 at 10.0.3.6): the rules from the nodes admit them too, and the rules to the nodes reach them; list each node's own address instead",
                crate::matrix::rows_joined(&rows.nodes)
            )
        );
        assert!(
            notes[1]
                .to_string()
                .starts_with("warning (I4) [cluster profile controlPlaneCIDRs]: controlPlaneCIDRs[0] 10.0.8.0/24 holds the addresses of 1 pod outside"),
            "{}",
            notes[1]
        );
    }

    #[test]
    fn single_addresses_and_unchecked_fields_give_nothing() {
        let profile =
            ClusterProfile::parse("c.yaml", "nodeCIDRs: [10.0.0.10/32, 10.0.0.11/32]\n").unwrap();
        let pods = [
            pod("shop", "web", "10.0.0.12"),
            pod("shop", "db", "10.0.0.9"),
        ];
        assert!(blocks_holding_pods(&profile, &BlockRows::of_table(), pods).is_empty());
        // A matrix without flows from the nodes: nodeCIDRs widens nothing.
        let wide = ClusterProfile::parse("c.yaml", "nodeCIDRs: [10.0.0.0/8]\n").unwrap();
        let rows = BlockRows {
            nodes: BTreeSet::new(),
            ..BlockRows::of_table()
        };
        assert!(blocks_holding_pods(&wide, &rows, pods).is_empty());
        assert_eq!(
            blocks_holding_pods(&wide, &BlockRows::of_table(), pods).len(),
            1
        );
    }
}
