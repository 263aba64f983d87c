//! Invariants of the matrix and of the generated policies, checked on every fixture through
//! the library: no rule broader than its flow, every flow rendered or explained, every row of
//! the table reachable by some fixture.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cluster::ClusterProfile;
use crate::evaluate::Index;
use crate::guard::AddressPolicy;
use crate::input::{ParseOptions, parse_into};
use crate::matrix::{
    Component, Endpoint, HostRole, Level, Matrix, Options, Ports, RowId, Scope, Selection, TABLE,
    ZoneFallback,
};
use crate::render::kubernetes::network_policies;
use crate::resolve::{Addresses, Fallback, FixedHosts, resolve};
use crate::resources::Capability;
use crate::resources::{Inputs, ProxyUrl};
use crate::values::{Host, ZoneName};
use crate::verify::{self, Status};
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;

/// The Kubernetes flavor's policies of a fixture, typed, and the renderer's notes.
struct Rendered {
    policies: Vec<k8s_openapi::api::networking::v1::NetworkPolicy>,
    notes: Vec<crate::matrix::Note>,
}

/// A fixture loaded as the CLI would load it from its `command` file (also for the fixture
/// checks of the Cilium evaluator).
pub(crate) struct Fixture {
    pub(crate) name: String,
    /// The resources and the options the matrix was built of.
    inputs: Inputs,
    options: Options,
    pub(crate) matrix: Matrix,
    pub(crate) addresses: Addresses,
    rendered: Rendered,
}

fn load(dir: &Path) -> Fixture {
    load_with(dir, |_, _| {}).expect("the fixture loads")
}

/// Loads a fixture, letting `adjust` change its inputs and options first; `None` when the
/// adjusted inputs are refused.
fn load_with(dir: &Path, adjust: impl FnOnce(&mut Inputs, &mut Options)) -> Option<Fixture> {
    let command = std::fs::read_to_string(dir.join("command")).unwrap();
    let mut words = command.split_whitespace();
    let (mut files, mut cluster, mut hosts, mut fallback, mut proxy_url) =
        (vec![], None, None, Fallback::Fail, None);
    let mut options = Options::default();
    let mut policy = AddressPolicy::default();
    while let Some(word) = words.next() {
        match word {
            "--cluster" => cluster = words.next(),
            "--internal-host" => {
                let host = Host::parse(words.next().unwrap()).unwrap();
                policy.internal_hosts.insert(host);
            }
            "--hosts" => hosts = words.next(),
            "--proxy-url" => proxy_url = words.next().map(String::from),
            "--zone-fallback" => {
                assert_eq!(words.next(), Some("none"));
                options.zone_fallback = ZoneFallback::None;
            }
            "--fqdn-fallback" => {
                assert_eq!(words.next(), Some("public-internet"));
                fallback = Fallback::PublicInternet;
            }
            file => files.push(file),
        }
    }
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    let mut inputs = Inputs::default();
    let parse = ParseOptions {
        proxy_url: proxy_url.map(|url| ProxyUrl::parse(&url).unwrap()),
        ..ParseOptions::default()
    };
    for file in files {
        parse_into(&mut inputs, file, &read(file), &parse).unwrap();
    }
    adjust(&mut inputs, &mut options);
    let profile = cluster.map_or_else(ClusterProfile::default, |f| {
        ClusterProfile::parse(f, &read(f)).unwrap()
    });
    let hosts = hosts.map_or_else(FixedHosts::default, |f| {
        FixedHosts::parse(f, &read(f)).unwrap()
    });
    let matrix = crate::matrix::build(&inputs, &profile, &options).ok()?;
    let addresses = resolve(&matrix, &hosts, fallback, &policy).unwrap();
    let typed = network_policies(&matrix, &addresses);
    let rendered = Rendered {
        policies: typed.policies.into_iter().map(|(p, _)| p).collect(),
        notes: typed.notes,
    };
    Some(Fixture {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        inputs,
        options,
        matrix,
        addresses,
        rendered,
    })
}

fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("command").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 11, "the fixtures are there");
    dirs
}

/// Every fixture with a `command` file, loaded.
pub(crate) fn fixtures() -> Vec<Fixture> {
    fixture_dirs().iter().map(|d| load(d)).collect()
}

#[test]
fn table_rows_are_unique_per_component_and_directed() {
    let mut seen = BTreeSet::new();
    for rule in TABLE {
        for component in rule.components {
            assert!(
                seen.insert((rule.id, *component)),
                "{} appears twice for {component}",
                rule.id
            );
        }
        assert_eq!(rule.direction, rule.id.direction(), "{}", rule.id);
        assert_ne!(rule.id, RowId::E30, "E30 is the proxy column, not a row");
        assert!(!rule.components.is_empty() && !rule.purpose.is_empty());
        for component in rule.components {
            let fits = rule.scope == Scope::EveryWorkload
                || component.scope() == rule.scope
                || component.scope() == Scope::Cluster;
            assert!(
                fits,
                "{}: {component} cannot be evaluated per {:?}",
                rule.id, rule.scope
            );
        }
    }
}

#[test]
fn every_namespaced_component_has_dns_egress() {
    let dns = TABLE.iter().find(|r| r.id == RowId::E1).unwrap();
    for component in Component::ALL {
        // Application pods live in other namespaces, with their own DNS rules.
        if component.applications() {
            let apps = TABLE
                .iter()
                .find(|r| r.id == RowId::E1 && r.components.contains(&component));
            assert!(apps.is_some(), "{component} lacks E1");
        } else {
            assert!(dns.components.contains(&component), "{component} lacks E1");
        }
    }
    // And in every fixture, every Dynatrace workload that gets policies also gets DNS egress.
    for fixture in fixtures() {
        let workloads: BTreeSet<_> = fixture
            .matrix
            .flows
            .iter()
            .flat_map(|f| [f.from.workload(), f.to.workload()])
            .flatten()
            .filter(|w| !w.component.applications())
            .collect();
        for workload in workloads {
            let has_dns =
                fixture.matrix.flows.iter().any(|f| {
                    matches!(f.to, Endpoint::Dns(_)) && f.from.workload() == Some(workload)
                });
            assert!(has_dns, "{}: {workload} has no DNS egress", fixture.name);
        }
    }
}

