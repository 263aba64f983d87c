//! Unit tests of ClusterNetworkPolicy: the reader against the CRD's rules, and each semantic
//! rule of the tiers with concrete verdicts.

use crate::error::Error;
use crate::evaluate::{
    Connection, Index, NetworkPlugin, Options, Query, Verdict, read_cluster, read_policies,
};
use crate::matrix::Protocol;
use crate::source::Limits;

/// Two houses, a namespace for infrastructure, two nodes and a host-network pod on the first.
const CLUSTER: &str = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: gryffindor, labels: {house: gryffindor}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: slytherin, labels: {house: slytherin}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: infra}}
- apiVersion: v1
  kind: Node
  metadata: {name: n1, labels: {role: worker}}
  status: {addresses: [{type: InternalIP, address: 192.0.2.11}, {type: Hostname, address: n1}]}
- apiVersion: v1
  kind: Node
  metadata: {name: n2, labels: {role: control}}
  status: {addresses: [{type: InternalIP, address: 192.0.2.12}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: harry, namespace: gryffindor, labels: {app: harry}}
  spec: {containers: [{name: m, ports: [{name: web, containerPort: 80}, {name: dns, containerPort: 53, protocol: UDP}]}]}
  status: {podIP: 10.0.0.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: hermione, namespace: gryffindor, labels: {app: hermione}}
  status: {podIP: 10.0.0.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: draco, namespace: slytherin, labels: {app: draco}}
  spec: {containers: [{name: m, ports: [{name: web, containerPort: 80}]}]}
  status: {podIP: 10.0.1.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: agent, namespace: infra, labels: {app: agent}}
  spec: {hostNetwork: true, nodeName: n1, containers: [{name: m, ports: [{name: web, containerPort: 8080}]}]}
  status: {hostIP: 192.0.2.11}
"#;

/// A ClusterNetworkPolicy named `name` of `tier` and `priority` with `rest` of its spec.
fn cnp(name: &str, tier: &str, priority: u16, rest: &str) -> String {
    format!(
        "---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n{rest}"
    )
}

fn np(namespace: &str, name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec: {spec}\n"
    )
}

fn index_for(policies: &str, network_plugin: NetworkPlugin) -> Index {
    let cluster = read_cluster("cluster.yaml", CLUSTER, &Limits::default()).unwrap();
    let files = read_policies("policies.yaml", policies, &Limits::default()).unwrap();
    let options = Options {
        network_plugin: Some(network_plugin),
        ..Options::default()
    };
    Index::with_options(cluster, &files, options).unwrap()
}

fn index(policies: &str) -> Index {
    index_for(policies, NetworkPlugin::Generic)
}

/// The verdict on `from` → `to` at `port` (`80/TCP`), the destination looked up by `name`.
fn decide(index: &Index, from: &str, to: &str, port: &str, name: Option<&str>) -> Verdict {
    let end = |text: &str| {
        index
            .connection_end(text)
            .unwrap_or_else(|| panic!("no end {text}"))
    };
    let (number, protocol) = port.split_once('/').unwrap();
    let connection = Connection {
        from: end(from),
        to: end(to),
        port: number.parse().unwrap(),
        protocol: Protocol::parse(protocol).unwrap(),
    };
    let verdict = index.decide(&Query {
        connection: &connection,
        name,
    });
    if name.is_none() {
        assert_eq!(index.evaluate(&connection), verdict);
        assert_eq!(index.allows(&connection), verdict.allowed());
    }
    verdict
}

/// The egress side in words.
fn egress(index: &Index, from: &str, to: &str, port: &str) -> String {
    decide(index, from, to, port, None).egress.to_string()
}

/// The ingress side in words.
fn ingress(index: &Index, from: &str, to: &str, port: &str) -> String {
    decide(index, from, to, port, None).ingress.to_string()
}

const GRYFFINDOR: &str = "  subject: {namespaces: {matchLabels: {house: gryffindor}}}\n";

