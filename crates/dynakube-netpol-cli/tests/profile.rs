//! `profile` as a user runs it: the dumps of every platform under `fixtures/cluster-dumps/`
//! (snapshots of what it writes), standard input, broken dumps, and the guard where the profile
//! and the cluster disagree, in `profile` and in `verify --pods`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dynakube-netpol");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("profile")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with `args` in `dir`, `stdin` on standard input.
fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || match input.write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

#[test]
fn profiles_of_every_platform() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("../../../fixtures", "cluster-dumps/*/dump.json", |path| {
            let dir = path.parent().unwrap();
            let output = run(dir, &["profile", "dump.json"], "");
            let stderr = text(&output.stderr);
            assert!(output.status.success(), "{}: {stderr}", dir.display());
            let stdout = text(&output.stdout);
            // What standard error says, the profile's comments say too.
            for line in stderr.lines() {
                let said = line.split_once("]: ").map_or(line, |(_, text)| text);
                let flat: String = stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix("# "))
                    .collect::<Vec<_>>()
                    .join(" ");
                assert!(flat.contains(said), "{line} is not in the comments");
            }
            insta::assert_snapshot!(
                "profile",
                format!("{stdout}----- standard error -----\n{stderr}")
            );
        });
    });
}

#[test]
fn standard_input_and_broken_dumps() {
    let dump =
        std::fs::read_to_string(root().join("fixtures/cluster-dumps/eks/dump.json")).unwrap();
    let dir = scratch("stdin");
    let output = run(&dir, &["profile", "-"], &dump);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout
            .starts_with("# Cluster profile written by `dynakube-netpol profile` from - (4 nodes"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\nnodeCIDRs:\n  - 10.0.1.23/32  # ip-10-0-1-23.eu-west-1.compute.internal\n"
        )
    );

    // The Cilium flavor in the command line's words.
    let aks = root().join("fixtures/cluster-dumps/aks");
    let output = run(&aks, &["profile", "dump.json"], "");
    assert!(
        text(&output.stdout)
            .contains("# includes nodes). For the Cilium flavor: pass --flavor cilium.\n")
    );

    for (input, expected) in [
        (
            "{\"items\": [",
            "error: -: not a cluster dump: EOF while parsing a list",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {podIP: 10.0.0.300}\n",
            "error: -, document 1, field `status.podIP`: `10.0.0.300` is not an IP address",
        ),
    ] {
        let output = run(&dir, &["profile", "-"], input);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            output.stdout.is_empty(),
            "nothing is written for a broken dump"
        );
        assert!(
            text(&output.stderr).starts_with(expected),
            "{}",
            text(&output.stderr)
        );
    }
    let output = run(&dir, &["profile", "missing.json"], "");
    assert_eq!(output.status.code(), Some(2));
    let output = run(&dir, &["profile"], "");
    assert_eq!(output.status.code(), Some(2), "a dump is required");
}

#[test]
fn several_dumps_are_one_cluster() {
    // Nodes in one file, the rest in another (`kubectl get nodes` and `kubectl get services,…`).
    let dir = scratch("several");
    std::fs::write(
        dir.join("nodes.yaml"),
        "apiVersion: v1\nkind: NodeList\nitems:\n- {apiVersion: v1, kind: Node, metadata: {name: n1}, status: {addresses: [{type: InternalIP, address: 192.0.2.11}]}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("services.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\nspec: {clusterIP: 10.96.0.1}\n",
    )
    .unwrap();
    let output = run(&dir, &["profile", "nodes.yaml", "services.yaml"], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("from nodes.yaml, services.yaml (1 nodes,"),
        "{stdout}"
    );
    assert!(stdout.contains("  - 192.0.2.11/32  # n1\n"), "{stdout}");
    assert!(
        stdout.contains("  serviceCIDRs: [10.96.0.1/32]\n"),
        "{stdout}"
    );
}

