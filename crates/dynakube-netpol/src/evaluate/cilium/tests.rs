//! Tests of the Cilium evaluator: one per semantic rule here, reading in `tests/reading.rs`,
//! the examples of Cilium's documentation in `tests/docs.rs`, and the Cilium flavor of every
//! fixture in `tests/fixtures.rs`.

mod docs;
mod fixtures;
mod reading;

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;
use crate::evaluate::sets::AddressSet;
use crate::matrix::{Direction, Protocol};
use crate::source::Limits;

/// `key=value` pairs as labels.
pub(super) fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn pod(namespace: &str, name: &str, pairs: &[(&str, &str)], node: &str) -> Pod {
    Pod {
        name: name.into(),
        namespace: namespace.into(),
        labels: labels(pairs),
        node: Some(node.into()),
        ..Pod::default()
    }
}

/// A small cluster: namespaces `shop` (team a) and `other` (team b) with a `web` and a `db`
/// pod, CoreDNS in `kube-system`, a host-network agent, two nodes, and kube-apiserver outside
/// the cluster at 203.0.113.1.
fn cluster() -> Cluster {
    let mut web = pod(
        "shop",
        "web",
        &[("app", "web"), ("pod-template-hash", "abc")],
        "node-a",
    );
    web.service_account = Some("web".into());
    let mut db = pod("shop", "db", &[("app", "db")], "node-b");
    db.ports = vec![ContainerPort {
        name: Some("sql".into()),
        port: 5432,
        protocol: Protocol::Tcp,
    }];
    let mut dns = pod(
        "kube-system",
        "coredns",
        &[("k8s-app", "kube-dns")],
        "node-b",
    );
    dns.ports = vec![ContainerPort {
        name: Some("dns".into()),
        port: 53,
        protocol: Protocol::Udp,
    }];
    let mut agent = pod("kube-system", "agent", &[("app", "agent")], "node-a");
    agent.host_network = true;
    Cluster {
        namespaces: BTreeMap::from([
            ("shop".into(), labels(&[("team", "a")])),
            ("other".into(), labels(&[("team", "b")])),
            ("kube-system".into(), labels(&[])),
        ]),
        pods: vec![
            web,
            db,
            pod("other", "web", &[("app", "web")], "node-b"),
            dns,
            agent,
        ]
        .into(),
        nodes: vec![
            Node {
                name: "node-a".into(),
                labels: labels(&[("type", "worker")]),
                addresses: vec![ip("192.0.2.1")],
            },
            Node {
                name: "node-b".into(),
                labels: labels(&[("type", "control")]),
                addresses: vec![ip("192.0.2.2")],
            },
        ],
        api_server: vec![ip("203.0.113.1")],
        dns: vec![DnsServer {
            end: End::Pod(3),
            port: 53,
        }],
        node_blocks: AddressSet::empty(),
    }
}

/// The evaluator of the policies in `yaml` over [`cluster`].
fn evaluator(yaml: &str) -> Evaluator {
    evaluator_with(yaml, Options::default())
}

fn evaluator_with(yaml: &str, options: Options) -> Evaluator {
    let policies = read_policies("policies.yaml", yaml, &Limits::default(), &options).unwrap();
    Evaluator::new(policies, cluster(), options)
}

/// `443/TCP` as port and protocol.
pub(super) fn port(text: &str) -> (u16, Protocol) {
    let (number, protocol) = text.split_once('/').unwrap();
    (number.parse().unwrap(), Protocol::parse(protocol).unwrap())
}

impl Evaluator {
    /// The verdict on `from` → `to` at `port` (`443/TCP`), ends as `explain` writes them.
    fn check(&self, from: &str, to: &str, port_text: &str) -> Verdict {
        let (number, protocol) = port(port_text);
        let end = |text: &str| self.end(text).unwrap_or_else(|| panic!("no end {text}"));
        self.evaluate(&end(from), &end(to), number, protocol)
    }

    fn allows(&self, from: &str, to: &str, port_text: &str) -> bool {
        self.check(from, to, port_text).allowed()
    }
}

