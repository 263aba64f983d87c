//! The Cilium agent's options as the cluster's `cilium-config` ConfigMap gives them: each
//! changes the verdicts it should, the defaults hold without it, and the sets of every side
//! still agree with the verdicts under them.

use super::mixed::{MIXED_CLUSTER, compare_every_side, compare_sides};
use super::*;

/// [`MIXED_CLUSTER`] with a `cilium-config` ConfigMap of `data` (YAML flow mapping) in
/// `kube-system`, or none for `None`.
fn cluster(data: Option<&str>) -> Cluster {
    with_agent(MIXED_CLUSTER, data)
}

/// The cluster `cluster` (a dump's YAML) with a `cilium-config` ConfigMap of `data`, or none
/// for `None`.
fn with_agent(cluster: &str, data: Option<&str>) -> Cluster {
    let mut text = cluster.to_string();
    if let Some(data) = data {
        text.push_str(&format!(
            "- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: cilium-config, namespace: kube-system}}, data: {data}}}\n"
        ));
    }
    read_cluster("cluster.yaml", &text, &Limits::default()).unwrap()
}

/// Whether `policies` allow `from` to reach `to` on `port` in [`cluster`] of `data`.
fn allowed(data: Option<&str>, policies: &str, [from, to, port]: [&str; 3]) -> Result<bool> {
    let files = read_policies("policies.yaml", policies, &Limits::default())?;
    let index = Index::with_options(cluster(data), &files, Options::default())?;
    Ok(explain(&index, from, to, port)?.allowed())
}

/// Asserts that `policies` in [`cluster`] of `data` are refused for `question`, with an error
/// that says each of `words` (the field, the option).
#[track_caller]
fn refused(data: Option<&str>, policies: &str, question: [&str; 3], words: &[&str]) {
    let error = allowed(data, policies, question).unwrap_err().to_string();
    assert!(
        words.iter().all(|w| error.contains(w)),
        "{words:?}: {error}"
    );
}

/// [`allowed`], with the answer in words.
fn answered(data: Option<&str>, policies: &str, [from, to, port]: [&str; 3]) -> (bool, String) {
    let files = read_policies("policies.yaml", policies, &Limits::default()).unwrap();
    let index = Index::with_options(cluster(data), &files, Options::default()).unwrap();
    let answer = explain(&index, from, to, port).unwrap();
    (answer.allowed(), answer.to_string())
}

const TO_NODE_BLOCK: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-nodes, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toCIDR: [192.0.2.0/24]
"#;

#[test]
fn policy_cidr_match_mode_nodes_lets_cidr_rules_select_nodes() {
    let question = ["apps/web-1", "node/n1", "10250/TCP"];
    assert!(!allowed(None, TO_NODE_BLOCK, question).unwrap());
    assert!(!allowed(Some("{debug: 'false'}"), TO_NODE_BLOCK, question).unwrap());
    let nodes = Some("{policy-cidr-match-mode: nodes}");
    assert!(allowed(nodes, TO_NODE_BLOCK, question).unwrap());
    // An address of the block that no node has is outside the cluster either way.
    assert!(allowed(None, TO_NODE_BLOCK, ["apps/web-1", "192.0.2.77", "443/TCP"]).unwrap());
}

const FROM_ZONE_A: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: from-zone-a, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromNodes: [{matchLabels: {zone: a}}]
"#;

#[test]
fn node_peers_need_node_selector_labels() {
    let question = ["node/n1", "apps/db-0", "5432/TCP"];
    let words = ["spec.ingress[0].fromNodes", "enable-node-selector-labels"];
    refused(None, FROM_ZONE_A, question, &words);
    let off = Some("{enable-node-selector-labels: 'false'}");
    assert!(allowed(off, FROM_ZONE_A, question).is_err());
    let on = Some("{enable-node-selector-labels: 'true'}");
    assert!(allowed(on, FROM_ZONE_A, question).unwrap());
    assert!(!allowed(on, FROM_ZONE_A, ["apps/web-0", "apps/db-0", "5432/TCP"]).unwrap());
}

const FROM_WEB: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: from-web, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
"#;

