//! Helm, kustomize and kubectl running the real binary, the way `docs/integrations.md` tells
//! users to: the Helm 4 post-renderer plugin of
//! `crates/dynakube-netpol-cli/helm-plugin`, installed from the checkout and from the release
//! archive, the kustomize transformer plugin `NetworkPolicyGenerator`, and the kubectl plugin
//! `kubectl dynakube-netpol`, their names set up by `dynakube-netpol plugins install`.
//!
//! The command lines of that page's code blocks are [`INTEGRATION_COMMANDS`], and the tests run
//! exactly those lines with `sh -c` (the placeholders `CHART` and `DIR` replaced by paths);
//! `documented_commands_are_the_tested_ones` fails when the page (or the README's section
//! "Installing") shows another `helm`, `kubectl`, `mkdir`, `ln`, `cp` or `dynakube-netpol`
//! line, or leaves one of these out.
//!
//! The release archive is assembled as `cargo xtask dist` assembles it (`xtask::archive`),
//! from the debug binary of this build, unpacked with `tar` into a scratch directory, and used
//! from there with nothing of the checkout on `PATH` or in Helm's plugin directory.
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
/// Installs the Helm plugin from the unpacked release archive (run in its directory).
const HELM_PLUGIN_INSTALL_ARCHIVE: &str =
    "helm plugin install --verify=false helm-plugin/dynakube-netpol.tgz";
/// Renders a chart through the post-renderer plugin.
const HELM_TEMPLATE: &str = "helm template rel CHART --post-renderer dynakube-netpol --post-renderer-args=--fqdn-fallback --post-renderer-args=public-internet";
/// Links the binary as the kubectl plugin, its completion, the KRM function and the kustomize
/// transformer plugin.
const PLUGINS_INSTALL: &str = "dynakube-netpol plugins install";
/// Builds a kustomization whose `transformers` name a NetworkPolicyGenerator.
const KUSTOMIZE_BUILD: &str = "kubectl kustomize --enable-alpha-plugins DIR";
/// The plugins kubectl finds.
const KUBECTL_PLUGIN_LIST: &str = "kubectl plugin list";
/// The plugin's help.
const KUBECTL_HELP: &str = "kubectl dynakube-netpol --help";
/// `generate` through kubectl (run in the fixture `a-cloud-native-network-zone`).
const KUBECTL_GENERATE: &str =
    "kubectl dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml";
/// The same, run directly.
const DIRECT_GENERATE: &str =
    "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml";

/// Copies the unpacked release archive's binary, man pages and completions into `~/.local`.
const INSTALL_COPY: &str = "mkdir -p ~/.local && cp -R bin share ~/.local/";

/// The command lines of README.md's section "Installing" after unpacking the release archive,
/// run in its directory by `release_archive_installs_and_runs_without_the_checkout`.
const INSTALL_COMMANDS: [&str; 3] = [INSTALL_COPY, PLUGINS_INSTALL, HELM_PLUGIN_INSTALL_ARCHIVE];

