//! The connectivity diff on pairs of policy sets whose differences are known: a capability
//! added, an operator upgrade, a lock refresh, a hand-widened rule, a change of dialect.

use std::path::Path;

use serde_json::Value;

use super::{Diff, diff};
use crate::GenerateOptions;
use crate::ci::Format;
use crate::cluster::ClusterProfile;
use crate::evaluate::{Index, NetworkPlugin, Options, PolicyFiles, read_policies};
use crate::flavor::Flavor;
use crate::input::{ParseOptions, parse_into};
use crate::matrix::Matrix;
use crate::resolve::{Addresses, Fallback, FixedHosts, resolve_known};
use crate::resources::Inputs;
use crate::source::Limits;
use crate::verify::model_cluster;
use crate::verify::place::Places;

/// The inputs of a fixture, as its files hold them, with the DynaKube's text replaced where
/// a test changes it.
struct Scene {
    dynakube: String,
    cluster: String,
    hosts: String,
}

impl Scene {
    /// The fixture `name`'s `dynakube.yaml`, `cluster.yaml` and `hosts.yaml`.
    fn of(name: &str) -> Scene {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(name);
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
        Scene {
            dynakube: read("dynakube.yaml"),
            cluster: read("cluster.yaml"),
            hosts: read("hosts.yaml"),
        }
    }

    /// The matrix, the addresses of its hosts and the policies of `flavor` as objects.
    fn generate(&self, flavor: Flavor) -> (Matrix, Addresses, Vec<Value>) {
        let mut inputs = Inputs::default();
        let options = ParseOptions::default();
        parse_into(&mut inputs, "dynakube.yaml", &self.dynakube, &options).unwrap();
        let profile = ClusterProfile::parse("cluster.yaml", &self.cluster).unwrap();
        let hosts = FixedHosts::parse("hosts.yaml", &self.hosts).unwrap();
        let options = GenerateOptions {
            flavor,
            ..GenerateOptions::default()
        };
        let generated = crate::generate(&inputs, &profile, &options, &hosts).unwrap();
        let addresses = resolve_known(
            &generated.matrix,
            &hosts,
            Fallback::Fail,
            &Default::default(),
        )
        .unwrap();
        let objects = generated.objects();
        (generated.matrix, addresses, objects)
    }
}

/// `objects` read back as a policy file.
fn policies(objects: &[Value]) -> PolicyFiles {
    let text = (objects.iter())
        .map(|object| serde_yaml::to_string(object).unwrap())
        .collect::<Vec<_>>()
        .join("---\n");
    read_policies("policies.yaml", &text, &Limits::default()).unwrap()
}

/// The object of the policy `name` in `objects`.
fn named<'a>(objects: &'a mut [Value], name: &str) -> &'a mut Value {
    (objects.iter_mut())
        .find(|object| object["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no policy {name}"))
}

/// The diff of `old` to `new` in the model cluster of `matrix`.
fn compare(matrix: &Matrix, addresses: &Addresses, old: &[Value], new: &[Value]) -> Diff {
    let (old, new) = (&policies(old), &policies(new));
    let cluster = model_cluster(matrix);
    diff(
        matrix,
        &cluster,
        ("old", old),
        ("new", new),
        Options::default(),
        addresses,
    )
    .unwrap()
}

/// The rows whose connections change verdict when decided one by one, as `rows` names them:
/// on the indexes the diff builds (Cilium when either set holds its kinds).
fn probed(matrix: &Matrix, addresses: &Addresses, old: &[Value], new: &[Value]) -> Vec<String> {
    let (old, new) = (&policies(old), &policies(new));
    let cilium = !(old.cilium_policies.is_empty() && new.cilium_policies.is_empty());
    let options = Options {
        network_plugin: Some(if cilium {
            NetworkPlugin::Cilium
        } else {
            NetworkPlugin::Generic
        }),
        ..Options::default()
    };
    let index =
        |files: &PolicyFiles| Index::with_options(model_cluster(matrix), files, options).unwrap();
    let (old, new) = (index(old), index(new));
    let found = Diff {
        rows: super::one_by_one(
            matrix,
            &Places::new(matrix, &old, addresses).one_by_one(),
            &Places::new(matrix, &new, addresses).one_by_one(),
        ),
        ..super::compare(matrix, ("old", &old), ("new", &new), addresses)
    };
    rows(&found)
}

