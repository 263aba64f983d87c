//! CiliumCIDRGroups: read with the policies, named by `cidrGroupRef` or selected by
//! `cidrGroupSelector` in allows and denies, with `except`; a group no object defines selects
//! nothing; and the sets of every side still agree with the verdicts.

use super::mixed::{MIXED_CLUSTER, compare_sides_of};
use super::*;

/// Two groups: one named `external`, labelled `reach: far`, of two blocks, and one named
/// `near`, labelled `reach: near`.
const GROUPS: &str = r#"
apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: {name: external, labels: {reach: far}}
spec:
  externalCIDRs: [198.51.100.0/24, 203.0.113.0/24]
---
apiVersion: cilium.io/v2
kind: CiliumCIDRGroup
metadata: {name: near, labels: {reach: near}}
spec:
  externalCIDRs: [192.0.2.0/24]
"#;

/// web may reach the groups labelled `far` but 203.0.113.7; db may reach `near` by name and a
/// group no object defines; tool may reach everything but `external`.
const NAMING: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toCIDRSet:
    - cidrGroupSelector: {matchLabels: {reach: far}}
      except: [203.0.113.7/32]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: apps}
spec:
  endpointSelector: {matchLabels: {app: db}}
  egress:
  - toCIDRSet: [{cidrGroupRef: near}, {cidrGroupRef: missing}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: tool, namespace: other}
spec:
  endpointSelector: {matchLabels: {app: tool}}
  egress:
  - toEntities: [all]
  egressDeny:
  - toCIDRSet: [{cidrGroupRef: external}]
"#;

fn indexed(policies: &[&str]) -> Result<Index> {
    let mut files = PolicyFiles::default();
    for (i, text) in policies.iter().enumerate() {
        files.extend([read_policies(
            &format!("{i}.yaml"),
            text,
            &Limits::default(),
        )?]);
    }
    let cluster = read_cluster("cluster.yaml", MIXED_CLUSTER, &Limits::default()).unwrap();
    Index::with_options(cluster, &files, Options::default())
}

#[test]
fn rules_name_and_select_groups_of_the_policy_files() {
    let index = indexed(&[GROUPS, NAMING]).unwrap();
    let allowed = |from: &str, to: &str| explain(&index, from, to, "443/TCP").unwrap().allowed();
    assert!(allowed("apps/web-0", "198.51.100.9"));
    assert!(allowed("apps/web-0", "203.0.113.9"));
    assert!(!allowed("apps/web-0", "203.0.113.7"), "except");
    assert!(!allowed("apps/web-0", "192.0.2.200"), "another group");
    assert!(allowed("apps/db-0", "192.0.2.200"));
    assert!(!allowed("apps/db-0", "198.51.100.9"));
    assert!(!allowed("other/tool", "198.51.100.9"), "denied");
    assert!(allowed("other/tool", "192.0.2.200"));
    // As CIDR rules, the groups select no node (192.0.2.1 is n1's) and no pod.
    assert!(!allowed("apps/db-0", "node/n1"));
    assert!(!allowed("apps/db-0", "apps/web-0"));
    // Without the groups, the rules name nothing.
    let without = indexed(&[NAMING]).unwrap();
    let answer = explain(&without, "apps/web-0", "198.51.100.9", "443/TCP").unwrap();
    assert!(!answer.allowed(), "{answer}");
    assert!(
        explain(&without, "other/tool", "198.51.100.9", "443/TCP")
            .unwrap()
            .allowed()
    );
}

#[test]
fn groups_are_read_as_strictly_as_the_api_server() {
    for (text, field) in [
        (
            GROUPS.replace(
                "externalCIDRs: [198.51.100.0/24",
                "externalCIDR: [198.51.100.0/24",
            ),
            "spec.externalCIDR",
        ),
        (
            GROUPS.replace("198.51.100.0/24", "198.51.100.0"),
            "spec.externalCIDRs[0]",
        ),
        (GROUPS.replace("name: near", "name: Near"), "metadata.name"),
        (
            GROUPS.replace("cilium.io/v2alpha1", "cilium.io/v1"),
            "apiVersion",
        ),
        (
            GROUPS.replace("name: near", "name: external"),
            "metadata.name",
        ),
    ] {
        let error = indexed(&[&text, NAMING]).unwrap_err().to_string();
        assert!(error.contains(field), "{field}: {error}");
    }
    for (rule, field) in [
        ("{cidrGroupRef: near, cidr: 10.0.0.0/8}", "toCIDRSet[0]"),
        ("{cidrGroupRef: Near}", "toCIDRSet[0].cidrGroupRef"),
        (
            "{cidrGroupSelector: {matchLabels: {reach: -x}}}",
            "cidrGroupSelector.matchLabels.reach",
        ),
        (
            "{cidrGroupRef: near, except: [10.0.0.0]}",
            "toCIDRSet[0].except[0]",
        ),
    ] {
        let text = NAMING.replace(
            "[{cidrGroupRef: near}, {cidrGroupRef: missing}]",
            &format!("[{rule}]"),
        );
        let error = indexed(&[GROUPS, &text]).unwrap_err().to_string();
        assert!(error.contains(field), "{field}: {error}");
    }
}

#[test]
fn sets_with_groups_are_exactly_what_the_evaluator_allows() {
    let outcomes = compare_sides_of(
        read_cluster("cluster.yaml", MIXED_CLUSTER, &Limits::default()).unwrap(),
        &format!("{GROUPS}\n---\n{NAMING}"),
        Options::default(),
    );
    assert!(outcomes.values().sum::<usize>() > 5_000, "{outcomes:?}");
}