const WEB_EGRESS_TO_DB: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toEndpoints: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
"#;

#[test]
fn a_rule_puts_its_direction_into_default_deny_and_allows_its_peers() {
    let cilium = evaluator(WEB_EGRESS_TO_DB);
    let verdict = cilium.check("shop/web", "shop/db", "5432/TCP");
    assert_eq!(
        verdict.egress.to_string(),
        "allowed by CiliumNetworkPolicy shop/web spec.egress[0]"
    );
    assert_eq!(
        verdict.ingress,
        Side::NotSelected,
        "no ingress section, no ingress isolation"
    );
    let denied = cilium.check("shop/web", "shop/db", "5433/TCP");
    assert_eq!(
        denied.egress.to_string(),
        "denied by default (default deny from CiliumNetworkPolicy shop/web spec)"
    );
    // The other namespace's db is not in the policy's namespace.
    assert!(!cilium.allows("shop/web", "other/web", "5432/TCP"));
    // Pods the policy does not select keep every egress.
    assert_eq!(
        cilium.check("shop/db", "other/web", "1/UDP").egress,
        Side::NotSelected
    );
    // An address outside the cluster is no subject.
    assert_eq!(
        cilium.check("198.51.100.1", "shop/db", "5432/TCP").egress,
        Side::NotSubject
    );
}

#[test]
fn a_namespaced_policy_selects_endpoints_of_its_namespace_only() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny, namespace: shop}
spec:
  endpointSelector:
    matchLabels: {app: web, k8s:io.kubernetes.pod.namespace: other}
  ingress: [{}]
"#;
    let cilium = evaluator(yaml);
    // The namespace named in the endpointSelector is replaced by the policy's.
    assert!(!cilium.allows("shop/db", "shop/web", "80/TCP"));
    assert!(cilium.allows("shop/db", "other/web", "80/TCP"));
}

#[test]
fn an_empty_rule_admits_nothing_and_a_ports_only_rule_every_peer() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - {}
  - toPorts: [{ports: [{port: "443"}]}]
"#;
    let cilium = evaluator(yaml);
    assert!(!cilium.allows("shop/web", "shop/db", "80/TCP"));
    // Empty lists are no peers and no ports either.
    let empty = evaluator(
        &yaml
            .replace(
                "  - {}\n",
                "  - {icmps: [], toPorts: [], toEndpoints: []}\n",
            )
            .replace("  - toPorts: [{ports: [{port: \"443\"}]}]\n", ""),
    );
    assert!(!empty.allows("shop/web", "shop/db", "80/TCP"));
    assert!(!empty.allows("shop/web", "198.51.100.7", "443/TCP"));
    // Port 443 of any protocol, to any peer.
    for to in ["shop/db", "198.51.100.7", "node/node-b"] {
        assert!(cilium.allows("shop/web", to, "443/TCP"), "{to}");
        assert!(cilium.allows("shop/web", to, "443/UDP"), "{to}");
    }
}

#[test]
fn enable_default_deny_false_only_adds_allows() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: dns-only}
spec:
  endpointSelector: {}
  enableDefaultDeny: {egress: false, ingress: false}
  egress:
  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: UDP}]}]
"#;
    let cilium = evaluator(yaml);
    assert!(cilium.allows("shop/web", "shop/db", "5432/TCP"));
    assert!(matches!(
        cilium
            .check("shop/web", "kube-system/coredns", "53/UDP")
            .egress,
        Side::Allowed { .. }
    ));
    // With a second policy that does switch egress into default deny, only the union holds.
    let both = evaluator(&format!("{yaml}---\n{WEB_EGRESS_TO_DB}"));
    assert!(both.allows("shop/web", "kube-system/coredns", "53/UDP"));
    assert!(both.allows("shop/web", "shop/db", "5432/TCP"));
    assert!(!both.allows("shop/web", "shop/db", "80/TCP"));
    // `true` without a section switches the direction into default deny alone.
    let explicit = evaluator(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  endpointSelector: {}\n  enableDefaultDeny: {ingress: true}\n",
    );
    assert!(!explicit.allows("other/web", "shop/db", "5432/TCP"));
    assert!(explicit.allows("shop/db", "other/web", "5432/TCP"));
}

