//! `dynakube-netpol explain` as its users and other tools drive it: the examples of
//! `docs/explain.md` are its real output, its exit statuses are those the page promises, and
//! the verdicts of `fixtures/explain/` (taken from other projects' tests, each citing its
//! source) are its verdicts: every network-policy-api (tests and documentation), Cilium
//! documentation, connectivity and e2e test, Kubernetes documentation and legacy e2e verdict
//! and a sample of the Kubernetes e2e and Cilium unit-test verdicts through the binary, all of
//! them through the library in `crates/dynakube-netpol/tests/explain_cases.rs`.

#[path = "../../dynakube-netpol/tests/support/explain_cases.rs"]
mod explain_cases;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use explain_cases::{Question, questions};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The arguments of `explain` asking, of the files `policies` and `pods`, about `from` to `to`
/// on `port`.
fn explain_args<'a>(
    policies: &'a str,
    pods: &'a str,
    [from, to, port]: [&'a str; 3],
) -> Vec<&'a str> {
    vec![
        "explain",
        "--policies",
        policies,
        "--pods",
        pods,
        "--from",
        from,
        "--to",
        to,
        "--port",
        port,
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A directory `name` (one per test) holding what docs/explain.md reads: the policies `generate` writes for the
/// example DynaKube (`policies.yaml`), the cluster `verify` models for them (`pods.yaml`) and
/// the page's ClusterNetworkPolicies (`cluster-policies.yaml`).
fn scene(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("explain-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root = workspace();
    let example = root.join("fixtures/a-cloud-native-network-zone");
    for name in ["dynakube.yaml", "cluster.yaml", "hosts.yaml"] {
        std::fs::copy(example.join(name), dir.join(name)).unwrap();
    }
    std::fs::copy(
        root.join("fixtures/explain/examples/cluster-policies.yaml"),
        dir.join("cluster-policies.yaml"),
    )
    .unwrap();
    let common = [
        "dynakube.yaml",
        "--cluster",
        "cluster.yaml",
        "--hosts",
        "hosts.yaml",
    ];
    let generated = run(&dir, &[&["generate"], &common[..]].concat());
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    std::fs::write(dir.join("policies.yaml"), &generated.stdout).unwrap();
    let case = ["--policies", "policies.yaml", "--write-case", "case"];
    let verified = run(&dir, &[&["verify"], &common[..], &case[..]].concat());
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    std::fs::rename(dir.join("case/cluster.yaml"), dir.join("pods.yaml")).unwrap();
    dir
}

/// The code blocks of `page` in `language`, in order.
fn blocks(page: &str, language: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) if info.trim() == language => current = Some(String::new()),
            (Some(block), Some("")) => {
                found.push(std::mem::take(block));
                current = None;
            }
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    found
}

/// The `dynakube-netpol explain` lines of the page's `sh` blocks, as arguments.
fn commands(page: &str) -> Vec<Vec<String>> {
    blocks(page, "sh")
        .iter()
        .flat_map(|block| block.lines().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|line| {
            line.strip_prefix("dynakube-netpol ")
                .map(|rest| rest.split_whitespace().map(str::to_owned).collect())
        })
        .collect()
}

#[test]
fn the_page_shows_real_output_and_exit_statuses() {
    let page = std::fs::read_to_string(workspace().join("docs/explain.md")).unwrap();
    let dir = scene("page");
    let mut outputs = Vec::new();
    let mut statuses = Vec::new();
    for args in commands(&page) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&dir, &args);
        assert!(
            output.stderr.is_empty(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        statuses.push(output.status.code());
        outputs.push(text(&output.stdout));
    }
    assert_eq!(statuses, [Some(0), Some(1), Some(0), Some(0)]);
    // The page's text examples are the outputs of its second and third commands, its JSON
    // the fourth's.
    let shown = blocks(&page, "text");
    assert_eq!(shown[0], outputs[1]);
    assert_eq!(shown[1], outputs[2]);
    assert_eq!(blocks(&page, "json")[0], outputs[3]);
}

#[test]
fn questions_it_cannot_answer_exit_2_naming_the_option() {
    let dir = scene("questions");
    for (question, message) in [
        (
            ["dynatrace/nope", "10.0.0.1", "80/TCP"],
            "error: --from: `dynatrace/nope`: the cluster dump lists no such pod\n",
        ),
        (
            ["unrelated/unrelated-0", "10.0.0.1", "80"],
            "error: --port: `80` is not PORT/PROTOCOL such as 443/TCP, 53/UDP or 9999/SCTP\n",
        ),
    ] {
        let output = run(&dir, &explain_args("policies.yaml", "pods.yaml", question));
        assert_eq!(output.status.code(), Some(2), "{question:?}");
        assert_eq!(text(&output.stderr), message);
        assert!(output.stdout.is_empty());
    }
}

/// `run` with `input` on standard input.
fn run_with_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The dump or a policy file may be standard input (`-`), with the answer of the file; naming
/// it twice is refused.
#[test]
fn standard_input_is_one_input() {
    let dir = scene("stdin");
    let question = [
        "unrelated/unrelated-0",
        "dynatrace/dynakube-activegate-0",
        "9999/TCP",
    ];
    let ask = |inputs: [&str; 2], input: &str| {
        let args = explain_args(inputs[0], inputs[1], question);
        let bytes = std::fs::read(dir.join(input)).unwrap();
        run_with_stdin(&dir, &args, &bytes)
    };
    let files = ask(["policies.yaml", "pods.yaml"], "pods.yaml");
    assert!(
        files.status.code().is_some_and(|code| code < 2),
        "{files:?}"
    );
    assert!(!files.stdout.is_empty());
    for (inputs, input) in [
        (["policies.yaml", "-"], "pods.yaml"),
        (["-", "pods.yaml"], "policies.yaml"),
    ] {
        let output = ask(inputs, input);
        assert_eq!(output.status.code(), files.status.code(), "{output:?}");
        assert_eq!(text(&output.stdout), text(&files.stdout));
    }
    let twice = ask(["-", "-"], "pods.yaml");
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        text(&twice.stderr).contains("can be read once"),
        "{twice:?}"
    );
}