#[test]
fn admin_accept_and_deny_are_final_over_network_policies() {
    let policies = [
        np("slytherin", "deny-all", "{podSelector: {}, policyTypes: [Ingress]}"),
        cnp(
            "admin",
            "Admin",
            10,
            &format!(
                "{GRYFFINDOR}  egress:\n  - {{action: Accept, to: [{{namespaces: {{matchLabels: {{house: slytherin}}}}}}], protocols: [{{tcp: {{destinationPort: {{number: 80}}}}}}]}}\n  - {{action: Deny, to: [{{namespaces: {{}}}}]}}\n"
            ),
        ),
        np("gryffindor", "allow-all", "{podSelector: {}, egress: [{}], policyTypes: [Egress]}"),
    ]
    .concat();
    let index = index(&policies);
    assert_eq!(
        egress(&index, "gryffindor/harry", "slytherin/draco", "80/TCP"),
        "allowed by ClusterNetworkPolicy admin spec.egress[0] (Admin tier, priority 10)"
    );
    // The egress side is accepted, the ingress side still isolated by the NetworkPolicy.
    let verdict = decide(
        &index,
        "gryffindor/harry",
        "slytherin/draco",
        "80/TCP",
        None,
    );
    assert_eq!(
        verdict.ingress.to_string(),
        "denied (isolated by slytherin/deny-all)"
    );
    assert!(!verdict.allowed());
    // The Deny rule wins over the NetworkPolicy allowing every egress.
    assert_eq!(
        egress(&index, "gryffindor/harry", "gryffindor/hermione", "80/TCP"),
        "denied by ClusterNetworkPolicy admin spec.egress[1] (Admin tier, priority 10)"
    );
    // An address no rule matches: the NetworkPolicy decides.
    assert_eq!(
        egress(&index, "gryffindor/harry", "203.0.113.1", "443/TCP"),
        "allowed by gryffindor/allow-all spec.egress[0]"
    );
}

#[test]
fn pass_goes_to_network_policies_then_baseline_then_the_default() {
    let pass = cnp(
        "pass",
        "Admin",
        1,
        &format!(
            "{GRYFFINDOR}  egress:\n  - {{action: Pass, to: [{{namespaces: {{}}}}]}}\n  - {{action: Accept, to: [{{namespaces: {{}}}}]}}\n"
        ),
    );
    let baseline = cnp(
        "baseline",
        "Baseline",
        1,
        &format!(
            "{GRYFFINDOR}  egress:\n  - {{action: Deny, to: [{{namespaces: {{matchLabels: {{house: slytherin}}}}}}]}}\n"
        ),
    );
    // Pass, no NetworkPolicy: the Baseline tier denies.
    let index1 = index(&format!("{pass}{baseline}"));
    assert_eq!(
        egress(&index1, "gryffindor/harry", "slytherin/draco", "80/TCP"),
        "denied by ClusterNetworkPolicy baseline spec.egress[0] (Baseline tier, priority 1) (after Pass by ClusterNetworkPolicy pass spec.egress[0])"
    );
    // Pass, nothing in the Baseline tier matches: the default allows.
    assert_eq!(
        egress(&index1, "gryffindor/harry", "gryffindor/hermione", "80/TCP"),
        "not isolated (after Pass by ClusterNetworkPolicy pass spec.egress[0])"
    );
    // A NetworkPolicy selecting the pod decides before the Baseline tier.
    let allow = np(
        "gryffindor",
        "allow",
        "{podSelector: {}, egress: [{to: [{namespaceSelector: {}}]}], policyTypes: [Egress]}",
    );
    let index2 = index(&format!("{pass}{baseline}{allow}"));
    assert_eq!(
        egress(&index2, "gryffindor/harry", "slytherin/draco", "80/TCP"),
        "allowed by gryffindor/allow spec.egress[0] (after Pass by ClusterNetworkPolicy pass spec.egress[0])"
    );
    let deny = np(
        "gryffindor",
        "deny",
        "{podSelector: {}, policyTypes: [Egress]}",
    );
    let index3 = index(&format!("{baseline}{deny}"));
    assert_eq!(
        egress(&index3, "gryffindor/harry", "slytherin/draco", "80/TCP"),
        "denied (isolated by gryffindor/deny)"
    );
    // Without any policy selecting it, the Baseline tier decides alone.
    let index4 = index(&baseline);
    assert!(
        !decide(
            &index4,
            "gryffindor/harry",
            "slytherin/draco",
            "80/TCP",
            None
        )
        .allowed()
    );
    assert!(
        decide(
            &index4,
            "slytherin/draco",
            "gryffindor/harry",
            "80/TCP",
            None
        )
        .allowed()
    );
}

