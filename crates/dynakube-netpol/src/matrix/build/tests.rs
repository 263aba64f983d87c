//! Unit tests of the matrix builder: notes on releases and skipped documents, proxied and
//! scraped peers, log monitoring beside a OneAgent, classic full-stack applications.

use super::*;

fn notes(inputs: &Inputs, profile: &ClusterProfile) -> Vec<Note> {
    build(inputs, profile, &Options::default()).unwrap().notes
}

#[test]
fn a_release_of_a_newer_line_than_every_known_one_is_warned_about() {
    let release_notes = |text: &str| -> Vec<Note> {
        let profile = ClusterProfile {
            operator_version: Some(OperatorVersion::parse(text).unwrap()),
            ..ClusterProfile::default()
        };
        notes(&Inputs::default(), &profile)
            .into_iter()
            .filter(|n| n.cause == Some(crate::advice::Cause::Profile("operatorVersion".into())))
            .collect()
    };
    for newer in ["9.9.9", "1.11.0"] {
        let notes = release_notes(newer);
        assert_eq!(notes.len(), 1, "{newer}: {notes:?}");
        assert_eq!(notes[0].level, Level::Warning);
        assert_eq!(
            notes[0].text,
            format!(
                "operator {newer} is newer than the newest release this tool knows, 1.10.2: the policies follow the labels, ports and fields of 1.10.2; a newer version of this tool may know more"
            )
        );
    }
    // A patch of the newest line, known or not, changes nothing the policies follow.
    for known in ["1.10.2", "1.10.3"] {
        assert_eq!(release_notes(known), [], "{known}");
    }
}

#[test]
fn the_note_on_skipped_documents_names_the_first_five() {
    let skipped_note = |count: usize| -> String {
        let inputs = Inputs {
            skipped: (1..=count)
                .map(|document| crate::resources::Skipped {
                    location: Location::new("chart.yaml", Some(document), ""),
                    kind: "ConfigMap".into(),
                    api_version: "v1".into(),
                })
                .collect(),
            ..Inputs::default()
        };
        let notes = notes(&inputs, &ClusterProfile::default());
        let note = notes.iter().find(|n| n.text.starts_with("skipped "));
        note.expect("a note on the skipped documents").text.clone()
    };
    let listed = |documents: std::ops::RangeInclusive<usize>| -> Vec<String> {
        documents
            .map(|d| format!("ConfigMap v1 (chart.yaml, document {d})"))
            .collect()
    };
    assert_eq!(
        skipped_note(5),
        format!(
            "skipped 5 document(s) of other kinds: {}",
            listed(1..=5).join(", ")
        )
    );
    assert_eq!(
        skipped_note(59),
        format!(
            "skipped 59 document(s) of other kinds: {}, and 54 more",
            listed(1..=5).join(", ")
        )
    );
}

/// The matrix of the DynaKube `yaml` in the cluster of the profile `profile`.
fn matrix(yaml: &str, profile: &str) -> Matrix {
    let mut inputs = Inputs::default();
    let options = crate::input::ParseOptions::default();
    crate::input::parse_into(&mut inputs, "dk.yaml", yaml, &options).unwrap();
    let profile = ClusterProfile::parse("cluster.yaml", profile).unwrap();
    build(&inputs, &profile, &Options::default()).unwrap()
}

/// The destinations of the flows of row `id`, as text.
fn destinations(matrix: &Matrix, id: RowId) -> Vec<String> {
    let mut to: Vec<String> = matrix
        .flows
        .iter()
        .filter(|f| f.id == id)
        .map(|f| format!("{} {}", f.to, f.ports))
        .collect();
    to.dedup();
    to
}

