//! Every fixture under `fixtures/` run through the real binary: valid ones snapshot exactly
//! what it writes to standard output, invalid ones the error it prints (and that nothing else
//! was written).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dynakube_netpol::Flavor;

/// Runs `dynakube-netpol generate` with the arguments of `dir/command`, inside `dir`.
fn generate(dir: &Path, extra: &[&str]) -> Output {
    let command =
        std::fs::read_to_string(dir.join("command")).expect("every fixture has a command file");
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .arg("generate")
        .args(command.split_whitespace())
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

#[test]
fn valid_fixtures() {
    settings().bind(|| {
        insta::glob!("../../../fixtures", "*/command", |path| {
            let dir = path.parent().unwrap();
            // Every flavor of the registry, each with snapshots named after it.
            for flavor in Flavor::ALL.iter().map(|f| f.as_str()) {
                let output = generate(dir, &["--flavor", flavor]);
                let stderr = text(&output.stderr);
                assert!(
                    output.status.success(),
                    "{} ({flavor}): {stderr}",
                    dir.display()
                );
                let stdout = text(&output.stdout);
                // Every note on standard error is also in the header of the output, and a
                // summary closes it.
                let (notes, summary) = stderr
                    .trim_end()
                    .rsplit_once('\n')
                    .unwrap_or(("", stderr.trim_end()));
                for line in notes.lines() {
                    assert!(
                        stdout.contains(&format!("# - {line}\n")),
                        "note missing from header: {line}"
                    );
                }
                let policies = stdout.matches("\n---\n").count();
                let warnings = notes.lines().filter(|l| l.starts_with("warning")).count();
                let expected = format!(
                    "{policies} policies written to standard output; {warnings} warning{}, {} note",
                    if warnings == 1 { "" } else { "s" },
                    notes.lines().count() - warnings
                );
                assert!(
                    summary.starts_with(&expected),
                    "{summary} (expected {expected})"
                );
                insta::assert_snapshot!(flavor, stdout);
            }
        });
    });
}

#[test]
fn invalid_fixtures() {
    settings().bind(|| {
        insta::glob!("../../../fixtures", "invalid/*/command", |path| {
            let dir = path.parent().unwrap();
            let output = generate(dir, &[]);
            assert_eq!(output.status.code(), Some(2), "{}", dir.display());
            assert!(output.stdout.is_empty(), "nothing is written for bad input");
            insta::assert_snapshot!(text(&output.stderr));
        });
    });
}

#[test]
fn every_snapshot_belongs_to_a_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for entry in std::fs::read_dir(root.join("snapshots")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        // Reports of `verify` are named after their fixture: `verify_<fixture>`.
        if let Some(fixture) = stem.strip_prefix("verify_") {
            let path = root.join("fixtures").join(fixture.replace('_', "-"));
            assert!(
                path.exists(),
                "snapshot {name} has no fixture {}",
                path.display()
            );
            continue;
        }
        let (test, fixture) = stem
            .split_once('@')
            .expect("glob snapshots are named test@path");
        let fixture = fixture.replace("__", "/");
        let path = match test {
            flavor if flavor.parse::<Flavor>().is_ok() => root.join("fixtures").join(&fixture),
            "invalid_fixtures" => root.join("fixtures/invalid").join(&fixture),
            // The CI formats of a fixture's reports (`tests/formats.rs`): `<fixture>/<report>`.
            "formats" => root
                .join("fixtures")
                .join(fixture.split('/').next().unwrap_or_default()),
            // Profiles of the cluster dumps (`tests/profile.rs`).
            "profile" => root.join("fixtures/cluster-dumps").join(&fixture),
            other => panic!("snapshot {name} of unknown test {other}"),
        };
        assert!(
            path.exists(),
            "snapshot {name} has no fixture {}",
            path.display()
        );
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn output_is_byte_identical_across_runs() {
    let dir = fixture("everything-v1beta6");
    let first = generate(&dir, &[]);
    let second = generate(&dir, &[]);
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn output_directory_and_check() {
    let dir = fixture("a-cloud-native-network-zone");
    let out = scratch("check");
    let out_arg = out.to_str().unwrap();

    let written = generate(&dir, &["-o", out_arg]);
    assert!(written.status.success(), "{}", text(&written.stderr));
    let kustomization = std::fs::read_to_string(out.join("kustomization.yaml")).unwrap();
    let files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "kustomization.yaml")
        .collect();
    assert!(files.len() > 10);
    for file in &files {
        assert!(
            kustomization.contains(&format!("\n- {file}\n")),
            "{file} not in kustomization"
        );
    }

    let fresh = generate(&dir, &["-o", out_arg, "--check"]);
    assert_eq!(fresh.status.code(), Some(0), "{}", text(&fresh.stderr));
    assert!(fresh.stdout.is_empty());

    // A hand edit, a deleted file and a left-over generated file (listed by the
    // kustomization of the run that wrote it) all make the directory stale.
    let edited = out.join("default-deny.yaml");
    let original = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, original.replace("Egress", "Egres")).unwrap();
    std::fs::remove_file(out.join("dynatrace-operator-egress-dns.yaml")).unwrap();
    std::fs::write(
        out.join("old-policy.yaml"),
        "# Generated by dynakube-netpol 0.0.1 from:\n",
    )
    .unwrap();
    let listing = out.join("kustomization.yaml");
    let listed = std::fs::read_to_string(&listing).unwrap() + "- old-policy.yaml\n";
    std::fs::write(&listing, listed).unwrap();
    // A file of the user's, and a copy of a generated file that the kustomization does not
    // list, are the user's.
    std::fs::write(out.join("notes.yaml"), "# mine\n").unwrap();
    std::fs::write(out.join("my-copy.yaml"), original).unwrap();
    let stale = generate(&dir, &["-o", out_arg, "--check"]);
    assert_eq!(stale.status.code(), Some(1));
    let diff = text(&stale.stdout);
    assert!(
        diff.contains("--- a/default-deny.yaml\n+++ b/default-deny.yaml\n"),
        "{diff}"
    );
    assert!(diff.contains("-  - Egres\n+  - Egress\n"), "{diff}");
    assert!(
        diff.contains("+++ b/dynatrace-operator-egress-dns.yaml"),
        "{diff}"
    );
    assert!(diff.contains("--- a/old-policy.yaml"), "{diff}");
    assert!(
        !diff.contains("notes.yaml") && !diff.contains("my-copy.yaml"),
        "files the tool did not write are left alone"
    );
    assert!(text(&stale.stderr).contains("is stale: 4 file(s) differ"));

    // Writing again repairs it and removes only the tool's own left-overs.
    assert!(generate(&dir, &["-o", out_arg]).status.success());
    assert!(!out.join("old-policy.yaml").exists());
    assert!(out.join("notes.yaml").exists());
    assert!(out.join("my-copy.yaml").exists());
    assert_eq!(
        generate(&dir, &["-o", out_arg, "--check"]).status.code(),
        Some(0)
    );
}

/// Runs git in `dir` (without the machine's configuration), failing with its standard error.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(["-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_check_s_diff_applies_with_git_apply() {
    // A repository holding a fixture's inputs and the policies written from them, with a
    // relative output directory as a GitOps repository names it.
    let repo = scratch("git-apply");
    let source = fixture("a-cloud-native-network-zone");
    std::fs::create_dir_all(&repo).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), repo.join(entry.file_name())).unwrap();
    }
    git(&repo, &["init", "--quiet"]);
    assert!(generate(&repo, &["-o", "policies"]).status.success());
    let out = repo.join("policies");
    // A hand edit (the ActiveGate's port for injected applications), a deleted file (the
    // operator's DNS egress) and a left-over generated file.
    let edited = out.join("dynakube-activegate-ingress-injected-apps.yaml");
    let original = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, original.replace("port: 9999", "port: 9990")).unwrap();
    std::fs::remove_file(out.join("dynatrace-operator-egress-dns.yaml")).unwrap();
    std::fs::write(
        out.join("old-policy.yaml"),
        "# Generated by dynakube-netpol 0.0.1 from:\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: old-policy, namespace: dynatrace}\nspec: {podSelector: {matchLabels: {app: gone}}}\n",
    )
    .unwrap();
    let listing = out.join("kustomization.yaml");
    let listed = std::fs::read_to_string(&listing).unwrap() + "- old-policy.yaml\n";
    std::fs::write(&listing, listed).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "stale policies"]);

    let stale = generate(&repo, &["-o", "policies", "--check"]);
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale.stderr));
    let diff = text(&stale.stdout);
    assert!(
        diff.contains(
            "--- /dev/null\n+++ b/policies/dynatrace-operator-egress-dns.yaml\n@@ -0,0 +1,"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("--- a/policies/old-policy.yaml\n+++ /dev/null\n@@ -1,5 +0,0 @@\n"),
        "{diff}"
    );
    assert!(
        diff.contains("--- a/policies/dynakube-activegate-ingress-injected-apps.yaml\n+++ b/policies/dynakube-activegate-ingress-injected-apps.yaml\n"),
        "{diff}"
    );
    // Above the YAML, the change in connections: what the inputs allow that the directory
    // does not, by row, and the hand-edited port no row needs.
    let (summary, _) = diff.split_once("--- ").unwrap();
    for line in [
        "  +E1 dynatrace-operator -> cluster DNS 53/TCP, 53/UDP: newly allowed\n",
        "  +I11 dynakube-injected-apps -> dynakube-activegate 9999/TCP: newly allowed\n",
        "No longer allowed, needed by no row of the matrix:\n  - ingress of dynakube-activegate (dynatrace/dynakube-activegate-0), was admitted by dynatrace/dynakube-activegate-ingress-injected-apps spec.ingress[0]:\n      from pods apps-dynakube/app-0 to dynatrace/dynakube-activegate-0 on 9990/TCP\n",
        "policies -> the inputs: ",
    ] {
        assert!(summary.contains(line), "{line} not in {summary}");
    }
    std::fs::write(repo.join("fix.patch"), &diff).unwrap();
    git(&repo, &["apply", "--check", "fix.patch"]);
    git(&repo, &["apply", "fix.patch"]);
    // Applied, the directory is what the inputs generate.
    let fresh = generate(&repo, &["-o", "policies", "--check"]);
    assert_eq!(fresh.status.code(), Some(0), "{}", text(&fresh.stdout));
}

