//! The Cilium flavor's output of every fixture, read back as a user's policies would be and
//! evaluated in a cluster modelled on the matrix: every connection of every flow the flavor
//! writes a rule for is allowed. And the checks can fail: a broken selector, a missing DNS rule
//! and a deny that shadows an allow are each found.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;

use super::super::*;
use crate::evaluate::sets::AddressSet;
use crate::fixture_invariants::{Fixture, fixtures};
use crate::matrix::{Endpoint, Flow, Matrix, NodeScope, Nodes, Ports, Protocol, Selection};
use crate::resolve::Addresses;
use crate::source::Limits;
use crate::values::{Cidr, Host, HostPattern};

/// The node address the model assumes without `nodeCIDRs`, as `verify`'s model does.
const ASSUMED_NODE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
/// Where kube-apiserver is when the matrix does not say: outside the cluster.
const ASSUMED_API_SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1));
/// The address of a host without addresses: only its name matters to `toFQDNs`.
const SAMPLE_HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 99));

fn first_address(cidr: &Cidr) -> IpAddr {
    let net = cidr.net();
    net.hosts().next().unwrap_or_else(|| net.addr())
}

/// The Cilium policies of a fixture as JSON objects, as the flavor writes them.
fn rendered(fixture: &Fixture) -> Vec<Value> {
    crate::render::cilium::render(&fixture.matrix, &fixture.addresses)
        .policies
        .iter()
        .map(crate::render::Policy::to_json)
        .collect()
}

/// The names of the flows the policies carry rules for (their flows annotation).
fn expressed(policies: &[Value]) -> BTreeSet<String> {
    policies
        .iter()
        .filter_map(|p| p["metadata"]["annotations"][crate::render::FLOWS_ANNOTATION].as_str())
        .flat_map(|flows| flows.split(", ").map(String::from))
        .collect()
}

/// The cluster of the matrix: `verify`'s model cluster (every pod on node `node-0`), a second
/// node, kube-apiserver where the matrix says (else outside the cluster), and the DNS of the
/// cluster profile (its pods, and its node-local cache).
fn cluster(matrix: &Matrix) -> Cluster {
    let crate::evaluate::Cluster {
        namespaces, pods, ..
    } = crate::verify::model_cluster(matrix);
    let first = matrix.profile.node_cidrs.first();
    let node = first.map_or(ASSUMED_NODE, first_address);
    let other = first
        .and_then(|c| c.net().hosts().nth(1))
        .unwrap_or(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)));
    let pods: Vec<Pod> = pods
        .into_iter()
        .map(|p| Pod {
            service_account: None,
            node: Some("node-0".into()),
            ..p
        })
        .collect();
    let provider = matrix.profile.dns.provider;
    let (dns_namespace, (key, value)) = provider.pods();
    let mut dns: Vec<DnsServer> = pods
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.namespace == dns_namespace && p.labels.get(key).map(String::as_str) == Some(value)
        })
        .map(|(id, _)| DnsServer {
            end: End::Pod(id),
            port: provider.port().get(),
        })
        .collect();
    if let Some(cache) = matrix.profile.dns.node_local_address() {
        dns.push(DnsServer {
            end: End::Address {
                ip: cache,
                name: None,
            },
            port: provider.port().get(),
        });
    }
    Cluster {
        namespaces: namespaces.into_iter().map(|n| (n.name, n.labels)).collect(),
        pods: pods.into(),
        nodes: ["node-0", "node-1"]
            .into_iter()
            .zip([node, other])
            .map(|(name, address)| Node {
                name: name.into(),
                labels: super::labels(&[("kubernetes.io/hostname", name)]),
                addresses: vec![address],
            })
            .collect(),
        api_server: api_servers(matrix),
        dns,
        node_blocks: (matrix.profile.node_cidrs.iter()).fold(AddressSet::empty(), |all, c| {
            all.union(&AddressSet::net(&c.net()))
        }),
    }
}

