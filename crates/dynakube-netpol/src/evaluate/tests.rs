//! Unit tests of the evaluator: one or more per semantic rule, each asserting concrete verdicts.

mod agent;
mod cidr_groups;
mod mixed;

use super::*;
use crate::evaluate::sets::Space;
use crate::source::Limits;
use crate::synthetic;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A cluster of two namespaces and a few pods, written as `kubectl` would print it.
const CLUSTER: &str = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: a, labels: {team: red}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: b, labels: {team: blue}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: c}}
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: a, labels: {app: web, tier: front}}
  spec: {containers: [{name: m, ports: [{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}]}]}
  status: {podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: db, namespace: a, labels: {app: db}}
  spec: {containers: [{name: m, ports: [{name: http, containerPort: 9000}, {name: sig, containerPort: 3868, protocol: SCTP}]}]}
  status: {podIP: 10.0.0.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: b, labels: {app: web}}
  status: {podIP: 10.0.1.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: api, namespace: b, labels: {app: api, tier: back}}
  status: {podIP: 10.0.1.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: tool, namespace: c, labels: {app: tool}}
  status: {podIP: 10.0.2.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: agent, namespace: c, labels: {app: agent}}
  spec: {hostNetwork: true, containers: [{name: m, ports: [{name: http, containerPort: 8080}]}]}
  status: {hostIP: 192.0.2.10}
"#;

fn index_with(policies: &str, options: Options) -> Index {
    let cluster = read_cluster("cluster.yaml", CLUSTER, &Limits::default()).unwrap();
    let policies = read_policies("policies.yaml", policies, &Limits::default()).unwrap();
    Index::with_options(cluster, &policies, options).unwrap()
}

/// A side compared with what the NetworkPolicies alone decide: the same outcome, decided by
/// the same policies (the decision also names their rules).
impl PartialEq<Side> for Decision {
    fn eq(&self, other: &Side) -> bool {
        let names = |refs: &[PolicyRef]| refs.iter().map(ToString::to_string).collect::<Vec<_>>();
        match other {
            Side::NotIsolated => self.outcome == Outcome::NotIsolated,
            Side::NotSubject => self.outcome == Outcome::NotSubject,
            Side::Allowed { by } => {
                self.outcome == Outcome::Allowed
                    && self.by.iter().all(|d| d.rule.is_some())
                    && self.policies() == names(by)
            }
            Side::Denied { isolated_by } => {
                self.outcome == Outcome::Isolated && self.policies() == names(isolated_by)
            }
        }
    }
}

fn build(policies: &str) -> Index {
    index_with(policies, Options::default())
}

/// The verdict on `from` → `to` (each `ns/pod` or an address) at `port`/`protocol`.
fn verdict(index: &Index, from: &str, to: &str, port: u16, protocol: &str) -> Verdict {
    let peer = |text: &str| {
        index
            .connection_end(text)
            .unwrap_or_else(|| panic!("no peer {text}"))
    };
    index.evaluate(&Connection {
        from: peer(from),
        to: peer(to),
        port,
        protocol: Protocol::parse(protocol).unwrap(),
    })
}

/// Whether `from` → `to` is allowed, checking that `evaluate` and `allows` agree.
fn allowed(index: &Index, from: &str, to: &str, port: u16, protocol: &str) -> bool {
    let peer = |text: &str| index.connection_end(text).unwrap();
    let connection = Connection {
        from: peer(from),
        to: peer(to),
        port,
        protocol: Protocol::parse(protocol).unwrap(),
    };
    let full = index.evaluate(&connection).allowed();
    assert_eq!(
        full,
        index.allows(&connection),
        "evaluate and allows disagree"
    );
    full
}

fn policy(namespace: &str, name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec: {spec}\n"
    )
}

fn refs(names: &[&str]) -> Vec<PolicyRef> {
    names
        .iter()
        .map(|n| {
            let (namespace, name) = n.split_once('/').unwrap();
            PolicyRef {
                namespace: namespace.into(),
                name: name.into(),
            }
        })
        .collect()
}

#[test]
fn without_policies_everything_is_allowed() {
    let index = build("");
    let v = verdict(&index, "a/web", "b/api", 1, "UDP");
    assert_eq!(v.egress, Side::NotIsolated);
    assert_eq!(v.ingress, Side::NotIsolated);
    assert!(v.allowed());
    let v = verdict(&index, "198.51.100.1", "a/db", 80, "TCP");
    assert_eq!(v.egress, Side::NotSubject);
    assert!(v.allowed());
}

#[test]
fn only_policies_of_the_pods_namespace_isolate_it() {
    let index = build(&policy("b", "deny-all", "{podSelector: {}}"));
    assert_eq!(
        verdict(&index, "a/web", "b/api", 80, "TCP").ingress,
        Side::Denied {
            isolated_by: refs(&["b/deny-all"])
        }
    );
    assert_eq!(
        verdict(&index, "b/api", "a/web", 80, "TCP").ingress,
        Side::NotIsolated
    );
    // Ingress-only: egress from b stays open.
    assert_eq!(
        verdict(&index, "b/api", "a/web", 80, "TCP").egress,
        Side::NotIsolated
    );
    let (ingress, egress) = index.isolating(index.pod_id("b", "web").unwrap());
    assert_eq!((ingress.len(), egress.len()), (1, 0));
}

#[test]
fn pod_selector_chooses_the_isolated_pods() {
    let index = build(&policy(
        "a",
        "db",
        "{podSelector: {matchLabels: {app: db}}}",
    ));
    assert!(!allowed(&index, "b/api", "a/db", 80, "TCP"));
    assert!(allowed(&index, "b/api", "a/web", 80, "TCP"));
}

#[test]
fn both_sides_must_allow() {
    let policies = policy(
        "a",
        "web-egress",
        "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress]}",
    ) + &policy(
        "b",
        "api-ingress",
        "{podSelector: {matchLabels: {app: api}}, ingress: [{}]}",
    );
    let index = build(&policies);
    let v = verdict(&index, "a/web", "b/api", 80, "TCP");
    assert_eq!(
        v.egress,
        Side::Denied {
            isolated_by: refs(&["a/web-egress"])
        }
    );
    assert_eq!(
        v.ingress,
        Side::Allowed {
            by: refs(&["b/api-ingress"])
        }
    );
    assert!(!v.allowed());
    assert!(allowed(&index, "a/db", "b/api", 80, "TCP"));
}

#[test]
fn an_absent_pod_selector_selects_every_pod_of_the_namespace() {
    for spec in [
        "{policyTypes: [Ingress]}",
        "{podSelector: null, policyTypes: [Ingress]}",
    ] {
        let index = build(&policy("a", "p", spec));
        assert!(!allowed(&index, "b/api", "a/web", 80, "TCP"), "{spec}");
        assert!(!allowed(&index, "b/api", "a/db", 80, "TCP"), "{spec}");
        assert!(allowed(&index, "a/web", "b/api", 80, "TCP"), "{spec}");
    }
}

#[test]
fn policy_types_default_like_the_api_server() {
    // Absent policyTypes with a non-empty egress list: Ingress and Egress.
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: web}}, egress: [{ports: [{port: 53, protocol: UDP}]}]}",
    ));
    assert!(!allowed(&index, "a/web", "b/api", 80, "TCP"));
    assert!(allowed(&index, "a/web", "b/api", 53, "UDP"));
    assert!(!allowed(&index, "b/api", "a/web", 80, "TCP"));
    // Absent policyTypes with an empty egress list: Ingress only.
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: web}}, egress: []}",
    ));
    assert_eq!(
        verdict(&index, "a/web", "b/api", 80, "TCP").egress,
        Side::NotIsolated
    );
    assert!(!allowed(&index, "b/api", "a/web", 80, "TCP"));
    // An empty policyTypes list is defaulted the same way.
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: web}}, policyTypes: []}",
    ));
    assert_eq!(
        verdict(&index, "a/web", "b/api", 80, "TCP").egress,
        Side::NotIsolated
    );
    assert!(!allowed(&index, "b/api", "a/web", 80, "TCP"));
    // Egress only: ingress rules are ignored and ingress stays open.
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], ingress: [{ports: [{port: 1}]}]}",
    ));
    assert_eq!(
        verdict(&index, "b/api", "a/web", 80, "TCP").ingress,
        Side::NotIsolated
    );
    assert!(!allowed(&index, "a/web", "b/api", 80, "TCP"));
}

