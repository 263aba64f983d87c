//! The largest cluster Kubernetes supports, written as `kubectl get -o json` and `-o yaml` print
//! it, with policies of every dialect the evaluator reads and a DynaKube whose pods run in it:
//! the inputs of `cargo xtask bench-verify` (see [`super::large_cluster`]).
//!
//! The cluster: namespaces with team, environment and injection labels; nodes in three zones;
//! per node a Cilium agent and the Dynatrace DaemonSets' pods (host-network OneAgent, CSI
//! driver); CoreDNS, Prometheus, the Dynatrace operator, webhook and ActiveGate; and application
//! pods of Deployments (labels `app`, `tier`, `version`, `pod-template-hash`, named container
//! ports, some dual-stack). The policies: NetworkPolicies of the shapes of [`super::cluster`]
//! and some that open the ActiveGate; ClusterNetworkPolicies of both tiers; Cilium's policies
//! with entities, CIDR sets, `toFQDNs` with DNS rules, named ports, denies and host policies;
//! and the policies `generate --flavor cilium` writes for the DynaKube.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Value, json};

use super::{ENVIRONMENTS, Random, Scale, TEAMS, TIERS};
use crate::evaluate::{NAMESPACE_NAME_LABEL, Namespace, Pod};
use crate::matrix::{Component, Protocol};

/// The operator namespace and the DynaKube's name.
const DYNATRACE: &str = "dynatrace";
const DYNAKUBE_NAME: &str = "dynakube";
/// The tenant host and the address the hosts file gives it.
const TENANT: &str = "abc12345.live.dynatrace.com";
const TENANT_ADDRESS: &str = "203.0.113.10";

/// The DynaKube: cloud-native full stack with a routing and Kubernetes-monitoring ActiveGate.
const DYNAKUBE: &str = "\
apiVersion: dynatrace.com/v1beta6
kind: DynaKube
metadata: {name: dynakube, namespace: dynatrace}
spec:
  apiUrl: https://abc12345.live.dynatrace.com/api
  oneAgent: {cloudNativeFullStack: {}}
  activeGate:
    capabilities: [routing, kubernetes-monitoring]
    replicas: 3
";

/// The cluster profile: node, control-plane and kube-apiserver addresses, Prometheus.
const PROFILE: &str = "\
namespace: dynatrace
apiServer:
  serviceCIDRs: [10.96.0.1/32]
  endpointCIDRs: [10.129.0.1/32, 10.129.0.2/32, 10.129.0.3/32]
nodeCIDRs: [10.128.0.0/16]
controlPlaneCIDRs: [10.129.0.0/24]
prometheus:
  namespace: monitoring
  podLabels: {app.kubernetes.io/name: prometheus}
";

/// kube-apiserver's endpoints (the profile's `endpointCIDRs`).
const API_SERVER: [&str; 3] = ["10.129.0.1", "10.129.0.2", "10.129.0.3"];

/// Every file of the generated cluster, by name.
pub(super) fn files(scale: &Scale, seed: u64) -> Vec<(String, String)> {
    let mut random = Random(seed);
    let dynatrace = Dynatrace::new();
    let namespaces = namespaces(&mut random, scale);
    let mut cluster = List::default();
    for (i, namespace) in namespaces.iter().enumerate() {
        cluster.push(&namespace_item(i, namespace));
    }
    for node in 0..scale.nodes {
        cluster.push(&node_item(node));
    }
    cluster.push(&api_server_slice());
    let explain = pods(&mut random, scale, &namespaces, &dynatrace, &mut cluster);
    let mut policies = List::default();
    policies_of(&mut random, scale, &namespaces, &mut policies);
    for object in &dynatrace.policies {
        policies.push(object);
    }
    let (cluster_json, cluster_yaml) = cluster.finish();
    let (policies_json, policies_yaml) = policies.finish();
    vec![
        ("dynakube.yaml".into(), DYNAKUBE.into()),
        ("cluster-profile.yaml".into(), PROFILE.into()),
        (
            "hosts.yaml".into(),
            format!("{TENANT}: [{TENANT_ADDRESS}]\n"),
        ),
        ("cluster.json".into(), cluster_json),
        ("cluster.yaml".into(), cluster_yaml),
        ("policies.json".into(), policies_json),
        ("policies.yaml".into(), policies_yaml),
        ("explain.txt".into(), explain),
    ]
}

