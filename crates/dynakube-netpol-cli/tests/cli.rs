//! The command line as a new user meets it: typos, `-` for standard input and output, colour,
//! --quiet and --verbose, completions that work in bash, man pages that match the binary, and
//! the binary under the names other tools run it by (kubectl plugin, kustomize transformer).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dynakube-netpol");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    root()
        .join("fixtures/a-cloud-native-network-zone")
        .join(name)
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `program` with `args`, `stdin` on standard input, without colour settings of the
/// environment.
fn run_as(program: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written from a thread so that a large output cannot block the input; a program that
    // stops early (a bad config file refused before the stream is read) closes the pipe, and
    // that broken pipe is its answer, not the test's failure.
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

fn run(args: &[&str], stdin: &str) -> Output {
    run_as(Path::new(BIN), args, stdin, &[])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn typos_get_suggestions() {
    let out = run(&["genrate"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("similar subcommand exists: 'generate'"));
    let out = run(&["generate", "x.yaml", "--host", "h.yaml"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("similar argument exists: '--hosts'"));
    let out = run(
        &["verify", "x.yaml", "--policies", "p", "--output", "json"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unexpected argument '--output'"),
        "{stderr}"
    );
}

#[test]
fn colour_only_for_terminals_or_when_forced() {
    let args = ["generate", &fixture("dynakube.yaml")];
    let plain = run(&args, "");
    assert_eq!(plain.status.code(), Some(2));
    assert!(text(&plain.stderr).starts_with("error: "));
    assert!(!plain.stderr.contains(&0x1b), "no escape codes into a pipe");
    let forced = run_as(Path::new(BIN), &args, "", &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stderr.contains(&0x1b), "CLICOLOR_FORCE colours");
    let no_color = run_as(
        Path::new(BIN),
        &args,
        "",
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!no_color.stderr.contains(&0x1b), "NO_COLOR wins");
}

#[test]
fn standard_input_for_every_file() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let cluster = std::fs::read_to_string(fixture("cluster.yaml")).unwrap();
    let hosts = std::fs::read_to_string(fixture("hosts.yaml")).unwrap();
    let (dk, cl, ho) = (
        fixture("dynakube.yaml"),
        fixture("cluster.yaml"),
        fixture("hosts.yaml"),
    );
    let files = run(&["generate", &dk, "--cluster", &cl, "--hosts", &ho], "");
    assert!(files.status.success(), "{}", text(&files.stderr));
    for (args, stdin) in [
        (
            vec!["generate", "-", "--cluster", &cl, "--hosts", &ho],
            &dynakube,
        ),
        (
            vec!["generate", &dk, "--cluster", "-", "--hosts", &ho],
            &cluster,
        ),
        (
            vec!["generate", &dk, "--cluster", &cl, "--hosts", "-"],
            &hosts,
        ),
    ] {
        let out = run(&args, stdin);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        // Only the provenance line naming `-` differs.
        let body = |o: &Output| {
            text(&o.stdout)
                .lines()
                .skip(2)
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(body(&out), body(&files), "{args:?}");
    }
    let twice = run(&["generate", "-", "--cluster", "-"], &dynakube);
    assert_eq!(twice.status.code(), Some(2));
    assert!(text(&twice.stderr).contains("can be read once"));
}

#[test]
fn standard_input_for_policies_and_pods() {
    let (dk, cl, ho) = (
        fixture("dynakube.yaml"),
        fixture("cluster.yaml"),
        fixture("hosts.yaml"),
    );
    let files = run(&["generate", &dk, "--cluster", &cl, "--hosts", &ho], "");
    let policies = text(&files.stdout);
    let verify = run(
        &[
            "verify",
            &dk,
            "--cluster",
            &cl,
            "--hosts",
            &ho,
            "--policies",
            "-",
        ],
        &policies,
    );
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    let model = scratch("stdin-pods");
    let case = run(
        &[
            "verify",
            &dk,
            "--cluster",
            &cl,
            "--hosts",
            &ho,
            "--policies",
            "-",
        ]
        .into_iter()
        .chain(["--write-case", model.to_str().unwrap()])
        .collect::<Vec<_>>(),
        &policies,
    );
    assert!(case.status.success());
    let pods = std::fs::read_to_string(model.join("cluster.yaml")).unwrap();
    let policy_file = model.join("policies.yaml");
    let with_pods = run(
        &[
            "verify",
            &dk,
            "--cluster",
            &cl,
            "--hosts",
            &ho,
            "--pods",
            "-",
        ]
        .into_iter()
        .chain(["--policies", policy_file.to_str().unwrap()])
        .collect::<Vec<_>>(),
        &pods,
    );
    assert!(with_pods.status.success(), "{}", text(&with_pods.stderr));
    let audit = run(&["audit", "-", "--dynakube", "-"], "");
    assert_eq!(audit.status.code(), Some(2));
    assert!(text(&audit.stderr).contains("can be read once"));
}

#[test]
fn dash_output_is_standard_output() {
    let dir = scratch("dash-output");
    let args = [
        "generate",
        &fixture("dynakube.yaml"),
        "--hosts",
        &fixture("hosts.yaml"),
    ];
    // In a directory of its own, where a directory named `-` would show.
    let generate = |more: &[&str]| {
        Command::new(BIN)
            .args(args)
            .args(more)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let plain = generate(&[]);
    let dash = generate(&["-o", "-"]);
    assert!(dash.status.success());
    assert_eq!(plain.stdout, dash.stdout);
    assert!(!dir.join("-").exists(), "no directory named -");
    let check = generate(&["-o", "-", "--check"]);
    assert_eq!(check.status.code(), Some(2));
    assert!(text(&check.stderr).contains("--check"));
}

#[test]
fn quiet_and_verbose() {
    let args = [
        "generate",
        &fixture("dynakube.yaml"),
        "--hosts",
        &fixture("hosts.yaml"),
    ];
    let normal = run(&args, "");
    assert!(text(&normal.stderr).contains("warning (I1, I3"));
    let quiet = run(&[&args[..], &["--quiet"]].concat(), "");
    assert!(quiet.status.success());
    assert!(text(&quiet.stderr).starts_with("warning (I1, I3"));
    assert!(
        text(&quiet.stderr)
            .lines()
            .all(|l| l.starts_with("warning"))
    );
    assert_eq!(quiet.stdout, normal.stdout);
    let quieter = run(&[&args[..], &["-qq"]].concat(), "");
    assert!(quieter.status.success());
    assert_eq!(text(&quieter.stderr), "");
    assert_eq!(quieter.stdout, normal.stdout);
    let verbose = run(&[&["-v"], &args[..]].concat(), "");
    assert!(text(&verbose.stderr).contains("read 1 DynaKube(s) and 0 EdgeConnect(s)"));
    let both = run(&[&args[..], &["-q", "-v"]].concat(), "");
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn completions_and_man_pages_are_fresh() {
    // The check of `cargo xtask cli-docs --check`, with this build of the CLI.
    let changes = xtask::cli_docs::changes(&root(), Path::new(BIN), &scratch("cli-docs")).unwrap();
    let refresh = format!("`{}`", xtask::cli_docs::COMMAND);
    xtask::generated::apply(&root(), &changes, true, &refresh).unwrap();
}

/// What bash completes for `words` (the last one being completed), with the committed script.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = root().join("crates/dynakube-netpol-cli/share/completions/dynakube-netpol.bash");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        r#"source '{}'
function=$(complete -p dynakube-netpol | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
COMP_WORDS=({})
COMP_CWORD={}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$function" dynakube-netpol "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completion_completes_subcommands_options_and_values() {
    let subcommands = bash_completes(&["dynakube-netpol", "ge"]);
    assert_eq!(subcommands, ["generate"]);
    let all = bash_completes(&["dynakube-netpol", ""]);
    assert!(all.contains(&"krm".to_owned()), "{all:?}");
    for hidden in ["kustomize-transformer", "man"] {
        assert!(
            !all.contains(&hidden.to_owned()),
            "{hidden} is hidden: {all:?}"
        );
    }
    let options = bash_completes(&["dynakube-netpol", "generate", "--fl"]);
    assert_eq!(options, ["--flavor"]);
    let values = bash_completes(&["dynakube-netpol", "generate", "--flavor", ""]);
    let flavors: Vec<&str> = dynakube_netpol::Flavor::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    assert_eq!(values, flavors);
    let formats = bash_completes(&["dynakube-netpol", "verify", "--format", ""]);
    assert_eq!(formats, ["text", "json", "sarif", "junit", "markdown"]);
    let formats = bash_completes(&["dynakube-netpol", "zone-plan", "--format", ""]);
    assert_eq!(formats, ["text", "json"]);
}

/// The binary linked under another name in a fresh directory (a link, not a copy: running a
/// file another test thread is still writing fails with "text file busy").
fn installed_as(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::os::unix::fs::symlink(BIN, &path).unwrap();
    path
}

#[test]
fn as_a_kubectl_plugin_usage_names_kubectl() {
    let dir = scratch("kubectl-plugin");
    let plugin = installed_as(&dir, "kubectl-dynakube_netpol");
    let help = run_as(&plugin, &["--help"], "", &[]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("Usage: kubectl dynakube-netpol [OPTIONS] <COMMAND>"));
    let args = [
        "generate",
        &fixture("dynakube.yaml"),
        "--hosts",
        &fixture("hosts.yaml"),
    ];
    assert_eq!(
        run_as(&plugin, &args, "", &[]).stdout,
        run(&args, "").stdout
    );
}

const GENERATOR: &str = "apiVersion: dynakube-netpol.github.io/v1alpha1
kind: NetworkPolicyGenerator
metadata: {name: policies}
spec:
  flavor: kubernetes
  cluster:
    nodeCIDRs: [192.0.2.0/24]
  hosts:
    abc12345.live.dynatrace.com: [203.0.113.10]
";

const CONFIG_MAP: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: shop-settings, namespace: shop}
data: {color: blue}
";

#[test]
fn kustomize_transformer_by_its_kind_name() {
    let dir = scratch("transformer");
    let plugin = installed_as(&dir, "NetworkPolicyGenerator");
    let config = dir.join("generator.yaml");
    std::fs::write(&config, GENERATOR).unwrap();
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let stream = format!("{CONFIG_MAP}---\n{dynakube}");
    let out = run_as(&plugin, &[config.to_str().unwrap()], &stream, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = text(&out.stdout);
    assert!(out.starts_with(&stream), "the resources first, unchanged");
    assert!(out[stream.len()..].contains("kind: NetworkPolicy"));
    assert!(
        out.contains("cidr: 203.0.113.10/32"),
        "the inline hosts are used"
    );

    // The message of a refused run (exit 2) with the configuration at `path`.
    let refused = |path: &Path, stream: &str| {
        let out = run_as(&plugin, &[path.to_str().unwrap()], stream, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
        text(&out.stderr)
    };

    // kustomize passes a temporary copy of the configuration: named by its name instead.
    let typo = dir.join("kust-plugin-config-1234");
    std::fs::write(&typo, GENERATOR.replace("flavor:", "flavour:")).unwrap();
    let stderr = refused(&typo, &stream);
    assert!(
        stderr.contains("NetworkPolicyGenerator policies, field `spec.flavour`"),
        "{stderr}"
    );

    // The warnings ride on default-deny: kustomize drops comments and, on success, the
    // plugin's standard error.
    let policies = text(&run_as(&plugin, &[config.to_str().unwrap()], &stream, &[]).stdout);
    assert!(
        policies.contains("    dynakube-netpol/warnings: |-\n      warning ("),
        "{policies}"
    );
    // The limits are the configuration's.
    let small = dir.join("small.yaml");
    std::fs::write(&small, format!("{GENERATOR}  maxInputBytes: 100\n")).unwrap();
    let stderr = refused(&small, &stream);
    assert!(
        stderr.contains("set `spec.maxInputBytes: BYTES` to raise the limit"),
        "{stderr}"
    );

    // Advice names the configuration's fields, not command-line flags.
    let stderr = refused(&config, &stream.replace("apiUrl:", "apiURL:"));
    assert!(
        stderr.contains("set `spec.ignoreUnknownFields: true` to ignore unknown fields")
            && !stderr.contains("--"),
        "{stderr}"
    );
}

/// Runs the KRM function on `list`; returns the exit code and the output list.
fn krm(list: &str) -> (i32, serde_yaml::Value) {
    let out = run(&["krm"], list);
    let value = serde_yaml::from_str(&text(&out.stdout)).expect("a ResourceList comes out");
    (out.status.code().unwrap(), value)
}

fn resource_list(items: &[&str], config: &str) -> String {
    let mut list =
        String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    for item in items {
        let value: serde_yaml::Value = serde_yaml::from_str(item).unwrap();
        list.push_str(&format!("- {}\n", serde_json::to_string(&value).unwrap()));
    }
    let config: serde_yaml::Value = serde_yaml::from_str(config).unwrap();
    list.push_str(&format!(
        "functionConfig: {}\n",
        serde_json::to_string(&config).unwrap()
    ));
    list
}

fn errors(list: &serde_yaml::Value) -> Vec<&serde_yaml::Value> {
    list["results"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter(|r| r["severity"] == "error")
        .collect()
}

#[test]
fn krm_function_appends_policies_and_keeps_items() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let input = resource_list(&[CONFIG_MAP, &dynakube], GENERATOR);
    let (code, list) = krm(&input);
    assert_eq!(code, 0, "{list:?}");
    let given: serde_yaml::Value = serde_yaml::from_str(&input).unwrap();
    let items = list["items"].as_sequence().unwrap();
    assert_eq!(
        items[..2],
        given["items"].as_sequence().unwrap()[..],
        "items kept"
    );
    assert!(items.len() > 10);
    assert!(items[2..].iter().all(|i| i["kind"] == "NetworkPolicy"));
    assert!(errors(&list).is_empty());
    assert!(
        list["results"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|r| r["severity"] == "warning"),
        "warnings become results"
    );
    // Under its own name it is the function without arguments.
    let dir = scratch("krm-name");
    let named = installed_as(&dir, "dynakube-netpol-krm");
    let out = run_as(&named, &[], &input, &[]);
    assert_eq!(
        serde_yaml::from_str::<serde_yaml::Value>(&text(&out.stdout)).unwrap(),
        list
    );
}

#[test]
fn krm_function_reports_bad_input_in_results() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let bad = dynakube.replace("https://abc12345.live.dynatrace.com/api", "ftp://x");
    let (code, list) = krm(&resource_list(&[CONFIG_MAP, &bad], GENERATOR));
    assert_eq!(code, 1);
    let found = errors(&list);
    assert_eq!(found.len(), 1, "{list:?}");
    assert_eq!(found[0]["resourceRef"]["kind"], "DynaKube");
    assert_eq!(found[0]["resourceRef"]["name"], "dynakube");
    assert_eq!(found[0]["field"]["path"], "spec.apiUrl");
    assert_eq!(
        list["items"].as_sequence().unwrap().len(),
        2,
        "items unchanged"
    );

    let typo = GENERATOR.replace("fqdn", "x").replace("flavor:", "flavr:");
    let (code, list) = krm(&resource_list(&[&dynakube], &typo));
    assert_eq!(code, 1);
    assert_eq!(errors(&list)[0]["field"]["path"], "spec.flavr");
    assert!(
        errors(&list)[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("did you mean `flavor`?"),
        "{list:?}"
    );
    assert_eq!(
        errors(&list)[0]["resourceRef"]["kind"],
        "NetworkPolicyGenerator"
    );

    for garbage in [
        "[1, 2",
        "kind: ConfigMap\n",
        "kind: ResourceList\nitems: 3\n",
    ] {
        let out = run(&["krm"], garbage);
        assert_eq!(out.status.code(), Some(1), "{garbage}");
        let list: serde_yaml::Value = serde_yaml::from_str(&text(&out.stdout)).unwrap();
        assert_eq!(errors(&list).len(), 1, "{garbage}");
    }
}

/// A second run over its own output replaces the policies of the first (`kpt fn render` runs
/// functions again); a policy of the same name that the user wrote is an error, not a silent
/// second copy; the warnings, which kustomize's output keeps no comment of, are annotated.
#[test]
fn krm_function_is_idempotent_and_refuses_collisions() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let config = GENERATOR;
    let (code, first) = krm(&resource_list(&[&dynakube], config));
    assert_eq!(code, 0, "{first:?}");
    let names = |list: &serde_yaml::Value| -> Vec<String> {
        list["items"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (code, second) = krm(&serde_yaml::to_string(&first).unwrap());
    assert_eq!(code, 0, "{second:?}");
    assert_eq!(names(&second), names(&first), "replaced, not doubled");
    assert!(
        serde_yaml::to_string(&second["results"])
            .unwrap()
            .contains("replaced 20 policies that this configuration (policies) generated in an earlier run: NetworkPolicy dynatrace/default-deny, "),
        "{:?}",
        second["results"]
    );
    let count = |list: &serde_yaml::Value| list["results"].as_sequence().unwrap().len();
    assert_eq!(
        count(&second),
        count(&first) + 1,
        "its own results replaced, not piled up"
    );
    let default_deny = first["items"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|i| i["metadata"]["name"] == "default-deny")
        .unwrap();
    let warnings = default_deny["metadata"]["annotations"]["dynakube-netpol/warnings"]
        .as_str()
        .unwrap();
    assert!(
        warnings.contains("warning (I4) [spec.cluster.controlPlaneCIDRs]: the cluster profile has no controlPlaneCIDRs"),
        "{warnings}"
    );

    let own = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: dynatrace}
spec: {podSelector: {}, policyTypes: [Ingress]}
";
    let (code, out) = krm(&resource_list(&[own, &dynakube], config));
    assert_eq!(code, 1);
    let error = errors(&out)[0];
    assert_eq!(error["resourceRef"]["kind"], "NetworkPolicy");
    assert_eq!(error["field"]["path"], "metadata.name");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("NetworkPolicy default-deny is already in the manifests"),
        "{error:?}"
    );
    assert_eq!(names(&out), ["default-deny", "dynakube"], "items unchanged");
}

/// On an error in a list that holds an earlier run's policies, the items come back in their
/// order, and the error names the item by its index in the list as given.
#[test]
fn krm_function_error_after_an_earlier_run_keeps_the_items() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let (code, first) = krm(&resource_list(&[&dynakube], GENERATOR));
    assert_eq!(code, 0, "{first:?}");
    let mut items = first["items"].as_sequence().unwrap().clone();
    let mut broken = items.remove(0);
    assert_eq!(broken["kind"], "DynaKube");
    broken["spec"]["apiUrl"] = "ftp://x".into();
    items.push(broken);
    let mut list = first.clone();
    list["items"] = serde_yaml::Value::Sequence(items.clone());
    let (code, out) = krm(&serde_yaml::to_string(&list).unwrap());
    assert_eq!(code, 1);
    assert_eq!(out["items"].as_sequence().unwrap(), &items, "as they came");
    let error = errors(&out)[0];
    let last = items.len() - 1;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("items[{last}], field `spec.apiUrl`")),
        "{error:?}"
    );
    assert_eq!(error["resourceRef"]["kind"], "DynaKube");
}

/// What orchestrators other than kustomize send: no functionConfig (`kpt fn eval --exec`),
/// results of earlier functions, file annotations on items; and advice in the words of the
/// function config, not of the command line.
#[test]
fn krm_function_speaks_the_list_s_language() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let annotated = dynakube.replacen(
        "metadata:\n",
        "metadata:\n  annotations:\n    internal.config.kubernetes.io/path: dk.yaml\n    internal.config.kubernetes.io/index: '0'\n",
        1,
    );
    assert_ne!(annotated, dynakube);
    let list = resource_list(&[&annotated], "{}").replace("functionConfig: {}\n", "")
        + "results:\n- {message: from an earlier function, severity: info}\n";
    let (code, out) = krm(&list);
    assert_eq!(code, 1, "no hosts and no fallback: an error");
    let results = out["results"].as_sequence().unwrap();
    assert_eq!(
        results[0]["message"], "from an earlier function",
        "kept first"
    );
    let error = errors(&out)[0];
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("give them in `spec.hosts` or `spec.hostsFile` with their addresses, resolve them into a lock file with `dynakube-netpol lock` and name it in `spec.lockFile`, or set `spec.fqdnFallback: public-internet` to allow their ports to every public address"),
        "{message}"
    );

    let typo = annotated.replace("apiUrl:", "apiURL:");
    let (code, out) = krm(&resource_list(&[&typo], GENERATOR));
    assert_eq!(code, 1);
    let error = errors(&out)[0];
    assert_eq!(error["file"]["path"], "dk.yaml");
    assert_eq!(error["file"]["index"], 0);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("items[0], field `spec.apiURL`: "),
        "{message}"
    );
    assert!(
        message.contains(
            "; set `spec.ignoreUnknownFields: true` to ignore unknown fields with a warning"
        ),
        "{message}"
    );

    let (code, out) = krm(&resource_list(
        &[&dynakube],
        &GENERATOR.replace(
            "  hosts:\n    abc12345.live.dynatrace.com: [203.0.113.10]\n",
            "  fqdnFallback: public-internet\n",
        ),
    ));
    assert_eq!(code, 0, "{out:?}");
    let yaml = serde_yaml::to_string(&out["results"]).unwrap();
    assert!(yaml.contains("cause: spec.fqdnFallback"), "{yaml}");
    assert!(
        yaml.contains("cause: spec.cluster.controlPlaneCIDRs"),
        "{yaml}"
    );
    assert!(!yaml.contains(" --"), "no command-line flags: {yaml}");
}

/// The output list reads alike in every YAML reader; configuration mistakes are named in the
/// configuration's terms.
#[test]
fn krm_function_output_and_config_mistakes() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    // Strings a YAML 1.1 reader (kubectl's) would take for booleans or numbers stay strings.
    let tricky = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t, namespace: shop}\ndata: {a: 'yes', b: 'on', c: '12:30', d: '1_000'}\n";
    let out = run(&["krm"], &resource_list(&[tricky, &dynakube], GENERATOR));
    assert!(out.status.success(), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    for pair in [
        r#""a": "yes""#,
        r#""b": "on""#,
        r#""c": "12:30""#,
        r#""d": "1_000""#,
    ] {
        assert!(stdout.contains(pair), "{pair}: {stdout}");
    }

    for (spec, expected) in [
        (
            "{operatorVersion: 1.10}",
            "loses trailing zeros (1.10 reads as 1.1): quote it",
        ),
        (
            "{maxDepth: many}",
            "invalid value `many`: invalid digit found in string",
        ),
        ("{maxDepth: -1}", "invalid value `-1`"),
        ("{maxDepth: 0}", "0 is not in 1..=128"),
        ("{maxDepth: 129}", "129 is not in 1..=128"),
        ("{maxInputBytes: 0}", "0 is not in 1..=4294967296"),
        (
            "{maxInputBytes: 18446744073709551615}",
            "18446744073709551615 is not in 1..=4294967296",
        ),
    ] {
        let config = format!(
            "{{apiVersion: dynakube-netpol.github.io/v1alpha1, kind: NetworkPolicyGenerator, spec: {spec}}}"
        );
        let (code, out) = krm(&resource_list(&[&dynakube], &config));
        assert_eq!(code, 1);
        let message = errors(&out)[0]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(expected), "{spec}: {message}");
    }
    let (code, out) = krm(&resource_list(
        &[&dynakube],
        "{apiVersion: v1, kind: ConfigMap, data: {flavor: cilium}}",
    ));
    assert_eq!(code, 1);
    assert!(
        errors(&out)[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot hold the cluster profile and hosts"),
        "{out:?}"
    );
}

#[test]
fn helm_post_render_keeps_the_release_and_reads_the_chart() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let webhook = "# Source: dynatrace-operator/templates/webhook.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: dynatrace-webhook, namespace: dynatrace}
spec:
  template:
    spec:
      hostNetwork: false
      containers:
      - name: webhook
        ports:
        - {name: server-port, containerPort: 9443}
        - {name: livez, containerPort: 10080}
        - {name: metrics, containerPort: 8383}
";
    let operator = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: dynatrace-operator
  namespace: dynatrace
  labels: {app.kubernetes.io/version: 1.9.0}
spec: {}
";
    let release = format!("---\n{operator}---\n{webhook}---\n{dynakube}");
    let out = run(
        &["helm-post-render", "--hosts", &fixture("hosts.yaml")],
        &release,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&release),
        "the release first, byte for byte"
    );
    let added = &stdout[release.len()..];
    assert!(
        added.contains("port: 9443"),
        "the webhook's port from the chart"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "helm.webhook.ports.server: 9443 taken from Deployment dynatrace/dynatrace-webhook"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("csiDriver: false taken from no DaemonSet"),
        "{stderr}"
    );
    assert!(
        stderr.contains("operatorVersion: 1.9.0 taken from Deployment dynatrace/dynatrace-operator (document 1) label app.kubernetes.io/version"),
        "{stderr}"
    );
    assert!(!stderr.contains("assuming operator"), "{stderr}");
    // A development build's label is no release: the newest release is assumed, and said.
    let snapshot = release.replace("1.9.0", "0.0.0-snapshot");
    let out = run(
        &["helm-post-render", "--hosts", &fixture("hosts.yaml")],
        &snapshot,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("assuming operator"));

    let unrelated = format!("---\n{CONFIG_MAP}");
    let out = run(&["helm-post-render"], &unrelated);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        unrelated,
        "nothing added without a DynaKube"
    );

    let bad = release.replace("https://abc12345.live.dynatrace.com/api", "ftp://x");
    let out = run(
        &["helm-post-render", "--hosts", &fixture("hosts.yaml")],
        &bad,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("spec.apiUrl"));
    assert!(out.stdout.is_empty(), "nothing written on error");
}