#[test]
fn standard_input_and_credentials() {
    let dir = fixture("proxy-value");
    let dynakube = std::fs::read(dir.join("dynakube.yaml")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(["generate", "-", "--fqdn-fallback", "public-internet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &dynakube).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("#   dynakube-netpol generate - --fqdn-fallback public-internet\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("user:secret"),
        "the proxy credentials never reach the output"
    );

    let redacted = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args([
            "generate",
            "dynakube.yaml",
            "--fqdn-fallback",
            "public-internet",
        ])
        .args([
            "--proxy-url",
            "http://u:p4ss@proxy.example.com:3128/?token=s3cret",
        ])
        .current_dir(fixture("e-proxy-telemetry-ingest"))
        .output()
        .unwrap();
    assert!(redacted.status.success(), "{}", text(&redacted.stderr));
    let stdout = text(&redacted.stdout);
    assert!(
        stdout.contains("--proxy-url http://proxy.example.com:3128\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("p4ss") && !stdout.contains("s3cret"));
}

/// `verify` with the arguments of a fixture's `command`, checking the policies in `policies`.
fn verify(dir: &Path, policies: &Path, extra: &[&str]) -> Output {
    let command = std::fs::read_to_string(dir.join("command")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .arg("verify")
        .args(command.split_whitespace())
        .arg("--policies")
        .arg(policies)
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// `verify` of the fixture in `dir` against the policies in `policies`, with the namespaces of
/// the cluster model `model` and the pod list `pods`.
fn verify_with_pods(dir: &Path, policies: &Path, model: &Path, pods: &Path) -> Output {
    let namespaces = model.join("namespaces.yaml");
    verify(
        dir,
        policies,
        &[
            "--pods",
            namespaces.to_str().unwrap(),
            "--pods",
            pods.to_str().unwrap(),
        ],
    )
}

#[test]
fn verify_decides_flows_with_cluster_network_policies_in_their_tiers() {
    let dir = fixture("a-cloud-native-network-zone");
    let out = scratch("verify-cluster-network-policies");
    assert!(
        generate(&dir, &["-o", out.to_str().unwrap()])
            .status
            .success()
    );
    // An Admin-tier Deny of the ActiveGate's egress to the tenant's IPv4 addresses decides
    // before the NetworkPolicy that allows it; a Baseline-tier Deny of everything in the
    // operator namespace does not, as the NetworkPolicies isolate the Dynatrace pods (the
    // OneAgent, in the host network, is no subject).
    let deny = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: no-tenant}\nspec:\n  tier: Admin\n  priority: 5\n  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app.kubernetes.io/name: activegate}}}}\n  egress:\n  - {name: tenant, action: Deny, to: [{networks: [203.0.113.0/24]}]}\n---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: baseline}\nspec:\n  tier: Baseline\n  priority: 5\n  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: dynatrace}}}\n  egress:\n  - {action: Deny, to: [{networks: [0.0.0.0/0, '::/0']}]}\n  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}\n";
    std::fs::write(out.join("cluster-network-policies.yaml"), deny).unwrap();
    let report = verify(&dir, &out, &["--format", "json"]);
    assert_eq!(report.status.code(), Some(1), "{}", text(&report.stderr));
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(json["read"]["cluster_network_policies"], 2);
    let denied: Vec<&serde_json::Value> = json["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|flow| flow["result"] == "denied")
        .collect();
    let ids: Vec<&str> = denied.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["E8"], "{json}");
    let probe = &denied[0]["probes"][0];
    assert_eq!(
        probe["egress"],
        "denied by ClusterNetworkPolicy no-tenant spec.egress[0] (Admin tier, priority 5)"
    );
    // As data, every side names the dialect, tier, policy and rule that decided it.
    let by = &probe["sides"]["egress"]["by"][0];
    assert_eq!(
        (
            &by["dialect"],
            &by["policy"],
            &by["rule"],
            &by["ruleName"],
            &by["action"]
        ),
        (
            &serde_json::json!("ClusterNetworkPolicy"),
            &serde_json::json!("no-tenant"),
            &serde_json::json!("spec.egress[0]"),
            &serde_json::json!("tenant"),
            &serde_json::json!("Deny")
        )
    );
    assert_eq!(probe["sides"]["egress"]["tier"], "Admin");
    let allowed = json["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "E9")
        .unwrap();
    let by = &allowed["probes"][0]["sides"]["egress"]["by"][0];
    assert_eq!(by["dialect"], "NetworkPolicy");
    assert_eq!(
        by["policy"],
        "dynatrace/dynakube-activegate-egress-kube-apiserver"
    );
    assert!(
        by["rule"].as_str().unwrap().starts_with("spec.egress["),
        "{by}"
    );
    // The network plugins agree here: the tenant is outside the cluster.
    for plugin in ["calico", "cilium"] {
        let report = verify(&dir, &out, &["--network-plugin", plugin]);
        assert_eq!(report.status.code(), Some(1), "{plugin}");
        assert!(
            text(&report.stdout).contains("Read 23 NetworkPolicies and 2 ClusterNetworkPolicies"),
            "{}",
            text(&report.stdout)
        );
    }
}