/// The DynaKube's matrix made concrete: its workloads' pods and the policies `generate --flavor
/// cilium` writes for it.
struct Dynatrace {
    pods: Vec<(Component, Pod)>,
    policies: Vec<Value>,
}

impl Dynatrace {
    fn new() -> Self {
        let mut inputs = crate::resources::Inputs::default();
        let options = crate::input::ParseOptions::default();
        crate::input::parse_into(&mut inputs, "dynakube.yaml", DYNAKUBE, &options)
            .expect("the generator's DynaKube is valid");
        let profile = crate::cluster::ClusterProfile::parse("cluster-profile.yaml", PROFILE)
            .expect("the generator's profile is valid");
        let hosts = crate::resolve::FixedHosts::parse(
            "hosts.yaml",
            &format!("{TENANT}: [{TENANT_ADDRESS}]\n"),
        )
        .expect("the generator's hosts are valid");
        let options = crate::GenerateOptions {
            flavor: crate::Flavor::Cilium,
            ..crate::GenerateOptions::default()
        };
        let generated = crate::generate(&inputs, &profile, &options, &hosts)
            .expect("the generator's DynaKube generates");
        Dynatrace {
            pods: crate::verify::workload_pods(&generated.matrix),
            policies: generated.objects(),
        }
    }
}

/// A `v1` `List` written as JSON and as YAML at once, as `kubectl get -o json|yaml` print it:
/// fields in alphabetical order, JSON indented by four spaces.
#[derive(Default)]
struct List {
    json: String,
    yaml: String,
}

impl List {
    /// Adds an item.
    fn push(&mut self, item: &Value) {
        self.json
            .push_str(if self.json.is_empty() { "\n" } else { ",\n" });
        let mut bytes = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
        serde::Serialize::serialize(item, &mut serializer).expect("JSON values serialize");
        let text = String::from_utf8(bytes).expect("JSON is UTF-8");
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                self.json.push('\n');
            }
            self.json.push_str("        ");
            self.json.push_str(line);
        }
        let text = serde_yaml::to_string(item).expect("JSON values serialize as YAML");
        for (i, line) in text.lines().enumerate() {
            self.yaml.push_str(if i == 0 { "- " } else { "  " });
            self.yaml.push_str(line);
            self.yaml.push('\n');
        }
    }

    /// The list as JSON and as YAML.
    fn finish(self) -> (String, String) {
        let json = format!(
            "{{\n    \"apiVersion\": \"v1\",\n    \"items\": [{}\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {{\n        \"resourceVersion\": \"\"\n    }}\n}}\n",
            self.json
        );
        let yaml = format!(
            "apiVersion: v1\nitems:\n{}kind: List\nmetadata:\n  resourceVersion: \"\"\n",
            self.yaml
        );
        (json, yaml)
    }
}

/// The namespaces: `kube-system`, `monitoring` and `dynatrace`, then application namespaces
/// with team and environment labels, every one injected (the operator labels the namespaces it
/// injects with its instance label), some monitored.
fn namespaces(random: &mut Random, scale: &Scale) -> Vec<Namespace> {
    let fixed = ["kube-system", "monitoring", DYNATRACE];
    let count = scale.namespaces.max(fixed.len() + 1);
    (0..count)
        .map(|i| {
            let name = fixed
                .get(i)
                .map_or_else(|| format!("ns-{i:04}"), |n| (*n).to_string());
            let mut labels = BTreeMap::from([(NAMESPACE_NAME_LABEL.to_string(), name.clone())]);
            if i >= fixed.len() {
                labels.insert("team".into(), random.pick(&TEAMS).to_string());
                labels.insert("env".into(), random.pick(&ENVIRONMENTS).to_string());
                if random.chance(30) {
                    labels.insert("monitoring".into(), "enabled".into());
                }
                labels.insert(
                    crate::matrix::INSTANCE_NAMESPACE_LABEL.into(),
                    DYNAKUBE_NAME.into(),
                );
            }
            Namespace { name, labels }
        })
        .collect()
}