#[test]
fn absent_or_empty_peers_and_ports_admit_everything() {
    for rule in ["{}", "{from: []}", "{ports: []}", "{from: [], ports: []}"] {
        let index = build(&policy(
            "a",
            "p",
            &format!("{{podSelector: {{}}, ingress: [{rule}]}}"),
        ));
        assert!(allowed(&index, "b/api", "a/web", 1, "SCTP"), "{rule}");
        assert!(
            allowed(&index, "203.0.113.9", "a/web", 65535, "UDP"),
            "{rule}"
        );
        assert!(allowed(&index, "c/agent", "a/web", 22, "TCP"), "{rule}");
    }
    // No rule at all admits nothing.
    for spec in ["{podSelector: {}}", "{podSelector: {}, ingress: []}"] {
        let index = build(&policy("a", "p", spec));
        assert!(!allowed(&index, "a/db", "a/web", 80, "TCP"), "{spec}");
    }
}

#[test]
fn peer_selectors_scope_namespaces_and_pods() {
    let rule = |from: &str| {
        policy(
            "a",
            "p",
            &format!("{{podSelector: {{matchLabels: {{app: db}}}}, ingress: [{{from: {from}}}]}}"),
        )
    };
    // podSelector only: the policy's namespace.
    let index = build(&rule("[{podSelector: {matchLabels: {app: web}}}]"));
    assert!(allowed(&index, "a/web", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "b/web", "a/db", 80, "TCP"));
    // podSelector {}: every pod of the policy's namespace, no other namespace.
    let index = build(&rule("[{podSelector: {}}]"));
    assert!(allowed(&index, "a/web", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "b/api", "a/db", 80, "TCP"));
    // namespaceSelector {}: every pod of every namespace, but no address.
    let index = build(&rule("[{namespaceSelector: {}}]"));
    assert!(allowed(&index, "b/api", "a/db", 80, "TCP"));
    assert!(allowed(&index, "c/tool", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "203.0.113.9", "a/db", 80, "TCP"));
    // namespaceSelector only: every pod of the matching namespaces.
    let index = build(&rule("[{namespaceSelector: {matchLabels: {team: blue}}}]"));
    assert!(allowed(&index, "b/web", "a/db", 80, "TCP"));
    assert!(allowed(&index, "b/api", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "a/web", "a/db", 80, "TCP"));
    // Both in one peer: AND.
    let index = build(&rule(
        "[{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {app: web}}}]",
    ));
    assert!(allowed(&index, "b/web", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "b/api", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "a/web", "a/db", 80, "TCP"));
    // Two peers: OR.
    let index = build(&rule(
        "[{namespaceSelector: {matchLabels: {team: blue}}}, {podSelector: {matchLabels: {app: web}}}]",
    ));
    assert!(allowed(&index, "b/api", "a/db", 80, "TCP"));
    assert!(allowed(&index, "a/web", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "c/tool", "a/db", 80, "TCP"));
    // The name label the API server adds to every namespace.
    let index = build(&rule(
        "[{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: c}}}]",
    ));
    assert!(allowed(&index, "c/tool", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "b/api", "a/db", 80, "TCP"));
}

#[test]
fn not_in_matches_a_missing_key() {
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [front]}]}}]}]}",
    ));
    assert!(!allowed(&index, "a/web", "a/db", 80, "TCP"), "tier=front");
    assert!(allowed(&index, "b/api", "a/db", 80, "TCP"), "tier=back");
    assert!(allowed(&index, "b/web", "a/db", 80, "TCP"), "no tier label");
}

#[test]
fn ip_blocks_match_addresses_with_exceptions() {
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{ipBlock: {cidr: 198.51.100.0/24, except: [198.51.100.128/25]}}, {ipBlock: {cidr: '2001:db8::/32', except: ['2001:db8:1::/48']}}]}]}",
    ));
    assert!(allowed(&index, "198.51.100.1", "a/db", 80, "TCP"));
    assert!(allowed(&index, "198.51.100.127", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "198.51.100.128", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "198.51.101.1", "a/db", 80, "TCP"));
    assert!(allowed(&index, "2001:db8::5", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "2001:db8:1::5", "a/db", 80, "TCP"));
    assert!(!allowed(&index, "::ffff:198.51.100.1", "a/db", 80, "TCP"));
}

#[test]
fn ip_blocks_match_pods_by_address_unless_the_plugin_is_cilium() {
    let policies = policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}, {ipBlock: {cidr: '::/0'}}]}]}",
    );
    // The default, as the Kubernetes e2e tests expect: a pod is matched by its address.
    let index = build(&policies);
    assert!(
        allowed(&index, "a/web", "a/db", 80, "TCP"),
        "10.0.0.1 is a pod"
    );
    assert!(allowed(&index, "b/api", "a/db", 80, "TCP"));
    assert!(allowed(&index, "10.0.0.1", "a/db", 80, "TCP"));
    // Cilium's address blocks match no pod.
    let cilium = index_with(
        &policies,
        Options {
            network_plugin: Some(NetworkPlugin::Cilium),
            ..Options::default()
        },
    );
    assert!(!allowed(&cilium, "a/web", "a/db", 80, "TCP"));
    assert!(!allowed(&cilium, "b/api", "a/db", 80, "TCP"));
    assert!(
        allowed(&cilium, "10.0.0.1", "a/db", 80, "TCP"),
        "the bare address is external"
    );
}

#[test]
fn network_plugins_decide_what_ip_blocks_match() {
    let policies = policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{ipBlock: {cidr: 10.0.1.0/24}}, {ipBlock: {cidr: 192.0.2.0/24}}]}]}",
    );
    let with = |network_plugin| {
        index_with(
            &policies,
            Options {
                network_plugin: Some(network_plugin),
                ..Options::default()
            },
        )
    };
    // No particular plugin: what the Kubernetes e2e tests expect, every address.
    let generic = with(NetworkPlugin::Generic);
    assert!(allowed(&generic, "b/api", "a/db", 80, "TCP"));
    assert!(allowed(&generic, "c/agent", "a/db", 80, "TCP"));
    assert!(allowed(&generic, "192.0.2.200", "a/db", 80, "TCP"));
    // Calico: every address, pods' too.
    let calico = with(NetworkPlugin::Calico);
    assert!(allowed(&calico, "b/api", "a/db", 80, "TCP"));
    assert!(allowed(&calico, "c/agent", "a/db", 80, "TCP"));
    assert_eq!(
        verdict(&calico, "b/api", "a/db", 80, "TCP").ingress,
        Side::Allowed { by: refs(&["a/p"]) }
    );
    // Cilium: neither pods nor nodes, only addresses outside the cluster.
    let cilium = with(NetworkPlugin::Cilium);
    assert!(!allowed(&cilium, "b/api", "a/db", 80, "TCP"));
    assert!(!allowed(&cilium, "c/agent", "a/db", 80, "TCP"));
    assert!(!allowed(&cilium, "192.0.2.10", "a/db", 80, "TCP"));
    assert!(allowed(&cilium, "192.0.2.200", "a/db", 80, "TCP"));
}

