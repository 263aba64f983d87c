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
    // The SQL extension executor (I15, its DNS in E1, E22) and the collector's probes (I16)
    // are new in 1.10; every other row was allowed by the policies of 1.9 already.
    assert_eq!(rows(&found), ["+I15", "+I16", "+E1", "+E22"]);
    assert_eq!(probed(&matrix, &addresses, &before, &after), rows(&found));
    assert!(found.widened.is_empty() && found.narrowed.is_empty());
    let e1 = &found.rows[2];
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

#[test]
fn a_dialect_change_with_the_same_reachability_is_no_change() {
    let scene = activegate(true);
    let (matrix, addresses, kubernetes) = scene.generate(Flavor::Kubernetes);
    let (_, _, cilium) = scene.generate(Flavor::Cilium);
    let found = compare(&matrix, &addresses, &kubernetes, &cilium);
    assert!(!found.exact);
    assert!(!found.fails(false), "{}", found.render(Format::Text, false));
    let text = found.render(Format::Text, false);
    assert!(text.contains(super::NOT_EXACT), "{text}");
    assert!(text.ends_with("old -> new: unchanged; both allow the same connections of the matrix's rows (nothing beyond them was computed)\n"), "{text}");
    // Connection by connection, a change is still found: the Cilium policies without the
    // metrics-ingest port.
    let (_, _, fewer) = activegate(false).generate(Flavor::Cilium);
    let found = compare(&matrix, &addresses, &cilium, &fewer);
    assert_eq!(rows(&found), ["-I12"]);
    assert!(found.fails(false) && !found.fails(true));
    let text = found.render(Format::Text, false);
    assert!(text.contains("  -I12 dynakube-injected-apps -> dynakube-activegate 9998/TCP: no longer allowed\n      apps-dynakube/app-0 -> dynatrace/dynakube-activegate-0 9998/TCP ("), "{text}");
}