/// The ids of the rows that gained (`+`) or lost (`-`) connections: `+I12`.
fn rows(diff: &Diff) -> Vec<String> {
    let mut ids = Vec::new();
    for row in &diff.rows {
        if !row.gained.is_empty() {
            ids.push(format!("+{}", row.id));
        }
        if !row.lost.is_empty() {
            ids.push(format!("-{}", row.id));
        }
    }
    ids
}

/// The ActiveGate of the fixture with the metrics-ingest capability or without.
fn activegate(metrics_ingest: bool) -> Scene {
    let scene = Scene::of("a-cloud-native-network-zone");
    let capabilities = if metrics_ingest {
        "[routing, kubernetes-monitoring, metrics-ingest]"
    } else {
        "[routing, kubernetes-monitoring]"
    };
    Scene {
        dynakube: (scene.dynakube).replace("[routing, kubernetes-monitoring]", capabilities),
        ..scene
    }
}

#[test]
fn a_capability_added_is_its_row_newly_allowed() {
    let (_, _, before) = activegate(false).generate(Flavor::Kubernetes);
    let (matrix, addresses, after) = activegate(true).generate(Flavor::Kubernetes);
    let found = compare(&matrix, &addresses, &before, &after);
    assert!(found.exact);
    assert_eq!(rows(&found), ["+I12"]);
    assert!(found.widened.is_empty() && found.narrowed.is_empty());
    let row = &found.rows[0];
    assert_eq!(row.gained, ["9998/TCP"]);
    let change = &row.allowed[0];
    assert_eq!(
        (change.workload.as_str(), change.direction),
        ("dynakube-activegate", "ingress")
    );
    assert_eq!(change.pods, ["dynatrace/dynakube-activegate-0"]);
    assert_eq!(change.peers.len(), 1);
    assert_eq!(change.peers[0].pods, ["apps-dynakube/app-0"]);
    assert_eq!(
        change.by,
        [Some(
            "dynatrace/dynakube-activegate-ingress-injected-apps spec.ingress[0]".into()
        )]
    );
    let text = found.render(Format::Text, false);
    assert!(
        text.starts_with(
            "Rows of the matrix:\n  +I12 dynakube-injected-apps -> dynakube-activegate 9998/TCP: newly allowed\n      from pods apps-dynakube/app-0 to dynatrace/dynakube-activegate-0 on 9998/TCP\n"
        ),
        "{text}"
    );
    assert!(found.fails(false) && found.fails(true));
    // Decided connection by connection, the same row changes.
    assert_eq!(probed(&matrix, &addresses, &before, &after), ["+I12"]);
    let json: Value = serde_json::from_str(&found.render(Format::Json, true)).unwrap();
    assert_eq!(
        (&json["changed"], &json["fails"]),
        (&true.into(), &true.into())
    );

    // Taken away again, over the matrix that still has the row: no longer allowed, which
    // `--fail-on widened` lets pass.
    let back = compare(&matrix, &addresses, &after, &before);
    assert_eq!(rows(&back), ["-I12"]);
    assert!(back.fails(false) && !back.fails(true));
    let text = back.render(Format::Text, true);
    assert!(
        text.contains(
            "  -I12 dynakube-injected-apps -> dynakube-activegate 9998/TCP: no longer allowed\n"
        ),
        "{text}"
    );
}

