//! Helm, kustomize and kubectl running the real binary, the way README.md's section
//! "Integrations" tells users to: the Helm 4 post-renderer plugin of
//! `crates/dynakube-netpol-cli/helm-plugin`, the kustomize transformer plugin
//! `NetworkPolicyGenerator`, and the kubectl plugin `kubectl dynakube-netpol`.
//!
//! The command lines of that section's code blocks are [`README_COMMANDS`], and the tests run
//! exactly those lines with `sh -c` (the placeholders `CHART` and `DIR` replaced by paths);
//! `readme_commands_are_the_tested_ones` fails when the README shows another `helm`, `kubectl`,
//! `mkdir`, `ln` or `cp` line, or leaves one of these out.
//!
//! Helm 4 and kubectl are the ones `cargo xtask tools` fetches: the directory named by
//! `DYNAKUBE_NETPOL_TOOLS` (which `cargo xtask test` sets), else
//! `target/tools/kubectl-v37-2.0.0/bin`. The tests that run them are ignored by a plain
//! `cargo test`; `cargo xtask test` runs them, and a missing tool fails them, never skips them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde_yaml::Value;

/// Installs the Helm plugin from the checkout (run in the workspace root).
const HELM_PLUGIN_INSTALL: &str = "helm plugin install crates/dynakube-netpol-cli/helm-plugin";
/// Renders a chart through the post-renderer plugin.
const HELM_TEMPLATE: &str = "helm template rel CHART --post-renderer dynakube-netpol --post-renderer-args=--fqdn-fallback --post-renderer-args=public-internet";
/// Shows the tool's own message about a release (Helm 4 drops a post-renderer's standard error).
const HELM_PIPE: &str = "helm template rel CHART | dynakube-netpol helm-post-render --fqdn-fallback public-internet >/dev/null";
/// Makes the transformer plugin's directory in kustomize's plugin home.
const KUSTOMIZE_PLUGIN_DIR: &str = r#"mkdir -p "$KUSTOMIZE_PLUGIN_HOME/dynakube-netpol.github.io/v1alpha1/networkpolicygenerator""#;
/// Installs the binary as the transformer plugin.
const KUSTOMIZE_PLUGIN_LINK: &str = r#"ln -s "$(command -v dynakube-netpol)" "$KUSTOMIZE_PLUGIN_HOME/dynakube-netpol.github.io/v1alpha1/networkpolicygenerator/NetworkPolicyGenerator""#;
/// Builds a kustomization whose `transformers` name a NetworkPolicyGenerator.
const KUSTOMIZE_BUILD: &str = "kubectl kustomize --enable-alpha-plugins DIR";
/// Makes a directory on PATH for the kubectl plugin.
const KUBECTL_PLUGIN_DIR: &str = "mkdir -p ~/.local/bin";
/// Installs the binary as the kubectl plugin.
const KUBECTL_PLUGIN_LINK: &str =
    r#"ln -s "$(command -v dynakube-netpol)" ~/.local/bin/kubectl-dynakube_netpol"#;
/// Installs the binary as the plugin's completion, which kubectl runs on TAB.
const KUBECTL_COMPLETE_LINK: &str =
    r#"ln -s "$(command -v dynakube-netpol)" ~/.local/bin/kubectl_complete-dynakube_netpol"#;
/// The plugin's help.
const KUBECTL_HELP: &str = "kubectl dynakube-netpol --help";
/// `generate` through kubectl (run in the fixture `a-cloud-native-network-zone`).
const KUBECTL_GENERATE: &str =
    "kubectl dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml";
/// The same, run directly.
const DIRECT_GENERATE: &str =
    "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml";

/// The command lines of README.md's section "Integrations", every one run by a test below.
const README_COMMANDS: [&str; 12] = [
    HELM_PLUGIN_INSTALL,
    HELM_TEMPLATE,
    HELM_PIPE,
    KUSTOMIZE_PLUGIN_DIR,
    KUSTOMIZE_PLUGIN_LINK,
    KUSTOMIZE_BUILD,
    KUBECTL_PLUGIN_DIR,
    KUBECTL_PLUGIN_LINK,
    KUBECTL_COMPLETE_LINK,
    KUBECTL_HELP,
    KUBECTL_GENERATE,
    DIRECT_GENERATE,
];

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// The directory of `helm` and `kubectl`; panics, saying how to get them, when they are missing.
fn tools() -> PathBuf {
    let dir = match std::env::var_os("DYNAKUBE_NETPOL_TOOLS") {
        Some(dir) => PathBuf::from(dir),
        None => workspace().join("target/tools/kubectl-v37-2.0.0/bin"),
    };
    for tool in ["helm", "kubectl"] {
        assert!(
            dir.join(tool).is_file(),
            "no {tool} in {}: run `cargo xtask tools` (or name a directory with Helm 4 and \
             kubectl in DYNAKUBE_NETPOL_TOOLS)",
            dir.display()
        );
    }
    dir
}