#[test]
fn allow_localhost_policy_puts_a_nodes_own_pods_under_policy() {
    // db-0 runs on n2.
    let question = ["node/n2", "apps/db-0", "5432/TCP"];
    assert!(allowed(None, FROM_WEB, question).unwrap());
    assert!(allowed(Some("{allow-localhost: always}"), FROM_WEB, question).unwrap());
    assert!(!allowed(Some("{allow-localhost: policy}"), FROM_WEB, question).unwrap());
    let answer = allowed(
        Some("{allow-localhost: policy}"),
        FROM_WEB,
        ["apps/web-0", "apps/db-0", "5432/TCP"],
    );
    assert!(answer.unwrap());
}

const TO_PROD_CLUSTER: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-prod-db, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toEndpoints: [{matchLabels: {app: db, io.cilium.k8s.policy.cluster: prod}}]
"#;

#[test]
fn cluster_name_is_the_cluster_label_of_every_endpoint() {
    let question = ["apps/web-0", "apps/db-0", "5432/TCP"];
    assert!(!allowed(None, TO_PROD_CLUSTER, question).unwrap());
    assert!(allowed(Some("{cluster-name: prod}"), TO_PROD_CLUSTER, question).unwrap());
}

#[test]
fn the_agents_configuration_makes_cilium_the_default_plugin() {
    // Generic address blocks match pods' addresses; Cilium's match none.
    let policies = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: tool, namespace: other}
spec:
  podSelector: {matchLabels: {app: tool}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.1.0/24}}]
"#;
    let question = ["other/tool", "apps/db-0", "5432/TCP"];
    assert!(allowed(None, policies, question).unwrap());
    assert!(!allowed(Some("{}"), policies, question).unwrap());
}

#[test]
fn configmaps_that_disagree_are_an_error() {
    let mut text = MIXED_CLUSTER.to_string();
    for (namespace, mode) in [("kube-system", "nodes"), ("cilium", "")] {
        text.push_str(&format!(
            "- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: cilium-config, namespace: {namespace}}}, data: {{policy-cidr-match-mode: '{mode}'}}}}\n"
        ));
    }
    let cluster = read_cluster("cluster.yaml", &text, &Limits::default()).unwrap();
    let files = read_policies("policies.yaml", TO_NODE_BLOCK, &Limits::default()).unwrap();
    let error = Index::with_options(cluster, &files, Options::default()).unwrap_err();
    assert!(
        error.to_string().contains("cilium/cilium-config"),
        "{error}"
    );
    // Other ConfigMaps are not the agent's; a bad value of the agent's is refused where read.
    let other = MIXED_CLUSTER.to_string()
        + "- {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: kube-system}, data: {allow-localhost: never}}\n";
    assert!(
        read_cluster("cluster.yaml", &other, &Limits::default())
            .unwrap()
            .cilium_agents
            .is_empty()
    );
    let bad = MIXED_CLUSTER.to_string()
        + "- {apiVersion: v1, kind: ConfigMap, metadata: {name: cilium-config, namespace: kube-system}, data: {allow-localhost: never}}\n";
    let error = read_cluster("cluster.yaml", &bad, &Limits::default()).unwrap_err();
    assert!(
        error.to_string().contains("data.allow-localhost"),
        "{error}"
    );
}

#[test]
fn sets_under_the_agents_options_are_exactly_what_the_evaluator_allows() {
    let data = "{policy-cidr-match-mode: nodes, allow-localhost: policy, cluster-name: prod, enable-node-selector-labels: 'true', enable-host-firewall: 'true', enable-k8s-cluster-network-policy: 'true'}";
    compare_every_side(cluster(Some(data)), Options::default());
    // Without the host firewall, no host policy decides a host's side.
    let outcomes = compare_sides(cluster(Some("{}")), Options::default());
    assert!(
        !outcomes.contains_key(&(None, "host denied")),
        "{outcomes:?}"
    );
    assert!(
        !outcomes.contains_key(&(None, "host allowed")),
        "{outcomes:?}"
    );
    assert!(outcomes.values().sum::<usize>() > 20_000, "{outcomes:?}");
}