#[test]
fn every_row_is_reached_by_some_fixture() {
    let mut reached = BTreeSet::new();
    for fixture in fixtures() {
        for flow in &fixture.matrix.flows {
            reached.extend(flow.refs.iter().copied());
        }
    }
    let mut expected: BTreeSet<RowId> = TABLE.iter().map(|r| r.id).collect();
    expected.extend([RowId::I11, RowId::I14, RowId::E30]);
    let missing: Vec<_> = expected.difference(&reached).collect();
    assert!(missing.is_empty(), "rows no fixture reaches: {missing:?}");
}

#[test]
fn no_rule_is_broader_than_its_flow() {
    for fixture in fixtures() {
        let any_port_rows: BTreeSet<&str> = fixture
            .matrix
            .flows
            .iter()
            .filter(|f| f.ports == Ports::Any)
            .map(|f| f.id.name())
            .collect();
        for policy in &fixture.rendered.policies {
            let name = policy.metadata.name.as_deref().unwrap();
            let spec = policy.spec.as_ref().unwrap();
            let selector = spec.pod_selector.as_ref().unwrap();
            if name == "default-deny" {
                assert!(
                    spec.ingress.is_none() && spec.egress.is_none(),
                    "default deny allows nothing"
                );
                continue;
            }
            assert!(
                selector
                    .match_labels
                    .as_ref()
                    .is_some_and(|l| !l.is_empty()),
                "{}: {name} selects every pod",
                fixture.name
            );
            let flows =
                &policy.metadata.annotations.as_ref().unwrap()[crate::render::FLOWS_ANNOTATION];
            // Rows a warning says were widened to every address for lack of a profile field.
            let widened = flows.split(", ").any(|f| {
                fixture.rendered.notes.iter().any(|n| {
                    n.level == Level::Warning
                        && n.text.contains("any address")
                        && n.refs.iter().any(|r| r.name() == f)
                })
            });
            let rules: Vec<_> = match (&spec.ingress, &spec.egress) {
                (Some(rules), None) => rules
                    .iter()
                    .map(|r| (r.from.clone(), r.ports.clone()))
                    .collect(),
                (None, Some(rules)) => rules
                    .iter()
                    .map(|r| (r.to.clone(), r.ports.clone()))
                    .collect(),
                _ => panic!(
                    "{}: {name} must have rules of exactly one direction",
                    fixture.name
                ),
            };
            assert!(!rules.is_empty(), "{}: {name} has no rule", fixture.name);
            for (peers, ports) in rules {
                assert_peers_bounded(
                    &format!("{}: {name}", fixture.name),
                    &peers.unwrap_or_default(),
                    widened,
                );
                match ports {
                    Some(ports) => assert!(
                        !ports.is_empty(),
                        "{}: {name} has an empty port list",
                        fixture.name
                    ),
                    None => assert!(
                        flows.split(", ").any(|f| any_port_rows.contains(f)),
                        "{}: {name} allows every port but its flows {flows} name ports",
                        fixture.name
                    ),
                }
            }
        }
    }
}

/// Every peer of one rule selects something, and none is every address unless `widened` (a
/// warning said so) or it has exceptions.
fn assert_peers_bounded(context: &str, peers: &[NetworkPolicyPeer], widened: bool) {
    assert!(!peers.is_empty(), "{context} has a rule for every peer");
    for peer in peers {
        let selects = peer.ip_block.is_some()
            || peer.pod_selector.is_some()
            || peer.namespace_selector.is_some();
        assert!(selects, "{context} has an empty peer");
        if let Some(block) = &peer.ip_block {
            let everything = block.cidr == "0.0.0.0/0" || block.cidr == "::/0";
            assert!(
                !everything || widened || block.except.as_ref().is_some_and(|e| !e.is_empty()),
                "{context} allows every address without a warning"
            );
        }
    }
}

#[test]
fn every_flow_is_rendered_or_explained() {
    for fixture in fixtures() {
        let annotated: Vec<BTreeSet<&str>> = fixture
            .rendered
            .policies
            .iter()
            .filter_map(|p| {
                p.metadata
                    .annotations
                    .as_ref()?
                    .get(crate::render::FLOWS_ANNOTATION)
            })
            .map(|flows| flows.split(", ").collect())
            .collect();
        let noted: BTreeSet<&str> = fixture
            .rendered
            .notes
            .iter()
            .flat_map(|n| n.refs.iter().map(|r| r.name()))
            .collect();
        for flow in &fixture.matrix.flows {
            let rendered = annotated.iter().any(|a| a.contains(flow.id.name()));
            assert!(
                rendered || noted.contains(flow.id.name()),
                "{}: flow {} ({} → {}) is neither rendered nor noted",
                fixture.name,
                flow.id,
                flow.from,
                flow.to
            );
        }
    }
}

#[test]
fn output_does_not_depend_on_input_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/multi-document");
    let text = std::fs::read_to_string(root.join("all.yaml")).unwrap();
    let documents: Vec<&str> = text
        .split("\n---\n")
        .filter(|d| d.contains("kind:"))
        .collect();
    assert!(documents.len() >= 3);
    let render = |docs: &[&str]| {
        let mut inputs = Inputs::default();
        for doc in docs {
            parse_into(&mut inputs, "x.yaml", doc, &ParseOptions::default()).unwrap();
        }
        let options = crate::GenerateOptions {
            fallback: Fallback::PublicInternet,
            ..Default::default()
        };
        let generated = crate::generate(
            &inputs,
            &ClusterProfile::default(),
            &options,
            &FixedHosts::default(),
        )
        .unwrap();
        (generated.matrix.flows, generated.policies)
    };
    let mut reversed = documents.clone();
    reversed.reverse();
    assert_eq!(render(&documents), render(&reversed));
}

/// The fixture's inputs with a network zone of fallback NONE on every DynaKube whose
/// ActiveGate routes: the restricted-egress design. `None` when no DynaKube can have it.
fn restricted(dir: &Path) -> Option<Fixture> {
    let mut fixture = load_with(dir, |inputs, options| {
        for dk in &mut inputs.dynakubes {
            if dk.has_capability(Capability::Routing) {
                dk.network_zone
                    .get_or_insert_with(|| ZoneName::parse("restricted").unwrap());
            } else {
                dk.network_zone = None;
            }
        }
        options.zone_fallback = ZoneFallback::None;
    })?;
    fixture.name.push_str(" (zone fallback NONE)");
    Some(fixture)
}