fn namespace_item(i: usize, namespace: &Namespace) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "creationTimestamp": "2026-01-12T09:30:00Z",
            "labels": namespace.labels,
            "name": namespace.name,
            "resourceVersion": "1042",
            "uid": uid("ns", i as u64),
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// The name of node number `node`.
fn node_name(node: usize) -> String {
    format!("node-{node:04}")
}

/// The address of node number `node`, in the profile's `nodeCIDRs` (10.128.0.0/16).
fn node_address(node: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 128, 0, 1)) + node as u32)
}

fn node_item(node: usize) -> Value {
    let name = node_name(node);
    let zone = ["a", "b", "c"][node % 3];
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "creationTimestamp": "2026-01-12T09:00:00Z",
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "m6i.4xlarge",
                "topology.kubernetes.io/region": "eu-west-1",
                "topology.kubernetes.io/zone": format!("eu-west-1{zone}"),
            },
            "name": name,
            "resourceVersion": "88120",
            "uid": uid("node", node as u64),
        },
        "spec": {"podCIDR": format!("10.{}.{}.0/24", 64 + node / 256, node % 256), "providerID": format!("aws:///eu-west-1{zone}/i-{node:017x}")},
        "status": {
            "addresses": [
                {"address": node_address(node).to_string(), "type": "InternalIP"},
                {"address": format!("ip-{}.eu-west-1.compute.internal", node_address(node).to_string().replace('.', "-")), "type": "InternalDNS"},
                {"address": name, "type": "Hostname"},
            ],
            "nodeInfo": {"architecture": "amd64", "containerRuntimeVersion": "containerd://2.1.4", "kernelVersion": "6.12.40", "kubeProxyVersion": "", "kubeletVersion": "v1.35.0", "operatingSystem": "linux", "osImage": "Amazon Linux 2023"},
        },
    })
}

/// The EndpointSlice of the `kubernetes` Service: kube-apiserver's endpoints.
fn api_server_slice() -> Value {
    let endpoints: Vec<Value> = API_SERVER
        .iter()
        .map(|a| json!({"addresses": [a], "conditions": {"ready": true}}))
        .collect();
    json!({
        "addressType": "IPv4",
        "apiVersion": "discovery.k8s.io/v1",
        "endpoints": endpoints,
        "kind": "EndpointSlice",
        "metadata": {
            "labels": {"kubernetes.io/service-name": "kubernetes"},
            "name": "kubernetes",
            "namespace": "default",
        },
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
    })
}

/// A made-up uid, unique per `kind` and `n`.
fn uid(kind: &str, n: u64) -> String {
    let hash = kind.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!(
        "{hash:08x}-{:04x}-4{:03x}-8{:03x}-{n:012x}",
        n & 0xffff,
        (n >> 16) & 0xfff,
        (n >> 28) & 0xfff
    )
}

