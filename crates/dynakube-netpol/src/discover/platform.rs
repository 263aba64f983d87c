//! Which platform and network plugin a dump shows, from the labels, provider IDs and objects
//! each platform documents.

use super::read::{Dump, Node, Pod};
use crate::source::Object;
use crate::stream::metadata_str;

/// A Kubernetes platform whose caveats the profile names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Platform {
    /// Amazon Elastic Kubernetes Service.
    Eks,
    /// Google Kubernetes Engine.
    Gke,
    /// Azure Kubernetes Service.
    Aks,
    /// Red Hat OpenShift (also on AWS as ROSA and on Azure as ARO).
    OpenShift,
    /// A cluster set up with kubeadm, its control plane on its own nodes.
    Kubeadm,
}

impl Platform {
    /// Its name in words.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Platform::Eks => "Amazon EKS",
            Platform::Gke => "Google GKE",
            Platform::Aks => "Azure AKS",
            Platform::OpenShift => "Red Hat OpenShift",
            Platform::Kubeadm => "kubeadm",
        }
    }
}

/// The platform of `dump` and what shows it, or `None` for a cluster of no platform named
/// here (k3s, Rancher and others).
///
/// OpenShift is asked first: ROSA and ARO run on AWS and Azure machines, whose provider IDs
/// alone would say EKS or AKS. kubeadm is asked last: a cluster on cloud machines may have
/// been set up with it, and the managed platforms' marks say more.
pub(crate) fn platform(dump: &Dump) -> Option<(Platform, String)> {
    openshift(dump)
        .map(|why| (Platform::OpenShift, why))
        .or_else(|| first_node(dump, eks).map(|why| (Platform::Eks, why)))
        .or_else(|| first_node(dump, gke).map(|why| (Platform::Gke, why)))
        .or_else(|| first_node(dump, aks).map(|why| (Platform::Aks, why)))
        .or_else(|| kubeadm(dump).map(|why| (Platform::Kubeadm, why)))
}

/// What shows the platform on the first node that shows it.
fn first_node(dump: &Dump, test: fn(&Node) -> Option<String>) -> Option<String> {
    dump.nodes
        .iter()
        .find_map(|node| test(node).map(|why| format!("node {}: {why}", shown(&node.name))))
}

/// OpenShift: the machine-config operator labels every node with its operating system
/// (`node.openshift.io/os_id`, `rhcos` on Red Hat CoreOS); the cluster's own components run in
/// `openshift-*` namespaces (`openshift-apiserver`, `openshift-dns`, ...).
fn openshift(dump: &Dump) -> Option<String> {
    const OS_ID: &str = "node.openshift.io/os_id";
    if let Some(node) = dump.nodes.iter().find(|n| n.has_label(OS_ID)) {
        return Some(format!(
            "node {}: label {OS_ID}={}",
            shown(&node.name),
            shown(&node.labels[OS_ID])
        ));
    }
    [
        "openshift-apiserver",
        "openshift-kube-apiserver",
        "openshift-dns",
    ]
    .into_iter()
    .find(|ns| dump.namespaces.contains(*ns))
    .map(|ns| format!("namespace {ns}"))
}

/// EKS: nodes of managed node groups carry `eks.amazonaws.com/nodegroup`, Fargate nodes
/// `eks.amazonaws.com/compute-type: fargate` (EKS user guide, "Managed node groups" and
/// "Fargate"); the kubelets of EKS AMIs report versions such as `v1.31.2-eks-94953ac`. The
/// provider ID of an EC2 instance is `aws:///<zone>/<instance>`; without an EKS mark it may be
/// any cluster on EC2.
fn eks(node: &Node) -> Option<String> {
    let label = [
        "eks.amazonaws.com/nodegroup",
        "eks.amazonaws.com/compute-type",
    ]
    .into_iter()
    .find(|k| node.has_label(k))
    .or_else(|| {
        node.labels
            .keys()
            .map(String::as_str)
            .find(|k| k.starts_with("eks.amazonaws.com/"))
    });
    let version = node.kubelet_version.contains("-eks-");
    if label.is_none() && !version {
        return None;
    }
    let mut why = Vec::new();
    if node.provider_id.starts_with("aws://") {
        why.push(format!("spec.providerID {}", shown(&node.provider_id)));
    }
    if let Some(label) = label {
        why.push(format!(
            "label {}={}",
            shown(label),
            shown(&node.labels[label])
        ));
    }
    if version {
        why.push(format!("kubelet {}", shown(&node.kubelet_version)));
    }
    Some(why.join(", "))
}