/// The command lines of `docs/integrations.md`, every one run by a test below.
const INTEGRATION_COMMANDS: [&str; 9] = [
    HELM_PLUGIN_INSTALL,
    HELM_PLUGIN_INSTALL_ARCHIVE,
    HELM_TEMPLATE,
    PLUGINS_INSTALL,
    KUSTOMIZE_BUILD,
    KUBECTL_PLUGIN_LIST,
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

/// A private home, Helm directories and kustomize plugin home; removed when dropped.
struct Sandbox {
    root: PathBuf,
    /// The directories of `PATH`, in order.
    path: Vec<PathBuf>,
}

impl Sandbox {
    /// A sandbox with the binary of this build on PATH as `dynakube-netpol`, followed by Helm,
    /// kubectl and the system's PATH.
    fn new(name: &str) -> Sandbox {
        let mut sandbox = Sandbox::empty(name);
        let root = &sandbox.root;
        std::fs::create_dir_all(root.join("bin")).unwrap();
        // A link, not a copy: a file still open for writing in this process could be inherited
        // by a child that another test forks, and executing it would then fail (ETXTBSY).
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_dynakube-netpol"),
            root.join("bin/dynakube-netpol"),
        )
        .unwrap();
        let system_path = std::env::var_os("PATH").unwrap_or_default();
        sandbox.path = [root.join("bin"), root.join("home/.local/bin"), tools()]
            .into_iter()
            .chain(std::env::split_paths(&system_path))
            .collect();
        sandbox
    }

    /// A sandbox with nothing on PATH yet.
    fn empty(name: &str) -> Sandbox {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "dynakube-netpol-{name}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("home")).unwrap();
        Sandbox {
            root,
            path: Vec::new(),
        }
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
        let path = std::env::join_paths(&self.path).unwrap();
        Command::new("sh")
            .arg("-c")
            .arg(line.join(" "))
            .current_dir(dir)
            .env("PATH", path)
            .env("HOME", self.root.join("home"))
            .env("HELM_DATA_HOME", self.root.join("helm/data"))
            .env("HELM_CONFIG_HOME", self.root.join("helm/config"))
            .env("HELM_CACHE_HOME", self.root.join("helm/cache"))
            .env("HELM_PLUGINS", self.root.join("helm/data/plugins"))
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
    // Helm itself renders it; the tool rejects it, and Helm's error says why.
    sandbox.sh_ok("helm template rel CHART", &root, &[("CHART", &broken)]);
    let failed = sandbox.sh(HELM_TEMPLATE, &root, &[("CHART", &broken)]);
    let stderr = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "helm template: {stderr}");
    assert!(failed.stdout.is_empty(), "{}", text(&failed.stdout));
    assert!(
        stderr.starts_with("Error: ")
            && stderr.contains("dynakube-netpol rejected the release")
            && stderr.contains("error: the release on standard input, document 3, field `spec.apiUrl`: `not-a-url` is not a URL"),
        "helm does not show the tool's message: {stderr}"
    );
    // docs/ci.md shows this error as Helm prints it.
    let page = std::fs::read_to_string(root.join("docs/ci.md")).unwrap();
    let shown = page
        .split_once("Helm's error ends with the tool's message:\n\n```text\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .expect("docs/ci.md shows Helm's error")
        .0;
    assert!(
        stderr.starts_with(shown),
        "docs/ci.md:\n{shown}\nHelm:\n{stderr}"
    );
    // So does a mistyped option, with clap's suggestion.
    let mistyped = HELM_TEMPLATE.replace("--fqdn-fallback", "--fqdn-falback");
    let failed = sandbox.sh(&mistyped, &root, &[("CHART", &chart())]);
    let stderr = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "helm template: {stderr}");
    assert!(
        stderr.contains("unexpected argument '--fqdn-falback' found")
            && stderr.contains("a similar argument exists: '--fqdn-fallback'"),
        "{stderr}"
    );
    // Outside Helm, the subcommand fails as every subcommand does.
    let piped = sandbox.sh(
        "helm template rel CHART | dynakube-netpol helm-post-render --fqdn-fallback public-internet",
        &root,
        &[("CHART", &broken)],
    );
    let stderr = text(&piped.stderr);
    assert_eq!(piped.status.code(), Some(2), "{stderr}");
    assert!(
        piped.stdout.is_empty() && stderr.contains("spec.apiUrl"),
        "{stderr}"
    );
}

/// Copies the directory tree `from` to `to` (regular files and directories only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            assert!(kind.is_file(), "{}", entry.path().display());
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Every file under `dir` (not following links), with `dir` left out of the path; panics on a
/// link.
fn files_below(dir: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!kind.is_symlink(), "{} is a link", entry.path().display());
        if kind.is_dir() {
            files.extend(
                files_below(&entry.path())
                    .into_iter()
                    .map(|file| format!("{name}/{file}")),
            );
        } else {
            files.insert(name);
        }
    }
    files
}