#[test]
fn a_pod_to_itself_is_not_subject_to_cluster_network_policies() {
    // network-policy-api's API overview: "A Pod connecting to its own Pod IP is not subject to
    // CNP". Both tiers deny everything of gryffindor's pods, both ways.
    let deny = |name: &str, tier: &str| {
        cnp(
            name,
            tier,
            1,
            &format!(
                "{GRYFFINDOR}  egress:\n  - {{action: Deny, to: [{{namespaces: {{}}}}]}}\n  ingress:\n  - {{action: Deny, from: [{{namespaces: {{}}}}]}}\n"
            ),
        )
    };
    let isolate = np(
        "gryffindor",
        "isolate",
        "{podSelector: {matchLabels: {app: harry}}, policyTypes: [Ingress]}",
    );
    for tier in ["Admin", "Baseline"] {
        let only = index(&deny("deny", tier));
        let verdict = decide(
            &only,
            "gryffindor/harry",
            "gryffindor/harry",
            "80/TCP",
            None,
        );
        assert_eq!(verdict.egress.to_string(), "not isolated", "{tier}");
        assert_eq!(verdict.ingress.to_string(), "not isolated", "{tier}");
        assert!(
            !decide(
                &only,
                "gryffindor/harry",
                "gryffindor/hermione",
                "80/TCP",
                None
            )
            .allowed()
        );
        // The sets say the same: the pod reaches itself by no rule, and its neighbour not at all.
        let harry = only.pod_id("gryffindor", "harry").unwrap();
        let hermione = only.pod_id("gryffindor", "hermione").unwrap();
        let crate::evaluate::Admits::Tiers(parts) =
            only.admits(harry, crate::matrix::Direction::Egress)
        else {
            panic!("the tiers decide")
        };
        let by = |pod| {
            parts
                .iter()
                .filter(|(_, space)| space.contains_pod(pod, Protocol::Tcp, 80))
                .map(|(rule, _)| rule.is_some())
                .collect::<Vec<bool>>()
        };
        assert_eq!((by(harry), by(hermione)), (vec![false], vec![]), "{tier}");
        // Nor can NetworkPolicies block it (the Kubernetes documentation: "a pod cannot block
        // access to itself").
        let isolated = index(&format!("{}{isolate}", deny("deny", tier)));
        assert_eq!(
            ingress(&isolated, "gryffindor/harry", "gryffindor/harry", "80/TCP"),
            "always allowed (local traffic)",
            "{tier}"
        );
        let other = ingress(
            &isolated,
            "gryffindor/hermione",
            "gryffindor/harry",
            "80/TCP",
        );
        let expected = match tier {
            "Admin" => {
                "denied by ClusterNetworkPolicy deny spec.ingress[0] (Admin tier, priority 1)"
            }
            _ => "denied (isolated by gryffindor/isolate)",
        };
        assert_eq!(other, expected, "{tier}");
    }
}

