//! Every fixture's output, in both flavors, through the independent manifest verifier: strict
//! Kubernetes schema, strict Cilium CRD schema, lint and connectivity-analyzer sanity checks.
//! And every fixture's input through the CRD validator: the DynaKubes and EdgeConnects must be
//! resources that the API server accepts, checked strictly against the operator's CRDs.
//!
//! The verifier is an external program, `VERIFIER OUTPUT_DIR [CLUSTER_MODEL_DIR]`, named by
//! `DYNAKUBE_NETPOL_VERIFIER` or found at `../shared/tools/verify-manifests` beside the
//! workspace; the validator is `../shared/tools/validate-dynatrace-crs FILE...`. Both run in the
//! Python environment made by `../shared/tools/setup-verifiers`. The tests are ignored by a
//! plain `cargo test`, so the summary shows that they did not run; `cargo xtask test` prepares
//! the environment and runs them, and then a missing tool is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The verifier, or why it cannot run.
fn verifier(root: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("DYNAKUBE_NETPOL_VERIFIER") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "DYNAKUBE_NETPOL_VERIFIER names {}, which is no file",
                path.display()
            ))
        };
    }
    let tools = root.join("../shared/tools");
    let path = tools.join("verify-manifests");
    if !path.is_file() {
        return Err(format!(
            "no verifier at {}; set DYNAKUBE_NETPOL_VERIFIER to one",
            path.display()
        ));
    }
    if !tools.join(".venv/bin/python").is_file() {
        return Err(format!(
            "the verifier's environment is missing: run {} (or `cargo xtask test`, which does)",
            tools.join("setup-verifiers").display()
        ));
    }
    Ok(path)
}

/// The valid fixtures: the directories under `fixtures/` with a `command` file, sorted.
fn fixtures(root: &Path) -> Vec<PathBuf> {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("command").is_file())
        .collect();
    fixtures.sort();
    fixtures
}

/// The CRD validator, or why it cannot run.
fn crd_validator(root: &Path) -> Result<PathBuf, String> {
    let tools = root.join("../shared/tools");
    let path = tools.join("validate-dynatrace-crs");
    if !path.is_file() {
        return Err(format!("no CRD validator at {}", path.display()));
    }
    if !tools.join(".venv/bin/python").is_file() {
        return Err(format!(
            "the validator's environment is missing: run {} (or `cargo xtask test`, which does)",
            tools.join("setup-verifiers").display()
        ));
    }
    Ok(path)
}

#[test]
#[ignore = "needs the CRD validator of ../shared/tools; `cargo xtask test` runs it"]
fn fixture_resources_pass_the_crd_validator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let validator =
        crd_validator(&root).unwrap_or_else(|why| panic!("cannot run the CRD validator: {why}"));
    let mut files = Vec::new();
    for fixture in fixtures(&root) {
        // The resource files; the cluster profile and hosts file are no resources.
        let mut resources: Vec<PathBuf> = std::fs::read_dir(&fixture)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .filter(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                text.contains("kind: DynaKube") || text.contains("kind: EdgeConnect")
            })
            .collect();
        assert!(
            !resources.is_empty(),
            "{}: no DynaKube or EdgeConnect file",
            fixture.display()
        );
        resources.sort();
        files.extend(
            resources
                .iter()
                .map(|p| p.strip_prefix(&root).unwrap().to_owned()),
        );
    }
    let validated = Command::new(&validator)
        .args(&files)
        .current_dir(&root)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&validated.stdout);
    let passed: usize = report
        .lines()
        .last()
        .and_then(|line| line.strip_suffix(" skipped"))
        .and_then(|line| line.split(" passed, 0 failed, ").next())
        .and_then(|passed| passed.parse().ok())
        .unwrap_or(0);
    assert!(
        validated.status.success() && passed >= files.len(),
        "the CRD validator rejected fixture resources:\n{report}{}",
        String::from_utf8_lossy(&validated.stderr)
    );
}