/// What a generated pod is.
struct PodFacts {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    /// The kind and name of its controller.
    owner: (&'static str, String),
    node: usize,
    host_network: bool,
    /// Its number among the pods outside the host network, which gives its addresses.
    address: u32,
    dual_stack: bool,
    ports: Vec<(Option<String>, u16, Protocol)>,
    service_account: String,
    image: String,
}

impl PodFacts {
    fn item(&self) -> Value {
        let node = node_address(self.node).to_string();
        let ips: Vec<String> = if self.host_network {
            vec![node.clone()]
        } else {
            let v4 = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 1, 0)) + self.address);
            let mut ips = vec![v4.to_string()];
            if self.dual_stack {
                let v6 = Ipv6Addr::from(
                    0xfd00_0000_0000_0000_0000_0000_0001_0000 + u128::from(self.address),
                );
                ips.push(v6.to_string());
            }
            ips
        };
        let ports: Vec<Value> = self
            .ports
            .iter()
            .map(|(name, port, protocol)| {
                let mut port = json!({"containerPort": port, "protocol": protocol.name()});
                if let Some(name) = name {
                    port["name"] = json!(name);
                }
                port
            })
            .collect();
        let mut container = json!({
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "name": "main",
        });
        if !ports.is_empty() {
            container["ports"] = json!(ports);
        }
        let mut spec = json!({
            "containers": [container],
            "dnsPolicy": "ClusterFirst",
            "nodeName": node_name(self.node),
            "restartPolicy": "Always",
            "serviceAccount": self.service_account,
            "serviceAccountName": self.service_account,
            "terminationGracePeriodSeconds": 30,
        });
        if self.host_network {
            spec["hostNetwork"] = json!(true);
        }
        let (kind, owner) = &self.owner;
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "creationTimestamp": "2026-03-02T08:00:00Z",
                "labels": self.labels,
                "name": self.name,
                "namespace": self.namespace,
                "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": kind, "name": owner, "uid": uid(kind, u64::from(self.address))}],
                "resourceVersion": "120445",
                "uid": uid("pod", u64::from(self.address)),
            },
            "spec": spec,
            "status": {
                "hostIP": node,
                "hostIPs": [{"ip": node}],
                "phase": "Running",
                "podIP": ips[0],
                "podIPs": ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>(),
                "qosClass": "Burstable",
                "startTime": "2026-03-02T08:00:00Z",
            },
        })
    }
}

/// The characters of the suffixes Kubernetes gives the names it makes.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A random suffix of `len` characters as Kubernetes makes them.
fn suffix(random: &mut Random, len: usize) -> String {
    (0..len)
        .map(|_| char::from(ALPHABET[random.below(ALPHABET.len())]))
        .collect()
}

/// The five-character suffix of pod number `n`: looks random, and differs for every `n` below
/// 27^5 (multiplying by a number prime to 27 permutes the numbers below 27^5).
fn unique_suffix(n: usize) -> String {
    const SPACE: usize = 27 * 27 * 27 * 27 * 27;
    let mut value = n.wrapping_mul(7_777_777) % SPACE;
    (0..5)
        .map(|_| {
            let c = char::from(ALPHABET[value % ALPHABET.len()]);
            value /= ALPHABET.len();
            c
        })
        .collect()
}

/// Writes every pod into `cluster` and returns the connections `explain` is asked about, one
/// a line (`--from`, `--to`, `--port`).
fn pods(
    random: &mut Random,
    scale: &Scale,
    namespaces: &[Namespace],
    dynatrace: &Dynatrace,
    cluster: &mut List,
) -> String {
    let mut writer = PodWriter {
        cluster,
        count: 0,
        addresses: 0,
        suffixes: 0,
        nodes: scale.nodes.max(1),
    };
    let mut named: BTreeMap<&str, String> = BTreeMap::new();
    system_pods(&mut writer, &mut named);
    dynatrace_pods(random, &mut writer, dynatrace, &mut named);
    let mut apps = scale.pods.saturating_sub(writer.count);
    let app_namespaces = &namespaces[3..];
    let mut deployment = 0;
    while apps > 0 {
        let namespace = &app_namespaces[deployment % app_namespaces.len()];
        let replicas = (1 + random.below(5)).min(apps);
        for facts in deployment_pods(random, &mut writer, (deployment, replicas), namespace) {
            let key = if deployment == 0 { "app" } else { "other-app" };
            named
                .entry(key)
                .or_insert_with(|| format!("{}/{}", facts.namespace, facts.name));
            writer.write(&facts);
        }
        apps -= replicas;
        deployment += 1;
    }
    let get = |key: &str| named.get(key).cloned().unwrap_or_default();
    [
        (get("app"), get("activegate"), "443/TCP"),
        (
            get("activegate"),
            format!("{TENANT}={TENANT_ADDRESS}"),
            "443/TCP",
        ),
        (get("app"), get("other-app"), "8080/TCP"),
        (get("app"), get("dns"), "53/UDP"),
        (get("prometheus"), get("app"), "9090/TCP"),
        (get("app"), "8.8.8.8".into(), "443/TCP"),
        (
            format!("node/{}", node_name(0)),
            get("oneagent"),
            "50000/TCP",
        ),
    ]
    .into_iter()
    .map(|(from, to, port)| format!("{from} {to} {port}\n"))
    .collect()
}