/// The release archive of this build, as `cargo xtask dist --profile dev` assembles it, checked
/// against its `.sha256` and unpacked with `tar` in `dir` of the sandbox; its top directory.
fn unpacked_release(sandbox: &Sandbox, dir: &Path) -> PathBuf {
    let root = workspace();
    let target = xtask::archive::host_target().unwrap();
    let release = xtask::archive::Release {
        root: &root,
        binary: Path::new(env!("CARGO_BIN_EXE_dynakube-netpol")),
        version: env!("CARGO_PKG_VERSION"),
        target: &target,
        profile: "dev",
    };
    let dist = sandbox.root.join("dist");
    let archive = xtask::archive::write(&release, &dist).unwrap();
    let name = archive.file_name().unwrap().to_str().unwrap();
    sandbox.sh_ok(&format!("sha256sum -c {name}.sha256"), &dist, &[]);
    std::fs::create_dir_all(dir).unwrap();
    sandbox.sh_ok("tar -xzf ARCHIVE", dir, &[("ARCHIVE", &archive)]);
    let top = dir.join(release.stem());
    let files = files_below(&top);
    for file in [
        "README.md",
        "LICENSE",
        "docs/integrations.md",
        "bin/dynakube-netpol",
        "helm-plugin/dynakube-netpol.tgz",
        "share/man/man1/dynakube-netpol.1",
        "share/man/man1/dynakube-netpol-plugins-install.1",
        "share/bash-completion/completions/dynakube-netpol",
        "share/zsh/site-functions/_dynakube-netpol",
        "share/fish/vendor_completions.d/dynakube-netpol.fish",
    ] {
        assert!(files.contains(file), "{file} is missing: {files:?}");
    }
    let share = root.join("crates/dynakube-netpol-cli/share");
    assert_eq!(
        std::fs::read(top.join("share/bash-completion/completions/dynakube-netpol")).unwrap(),
        std::fs::read(share.join("completions/dynakube-netpol.bash")).unwrap()
    );
    top
}

#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn release_archive_installs_and_runs_without_the_checkout() {
    let mut sandbox = Sandbox::empty("dist");
    let root = workspace();
    // Nothing but the user's bin directory, Helm and kubectl, and the system's tools on PATH.
    let local_bin = sandbox.root.join("home/.local/bin");
    sandbox.path = vec![local_bin.clone(), tools(), "/usr/bin".into(), "/bin".into()];
    let unpacked = sandbox.root.join("opt");
    let top = unpacked_release(&sandbox, &unpacked);
    sandbox.sh_ok(INSTALL_COPY, &top, &[]);
    let found = sandbox.sh_ok("command -v dynakube-netpol", &sandbox.root, &[]);
    assert_eq!(Path::new(found.trim()), local_bin.join("dynakube-netpol"));
    let man = sandbox
        .root
        .join("home/.local/share/man/man1/dynakube-netpol.1");
    assert!(man.is_file());

    // The binary sets up the kubectl plugin beside itself, and kubectl finds it.
    sandbox.sh_ok(PLUGINS_INSTALL, &top, &[]);
    let listed = sandbox.sh_ok(KUBECTL_PLUGIN_LIST, &sandbox.root, &[]);
    let kubectl_plugin = local_bin.join("kubectl-dynakube_netpol");
    assert!(
        listed.lines().any(|line| Path::new(line) == kubectl_plugin),
        "{listed}"
    );
    sandbox.sh_ok("kubectl dynakube-netpol --version", &sandbox.root, &[]);

    // Helm copies the tarball's plugin into its plugin directory: no link into the archive's
    // directory or the checkout.
    let installed = sandbox.sh_ok(HELM_PLUGIN_INSTALL_ARCHIVE, &top, &[]);
    assert!(
        installed.contains("Installed plugin: dynakube-netpol"),
        "{installed}"
    );
    let plugin = sandbox.root.join("helm/data/plugins/dynakube-netpol");
    let plugin_files = files_below(&plugin);
    assert!(plugin_files.contains("plugin.yaml"), "{plugin_files:?}");
    assert_eq!(
        std::fs::read(plugin.join("plugin.yaml")).unwrap(),
        std::fs::read(root.join("crates/dynakube-netpol-cli/helm-plugin/plugin.yaml")).unwrap()
    );
    let listed = sandbox.sh_ok("helm plugin list", &sandbox.root, &[]);
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with("dynakube-netpol")
                && line.contains(env!("CARGO_PKG_VERSION"))
                && line.contains("postrenderer/v1")),
        "{listed}"
    );

    // The unpacked archive goes; a chart outside the checkout is rendered from the scratch
    // directory.
    std::fs::remove_dir_all(&unpacked).unwrap();
    let chart = sandbox.root.join("chart");
    copy_tree(&self::chart(), &chart);
    let plain = sandbox.sh_ok(
        "helm template rel CHART",
        &sandbox.root,
        &[("CHART", &chart)],
    );
    let rendered = sandbox.sh_ok(HELM_TEMPLATE, &sandbox.root, &[("CHART", &chart)]);
    let policies = added(&documents(&plain), &documents(&rendered));
    assert_network_policies(&policies, "dynatrace");
}

