//! Build-time jobs of dynakube-netpol, run as `cargo xtask <job>` (`cargo xtask help` lists
//! them):
//!
//! - `test`: fetches Helm and kubectl when they are missing, compiles and runs every test (the
//!   ignored ones that need Helm, kubectl or the verifier's Python environment included), runs
//!   `verify-manifests`, then checks that `cargo doc` gives no warning; each step says what it
//!   does and how long it took;
//! - `tools`: fetches the pinned Helm 4 and kubectl into `target/tools/` unless they are there
//!   (see the `tools` module);
//! - `dist [--profile PROFILE] [--target TRIPLE]`: builds the CLI (profile `release` unless
//!   named) and writes its release archive into `dist/` of cargo's target directory: the
//!   binary, man pages, shell completions, the Helm 4 plugin as a plugin tarball, README, docs and
//!   license (see the `dist` module and `xtask::archive`);
//! - `fuzz [SECONDS [TARGET...]]`: runs every fuzz target (or the ones named) for SECONDS each
//!   (default 60), seeded with the fixtures (the `evaluate` target with the evaluator's cases
//!   and every step of the `explain` fixtures, `scan` with the cases as JSON; needs the
//!   nightly toolchain and cargo-fuzz);
//! - `bench-output [COUNT...]`: writes the policies of COUNT generated DynaKubes (default
//!   1,000 and 10,000) with the release CLI into `target/bench-output/`, and prints the time,
//!   files and bytes of each run;
//! - `bench-verify [--runs N] [--no-yaml] [--no-verify] [--nodes N] [--namespaces N] [--pods N]
//!   [--policies N]`: runs
//!   `verify` and `explain` of the release CLI on a generated cluster (by default the largest
//!   Kubernetes supports, written once into `bench-verify/` of the target directory) and prints
//!   the wall time, CPU time and peak memory of each (see the `bench_verify` module);
//! - `docs [--check]`: writes the traffic matrix and release tables into `docs/` (or checks they are fresh);
//! - `fields [--check]`: writes the field lists of every DynaKube and EdgeConnect version from
//!   the operator's CRDs in `fixtures/schemas/dynatrace/` (or checks they are fresh);
//! - `schemas UPSTREAM_DIR | schemas --check [UPSTREAM_DIR]`: writes the CRDs under
//!   `fixtures/schemas/` from upstream's, descriptions removed (or checks they are fresh; see
//!   the `schemas` module);
//! - `cli-docs [--check]`: writes the CLI's shell completions and man pages from its clap
//!   definition into `crates/dynakube-netpol-cli/share/` (or checks they are fresh);
//! - `fixtures`: renders every fixture with the CLI into `target/fixtures/<name>/`;
//! - `snapshots [--accept]`: runs the snapshot tests, lists snapshot changes to review, and
//!   with `--accept` takes the reviewed ones;
//! - `package [ARG...]`: packages the library and the CLI as crates.io would receive them and
//!   builds each from its package (`cargo package --workspace`, the library standing in for
//!   crates.io when the CLI's package is built; ARGs are passed on, such as `--offline`);
//! - `verify VERIFIER`: renders the fixtures and runs an external manifest verifier on each
//!   (`VERIFIER OUTPUT_DIR [CLUSTER_MODEL_DIR]`);
//! - `verify-manifests [--schemas DIR] [--samples DIR] [--jobs N] [--verbose] [NAME...]`:
//!   renders every valid fixture and operator sample (or those whose names start with a NAME)
//!   in both flavors and checks each output with the project's independent verifier
//!   (`xtask/verifier/`, in a Python environment under the target directory made from its
//!   pinned requirements; see the `verifier` and `venv` modules);
//! - `synthetic DIR [PODS [QUERIES]]`: writes the benchmark's generated cluster as a case
//!   directory (policies, pods, connections with the evaluator's verdicts) for other analyzers.

mod bench_verify;
mod cargo;
mod crd_fields;
mod dist;
mod review;
mod schemas;
mod selftest;
mod tools;
mod venv;
mod verifier;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use xtask::cli_docs;
use xtask::generated::{self, Change, Syntax};