#[test]
fn enforcement_always_isolates_every_endpoint_never_enforces_nothing_and_audit_mode_drops_nothing()
{
    // Nothing selects apps/web-1 but a NetworkPolicy of apps/db's ingress.
    let (web_to_db, web_to_web) = (
        ["apps/web-0", "apps/db-0", "5432/TCP"],
        ["apps/web-0", "apps/web-1", "80/TCP"],
    );
    let always = Some("{enable-policy: always}");
    for question in [web_to_db, web_to_web] {
        assert!(explained(Some("{}"), question).0 != (question == web_to_db));
        let (allowed, text) = explained(always, question);
        assert!(!allowed, "{text}");
        assert!(
            text.contains("isolated by the network plugin's enforcement mode")
                && text.contains("note: every pod is in default deny both ways"),
            "{text}"
        );
        let (allowed, text) = explained(Some("{enable-policy: never}"), question);
        assert!(
            allowed && text.contains("note: no policy is enforced"),
            "{text}"
        );
        // Audit mode drops nothing, whatever the enforcement mode, and says which side the
        // policies would drop it at.
        let audit = "the Cilium agent's policy-audit-mode is true";
        for (data, denies) in [
            ("{policy-audit-mode: 'true'}", question == web_to_db),
            ("{policy-audit-mode: '1', enable-policy: always}", true),
        ] {
            let (allowed, text) = explained(Some(data), question);
            assert!(allowed && text.contains(audit), "{text}");
            assert_eq!(
                text.starts_with("allowed (audited: the policies deny it"),
                denies,
                "{text}"
            );
            assert_eq!(
                text.contains("\ningress of apps/db-0: denied"),
                denies && question == web_to_db,
                "{text}"
            );
        }
        let (allowed, text) = explained(Some("{policy-audit-mode: 'false'}"), question);
        assert!(
            allowed != (question == web_to_db) && !text.contains(audit),
            "{text}"
        );
    }
    // What a rule allows still goes through; a node reaches its own pods (allow-localhost).
    let allow = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: web, namespace: apps}\nspec:\n  endpointSelector: {matchLabels: {app: web}}\n  egress: [{toEndpoints: [{}]}]\n  ingress: [{fromEndpoints: [{}]}]\n";
    assert!(allowed(always, allow, web_to_web).unwrap());
    assert!(!allowed(always, allow, ["apps/web-0", "198.51.100.7", "443/TCP"]).unwrap());
    // A node's host is an endpoint under the host firewall only.
    let to_host = ["apps/web-0", "node/n1", "10250/TCP"];
    assert!(allowed(always, allow, to_host).unwrap() == allowed(None, allow, to_host).unwrap());
    let firewall = Some("{enable-policy: always, enable-host-firewall: 'true'}");
    assert!(!allowed(firewall, allow, ["198.51.100.7", "node/n1", "22/TCP"]).unwrap());
    assert!(
        allowed(
            Some("{enable-host-firewall: 'true'}"),
            allow,
            ["198.51.100.7", "node/n1", "22/TCP"]
        )
        .unwrap()
    );
    // The sets agree with the verdicts under it.
    let outcomes = compare_sides(cluster(firewall), Options::default());
    assert!(outcomes.values().sum::<usize>() > 20_000, "{outcomes:?}");
}

const HOST_POLICY: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: zone-a-hosts}
spec:
  nodeSelector: {matchLabels: {zone: a}}
  ingress:
  - fromEntities: [cluster]
"#;

#[test]
fn host_policies_are_enforced_by_the_host_firewall_alone() {
    let question = ["198.51.100.7", "node/n1", "22/TCP"];
    // Without the agent's ConfigMap, a host policy is taken as written for a host firewall.
    assert!(!allowed(None, HOST_POLICY, question).unwrap());
    let on = Some("{enable-host-firewall: 'true'}");
    assert!(!allowed(on, HOST_POLICY, question).unwrap());
    assert!(allowed(on, HOST_POLICY, ["apps/web-1", "node/n1", "22/TCP"]).unwrap());
    // Cilium's default: off, and the host policy is not enforced.
    assert!(allowed(Some("{}"), HOST_POLICY, question).unwrap());
    assert!(
        allowed(
            Some("{enable-host-firewall: 'false'}"),
            HOST_POLICY,
            question
        )
        .unwrap()
    );
}

const DIALECTS: &str = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-web-to-db}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: a}}}
  ingress:
  - {action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: apps}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
"#;