/// A directory of policies is read as kubectl reads it: its files, and its subdirectories only
/// with -R; without -R, subdirectories left out are said on standard error.
#[test]
fn directories_of_policies_are_read_as_kubectl_reads_them() {
    let dir = scene("directories");
    std::fs::create_dir_all(dir.join("all/dynatrace")).unwrap();
    std::fs::copy(
        dir.join("policies.yaml"),
        dir.join("all/dynatrace/policies.yaml"),
    )
    .unwrap();
    let ask = |recursive: &[&str]| {
        let question = [
            "unrelated/unrelated-0",
            "dynatrace/dynakube-activegate-0",
            "9999/TCP",
        ];
        run(
            &dir,
            &[&explain_args("all", "pods.yaml", question)[..], recursive].concat(),
        )
    };
    let output = ask(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr)
            .contains("all: its subdirectories were not read; pass -R to read them"),
        "{}",
        text(&output.stderr)
    );
    let output = ask(&["-R"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn policies_it_cannot_read_exit_2_naming_the_file() {
    let dir = scene("policies");
    let question = ["unrelated/unrelated-0", "10.0.0.1", "80/TCP"];
    // Policies of a kind it cannot evaluate are no answer.
    std::fs::write(
        dir.join("calico.yaml"),
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec: {}\n",
    )
    .unwrap();
    let output = run(&dir, &explain_args("calico.yaml", "pods.yaml", question));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("1 GlobalNetworkPolicy (projectcalico.org/v3)"),
        "{}",
        text(&output.stderr)
    );
    // A mistyped field of a ClusterNetworkPolicy names the file and field.
    std::fs::write(
        dir.join("typo.yaml"),
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: x}\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, egres: []}\n",
    )
    .unwrap();
    let output = run(&dir, &explain_args("typo.yaml", "pods.yaml", question));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr)
            .starts_with("error: typo.yaml, document 1, field `spec.egres`: unknown field `egres`"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn values_the_api_server_refuses_exit_2_naming_the_field() {
    let dir = scene("refused-values");
    let ask = |policies: &str, pods: &str| {
        let question = ["unrelated/unrelated-0", "10.0.0.1", "80/TCP"];
        let output = run(&dir, &explain_args(policies, pods, question));
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
        text(&output.stderr)
    };
    // A selector's label value with a space: the API server refuses the policy, so no answer
    // is given about a cluster that cannot hold it.
    std::fs::write(
        dir.join("spaced.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: unrelated}\nspec: {podSelector: {matchLabels: {app: web server}}}\n",
    )
    .unwrap();
    let stderr = ask("spaced.yaml", "pods.yaml");
    assert!(
        stderr.contains(
            "field `spec.podSelector.matchLabels`: `web server` (of `app`) is not a label value"
        ),
        "{stderr}"
    );
    // A pod named with capitals in the dump.
    let mut pods = std::fs::read_to_string(dir.join("pods.yaml")).unwrap();
    pods.push_str(
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: Web-0, namespace: unrelated}\n",
    );
    std::fs::write(dir.join("capitals.yaml"), pods).unwrap();
    let stderr = ask("policies.yaml", "capitals.yaml");
    assert!(
        stderr.starts_with("error: capitals.yaml, document 2, field `metadata.name`: `Web-0` is not a DNS subdomain"),
        "{stderr}"
    );
}

/// What is wrong with the answer of the binary to `question`, if anything.
fn check(question: &Question) -> Option<String> {
    let expected = &question.expected;
    let mut args = vec!["explain".to_owned()];
    for policy in &question.policies {
        args.extend(["--policies".to_owned(), policy.clone()]);
    }
    args.extend(["--pods".to_owned(), question.pods.clone()]);
    args.extend(["--from".to_owned(), expected.from.clone()]);
    args.extend(["--to".to_owned(), expected.to.clone()]);
    args.extend(["--port".to_owned(), expected.port.clone()]);
    args.extend(["--format".to_owned(), "json".to_owned()]);
    if let Some(plugin) = &question.plugin {
        args.extend(["--network-plugin".to_owned(), plugin.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run(&question.dir, &args);
    let status = output.status.code();
    if status != Some(if expected.allowed { 0 } else { 1 }) {
        return Some(format!(
            "{}: expected {}, exit {status:?}\n{}{}",
            question.what,
            if expected.allowed {
                "allowed"
            } else {
                "denied"
            },
            text(&output.stdout),
            text(&output.stderr)
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    if json["allowed"] != expected.allowed {
        return Some(format!(
            "{}: the JSON says {}",
            question.what, json["allowed"]
        ));
    }
    for (side, words) in [("egress", &expected.egress), ("ingress", &expected.ingress)] {
        if let Some(words) = words
            && json[side]["text"] != words.as_str()
        {
            return Some(format!(
                "{}: {side} is {}, not {words}",
                question.what, json[side]["text"]
            ));
        }
    }
    None
}

/// Of the Kubernetes e2e verdicts (nine pods by nine for each probe), the binary answers every
/// `E2E_SAMPLE`th, and of Cilium's unit tests every `UNIT_SAMPLE`th; the library's test
/// (`crates/dynakube-netpol/tests/explain_cases.rs`) decides them all. A process per verdict
/// costs about ten milliseconds.
const E2E_SAMPLE: usize = 7;
const UNIT_SAMPLE: usize = 4;

#[test]
fn the_binary_gives_the_verdicts_of_the_fixtures() {
    let mut asked = Vec::new();
    let mut seen: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (source, question) in questions() {
        let sample = match source.as_str() {
            "kubernetes-e2e" => E2E_SAMPLE,
            "cilium-unit-tests" => UNIT_SAMPLE,
            _ => 1,
        };
        let count = seen.entry(source).or_default();
        *count += 1;
        if count.is_multiple_of(sample) {
            asked.push(question);
        }
    }
    // A few processes at a time.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let chunk = asked.len().div_ceil(workers).max(1);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = asked
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().filter_map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} verdicts differ:\n{}",
        failures.len(),
        asked.len(),
        failures.join("\n\n")
    );
    assert!(
        asked.len()
            >= 301 + 365 + 722 + 204 + 41 + 62 + 163 + 4680 / E2E_SAMPLE + 1604 / UNIT_SAMPLE,
        "{} verdicts asked",
        asked.len()
    );
}

/// The objects of the YAML documents `yaml`, lists' items one by one, as JSON.
fn json_objects(yaml: &str) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value: serde_json::Value = serde::Deserialize::deserialize(document).unwrap();
        match value["items"].as_array() {
            Some(list) => items.extend(list.iter().cloned()),
            None if value.is_object() => items.push(value),
            None => {}
        }
    }
    items
}

/// `items` as a `List`, as `kubectl get -o json` prints one.
fn json_list(items: Vec<serde_json::Value>) -> String {
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    serde_json::to_string_pretty(&list).unwrap()
}

/// The objects of the scene's `pods.yaml` and a ConfigMap no question needs, of about `bytes`.
fn padded_pods(dir: &Path, bytes: usize) -> Vec<serde_json::Value> {
    let mut pods = json_objects(&std::fs::read_to_string(dir.join("pods.yaml")).unwrap());
    let padding = "p".repeat(bytes);
    pods.push(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "padding", "namespace": "default"}, "data": {"x": padding}}));
    pods
}

