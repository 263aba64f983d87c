//! Tests of the discovered profile: the platforms' dumps under `fixtures/cluster-dumps/`,
//! reading, and the profile read back and generated from.

use std::net::IpAddr;
use std::path::PathBuf;

use super::*;
use crate::advice::{Neutral, Remedy, Setting};
use crate::cluster::DnsProvider;
use crate::input::{ParseOptions, parse_into};
use crate::matrix::Level;
use crate::resolve::FixedHosts;
use crate::resources::Inputs;
use crate::source::Limits;
use crate::{Flavor, GenerateOptions};

/// The dumps of `fixtures/cluster-dumps/`, by platform directory.
fn dumps() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cluster-dumps");
    let mut dumps: Vec<(String, String)> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("dump.json").is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(p.join("dump.json")).unwrap())
        })
        .collect();
    dumps.sort();
    dumps
}

/// The discovery of the fixture dump of `platform`.
fn fixture(platform: &str) -> Discovery {
    let (_, text) = dumps().into_iter().find(|(p, _)| p == platform).unwrap();
    discover(&read(&[("dump.json".into(), text)], &Limits::default()).unwrap())
}

/// `text` read as one dump.
fn found(text: &str) -> Discovery {
    discover(&read(&[("dump.yaml".into(), text.into())], &Limits::default()).unwrap())
}

/// The comments of the written profile, joined into one line (wrapping undone).
fn comments(found: &Discovery) -> String {
    found
        .to_yaml(&Neutral)
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("# "))
        .collect::<Vec<_>>()
        .join(" ")
}

const DYNAKUBE: &str = "\
apiVersion: dynatrace.com/v1beta6
kind: DynaKube
metadata: {name: dynakube, namespace: dynatrace}
spec:
  apiUrl: https://abc12345.live.dynatrace.com/api
  oneAgent: {cloudNativeFullStack: {}}
  activeGate: {capabilities: [routing, kubernetes-monitoring]}
";

#[test]
fn every_platform_dump_gives_a_profile_that_reads_back_and_generates() {
    let dumps = dumps();
    let platforms: Vec<&str> = dumps.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        platforms,
        ["aks", "eks", "gke", "kubeadm-cilium", "openshift"]
    );
    let mut inputs = Inputs::default();
    parse_into(&mut inputs, "dk.yaml", DYNAKUBE, &ParseOptions::default()).unwrap();
    let hosts = FixedHosts::parse("h.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]").unwrap();
    for (platform, text) in &dumps {
        let found =
            discover(&read(&[("dump.json".into(), text.clone())], &Limits::default()).unwrap());
        let yaml = found.to_yaml(&Neutral);
        let mut read_back = crate::cluster::ClusterProfile::parse("cluster.yaml", &yaml)
            .unwrap_or_else(|e| panic!("{platform}: {e}\n{yaml}"));
        read_back.given.clear();
        assert_eq!(read_back, found.profile, "{platform}:\n{yaml}");
        for flavor in Flavor::ALL {
            let options = GenerateOptions {
                flavor: *flavor,
                ..GenerateOptions::default()
            };
            let generated = crate::generate(&inputs, &read_back, &options, &hosts)
                .unwrap_or_else(|e| panic!("{platform} ({flavor:?}): {e}"));
            assert!(!generated.policies.is_empty(), "{platform}");
        }
    }
}