#[test]
fn denies_win_over_allows_of_every_policy() {
    let deny = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: no-db}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egressDeny:
  - toEndpoints: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: "5432"}]}]
"#;
    let cilium = evaluator(&format!("{WEB_EGRESS_TO_DB}---\n{deny}"));
    let verdict = cilium.check("shop/web", "shop/db", "5432/TCP");
    assert_eq!(
        verdict.egress.to_string(),
        "denied by CiliumClusterwideNetworkPolicy no-db spec.egressDeny[0]"
    );
    // A deny section puts the direction into default deny too.
    let alone = evaluator(deny);
    assert!(!alone.allows("shop/web", "other/web", "80/TCP"));
}

#[test]
fn peers_of_a_namespaced_policy_stay_in_its_namespace_unless_they_name_one() {
    let yaml = |peer: &str| {
        format!(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: db, namespace: shop}}\nspec:\n  endpointSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n  - fromEndpoints: [{peer}]\n"
        )
    };
    let own = evaluator(&yaml("{matchLabels: {app: web}}"));
    assert!(own.allows("shop/web", "shop/db", "5432/TCP"));
    assert!(!own.allows("other/web", "shop/db", "5432/TCP"));
    let named = evaluator(&yaml(
        "{matchLabels: {app: web, io.kubernetes.pod.namespace: other}}",
    ));
    assert!(named.allows("other/web", "shop/db", "5432/TCP"));
    assert!(!named.allows("shop/web", "shop/db", "5432/TCP"));
    // Namespace labels select in every namespace whose labels match (cilium/cilium 30650).
    let by_labels = evaluator(&yaml(
        "{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: b}}",
    ));
    assert!(by_labels.allows("other/web", "shop/db", "5432/TCP"));
    assert!(!by_labels.allows("shop/web", "shop/db", "5432/TCP"));
    // The empty selector: every pod of the namespace, and nothing outside it.
    let all = evaluator(&yaml("{}"));
    assert!(all.allows("shop/web", "shop/db", "5432/TCP"));
    assert!(!all.allows("other/web", "shop/db", "5432/TCP"));
    assert!(!all.allows("198.51.100.1", "shop/db", "5432/TCP"));
    // Reserved labels select entities, untouched by the namespace.
    let host = evaluator(&yaml("{matchLabels: {reserved:remote-node: \"\"}}"));
    assert!(host.allows("node/node-a", "shop/db", "5432/TCP"));
}

#[test]
fn peers_of_a_clusterwide_policy_are_pods_of_every_namespace() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: db}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{}]
"#;
    let cilium = evaluator(yaml);
    assert!(cilium.allows("shop/web", "shop/db", "5432/TCP"));
    assert!(cilium.allows("other/web", "shop/db", "5432/TCP"));
    // The empty selector gains `k8s:io.kubernetes.pod.namespace Exists`: no node, no world.
    assert!(!cilium.allows("node/node-a", "shop/db", "5432/TCP"));
    assert!(!cilium.allows("198.51.100.1", "shop/db", "5432/TCP"));
}