#[test]
fn verify_names_what_cluster_network_policies_allow_beyond_the_matrix() {
    let dir = fixture("a-cloud-native-network-zone");
    let out = scratch("verify-cluster-network-policy-extras");
    assert!(
        generate(&dir, &["-o", out.to_str().unwrap()])
            .status
            .success()
    );
    // What a ClusterNetworkPolicy allows beyond the matrix is named with its rule.
    let wider = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: wider}\nspec:\n  tier: Admin\n  priority: 1\n  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app.kubernetes.io/name: activegate}}}}\n  egress:\n  - {action: Accept, to: [{networks: [198.51.100.0/24]}], protocols: [{tcp: {destinationPort: {number: 8443}}}]}\n";
    std::fs::write(out.join("wider.yaml"), wider).unwrap();
    let report = verify(&dir, &out, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let extras: Vec<&serde_json::Value> = json["extras"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["policy"] == "ClusterNetworkPolicy wider")
        .collect();
    assert_eq!(extras.len(), 1, "{json}");
    assert_eq!(extras[0]["rule"], 0);
    assert_eq!(
        extras[0]["beyond"][0]["addresses"][0]["cidr"],
        "198.51.100.0/24"
    );
    assert_eq!(extras[0]["beyond"][0]["ports"][0], "8443/TCP");
}