#[test]
fn verify_warns_where_node_blocks_hold_pods() {
    // The OpenShift fixture, with a profile that gives the nodes a block the pod network lies
    // in, as a VPC-CNI cluster's node subnets would.
    let fixture = root().join("fixtures/openshift-dns");
    let dir = scratch("verify-guard");
    for file in ["dynakube.yaml", "hosts.yaml", "command"] {
        std::fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
    let profile = std::fs::read_to_string(fixture.join("cluster.yaml")).unwrap();
    let wide = profile.replace(
        "nodeCIDRs: [192.0.2.0/24]",
        "nodeCIDRs: [192.0.2.0/24, 10.128.0.0/14]",
    );
    assert_ne!(wide, profile, "the fixture's nodeCIDRs changed");
    std::fs::write(dir.join("cluster.yaml"), wide).unwrap();
    let args = [
        "dynakube.yaml",
        "--cluster",
        "cluster.yaml",
        "--hosts",
        "hosts.yaml",
    ];
    let policies = dir.join("policies");
    let generate: Vec<&str> = ["generate"]
        .into_iter()
        .chain(args)
        .chain(["-o", policies.to_str().unwrap()])
        .collect();
    let output = run(&dir, &generate, "");
    assert!(output.status.success(), "{}", text(&output.stderr));

    let model = fixture.join("cluster-model");
    let namespaces = model.join("namespaces.yaml");
    let verify = |pods: &Path| {
        let args: Vec<&str> = ["verify"]
            .into_iter()
            .chain(args)
            .chain(["--policies", policies.to_str().unwrap()])
            .chain(["--pods", namespaces.to_str().unwrap()])
            .chain(["--pods", pods.to_str().unwrap()])
            .collect();
        run(&dir, &args, "")
    };
    let output = verify(&model.join("pods.yaml"));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.contains("nodeCIDRs[1] 10.128.0.0/14 holds the addresses of"))
        .unwrap_or_else(|| panic!("no warning: {stderr}"));
    assert!(
        warning.starts_with("warning (I1, I3, I6, I7, I10) [cluster profile nodeCIDRs]: "),
        "{warning}"
    );
    assert!(
        warning.contains("outside the host network (such as "),
        "{warning}"
    );
    assert!(
        !stderr.contains("nodeCIDRs[0]"),
        "192.0.2.0/24 holds only host-network pods: {stderr}"
    );
    // docs/profile.md shows this very warning.
    let docs = std::fs::read_to_string(root().join("docs/profile.md")).unwrap();
    assert!(
        docs.contains(&format!("```text\n{warning}\n```")),
        "docs/profile.md's example differs from: {warning}"
    );

    // Without the wide block, nothing to say.
    std::fs::write(dir.join("cluster.yaml"), &profile).unwrap();
    let output = verify(&model.join("pods.yaml"));
    assert!(
        !text(&output.stderr).contains("holds the addresses"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn profile_warns_where_a_pod_has_a_node_s_address() {
    let dir = scratch("profile-guard");
    let dump = "apiVersion: v1\nkind: List\nitems:\n\
- {apiVersion: v1, kind: Node, metadata: {name: n1}, status: {addresses: [{type: InternalIP, address: 192.0.2.11}]}}\n\
- {apiVersion: v1, kind: Pod, metadata: {name: squatter, namespace: shop}, status: {podIP: 192.0.2.11}}\n\
- {apiVersion: v1, kind: Pod, metadata: {name: agent, namespace: dynatrace}, spec: {hostNetwork: true}, status: {podIP: 192.0.2.11}}\n";
    let output = run(&dir, &["profile", "-"], dump);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("warning (I1, I3, I6, I7, I10, I13, I15, I16, E15, E21) [cluster profile nodeCIDRs]: nodeCIDRs[0] 192.0.2.11/32 holds the addresses of 1 pod outside the host network (such as shop/squatter at 192.0.2.11)"),
        "{stderr}"
    );
    assert!(!stderr.contains("agent"), "{stderr}");
    assert!(
        text(&output.stdout)
            .contains("# Warning (I1, I3, I6, I7, I10, I13, I15, I16, E15, E21): nodeCIDRs[0]")
    );
    // -q keeps the warnings; -qq keeps standard error for errors.
    let output = run(&dir, &["profile", "-", "--quiet"], dump);
    assert!(text(&output.stderr).contains("nodeCIDRs[0] 192.0.2.11/32 holds"));
    let output = run(&dir, &["profile", "-", "-qq"], dump);
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
}

/// The command that dumps what `profile` reads.
const KUBECTL: &str =
    "kubectl get nodes,services,endpointslices,pods,namespaces,deployments,daemonsets -A -o json";

/// The `sh` blocks of `text`.
fn shell_blocks(text: &str) -> Vec<String> {
    text.split("```sh\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_docs_and_the_help_give_the_kubectl_command_and_the_docs_commands_run() {
    let docs = std::fs::read_to_string(root().join("docs/profile.md")).unwrap();
    let blocks = shell_blocks(&docs);
    assert_eq!(
        blocks,
        [
            format!(
                "{KUBECTL} > cluster-dump.json\ndynakube-netpol profile cluster-dump.json > cluster.yaml\n"
            ),
            format!("{KUBECTL} | dynakube-netpol profile - > cluster.yaml\n"),
        ],
        "docs/profile.md's commands changed: run them here"
    );
    let help = text(&run(&root(), &["profile", "--help"], "").stdout);
    assert!(
        help.contains(&format!(
            "  {KUBECTL} \\\n    > cluster-dump.json\n  dynakube-netpol profile cluster-dump.json > cluster.yaml\n"
        )),
        "{help}"
    );
    // What kubectl would print, then the commands after it, as a shell runs them.
    let dump =
        std::fs::read_to_string(root().join("fixtures/cluster-dumps/eks/dump.json")).unwrap();
    let dir = scratch("docs");
    for block in &blocks {
        let line = block.lines().last().unwrap();
        let (command, target) = line.split_once(" > ").unwrap();
        let command = command.rsplit(" | ").next().unwrap();
        let args: Vec<&str> = command.split(' ').skip(1).collect();
        std::fs::write(dir.join("cluster-dump.json"), &dump).unwrap();
        let output = run(&dir, &args, &dump);
        assert!(output.status.success(), "{line}: {}", text(&output.stderr));
        std::fs::write(dir.join(target), &output.stdout).unwrap();
        let written = std::fs::read_to_string(dir.join(target)).unwrap();
        assert!(
            written.contains(
                "\nnodeCIDRs:\n  - 10.0.1.23/32  # ip-10-0-1-23.eu-west-1.compute.internal\n"
            ),
            "{line}: {written}"
        );
    }
    // And generate takes it.
    std::fs::write(
        dir.join("dynakube.yaml"),
        "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {name: dk, namespace: dynatrace}\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n  oneAgent: {cloudNativeFullStack: {}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("hosts.yaml"),
        "abc12345.live.dynatrace.com: [203.0.113.10]\n",
    )
    .unwrap();
    let args = ["generate", "dynakube.yaml", "--cluster", "cluster.yaml"];
    let output = run(&dir, &[&args[..], &["--hosts", "hosts.yaml"]].concat(), "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("cidr: 10.0.1.23/32"));
}
