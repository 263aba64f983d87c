//! The real binary under hostile input and hostile conditions: exit codes are 0, 1 or 2 and
//! never a panic's 101, secrets never reach any output or message, and the output directory is
//! always a complete set when a write is killed or runs concurrently.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn dynakube(name: &str, api_url: &str, extra: &str) -> String {
    format!(
        "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {{name: {name}, namespace: dynatrace}}\nspec:\n  apiUrl: '{api_url}'\n  activeGate: {{capabilities: [routing, kubernetes-monitoring]}}\n  oneAgent: {{cloudNativeFullStack: {{}}}}\n{extra}"
    )
}

const MARKER: &str = "S3CRETMARKER";

/// Every place a secret can hide in a URL, in every field that holds one: in valid inputs
/// (the tool must use the host and drop the rest) and in invalid ones (the error must not
/// quote it).
#[allow(
    clippy::too_many_lines,
    reason = "a table of cases, one per line of thought"
)]
fn secret_cases() -> Vec<(&'static str, String, Vec<String>)> {
    let api = "https://abc12345.live.dynatrace.com/api";
    let edgeconnect = |endpoint: &str, proxy: &str| {
        format!(
            "apiVersion: dynatrace.com/v1alpha2\nkind: EdgeConnect\nmetadata: {{name: ec, namespace: dynatrace}}\nspec:\n  apiServer: abc12345.apps.dynatrace.com\n  oauth: {{endpoint: '{endpoint}'}}\n  hostPatterns: ['*.internal.example.com']\n  proxy: {{host: '{proxy}', port: 3128}}\n"
        )
    };
    let sso = "https://sso.dynatrace.com/sso/oauth2/token";
    vec![
        (
            "apiUrl userinfo",
            dynakube(
                "dk",
                &format!("https://u:{MARKER}@abc12345.live.dynatrace.com/api"),
                "",
            ),
            vec![],
        ),
        (
            "apiUrl query",
            dynakube("dk", &format!("{api}?token={MARKER}"), ""),
            vec![],
        ),
        (
            "apiUrl userinfo, bad port",
            dynakube(
                "dk",
                &format!("https://u:{MARKER}@abc12345.live.dynatrace.com:99999/api"),
                "",
            ),
            vec![],
        ),
        (
            "proxy value",
            dynakube(
                "dk",
                api,
                &format!(
                    "  proxy: {{value: 'http://u:{MARKER}@proxy.example.com:3128/?k={MARKER}'}}\n"
                ),
            ),
            vec![],
        ),
        (
            "proxy value, bad port",
            dynakube(
                "dk",
                api,
                &format!("  proxy: {{value: 'http://u:{MARKER}@proxy.example.com:0'}}\n"),
            ),
            vec![],
        ),
        (
            "--proxy-url",
            dynakube("dk", api, "  proxy: {valueFrom: proxy-secret}\n"),
            vec![
                "--proxy-url".into(),
                format!("http://u:{MARKER}@proxy.example.com:3128/?token={MARKER}#{MARKER}"),
            ],
        ),
        (
            "--proxy-url, bad host",
            dynakube("dk", api, "  proxy: {valueFrom: proxy-secret}\n"),
            vec![
                "--proxy-url".into(),
                format!("http://u:{MARKER}@proxy..example.com:3128"),
            ],
        ),
        (
            "OAuth endpoint",
            edgeconnect(
                &format!("https://u:{MARKER}@sso.dynatrace.com/sso/oauth2/token?x={MARKER}"),
                "proxy.example.com",
            ),
            vec![],
        ),
        (
            "OAuth endpoint, bad port",
            edgeconnect(
                &format!("https://u:{MARKER}@sso.dynatrace.com:0/token"),
                "proxy.example.com",
            ),
            vec![],
        ),
        (
            "EdgeConnect proxy host",
            edgeconnect(sso, &format!("u:{MARKER}@proxy.example.com")),
            vec![],
        ),
    ]
}