/// The kube-apiserver addresses of the matrix's flows.
fn api_servers(matrix: &Matrix) -> Vec<IpAddr> {
    let mut out = BTreeSet::new();
    for endpoint in matrix.flows.iter().flat_map(|f| [&f.from, &f.to]) {
        if let Endpoint::KubeApiServer(api) = endpoint {
            out.extend(api.endpoints.iter().map(first_address));
        }
    }
    if out.is_empty() {
        out.insert(ASSUMED_API_SERVER);
    }
    out.into_iter().collect()
}

/// Whether `labels` satisfy a selector of the matrix; an empty selector selects nothing here.
fn selects(selector: &crate::matrix::Selector, labels: &BTreeMap<String, String>) -> bool {
    !(selector.labels.is_empty() && selector.one_of.is_empty())
        && selector
            .labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
        && selector
            .one_of
            .iter()
            .all(|(k, values)| labels.get(k).is_some_and(|v| values.contains(v)))
}

/// The pods of `cluster` that `endpoint` stands for, found as `verify` finds them: a
/// workload's by its selector, injected applications by their namespace label, other pods by
/// namespace and labels; one pod of every namespace but the operator's stands for all
/// application pods.
fn pods_of(cluster: &Cluster, operator: &str, endpoint: &Endpoint) -> Vec<End> {
    let pods = &cluster.pods;
    let ordinary = |id: &usize| !pods[*id].host_network;
    let matching = |test: &dyn Fn(&Pod) -> bool| -> Vec<usize> {
        (0..pods.len()).filter(|&id| test(&pods[id])).collect()
    };
    let found: Vec<usize> = match endpoint {
        Endpoint::Workload(w) => match &w.selection {
            Selection::Pods(s) | Selection::HostNetwork(s) => {
                matching(&|pod| pod.namespace == w.namespace.as_str() && selects(s, &pod.labels))
            }
            Selection::Namespaces { key, value } => matching(&|pod| {
                cluster
                    .namespaces
                    .get(&pod.namespace)
                    .is_some_and(|labels| labels.get(*key) == Some(value))
            })
            .into_iter()
            .filter(ordinary)
            .collect(),
        },
        Endpoint::Dns(dns) => matching(&|pod| {
            pod.namespace == dns.namespace
                && dns.labels.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
        })
        .into_iter()
        .filter(ordinary)
        .collect(),
        Endpoint::Pods(p) if p.namespace.is_none() && p.labels.is_empty() => {
            let mut seen = BTreeSet::new();
            (0..pods.len())
                .filter(|&id| pods[id].namespace != operator && ordinary(&id))
                .filter(|&id| seen.insert(pods[id].namespace.clone()))
                .collect()
        }
        Endpoint::Pods(p) => matching(&|pod| {
            p.namespace
                .as_ref()
                .is_none_or(|n| n.as_str() == pod.namespace)
                && p.labels.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
        })
        .into_iter()
        .filter(ordinary)
        .collect(),
        _ => Vec::new(),
    };
    found.into_iter().map(End::Pod).collect()
}

/// The address and name of a host.
fn host_end(addresses: &Addresses, host: &Host) -> End {
    match host {
        Host::Ip(ip) => End::Address {
            ip: *ip,
            name: None,
        },
        Host::Name(name) => End::Address {
            ip: addresses
                .of_host(host)
                .and_then(|cidrs| cidrs.first().map(first_address))
                .unwrap_or(SAMPLE_HOST),
            name: Some(name.to_string()),
        },
    }
}

