//! The CI formats of `verify`, `audit` and `generate --check` (`--format sarif|junit|markdown`)
//! on the fixture `openshift-dns`, made to find something of every kind: denied, unchecked and
//! extra flows, unselected and foreign pods, pods the webhook skipped for every class of
//! reason, and files changed, missing, left over and shadowed by a directory.
//!
//! Each format of each subcommand is a snapshot (`snapshots/formats@openshift-dns__*.snap`),
//! and the exit status is the same in every format. The reports are validated against their
//! published schemas by `reports_are_valid_against_their_schemas`, which runs
//! `xtask/verifier/formats.py` in the verifier's Python environment (the directory named by
//! `DYNAKUBE_NETPOL_VERIFIER_PYTHON`, which `cargo xtask test` sets, else
//! `target/verifier-venv`): ignored by a plain `cargo test`, run by `cargo xtask test`, and a
//! missing environment fails it, never skips it.
//!
//! `docs/ci.md` documents the formats: its commands are run and its examples compared with the
//! reports of the scene they were taken from (`ci_page_commands_and_examples_are_real`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixture the reports are made from.
const FIXTURE: &str = "openshift-dns";
/// The policy directory, named so that its URIs need percent-encoding.
const POLICIES: &str = "pol icies";
/// `verify` of the scene, with its cluster.
const VERIFY: [&str; 12] = [
    "verify",
    "dynakube.yaml",
    "--cluster",
    "cluster.yaml",
    "--hosts",
    "hosts.yaml",
    "--policies",
    POLICIES,
    "--pods",
    "namespaces.yaml",
    "--pods",
    "pods.yaml",
];
/// `generate` of the scene.
const GENERATE: [&str; 6] = [
    "generate",
    "dynakube.yaml",
    "--cluster",
    "cluster.yaml",
    "--hosts",
    "hosts.yaml",
];
/// The formats of a report besides text and JSON, with the extension of their files.
const FORMATS: [(&str, &str); 3] = [("sarif", "sarif"), ("junit", "xml"), ("markdown", "md")];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// The CLI with `args`, in `dir`.
fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// An empty scratch directory with the fixture's inputs and its cluster's namespaces, of its
/// own: tests run in parallel and several build the same scene.
fn scene(name: &str) -> PathBuf {
    static SCENES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SCENES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("formats")
        .join(format!("{name}-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = workspace().join("fixtures").join(FIXTURE);
    for file in ["dynakube.yaml", "cluster.yaml", "hosts.yaml"] {
        std::fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
    std::fs::copy(
        fixture.join("cluster-model/namespaces.yaml"),
        dir.join("namespaces.yaml"),
    )
    .unwrap();
    dir
}

/// The fixture's cluster model, `edit`ed, as `pods.yaml` of `dir`.
fn pods(dir: &Path, edit: impl FnOnce(String) -> String) {
    let model = workspace()
        .join("fixtures")
        .join(FIXTURE)
        .join("cluster-model/pods.yaml");
    let pods = std::fs::read_to_string(model).unwrap();
    std::fs::write(dir.join("pods.yaml"), edit(pods)).unwrap();
}

/// A pod of `pods.yaml` (a list's item).
fn pod(name: &str, namespace: &str, extra: &str) -> String {
    format!(
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {name}\n    namespace: {namespace}\n{extra}  spec:\n    containers:\n    - name: main\n  status:\n    podIP: 10.128.0.99\n    podIPs:\n    - ip: 10.128.0.99\n"
    )
}

/// The policies of the fixture with a flow's policy removed and an open one added, and a
/// cluster whose ActiveGate is labelled as no release labels it, with someone else's pod in
/// the operator namespace.
fn verify_scene() -> PathBuf {
    let dir = scene("verify");
    let mut args = GENERATE.to_vec();
    args.extend(["-o", POLICIES]);
    let out = cli(&dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policies = dir.join(POLICIES);
    std::fs::remove_file(policies.join("dynatrace-webhook-ingress-kube-apiserver.yaml")).unwrap();
    std::fs::write(
        policies.join("zz-open.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open-operator, namespace: dynatrace}\nspec:\n  podSelector: {matchLabels: {app.kubernetes.io/name: dynatrace-operator}}\n  policyTypes: [Ingress]\n  ingress: [{}]\n",
    )
    .unwrap();
    pods(&dir, |model| {
        let relabelled = model.replacen(
            "      app.kubernetes.io/name: activegate\n      app.kubernetes.io/created-by: dynakube\n",
            "      app.kubernetes.io/name: activegate\n      app.kubernetes.io/instance: dynakube\n",
            1,
        );
        assert_ne!(relabelled, model, "the fixture's ActiveGate pod changed");
        relabelled
            + &pod(
                "someone-elses-0",
                "dynatrace",
                "    labels: {app: theirs}\n",
            )
    });
    dir
}

/// The annotations of a pod the webhook skipped with `reason` under `prefix`.
fn skipped(prefix: &str, reason: &str) -> String {
    format!(
        "    annotations: {{{prefix}.dynatrace.com/injected: \"false\", {prefix}.dynatrace.com/reason: {reason}}}\n"
    )
}

/// A pod of Deployment `shop/web` that started before its DynaKube was ready.
fn waiting_web_pod() -> String {
    let owned = "    labels: {pod-template-hash: 7d9f8c6b5}\n    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f8c6b5, uid: x, controller: true}]\n";
    pod(
        "web-7d9f8c6b5-aaaaa",
        "shop",
        &format!("{owned}{}", skipped("oneagent", "DynaKubeStatusNotReady")),
    )
}

/// The fixture's cluster with pods the webhook skipped, for a reason of every class.
fn audit_scene() -> PathBuf {
    let dir = scene("audit");
    pods(&dir, |model| {
        let mut pods = model;
        pods.push_str(&waiting_web_pod());
        pods.push_str(&pod(
            "cache-0",
            "shop",
            &skipped("oneagent", "UnknownCodeModule"),
        ));
        pods.push_str(&pod(
            "batch-0",
            "shop",
            &skipped("metadata-enrichment", "SomethingNew"),
        ));
        pods.push_str(&pod(
            "static-0",
            "shop",
            &skipped("oneagent", "NoMutationNeeded"),
        ));
        pods
    });
    dir
}

/// An output directory of the fixture with a file changed, one missing, one left over and one
/// shadowed by a directory.
fn check_scene() -> PathBuf {
    let dir = scene("check");
    let mut args = GENERATE.to_vec();
    args.extend(["-o", POLICIES]);
    assert!(cli(&dir, &args).status.success());
    let policies = dir.join(POLICIES);
    let changed = policies.join("dynatrace-operator-egress-dns.yaml");
    let old = std::fs::read_to_string(&changed).unwrap();
    std::fs::write(&changed, old.replace("port: 5353", "port: 53")).unwrap();
    std::fs::remove_file(policies.join("dynatrace-webhook-egress-dns.yaml")).unwrap();
    let kept =
        std::fs::read_to_string(policies.join("dynakube-activegate-egress-dns.yaml")).unwrap();
    std::fs::write(policies.join("dynakube-old-egress.yaml"), kept).unwrap();
    let kustomization = policies.join("kustomization.yaml");
    let listed = std::fs::read_to_string(&kustomization).unwrap();
    std::fs::write(&kustomization, listed + "- dynakube-old-egress.yaml\n").unwrap();
    let shadowed = policies.join("default-deny.yaml");
    std::fs::remove_file(&shadowed).unwrap();
    std::fs::create_dir(&shadowed).unwrap();
    dir
}

/// The arguments of `generate --check` of the scene, in `format`.
fn check_args(format: &str) -> Vec<&str> {
    let mut args = GENERATE.to_vec();
    args.extend(["-o", POLICIES, "--check", "--format", format]);
    args
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Runs `args` with `--format FORMAT` for every CI format: each must exit with `status`, and
/// its output is the snapshot `formats@openshift-dns__<what>-<format>`.
fn snapshot_each_format(dir: &Path, what: &str, args: &[&str], status: i32) {
    for (format, _) in FORMATS {
        let mut args = args.to_vec();
        if !args.contains(&"--format") {
            args.extend(["--format", format]);
        } else {
            *args.last_mut().unwrap() = format;
        }
        let out = cli(dir, &args);
        assert_eq!(
            out.status.code(),
            Some(status),
            "{format}: {}",
            text(&out.stderr)
        );
        settings().bind(|| {
            insta::assert_snapshot!(
                format!("formats@{FIXTURE}__{what}-{format}"),
                text(&out.stdout)
            );
        });
    }
}

#[test]
fn verify_in_every_format() {
    let dir = verify_scene();
    let text_report = cli(&dir, &VERIFY);
    assert_eq!(text_report.status.code(), Some(1));
    snapshot_each_format(&dir, "verify", &VERIFY, 1);

    // --fail-on makes the findings it names errors, in SARIF and JUnit alike.
    let mut args = VERIFY.to_vec();
    args.extend(["--fail-on", "extra,unchecked,foreign", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&cli(&dir, &args).stdout).unwrap();
    let levels: Vec<(&str, &str)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap()))
        .collect();
    assert!(
        levels.iter().all(|(_, level)| *level == "error"),
        "{levels:?}"
    );
    *args.last_mut().unwrap() = "junit";
    let junit = text(&cli(&dir, &args).stdout);
    assert!(
        junit.contains("<failure type=\"extra-connection\"")
            && junit.contains("<failure type=\"unchecked-flow\"")
            && junit.contains("<failure type=\"foreign-pod\"")
            && !junit.contains("<skipped"),
        "{junit}"
    );
}

#[test]
fn audit_in_every_format() {
    let dir = audit_scene();
    let args = ["audit", "pods.yaml", "--dynakube", "dynakube.yaml"];
    assert_eq!(cli(&dir, &args).status.code(), Some(1));
    snapshot_each_format(&dir, "audit", &args, 1);
}

#[test]
fn check_in_every_format() {
    let dir = check_scene();
    assert_eq!(cli(&dir, &check_args("text")).status.code(), Some(1));
    snapshot_each_format(&dir, "check", &check_args("text"), 1);

    // A fresh directory passes in every format.
    let fresh = scene("check-fresh");
    let mut args = GENERATE.to_vec();
    args.extend(["-o", POLICIES]);
    assert!(cli(&fresh, &args).status.success());
    for (format, _) in FORMATS {
        let out = cli(&fresh, &check_args(format));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let markdown = text(&cli(&fresh, &check_args("markdown")).stdout);
    assert!(markdown.starts_with("### ✅ dynakube-netpol generate --check: `pol icies` is fresh"));
}

/// A pod dump whose values no Kubernetes name can hold, which `audit` reads leniently.
fn hostile_scene() -> PathBuf {
    let dir = scene("hostile");
    std::fs::write(
        dir.join("pods.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{HOSTILE}\"\n  namespace: \"ns\\n| injected | row |\"\n  annotations: {{oneagent.dynatrace.com/injected: \"false\", oneagent.dynatrace.com/reason: \"{HOSTILE}\"}}\n"
        ),
    )
    .unwrap();
    dir
}

/// What [`hostile_scene`] names its pod and reason: markup of every format, an escape sequence.
const HOSTILE: &str = "a|b`c<script>&amp;\\\"x'@team #1 ]]> \\u001b[31m";

/// Hostile values stay inside their JSON string, XML text or attribute, and Markdown code span
/// and table cell.
#[test]
fn hostile_values_stay_inside_each_format() {
    let dir = hostile_scene();
    let run = |format: &str| text(&cli(&dir, &["audit", "pods.yaml", "--format", format]).stdout);

    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let message = sarif["runs"][0]["results"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("a|b`c<script>") && !message.contains('\u{1b}'),
        "{message}"
    );

    let junit = run("junit");
    assert!(
        !junit.contains("<script>") && !junit.contains('\u{1b}'),
        "{junit}"
    );
    assert!(
        junit.contains("&lt;script&gt;&amp;amp;&quot;x&apos;@team"),
        "{junit}"
    );
    assert_eq!(junit.matches("<testcase ").count(), 1, "{junit}");

    let markdown = run("markdown");
    let rows: Vec<&str> = markdown.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 3, "the head, its line and one row: {markdown}");
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    assert!(
        rows.iter().all(|row| cells(row) == cells(rows[0])),
        "{markdown}"
    );
    assert!(
        !markdown.contains('\u{1b}') && !markdown.contains("<script>\n"),
        "{markdown}"
    );
    assert!(rows[2].contains("| pod ``"), "{}", rows[2]);
}

/// The Python of the verifier's environment; panics, saying how to make it, when it is missing.
fn verifier_python() -> PathBuf {
    let python = match std::env::var_os("DYNAKUBE_NETPOL_VERIFIER_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => workspace().join("target/verifier-venv/bin/python"),
    };
    assert!(
        python.is_file(),
        "no {}: run `cargo xtask test`, which makes the verifier's Python environment (or name \
         its Python in DYNAKUBE_NETPOL_VERIFIER_PYTHON)",
        python.display()
    );
    python
}

/// The fixture's own policies and cluster: nothing found.
fn passing_scene() -> PathBuf {
    let dir = scene("passing");
    let mut args = GENERATE.to_vec();
    args.extend(["-o", POLICIES]);
    assert!(cli(&dir, &args).status.success());
    pods(&dir, |model| model);
    dir
}

#[test]
#[ignore = "needs the verifier's Python environment: cargo xtask test"]
fn reports_are_valid_against_their_schemas() {
    let python = verifier_python();
    let reports = Path::new(env!("CARGO_TARGET_TMPDIR")).join("formats/reports");
    let _ = std::fs::remove_dir_all(&reports);
    std::fs::create_dir_all(&reports).unwrap();
    let strict: Vec<&str> = (VERIFY.iter().copied())
        .chain(["--fail-on", "extra,unchecked,foreign"])
        .collect();
    let audit = vec!["audit", "pods.yaml", "--dynakube", "dynakube.yaml"];
    let runs: [(&str, PathBuf, Vec<&str>); 7] = [
        ("verify", verify_scene(), VERIFY.to_vec()),
        ("verify-strict", verify_scene(), strict),
        ("verify-passing", passing_scene(), VERIFY.to_vec()),
        ("audit", audit_scene(), audit.clone()),
        ("audit-passing", passing_scene(), audit),
        ("audit-hostile", hostile_scene(), vec!["audit", "pods.yaml"]),
        ("check", check_scene(), check_args("text")),
    ];
    let mut files = Vec::new();
    for (name, dir, args) in &runs {
        for (format, extension) in FORMATS.iter().filter(|(f, _)| *f != "markdown") {
            let mut args = args.clone();
            match args.iter().position(|a| *a == "--format") {
                Some(i) => args[i + 1] = format,
                None => args.extend(["--format", format]),
            }
            let out = cli(dir, &args);
            assert!(
                !out.stdout.is_empty(),
                "{name} {format}: {}",
                text(&out.stderr)
            );
            let file = reports.join(format!("{name}.{extension}"));
            std::fs::write(&file, &out.stdout).unwrap();
            files.push(file);
        }
    }
    let checked = Command::new(python)
        .args(["-B", "-E", "-s"])
        .arg(workspace().join("xtask/verifier/formats.py"))
        .arg("--schemas")
        .arg(workspace().join("fixtures/report-schemas"))
        .args(&files)
        .output()
        .unwrap();
    let lines = text(&checked.stdout);
    assert!(checked.status.success(), "{lines}{}", text(&checked.stderr));
    let summary = format!("{} passed, 0 failed; self-test missed 0", files.len());
    assert!(lines.contains(&summary), "{lines}");
}

/// `docs/ci.md`, the page of these formats.
fn ci_page() -> String {
    std::fs::read_to_string(workspace().join("docs/ci.md")).unwrap()
}

/// The command lines of the page: the `dynakube-netpol …` lines of its shell blocks and the
/// `run:` of its workflow, each once.
fn page_commands(page: &str) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    let mut block = None;
    for line in page.lines() {
        if let Some(info) = line.strip_prefix("```") {
            block = if block.is_none() { Some(info) } else { None };
            continue;
        }
        let command = match block {
            Some("sh") => line,
            Some("yaml") => line.trim().strip_prefix("run: ").unwrap_or_default(),
            _ => continue,
        };
        if command.starts_with("dynakube-netpol ") && !commands.iter().any(|c| c == command) {
            commands.push(command.to_string());
        }
    }
    commands
}

/// The first code block of the page with `info` (`json`, `xml`, `markdown`), without its fences.
fn page_block<'a>(page: &'a str, info: &str) -> &'a str {
    let fence = format!("\n```{info}\n");
    let start = page
        .find(&fence)
        .unwrap_or_else(|| panic!("no {info} block"))
        + fence.len();
    let end = page[start..].find("\n```\n").expect("the block ends") + 1;
    &page[start..start + end]
}

/// The scene of the page: the fixture's policies in `policies/` without the one that admits the
/// API server to the webhook, and its cluster with a Deployment's pod that waits for the
/// DynaKube.
fn page_scene() -> PathBuf {
    let dir = scene("page");
    let mut args = GENERATE.to_vec();
    args.extend(["-o", "policies/"]);
    assert!(cli(&dir, &args).status.success());
    std::fs::remove_file(dir.join("policies/dynatrace-webhook-ingress-kube-apiserver.yaml"))
        .unwrap();
    pods(&dir, |model| model + &waiting_web_pod());
    dir
}

/// Every command of `docs/ci.md` runs as shown and writes its report, and the page's examples
/// are the reports of its scene, byte for byte.
#[test]
fn ci_page_commands_and_examples_are_real() {
    let page = ci_page();
    let dir = page_scene();
    let commands = page_commands(&page);
    let all = commands.join("\n");
    for needed in ["verify ", "audit ", "--check", "sarif", "junit", "markdown"] {
        assert!(
            all.contains(needed),
            "docs/ci.md runs nothing with {needed}"
        );
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .parent()
        .unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    for command in &commands {
        let out = Command::new("sh")
            .args(["-c", command])
            .env("PATH", &path)
            .current_dir(&dir)
            .output()
            .unwrap();
        // Every check finds something in this scene.
        assert_eq!(
            out.status.code(),
            Some(1),
            "{command}: {}",
            text(&out.stderr)
        );
        let (_, file) = command
            .rsplit_once(" > ")
            .expect("the command writes a file");
        let report = std::fs::read_to_string(dir.join(file)).unwrap();
        match Path::new(file).extension().and_then(|e| e.to_str()) {
            Some("sarif") => {
                let log: serde_json::Value = serde_json::from_str(&report).unwrap();
                assert_eq!(log["version"], "2.1.0", "{command}");
            }
            Some("xml") => assert!(report.contains("<testsuites name="), "{command}"),
            Some("md") => assert!(report.starts_with("### ❌ "), "{command}"),
            other => panic!("{command}: a report of extension {other:?}"),
        }
    }

    let verify = std::fs::read_to_string(dir.join("verify.sarif")).unwrap();
    let verify: serde_json::Value = serde_json::from_str(&verify).unwrap();
    let shown: serde_json::Value = serde_json::from_str(page_block(&page, "json")).unwrap();
    assert_eq!(shown, verify["runs"][0]["results"][0]);
    let audit = |format| {
        let args = [
            "audit",
            "pods.yaml",
            "--dynakube",
            "dynakube.yaml",
            "--format",
            format,
        ];
        text(&cli(&dir, &args).stdout)
    };
    assert_eq!(page_block(&page, "xml"), audit("junit"));
    assert_eq!(page_block(&page, "markdown"), audit("markdown"));
}