/// What `cargo xtask help` prints, one job a line; the module's documentation says more.
const USAGE: &str = "usage: cargo xtask JOB, where JOB is one of
  test
  tools
  dist [--profile PROFILE] [--target TRIPLE]
  fuzz [SECONDS [TARGET...]]
  bench-output [COUNT...]
  bench-verify [--runs N] [--no-yaml] [--no-verify] [--nodes N] [--namespaces N] [--pods N] [--policies N]
  docs [--check]
  fields [--check]
  schemas UPSTREAM_DIR | schemas --check [UPSTREAM_DIR]
  cli-docs [--check]
  fixtures
  snapshots [--accept]
  package [ARG...]
  verify VERIFIER
  verify-manifests [--schemas DIR] [--samples DIR] [--jobs N] [--verbose] [NAME...]
  synthetic DIR [PODS [QUERIES]]
(each is described in xtask/src/main.rs)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // `help`, or `--help` anywhere but in the arguments `package` passes on to cargo.
    let asks_help = |arg: &&str| matches!(*arg, "--help" | "-h");
    if matches!(args.first(), Some(&"help"))
        || (args.first() != Some(&"package") && args.iter().any(asks_help))
    {
        println!("{USAGE}");
        return Ok(());
    }
    match args.as_slice() {
        ["test"] => test(),
        ["tools"] => tools::ensure(&project_root()).map(|_| ()),
        ["dist", options @ ..] => dist::run(&project_root(), options),
        ["fuzz"] => fuzz(60, &[]),
        ["fuzz", seconds, targets @ ..] => {
            fuzz(seconds.parse().context("SECONDS is a number")?, targets)
        }
        ["bench-output", counts @ ..] => {
            let counts: Vec<usize> = if counts.is_empty() {
                vec![1_000, 10_000]
            } else {
                counts
                    .iter()
                    .map(|c| c.parse().context("COUNT is a number"))
                    .collect::<Result<_>>()?
            };
            bench_output(&counts)
        }
        ["bench-verify", options @ ..] => bench_verify::run(&project_root(), options),
        ["measure", command @ ..] => bench_verify::measure(command),
        ["docs"] => docs(false),
        ["docs", "--check"] => docs(true),
        ["fields"] => fields(false),
        ["fields", "--check"] => fields(true),
        ["schemas", "--check"] => schemas::run(&project_root(), None, true),
        ["schemas", "--check", upstream] => {
            schemas::run(&project_root(), Some(Path::new(upstream)), true)
        }
        ["schemas", upstream] => schemas::run(&project_root(), Some(Path::new(upstream)), false),
        ["cli-docs"] => write_cli_docs(false),
        ["cli-docs", "--check"] => write_cli_docs(true),
        ["fixtures"] => fixtures().map(|_| ()),
        ["snapshots"] => snapshots(false),
        ["snapshots", "--accept"] => snapshots(true),
        ["package", rest @ ..] => package(rest),
        ["verify", verifier] => verify(Path::new(verifier)),
        ["verify-manifests", rest @ ..] => {
            let root = project_root();
            verifier::run(&root, &verifier::Options::parse(&root, rest)?, None)
        }
        ["synthetic", dir, rest @ ..] if rest.len() <= 2 => {
            let number = |i: usize, default: usize| -> Result<usize> {
                rest.get(i).map_or(Ok(default), |n| {
                    n.parse().context("PODS and QUERIES are numbers")
                })
            };
            synthetic(Path::new(dir), number(0, 10_000)?, number(1, 2_000)?)
        }
        _ => bail!("{USAGE}"),
    }
}