#[test]
fn secrets_never_leave() {
    let dir = scratch("secrets");
    let mut failed_cases = 0;
    for (name, input, extra) in secret_cases() {
        std::fs::write(dir.join("input.yaml"), &input).unwrap();
        let out = dir.join("out");
        let _ = std::fs::remove_dir_all(&out);
        let runs: Vec<Vec<String>> = vec![
            vec![],
            vec!["--flavor".into(), "cilium".into()],
            vec!["-o".into(), "out".into()],
            vec!["-o".into(), "out".into(), "--check".into()],
        ];
        for run in runs {
            let output = binary()
                .args([
                    "generate",
                    "input.yaml",
                    "--fqdn-fallback",
                    "public-internet",
                ])
                .args(&extra)
                .args(&run)
                .current_dir(&dir)
                .output()
                .unwrap();
            let code = output.status.code();
            assert!(matches!(code, Some(0..=2)), "{name} {run:?}: {code:?}");
            failed_cases += usize::from(code == Some(2));
            let all = text(&output.stdout) + &text(&output.stderr);
            assert!(!all.contains(MARKER), "{name} {run:?} leaked:\n{all}");
        }
        let verify = binary()
            .args(["verify", "input.yaml", "--fqdn-fallback", "public-internet"])
            .args(&extra)
            .args(["--policies", "out", "--format", "json"])
            .current_dir(&dir)
            .output()
            .unwrap();
        let all = text(&verify.stdout) + &text(&verify.stderr);
        assert!(!all.contains(MARKER), "{name} verify leaked:\n{all}");
        if out.is_dir() {
            for file in std::fs::read_dir(&out).unwrap() {
                let content = std::fs::read_to_string(file.unwrap().path()).unwrap();
                assert!(!content.contains(MARKER), "{name}: a written file leaked");
            }
        }
    }
    // Both kinds of case ran: some were refused and some rendered.
    assert!(failed_cases > 0 && failed_cases < secret_cases().len() * 4);
}

/// A small deterministic generator, so that failures can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Strings that break naive parsers, quoting or URL handling.
const HOSTILE_VALUES: [&str; 31] = [
    "",
    "*",
    "a..b.com",
    "https://a.live.dynatrace.com:0/api",
    "0.0.0.0/0",
    "::",
    "[::1]",
    "x\n---\nkind: NetworkPolicy",
    "'",
    "\"",
    "# c",
    "http://",
    "https://@/api",
    "\u{202e}evil",
    "a.b.com.",
    "A.B.COM",
    "1.2.3.4/0",
    "cluster local",
    "-",
    "%zz",
    "http://[fe80::1%25eth0]:80",
    "https://a.apps.b",
    "99999",
    "-1",
    "true",
    "~",
    "{}",
    "[]",
    "&a",
    "*a",
    "!!binary AAAA",
];

#[test]
fn hostile_values_exit_0_or_2_never_101() {
    let dir = scratch("exit-codes");
    let long = "very-long-".repeat(40);
    let mut values = HOSTILE_VALUES.to_vec();
    values.push(&long);
    let fields = [
        "spec.apiUrl",
        "spec.networkZone",
        "spec.proxy.value",
        "metadata.name",
        "metadata.namespace",
        "spec.activeGate.image",
        "spec.publicRegistryOverride",
        "spec.oneAgent.cloudNativeFullStack.codeModulesImage",
    ];
    let mut random = Random(0x5eed_1234_abcd_0001);
    for round in 0..60 {
        let field = random.pick(&fields);
        let value = random.pick(&values);
        let mut document: serde_yaml::Value = serde_yaml::from_str(&dynakube(
            "dk",
            "https://abc12345.live.dynatrace.com/api",
            "  proxy: {value: 'http://proxy.example.com:3128'}\n  networkZone: z\n  publicRegistryOverride: r.example.com\n",
        ))
        .unwrap();
        let mut slot = &mut document;
        for key in field.split('.') {
            if slot.get(key).is_none() {
                slot[key] = serde_yaml::Value::Mapping(Default::default());
            }
            slot = &mut slot[key];
        }
        *slot = serde_yaml::Value::String(value.to_string());
        std::fs::write(
            dir.join("dk.yaml"),
            serde_yaml::to_string(&document).unwrap(),
        )
        .unwrap();
        for flavor in dynakube_netpol::Flavor::ALL.iter().map(|f| f.as_str()) {
            let output = binary()
                .args(["generate", "dk.yaml", "--fqdn-fallback", "public-internet"])
                .args(["--flavor", flavor])
                .current_dir(&dir)
                .output()
                .unwrap();
            let code = output.status.code();
            assert!(
                matches!(code, Some(0 | 2)),
                "round {round}: {field} = {value:?} ({flavor}) exited {code:?}: {}",
                text(&output.stderr)
            );
        }
    }
}