/// The flows a JSON report of `verify` says are denied, as `ID FROM`.
fn denied_flows(json: &[u8]) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(json).unwrap();
    (json["flows"].as_array().unwrap().iter())
        .filter(|f| f["result"] == "denied")
        .map(|f| {
            format!(
                "{} {}",
                f["id"].as_str().unwrap(),
                f["from"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn verify_checks_the_cilium_flavor_and_finds_its_defects() {
    let dir = fixture("a-cloud-native-network-zone");
    let out = scratch("verify-cilium");
    assert!(
        generate(&dir, &["-o", out.to_str().unwrap(), "--flavor", "cilium"])
            .status
            .success()
    );
    let report = verify(&dir, &out, &[]);
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stdout));
    assert!(
        text(&report.stdout).contains("Read 0 NetworkPolicies and 23 Cilium policies"),
        "{}",
        text(&report.stdout)
    );
    // Only Cilium enforces Cilium's policies.
    let report = verify(&dir, &out, &["--network-plugin", "calico"]);
    assert_eq!(report.status.code(), Some(2));
    assert!(text(&report.stderr).contains("only Cilium enforces Cilium's policies"));

    // Each defect fails the flows it breaks, naming them.
    let denied = |edit: &dyn Fn(&Path)| -> Vec<String> {
        let broken = scratch("verify-cilium-broken");
        let _ = std::fs::remove_dir_all(&broken);
        std::fs::create_dir_all(&broken).unwrap();
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, broken.join(path.file_name().unwrap())).unwrap();
        }
        edit(&broken);
        let report = verify(&dir, &broken, &["--format", "json"]);
        assert_eq!(report.status.code(), Some(1), "{}", text(&report.stderr));
        denied_flows(&report.stdout)
    };
    let replace = |dir: &Path, file: &str, from: &str, to: &str| {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file}: no {from}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    // A selector that selects no ActiveGate pod.
    let broken = denied(&|d: &Path| {
        replace(
            d,
            "dynakube-activegate-egress-communication-endpoints.yaml",
            "app.kubernetes.io/name: activegate",
            "app.kubernetes.io/name: activegat",
        )
    });
    assert_eq!(broken, ["E8 dynakube-activegate"]);
    // DNS rules that no longer let the ActiveGate look its tenant up: toFQDNs admits nothing.
    let broken = denied(&|d: &Path| {
        replace(
            d,
            "dynakube-activegate-egress-dns.yaml",
            "- matchName: abc12345.live.dynatrace.com\n",
            "",
        )
    });
    assert_eq!(broken, ["E8 dynakube-activegate"]);
    // A deny that shadows allows: `world` is the tenant, not kube-apiserver, which serves on a
    // node of the profile's node block (192.0.2.10): denying the other nodes shadows it too.
    for (entities, expected) in [
        ("[world]", &["E8 dynakube-activegate"][..]),
        (
            "[world, remote-node]",
            &["E8 dynakube-activegate", "E9 dynakube-activegate"],
        ),
    ] {
        let deny = format!("  egressDeny:\n  - toEntities: {entities}\n  egress:\n");
        let broken = denied(&|d: &Path| {
            replace(
                d,
                "dynakube-activegate-egress-kube-apiserver.yaml",
                "  egress:\n",
                &deny,
            )
        });
        assert_eq!(broken, expected);
    }
}