/// Gives pods their names, nodes and addresses, and writes them.
struct PodWriter<'a> {
    cluster: &'a mut List,
    /// The pods written.
    count: usize,
    /// The pods placed, and so the last address given.
    addresses: u32,
    /// The suffixes given.
    suffixes: usize,
    nodes: usize,
}

impl PodWriter<'_> {
    /// The next node (round robin) and address.
    fn place(&mut self) -> (usize, u32) {
        let node = self.addresses as usize % self.nodes;
        self.addresses += 1;
        (node, self.addresses)
    }

    /// A suffix of a pod name that no other pod has.
    fn suffix(&mut self) -> String {
        self.suffixes += 1;
        unique_suffix(self.suffixes)
    }

    fn write(&mut self, facts: &PodFacts) {
        self.cluster.push(&facts.item());
        self.count += 1;
    }
}

/// A pod of `namespace` with `labels` and `ports`, owned by `owner`.
fn pod_facts(
    writer: &mut PodWriter<'_>,
    (name, namespace): (String, &str),
    labels: BTreeMap<String, String>,
    owner: (&'static str, String),
    ports: Vec<(Option<String>, u16, Protocol)>,
    host_network: bool,
) -> PodFacts {
    let (node, address) = writer.place();
    PodFacts {
        image: format!("registry.example.com/{namespace}/{}:1.4.2", owner.1),
        name,
        namespace: namespace.to_string(),
        labels,
        owner,
        node,
        host_network,
        address,
        dual_stack: false,
        ports,
        service_account: "default".into(),
    }
}

/// Cilium's agent on every node, CoreDNS and Prometheus.
fn system_pods(writer: &mut PodWriter<'_>, named: &mut BTreeMap<&str, String>) {
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    };
    for _ in 0..writer.nodes {
        let name = format!("cilium-{}", writer.suffix());
        let mut facts = pod_facts(
            writer,
            (name, "kube-system"),
            labels(&[
                ("k8s-app", "cilium"),
                ("controller-revision-hash", "7c9d8f6b5"),
            ]),
            ("DaemonSet", "cilium".into()),
            vec![(Some("prometheus".into()), 9962, Protocol::Tcp)],
            true,
        );
        facts.service_account = "cilium".into();
        writer.write(&facts);
    }
    let dns_ports = vec![
        (Some("dns".into()), 53, Protocol::Udp),
        (Some("dns-tcp".into()), 53, Protocol::Tcp),
        (Some("metrics".into()), 9153, Protocol::Tcp),
    ];
    for _ in 0..(writer.nodes / 250).max(2) {
        let name = format!("coredns-5d78c9869d-{}", writer.suffix());
        let facts = pod_facts(
            writer,
            (name, "kube-system"),
            labels(&[("k8s-app", "kube-dns"), ("pod-template-hash", "5d78c9869d")]),
            ("ReplicaSet", "coredns-5d78c9869d".into()),
            dns_ports.clone(),
            false,
        );
        named.insert("dns", format!("kube-system/{}", facts.name));
        writer.write(&facts);
    }
    for i in 0..2 {
        let facts = pod_facts(
            writer,
            (format!("prometheus-k8s-{i}"), "monitoring"),
            labels(&[
                ("app.kubernetes.io/name", "prometheus"),
                (
                    "statefulset.kubernetes.io/pod-name",
                    &format!("prometheus-k8s-{i}"),
                ),
            ]),
            ("StatefulSet", "prometheus-k8s".into()),
            vec![(Some("web".into()), 9090, Protocol::Tcp)],
            false,
        );
        named.insert("prometheus", format!("monitoring/{}", facts.name));
        writer.write(&facts);
    }
}