/// GKE: every node carries `cloud.google.com/gke-nodepool` (GKE documentation, "Update
/// Kubernetes node labels and taints for node pools"); its provider ID is
/// `gce://<project>/<zone>/<instance>`.
fn gke(node: &Node) -> Option<String> {
    const POOL: &str = "cloud.google.com/gke-nodepool";
    node.has_label(POOL).then(|| {
        let mut why = format!("label {POOL}={}", shown(&node.labels[POOL]));
        if node.provider_id.starts_with("gce://") {
            why = format!("spec.providerID {}, {why}", shown(&node.provider_id));
        }
        why
    })
}

/// AKS: every node carries `kubernetes.azure.com/cluster` and `kubernetes.azure.com/agentpool`
/// (AKS documentation, "Use labels in an AKS cluster": labels AKS reserves); its provider ID is
/// `azure:///subscriptions/.../virtualMachineScaleSets/<set>/virtualMachines/<n>`.
fn aks(node: &Node) -> Option<String> {
    let label = [
        "kubernetes.azure.com/cluster",
        "kubernetes.azure.com/agentpool",
    ]
    .into_iter()
    .find(|k| node.has_label(k))?;
    let mut why = format!("label {label}");
    if node.provider_id.starts_with("azure://") {
        why = format!("spec.providerID {}, {why}", shown(&node.provider_id));
    }
    Some(why)
}

/// The labels kubeadm's `mark-control-plane` phase gives every control-plane node (kubeadm
/// reference, "kubeadm init phase mark-control-plane"; the second keeps cloud load balancers
/// from sending traffic to them).
pub(crate) const KUBEADM_CONTROL_PLANE: [&str; 2] = [
    "node-role.kubernetes.io/control-plane",
    "node.kubernetes.io/exclude-from-external-load-balancers",
];

/// kubeadm: its control-plane nodes carry both labels of [`KUBEADM_CONTROL_PLANE`], and its
/// control plane runs as static pods whose mirror pods in `kube-system` are labelled
/// `component: kube-apiserver` (and the other components) and `tier: control-plane` (kubeadm's
/// static pod manifests, "Implementation details" of the kubeadm documentation).
fn kubeadm(dump: &Dump) -> Option<String> {
    let node = dump
        .nodes
        .iter()
        .find(|n| KUBEADM_CONTROL_PLANE.iter().all(|label| n.has_label(label)));
    if let Some(node) = node {
        return Some(format!(
            "node {}: labels {} and {}",
            shown(&node.name),
            KUBEADM_CONTROL_PLANE[0],
            KUBEADM_CONTROL_PLANE[1]
        ));
    }
    api_server_pods(dump).first().map(|pod| {
        format!(
            "pod kube-system/{} labelled component=kube-apiserver, tier=control-plane",
            shown(&pod.name)
        )
    })
}

/// The mirror pods of kube-apiserver running as a static pod in the host network, as kubeadm
/// (and installers that copy it) run it: in `kube-system`, labelled `component:
/// kube-apiserver` and `tier: control-plane`.
pub(crate) fn api_server_pods(dump: &Dump) -> Vec<&Pod> {
    dump.pods
        .iter()
        .filter(|p| {
            p.namespace == "kube-system"
                && p.host_network
                && p.labelled("component", "kube-apiserver")
                && p.labelled("tier", "control-plane")
        })
        .collect()
}

/// The network plugin of a dump, as far as the profile's caveats depend on it: each field
/// says what shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Network {
    /// Amazon VPC CNI: the DaemonSet `aws-node` in `kube-system` (EKS user guide, "Assign IPs
    /// to Pods with the Amazon VPC CNI"); pods get addresses of the nodes' VPC subnets.
    pub(crate) aws_vpc_cni: Option<String>,
    /// Whether the Amazon VPC CNI enforces NetworkPolicies: its node agent container in
    /// `aws-node` (`aws-eks-nodeagent`, or `aws-network-policy-agent` in its own manifests)
    /// runs with `--enable-network-policy=true` (EKS user guide, "Restrict Pod network traffic
    /// with Kubernetes network policies"); `None` without the VPC CNI.
    pub(crate) aws_network_policy: Option<bool>,
    /// Calico: a DaemonSet `calico-node`, which enforces NetworkPolicies on its own.
    pub(crate) calico: Option<String>,
    /// GKE Dataplane V2: the DaemonSet `anetd` in `kube-system` (GKE documentation, "GKE
    /// Dataplane V2"), Cilium underneath.
    pub(crate) dataplane_v2: Option<String>,
    /// Cilium itself: a DaemonSet `cilium` (its Helm chart's name, in `kube-system` unless
    /// installed elsewhere) or pods labelled `k8s-app: cilium`, and no Dataplane V2.
    pub(crate) cilium: Option<String>,
    /// OpenShift's OVN-Kubernetes: its namespace `openshift-ovn-kubernetes`.
    pub(crate) ovn_kubernetes: Option<String>,
    /// OpenShift SDN, the plugin before OVN-Kubernetes: its namespace `openshift-sdn`.
    pub(crate) openshift_sdn: Option<String>,
    /// Azure Network Policy Manager: the DaemonSet `azure-npm` in `kube-system` (AKS
    /// documentation, "Secure traffic between pods by using network policies").
    pub(crate) azure_npm: Option<String>,
    /// AKS's tunnel between the API server and the nodes: pods labelled
    /// `app: konnectivity-agent` in `kube-system`.
    pub(crate) konnectivity: Option<String>,
}