/// A private home, Helm directories and kustomize plugin home, with the binary on PATH as
/// `dynakube-netpol`; removed when dropped.
struct Sandbox {
    root: PathBuf,
    tools: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let tools = tools();
        let root = std::env::temp_dir().join(format!(
            "dynakube-netpol-{name}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("home")).unwrap();
        // A link, not a copy: a file still open for writing in this process could be inherited
        // by a child that another test forks, and executing it would then fail (ETXTBSY).
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_dynakube-netpol"),
            root.join("bin/dynakube-netpol"),
        )
        .unwrap();
        Sandbox { root, tools }
    }

    /// `line` run by `sh -c` in `dir`, each placeholder word replaced by its (quoted) path.
    fn sh(&self, line: &str, dir: &Path, placeholders: &[(&str, &Path)]) -> Output {
        let line: Vec<String> = line
            .split(' ')
            .map(
                |word| match placeholders.iter().find(|(name, _)| *name == word) {
                    Some((_, path)) => quoted(path),
                    None => word.to_owned(),
                },
            )
            .collect();
        let system_path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(
            [
                self.root.join("bin"),
                self.root.join("home/.local/bin"),
                self.tools.clone(),
            ]
            .into_iter()
            .chain(std::env::split_paths(&system_path)),
        )
        .unwrap();
        Command::new("sh")
            .arg("-c")
            .arg(line.join(" "))
            .current_dir(dir)
            .env("PATH", path)
            .env("HOME", self.root.join("home"))
            .env("HELM_DATA_HOME", self.root.join("helm/data"))
            .env("HELM_CONFIG_HOME", self.root.join("helm/config"))
            .env("HELM_CACHE_HOME", self.root.join("helm/cache"))
            .env("KUSTOMIZE_PLUGIN_HOME", self.root.join("kustomize-plugins"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("KUBECONFIG")
            .output()
            .expect("sh runs")
    }

    /// [`Sandbox::sh`], which must succeed; its standard output.
    fn sh_ok(&self, line: &str, dir: &Path, placeholders: &[(&str, &Path)]) -> String {
        let output = self.sh(line, dir, placeholders);
        assert!(
            output.status.success(),
            "`{line}` failed ({}): {}",
            output.status,
            text(&output.stderr)
        );
        text(&output.stdout)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `path` quoted for `sh`.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// The documents of a YAML stream, empty ones left out.
fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|document| Value::deserialize(document).expect("the output is YAML"))
        .filter(|document| !document.is_null())
        .collect()
}

/// The documents of `after` that are not in `before`; panics unless every document of `before`
/// is in `after`, unchanged.
fn added(before: &[Value], after: &[Value]) -> Vec<Value> {
    let mut rest = after.to_vec();
    for document in before {
        let Some(i) = rest.iter().position(|d| d == document) else {
            panic!(
                "a document is missing or changed:\n{}",
                serde_yaml::to_string(document).unwrap()
            );
        };
        rest.remove(i);
    }
    rest
}

/// Whether a policy's `ingress` or `egress` has no rule.
fn no_rules(rules: &Value) -> bool {
    rules.is_null() || rules.as_sequence().is_some_and(Vec::is_empty)
}

/// Checks that `policies` are NetworkPolicies of `namespace`, a default deny among them.
fn assert_network_policies(policies: &[Value], namespace: &str) {
    assert!(!policies.is_empty(), "no policies were added");
    for policy in policies {
        let shown = serde_yaml::to_string(policy).unwrap();
        assert_eq!(policy["apiVersion"], "networking.k8s.io/v1", "{shown}");
        assert_eq!(policy["kind"], "NetworkPolicy", "{shown}");
        assert_eq!(policy["metadata"]["namespace"], namespace, "{shown}");
    }
    let default_deny = policies.iter().find(|p| {
        p["spec"]["podSelector"]
            .as_mapping()
            .is_some_and(|s| s.is_empty())
            && p["spec"]["policyTypes"]
                == serde_yaml::from_str::<Value>("[Ingress, Egress]").unwrap()
            && no_rules(&p["spec"]["ingress"])
            && no_rules(&p["spec"]["egress"])
    });
    assert!(
        default_deny.is_some(),
        "no default deny (every pod, ingress and egress, no rule) among the policies"
    );
}

/// The chart fixture.
fn chart() -> PathBuf {
    workspace().join("fixtures/integrations/helm-chart")
}

#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn helm_post_renderer_plugin_adds_policies_and_keeps_the_release() {
    let sandbox = Sandbox::new("helm");
    let root = workspace();
    sandbox.sh_ok(HELM_PLUGIN_INSTALL, &root, &[]);
    let chart = chart();
    let plain = sandbox.sh_ok("helm template rel CHART", &root, &[("CHART", &chart)]);
    let rendered = sandbox.sh_ok(HELM_TEMPLATE, &root, &[("CHART", &chart)]);
    let before = documents(&plain);
    assert_eq!(
        before.len(),
        3,
        "the chart renders three documents:\n{plain}"
    );
    let policies = added(&before, &documents(&rendered));
    assert_network_policies(&policies, "dynatrace");
    // Helm files each added object by its annotation, then drops the annotation.
    for policy in &policies {
        let name = policy["metadata"]["name"].as_str().unwrap();
        assert!(
            rendered.contains(&format!("# Source: dynakube-netpol/{name}.yaml\n")),
            "{name} is filed under its own name:\n{rendered}"
        );
    }
    assert!(!rendered.contains("postrender-filename"), "{rendered}");
    assert!(
        rendered.contains(
            "# Source: dynakube-netpol/default-deny.yaml\n# Generated by dynakube-netpol "
        ),
        "the provenance stays with the policies:\n{rendered}"
    );
    // The README's pipe gives the same release on a valid chart.
    sandbox.sh_ok(HELM_PIPE, &root, &[("CHART", &chart)]);
}

#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn helm_post_renderer_plugin_fails_the_release_on_a_broken_dynakube() {
    let sandbox = Sandbox::new("helm-broken");
    let root = workspace();
    sandbox.sh_ok(HELM_PLUGIN_INSTALL, &root, &[]);
    // The chart with an apiUrl that is no URL.
    let broken = sandbox.root.join("broken-chart");
    for file in [
        "Chart.yaml",
        "values.yaml",
        "templates/dynakube.yaml",
        "templates/configmap.yaml",
        "templates/deployment.yaml",
    ] {
        let to = broken.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(chart().join(file), &to).unwrap();
    }
    let values = std::fs::read_to_string(broken.join("values.yaml")).unwrap();
    let values_broken = values.replace(
        "apiUrl: https://abc12345.live.dynatrace.com/api",
        "apiUrl: not-a-url",
    );
    assert_ne!(
        values, values_broken,
        "the fixture's values.yaml names the apiUrl"
    );
    std::fs::write(broken.join("values.yaml"), values_broken).unwrap();
    // Helm itself renders it; the tool rejects it.
    sandbox.sh_ok("helm template rel CHART", &root, &[("CHART", &broken)]);
    let failed = sandbox.sh(HELM_TEMPLATE, &root, &[("CHART", &broken)]);
    let stderr = text(&failed.stderr);
    assert!(!failed.status.success(), "helm template succeeded");
    assert!(
        stderr.contains(r#"post-renderer plugin "dynakube-netpol""#),
        "helm does not name the plugin: {stderr}"
    );
    // Helm 4 drops the plugin's standard error; the README's pipe shows the tool's message.
    let piped = sandbox.sh(HELM_PIPE, &root, &[("CHART", &broken)]);
    let stderr = text(&piped.stderr);
    assert_eq!(piped.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("spec.apiUrl"), "{stderr}");
}

#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn kustomize_transformer_plugin_adds_policies_and_keeps_the_resources() {
    let sandbox = Sandbox::new("kustomize");
    let root = workspace();
    sandbox.sh_ok(KUSTOMIZE_PLUGIN_DIR, &root, &[]);
    sandbox.sh_ok(KUSTOMIZE_PLUGIN_LINK, &root, &[]);
    let dir = root.join("fixtures/integrations/kustomize");
    let plain = sandbox.sh_ok(
        "kubectl kustomize DIR",
        &root,
        &[("DIR", &dir.join("resources"))],
    );
    let built = sandbox.sh_ok(KUSTOMIZE_BUILD, &root, &[("DIR", &dir)]);
    let before = documents(&plain);
    assert_eq!(before.len(), 2, "a DynaKube and a ConfigMap:\n{plain}");
    let policies = added(&before, &documents(&built));
    assert_network_policies(&policies, "dynatrace");
    // kustomize drops comments and, on success, the plugin's standard error: the warnings
    // reach the built manifests on default-deny.
    let default_deny = policies
        .iter()
        .find(|p| p["metadata"]["name"] == "default-deny")
        .unwrap();
    let warnings = default_deny["metadata"]["annotations"]["dynakube-netpol/warnings"]
        .as_str()
        .unwrap_or_default();
    assert!(
        warnings.contains("[spec.cluster.prometheusTargets]"),
        "{built}"
    );
    // The addresses of the configuration's `hosts` are used (not the public-internet fallback).
    let policies = serde_yaml::to_string(&policies).unwrap();
    assert!(policies.contains("cidr: 203.0.113.10/32"), "{policies}");
    assert!(!policies.contains("cidr: 0.0.0.0/0"), "{policies}");
}