#[test]
fn verify_reports_generated_policies_and_what_is_missing() {
    let dir = fixture("a-cloud-native-network-zone");
    let out = scratch("verify");
    assert!(
        generate(&dir, &["-o", out.to_str().unwrap()])
            .status
            .success()
    );

    let report = verify(&dir, &out, &[]);
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
    settings().bind(|| {
        insta::assert_snapshot!("verify_a_cloud_native_network_zone", text(&report.stdout))
    });

    // Without the policy that admits the nodes, OneAgent traffic from the other nodes fails;
    // the kubelet's probes (I10) come from the ActiveGate's own node, which NetworkPolicies
    // cannot block (the Kubernetes documentation: "the only allowed connections into the pod
    // are those from the pod's node and those allowed by the ingress list").
    std::fs::remove_file(out.join("dynakube-activegate-ingress-nodes.yaml")).unwrap();
    let report = verify(&dir, &out, &["--format", "json"]);
    assert_eq!(report.status.code(), Some(1));
    let json = text(&report.stdout);
    let denied: Vec<&str> = json
        .split("\"id\": \"")
        .skip(1)
        .filter(|flow| flow.contains("\"result\": \"denied\""))
        .map(|flow| &flow[..flow.find('"').unwrap()])
        .collect();
    assert_eq!(denied, ["E11"], "{json}");
}