/// The workspace root, from this crate's manifest directory.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// Runs `what`, saying first what it does and then how long it took.
fn step<T>(what: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("==> {what}");
    let started = std::time::Instant::now();
    let result = run();
    let verdict = if result.is_ok() { "done" } else { "failed" };
    println!(
        "==> {what}: {verdict} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    result
}

/// The variable that names the directory of `helm` and `kubectl` for the integration tests.
const TOOLS_VARIABLE: &str = "DYNAKUBE_NETPOL_TOOLS";
/// The variable that names the Python of the verifier's environment for the tests that
/// validate reports against their schemas.
const PYTHON_VARIABLE: &str = "DYNAKUBE_NETPOL_VERIFIER_PYTHON";

/// Every test, as CI runs them: Helm and kubectl are fetched when they are missing (unless
/// `DYNAKUBE_NETPOL_TOOLS` already names a directory of them), the workspace and its tests are
/// compiled while the verifier's Python environment is made (when missing or stale), then the
/// fixtures and samples are rendered for `verify-manifests`, whose verifier runs in the
/// background while `cargo test --workspace --locked -- --include-ignored` runs (with
/// `DYNAKUBE_NETPOL_TOOLS` naming their directory and `DYNAKUBE_NETPOL_VERIFIER_PYTHON` the
/// environment's Python) and `cargo doc` must give no warning. Each step says what it does and
/// how long it took.
fn test() -> Result<()> {
    let root = project_root();
    let started = std::time::Instant::now();
    let target = cargo::metadata(&root)?.target_dir;
    let helm_and_kubectl = match std::env::var_os(TOOLS_VARIABLE) {
        Some(dir) => PathBuf::from(dir),
        None => step("fetching Helm and kubectl unless they are cached", || {
            tools::ensure(&root)
        })?,
    };
    // pip waits on the network while rustc keeps the cores busy.
    let environment = std::thread::spawn({
        let (root, target) = (root.clone(), target.clone());
        move || venv::ensure(&root, &target)
    });
    let binary = step(
        "compiling the workspace and its tests (and making the verifier's Python environment)",
        || cargo::build_cli(&root, &["test", "--workspace", "--no-run"]),
    )?;
    let python = step("the verifier's Python environment", || {
        environment
            .join()
            .map_err(|_| anyhow::anyhow!("making the Python environment panicked"))?
    })?;
    let options = verifier::Options::parse(&root, &[])?;
    let background = verifier::prepare(&root, &options, &binary, &python, &target)?.spawn()?;
    let tests = step("running the tests", || {
        let status = Command::new(env!("CARGO"))
            .args(["test", "--workspace", "--locked", "--", "--include-ignored"])
            .env(TOOLS_VARIABLE, &helm_and_kubectl)
            .env(PYTHON_VARIABLE, &python)
            .current_dir(&root)
            .status()?;
        if !status.success() {
            bail!("tests failed");
        }
        Ok(())
    });
    // The documentation is part of the product: every public item documented, every link
    // resolved, the module examples compiled (and run, above, as doctests).
    let documentation = step("checking the documentation (cargo doc)", || {
        let status = Command::new(env!("CARGO"))
            .args(["doc", "--workspace", "--no-deps", "--locked"])
            .args(["--features", "dynakube-netpol/dns"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .current_dir(&root)
            .status()?;
        if !status.success() {
            bail!("cargo doc has warnings");
        }
        Ok(())
    });
    let verified = background.finish();
    tests?;
    documentation?;
    verified?;
    println!(
        "cargo xtask test: everything passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes the policies of generated DynaKubes with `-o` and reports time, files and bytes.
fn bench_output(counts: &[usize]) -> Result<()> {
    let root = project_root();
    let binary = cargo::build_cli(
        &root,
        &["build", "--release", "--package", "dynakube-netpol-cli"],
    )?;
    let work = root.join("target/bench-output");
    std::fs::create_dir_all(&work)?;
    println!(
        "| DynaKubes | flavor | to standard output | with -o | with -o --sync | files | bytes written | bytes per DynaKube |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &count in counts {
        let input = work.join(format!("dynakubes-{count}.yaml"));
        std::fs::write(&input, dynakube_netpol::synthetic::dynakubes(count))?;
        for flavor in dynakube_netpol::Flavor::ALL.iter().map(|f| f.as_str()) {
            let run = |extra: &[&std::ffi::OsStr]| -> Result<std::time::Duration> {
                let started = std::time::Instant::now();
                let output = Command::new(&binary)
                    .arg("generate")
                    .arg(&input)
                    .args(["--fqdn-fallback", "public-internet", "--flavor", flavor])
                    .args(["--max-input-bytes", "1000000000"])
                    .args(extra)
                    .stdout(std::process::Stdio::null())
                    .output()?;
                if !output.status.success() {
                    bail!("{}", String::from_utf8_lossy(&output.stderr));
                }
                Ok(started.elapsed())
            };
            let streamed = run(&[])?;
            let out = work.join(format!("out-{flavor}-{count}"));
            let _ = std::fs::remove_dir_all(&out);
            // Flush what this job wrote and removed, so that the run's own flush of its files
            // is measured, not ours.
            let _ = Command::new("sync").status();
            let written = run(&["-o".as_ref(), out.as_os_str()])?;
            let _ = std::fs::remove_dir_all(&out);
            let _ = Command::new("sync").status();
            let synced = run(&["-o".as_ref(), out.as_os_str(), "--sync".as_ref()])?;
            let (mut files, mut bytes) = (0u64, 0u64);
            for entry in std::fs::read_dir(&out)? {
                files += 1;
                bytes += entry?.metadata()?.len();
            }
            println!(
                "| {count} | {flavor} | {:.2} s | {:.2} s | {:.2} s | {files} | {bytes} | {} |",
                streamed.as_secs_f64(),
                written.as_secs_f64(),
                synced.as_secs_f64(),
                bytes / count as u64
            );
        }
    }
    Ok(())
}

/// The fuzz targets (or the `only` ones), each run for `seconds` with seeds made from the
/// fixtures.
fn fuzz(seconds: u64, only: &[&str]) -> Result<()> {
    const TARGETS: [&str; 8] = [
        "resources",
        "profile",
        "hosts",
        "generate",
        "evaluate",
        "scan",
        "audit",
        "nesting",
    ];
    let root = project_root();
    for target in TARGETS
        .into_iter()
        .filter(|t| only.is_empty() || only.contains(t))
    {
        let corpus = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        for (i, seed) in fuzz_seeds(target)?.iter().enumerate() {
            std::fs::write(corpus.join(format!("seed-{i}")), seed)?;
        }
        let status = Command::new("cargo")
            .args(["+nightly", "fuzz", "run", target])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-max_len=65536")
            // `scan` reads on threads of its own: LeakSanitizer counts the 32 bytes glibc keeps
            // for a thread's thread-local destructors (`__cxa_thread_atexit_impl`) when the
            // thread is torn down as it checks, now and then, a leak of no code of the tool.
            .args((target == "scan").then_some("-detect_leaks=0"))
            .current_dir(&root)
            .status()
            .context("running cargo +nightly fuzz (install it with `cargo install cargo-fuzz`)")?;
        if !status.success() {
            bail!("fuzz target {target} found a crash: see fuzz/artifacts/{target}/");
        }
    }
    Ok(())
}

/// Seeds for a fuzz target, in the shape it reads: the fixtures' resources, profiles and
/// hosts files alone; for `generate` each fixture's three joined by `=====` lines; for
/// `evaluate` each evaluator case's policies and cluster, joined likewise, and for `scan` the
/// same as `kubectl get -o json` prints them.
fn fuzz_seeds(target: &str) -> Result<Vec<String>> {
    let root = project_root();
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let mut yaml = Vec::new();
    collect_yaml(&root.join("fixtures"), &mut yaml)?;
    let named = |name: &str| -> Vec<String> {
        yaml.iter()
            .filter(|p| p.file_name().is_some_and(|f| f == name))
            .map(|p| read(p))
            .collect()
    };
    Ok(match target {
        "profile" => named("cluster.yaml"),
        "audit" => named("pods.yaml"),
        "hosts" => named("hosts.yaml"),
        "generate" => {
            let mut seeds = Vec::new();
            for dir in std::fs::read_dir(root.join("fixtures"))? {
                let dir = dir?.path();
                let Ok(command) = std::fs::read_to_string(dir.join("command")) else {
                    continue;
                };
                let mut words = command.split_whitespace();
                let (mut resources, mut profile, mut hosts) =
                    (String::new(), String::new(), String::new());
                while let Some(word) = words.next() {
                    match word {
                        "--cluster" => profile = read(&dir.join(words.next().unwrap_or_default())),
                        "--hosts" => hosts = read(&dir.join(words.next().unwrap_or_default())),
                        "--proxy-url" | "--zone-fallback" | "--fqdn-fallback" => {
                            words.next();
                        }
                        file if !file.starts_with('-') => {
                            resources.push_str("---\n");
                            resources.push_str(&read(&dir.join(file)));
                        }
                        _ => {}
                    }
                }
                seeds.push(format!("{resources}\n=====\n{profile}\n=====\n{hosts}"));
            }
            seeds
        }
        "evaluate" => {
            let cases = root.join("crates/dynakube-netpol/tests/evaluate-cases");
            let mut seeds = Vec::new();
            for case in std::fs::read_dir(cases)? {
                let case = case?.path();
                if case.is_dir() {
                    seeds.push(format!(
                        "{}\n=====\n{}",
                        read(&case.join("policies.yaml")),
                        read(&case.join("cluster.yaml"))
                    ));
                }
            }
            seeds.extend(explain_seeds(&yaml, read));
            seeds
        }
        "scan" => scan_seeds(
            &root.join("crates/dynakube-netpol/tests/evaluate-cases"),
            read,
        )?,
        _ => yaml.iter().map(|p| read(p)).collect(),
    })
}

/// The evaluator's cases in `cases` as seeds of the `scan` target: each case's policies and
/// cluster as `kubectl get -o json` prints lists of them, joined by a `=====` line.
fn scan_seeds(cases: &Path, read: impl Fn(&Path) -> String) -> Result<Vec<String>> {
    let json = |path: &Path| -> Option<String> {
        let mut items = Vec::new();
        for document in serde_yaml::Deserializer::from_str(&read(path)) {
            let value = <serde_json::Value as serde::Deserialize>::deserialize(document).ok()?;
            match value.get("items").and_then(serde_json::Value::as_array) {
                Some(listed) => items.extend(listed.iter().cloned()),
                None if !value.is_null() => items.push(value),
                None => {}
            }
        }
        let list = serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List"});
        let mut text = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut text, formatter);
        serde::Serialize::serialize(&list, &mut serializer).ok()?;
        String::from_utf8(text).ok()
    };
    let mut seeds = Vec::new();
    for case in std::fs::read_dir(cases)? {
        let case = case?.path();
        let policies = json(&case.join("policies.yaml"));
        if let (Some(policies), Some(cluster)) = (policies, json(&case.join("cluster.yaml"))) {
            seeds.push(format!("{policies}\n=====\n{cluster}"));
        }
    }
    Ok(seeds)
}

/// The steps of the `explain` fixtures (`fixtures/explain/*/case.yaml`) as seeds of the
/// `evaluate` target: each step's policies and cluster, joined by a `=====` line.
fn explain_seeds(yaml: &[PathBuf], read: impl Fn(&Path) -> String) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Case {
        pods: String,
        steps: Vec<Step>,
    }
    #[derive(serde::Deserialize)]
    struct Step {
        #[serde(default)]
        policies: Vec<String>,
        pods: Option<String>,
    }
    let mut seeds = Vec::new();
    for path in yaml.iter().filter(|p| p.ends_with("case.yaml")) {
        let (Ok(case), Some(dir)) = (serde_yaml::from_str::<Case>(&read(path)), path.parent())
        else {
            continue;
        };
        for step in case.steps {
            let policies: Vec<String> = step.policies.iter().map(|p| read(&dir.join(p))).collect();
            let cluster = read(&dir.join(step.pods.as_ref().unwrap_or(&case.pods)));
            seeds.push(format!("{}\n=====\n{cluster}", policies.join("\n---\n")));
        }
    }
    seeds
}

fn collect_yaml(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_yaml(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "yaml") && path.metadata()?.len() < 65536 {
            found.push(path);
        }
    }
    Ok(())
}

/// The command that writes the generated sections of the documentation.
const DOCS: &str = "cargo xtask docs";
const MATRIX_START: &str = "<!-- matrix:start (generated by `cargo xtask docs`) -->\n";
const MATRIX_END: &str = "<!-- matrix:end -->\n";
const RELEASES_START: &str = "<!-- releases:start (generated by `cargo xtask docs`) -->\n";
const RELEASES_END: &str = "<!-- releases:end -->\n";

/// The pages with generated sections: the traffic matrix and the table of operator releases,
/// each between its markers.
fn generated_sections() -> [(&'static str, &'static str, &'static str, String); 2] {
    [
        (
            "docs/traffic-matrix.md",
            MATRIX_START,
            MATRIX_END,
            dynakube_netpol::matrix::markdown_table(),
        ),
        (
            "docs/releases.md",
            RELEASES_START,
            RELEASES_END,
            dynakube_netpol::matrix::releases_markdown_table(),
        ),
    ]
}

/// `text` (the page `page`) with what lies between `start` and `end` replaced by `content`.
fn replace_block(page: &str, text: &str, start: &str, end: &str, content: &str) -> Result<String> {
    let from = text
        .find(start)
        .with_context(|| format!("{page} has no marker {start}"))?;
    let to = text
        .find(end)
        .with_context(|| format!("{page} has no marker {end}"))?;
    Ok(format!("{}{start}{content}{}", &text[..from], &text[to..]))
}

/// The changes of the documentation's generated sections, if they are stale.
fn docs_changes(root: &Path) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for (page, start, end, content) in generated_sections() {
        let text =
            std::fs::read_to_string(root.join(page)).with_context(|| format!("reading {page}"))?;
        let fresh = replace_block(page, &text, start, end, &content)?;
        changes.extend(Change::of(root, page.into(), fresh));
    }
    Ok(changes)
}

fn docs(check: bool) -> Result<()> {
    let root = project_root();
    generated::apply(&root, &docs_changes(&root)?, check, &format!("`{DOCS}`"))
}

/// Builds the CLI, and writes (or checks) its completions and man pages.
fn write_cli_docs(check: bool) -> Result<()> {
    let root = project_root();
    let binary = cargo::build_cli(&root, &["build", "--package", cargo::CLI_PACKAGE])?;
    let scratch = cargo::metadata(&root)?.target_dir.join("cli-docs");
    let changes = cli_docs::changes(&root, &binary, &scratch)?;
    generated::apply(&root, &changes, check, &format!("`{}`", cli_docs::COMMAND))
}

/// The command that writes the field lists.
const FIELDS: &str = "cargo xtask fields";

/// Where the field lists live, from the workspace root.
const FIELD_LISTS_DIR: &str = "crates/dynakube-netpol/src/input/fields";

/// The operator's CRDs, one folder per release (see `cargo xtask schemas`).
const CRD_DIR: &str = "fixtures/schemas/dynatrace";

/// Writes every field list from the CRDs (or, with `check`, fails naming the stale ones).
fn fields(check: bool) -> Result<()> {
    let (changes, unread) = field_list_changes()?;
    for version in unread {
        println!("note: a CRD serves {version}, which the tool does not read");
    }
    generated::apply(&project_root(), &changes, check, &format!("`{FIELDS}`"))
}

/// The field lists that differ from what the CRDs give, and the served versions that have no
/// list (as `Kind apiVersion`).
fn field_list_changes() -> Result<(Vec<Change>, Vec<String>)> {
    let root = project_root();
    let mut served = served_fields(&root.join(CRD_DIR))?;
    let mut changes = Vec::new();
    for file in field_list_files(&root)? {
        // `dynakube-v1beta6.txt` is the list of DynaKube dynatrace.com/v1beta6.
        let key = served
            .keys()
            .find(|(kind, version)| {
                let version = version.rsplit('/').next().unwrap_or(version);
                file == format!("{}-{version}.txt", kind.to_lowercase())
            })
            .cloned();
        let Some(key) = key else {
            bail!("no CRD in {CRD_DIR} serves the version of {FIELD_LISTS_DIR}/{file}");
        };
        let (releases, paths) = served.remove(&key).expect("a key just found");
        let fresh = field_list_text(&key, &releases, &paths);
        changes.extend(Change::of(
            &root,
            format!("{FIELD_LISTS_DIR}/{file}"),
            fresh,
        ));
    }
    let unread = served
        .keys()
        .map(|(kind, version)| format!("{kind} {version}"));
    Ok((changes, unread.collect()))
}

/// The field lists the library keeps (`<kind>-<version>.txt`, one per version it reads; a new
/// version starts as an empty file named so, and `FIELD_LISTS` in `input/fields.rs` names it).
fn field_list_files(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join(FIELD_LISTS_DIR))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".txt") {
            files.push(name);
        }
    }
    files.sort();
    Ok(files)
}