#[test]
fn eks_lists_node_addresses_and_says_pods_share_their_subnets() {
    let found = fixture("eks");
    assert_eq!(found.platform, Some(Platform::Eks));
    let nodes: Vec<String> = found
        .profile
        .node_cidrs
        .iter()
        .map(ToString::to_string)
        .collect();
    // The Fargate node (10.0.3.140) is left out, and no node's ExternalIP is in.
    assert_eq!(nodes, ["10.0.1.23/32", "10.0.2.41/32", "10.0.3.77/32"]);
    assert!(found.profile.control_plane_cidrs.is_empty());
    let said = comments(&found);
    for expected in [
        "Pods share the nodes' addresses: 10.0.0.0/22",
        "The Amazon VPC CNI (DaemonSet kube-system/aws-node)",
        "`controlPlaneCIDRs: [10.0.1.190/32, 10.0.2.57/32]`",
        "1 Fargate node (label eks.amazonaws.com/compute-type=fargate) is left out",
    ] {
        assert!(said.contains(expected), "{expected}: {said}");
    }
    assert_eq!(found.profile.dns.provider, DnsProvider::KubeDns);
    let prometheus = found.profile.prometheus.as_ref().unwrap();
    assert_eq!(prometheus.namespace.as_str(), "monitoring");
    assert!(
        prometheus
            .pod_labels
            .keys()
            .all(|k| !k.as_str().contains("version") && k.as_str() != "controller-revision-hash")
    );
    assert!(
        found.notes.iter().all(|n| n.level != Level::Warning),
        "{:?}",
        found.notes
    );
}

#[test]
fn eks_without_network_policy_enforcement_is_a_warning() {
    let (_, text) = dumps().into_iter().find(|(p, _)| p == "eks").unwrap();
    let off = text.replace(
        "--enable-network-policy=true",
        "--enable-network-policy=false",
    );
    assert_ne!(off, text);
    let found = discover(&read(&[("d.json".into(), off)], &Limits::default()).unwrap());
    assert!(
        found
            .notes
            .iter()
            .any(|n| n.level == Level::Warning
                && n.text.contains("the policies would change nothing")),
        "{:?}",
        found.notes
    );
}

#[test]
fn a_csi_driver_in_migration_mode_is_written_and_reads_back() {
    let (_, text) = dumps().into_iter().find(|(p, _)| p == "eks").unwrap();
    let normal = discover(&read(&[("d.json".into(), text.clone())], &Limits::default()).unwrap());
    assert!(!normal.profile.helm.csidriver.migration_mode);
    assert!(!normal.to_yaml(&Neutral).contains("migrationMode"));
    let migrating = text.replace(
        "\"kubectl.kubernetes.io/default-container\": \"provisioner\"",
        "\"kubectl.kubernetes.io/default-container\": \"server\"",
    );
    assert_ne!(migrating, text);
    let found = discover(&read(&[("d.json".into(), migrating)], &Limits::default()).unwrap());
    assert!(found.profile.helm.csidriver.migration_mode);
    let yaml = found.to_yaml(&Neutral);
    assert!(
        yaml.contains("\nhelm:\n  csidriver:\n    migrationMode: true\n  webhook:\n"),
        "{yaml}"
    );
    assert!(
        comments(&found).contains("It runs in migration mode (Helm csidriver.migrationMode, DaemonSet dynatrace/dynatrace-oneagent-csi-driver pod annotation kubectl.kubernetes.io/default-container: server)"),
        "{yaml}"
    );
    let mut back = crate::cluster::ClusterProfile::parse("c.yaml", &yaml).unwrap();
    back.given.clear();
    assert_eq!(back, found.profile);
}

#[test]
fn gke_has_node_local_dns_a_managed_control_plane_and_no_cilium_flavor() {
    let found = fixture("gke");
    assert_eq!(found.platform, Some(Platform::Gke));
    assert_eq!(found.profile.dns.provider, DnsProvider::NodeLocal);
    assert_eq!(found.profile.dns.address, "169.254.20.10".parse().ok());
    assert!(found.profile.control_plane_cidrs.is_empty());
    assert!(!found.profile.csi_driver);
    assert!(
        found.profile.prometheus.is_none(),
        "GMP's collectors are no Prometheus server"
    );
    let said = comments(&found);
    assert!(
        said.contains("GKE Dataplane V2 (DaemonSet kube-system/anetd)"),
        "{said}"
    );
    assert!(said.contains("keep the Kubernetes flavor"), "{said}");
    assert!(!said.contains("flavor` to cilium"), "{said}");
    assert!(
        said.contains("privateClusterConfig.masterIpv4CidrBlock"),
        "{said}"
    );
    assert!(said.contains("to the webhook's port 8443"), "{said}");
}

