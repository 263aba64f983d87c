//! The examples of the Cilium documentation (`docs.yaml`): every expected verdict holds, and
//! every expected refusal names its field.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::super::*;
use super::port;
use crate::evaluate::sets::AddressSet;
use crate::matrix::Protocol;
use crate::source::Limits;

/// The table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    cluster: ClusterSpec,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClusterSpec {
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    nodes: Vec<NodeSpec>,
    pods: Vec<PodSpec>,
    api_server: Vec<IpAddr>,
    dns: Vec<DnsSpec>,
    #[serde(default)]
    services: Vec<ServiceSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSpec {
    namespace: String,
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    selector: BTreeMap<String, String>,
    #[serde(default)]
    endpoints: Vec<IpAddr>,
}

fn services(spec: &ClusterSpec) -> Vec<services::Service> {
    (spec.services.iter())
        .map(|s| services::Service {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            labels: s.labels.clone(),
            selector: s.selector.clone(),
            addresses: s.endpoints.clone(),
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSpec {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    addresses: Vec<IpAddr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PodSpec {
    namespace: String,
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    node: String,
    #[serde(default)]
    host_network: bool,
    service_account: Option<String>,
    #[serde(default)]
    ports: Vec<PortSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortSpec {
    name: String,
    port: u16,
    protocol: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DnsSpec {
    end: String,
    port: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    source: String,
    #[serde(default)]
    options: OptionsSpec,
    policies: String,
    #[serde(default)]
    checks: Vec<String>,
    refused: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OptionsSpec {
    #[serde(default)]
    cidr_match_nodes: bool,
    #[serde(default)]
    node_selector_labels: bool,
    /// Cilium 1.19's reading of a leading `**.` unless said otherwise.
    double_star: Option<bool>,
}

impl OptionsSpec {
    fn options(&self) -> Options {
        Options {
            cidr_match_nodes: self.cidr_match_nodes,
            node_selector_labels: self.node_selector_labels,
            patterns: Patterns {
                double_star: self.double_star.unwrap_or(Patterns::default().double_star),
            },
            ..Options::default()
        }
    }
}

fn cluster(spec: &ClusterSpec) -> Cluster {
    let pods: Vec<Pod> = spec
        .pods
        .iter()
        .map(|p| Pod {
            name: p.name.clone(),
            namespace: p.namespace.clone(),
            labels: p.labels.clone(),
            service_account: p.service_account.clone(),
            node: Some(p.node.clone()),
            host_network: p.host_network,
            ports: p
                .ports
                .iter()
                .map(|port| ContainerPort {
                    name: Some(port.name.clone()),
                    port: port.port,
                    protocol: Protocol::parse(&port.protocol).unwrap(),
                })
                .collect(),
            ..Pod::default()
        })
        .collect();
    let dns = spec
        .dns
        .iter()
        .map(|d| {
            let (namespace, name) = d.end.split_once('/').unwrap();
            let id = pods
                .iter()
                .position(|p| p.namespace == namespace && p.name == name)
                .unwrap();
            DnsServer {
                end: End::Pod(id),
                port: d.port,
            }
        })
        .collect();
    Cluster {
        namespaces: spec.namespaces.clone(),
        pods: pods.into(),
        nodes: spec
            .nodes
            .iter()
            .map(|n| Node {
                name: n.name.clone(),
                labels: n.labels.clone(),
                addresses: n.addresses.clone(),
            })
            .collect(),
        api_server: spec.api_server.clone(),
        dns,
        node_blocks: AddressSet::empty(),
    }
}

/// `FROM -> TO PORT/PROTOCOL: allowed|denied` as its parts.
fn parse_check(check: &str) -> (&str, &str, &str, bool) {
    let (connection, verdict) = check.rsplit_once(": ").unwrap();
    let (from, rest) = connection.split_once(" -> ").unwrap();
    let (to, port) = rest.split_once(' ').unwrap();
    let allowed = match verdict {
        "allowed" => true,
        "denied" => false,
        other => panic!("`{other}` is no verdict in `{check}`"),
    };
    (from, to, port, allowed)
}

#[test]
fn the_examples_of_the_cilium_documentation_decide_as_documented() {
    let table: Table = serde_yaml::from_str(include_str!("docs.yaml")).unwrap();
    let cluster = cluster(&table.cluster);
    let services = services(&table.cluster);
    let (mut checks, mut refusals) = (0, 0);
    for case in &table.cases {
        let options = case.options.options();
        let read = read_policies("docs.yaml", &case.policies, &Limits::default(), &options);
        match (&case.refused, read) {
            (Some(field), Err(error)) => {
                let message = error.to_string();
                assert!(
                    message.contains(&format!("field `{field}`")),
                    "{}: {message}",
                    case.source
                );
                refusals += 1;
            }
            (Some(field), Ok(_)) => {
                panic!("{}: accepted, expected a refusal at {field}", case.source)
            }
            (None, Err(error)) => panic!("{}: {error}", case.source),
            (None, Ok(mut policies)) => {
                services::resolve(&mut policies, &services);
                let evaluator = Evaluator::new(policies, cluster.clone(), options);
                for check in &case.checks {
                    let (from, to, port_text, expected) = parse_check(check);
                    let end = |text: &str| {
                        evaluator
                            .end(text)
                            .unwrap_or_else(|| panic!("{}: no end {text}", case.source))
                    };
                    let (number, protocol) = port(port_text);
                    let verdict = evaluator.evaluate(&end(from), &end(to), number, protocol);
                    assert_eq!(
                        verdict.allowed(),
                        expected,
                        "{}: {check}\n  egress: {}\n  ingress: {}",
                        case.source,
                        verdict.egress,
                        verdict.ingress
                    );
                    checks += 1;
                }
            }
        }
    }
    assert!(
        checks >= 100 && refusals >= 3,
        "{checks} checks, {refusals} refusals"
    );
}