#[test]
fn selector_keys_match_their_source_and_filtered_labels_never() {
    let yaml = |key: &str, value: &str| {
        format!(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: db, namespace: shop}}\nspec:\n  endpointSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n  - fromEndpoints: [{{matchLabels: {{\"{key}\": \"{value}\"}}}}]\n"
        )
    };
    assert!(evaluator(&yaml("k8s:app", "web")).allows("shop/web", "shop/db", "1/TCP"));
    assert!(evaluator(&yaml("any:app", "web")).allows("shop/web", "shop/db", "1/TCP"));
    assert!(!evaluator(&yaml("container:app", "web")).allows("shop/web", "shop/db", "1/TCP"));
    // `pod-template-hash` is no identity label: a selector on it selects nothing.
    assert!(!evaluator(&yaml("pod-template-hash", "abc")).allows("shop/web", "shop/db", "1/TCP"));
    // The service account is one.
    let account = yaml("io.cilium.k8s.policy.serviceaccount", "web");
    assert!(evaluator(&account).allows("shop/web", "shop/db", "1/TCP"));
}

#[test]
fn entities_select_what_layer3_rst_says() {
    let yaml = |entity: &str| {
        format!(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: web, namespace: shop}}\nspec:\n  endpointSelector: {{matchLabels: {{app: web}}}}\n  egress:\n  - toEntities: [{entity}]\n"
        )
    };
    let cases = [
        (
            "world",
            ["198.51.100.1", "203.0.113.1"].as_slice(),
            ["shop/db", "node/node-a", "node/node-b"].as_slice(),
        ),
        (
            "cluster",
            &[
                "shop/db",
                "other/web",
                "node/node-a",
                "node/node-b",
                "203.0.113.1",
            ],
            &["198.51.100.1"],
        ),
        (
            "host",
            &["node/node-a", "kube-system/agent", "192.0.2.1"],
            &["node/node-b", "shop/db"],
        ),
        (
            "remote-node",
            &["node/node-b", "192.0.2.2"],
            &["node/node-a", "198.51.100.1"],
        ),
        (
            "kube-apiserver",
            &["203.0.113.1"],
            &["198.51.100.1", "node/node-a"],
        ),
        ("all", &["198.51.100.1", "shop/db", "node/node-b"], &[]),
        ("none", &[], &["198.51.100.1", "shop/db", "node/node-b"]),
        ("health", &[], &["node/node-b", "shop/db"]),
    ];
    for (entity, allowed, denied) in cases {
        let cilium = evaluator(&yaml(entity));
        for to in allowed {
            assert!(cilium.allows("shop/web", to, "443/TCP"), "{entity} → {to}");
        }
        for to in denied {
            assert!(!cilium.allows("shop/web", to, "443/TCP"), "{entity} ↛ {to}");
        }
    }
}

#[test]
fn cidr_rules_select_outside_addresses_and_nodes_only_on_request() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toCIDRSet: [{cidr: 192.0.2.0/24, except: [192.0.2.128/25]}, {cidr: 198.51.100.0/24}]
"#;
    let cilium = evaluator(yaml);
    assert!(cilium.allows("shop/web", "198.51.100.9", "80/TCP"));
    assert!(cilium.allows("shop/web", "192.0.2.9", "80/TCP"));
    assert!(
        !cilium.allows("shop/web", "192.0.2.200", "80/TCP"),
        "the exception"
    );
    // Node addresses in the block: nodes, not world.
    assert!(!cilium.allows("shop/web", "192.0.2.1", "80/TCP"));
    assert!(!cilium.allows("shop/web", "node/node-b", "80/TCP"));
    let nodes = evaluator_with(
        yaml,
        Options {
            cidr_match_nodes: true,
            ..Options::default()
        },
    );
    assert!(nodes.allows("shop/web", "node/node-b", "80/TCP"));
    // Ingress from CIDRs.
    let from = evaluator(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: db, namespace: shop}\nspec:\n  endpointSelector: {matchLabels: {app: db}}\n  ingress:\n  - fromCIDR: [198.51.100.0/24]\n",
    );
    assert!(from.allows("198.51.100.3", "shop/db", "5432/TCP"));
    assert!(!from.allows("198.51.101.3", "shop/db", "5432/TCP"));
    assert!(
        !from.allows("shop/web", "shop/db", "5432/TCP"),
        "a pod is no CIDR peer"
    );
}