#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn kubectl_plugin_runs_the_subcommands() {
    let sandbox = Sandbox::new("kubectl");
    let root = workspace();
    sandbox.sh_ok(KUBECTL_PLUGIN_DIR, &root, &[]);
    sandbox.sh_ok(KUBECTL_PLUGIN_LINK, &root, &[]);
    let help = sandbox.sh_ok(KUBECTL_HELP, &root, &[]);
    for subcommand in ["generate", "verify"] {
        assert!(help.contains(subcommand), "{help}");
    }
    let fixture = root.join("fixtures/a-cloud-native-network-zone");
    let through_kubectl = sandbox.sh_ok(KUBECTL_GENERATE, &fixture, &[]);
    let direct = sandbox.sh_ok(DIRECT_GENERATE, &fixture, &[]);
    assert!(through_kubectl.contains("kind: NetworkPolicy"));
    assert_eq!(through_kubectl, direct);

    // kubectl's own completion machinery (`__complete`, what its shell scripts call on TAB)
    // asks the completion plugin.
    sandbox.sh_ok(KUBECTL_COMPLETE_LINK, &root, &[]);
    let subcommands = sandbox.sh_ok("kubectl __complete dynakube-netpol ge", &root, &[]);
    assert!(
        subcommands.starts_with("generate\tGenerate network policies"),
        "{subcommands}"
    );
    assert!(subcommands.ends_with(":4\n"), "{subcommands}");
    let values = sandbox.sh_ok(
        "kubectl __complete dynakube-netpol generate dk.yaml --flavor ''",
        &root,
        &[],
    );
    assert!(values.starts_with("kubernetes\t"), "{values}");
    assert!(values.contains("\ncilium\t"), "{values}");
}

