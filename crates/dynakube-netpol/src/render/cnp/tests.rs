//! Tests of the ClusterNetworkPolicy flavor over every fixture: every output strictly valid
//! against the CRD of its channel (`tests/schema.rs` checks objects against a CRD), every flow
//! written or noted, and the flows allowed and nothing beyond them through the evaluator
//! (`tests/verify.rs`).

mod schema;
mod verify;

use std::collections::BTreeSet;

use serde_json::Value;

use super::settings::Channel;
use super::*;
use crate::Flavor;
use crate::fixture_invariants::{Fixture, fixtures};
use schema::Crd;

/// The settings every test renders with: both tiers and both channels, and a range of two
/// priorities, which the largest fixtures outgrow.
pub(super) fn variants() -> Vec<FlavorSettings> {
    let mut all = Vec::new();
    for (tier, channel) in [
        ("admin", "standard"),
        ("baseline", "experimental"),
        ("admin", "experimental"),
        ("baseline", "standard"),
    ] {
        let mut settings = FlavorSettings::default();
        let flavor = Flavor::ClusterNetworkPolicy;
        settings.set(flavor, "tier", tier).unwrap();
        settings.set(flavor, "channel", channel).unwrap();
        all.push(settings);
    }
    all
}

/// The policies of a fixture with `settings`, as JSON objects.
pub(super) fn rendered(fixture: &Fixture, settings: &FlavorSettings) -> (Vec<Value>, Vec<Note>) {
    let rendered = render(&fixture.matrix, &fixture.addresses, settings);
    let objects = rendered.policies.iter().map(Policy::to_json).collect();
    (objects, rendered.notes)
}

use crate::matrix::Note;
use crate::render::Policy;

/// The CRD of a channel.
fn crd(settings: &FlavorSettings) -> Crd {
    match Options::of(settings).channel {
        Channel::Standard => Crd::read(
            "network-policy-api/v0.2.0/standard/policy.networking.k8s.io_clusternetworkpolicies.yaml",
        ),
        Channel::Experimental => Crd::read(
            "network-policy-api/v0.2.0/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml",
        ),
    }
}

#[test]
fn every_output_is_valid_against_the_crd_of_its_channel() {
    let mut checked = 0;
    let mut by_name = 0;
    for fixture in fixtures() {
        for settings in variants() {
            let crd = crd(&settings);
            let (objects, _) = rendered(&fixture, &settings);
            assert!(!objects.is_empty(), "{}", fixture.name);
            let mut names = BTreeSet::new();
            for object in &objects {
                let name = &object["metadata"]["name"];
                if object["kind"] == "NetworkPolicy" {
                    network_policy(&fixture, object);
                    assert!(
                        names.insert(name.to_string()),
                        "{}: {name} twice",
                        fixture.name
                    );
                    continue;
                }
                let errors = crd.errors(object);
                assert!(errors.is_empty(), "{} {name}: {errors:#?}", fixture.name);
                assert!(
                    names.insert(name.to_string()),
                    "{}: {name} twice",
                    fixture.name
                );
                by_name += usize::from(object.to_string().contains("domainNames"));
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked} policies checked");
    assert!(by_name > 10, "the experimental channel names hosts");
}

/// Checks a NetworkPolicy written beside the ClusterNetworkPolicies: in the operator
/// namespace, named with the tool's prefix, isolating its pods for ingress only, and read as
/// the evaluator reads a user's policies.
fn network_policy(fixture: &Fixture, object: &Value) {
    let name = object["metadata"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("dynakube-netpol.") && name.len() <= 253,
        "{}: {name}",
        fixture.name
    );
    assert_eq!(
        object["metadata"]["namespace"],
        fixture.matrix.namespace.as_str()
    );
    assert_eq!(
        object["spec"]["policyTypes"],
        serde_json::json!(["Ingress"])
    );
    assert!(object["spec"]["egress"].is_null());
    let yaml = serde_yaml::to_string(object).unwrap();
    let files =
        crate::evaluate::read_policies("policy.yaml", &yaml, &crate::source::Limits::default())
            .unwrap_or_else(|e| panic!("{}: {name}: {e}", fixture.name));
    assert_eq!(files.policies.len(), 1);
}

/// A change to an object.
type Edit = dyn Fn(&mut Value);

#[test]
fn the_check_refuses_what_the_api_server_refuses() {
    let standard = crd(&FlavorSettings::default());
    let mut experimental = FlavorSettings::default();
    experimental
        .set(Flavor::ClusterNetworkPolicy, "channel", "experimental")
        .unwrap();
    let experimental = crd(&experimental);
    let good = serde_json::json!({
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": "dynakube-netpol.dynatrace.ag-egress", "labels": {"a": "b"}},
        "spec": {
            "tier": "Admin",
            "priority": 900,
            "subject": {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "ag"}}}},
            "egress": [{
                "name": "accept-tenant",
                "action": "Accept",
                "to": [{"domainNames": ["*.live.dynatrace.com"]}],
                "protocols": [{"tcp": {"destinationPort": {"number": 443}}}]
            }]
        }
    });
    assert_eq!(experimental.errors(&good), Vec::<String>::new());
    assert!(
        standard.errors(&good)[0].contains("domainNames: is not a field of the schema"),
        "{:?}",
        standard.errors(&good)
    );
    let broken = |edit: &Edit| {
        let mut object = good.clone();
        edit(&mut object);
        experimental.errors(&object).join("; ")
    };
    let cases: [(&Edit, &str); 9] = [
        (&|o| o["spec"]["tier"] = "Middle".into(), "is not one of"),
        (&|o| o["spec"]["priority"] = 1001.into(), "out of bounds"),
        (
            &|o| o["spec"]["egress"][0]["to"][0]["domainNames"][0] = "localhost".into(),
            "does not match",
        ),
        (
            &|o| o["spec"]["egress"][0]["to"][0] = serde_json::json!({"networks": ["10.0.0.1/8"]}),
            "host bits",
        ),
        (
            &|o| {
                o["spec"]["egress"][0]["protocols"][0] =
                    serde_json::json!({"destinationNamedPort": "http"})
            },
            "named port",
        ),
        (
            &|o| {
                o["spec"]["egress"][0]["protocols"][0] = serde_json::json!({"tcp": {"destinationPort": {"range": {"start": 9, "end": 9}}}})
            },
            "start is not before end",
        ),
        (
            &|o| o["spec"]["subject"]["namespaces"] = serde_json::json!({}),
            "maxProperties",
        ),
        (
            &|o| o["spec"]["egress"][0]["to"][0]["domainNames"] = serde_json::json!(["a.b", "a.b"]),
            "repeats an item",
        ),
        (
            &|o| o["metadata"]["name"] = "Dynatrace".into(),
            "not a DNS subdomain",
        ),
    ];
    for (edit, words) in cases {
        let errors = broken(edit);
        assert!(errors.contains(words), "{words}: {errors}");
    }
    let too_many = broken(&|o| {
        let rule = o["spec"]["egress"][0].clone();
        o["spec"]["egress"] = Value::Array(vec![rule; 26]);
    });
    assert!(too_many.contains("spec.egress: has 26"), "{too_many}");
}