#[test]
fn the_same_policies_are_no_change() {
    let (matrix, addresses, policies) = activegate(true).generate(Flavor::Kubernetes);
    let found = compare(&matrix, &addresses, &policies, &policies);
    assert!(!found.fails(false) && !found.fails(true));
    assert!(
        found
            .render(Format::Text, false)
            .ends_with("old -> new: unchanged; both allow the same connections\n")
    );
}

#[test]
fn an_operator_upgrade_names_the_rows_of_the_new_release() {
    let (_, _, before) = Scene::of("release-1.9").generate(Flavor::Kubernetes);
    let (matrix, addresses, after) = Scene::of("release-1.10").generate(Flavor::Kubernetes);
    let found = compare(&matrix, &addresses, &before, &after);
    // The SQL extension executor (its DNS in E1, E22) is new in 1.10; every other row was
    // allowed by the policies of 1.9 already. So are its probes and the collector's (I15,
    // I16), from the kubelet on the pod's own node, which NetworkPolicies cannot block.
    assert_eq!(rows(&found), ["+E1", "+E22"]);
    assert_eq!(probed(&matrix, &addresses, &before, &after), rows(&found));
    assert!(found.widened.is_empty() && found.narrowed.is_empty());
    let e1 = &found.rows[0];
    assert_eq!(e1.allowed[0].workload, "dynakube-sql-ext-exec");
}

#[test]
fn a_lock_refresh_moves_the_rows_to_the_new_addresses() {
    let scene = Scene::of("a-cloud-native-network-zone");
    let (_, _, before) = scene.generate(Flavor::Kubernetes);
    let refreshed = Scene {
        hosts: scene.hosts.replace("203.0.113.11", "203.0.113.12"),
        ..scene
    };
    let (matrix, addresses, after) = refreshed.generate(Flavor::Kubernetes);
    let found = compare(&matrix, &addresses, &before, &after);
    assert_eq!(rows(&found), ["+E2", "+E5", "+E8"]);
    let peers = |changes: &[super::Change]| -> Vec<String> {
        (changes.iter().flat_map(|c| &c.peers))
            .flat_map(|p| p.addresses.iter().map(ToString::to_string))
            .collect()
    };
    for row in &found.rows {
        assert_eq!(peers(&row.allowed), ["203.0.113.12/32"], "{}", row.id);
    }
    // The address the tenant left is needed by no row now.
    assert!(found.widened.is_empty());
    assert_eq!(peers(&found.narrowed), ["203.0.113.11/32"; 3]);
    let text = found.render(Format::Text, false);
    assert!(
        text.contains("  +E2 dynatrace-operator -> abc12345.live.dynatrace.com 443/TCP: newly allowed\n      from dynatrace/dynatrace-operator-0 to 203.0.113.12/32 on 443/TCP\n"),
        "{text}"
    );
}

