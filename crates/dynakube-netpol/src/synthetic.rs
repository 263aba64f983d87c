//! Deterministic synthetic inputs for benchmarks: DynaKubes by the thousand, and a cluster
//! (namespaces, pods, policies) with connection queries, also for comparing the evaluator with
//! other analyzers on large inputs.
//!
//! The mix aims at realism: default-deny policies, DNS egress to `kube-system`, selectors with
//! `matchLabels` and `matchExpressions`, `ipBlock`s with `except` in IPv4 and IPv6, named ports,
//! port ranges, SCTP, dual-stack pods and hostNetwork node agents. A small hand-written
//! generator (SplitMix64) makes every run produce the same cluster for the same seed.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::evaluate::Index;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::resources::Inputs;
//! use dynakube_netpol::synthetic::{Size, cluster, connections, dynakubes};
//!
//! let size = Size { namespaces: 4, pods: 40, policies: 8 };
//! let generated = cluster(size, 7);
//! assert_eq!((generated.namespaces.len(), generated.pods.len()), (4, 40));
//! assert_eq!(generated.policies.len(), 8);
//! // The same seed gives the same cluster.
//! assert_eq!(cluster(size, 7).policies, generated.policies);
//!
//! // Queries for the evaluator.
//! let queries = connections(&generated, 10, 1);
//! let index = Index::new(generated.namespaces.clone(), generated.pods.clone(), &generated.policies)?;
//! let allowed = queries.iter().filter(|query| index.evaluate(query).allowed()).count();
//! assert!(allowed <= 10);
//!
//! // DynaKubes in one YAML stream.
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dynakubes.yaml", &dynakubes(8), &ParseOptions::default())?;
//! assert_eq!(inputs.dynakubes.len(), 8);
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

mod large;
mod policies;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::evaluate::{
    Case, Connection, ConnectionEnd, ContainerPort, NAMESPACE_NAME_LABEL, Namespace, Pod,
};
use crate::matrix::Protocol;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde_json::json;

/// How big a synthetic cluster is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Namespaces, at least 3 (`kube-system`, `monitoring` and `node-agents` come first).
    pub namespaces: usize,
    /// Pods, spread evenly over the namespaces.
    pub pods: usize,
    /// Policies, spread round-robin over the namespaces.
    pub policies: usize,
}

#[cfg(test)]
impl Size {
    /// The benchmark's size: 10,000 pods in 500 namespaces with 1,000 policies.
    pub(crate) const BENCH: Size = Size {
        namespaces: 500,
        pods: 10_000,
        policies: 1_000,
    };
}

/// How big a generated cluster for `verify` and `explain` at scale is (see [`large_cluster`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scale {
    /// Nodes.
    pub(crate) nodes: usize,
    /// Namespaces, at least 4 (`kube-system`, `monitoring` and `dynatrace` come first, then
    /// the applications').
    pub(crate) namespaces: usize,
    /// Pods, those of the DaemonSets (three on every node) and of the system and Dynatrace
    /// workloads included; the rest are applications'.
    pub(crate) pods: usize,
    /// NetworkPolicies, spread round-robin over the application namespaces.
    pub(crate) network_policies: usize,
    /// ClusterNetworkPolicies (`policy.networking.k8s.io/v1alpha2`), of both tiers.
    pub(crate) cluster_network_policies: usize,
    /// Cilium's policies: every tenth a CiliumClusterwideNetworkPolicy, the others
    /// CiliumNetworkPolicies in the application namespaces.
    pub(crate) cilium_policies: usize,
}

/// The files of a generated cluster of `size` and `nodes` nodes from `seed`, by name, for
/// `verify` and `explain` as a user runs them on a cluster that runs Cilium. `size` counts the
/// pods (those of the DaemonSets, three on every node, and of the system and Dynatrace
/// workloads included), the namespaces (at least 4: `kube-system`, `monitoring` and
/// `dynatrace`, then the applications') and the NetworkPolicies; a tenth as many
/// ClusterNetworkPolicies (of both tiers) and as many Cilium policies (every tenth clusterwide)
/// come with them. The largest cluster Kubernetes supports ("Considerations for large
/// clusters": at most 5,000 nodes and 150,000 pods), with 10,000 NetworkPolicies, is
/// `Size { namespaces: 2_000, pods: 150_000, policies: 10_000 }` and 5,000 nodes.
///
/// - `dynakube.yaml`, `cluster-profile.yaml`, `hosts.yaml`: a DynaKube (cloud-native full stack,
///   a routing ActiveGate of three replicas), the cluster profile and the tenant's address;
/// - `cluster.json` and `cluster.yaml`: `kubectl get namespaces,nodes,pods -A` (with the
///   `kubernetes` Service's EndpointSlice) as `-o json` and `-o yaml` print it, the DynaKube's
///   pods among them;
/// - `policies.json` and `policies.yaml`: every policy of the cluster, as `kubectl get
///   networkpolicies,clusternetworkpolicies,ciliumnetworkpolicies,ciliumclusterwidenetworkpolicies
///   -A` prints them, with the policies `generate --flavor cilium` writes for the DynaKube;
/// - `explain.txt`: connections to ask `explain` about, one a line: source, destination and
///   `PORT/PROTOCOL`.
///
/// The same size, nodes and seed give the same files.
///
/// # Panics
///
/// When the generator's own DynaKube does not generate (a bug).
pub fn large_cluster(size: Size, nodes: usize, seed: u64) -> Vec<(String, String)> {
    let scale = Scale {
        nodes,
        namespaces: size.namespaces,
        pods: size.pods,
        network_policies: size.policies,
        cluster_network_policies: size.policies / 10,
        cilium_policies: size.policies / 10,
    };
    large::files(&scale, seed)
}