/// The pods of the DynaKube's workloads: a DaemonSet's on every node, three ActiveGates, two
/// webhooks, one of every other.
fn dynatrace_pods(
    random: &mut Random,
    writer: &mut PodWriter<'_>,
    dynatrace: &Dynatrace,
    named: &mut BTreeMap<&str, String>,
) {
    for (component, pod) in &dynatrace.pods {
        let base = pod.name.strip_suffix("-0").unwrap_or(&pod.name).to_string();
        let (kind, count) = match component {
            Component::CsiDriver
            | Component::OneAgent
            | Component::LogMonitoring
            | Component::Kspm => ("DaemonSet", writer.nodes),
            Component::ActiveGate => ("StatefulSet", 3),
            Component::ExtensionController | Component::OtelCollector => ("StatefulSet", 1),
            Component::Webhook => ("ReplicaSet", 2),
            _ => ("ReplicaSet", 1),
        };
        let hash = suffix(random, 10);
        for i in 0..count {
            let name = match kind {
                "StatefulSet" => format!("{base}-{i}"),
                "DaemonSet" => format!("{base}-{}", writer.suffix()),
                _ => format!("{base}-{hash}-{}", writer.suffix()),
            };
            let owner = match kind {
                "ReplicaSet" => format!("{base}-{hash}"),
                _ => base.clone(),
            };
            let ports = pod
                .ports
                .iter()
                .map(|p| (p.name.clone(), p.port, p.protocol))
                .collect();
            let mut facts = pod_facts(
                writer,
                (name, &pod.namespace),
                pod.labels.clone(),
                (kind, owner),
                ports,
                pod.host_network,
            );
            facts.service_account = format!("dynatrace-{}", component_name(*component));
            facts.image = "public.ecr.aws/dynatrace/dynatrace-operator:v1.10.2".into();
            let key = match component {
                Component::ActiveGate => Some("activegate"),
                Component::OneAgent => Some("oneagent"),
                _ => None,
            };
            if let Some(key) = key {
                named
                    .entry(key)
                    .or_insert_with(|| format!("{}/{}", facts.namespace, facts.name));
            }
            writer.write(&facts);
        }
    }
}

/// A short name of a component, for service accounts.
fn component_name(component: Component) -> &'static str {
    match component {
        Component::Operator => "operator",
        Component::Webhook => "webhook",
        Component::CsiDriver => "oneagent-csi-driver",
        Component::ActiveGate => "activegate",
        Component::OneAgent => "dynakube-oneagent",
        _ => "component",
    }
}

/// The `replicas` pods of application Deployment number `number` in `namespace`, with the
/// labels and ports of the pods of [`super::cluster`]: the same for every pod of the Deployment,
/// which run on different nodes.
fn deployment_pods(
    random: &mut Random,
    writer: &mut PodWriter<'_>,
    (number, replicas): (usize, usize),
    namespace: &Namespace,
) -> Vec<PodFacts> {
    let tier = *random.pick(&TIERS);
    let app = format!("app-{}", random.below(5));
    let hash = format!("{:010x}", number as u64 * 0x9e37_79b9 % 0xff_ffff_ffff);
    let mut labels = BTreeMap::from([
        ("app".to_string(), app.clone()),
        ("app.kubernetes.io/name".to_string(), app.clone()),
        ("pod-template-hash".to_string(), hash.clone()),
        ("tier".to_string(), tier.to_string()),
        (
            "version".to_string(),
            random.pick(&["v1", "v2"]).to_string(),
        ),
    ]);
    if random.chance(10) {
        labels.insert("canary".to_string(), "true".to_string());
    }
    let port = |name: &str, port: u16| (Some(name.to_string()), port, Protocol::Tcp);
    let mut ports = match tier {
        "web" => vec![port("http", *random.pick(&[80, 8080]))],
        "api" => vec![port("http", 8080), port("grpc", 50051)],
        "db" => vec![port("sql", *random.pick(&[5432, 3306]))],
        _ => vec![port("redis", 6379)],
    };
    ports.push(port("metrics", 9090));
    if random.chance(5) {
        ports.push((Some("sctp".into()), 3868, Protocol::Sctp));
    }
    let dual_stack = random.chance(20);
    let deployment = format!("{app}-{tier}-{number}");
    (0..replicas)
        .map(|_| {
            let name = format!("{deployment}-{hash}-{}", writer.suffix());
            let mut facts = pod_facts(
                writer,
                (name, &namespace.name),
                labels.clone(),
                ("ReplicaSet", format!("{deployment}-{hash}")),
                ports.clone(),
                false,
            );
            facts.dual_stack = dual_stack;
            facts
        })
        .collect()
}