/// Field paths by kind and full API version, with the releases whose CRD serves the version.
type Served = std::collections::BTreeMap<(String, String), (Vec<String>, BTreeSet<String>)>;

/// The fields of every served version in the CRDs under `dir`, one folder per release.
fn served_fields(dir: &Path) -> Result<Served> {
    let mut releases: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    releases.retain(|p| p.is_dir());
    // Oldest release first: v1.4.2 before v1.10.2.
    releases.sort_by_key(|p| {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        name.split(|c: char| !c.is_ascii_digit())
            .map(|n| n.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    let mut served = Served::new();
    for release in releases {
        let release_name = release.file_name().unwrap().to_string_lossy().into_owned();
        let mut crds: Vec<PathBuf> = std::fs::read_dir(&release)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        crds.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
        crds.sort();
        for crd in crds {
            let text = std::fs::read_to_string(&crd)?;
            let fields = crd_fields::crd_fields(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", crd.display()))?;
            for (version, paths) in fields.versions {
                let key = (fields.kind.clone(), format!("{}/{version}", fields.group));
                let (releases, union) = served.entry(key).or_default();
                releases.push(release_name.clone());
                union.extend(paths);
            }
        }
    }
    Ok(served)
}

/// The text of a field list: a header that says what it is and how to read it, then the paths.
fn field_list_text(
    (kind, api_version): &(String, String),
    releases: &[String],
    paths: &BTreeSet<String>,
) -> String {
    let mut text = generated::mark_line(
        Syntax::Hash,
        FIELDS,
        &format!(
            " from the CRDs of operator releases {} in {CRD_DIR}/",
            releases.join(", ")
        ),
    );
    text.push_str(&format!(
        "# {kind} {api_version} fields, the union over those CRDs.\n"
    ));
    text.push_str(
        "# One field per line. `[]` ends an array and leads to its items (`tolerations[].key`); `{}` ends\n\
         # a map whose keys are free and leads to its values; `.*` marks a field under which anything is\n\
         # accepted (x-kubernetes-preserve-unknown-fields). A field with nothing below declares no fields.\n",
    );
    for path in paths {
        text.push_str(path);
        text.push('\n');
    }
    text
}

/// Builds the CLI and renders every valid fixture into `target/fixtures/<name>/`.
fn fixtures() -> Result<Vec<PathBuf>> {
    let root = project_root();
    let binary = cargo::build_cli(&root, &["build", "--package", "dynakube-netpol-cli"])?;
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("fixtures"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    fixtures.retain(|p| p.join("command").is_file());
    fixtures.sort();
    let mut rendered = Vec::new();
    for fixture in fixtures {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let out = root.join("target/fixtures").join(&name);
        let args = std::fs::read_to_string(fixture.join("command"))?;
        let output = Command::new(&binary)
            .arg("generate")
            .args(args.split_whitespace())
            .arg("--output-dir")
            .arg(&out)
            .current_dir(&fixture)
            .output()?;
        if !output.status.success() {
            bail!("{name}: {}", String::from_utf8_lossy(&output.stderr));
        }
        println!(
            "rendered {name} into {}",
            out.strip_prefix(&root).unwrap_or(&out).display()
        );
        rendered.push(out);
    }
    Ok(rendered)
}

/// Runs the snapshot tests without failing on changes; lists what changed for review.
fn snapshots(accept: bool) -> Result<()> {
    let root = project_root();
    let snapshots = root.join("snapshots");
    let pending = |dir: &Path| -> Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.retain(|p| p.extension().is_some_and(|e| e == "new"));
        files.sort();
        Ok(files)
    };
    if accept {
        let files = pending(&snapshots)?;
        if files.is_empty() {
            println!("no pending snapshots");
        }
        for new in files {
            let snap = new.with_extension("");
            std::fs::rename(&new, &snap)?;
            println!(
                "accepted {}",
                snap.strip_prefix(&root).unwrap_or(&snap).display()
            );
        }
        return Ok(());
    }
    let status = Command::new(env!("CARGO"))
        .args([
            "test",
            "--quiet",
            "--package",
            "dynakube-netpol-cli",
            "--test",
            "fixtures",
        ])
        .env("INSTA_UPDATE", "new")
        .env("INSTA_FORCE_PASS", "1")
        .env_remove("CI")
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("the snapshot tests failed for another reason than changed snapshots");
    }
    let files = pending(&snapshots)?;
    if files.is_empty() {
        println!("snapshots are fresh");
        return Ok(());
    }
    let mut reviewer = review::Reviewer::new(&root);
    for new in &files {
        let snap = new.with_extension("");
        let old = std::fs::read_to_string(&snap).ok();
        let fresh = std::fs::read_to_string(new)?;
        let name = snap
            .strip_prefix(&root)
            .unwrap_or(&snap)
            .display()
            .to_string();
        // A fixture's policies: first what the change does to connections.
        if let Some(connections) = reviewer.connections(&snap, old.as_deref(), &fresh)? {
            print!("{name}:\n{connections}\n");
        }
        print!(
            "{}",
            dynakube_netpol::output::unified_diff(&name, old.as_deref(), Some(&fresh))
        );
    }
    println!(
        "{} snapshot(s) changed: review the diffs above, then run `cargo xtask snapshots --accept`",
        files.len()
    );
    Ok(())
}

/// Renders every fixture and runs `verifier DIR [CLUSTER_DIR]` on each output directory;
/// CLUSTER_DIR is the fixture's own `cluster-model/` where it has one (pods and namespaces of
/// a cluster the default model does not describe).
/// `cargo package` of every published crate, verified: each package must build on its own, the
/// CLI's against the library's package. Uncommitted changes are packaged too.
fn package(extra: &[&str]) -> Result<()> {
    // Cargo takes a package of a registry as immutable: its unpacked sources and its build are
    // kept by version. The CLI's package is built against the library's from a registry that
    // `cargo package` makes anew each time, so both are forgotten first, or a second run would
    // build the CLI against the library as an earlier run packaged it. The builds live in a
    // target directory of their own, where nothing else needs them.
    let target = project_root().join("target/package-verify");
    forget_unpacked_packages()?;
    forget_builds(&target.join("debug/.fingerprint"))?;
    let status = Command::new(env!("CARGO"))
        .args([
            "package",
            "--workspace",
            "--exclude",
            "xtask",
            "--locked",
            "--allow-dirty",
        ])
        .arg("--target-dir")
        .arg(&target)
        .args(extra)
        .current_dir(project_root())
        .status()?;
    if !status.success() {
        bail!("packaging failed");
    }
    Ok(())
}

/// Removes cargo's unpacked copies of this workspace's packages (cargo unpacks them again).
fn forget_unpacked_packages() -> Result<()> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cargo"),
    };
    let Ok(sources) = std::fs::read_dir(home.join("registry/src")) else {
        return Ok(());
    };
    let version = env!("CARGO_PKG_VERSION");
    for source in sources {
        let source = source?.path();
        for name in ["dynakube-netpol", "dynakube-netpol-cli"] {
            let unpacked = source.join(format!("{name}-{version}"));
            if unpacked.is_dir() {
                std::fs::remove_dir_all(&unpacked)
                    .with_context(|| format!("removing {}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// Removes the build records of this workspace's packages from `fingerprints`, so that cargo
/// builds them again.
fn forget_builds(fingerprints: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(fingerprints) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let ours = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("dynakube-netpol-"));
        if ours {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

fn verify(verifier: &Path) -> Result<()> {
    let root = project_root();
    let mut failed = Vec::new();
    for dir in fixtures()? {
        let name = dir.file_name().expect("fixture directories have names");
        let model = root.join("fixtures").join(name).join("cluster-model");
        let status = Command::new(verifier)
            .arg(&dir)
            .args(model.is_dir().then_some(&model))
            .status()
            .with_context(|| format!("running {}", verifier.display()))?;
        if !status.success() {
            failed.push(dir.display().to_string());
        }
    }
    if !failed.is_empty() {
        bail!("the verifier rejected: {}", failed.join(", "));
    }
    Ok(())
}

/// Writes the benchmark's generated cluster of `pods` pods (with pods/20 namespaces and
/// pods/10 policies, the benchmark's proportions) into `dir`, with `queries` random connections
/// and the evaluator's verdicts in `expected.yaml`; `nca:` marks where treating host-network
/// pods as ordinary pods, as NCA does, gives another verdict.
fn synthetic(dir: &Path, pods: usize, queries: usize) -> Result<()> {
    use dynakube_netpol::evaluate::{HostNetwork, Index, Options};
    use dynakube_netpol::synthetic;
    let size = synthetic::Size {
        namespaces: (pods / 20).max(4),
        pods,
        policies: pods / 10,
    };
    let cluster = synthetic::cluster(size, 1);
    std::fs::create_dir_all(dir)?;
    cluster.write_yaml(dir)?;
    let index = Index::new(
        cluster.namespaces.clone(),
        cluster.pods.clone(),
        &cluster.policies,
    )?;
    let like_nca = Index::with_options(
        dynakube_netpol::evaluate::Cluster {
            namespaces: cluster.namespaces.clone(),
            pods: cluster.pods.clone(),
            ..dynakube_netpol::evaluate::Cluster::default()
        },
        &cluster.policies.clone().into(),
        Options {
            host_network: HostNetwork::Pod,
            ..Options::default()
        },
    )?;
    let mut expected = String::from("# Generated by `cargo xtask synthetic`.\n");
    let mut seen = std::collections::BTreeSet::new();
    for connection in synthetic::connections(&cluster, queries, 2) {
        if connection.from == connection.to || !seen.insert(connection) {
            continue;
        }
        let allowed = index.evaluate(&connection).allowed();
        let nca = like_nca.evaluate(&connection).allowed();
        let differs = if nca == allowed {
            String::new()
        } else {
            format!(", nca: {nca}")
        };
        expected.push_str(&format!(
            "- {{from: \"{}\", to: \"{}\", port: {}, protocol: {}, allowed: {allowed}{differs}}}\n",
            index.end_name(&connection.from),
            index.end_name(&connection.to),
            connection.port,
            connection.protocol.name(),
        ));
    }
    std::fs::write(dir.join("expected.yaml"), expected)?;
    println!(
        "wrote {} pods and {} connections into {}",
        pods,
        seen.len(),
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_matrix_is_fresh() {
        let root = project_root();
        generated::apply(
            &root,
            &docs_changes(&root).unwrap(),
            true,
            &format!("`{DOCS}`"),
        )
        .unwrap();
    }

    #[test]
    fn field_lists_are_fresh() {
        let (changes, _) = field_list_changes().unwrap();
        generated::apply(&project_root(), &changes, true, &format!("`{FIELDS}`")).unwrap();
    }
}