/// The lines of the fenced code blocks of `markdown` that start with a command the tests run.
fn command_lines(markdown: &str) -> BTreeSet<&str> {
    let mut in_block = false;
    let mut lines = BTreeSet::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
        } else if in_block
            && [
                "helm ",
                "kubectl ",
                "mkdir ",
                "ln ",
                "cp ",
                "dynakube-netpol ",
            ]
            .iter()
            .any(|command| line.starts_with(command))
        {
            lines.insert(line);
        }
    }
    lines
}

#[test]
fn readme_commands_are_the_tested_ones() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let start = readme
        .find("\n## Integrations\n")
        .expect("README.md has a section `## Integrations`");
    let section = &readme[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let tested: BTreeSet<&str> = README_COMMANDS.into_iter().collect();
    assert_eq!(
        command_lines(section),
        tested,
        "README.md's section Integrations and README_COMMANDS of this file differ"
    );
    // The plugin's own README shows a part of them.
    let plugin_readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("helm-plugin/README.md"),
    )
    .unwrap();
    let untested: Vec<&str> = command_lines(&plugin_readme)
        .into_iter()
        .filter(|line| !tested.contains(line))
        .collect();
    assert!(untested.is_empty(), "helm-plugin/README.md: {untested:?}");
}

#[test]
fn helm_plugin_version_is_the_crate_version() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("helm-plugin/plugin.yaml"),
    )
    .unwrap();
    let manifest: Value = serde_yaml::from_str(&manifest).unwrap();
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["name"], "dynakube-netpol");
    assert_eq!(manifest["type"], "postrenderer/v1");
}