#[test]
fn aks_recommends_the_cilium_flavor_in_the_front_end_s_words() {
    let found = fixture("aks");
    assert_eq!(found.platform, Some(Platform::Aks));
    let advice = found.said[&Part::Header]
        .iter()
        .find_map(|s| match s {
            Said::Advice(_, remedy) => Some(remedy.clone()),
            Said::Text(_) => None,
        })
        .unwrap();
    assert_eq!(advice, Remedy::set_to(Setting::Flavor, "cilium"));
    assert!(comments(&found).contains("set the setting `flavor` to cilium"));
    assert!(comments(&found).contains("konnectivity-agent pods in kube-system"));
    let labels: Vec<String> = found
        .profile
        .prometheus
        .as_ref()
        .unwrap()
        .pod_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        labels,
        [
            "app.kubernetes.io/component=server",
            "app.kubernetes.io/instance=prometheus",
            "app.kubernetes.io/name=prometheus"
        ]
    );
}

#[test]
fn openshift_has_its_dns_its_masters_and_the_release_of_the_image() {
    let found = fixture("openshift");
    assert_eq!(found.platform, Some(Platform::OpenShift));
    assert_eq!(found.profile.dns.provider, DnsProvider::Openshift);
    assert_eq!(found.profile.control_plane_cidrs.len(), 3);
    assert_eq!(
        found.profile.api_server.ports,
        [crate::values::PortNumber::of(6443)]
    );
    assert_eq!(
        found
            .profile
            .operator_version
            .map(|v| v.to_string())
            .as_deref(),
        Some("1.10.2")
    );
    assert_eq!(
        found
            .profile
            .prometheus
            .as_ref()
            .unwrap()
            .namespace
            .as_str(),
        "openshift-user-workload-monitoring"
    );
    let said = comments(&found);
    assert!(said.contains("The tag of the operator's image"), "{said}");
    assert!(
        said.contains("policy-group.network.openshift.io/host-network"),
        "{said}"
    );
    assert!(
        said.contains("Prometheus pods run in openshift-monitoring too"),
        "{said}"
    );
}

#[test]
fn kubeadm_with_cilium_names_the_cache_its_second_address_and_the_webhook_port() {
    let found = fixture("kubeadm-cilium");
    assert_eq!(found.platform, Some(Platform::Kubeadm));
    assert_eq!(found.profile.dns.address, "169.254.20.10".parse().ok());
    assert_eq!(
        found.profile.helm.webhook.ports.server,
        Some(crate::values::PortNumber::of(9443))
    );
    let cp: Vec<String> = found
        .profile
        .control_plane_cidrs
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(cp, ["192.168.56.10/32"]);
    // The agent's ConfigMap: the host firewall on, address blocks matching no node.
    assert!(found.profile.cilium.host_firewall && !found.profile.cilium.cidr_match_nodes);
    let said = comments(&found);
    assert!(
        said.contains("kube-system/cilium-config: its host firewall is on"),
        "{said}"
    );
    assert!(
        said.contains("It also listens on 10.96.0.10, the kube-dns Service address"),
        "{said}"
    );
    assert!(
        said.contains("Cilium runs here (DaemonSet kube-system/cilium)"),
        "{said}"
    );
    assert!(
        said.contains("Platform: kubeadm (node cp-1: labels node-role.kubernetes.io/control-plane and node.kubernetes.io/exclude-from-external-load-balancers)"),
        "{said}"
    );
    assert!(
        said.contains("kubeadm runs kube-apiserver as a static pod in the host network of each control-plane node (pod kube-system/kube-apiserver-cp-1)"),
        "{said}"
    );
    assert!(!said.contains("No network plugin recognised"), "{said}");
    // kube-apiserver on the cluster's own nodes, with Cilium: the flavor's switch is set.
    assert!(found.profile.cilium.control_plane_host_network);
    let yaml = found.to_yaml(&Neutral);
    assert!(
        yaml.contains("\ncilium:\n  controlPlaneHostNetwork: true\n"),
        "{yaml}"
    );
    // And the network plugin, for the ClusterNetworkPolicy flavor.
    assert!(yaml.ends_with("\nnetworkPlugin: cilium\n"), "{yaml}");
    assert_eq!(
        found.profile.network_plugin,
        Some(crate::cluster::Plugin::Cilium)
    );
    // A managed control plane with Cilium (AKS) leaves it off.
    assert!(!fixture("aks").profile.cilium.control_plane_host_network);
    assert!(comments(&fixture("aks")).contains("set cilium.hostFirewall: true"));
}

