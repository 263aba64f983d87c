//! The decisions: what each field of the profile is for the dump, and what the comments say.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::overlap::{BlockRows, PodAddress, blocks_holding_pods};
use super::platform::{self, Network, Platform, describe, shown, workload};
use super::read::{Dump, Node, Pod};
use super::{Discovery, Part};
use crate::cluster::{DnsProvider, Prometheus};
use crate::matrix::{Level, RowId, WebhookPort, rows_joined};
use crate::stream::ChartFacts;
use crate::values::{Cidr, LabelKey, LabelValue, Name, OperatorVersion, PortNumber};

/// The labels of control-plane nodes: `node-role.kubernetes.io/control-plane` (kubeadm and
/// most distributions since Kubernetes 1.20) and the older `node-role.kubernetes.io/master`
/// (OpenShift sets both).
const CONTROL_PLANE_LABELS: [&str; 2] = [
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
];

/// What `dump` says about the cluster: the profile, with comments, and the warnings.
pub(crate) fn discover(dump: &Dump) -> Discovery {
    let mut found = Discovery::new();
    let platform = platform::platform(dump);
    let network = platform::network(dump);
    found.platform = platform.as_ref().map(|(p, _)| *p);
    found.header(dump, platform.as_ref(), &network);
    found.operator(dump);
    found.api_server(dump);
    found.dns(dump);
    found.nodes(dump, &network);
    found.control_plane(dump, &network);
    found.cilium_switches(dump, &network);
    found.prometheus(dump);
    found.guard(dump);
    found
}

/// `ips` as single-address blocks.
fn blocks(ips: impl IntoIterator<Item = IpAddr>) -> Vec<Cidr> {
    ips.into_iter().map(Cidr::of_ip).collect()
}