/// Its own output is no input (the policies would be there twice), and neither is a policy
/// of the same name written by hand.
#[test]
fn helm_post_render_refuses_policies_it_would_duplicate() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let args = ["helm-post-render", "--hosts", &fixture("hosts.yaml")];
    let once = run(&args, &dynakube);
    assert!(once.status.success(), "{}", text(&once.stderr));
    assert!(
        text(&once.stdout).contains("\n#   dynakube-netpol helm-post-render --hosts "),
        "the header names the command that ran"
    );
    let again = run(&args, &text(&once.stdout));
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("it was generated by an earlier run"),
        "{}",
        text(&again.stderr)
    );
    assert!(again.stdout.is_empty());

    let own = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dynatrace-operator-egress-dns, namespace: dynatrace}
spec: {podSelector: {}, policyTypes: [Egress]}
---
";
    let out = run(&args, &format!("{own}{dynakube}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("document 1, field `metadata.name`: NetworkPolicy dynatrace-operator-egress-dns is already in the manifests"),
        "{}",
        text(&out.stderr)
    );
    // Without a namespace it may or may not become the same object: a warning.
    let out = run(
        &args,
        &format!("{}{dynakube}", own.replace(", namespace: dynatrace", "")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("has no namespace: applied in namespace dynatrace, it is the generated policy of that name"),
        "{}",
        text(&out.stderr)
    );
}

/// A release renders without DNS: the addresses come from a committed lock file, read only.
#[test]
fn helm_post_render_reads_a_lock_file() {
    let dir = scratch("post-render-lock");
    let lock = dir.join("dynakube-netpol.lock");
    std::fs::write(
        &lock,
        "abc12345.live.dynatrace.com:\n  addresses: [203.0.113.77]\n  ttl: 60\n  resolved: 2026-01-02T03:04:05Z\n",
    )
    .unwrap();
    let before = std::fs::read(&lock).unwrap();
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let out = run(
        &["helm-post-render", "--lock", lock.to_str().unwrap()],
        &dynakube,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("cidr: 203.0.113.77/32"));
    assert_eq!(
        std::fs::read(&lock).unwrap(),
        before,
        "the lock is only read"
    );

    // A host the lock lacks is an error, not a lookup.
    std::fs::write(&lock, "other.example.com:\n  addresses: [203.0.113.1]\n  ttl: 60\n  resolved: 2026-01-02T03:04:05Z\n").unwrap();
    let out = run(
        &["helm-post-render", "--lock", lock.to_str().unwrap()],
        &dynakube,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("need IP addresses")
            && text(&out.stderr).contains("abc12345.live.dynatrace.com"),
        "{}",
        text(&out.stderr)
    );
}

/// Run by Helm 4 as its plugin (`HELM_PLUGIN_NAME`), a rejected release and a mistyped option
/// reach Helm as one YAML string that Helm refuses and quotes, with exit status 0 (Helm drops
/// the output and standard error of a plugin that fails); elsewhere they are errors, exit 2.
#[test]
fn helm_post_render_reports_a_failure_to_helm_in_its_output() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml"))
        .unwrap()
        .replace("https://abc12345.live.dynatrace.com/api", "not-a-url");
    let hosts = fixture("hosts.yaml");
    let helm = [("HELM_PLUGIN_NAME", "dynakube-netpol")];
    for (args, expected) in [
        (
            vec!["helm-post-render", "--hosts", hosts.as_str()],
            "field `spec.apiUrl`: `not-a-url` is not a URL",
        ),
        (
            vec!["helm-post-render", "--clustr", "x.yaml"],
            "unexpected argument '--clustr' found",
        ),
    ] {
        let out = run_as(Path::new(BIN), &args, &dynakube, &helm);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(expected),
            "{}",
            text(&out.stderr)
        );
        let document: serde_yaml::Value = serde_yaml::from_str(&text(&out.stdout)).unwrap();
        let message = document.as_str().expect("one YAML string");
        assert!(
            message.starts_with("dynakube-netpol rejected the release")
                && message.contains("\nerror: ")
                && message.contains(expected),
            "{message}"
        );

        // Another plugin's name, or none: the error and exit status of every subcommand.
        for env in [&[("HELM_PLUGIN_NAME", "diff")][..], &[]] {
            let out = run_as(Path::new(BIN), &args, &dynakube, env);
            assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
            assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
            assert!(
                text(&out.stderr).contains(expected),
                "{}",
                text(&out.stderr)
            );
        }
    }
}