/// A kubeadm cluster whose control-plane node lost its labels: the kube-apiserver pod shows
/// kubeadm, and its address is the control plane's.
const UNLABELLED: &str = "\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: cp}, status: {addresses: [{type: InternalIP, address: 192.0.2.10}]}}
- {apiVersion: v1, kind: Node, metadata: {name: w}, status: {addresses: [{type: InternalIP, address: 192.0.2.20}]}}
- apiVersion: v1
  kind: Pod
  metadata: {name: kube-apiserver-cp, namespace: kube-system, labels: {component: kube-apiserver, tier: control-plane}}
  spec: {hostNetwork: true, nodeName: cp}
  status: {podIP: 192.0.2.10}
- apiVersion: v1
  kind: Pod
  metadata: {name: fake, namespace: shop, labels: {component: kube-apiserver, tier: control-plane}}
  status: {podIP: 10.244.0.9}
- {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: kube-flannel-ds, namespace: kube-flannel}}
";

#[test]
fn kube_apiserver_static_pods_give_the_control_plane_and_show_kubeadm() {
    let found = found(UNLABELLED);
    assert_eq!(found.platform, Some(Platform::Kubeadm));
    let cp: Vec<String> = found
        .profile
        .control_plane_cidrs
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(cp, ["192.0.2.10/32"], "the pod outside kube-system is none");
    assert_eq!(found.control_plane_names, ["kube-apiserver-cp"]);
    let said = comments(&found);
    assert!(
        said.contains("Platform: kubeadm (pod kube-system/kube-apiserver-cp labelled component=kube-apiserver, tier=control-plane)"),
        "{said}"
    );
    assert!(
        said.contains("kube-apiserver runs in kube-system as pods labelled component=kube-apiserver, tier=control-plane (1 found)"),
        "{said}"
    );
    // Flannel enforces no NetworkPolicy, and nothing else here does.
    assert!(
        said.contains("No network plugin recognised here as enforcing NetworkPolicies runs"),
        "{said}"
    );
}

const SMALL: &str = "\
apiVersion: v1
kind: List
items:
- metadata: {name: n1, labels: {node-role.kubernetes.io/master: ''}}
  kind: Node
  apiVersion: v1
  status:
    addresses:
    - {type: Hostname, address: n1}
    - {type: ExternalIP, address: 203.0.113.9}
    - {type: InternalIP, address: 'fd00::11'}
    - {type: InternalIP, address: 192.0.2.11}
- apiVersion: v1
  kind: Node
  metadata: {name: n2}
  status: {addresses: [{type: ExternalIP, address: 198.51.100.12}]}
- apiVersion: v1
  kind: Node
  metadata: {name: n3}
  status: {addresses: [{type: Hostname, address: n3}]}
- status: {podIP: 192.0.2.11, podIPs: [{ip: 192.0.2.11}]}
  metadata: {name: squatter, namespace: shop}
  kind: Pod
  apiVersion: v1
- {apiVersion: v1, kind: Pod, metadata: {name: agent, namespace: dynatrace}, spec: {hostNetwork: true}, status: {podIP: 192.0.2.11}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {spec: x}}
---
apiVersion: v1
kind: Service
metadata: {name: kubernetes, namespace: default}
spec: {clusterIP: 10.96.0.1}
---
apiVersion: v1
kind: Endpoints
metadata: {name: kubernetes, namespace: default}
subsets: [{addresses: [{ip: 192.0.2.11}], ports: [{name: https, port: 6443}]}]
";