/// Writes `pods.json` and `policies.json` of `dir`, modified an hour ago (`explain` keeps no
/// index of files changed in the last seconds); the time they were given.
fn write_hour_ago(dir: &Path, pods: &str, policies: &str) -> std::time::SystemTime {
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for (name, text) in [("pods.json", pods), ("policies.json", policies)] {
        std::fs::write(dir.join(name), text).unwrap();
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .unwrap();
        file.set_modified(hour_ago).unwrap();
    }
    hour_ago
}

/// `explain --format json` from `from` to port 443 of `to`, on the files [`write_hour_ago`]
/// writes, with `$DYNAKUBE_NETPOL_CACHE_DIR` set to `cache`.
fn ask_large(dir: &Path, cache: &str, from: &str, to: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .current_dir(dir)
        .env("DYNAKUBE_NETPOL_CACHE_DIR", cache)
        .args([
            "explain",
            "--policies",
            "policies.json",
            "--pods",
            "pods.json",
        ])
        .args([
            "--from", from, "--to", to, "--port", "443/TCP", "--format", "json",
        ])
        .args(["--max-input-bytes", "67108864"])
        .output()
        .unwrap()
}

/// `--pods` of a large JSON dump laid out otherwise than kubectl prints it (on one line) and
/// JSON policies: the first question reads them whole and keeps an index of them in
/// `$DYNAKUBE_NETPOL_CACHE_DIR`; the next ones read the items they need alone (a part of the
/// dump the question does not need can then go bad unnoticed while the file keeps its length
/// and modification time, as `make` would not notice either), with the same answers; an empty
/// `$DYNAKUBE_NETPOL_CACHE_DIR` keeps nothing.
#[test]
fn large_dumps_laid_out_otherwise_are_indexed_by_the_first_question() {
    let dir = scene("index");
    // Room enough to be worth an index.
    let pods = padded_pods(&dir, 9 << 20);
    let policies = json_objects(&std::fs::read_to_string(dir.join("policies.yaml")).unwrap());
    let one_line = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": pods});
    let hour_ago = write_hour_ago(&dir, &one_line.to_string(), &json_list(policies));
    let ask = |cache: &str, from: &str, to: &str| ask_large(&dir, cache, from, to);
    let activegate = "dynatrace/dynakube-activegate-0";
    let tenant = "abc12345.live.dynatrace.com=203.0.113.10";
    let whole = ask("", activegate, tenant);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole.stderr));
    assert!(!dir.join("cache").exists());
    let first = ask("cache", activegate, tenant);
    assert_eq!(text(&first.stdout), text(&whole.stdout));
    let kept: Vec<_> = std::fs::read_dir(dir.join("cache")).unwrap().collect();
    assert_eq!(kept.len(), 1);
    // The padding goes bad (a control character in a string is no JSON), in place.
    let path = dir.join("pods.json");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(4).position(|w| w == b"pppp").unwrap();
    bytes[at] = 1;
    std::fs::write(&path, &bytes).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    // The same time: the index still holds.
    file.set_modified(hour_ago).unwrap();
    let again = ask("cache", activegate, tenant);
    assert_eq!(
        text(&again.stdout),
        text(&whole.stdout),
        "{}",
        text(&again.stderr)
    );
    let denied = ask("cache", activegate, "8.8.8.8");
    assert_eq!(denied.status.code(), Some(1), "{}", text(&denied.stderr));
    // A question the cluster cannot answer is refused from the index as from the whole dump.
    let unknown = ask("cache", "dynatrace/no-such-pod", "8.8.8.8");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("the cluster dump lists no such pod"),
        "{}",
        text(&unknown.stderr)
    );
    // Read whole, the dump is refused.
    let refused = ask("", activegate, tenant);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
}

