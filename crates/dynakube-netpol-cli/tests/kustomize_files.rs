//! The files a NetworkPolicyGenerator configuration names (`spec.clusterFile`,
//! `spec.hostsFile`, `spec.lockFile`), read as kustomize reads a kustomization's files: from
//! the kustomization's directory, which kustomize makes the working directory of the
//! transformer plugin and of exec KRM functions, and only in or below it. The tests run the
//! binary the way kustomize does (`integrations.rs` runs it under the real kubectl).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dynakube-netpol");

const CLUSTER: &str = "namespace: dynatrace\nnodeCIDRs: [192.0.2.0/24]\n";
const HOSTS: &str = "abc12345.live.dynatrace.com: [203.0.113.10]\n";
const LOCK: &str = "abc12345.live.dynatrace.com:\n  addresses: [203.0.113.20]\n  ttl: 60\n  resolved: 2026-01-02T03:04:05Z\n";

/// A kustomization's directory `kustomization/` holding the profile, the hosts and a lock in
/// `addresses/`, beside a directory `elsewhere/` with a copy of the profile.
fn kustomization(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("kustomize-files")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let root = dir.join("kustomization");
    std::fs::create_dir_all(root.join("addresses")).unwrap();
    std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
    std::fs::write(root.join("cluster.yaml"), CLUSTER).unwrap();
    std::fs::write(root.join("addresses/hosts.yaml"), HOSTS).unwrap();
    std::fs::write(root.join("addresses/dynakube-netpol.lock"), LOCK).unwrap();
    std::fs::write(dir.join("elsewhere/cluster.yaml"), CLUSTER).unwrap();
    root
}

/// A configuration with `spec` (indented lines).
fn generator(spec: &str) -> String {
    format!(
        "apiVersion: dynakube-netpol.github.io/v1alpha1\nkind: NetworkPolicyGenerator\nmetadata: {{name: policies}}\nspec:\n  flavor: kubernetes\n{spec}"
    )
}

fn dynakube() -> String {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/a-cloud-native-network-zone");
    std::fs::read_to_string(fixture.join("dynakube.yaml")).unwrap()
}

