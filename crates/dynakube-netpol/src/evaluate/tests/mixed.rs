//! The sets of every side against the evaluator's verdicts, with the three dialects mixed:
//! NetworkPolicies, ClusterNetworkPolicies of both tiers (`domainNames` too) and Cilium's
//! policies (entities,
//! CIDR sets with `except`, `toFQDNs` through DNS rules at the cluster DNS and at a node-local
//! cache, port ranges, `ANY`, named ports, denies, `enableDefaultDeny`, `toRequires`, host
//! policies). Every pod's side (a host-network pod's, its node's host) is compared with the
//! verdict on every other pod, node and a grid of addresses and names, on a grid of ports.

use super::*;

/// Two nodes, kube-apiserver on one of them and outside the cluster, a node-local DNS cache,
/// and pods in four namespaces (two in the host network).
pub(super) const MIXED_CLUSTER: &str = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: dynatrace, labels: {owner: dt}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: apps, labels: {team: a}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: kube-system}}
- {apiVersion: v1, kind: Namespace, metadata: {name: other, labels: {team: b}}}
- {apiVersion: v1, kind: Node, metadata: {name: n1, labels: {zone: a}}, status: {addresses: [{type: InternalIP, address: 192.0.2.1}]}}
- {apiVersion: v1, kind: Node, metadata: {name: n2, labels: {zone: b}}, status: {addresses: [{type: InternalIP, address: 192.0.2.2}, {type: ExternalIP, address: 198.51.100.200}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
  addressType: IPv4
  endpoints: [{addresses: [192.0.2.1]}, {addresses: [203.0.113.1]}]
- apiVersion: v1
  kind: Pod
  metadata: {name: ag-0, namespace: dynatrace, labels: {app: ag, env: prod}}
  spec: {nodeName: n1, serviceAccountName: ag, containers: [{name: m, ports: [{name: https, containerPort: 9999}, {name: metrics, containerPort: 9090, protocol: UDP}]}]}
  status: {podIP: 10.0.0.10}
- apiVersion: v1
  kind: Pod
  metadata: {name: op-0, namespace: dynatrace, labels: {app: op}}
  spec: {nodeName: n2, containers: [{name: m, ports: [{name: https, containerPort: 8443}]}]}
  status: {podIP: 10.0.0.11}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-0, namespace: apps, labels: {app: web, env: prod}}
  spec: {nodeName: n1, containers: [{name: m, ports: [{name: http, containerPort: 8080}]}]}
  status: {podIP: 10.0.1.10}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: apps, labels: {app: web}}
  spec: {nodeName: n2, containers: [{name: m, ports: [{name: http, containerPort: 8081}]}]}
  status: {podIP: 10.0.1.11}
- apiVersion: v1
  kind: Pod
  metadata: {name: db-0, namespace: apps, labels: {app: db}}
  spec: {nodeName: n2, containers: [{name: m, ports: [{name: sql, containerPort: 5432}, {name: metrics, containerPort: 9090, protocol: UDP}]}]}
  status: {podIP: 10.0.1.12}
- apiVersion: v1
  kind: Pod
  metadata: {name: coredns-0, namespace: kube-system, labels: {k8s-app: kube-dns}}
  spec: {nodeName: n2, containers: [{name: m, ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]}]}
  status: {podIP: 10.0.2.10}
- apiVersion: v1
  kind: Pod
  metadata: {name: node-local-dns-a, namespace: kube-system, labels: {k8s-app: node-local-dns}}
  spec: {nodeName: n1, hostNetwork: true, containers: [{name: node-cache, args: [-localip, "169.254.20.10,10.96.0.10"]}]}
  status: {hostIP: 192.0.2.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: tool, namespace: other, labels: {app: tool}}
  spec: {nodeName: n1}
  status: {podIP: 10.0.3.10}
- apiVersion: v1
  kind: Pod
  metadata: {name: agent, namespace: other, labels: {app: agent}}
  spec: {nodeName: n2, hostNetwork: true}
  status: {hostIP: 192.0.2.2}
"#;

/// Policies of the three dialects over [`MIXED_CLUSTER`].
const MIXED_POLICIES: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: apps}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
  - from: [{namespaceSelector: {matchLabels: {owner: dt}}}]
    ports: [{port: metrics, protocol: UDP}]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
    ports: [{port: 1000, endPort: 2000}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ag, namespace: dynatrace}
spec:
  podSelector: {matchLabels: {app: ag}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: a}}}]
    ports: [{port: 9999}]
