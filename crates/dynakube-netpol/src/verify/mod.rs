//! Verification: do a set of policies (NetworkPolicies, ClusterNetworkPolicies and Cilium's, as
//! the cluster combines them) allow every flow of the matrix, and what do they allow beyond it?
//!
//! The matrix's endpoints are placed in a cluster — real pods and namespaces
//! (`kubectl get pods,namespaces -A -o yaml`) or a [model](model_cluster) built from the
//! matrix's own labels — and every flow becomes concrete connections that the
//! [evaluator](crate::evaluate) decides. Then, for every Dynatrace pod and direction, what the
//! policies admit is computed as sets (every pod, every address range, every port range of
//! every protocol, and the DNS names of destinations looked up by name; see
//! `crate::evaluate::sets`), what the matrix needs is subtracted (a host reached by name is
//! needed by that name, whatever its addresses), and every remainder is listed with the policy
//! rule that admits it.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::evaluate::Index;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::resolve::{Fallback, FixedHosts, resolve_known};
//! use dynakube_netpol::resources::Inputs;
//! use dynakube_netpol::ci::Format;
//! use dynakube_netpol::verify::{FailOn, model_cluster, verify};
//! use dynakube_netpol::GenerateOptions;
//! use k8s_openapi::api::networking::v1::NetworkPolicy;
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
//! let profile = ClusterProfile::parse("cluster.yaml", "nodeCIDRs: [192.0.2.0/24]")?;
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//! let generated =
//!     dynakube_netpol::generate(&inputs, &profile, &GenerateOptions::default(), &hosts)?;
//! let policies: Vec<NetworkPolicy> =
//!     generated.policies.iter().map(|p| p.parse()).collect::<Result<_, _>>()?;
//!
//! // Check the policies in a cluster modelled on the matrix's own labels.
//! let cluster = model_cluster(&generated.matrix);
//! let index = Index::new(cluster.namespaces, cluster.pods, &policies)?;
//! let addresses = resolve_known(&generated.matrix, &hosts, Fallback::Fail, &Default::default())?;
//! let report = verify(&generated.matrix, &index, &addresses);
//! assert!(
//!     report.failures(&FailOn::default()).is_empty(),
//!     "{}",
//!     report.render(Format::Text, &FailOn::default(), None)
//! );
//! // Its JSON is the machine-readable form: one check per flow of the matrix.
//! let json = report.render(Format::Json, &FailOn::default(), None);
//! let json: serde_json::Value = serde_json::from_str(&json).unwrap();
//! let flows = json["flows"].as_array().unwrap();
//! assert_eq!(flows.len(), generated.matrix.flows.len());
//! assert!(flows.iter().all(|check| check["result"] == "allowed"));
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

mod diff;
mod extras;
mod groups;
mod model;
mod place;
mod report;
mod unselected;

pub use self::{
    diff::{Diff, diff},
    model::model_cluster,
};
#[cfg(any(test, feature = "internals"))]
pub(crate) use model::workload_pods;
pub(crate) use report::{Extra, FlowCheck, Read, Status};
pub use report::{FailOn, Report};
pub(crate) use unselected::Unselected;

use crate::evaluate::{Cluster, Index, Pod};
use crate::matrix::{Level, Matrix, Note};
use crate::resolve::Addresses;

