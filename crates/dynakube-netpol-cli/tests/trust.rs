//! The trust boundaries of the tool, each attacked the way an outside audit did: a careless
//! namespace, address blocks that add up to everything, special-purpose addresses from any
//! source, other people's policies in a KRM list, and files planted where the tool writes.
//! Every test runs the real binary.

#[path = "../../dynakube-netpol/tests/support/dns_server.rs"]
mod dns_server;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use dns_server::{DnsServer, Zone};

const BIN: &str = env!("CARGO_BIN_EXE_dynakube-netpol");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("trust")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary in `dir` with `args` and `stdin`.
fn run_in(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    // A program that refuses its arguments before reading closes the pipe: its answer.
    let writer = std::thread::spawn(move || match input.write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A DynaKube in `namespace` (none when empty) with a routing ActiveGate and cloud-native
/// full stack, and `extra` lines appended to its spec.
fn dynakube(namespace: &str, extra: &str) -> String {
    let metadata = if namespace.is_empty() {
        "{name: dk}".to_string()
    } else {
        format!("{{name: dk, namespace: {namespace}}}")
    };
    format!(
        "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {metadata}\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n  activeGate: {{capabilities: [routing]}}\n  oneAgent: {{cloudNativeFullStack: {{}}}}\n{extra}"
    )
}

/// Writes `files` (name, content) into `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
}

const HOSTS: &str = "abc12345.live.dynatrace.com: [52.10.0.1]\n";

#[test]
fn shared_namespaces_are_refused_unless_accepted() {
    let dir = scratch("shared-namespaces");
    write(&dir, &[("hosts.yaml", HOSTS)]);
    for namespace in [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "default",
        "openshift",
        "openshift-dns",
        "openshift-operators",
    ] {
        // Named by the resource, and by the cluster profile for a resource without one.
        write(
            &dir,
            &[
                ("dk.yaml", &dynakube(namespace, "")),
                ("bare.yaml", &dynakube("", "")),
                ("cluster.yaml", &format!("namespace: {namespace}\n")),
            ],
        );
        for (args, field) in [
            (
                vec!["generate", "dk.yaml", "--hosts", "hosts.yaml"],
                "dk.yaml, document 1, field `metadata.namespace`",
            ),
            (
                vec!["generate", "bare.yaml", "--cluster", "cluster.yaml"],
                "the cluster profile, field `namespace`",
            ),
        ] {
            let out = run_in(&dir, &args, "");
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{namespace}: {stderr}");
            assert!(out.stdout.is_empty(), "{namespace}: nothing is written");
            assert!(
                stderr.contains(&format!("error: {field}: `{namespace}` is ")),
                "{namespace}: {stderr}"
            );
            assert!(stderr.contains("--allow-shared-namespace"), "{stderr}");
        }
        let out = run_in(
            &dir,
            &[
                "generate",
                "dk.yaml",
                "--hosts",
                "hosts.yaml",
                "--allow-shared-namespace",
            ],
            "",
        );
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{namespace}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "warning [--allow-shared-namespace]: the operator namespace `{namespace}` is "
            )),
            "{stderr}"
        );
        assert!(text(&out.stdout).contains("--allow-shared-namespace"));
    }
    // Namespaces of Dynatrace's own, even with such words inside, are fine.
    for namespace in ["dynatrace", "kube", "my-default", "dynatrace-openshift-1"] {
        write(&dir, &[("dk.yaml", &dynakube(namespace, ""))]);
        let out = run_in(&dir, &["generate", "dk.yaml", "--hosts", "hosts.yaml"], "");
        assert!(out.status.success(), "{namespace}: {}", text(&out.stderr));
    }
}

/// The operator's Deployment of a rendered chart, in `namespace`.
fn operator_deployment(namespace: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: dynatrace-operator\n  namespace: {namespace}\n  labels: {{app.kubernetes.io/version: 1.10.2}}\nspec: {{}}\n"
    )
}