#[test]
fn lower_priorities_first_rules_in_order() {
    let policies = [
        cnp(
            "later",
            "Admin",
            20,
            &format!("{GRYFFINDOR}  egress:\n  - {{action: Accept, to: [{{namespaces: {{}}}}]}}\n"),
        ),
        cnp(
            "first",
            "Admin",
            5,
            &format!("{GRYFFINDOR}  egress:\n  - {{name: web, action: Accept, to: [{{namespaces: {{}}}}], protocols: [{{tcp: {{destinationPort: {{range: {{start: 80, end: 90}}}}}}}}]}}\n  - {{name: rest, action: Deny, to: [{{pods: {{podSelector: {{matchLabels: {{app: draco}}}}}}}}]}}\n"),
        ),
    ]
    .concat();
    let index = index(&policies);
    assert_eq!(
        egress(&index, "gryffindor/harry", "slytherin/draco", "85/TCP"),
        "allowed by ClusterNetworkPolicy first spec.egress[0] (Admin tier, priority 5)"
    );
    assert_eq!(
        egress(&index, "gryffindor/harry", "slytherin/draco", "91/TCP"),
        "denied by ClusterNetworkPolicy first spec.egress[1] (Admin tier, priority 5)"
    );
    assert_eq!(
        egress(&index, "gryffindor/harry", "gryffindor/hermione", "91/TCP"),
        "allowed by ClusterNetworkPolicy later spec.egress[0] (Admin tier, priority 20)"
    );
    // The ingress side of the subject is untouched: no ingress rules.
    assert_eq!(
        ingress(&index, "slytherin/draco", "gryffindor/harry", "80/TCP"),
        "not isolated"
    );
}

#[test]
fn equal_priorities_that_decide_differently_are_undefined() {
    let accept = cnp(
        "a-accept",
        "Admin",
        7,
        &format!("{GRYFFINDOR}  egress:\n  - {{action: Accept, to: [{{namespaces: {{}}}}]}}\n"),
    );
    let deny = cnp(
        "b-deny",
        "Admin",
        7,
        "  subject: {pods: {podSelector: {matchLabels: {app: harry}}}}\n  egress:\n  - {action: Deny, to: [{namespaces: {matchLabels: {house: slytherin}}}]}\n",
    );
    let index1 = index(&format!("{accept}{deny}"));
    let verdict = decide(
        &index1,
        "gryffindor/harry",
        "slytherin/draco",
        "80/TCP",
        None,
    );
    assert_eq!(
        verdict.egress.to_string(),
        "undefined: ClusterNetworkPolicy a-accept spec.egress[0] (Accept) and ClusterNetworkPolicy b-deny spec.egress[0] (Deny) share priority 7 of the Admin tier and decide differently"
    );
    assert!(!verdict.allowed());
    // Only one of them matches: decided.
    assert_eq!(
        egress(&index1, "gryffindor/harry", "gryffindor/hermione", "80/TCP"),
        "allowed by ClusterNetworkPolicy a-accept spec.egress[0] (Admin tier, priority 7)"
    );
    // Pass and Accept that end alike (nothing else isolates the pod) are decided.
    let pass = cnp(
        "b-pass",
        "Admin",
        7,
        "  subject: {pods: {podSelector: {matchLabels: {app: harry}}}}\n  egress:\n  - {action: Pass, to: [{namespaces: {}}]}\n",
    );
    let index2 = index(&format!("{accept}{pass}"));
    let verdict = decide(
        &index2,
        "gryffindor/harry",
        "slytherin/draco",
        "80/TCP",
        None,
    );
    assert!(verdict.allowed());
    assert_eq!(
        verdict.egress.to_string(),
        "allowed by ClusterNetworkPolicy a-accept spec.egress[0] (Admin tier, priority 7)"
    );
    // With a NetworkPolicy denying after the Pass, they end differently.
    let isolate = np(
        "gryffindor",
        "deny",
        "{podSelector: {}, policyTypes: [Egress]}",
    );
    let index3 = index(&format!("{accept}{pass}{isolate}"));
    let verdict = decide(
        &index3,
        "gryffindor/harry",
        "slytherin/draco",
        "80/TCP",
        None,
    );
    assert!(
        verdict.egress.to_string().starts_with("undefined: "),
        "{}",
        verdict.egress
    );
}