/// What the cluster dump leaves unknown, in words: the labels of the namespaces of pods that
/// it does not list, the addresses and labels of the nodes of pods that it does not list.
fn unknown_of_dump(index: &Index) -> Vec<String> {
    let label = crate::evaluate::NAMESPACE_NAME_LABEL;
    [
        not_in_dump(
            index.implied_namespaces(),
            ("namespace", "of the cluster's pods"),
            &format!("the only label of each is taken to be {label}=NAME, the one the API server gives every namespace"),
        ),
        not_in_dump(
            index.unlisted_pod_nodes(),
            ("node", "the cluster's pods run on"),
            "their addresses and labels are not known, so connections with their host networks are not recognised as such",
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// That the objects `names` of kind `what` (`whose`) are not in the cluster dump, and what is
/// `unknown` therefore; `None` where there are none.
fn not_in_dump(names: Vec<&str>, (what, whose): (&str, &str), unknown: &str) -> Option<String> {
    let names: Vec<String> = names.into_iter().map(String::from).collect();
    (!names.is_empty()).then(|| {
        format!(
            "{} {what}(s) {whose} are not in the cluster dump ({}): {unknown}",
            names.len(),
            crate::values::escape(&crate::ci::some(&names, &format!("{what}s"))),
        )
    })
}

/// Checks every flow of `matrix` against the policies of `index`, and computes what the
/// policies allow from or to Dynatrace pods beyond the matrix.
///
/// `addresses` gives external hosts their addresses (see [`crate::resolve::resolve`]); hosts
/// without addresses make their flows unchecked.
pub fn verify(matrix: &Matrix, index: &Index, addresses: &Addresses) -> Report {
    // What lies beyond the matrix is computed while the flows are checked.
    let places = place::Places::new(matrix, index, addresses);
    let found = places.found();
    let (places, flows, extras) = std::thread::scope(|scope| {
        let extras = scope.spawn(|| {
            extras::extras(matrix, index, &|| {
                place::Places::sharing(index, addresses, found.clone())
            })
        });
        let (places, flows) = check_flows(matrix, places);
        let extras = (extras.join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (places, flows, extras)
    });
    let mut assumptions = places.infrastructure().assumptions.clone();
    assumptions.extend(index.unenforced().iter().cloned());
    let ended = index.ended_pods().len();
    if ended > 0 {
        assumptions.push(format!(
            "{ended} pod(s) of the cluster that have ended (status.phase Succeeded or Failed) are left out: they make and take no connections"
        ));
    }
    assumptions.extend(unknown_of_dump(index));
    if index.names_not_followed() {
        assumptions.push("what ClusterNetworkPolicy Deny and Pass rules with domainNames decide by name is not taken from what the policies allow beyond the matrix".into());
    }
    let unselected = unselected::unselected(matrix, index);
    let foreign = unselected::foreign(matrix, index, &unselected);
    Report {
        namespace: matrix.namespace.to_string(),
        read: Read::default(),
        assumptions,
        flows,
        extras,
        unselected,
        foreign,
    }
}

/// Checks every flow of `matrix`, on two threads: flows with equal ends and ports once, the
/// larger first (by their ends), each thread taking the next when done.
fn check_flows<'a>(
    matrix: &'a Matrix,
    places: place::Places<'a>,
) -> (place::Places<'a>, Vec<FlowCheck>) {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut first: BTreeMap<_, usize> = BTreeMap::new();
    for (at, flow) in matrix.flows.iter().enumerate() {
        first
            .entry((&flow.from, &flow.to, &flow.ports))
            .or_insert(at);
    }
    let mut order: Vec<(usize, usize)> = (first.values())
        .map(|&at| (places.weight(&matrix.flows[at]), at))
        .collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    let next = AtomicUsize::new(0);
    let work = |places: &place::Places<'_>| {
        let mut done = Vec::new();
        while let Some(&(_, at)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((at, places.check(&matrix.flows[at])));
        }
        done
    };
    let checked: BTreeMap<usize, FlowCheck> = std::thread::scope(|scope| {
        let (index, addresses, found) = places.parts();
        let other = scope.spawn(|| work(&place::Places::sharing(index, addresses, found)));
        let mut done = work(&places);
        done.extend((other.join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        done.into_iter().collect()
    });
    let flows = (matrix.flows.iter())
        .map(|flow| {
            let at = first[&(&flow.from, &flow.to, &flow.ports)];
            let like = &checked[&at];
            FlowCheck {
                status: like.status.clone(),
                probes: like.probes.clone(),
                ..FlowCheck::new(flow)
            }
        })
        .collect();
    (places, flows)
}

/// Warnings where the cluster profile and the cluster's pods disagree: every block of the
/// profile's `nodeCIDRs`, `controlPlaneCIDRs` and `apiServer.endpointCIDRs` that holds the
/// address of a pod of `pods` outside the host network (a host-network pod has its node's
/// addresses by right), naming the block, a few of its pods and the rows of `matrix` whose
/// rules it widens: a rule that admits the nodes admits those pods too. Fields that no flow
/// of `matrix` names are not checked.
///
/// Meant for the pods of the cluster (`kubectl get pods -A`), not for a [model](model_cluster),
/// whose addresses are made up.
pub fn blocks_holding_pods(matrix: &Matrix, pods: &[Pod]) -> Vec<Note> {
    crate::discover::blocks_holding_pods(
        &matrix.profile,
        &crate::discover::BlockRows::of_matrix(matrix),
        crate::discover::pod_addresses(pods),
    )
}

/// Warnings where the cluster profile and the cluster's Cilium agent disagree: the profile's
/// `cilium.cidrMatchNodes` against the agent's `policy-cidr-match-mode`, and its
/// `cilium.hostFirewall` against `enable-host-firewall`, as the `cilium-config` ConfigMap of
/// `cluster` gives them. The flows are checked as the agent enforces them, by its ConfigMap;
/// the policies written from the profile may rely on what the agent does not do.
pub fn agent_against_profile(matrix: &Matrix, cluster: &Cluster) -> Vec<Note> {
    let Some(agent) = cluster.cilium_agents.first() else {
        return Vec::new();
    };
    let cilium = &matrix.profile.cilium;
    let config = format!(
        "the Cilium agent's ConfigMap {}/cilium-config",
        crate::values::Shown(&agent.namespace)
    );
    let mut notes = Vec::new();
    if agent.cidr_match_nodes != cilium.cidr_match_nodes {
        let says = if agent.cidr_match_nodes {
            "nodes"
        } else {
            "no nodes"
        };
        notes.push(
            Note::new(
                Level::Warning,
                &[],
                format!(
                    "the cluster profile says cidrMatchNodes: {}, but {config} has policy-cidr-match-mode select {says}: the flows are checked as the agent enforces them",
                    cilium.cidr_match_nodes
                ),
            )
            .at("cluster profile cilium.cidrMatchNodes"),
        );
    }
    if agent.host_firewall != cilium.host_firewall {
        let says = if agent.host_firewall { "on" } else { "off" };
        notes.push(
            Note::new(
                Level::Warning,
                &[],
                format!(
                    "the cluster profile says hostFirewall: {}, but {config} has the host firewall {says} (enable-host-firewall), which alone enforces host policies: the flows are checked as the agent enforces them",
                    cilium.host_firewall
                ),
            )
            .at("cluster profile cilium.hostFirewall"),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DynaKube of namespace `dynatrace`, as the inputs of a matrix.
    fn dynakube() -> crate::resources::Inputs {
        let mut inputs = crate::resources::Inputs::default();
        let dynakube = "apiVersion: dynatrace.com/v1beta5\nkind: DynaKube\nmetadata: {name: dk, namespace: dynatrace}\nspec: {apiUrl: https://abc12345.live.dynatrace.com/api}\n";
        let options = crate::input::ParseOptions::default();
        crate::input::parse_into(&mut inputs, "dk.yaml", dynakube, &options).unwrap();
        inputs
    }

    /// The report of verifying [`dynakube`] against no policies in the cluster `dump`.
    fn report_of(dump: &str) -> Report {
        let inputs = dynakube();
        let profile = crate::cluster::ClusterProfile::parse("cluster.yaml", "{}\n").unwrap();
        let matrix =
            crate::matrix::build(&inputs, &profile, &crate::matrix::Options::default()).unwrap();
        let limits = crate::source::Limits::default();
        let cluster = crate::evaluate::read_cluster("dump.yaml", dump, &limits).unwrap();
        let files = crate::evaluate::PolicyFiles::default();
        let index =
            Index::with_options(cluster, &files, crate::evaluate::Options::default()).unwrap();
        verify(&matrix, &index, &Addresses::default())
    }

    /// A pod of `namespace` named `name` in phase `phase` at `ip`, an item of a dump.
    fn pod_item(namespace: &str, name: &str, phase: &str, ip: &str) -> String {
        pod_on(namespace, name, phase, ip, "n1")
    }

    /// [`pod_item`] on node `node`.
    fn pod_on(namespace: &str, name: &str, phase: &str, ip: &str, node: &str) -> String {
        format!(
            "- {{apiVersion: v1, kind: Pod, metadata: {{name: {name}, namespace: {namespace}}}, spec: {{nodeName: {node}}}, status: {{phase: {phase}, podIP: {ip}}}}}\n"
        )
    }

    /// Pods of the operator namespace that have ended are no foreign pods, and the report
    /// says how many pods were left out for having ended; a running one is foreign.
    #[test]
    fn pods_that_have_ended_are_left_out_and_said() {
        let pod = |name: &str, phase: &str, ip: &str| pod_item("dynatrace", name, phase, ip);
        let dump = format!(
            "apiVersion: v1\nkind: List\nitems:\n{}{}{}",
            pod("backup-28430400-x7k2p", "Succeeded", "10.0.0.7"),
            pod("evicted-x7k2p", "Failed", "10.0.0.8"),
            pod("debug", "Running", "10.0.0.7"),
        );
        let report = report_of(&dump);
        assert_eq!(report.foreign, ["dynatrace/debug"]);
        assert!(
            report.assumptions.contains(&"2 pod(s) of the cluster that have ended (status.phase Succeeded or Failed) are left out: they make and take no connections".to_string()),
            "{:?}",
            report.assumptions
        );
    }

    /// The namespaces and nodes of running pods that the dump does not list are said, since
    /// their labels (and the nodes' addresses) are not known; those it lists, and those of
    /// pods that have ended, are not.
    #[test]
    fn namespaces_and_nodes_the_dump_does_not_list_are_said() {
        let dump = format!(
            "apiVersion: v1\nkind: List\nitems:\n{}{}{}{}{}{}",
            "- {apiVersion: v1, kind: Namespace, metadata: {name: dynatrace}}\n- {apiVersion: v1, kind: Node, metadata: {name: n1}}\n",
            pod_item("dynatrace", "debug", "Running", "10.0.0.7"),
            pod_on("shop", "web", "Running", "10.0.0.8", "n2"),
            pod_on("tools", "probe", "Running", "10.0.0.9", "n3"),
            pod_on("tools", "prober", "Running", "10.0.0.11", "n2"),
            pod_on("batch", "report", "Succeeded", "10.0.0.10", "n4"),
        );
        let report = report_of(&dump);
        let said: Vec<&String> = (report.assumptions.iter())
            .filter(|a| a.contains("not in the cluster dump"))
            .collect();
        assert_eq!(
            said,
            [
                "2 namespace(s) of the cluster's pods are not in the cluster dump (shop, tools): the only label of each is taken to be kubernetes.io/metadata.name=NAME, the one the API server gives every namespace",
                "2 node(s) the cluster's pods run on are not in the cluster dump (n2, n3): their addresses and labels are not known, so connections with their host networks are not recognised as such",
            ],
        );
    }

    /// The profile's `cidrMatchNodes` against the agent's `policy-cidr-match-mode`: a warning
    /// where they disagree, none where they agree or no agent's options are known.
    #[test]
    fn the_profile_and_the_agent_disagree_in_a_warning() {
        let inputs = dynakube();
        for (assumed, mode, warned) in [
            (false, "", 0),
            (true, "nodes", 0),
            (false, "nodes", 1),
            (true, "", 1),
        ] {
            let profile =
                format!("cilium: {{cidrMatchNodes: {assumed}, hostFirewall: {assumed}}}\n");
            let profile = crate::cluster::ClusterProfile::parse("cluster.yaml", &profile).unwrap();
            let matrix =
                crate::matrix::build(&inputs, &profile, &crate::matrix::Options::default())
                    .unwrap();
            let dump = format!(
                "{{apiVersion: v1, kind: ConfigMap, metadata: {{name: cilium-config, namespace: kube-system}}, data: {{policy-cidr-match-mode: '{mode}', enable-host-firewall: '{}'}}}}",
                !mode.is_empty()
            );
            let limits = crate::source::Limits::default();
            let cluster = crate::evaluate::read_cluster("dump.yaml", &dump, &limits).unwrap();
            let notes = agent_against_profile(&matrix, &cluster);
            // Both or neither disagree.
            assert_eq!(notes.len(), 2 * warned, "{assumed} {mode:?}: {notes:?}");
            let without = agent_against_profile(&matrix, &Cluster::default());
            assert!(without.is_empty());
        }
    }
}