/// Every flow has a rule (its rows are in a policy's flows annotation) or a note on its rows,
/// and every note on rows has its meaning among those `dynakube-netpol matrix` prints.
#[test]
fn every_flow_is_written_or_noted() {
    for fixture in fixtures() {
        for settings in variants() {
            let (objects, notes) = rendered(&fixture, &settings);
            let written: BTreeSet<String> = objects
                .iter()
                .filter_map(|p| {
                    p["metadata"]["annotations"][crate::render::FLOWS_ANNOTATION].as_str()
                })
                .flat_map(|flows| flows.split(", ").map(String::from))
                .collect();
            for note in notes.iter().filter(|n| !n.refs.is_empty()) {
                let meant = crate::matrix::MEANINGS.iter().any(|m| {
                    m.level == note.level
                        && note.text.contains(m.says)
                        && note.refs.iter().all(|r| m.rows.contains(r))
                });
                assert!(meant, "{}: no meaning for {note}", fixture.name);
            }
            for flow in &fixture.matrix.flows {
                let rows: Vec<String> = flow.refs.iter().map(|r| r.name().to_string()).collect();
                let noted = notes
                    .iter()
                    .any(|n| n.refs.iter().any(|r| flow.refs.contains(r)));
                assert!(
                    rows.iter().any(|r| written.contains(r)) || noted,
                    "{}: flow {} from {} to {} neither written nor noted",
                    fixture.name,
                    flow.id,
                    flow.from,
                    flow.to
                );
            }
        }
    }
}

/// Each Dynatrace workload's policies close with a Deny of everything their direction can
/// name; application pods' policies only accept.
#[test]
fn workloads_close_with_a_deny_and_applications_only_accept() {
    for fixture in fixtures() {
        let (objects, _) = rendered(&fixture, &FlavorSettings::default());
        for object in objects
            .iter()
            .filter(|o| o["kind"] == "ClusterNetworkPolicy")
        {
            let spec = &object["spec"];
            let rules: Vec<&Value> = ["ingress", "egress"]
                .iter()
                .flat_map(|d| spec[d].as_array().into_iter().flatten())
                .collect();
            let denies = rules.iter().filter(|r| r["action"] == "Deny").count();
            let name = object["metadata"]["name"].as_str().unwrap();
            let component = &object["metadata"]["labels"][crate::render::COMPONENT_LABEL];
            let application = ["injected-apps", "classic-apps", "all-pods"]
                .iter()
                .any(|c| component == *c);
            if application {
                assert_eq!(denies, 0, "{}: {name}", fixture.name);
                // Never the operator namespace.
                let subject = spec["subject"].to_string();
                let operator = format!("\"{}\"", fixture.matrix.namespace);
                assert!(
                    subject.contains("NotIn") || !subject.contains(&operator),
                    "{name}: {subject}"
                );
            } else {
                assert_eq!(denies, 1, "{}: {name}", fixture.name);
                assert_eq!(rules.last().unwrap()["action"], "Deny", "{name}");
            }
        }
    }
}