/// [`large_cluster`] of any mix of policies.
#[cfg(test)]
pub(crate) fn large_files(scale: &Scale, seed: u64) -> Vec<(String, String)> {
    large::files(scale, seed)
}

/// SplitMix64: a tiny, good-enough generator of pseudo-random numbers.
#[derive(Debug, Clone)]
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (which must not be 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// An element of `items`.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TEAMS: [&str; 7] = [
    "payments", "search", "checkout", "identity", "catalog", "ml", "platform",
];
const ENVIRONMENTS: [&str; 3] = ["prod", "staging", "dev"];
const TIERS: [&str; 4] = ["web", "api", "db", "cache"];

/// Generates a cluster of `size` from `seed`.
///
/// # Panics
///
/// When `size.namespaces` is less than 3.
pub fn cluster(size: Size, seed: u64) -> Case {
    assert!(
        size.namespaces >= 3,
        "a synthetic cluster needs at least 3 namespaces"
    );
    let mut random = Random(seed);
    let namespaces: Vec<Namespace> = (0..size.namespaces)
        .map(|i| {
            let name = match i {
                0 => "kube-system".to_string(),
                1 => "monitoring".to_string(),
                2 => "node-agents".to_string(),
                _ => format!("ns-{i:04}"),
            };
            let mut labels = BTreeMap::from([(NAMESPACE_NAME_LABEL.to_string(), name.clone())]);
            if i >= 3 {
                labels.insert("team".into(), random.pick(&TEAMS).to_string());
                labels.insert("env".into(), random.pick(&ENVIRONMENTS).to_string());
                if random.chance(30) {
                    labels.insert("monitoring".into(), "enabled".into());
                }
            }
            Namespace { name, labels }
        })
        .collect();

    let pods = (0..size.pods)
        .map(|i| {
            let namespace = i % size.namespaces;
            pod(&mut random, i, namespace, &namespaces[namespace].name)
        })
        .collect();

    let policies = (0..size.policies)
        .map(|i| {
            let namespace = 3 + i % (size.namespaces - 3);
            policy(&mut random, i, &namespaces[namespace])
        })
        .collect();

    Case {
        namespaces,
        pods,
        policies,
    }
}

/// Pod number `i`, in namespace number `namespace` named `namespace_name`.
fn pod(random: &mut Random, i: usize, namespace: usize, namespace_name: &str) -> Pod {
    let port = |name: &str, port: u16, protocol: Protocol| ContainerPort {
        name: Some(name.to_string()),
        port,
        protocol,
    };
    let v4 = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 1 + i as u32));
    let mut labels = BTreeMap::new();
    let (ips, ports, host_network) = match namespace {
        0 => {
            labels.insert("k8s-app".to_string(), "kube-dns".to_string());
            let ports = vec![
                port("dns", 53, Protocol::Udp),
                port("dns-tcp", 53, Protocol::Tcp),
                port("metrics", 9153, Protocol::Tcp),
            ];
            (vec![v4], ports, false)
        }
        1 => {
            labels.insert("app".to_string(), "prometheus".to_string());
            (vec![v4], vec![port("web", 9090, Protocol::Tcp)], false)
        }
        2 => {
            labels.insert("app".to_string(), "node-agent".to_string());
            let node = IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1 + (i % 200) as u8));
            (vec![node], vec![port("metrics", 9100, Protocol::Tcp)], true)
        }
        _ => {
            let tier = *random.pick(&TIERS);
            labels.insert("app".to_string(), format!("app-{}", random.below(5)));
            labels.insert("tier".to_string(), tier.to_string());
            labels.insert(
                "version".to_string(),
                random.pick(&["v1", "v2"]).to_string(),
            );
            if random.chance(10) {
                labels.insert("canary".to_string(), "true".to_string());
            }
            let mut ports = match tier {
                "web" => vec![port("http", *random.pick(&[80, 8080]), Protocol::Tcp)],
                "api" => vec![
                    port("http", 8080, Protocol::Tcp),
                    port("grpc", 50051, Protocol::Tcp),
                ],
                "db" => vec![port("sql", *random.pick(&[5432, 3306]), Protocol::Tcp)],
                _ => vec![port("redis", 6379, Protocol::Tcp)],
            };
            ports.push(port("metrics", 9090, Protocol::Tcp));
            if random.chance(5) {
                ports.push(port("sctp", 3868, Protocol::Sctp));
            }
            let mut ips = vec![v4];
            if random.chance(20) {
                ips.push(IpAddr::V6(Ipv6Addr::from(
                    0xfd00_0000_0000_0000_0000_0000_0000_0000 + 1 + i as u128,
                )));
            }
            (ips, ports, false)
        }
    };
    Pod {
        name: format!("pod-{i:05}"),
        namespace: namespace_name.to_string(),
        labels,
        ips,
        ports,
        host_network,
        ..Pod::default()
    }
}