#[test]
fn ports_and_protocols() {
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: 80}, {port: 53, protocol: UDP}, {port: 1000, endPort: 1010}, {protocol: SCTP}]}]}",
    ));
    assert!(
        allowed(&index, "a/web", "a/db", 80, "TCP"),
        "TCP is the default"
    );
    assert!(!allowed(&index, "a/web", "a/db", 80, "UDP"));
    assert!(allowed(&index, "a/web", "a/db", 53, "UDP"));
    assert!(!allowed(&index, "a/web", "a/db", 53, "TCP"));
    assert!(allowed(&index, "a/web", "a/db", 1000, "TCP"));
    assert!(
        allowed(&index, "a/web", "a/db", 1010, "TCP"),
        "endPort is inclusive"
    );
    assert!(!allowed(&index, "a/web", "a/db", 999, "TCP"));
    assert!(!allowed(&index, "a/web", "a/db", 1011, "TCP"));
    assert!(
        allowed(&index, "a/web", "a/db", 9, "SCTP"),
        "no port: every SCTP port"
    );
    assert!(!allowed(&index, "a/web", "a/db", 9, "TCP"));
}

#[test]
fn named_ports_resolve_on_the_destination() {
    // Ingress: `http` is 8080 on a/web and 9000 on a/db.
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {}, ingress: [{ports: [{port: http}]}]}",
    ));
    assert!(allowed(&index, "b/api", "a/web", 8080, "TCP"));
    assert!(!allowed(&index, "b/api", "a/web", 9000, "TCP"));
    assert!(allowed(&index, "b/api", "a/db", 9000, "TCP"));
    assert!(!allowed(&index, "b/api", "a/db", 8080, "TCP"));
    assert!(!allowed(&index, "b/api", "a/db", 8080, "UDP"));
    // Protocol: `dns` is UDP, so a TCP `dns` rule never matches; the UDP rule does.
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {}, ingress: [{ports: [{port: dns}, {port: sig, protocol: SCTP}]}]}",
    ));
    assert!(!allowed(&index, "b/api", "a/web", 53, "TCP"));
    assert!(!allowed(&index, "b/api", "a/web", 53, "UDP"));
    assert!(allowed(&index, "b/api", "a/db", 3868, "SCTP"));
    let index = build(&policy(
        "a",
        "p",
        "{podSelector: {}, ingress: [{ports: [{port: dns, protocol: UDP}]}]}",
    ));
    assert!(allowed(&index, "b/api", "a/web", 53, "UDP"));
    // Egress: resolved on the destination pod; never on an address.
    let index = build(&policy(
        "b",
        "p",
        "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: http}]}]}",
    ));
    assert!(allowed(&index, "b/api", "a/web", 8080, "TCP"));
    assert!(!allowed(&index, "b/api", "a/web", 9000, "TCP"));
    assert!(allowed(&index, "b/api", "a/db", 9000, "TCP"));
    assert!(!allowed(&index, "b/api", "a/web", 80, "TCP"));
    assert!(!allowed(&index, "b/api", "203.0.113.1", 8080, "TCP"));
    assert!(!allowed(&index, "b/api", "10.0.0.1", 8080, "TCP"));
    assert!(
        !allowed(&index, "b/api", "c/agent", 8080, "TCP"),
        "a hostNetwork pod is an address"
    );
}

/// A named port names an init container's port as the plugin reads them: a sidecar's
/// (`restartPolicy: Always`) on no particular plugin, every init container's on Calico, none
/// on Cilium.
#[test]
fn init_container_ports_are_named_as_the_plugin_reads_them() {
    let cluster = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: a}}
- apiVersion: v1
  kind: Pod
  metadata: {name: app, namespace: a, labels: {app: app}}
  spec:
    containers: [{name: m, ports: [{name: http, containerPort: 8080}]}]
    initContainers:
    - {name: setup, ports: [{name: setup, containerPort: 8081}]}
    - {name: proxy, restartPolicy: Always, ports: [{name: metrics, containerPort: 9090}]}
  status: {podIP: 10.0.0.1}
- {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: a}, status: {podIP: 10.0.0.2}}
"#;
    let policies = policy(
        "a",
        "p",
        "{podSelector: {matchLabels: {app: app}}, ingress: [{ports: [{port: http}, {port: metrics}, {port: setup}]}]}",
    );
    let limits = Limits::default();
    for (plugin, metrics, setup) in [
        (NetworkPlugin::Generic, true, false),
        (NetworkPlugin::Calico, true, true),
        (NetworkPlugin::Cilium, false, false),
    ] {
        let index = Index::with_options(
            read_cluster("cluster.yaml", cluster, &limits).unwrap(),
            &read_policies("policies.yaml", &policies, &limits).unwrap(),
            Options {
                network_plugin: Some(plugin),
                ..Options::default()
            },
        )
        .unwrap();
        let admits = |port| allowed(&index, "a/client", "a/app", port, "TCP");
        assert!(admits(8080), "{plugin:?}: a container's port");
        assert_eq!(admits(9090), metrics, "{plugin:?}: a sidecar's port");
        assert_eq!(
            admits(8081),
            setup,
            "{plugin:?}: another init container's port"
        );
    }
}

#[test]
fn policies_are_unioned() {
    let policies = policy(
        "a",
        "one",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: 80}]}]}",
    ) + &policy(
        "a",
        "two",
        "{podSelector: {}, ingress: [{ports: [{port: 443}]}]}",
    ) + &policy(
        "a",
        "three",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: 80}, {port: 81}]}]}",
    ) + &policy("a", "egress", "{podSelector: {}, policyTypes: [Egress]}");
    let index = build(&policies);
    assert_eq!(
        verdict(&index, "b/api", "a/db", 80, "TCP").ingress,
        Side::Allowed {
            by: refs(&["a/one", "a/three"])
        }
    );
    assert_eq!(
        verdict(&index, "b/api", "a/db", 443, "TCP").ingress,
        Side::Allowed {
            by: refs(&["a/two"])
        }
    );
    let denied = verdict(&index, "b/api", "a/db", 22, "TCP");
    assert_eq!(
        denied.ingress,
        Side::Denied {
            isolated_by: refs(&["a/one", "a/two", "a/three"])
        }
    );
    assert_eq!(
        denied.ingress.to_string(),
        "denied (isolated by a/one, a/two, a/three)"
    );
    assert!(!allowed(&index, "b/api", "a/web", 80, "TCP"));
    assert!(allowed(&index, "b/api", "a/web", 443, "TCP"));
    assert_eq!(
        verdict(&index, "a/db", "b/api", 80, "TCP")
            .egress
            .to_string(),
        "denied (isolated by a/egress)"
    );
}

#[test]
fn host_network_pods_are_node_addresses() {
    let policies = policy(
        "c",
        "deny",
        "{podSelector: {}, policyTypes: [Ingress, Egress]}",
    ) + &policy(
        "a",
        "db",
        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: agent}}}]}, {from: [{ipBlock: {cidr: 192.0.2.0/24}}], ports: [{port: 9100}]}]}",
    );
    let index = build(&policies);
    // Not subject: the deny-all policy of its namespace does not isolate it.
    let v = verdict(&index, "c/agent", "b/api", 80, "TCP");
    assert_eq!(v.egress, Side::NotSubject);
    assert!(v.allowed());
    assert_eq!(
        verdict(&index, "b/api", "c/agent", 80, "TCP").ingress,
        Side::NotSubject
    );
    assert!(
        !allowed(&index, "c/tool", "b/api", 80, "TCP"),
        "an ordinary pod of c is isolated"
    );
    // As a peer: seen by its node address, never by selectors.
    assert!(!allowed(&index, "c/agent", "a/db", 80, "TCP"));
    assert!(allowed(&index, "c/agent", "a/db", 9100, "TCP"));
    assert_eq!(
        index.isolating(index.pod_id("c", "agent").unwrap()),
        (vec![], vec![])
    );

    // NCA's reading: an ordinary pod.
    let index = index_with(
        &policies,
        Options {
            host_network: HostNetwork::Pod,
            ..Options::default()
        },
    );
    assert_eq!(
        verdict(&index, "c/agent", "b/api", 80, "TCP").egress,
        Side::Denied {
            isolated_by: refs(&["c/deny"])
        }
    );
    assert!(!allowed(&index, "b/api", "c/agent", 80, "TCP"));
    let v = verdict(&index, "c/agent", "a/db", 80, "TCP");
    assert_eq!(
        v.ingress,
        Side::Allowed {
            by: refs(&["a/db"])
        }
    );
}