const FQDN_POLICY: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toFQDNs: [{matchName: api.example.com}, {matchPattern: "*.cdn.example.com"}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns: [DNS_RULES]
"#;

#[test]
fn to_fqdns_admits_names_whose_lookup_the_dns_rules_allow() {
    let one_label =
        evaluator(&FQDN_POLICY.replace("DNS_RULES", "{matchPattern: \"*.example.com\"}"));
    assert!(one_label.allows("shop/web", "api.example.com=198.51.100.1", "443/TCP"));
    // `*.example.com` allows no lookup of a name two labels below.
    assert!(!one_label.allows("shop/web", "x.cdn.example.com=198.51.100.2", "443/TCP"));
    let cilium = evaluator(&FQDN_POLICY.replace(
        "DNS_RULES",
        "{matchPattern: \"*.example.com\"}, {matchPattern: \"*.*.example.com\"}",
    ));
    assert!(cilium.allows("shop/web", "x.cdn.example.com=198.51.100.2", "443/TCP"));
    assert!(
        !cilium.allows("shop/web", "x.y.cdn.example.com=198.51.100.2", "443/TCP"),
        "one label"
    );
    assert!(!cilium.allows("shop/web", "other.example.com=198.51.100.1", "443/TCP"));
    assert!(
        !cilium.allows("shop/web", "198.51.100.1", "443/TCP"),
        "no name, no FQDN match"
    );
    assert!(!cilium.allows("shop/web", "api.example.com=198.51.100.1", "80/TCP"));
    // DNS rules that do not allow the name: the proxy refuses the lookup.
    let narrow = evaluator(&FQDN_POLICY.replace("DNS_RULES", "{matchName: other.example.com}"));
    assert!(!narrow.allows("shop/web", "api.example.com=198.51.100.1", "443/TCP"));
    // `*` allows every lookup.
    let any = evaluator(&FQDN_POLICY.replace("DNS_RULES", "{matchPattern: \"*\"}"));
    assert!(any.allows("shop/web", "api.example.com=198.51.100.1", "443/TCP"));
    // Without DNS rules the proxy never sees the lookup.
    let l4 = evaluator(&FQDN_POLICY.replace("\n      rules:\n        dns: [DNS_RULES]", ""));
    assert!(l4.allows("shop/web", "kube-system/coredns", "53/UDP"));
    assert!(!l4.allows("shop/web", "api.example.com=198.51.100.1", "443/TCP"));
}

#[test]
fn a_denial_names_the_to_fqdns_rules_whose_lookup_was_not_let_through() {
    let not_looked_up = |verdict: &Verdict| -> Vec<String> {
        let Side::DefaultDenied { by } = &verdict.egress else {
            panic!("not denied by default: {verdict:?}");
        };
        (by.iter())
            .filter_map(|decider| match decider {
                Decider::NotLookedUp(rule) => Some(rule.field.clone()),
                _ => None,
            })
            .collect()
    };
    // The DNS rules allow no lookup of the name the first rule's toFQDNs name.
    let narrow = evaluator(&FQDN_POLICY.replace("DNS_RULES", "{matchName: other.example.com}"));
    let verdict = narrow.check("shop/web", "api.example.com=198.51.100.1", "443/TCP");
    assert_eq!(not_looked_up(&verdict), ["spec.egress[0]"]);
    assert!(verdict.egress.to_string().contains(NOT_LOOKED_UP));
    // Not for another port, nor for a name no toFQDNs names, nor for an address alone.
    for (to, port) in [
        ("api.example.com=198.51.100.1", "80/TCP"),
        ("other.example.com=198.51.100.1", "443/TCP"),
        ("198.51.100.1", "443/TCP"),
    ] {
        assert!(
            not_looked_up(&narrow.check("shop/web", to, port)).is_empty(),
            "{to} {port}"
        );
    }
    // A lookup the DNS rules allow leaves nothing to say: the connection is allowed.
    let wide = evaluator(&FQDN_POLICY.replace("DNS_RULES", "{matchPattern: \"*\"}"));
    assert!(wide.allows("shop/web", "api.example.com=198.51.100.1", "443/TCP"));
}

#[test]
fn a_denied_or_misdirected_lookup_learns_nothing() {
    let deny = "---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: no-dns}\nspec:\n  endpointSelector: {}\n  egressDeny:\n  - toEntities: [cluster]\n    toPorts: [{ports: [{port: \"53\", protocol: UDP}]}]\n";
    let policy = FQDN_POLICY.replace("DNS_RULES", "{matchPattern: \"*\"}");
    let denied = evaluator(&format!("{policy}{deny}"));
    assert!(!denied.allows("shop/web", "api.example.com=198.51.100.1", "443/TCP"));
    // DNS rules towards a server pods do not use.
    let elsewhere = evaluator(&policy.replace("k8s-app: kube-dns", "k8s-app: other-dns"));
    assert!(!elsewhere.allows("shop/web", "api.example.com=198.51.100.1", "443/TCP"));
}

#[test]
fn ports_ranges_protocols_and_named_ports() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
    toPorts:
    - ports: [{port: "8000", endPort: 8010, protocol: TCP}, {port: sql}]
    - ports: [{port: "9000"}]
"#;
    let cilium = evaluator(yaml);
    for (port, allowed) in [
        ("8000/TCP", true),
        ("8010/TCP", true),
        ("8011/TCP", false),
        ("8005/UDP", false),
        ("5432/TCP", true),
        ("5432/UDP", false),
        ("9000/TCP", true),
        ("9000/UDP", true),
        ("9000/SCTP", true),
        ("9001/TCP", false),
    ] {
        assert_eq!(
            cilium.allows("shop/web", "shop/db", port),
            allowed,
            "{port}"
        );
    }
    // On egress, a named port resolves on the destination pod.
    let egress = evaluator(&WEB_EGRESS_TO_DB.replace("\"5432\", protocol: TCP", "sql"));
    assert!(egress.allows("shop/web", "shop/db", "5432/TCP"));
    assert!(!egress.allows("shop/web", "other/web", "5432/TCP"));
}