/// Charts often render resources without a namespace (Helm applies them to the release's); the
/// post-renderer cannot see that namespace, so it takes the operator's from the chart or says
/// what it assumed.
#[test]
fn helm_post_render_says_which_namespace_it_assumed() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml"))
        .unwrap()
        .replace("  namespace: dynatrace\n", "");
    assert!(!dynakube.contains("namespace: dynatrace"), "{dynakube}");
    let hosts = fixture("hosts.yaml");
    let out = run(&["helm-post-render", "--hosts", &hosts], &dynakube);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "warning [cluster profile namespace]: neither the cluster profile nor any resource names a namespace"
        ),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("namespace: dynatrace\n"));

    let operator = "apiVersion: apps/v1
kind: Deployment
metadata: {name: dynatrace-operator, namespace: monitoring}
spec: {}
---
";
    let out = run(
        &["helm-post-render", "--hosts", &hosts],
        &format!("{operator}{dynakube}"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("names a namespace"));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("namespace: monitoring\n"), "{stdout}");
    assert!(!stdout.contains("namespace: dynatrace\n"), "{stdout}");
}

#[test]
fn krm_function_never_crashes_on_malformed_lists() {
    let dynakube = std::fs::read_to_string(fixture("dynakube.yaml")).unwrap();
    let list = |items: &str, config: &str| {
        format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {items}\nfunctionConfig: {config}\n"
        )
    };
    let config = |spec: &str| {
        format!(
            "{{apiVersion: dynakube-netpol.github.io/v1alpha1, kind: NetworkPolicyGenerator, metadata: {{name: p}}, spec: {spec}}}"
        )
    };
    let good_items = resource_list(&[&dynakube], GENERATOR);
    let cases = [
        list("[1, null, text]", &config("{}")),
        list("[{kind: DynaKube}]", &config("{}")),
        list(
            "[{apiVersion: dynatrace.com/v1beta6, kind: DynaKube, metadata: 7}]",
            &config("{}"),
        ),
        list("[]", &config("{cluster: 5}")),
        list("[]", &config("{hosts: [a, b]}")),
        list("[]", &config("{flavor: 3}")),
        list("[]", &config("{operatorVersion: banana}")),
        list("[]", &config("{proxyUrl: 'http://u:secret@[::1'}")),
        list("[]", "[]"),
        list("[]", "{apiVersion: v1, kind: ConfigMap}"),
        good_items.replace(
            r#""nodeCIDRs":["192.0.2.0/24"]"#,
            r#""nodeCIDRs":["0.0.0.0/0"]"#,
        ),
        format!("{}{}", "[".repeat(200), "]".repeat(200)),
        "kind: ResourceList\nitems: [{a: &x [*x]}]\n".to_string(),
    ];
    for case in cases {
        let out = run(&["krm"], &case);
        assert_eq!(out.status.code(), Some(1), "{case}\n{}", text(&out.stderr));
        let list: serde_yaml::Value = serde_yaml::from_str(&text(&out.stdout)).unwrap();
        assert!(!errors(&list).is_empty(), "{case}");
        let results = serde_yaml::to_string(&list["results"]).unwrap();
        assert!(!results.contains("secret"), "{case}: {results}");
    }
    // The list's own limits are the most there is: no advice to raise them.
    let out = run(&["krm"], &format!("{}{}", "[".repeat(200), "]".repeat(200)));
    let message = text(&out.stdout);
    assert!(
        message.contains("nested deeper than 128 levels"),
        "{message}"
    );
    assert!(!message.contains("raise"), "{message}");
    // Every item that is no object is named, and the items come back as they were.
    let out = run(&["krm"], &list("[1, null, text]", &config("{}")));
    let list: serde_yaml::Value = serde_yaml::from_str(&text(&out.stdout)).unwrap();
    let paths: Vec<&str> = errors(&list)
        .iter()
        .map(|e| e["field"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["items[0]", "items[1]", "items[2]"]);
    assert_eq!(list["items"].as_sequence().unwrap().len(), 3);
}