/// Every policy of the cluster: NetworkPolicies, ClusterNetworkPolicies and Cilium's.
fn policies_of(random: &mut Random, scale: &Scale, namespaces: &[Namespace], list: &mut List) {
    let apps = &namespaces[3..];
    for i in 0..scale.network_policies {
        let namespace = &apps[i % apps.len()];
        let object = if random.chance(10) {
            to_activegate(i, &namespace.name)
        } else {
            serde_json::to_value(super::policy(random, i, namespace))
                .expect("NetworkPolicies serialize")
        };
        list.push(&object);
    }
    for i in 0..scale.cluster_network_policies {
        list.push(&super::policies::cluster_network_policy(random, i));
    }
    for i in 0..scale.cilium_policies {
        let object = if i % 10 == 9 {
            super::policies::cilium_clusterwide(random, i)
        } else {
            super::policies::cilium_namespaced(random, i, &apps[i % apps.len()].name)
        };
        list.push(&object);
    }
}

/// A NetworkPolicy that lets the web and API pods of a namespace reach the ActiveGate.
fn to_activegate(i: usize, namespace: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": format!("allow-activegate-{i}"), "namespace": namespace},
        "spec": {
            "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: DYNATRACE}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "activegate"}},
                }],
                "ports": [{"port": 443, "protocol": "TCP"}],
            }],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Scale, large_files};
    use crate::evaluate::{Index, Options, explain, read_cluster, read_policies};
    use crate::source::Limits;

    const SMALL: Scale = Scale {
        nodes: 20,
        namespaces: 12,
        pods: 400,
        network_policies: 60,
        cluster_network_policies: 40,
        cilium_policies: 40,
    };

    #[test]
    fn the_large_cluster_reads_verifies_and_explains() {
        let files = large_files(&SMALL, 3);
        assert_eq!(
            files,
            large_files(&SMALL, 3),
            "the same seed gives the same files"
        );
        let file = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, text)| text.as_str())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let limits = Limits {
            max_bytes: usize::MAX,
            ..Limits::default()
        };
        let cluster = read_cluster("cluster.json", file("cluster.json"), &limits).unwrap();
        assert_eq!(
            cluster,
            read_cluster("cluster.yaml", file("cluster.yaml"), &limits).unwrap()
        );
        assert_eq!(cluster.pods.len(), SMALL.pods);
        assert_eq!(cluster.nodes.len(), SMALL.nodes);
        assert_eq!(cluster.namespaces.len(), SMALL.namespaces);
        assert_eq!(cluster.api_server.len(), 3);
        let policies = read_policies("policies.json", file("policies.json"), &limits).unwrap();
        let yaml = read_policies("policies.yaml", file("policies.yaml"), &limits).unwrap();
        assert!(policies.files.keys().eq(yaml.files.keys()));
        assert_eq!(policies.policies.len(), SMALL.network_policies);
        assert_eq!(
            policies.cluster_network_policies.len(),
            SMALL.cluster_network_policies
        );
        // The cluster's Cilium policies and those generated for the DynaKube.
        assert!(policies.cilium_policies.len() > SMALL.cilium_policies);
        let index = Index::with_options(cluster, &policies, Options::default()).unwrap();
        let mut verdicts = Vec::new();
        for line in file("explain.txt").lines() {
            let words: Vec<&str> = line.split(' ').collect();
            let answer = explain(&index, words[0], words[1], words[2]).unwrap();
            verdicts.push(answer.allowed());
        }
        assert_eq!(verdicts.len(), 7);
        assert!(
            verdicts.contains(&true) && verdicts.contains(&false),
            "{verdicts:?}"
        );
    }
}