#[test]
fn yaml_dumps_read_fields_in_any_order_and_nodes_as_the_kubelet_picks_their_addresses() {
    let found = found(SMALL);
    let nodes: Vec<String> = found
        .profile
        .node_cidrs
        .iter()
        .map(ToString::to_string)
        .collect();
    // InternalIPs first (the first, then the first of the other family), else the
    // ExternalIP; n3 has none.
    assert_eq!(nodes, ["fd00::11/128", "192.0.2.11/32", "198.51.100.12/32"]);
    assert_eq!(found.node_names, ["n1", "n1", "n2"]);
    assert_eq!(found.profile.control_plane_cidrs.len(), 2);
    assert_eq!(
        found.profile.api_server.endpoint_cidrs[0].to_string(),
        "192.0.2.11/32"
    );
    assert_eq!(
        found.profile.api_server.ports,
        [crate::values::PortNumber::of(6443)]
    );
    // The pod that is not in the host network but has a node's address: a warning naming
    // the rows from and to the nodes; the host-network one has it by right.
    let warnings: Vec<String> = found
        .notes
        .iter()
        .filter(|n| n.level == Level::Warning)
        .map(ToString::to_string)
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("warning (I1, I3,")
            && w.contains("nodeCIDRs[1] 192.0.2.11/32 holds the addresses of 1 pod outside the host network (such as shop/squatter at 192.0.2.11)")),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("controlPlaneCIDRs[1] 192.0.2.11/32")),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("nodes without an InternalIP or ExternalIP, left out: n3")),
        "{warnings:#?}"
    );
    assert!(warnings.iter().all(|w| !w.contains("agent")));
    // And the written profile still reads back.
    let mut back =
        crate::cluster::ClusterProfile::parse("c.yaml", &found.to_yaml(&Neutral)).unwrap();
    back.given.clear();
    assert_eq!(back, found.profile);
}

#[test]
fn json_and_yaml_of_the_same_dump_give_the_same_profile() {
    let (_, json) = dumps().into_iter().find(|(p, _)| p == "openshift").unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let yaml = serde_yaml::to_string(&value).unwrap();
    let from_json = discover(&read(&[("d".into(), json)], &Limits::default()).unwrap());
    let from_yaml = discover(&read(&[("d".into(), yaml)], &Limits::default()).unwrap());
    assert_eq!(from_json.profile, from_yaml.profile);
    // YAML names the document objects come from; JSON is one document.
    assert_eq!(
        from_json.to_yaml(&Neutral),
        from_yaml.to_yaml(&Neutral).replace(" (document 1)", "")
    );
}

/// Where `podIP` and `podIPs[0]` disagree, `podIP` is the pod's address, as the API server
/// converts a pod; where they agree, `podIPs` is.
#[test]
fn pod_ip_wins_where_it_disagrees_with_pod_ips() {
    let ips = |status: &str| {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: a}}\nstatus: {status}\n"
        );
        let dump = read(&[("d.yaml".into(), text)], &Limits::default()).unwrap();
        dump.pods[0]
            .ips
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ips("{podIP: 10.0.0.9, podIPs: [{ip: 10.0.0.300}]}"),
        ["10.0.0.9"]
    );
    assert_eq!(
        ips("{podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}"),
        ["10.0.0.1", "fd00::1"]
    );
    assert_eq!(ips("{podIPs: [{ip: 10.0.0.1}]}"), ["10.0.0.1"]);
}

#[test]
fn broken_dumps_are_errors_naming_the_field() {
    let error = |text: &str| {
        read(&[("d.yaml".into(), text.into())], &Limits::default())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error(
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, status: {podIPs: [{ip: 10.0.0.300}]}}\n"
        ),
        "d.yaml, document 1, field `items[0].status.podIPs[0].ip`: `10.0.0.300` is not an IP address"
    );
    assert_eq!(
        error(
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: k, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}\nendpoints: [{addresses: [x]}]\n"
        ),
        "d.yaml, document 1, field `endpoints[0].addresses[0]`: `x` is not an IP address"
    );
    assert!(
        error("apiVersion: v1\nkind: Pod\nspec: {hostNetwork: sometimes}\n")
            .starts_with("d.yaml, document 1: not a cluster dump:"),
    );
    assert!(error("just text\n").starts_with("d.yaml, document 1: not a cluster dump:"));
    assert_eq!(
        error(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: kube-system}\ndata: {enable-host-firewall: 'yes'}\n"
        ),
        "d.yaml, document 1, field `data.enable-host-firewall`: `yes` is no boolean the agent reads (true or false)"
    );
    assert!(
        read(
            &[("d.json".into(), "{\"items\": [".into())],
            &Limits::default()
        )
        .unwrap_err()
        .to_string()
        .starts_with("d.json: not a cluster dump:")
    );
}

