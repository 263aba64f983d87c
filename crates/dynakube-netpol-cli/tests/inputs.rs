//! Inputs and outputs named as kubectl users name them (docs/inputs.md): `-f`, directories
//! (with and without `-R`), and `-o` with a format word, a file name or a directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dynakube-netpol");

/// A scratch directory holding `in/` with the DynaKube of the fixture
/// `a-cloud-native-network-zone`, its cluster profile and a hosts file beside it, a README and
/// a subdirectory with the EdgeConnect of `f-edgeconnect-automation`.
fn workspace(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("inputs")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in/edge")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let fixture = root.join("a-cloud-native-network-zone");
    for file in ["dynakube.yaml", "cluster.yaml", "hosts.yaml", "README.md"] {
        std::fs::copy(fixture.join(file), dir.join("in").join(file)).unwrap();
    }
    let edge = root.join("f-edgeconnect-automation");
    std::fs::copy(
        edge.join("edgeconnect.yaml"),
        dir.join("in/edge/edgeconnect.yaml"),
    )
    .unwrap();
    // The addresses of both resources' hosts.
    let hosts = [fixture.join("hosts.yaml"), edge.join("hosts.yaml")]
        .map(|file| std::fs::read_to_string(file).unwrap())
        .concat();
    std::fs::write(dir.join("in/hosts.yaml"), hosts).unwrap();
    dir
}

/// `dynakube-netpol ARGS` run in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap()
}

/// `run`, which must succeed; its standard output.
fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The stream without its provenance (which names the inputs as given).
fn policies(stream: &str) -> &str {
    &stream[stream.find("\n---\n").expect("a stream of policies")..]
}

const PROFILE: [&str; 4] = ["--cluster", "in/cluster.yaml", "--hosts", "in/hosts.yaml"];

fn with_profile<'a>(args: &[&'a str]) -> Vec<&'a str> {
    args.iter().copied().chain(PROFILE).collect()
}