#[test]
fn subjects_by_namespaces_or_pods_never_host_network_pods() {
    let deny_in = |name: &str, subject: &str| {
        cnp(
            name,
            "Admin",
            1,
            &format!(
                "  subject: {subject}\n  ingress:\n  - {{action: Deny, from: [{{namespaces: {{}}}}]}}\n"
            ),
        )
    };
    let policies = [
        deny_in("pods", "{pods: {namespaceSelector: {matchLabels: {house: gryffindor}}, podSelector: {matchLabels: {app: hermione}}}}"),
        deny_in("everything", "{namespaces: {}}"),
    ]
    .concat();
    let index = index(&policies);
    assert!(
        ingress(&index, "slytherin/draco", "gryffindor/hermione", "80/TCP")
            .contains("ClusterNetworkPolicy everything")
    );
    assert!(
        ingress(&index, "slytherin/draco", "gryffindor/harry", "80/TCP")
            .contains("ClusterNetworkPolicy everything")
    );
    // The host-network pod is no subject, nor is its node.
    assert_eq!(
        ingress(&index, "slytherin/draco", "infra/agent", "8080/TCP"),
        "not subject to policy"
    );
    assert_eq!(
        ingress(&index, "slytherin/draco", "node/n1", "22/TCP"),
        "not subject to policy"
    );
    // Ingress rules have pod peers only: an address outside the cluster is never matched.
    assert_eq!(
        ingress(&index, "203.0.113.1", "gryffindor/harry", "80/TCP"),
        "not isolated"
    );
    // Nor is a host-network pod, which is its node's addresses.
    assert_eq!(
        ingress(&index, "infra/agent", "gryffindor/harry", "80/TCP"),
        "not isolated"
    );
}

#[test]
fn networks_match_pods_as_the_plugin_decides() {
    let policies = cnp(
        "networks",
        "Admin",
        1,
        &format!(
            "{GRYFFINDOR}  egress:\n  - {{action: Deny, to: [{{networks: [10.0.1.0/24, 192.0.2.0/24]}}]}}\n"
        ),
    );
    let generic = index(&policies);
    // The API: "cluster-internal traffic will be checked against the rule as well".
    assert!(
        egress(&generic, "gryffindor/harry", "slytherin/draco", "80/TCP").starts_with("denied by")
    );
    assert!(egress(&generic, "gryffindor/harry", "node/n1", "10250/TCP").starts_with("denied by"));
    assert!(
        egress(&generic, "gryffindor/harry", "infra/agent", "8080/TCP").starts_with("denied by")
    );
    assert!(egress(&generic, "gryffindor/harry", "192.0.2.200", "80/TCP").starts_with("denied by"));
    let calico = index_for(&policies, NetworkPlugin::Calico);
    assert!(
        egress(&calico, "gryffindor/harry", "slytherin/draco", "80/TCP").starts_with("denied by")
    );
    // Cilium's CIDR selectors match no pod and no node.
    let cilium = index_for(&policies, NetworkPlugin::Cilium);
    assert_eq!(
        egress(&cilium, "gryffindor/harry", "slytherin/draco", "80/TCP"),
        "not isolated"
    );
    assert_eq!(
        egress(&cilium, "gryffindor/harry", "node/n1", "10250/TCP"),
        "not isolated"
    );
    assert_eq!(
        egress(&cilium, "gryffindor/harry", "infra/agent", "8080/TCP"),
        "not isolated"
    );
    assert!(egress(&cilium, "gryffindor/harry", "192.0.2.200", "80/TCP").starts_with("denied by"));
}

#[test]
fn nodes_match_node_addresses_and_host_network_pods() {
    let policies = cnp(
        "nodes",
        "Admin",
        1,
        &format!(
            "{GRYFFINDOR}  egress:\n  - {{action: Accept, to: [{{nodes: {{matchLabels: {{role: worker}}}}}}]}}\n  - {{action: Deny, to: [{{networks: [0.0.0.0/0]}}]}}\n"
        ),
    );
    let index1 = index(&policies);
    assert!(
        egress(&index1, "gryffindor/harry", "node/n1", "10250/TCP")
            .starts_with("allowed by ClusterNetworkPolicy nodes spec.egress[0]")
    );
    assert!(
        egress(&index1, "gryffindor/harry", "192.0.2.11", "10250/TCP").starts_with("allowed by")
    );
    assert!(
        egress(&index1, "gryffindor/harry", "infra/agent", "8080/TCP").starts_with("allowed by")
    );
    assert!(
        egress(&index1, "gryffindor/harry", "node/n2", "10250/TCP")
            .starts_with("denied by ClusterNetworkPolicy nodes spec.egress[1]")
    );
    // Calico does not implement nodes peers: the Accept rule matches nothing.
    let calico = index_for(&policies, NetworkPlugin::Calico);
    let verdict = decide(&calico, "gryffindor/harry", "node/n1", "10250/TCP", None);
    assert!(
        verdict
            .egress
            .to_string()
            .starts_with("denied by ClusterNetworkPolicy nodes spec.egress[1]"),
        "{}",
        verdict.egress
    );
}