/// `--pods` of a large JSON dump laid out as kubectl prints it: every question reads the items
/// it needs alone, found by their bytes, to the answers of the whole dump, and no index is
/// kept. An item no question needs goes unchecked, where reading the dump whole refuses it.
#[test]
fn large_laid_out_dumps_are_read_by_their_bytes() {
    let dir = scene("bytes");
    let mut pods = padded_pods(&dir, 9 << 20);
    let policies = json_objects(&std::fs::read_to_string(dir.join("policies.yaml")).unwrap());
    let write = |pods: &[serde_json::Value]| {
        write_hour_ago(
            &dir,
            &json_list(pods.to_vec()),
            &json_list(policies.clone()),
        );
    };
    write(&pods);
    let ask = |cache: &str, to: &str| ask_large(&dir, cache, "dynatrace/dynakube-activegate-0", to);
    let tenant = "abc12345.live.dynatrace.com=203.0.113.10";
    for (to, status) in [(tenant, 0), ("8.8.8.8", 1), ("dynatrace/no-such-pod", 2)] {
        let whole = ask("", to);
        assert_eq!(whole.status.code(), Some(status), "{}", text(&whole.stderr));
        let found = ask("cache", to);
        assert_eq!(found.status.code(), Some(status), "{}", text(&found.stderr));
        assert_eq!(text(&found.stdout), text(&whole.stdout));
        assert_eq!(text(&found.stderr), text(&whole.stderr));
    }
    assert!(!dir.join("cache").exists(), "an index was kept");
    // A label value the API server refuses, on a pod no question needs.
    let other = (pods.iter_mut())
        .find(|item| item["metadata"]["name"] == "unrelated-0")
        .expect("a pod no question needs");
    other["metadata"]["labels"]["app"] = "no label value!".into();
    write(&pods);
    let found = ask("cache", tenant);
    assert_eq!(found.status.code(), Some(0), "{}", text(&found.stderr));
    let refused = ask("", tenant);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("no label value!"),
        "{}",
        text(&refused.stderr)
    );
}

