//! The flavor's output of every fixture through the evaluator, read back as a user's policies
//! are read, in a cluster modelled on the matrix (`verify`'s): every flow is allowed, alone and
//! beside the Kubernetes flavor's NetworkPolicies, in both tiers; what is allowed beyond the
//! matrix is, alone and beside, only what a warning says was widened (ingress from outside the
//! pod network, which ClusterNetworkPolicies cannot name, is the NetworkPolicies' beside them).
//! An application namespace's own default deny keeps the application pods' flows in the Admin
//! tier and wins in the Baseline tier.

use std::collections::BTreeSet;

use super::super::model::Tier;
use super::super::settings::Options;
use super::{rendered, variants};
use crate::evaluate::{Index, NetworkPlugin, Options as EvaluateOptions, read_policies};
use crate::fixture_invariants::{Fixture, fixtures};
use crate::flavor::FlavorSettings;
use crate::matrix::{Endpoint, HostRole, Level, Note, Ports, Selection};
use crate::render::FLOWS_ANNOTATION;
use crate::source::Limits;
use crate::verify::{Extra, Report, Status};
use serde_json::Value;

/// The YAML stream of `objects`.
fn stream(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The report of `verify` on `yaml` in the model cluster of `fixture`.
fn report(fixture: &Fixture, yaml: &str, plugin: NetworkPlugin) -> Report {
    report_with(fixture, yaml, plugin, false)
}

/// [`report`], with Cilium's `policy-cidr-match-mode: nodes` as `cidr_match_nodes` says.
fn report_with(
    fixture: &Fixture,
    yaml: &str,
    plugin: NetworkPlugin,
    cidr_match_nodes: bool,
) -> Report {
    let files = read_policies("policies.yaml", yaml, &Limits::default()).unwrap();
    let options = EvaluateOptions {
        network_plugin: Some(plugin),
        cilium_cidr_match_nodes: cidr_match_nodes,
        ..EvaluateOptions::default()
    };
    let cluster = crate::verify::model_cluster(&fixture.matrix);
    let index = Index::with_options(cluster, &files, options).unwrap();
    crate::verify::verify(&fixture.matrix, &index, &fixture.addresses)
}

/// The Kubernetes flavor's policies of the fixture, as JSON objects.
fn network_policies(fixture: &Fixture) -> Vec<Value> {
    crate::render::kubernetes::render(&fixture.matrix, &fixture.addresses)
        .policies
        .iter()
        .map(crate::render::Policy::to_json)
        .collect()
}

/// Whether a flow's peer is one no policy can fix (so that its flow stays unchecked).
fn unfixed(e: &Endpoint) -> bool {
    matches!(
        e,
        Endpoint::Unbounded(_)
            | Endpoint::HostPattern(_)
            | Endpoint::Host {
                role: HostRole::RegistryCdn,
                ..
            }
    )
}

/// Asserts that every flow of the fixture the policies can decide is allowed, but those of
/// `denied`; the flows denied.
fn flows_allowed(fixture: &Fixture, report: &Report, context: &str) -> BTreeSet<String> {
    let mut denied = BTreeSet::new();
    for (flow, check) in fixture.matrix.flows.iter().zip(&report.flows) {
        match &check.status {
            Status::Allowed => {}
            Status::Denied => {
                denied.insert(format!("{} {}", flow.id, flow.from));
            }
            Status::Unchecked(why) => assert!(
                unfixed(&flow.from) || unfixed(&flow.to) || flow.ports == Ports::Any,
                "{} ({context}): flow {} unchecked: {why}",
                fixture.name,
                flow.id
            ),
        }
    }
    denied
}

/// The names of the policies a widening warning concerns: those implementing one of its rows.
fn widened(objects: &[Value], notes: &[Note]) -> BTreeSet<String> {
    objects
        .iter()
        .filter(|p| {
            let flows = p["metadata"]["annotations"][FLOWS_ANNOTATION]
                .as_str()
                .unwrap_or_default();
            notes.iter().any(|n| {
                n.level == Level::Warning
                    && (n.text.contains("any address") || n.text.contains("every public address"))
                    && flows
                        .split(", ")
                        .any(|f| n.refs.iter().any(|r| r.name() == f))
            })
        })
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// Whether `extra` comes from a rule of a widened policy (named as verify names a
/// ClusterNetworkPolicy, or as `namespace/name`).
fn from_widened(extra: &Extra, widened: &BTreeSet<String>) -> bool {
    extra.policy.as_ref().is_some_and(|policy| {
        widened.iter().any(|name| {
            policy == &format!("ClusterNetworkPolicy {name}")
                || policy.ends_with(&format!("/{name}"))
        })
    })
}

#[test]
fn every_flow_is_allowed_alone_and_beside_network_policies() {
    let mut checked = 0;
    for fixture in fixtures() {
        let kubernetes = network_policies(&fixture);
        let k8s_notes =
            crate::render::kubernetes::render(&fixture.matrix, &fixture.addresses).notes;
        for settings in variants() {
            let (objects, notes) = rendered(&fixture, &settings);
            let context = format!("{:?}", settings.arguments());
            let alone = report(&fixture, &stream(&objects), NetworkPlugin::Generic);
            let denied = flows_allowed(&fixture, &alone, &context);
            assert!(
                denied.is_empty(),
                "{} ({context}) alone: {denied:?}",
                fixture.name
            );
            let widened_cnp = widened(&objects, &notes);
            for extra in &alone.extras {
                assert!(
                    from_widened(extra, &widened_cnp),
                    "{} ({context}) alone: {extra:?}",
                    fixture.name
                );
            }
            let mut both = kubernetes.clone();
            both.extend(objects.iter().cloned());
            let together = report(&fixture, &stream(&both), NetworkPlugin::Generic);
            let denied = flows_allowed(&fixture, &together, &context);
            assert!(
                denied.is_empty(),
                "{} ({context}) with NetworkPolicies: {denied:?}",
                fixture.name
            );
            let widened_all: BTreeSet<String> = widened_cnp
                .union(&widened(&kubernetes, &k8s_notes))
                .cloned()
                .collect();
            for extra in &together.extras {
                assert!(
                    from_widened(extra, &widened_all),
                    "{} ({context}) with NetworkPolicies: {extra:?}",
                    fixture.name
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

/// A namespace of application pods with a default deny of its own (`apps-<dynakube>` in the
/// model cluster).
fn default_deny(namespace: &str) -> Value {
    serde_json::json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-everything", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    })
}

#[test]
fn the_admin_tier_keeps_monitoring_where_namespaces_deny_everything() {
    let mut checked = 0;
    for fixture in fixtures() {
        let apps: BTreeSet<String> = (fixture.matrix.flows.iter())
            .filter_map(|f| f.from.workload())
            .filter(|w| matches!(w.selection, Selection::Namespaces { .. }))
            .filter_map(|w| w.instance.as_ref().map(|i| format!("apps-{i}")))
            .collect();
        if apps.is_empty() {
            continue;
        }
        for settings in variants() {
            let (mut objects, notes) = rendered(&fixture, &settings);
            objects.extend(apps.iter().map(|ns| default_deny(ns)));
            let report = report(&fixture, &stream(&objects), NetworkPlugin::Generic);
            let denied = flows_allowed(&fixture, &report, "default deny");
            let baseline = Options::of(&settings).tier == Tier::Baseline;
            if baseline {
                // The namespace's policy wins, and a note says so.
                assert!(
                    denied.iter().any(|d| d.contains("injected-apps")),
                    "{}: {denied:?}",
                    fixture.name
                );
                assert!(notes.iter().any(|n| {
                    n.text
                        .contains("the NetworkPolicies of an application namespace decide first")
                }));
            } else {
                // Only connections of pods the flavor does not speak for may fail: none of the
                // application pods' own.
                assert!(
                    !denied.iter().any(|d| d.contains("injected-apps")),
                    "{}: {denied:?}",
                    fixture.name
                );
                assert!(denied.is_empty(), "{}: {denied:?}", fixture.name);
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
}

/// Plugins differ in what `networks` and `ipBlock`s match (Calico: pods too; Cilium: only
/// outside the cluster, and nodes with `policy-cidr-match-mode: nodes`): the flows are allowed
/// on Calico, and on Cilium where its blocks match nodes; on Cilium's defaults only flows from
/// other nodes and from kube-apiserver on a node are refused, as a warning of the cluster
/// profile's plugin says.
#[test]
fn every_flow_is_allowed_on_calico_and_cilium() {
    let mut refused = 0;
    for fixture in fixtures() {
        let (objects, _) = rendered(&fixture, &FlavorSettings::default());
        let yaml = stream(&objects);
        for (plugin, cidr_match_nodes) in [
            (NetworkPlugin::Calico, false),
            (NetworkPlugin::Cilium, true),
        ] {
            let report = report_with(&fixture, &yaml, plugin, cidr_match_nodes);
            let denied = flows_allowed(&fixture, &report, plugin.name());
            assert!(
                denied.is_empty(),
                "{} on {plugin}: {denied:?}",
                fixture.name
            );
        }
        let report = report(&fixture, &yaml, NetworkPlugin::Cilium);
        let denied = flows_allowed(&fixture, &report, "cilium");
        for (flow, check) in fixture.matrix.flows.iter().zip(&report.flows) {
            if check.status == Status::Denied {
                let from_nodes = match &flow.from {
                    Endpoint::Nodes(_) | Endpoint::KubeApiServer(_) => true,
                    Endpoint::Workload(w) => matches!(w.selection, Selection::HostNetwork(_)),
                    _ => false,
                };
                assert!(from_nodes, "{} on cilium: {denied:?}", fixture.name);
            }
        }
        refused += denied.len();
    }
    assert!(refused > 0);
    let mut profile = fixtures().remove(0);
    profile.matrix.profile.network_plugin = Some(crate::cluster::Plugin::Cilium);
    let (_, notes) = rendered(&profile, &FlavorSettings::default());
    assert!(
        notes
            .iter()
            .any(|n| n.level == Level::Warning
                && n.text.contains("set `cilium.cidrMatchNodes: true`")),
        "{notes:?}"
    );
}

/// A denied flow to a host reached by name names the probe's destination as `explain` takes it,
/// `NAME=IP`, so that the probe can be asked about as it stands.
#[test]
fn a_denied_probe_to_a_named_host_names_it_as_explain_takes_it() {
    let fixture = fixtures()
        .into_iter()
        .find(|f| {
            (f.matrix.flows.iter()).any(|flow| {
                matches!(
                    &flow.to,
                    Endpoint::Host {
                        host: crate::values::Host::Name(_),
                        ..
                    }
                )
            })
        })
        .unwrap();
    // Every namespace's egress denied.
    let cluster = crate::verify::model_cluster(&fixture.matrix);
    let deny: String = (cluster.namespaces.iter())
        .map(|namespace| format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny, namespace: {}}}\nspec: {{podSelector: {{}}, policyTypes: [Egress]}}\n",
            namespace.name
        ))
        .collect();
    let report = report(&fixture, &deny, NetworkPlugin::Generic);
    let named: Vec<String> = (report.flows.iter())
        .filter(|check| check.status == Status::Denied)
        .map(|check| check.decided_by())
        .filter(|words| words.contains(".dynatrace.com="))
        .collect();
    assert!(
        !named.is_empty(),
        "{:?}",
        report
            .flows
            .iter()
            .map(|c| c.decided_by())
            .collect::<Vec<_>>()
    );
    for words in named {
        let to = words
            .split(" -> ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let (_, ip) = to.split_once('=').unwrap();
        assert!(ip.parse::<std::net::IpAddr>().is_ok(), "{words}");
    }
}