/// The ends `endpoint` stands for; `None` for peers that cannot be placed.
fn ends(
    cluster: &Cluster,
    operator: &str,
    addresses: &Addresses,
    endpoint: &Endpoint,
) -> Option<Vec<End>> {
    let api = || {
        cluster
            .api_server
            .iter()
            .map(|&ip| End::Address { ip, name: None })
            .collect()
    };
    let ends = match endpoint {
        Endpoint::Workload(_) | Endpoint::Pods(_) => pods_of(cluster, operator, endpoint),
        // The kubelet of the pod's own node (every model pod is on node-0), or of every node.
        Endpoint::Nodes(Nodes(_, NodeScope::Own)) => vec![End::Node(0)],
        Endpoint::Nodes(Nodes(_, NodeScope::Every)) => vec![End::Node(0), End::Node(1)],
        Endpoint::KubeApiServer(_) => api(),
        Endpoint::Dns(dns) => {
            let mut ends = pods_of(cluster, operator, endpoint);
            ends.extend(dns.cache.map(|ip| End::Address { ip, name: None }));
            ends
        }
        Endpoint::Host { host, .. } => vec![host_end(addresses, host)],
        Endpoint::HostPattern(HostPattern::Ip(ip)) => vec![End::Address {
            ip: *ip,
            name: None,
        }],
        Endpoint::HostPattern(HostPattern::Name(name)) => {
            vec![host_end(addresses, &Host::Name(name.clone()))]
        }
        Endpoint::HostPattern(HostPattern::Below(domain)) => vec![End::Address {
            ip: SAMPLE_HOST,
            name: Some(format!("probe.{domain}")),
        }],
        Endpoint::Blocks(blocks) => blocks
            .cidrs
            .iter()
            .map(|c| End::Address {
                ip: first_address(c),
                name: None,
            })
            .collect(),
        Endpoint::Unbounded(_) => return None,
    };
    Some(ends)
}

/// The destination ports of a flow's connections: kube-apiserver's are those of its endpoints
/// (Cilium sees the connection after the Service), any port is checked at 443/TCP.
fn ports(flow: &Flow) -> Vec<(u16, Protocol)> {
    if let Endpoint::KubeApiServer(api) = &flow.to
        && !api.endpoint_ports.is_empty()
    {
        return api
            .endpoint_ports
            .iter()
            .map(|p| (p.get(), Protocol::Tcp))
            .collect();
    }
    match &flow.ports {
        Ports::Any => vec![(443, Protocol::Tcp)],
        Ports::List(list) => list.iter().map(|p| (p.number.get(), p.protocol)).collect(),
    }
}

/// The connections of the flows `policies` carry rules for that the policies do not allow,
/// in words, and how many connections were checked.
fn check(fixture: &Fixture, policies: &[Value]) -> (usize, Vec<String>) {
    let options = Options::default();
    let text = serde_json::to_string(&Value::Array(policies.to_vec())).unwrap();
    let list = format!("{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": {text}}}");
    let read = read_policies(&fixture.name, &list, &Limits::default(), &options)
        .unwrap_or_else(|e| panic!("{}: the flavor's output does not read: {e}", fixture.name));
    let cluster = cluster(&fixture.matrix);
    let evaluator = Evaluator::new(read, cluster, options);
    let wanted = expressed(policies);
    let (mut checked, mut failures) = (0, Vec::new());
    for flow in fixture
        .matrix
        .flows
        .iter()
        .filter(|f| wanted.contains(f.id.name()))
    {
        let operator = fixture.matrix.namespace.as_str();
        let place = |endpoint| ends(evaluator.cluster(), operator, &fixture.addresses, endpoint);
        let (Some(sources), Some(destinations)) = (place(&flow.from), place(&flow.to)) else {
            continue;
        };
        if sources.is_empty() || destinations.is_empty() {
            failures.push(format!(
                "{}: flow {} ({} → {}) has no place in the model",
                fixture.name, flow.id, flow.from, flow.to
            ));
        }
        for from in &sources {
            for to in &destinations {
                for (port, protocol) in ports(flow) {
                    let verdict = evaluator.evaluate(from, to, port, protocol);
                    checked += 1;
                    if !verdict.allowed() {
                        failures.push(format!(
                            "{}: flow {} ({} → {}) {from:?} → {to:?} {port}/{}: egress {}; ingress {}",
                            fixture.name, flow.id, flow.from, flow.to, protocol.name(), verdict.egress, verdict.ingress
                        ));
                    }
                }
            }
        }
    }
    (checked, failures)
}