---
# Cilium's labels of endpoints: the service accounts.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: by-account, namespace: other}
spec:
  podSelector: {matchLabels: {io.cilium.k8s.policy.serviceaccount: default}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {io.cilium.k8s.policy.serviceaccount: ag}}}]
    ports: [{port: 7000}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {owner: dt}}}
  egress:
  - {action: Deny, to: [{networks: [198.51.100.0/25]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}
  - {action: Pass, to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]}
  - {action: Accept, to: [{networks: [192.0.2.0/24]}], protocols: [{tcp: {destinationPort: {number: 10255}}}]}
  - {action: Accept, to: [{domainNames: ["*.example.org", api.example.com]}], protocols: [{tcp: {destinationPort: {number: 25}}}]}
  ingress:
  - {action: Accept, from: [{namespaces: {matchLabels: {team: b}}}], protocols: [{tcp: {destinationPort: {number: 7000}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: baseline}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {action: Accept, to: [{networks: [8.8.8.0/24]}], protocols: [{udp: {destinationPort: {number: 53}}}]}
  - {action: Deny, to: [{networks: [0.0.0.0/0]}], protocols: [{tcp: {destinationPort: {number: 25}}}]}
  ingress:
  - {action: Deny, from: [{namespaces: {matchLabels: {team: b}}}], protocols: [{tcp: {destinationPort: {number: 8080}}}]}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: ag, namespace: dynatrace}
spec:
  endpointSelector: {matchLabels: {app: ag}}
  egress:
  - toEntities: [world]
    toPorts: [{ports: [{port: '443', protocol: TCP}]}]
  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.2.0.0/16]}]
    toPorts: [{ports: [{port: '8000', endPort: 8100, protocol: ANY}]}]
  - toFQDNs: [{matchName: api.example.com}, {matchPattern: '*.example.org'}]
    toPorts: [{ports: [{port: '8443', protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {k8s-app: kube-dns, k8s:io.kubernetes.pod.namespace: kube-system}}]
    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchName: api.example.com}, {matchPattern: '*.example.org'}]}}]
  - toCIDR: [169.254.20.10/32]
    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*.example.net'}]}}]
  - toFQDNs: [{matchPattern: '*'}]
    toPorts: [{ports: [{port: '9443', protocol: TCP}]}]
  - toEntities: [kube-apiserver]
    toPorts: [{ports: [{port: '6443', protocol: TCP}]}]
  - toEntities: [remote-node]
    toPorts: [{ports: [{port: '10250'}]}]
  - toEndpoints: [{matchLabels: {app: web, k8s:io.kubernetes.pod.namespace: apps}}]
    toPorts: [{ports: [{port: http, protocol: TCP}]}]
  egressDeny:
  - toCIDR: [203.0.113.128/25]
  - toEntities: [kube-apiserver]
    toPorts: [{ports: [{port: '443', protocol: TCP}]}]
  ingress:
  - fromEndpoints: [{}]
    toPorts: [{ports: [{port: '9999', protocol: TCP}]}]
  - fromEntities: [host]
    toPorts: [{ports: [{port: '10080', protocol: TCP}]}]
  - fromEntities: [cluster]
    toPorts: [{ports: [{port: '8443', protocol: TCP}]}]
  - fromEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: a}}]
    toPorts: [{ports: [{port: metrics, protocol: UDP}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: tool, k8s:io.kubernetes.pod.namespace: other}}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: dynatrace}}]
    toPorts: [{ports: [{port: http, protocol: TCP}]}]
  - fromEndpoints: [{matchLabels: {app: op}}]
    authentication: {mode: test-always-fail}
  - fromEndpoints: [{matchLabels: {app: op}}]
    toPorts: [{ports: [{port: '8081', protocol: TCP}]}]
    authentication: {mode: required}
  egress:
  - toEndpoints: [{}]
    toRequires: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: '5432', protocol: TCP}]}]
  - toEntities: [all]
    toPorts: [{ports: [{port: '53', protocol: ANY}]}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: dns-for-all}
specs:
- endpointSelector: {matchExpressions: [{key: app, operator: NotIn, values: [ag]}]}
  enableDefaultDeny: {egress: false, ingress: false}
  egress:
  - toEndpoints: [{matchLabels: {k8s-app: kube-dns, k8s:io.kubernetes.pod.namespace: kube-system}}]
    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]