#[test]
fn side_display() {
    assert_eq!(Side::NotIsolated.to_string(), "not isolated");
    assert_eq!(Side::NotSubject.to_string(), "not subject to policy");
    assert_eq!(
        Side::Allowed {
            by: refs(&["a/x", "b/y"])
        }
        .to_string(),
        "allowed by a/x, b/y"
    );
    assert_eq!(refs(&["a/x"])[0].to_string(), "a/x");
}

#[test]
fn index_lookups() {
    let index = build(&policy("z", "p", "{podSelector: {}}"));
    assert_eq!(index.pods().len(), 6);
    let db = index.pod_id("a", "db").unwrap();
    assert_eq!(index.pods()[db].name, "db");
    assert_eq!(index.pod_id("a", "nope"), None);
    assert_eq!(index.connection_end("a/db"), Some(ConnectionEnd::Pod(db)));
    assert_eq!(
        index.connection_end("fd00::1"),
        Some(ConnectionEnd::Ip("fd00::1".parse().unwrap()))
    );
    assert_eq!(index.connection_end("nonsense"), None);
    assert_eq!(index.end_name(&ConnectionEnd::Pod(db)), "a/db");
    // The policy's namespace z is not in the list: it is added with its name label.
    let names: Vec<_> = index.namespaces().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "z"]);
    assert_eq!(
        index.namespaces()[3]
            .labels
            .get(NAMESPACE_NAME_LABEL)
            .unwrap(),
        "z"
    );
    assert_eq!(
        index
            .policies()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["z/p"]
    );
}

/// The error that compiling `spec` for policy `a/p` gives, as (file, field).
fn error(spec: &str) -> (String, String) {
    let Cluster {
        namespaces, pods, ..
    } = read_cluster("cluster.yaml", CLUSTER, &Limits::default()).unwrap();
    let policies = read_policies("policies.yaml", &policy("a", "p", spec), &Limits::default())
        .map(|read| read.policies)
        .unwrap();
    match Index::new(namespaces, pods, &policies) {
        Err(Error::Invalid { location, .. }) => (location.file, location.field),
        other => panic!("expected an error for {spec}, got {other:?}"),
    }
}

#[allow(
    clippy::too_many_lines,
    reason = "a table of cases, one per line of thought"
)]
#[test]
fn invalid_policies_are_errors_naming_policy_and_field() {
    let cases = [
        (
            "{podSelector: {}, policyTypes: [Ingres]}",
            "spec.policyTypes[0]",
        ),
        (
            "{podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}}",
            "spec.podSelector.matchExpressions[0].operator",
        ),
        (
            "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}",
            "spec.ingress[0].from[0].ipBlock.cidr",
        ),
        (
            "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.1}}]}]}",
            "spec.ingress[0].from[0].ipBlock.cidr",
        ),
        (
            "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]}",
            "spec.ingress[0].from[0].ipBlock.except[0]",
        ),
        (
            "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: ['fd00::/8']}}]}]}",
            "spec.ingress[0].from[0].ipBlock.except[0]",
        ),
        (
            "{podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}",
            "spec.egress[0].to[0]",
        ),
        (
            "{podSelector: {}, egress: [{to: [{}]}]}",
            "spec.egress[0].to[0]",
        ),
        (
            "{podSelector: {}, egress: [{to: [{namespaceSelector: {matchExpressions: [{key: a, operator: In}]}}]}]}",
            "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: '80'}]}]}",
            "spec.ingress[0].ports[0].port",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: Http}]}]}",
            "spec.ingress[0].ports[0].port",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: 0}]}]}",
            "spec.ingress[0].ports[0].port",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: 65536}]}]}",
            "spec.ingress[0].ports[0].port",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: 80, endPort: 79}]}]}",
            "spec.ingress[0].ports[0].endPort",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: http, endPort: 90}]}]}",
            "spec.ingress[0].ports[0].endPort",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{endPort: 90}]}]}",
            "spec.ingress[0].ports[0].endPort",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: 80, protocol: ICMP}]}]}",
            "spec.ingress[0].ports[0].protocol",
        ),
        (
            "{podSelector: {}, ingress: [{ports: [{port: 80, protocol: tcp}]}]}",
            "spec.ingress[0].ports[0].protocol",
        ),
        // Rules of a direction the policy does not affect are checked too.
        (
            "{podSelector: {}, policyTypes: [Ingress], egress: [{ports: [{port: '443'}]}]}",
            "spec.egress[0].ports[0].port",
        ),
        // `ValidateIPBlock`: an exception is a strict subset of the cidr.
        (
            "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]}]}",
            "spec.ingress[0].from[0].ipBlock.except[0]",
        ),
        (
            "{podSelector: {}, policyTypes: [Ingress, Egress, Ingress]}",
            "spec.policyTypes",
        ),
        (
            "{podSelector: {}, policyTypes: [Egress, Egress]}",
            "spec.policyTypes[1]",
        ),
        // `ValidateLabelSelector`: keys are qualified names, values label values.
        (
            "{podSelector: {matchLabels: {app: 'web server'}}}",
            "spec.podSelector.matchLabels",
        ),
        (
            "{podSelector: {matchExpressions: [{key: 'k8s:app', operator: Exists}]}}",
            "spec.podSelector.matchExpressions[0].key",
        ),
        (
            "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [a, B/c]}]}}]}]}",
            "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values[1]",
        ),
        (
            "{podSelector: {}, egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {-app: web}}}]}]}",
            "spec.egress[0].to[0].podSelector.matchLabels",
        ),
        (
            "{podSelector: {}, egress: [{to: [{podSelector: {matchLabels: {app: web-}}}]}]}",
            "spec.egress[0].to[0].podSelector.matchLabels",
        ),
    ];
    for (spec, field) in cases {
        assert_eq!(
            error(spec),
            ("NetworkPolicy a/p".to_string(), field.to_string()),
            "{spec}"
        );
    }
}