#[test]
fn generated_policies_allow_the_matrix_and_nothing_else() {
    let mut checked = 0;
    for dir in fixture_dirs() {
        let open = Some(load(&dir));
        for fixture in [open, restricted(&dir)].into_iter().flatten() {
            let crate::evaluate::Cluster {
                namespaces, pods, ..
            } = verify::model_cluster(&fixture.matrix);
            let index = Index::new(namespaces, pods, &fixture.rendered.policies).unwrap();
            let report = verify::verify(&fixture.matrix, &index, &fixture.addresses);
            for (flow, check) in fixture.matrix.flows.iter().zip(&report.flows) {
                match &check.status {
                    Status::Allowed => {}
                    Status::Denied => panic!(
                        "{}: flow {} is denied: {}",
                        fixture.name,
                        flow.id,
                        check.decided_by()
                    ),
                    Status::Unchecked(why) => {
                        // Peers without a fixed identity, and CDN hosts, whose addresses only a
                        // hosts file gives.
                        let unfixed = |e: &Endpoint| {
                            matches!(
                                e,
                                Endpoint::Unbounded(_)
                                    | Endpoint::HostPattern(_)
                                    | Endpoint::Host {
                                        role: HostRole::RegistryCdn,
                                        ..
                                    }
                            )
                        };
                        assert!(
                            unfixed(&flow.from) || unfixed(&flow.to) || flow.ports == Ports::Any,
                            "{}: flow {} unchecked: {why}",
                            fixture.name,
                            flow.id
                        );
                    }
                }
            }
            // Connections beyond the matrix are allowed only by policies that a warning says
            // were widened for lack of cluster facts.
            let widened: BTreeSet<String> = fixture
                .rendered
                .policies
                .iter()
                .filter(|p| {
                    let annotations = p.metadata.annotations.as_ref().unwrap();
                    let Some(flows) = annotations.get(crate::render::FLOWS_ANNOTATION) else {
                        return false;
                    };
                    fixture.rendered.notes.iter().any(|n| {
                        n.level == Level::Warning
                            && n.text.contains("any address")
                            && flows
                                .split(", ")
                                .any(|f| n.refs.iter().any(|r| r.name() == f))
                    })
                })
                .map(|p| p.metadata.name.clone().unwrap())
                .collect();
            for extra in &report.extras {
                assert!(
                    extra.policy.as_ref().is_some_and(|policy| widened
                        .iter()
                        .any(|name| policy.ends_with(&format!("/{name}")))),
                    "{}: {} {:?} admits beyond the matrix ({:?} rule {:?}): {:?}",
                    fixture.name,
                    extra.direction,
                    extra.pods,
                    extra.policy,
                    extra.rule,
                    extra.beyond
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "both modes of the fixtures were checked");
}

/// A rule an outside audit appended to the generated policies (`tests/audit-extras/`), and a
/// peer group of what it must be reported to admit.
struct Appended {
    file: &'static str,
    policy: &'static str,
    direction: &'static str,
    rule: usize,
    /// A pod among the peers, if any.
    pod: Option<&'static str>,
    /// A pod whose own policies refuse what the rule admits, so that it is no peer.
    refused: Option<&'static str>,
    /// Address blocks among the peers.
    blocks: &'static [&'static str],
    /// The ports of the peers.
    ports: &'static [&'static str],
}

const EVERY_PORT: &[&str] = &["1-65535/TCP", "1-65535/UDP", "1-65535/SCTP"];

const APPENDED: [Appended; 6] = [
    Appended {
        file: "egress-8-0-0-0-8.yaml",
        policy: "audit-egress-8",
        direction: "egress",
        rule: 1,
        pod: None,
        refused: None,
        blocks: &["8.0.0.0/8"],
        ports: EVERY_PORT,
    },
    Appended {
        file: "egress-ipv6-everywhere.yaml",
        policy: "audit-egress-ipv6",
        direction: "egress",
        rule: 0,
        pod: None,
        refused: None,
        blocks: &["::/0"],
        ports: EVERY_PORT,
    },
    Appended {
        file: "ingress-ipv6-everywhere.yaml",
        policy: "audit-ingress-ipv6",
        direction: "ingress",
        rule: 0,
        pod: None,
        refused: None,
        blocks: &["::/0"],
        ports: EVERY_PORT,
    },
    Appended {
        file: "udp-high-ports.yaml",
        policy: "audit-udp",
        direction: "egress",
        rule: 0,
        pod: Some("unrelated/unrelated-0"),
        // The operator's ingress admits no UDP.
        refused: Some("dynatrace/dynatrace-operator-0"),
        blocks: &["0.0.0.0/0", "::/0"],
        ports: &["40000-65535/UDP"],
    },
    Appended {
        file: "sctp.yaml",
        policy: "audit-sctp",
        direction: "egress",
        rule: 0,
        pod: Some("kube-system/coredns-0"),
        refused: Some("dynatrace/dynatrace-webhook-0"),
        blocks: &["0.0.0.0/0"],
        ports: &["1-65535/SCTP"],
    },
    Appended {
        file: "node-ports.yaml",
        policy: "audit-node-ports",
        direction: "ingress",
        rule: 0,
        pod: Some("apps-dynakube/app-0"),
        refused: None,
        blocks: &["0.0.0.0/0", "::/0"],
        ports: &["30000-32767/TCP"],
    },
];

/// Every rule an outside audit appended to the generated policies is reported beyond the
/// matrix, naming its policy and rule, with the peers and ports it admits; the generated
/// policies alone show nothing.
#[test]
fn appended_broad_rules_are_reported_exactly() {
    let dir = fixture_dirs()
        .into_iter()
        .find(|d| d.ends_with("a-cloud-native-network-zone"))
        .unwrap();
    let fixture = load(&dir);
    let verify_with = |file: Option<&str>| {
        let crate::evaluate::Cluster {
            namespaces, pods, ..
        } = verify::model_cluster(&fixture.matrix);
        let mut policies = fixture.rendered.policies.clone();
        if let Some(file) = file {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit-extras");
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let limits = crate::source::Limits::default();
            let read = crate::evaluate::read_policies(file, &text, &limits).unwrap();
            policies.extend(read.policies);
        }
        let index = Index::new(namespaces, pods, &policies).unwrap();
        verify::verify(&fixture.matrix, &index, &fixture.addresses)
    };
    assert!(verify_with(None).extras.is_empty());
    for case in &APPENDED {
        let report = verify_with(Some(case.file));
        let policy = format!("dynatrace/{}", case.policy);
        // Only the appended policy admits anything beyond the matrix, and only by its rule.
        assert!(!report.extras.is_empty(), "{}: not reported", case.file);
        for extra in &report.extras {
            assert_eq!(extra.policy.as_ref(), Some(&policy), "{}", case.file);
            assert_eq!(
                (extra.direction, extra.rule),
                (case.direction, Some(case.rule)),
                "{}",
                case.file
            );
        }
        let found = report.extras.iter().flat_map(|e| &e.beyond).any(|peers| {
            let cidrs: Vec<&str> = peers.addresses.iter().map(|a| a.cidr.as_str()).collect();
            peers.ports == case.ports
                && case.blocks.iter().all(|b| cidrs.contains(b))
                && case
                    .pod
                    .is_none_or(|pod| peers.pods.iter().any(|p| p == pod))
        });
        assert!(found, "{}: not in {:#?}", case.file, report.extras);
        if let Some(refused) = case.refused {
            let peers = report.extras.iter().flat_map(|e| &e.beyond);
            assert!(
                !peers.flat_map(|p| &p.pods).any(|p| p == refused),
                "{}: {refused} refuses",
                case.file
            );
        }
        let text = report.to_text();
        let rule = format!("{policy} spec.{}[{}]:", case.direction, case.rule);
        assert!(text.contains(&rule), "{}: {text}", case.file);
        assert!(
            !report
                .failures(&verify::FailOn {
                    extra: true,
                    ..Default::default()
                })
                .is_empty()
        );
        assert!(
            report.failures(&verify::FailOn::default()).is_empty(),
            "no flow is denied"
        );
    }
}

/// Pods of one namespace with the same labels are reported as one group, and as peers of each
/// other; without policies, every Dynatrace pod admits everything in both directions.
#[test]
fn extras_of_groups_and_of_pods_no_policy_isolates() {
    let dir = fixture_dirs()
        .into_iter()
        .find(|d| d.ends_with("a-cloud-native-network-zone"))
        .unwrap();
    let fixture = load(&dir);
    let crate::evaluate::Cluster {
        namespaces,
        mut pods,
        ..
    } = verify::model_cluster(&fixture.matrix);
    let activegate = pods
        .iter()
        .find(|p| p.name == "dynakube-activegate-0")
        .unwrap()
        .clone();
    pods.push(crate::evaluate::Pod {
        name: "dynakube-activegate-1".into(),
        ips: vec!["10.244.9.9".parse().unwrap()],
        ..activegate
    });
    let sctp = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: sctp, namespace: dynatrace}\nspec:\n  podSelector: {}\n  egress: [{to: [{podSelector: {}}], ports: [{protocol: SCTP}]}]\n  ingress: [{from: [{podSelector: {}}], ports: [{protocol: SCTP}]}]\n";
    let limits = crate::source::Limits::default();
    let mut policies = fixture.rendered.policies.clone();
    policies.extend(
        crate::evaluate::read_policies("sctp.yaml", sctp, &limits)
            .unwrap()
            .policies,
    );
    let index = Index::new(namespaces.clone(), pods.clone(), &policies).unwrap();
    let report = verify::verify(&fixture.matrix, &index, &fixture.addresses);
    let both = [
        "dynatrace/dynakube-activegate-0",
        "dynatrace/dynakube-activegate-1",
    ];
    let group: Vec<_> = report.extras.iter().filter(|e| e.pods == both).collect();
    assert_eq!(group.len(), 2, "egress and ingress: {:#?}", report.extras);
    for extra in group {
        let peers: Vec<&String> = extra.beyond.iter().flat_map(|p| &p.pods).collect();
        for pod in both {
            assert!(peers.iter().any(|p| *p == pod), "{pod} in {peers:?}");
        }
        assert!(extra.beyond.iter().all(|p| p.ports == ["1-65535/SCTP"]));
    }

    let index = Index::new(namespaces, pods, &[]).unwrap();
    let report = verify::verify(&fixture.matrix, &index, &fixture.addresses);
    let open: BTreeSet<(&Vec<String>, &str)> = report
        .extras
        .iter()
        .filter(|e| e.policy.is_none() && e.rule.is_none())
        .map(|e| (&e.pods, e.direction))
        .collect();
    assert_eq!(open.len(), report.extras.len());
    for pods in report.extras.iter().map(|e| &e.pods) {
        assert!(open.contains(&(pods, "egress")) && open.contains(&(pods, "ingress")));
    }
    assert!(report.to_text().contains(
        "egress of dynatrace/dynakube-activegate-0, dynatrace/dynakube-activegate-1, which no policy isolates for egress, so everything is admitted:"
    ));
}