- endpointSelector: {matchLabels: {app: op}}
  enableDefaultDeny: {egress: true}
  egressDeny:
  - toEntities: [remote-node]
    toPorts: [{ports: [{port: '10250', protocol: TCP}]}]
  ingress:
  - fromEntities: [remote-node, kube-apiserver]
    toPorts: [{ports: [{port: '8443'}]}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: hosts}
spec:
  nodeSelector: {matchLabels: {zone: b}}
  ingress:
  - fromEntities: [cluster]
    toPorts: [{ports: [{port: '10250', protocol: TCP}]}]
  - fromEndpoints: [{matchLabels: {app: ag, k8s:io.kubernetes.pod.namespace: dynatrace}}]
  egress:
  - toEntities: [world]
    toPorts: [{ports: [{port: '443', protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {app: db, k8s:io.kubernetes.pod.namespace: apps}}]
    toPorts: [{ports: [{port: '5432', protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {k8s-app: kube-dns, k8s:io.kubernetes.pod.namespace: kube-system}}]
    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*.example.org'}]}}]
  - toFQDNs: [{matchPattern: '*.example.org'}]
    toPorts: [{ports: [{port: '8443', protocol: TCP}]}]
  egressDeny:
  - toCIDR: [8.8.8.0/24]
"#;

/// The ports tried: every edge of the policies' ports and ranges, and some in between.
const PORTS: [(u16, Protocol); 30] = [
    (1, Protocol::Tcp),
    (25, Protocol::Tcp),
    (53, Protocol::Udp),
    (53, Protocol::Tcp),
    (53, Protocol::Sctp),
    (443, Protocol::Tcp),
    (443, Protocol::Udp),
    (999, Protocol::Tcp),
    (1000, Protocol::Tcp),
    (2000, Protocol::Tcp),
    (2001, Protocol::Tcp),
    (5432, Protocol::Tcp),
    (6443, Protocol::Tcp),
    (7000, Protocol::Tcp),
    (7999, Protocol::Sctp),
    (8000, Protocol::Sctp),
    (8080, Protocol::Tcp),
    (8081, Protocol::Tcp),
    (8100, Protocol::Udp),
    (8101, Protocol::Udp),
    (8443, Protocol::Tcp),
    (8443, Protocol::Udp),
    (9090, Protocol::Udp),
    (9443, Protocol::Tcp),
    (9999, Protocol::Tcp),
    (10080, Protocol::Tcp),
    (10250, Protocol::Tcp),
    (10250, Protocol::Sctp),
    (10255, Protocol::Tcp),
    (65535, Protocol::Sctp),
];

/// The addresses tried, besides the pods' and the nodes'.
const ADDRESSES: [&str; 12] = [
    "10.0.0.5",
    "10.1.0.5",
    "10.2.0.5",
    "10.96.0.10",
    "169.254.20.10",
    "192.0.2.9",
    "198.51.100.5",
    "198.51.100.200",
    "203.0.113.1",
    "203.0.113.200",
    "8.8.8.8",
    "fd00::1",
];

/// The names destinations are looked up by.
const NAMES: [&str; 6] = [
    "api.example.com",
    "www.example.org",
    "a.b.example.org",
    "cache.example.net",
    "example.org",
    "other.test",
];

/// Whether the sets of `space` hold the connection with `other` (looked up by `name`).
fn in_space(
    index: &Index,
    space: &Space,
    other: &ConnectionEnd,
    name: Option<&str>,
    (port, protocol): (u16, Protocol),
) -> bool {
    let address = |ip: &IpAddr| match name {
        Some(name) => space.contains_named(*ip, name, protocol, port),
        None => space.contains_address(*ip, protocol, port),
    };
    match other {
        ConnectionEnd::Pod(o) if index.pod_peers().contains(*o) => {
            space.contains_pod(*o, protocol, port)
        }
        ConnectionEnd::Pod(o) => index.pods()[*o].ips.iter().any(address),
        ConnectionEnd::Ip(ip) => address(ip),
        ConnectionEnd::Node(n) => index.nodes()[*n].addresses.iter().any(address),
    }
}

/// What the checks met, by tier and verdict.
pub(super) type Outcomes = BTreeMap<(Option<&'static str>, &'static str), usize>;

/// Compares the sets of the `direction` side of pod `subject` with the verdict on every
/// connection with `others` on [`PORTS`], counting them in `outcomes`.
fn compare_side(
    index: &Index,
    subject: PodId,
    direction: Direction,
    others: &[(ConnectionEnd, Option<&str>)],
    outcomes: &mut Outcomes,
) {
    let spaces: Vec<Space> = match index.admits(subject, direction) {
        Admits::Tiers(parts) => parts.into_iter().map(|(_, s)| s).collect(),
        // A pod in the host network that no host policy selects.
        Admits::NotSubject => vec![index.everything()],
        other => panic!("the tiers decide every side: {other:?}"),
    };
    let me = ConnectionEnd::Pod(subject);
    for (other, name) in others {
        if name.is_some() && direction == Direction::Ingress {
            continue;
        }
        for (port, protocol) in PORTS {
            let connection = match direction {
                Direction::Egress => Connection {
                    from: me,
                    to: *other,
                    port,
                    protocol,
                },
                Direction::Ingress => Connection {
                    from: *other,
                    to: me,
                    port,
                    protocol,
                },
            };
            let verdict = index.decide(&Query {
                connection: &connection,
                name: *name,
            });
            let decision = match direction {
                Direction::Egress => &verdict.egress,
                Direction::Ingress => &verdict.ingress,
            };
            if decision.outcome == Outcome::Local {
                continue;
            }
            let sets = spaces
                .iter()
                .any(|s| in_space(index, s, other, *name, (port, protocol)));
            assert_eq!(
                sets,
                decision.allows(),
                "{} of {} with {} ({name:?}) on {port}/{}: {decision}",
                direction.name(),
                index.end_name(&me),
                index.end_name(other),
                protocol.name()
            );
            *outcomes
                .entry((decision.tier.map(Tier::name), decision.verdict()))
                .or_default() += 1;
            if name.is_some() && decision.allows() && decision.tier.is_some() {
                *outcomes.entry((None, "allowed by name")).or_default() += 1;
            }
            if index.pods()[subject].host_network && decision.tier.is_some() {
                *outcomes
                    .entry((
                        None,
                        if decision.allows() {
                            "host allowed"
                        } else {
                            "host denied"
                        },
                    ))
                    .or_default() += 1;
            }
        }
    }
}

#[test]
fn sets_of_mixed_dialects_are_exactly_what_the_evaluator_allows() {
    let cluster = read_cluster("cluster.yaml", MIXED_CLUSTER, &Limits::default()).unwrap();
    assert_eq!(cluster.dns_caches.len(), 1);
    compare_every_side(cluster, Options::default());
}

#[test]
fn sets_with_node_blocks_are_exactly_what_the_evaluator_allows() {
    // Blocks that stand for the nodes: 192.0.2.9 is a node the cluster does not list, and so
    // is kube-apiserver's 203.0.113.1; with and without Cilium's address blocks matching
    // nodes.
    let mut cluster = read_cluster("cluster.yaml", MIXED_CLUSTER, &Limits::default()).unwrap();
    cluster.node_blocks = ["192.0.2.0/24", "203.0.113.0/28"]
        .map(|b| b.parse().unwrap())
        .into();
    for cidr_match_nodes in [false, true] {
        let options = Options {
            cilium_cidr_match_nodes: cidr_match_nodes,
            ..Options::default()
        };
        compare_every_side(cluster.clone(), options);
    }
}

/// Compares the sets of every side of every pod of `cluster` under the mixed policies with
/// the verdicts on every other pod, node, address and name.
pub(super) fn compare_every_side(cluster: Cluster, options: Options) {
    let outcomes = compare_sides(cluster, options);
    // Every tier allowed and denied some of them, and names allowed some.
    for tier in ["Admin", "NetworkPolicy", "Baseline"] {
        for verdict in ["allowed", "denied"] {
            let count = outcomes.get(&(Some(tier), verdict)).copied().unwrap_or(0);
            assert!(count > 0, "{tier} {verdict}: {outcomes:?}");
        }
    }
    assert!(outcomes[&(None, "allowed by name")] > 50, "{outcomes:?}");
    assert!(outcomes[&(None, "host allowed")] > 10, "{outcomes:?}");
    assert!(outcomes[&(None, "host denied")] > 10, "{outcomes:?}");
    assert!(outcomes.values().sum::<usize>() > 20_000, "{outcomes:?}");
}

/// The sides of every pod against [`MIXED_POLICIES`] in `cluster`, compared with the
/// evaluator's verdicts: how many of each outcome.
pub(super) fn compare_sides(cluster: Cluster, options: Options) -> Outcomes {
    compare_sides_of(cluster, MIXED_POLICIES, options)
}

/// [`compare_sides`] of `policies`.
pub(super) fn compare_sides_of(cluster: Cluster, policies: &str, options: Options) -> Outcomes {
    let files = read_policies("policies.yaml", policies, &Limits::default()).unwrap();
    let index = Index::with_options(cluster, &files, options).unwrap();
    let mut others: Vec<(ConnectionEnd, Option<&str>)> = Vec::new();
    others.extend((0..index.pods().len()).map(|id| (ConnectionEnd::Pod(id), None)));
    others.extend((0..index.nodes().len()).map(|id| (ConnectionEnd::Node(id), None)));
    for address in ADDRESSES {
        let ip = address.parse().unwrap();
        others.push((ConnectionEnd::Ip(ip), None));
        others.extend(
            NAMES
                .iter()
                .map(|name| (ConnectionEnd::Ip(ip), Some(*name))),
        );
    }
    let mut outcomes = Outcomes::new();
    // Pods in the host network too: the host policies of their node decide their sides.
    for subject in 0..index.pods().len() {
        for direction in [Direction::Egress, Direction::Ingress] {
            compare_side(&index, subject, direction, &others, &mut outcomes);
        }
    }
    outcomes
}

#[test]
fn ports_the_other_end_admits_are_its_verdicts() {
    let cluster = read_cluster("cluster.yaml", MIXED_CLUSTER, &Limits::default()).unwrap();
    let files = read_policies("policies.yaml", MIXED_POLICIES, &Limits::default()).unwrap();
    let index = Index::with_options(cluster, &files, Options::default()).unwrap();
    let pods = index.pod_peers();
    for subject in pods.iter() {
        for other in pods.iter().filter(|&o| o != subject) {
            for direction in [Direction::Egress, Direction::Ingress] {
                let admitted = index.admitted_ports(subject, direction, &ConnectionEnd::Pod(other));
                for (port, protocol) in PORTS {
                    let (from, to) = match direction {
                        Direction::Egress => (subject, other),
                        Direction::Ingress => (other, subject),
                    };
                    let verdict = index.evaluate(&Connection {
                        from: ConnectionEnd::Pod(from),
                        to: ConnectionEnd::Pod(to),
                        port,
                        protocol,
                    });
                    let side = match direction {
                        Direction::Egress => &verdict.egress,
                        Direction::Ingress => &verdict.ingress,
                    };
                    assert_eq!(
                        admitted.contains(protocol, port),
                        side.allows(),
                        "{} of {} with {} on {port}/{}: {side}",
                        direction.name(),
                        index.end_name(&ConnectionEnd::Pod(subject)),
                        index.end_name(&ConnectionEnd::Pod(other)),
                        protocol.name()
                    );
                }
            }
        }
    }
}

#[test]
fn ports_a_node_admits_are_its_verdicts() {
    let cluster = read_cluster("cluster.yaml", MIXED_CLUSTER, &Limits::default()).unwrap();
    let files = read_policies("policies.yaml", MIXED_POLICIES, &Limits::default()).unwrap();
    let index = Index::with_options(cluster, &files, Options::default()).unwrap();
    let mut restricted = 0;
    for node in 0..index.nodes().len() {
        for pod in index.pod_peers().iter() {
            for direction in [Direction::Egress, Direction::Ingress] {
                let admitted = index.node_admitted_ports(Some(node), direction, pod);
                restricted += usize::from(admitted.is_some());
                for (port, protocol) in PORTS {
                    let (from, to) = match direction {
                        Direction::Egress => (ConnectionEnd::Node(node), ConnectionEnd::Pod(pod)),
                        Direction::Ingress => (ConnectionEnd::Pod(pod), ConnectionEnd::Node(node)),
                    };
                    let verdict = index.evaluate(&Connection {
                        from,
                        to,
                        port,
                        protocol,
                    });
                    let side = match direction {
                        Direction::Egress => &verdict.egress,
                        Direction::Ingress => &verdict.ingress,
                    };
                    assert_eq!(
                        admitted.as_ref().is_none_or(|p| p.contains(protocol, port)),
                        side.allows(),
                        "{} of node {node} with {} on {port}/{}: {side}",
                        direction.name(),
                        index.end_name(&ConnectionEnd::Pod(pod)),
                        protocol.name()
                    );
                }
            }
        }
    }
    // The host policy restricts both sides of one node.
    assert_eq!(
        restricted,
        2 * index.pod_peers().iter().count(),
        "{restricted}"
    );
}