/// Policy number `i` in `namespace`.
fn policy(random: &mut Random, i: usize, namespace: &Namespace) -> NetworkPolicy {
    let app = format!("app-{}", random.below(5));
    let team = random.pick(&TEAMS);
    let (name, spec) = match random.below(10) {
        shape @ 0..=4 => broad_policy(shape),
        shape => selective_policy(shape, &app, team),
    };
    let value = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": format!("{name}-{i}"), "namespace": namespace.name},
        "spec": spec,
    });
    serde_json::from_value(value).expect("the generator writes valid policies")
}

/// The policy shapes that select a whole namespace or one tier from anywhere: default denies,
/// cluster DNS, a web tier open to the internet.
fn broad_policy(shape: usize) -> (&'static str, serde_json::Value) {
    match shape {
        0 | 1 => (
            "default-deny-ingress",
            json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
        ),
        2 => (
            "default-deny",
            json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        ),
        3 => (
            "allow-dns",
            json!({
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }],
            }),
        ),
        _ => (
            "web-from-internet",
            json!({
                "podSelector": {"matchLabels": {"tier": "web"}},
                "ingress": [{
                    "from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}},
                             {"ipBlock": {"cidr": "::/0", "except": ["fd00::/8"]}}],
                    "ports": [{"port": "http"}],
                }],
            }),
        ),
    }
}

/// The policy shapes that pick peers by label expressions, named ports and port ranges.
fn selective_policy(shape: usize, app: &str, team: &str) -> (&'static str, serde_json::Value) {
    match shape {
        5 => (
            "api-from-web",
            json!({
                "podSelector": {"matchLabels": {"tier": "api", "app": app}},
                "ingress": [{
                    "from": [{"podSelector": {"matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["web", "api"]},
                        {"key": "canary", "operator": "DoesNotExist"},
                    ]}}],
                    "ports": [{"port": "http"}, {"port": "grpc"}],
                }],
            }),
        ),
        6 => (
            "db-from-team",
            json!({
                "podSelector": {"matchLabels": {"tier": "db"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{
                        "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": [team, "platform"]}]},
                        "podSelector": {"matchLabels": {"tier": "api"}},
                    }, {
                        "podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": [app]}]},
                    }],
                    "ports": [{"port": "sql"}],
                }],
            }),
        ),
        7 => (
            "metrics",
            json!({
                "podSelector": {"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]},
                "ingress": [{
                    "from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "monitoring"}}},
                             {"namespaceSelector": {"matchLabels": {"monitoring": "enabled"}}, "podSelector": {}}],
                    "ports": [{"port": "metrics"}],
                }, {
                    "from": [{"ipBlock": {"cidr": "192.168.0.0/24"}}],
                    "ports": [{"port": 9000, "endPort": 9200}, {"port": 3868, "protocol": "SCTP"}],
                }],
            }),
        ),
        8 => (
            "api-egress",
            json!({
                "podSelector": {"matchLabels": {"tier": "api"}},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "169.254.169.254/32"]}},
                           {"ipBlock": {"cidr": "::/0", "except": ["fd00::/8"]}}],
                    "ports": [{"port": 443}],
                }, {
                    "to": [{
                        "namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]},
                        "podSelector": {"matchLabels": {"tier": "db"}},
                    }],
                    "ports": [{"port": 5432}, {"port": 3306}, {"port": 6379, "endPort": 6380}],
                }, {
                    "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                    "ports": [{"port": "dns", "protocol": "UDP"}],
                }],
            }),
        ),
        _ => (
            "cache-same-app",
            json!({
                "podSelector": {"matchLabels": {"tier": "cache"}},
                "ingress": [{
                    "from": [{"podSelector": {"matchLabels": {"app": app}}}],
                    "ports": [{"port": 6379}],
                }],
            }),
        ),
    }
}