/// A flavor's settings are options of generate (and helm-post-render, and fields of a
/// NetworkPolicyGenerator), made from the library's registry: checked as the flags are,
/// refused with another flavor, and recorded in the provenance.
#[test]
fn flavor_settings_are_options_of_generate() {
    let dynakube = fixture("dynakube.yaml");
    let hosts = fixture("hosts.yaml");
    let generate = |extra: &[&str]| {
        let mut args = vec!["generate", dynakube.as_str(), "--hosts", hosts.as_str()];
        args.extend_from_slice(extra);
        run(&args, "")
    };
    let out = generate(&["--tier", "baseline"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "--tier: the kubernetes flavor takes no `tier`: it is a setting of the cluster-network-policy flavor"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = generate(&["--flavor", "cluster-network-policy", "--priorities", "9-5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a range of priorities: 5 comes before 9"),
        "{}",
        text(&out.stderr)
    );
    let out = generate(&["--flavor", "cluster-network-policy", "--tier", "middle"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("[possible values: admin, baseline]"));
    let out = generate(&[
        "--flavor",
        "cluster-network-policy",
        "--tier",
        "baseline",
        "--priorities",
        "100-199",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(" --flavor cluster-network-policy --priorities 100-199 --tier baseline\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  tier: Baseline\n  priority: 100\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("tier: Admin"));
}

/// The post-renderer and a NetworkPolicyGenerator take a flavor's settings too.
#[test]
fn flavor_settings_in_the_manifest_integrations() {
    let dynakube = fixture("dynakube.yaml");
    let hosts = fixture("hosts.yaml");
    // The post-renderer takes them as arguments, and names them in its provenance.
    let release = std::fs::read_to_string(&dynakube).unwrap();
    let out = run(
        &[
            "helm-post-render",
            "--hosts",
            &hosts,
            "--flavor",
            "cluster-network-policy",
            "--channel",
            "experimental",
        ],
        &release,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let added = text(&out.stdout)[release.len()..].to_string();
    assert!(
        added.contains("--flavor cluster-network-policy --channel experimental"),
        "{added}"
    );
    assert!(added.contains("domainNames:"), "{added}");

    // A NetworkPolicyGenerator has them as fields of its spec, named in its terms.
    let content = std::fs::read_to_string(&dynakube).unwrap();
    let config = |spec: &str| {
        format!(
            "{{apiVersion: dynakube-netpol.github.io/v1alpha1, kind: NetworkPolicyGenerator, metadata: {{name: g}}, spec: {spec}}}"
        )
    };
    let (code, list) = krm(&resource_list(
        &[&content],
        &config(
            "{flavor: cluster-network-policy, tier: baseline, hosts: {abc12345.live.dynatrace.com: [203.0.113.10]}}",
        ),
    ));
    assert_eq!(code, 0, "{list:?}");
    let items = list["items"].as_sequence().unwrap();
    // ClusterNetworkPolicies, and the NetworkPolicies beside them for the ingress they cannot
    // name.
    let (cluster, beside): (Vec<_>, Vec<_>) =
        (items[1..].iter()).partition(|i| i["kind"] == "ClusterNetworkPolicy");
    assert!(!cluster.is_empty() && !beside.is_empty());
    assert!(beside.iter().all(|i| i["kind"] == "NetworkPolicy"));
    assert!(cluster.iter().all(|i| i["spec"]["tier"] == "Baseline"));
    let (code, list) = krm(&resource_list(&[&content], &config("{tier: baseline}")));
    assert_eq!(code, 1);
    let error = errors(&list)[0];
    assert_eq!(error["field"]["path"], "spec.tier", "{list:?}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("it is a setting of the cluster-network-policy flavor"),
        "{message}"
    );
}