#[test]
fn unknown_peers_fail_closed() {
    let pass = cnp(
        "dns",
        "Admin",
        1,
        &format!(
            "{GRYFFINDOR}  egress:\n  - {{action: Pass, to: [{{domainNames: [example.com]}}]}}\n"
        ),
    );
    let calico = index_for(&pass, NetworkPlugin::Calico);
    let verdict = decide(
        &calico,
        "gryffindor/harry",
        "slytherin/draco",
        "80/TCP",
        None,
    );
    assert_eq!(
        verdict.egress.to_string(),
        "denied by ClusterNetworkPolicy dns spec.egress[0] (the network plugin does not implement domainNames peers, which fail closed) (Admin tier, priority 1)"
    );
    assert_eq!(
        verdict.egress.by[0].note,
        Some("the network plugin does not implement domainNames peers, which fail closed")
    );
    // The generic plugin implements them: no name, no match.
    let generic = index(&pass);
    assert_eq!(
        egress(&generic, "gryffindor/harry", "slytherin/draco", "80/TCP"),
        "not isolated"
    );
}

#[test]
fn domain_names_match_destinations_looked_up_by_name() {
    let policies = cnp(
        "names",
        "Admin",
        1,
        &format!(
            "{GRYFFINDOR}  egress:\n  - {{action: Accept, to: [{{domainNames: [\"*.kubernetes.io\", example.com.]}}]}}\n  - {{action: Deny, to: [{{networks: [0.0.0.0/0]}}]}}\n"
        ),
    );
    let index = index(&policies);
    let side = |name: Option<&str>| {
        decide(&index, "gryffindor/harry", "203.0.113.7", "443/TCP", name)
            .egress
            .allows()
    };
    assert!(side(Some("blog.kubernetes.io")));
    assert!(side(Some("latest.blog.kubernetes.io")));
    assert!(side(Some("Example.COM.")));
    assert!(!side(Some("kubernetes.io")));
    assert!(!side(Some("www.example.com")));
    assert!(!side(None));
}

#[test]
fn protocols_numbers_ranges_and_named_ports() {
    let policies = cnp(
        "ports",
        "Admin",
        1,
        "  subject: {namespaces: {}}\n  ingress:\n  - {action: Accept, from: [{namespaces: {}}], protocols: [{destinationNamedPort: dns}, {sctp: {destinationPort: {number: 9003}}}]}\n  - {action: Deny, from: [{namespaces: {}}]}\n",
    );
    let index = index(&policies);
    // The named port `dns` is harry's 53/UDP: its own protocol.
    assert!(
        ingress(&index, "slytherin/draco", "gryffindor/harry", "53/UDP").starts_with("allowed")
    );
    assert!(ingress(&index, "slytherin/draco", "gryffindor/harry", "53/TCP").starts_with("denied"));
    // hermione has no port named dns.
    assert!(
        ingress(&index, "slytherin/draco", "gryffindor/hermione", "53/UDP").starts_with("denied")
    );
    assert!(
        ingress(
            &index,
            "slytherin/draco",
            "gryffindor/hermione",
            "9003/SCTP"
        )
        .starts_with("allowed")
    );
    assert!(
        ingress(&index, "slytherin/draco", "gryffindor/hermione", "9003/TCP").starts_with("denied")
    );
}

/// The field of the error reading `policy`.
fn error_field(policy: &str) -> (String, String) {
    match read_policies("p.yaml", policy, &Limits::default()) {
        Err(Error::Invalid {
            location, reason, ..
        }) => (location.field, reason),
        other => panic!("expected an error for\n{policy}\ngot {other:?}"),
    }
}