#[test]
fn invalid_identities_are_errors() {
    let Cluster {
        namespaces, pods, ..
    } = read_cluster("cluster.yaml", CLUSTER, &Limits::default()).unwrap();
    // Read from a file, an unnamed policy is refused as it is read; given in memory, as the
    // index is built.
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {namespace: a}\nspec: {podSelector: {}}\n";
    match read_policies("p.yaml", text, &Limits::default()) {
        Err(Error::Invalid { location, .. }) => assert_eq!(location.field, "metadata.name"),
        other => panic!("{other:?}"),
    }
    let unnamed = [NetworkPolicy {
        metadata: ObjectMeta {
            namespace: Some("a".to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(k8s_openapi::api::networking::v1::NetworkPolicySpec::default()),
    }];
    match Index::new(namespaces.clone(), pods.clone(), &unnamed) {
        Err(Error::Invalid { location, .. }) => {
            assert_eq!(
                (location.file.as_str(), location.field.as_str()),
                ("NetworkPolicy a/?", "metadata.name")
            );
        }
        other => panic!("{other:?}"),
    }
    let twice = policy("a", "p", "{podSelector: {}}").repeat(2);
    let twice = read_policies("p.yaml", &twice, &Limits::default())
        .map(|read| read.policies)
        .unwrap();
    assert!(Index::new(namespaces.clone(), pods.clone(), &twice).is_err());
    let mut doubled = pods.clone();
    doubled.push(pods[0].clone());
    assert!(Index::new(namespaces.clone(), doubled, &[]).is_err());
    let mut doubled = namespaces.clone();
    doubled.push(namespaces[0].clone());
    assert!(Index::new(doubled, pods, &[]).is_err());
}

/// Policies of every dialect whose metadata the API server refuses are refused as they are
/// read, naming the field.
#[allow(
    clippy::too_many_lines,
    reason = "a table of cases, one per line of thought"
)]
#[test]
fn policy_metadata_the_api_server_refuses_is_an_error() {
    let network_policy = |metadata: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {metadata}\nspec: {{podSelector: {{}}}}\n"
        )
    };
    let cilium = |kind: &str, metadata: &str| {
        format!(
            "apiVersion: cilium.io/v2\nkind: {kind}\nmetadata: {metadata}\nspec: {{endpointSelector: {{}}}}\n"
        )
    };
    let cluster_policy = |metadata: &str| {
        format!(
            "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {metadata}\nspec: {{tier: Admin, priority: 1, subject: {{namespaces: {{}}}}}}\n"
        )
    };
    let cidr_group = |metadata: &str| {
        format!(
            "apiVersion: cilium.io/v2\nkind: CiliumCIDRGroup\nmetadata: {metadata}\nspec: {{externalCIDRs: [10.0.0.0/8]}}\n"
        )
    };
    let long = format!(
        "{{name: p, namespace: a, annotations: {{note: {}}}}}",
        "x".repeat(256 * 1024)
    );
    let cases = [
        (
            network_policy("{name: Allow_web, namespace: a}"),
            "metadata.name",
        ),
        (
            network_policy(&format!("{{name: {}, namespace: a}}", "a".repeat(254))),
            "metadata.name",
        ),
        (
            network_policy("{name: p, namespace: A}"),
            "metadata.namespace",
        ),
        (
            network_policy("{name: p, namespace: a, labels: {app: 'x y'}}"),
            "metadata.labels",
        ),
        (
            network_policy("{name: p, namespace: a, annotations: {'a b': c}}"),
            "metadata.annotations",
        ),
        (network_policy(&long), "metadata.annotations"),
        (
            cilium("CiliumNetworkPolicy", "{name: Bad_Name, namespace: a}"),
            "metadata.name",
        ),
        (
            cilium("CiliumNetworkPolicy", "{name: p, namespace: a_b}"),
            "metadata.namespace",
        ),
        (
            cilium(
                "CiliumClusterwideNetworkPolicy",
                "{name: p, labels: {'io.cilium/': a}}",
            ),
            "metadata.labels",
        ),
        (
            cluster_policy("{name: p, labels: {tier: '-admin'}}"),
            "metadata.labels",
        ),
        (
            cidr_group("{name: g, labels: {'k8s:team': a}}"),
            "metadata.labels",
        ),
    ];
    for (text, field) in &cases {
        match read_policies("p.yaml", text, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => assert_eq!(location.field, *field, "{text}"),
            other => panic!("{text}: expected an error, got {other:?}"),
        }
    }
    // A clusterwide object's namespace is cleared by the API server, not checked; annotation
    // keys are checked in lowercase; a name may be a subdomain with long parts.
    let accepted = [
        cilium(
            "CiliumClusterwideNetworkPolicy",
            "{name: p.q, namespace: Not_Checked}",
        ),
        network_policy("{name: p, namespace: a, annotations: {Example.com/Note: x}}"),
        network_policy(&format!("{{name: {}.p, namespace: a}}", "a".repeat(64))),
        cluster_policy("{name: p, labels: {example.com/tier: admin}}"),
    ];
    for text in &accepted {
        assert!(
            read_policies("p.yaml", text, &Limits::default()).is_ok(),
            "{text}"
        );
    }
}

#[test]
fn synthetic_cluster_has_the_bench_size() {
    let synthetic = synthetic::cluster(synthetic::Size::BENCH, 1);
    assert_eq!(synthetic.namespaces.len(), 500);
    assert_eq!(synthetic.pods.len(), 10_000);
    assert_eq!(synthetic.policies.len(), 1_000);
    let index = Index::new(
        synthetic.namespaces.clone(),
        synthetic.pods.clone(),
        &synthetic.policies,
    )
    .unwrap();
    let connections = synthetic::connections(&synthetic, 2_000, 2);
    let allowed = connections.iter().filter(|c| index.allows(c)).count();
    // A realistic mix allows some connections and denies others.
    assert!(
        allowed > 200 && allowed < 1_800,
        "{allowed} of 2000 allowed"
    );
    // The generator is deterministic.
    let again = synthetic::cluster(synthetic::Size::BENCH, 1);
    assert_eq!(again.pods, synthetic.pods);
    assert_eq!(again.policies, synthetic.policies);
}

#[test]
fn synthetic_yaml_reads_back_to_the_same_verdicts() {
    let size = synthetic::Size {
        namespaces: 30,
        pods: 300,
        policies: 60,
    };
    let synthetic = synthetic::cluster(size, 7);
    let direct = Index::new(
        synthetic.namespaces.clone(),
        synthetic.pods.clone(),
        &synthetic.policies,
    )
    .unwrap();
    let Cluster {
        namespaces, pods, ..
    } = read_cluster(
        "cluster.yaml",
        &synthetic.cluster_yaml(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(pods, synthetic.pods);
    assert_eq!(namespaces, synthetic.namespaces);
    let policies = read_policies(
        "policies.yaml",
        &synthetic.policies_yaml(),
        &Limits::default(),
    )
    .map(|read| read.policies)
    .unwrap();
    assert_eq!(policies, synthetic.policies);
    let read = Index::new(namespaces, pods, &policies).unwrap();
    for connection in synthetic::connections(&synthetic, 1_000, 3) {
        assert_eq!(direct.evaluate(&connection), read.evaluate(&connection));
    }
}

// What the policies admit, as sets (`admitted.rs`), against the evaluator's verdicts.

/// Whether the `direction` side of `subject` admits the connection with `other`, read from
/// the sets of [`Index::admits`].
fn side_in_sets(
    index: &Index,
    subject: &ConnectionEnd,
    direction: Direction,
    other: &ConnectionEnd,
    protocol: Protocol,
    port: u16,
) -> bool {
    let ConnectionEnd::Pod(id) = subject else {
        return true;
    };
    let rules: Vec<Space> = match index.admits(*id, direction) {
        Admits::NotSubject | Admits::NotIsolated => return true,
        Admits::Rules(rules) => rules.into_iter().map(|(_, space)| space).collect(),
        Admits::Tiers(rules) => rules.into_iter().map(|(_, space)| space).collect(),
    };
    let pod_peers = index.pod_peers();
    rules.iter().any(|space| match other {
        ConnectionEnd::Pod(o) if pod_peers.contains(*o) => space.contains_pod(*o, protocol, port),
        ConnectionEnd::Pod(o) => index.pods()[*o]
            .ips
            .iter()
            .any(|ip| space.contains_address(*ip, protocol, port)),
        ConnectionEnd::Ip(ip) => space.contains_address(*ip, protocol, port),
        ConnectionEnd::Node(n) => index.nodes()[*n]
            .addresses
            .iter()
            .any(|ip| space.contains_address(*ip, protocol, port)),
    })
}

/// Connections between the pods of `synthetic` and some addresses on ports at the edges of
/// the generated ranges, both from `connections` and made here.
fn edge_connections(synthetic: &Case, seed: u64) -> Vec<Connection> {
    let ports = [
        (1, Protocol::Tcp),
        (65535, Protocol::Tcp),
        (8999, Protocol::Tcp),
        (9000, Protocol::Tcp),
        (9200, Protocol::Tcp),
        (9201, Protocol::Tcp),
        (6381, Protocol::Tcp),
        (9090, Protocol::Udp),
        (3868, Protocol::Tcp),
        (53, Protocol::Sctp),
    ];
    let mut connections = synthetic::connections(synthetic, 3_000, seed);
    let more: Vec<Connection> = connections
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (port, protocol) = ports[i % ports.len()];
            Connection {
                port,
                protocol,
                ..*c
            }
        })
        .collect();
    connections.extend(more);
    connections
}

