//! `dynakube-netpol diff` as a reviewer runs it: policy sets from directories, standard input
//! and git revisions, the exit statuses, and the inputs it refuses.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A directory of its own holding the example's DynaKube (and one with the metrics-ingest
/// capability added), cluster profile and hosts file.
fn scene(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("diff")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/a-cloud-native-network-zone");
    for file in ["dynakube.yaml", "cluster.yaml", "hosts.yaml"] {
        std::fs::copy(example.join(file), dir.join(file)).unwrap();
    }
    let dynakube = std::fs::read_to_string(dir.join("dynakube.yaml")).unwrap();
    let more = dynakube.replace(
        "[routing, kubernetes-monitoring]",
        "[routing, kubernetes-monitoring, metrics-ingest]",
    );
    assert_ne!(dynakube, more);
    std::fs::write(dir.join("metrics-ingest.yaml"), more).unwrap();
    dir
}

/// Runs the binary with `args` in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Writes the policies of `dynakube` (and more options) into `out`.
fn generate(dir: &Path, dynakube: &str, out: &str, more: &[&str]) {
    let args = [
        &["generate", dynakube, "--cluster", "cluster.yaml"][..],
        &["--hosts", "hosts.yaml", "-o", out],
        more,
    ]
    .concat();
    let output = run(dir, &args);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// `diff OLD NEW` over the matrix of `dynakube`, with more options.
fn diff(dir: &Path, old: &str, new: &str, dynakube: &str, more: &[&str]) -> Output {
    let args = [
        &["diff", old, new, "-f", dynakube][..],
        &["--cluster", "cluster.yaml", "--hosts", "hosts.yaml"],
        more,
    ]
    .concat();
    run(dir, &args)
}

/// Runs git in `dir` (without the machine's configuration), failing with its standard error.
fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        text(&output.stderr)
    );
}

const ADDED: &str = "  +I12 dynakube-injected-apps -> dynakube-activegate 9998/TCP: newly allowed\n      from pods apps-dynakube/app-0 to dynatrace/dynakube-activegate-0 on 9998/TCP\n";

#[test]
fn a_git_revision_is_read_with_git() {
    let dir = scene("git");
    git(&dir, &["init", "--quiet"]);
    generate(&dir, "dynakube.yaml", "policies", &[]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "--quiet", "-m", "policies"]);
    generate(&dir, "metrics-ingest.yaml", "policies", &[]);

    // The line of docs/diff.md, its DynaKube now the one with the capability.
    let args = ["--format", "markdown"];
    let out = diff(
        &dir,
        "main:policies/",
        "policies/",
        "metrics-ingest.yaml",
        &args,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let markdown = text(&out.stdout);
    assert!(
        markdown.starts_with("### ❌ dynakube-netpol diff: changed\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "- `+I12 dynakube-injected-apps -> dynakube-activegate 9998/TCP: newly allowed`\n"
        ),
        "{markdown}"
    );

    let out = diff(
        &dir,
        "main:policies",
        "policies",
        "metrics-ingest.yaml",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.starts_with(&format!("Rows of the matrix:\n{ADDED}")),
        "{report}"
    );
    assert!(report.contains("main:policies -> policies: "), "{report}");
    // One file of a revision, and a path from the current directory.
    let file = "HEAD:policies/dynakube-activegate-ingress-injected-apps.yaml";
    let out = diff(&dir, file, "policies", "metrics-ingest.yaml", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // `./` from a directory of the repository: the committed policies against the new ones.
    let beside = |file: &str| dir.join(file).display().to_string();
    let (dynakube, cluster, hosts) = (
        beside("metrics-ingest.yaml"),
        beside("cluster.yaml"),
        beside("hosts.yaml"),
    );
    let args = [
        "diff",
        "HEAD:./",
        ".",
        "-f",
        &dynakube,
        "--cluster",
        &cluster,
    ];
    let out = run(
        &dir.join("policies"),
        &[&args[..], &["--hosts", &hosts]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(ADDED));
}

#[test]
fn revisions_and_paths_git_does_not_have_are_refused() {
    let dir = scene("refused");
    git(&dir, &["init", "--quiet"]);
    generate(&dir, "dynakube.yaml", "policies", &[]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "--quiet", "-m", "policies"]);
    // Revisions and paths git does not have, and paths out of the repository.
    for (old, refused) in [
        ("nosuch:policies", "git knows no commit nosuch here"),
        ("HEAD:nosuch", "does not exist"),
        (
            "HEAD:../policies",
            "the path after the colon must be relative",
        ),
    ] {
        let out = diff(&dir, old, "policies", "dynakube.yaml", &[]);
        assert_eq!(out.status.code(), Some(2), "{old}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(old) && stderr.contains(refused),
            "{old}: {stderr}"
        );
    }
}

#[test]
fn a_revision_that_reads_as_an_option_is_refused() {
    let dir = scene("option");
    git(&dir, &["init", "--quiet"]);
    // After `--`, a word that starts with `-` is OLD; git must not take it as an option.
    let args = [
        "diff",
        "--cluster",
        "cluster.yaml",
        "--",
        "-x:policies",
        "policies",
    ];
    let out = run(&dir, &[&args[..], &["dynakube.yaml"]].concat());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("-x:policies: cannot read: not a revision git names"),
        "{stderr}"
    );
}