mod cilium_coverage {
    //! Both flavors cover the same flows: every active flow that the Kubernetes flavor renders
    //! has a rule in the Cilium policies that allows it, checked on the typed model.

    use super::*;
    use crate::matrix::{
        INSTANCE_NAMESPACE_LABEL, NodeScope, Nodes, PodsKind, Port, Protocol, Workload, releases,
    };
    use crate::render::cilium::CiliumObject;
    use crate::render::cilium::model::{
        EgressPeer, EndpointSelector, Entity, FqdnPattern, FqdnSelector, IngressPeer,
        NAMESPACE_LABEL, PortProtocol, Subject,
    };

    /// The Cilium flavor's objects of a matrix, and the renderer's notes.
    struct Objects {
        policies: Vec<CiliumObject>,
        notes: Vec<crate::matrix::Note>,
    }

    fn render(matrix: &Matrix, addresses: &Addresses) -> Objects {
        let typed = crate::render::cilium::objects(matrix, addresses);
        Objects {
            policies: typed
                .objects
                .into_iter()
                .map(|(object, _)| object)
                .collect(),
            notes: typed.notes,
        }
    }
    use crate::values::HostPattern;

    type Labels = std::collections::BTreeMap<String, String>;

    /// The labels of the workload's pods in each operator release that has it.
    fn pods(workload: &Workload) -> Vec<Labels> {
        let instance = workload.instance.as_ref().map_or("", |n| n.as_str());
        ["1.4.0", "1.5.0", "1.7.3", "1.8.0", "1.9.0", "1.10.2"]
            .into_iter()
            .filter_map(|r| releases::pod_labels(workload.component, instance, r.parse().unwrap()))
            .collect()
    }

    /// Whether `selector` selects a pod with `labels`.
    fn selects_labels(selector: &EndpointSelector, labels: &Labels) -> bool {
        !selector.match_labels.is_empty()
            && selector
                .match_labels
                .iter()
                .all(|(k, v)| labels.get(k) == Some(v))
            && selector.match_expressions.iter().all(|e| match &e.values {
                None => labels.contains_key(&e.key),
                Some(values) => labels.get(&e.key).is_some_and(|v| values.contains(v)),
            })
    }