/// The answer and its notes.
fn explained(data: Option<&str>, [from, to, port]: [&str; 3]) -> (bool, String) {
    let files = read_policies("policies.yaml", DIALECTS, &Limits::default()).unwrap();
    let options = Options {
        network_plugin: Some(NetworkPlugin::Cilium),
        ..Options::default()
    };
    let index = Index::with_options(cluster(data), &files, options).unwrap();
    let answer = explain(&index, from, to, port).unwrap();
    // The JSON says the same.
    let json: serde_json::Value = serde_json::from_str(&answer.to_json()).unwrap();
    assert_eq!(json["allowed"], answer.allowed());
    assert_eq!(json.get("audited").is_some(), answer.audited());
    assert!(!answer.audited() || json["audited"] == true);
    (answer.allowed(), answer.to_string())
}

#[test]
fn a_dialect_the_agent_does_not_enforce_is_left_out_and_said_so() {
    let web = ["apps/web-0", "apps/db-0", "5432/TCP"];
    let tool = ["other/tool", "apps/db-0", "5432/TCP"];
    // Without the ConfigMap, every policy given is enforced.
    let (allowed, text) = explained(None, web);
    assert!(
        !allowed && text.contains("ClusterNetworkPolicy no-web-to-db"),
        "{text}"
    );
    assert!(!text.contains("note:"), "{text}");
    // An agent without enable-k8s-cluster-network-policy enforces no ClusterNetworkPolicy.
    let (allowed, text) = explained(Some("{}"), web);
    assert!(!allowed && text.contains("NetworkPolicy apps/db"), "{text}");
    assert!(
        text.contains("note: ClusterNetworkPolicies are not enforced: the Cilium agent's enable-k8s-cluster-network-policy is not true (ConfigMap kube-system/cilium-config)"),
        "{text}"
    );
    let on = Some("{enable-k8s-cluster-network-policy: 'true'}");
    assert!(
        explained(on, web)
            .1
            .contains("ClusterNetworkPolicy no-web-to-db")
    );
    // Nor, with enable-k8s-networkpolicy false, any NetworkPolicy.
    assert!(!explained(on, tool).0);
    let off =
        Some("{enable-k8s-cluster-network-policy: 'true', enable-k8s-networkpolicy: 'false'}");
    let (allowed, text) = explained(off, tool);
    assert!(
        allowed && text.contains("note: NetworkPolicies are not enforced"),
        "{text}"
    );
}

/// Whether `policies` allow the connection `question` in `cluster` for no particular plugin
/// and, with the agent's `data`, on Cilium.
fn generic_and_cilium(cluster: &str, policies: &str, data: &str, question: [&str; 3]) -> [bool; 2] {
    let files = read_policies("policies.yaml", policies, &Limits::default()).unwrap();
    let [from, to, port] = question;
    [None, Some(data)].map(|data| {
        let index = Index::with_options(with_agent(cluster, data), &files, Options::default());
        let index = index.unwrap();
        explain(&index, from, to, port).unwrap().allowed()
    })
}

#[test]
fn on_cilium_network_policies_select_the_labels_of_endpoints() {
    let web_to_db = ["apps/web-0", "apps/db-0", "5432/TCP"];
    // A peer on the cluster label, as Cilium's connectivity tests write them: no pod carries
    // it in the API server, every endpoint carries it in Cilium.
    let to_cluster = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: apps}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}, matchExpressions: [{key: io.cilium.k8s.policy.cluster, operator: Exists}]}}]
"#;
    let result = generic_and_cilium(MIXED_CLUSTER, to_cluster, "{}", web_to_db);
    assert_eq!(result, [false, true]);
    // A subject by service account.
    let by_account = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ag, namespace: dynatrace}
spec:
  podSelector: {matchLabels: {io.cilium.k8s.policy.serviceaccount: ag}}
  policyTypes: [Ingress]
"#;
    let to_ag = ["apps/web-0", "dynatrace/ag-0", "9999/TCP"];
    let result = generic_and_cilium(MIXED_CLUSTER, by_account, "{}", to_ag);
    assert_eq!(result, [true, false]);
    // A label the filter leaves out selects nothing on Cilium.
    let hashed = MIXED_CLUSTER.replace(
        "labels: {app: db}",
        "labels: {app: db, pod-template-hash: 5d8f}",
    );
    let to_hash = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: apps}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {pod-template-hash: 5d8f}}}]
"#;
    assert_eq!(
        generic_and_cilium(&hashed, to_hash, "{}", web_to_db),
        [true, false]
    );
    // A selector of the policy's own namespace is made so, whatever namespace label it names.
    let own = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: apps}
spec:
  podSelector: {matchLabels: {app: web, io.kubernetes.pod.namespace: other}}
  policyTypes: [Egress]