impl Network {
    /// Whether a plugin recognised here enforces NetworkPolicies.
    pub(crate) fn enforces(&self) -> bool {
        self.aws_network_policy == Some(true)
            || [
                &self.calico,
                &self.dataplane_v2,
                &self.cilium,
                &self.ovn_kubernetes,
                &self.openshift_sdn,
                &self.azure_npm,
            ]
            .iter()
            .any(|plugin| plugin.is_some())
    }
}

/// The network plugin of `dump`.
pub(crate) fn network(dump: &Dump) -> Network {
    let daemon_set = |namespace: Option<&str>, name: &str| {
        workload(dump, "DaemonSet", namespace, name).map(describe)
    };
    let pods = |namespace: Option<&str>, key: &str, value: &str| {
        dump.pods
            .iter()
            .find(|p| namespace.is_none_or(|ns| p.namespace == ns) && p.labelled(key, value))
            .map(|p| {
                format!(
                    "pod {}/{} labelled {key}={value}",
                    shown(&p.namespace),
                    shown(&p.name)
                )
            })
    };
    let namespace = |name: &str| {
        dump.namespaces
            .contains(name)
            .then(|| format!("namespace {name}"))
    };
    let dataplane_v2 = daemon_set(Some("kube-system"), "anetd");
    let cilium = if dataplane_v2.is_some() {
        None
    } else {
        daemon_set(None, "cilium").or_else(|| pods(None, "k8s-app", "cilium"))
    };
    let aws_node = workload(dump, "DaemonSet", Some("kube-system"), "aws-node");
    Network {
        aws_vpc_cni: aws_node.map(describe),
        aws_network_policy: aws_node.map(|o| args(o).contains(&"--enable-network-policy=true")),
        calico: daemon_set(None, "calico-node"),
        dataplane_v2,
        cilium,
        ovn_kubernetes: namespace("openshift-ovn-kubernetes"),
        openshift_sdn: namespace("openshift-sdn"),
        azure_npm: daemon_set(Some("kube-system"), "azure-npm"),
        konnectivity: pods(Some("kube-system"), "app", "konnectivity-agent"),
    }
}

/// The workload of `kind` named `name` (in `namespace`, or in any), the first in the dump.
pub(crate) fn workload<'a>(
    dump: &'a Dump,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> Option<&'a Object> {
    dump.workloads.iter().find(|o| {
        o.kind == kind
            && metadata_str(&o.value, &["name"]) == Some(name)
            && namespace.is_none_or(|ns| metadata_str(&o.value, &["namespace"]) == Some(ns))
    })
}

/// The arguments of every container of a workload's pods.
pub(crate) fn args(object: &Object) -> Vec<&str> {
    let containers = ["spec", "template", "spec", "containers"]
        .iter()
        .try_fold(&object.value, |v, key| v.get(*key))
        .and_then(serde_yaml::Value::as_sequence);
    containers
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("args")?.as_sequence())
        .flatten()
        .filter_map(serde_yaml::Value::as_str)
        .collect()
}

/// `Kind namespace/name` of a workload, escaped.
pub(crate) fn describe(object: &Object) -> String {
    format!(
        "{} {}/{}",
        object.kind,
        shown(metadata_str(&object.value, &["namespace"]).unwrap_or("default")),
        shown(metadata_str(&object.value, &["name"]).unwrap_or_default())
    )
}

/// Text of the dump, safe for a comment.
pub(crate) fn shown(text: &str) -> String {
    crate::values::Shown(text).to_string()
}