#[test]
fn admitted_sets_are_exactly_what_the_evaluator_allows() {
    let size = synthetic::Size {
        namespaces: 40,
        pods: 500,
        policies: 120,
    };
    let mut checked = [0, 0];
    for seed in [3, 11] {
        let synthetic = synthetic::cluster(size, seed);
        let plugins = [
            (HostNetwork::NodeAddress, NetworkPlugin::Generic),
            (HostNetwork::Pod, NetworkPlugin::Generic),
            (HostNetwork::NodeAddress, NetworkPlugin::Calico),
            (HostNetwork::NodeAddress, NetworkPlugin::Cilium),
        ];
        for (host_network, network_plugin) in plugins {
            let cluster = Cluster {
                namespaces: synthetic.namespaces.clone(),
                pods: synthetic.pods.clone(),
                ..Cluster::default()
            };
            let options = Options {
                host_network,
                network_plugin: Some(network_plugin),
                ..Options::default()
            };
            let files = PolicyFiles::from(synthetic.policies.clone());
            let index = Index::with_options(cluster, &files, options).unwrap();
            // Cilium's engine decides on Cilium, whose decisions are not known as sets.
            if index.has_namespaced_dialect() {
                continue;
            }
            for c in edge_connections(&synthetic, seed) {
                // A pod with itself is local traffic, which no set holds.
                if c.from == c.to {
                    continue;
                }
                let verdict = index.evaluate(&c);
                let (protocol, port) = (c.protocol, c.port);
                let egress =
                    side_in_sets(&index, &c.from, Direction::Egress, &c.to, protocol, port);
                let ingress =
                    side_in_sets(&index, &c.to, Direction::Ingress, &c.from, protocol, port);
                assert_eq!(egress, verdict.egress.allows(), "egress of {c:?}");
                assert_eq!(ingress, verdict.ingress.allows(), "ingress of {c:?}");
                if let ConnectionEnd::Pod(from) = c.from {
                    let ports = index.admitted_ports(from, Direction::Egress, &c.to);
                    assert_eq!(
                        ports.contains(protocol, port),
                        egress,
                        "egress ports of {c:?}"
                    );
                }
                if let ConnectionEnd::Pod(to) = c.to {
                    let ports = index.admitted_ports(to, Direction::Ingress, &c.from);
                    assert_eq!(
                        ports.contains(protocol, port),
                        ingress,
                        "ingress ports of {c:?}"
                    );
                }
                checked[usize::from(verdict.allowed())] += 1;
            }
        }
    }
    assert!(checked[0] > 1_000 && checked[1] > 1_000, "{checked:?}");
}

#[test]
fn admitted_sets_name_each_rule() {
    let index = build(&(policy(
        "a",
        "out",
        "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [
          {to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.1.0/24]}}], ports: [{port: 9000, endPort: 9100}]},
          {to: [{podSelector: {}}], ports: [{port: http}, {port: dns}, {protocol: SCTP}]},
          {ports: [{port: 53, protocol: UDP}]}]}",
    ) + &policy("a", "in", "{podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: http}]}]}")));
    let web = index.pod_id("a", "web").unwrap();
    let db = index.pod_id("a", "db").unwrap();
    let Admits::Rules(rules) = index.admits(web, Direction::Egress) else {
        panic!("a/web is isolated for egress");
    };
    let names: Vec<String> = rules.iter().map(|(r, _)| r.to_string()).collect();
    assert_eq!(
        names,
        [
            "a/out spec.egress[0]",
            "a/out spec.egress[1]",
            "a/out spec.egress[2]"
        ]
    );
    let (block, pods, anything) = (&rules[0].1, &rules[1].1, &rules[2].1);
    // An ipBlock: addresses with their holes, and the pods whose addresses lie in it (the
    // default plugin), not those in the hole (b/web, b/api).
    let address = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(block.contains_address(address("10.0.0.9"), Protocol::Tcp, 9100));
    assert!(!block.contains_address(address("10.0.1.9"), Protocol::Tcp, 9000));
    assert!(!block.contains_address(address("10.0.0.9"), Protocol::Tcp, 9101));
    let covered: Vec<_> = block.pod_ids().iter().collect();
    let id = |ns, name| index.pod_id(ns, name).unwrap();
    assert_eq!(covered, [id("a", "web"), id("a", "db"), id("c", "tool")]);
    // Named ports resolve on each destination pod, with their protocol (a/web has `dns` on
    // UDP only, and the rule asks for TCP); SCTP on every port.
    assert_eq!(
        pods.ports_of_pod(db).describe(),
        ["9000/TCP", "1-65535/SCTP"]
    );
    assert_eq!(
        pods.ports_of_pod(web).describe(),
        ["8080/TCP", "1-65535/SCTP"]
    );
    assert!(pods.address_parts().is_empty());
    // No `to`: every pod (the hostNetwork agent only by its address) and every address.
    let agent = index.pod_id("c", "agent").unwrap();
    assert!(anything.contains_address(address("2001:db8::1"), Protocol::Udp, 53));
    assert!(anything.contains_pod(index.pod_id("b", "api").unwrap(), Protocol::Udp, 53));
    assert!(!anything.contains_pod(agent, Protocol::Udp, 53));
    assert!(!index.pod_peers().contains(agent));
    // The ingress side of a/db admits its own named port from anyone.
    assert_eq!(
        index
            .admitted_ports(
                db,
                Direction::Ingress,
                &ConnectionEnd::Ip(address("8.8.8.8"))
            )
            .describe(),
        ["9000/TCP"]
    );
    assert!(
        index
            .admitted_ports(web, Direction::Ingress, &ConnectionEnd::Pod(db))
            .is_all()
    );
    assert_eq!(index.admits(web, Direction::Ingress), Admits::NotIsolated);
    assert_eq!(index.admits(agent, Direction::Egress), Admits::NotSubject);
    assert!(index.everything().contains_pod(db, Protocol::Sctp, 1));
}

#[test]
fn cilium_policies_are_decided_with_the_network_policies_on_cilium_only() {
    let policies = format!(
        "{}---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: db, namespace: a}}\nspec:\n  endpointSelector: {{matchLabels: {{app: db}}}}\n  ingress: [{{fromEndpoints: [{{matchLabels: {{app: web, k8s:io.kubernetes.pod.namespace: b}}}}]}}]\n  ingressDeny: [{{fromEndpoints: [{{matchLabels: {{app: api, k8s:io.kubernetes.pod.namespace: b}}}}]}}]\n",
        policy(
            "a",
            "np",
            "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {}}]}]}"
        )
    );
    let cluster = || read_cluster("cluster.yaml", CLUSTER, &Limits::default()).unwrap();
    let files = read_policies("policies.yaml", &policies, &Limits::default()).unwrap();
    // Without a plugin, Cilium's policies choose it; with another, they are an error.
    let index = Index::with_options(cluster(), &files, Options::default()).unwrap();
    assert_eq!(index.network_plugin(), NetworkPlugin::Cilium);
    let calico = Options {
        network_plugin: Some(NetworkPlugin::Calico),
        ..Options::default()
    };
    let error = Index::with_options(cluster(), &files, calico).unwrap_err();
    assert_eq!(
        error.to_string(),
        "CiliumNetworkPolicy a/db: only Cilium enforces Cilium's policies, not the network plugin calico"
    );
    // Allows are a union: the NetworkPolicy's and the CiliumNetworkPolicy's.
    let v = verdict(&index, "b/web", "a/db", 80, "TCP");
    assert_eq!(
        v.ingress.to_string(),
        "allowed by CiliumNetworkPolicy a/db spec.ingress[0], a/np spec.ingress[0]"
    );
    assert!(allowed(&index, "c/tool", "a/db", 80, "TCP"));
    // A deny wins over every allow.
    assert_eq!(
        verdict(&index, "b/api", "a/db", 80, "TCP")
            .ingress
            .to_string(),
        "denied by CiliumNetworkPolicy a/db spec.ingressDeny[0]"
    );
    // Not isolated by any: the default.
    assert_eq!(
        verdict(&index, "a/db", "b/web", 80, "TCP")
            .ingress
            .to_string(),
        "not isolated"
    );
}