    /// Whether `selector` selects the pods of `workload` (labels and namespace) in every
    /// operator release.
    fn selects(selector: &EndpointSelector, workload: &Workload) -> bool {
        let pods = pods(workload);
        !pods.is_empty()
            && pods.into_iter().all(|mut labels| {
                labels.insert(NAMESPACE_LABEL.into(), workload.namespace.to_string());
                selects_labels(selector, &labels)
            })
    }

    /// Whether `selector` selects exactly the pods `pods` names: their labels, in their
    /// namespace, or in every namespace (a namespace label that exists) without one.
    fn selects_pods(selector: &EndpointSelector, pods: &crate::matrix::Pods) -> bool {
        let mut expected = pods.labels.clone();
        if let Some(namespace) = &pods.namespace {
            expected.insert(NAMESPACE_LABEL.into(), namespace.to_string());
        }
        let everywhere = pods.namespace.is_none()
            && selector.match_expressions.len() == 1
            && selector.match_expressions[0].key == NAMESPACE_LABEL;
        selector.match_labels == expected
            && (everywhere || (pods.namespace.is_some() && selector.match_expressions.is_empty()))
    }

    fn subject_selects(object: &CiliumObject, workload: &Workload) -> bool {
        match (&object.spec().subject, object) {
            (Subject::Endpoints(selector), CiliumObject::Namespaced(p)) => {
                let pods = pods(workload);
                p.metadata().namespace.as_deref() == Some(workload.namespace.as_str())
                    && !pods.is_empty()
                    && pods.iter().all(|labels| selects_labels(selector, labels))
            }
            _ => false,
        }
    }

    fn ports_allow(rules: &[Vec<PortProtocol>], ports: &Ports) -> bool {
        let Ports::List(list) = ports else {
            return rules.is_empty();
        };
        rules.is_empty()
            || list.iter().all(|p: &Port| {
                let protocol = match p.protocol {
                    Protocol::Tcp => crate::render::cilium::model::Protocol::Tcp,
                    Protocol::Udp => crate::render::cilium::model::Protocol::Udp,
                    Protocol::Sctp => crate::render::cilium::model::Protocol::Sctp,
                };
                rules
                    .iter()
                    .flatten()
                    .any(|pp| *pp == PortProtocol::new(p.number, protocol))
            })
    }

    fn ingress_peer_matches(peer: &IngressPeer, from: &Endpoint) -> bool {
        match (peer, from) {
            (IngressPeer::Endpoints(selectors), Endpoint::Workload(w))
                if matches!(w.selection, Selection::Namespaces { .. }) =>
            {
                selectors.iter().any(|s| {
                    s.match_labels.iter().any(|(k, v)| {
                        k.ends_with(INSTANCE_NAMESPACE_LABEL)
                            && Some(v.as_str()) == w.instance.as_ref().map(|n| n.as_str())
                    })
                })
            }
            (IngressPeer::Entities(e), Endpoint::Workload(w))
                if matches!(w.selection, Selection::HostNetwork(_)) =>
            {
                e.contains(&Entity::Host) && e.contains(&Entity::RemoteNode)
            }
            (IngressPeer::Endpoints(selectors), Endpoint::Workload(w)) => {
                selectors.iter().any(|s| selects(s, w))
            }
            (IngressPeer::Entities(e), Endpoint::Nodes(_)) => e.contains(&Entity::Host),
            (IngressPeer::Entities(e), Endpoint::KubeApiServer(_)) => {
                e.contains(&Entity::KubeApiserver)
            }
            (IngressPeer::Endpoints(selectors), Endpoint::Pods(pods))
                if pods.kind == PodsKind::Prometheus =>
            {
                selectors
                    .iter()
                    .any(|s| s.match_labels.contains_key(NAMESPACE_LABEL))
            }
            (IngressPeer::Endpoints(selectors), Endpoint::Pods(pods)) => {
                selectors.iter().any(|s| selects_pods(s, pods))
            }
            _ => false,
        }
    }

    fn egress_peer_matches(peer: &EgressPeer, to: &Endpoint, has_dns_rule: bool) -> bool {
        match (peer, to) {
            (EgressPeer::Endpoints(selectors), Endpoint::Workload(w)) => {
                selectors.iter().any(|s| selects(s, w))
            }
            (EgressPeer::Endpoints(selectors), Endpoint::Pods(pods)) => {
                selectors.iter().any(|s| selects_pods(s, pods))
            }
            (EgressPeer::Cidrs(nets), Endpoint::Blocks(blocks)) => {
                blocks.cidrs.iter().all(|c| nets.contains(c))
            }
            (EgressPeer::Entities(e), Endpoint::Nodes(Nodes(_, NodeScope::Own))) => {
                e == &[Entity::Host]
            }
            (EgressPeer::Entities(e), Endpoint::Nodes(Nodes(_, NodeScope::Every))) => {
                e.contains(&Entity::Host) && e.contains(&Entity::RemoteNode)
            }
            (EgressPeer::Entities(e), Endpoint::KubeApiServer(_)) => {
                e.contains(&Entity::KubeApiserver)
            }
            (EgressPeer::Endpoints(selectors), Endpoint::Dns(_)) => {
                has_dns_rule
                    && selectors
                        .iter()
                        .any(|s| s.match_labels.contains_key(NAMESPACE_LABEL))
            }
            (EgressPeer::Fqdns(names), Endpoint::Host { host, .. }) => host
                .name()
                .is_some_and(|name| names.contains(&FqdnSelector::Name(name.clone()))),
            (EgressPeer::Cidrs(nets), Endpoint::Host { host, .. }) => host
                .ip_address()
                .is_some_and(|ip| nets.iter().any(|n| n.net().contains(&ip))),
            (EgressPeer::Fqdns(names), Endpoint::HostPattern(HostPattern::Below(domain))) => {
                names.contains(&FqdnSelector::Pattern(FqdnPattern::Below(domain.clone())))
            }
            (EgressPeer::Fqdns(names), Endpoint::HostPattern(HostPattern::Name(name))) => {
                names.contains(&FqdnSelector::Name(name.clone()))
            }
            _ => false,
        }
    }

    #[test]
    fn every_cilium_policy_is_one_cilium_enforces_as_written() {
        for fixture in fixtures() {
            let cilium = render(&fixture.matrix, &fixture.addresses);
            for object in &cilium.policies {
                if let Err(error) = object.spec().validate() {
                    panic!("{}: {}: {error}", fixture.name, object.name());
                }
            }
        }
    }