#[test]
fn verify_reads_real_pod_and_namespace_lists() {
    // Every fixture with a model of its cluster (pods labelled as the fixture's operator
    // release labels them): no flow denied, no Dynatrace pod left unselected.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let model = dir.join("cluster-model");
        if !model.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let out = scratch(&format!("verify-pods-{name}"));
        let generated = generate(&dir, &["-o", out.to_str().unwrap()]);
        assert!(
            generated.status.success(),
            "{name}: {}",
            text(&generated.stderr)
        );
        let report = verify_with_pods(&dir, &out, &model, &model.join("pods.yaml"));
        let stdout = text(&report.stdout);
        assert_eq!(
            report.status.code(),
            Some(0),
            "{name}: {stdout}{}",
            text(&report.stderr)
        );
        assert!(stdout.contains(", 0 denied, "), "{name}: {stdout}");
        assert!(!stdout.contains("Not selected"), "{name}: {stdout}");
        checked.push(name);
    }
    checked.sort();
    assert!(
        [
            "openshift-dns",
            "release-1.10",
            "release-1.7",
            "release-1.9"
        ]
        .iter()
        .all(|f| checked.iter().any(|c| c == f)),
        "{checked:?}"
    );
}

#[test]
fn verify_fails_when_pods_are_labelled_as_no_known_release_labels_them() {
    // The operator marks its label helpers deprecated in favour of `app.kubernetes.io/instance`;
    // a release that switches would leave the ActiveGate pod outside every policy.
    let dir = fixture("openshift-dns");
    let out = scratch("verify-unselected");
    assert!(
        generate(&dir, &["-o", out.to_str().unwrap()])
            .status
            .success()
    );
    let model = dir.join("cluster-model");
    let pods = std::fs::read_to_string(model.join("pods.yaml")).unwrap();
    let relabelled = pods.replacen(
        "      app.kubernetes.io/name: activegate\n      app.kubernetes.io/created-by: dynakube\n",
        "      app.kubernetes.io/name: activegate\n      app.kubernetes.io/instance: dynakube\n",
        1,
    );
    assert_ne!(relabelled, pods, "the fixture's ActiveGate pod changed");
    let dump = scratch("verify-unselected-pods").join("pods.yaml");
    std::fs::create_dir_all(dump.parent().unwrap()).unwrap();
    std::fs::write(&dump, relabelled).unwrap();
    let report = verify_with_pods(&dir, &out, &model, &dump);
    let stdout = text(&report.stdout);
    assert_eq!(
        report.status.code(),
        Some(1),
        "{stdout}{}",
        text(&report.stderr)
    );
    assert!(
        stdout.contains("Not selected by their policies")
            && stdout.contains("dynatrace/dynakube-activegate-0"),
        "{stdout}"
    );
}