/// What a cluster prints may have up to 4 GiB unless `--max-input-bytes` says less (a dump of a
/// few thousand pods is over 16 MiB); every other file 16 MiB, as the resources of `generate`.
#[test]
fn dumps_may_be_larger_than_other_files() {
    let dir = scene("dump-limits");
    let pods = padded_pods(&dir, 17 << 20);
    std::fs::write(dir.join("pods.json"), json_list(pods)).unwrap();
    let ask = |limit: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
            .current_dir(&dir)
            .env("DYNAKUBE_NETPOL_CACHE_DIR", "")
            .args([
                "explain",
                "--policies",
                "policies.yaml",
                "--pods",
                "pods.json",
            ])
            .args(["--from", "dynatrace/dynakube-activegate-0"])
            .args([
                "--to",
                "abc12345.live.dynatrace.com=203.0.113.10",
                "--port",
                "443/TCP",
            ])
            .args(limit)
            .output()
            .unwrap()
    };
    let read = ask(&[]);
    assert_eq!(read.status.code(), Some(0), "{}", text(&read.stderr));
    let bounded = ask(&["--max-input-bytes", "16777216"]);
    assert_eq!(bounded.status.code(), Some(2));
    assert!(
        text(&bounded.stderr)
            .contains("pods.json: larger than 16777216 bytes; pass --max-input-bytes"),
        "{}",
        text(&bounded.stderr)
    );
    // The same bytes as a resource file of `generate`: over its 16 MiB.
    let mut resources = std::fs::read_to_string(dir.join("dynakube.yaml")).unwrap();
    resources.push_str(&format!("# {}\n", "p".repeat(17 << 20)));
    std::fs::write(dir.join("large.yaml"), resources).unwrap();
    let generated = run(
        &dir,
        &["generate", "large.yaml", "--cluster", "cluster.yaml"],
    );
    assert_eq!(generated.status.code(), Some(2));
    assert!(
        text(&generated.stderr).contains("larger than 16777216 bytes"),
        "{}",
        text(&generated.stderr)
    );
}