/// Runs `args` in `dir` with `stdin`, as kustomize runs a plugin.
fn run_in(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        // A refused configuration stops the plugin before it reads its input.
        let _ = input.write_all(stdin.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// The transformer plugin with the configuration `spec`, run in `dir`.
fn transform(dir: &Path, spec: &str) -> Output {
    let config = dir.join("generator.yaml");
    std::fs::write(&config, generator(spec)).unwrap();
    run_in(
        dir,
        &["kustomize-transformer", config.to_str().unwrap()],
        &dynakube(),
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The message of a refused run.
fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", stdout(out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_files_give_what_the_inline_fields_give() {
    let dir = kustomization("inline");
    let indent = |text: &str| {
        text.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    let inline = transform(
        &dir,
        &format!("  cluster:\n{}  hosts:\n{}", indent(CLUSTER), indent(HOSTS)),
    );
    assert!(inline.status.success(), "{}", refused(&inline));
    let files = transform(
        &dir,
        "  clusterFile: cluster.yaml\n  hostsFile: ./addresses/hosts.yaml\n",
    );
    assert!(files.status.success(), "{}", refused(&files));
    assert_eq!(stdout(&files), stdout(&inline));
    assert!(stdout(&files).contains("cidr: 203.0.113.10/32"));
    // An absolute path in the directory is read too, as kustomize reads it.
    let absolute = dir.join("cluster.yaml").canonicalize().unwrap();
    let out = transform(
        &dir,
        &format!(
            "  clusterFile: {}\n  hostsFile: addresses/../addresses/hosts.yaml\n",
            absolute.display()
        ),
    );
    assert_eq!(stdout(&out), stdout(&inline));
}

#[test]
fn the_lock_file_gives_addresses_and_nothing_is_resolved() {
    let dir = kustomization("lock");
    let out = transform(
        &dir,
        "  clusterFile: cluster.yaml\n  lockFile: addresses/dynakube-netpol.lock\n",
    );
    assert!(out.status.success(), "{}", refused(&out));
    assert!(stdout(&out).contains("cidr: 203.0.113.20/32"));
    // The hosts file wins over the lock, as on the command line.
    let out = transform(
        &dir,
        "  lockFile: addresses/dynakube-netpol.lock\n  hostsFile: addresses/hosts.yaml\n",
    );
    assert!(stdout(&out).contains("cidr: 203.0.113.10/32"));
    assert!(!stdout(&out).contains("cidr: 203.0.113.20/32"));
    // Without either, the advice is the lock file, in the configuration's words.
    let stderr = refused(&transform(&dir, "  clusterFile: cluster.yaml\n"));
    assert!(
        stderr.contains(
            "resolve them into a lock file with `dynakube-netpol lock` and name it in `spec.lockFile`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("`spec.hostsFile`"), "{stderr}");
    // A broken lock names its field and file.
    std::fs::write(
        dir.join("broken.lock"),
        "abc12345.live.dynatrace.com: [1]\n",
    )
    .unwrap();
    let stderr = refused(&transform(&dir, "  lockFile: broken.lock\n"));
    assert!(
        stderr.contains("field `spec.lockFile`: broken.lock"),
        "{stderr}"
    );
}

#[test]
fn files_out_of_the_kustomization_are_refused_as_kustomize_refuses_them() {
    let dir = kustomization("escape");
    let outside = dir.parent().unwrap().join("elsewhere/cluster.yaml");
    for path in [
        "../elsewhere/cluster.yaml".to_string(),
        "addresses/../../elsewhere/cluster.yaml".to_string(),
        outside.display().to_string(),
    ] {
        let stderr = refused(&transform(&dir, &format!("  clusterFile: {path}\n")));
        assert!(
            stderr.contains("field `spec.clusterFile`: `")
                && stderr.contains("is not in or below the kustomization's directory"),
            "{path}: {stderr}"
        );
    }
    // A link in the directory is followed, and held to the directory too.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("cluster.yaml", dir.join("linked.yaml")).unwrap();
        let out = transform(
            &dir,
            "  clusterFile: linked.yaml\n  hostsFile: addresses/hosts.yaml\n",
        );
        assert!(out.status.success(), "{}", refused(&out));
        std::os::unix::fs::symlink(&outside, dir.join("out.yaml")).unwrap();
        let stderr = refused(&transform(&dir, "  clusterFile: out.yaml\n"));
        assert!(stderr.contains("`out.yaml` is not in or below"), "{stderr}");
    }
    let stderr = refused(&transform(&dir, "  hostsFile: missing.yaml\n"));
    assert!(
        stderr.contains(
            "field `spec.hostsFile`: missing.yaml: cannot read: No such file or directory (relative to the kustomization's directory "
        ),
        "{stderr}"
    );
    let stderr = refused(&transform(
        &dir,
        "  hostsFile: https://example.com/hosts.yaml\n",
    ));
    assert!(stderr.contains("is a URL"), "{stderr}");
    let stderr = refused(&transform(&dir, "  hostsFile: [a.yaml]\n"));
    assert!(
        stderr.contains("field `spec.hostsFile`: must be the path of a file"),
        "{stderr}"
    );
}

#[test]
fn inline_and_file_together_are_an_error_naming_both() {
    let dir = kustomization("both");
    let stderr = refused(&transform(
        &dir,
        "  clusterFile: cluster.yaml\n  cluster: {namespace: dynatrace}\n",
    ));
    assert!(
        stderr
            .contains("field `spec.cluster`: `spec.cluster` and `spec.clusterFile` are both given"),
        "{stderr}"
    );
    // A near miss of a field is suggested, the file fields among them.
    let stderr = refused(&transform(&dir, "  clustrFile: cluster.yaml\n"));
    assert!(stderr.contains("did you mean `clusterFile`?"), "{stderr}");
}

#[test]
fn the_krm_function_reads_the_files_from_its_working_directory() {
    let dir = kustomization("krm");
    let config: serde_yaml::Value = serde_yaml::from_str(&generator(
        "  clusterFile: cluster.yaml\n  lockFile: addresses/dynakube-netpol.lock\n",
    ))
    .unwrap();
    let item: serde_yaml::Value = serde_yaml::from_str(&dynakube()).unwrap();
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{}]\nfunctionConfig: {}\n",
        serde_json::to_string(&item).unwrap(),
        serde_json::to_string(&config).unwrap()
    );
    let out = run_in(&dir, &["krm"], &list);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("\"cidr\": \"203.0.113.20/32\""));
    // Elsewhere the same configuration fails, with the field in the result.
    let out = run_in(dir.parent().unwrap(), &["krm"], &list);
    assert_eq!(out.status.code(), Some(1));
    let result: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).unwrap();
    assert_eq!(result["results"][0]["field"]["path"], "spec.clusterFile");
}