/// A pod of NodeLocal DNSCache as `kubectl get pods -o yaml` lists it, with `args`.
fn node_local_pod(args: &str) -> String {
    format!(
        "- apiVersion: v1\n  kind: Pod\n  metadata: {{name: node-local-dns-x, namespace: kube-system, labels: {{k8s-app: node-local-dns}}}}\n  spec: {{hostNetwork: true, containers: [{{name: node-cache, args: {args}}}]}}\n  status: {{hostIP: 192.0.2.10}}\n"
    )
}

#[test]
fn node_local_dns_caches_are_dns_servers_for_cilium() {
    // The web pod may reach every address looked up as api.example.com, and look names up at
    // the node-local cache only.
    let policies = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: web, namespace: a}\nspec:\n  endpointSelector: {matchLabels: {app: web}}\n  egress:\n  - toFQDNs: [{matchName: api.example.com}]\n    toPorts: [{ports: [{port: '443', protocol: TCP}]}]\n  - toCIDR: [169.254.20.10/32]\n    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchName: api.example.com}]}}]\n";
    let files = read_policies("policies.yaml", policies, &Limits::default()).unwrap();
    let decide = |cluster: Cluster| {
        let index = Index::with_options(cluster, &files, Options::default()).unwrap();
        explain(&index, "a/web", "api.example.com=198.51.100.7", "443/TCP")
            .unwrap()
            .allowed()
    };
    // A dump with the cache's pods: its `-localip` is read, and the lookup through it counts.
    let with_cache = format!(
        "{CLUSTER}{}",
        node_local_pod("[-localip, '169.254.20.10,10.96.0.10', -conf, /etc/Corefile]")
    );
    let cluster = read_cluster("cluster.yaml", &with_cache, &Limits::default()).unwrap();
    assert_eq!(cluster.dns_caches, [IpAddr::from([169, 254, 20, 10])]);
    assert!(decide(cluster.clone()));
    // Only there: the same lookup at another address is no DNS lookup.
    let mut elsewhere = cluster.clone();
    elsewhere.dns_caches = vec![IpAddr::from([169, 254, 20, 11])];
    assert!(!decide(elsewhere));
    // Without the cache, the DNS rule lets no lookup through and toFQDNs admits nothing.
    let without = read_cluster("cluster.yaml", CLUSTER, &Limits::default()).unwrap();
    assert!(without.dns_caches.is_empty());
    assert!(!decide(without));
    // A cache without `-localip` listens on the documented default address.
    let default = format!("{CLUSTER}{}", node_local_pod("[-conf, /etc/Corefile]"));
    let cluster = read_cluster("cluster.yaml", &default, &Limits::default()).unwrap();
    assert_eq!(cluster.dns_caches, [IpAddr::from([169, 254, 20, 10])]);
    assert!(decide(cluster));
    // Dumps read one after another add their caches once.
    let mut both = read_cluster("a.yaml", &with_cache, &Limits::default()).unwrap();
    both.extend([read_cluster("b.yaml", &default, &Limits::default()).unwrap()]);
    assert_eq!(both.dns_caches.len(), 1);
}

/// ClusterNetworkPolicies over the synthetic cluster: both tiers, every action, every kind of
/// peer the sets know, ports, ranges and named ports, distinct priorities (equal ones that
/// disagree are undefined, which the sets count as allowed and the verdict does not).
const SYNTHETIC_CLUSTER_POLICIES: &str = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin-payments}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: payments}}}
  egress:
  - {action: Pass, to: [{namespaces: {matchLabels: {team: payments}}}]}
  - {action: Accept, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {tier: db}}}}], protocols: [{tcp: {destinationPort: {range: {start: 5000, end: 9100}}}}, {destinationNamedPort: metrics}]}
  - {action: Deny, to: [{networks: [10.0.0.0/9, "fd00::/8"]}]}
  ingress:
  - {action: Deny, from: [{namespaces: {matchLabels: {env: dev}}}], protocols: [{tcp: {destinationPort: {number: 9200}}}]}
  - {action: Accept, from: [{pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}, podSelector: {}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin-web}
spec:
  tier: Admin
  priority: 20
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {tier: web}}}}
  egress:
  - {action: Accept, to: [{networks: [192.168.0.0/24]}], protocols: [{tcp: {destinationPort: {number: 9100}}}]}
  - {action: Pass, to: [{networks: [0.0.0.0/0]}], protocols: [{udp: {destinationPort: {number: 53}}}]}
  ingress:
  - {action: Accept, from: [{namespaces: {matchLabels: {team: search}}}], protocols: [{destinationNamedPort: http}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: baseline-all}
spec:
  tier: Baseline
  priority: 5
  subject: {namespaces: {matchExpressions: [{key: team, operator: Exists}]}}
  egress:
  - {action: Accept, to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}], protocols: [{udp: {destinationPort: {number: 53}}}]}
  - {action: Deny, to: [{networks: [0.0.0.0/0, "::/0"]}]}
  ingress:
  - {action: Pass, from: [{namespaces: {matchLabels: {env: prod}}}]}
  - {action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {canary: "true"}}}}]}
"#;

/// Whether the `direction` side of `c` admits it, read from the sets of `Index::admits`,
/// which `sets` keeps per pod and direction.
fn side_in_cached_sets(
    index: &Index,
    sets: &mut HashMap<(PodId, bool), Vec<Space>>,
    direction: Direction,
    c: &Connection,
) -> bool {
    let (end, other) = match direction {
        Direction::Egress => (&c.from, &c.to),
        Direction::Ingress => (&c.to, &c.from),
    };
    let ConnectionEnd::Pod(id) = end else {
        return true;
    };
    let spaces = sets
        .entry((*id, direction == Direction::Egress))
        .or_insert_with(|| match index.admits(*id, direction) {
            Admits::NotSubject | Admits::NotIsolated => vec![index.everything()],
            Admits::Rules(rules) => rules.into_iter().map(|(_, s)| s).collect(),
            Admits::Tiers(rules) => rules.into_iter().map(|(_, s)| s).collect(),
        });
    spaces.iter().any(|space| match other {
        ConnectionEnd::Pod(o) if !index.pods()[*o].host_network => {
            space.contains_pod(*o, c.protocol, c.port)
        }
        ConnectionEnd::Pod(o) => index.pods()[*o]
            .ips
            .iter()
            .any(|ip| space.contains_address(*ip, c.protocol, c.port)),
        ConnectionEnd::Ip(ip) => space.contains_address(*ip, c.protocol, c.port),
        ConnectionEnd::Node(n) => index.nodes()[*n]
            .addresses
            .iter()
            .any(|ip| space.contains_address(*ip, c.protocol, c.port)),
    })
}