"#;
    assert_eq!(
        generic_and_cilium(MIXED_CLUSTER, own, "{}", web_to_db),
        [true, false]
    );
}

#[test]
fn on_cilium_cluster_network_policies_select_the_labels_of_endpoints() {
    let policies = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: outside-the-cluster}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress:
  - action: Deny
    from: [{pods: {namespaceSelector: {}, podSelector: {matchExpressions: [{key: io.cilium.k8s.policy.cluster, operator: DoesNotExist}]}}}]
"#;
    let data = "{enable-k8s-cluster-network-policy: 'true'}";
    let web_to_db = ["apps/web-0", "apps/db-0", "5432/TCP"];
    assert_eq!(
        generic_and_cilium(MIXED_CLUSTER, policies, data, web_to_db),
        [false, true]
    );
}

#[test]
fn a_pod_cannot_claim_labels_cilium_sets() {
    // web-0 claims dynatrace's namespace label and ag's service account; Cilium sets both.
    let claiming = MIXED_CLUSTER.replace(
        "labels: {app: web, env: prod}",
        "labels: {app: web, env: prod, io.kubernetes.pod.namespace: dynatrace, io.cilium.k8s.policy.serviceaccount: ag}",
    );
    let policies = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: ag, namespace: dynatrace}
spec:
  endpointSelector: {matchLabels: {app: ag}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: from-ag-account}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {io.cilium.k8s.policy.serviceaccount: ag}}]
"#;
    let files = read_policies("policies.yaml", policies, &Limits::default()).unwrap();
    let cluster = read_cluster("cluster.yaml", &claiming, &Limits::default()).unwrap();
    let index = Index::with_options(cluster, &files, Options::default()).unwrap();
    for question in [
        ["apps/web-0", "dynatrace/ag-0", "9999/TCP"],
        ["apps/web-0", "apps/db-0", "5432/TCP"],
    ] {
        let [from, to, port] = question;
        assert!(
            !explain(&index, from, to, port).unwrap().allowed(),
            "{question:?}"
        );
    }
    // The rule admits the pods that are dynatrace's and ag's.
    assert!(
        explain(&index, "dynatrace/ag-0", "apps/db-0", "5432/TCP")
            .unwrap()
            .allowed()
    );
}

#[test]
fn cluster_network_policies_the_agent_refuses_are_refused() {
    let nodes = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: to-nodes}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {action: Accept, to: [{nodes: {matchLabels: {zone: a}}}]}
"#;
    let on = "{enable-k8s-cluster-network-policy: 'true'}";
    let question = ["apps/web-1", "node/n1", "10250/TCP"];
    let words = ["spec.egress[0].to[0].nodes", "enable-node-selector-labels"];
    refused(Some(on), nodes, question, &words);
    let labels = "{enable-k8s-cluster-network-policy: 'true', enable-node-selector-labels: 'true'}";
    assert!(allowed(Some(labels), nodes, question).unwrap());
    // Without the ConfigMap, the policies are taken as enforced as given.
    assert!(allowed(None, nodes, question).is_ok());
    // Cilium follows domainNames in Accept rules only; the API leaves other rules to it.
    let deny = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-names}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {action: Deny, to: [{domainNames: [api.example.com]}]}
"#;
    let question = ["apps/web-1", "api.example.com=198.51.100.7", "443/TCP"];
    refused(
        Some(on),
        deny,
        question,
        &["spec.egress[0].to[0].domainNames"],
    );
    assert!(!allowed(None, deny, question).unwrap(), "generic");
}

#[test]
fn a_pods_deny_rules_beat_its_nodes_local_access() {
    // db-0 runs on n2. The agent lets a node reach its own pods by an allow rule of its own,
    // which a deny rule of the pod beats.
    let policies = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
  ingressDeny:
  - fromEntities: [host]
    toPorts: [{ports: [{port: "5432"}]}]
"#;
    let own = ["node/n2", "apps/db-0", "5432/TCP"];
    let (allowed, text) = answered(None, policies, own);
    assert!(!allowed && text.contains("ingressDeny[0]"), "{text}");
    // Other ports of the node's own pod are still its local traffic.
    assert!(self::allowed(None, policies, ["node/n2", "apps/db-0", "9090/UDP"]).unwrap());
    // Without the deny rule, the node's access is local traffic.
    let without = policies.split("  ingressDeny:").next().unwrap();
    assert!(self::allowed(None, without, own).unwrap());
}