/// Every numeric option of every subcommand (the list the binary's own test derives from the
/// command-line definition) at the edges of its type: refused with exit 2 and a message naming
/// the option, never a panic.
#[test]
fn numeric_options_out_of_range_exit_2_naming_the_option() {
    let dir = scratch("numeric-options");
    std::fs::write(
        dir.join("dk.yaml"),
        dynakube("dk", "https://abc12345.live.dynatrace.com/api", ""),
    )
    .unwrap();
    let options = [
        ("generate", "--max-input-bytes"),
        ("generate", "--max-depth"),
        ("generate", "--dns-timeout"),
        ("generate", "--dns-parallelism"),
        ("lock", "--dns-timeout"),
        ("lock", "--dns-parallelism"),
        ("lock", "--max-depth"),
        ("verify", "--max-input-bytes"),
        ("audit", "--max-input-bytes"),
        ("audit", "--max-depth"),
        ("zone-plan", "--timeout"),
        ("zone-plan", "--max-depth"),
        ("helm-post-render", "--max-input-bytes"),
        ("helm-post-render", "--max-depth"),
    ];
    for (subcommand, option) in options {
        for value in ["18446744073709551615", "0", "-1", "-18446744073709551616"] {
            let output = binary()
                .args([subcommand, option, value])
                .args(
                    ["dk.yaml", "--policies", "dk.yaml"]
                        .iter()
                        .take(match subcommand {
                            "helm-post-render" => 0,
                            "verify" => 3,
                            _ => 1,
                        }),
                )
                .current_dir(&dir)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = text(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{subcommand} {option} {value}: {stderr}"
            );
            assert!(
                stderr.contains(&format!("invalid value '{value}' for '{option} <")),
                "{subcommand} {option} {value}: {stderr}"
            );
        }
    }
}