    /// With `cilium.appEgress` on every fixture, each clusterwide policy of application pods
    /// selects the namespaces of one DynaKube or one named namespace: never every pod, which
    /// would add allows to the operator namespace too.
    #[test]
    fn application_egress_never_selects_every_pod() {
        let mut written = BTreeSet::new();
        for fixture in fixtures() {
            let mut matrix = fixture.matrix.clone();
            matrix.profile.cilium.app_egress = true;
            let cilium = render(&matrix, &fixture.addresses);
            for object in &cilium.policies {
                let (CiliumObject::Clusterwide(_), Subject::Endpoints(selector)) =
                    (object, &object.spec().subject)
                else {
                    continue;
                };
                let namespaced = selector
                    .match_labels
                    .keys()
                    .any(|key| key == NAMESPACE_LABEL || key.ends_with(INSTANCE_NAMESPACE_LABEL));
                assert!(
                    namespaced && selector.match_expressions.is_empty(),
                    "{}: {} selects {selector:?}",
                    fixture.name,
                    object.name()
                );
                written.insert(object.name());
            }
            // Classic full-stack applications of every namespace get a note instead.
            let every = matrix.flows.iter().any(|f| {
                matches!(&f.from, Endpoint::Pods(p) if p.kind == PodsKind::ClassicApps && p.namespace.is_none())
            });
            if every {
                assert!(
                    cilium
                        .notes
                        .iter()
                        .any(|n| n.text.contains("only for the namespaces listed")),
                    "{}",
                    fixture.name
                );
            }
        }
        assert!(
            written.contains("dynatrace-classic-apps-shop-egress"),
            "{written:?}"
        );
        assert!(
            written.contains("dynatrace-dynakube-injected-apps-egress"),
            "{written:?}"
        );
    }

    #[test]
    fn both_flavors_cover_the_same_flows() {
        let mut checked = 0;
        for fixture in fixtures() {
            let cilium = render(&fixture.matrix, &fixture.addresses);
            for flow in &fixture.matrix.flows {
                let mut sides = 0;
                if let Some(source) = flow.from.policy_subject() {
                    let egress_ok = matches!(flow.to, Endpoint::Unbounded(_))
                        || cilium
                            .policies
                            .iter()
                            .filter(|p| subject_selects(p, source))
                            .any(|p| {
                                p.spec().egress.iter().any(|rule| {
                                    let ports: Vec<Vec<PortProtocol>> =
                                        rule.to_ports.iter().map(|r| r.ports.clone()).collect();
                                    let dns = rule.to_ports.iter().any(|r| r.rules.is_some());
                                    egress_peer_matches(&rule.to, &flow.to, dns)
                                        && (matches!(flow.to, Endpoint::KubeApiServer(_))
                                            || ports_allow(&ports, &flow.ports))
                                })
                            });
                    assert!(
                        egress_ok,
                        "{}: no Cilium egress rule allows {} {} -> {} ({})",
                        fixture.name, flow.id, flow.from, flow.to, flow.ports
                    );
                    sides += 1;
                }
                if let Some(destination) = flow.to.policy_subject() {
                    let ingress_ok = cilium
                        .policies
                        .iter()
                        .filter(|p| subject_selects(p, destination))
                        .any(|p| {
                            p.spec().ingress.iter().any(|rule| {
                                let ports: Vec<Vec<PortProtocol>> =
                                    rule.to_ports.iter().map(|r| r.ports.clone()).collect();
                                ingress_peer_matches(&rule.from, &flow.from)
                                    && ports_allow(&ports, &flow.ports)
                            })
                        });
                    assert!(
                        ingress_ok,
                        "{}: no Cilium ingress rule allows {} {} -> {} ({})",
                        fixture.name, flow.id, flow.from, flow.to, flow.ports
                    );
                    sides += 1;
                }
                checked += sides;
            }
        }
        assert!(
            checked > 300,
            "the flows of every fixture were checked ({checked})"
        );
    }
}