#[test]
fn the_bootstrapper_download_takes_the_proxy_unless_oneagents_ignore_it() {
    for (release, version) in [
        ("1.4.0", "v1beta3"),
        ("1.6.3", "v1beta3"),
        ("1.7.3", "v1beta3"),
        ("1.9.0", "v1beta5"),
        ("1.10.2", "v1beta5"),
    ] {
        let profile = format!("operatorVersion: \"{release}\"\ncsiDriver: false\n");
        for (flag, expected) in [
            ("false", "proxy.example.com 3128/TCP"),
            ("true", "abc12345.live.dynatrace.com 443/TCP"),
        ] {
            let yaml = format!(
                "apiVersion: dynatrace.com/{version}\nkind: DynaKube\nmetadata:\n  name: dk\n  namespace: dynatrace\n  annotations:\n    feature.dynatrace.com/oneagent-ignore-proxy: \"{flag}\"\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n  proxy: {{value: http://proxy.example.com:3128}}\n  oneAgent: {{applicationMonitoring: {{}}}}\n"
            );
            let matrix = matrix(&yaml, &profile);
            assert_eq!(
                destinations(&matrix, RowId::E13),
                [expected],
                "{release}, oneagent-ignore-proxy {flag}"
            );
        }
    }
}

#[test]
fn log_monitoring_beside_a_oneagent_daemonset_has_no_rows_and_a_note() {
    for (release, version) in [
        ("1.4.0", "v1beta3"),
        ("1.5.1", "v1beta4"),
        ("1.7.3", "v1beta3"),
        ("1.8.1", "v1beta5"),
        ("1.10.2", "v1beta6"),
    ] {
        let profile = format!("operatorVersion: \"{release}\"\n");
        for mode in [
            "classicFullStack",
            "cloudNativeFullStack",
            "hostMonitoring",
            "applicationMonitoring",
        ] {
            let yaml = format!(
                "apiVersion: dynatrace.com/{version}\nkind: DynaKube\nmetadata: {{name: dk, namespace: dynatrace}}\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n  oneAgent: {{{mode}: {{}}}}\n  logMonitoring: {{}}\n  activeGate: {{capabilities: [kubernetes-monitoring]}}\n"
            );
            let matrix = matrix(&yaml, &profile);
            let standalone = mode == "applicationMonitoring";
            let rows = |id| !destinations(&matrix, id).is_empty();
            assert_eq!(rows(RowId::E14), standalone, "{release} {mode}");
            assert_eq!(rows(RowId::E15), standalone, "{release} {mode}");
            let note = matrix.notes.iter().find(|n| {
                n.cause
                    == Some(crate::advice::Cause::Resource(
                        "DynaKube dynatrace/dk spec.logMonitoring".into(),
                    ))
            });
            assert_eq!(note.is_some(), !standalone, "{release} {mode}");
            if let Some(note) = note {
                assert_eq!(note.level, Level::Info);
                assert_eq!(
                    note.text,
                    format!(
                        "DynaKube dk: `logMonitoring` beside `{mode}` starts no log-monitoring DaemonSet: the OneAgent DaemonSet monitors the logs itself, so the field changes no traffic (no E14, E15)"
                    )
                );
            }
        }
    }
}

#[test]
fn the_collector_of_prometheus_extensions_scrapes_every_kubelet() {
    for (release, version, extensions) in [
        ("1.4.0", "v1beta3", "extensions: {}"),
        ("1.7.3", "v1beta3", "extensions: {}"),
        ("1.9.0", "v1beta5", "extensions: {}"),
        ("1.10.2", "v1beta6", "extensions: {prometheus: {}}"),
        ("1.10.2", "v1beta6", "telemetryIngest: {}"),
    ] {
        let yaml = format!(
            "apiVersion: dynatrace.com/{version}\nkind: DynaKube\nmetadata: {{name: dk, namespace: dynatrace}}\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n  {extensions}\n"
        );
        let profile = format!("operatorVersion: \"{release}\"\nnodeCIDRs: [192.0.2.0/24]\n");
        let matrix = matrix(&yaml, &profile);
        let kubelets: Vec<&Flow> = matrix
            .flows
            .iter()
            .filter(|f| {
                matches!(&f.from, Endpoint::Workload(w) if w.component == Component::OtelCollector)
                    && matches!(f.to, Endpoint::Nodes(_))
            })
            .collect();
        if extensions.starts_with("telemetryIngest") {
            // Without Prometheus extensions the collector scrapes nothing.
            assert!(kubelets.is_empty(), "{release}: {kubelets:?}");
            continue;
        }
        assert_eq!(kubelets.len(), 1, "{release} {extensions}");
        let flow = kubelets[0];
        assert_eq!(flow.id, RowId::E21);
        assert_eq!(flow.ports.to_string(), "10250/TCP");
        assert_eq!(
            flow.to,
            Endpoint::Nodes(crate::matrix::Nodes(
                vec![crate::values::Cidr::parse("192.0.2.0/24").unwrap()],
                crate::matrix::NodeScope::Every
            ))
        );
    }
}