/// Priorities come from the range given; a range too small for the policies is a warning.
#[test]
fn priorities_stay_in_their_range() {
    let fixture = fixtures()
        .into_iter()
        .find(|f| f.name == "everything-v1beta6")
        .unwrap();
    for (range, crowded) in [("500-999", false), ("40-41", true)] {
        let mut settings = FlavorSettings::default();
        settings
            .set(Flavor::ClusterNetworkPolicy, "priorities", range)
            .unwrap();
        let (objects, notes) = rendered(&fixture, &settings);
        let options = Options::of(&settings).priorities;
        for object in objects
            .iter()
            .filter(|o| o["kind"] == "ClusterNetworkPolicy")
        {
            let priority = object["spec"]["priority"].as_u64().unwrap();
            assert!((u64::from(options.first)..=u64::from(options.last)).contains(&priority));
        }
        let warned = notes.iter().any(|n| n.text.contains("are too few"));
        assert_eq!(warned, crowded, "{range}");
    }
}

/// Where the cluster profile names a plugin that lacks the experimental peers, nodes and hosts
/// are named by their addresses, and the notes say what the plugin enforces.
#[test]
fn the_profile_s_network_plugin_decides_the_peers_and_the_notes() {
    use crate::cluster::Plugin;
    let mut experimental = FlavorSettings::default();
    experimental
        .set(Flavor::ClusterNetworkPolicy, "channel", "experimental")
        .unwrap();
    let mut fixture = fixtures()
        .into_iter()
        .find(|f| f.name == "everything-v1beta6")
        .unwrap();
    let (objects, notes) = rendered(&fixture, &experimental);
    let text = serde_json::to_string(&objects).unwrap();
    assert!(text.contains("domainNames") && text.contains("\"nodes\""));
    assert!(
        notes
            .iter()
            .any(|n| n.text.contains("name the cluster's plugin"))
    );
    for (plugin, named, says) in [
        (Plugin::Calico, false, "Calico 3.32 enforces"),
        (Plugin::Antrea, false, "Antrea 2.7 enforces"),
        (Plugin::Cilium, true, "k8sClusterNetworkPolicy.enabled"),
        (Plugin::KubeOvn, true, "Kube-OVN enforces"),
        (Plugin::OvnKubernetes, true, "are not enforced there"),
        (Plugin::Other, true, "make sure yours does"),
    ] {
        fixture.matrix.profile.network_plugin = Some(plugin);
        let (objects, notes) = rendered(&fixture, &experimental);
        let text = serde_json::to_string(&objects).unwrap();
        assert_eq!(text.contains("domainNames"), named, "{plugin:?}");
        assert_eq!(text.contains("\"nodes\""), named, "{plugin:?}");
        assert!(notes.iter().any(|n| n.text.contains(says)), "{plugin:?}");
        if !named {
            assert!(notes.iter().any(|n| n.text.contains("by their addresses")));
            let needed = needed_hosts(&fixture.matrix, &experimental);
            assert!(!needed.is_empty(), "hosts need addresses again");
        }
    }
}

/// `domainNames` are written only where the CRD's pattern takes them, and never for names of
/// the cluster's own domain.
#[test]
fn domain_names_are_what_the_crd_pattern_takes() {
    use crate::values::HostPattern;
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../fixtures/schemas/network-policy-api/v0.2.0/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml",
    );
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let to = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["egress"]["items"]["properties"]["to"]["items"];
    let pattern = to["properties"]["domainNames"]["items"]["pattern"]
        .as_str()
        .unwrap();
    let regex = regex::Regex::new(pattern).unwrap();
    let fixture = fixtures().into_iter().next().unwrap();
    for (text, taken) in [
        ("abc12345.live.dynatrace.com", true),
        ("*.internal.example.com", true),
        ("*.corp", false),
        ("proxy", false),
        ("a-b.c-d", true),
        ("192.0.2.1", false),
        ("registry.kube-system.svc.cluster.local", false),
        ("*.svc.cluster.local", false),
    ] {
        // A wildcard below one label (which the hosts' own reader refuses for public suffixes).
        let pattern = match text.strip_prefix("*.") {
            Some(domain) => HostPattern::Below(crate::values::HostName::parse(domain).unwrap()),
            None => HostPattern::parse(text).unwrap(),
        };
        let written = domain_of(&pattern, &fixture.matrix);
        assert_eq!(written.is_some(), taken, "{text}");
        if let Some(name) = written {
            assert!(regex.is_match(&name.to_string()), "{text}");
        } else if !text.contains("cluster.local") && text.parse::<std::net::IpAddr>().is_err() {
            // The pattern takes an IPv4 address too, which `networks` name instead.
            assert!(!regex.is_match(text), "{text} would be taken");
        }
    }
}