/// Every note on rows that a fixture gets, in every flavor, with its profile and without one,
/// has its meaning among those `dynakube-netpol matrix` prints: the same level, words of it,
/// and its rows.
#[test]
fn every_note_on_rows_has_a_meaning() {
    use crate::matrix::MEANINGS;
    let mut checked = 0;
    for fixture in fixtures() {
        let bare = crate::matrix::build(
            &fixture.inputs,
            &ClusterProfile::default(),
            &fixture.options,
        )
        .ok()
        .and_then(|matrix| {
            let policy = AddressPolicy::default();
            let addresses = resolve(
                &matrix,
                &FixedHosts::default(),
                Fallback::PublicInternet,
                &policy,
            )
            .ok()?;
            Some((matrix, addresses))
        });
        let runs = [
            Some((fixture.matrix.clone(), fixture.addresses.clone())),
            bare,
        ];
        for (matrix, addresses) in runs.into_iter().flatten() {
            for flavor in crate::Flavor::ALL {
                let rendered = flavor.render(&matrix, &addresses);
                let all = matrix
                    .notes
                    .iter()
                    .chain(&rendered.notes)
                    .chain(&addresses.notes);
                let mut notes = crate::matrix::merged_notes(all.cloned());
                if matrix.profile.names_nothing() {
                    notes = crate::matrix::without_profile(notes);
                }
                for note in notes.iter().filter(|n| !n.refs.is_empty()) {
                    let meant = MEANINGS.iter().any(|m| {
                        m.level == note.level
                            && note.text.contains(m.says)
                            && note.refs.iter().all(|r| m.rows.contains(r))
                    });
                    assert!(
                        meant,
                        "{} ({}): no meaning for {note}",
                        fixture.name,
                        flavor.as_str()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked} notes checked");
}

/// The Cilium flavor of `fixture`, verified in the model cluster of its matrix as a user's
/// policies are: read back from their YAML.
fn verify_cilium(fixture: &Fixture) -> verify::Report {
    let rendered = crate::render::cilium::render(&fixture.matrix, &fixture.addresses);
    let text: String = rendered
        .policies
        .iter()
        .map(|p| format!("---\n{}", p.yaml()))
        .collect();
    let files = crate::evaluate::read_policies("cilium.yaml", &text, &Default::default())
        .expect("the Cilium flavor reads back");
    let cluster = verify::model_cluster(&fixture.matrix);
    let index = Index::with_options(cluster, &files, crate::evaluate::Options::default()).unwrap();
    verify::verify(&fixture.matrix, &index, &fixture.addresses)
}

#[test]
fn cilium_policies_allow_the_matrix_and_nothing_else() {
    let mut checked = 0;
    let mut with_extras = BTreeSet::new();
    let all = fixture_dirs()
        .into_iter()
        .flat_map(|dir| [Some(load(&dir)), restricted(&dir)]);
    for fixture in all.flatten() {
        let report = verify_cilium(&fixture);
        if !report.extras.is_empty() {
            with_extras.insert(fixture.name.clone());
        }
        for (flow, check) in fixture.matrix.flows.iter().zip(&report.flows) {
            assert!(
                check.status != Status::Denied,
                "{}: flow {} is denied: {}",
                fixture.name,
                flow.id,
                check.decided_by()
            );
        }
        // Connections beyond the matrix are allowed only by policies that a warning says were
        // widened.
        let rendered = crate::render::cilium::render(&fixture.matrix, &fixture.addresses);
        let widened: BTreeSet<String> = rendered
            .policies
            .iter()
            .filter(|p| {
                let flows = p
                    .to_json()
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(crate::render::FLOWS_ANNOTATION))
                    .and_then(|f| f.as_str().map(String::from))
                    .unwrap_or_default();
                rendered.notes.iter().any(|n| {
                    n.level == Level::Warning
                        && flows
                            .split(", ")
                            .any(|f| n.refs.iter().any(|r| r.name() == f))
                })
            })
            .filter_map(|p| p.to_json()["metadata"]["name"].as_str().map(String::from))
            .collect();
        for extra in &report.extras {
            assert!(
                extra.policy.as_ref().is_some_and(|policy| widened
                    .iter()
                    .any(|name| policy.ends_with(&format!("/{name}"))
                        || policy.ends_with(&format!(" {name}")))),
                "{}: {} {:?} admits beyond the matrix ({:?} {:?}): {:?}",
                fixture.name,
                extra.direction,
                extra.pods,
                extra.policy,
                extra.field,
                extra.beyond
            );
        }
        checked += 1;
    }
    assert!(checked > 20, "{checked} fixtures checked");
    // Only the host-network control plane's widening admits more.
    assert!(
        with_extras
            .iter()
            .all(|name| name.starts_with("cilium-host-firewall")),
        "{with_extras:?}"
    );
}

/// What the Cilium flavor of `a-cloud-native-network-zone` allows beyond the matrix once `edit`
/// changed the YAML of its policies (by name; `None` drops one), in the model cluster that
/// `more` adds to, each extra as JSON.
fn widened_cilium(
    edit: impl Fn(&str, &str) -> Option<String>,
    more: impl FnOnce(&mut crate::evaluate::Cluster),
) -> Vec<serde_json::Value> {
    let dir = fixture_dirs()
        .into_iter()
        .find(|d| d.ends_with("a-cloud-native-network-zone"))
        .unwrap();
    let fixture = load(&dir);
    let rendered = crate::render::cilium::render(&fixture.matrix, &fixture.addresses);
    let text: String = rendered
        .policies
        .iter()
        .filter_map(|p| {
            let name = p.to_json()["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string();
            edit(&name, p.yaml()).map(|yaml| format!("---\n{yaml}"))
        })
        .collect();
    let files = crate::evaluate::read_policies("cilium.yaml", &text, &Default::default()).unwrap();
    let mut cluster = verify::model_cluster(&fixture.matrix);
    more(&mut cluster);
    let index = Index::with_options(cluster, &files, crate::evaluate::Options::default()).unwrap();
    let report = verify::verify(&fixture.matrix, &index, &fixture.addresses);
    assert!(
        !report.flows.iter().any(|f| f.status == Status::Denied),
        "{}",
        report.to_text()
    );
    report
        .extras
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

/// `text` with `from` replaced by `to` in the policy `policy` (which must hold it).
fn replaced<'a>(
    policy: &'a str,
    from: &'a str,
    to: &'a str,
) -> impl Fn(&str, &str) -> Option<String> + 'a {
    move |name, yaml| {
        if name != policy {
            return Some(yaml.to_string());
        }
        assert!(yaml.contains(from), "{name}: no {from:?} in\n{yaml}");
        Some(yaml.replacen(from, to, 1))
    }
}

/// An extra of the ActiveGate as `verify --format json` gives it.
fn activegate_extra(
    direction: &str,
    policy: &str,
    rule: usize,
    beyond: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "pods": ["dynatrace/dynakube-activegate-0"],
        "direction": direction,
        "policy": format!("CiliumNetworkPolicy dynatrace/{policy}"),
        "rule": rule,
        "dialect": "CiliumNetworkPolicy",
        "field": format!("spec.{direction}[{rule}]"),
        "beyond": beyond,
    })
}

/// Address blocks as the report writes them.
fn blocks_json(set: &crate::evaluate::sets::AddressSet) -> serde_json::Value {
    set.blocks()
        .iter()
        .map(|b| {
            let except: Vec<String> = b.except.iter().map(ToString::to_string).collect();
            if except.is_empty() {
                serde_json::json!({"cidr": b.net.to_string()})
            } else {
                serde_json::json!({"cidr": b.net.to_string(), "except": except})
            }
        })
        .collect()
}

/// The ActiveGate's policy for its communication endpoints, and `rule` appended to it.
const ENDPOINTS: &str = "dynakube-activegate-egress-communication-endpoints";

fn appended(rule: &str) -> impl Fn(&str, &str) -> Option<String> + '_ {
    move |name, yaml| {
        Some(if name == ENDPOINTS {
            format!("{yaml}{rule}")
        } else {
            yaml.into()
        })
    }
}

fn ip(text: &str) -> std::net::IpAddr {
    text.parse().unwrap()
}

#[test]
fn cilium_policies_as_generated_allow_nothing_beyond() {
    let extras = widened_cilium(|_, yaml| Some(yaml.into()), |_| {});
    assert_eq!(extras, Vec::<serde_json::Value>::new());
}

#[test]
fn an_added_world_entity_is_reported_exactly() {
    use crate::evaluate::sets::AddressSet;
    // `toEntities: [world]` on 443: every address outside the cluster (not the nodes', whose
    // block stands for them in the model), less the tenant's and kube-apiserver's Service,
    // which the matrix needs.
    let world = "  - toEntities:\n    - world\n    toPorts:\n    - ports:\n      - port: '443'\n        protocol: TCP\n";
    let extras = widened_cilium(appended(world), |_| {});
    let needed = [
        "10.96.0.1",
        "203.0.113.10",
        "203.0.113.11",
        "2001:db8:10::10",
    ];
    let outside = AddressSet::all()
        .difference(&AddressSet::net(&"192.0.2.0/24".parse().unwrap()))
        .difference(&AddressSet::addresses(needed.map(ip)));
    let beyond =
        serde_json::json!([{"pods": [], "addresses": blocks_json(&outside), "ports": ["443/TCP"]}]);
    assert_eq!(extras, [activegate_extra("egress", ENDPOINTS, 1, beyond)]);
}