#[test]
fn verify_refuses_what_it_cannot_account_for() {
    let dir = fixture("a-cloud-native-network-zone");
    let out = scratch("verify-strict");
    assert!(
        generate(&dir, &["-o", out.to_str().unwrap()])
            .status
            .success()
    );

    // A typo that the API server would refuse (or drop, leaving a broader rule).
    let policy = out.join("dynakube-activegate-ingress-nodes.yaml");
    let original = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, original.replace("- from:", "- form:")).unwrap();
    let report = verify(&dir, &out, &[]);
    assert_eq!(report.status.code(), Some(2));
    assert!(
        text(&report.stderr).contains("field `spec.ingress[0].form`: is not a field of this kind"),
        "{}",
        text(&report.stderr)
    );
    std::fs::write(&policy, &original).unwrap();

    // Policies of kinds the evaluator cannot evaluate, and none at all.
    let calico = scratch("verify-strict-calico");
    std::fs::create_dir_all(&calico).unwrap();
    std::fs::write(
        calico.join("calico.yaml"),
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec: {}\n",
    )
    .unwrap();
    let report = verify(&dir, &calico, &[]);
    assert_eq!(report.status.code(), Some(2));
    assert!(text(&report.stderr).contains("holds policies verify cannot evaluate"));
    let report = verify(&dir, &calico, &["--allow-unevaluated"]);
    assert_eq!(report.status.code(), Some(2));
    assert!(text(&report.stderr).contains("holds no networking.k8s.io/v1 NetworkPolicy"));
    let empty = scratch("verify-strict-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let report = verify(&dir, &empty, &[]);
    assert_eq!(report.status.code(), Some(2));
    // Without policies every flow passes, and everything else is allowed too.
    let report = verify(&dir, &empty, &["--allow-no-policies"]);
    assert_eq!(report.status.code(), Some(0));
    let report = verify(&dir, &empty, &["--allow-no-policies", "--fail-on", "extra"]);
    assert_eq!(report.status.code(), Some(1));

    // The report counts what it read; --fail-on turns findings into failures.
    let report = verify(&dir, &out, &[]);
    assert_eq!(report.status.code(), Some(0));
    assert!(text(&report.stdout).contains(
        "Read 23 NetworkPolicies; skipped: 1 Kustomization (kustomize.config.k8s.io/v1beta1)"
    ));
    let strict = verify(&dir, &out, &["--fail-on", "extra,unchecked"]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stdout));
    assert!(text(&strict.stderr).contains("error: verification failed:"));
}

// The two operator samples (`fixtures/operator-samples/`) that the operator itself refuses are
// refused by the tool too, saying why. Every other sample is rendered in both flavors, verified
// and checked by the independent verifier in `cargo xtask verify-manifests`.

/// The sample `name` (under `fixtures/operator-samples/`) with its tenant placeholder
/// substituted, in a scratch file.
fn sample(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/operator-samples");
    let text = std::fs::read_to_string(root.join(name))
        .unwrap_or_else(|e| panic!("the operator sample {name}: {e}"))
        .replace("ENVIRONMENTID", "abc12345");
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("operator-samples")
        .join(name.replace('/', "_"));
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::write(&copy, text).unwrap();
    copy
}