#[test]
fn f_reads_an_input_as_an_argument_does() {
    let dir = workspace("f");
    let positional = run_ok(&dir, &with_profile(&["generate", "in/dynakube.yaml"]));
    let f = run_ok(&dir, &with_profile(&["generate", "-f", "in/dynakube.yaml"]));
    let long = run_ok(
        &dir,
        &with_profile(&["generate", "--filename=./in/dynakube.yaml"]),
    );
    // The same bytes, provenance included: it names every input as an argument.
    assert_eq!(positional, f);
    assert_eq!(positional, long);
    assert!(positional.contains("#   dynakube-netpol generate in/dynakube.yaml --cluster"));
    // Every subcommand that reads resources takes it.
    for subcommand in ["verify", "zone-plan", "lock"] {
        let out = run(&dir, &[subcommand, "-f"]);
        assert!(
            stderr(&out).contains("a value is required for '--filename <FILE>'"),
            "{subcommand}: {}",
            stderr(&out)
        );
    }
    let plan = run_ok(&dir, &["zone-plan", "-f", "in/dynakube.yaml"]);
    assert!(plan.contains("k8s-prod-eu1"), "{plan}");
    // Neither an argument nor -f: clap names what is missing.
    let out = run(&dir, &["generate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("<INPUT>"), "{}", stderr(&out));
}

#[test]
fn directories_are_walked_as_kubectl_walks_them() {
    let dir = workspace("dir");
    let file = run_ok(&dir, &with_profile(&["generate", "in/dynakube.yaml"]));
    // The profile and hosts file met in the directory are no inputs; the README is no YAML;
    // the EdgeConnect in the subdirectory is left out without -R.
    let out = run(&dir, &with_profile(&["generate", "in", "-v"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        policies(&String::from_utf8_lossy(&out.stdout)),
        policies(&file)
    );
    assert!(
        stderr(&out).contains("skipped in/cluster.yaml: it is the cluster profile or hosts file"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("read 1 DynaKube(s) and 0 EdgeConnect(s)"));
    assert!(
        stderr(&out)
            .contains("warning: in: its subdirectories were not read; pass -R to read them"),
        "{}",
        stderr(&out)
    );
    let recursive = run(&dir, &with_profile(&["generate", "-R", "-f", "in", "-v"]));
    assert!(recursive.status.success(), "{}", stderr(&recursive));
    assert!(
        stderr(&recursive).contains("read 1 DynaKube(s) and 1 EdgeConnect(s)"),
        "{}",
        stderr(&recursive)
    );
    let stream = String::from_utf8_lossy(&recursive.stdout);
    assert!(stream.contains("#   dynakube-netpol generate in -R --cluster"));
    // A directory with nothing to read says where the inputs may be.
    let out = run(
        &dir,
        &with_profile(&["generate", "in/edge/..", "-f", "in/edge"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::create_dir_all(dir.join("nested/deeper")).unwrap();
    std::fs::copy(
        dir.join("in/dynakube.yaml"),
        dir.join("nested/deeper/dynakube.yaml"),
    )
    .unwrap();
    let out = run(&dir, &with_profile(&["generate", "nested"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: nested: cannot read: a directory without *.yaml, *.yml or *.json files; pass -R to read its subdirectories\n"
    );
    run_ok(&dir, &with_profile(&["generate", "nested", "-R"]));
}

#[test]
fn o_names_a_format_a_file_or_a_directory() {
    let dir = workspace("o");
    let args = with_profile(&["generate", "in/dynakube.yaml"]);
    let with = |more: &[&'static str]| -> Vec<&str> {
        args.iter().copied().chain(more.iter().copied()).collect()
    };
    let stream = run_ok(&dir, &args);
    assert_eq!(run_ok(&dir, &with(&["-o", "yaml"])), stream);
    assert_eq!(run_ok(&dir, &with(&["--output", "-"])), stream);
    // JSON: one List of the stream's objects, in the stream's order.
    let json = run_ok(&dir, &with(&["-o", "json"]));
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    let documents: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&stream)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|d: &serde_json::Value| !d.is_null())
        .collect();
    assert_eq!(list["items"].as_array().unwrap(), &documents);
    // A file name: the stream in its format, written atomically; nothing to write when fresh.
    run_ok(&dir, &with(&["-o", "policies.yaml"]));
    assert_eq!(
        std::fs::read_to_string(dir.join("policies.yaml")).unwrap(),
        stream
    );
    run_ok(&dir, &with(&["-o", "out.json"]));
    assert_eq!(std::fs::read_to_string(dir.join("out.json")).unwrap(), json);
    let again = run(&dir, &with(&["-o", "policies.yaml"]));
    assert!(
        stderr(&again).contains(" policies in policies.yaml: nothing changed; "),
        "{}",
        stderr(&again)
    );
}

#[test]
fn check_compares_a_file_as_it_compares_a_directory() {
    let dir = workspace("check");
    let args = with_profile(&["generate", "in/dynakube.yaml"]);
    let with = |more: &[&'static str]| -> Vec<&str> {
        args.iter().copied().chain(more.iter().copied()).collect()
    };
    let stream = run_ok(&dir, &args);
    run_ok(&dir, &with(&["-o", "policies.yaml"]));
    run_ok(&dir, &with(&["-o", "policies.yaml", "--check"]));
    std::fs::write(dir.join("policies.yaml"), stream.replace("10080", "10081")).unwrap();
    let stale = run(&dir, &with(&["-o", "policies.yaml", "--check"]));
    assert_eq!(stale.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&stale.stdout);
    assert!(
        diff.contains("-    - port: 10081\n+    - port: 10080\n"),
        "{diff}"
    );
    assert!(
        stderr(&stale).contains(
            "error: policies.yaml is stale: 1 file(s) differ from what the inputs generate; run `dynakube-netpol generate in/dynakube.yaml --cluster in/cluster.yaml --hosts in/hosts.yaml -o policies.yaml` to write it afresh"
        ),
        "{}",
        stderr(&stale)
    );
    // The CI formats of --check report the file as they report a directory's files.
    let json = run(
        &dir,
        &with(&["-o", "policies.yaml", "--check", "--format", "json"]),
    );
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["files"], serde_json::json!(["policies.yaml"]));
    assert_eq!(report["differences"][0]["change"], "changed");
    let missing = run(
        &dir,
        &with(&["-o", "gone.json", "--check", "--format", "json"]),
    );
    assert_eq!(missing.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert_eq!(report["differences"][0]["change"], "missing");
    let out = run(&dir, &with(&["-o", "json", "--check"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`-o json` is standard output"));
}

#[test]
fn o_refuses_kubectl_s_other_formats_and_keeps_directories() {
    let dir = workspace("o-refused");
    let args = with_profile(&["generate", "in/dynakube.yaml"]);
    let with = |more: &[&'static str]| -> Vec<&str> {
        args.iter().copied().chain(more.iter().copied()).collect()
    };
    // kubectl's other formats are refused with what works; no directory appears.
    for format in ["wide", "name", "jsonpath={.items[*].metadata.name}"] {
        let out = run(&dir, &with(&["-o", format]));
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(
            stderr(&out).contains("-o yaml (the default) and -o json print the policies"),
            "{}",
            stderr(&out)
        );
    }
    for format in ["yaml", "json", "policies.yaml", "policies.json"] {
        run_ok(&dir, &with(&["-o", format]));
    }
    for name in [
        "yaml",
        "json",
        "wide",
        "name",
        "policies.yaml",
        "policies.json",
    ] {
        assert!(!dir.join(name).is_dir(), "{name} became a directory");
    }
    // A directory: by any other name, a trailing slash, or one that exists.
    run_ok(&dir, &with(&["-o", "policies"]));
    run_ok(&dir, &with(&["-o", "json/"]));
    for name in ["policies", "json"] {
        assert!(
            dir.join(name).join("kustomization.yaml").is_file(),
            "{name}"
        );
    }
    let out = run(&dir, &with(&["-o", "json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("-o json: writing into the existing directory json, as before; for the stream on standard output leave -o out, or give `-o -`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_and_audit_read_directories_too() {
    let dir = workspace("verify");
    let args = with_profile(&["generate", "in/dynakube.yaml"]);
    let with = |more: &[&'static str]| -> Vec<&str> {
        args.iter().copied().chain(more.iter().copied()).collect()
    };
    std::fs::create_dir_all(dir.join("policies/more")).unwrap();
    run_ok(&dir, &with(&["-o", "policies/more/policies.json"]));
    // The policies, as JSON in a subdirectory: found with -R alone.
    let verify = [
        "verify",
        "-f",
        "in/dynakube.yaml",
        "--cluster",
        "in/cluster.yaml",
        "--hosts",
        "in/hosts.yaml",
        "--policies",
        "policies",
    ];
    let flat = run(&dir, &verify);
    assert_eq!(flat.status.code(), Some(2));
    assert!(
        stderr(&flat).contains("policies holds no networking.k8s.io/v1 NetworkPolicy"),
        "{}",
        stderr(&flat)
    );
    let report = run_ok(&dir, &[&verify[..], &["-R"]].concat());
    assert!(report.contains("0 denied"), "{report}");
    // audit: pod dumps in a directory, beside one given with -f.
    std::fs::create_dir_all(dir.join("pods")).unwrap();
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  annotations:\n    oneagent.dynatrace.com/injected: \"false\"\n    oneagent.dynatrace.com/reason: EmptyConnectionInfo\n"
        )
    };
    std::fs::write(dir.join("pods/a.yaml"), pod("a")).unwrap();
    let json: serde_json::Value = serde_yaml::from_str(&pod("b")).unwrap();
    std::fs::write(dir.join("pods/b.json"), json.to_string()).unwrap();
    std::fs::write(dir.join("c.yaml"), pod("c")).unwrap();
    let out = run(&dir, &["audit", "pods", "-f", "c.yaml", "--format", "json"]);
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = audit.to_string();
    for name in ["\"a\"", "\"b\"", "\"c\""] {
        assert!(text.contains(name), "{name}: {text}");
    }
}