#[test]
fn the_reader_refuses_what_the_crd_refuses() {
    let subject = "  subject: {namespaces: {}}\n";
    let rule = |rule: &str| {
        cnp(
            "p",
            "Admin",
            1,
            &format!("{subject}  egress:\n  - {rule}\n"),
        )
    };
    let cases: Vec<(String, &str)> = vec![
        (cnp("p", "Admin", 1, "  subject: {namespaces: {}}\n  egres: []\n"), "spec"),
        (cnp("p", "Middle", 1, subject), "spec.tier"),
        (cnp("p", "Admin", 1001, subject), "spec.priority"),
        (cnp("p", "Admin", 1, "  subject: {namespaces: {}, pods: {podSelector: {}}}\n"), "spec.subject"),
        (cnp("p", "Admin", 1, "  subject: {pods: {namespaceSelector: {}}}\n"), "spec.subject.pods.podSelector"),
        (cnp("p", "Admin", 1, "  subject: {namespaces: {matchLabel: {a: b}}}\n"), "spec.subject.namespaces"),
        (cnp("p", "Admin", 1, "  subject: {namespaces: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}}\n"), "spec.subject.namespaces.matchExpressions[0].operator"),
        (rule("{action: Allow, to: [{namespaces: {}}]}"), "spec.egress[0].action"),
        (rule("{action: Accept, to: []}"), "spec.egress[0].to"),
        (rule("{action: Accept}"), "spec.egress[0].to"),
        (rule("{action: Accept, to: [{}]}"), "spec.egress[0].to[0]"),
        (rule("{action: Accept, to: [{namespaces: {}, networks: [10.0.0.0/8]}]}"), "spec.egress[0].to[0]"),
        (rule("{action: Accept, to: [{networks: [10.0.0.0/33]}]}"), "spec.egress[0].to[0].networks[0]"),
        (rule("{action: Accept, to: [{networks: [\"::ffff:10.0.0.0/104\"]}]}"), "spec.egress[0].to[0].networks[0]"),
        (rule("{action: Accept, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}"), "spec.egress[0].to[0].networks[1]"),
        (rule("{action: Accept, to: [{domainNames: [\"*\"]}]}"), "spec.egress[0].to[0].domainNames[0]"),
        (rule("{action: Accept, to: [{domainNames: [\"a.*.io\"]}]}"), "spec.egress[0].to[0].domainNames[0]"),
        (rule("{action: Accept, to: [{domainNames: [localhost]}]}"), "spec.egress[0].to[0].domainNames[0]"),
        (rule("{action: Accept, to: [{namespaces: {}}], protocols: []}"), "spec.egress[0].protocols"),
        (rule("{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}, udp: {destinationPort: {number: 53}}}]}"), "spec.egress[0].protocols[0]"),
        (rule("{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {}}]}"), "spec.egress[0].protocols[0].tcp.destinationPort"),
        (rule("{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 0}}}]}"), "spec.egress[0].protocols[0].tcp.destinationPort.number"),
        (rule("{action: Accept, to: [{namespaces: {}}], protocols: [{udp: {destinationPort: {range: {start: 90, end: 90}}}}]}"), "spec.egress[0].protocols[0].udp.destinationPort.range"),
        (rule("{action: Accept, to: [{namespaces: {}}], protocols: [{sctp: {destinationPort: {number: 1, range: {start: 2, end: 3}}}}]}"), "spec.egress[0].protocols[0].sctp.destinationPort"),
        (rule("{action: Accept, to: [{nodes: {}}], protocols: [{destinationNamedPort: web}]}"), "spec.egress[0]"),
        (rule(&format!("{{name: {}, action: Accept, to: [{{namespaces: {{}}}}]}}", "x".repeat(101))), "spec.egress[0].name"),
        (cnp("p", "Admin", 1, "  subject: {namespaces: {}}\n  ingress:\n  - {action: Accept, from: [{networks: [10.0.0.0/8]}]}\n"), "spec.ingress[0].from[0]"),
        (cnp("P", "Admin", 1, subject), "metadata.name"),
        (
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: ClusterNetworkPolicy\nmetadata: {name: p}\nspec: {}\n".to_string(),
            "apiVersion",
        ),
    ];
    for (policy, field) in cases {
        let (found, reason) = error_field(&policy);
        assert!(
            found == field
                || found.starts_with(&format!("{field}.")) && reason.starts_with("unknown field"),
            "{policy}\nexpected an error at {field}, got {found}: {reason}"
        );
    }
    // What the standard channel accepts: a named port in a rule with networks.
    let fine = rule(
        "{action: Accept, to: [{networks: [10.0.0.0/8]}, {namespaces: {}}], protocols: [{destinationNamedPort: web}]}",
    );
    assert_eq!(
        read_policies("p.yaml", &fine, &Limits::default())
            .unwrap()
            .cluster_network_policies
            .len(),
        1
    );
    // Two policies of one name.
    let twice = cnp("p", "Admin", 1, subject).repeat(2);
    let cluster = read_cluster("cluster.yaml", CLUSTER, &Limits::default()).unwrap();
    let files = read_policies("p.yaml", &twice, &Limits::default()).unwrap();
    match Index::with_options(cluster, &files, Options::default()) {
        Err(Error::Invalid { location, .. }) => assert_eq!(location.field, "metadata.name"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn unknown_field_errors_name_the_field() {
    let policy = cnp(
        "p",
        "Admin",
        1,
        "  subject: {namespaces: {}}\n  egress:\n  - {action: Accept, to: [{namespaces: {}}], protocol: [{tcp: {destinationPort: {number: 80}}}]}\n",
    );
    let (field, reason) = error_field(&policy);
    assert_eq!(field, "spec.egress[0].protocol");
    assert_eq!(
        reason,
        "unknown field `protocol`; did you mean `protocols`?"
    );
}

#[test]
fn domain_patterns_follow_the_crd() {
    use super::DomainPattern;
    for good in [
        "kubernetes.io",
        "*.kubernetes.io",
        "a.b.c.",
        "_x.io",
        "x-y_z.io",
    ] {
        assert!(DomainPattern::parse(good).is_some(), "{good}");
    }
    for bad in [
        "io", "*.io", "*", "-a.io", "a-.io", "a..io", "*.*.io", "a.io..", "a b.io",
    ] {
        assert!(DomainPattern::parse(bad).is_none(), "{bad}");
    }
    let wildcard = DomainPattern::parse("*.kubernetes.io").unwrap();
    assert!(wildcard.matches("www.kubernetes.io"));
    assert!(wildcard.matches("latest.blog.kubernetes.io."));
    assert!(!wildcard.matches("kubernetes.io"));
    assert!(!wildcard.matches("my-kubernetes.io"));
    assert!(!wildcard.matches(".kubernetes.io"));
}

#[test]
fn sets_follow_domain_names_of_accept_rules_only() {
    let policy = |action: &str| {
        format!(
            "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: names}}\nspec:\n  tier: Admin\n  priority: 1\n  subject: {{namespaces: {{}}}}\n  egress:\n  - {{action: {action}, to: [{{domainNames: [\"*.example.com\"]}}]}}\n"
        )
    };
    // An Accept rule's names are part of the sets: every address looked up by one of them.
    let accept = index(&policy("Accept"));
    assert!(!accept.names_not_followed());
    let harry = accept.pod_id("gryffindor", "harry").unwrap();
    let parts = accept.admits(harry, crate::matrix::Direction::Egress);
    let crate::evaluate::Admits::Tiers(parts) = parts else {
        panic!("the tiers decide")
    };
    let address: std::net::IpAddr = "198.51.100.7".parse().unwrap();
    let by = |name: &str| {
        parts.iter().any(|(rule, space)| {
            rule.is_some() && space.contains_named(address, name, Protocol::Tcp, 443)
        })
    };
    assert!(by("www.example.com") && !by("example.com") && !by("www.example.org"));
    // A Deny or Pass rule's are not: verify says so.
    assert!(index(&policy("Deny")).names_not_followed());
    assert!(index(&policy("Pass")).names_not_followed());
}