/// The flows of classic full-stack application pods, as `row from -> to ports`.
fn classic_flows(matrix: &Matrix) -> Vec<String> {
    matrix
        .flows
        .iter()
        .filter(|f| matches!(&f.from, Endpoint::Pods(p) if p.kind == crate::matrix::PodsKind::ClassicApps))
        .map(|f| format!("{} {} -> {} {}", f.id, f.from, f.to, f.ports))
        .collect()
}

#[test]
fn classic_full_stack_applications_have_the_egress_of_code_modules() {
    let dk = |annotations: &str, spec: &str| {
        format!(
            "apiVersion: dynatrace.com/v1beta5\nkind: DynaKube\nmetadata:\n  name: dk\n  namespace: dynatrace\n  annotations: {{{annotations}}}\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n  oneAgent: {{classicFullStack: {{}}}}\n{spec}"
        )
    };
    let profile = "operatorVersion: \"1.10.2\"\nclassicFullStackNamespaces: [shop]\n";
    let shop = "application pods (classic full-stack)";
    // Without an ActiveGate: to the tenant, and DNS.
    let plain = matrix(&dk("", ""), profile);
    let mut flows = classic_flows(&plain);
    flows.sort();
    assert_eq!(
        flows,
        [
            format!("E1 {shop} -> cluster DNS 53/TCP, 53/UDP"),
            format!("E12 {shop} -> abc12345.live.dynatrace.com 443/TCP"),
        ]
    );
    let shop_pods = plain
        .flows
        .iter()
        .find(|f| f.id == RowId::E12)
        .map(|f| f.from.clone());
    assert!(
        matches!(&shop_pods, Some(Endpoint::Pods(p)) if p.namespace.as_ref().map(|n| n.as_str()) == Some("shop"))
    );
    // Through the proxy unless the OneAgents ignore it, as the host agent's own traffic.
    let proxy = "  proxy: {value: http://proxy.example.com:3128}\n";
    let through = classic_flows(&matrix(&dk("", proxy), profile));
    assert!(
        through.contains(&format!("E12 {shop} -> proxy.example.com 3128/TCP")),
        "{through:?}"
    );
    let ignored = classic_flows(&matrix(
        &dk("feature.dynatrace.com/oneagent-ignore-proxy: 'true'", proxy),
        profile,
    ));
    assert!(
        ignored.contains(&format!(
            "E12 {shop} -> abc12345.live.dynatrace.com 443/TCP"
        )),
        "{ignored:?}"
    );
    // A routing ActiveGate in a zone with fallback NONE: to the ActiveGate only.
    let zone = "  networkZone: restricted\n  activeGate: {capabilities: [routing]}\n";
    let restricted = format!("{profile}networkZones: {{restricted: none}}\n");
    let flows = classic_flows(&matrix(&dk("", zone), &restricted));
    let e12: Vec<&String> = flows.iter().filter(|f| f.starts_with("E12")).collect();
    assert_eq!(e12, [&format!("E12 {shop} -> dk-activegate 9999/TCP")]);
    // Other modes have no classic applications.
    let cloud_native = dk("", "").replace("classicFullStack", "cloudNativeFullStack");
    assert_eq!(
        classic_flows(&matrix(&cloud_native, profile)),
        Vec::<String>::new()
    );
}