#[test]
#[ignore = "needs the manifest verifier of ../shared/tools; `cargo xtask test` runs it"]
fn fixtures_pass_the_manifest_verifier() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let verifier = verifier(&root).unwrap_or_else(|why| panic!("cannot run the verifier: {why}"));
    let fixtures = fixtures(&root);

    // Both flavors of every fixture; the verifier takes seconds each: run two at a time.
    let jobs: Vec<(&PathBuf, &str)> = fixtures
        .iter()
        .flat_map(|f| [(f, "kubernetes"), (f, "cilium")])
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(failure) = verify(&verifier, job.0, job.1) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "the verifier rejected:\n{}",
        failures.join("\n")
    );
}

/// Renders `fixture` in `flavor` into a directory and runs the verifier on it.
fn verify(verifier: &Path, fixture: &Path, flavor: &str) -> Result<(), String> {
    let name = format!(
        "{}-{flavor}",
        fixture.file_name().unwrap().to_string_lossy()
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("verify")
        .join(&name);
    let _ = std::fs::remove_dir_all(&out);
    let command = std::fs::read_to_string(fixture.join("command")).unwrap();
    let generated = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .arg("generate")
        .args(command.split_whitespace())
        .args(["--flavor", flavor])
        .arg("--output-dir")
        .arg(&out)
        .current_dir(fixture)
        .output()
        .unwrap();
    if !generated.status.success() {
        return Err(format!(
            "{name}: {}",
            String::from_utf8_lossy(&generated.stderr)
        ));
    }
    let model = fixture.join("cluster-model");
    let verified = Command::new(verifier)
        .arg(&out)
        .args(model.is_dir().then_some(&model))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&verified.stdout);
    if verified.status.success() && report.contains(" passed, 0 failed") {
        Ok(())
    } else {
        Err(format!(
            "{name}:\n{report}{}",
            String::from_utf8_lossy(&verified.stderr)
        ))
    }
}

/// The operator's own samples, the tenant placeholder substituted, in a scratch directory:
/// (file name, path) for every sample, sorted.
fn operator_samples(root: &Path) -> Vec<(String, PathBuf)> {
    let samples = root.join("fixtures/operator-samples");
    assert!(
        samples.is_dir(),
        "the operator's samples are missing: expected them in {}",
        samples.display()
    );
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("operator-samples");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut found = Vec::new();
    let mut dirs = vec![samples.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let name = path
                    .strip_prefix(&samples)
                    .unwrap()
                    .to_string_lossy()
                    .replace('/', "_");
                let text = std::fs::read_to_string(&path)
                    .unwrap()
                    .replace("ENVIRONMENTID", "abc12345");
                let copy = scratch.join(&name);
                std::fs::write(&copy, text).unwrap();
                found.push((name, copy));
            }
        }
    }
    found.sort();
    found
}