#[test]
fn only_newly_allowed_connections_fail_with_fail_on_widened() {
    let dir = scene("widened");
    generate(&dir, "dynakube.yaml", "before", &[]);
    generate(&dir, "metrics-ingest.yaml", "after", &[]);
    let widened = ["--fail-on", "widened"];
    let out = diff(&dir, "before", "after", "metrics-ingest.yaml", &widened);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(ADDED), "{}", text(&out.stdout));
    // Taken away: a change, which --fail-on widened lets pass.
    // The resources may follow OLD and NEW, as generate takes them.
    let args = [
        "diff",
        "after",
        "before",
        "metrics-ingest.yaml",
        "--cluster",
        "cluster.yaml",
    ];
    let out = run(&dir, &[&args[..], &["--hosts", "hosts.yaml"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains(
            "  -I12 dynakube-injected-apps -> dynakube-activegate 9998/TCP: no longer allowed\n"
        ),
        "{report}"
    );
    let out = diff(&dir, "after", "before", "metrics-ingest.yaml", &widened);
    assert_eq!(out.status.code(), Some(0));
    // JSON says so too.
    let out = diff(
        &dir,
        "after",
        "before",
        "metrics-ingest.yaml",
        &[&widened[..], &["--format", "json"]].concat(),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&json["changed"], &json["fails"]),
        (&true.into(), &false.into())
    );
    assert_eq!(json["rows"][0]["id"], "I12");
    assert_eq!(json["rows"][0]["lost"][0], "9998/TCP");
}

#[test]
fn standard_input_and_another_dialect() {
    let dir = scene("dialects");
    generate(&dir, "dynakube.yaml", "policies", &[]);
    generate(&dir, "dynakube.yaml", "cilium", &["--flavor", "cilium"]);
    // On Cilium's defaults, the Kubernetes flavor's address blocks reach no node: the Cilium
    // flavor's entities newly allow the OneAgent on the other nodes, and kube-apiserver on its
    // node; the report says why.
    let out = diff(&dir, "policies", "cilium", "dynakube.yaml", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("  +E11 dynakube-oneagent -> dynakube-activegate 9999/TCP: newly allowed\n      from 192.0.2.0/24 (except 192.0.2.1/32) to dynatrace/dynakube-activegate-0 on 9999/TCP\n"),
        "{report}"
    );
    assert!(report.contains("policy-cidr-match-mode: nodes"), "{report}");
    // Where Cilium's address blocks match nodes, the two flavors allow the same connections,
    // compared as sets.
    let mut profile = std::fs::read_to_string(dir.join("cluster.yaml")).unwrap();
    profile.push_str("cilium:\n  cidrMatchNodes: true\n");
    std::fs::write(dir.join("cluster.yaml"), profile).unwrap();
    let out = diff(&dir, "policies", "cilium", "dynakube.yaml", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.ends_with("policies -> cilium: unchanged; both allow the same connections\n"),
        "{report}"
    );

    // The same policies as one JSON list on standard input.
    let stream = run(
        &dir,
        &["generate", "dynakube.yaml", "--cluster", "cluster.yaml"]
            .into_iter()
            .chain(["--hosts", "hosts.yaml", "-o", "json"])
            .collect::<Vec<_>>(),
    );
    assert!(stream.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(["diff", "-", "policies", "-f", "dynakube.yaml"])
        .args(["--cluster", "cluster.yaml", "--hosts", "hosts.yaml"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&stream.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("- -> policies: unchanged; both allow the same connections\n")
    );

    // Policies the evaluator cannot evaluate are refused: the diff would miss them.
    std::fs::write(
        dir.join("calico.yaml"),
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec: {}\n",
    )
    .unwrap();
    let out = diff(&dir, "calico.yaml", "policies", "dynakube.yaml", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("policies diff cannot evaluate"),
        "{}",
        text(&out.stderr)
    );
}