/// `generate` of the sample `file` on the public-internet fallback, with `extra` arguments.
fn generate_sample(file: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .arg("generate")
        .arg(file)
        .args(["--fqdn-fallback", "public-internet"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_provisioner_without_host_patterns_is_refused() {
    let out = generate_sample(&sample("edgeconnect/provisioner.yaml"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("field `spec.hostPatterns`: is required with `spec.oauth.provisioner: true`"),
        "{stderr}"
    );
}

#[test]
fn an_oauth_endpoint_outside_dynatrace_sso_is_refused_from_operator_1_10() {
    let file = sample("edgeconnect/edgeconnect.yaml");
    let out = generate_sample(&file, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not one of the SSO hosts operator 1.10.2 accepts"),
        "{stderr}"
    );
    let earlier = generate_sample(&file, &["--operator-version", "1.9"]);
    assert!(
        earlier.status.success(),
        "{}",
        String::from_utf8_lossy(&earlier.stderr)
    );
}

#[test]
fn cluster_network_policies_keep_monitoring_where_application_namespaces_deny_everything() {
    let dir = fixture("everything-v1beta6");
    // The model cluster of `verify` puts the injected application pods into `apps-<dynakube>`;
    // their namespace's own policy denies everything.
    let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-everything, namespace: apps-dynakube}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n";
    for (tier, denied) in [("admin", false), ("baseline", true)] {
        let out = scratch(&format!("verify-cnp-{tier}"));
        let generated = generate(
            &dir,
            &[
                "--flavor",
                "cluster-network-policy",
                "--tier",
                tier,
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert!(generated.status.success(), "{}", text(&generated.stderr));
        if denied {
            assert!(
                text(&generated.stderr)
                    .contains("the NetworkPolicies of an application namespace decide first"),
                "{}",
                text(&generated.stderr)
            );
        }
        std::fs::write(out.join("application-namespace.yaml"), deny).unwrap();
        let report = verify(&dir, &out, &["--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
        assert_eq!(json["read"]["cluster_network_policies"], 22);
        let failed: Vec<String> = json["flows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["result"] == "denied")
            .map(|f| {
                format!(
                    "{} {}",
                    f["id"].as_str().unwrap(),
                    f["from"].as_str().unwrap()
                )
            })
            .collect();
        if denied {
            assert_eq!(report.status.code(), Some(1));
            assert!(
                failed.iter().any(|f| f == "E12 dynakube-injected-apps"),
                "{failed:?}"
            );
        } else {
            assert_eq!(report.status.code(), Some(0), "{failed:?}");
        }
    }
}

#[test]
fn verify_counts_lookups_at_the_node_local_dns_cache_for_cilium() {
    let dir = fixture("node-local-dns");
    let out = scratch("verify-cilium-node-local");
    assert!(
        generate(&dir, &["-o", out.to_str().unwrap(), "--flavor", "cilium"])
            .status
            .success()
    );
    let dns = out.join("dynatrace-operator-egress-dns.yaml");
    let original = std::fs::read_to_string(&dns).unwrap();
    // The result of the operator's flows to the cluster DNS (E1) and to the tenant (E2).
    let results = || -> Vec<String> {
        let report = verify(&dir, &out, &["--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
        json["flows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["from"] == "dynatrace-operator" && (f["id"] == "E1" || f["id"] == "E2"))
            .map(|f| {
                format!(
                    "{} {}",
                    f["id"].as_str().unwrap(),
                    f["result"].as_str().unwrap()
                )
            })
            .collect()
    };
    // Without the DNS rule to the cluster DNS's pods, the operator still looks the tenant up
    // at the node-local cache of the cluster profile, whose DNS rule lets the lookup through.
    let at = original.find("  - toEndpoints:").unwrap();
    std::fs::write(&dns, &original[..at]).unwrap();
    assert_eq!(results(), ["E1 allowed", "E2 allowed"]);
    // Without DNS rules there either, no lookup goes through Cilium's proxy: toFQDNs admits
    // nothing, while the cache itself is still reached.
    let cache_only = &original[..at];
    let rules = cache_only.find("      rules:").unwrap();
    std::fs::write(&dns, &cache_only[..rules]).unwrap();
    assert_eq!(results(), ["E1 allowed", "E2 denied"]);
}

#[test]
fn verify_names_what_cilium_policies_allow_beyond_the_matrix() {
    let dir = fixture("a-cloud-native-network-zone");
    let wider = scratch("verify-cilium-wider");
    assert!(
        generate(&dir, &["-o", wider.to_str().unwrap(), "--flavor", "cilium"])
            .status
            .success()
    );
    // What a widened rule allows beyond the matrix is named with its dialect, policy and rule;
    // a destination by name, with the pattern that admits it.
    let endpoints = wider.join("dynakube-activegate-egress-communication-endpoints.yaml");
    let yaml = std::fs::read_to_string(&endpoints).unwrap().replacen(
        "matchName: abc12345.live.dynatrace.com",
        "matchPattern: '*'",
        1,
    ) + "  - toEntities: [world]\n    toPorts: [{ports: [{port: '8443', protocol: TCP}]}]\n";
    std::fs::write(&endpoints, yaml).unwrap();
    let report = verify(&dir, &wider, &["--fail-on", "extra"]);
    assert_eq!(report.status.code(), Some(1), "{}", text(&report.stderr));
    let stdout = text(&report.stdout);
    let policy = "CiliumNetworkPolicy dynatrace/dynakube-activegate-egress-communication-endpoints";
    for line in [
        format!(
            "  egress of dynatrace/dynakube-activegate-0, admitted by {policy} spec.egress[0]:"
        ),
        "    to names * on 443/TCP".to_string(),
        format!(
            "  egress of dynatrace/dynakube-activegate-0, admitted by {policy} spec.egress[1]:"
        ),
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no {line:?} in\n{stdout}"
        );
    }
    assert!(
        stdout.contains("2 connection group(s) allowed beyond the matrix"),
        "{stdout}"
    );
    let json = verify(&dir, &wider, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let extras = json["extras"].as_array().unwrap();
    assert_eq!(extras.len(), 2, "{json}");
    assert_eq!(extras[1]["dialect"], "CiliumNetworkPolicy");
    assert_eq!(extras[1]["policy"], policy);
    assert_eq!(extras[1]["field"], "spec.egress[1]");
    assert_eq!(extras[1]["beyond"][0]["ports"][0], "8443/TCP");
}