#[test]
fn without_the_l7_proxy_policies_with_l7_rules_are_refused() {
    let dns = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toEndpoints: [{matchLabels: {k8s-app: kube-dns, k8s:io.kubernetes.pod.namespace: kube-system}}]
    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]
"#;
    let question = ["apps/web-0", "kube-system/coredns-0", "53/UDP"];
    let off = Some("{enable-l7-proxy: 'false'}");
    let words = ["spec.egress[0].toPorts[0].rules", "enable-l7-proxy"];
    refused(off, dns, question, &words);
    assert!(allowed(Some("{enable-l7-proxy: 'true'}"), dns, question).unwrap());
    assert!(allowed(None, dns, question).unwrap());
    // Nor are ClusterNetworkPolicies with domainNames enforced.
    let names = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: names}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {action: Accept, to: [{domainNames: [api.example.com]}]}
"#;
    let on = "{enable-k8s-cluster-network-policy: 'true', enable-l7-proxy: 'false'}";
    let question = ["apps/web-1", "api.example.com=198.51.100.7", "443/TCP"];
    refused(
        Some(on),
        names,
        question,
        &["spec.egress[0].to[0].domainNames"],
    );
}

#[test]
fn on_cilium_a_domain_names_accept_rule_accepts_the_lookups_too() {
    let policies = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: names}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: a}}}
  egress:
  - {action: Accept, to: [{domainNames: [api.example.com]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: nothing-else}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {action: Deny, to: [{networks: [0.0.0.0/0]}, {namespaces: {}}]}
"#;
    let data = "{enable-k8s-cluster-network-policy: 'true'}";
    let dns = ["apps/web-1", "kube-system/coredns-0", "53/UDP"];
    let (answer, text) = answered(Some(data), policies, dns);
    assert!(
        answer && text.contains("ClusterNetworkPolicy names (priority 10) spec.egress[0]: Accept"),
        "{text}"
    );
    assert_eq!(
        generic_and_cilium(MIXED_CLUSTER, policies, data, dns),
        [false, true]
    );
    // Only the ports named dns and dns-tcp, and only the rule's subjects.
    let other = ["apps/web-1", "kube-system/coredns-0", "9153/TCP"];
    assert_eq!(
        generic_and_cilium(MIXED_CLUSTER, policies, data, other),
        [false, false]
    );
    let outside = ["other/tool", "kube-system/coredns-0", "53/UDP"];
    assert_eq!(
        generic_and_cilium(MIXED_CLUSTER, policies, data, outside),
        [false, false]
    );
}

#[test]
fn ip_protocols_without_ports_admit_no_connection_and_a_port_left_out_needs_the_option() {
    // A host policy of the extended protocols' kind: VRRP, then TCP 6443.
    let policies = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: keepalived}
spec:
  nodeSelector: {}
  egress:
  - toEntities: [world]
    toPorts: [{ports: [{protocol: VRRP}, {port: '0', protocol: IGMP}, {port: '6443', protocol: TCP}]}]
"#;
    let on = Some("{enable-host-firewall: 'true', enable-extended-ip-protocols: 'true'}");
    let question = |port| ["node/n1", "198.51.100.7", port];
    assert!(allowed(on, policies, question("6443/TCP")).unwrap());
    for port in ["112/TCP", "443/TCP", "1/UDP", "2/SCTP"] {
        assert!(!allowed(on, policies, question(port)).unwrap(), "{port}");
    }
    // Without the option the agent refuses the port left out, and so does the evaluator.
    for data in [Some("{enable-host-firewall: 'true'}"), None] {
        let words = [
            "spec.egress[0].toPorts[0].ports[0].port",
            "enable-extended-ip-protocols",
        ];
        refused(data, policies, question("6443/TCP"), &words);
    }
    // Port 0 needs no option; another port is refused for a protocol without ports.
    let zero = policies.replace("{protocol: VRRP}, ", "");
    assert!(
        allowed(
            Some("{enable-host-firewall: 'true'}"),
            &zero,
            question("6443/TCP")
        )
        .unwrap()
    );
    let numbered = policies.replace("{protocol: VRRP}", "{port: '112', protocol: VRRP}");
    let words = ["ports[0].port", "empty or 0"];
    refused(on, &numbered, question("6443/TCP"), &words);
}