/// `blocks` as `a, b, c`.
fn listed(blocks: &[Cidr]) -> String {
    blocks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sentence every field left empty for a managed control plane ends with.
const OPEN_WEBHOOK: &str = "Left empty, the webhook's rule from kube-apiserver (I4) admits every address on the webhook port, with a warning.";

impl Discovery {
    /// What was read, the platform and the network plugin.
    fn header(&mut self, dump: &Dump, platform: Option<&(Platform, String)>, network: &Network) {
        let files: Vec<String> = dump.files.iter().map(|f| shown(f)).collect();
        self.say(
            Part::Header,
            format!(
                "Cluster profile written by `dynakube-netpol profile` from {} ({} nodes, {} pods, {} namespaces). Each value says where it came from; review them before use.",
                files.join(", "),
                dump.nodes.len(),
                dump.pods.len(),
                dump.namespaces.len()
            ),
        );
        match platform {
            Some((platform, why)) => {
                self.say(Part::Header, format!("Platform: {} ({why}).", platform.name()));
            }
            None => self.say(
                Part::Header,
                "Platform: none of EKS, GKE, AKS, OpenShift and kubeadm (no node carries their labels or provider IDs, and no kube-apiserver pod runs in kube-system).",
            ),
        }
        self.enforced(network);
        self.cilium(network);
        self.network_plugin(network);
    }

    /// The network plugin, for what the ClusterNetworkPolicy flavor may use and says: Cilium,
    /// Calico or OVN-Kubernetes by name, any other plugin that enforces NetworkPolicies as
    /// `other`.
    fn network_plugin(&mut self, network: &Network) {
        use crate::cluster::Plugin;
        let named = [
            (&network.cilium, Plugin::Cilium),
            (&network.calico, Plugin::Calico),
            (&network.ovn_kubernetes, Plugin::OvnKubernetes),
            (&network.dataplane_v2, Plugin::Other),
            (&network.openshift_sdn, Plugin::Other),
            (&network.azure_npm, Plugin::Other),
        ];
        let found = named
            .into_iter()
            .find_map(|(why, plugin)| why.as_ref().map(|why| (plugin, why.clone())))
            .or_else(|| {
                (network.aws_network_policy == Some(true))
                    .then(|| network.aws_vpc_cni.clone().map(|why| (Plugin::Other, why)))
                    .flatten()
            });
        if let Some((plugin, why)) = found {
            self.profile.network_plugin = Some(plugin);
            let other = if plugin == Plugin::Other {
                ": none known to enforce ClusterNetworkPolicies"
            } else {
                ""
            };
            self.say(
                Part::NetworkPlugin,
                format!(
                    "The network plugin, for the cluster-network-policy flavor ({why}){other}."
                ),
            );
        }
    }

    /// Whether the network plugin enforces NetworkPolicies at all: the Amazon VPC CNI only with
    /// its node agent's network policy switched on, unless Calico or Cilium enforce them.
    fn enforced(&mut self, network: &Network) {
        if let (Some(why), Some(true)) = (&network.aws_vpc_cni, network.aws_network_policy) {
            self.say(
                Part::Header,
                format!(
                    "Network: the Amazon VPC CNI ({why}), which enforces NetworkPolicies (its node agent runs with --enable-network-policy=true)."
                ),
            );
        }
        if !network.enforces() {
            self.say(
                Part::Header,
                "No network plugin recognised here as enforcing NetworkPolicies runs (Cilium, Calico, GKE Dataplane V2, Azure NPM, OVN-Kubernetes, OpenShift SDN, the Amazon VPC CNI with its network policy agent): make sure yours enforces them (flannel, for one, does not), or the policies change nothing.",
            );
        }
        if let (Some(why), Some(false), None, None) = (
            &network.aws_vpc_cni,
            network.aws_network_policy,
            &network.calico,
            &network.cilium,
        ) {
            self.warn(
                Part::Header,
                Level::Warning,
                "",
                format!(
                    "the Amazon VPC CNI ({why}) runs without --enable-network-policy=true on its node agent, and no other plugin enforces NetworkPolicies: the policies would change nothing; turn on the network policy of the VPC CNI add-on (enableNetworkPolicy) first"
                ),
            );
        }
    }

    /// Cilium and GKE Dataplane V2: which flavor fits.
    fn cilium(&mut self, network: &Network) {
        if let Some(why) = &network.dataplane_v2 {
            // GKE documentation, "GKE Dataplane V2" (NetworkPolicy enforced by Cilium in
            // `anetd`) and "Control Pod egress traffic using FQDN network policies" (GKE's own
            // FQDNNetworkPolicy): GKE serves CiliumClusterwideNetworkPolicy, not the namespaced
            // CiliumNetworkPolicy the Cilium flavor writes.
            self.say(
                Part::Header,
                format!(
                    "GKE Dataplane V2 ({why}) enforces NetworkPolicies with Cilium, but GKE does not serve the CiliumNetworkPolicies the Cilium flavor writes (it has CiliumClusterwideNetworkPolicy and its own FQDNNetworkPolicy): keep the Kubernetes flavor."
                ),
            );
        } else if let Some(why) = &network.cilium {
            self.said.entry(Part::Header).or_default().push(super::Said::Advice(
                format!(
                    "Cilium runs here ({why}). Its own policies name nodes, kube-apiserver and external hosts by identity and DNS name, which NetworkPolicy can only approximate with address blocks (and Cilium matches no node address with an ipBlock unless its policy-cidr-match-mode includes nodes). For the Cilium flavor"
                ),
                crate::advice::Remedy::set_to(crate::advice::Setting::Flavor, "cilium"),
            ));
        }
    }

    /// The operator's namespace and release, its CSI driver and its webhook, from its
    /// Deployment as a rendered chart gives them.
    fn operator(&mut self, dump: &Dump) {
        let facts = match ChartFacts::of(&dump.workloads) {
            Ok(facts) => facts,
            Err(error) => {
                self.warn(
                    Part::Namespace,
                    Level::Warning,
                    "namespace",
                    format!(
                        "the operator's facts are left to their defaults: {error}; set namespace, operatorVersion and csiDriver"
                    ),
                );
                return;
            }
        };
        let Some((namespace, from)) = facts.namespace.clone() else {
            self.warn(
                Part::Namespace,
                Level::Info,
                "namespace",
                "the dump has no Deployment dynatrace-operator: namespace, operatorVersion, csiDriver and helm keep their defaults; write the profile again once the operator is installed, or set them".to_owned(),
            );
            return;
        };
        self.profile.fill_from_chart(&facts, "the profile");
        self.profile.given.clear();
        self.say(Part::Namespace, format!("The namespace of {from}."));
        if let Some(reason) = crate::matrix::shared_namespace(namespace.as_str()) {
            self.warn(
                Part::Namespace,
                Level::Warning,
                "namespace",
                format!(
                    "`{namespace}` is {reason}: the policies put every pod of the operator namespace into default deny; install the operator into a namespace of its own"
                ),
            );
        }
        self.operator_version(dump, &facts);
        if let Some((deployed, from)) = &facts.csi_driver {
            let what = if *deployed {
                "deployed"
            } else {
                "not deployed"
            };
            self.say(
                Part::CsiDriver,
                format!("The CSI driver is {what}: {from}."),
            );
        }
        if let Some((true, from)) = &facts.csi_migration_mode {
            self.say(
                Part::CsiDriver,
                format!(
                    "It runs in migration mode (Helm csidriver.migrationMode, {from}): it only cleans up, and new pods get their code modules without it."
                ),
            );
        }
        if let Some((_, from)) = &facts.webhook_host_network {
            self.say(
                Part::Helm,
                format!("The webhook's host network and ports: {from}."),
            );
        }
    }

    /// The operator release: its Deployment's version label, else its image tag.
    fn operator_version(&mut self, dump: &Dump, facts: &ChartFacts) {
        if let Some((_, from)) = &facts.operator_version {
            self.say(Part::OperatorVersion, format!("From {from}."));
            return;
        }
        let image =
            platform::workload(dump, "Deployment", None, "dynatrace-operator").and_then(|o| {
                o.value
                    .get("spec")?
                    .get("template")?
                    .get("spec")?
                    .get("containers")?
                    .get(0)?
                    .get("image")?
                    .as_str()
            });
        // The tag follows the last `:` after the last `/`; a digest (`@sha256:...`) is none.
        let tag = image
            .and_then(|i| i.rsplit_once('/').map_or(Some(i), |(_, last)| Some(last)))
            .filter(|last| !last.contains('@'))
            .and_then(|last| last.rsplit_once(':'))
            .map(|(_, tag)| tag);
        match tag.and_then(|t| OperatorVersion::parse(t).ok()) {
            Some(version) => {
                self.profile.operator_version = Some(version);
                self.say(
                    Part::OperatorVersion,
                    format!(
                        "The tag of the operator's image {} (its Deployment has no app.kubernetes.io/version label).",
                        shown(image.unwrap_or_default())
                    ),
                );
            }
            None => self.say(
                Part::OperatorVersion,
                "Neither a version label nor an image tag of the operator's Deployment names a release: operatorVersion is left out (the newest release that serves the DynaKubes is assumed); set it.",
            ),
        }
    }

    /// kube-apiserver: the `kubernetes` Service and its endpoints.
    fn api_server(&mut self, dump: &Dump) {
        let rows = rows_joined(&BlockRows::of_table().api_endpoints);
        let Some(service) = dump
            .services
            .iter()
            .find(|s| s.namespace == "default" && s.name == "kubernetes")
        else {
            self.warn(
                Part::ApiServer,
                Level::Warning,
                "apiServer",
                format!(
                    "the dump has no Service default/kubernetes: apiServer is left empty, and the rules to kube-apiserver ({rows}) admit every address on their ports; dump services and endpointslices too"
                ),
            );
            return;
        };
        self.profile.api_server.service_cidrs = blocks(service.cluster_ips.iter().copied());
        let endpoints: Vec<_> = dump
            .endpoints
            .iter()
            .filter(|e| e.namespace == "default" && e.service == "kubernetes")
            .collect();
        let addresses: BTreeSet<IpAddr> = endpoints
            .iter()
            .flat_map(|e| e.addresses.iter().copied())
            .collect();
        let ports: BTreeSet<u16> = endpoints
            .iter()
            .flat_map(|e| e.ports.iter().copied())
            .collect();
        self.profile.api_server.endpoint_cidrs = blocks(addresses);
        if !ports.is_empty() {
            self.profile.api_server.ports = ports.into_iter().filter_map(PortNumber::new).collect();
        }
        let cidrs = listed(&self.profile.api_server.service_cidrs);
        if endpoints.is_empty() {
            self.say(
                Part::ApiServer,
                format!(
                    "The ClusterIP {cidrs} of the Service default/kubernetes; the dump has none of its endpoints, so the rules to kube-apiserver ({rows}) reach it only through the Service, where the network plugin checks egress after translating it, and the ports keep their defaults."
                ),
            );
        } else {
            self.say(
                Part::ApiServer,
                format!(
                    "The ClusterIP {cidrs} of the Service default/kubernetes, and the addresses and ports of its endpoints ({}): pods reach kube-apiserver there ({rows}).",
                    endpoints
                        .iter()
                        .map(|e| e.object.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
        }
    }

    /// The cluster DNS.
    fn dns(&mut self, dump: &Dump) {
        let dns_pods = |namespace: &str, key: &str, value: &str| -> Vec<&Pod> {
            dump.pods
                .iter()
                .filter(|p| p.namespace == namespace && p.labelled(key, value))
                .collect()
        };
        let (namespace, (key, value)) = DnsProvider::Openshift.pods();
        let openshift = dns_pods(namespace, key, value);
        if !openshift.is_empty() || dump.namespaces.contains(namespace) {
            self.profile.dns.provider = DnsProvider::Openshift;
            self.say(
                Part::Dns,
                format!(
                    "OpenShift's DNS: the pods labelled {key}={value} in {namespace} ({} found), on port 5353.",
                    openshift.len()
                ),
            );
            return;
        }
        if self.node_local(dump) {
            return;
        }
        let (namespace, (key, value)) = DnsProvider::KubeDns.pods();
        let kube_dns = dns_pods(namespace, key, value);
        if let Some(first) = kube_dns.first() {
            self.say(
                Part::Dns,
                format!(
                    "CoreDNS or kube-dns: the pods labelled {key}={value} in {namespace} ({} found, such as {}).",
                    kube_dns.len(),
                    shown(&first.name)
                ),
            );
        } else if self.platform == Some(Platform::Gke) {
            // GKE documentation, "Using Cloud DNS for GKE": with Cloud DNS the kubelet gives pods
            // the metadata server on their node, 169.254.169.254, as their name server.
            self.profile.dns.provider = DnsProvider::NodeLocal;
            self.profile.dns.address = Some(IpAddr::from([169, 254, 169, 254]));
            self.say(
                Part::Dns,
                format!(
                    "No pod is labelled {key}={value} in {namespace}: GKE's Cloud DNS answers instead, at the metadata server of each node (169.254.169.254), which the profile names as a node-local cache."
                ),
            );
        } else {
            self.warn(
                Part::Dns,
                Level::Warning,
                "dns",
                format!(
                    "no pod is labelled {key}={value} in {namespace}, where the DNS rules look for the cluster DNS: find the cluster's DNS pods, and give their provider"
                ),
            );
        }
    }

    /// NodeLocal DNSCache: its DaemonSet `node-local-dns`, or GKE's node label for it; the
    /// address is the first of the cache's `-localip` argument (Kubernetes documentation,
    /// "Using NodeLocal DNSCache in Kubernetes Clusters", and its `nodelocaldns.yaml`), else
    /// the documented default 169.254.20.10.
    fn node_local(&mut self, dump: &Dump) -> bool {
        const GKE_LABEL: &str = "addon.gke.io/node-local-dns-ds-ready";
        let daemon_set = workload(dump, "DaemonSet", None, "node-local-dns");
        let gke = dump.nodes.iter().any(|n| n.has_label(GKE_LABEL));
        if daemon_set.is_none() && !gke {
            return false;
        }
        let from = daemon_set.map_or_else(|| format!("node label {GKE_LABEL}"), describe);
        let local = daemon_set.and_then(local_ips).unwrap_or_default();
        self.profile.dns.provider = DnsProvider::NodeLocal;
        let address = local.first().copied();
        self.profile.dns.address = Some(address.unwrap_or(IpAddr::from([169, 254, 20, 10])));
        let mut text = match address {
            Some(address) => format!(
                "NodeLocal DNSCache ({from}) listens on {address} (its -localip), with kube-dns behind it."
            ),
            None => format!(
                "NodeLocal DNSCache ({from}), at its documented default address 169.254.20.10 (no -localip argument in the dump), with kube-dns behind it."
            ),
        };
        if let Some(second) = local.get(1) {
            text.push_str(&format!(
                " It also listens on {second}, the kube-dns Service address (kube-proxy in iptables mode): pods whose kubelet still names {second} as their DNS server reach the cache there, which NetworkPolicy sees as {second}; if the kubelets' clusterDNS is {second}, give that address instead."
            ));
        }
        self.say(Part::Dns, text);
        true
    }

    /// The nodes' own addresses.
    fn nodes(&mut self, dump: &Dump, network: &Network) {
        let rows = rows_joined(&BlockRows::of_table().nodes);
        if dump.nodes.is_empty() {
            self.warn(
                Part::Nodes,
                Level::Warning,
                "nodeCIDRs",
                format!(
                    "the dump has no nodes: nodeCIDRs is left empty, and the rules from and to the nodes ({rows}) admit every address on their ports; dump the nodes too"
                ),
            );
            return;
        }
        let mut nodes: Vec<&Node> = dump.nodes.iter().filter(|n| !fargate(n)).collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let mut seen = BTreeSet::new();
        let mut without = Vec::new();
        for node in nodes {
            let ips = node.host_ips();
            if ips.is_empty() {
                without.push(shown(&node.name));
            }
            for ip in ips.into_iter().filter(|ip| seen.insert(*ip)) {
                self.profile.node_cidrs.push(Cidr::of_ip(ip));
                self.node_names.push(shown(&node.name));
            }
        }
        self.say(
            Part::Nodes,
            format!(
                "Each node's own address, as the kubelet picks it (its first InternalIP, else ExternalIP, and the first of the other family): kubelet probes and host-network pods come from there, and the kubelet API listens there ({rows}). ExternalIPs are left out: a node reaches the cluster's pods from its internal address, so they would only widen those rules. Node addresses change as nodes are replaced: write the profile again when they do."
            ),
        );
        if !without.is_empty() {
            self.warn(
                Part::Nodes,
                Level::Warning,
                "nodeCIDRs",
                format!(
                    "nodes without an InternalIP or ExternalIP, left out: {}",
                    without.join(", ")
                ),
            );
        }
        self.shared_subnet(dump, network);
        self.platform_nodes(dump, network);
    }

    /// Whether pods have addresses among the nodes': the smallest block that covers every
    /// node, and the pods it holds.
    fn shared_subnet(&mut self, dump: &Dump, network: &Network) {
        let Some(cover) = covering_block(self.profile.node_cidrs.iter().map(|c| c.net().addr()))
        else {
            return;
        };
        let inside: Vec<&Pod> = dump
            .pods
            .iter()
            .filter(|p| !p.host_network && p.ips.iter().any(|ip| cover.net().contains(ip)))
            .collect();
        let plugin = network
            .aws_vpc_cni
            .as_ref()
            .map(|why| format!(" The Amazon VPC CNI ({why}) gives pods addresses of the nodes' own VPC subnets."))
            .unwrap_or_default();
        match inside.first() {
            Some(first) => self.say(
                Part::Nodes,
                format!(
                    "Pods share the nodes' addresses: {cover}, the smallest block that covers every node, holds the addresses of {} pods (such as {}/{}).{plugin} A block of the nodes' subnets would admit those pods wherever the rules admit the nodes: keep the single addresses.",
                    inside.len(),
                    shown(&first.namespace),
                    shown(&first.name)
                ),
            ),
            None if self.profile.node_cidrs.len() > 1 => self.say(
                Part::Nodes,
                format!(
                    "No pod has an address in {cover}, the smallest block that covers every node: a block of the nodes' subnets would admit no pod today and outlast node replacement, where single addresses do not.{plugin}"
                ),
            ),
            None => {}
        }
    }

    /// What the platform says about its nodes.
    fn platform_nodes(&mut self, dump: &Dump, network: &Network) {
        let fargate = dump.nodes.iter().filter(|n| fargate(n)).count();
        if fargate > 0 {
            let nodes = if fargate == 1 {
                "node (label eks.amazonaws.com/compute-type=fargate) is"
            } else {
                "nodes (label eks.amazonaws.com/compute-type=fargate) are"
            };
            self.say(
                Part::Nodes,
                format!(
                    "{fargate} Fargate {nodes} left out: each runs a single pod, whose address is the node's, and no DaemonSet (OneAgent, CSI driver) runs there; listed, they would admit their pods wherever the rules admit the nodes."
                ),
            );
        }
        if self.platform == Some(Platform::OpenShift)
            && let Some(why) = &network.ovn_kubernetes
        {
            // OpenShift documentation, "About network policy": with OVN-Kubernetes, policies
            // apply to host-network traffic, selected by the namespace label
            // `policy-group.network.openshift.io/host-network`.
            self.say(
                Part::Nodes,
                format!(
                    "OVN-Kubernetes ({why}): connections from the host network may reach pods from the node's address on the cluster network rather than from these addresses; OpenShift selects host-network traffic by the namespace label policy-group.network.openshift.io/host-network. If kubelet probes or the host-network OneAgent are denied, that is why."
                ),
            );
        }
    }
}

/// Whether `node` is an EKS Fargate node: each pod runs on a node of its own, labelled
/// `eks.amazonaws.com/compute-type: fargate`, which takes the pod's address and where
/// DaemonSets do not run (EKS user guide, "AWS Fargate").
fn fargate(node: &Node) -> bool {
    node.labels
        .get("eks.amazonaws.com/compute-type")
        .is_some_and(|v| v == "fargate")
}

/// The smallest block that covers every address of `ips` of the family of the first one, or
/// `None` for no address.
pub(super) fn covering_block(ips: impl Iterator<Item = IpAddr>) -> Option<Cidr> {
    let ips: Vec<IpAddr> = ips.collect();
    let first = *ips.first()?;
    let same: Vec<IpAddr> = ips
        .into_iter()
        .filter(|ip| ip.is_ipv4() == first.is_ipv4())
        .collect();
    let (low, high) = (*same.iter().min()?, *same.iter().max()?);
    let net = match (low, high) {
        (IpAddr::V4(low), IpAddr::V4(high)) => {
            let prefix = (u32::from(low) ^ u32::from(high)).leading_zeros() as u8;
            ipnet::IpNet::V4(ipnet::Ipv4Net::new(low, prefix).ok()?)
        }
        (IpAddr::V6(low), IpAddr::V6(high)) => {
            let prefix = (u128::from(low) ^ u128::from(high)).leading_zeros() as u8;
            ipnet::IpNet::V6(ipnet::Ipv6Net::new(low, prefix).ok()?)
        }
        _ => return None,
    };
    Some(Cidr::of_net(net))
}

/// The addresses of the `-localip` argument of a NodeLocal DNSCache DaemonSet
/// (`-localip 169.254.20.10,10.96.0.10`, or `-localip=...`).
fn local_ips(object: &crate::source::Object) -> Option<Vec<IpAddr>> {
    local_ip_argument(&platform::args(object))
}

/// The addresses of the `-localip` argument among the arguments `args` of NodeLocal
/// DNSCache's container.
pub(crate) fn local_ip_argument(args: &[&str]) -> Option<Vec<IpAddr>> {
    let value = args.iter().enumerate().find_map(|(i, arg)| {
        let flag = arg.trim_start_matches('-');
        match flag.split_once('=') {
            Some(("localip", value)) => Some(value),
            None if flag == "localip" => args.get(i + 1).copied(),
            _ => None,
        }
    })?;
    let ips: Vec<IpAddr> = value
        .split(',')
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    (!ips.is_empty()).then_some(ips)
}

/// The rows from kube-apiserver, in words.
fn webhook_rows() -> String {
    rows_joined(&BlockRows::of_table().control_plane)
}

impl Discovery {
    /// The control plane: its nodes, or what a managed control plane needs.
    fn control_plane(&mut self, dump: &Dump, network: &Network) {
        if self.control_plane_nodes(dump) || self.api_server_pods(dump) {
            return;
        }
        let endpoints = self.profile.api_server.endpoint_cidrs.clone();
        match self.platform {
            Some(Platform::Eks) => self.eks_control_plane(&endpoints),
            Some(Platform::Gke) => self.gke_control_plane(&endpoints),
            Some(Platform::Aks) => self.aks_control_plane(network),
            Some(Platform::OpenShift) => self.say(
                Part::ControlPlane,
                format!(
                    "No node is labelled as a control-plane node: kube-apiserver runs outside the cluster's nodes (a hosted control plane, as ROSA with HCP and HyperShift run it). {OPEN_WEBHOOK} Give the addresses it calls webhooks from to narrow it."
                ),
            ),
            Some(Platform::Kubeadm) | None => self.say(
                Part::ControlPlane,
                format!(
                    "No node is labelled {} or {}: the control plane is not among the nodes of the dump (managed, or on machines that are no nodes). {OPEN_WEBHOOK} Give the addresses kube-apiserver calls webhooks from to narrow it.",
                    CONTROL_PLANE_LABELS[0], CONTROL_PLANE_LABELS[1]
                ),
            ),
        }
    }

    /// The nodes labelled as control-plane nodes, if any: kube-apiserver runs on them.
    fn control_plane_nodes(&mut self, dump: &Dump) -> bool {
        let mut nodes: Vec<&Node> = dump
            .nodes
            .iter()
            .filter(|n| CONTROL_PLANE_LABELS.iter().any(|l| n.has_label(l)))
            .collect();
        if nodes.is_empty() {
            return false;
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        for node in nodes {
            for ip in node.host_ips() {
                self.profile.control_plane_cidrs.push(Cidr::of_ip(ip));
                self.control_plane_names.push(shown(&node.name));
            }
        }
        self.say(
            Part::ControlPlane,
            format!(
                "The nodes labelled {} or {}: kube-apiserver runs on them and calls the webhook from their addresses ({}).",
                CONTROL_PLANE_LABELS[0],
                CONTROL_PLANE_LABELS[1],
                webhook_rows()
            ),
        );
        if self.platform == Some(Platform::Kubeadm) {
            let pods = platform::api_server_pods(dump);
            let example = pods
                .first()
                .map(|p| format!(" (pod kube-system/{})", shown(&p.name)))
                .unwrap_or_default();
            self.say(
                Part::ControlPlane,
                format!(
                    "kubeadm runs kube-apiserver as a static pod in the host network of each control-plane node{example}, so its calls come from the node's own address; a control-plane node added later needs the profile written again."
                ),
            );
        }
        true
    }

    /// Without labelled nodes, the kube-apiserver pods of the host network (static pods, as
    /// kubeadm runs them), if any: their addresses are their nodes'.
    fn api_server_pods(&mut self, dump: &Dump) -> bool {
        let mut pods = platform::api_server_pods(dump);
        if pods.is_empty() {
            return false;
        }
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        let mut seen = BTreeSet::new();
        for pod in &pods {
            for ip in pod.ips.iter().filter(|ip| seen.insert(**ip)) {
                self.profile.control_plane_cidrs.push(Cidr::of_ip(*ip));
                self.control_plane_names.push(shown(&pod.name));
            }
        }
        self.say(
            Part::ControlPlane,
            format!(
                "No node is labelled {} or {}, but kube-apiserver runs in kube-system as pods labelled component=kube-apiserver, tier=control-plane ({} found), in the host network of their nodes: it calls the webhook from these addresses ({}).",
                CONTROL_PLANE_LABELS[0],
                CONTROL_PLANE_LABELS[1],
                pods.len(),
                webhook_rows()
            ),
        );
        true
    }

    /// The switches of the Cilium flavor the dump shows: where Cilium runs and kube-apiserver
    /// runs on the cluster's own nodes, its calls to the webhook carry their nodes' identity;
    /// the agent's ConfigMap `cilium-config`, where the dump holds it, says whether its host
    /// firewall is on and whether address blocks match nodes.
    fn cilium_switches(&mut self, dump: &Dump, network: &Network) {
        if network.cilium.is_none() {
            return;
        }
        if !self.profile.control_plane_cidrs.is_empty() {
            self.profile.cilium.control_plane_host_network = true;
            self.say(
                Part::Cilium,
                format!(
                    "For the Cilium flavor: kube-apiserver runs in the host network of the cluster's own nodes (controlPlaneCIDRs above), so Cilium gives its calls to the webhook the identity of their node (host, remote-node), from which the Cilium flavor admits them too ({}).",
                    webhook_rows()
                ),
            );
        }
        let Some(agent) = dump.cilium_agents.first() else {
            self.say(
                Part::Cilium,
                "Whether Cilium's host firewall is on (enable-host-firewall in the ConfigMap cilium-config) the dump does not show: where it is, set cilium.hostFirewall: true, and the Cilium flavor writes a host policy for the host-network OneAgent. Nor does it show policy-cidr-match-mode (cilium.cidrMatchNodes). Add the ConfigMap to the dumps (kubectl get configmap -n kube-system cilium-config -o json) to have both read.",
            );
            return;
        };
        self.profile.cilium.host_firewall = agent.host_firewall;
        self.profile.cilium.cidr_match_nodes = agent.cidr_match_nodes;
        let firewall = if agent.host_firewall {
            "on (enable-host-firewall), so the Cilium flavor writes a host policy for the host-network OneAgent"
        } else {
            "off (enable-host-firewall), so no host policy is enforced"
        };
        let blocks = if agent.cidr_match_nodes {
            "match node addresses too (policy-cidr-match-mode: nodes)"
        } else {
            "match no node address (policy-cidr-match-mode without nodes)"
        };
        let cluster_policies = if agent.cluster_network_policies {
            "it enforces ClusterNetworkPolicies (enable-k8s-cluster-network-policy), which the cluster-network-policy flavor writes"
        } else {
            "it enforces no ClusterNetworkPolicy (enable-k8s-cluster-network-policy is not true), so the cluster-network-policy flavor's output would not take effect"
        };
        let mut text = format!(
            "The Cilium agent's ConfigMap {}/cilium-config: its host firewall is {firewall}; address blocks {blocks}; {cluster_policies}.",
            crate::values::Shown(&agent.namespace)
        );
        if dump.cilium_agents.iter().skip(1).any(|other| {
            (other.host_firewall, other.cidr_match_nodes)
                != (agent.host_firewall, agent.cidr_match_nodes)
        }) {
            text.push_str(" The dumps hold another cilium-config that says otherwise: check which agent runs.");
        }
        self.say(Part::Cilium, text);
    }

    /// EKS: the control plane calls webhooks through the cross-account network interfaces it
    /// places in the cluster's subnets (EKS API reference, `VpcConfigResponse`:
    /// "the cross-account elastic network interfaces that are used to allow communication
    /// between your nodes and the Kubernetes control plane"); the `kubernetes` endpoints are
    /// their addresses, and EKS replaces them when it updates the control plane.
    fn eks_control_plane(&mut self, endpoints: &[Cidr]) {
        let mut text = format!(
            "EKS runs the control plane outside the cluster's nodes; it calls the webhook through the network interfaces it places in the cluster's subnets, which EKS replaces when it updates the control plane. {OPEN_WEBHOOK}"
        );
        if !endpoints.is_empty() {
            text.push_str(&format!(
                " The kubernetes endpoints are those interfaces today: to narrow the rule, set `controlPlaneCIDRs: [{}]` and write the profile again after every control-plane update.",
                listed(endpoints)
            ));
        }
        self.say(Part::ControlPlane, text);
    }

    /// GKE: the control plane calls webhooks from its own range, which a cluster with
    /// private nodes reserves (`privateClusterConfig.masterIpv4CidrBlock`); GKE's firewall
    /// rule for it admits the nodes' ports 443 and 10250 only, so a webhook on another port
    /// needs a rule of its own (GKE documentation, "Creating a private cluster: adding
    /// firewall rules for specific use cases"; Cloud Service Mesh, "Open ports on a private
    /// cluster").
    fn gke_control_plane(&mut self, endpoints: &[Cidr]) {
        let port = self.profile.helm.webhook.ports.of(WebhookPort::Server);
        let endpoint = if endpoints.is_empty() {
            String::new()
        } else {
            format!(
                ", which holds the kubernetes endpoint {}",
                listed(endpoints)
            )
        };
        self.say(
            Part::ControlPlane,
            format!(
                "GKE runs the control plane outside the cluster; with private nodes it calls the webhook from its own range (`gcloud container clusters describe CLUSTER --format 'value(privateClusterConfig.masterIpv4CidrBlock)'`{endpoint}). {OPEN_WEBHOOK} Give that range to narrow it. GKE's firewall lets the control plane reach private nodes on ports 443 and 10250 only: admission needs a firewall rule from that range to the webhook's port {port} too."
            ),
        );
    }

    /// AKS: the API server reaches the nodes through its konnectivity tunnel, whose agents run
    /// as pods in `kube-system`, or, with API Server VNet Integration, from the API server's
    /// delegated subnet (AKS documentation, "API Server VNet Integration").
    fn aks_control_plane(&mut self, network: &Network) {
        let agents = network
            .konnectivity
            .as_ref()
            .map(|why| format!(" ({why})"))
            .unwrap_or_default();
        self.say(
            Part::ControlPlane,
            format!(
                "AKS runs the API server outside the cluster; it reaches the webhook through its tunnel, the konnectivity-agent pods in kube-system{agents}, whose addresses change, or, with API Server VNet Integration, from the API server's subnet. {OPEN_WEBHOOK} With VNet Integration, give that subnet to narrow it."
            ),
        );
    }

    /// A Prometheus: pods labelled as the Prometheus Operator (`app.kubernetes.io/name:
    /// prometheus`) or the older charts (`app: prometheus`) label its servers.
    fn prometheus(&mut self, dump: &Dump) {
        let servers: Vec<&Pod> = dump
            .pods
            .iter()
            .filter(|p| {
                p.labelled("app.kubernetes.io/name", "prometheus")
                    || p.labelled("app", "prometheus")
            })
            .collect();
        let namespaces: BTreeSet<&str> = servers.iter().map(|p| p.namespace.as_str()).collect();
        // OpenShift's platform Prometheus scrapes only OpenShift's own namespaces; the one of
        // user-workload monitoring scrapes the others.
        let chosen = namespaces
            .iter()
            .find(|ns| **ns == "openshift-user-workload-monitoring")
            .or_else(|| namespaces.iter().next())
            .copied();
        let Some(chosen) = chosen else {
            self.say(
                Part::Prometheus,
                "No Prometheus pods (labelled app.kubernetes.io/name=prometheus or app=prometheus): the metrics ports stay closed. Name the Prometheus that scrapes the operator, if one does.",
            );
            return;
        };
        let pods: Vec<&Pod> = servers
            .into_iter()
            .filter(|p| p.namespace == chosen)
            .collect();
        let Ok(namespace) = Name::parse(chosen) else {
            return;
        };
        let labels = shared_labels(&pods);
        let shown_labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.profile.prometheus = Some(Prometheus {
            namespace,
            pod_labels: labels,
        });
        let rows: Vec<RowId> = crate::matrix::TABLE
            .iter()
            .filter(|r| r.peer == crate::matrix::PeerKind::Prometheus)
            .map(|r| r.id)
            .collect();
        self.say(
            Part::Prometheus,
            format!(
                "The Prometheus pods in {chosen} ({} found, such as {}), by the labels they share ({}): the metrics ports admit them ({}).",
                pods.len(),
                shown(&pods[0].name),
                shown_labels.join(", "),
                rows_joined(&rows)
            ),
        );
        let others: Vec<&str> = namespaces.into_iter().filter(|ns| *ns != chosen).collect();
        if !others.is_empty() {
            self.say(
                Part::Prometheus,
                format!(
                    "Prometheus pods run in {} too: the profile names one Prometheus; keep the one that scrapes the operator.",
                    others.iter().map(|ns| shown(ns)).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }

    /// The pods of the dump in the blocks of the profile.
    fn guard(&mut self, dump: &Dump) {
        let addresses = dump.pods.iter().filter(|p| !p.host_network).flat_map(|p| {
            p.ips.iter().map(|&ip| PodAddress {
                namespace: &p.namespace,
                name: &p.name,
                ip,
            })
        });
        let notes = blocks_holding_pods(&self.profile, &BlockRows::of_table(), addresses);
        for note in notes {
            let part = match &note.cause {
                Some(crate::advice::Cause::Profile(field)) if field == "controlPlaneCIDRs" => {
                    Part::ControlPlane
                }
                Some(crate::advice::Cause::Profile(field)) if field.starts_with("apiServer") => {
                    Part::ApiServer
                }
                _ => Part::Nodes,
            };
            self.say(part, super::commented(&note));
            self.notes.push(note);
        }
    }
}

/// The labels every pod of `pods` has with the same value, among those that name a
/// Prometheus and not a release of it (no version, no hash of a revision).
fn shared_labels(pods: &[&Pod]) -> std::collections::BTreeMap<LabelKey, LabelValue> {
    const NAMING: [&str; 7] = [
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "operator.prometheus.io/name",
        "prometheus",
        "app",
        "component",
    ];
    NAMING
        .iter()
        .filter_map(|key| {
            let value = pods.first()?.labels.get(*key)?;
            pods.iter()
                .all(|p| p.labels.get(*key) == Some(value))
                .then(|| Some((LabelKey::parse(key).ok()?, LabelValue::parse(value).ok()?)))
                .flatten()
        })
        .collect()
}