#[test]
fn a_hand_widened_rule_comes_first() {
    let (matrix, addresses, before) = activegate(false).generate(Flavor::Kubernetes);
    let mut after = before.clone();
    let policy = named(&mut after, "dynakube-activegate-ingress-injected-apps");
    policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = serde_json::json!({});
    policy["spec"]["ingress"][0]["ports"][0] = serde_json::json!({"port": 9000, "endPort": 9999});
    let found = compare(&matrix, &addresses, &before, &after);
    // The injected applications gain 9000-9998 beside 9999, which no row needs; pods of
    // every other namespace but the operator's gain 9000-9999.
    assert!(found.rows.is_empty(), "{:?}", found.rows);
    assert!(found.narrowed.is_empty());
    assert_eq!(found.widened.len(), 1);
    let widened = &found.widened[0];
    assert_eq!(
        widened.by,
        [Some(
            "dynatrace/dynakube-activegate-ingress-injected-apps spec.ingress[0]".into()
        )]
    );
    let peers: Vec<(Vec<String>, Vec<String>)> = (widened.peers.iter())
        .map(|p| (p.pods.clone(), p.ports.clone()))
        .collect();
    let others: Vec<String> = [
        "kube-system/coredns-0",
        "monitoring/prometheus-0",
        "unrelated/unrelated-0",
    ]
    .map(String::from)
    .into();
    assert!(
        peers.contains(&(
            vec!["apps-dynakube/app-0".into()],
            vec!["9000-9998/TCP".into()]
        )),
        "{peers:?}"
    );
    assert!(
        peers
            .iter()
            .any(|(pods, ports)| ports == &["9000-9999/TCP"]
                && others.iter().all(|o| pods.contains(o))),
        "{peers:?}"
    );
    let text = found.render(Format::Text, true);
    assert!(
        text.starts_with("Newly allowed, needed by no row of the matrix:\n  + ingress of dynakube-activegate (dynatrace/dynakube-activegate-0), admitted by dynatrace/dynakube-activegate-ingress-injected-apps spec.ingress[0]:\n"),
        "{text}"
    );
    assert!(found.fails(true));
    let markdown = found.render(Format::Markdown, true);
    assert!(
        markdown.starts_with("### ❌ dynakube-netpol diff: changed\n\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("#### Newly allowed, needed by no row\n\n- **+** ingress of dynakube-activegate (`dynatrace/dynakube-activegate-0`), admitted by `dynatrace/dynakube-activegate-ingress-injected-apps spec.ingress[0]`:\n"),
        "{markdown}"
    );
}

/// The policies of `rendered` as objects.
fn objects(rendered: &crate::Rendered) -> Vec<Value> {
    rendered
        .policies
        .iter()
        .map(crate::Policy::to_json)
        .collect()
}

/// A fixture's name, matrix and addresses, and its policies in the Kubernetes and the Cilium
/// flavor.
type Flavors = (String, Matrix, Addresses, Vec<Value>, Vec<Value>);

/// Every fixture's matrix and addresses, with Cilium's `policy-cidr-match-mode: nodes` as
/// `cidr_match_nodes` says, and its policies in the Kubernetes and the Cilium flavor.
fn both_flavors(cidr_match_nodes: bool) -> Vec<Flavors> {
    (crate::fixture_invariants::fixtures().into_iter())
        .map(|mut fixture| {
            fixture.matrix.profile.cilium.cidr_match_nodes = cidr_match_nodes;
            let (matrix, addresses) = (fixture.matrix, fixture.addresses);
            let kubernetes = objects(&crate::render::kubernetes::render(&matrix, &addresses));
            let cilium = objects(&crate::render::cilium::render(&matrix, &addresses));
            (fixture.name, matrix, addresses, kubernetes, cilium)
        })
        .collect()
}

#[test]
fn a_dialect_change_with_the_same_reachability_is_no_change() {
    // Where Cilium's address blocks match nodes, as the Kubernetes flavor's node blocks need:
    // in every fixture whose profile names the nodes' blocks (zones, external hosts by address
    // and by name, node-local DNS, proxies, the releases), the two flavors allow the same
    // connections, compared as sets.
    let fixtures = both_flavors(true);
    let (mut same, mut wider) = (0, 0);
    for (name, matrix, addresses, kubernetes, cilium) in &fixtures {
        let profile = &matrix.profile;
        if profile.node_cidrs.is_empty() || profile.control_plane_cidrs.is_empty() {
            // Without them (or the control plane's), the Kubernetes flavor admits every
            // address for the nodes (or kube-apiserver's calls), the Cilium flavor the nodes
            // (or kube-apiserver) alone: what no row needs is no longer allowed.
            let found = compare(matrix, addresses, kubernetes, cilium);
            assert!(found.exact && found.rows.is_empty() && found.widened.is_empty());
            assert!(!found.narrowed.is_empty() && !found.fails(true), "{name}");
            wider += 1;
            continue;
        }
        if matrix.profile.cilium.control_plane_host_network {
            // kube-apiserver's calls to the webhook come from its nodes' host network, which
            // the Cilium flavor can only admit as every node's (its note says so).
            let found = compare(matrix, addresses, kubernetes, cilium);
            assert!(found.rows.is_empty() && found.narrowed.is_empty(), "{name}");
            let widened: Vec<(&str, &str)> = (found.widened.iter())
                .map(|c| (c.workload.as_str(), c.direction))
                .collect();
            assert_eq!(widened, [("dynatrace-webhook", "ingress")], "{name}");
            assert_eq!(found.widened[0].peers[0].ports, ["8443/TCP"], "{name}");
            continue;
        }
        let below = |flow: &crate::matrix::Flow| {
            matches!(
                flow.to,
                crate::matrix::Endpoint::HostPattern(crate::values::HostPattern::Below(_))
            )
        };
        if matrix.flows.iter().any(below) {
            // The host pattern `*.internal.example.com` covers names of any depth; Cilium's
            // `matchPattern` of the same text matches one label only: deeper names are no
            // longer allowed, at the pattern's addresses.
            let found = compare(matrix, addresses, kubernetes, cilium);
            assert_eq!(rows(&found), ["-E26"], "{name}");
            assert!(found.widened.is_empty() && found.narrowed.is_empty());
            let peers = &found.rows[0].denied[0].peers[0];
            assert_eq!(
                peers.names,
                ["**.internal.example.com except *.internal.example.com"]
            );
            assert_eq!(peers.addresses[0].cidr, "198.51.100.128/25");
            continue;
        }
        same += 1;
        for (old, new) in [(kubernetes, cilium), (cilium, kubernetes)] {
            let found = compare(matrix, addresses, old, new);
            assert!(found.exact, "{name}");
            assert!(
                !found.changed(),
                "{name}: {}",
                found.render(Format::Text, false)
            );
            let text = found.render(Format::Text, false);
            assert!(
                text.ends_with("old -> new: unchanged; both allow the same connections\n"),
                "{name}: {text}"
            );
        }
    }
    assert!(same > 20 && wider > 0, "{same} {wider}");
}

#[test]
fn on_cilium_s_defaults_the_node_blocks_of_network_policies_reach_no_node() {
    // Cilium's address blocks match no node by default: the Kubernetes flavor's rules for
    // nodes and for kube-apiserver on the nodes admit none of them, while the Cilium flavor's
    // entities do. The diff names exactly those rows, with the nodes' addresses (the model's
    // own node, whose pods Cilium lets its node reach anyway, aside).
    let fixtures = both_flavors(false);
    let (_, matrix, addresses, kubernetes, cilium) = (fixtures.iter())
        .find(|(name, ..)| name == "a-cloud-native-network-zone")
        .unwrap();
    let found = compare(matrix, addresses, kubernetes, cilium);
    assert!(found.exact);
    assert!(found.widened.is_empty() && found.narrowed.is_empty());
    assert_eq!(
        rows(&found),
        ["+I4", "+E3", "+E3", "+E4", "+E7", "+E9", "+E11"]
    );
    let addresses_of = |row: &super::RowChange| -> Vec<String> {
        (row.allowed.iter().flat_map(|c| &c.peers))
            .flat_map(|p| p.addresses.iter().map(ToString::to_string))
            .collect()
    };
    for row in &found.rows {
        let expected = match row.id {
            "E11" => "192.0.2.0/24 (except 192.0.2.1/32)",
            _ => "192.0.2.10/32",
        };
        assert_eq!(addresses_of(row), [expected], "{}", row.id);
    }
    // The other way, the same rows lose them.
    let back = compare(matrix, addresses, cilium, kubernetes);
    let lost: Vec<String> = rows(&back).iter().map(|r| r.replace('-', "+")).collect();
    assert_eq!(lost, rows(&found));
}

/// `objects` with `rule` (YAML of one list item) appended to `section` of the policy `name`.
fn with_rule(objects: &[Value], name: &str, section: &str, rule: &str) -> Vec<Value> {
    let mut objects = objects.to_vec();
    let rule: Value = serde_yaml::from_str(rule).unwrap();
    let policy = named(&mut objects, name);
    policy["spec"][section].as_array_mut().unwrap().push(rule);
    objects
}

#[test]
fn a_hand_widened_cilium_rule_is_exactly_its_change() {
    use crate::evaluate::sets::AddressSet;
    let fixtures = both_flavors(false);
    let (_, matrix, addresses, _, cilium) = (fixtures.iter())
        .find(|(name, ..)| name == "a-cloud-native-network-zone")
        .unwrap();
    let endpoints = "dynakube-activegate-egress-communication-endpoints";
    let only = |found: &Diff| -> (Vec<String>, Vec<String>, Vec<Option<String>>) {
        assert!(found.exact);
        assert!(
            found.rows.is_empty() && found.narrowed.is_empty(),
            "{found:?}"
        );
        assert_eq!(found.widened.len(), 1, "{found:?}");
        let change = &found.widened[0];
        let addresses = (change.peers.iter())
            .flat_map(|p| p.addresses.iter().map(ToString::to_string))
            .collect();
        let ports = change.peers.iter().flat_map(|p| p.ports.clone()).collect();
        (addresses, ports, change.by.clone())
    };

    // `toEntities: [world]` on 443: every address outside the cluster but those the matrix
    // needs (the tenant's; kube-apiserver's Service, which Cilium translates before its
    // policies decide, is no destination), not the nodes' block.
    let world = "{toEntities: [world], toPorts: [{ports: [{port: '443', protocol: TCP}]}]}";
    let found = compare(
        matrix,
        addresses,
        cilium,
        &with_rule(cilium, endpoints, "egress", world),
    );
    let outside = AddressSet::all()
        .difference(&AddressSet::net(&"192.0.2.0/24".parse().unwrap()))
        .difference(&AddressSet::net(&"10.96.0.1/32".parse().unwrap()))
        .difference(&AddressSet::addresses(
            ["203.0.113.10", "203.0.113.11", "2001:db8:10::10"].map(|a| a.parse().unwrap()),
        ));
    let blocks: Vec<String> = (outside.blocks().iter())
        .map(|b| {
            super::super::report::AddressBlock {
                cidr: b.net.to_string(),
                except: b.except.iter().map(ToString::to_string).collect(),
            }
            .to_string()
        })
        .collect();
    let rule = format!("CiliumNetworkPolicy dynatrace/{endpoints} spec.egress[1]");
    assert_eq!(
        only(&found),
        (blocks, vec!["443/TCP".into()], vec![Some(rule)])
    );

    // `fromEntities: [remote-node]` on the ActiveGate's 9999: every other node, of the block.
    let ingress = "dynakube-activegate-ingress-injected-apps";
    let nodes =
        "{fromEntities: [remote-node], toPorts: [{ports: [{port: '9998', protocol: TCP}]}]}";
    let found = compare(
        matrix,
        addresses,
        cilium,
        &with_rule(cilium, ingress, "ingress", nodes),
    );
    let rule = format!("CiliumNetworkPolicy dynatrace/{ingress} spec.ingress[1]");
    assert_eq!(
        only(&found),
        (
            vec!["192.0.2.0/24 (except 192.0.2.1/32)".into()],
            vec!["9998/TCP".into()],
            vec![Some(rule)]
        )
    );

    // kube-apiserver on every port from 443 to 8443, which the matrix needs on 443 and 6443.
    let api = "dynakube-activegate-egress-kube-apiserver";
    let mut ranged = cilium.clone();
    named(&mut ranged, api)["spec"]["egress"][0]["toPorts"][0]["ports"][0]["endPort"] = 8443.into();
    let found = compare(matrix, addresses, cilium, &ranged);
    let rule = format!("CiliumNetworkPolicy dynatrace/{api} spec.egress[0]");
    assert_eq!(
        only(&found),
        (
            vec!["192.0.2.10/32".into()],
            vec!["444-6442/TCP".into(), "6444-8443/TCP".into()],
            vec![Some(rule)]
        )
    );
}