#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn kustomize_transformer_plugin_adds_policies_and_keeps_the_resources() {
    let sandbox = Sandbox::new("kustomize");
    let root = workspace();
    let dir = root.join("fixtures/integrations/kustomize");
    // Without the plugin, kustomize refuses the transformer's kind.
    let missing = sandbox.sh(KUSTOMIZE_BUILD, &root, &[("DIR", &dir)]);
    assert!(!missing.status.success(), "{}", text(&missing.stdout));
    sandbox.sh_ok(PLUGINS_INSTALL, &root, &[]);
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
fn kustomize_transformer_reads_the_files_its_configuration_names() {
    let sandbox = Sandbox::new("kustomize-files");
    let root = workspace();
    sandbox.sh_ok(PLUGINS_INSTALL, &root, &[]);
    // Built from the workspace root: the files are the kustomization's, not the shell's.
    let dir = root.join("fixtures/integrations/kustomize-files");
    let built = sandbox.sh_ok(KUSTOMIZE_BUILD, &root, &[("DIR", &dir)]);
    let plain = sandbox.sh_ok(
        "kubectl kustomize DIR",
        &root,
        &[(
            "DIR",
            &root.join("fixtures/integrations/kustomize/resources"),
        )],
    );
    let policies = added(&documents(&plain), &documents(&built));
    assert_network_policies(&policies, "dynatrace");
    // The profile's addresses and the lock's are in the rules.
    let policies = serde_yaml::to_string(&policies).unwrap();
    for cidr in ["192.0.2.0/24", "10.96.0.1/32", "203.0.113.20/32"] {
        assert!(
            policies.contains(&format!("cidr: {cidr}\n")),
            "{cidr}: {policies}"
        );
    }
    assert!(!policies.contains("cidr: 0.0.0.0/0"), "{policies}");

    // A path out of the kustomization fails the build, as kustomize's own load restrictor
    // fails a kustomization's file out of it, and kubectl shows why.
    let copy = sandbox.root.join("repo/fixtures/integrations");
    copy_tree(
        &root.join("fixtures/integrations/kustomize"),
        &copy.join("kustomize"),
    );
    copy_tree(&dir, &copy.join("kustomize-files"));
    let generator = copy.join("kustomize-files/generator.yaml");
    let config = std::fs::read_to_string(&generator).unwrap();
    let escaping = config.replace(
        "clusterFile: cluster.yaml",
        "clusterFile: ../kustomize/generator.yaml",
    );
    assert_ne!(config, escaping);
    std::fs::write(&generator, escaping).unwrap();
    let failed = sandbox.sh(
        KUSTOMIZE_BUILD,
        &root,
        &[("DIR", &copy.join("kustomize-files"))],
    );
    assert!(!failed.status.success(), "{}", text(&failed.stdout));
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains(
            "field `spec.clusterFile`: `../kustomize/generator.yaml` is not in or below the kustomization's directory"
        ),
        "{stderr}"
    );
    // kustomize's own restrictor says the same of a resource file out of the kustomization.
    let kustomization = copy.join("kustomize-files/kustomization.yaml");
    std::fs::write(
        &kustomization,
        "resources:\n  - ../kustomize/resources/dynakube.yaml\n",
    )
    .unwrap();
    let refused = sandbox.sh(
        "kubectl kustomize DIR",
        &root,
        &[("DIR", &copy.join("kustomize-files"))],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("is not in or below"),
        "{}",
        text(&refused.stderr)
    );
}