#[test]
fn tiered_sets_are_exactly_what_the_evaluator_allows() {
    let size = synthetic::Size {
        namespaces: 30,
        pods: 300,
        policies: 60,
    };
    let synthetic = synthetic::cluster(size, 5);
    let mut checked = 0;
    let mut tiers: std::collections::BTreeMap<Option<&str>, usize> =
        std::collections::BTreeMap::new();
    for network_plugin in [
        NetworkPlugin::Generic,
        NetworkPlugin::Calico,
        NetworkPlugin::Cilium,
    ] {
        let cluster = Cluster {
            namespaces: synthetic.namespaces.clone(),
            pods: synthetic.pods.clone(),
            ..Cluster::default()
        };
        let mut files = PolicyFiles::from(synthetic.policies.clone());
        files.extend([read_policies(
            "cluster-policies.yaml",
            SYNTHETIC_CLUSTER_POLICIES,
            &Limits::default(),
        )
        .unwrap()]);
        let options = Options {
            network_plugin: Some(network_plugin),
            ..Options::default()
        };
        let index = Index::with_options(cluster, &files, options).unwrap();
        // Cilium's engine decides on Cilium, whose decisions are not known as sets.
        if index.has_namespaced_dialect() {
            continue;
        }
        let mut sets = HashMap::default();
        for c in edge_connections(&synthetic, 5) {
            // A pod with itself is local traffic, which no set holds.
            if c.from == c.to {
                continue;
            }
            let verdict = index.evaluate(&c);
            let egress = side_in_cached_sets(&index, &mut sets, Direction::Egress, &c);
            let ingress = side_in_cached_sets(&index, &mut sets, Direction::Ingress, &c);
            assert_eq!(
                egress,
                verdict.egress.allows(),
                "{network_plugin}: egress of {c:?}: {}",
                verdict.egress
            );
            assert_eq!(
                ingress,
                verdict.ingress.allows(),
                "{network_plugin}: ingress of {c:?}: {}",
                verdict.ingress
            );
            for decision in [&verdict.egress, &verdict.ingress] {
                *tiers.entry(decision.tier.map(Tier::name)).or_insert(0) += 1;
            }
            checked += 1;
        }
        // What the other end admits, as ports, on a sample.
        for c in edge_connections(&synthetic, 5).iter().step_by(50) {
            if let (ConnectionEnd::Pod(from), ConnectionEnd::Pod(_)) = (c.from, c.to)
                && !index.pods()[from].host_network
            {
                let ports = index.admitted_ports(from, Direction::Egress, &c.to);
                assert_eq!(
                    ports.contains(c.protocol, c.port),
                    index.evaluate(c).egress.allows(),
                    "{network_plugin}: ports of the egress of {c:?}"
                );
            }
        }
    }
    // Every tier decided some of them.
    for tier in ["Admin", "NetworkPolicy", "Baseline"] {
        assert!(
            tiers.get(&Some(tier)).copied().unwrap_or(0) > 100,
            "{tiers:?}"
        );
    }
    assert!(checked > 10_000, "{checked}");
}

/// The ClusterNetworkPolicies whose subject each pod is, by namespace and by pod, are those a
/// look at every policy for every pod finds, in the same order.
#[test]
fn tier_subjects_are_those_of_every_policy() {
    let scale = synthetic::Scale {
        nodes: 3,
        namespaces: 12,
        pods: 200,
        network_policies: 0,
        cluster_network_policies: 120,
        cilium_policies: 0,
    };
    let files: BTreeMap<String, String> = synthetic::large_files(&scale, 8).into_iter().collect();
    let limits = Limits {
        max_bytes: usize::MAX,
        ..Limits::default()
    };
    let cluster = read_cluster("c", &files["cluster.json"], &limits).unwrap();
    let policies = read_policies("p", &files["policies.json"], &limits).unwrap();
    let index = Index::with_options(cluster, &policies, Options::default()).unwrap();
    let (mut merged, mut subjects) = (0, 0);
    for info in &index.infos {
        for tier in [Tier::Admin, Tier::Baseline] {
            let all: Vec<u32> = (0..index.cluster.len())
                .filter(|&n| {
                    let policy = &index.cluster[n];
                    let namespace = match &policy.namespaces {
                        Namespaces::Own => false,
                        Namespaces::All => true,
                        Namespaces::Set(set) => set.contains(info.namespace),
                    };
                    policy.tier == tier
                        && !info.by_address
                        && namespace
                        && policy.pods.matches(&info.labels)
                })
                .map(|n| u32::try_from(n).unwrap())
                .collect();
            assert_eq!(*index.tier_subjects(tier, info), all);
            let tiers = &index.namespace_tiers[info.namespace];
            let every = &tiers.every[usize::from(tier == Tier::Baseline)];
            merged += usize::from(!every.is_empty() && every.len() < all.len());
            subjects += all.len();
        }
    }
    assert!(
        merged > 5 && subjects > 1000,
        "{merged} merged, {subjects} subjects"
    );
}

/// The `direction` side of `subject` with `peer`, at each of `ports`.
fn sides_at(
    index: &Index,
    direction: Direction,
    (subject, peer): (PodId, PodId),
    ports: &[(u16, &str)],
) -> Vec<Decision> {
    let (me, other) = (ConnectionEnd::Pod(subject), ConnectionEnd::Pod(peer));
    let (from, to) = match direction {
        Direction::Egress => (me, other),
        Direction::Ingress => (other, me),
    };
    (ports.iter())
        .map(|&(port, protocol)| {
            let connection = Connection {
                from,
                to,
                port,
                protocol: Protocol::parse(protocol).unwrap(),
            };
            let query = Query {
                connection: &connection,
                name: None,
            };
            index.decide_side(direction, &query, &me, &other)
        })
        .collect()
}

/// The generated cluster of [`peers_that_look_alike_to_a_side_are_decided_alike`] on
/// `plugin`, with every dialect it enforces.
fn generated_index(plugin: NetworkPlugin) -> Index {
    let scale = synthetic::Scale {
        nodes: 4,
        namespaces: 8,
        pods: 200,
        network_policies: 60,
        cluster_network_policies: 40,
        cilium_policies: 40,
    };
    let files: std::collections::BTreeMap<String, String> =
        synthetic::large_files(&scale, 5).into_iter().collect();
    let limits = Limits {
        max_bytes: usize::MAX,
        ..Limits::default()
    };
    let cluster = read_cluster("c", &files["cluster.json"], &limits).unwrap();
    let mut policies = read_policies("p", &files["policies.json"], &limits).unwrap();
    if plugin != NetworkPlugin::Cilium {
        policies.cilium_policies.clear();
    }
    let options = Options {
        network_plugin: Some(plugin),
        ..Options::default()
    };
    Index::with_options(cluster, &policies, options).unwrap()
}

#[test]
fn peers_that_look_alike_to_a_side_are_decided_alike() {
    // For every pod and side, the peers it sees alike (`peer_view`, on one node with it or
    // not) are decided alike, with the same tiers, policies and rules, at every port tried.
    // On egress a peer's ports stay in its view (named ports resolve on it): no pod is seen
    // alike there that its class did not already make alike.
    let ports = [
        (8080, "TCP"),
        (80, "TCP"),
        (5432, "TCP"),
        (3306, "TCP"),
        (53, "UDP"),
        (443, "TCP"),
        (9090, "TCP"),
    ];
    for plugin in [NetworkPlugin::Cilium, NetworkPlugin::Calico] {
        let index = generated_index(plugin);
        let pods: Vec<PodId> = (0..index.pods.len())
            .filter(|&id| !index.pods[id].host_network && !index.infos[id].by_address)
            .collect();
        let class = |id: PodId| index.end_key(&ConnectionEnd::Pod(id), false);
        let (mut merged, mut told_apart) = (0, 0);
        for direction in [Direction::Egress, Direction::Ingress] {
            for &subject in &pods {
                let Some(selection) = index.selection(subject, direction) else {
                    continue;
                };
                let keys = index.peer_label_keys(direction, &selection);
                // The first peer of each view, and its sides.
                let mut first: HashMap<_, (PodId, Vec<Decision>)> = HashMap::default();
                for &peer in pods.iter().filter(|&&peer| peer != subject) {
                    let sides = sides_at(&index, direction, (subject, peer), &ports);
                    let view = index.peer_view(direction, &keys, peer);
                    let near = index.pods[peer].node == index.pods[subject].node;
                    match first.get(&(view.clone(), near)) {
                        Some((like, known)) => {
                            assert_eq!(
                                known, &sides,
                                "{direction:?} of {subject}: peers {like} and {peer} ({plugin:?})"
                            );
                            merged += usize::from(class(*like) != class(peer));
                        }
                        None => {
                            first.insert((view, near), (peer, sides));
                        }
                    }
                }
                told_apart += first.len();
            }
        }
        // Peers of several classes look alike to some sides, and not all peers to all.
        assert!(merged > 1000, "{merged} peers seen as one of another class");
        assert!(told_apart > 1000, "{told_apart} views");
    }
}