#[test]
fn hostile_names_stay_on_their_comment_line() {
    let text = "apiVersion: v1\nkind: Node\nmetadata: {name: \"n1\\nnodeCIDRs: [0.0.0.0/0]\\n#\"}\nstatus: {addresses: [{type: InternalIP, address: 192.0.2.1}]}\n";
    let found = found(text);
    let yaml = found.to_yaml(&Neutral);
    assert!(!yaml.contains("\nnodeCIDRs: [0.0.0.0/0]"), "{yaml}");
    let mut back = crate::cluster::ClusterProfile::parse("c.yaml", &yaml).unwrap();
    back.given.clear();
    assert_eq!(back, found.profile);
}

#[test]
fn gke_without_kube_dns_pods_is_cloud_dns() {
    let text = "apiVersion: v1\nkind: Node\nmetadata: {name: n, labels: {cloud.google.com/gke-nodepool: p}}\nspec: {providerID: 'gce://p/z/n'}\nstatus: {addresses: [{type: InternalIP, address: 10.1.0.2}]}\n";
    let found = found(text);
    assert_eq!(found.platform, Some(Platform::Gke));
    assert_eq!(found.profile.dns.provider, DnsProvider::NodeLocal);
    assert_eq!(
        found.profile.dns.address,
        Some(IpAddr::from([169, 254, 169, 254]))
    );
    // Elsewhere, no DNS pods are a warning.
    let plain = found_without_platform();
    assert!(
        plain
            .notes
            .iter()
            .any(|n| n.level == Level::Warning && n.text.contains("k8s-app=kube-dns"))
    );
}

fn found_without_platform() -> Discovery {
    found("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
}

#[test]
fn helpers() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let cover = |ips: &[&str]| {
        super::decide::covering_block(ips.iter().map(|s| ip(s))).map(|c| c.to_string())
    };
    assert_eq!(
        cover(&["10.0.1.23", "10.0.3.77"]).as_deref(),
        Some("10.0.0.0/22")
    );
    assert_eq!(cover(&["10.0.1.23"]).as_deref(), Some("10.0.1.23/32"));
    assert_eq!(
        cover(&["fd00::1", "10.0.0.1", "fd00::ff"]).as_deref(),
        Some("fd00::/120")
    );
    assert_eq!(cover(&[]), None);
    let empty = found_without_platform();
    assert!(empty.profile.node_cidrs.is_empty());
    assert!(
        empty
            .notes
            .iter()
            .any(|n| n.text.starts_with("the dump has no nodes"))
    );
}

#[test]
fn a_large_dump_reads() {
    let nodes: String = (0..50)
        .map(|i| format!("- {{apiVersion: v1, kind: Node, metadata: {{name: n{i}}}, status: {{addresses: [{{type: InternalIP, address: 10.128.0.{i}}}]}}}}\n"))
        .collect();
    let files = [
        (
            "nodes.yaml".to_owned(),
            format!("apiVersion: v1\nkind: List\nitems:\n{nodes}"),
        ),
        ("pods.json".to_owned(), crate::synthetic::pods(2_000)),
    ];
    let dump = read(&files, &Limits::default()).unwrap();
    assert_eq!((dump.nodes.len(), dump.pods.len()), (50, 2_000));
    let found = discover(&dump);
    assert_eq!(found.profile.node_cidrs.len(), 50);
    assert!(
        found
            .notes
            .iter()
            .all(|n| !n.text.contains("holds the addresses"))
    );
}