/// `kubectl` reads what `generate -o json` writes: one List, item by item.
#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn kubectl_reads_the_json_list_of_generate() {
    let sandbox = Sandbox::new("kubectl-json");
    let fixture = workspace().join("fixtures/a-cloud-native-network-zone");
    let out = sandbox.root.join("policies.json");
    sandbox.sh_ok(
        "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o OUT",
        &fixture,
        &[("OUT", &out)],
    );
    let stream = sandbox.sh_ok(
        "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml",
        &fixture,
        &[],
    );
    // `--local`: kubectl reads and prints the objects without a cluster.
    let names = sandbox.sh_ok(
        "kubectl label --local -f OUT checked=yes -o name",
        &fixture,
        &[("OUT", &out)],
    );
    let expected: Vec<String> = documents(&stream)
        .iter()
        .map(|d| {
            format!(
                "networkpolicy.networking.k8s.io/{}",
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names.lines().collect::<Vec<_>>(), expected);
    // And from standard input, as `kubectl apply -f -` reads it.
    let piped = sandbox.sh_ok(
        "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o json | kubectl label --local -f - checked=yes -o name",
        &fixture,
        &[],
    );
    assert_eq!(piped, names);
}

#[test]
#[ignore = "needs helm and kubectl: cargo xtask tools"]
fn kubectl_plugin_runs_the_subcommands() {
    let sandbox = Sandbox::new("kubectl");
    let root = workspace();
    assert!(!sandbox.sh(KUBECTL_HELP, &root, &[]).status.success());
    let installed = sandbox.sh_ok(PLUGINS_INSTALL, &root, &[]);
    let plugin = sandbox.root.join("bin/kubectl-dynakube_netpol");
    assert!(
        installed.contains(&format!("linked {} -> ", plugin.display())),
        "{installed}"
    );
    // kubectl lists it (and would warn about a plugin that is not executable or shadowed).
    let listed = sandbox.sh(KUBECTL_PLUGIN_LIST, &root, &[]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(
        text(&listed.stdout)
            .lines()
            .any(|line| Path::new(line) == plugin),
        "{}",
        text(&listed.stdout)
    );
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
    // asks the completion plugin, which `plugins install` linked too.
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

/// The section `## {title}` of `markdown`, up to the next section of that level.
fn section<'a>(markdown: &'a str, title: &str) -> &'a str {
    let start = markdown
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("README.md has no section `## {title}`"));
    let section = &markdown[start + 1..];
    &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)]
}

#[test]
fn documented_commands_are_the_tested_ones() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let integrations = std::fs::read_to_string(workspace().join("docs/integrations.md")).unwrap();
    let tested: BTreeSet<&str> = INTEGRATION_COMMANDS.into_iter().collect();
    assert_eq!(
        command_lines(&integrations),
        tested,
        "docs/integrations.md and INTEGRATION_COMMANDS of this file differ"
    );
    assert_eq!(
        command_lines(section(&readme, "Installing")),
        INSTALL_COMMANDS.into_iter().collect(),
        "README.md's section Installing and INSTALL_COMMANDS of this file differ"
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