/// The audit's case: 70 DynaKubes with `'^[a-z'` in a string were refused as nested deeper
/// than 64, since every bracket of the file was counted; and raising --max-depth made the
/// parser quadratic. Brackets in strings and comments are no nesting, and --max-depth stops at
/// the parser's own 128.
#[test]
fn brackets_in_strings_are_no_nesting() {
    let dir = scratch("brackets");
    let dynakubes: Vec<String> = (0..70)
        .map(|i| {
            dynakube(
                &format!("dk{i}"),
                "https://abc12345.live.dynatrace.com/api",
                "",
            )
            .replace(
                "namespace: dynatrace}",
                "namespace: dynatrace, annotations: {example.com/regex: '^[a-z'}}  # [[[",
            )
        })
        .collect();
    assert!(dynakubes.iter().all(|d| d.contains("'^[a-z'")));
    std::fs::write(dir.join("dk.yaml"), dynakubes.join("---\n")).unwrap();
    let output = binary()
        .args([
            "generate",
            "dk.yaml",
            "--fqdn-fallback",
            "public-internet",
            "-q",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    std::fs::write(dir.join("deep.yaml"), deep).unwrap();
    let output = binary()
        .args(["generate", "deep.yaml", "--max-depth", "128"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(
            "brackets nested deeper than 128 levels; the YAML parser reads no deeper nesting"
        ),
        "{}",
        text(&output.stderr)
    );
    let output = binary()
        .args(["generate", "deep.yaml", "--max-depth", "129"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr)
            .contains("invalid value '129' for '--max-depth <LEVELS>': 129 is not in 1..=128"),
        "{}",
        text(&output.stderr)
    );
}

/// A reader that stops reading ends the output quietly, and the run keeps its own exit status.
#[test]
fn standard_output_whose_reader_is_gone() {
    let dir = scratch("standard-output-gone");
    many_dynakubes(&dir, "dk.yaml", 200, "abc12345");
    let generate = [
        "generate",
        "dk.yaml",
        "--fqdn-fallback",
        "public-internet",
        "-qq",
    ];

    // A pipe whose reader is already gone: the first write meets a broken pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let gone = binary()
        .args(generate)
        .current_dir(&dir)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(0), "{}", text(&gone.stderr));
    assert_eq!(text(&gone.stderr), "", "no message");

    // The same through a shell pipeline, as users meet it (pipefail shows the tool's status).
    let shell = Command::new("bash")
        .args([
            "-c",
            "set -o pipefail; \"$0\" \"$@\" | head -c 10 >/dev/null",
        ])
        .arg(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(generate)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(shell.status.code(), Some(0), "{}", text(&shell.stderr));
    assert_eq!(text(&shell.stderr), "");

    // The reader going away changes no verdict: audit still says a pod needs attention.
    let pods = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\n  annotations: {oneagent.dynatrace.com/injected: \"false\", oneagent.dynatrace.com/reason: DynaKubeStatusNotReady}\n";
    std::fs::write(dir.join("pods.yaml"), pods).unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let audit = binary()
        .args(["audit", "pods.yaml"])
        .current_dir(&dir)
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit.stderr));
}

/// A closed or full standard output is an error: the policies would go nowhere.
#[test]
fn standard_output_closed_or_full() {
    let dir = scratch("standard-output-closed");
    many_dynakubes(&dir, "dk.yaml", 2, "abc12345");
    let generate = [
        "generate",
        "dk.yaml",
        "--fqdn-fallback",
        "public-internet",
        "-qq",
    ];

    let closed = Command::new("sh")
        .args(["-c", "\"$0\" \"$@\" >&-"])
        .arg(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(generate)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(2), "{}", text(&closed.stderr));
    assert_eq!(
        text(&closed.stderr),
        "error: cannot write to standard output: it is closed\n"
    );
    // /dev/null is no closed output.
    let null = Command::new("sh")
        .args(["-c", "\"$0\" \"$@\" >/dev/null"])
        .arg(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(generate)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(null.status.code(), Some(0), "{}", text(&null.stderr));
    // A closed output is no error when nothing goes to it.
    let to_dir = Command::new("sh")
        .args(["-c", "\"$0\" \"$@\" -o out >&-"])
        .arg(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(generate)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(to_dir.status.code(), Some(0), "{}", text(&to_dir.stderr));
    assert!(dir.join("out/kustomization.yaml").is_file());

    // Full.
    let full = binary()
        .args(generate)
        .current_dir(&dir)
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2), "{}", text(&full.stderr));
    assert_eq!(
        text(&full.stderr),
        "error: cannot write to standard output: No space left on device\n"
    );
}

/// Writes `count` DynaKubes of tenant `tenant` into `dir/<file>`.
fn many_dynakubes(dir: &Path, file: &str, count: usize, tenant: &str) {
    let text: Vec<String> = (0..count)
        .map(|i| {
            dynakube(
                &format!("dk{i}"),
                &format!("https://{tenant}.live.dynatrace.com/api"),
                "",
            )
        })
        .collect();
    std::fs::write(dir.join(file), text.join("---\n")).unwrap();
}

fn generate_into(dir: &Path, input: &str, out: &str, extra: &[&str]) -> Command {
    let mut command = binary();
    command
        .args([
            "generate",
            input,
            "--fqdn-fallback",
            "public-internet",
            "-o",
            out,
        ])
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Which of the inputs the directory holds completely: `--check` passes for exactly one.
fn complete_set(dir: &Path, inputs: &[&str]) -> Vec<String> {
    inputs
        .iter()
        .filter(|input| {
            generate_into(dir, input, "out", &["--check"])
                .status()
                .unwrap()
                .success()
        })
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn a_killed_write_leaves_a_complete_set() {
    let dir = scratch("killed");
    many_dynakubes(&dir, "a.yaml", 60, "aaa11111");
    many_dynakubes(&dir, "b.yaml", 45, "bbb22222");
    let started = std::time::Instant::now();
    assert!(
        generate_into(&dir, "a.yaml", "out", &[])
            .status()
            .unwrap()
            .success()
    );
    let duration = started.elapsed().as_millis() as u64 + 1;
    assert_eq!(complete_set(&dir, &["a.yaml", "b.yaml"]), ["a.yaml"]);
    let mut random = Random(0xfeed_beef_0000_0042);
    // The temporary directories of runs (a random name after this prefix).
    let temporaries = || -> std::collections::BTreeSet<String> {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".out.dynakube-netpol-new-"))
            .collect()
    };
    let mut mid_write = 0;
    for round in 0..16 {
        let input = if round % 2 == 0 { "b.yaml" } else { "a.yaml" };
        // One run at a time here: a temporary directory that was not there before is its.
        let before = temporaries();
        let writing = |_: u32| temporaries().difference(&before).next().is_some();
        let mut child = generate_into(&dir, input, "out", &[]).spawn().unwrap();
        if round % 4 == 0 {
            // Anywhere from reading the input to swapping the directory.
            std::thread::sleep(Duration::from_millis(random.next() % (duration + 1)));
        } else {
            // While the files are written: once the temporary directory appears.
            let deadline = std::time::Instant::now() + Duration::from_millis(4 * duration);
            while !writing(child.id()) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(Duration::from_micros(random.next() % 3000));
        }
        mid_write += usize::from(writing(child.id()) && child.try_wait().unwrap().is_none());
        let _ = child.kill();
        let _ = child.wait();
        let sets = complete_set(&dir, &["a.yaml", "b.yaml"]);
        assert_eq!(
            sets.len(),
            1,
            "round {round}: the directory is no complete set"
        );
    }
    assert!(
        mid_write >= 4,
        "only {mid_write} runs were killed while writing"
    );
    // The next run cleans up what the killed ones left beside the directory.
    assert!(
        generate_into(&dir, "a.yaml", "out", &[])
            .status()
            .unwrap()
            .success()
    );
    let siblings: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out."))
        .collect();
    assert!(siblings.is_empty(), "{siblings:?}");
}

#[test]
fn concurrent_writes_leave_a_complete_set() {
    let dir = scratch("concurrent");
    many_dynakubes(&dir, "a.yaml", 30, "aaa11111");
    many_dynakubes(&dir, "b.yaml", 20, "bbb22222");
    let children: Vec<_> = (0..30)
        .map(|i| {
            let input = if i % 2 == 0 { "a.yaml" } else { "b.yaml" };
            generate_into(&dir, input, "out", &[])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    // The runs take turns on the directory's write lock: every one succeeds, and those that
    // found it held said that they wait.
    let mut waited = 0;
    for output in &outputs {
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        waited += usize::from(stderr.contains("waiting for another dynakube-netpol run"));
    }
    assert!(waited > 0, "30 runs at once, and none waited");
    assert_eq!(complete_set(&dir, &["a.yaml", "b.yaml"]).len(), 1);
}

/// Rules an outside audit appended to generated policies (`tests/audit-extras/` of the
/// library): each makes `verify --fail-on extra` fail, naming the policy and rule, where the
/// generated policies alone pass. A policy name with control characters reaches the terminal
/// escaped.
#[test]
fn appended_broad_rules_fail_verify() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/a-cloud-native-network-zone");
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dynakube-netpol/tests/audit-extras");
    let command = std::fs::read_to_string(fixture.join("command")).unwrap();
    let out = scratch("audit-extras");
    let policies = out.join("policies");
    let generated = binary()
        .arg("generate")
        .args(command.split_whitespace())
        .arg("-o")
        .arg(&policies)
        .current_dir(&fixture)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let verify = |policies: &Path| {
        binary()
            .arg("verify")
            .args(command.split_whitespace())
            .arg("--policies")
            .arg(policies)
            .args(["--fail-on", "extra"])
            .current_dir(&fixture)
            .output()
            .unwrap()
    };
    let clean = verify(&policies);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stdout));
    assert!(text(&clean.stdout).contains("; 0 connection group(s) allowed beyond the matrix"));

    for (file, admitted_by) in [
        (
            "egress-8-0-0-0-8.yaml",
            "dynatrace/audit-egress-8 spec.egress[1]:",
        ),
        (
            "egress-ipv6-everywhere.yaml",
            "dynatrace/audit-egress-ipv6 spec.egress[0]:",
        ),
        (
            "ingress-ipv6-everywhere.yaml",
            "dynatrace/audit-ingress-ipv6 spec.ingress[0]:",
        ),
        ("udp-high-ports.yaml", "dynatrace/audit-udp spec.egress[0]:"),
        ("sctp.yaml", "dynatrace/audit-sctp spec.egress[0]:"),
        (
            "node-ports.yaml",
            "dynatrace/audit-node-ports spec.ingress[0]:",
        ),
    ] {
        let appended = out.join(file.trim_end_matches(".yaml"));
        copy_dir(&policies, &appended);
        std::fs::copy(cases.join(file), appended.join(file)).unwrap();
        let report = verify(&appended);
        let stdout = text(&report.stdout);
        assert_eq!(report.status.code(), Some(1), "{file}: {stdout}");
        assert!(stdout.contains(admitted_by), "{file}: {stdout}");
        assert!(
            text(&report.stderr).contains("connection group(s) allowed beyond the matrix"),
            "{file}: {}",
            text(&report.stderr)
        );
    }

    let hostile = out.join("hostile-name");
    copy_dir(&policies, &hostile);
    let yaml = std::fs::read_to_string(cases.join("node-ports.yaml"))
        .unwrap()
        .replace("name: audit-node-ports", "name: \"audit\\e[31mred\"");
    std::fs::write(hostile.join("node-ports.yaml"), yaml).unwrap();
    // A name the API server refuses is refused as it is read, and shown escaped.
    let report = verify(&hostile);
    let (stdout, stderr) = (text(&report.stdout), text(&report.stderr));
    assert_eq!(report.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
    assert!(
        stderr.contains("field `metadata.name`: `audit\\u{1b}[31mred` is not a DNS subdomain"),
        "{stderr}"
    );
}

/// Copies the files of `from` into a new directory `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}