/// `count` connections between the pods of `synthetic` and some external addresses, from `seed`:
/// mostly pod to pod, some pod to address and address to pod, on common ports.
///
/// # Panics
///
/// When the cluster has no pods.
pub fn connections(synthetic: &Case, count: usize, seed: u64) -> Vec<Connection> {
    assert!(!synthetic.pods.is_empty(), "connections need pods");
    let mut random = Random(seed);
    let external: [IpAddr; 7] = [
        IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)),
        IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
        IpAddr::V4(Ipv4Addr::new(192, 168, 0, 5)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 7)),
    ];
    let ports: [(u16, Protocol); 14] = [
        (80, Protocol::Tcp),
        (443, Protocol::Tcp),
        (8080, Protocol::Tcp),
        (9090, Protocol::Tcp),
        (53, Protocol::Udp),
        (53, Protocol::Tcp),
        (5432, Protocol::Tcp),
        (3306, Protocol::Tcp),
        (6379, Protocol::Tcp),
        (50051, Protocol::Tcp),
        (9100, Protocol::Tcp),
        (9153, Protocol::Tcp),
        (3868, Protocol::Sctp),
        (6380, Protocol::Tcp),
    ];
    let pods = synthetic.pods.len();
    (0..count)
        .map(|_| {
            let pod = ConnectionEnd::Pod(random.below(pods));
            let other = ConnectionEnd::Pod(random.below(pods));
            let address = ConnectionEnd::Ip(*random.pick(&external));
            let (from, to) = match random.below(100) {
                0..70 => (pod, other),
                70..85 => (pod, address),
                _ => (address, pod),
            };
            let (port, protocol) = *random.pick(&ports);
            Connection {
                from,
                to,
                port,
                protocol,
            }
        })
        .collect()
}

/// `count` DynaKubes in one YAML stream, in four shapes that together reach most rows:
/// cloud-native full stack with a routing ActiveGate, application monitoring, host monitoring
/// with log monitoring, and telemetry ingest. Ten share a tenant.
pub fn dynakubes(count: usize) -> String {
    const SHAPES: [&str; 4] = [
        "  oneAgent: {cloudNativeFullStack: {}}\n  activeGate: {capabilities: [routing, kubernetes-monitoring]}\n",
        "  oneAgent: {applicationMonitoring: {}}\n",
        "  oneAgent: {hostMonitoring: {}}\n  logMonitoring: {}\n",
        "  activeGate: {capabilities: [routing]}\n  telemetryIngest: {protocols: [otlp]}\n",
    ];
    let mut out = String::new();
    for i in 0..count {
        out.push_str(&format!(
            "---\napiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {{name: dk{i}, namespace: dynatrace}}\nspec:\n  apiUrl: https://tenant{}.live.dynatrace.com/api\n{}",
            i / 10,
            SHAPES[i % SHAPES.len()]
        ));
    }
    out
}

/// `count` pods in a `kubectl get pods -A -o json` list, for benchmarks: one in ten skipped
/// for a transient reason, one in a hundred for a reason that needs a fix.
pub fn pods(count: usize) -> String {
    let mut out = String::from("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    for i in 0..count {
        if i > 0 {
            out.push(',');
        }
        let deployment = format!("app{}", i / 5);
        let annotations = if i % 100 == 0 {
            "\"oneagent.dynatrace.com/injected\":\"false\",\"oneagent.dynatrace.com/reason\":\"UnknownCodeModule\","
        } else if i % 10 == 0 {
            "\"oneagent.dynatrace.com/injected\":\"false\",\"oneagent.dynatrace.com/reason\":\"DynaKubeStatusNotReady\","
        } else {
            "\"oneagent.dynatrace.com/injected\":\"true\","
        };
        out.push_str(&format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"{deployment}-5d8c9b7f6-{i:05}\",\"namespace\":\"ns{}\",\"labels\":{{\"app\":\"{deployment}\",\"pod-template-hash\":\"5d8c9b7f6\"}},\"annotations\":{{{annotations}\"kubectl.kubernetes.io/restartedAt\":\"2026-11-24T00:00:00Z\"}},\"ownerReferences\":[{{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"{deployment}-5d8c9b7f6\",\"uid\":\"u{i}\",\"controller\":true}}]}},\"spec\":{{\"containers\":[{{\"name\":\"main\",\"image\":\"registry.example.com/app:1\"}}]}},\"status\":{{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\"}}}}",
            i % 50
        ));
    }
    out.push_str("]}\n");
    out
}
