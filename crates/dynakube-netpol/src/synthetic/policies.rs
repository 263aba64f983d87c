//! The ClusterNetworkPolicies and Cilium policies of the generated large cluster
//! ([`super::large_cluster`]), in shapes clusters use: cluster-wide denies of the cloud metadata
//! service, monitoring let in on named ports, teams and environments kept apart, DNS passed on
//! to the NetworkPolicies, egress to the internet, nodes and domain names; Cilium's entities,
//! CIDR sets with `except`, `toFQDNs` behind DNS rules, port ranges, named ports, denies, host
//! policies and policies selecting the Dynatrace pods.

use serde_json::{Value, json};

use super::{ENVIRONMENTS, Random, TEAMS};

/// The selector of the cluster DNS's pods, as Cilium's policies write it.
fn kube_dns() -> Value {
    json!({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}})
}

/// Ports as Cilium's `toPorts` item writes them: `[(port, protocol)]`.
fn cilium_ports(ports: &[(&str, &str)]) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(port, protocol)| json!({"port": port, "protocol": protocol}))
        .collect();
    json!([{"ports": ports}])
}

/// A ClusterNetworkPolicy's name, subject, and ingress and egress rules.
type Shape = (&'static str, Value, Option<Value>, Option<Value>);

/// A subject or peer of the namespaces labelled `key: value`.
fn namespaces(key: &str, value: &str) -> Value {
    json!({"namespaces": {"matchLabels": {key: value}}})
}

/// A TCP port of a ClusterNetworkPolicy rule.
fn tcp(port: u16) -> Value {
    json!({"tcp": {"destinationPort": {"number": port}}})
}

/// ClusterNetworkPolicy number `i` (`policy.networking.k8s.io/v1alpha2`): Admin tier or
/// Baseline tier, a priority from 0 to 1000 (equal priorities happen).
pub(super) fn cluster_network_policy(random: &mut Random, i: usize) -> Value {
    let tier = if random.chance(60) {
        "Admin"
    } else {
        "Baseline"
    };
    let priority = random.below(1001);
    let team = *random.pick(&TEAMS);
    let env = *random.pick(&ENVIRONMENTS);
    let shape = random.below(10);
    let (name, subject, ingress, egress) = if shape < 5 {
        separating(shape, team)
    } else {
        opening(shape, team, env)
    };
    let mut spec = json!({"tier": tier, "priority": priority, "subject": subject});
    if let Some(ingress) = ingress {
        spec["ingress"] = ingress;
    }
    if let Some(egress) = egress {
        spec["egress"] = egress;
    }
    json!({
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": format!("{name}-{i:04}")},
        "spec": spec,
    })
}

/// Shapes 0 to 4: the cloud metadata service denied, monitoring let in, DNS passed on, teams and
/// environments kept apart.
fn separating(shape: usize, team: &str) -> Shape {
    let name_label = crate::evaluate::NAMESPACE_NAME_LABEL;
    match shape {
        0 => (
            "deny-cloud-metadata",
            json!({"namespaces": {}}),
            None,
            Some(
                json!([{"name": "deny-metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32", "fd00:ec2::254/128"]}]}]),
            ),
        ),
        1 => (
            "monitoring-scrapes",
            namespaces("monitoring", "enabled"),
            Some(
                json!([{"name": "accept-prometheus", "action": "Accept", "from": [namespaces(name_label, "monitoring")], "protocols": [{"destinationNamedPort": "metrics"}]}]),
            ),
            None,
        ),
        2 => (
            "team-dns",
            namespaces("team", team),
            None,
            Some(
                json!([{"name": "pass-dns", "action": "Pass", "to": [{"pods": {"namespaceSelector": {"matchLabels": {name_label: "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}}], "protocols": [{"udp": {"destinationPort": {"number": 53}}}, tcp(53)]}]),
            ),
        ),
        3 => (
            "isolate-prod",
            namespaces("env", "prod"),
            Some(
                json!([{"name": "deny-from-dev", "action": "Deny", "from": [namespaces("env", "dev")]}]),
            ),
            None,
        ),
        _ => (
            "team-baseline",
            json!({"namespaces": {"matchExpressions": [{"key": "team", "operator": "In", "values": [team]}]}}),
            Some(
                json!([{"name": "deny-other-teams", "action": "Deny", "from": [{"namespaces": {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": [team]}]}}]}]),
            ),
            None,
        ),
    }
}

/// Shapes 5 to 9: databases opened to a team's API pods, egress to the internet, the kubelets
/// and domain names, and the cloud metadata service denied to the Dynatrace pods.
fn opening(shape: usize, team: &str, env: &str) -> Shape {
    let name_label = crate::evaluate::NAMESPACE_NAME_LABEL;
    match shape {
        5 => (
            "db-from-api",
            json!({"pods": {"namespaceSelector": {"matchLabels": {"env": env}}, "podSelector": {"matchLabels": {"tier": "db"}}}}),
            Some(
                json!([{"name": "accept-api", "action": "Accept", "from": [{"pods": {"namespaceSelector": {"matchLabels": {"team": team}}, "podSelector": {"matchLabels": {"tier": "api"}}}}], "protocols": [{"tcp": {"destinationPort": {"range": {"start": 5432, "end": 5433}}}}, {"destinationNamedPort": "sql"}]}]),
            ),
            None,
        ),
        6 => (
            "egress-internet",
            namespaces("env", env),
            None,
            Some(
                json!([{"name": "accept-https", "action": "Accept", "to": [{"networks": ["0.0.0.0/0", "::/0"]}], "protocols": [tcp(443)]}, {"name": "deny-rest", "action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]),
            ),
        ),
        7 => (
            "kubelets",
            namespaces(name_label, "monitoring"),
            None,
            Some(
                json!([{"name": "accept-kubelets", "action": "Accept", "to": [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}], "protocols": [tcp(10250)]}]),
            ),
        ),
        8 => (
            "saas",
            namespaces("team", team),
            None,
            Some(
                json!([{"name": "accept-saas", "action": "Accept", "to": [{"domainNames": ["*.example.com", "api.github.com"]}], "protocols": [tcp(443)]}]),
            ),
        ),
        _ => (
            "dynatrace-no-metadata",
            namespaces(name_label, "dynatrace"),
            None,
            Some(
                json!([{"name": "deny-metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}]),
            ),
        ),
    }
}

/// CiliumNetworkPolicy number `i` in `namespace`.
pub(super) fn cilium_namespaced(random: &mut Random, i: usize, namespace: &str) -> Value {
    let app = format!("app-{}", random.below(5));
    let team = *random.pick(&TEAMS);
    let shape = random.below(10);
    let (name, spec) = if shape < 5 {
        cilium_allows(shape, &app)
    } else {
        cilium_more(shape, &app, team)
    };
    json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": format!("{name}-{i:04}"), "namespace": namespace},
        "spec": spec,
    })
}

/// Shapes 0 to 4 of CiliumNetworkPolicies: endpoints, `toFQDNs` behind DNS rules, entities,
/// CIDR sets with port ranges, a deny of the world.
fn cilium_allows(shape: usize, app: &str) -> (&'static str, Value) {
    match shape {
        0 => (
            "web-to-app",
            json!({
                "endpointSelector": {"matchLabels": {"app": app}},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"tier": "web"}}], "toPorts": cilium_ports(&[("8080", "TCP")])}],
            }),
        ),
        1 => (
            "api-fqdns",
            json!({
                "endpointSelector": {"matchLabels": {"tier": "api"}},
                "egress": [
                    {"toEndpoints": [kube_dns()], "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]},
                    {"toFQDNs": [{"matchName": "api.example.com"}, {"matchPattern": "*.s3.amazonaws.com"}], "toPorts": cilium_ports(&[("443", "TCP")])},
                ],
            }),
        ),
        2 => (
            "apiserver-and-world",
            json!({
                "endpointSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
                "egress": [{"toEntities": ["kube-apiserver", "world"], "toPorts": cilium_ports(&[("443", "TCP")])}],
            }),
        ),
        3 => (
            "cache-egress",
            json!({
                "endpointSelector": {"matchLabels": {"tier": "cache"}},
                "egress": [{"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "169.254.0.0/16"]}], "toPorts": [{"ports": [{"port": "6379", "endPort": 6380, "protocol": "TCP"}]}]}],
            }),
        ),
        _ => (
            "deny-world-ingress",
            json!({
                "endpointSelector": {},
                "enableDefaultDeny": {"ingress": false},
                "ingressDeny": [{"fromEntities": ["world"]}],
            }),
        ),
    }
}

/// Shapes 5 to 9 of CiliumNetworkPolicies: a deny of the cloud metadata service, named ports,
/// namespace labels, egress to the ActiveGate, and a namespace of its own.
fn cilium_more(shape: usize, app: &str, team: &str) -> (&'static str, Value) {
    match shape {
        5 => (
            "deny-metadata",
            json!({
                "endpointSelector": {},
                "enableDefaultDeny": {"egress": false},
                "egressDeny": [{"toCIDR": ["169.254.169.254/32"]}],
            }),
        ),
        6 => (
            "metrics",
            json!({
                "endpointSelector": {"matchLabels": {"tier": "api"}},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}], "toPorts": cilium_ports(&[("metrics", "TCP")])}],
            }),
        ),
        7 => (
            "db-from-team",
            json!({
                "endpointSelector": {"matchLabels": {"tier": "db"}},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"io.cilium.k8s.namespace.labels.team": team, "tier": "api"}}], "toPorts": cilium_ports(&[("5432", "TCP"), ("3306", "TCP")])}],
            }),
        ),
        8 => (
            "to-activegate",
            json!({
                "endpointSelector": {},
                "enableDefaultDeny": {"egress": false},
                "egress": [{"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "dynatrace", "app.kubernetes.io/name": "activegate"}}], "toPorts": cilium_ports(&[("443", "TCP")])}],
            }),
        ),
        _ => (
            "same-namespace",
            json!({
                "endpointSelector": {"matchLabels": {"app": app}},
                "ingress": [{"fromEndpoints": [{}]}, {"fromEntities": ["host", "remote-node"]}],
                "egress": [{"toEndpoints": [{}]}, {"toEndpoints": [kube_dns()], "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}], "rules": {"dns": [{"matchPattern": "*.cluster.local"}]}}]}],
            }),
        ),
    }
}

/// CiliumClusterwideNetworkPolicy number `i`.
pub(super) fn cilium_clusterwide(random: &mut Random, i: usize) -> Value {
    let team = *random.pick(&TEAMS);
    let (name, spec) = match random.below(5) {
        0 => (
            "nodes-kubelet",
            json!({
                "nodeSelector": {"matchLabels": {"kubernetes.io/os": "linux"}},
                "enableDefaultDeny": {"ingress": false},
                "ingress": [{"fromEntities": ["cluster"], "toPorts": cilium_ports(&[("10250", "TCP"), ("4240", "TCP")])}],
            }),
        ),
        1 => (
            "cluster-dns",
            json!({
                "endpointSelector": {},
                "enableDefaultDeny": {"egress": false, "ingress": false},
                "egress": [{"toEndpoints": [kube_dns()], "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]}],
            }),
        ),
        2 => (
            "team-ingress",
            json!({
                "endpointSelector": {"matchLabels": {"io.cilium.k8s.namespace.labels.team": team}},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"io.cilium.k8s.namespace.labels.team": team}}]}, {"fromEntities": ["host"]}],
            }),
        ),
        3 => (
            "no-smtp",
            json!({
                "endpointSelector": {},
                "enableDefaultDeny": {"egress": false},
                "egressDeny": [{"toEntities": ["world"], "toPorts": cilium_ports(&[("25", "TCP")])}],
            }),
        ),
        _ => (
            "dynatrace-monitoring",
            json!({
                "endpointSelector": {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "dynatrace"}},
                "enableDefaultDeny": {"ingress": false},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}], "toPorts": [{"ports": [{"port": "9000", "endPort": 9999, "protocol": "TCP"}]}]}],
            }),
        ),
    };
    json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": format!("{name}-{i:04}")},
        "spec": spec,
    })
}
