//! `dynakube-netpol audit` on pod dumps with skipped-injection reasons of several operator
//! releases, in YAML and JSON, with and without DynaKube status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .arg("audit")
        .args(args)
        .output()
        .unwrap()
}

/// A pod of `owner` (`ReplicaSet name hash`, `StatefulSet name`, or none) with annotations.
fn pod(
    name: &str,
    namespace: &str,
    owner: Option<(&str, &str)>,
    hash: Option<&str>,
    annotations: &[(&str, &str)],
) -> String {
    let mut out = format!(
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {name}\n    namespace: {namespace}\n"
    );
    if let Some(hash) = hash {
        out.push_str(&format!("    labels: {{pod-template-hash: \"{hash}\"}}\n"));
    }
    out.push_str("    annotations:\n");
    for (k, v) in annotations {
        out.push_str(&format!("      {k}: \"{v}\"\n"));
    }
    if let Some((kind, owner)) = owner {
        out.push_str(&format!("    ownerReferences:\n    - {{apiVersion: apps/v1, kind: {kind}, name: {owner}, uid: x, controller: true}}\n"));
    }
    out
}

/// A pod of the dump: name, namespace, controller (kind, name), pod template hash, pairs.
struct Case {
    name: &'static str,
    namespace: &'static str,
    owner: Option<(&'static str, &'static str)>,
    hash: Option<&'static str>,
    skips: &'static [(&'static str, &'static str)],
}

const CASES: [Case; 7] = [
    // Operator 1.6 and earlier: the network-zone guide's case.
    Case {
        name: "web-7d9f8c6b5-aaaaa",
        namespace: "shop",
        owner: Some(("ReplicaSet", "web-7d9f8c6b5")),
        hash: Some("7d9f8c6b5"),
        skips: &[("oneagent", "EmptyConnectionInfo")],
    },
    // 1.8 and later.
    Case {
        name: "web-7d9f8c6b5-bbbbb",
        namespace: "shop",
        owner: Some(("ReplicaSet", "web-7d9f8c6b5")),
        hash: Some("7d9f8c6b5"),
        skips: &[
            ("oneagent", "DynaKubeStatusNotReady"),
            ("dynakube", "NoBootstrapperConfig"),
        ],
    },
    Case {
        name: "cache-0",
        namespace: "shop",
        owner: Some(("StatefulSet", "cache")),
        hash: None,
        skips: &[("dynakube", "NoBootstrapperConfig")],
    },
    // 1.10: a configuration problem.
    Case {
        name: "agent-x7k2p",
        namespace: "infra",
        owner: Some(("DaemonSet", "agent")),
        hash: None,
        skips: &[("oneagent", "InvalidInstallPath")],
    },
    // Informational, and a reason of a future release.
    Case {
        name: "batch-1",
        namespace: "jobs",
        owner: Some(("Job", "nightly-29345678")),
        hash: None,
        skips: &[("oneagent", "NoMutationNeeded")],
    },
    Case {
        name: "debug",
        namespace: "tools",
        owner: None,
        hash: None,
        skips: &[("otlp-exporter-configuration", "SomethingNew")],
    },
    Case {
        name: "fine",
        namespace: "shop",
        owner: None,
        hash: None,
        skips: &[],
    },
];

fn dump() -> String {
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for case in &CASES {
        let mut annotations: Vec<(String, &str)> = case
            .skips
            .iter()
            .flat_map(|(prefix, reason)| {
                [
                    (format!("{prefix}.dynatrace.com/injected"), "false"),
                    (format!("{prefix}.dynatrace.com/reason"), *reason),
                ]
            })
            .collect();
        if case.skips.is_empty() {
            annotations.push(("oneagent.dynatrace.com/injected".into(), "true"));
        }
        let refs: Vec<(&str, &str)> = annotations.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        text.push_str(&pod(
            case.name,
            case.namespace,
            case.owner,
            case.hash,
            &refs,
        ));
    }
    text
}

#[test]
fn skipped_pods_are_grouped_with_restart_commands() {
    let path = scratch("pods.yaml", &dump());
    let out = audit(&[path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("Read 7 pods; 6 carry skipped-injection annotations, in 5 owners."),
        "{stdout}"
    );
    for expected in [
        "kubectl rollout restart deployment/web -n shop",
        "kubectl rollout restart statefulset/cache -n shop",
        "daemonset infra/agent (1 pod): oneagent InvalidInstallPath",
        "pod tools/debug (1 pod): otlp-exporter-configuration SomethingNew",
        "cronjob jobs/nightly (1 pod): oneagent NoMutationNeeded",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // No restart for what a restart does not fix.
    assert!(!stdout.contains("restart daemonset"), "{stdout}");

    let json = audit(&[path.to_str().unwrap(), "--format", "json"]);
    let report = String::from_utf8_lossy(&json.stdout);
    assert!(report.contains("\"pods\": 7,"), "{report}");
    assert_eq!(report.matches("\"owner\": {").count(), 5, "{report}");
    assert!(report.contains("\"class\": \"needs-fix\""), "{report}");
}

#[test]
fn only_informational_pods_exit_zero_and_status_says_when_to_restart() {
    let informational = "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"annotations\":{\"oneagent.dynatrace.com/injected\":\"false\",\"oneagent.dynatrace.com/reason\":\"NoMutationNeeded\"}}}]}";
    let path = scratch("informational.json", informational);
    assert_eq!(audit(&[path.to_str().unwrap()]).status.code(), Some(0));

    let ready = "apiVersion: dynatrace.com/v1beta5\nkind: DynaKube\nmetadata: {name: ready, namespace: dynatrace}\nspec: {apiUrl: 'https://abc12345.live.dynatrace.com/api'}\nstatus:\n  oneAgent:\n    connectionInfoStatus:\n      endpoints: https://ready-activegate.dynatrace/communication\n---\napiVersion: dynatrace.com/v1beta5\nkind: DynaKube\nmetadata: {name: waiting, namespace: dynatrace}\nspec: {apiUrl: 'https://abc12345.live.dynatrace.com/api'}\n";
    let dynakubes = scratch("dynakubes.yaml", ready);
    let pods = scratch("pods-status.yaml", &dump());
    let out = audit(&[
        pods.to_str().unwrap(),
        "--dynakube",
        dynakubes.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "ready: connection info present (1 OneAgent endpoints): restarting now injects"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("waiting: no connection info in its status yet"),
        "{stdout}"
    );
}