#[test]
fn a_port_widened_to_a_range_is_reported_exactly() {
    // kube-apiserver on every port from 443 to 8443, which the matrix needs on 443 and 6443.
    let api = "dynakube-activegate-egress-kube-apiserver";
    let extras = widened_cilium(
        replaced(
            api,
            "      - port: '443'\n",
            "      - port: '443'\n        endPort: 8443\n",
        ),
        |_| {},
    );
    let beyond = serde_json::json!([{"pods": [], "addresses": [{"cidr": "192.0.2.10/32"}], "ports": ["444-6442/TCP", "6444-8443/TCP"]}]);
    assert_eq!(extras, [activegate_extra("egress", api, 0, beyond)]);
}

#[test]
fn every_endpoint_of_the_namespace_is_reported_where_its_egress_allows() {
    // `fromEndpoints: [{}]`: every pod of the namespace whose own egress lets it through, here
    // a pod of someone else's without policies, once the namespace's default deny is gone
    // (which opens more, of other policies).
    let apps = "dynakube-activegate-ingress-injected-apps";
    let every = "  - fromEndpoints:\n    - {}\n    toPorts:\n    - ports:\n      - port: '9999'\n        protocol: TCP\n";
    let edit = |name: &str, yaml: &str| match name {
        "default-deny" => None,
        _ if name == apps => Some(format!("{yaml}{every}")),
        _ => Some(yaml.into()),
    };
    let debug = |cluster: &mut crate::evaluate::Cluster| {
        cluster.pods.push(crate::evaluate::Pod {
            name: "debug-0".into(),
            namespace: "dynatrace".into(),
            labels: [("app".to_string(), "debug".to_string())].into(),
            ips: vec![ip("10.244.0.99")],
            node: Some("node-0".into()),
            ..crate::evaluate::Pod::default()
        });
    };
    let policy = format!("CiliumNetworkPolicy dynatrace/{apps}");
    let of_apps: Vec<serde_json::Value> = widened_cilium(edit, debug)
        .into_iter()
        .filter(|e| e["policy"] == policy.as_str())
        .collect();
    let beyond = serde_json::json!([{"pods": ["dynatrace/debug-0"], "addresses": [], "ports": ["9999/TCP"]}]);
    assert_eq!(of_apps, [activegate_extra("ingress", apps, 1, beyond)]);
    // The default deny refuses the pod's egress: nothing beyond.
    let kept = |name: &str, yaml: &str| edit(name, yaml).or_else(|| Some(yaml.into()));
    assert_eq!(widened_cilium(kept, debug), Vec::<serde_json::Value>::new());
}

#[test]
fn a_cidr_without_its_except_is_reported_exactly() {
    use crate::evaluate::sets::AddressSet;
    // With its `except`, the block admits the tenant's two addresses alone; without it, the
    // rest of the block too.
    let except = "      except: [203.0.113.0/29, 203.0.113.8/31, 203.0.113.12/30, 203.0.113.16/28, 203.0.113.32/27, 203.0.113.64/26, 203.0.113.128/25]\n";
    let cidr = format!(
        "  - toCIDRSet:\n    - cidr: 203.0.113.0/24\n{except}    toPorts:\n    - ports:\n      - port: '443'\n        protocol: TCP\n"
    );
    let with_except = widened_cilium(appended(&cidr), |_| {});
    assert_eq!(with_except, Vec::<serde_json::Value>::new());
    let without = cidr.replace(except, "");
    let extras = widened_cilium(appended(&without), |_| {});
    let rest = AddressSet::net(&"203.0.113.0/24".parse().unwrap()).difference(
        &AddressSet::addresses(["203.0.113.10", "203.0.113.11"].map(ip)),
    );
    let beyond =
        serde_json::json!([{"pods": [], "addresses": blocks_json(&rest), "ports": ["443/TCP"]}]);
    assert_eq!(extras, [activegate_extra("egress", ENDPOINTS, 1, beyond)]);
}

#[test]
fn a_name_pattern_for_every_name_is_reported_as_the_pattern() {
    // `matchPattern: "*"`: every name the DNS rules let the ActiveGate look up (those under the
    // cluster domain too), reported as the rule's pattern.
    let extras = widened_cilium(
        replaced(
            ENDPOINTS,
            "matchName: abc12345.live.dynatrace.com",
            "matchPattern: '*'",
        ),
        |_| {},
    );
    let beyond =
        serde_json::json!([{"pods": [], "addresses": [], "names": ["*"], "ports": ["443/TCP"]}]);
    assert_eq!(extras, [activegate_extra("egress", ENDPOINTS, 0, beyond)]);
}

#[test]
fn a_host_policy_refuses_what_a_rule_admits_towards_its_node() {
    // The ActiveGate may reach the other nodes' kubelet port (every address of the node block
    // but its own node's); their host network admits it.
    let kubelets = "  - toEntities:\n    - remote-node\n    toPorts:\n    - ports:\n      - port: '10250'\n        protocol: TCP\n";
    let extras = widened_cilium(appended(kubelets), |_| {});
    let beyond = serde_json::json!([{"pods": [], "addresses": [{"cidr": "192.0.2.0/24", "except": ["192.0.2.1/32"]}], "ports": ["10250/TCP"]}]);
    assert_eq!(extras, [activegate_extra("egress", ENDPOINTS, 1, beyond)]);
    // A host policy that admits nothing from the cluster on that port refuses it (it admits
    // kube-apiserver's ports: kube-apiserver serves on a node of the block).
    let hosts = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: hosts}\nspec:\n  nodeSelector: {}\n  enableDefaultDeny: {ingress: true, egress: false}\n  ingress:\n  - fromEntities: [cluster]\n    toPorts: [{ports: [{port: '22', protocol: TCP}, {port: '443', protocol: TCP}, {port: '6443', protocol: TCP}]}]\n";
    let edit = |name: &str, yaml: &str| {
        let yaml = appended(kubelets)(name, yaml)?;
        Some(if name == "default-deny" {
            format!("{yaml}---\n{hosts}")
        } else {
            yaml
        })
    };
    assert_eq!(
        widened_cilium(edit, |_| {}),
        Vec::<serde_json::Value>::new()
    );
}