#[test]
fn the_cilium_flavor_allows_every_flow_it_writes_in_every_fixture() {
    let mut total = 0;
    let mut failures = Vec::new();
    for fixture in fixtures() {
        let (checked, found) = check(&fixture, &rendered(&fixture));
        total += checked;
        failures.extend(found);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 500, "{total} connections checked");
}

/// Runs `mutate` over the policies of every fixture it applies to (it returns `false` where it
/// does not) and asserts that the check then fails with a failure that `found` accepts; returns
/// how many fixtures it applied to.
fn detected(
    mutate: impl Fn(&mut Vec<Value>) -> bool,
    found: impl Fn(&str) -> bool,
    what: &str,
) -> usize {
    let mut applied = 0;
    for fixture in fixtures() {
        let mut policies = rendered(&fixture);
        if !mutate(&mut policies) {
            continue;
        }
        applied += 1;
        let (_, failures) = check(&fixture, &policies);
        assert!(
            failures.iter().any(|f| found(f)),
            "{}: {what} went unnoticed; failures: {failures:#?}",
            fixture.name
        );
    }
    applied
}

/// The rules of a policy's `spec` in `section`, if it has any.
fn section<'a>(policy: &'a mut Value, section: &str) -> Option<&'a mut Vec<Value>> {
    policy.get_mut("spec")?.get_mut(section)?.as_array_mut()
}

#[test]
fn a_broken_selector_is_found() {
    let applied = detected(
        |policies| {
            // A workload's egress policy: ingress from the pod's own node is always allowed,
            // whatever selects the pod.
            let target = policies.iter_mut().find(|p| {
                p["kind"] == "CiliumNetworkPolicy"
                    && p["spec"]["egress"].is_array()
                    && p["spec"]["endpointSelector"]["matchLabels"]
                        .as_object()
                        .is_some_and(|m| !m.is_empty())
            });
            let Some(labels) =
                target.and_then(|p| p["spec"]["endpointSelector"]["matchLabels"].as_object_mut())
            else {
                return false;
            };
            let value = labels.values_mut().next().unwrap();
            *value = Value::from(format!("{}-broken", value.as_str().unwrap()));
            true
        },
        |failure| {
            failure.contains("default deny from CiliumNetworkPolicy dynatrace/default-deny spec")
        },
        "a workload's policy that selects no pod",
    );
    assert!(applied >= 20, "applied to {applied} fixtures");
}

#[test]
fn a_missing_dns_rule_is_found() {
    let applied = detected(
        |policies| {
            let mut removed = false;
            for policy in policies.iter_mut() {
                for rule in section(policy, "egress").into_iter().flatten() {
                    for item in rule
                        .get_mut("toPorts")
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        removed |= item.as_object_mut().unwrap().remove("rules").is_some();
                    }
                }
            }
            removed
        },
        |failure| failure.contains("name: Some(") && failure.contains("egress denied"),
        "DNS rules removed",
    );
    assert!(applied >= 20, "applied to {applied} fixtures");
}

#[test]
fn a_deny_that_shadows_an_allow_is_found() {
    let applied = detected(
        |policies| {
            // Not the namespace's default deny, whose only peer is the `none` entity.
            for policy in policies
                .iter_mut()
                .filter(|p| p["metadata"]["name"] != "default-deny")
            {
                let peer = section(policy, "egress").and_then(|rules| {
                    rules.iter().find_map(|rule| {
                        let object = rule.as_object()?;
                        ["toEndpoints", "toEntities"]
                            .into_iter()
                            .find_map(|field| Some((field, object.get(field)?.clone())))
                    })
                });
                if let Some((field, peers)) = peer {
                    let mut deny = serde_json::Map::new();
                    deny.insert(field.into(), peers);
                    policy["spec"]["egressDeny"] = Value::Array(vec![Value::Object(deny)]);
                    return true;
                }
            }
            false
        },
        |failure| failure.contains(".egressDeny[0]") && failure.contains("egress denied by"),
        "an egressDeny over an allowed peer",
    );
    assert!(applied >= 20, "applied to {applied} fixtures");
}