#[test]
fn icmp_rules_admit_no_port_and_failing_authentication_drops_what_it_admits() {
    let yaml = |extra: &str| {
        format!(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: db, namespace: shop}}\nspec:\n  endpointSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n  - fromEndpoints: [{{matchLabels: {{app: web}}}}]\n{extra}"
        )
    };
    assert!(evaluator(&yaml("")).allows("shop/web", "shop/db", "1/TCP"));
    let icmp = yaml("    icmps: [{fields: [{type: 8, family: IPv4}]}]\n");
    assert!(!evaluator(&icmp).allows("shop/web", "shop/db", "1/TCP"));
    let failing = yaml("    authentication: {mode: test-always-fail}\n");
    assert!(!evaluator(&failing).allows("shop/web", "shop/db", "1/TCP"));
    // Whatever else admits the peer: the failing requirement is the peer's (`Test_MergeL3`).
    let beside = failing.clone() + "  - fromEntities: [cluster]\n";
    let cilium = evaluator(&beside);
    assert!(!cilium.allows("shop/web", "shop/db", "1/TCP"));
    assert!(cilium.allows("other/web", "shop/db", "1/TCP"));
    // A rule for the port that sets an authentication that succeeds stands on its port.
    let port = beside.clone()
        + "  - fromEndpoints: [{matchLabels: {app: web}}]\n    toPorts: [{ports: [{port: \"80\"}]}]\n    authentication: {mode: required}\n";
    let cilium = evaluator(&port);
    assert!(cilium.allows("shop/web", "shop/db", "80/TCP"));
    assert!(!cilium.allows("shop/web", "shop/db", "81/TCP"));
    // One without an authentication of its own inherits the failing one.
    let plain = port.replace("    authentication: {mode: required}\n", "");
    assert!(!evaluator(&plain).allows("shop/web", "shop/db", "80/TCP"));
    let required = yaml("    authentication: {mode: required}\n");
    assert!(evaluator(&required).allows("shop/web", "shop/db", "1/TCP"));
}

#[test]
fn requirements_hold_for_every_rule_of_the_subject() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: db}
specs:
- endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromRequires: [{matchLabels: {io.kubernetes.pod.namespace: shop}}]
- endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
"#;
    let cilium = evaluator(yaml);
    let verdict = cilium.check("shop/web", "shop/db", "1/TCP");
    assert_eq!(
        verdict.ingress.to_string(),
        "allowed by CiliumClusterwideNetworkPolicy db specs[1].ingress[0]"
    );
    assert!(
        !cilium.allows("other/web", "shop/db", "1/TCP"),
        "the requirement fails"
    );
}