#[test]
fn a_chart_in_kube_system_or_with_two_operators_is_refused() {
    let dir = scratch("chart-namespaces");
    write(&dir, &[("hosts.yaml", HOSTS)]);
    let args = ["helm-post-render", "--hosts", "hosts.yaml"];
    // The chart renders the operator into kube-system; the DynaKube names no namespace.
    let chart = format!(
        "---\n{}---\n{}",
        operator_deployment("kube-system"),
        dynakube("", "")
    );
    let out = run_in(&dir, &args, &chart);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`kube-system` is reserved by Kubernetes"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // Two operators in two namespaces: the first would silently win.
    let chart = format!(
        "---\n{}---\n{}---\n{}",
        operator_deployment("dynatrace"),
        operator_deployment("dynatrace-two"),
        dynakube("", "")
    );
    let out = run_in(&dir, &args, &chart);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: the release on standard input, document 2, field `metadata.namespace`: a second Deployment dynatrace-operator, in namespace `dynatrace-two` where Deployment dynatrace/dynatrace-operator (document 1) runs it in `dynatrace`"),
        "{stderr}"
    );
    // The same Deployment twice in one namespace (a chart rendered into one stream twice)
    // names one operator.
    let chart = format!(
        "---\n{}---\n{}---\n{}",
        operator_deployment("dynatrace"),
        operator_deployment("dynatrace"),
        dynakube("", "")
    );
    let out = run_in(&dir, &args, &chart);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A DynaKube of its own tenant `tenant`, in file `file` of `dir`.
fn tenant_dynakube(dir: &Path, file: &str, name: &str, tenant: &str) {
    let text = format!(
        "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {{name: {name}, namespace: dynatrace}}\nspec:\n  apiUrl: https://{tenant}.live.dynatrace.com/api\n  activeGate: {{capabilities: [routing]}}\n"
    );
    write(dir, &[(file, &text)]);
}