/// Runs the binary with `args`.
fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs the manifest verifier of ../shared/tools; `cargo xtask test` runs it"]
fn operator_samples_render_and_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let verifier = verifier(&root).unwrap_or_else(|why| panic!("cannot run the verifier: {why}"));
    let samples = operator_samples(&root);
    assert!(samples.len() >= 20, "{} samples", samples.len());
    // A cluster as the fixtures describe one, so that kube-apiserver and the nodes are known.
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("operator-samples-out");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let profile = scratch.join("cluster.yaml");
    std::fs::write(
        &profile,
        "apiServer:\n  serviceCIDRs: [10.96.0.1/32]\n  endpointCIDRs: [192.0.2.10/32]\n  ports: [443, 6443]\nnodeCIDRs: [192.0.2.0/24]\ncontrolPlaneCIDRs: [192.0.2.10/32]\n",
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    // Addresses of the EdgeConnect samples' hosts: with all of them on the public-internet
    // fallback, their rules would be the same and the analyzer rightly calls them redundant.
    let hosts = scratch.join("hosts.yaml");
    std::fs::write(
        &hosts,
        "example.dev.apps.dynatracelabs.com: [203.0.113.40]\nsso.sample.com: [203.0.113.30]\nsso-dev.dynatracelabs.com: [203.0.113.31]\nindex.docker.io: [203.0.113.50]\nauth.docker.io: [203.0.113.51]\n",
    )
    .unwrap();
    let hosts = hosts.to_str().unwrap();
    let mut failures = Vec::new();
    let mut rendered = 0;
    for (name, file) in &samples {
        let file = file.to_str().unwrap();
        // The operator refuses this one: a provisioner without host patterns.
        if name == "edgeconnect_provisioner.yaml" {
            let out = run(&["generate", file, "--fqdn-fallback", "public-internet"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2)
                || !stderr.contains(
                    "field `spec.hostPatterns`: is required with `spec.oauth.provisioner: true`",
                )
            {
                failures.push(format!(
                    "{name}: not refused for its host patterns: {stderr}"
                ));
            }
            continue;
        }
        // Operator 1.10 and later refuse this one too (its OAuth endpoint is no Dynatrace SSO
        // host); earlier releases accept it, so it is rendered for 1.9.
        let mut release: Vec<&str> = vec!["--cluster", profile];
        if name.starts_with("edgeconnect") {
            release.extend(["--hosts", hosts]);
        }
        if name == "edgeconnect_edgeconnect.yaml" {
            let out = run(&["generate", file, "--fqdn-fallback", "public-internet"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2)
                || !stderr.contains("is not one of the SSO hosts operator 1.10.2 accepts")
            {
                failures.push(format!(
                    "{name}: not refused on 1.10 for its SSO host: {stderr}"
                ));
            }
            release.extend(["--operator-version", "1.9"]);
        }
        for flavor in ["kubernetes", "cilium"] {
            let sample = Sample {
                name,
                file,
                release: &release,
                scratch: &scratch,
            };
            sample.check(flavor, &verifier, &mut rendered, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(rendered, 2 * (samples.len() - 1));
}

/// One operator sample to render and check.
struct Sample<'a> {
    name: &'a str,
    file: &'a str,
    release: &'a [&'a str],
    scratch: &'a Path,
}

impl Sample<'_> {
    /// Renders the sample in `flavor` and checks the output with verify (Kubernetes flavor)
    /// and the manifest verifier; problems go to `failures`.
    fn check(
        &self,
        flavor: &str,
        verifier: &Path,
        rendered: &mut usize,
        failures: &mut Vec<String>,
    ) {
        let Sample {
            name,
            file,
            release,
            scratch,
        } = *self;
        let dir = scratch.join(format!("{name}-{flavor}"));
        // The model cluster verify builds from the matrix, for the analyzer's sanity checks.
        let case = scratch.join(format!("{name}-case"));
        let model = scratch.join(format!("{name}-model"));
        let mut args = vec![
            "generate",
            file,
            "--fqdn-fallback",
            "public-internet",
            "--flavor",
            flavor,
            "-o",
            dir.to_str().unwrap(),
        ];
        args.extend(release);
        let out = run(&args);
        if !out.status.success() {
            failures.push(format!(
                "{name} ({flavor}): {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            return;
        }
        *rendered += 1;
        if flavor == "kubernetes" {
            let mut args = vec![
                "verify",
                file,
                "--fqdn-fallback",
                "public-internet",
                "--policies",
                dir.to_str().unwrap(),
                "--write-case",
                case.to_str().unwrap(),
            ];
            args.extend(release);
            let out = run(&args);
            if !out.status.success() {
                failures.push(format!(
                    "{name}: verify: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            std::fs::create_dir_all(&model).unwrap();
            std::fs::copy(case.join("cluster.yaml"), model.join("cluster.yaml")).unwrap();
        }
        let verified = Command::new(verifier)
            .arg(&dir)
            .arg(&model)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&verified.stdout);
        if !(verified.status.success() && report.contains(" passed, 0 failed")) {
            failures.push(format!("{name} ({flavor}): verify-manifests:\n{report}"));
        }
    }
}