#[test]
fn host_policies_apply_to_nodes_and_their_host_network_pods() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: workers}
spec:
  nodeSelector: {matchLabels: {type: worker}}
  egress:
  - toEntities: [kube-apiserver]
  ingress:
  - fromEntities: [remote-node]
    toPorts: [{ports: [{port: "10250", protocol: TCP}]}]
"#;
    let cilium = evaluator(yaml);
    assert!(cilium.allows("kube-system/agent", "203.0.113.1", "443/TCP"));
    assert!(!cilium.allows("kube-system/agent", "198.51.100.1", "443/TCP"));
    assert!(!cilium.allows("node/node-a", "shop/db", "5432/TCP"));
    // node-b is no worker: no host policy.
    assert!(cilium.allows("node/node-b", "198.51.100.1", "443/TCP"));
    assert!(cilium.allows("node/node-b", "node/node-a", "10250/TCP"));
    assert!(!cilium.allows("node/node-b", "node/node-a", "22/TCP"));
    // Pods are no subjects of host policies.
    assert_eq!(
        cilium.check("shop/web", "198.51.100.1", "1/TCP").egress,
        Side::NotSelected
    );
    // A namespaced policy cannot select nodes, and an endpointSelector selects no node.
    let endpoints = evaluator(
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: all}\nspec:\n  endpointSelector: {}\n  egress: [{}]\n",
    );
    assert!(endpoints.allows("node/node-a", "198.51.100.1", "1/TCP"));
    assert!(!endpoints.allows("shop/web", "198.51.100.1", "1/TCP"));
}

#[test]
fn an_address_of_the_node_blocks_is_a_node_only_where_they_stand_for_the_nodes() {
    let yaml = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEntities: [remote-node]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
  - fromEntities: [world]
    toPorts: [{ports: [{port: "8443", protocol: TCP}]}]
  - fromCIDR: [192.0.2.0/24]
    toPorts: [{ports: [{port: "9443", protocol: TCP}]}]
"#;
    // A cluster read from a dump: an address no node has is `world`, in the nodes' subnet
    // too, and CIDR rules select it.
    let dump = evaluator(yaml);
    assert!(!dump.allows("192.0.2.9", "shop/web", "8080/TCP"));
    assert!(dump.allows("192.0.2.9", "shop/web", "8443/TCP"));
    assert!(dump.allows("192.0.2.9", "shop/web", "9443/TCP"));
    // Where the blocks stand for the nodes (a cluster modelled from a profile), it is a node
    // the cluster does not list: `remote-node`, which no CIDR rule selects by default.
    let mut modelled = cluster();
    modelled.node_blocks = AddressSet::net(&"192.0.2.0/24".parse().unwrap());
    let policies = |options: &Options| {
        read_policies("policies.yaml", yaml, &Limits::default(), options).unwrap()
    };
    let options = Options::default();
    let model = Evaluator::new(policies(&options), modelled.clone(), options);
    assert!(model.allows("192.0.2.9", "shop/web", "8080/TCP"));
    assert!(!model.allows("192.0.2.9", "shop/web", "8443/TCP"));
    assert!(!model.allows("192.0.2.9", "shop/web", "9443/TCP"));
    // Outside the blocks, an address stays `world`.
    assert!(model.allows("198.51.100.1", "shop/web", "8443/TCP"));
    // With `policy-cidr-match-mode: nodes`, CIDR rules select it by its address.
    let options = Options {
        cidr_match_nodes: true,
        ..Options::default()
    };
    let matching = Evaluator::new(policies(&options), modelled, options);
    assert!(matching.allows("192.0.2.9", "shop/web", "9443/TCP"));
    assert!(!matching.allows("198.51.100.1", "shop/web", "9443/TCP"));
}