#[test]
fn concurrent_lock_runs_take_turns_and_lose_no_host() {
    let dir = scratch("concurrent-lock");
    let tenants: Vec<String> = (0..6).map(|i| format!("tenant{i}")).collect();
    let mut zone = Zone::default().delay(Duration::from_millis(150));
    for (i, tenant) in tenants.iter().enumerate() {
        zone = zone.addresses(
            &format!("{tenant}.live.dynatrace.com"),
            &[&format!("52.10.0.{}", i + 1)],
            60,
        );
        tenant_dynakube(&dir, &format!("dk{i}.yaml"), &format!("dk{i}"), tenant);
    }
    let server = DnsServer::start(zone);
    let address = server.address.to_string();
    // Each run resolves its own tenant into the same lock file, at the same time.
    let children: Vec<_> = (0..tenants.len())
        .map(|i| {
            Command::new(BIN)
                .current_dir(&dir)
                .args(["lock", &format!("dk{i}.yaml"), "--nameserver", &address])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut waited = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        waited += usize::from(stderr.contains("waiting for another dynakube-netpol run"));
    }
    assert!(waited > 0, "the runs overlapped, so some waited");
    let lock = std::fs::read_to_string(dir.join("dynakube-netpol.lock")).unwrap();
    for (i, tenant) in tenants.iter().enumerate() {
        assert!(
            lock.contains(&format!("{tenant}.live.dynatrace.com:")),
            "{lock}"
        );
        assert!(lock.contains(&format!("52.10.0.{}", i + 1)), "{lock}");
    }
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn links_planted_where_the_tool_writes_are_never_followed() {
    let dir = scratch("planted");
    tenant_dynakube(&dir, "dk.yaml", "dk", "abc12345");
    let server = DnsServer::start(Zone::default().addresses(
        "abc12345.live.dynatrace.com",
        &["52.10.0.1"],
        60,
    ));
    let address = server.address.to_string();
    let precious = dir.join("precious.txt");
    write(&dir, &[("precious.txt", "precious\n")]);
    // A link where the lock file's write lock goes, dangling or to a precious file.
    for target in [dir.join("nowhere"), precious.clone()] {
        let planted = dir.join(".dynakube-netpol.lock.dynakube-netpol-lock");
        let _ = std::fs::remove_file(&planted);
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        let out = run_in(&dir, &["lock", "dk.yaml", "--nameserver", &address], "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is a symbolic link"), "{stderr}");
        assert!(!dir.join("nowhere").exists());
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious\n");
        assert!(!dir.join("dynakube-netpol.lock").exists());
        std::fs::remove_file(&planted).unwrap();
    }
    // The lock file itself as a link (to a lock elsewhere): read through it, but written as a
    // file of its own, the target untouched.
    write(&dir, &[("elsewhere.lock", "{}\n")]);
    std::os::unix::fs::symlink(dir.join("elsewhere.lock"), dir.join("dynakube-netpol.lock"))
        .unwrap();
    let out = run_in(&dir, &["lock", "dk.yaml", "--nameserver", &address], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let meta = std::fs::symlink_metadata(dir.join("dynakube-netpol.lock")).unwrap();
    assert!(meta.is_file(), "the link was replaced by the lock");
    let written = std::fs::read_to_string(dir.join("dynakube-netpol.lock")).unwrap();
    assert!(written.contains("52.10.0.1"), "{written}");
    assert_eq!(
        std::fs::read_to_string(dir.join("elsewhere.lock")).unwrap(),
        "{}\n"
    );
    // The same for the output directory's write lock.
    let planted = dir.join(".out.dynakube-netpol-lock");
    std::os::unix::fs::symlink(dir.join("nowhere"), &planted).unwrap();
    let out = run_in(&dir, &["generate", "dk.yaml", "--offline", "-o", "out"], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert!(!dir.join("nowhere").exists() && !dir.join("out").exists());
}

/// A KRM ResourceList of `items` (YAML documents) with a NetworkPolicyGenerator named
/// `config` as its functionConfig.
fn resource_list(items: &[String], config: &str) -> String {
    let generator = format!(
        "{{apiVersion: dynakube-netpol.github.io/v1alpha1, kind: NetworkPolicyGenerator, metadata: {{name: {config}}}, spec: {{hosts: {{abc12345.live.dynatrace.com: [52.10.0.1]}}}}}}"
    );
    let mut list =
        String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    for item in items {
        let value: serde_yaml::Value = serde_yaml::from_str(item).unwrap();
        list.push_str(&format!("- {}\n", serde_json::to_string(&value).unwrap()));
    }
    list.push_str(&format!("functionConfig: {generator}\n"));
    list
}

/// A policy labelled as this tool's, in `namespace`, with `annotations`.
fn labelled_policy(namespace: &str, name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels: {{app.kubernetes.io/managed-by: dynakube-netpol}}\n  annotations: {{{annotations}}}\nspec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n"
    )
}

fn items(list: &serde_json::Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["metadata"]["namespace"].as_str().unwrap_or("-"),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_krm_function_replaces_only_what_its_configuration_generated() {
    let dir = scratch("krm-ownership");
    let first = run_in(
        &dir,
        &["krm"],
        &resource_list(&[dynakube("dynatrace", "")], "mine"),
    );
    assert!(first.status.success(), "{}", text(&first.stdout));
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let generated: Vec<String> = items(&first)
        .into_iter()
        .filter(|i| i != "dynatrace/dk")
        .collect();
    assert!(generated.contains(&"dynatrace/default-deny".to_string()));

    // Someone else's policies carry this tool's labels: a payments namespace's default deny,
    // the committed `generate -o` output of another cluster, another configuration's, and
    // one that claims to be this configuration's but lives in another namespace.
    let foreign = [
        labelled_policy("payments", "default-deny", ""),
        labelled_policy("dynatrace", "committed-by-hand", ""),
        labelled_policy(
            "dynatrace",
            "from-another-generator",
            "dynakube-netpol/generator: theirs",
        ),
        labelled_policy(
            "elsewhere",
            "default-deny",
            "dynakube-netpol/generator: mine",
        ),
    ];
    let mut again: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::to_string(i).unwrap())
        .collect();
    again.extend(foreign.iter().cloned());
    let out = run_in(&dir, &["krm"], &resource_list(&again, "mine"));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kept = items(&second);
    for name in [
        "payments/default-deny",
        "dynatrace/committed-by-hand",
        "dynatrace/from-another-generator",
        "elsewhere/default-deny",
    ] {
        assert_eq!(
            kept.iter().filter(|k| *k == name).count(),
            1,
            "{name}: {kept:?}"
        );
    }
    for name in &generated {
        assert_eq!(
            kept.iter().filter(|k| *k == name).count(),
            1,
            "{name} replaced, not doubled"
        );
    }
    let results = serde_json::to_string(&second["results"]).unwrap();
    assert!(
        results.contains(&format!(
            "replaced {} policies that this configuration (mine) generated in an earlier run",
            generated.len()
        )),
        "{results}"
    );
    assert!(
        results.contains("kept 4 policies labelled app.kubernetes.io/managed-by=dynakube-netpol that this configuration (mine) did not generate here"),
        "{results}"
    );

    // Another configuration over the same list replaces nothing: this configuration's
    // policies collide with its own by name, and that is an error naming the item.
    let out = run_in(&dir, &["krm"], &resource_list(&again, "other"));
    assert_eq!(out.status.code(), Some(1));
    let refused: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = serde_json::to_string(&refused["results"]).unwrap();
    assert!(
        results.contains("this configuration did not generate it"),
        "{results}"
    );
    assert_eq!(items(&refused).len(), again.len(), "the items unchanged");
}

#[test]
fn the_krm_function_refuses_a_shared_namespace_in_its_own_words() {
    let dir = scratch("krm-shared");
    let out = run_in(
        &dir,
        &["krm"],
        &resource_list(&[dynakube("kube-system", "")], "mine"),
    );
    assert_eq!(out.status.code(), Some(1));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = serde_json::to_string(&list["results"]).unwrap();
    assert!(
        results.contains("`kube-system` is reserved by Kubernetes"),
        "{results}"
    );
    assert!(
        results.contains("set `spec.allowSharedNamespace: true`"),
        "{results}"
    );
    assert!(!results.contains("--allow-shared-namespace"), "{results}");
}

#[test]
fn host_blocks_that_add_up_to_everything_are_refused() {
    let dir = scratch("every-address");
    write(
        &dir,
        &[
            ("dk.yaml", &dynakube("dynatrace", "")),
            ("none.yaml", ""),
            // A second host whose flows share rules with the tenant's.
            (
                "endpoints.yaml",
                "communicationEndpoints: ['https://eag.example.com/communication']\n",
            ),
        ],
    );
    let hosts = [
        (
            "abc12345.live.dynatrace.com: [0.0.0.0/1, 128.0.0.0/1]\n",
            "none.yaml",
        ),
        (
            "abc12345.live.dynatrace.com: ['::/1', '8000::/1']\n",
            "none.yaml",
        ),
        ("abc12345.live.dynatrace.com: ['2000::/3']\n", "none.yaml"),
        (
            "abc12345.live.dynatrace.com: ['::ffff:0:0/96']\n",
            "none.yaml",
        ),
        (
            "abc12345.live.dynatrace.com: ['64:ff9b::/96']\n",
            "none.yaml",
        ),
        (
            "abc12345.live.dynatrace.com: [0.0.0.0/1]\neag.example.com: [128.0.0.0/1]\n",
            "endpoints.yaml",
        ),
    ];
    for (file, cluster) in hosts {
        write(&dir, &[("hosts.yaml", file)]);
        let args = [
            "generate",
            "dk.yaml",
            "--hosts",
            "hosts.yaml",
            "--cluster",
            cluster,
        ];
        let out = run_in(&dir, &args, "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains("error: hosts.yaml"), "{stderr}");
        assert!(stderr.contains("--allow-any-address"), "{stderr}");
        // Accepted when meant, and said.
        let out = run_in(&dir, &[&args[..], &["--allow-any-address"]].concat(), "");
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{file}: {stderr}");
        assert!(
            stderr.contains("[--allow-any-address]: ")
                && stderr.contains(", as allowed: every rule with them admits the internet"),
            "{file}: {stderr}"
        );
    }
}

#[test]
fn profile_blocks_that_add_up_to_everything_are_refused() {
    let dir = scratch("every-address-profile");
    write(&dir, &[("dk.yaml", &dynakube("dynatrace", ""))]);
    let profiles = [
        ("nodeCIDRs: [0.0.0.0/1, 128.0.0.0/1]\n", "field `nodeCIDRs`"),
        (
            // `::/1` alone holds the IPv4-mapped space, which is every IPv4 address.
            "controlPlaneCIDRs: ['::/1', '8000::/1']\n",
            "field `controlPlaneCIDRs[0]`: `::/1` is every IPv4 address",
        ),
        (
            "nodeCIDRs: [0.0.0.0/1]\ncontrolPlaneCIDRs: [128.0.0.0/1]\n",
            "cluster.yaml: ",
        ),
        (
            "databases: [{cidrs: ['::ffff:0:0/97', '128.0.0.0/1'], ports: [5432]}]\n",
            "field `databases[0].cidrs`",
        ),
    ];
    for (profile, field) in profiles {
        write(&dir, &[("cluster.yaml", profile)]);
        let out = run_in(
            &dir,
            &[
                "generate",
                "dk.yaml",
                "--cluster",
                "cluster.yaml",
                "--fqdn-fallback",
                "public-internet",
            ],
            "",
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{profile}: {stderr}");
        assert!(stderr.contains(field), "{profile}: {stderr}");
    }
    // The same profile inline in the kustomize transformer's configuration.
    let config = "apiVersion: dynakube-netpol.github.io/v1alpha1\nkind: NetworkPolicyGenerator\nmetadata: {name: policies}\nspec:\n  fqdnFallback: public-internet\n  cluster:\n    nodeCIDRs: [0.0.0.0/1, 128.0.0.0/1]\n";
    write(&dir, &[("generator.yaml", config)]);
    let out = run_in(
        &dir,
        &["kustomize-transformer", "generator.yaml"],
        &dynakube("dynatrace", ""),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("spec.cluster, field `nodeCIDRs`"),
        "{stderr}"
    );
    assert!(stderr.contains("spec.allowAnyAddress"), "{stderr}");
}

/// A lock file that gives `host` the addresses `ips`.
fn lock_text(host: &str, ips: &[&str]) -> String {
    format!(
        "{host}:\n  addresses: [{}]\n  ttl: 60\n  resolved: 2026-01-02T03:04:05Z\n",
        ips.iter()
            .map(|ip| format!("'{ip}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[test]
fn special_addresses_are_refused_from_every_source_in_every_subcommand() {
    let dir = scratch("special-addresses");
    write(&dir, &[("dk.yaml", &dynakube("dynatrace", ""))]);
    for ip in [
        "169.254.169.254",
        "127.0.0.1",
        "::ffff:10.0.0.1",
        "10.0.0.1",
        "fd00::1",
    ] {
        let lock = lock_text("abc12345.live.dynatrace.com", &["52.10.0.1", ip]);
        write(
            &dir,
            &[
                ("edited.lock", &lock),
                (
                    "hosts.yaml",
                    &format!("abc12345.live.dynatrace.com: ['{ip}']\n"),
                ),
            ],
        );
        let runs: [(&[&str], &str); 4] = [
            (
                &["generate", "dk.yaml", "--offline", "--lock", "edited.lock"],
                "",
            ),
            (
                &["helm-post-render", "--lock", "edited.lock"],
                &dynakube("dynatrace", ""),
            ),
            (
                &[
                    "verify",
                    "dk.yaml",
                    "--lock",
                    "edited.lock",
                    "--policies",
                    "dk.yaml",
                    "--allow-no-policies",
                ],
                "",
            ),
            (&["generate", "dk.yaml", "--hosts", "hosts.yaml"], ""),
        ];
        for (args, stdin) in runs {
            let out = run_in(&dir, args, stdin);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{ip} {args:?}: {stderr}");
            assert!(
                stderr.contains(
                    "refusing addresses these hosts cannot have: abc12345.live.dynatrace.com: "
                ),
                "{ip} {args:?}: {stderr}"
            );
            assert!(stderr.contains("--allow-special-addresses"), "{stderr}");
            assert!(out.stdout.is_empty() || args[0] == "verify", "{args:?}");
        }
    }
}

#[test]
fn special_addresses_are_accepted_for_hosts_marked_internal_or_when_allowed() {
    let dir = scratch("special-addresses-accepted");
    write(&dir, &[("dk.yaml", &dynakube("dynatrace", ""))]);
    // Accepted for a host marked internal (a private link), except what no server has.
    write(
        &dir,
        &[(
            "private.lock",
            &lock_text("abc12345.live.dynatrace.com", &["10.0.0.1"]),
        )],
    );
    let args = ["generate", "dk.yaml", "--offline", "--lock", "private.lock"];
    let out = run_in(
        &dir,
        &[
            &args[..],
            &["--internal-host", "abc12345.live.dynatrace.com"],
        ]
        .concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("10.0.0.1/32"));
    write(
        &dir,
        &[(
            "metadata.lock",
            &lock_text("abc12345.live.dynatrace.com", &["169.254.169.254"]),
        )],
    );
    let args = [
        "generate",
        "dk.yaml",
        "--offline",
        "--lock",
        "metadata.lock",
        "--internal-host",
        "abc12345.live.dynatrace.com",
    ];
    let out = run_in(&dir, &args, "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = run_in(
        &dir,
        &[&args[..], &["--allow-special-addresses"]].concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn ip_addresses_in_the_status_are_checked_too() {
    let dir = scratch("status-addresses");
    let status = |endpoints: &str| {
        format!(
            "{}status:\n  oneAgent:\n    connectionInfoStatus:\n      endpoints: '{endpoints}'\n  activeGate:\n    connectionInfoStatus:\n      endpoints: '{endpoints}'\n",
            dynakube("dynatrace", "")
        )
    };
    write(
        &dir,
        &[
            ("hosts.yaml", HOSTS),
            ("cluster.yaml", "nodeCIDRs: [52.20.0.0/16]\n"),
        ],
    );
    for (endpoints, why) in [
        (
            "https://169.254.169.254:80/communication",
            "169.254.169.254/32 is link-local",
        ),
        (
            "https://127.0.0.1:10250/communication",
            "127.0.0.1/32 is loopback",
        ),
        (
            "https://52.20.0.7:10250/communication",
            "52.20.0.7/32 overlaps 52.20.0.0/16 of the cluster profile's nodeCIDRs",
        ),
        (
            "https://10.1.2.3:9999/communication",
            "10.1.2.3/32 is private",
        ),
    ] {
        write(&dir, &[("dk.yaml", &status(endpoints))]);
        let out = run_in(
            &dir,
            &[
                "generate",
                "dk.yaml",
                "--hosts",
                "hosts.yaml",
                "--cluster",
                "cluster.yaml",
            ],
            "",
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{endpoints}: {stderr}");
        assert!(stderr.contains(why), "{endpoints}: {stderr}");
        assert!(
            stderr.contains("named for DynaKube dynatrace/dk"),
            "{stderr}"
        );
    }
    // An Environment ActiveGate on a private address, marked as such.
    write(
        &dir,
        &[("dk.yaml", &status("https://10.1.2.3:9999/communication"))],
    );
    let out = run_in(
        &dir,
        &[
            "generate",
            "dk.yaml",
            "--hosts",
            "hosts.yaml",
            "--cluster",
            "cluster.yaml",
            "--internal-host",
            "10.1.2.3",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("10.1.2.3/32"));
}

#[test]
fn verify_names_pods_of_the_operator_namespace_that_are_no_dynatrace_components() {
    let dir = scratch("foreign-pods");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/mixed-stream-old-operator");
    let path = |name: &str| fixture.join(name).display().to_string();
    let common = [
        path("resources.yaml"),
        "--cluster".into(),
        path("cluster.yaml"),
        "--hosts".into(),
        path("hosts.yaml"),
    ];
    let common: Vec<&str> = common.iter().map(String::as_str).collect();
    let out = run_in(
        &dir,
        &[&["generate"][..], &common, &["-o", "policies"]].concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pods = [
        "--pods".to_string(),
        path("cluster-model/pods.yaml"),
        "--pods".into(),
        path("cluster-model/namespaces.yaml"),
    ];
    let pods: Vec<&str> = pods.iter().map(String::as_str).collect();
    let verify = [&["verify"][..], &common, &["--policies", "policies"], &pods].concat();
    let out = run_in(&dir, &verify, "");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "named, not failed: {stdout}");
    assert!(
        stdout.contains("In namespace dynatrace but no Dynatrace component's")
            && stdout.contains("  dynatrace/dynatrace-ci-runner\n"),
        "{stdout}"
    );
    let out = run_in(
        &dir,
        &[&verify[..], &["--fail-on", "foreign", "--format", "json"]].concat(),
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["foreign"],
        serde_json::json!(["dynatrace/dynatrace-ci-runner"])
    );
    assert!(
        text(&out.stderr).contains(
            "1 pod(s) in the operator namespace that no Dynatrace component accounts for"
        )
    );
}