#[test]
fn a_node_always_reaches_its_own_pods_unless_allow_localhost_is_policy() {
    let deny_all = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: all}\nspec:\n  endpointSelector: {}\n  ingress: [{}]\n";
    let cilium = evaluator(deny_all);
    assert_eq!(
        cilium.check("node/node-a", "shop/web", "8080/TCP").ingress,
        Side::Local
    );
    assert!(cilium.allows("kube-system/agent", "shop/web", "8080/TCP"));
    assert!(
        !cilium.allows("node/node-b", "shop/web", "8080/TCP"),
        "another node"
    );
    let strict = evaluator_with(
        deny_all,
        Options {
            allow_localhost: false,
            ..Options::default()
        },
    );
    assert!(!strict.allows("node/node-a", "shop/web", "8080/TCP"));
    // A pod reaches itself.
    assert_eq!(
        strict.check("shop/web", "shop/web", "8080/TCP").ingress,
        Side::Local
    );
}

#[test]
fn to_nodes_selects_nodes_by_their_labels_when_enabled() {
    let yaml = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec:\n  endpointSelector: {matchLabels: {app: web}}\n  egress:\n  - toNodes: [{matchLabels: {type: control}}]\n";
    let options = Options {
        node_selector_labels: true,
        ..Options::default()
    };
    let cilium = evaluator_with(yaml, options);
    assert!(cilium.allows("shop/web", "node/node-b", "10250/TCP"));
    assert!(!cilium.allows("shop/web", "node/node-a", "10250/TCP"));
    let refused = read_policies("p.yaml", yaml, &Limits::default(), &Options::default());
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("spec.egress[0].toNodes")
    );
}

#[test]
fn network_policies_join_the_union_and_cilium_denies_win() {
    let cilium_rule = Decider::Cilium(RuleRef {
        policy: PolicyRef {
            kind: Kind::Namespaced,
            namespace: Some("shop".into()),
            name: "web".into(),
        },
        field: "spec.egress[0]".into(),
    });
    let policy = crate::evaluate::PolicyRef {
        namespace: "shop".into(),
        name: "np".into(),
    };
    let np_allows = crate::evaluate::Side::Allowed {
        by: vec![policy.clone()],
    };
    let np_isolates = crate::evaluate::Side::Denied {
        isolated_by: vec![policy.clone()],
    };
    let default_deny = Side::DefaultDenied {
        by: vec![cilium_rule.clone()],
    };
    // A NetworkPolicy's allow lifts Cilium's default deny, and the other way round.
    assert_eq!(
        combine(default_deny.clone(), &np_allows),
        Side::Allowed {
            by: vec![Decider::NetworkPolicy(policy.clone())]
        }
    );
    let allowed = Side::Allowed {
        by: vec![cilium_rule.clone()],
    };
    assert_eq!(combine(allowed.clone(), &np_isolates), allowed);
    // A NetworkPolicy's isolation is default deny when nothing allows.
    assert_eq!(
        combine(Side::NotSelected, &np_isolates),
        Side::DefaultDenied {
            by: vec![Decider::NetworkPolicy(policy.clone())]
        }
    );
    // Denies win.
    let denied = Side::Denied {
        by: vec![cilium_rule],
    };
    assert_eq!(combine(denied.clone(), &np_allows), denied);
    assert!(!combine(denied, &np_allows).allows());
    assert_eq!(
        combine(Side::NotSelected, &crate::evaluate::Side::NotIsolated),
        Side::NotSelected
    );
}

#[test]
fn the_direction_of_a_side_is_the_subjects() {
    let cilium = evaluator(WEB_EGRESS_TO_DB);
    let (number, protocol) = port("5432/TCP");
    let web = cilium.end("shop/web").unwrap();
    let db = cilium.end("shop/db").unwrap();
    let egress = cilium.side(Direction::Egress, &web, &db, number, protocol);
    assert!(matches!(egress, Side::Allowed { .. }));
    assert_eq!(
        cilium.side(Direction::Ingress, &db, &web, number, protocol),
        Side::NotSelected
    );
    assert_eq!(cilium.policies().len(), 1);
    assert_eq!(cilium.cluster().pods.len(), 5);
    assert!(cilium.end("node/nowhere").is_none() && cilium.end("shop/nobody").is_none());
}
