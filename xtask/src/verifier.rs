//! `cargo xtask verify-manifests`: every valid fixture and every operator sample rendered in every
//! flavor by the CLI, then checked by the project's independent verifier (`xtask/verifier/`,
//! Python: strict Kubernetes and CRD schemas, API-server rules, the operator's CRDs for the
//! inputs, and network-config-analyzer's sanity checks and verdicts). The ClusterNetworkPolicy
//! flavor is rendered in its default, standard channel, whose CRD the verifier reads; its
//! NetworkPolicies beside are checked as the Kubernetes flavor's are, less the analyzer's
//! verdicts, which the Kubernetes flavor's job gives for the same cluster.
//!
//! The CLI is the one `cargo build` makes (its path from cargo's own build messages, so
//! `CARGO_TARGET_DIR` and profiles are respected). Each input is rendered once per flavor into
//! `<target>/verify-manifests/<name>/`, and `verify --write-case` writes the connections the
//! evaluator decided beside them; rendering runs on a pool of threads, the verifier on a pool of
//! processes, one job per input and flavor. A self-test comes first: planted defects in scratch
//! copies of one rendered fixture, each of which the verifier must refuse in the check meant to
//! catch it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::{selftest, step, venv};

/// The default schema directory, from the workspace root.
const SCHEMAS: &str = "fixtures/schemas";
/// The default directory of the operator's samples, from the workspace root.
const SAMPLES: &str = "fixtures/operator-samples";
/// The options of `generate` in fixture command files that take a value.
const VALUE_OPTIONS: [&str; 8] = [
    "--cluster",
    "--hosts",
    "--proxy-url",
    "--zone-fallback",
    "--fqdn-fallback",
    "--internal-host",
    "--operator-version",
    "--lock",
];
/// A cluster profile for the operator's samples, so that kube-apiserver and the nodes are known.
const SAMPLE_PROFILE: &str = "apiServer:\n  serviceCIDRs: [10.96.0.1/32]\n  endpointCIDRs: [192.0.2.10/32]\n  ports: [443, 6443]\nnodeCIDRs: [192.0.2.0/24]\ncontrolPlaneCIDRs: [192.0.2.10/32]\n";
/// Addresses of the EdgeConnect samples' hosts: with all of them on the public-internet
/// fallback, their rules would be the same and the analyzer rightly calls them redundant.
const SAMPLE_HOSTS: &str = "example.dev.apps.dynatracelabs.com: [203.0.113.40]\nsso.sample.com: [203.0.113.30]\nsso-dev.dynatracelabs.com: [203.0.113.31]\nindex.docker.io: [203.0.113.50]\nauth.docker.io: [203.0.113.51]\n";

/// What `verify-manifests` was asked.
pub struct Options {
    /// The schema directory (CRDs of Cilium, the operator and network-policy-api).
    pub schemas: PathBuf,
    /// The directory of the operator's samples.
    pub samples: PathBuf,
    /// Worker threads and processes.
    pub jobs: usize,
    /// Print every PASS line too.
    pub verbose: bool,
    /// Only the inputs whose names start with one of these (all when empty).
    pub only: Vec<String>,
}

impl Options {
    /// `[--schemas DIR] [--samples DIR] [--jobs N] [--verbose] [NAME...]`.
    pub fn parse(root: &Path, args: &[&str]) -> Result<Options> {
        let jobs = std::thread::available_parallelism().map_or(2, usize::from);
        let mut options = Options {
            schemas: root.join(SCHEMAS),
            samples: root.join(SAMPLES),
            jobs,
            verbose: false,
            only: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match *arg {
                "--schemas" => options.schemas = PathBuf::from(value()?),
                "--samples" => options.samples = PathBuf::from(value()?),
                "--jobs" => options.jobs = value()?.parse().context("--jobs takes a number")?,
                "--verbose" => options.verbose = true,
                name if !name.starts_with('-') => options.only.push(name.to_owned()),
                other => bail!("unknown option {other}"),
            }
        }
        options.jobs = options.jobs.max(1);
        Ok(options)
    }
}

/// One input to render: a fixture or an operator sample.
pub struct Input {
    /// Its name: the fixture's directory, or `operator-samples/<path>`.
    pub name: String,
    /// Where the CLI runs.
    pub dir: PathBuf,
    /// The arguments of `generate` and `verify`: resources, profile, hosts, options.
    pub args: Vec<String>,
    /// The DynaKube and EdgeConnect files.
    pub resources: Vec<PathBuf>,
    /// The pods and namespaces of the fixture's cluster model, when it has one.
    pub model: Vec<PathBuf>,
}

/// Where an input's outputs go.
pub struct Rendered {
    /// The `generate -o` directory of the Kubernetes flavor.
    pub kubernetes: PathBuf,
    /// The `generate -o` directory of the Cilium flavor.
    pub cilium: PathBuf,
    /// The `generate -o` directory of the ClusterNetworkPolicy flavor.
    pub cluster_network_policy: PathBuf,
    /// The `verify --write-case` directory.
    pub case: PathBuf,
}

impl Rendered {
    /// The verifier's jobs for an input rendered here, one per flavor.
    pub fn jobs(&self, input: &Input) -> [Value; 3] {
        let cluster = if input.model.is_empty() {
            vec![self.case.join("cluster.yaml")]
        } else {
            input.model.clone()
        };
        [
            json!({
                "name": input.name, "flavor": "kubernetes", "output": self.kubernetes,
                "resources": input.resources, "cluster": cluster, "case": self.case,
            }),
            json!({"name": input.name, "flavor": "cilium", "output": self.cilium}),
            json!({
                "name": input.name, "flavor": "cluster-network-policy",
                "output": self.cluster_network_policy,
            }),
        ]
    }
}

/// Renders every input (or the chosen ones), runs the self-test, then the verifier on all,
/// printing its lines as it goes. `binary` is the CLI when the caller has built it; otherwise
/// `cargo build` builds it.
pub fn run(root: &Path, options: &Options, binary: Option<PathBuf>) -> Result<()> {
    let target = crate::cargo::metadata(root)?.target_dir;
    let binary = match binary {
        Some(binary) => binary,
        None => step("building the CLI", || {
            crate::cargo::build_cli(root, &["build", "--package", crate::cargo::CLI_PACKAGE])
        })?,
    };
    let python = step("preparing the verifier's Python environment", || {
        venv::ensure(root, &target)
    })?;
    let prepared = prepare(root, options, &binary, &python, &target)?;
    step(&prepared.doing(), || {
        let status = prepared
            .verifier
            .command(&prepared.manifest, &prepared.report(), !options.verbose)
            .status()?;
        prepared.outcome(status)
    })
}

/// Everything rendered and the self-test passed: what remains is the verifier's run.
pub struct Prepared {
    /// How to run the verifier.
    verifier: Verifier,
    /// The jobs.
    manifest: PathBuf,
    /// The work directory.
    work: PathBuf,
    /// How many outputs there are to check.
    outputs: usize,
}

/// A verifier run in the background, its lines going into a file.
pub struct Background {
    /// The verifier's process.
    child: std::process::Child,
    /// Its lines.
    log: PathBuf,
    /// What it was given.
    prepared: Prepared,
    /// When it started.
    started: std::time::Instant,
}

/// Renders the inputs and runs the self-test, for a verifier that `python` runs.
pub fn prepare(
    root: &Path,
    options: &Options,
    binary: &Path,
    python: &Path,
    target: &Path,
) -> Result<Prepared> {
    let work = target.join("verify-manifests");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    let mut inputs = fixtures(root)?;
    inputs.extend(samples(&options.samples, &work.join("samples"))?);
    let base = inputs
        .iter()
        .position(|input| input.name == selftest::BASE)
        .with_context(|| format!("the self-test's fixture {} is missing", selftest::BASE))?;
    let base = inputs.remove(base);
    if !options.only.is_empty() {
        inputs.retain(|input| options.only.iter().any(|name| input.name.starts_with(name)));
        if inputs.is_empty() {
            bail!("no fixture or sample is named {}", options.only.join(", "));
        }
    }
    let verifier = Verifier {
        root: root.to_owned(),
        python: python.to_owned(),
        schemas: options.schemas.clone(),
        jobs: options.jobs,
    };
    step("the verifier's self-test on planted defects", || {
        let rendered = render(binary, &base, &work.join("self-test-base"))?;
        selftest::run(&verifier, &base, &rendered, &work.join("self-test"))
    })?;
    let count = inputs.len();
    let manifest = step(
        &format!("rendering {count} fixtures and samples in every flavor"),
        || render_all(binary, &inputs, &work, options.jobs),
    )?;
    Ok(Prepared {
        verifier,
        manifest,
        work,
        outputs: 3 * count,
    })
}

impl Prepared {
    /// What the verifier's run does, in words.
    fn doing(&self) -> String {
        format!(
            "verifying {} outputs ({} at a time)",
            self.outputs, self.verifier.jobs
        )
    }

    /// The file of every line of the run.
    fn report(&self) -> PathBuf {
        self.work.join("report.txt")
    }

    /// The run's verdict from its exit status.
    fn outcome(&self, status: std::process::ExitStatus) -> Result<()> {
        if !status.success() {
            bail!(
                "the verifier found failures (every line is in {})",
                self.report().display()
            );
        }
        Ok(())
    }

    /// Starts the verifier in the background (quiet: a line per output and the failures).
    pub fn spawn(self) -> Result<Background> {
        let log = self.work.join("progress.txt");
        println!(
            "==> {} in the background; its lines go to {}",
            self.doing(),
            log.display()
        );
        let file = std::fs::File::create(&log)?;
        let child = self
            .verifier
            .command(&self.manifest, &self.report(), true)
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()?;
        Ok(Background {
            child,
            log,
            prepared: self,
            started: std::time::Instant::now(),
        })
    }
}

impl Background {
    /// Waits for the verifier, prints its failures and its summary, and says how long it took.
    pub fn finish(mut self) -> Result<()> {
        let what = self.prepared.doing();
        println!("==> waiting for the verifier ({what})");
        let status = self.child.wait()?;
        let lines = std::fs::read_to_string(&self.log)?;
        let mut shown = false;
        for line in lines.lines() {
            if !line.starts_with("[") {
                println!("{line}");
                shown = true;
            }
        }
        if !shown {
            println!("(the verifier printed nothing)");
        }
        println!(
            "==> {what}: {} in {:.1} s",
            if status.success() { "done" } else { "failed" },
            self.started.elapsed().as_secs_f64()
        );
        self.prepared.outcome(status)
    }
}

/// How to run the Python verifier.
pub struct Verifier {
    root: PathBuf,
    python: PathBuf,
    schemas: PathBuf,
    jobs: usize,
}

impl Verifier {
    /// The command that checks the jobs of `manifest`, writing every line into `report`.
    pub fn command(&self, manifest: &Path, report: &Path, quiet: bool) -> Command {
        let mut command = Command::new(&self.python);
        // -B: no bytecode files in the source tree; -E -s: no PYTHON* variables, no user site.
        command
            .args(["-B", "-E", "-s"])
            .arg(self.root.join("xtask/verifier/verify.py"))
            .arg("--schemas")
            .arg(&self.schemas)
            .arg("--jobs")
            .arg(self.jobs.to_string())
            .arg("--report")
            .arg(report)
            .args(quiet.then_some("--quiet"))
            .arg(manifest);
        command
    }
}

/// The valid fixtures: the directories under `fixtures/` with a `command` file, sorted.
fn fixtures(root: &Path) -> Result<Vec<Input>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("fixtures"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    dirs.retain(|dir| dir.join("command").is_file());
    dirs.sort();
    let mut inputs = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let command = std::fs::read_to_string(dir.join("command"))?;
        let args: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        let resources = resource_files(&args)
            .with_context(|| format!("{name}/command"))?
            .into_iter()
            .map(|file| dir.join(file))
            .collect();
        let mut model = Vec::new();
        if dir.join("cluster-model").is_dir() {
            crate::collect_yaml(&dir.join("cluster-model"), &mut model)?;
        }
        inputs.push(Input {
            name,
            dir,
            args,
            resources,
            model,
        });
    }
    Ok(inputs)
}

/// The resource files among the arguments of `generate`: the words that are neither options
/// nor their values.
fn resource_files(args: &[String]) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if VALUE_OPTIONS.contains(&word.as_str()) {
            words.next();
        } else if word.starts_with('-') {
            bail!("option {word}: tell the verifier whether it takes a value (VALUE_OPTIONS)");
        } else {
            files.push(word.clone());
        }
    }
    Ok(files)
}

/// The operator's samples, the tenant placeholder substituted, copied into `scratch` with a
/// cluster profile (and the hosts of the EdgeConnect samples). The operator refuses
/// `edgeconnect/provisioner.yaml` (a provisioner without host patterns), and so does the tool:
/// it is left out. Operator 1.10 and later refuse `edgeconnect/edgeconnect.yaml` (its OAuth
/// endpoint is no Dynatrace SSO host), earlier releases accept it: it is rendered for 1.9.
fn samples(dir: &Path, scratch: &Path) -> Result<Vec<Input>> {
    if !dir.is_dir() {
        bail!(
            "the operator's samples are missing: expected them in {}",
            dir.display()
        );
    }
    let mut files = Vec::new();
    crate::collect_yaml(dir, &mut files)?;
    std::fs::create_dir_all(scratch)?;
    std::fs::write(scratch.join("cluster.yaml"), SAMPLE_PROFILE)?;
    std::fs::write(scratch.join("hosts.yaml"), SAMPLE_HOSTS)?;
    let mut inputs = Vec::new();
    for file in files {
        let relative = file.strip_prefix(dir)?.to_string_lossy().into_owned();
        if relative == "edgeconnect/provisioner.yaml" {
            continue;
        }
        let copy = scratch.join(relative.replace('/', "_"));
        let text = std::fs::read_to_string(&file)?.replace("ENVIRONMENTID", "abc12345");
        std::fs::write(&copy, text)?;
        let mut args = vec![
            copy.display().to_string(),
            "--fqdn-fallback".into(),
            "public-internet".into(),
            "--cluster".into(),
            "cluster.yaml".into(),
        ];
        if relative.starts_with("edgeconnect/") {
            args.extend(["--hosts".into(), "hosts.yaml".into()]);
        }
        if relative == "edgeconnect/edgeconnect.yaml" {
            args.extend(["--operator-version".into(), "1.9".into()]);
        }
        inputs.push(Input {
            name: format!("operator-samples/{}", relative.trim_end_matches(".yaml")),
            dir: scratch.to_owned(),
            args,
            resources: vec![copy],
            model: Vec::new(),
        });
    }
    Ok(inputs)
}

/// Renders every input on a pool of `workers` threads; returns the verifier's manifest.
fn render_all(binary: &Path, inputs: &[Input], work: &Path, workers: usize) -> Result<PathBuf> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<Rendered>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(index) else {
                        break;
                    };
                    let out = work.join(input.name.replace('/', "_"));
                    let rendered = render(binary, input, &out);
                    results.lock().unwrap().push((index, rendered));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);
    let mut jobs = Vec::new();
    let mut failures = Vec::new();
    for (input, (_, rendered)) in inputs.iter().zip(results) {
        match rendered {
            Ok(rendered) => jobs.extend(rendered.jobs(input)),
            Err(error) => failures.push(format!("{}: {error:#}", input.name)),
        }
    }
    if !failures.is_empty() {
        bail!("rendering failed:\n{}", failures.join("\n"));
    }
    let manifest = work.join("manifest.json");
    std::fs::write(
        &manifest,
        serde_json::to_string_pretty(&json!({ "jobs": jobs }))?,
    )?;
    Ok(manifest)
}

/// Renders one input in every flavor into `out`, and writes the evaluator's case beside them.
pub fn render(binary: &Path, input: &Input, out: &Path) -> Result<Rendered> {
    let rendered = Rendered {
        kubernetes: out.join("kubernetes"),
        cilium: out.join("cilium"),
        cluster_network_policy: out.join("cluster-network-policy"),
        case: out.join("case"),
    };
    for (flavor, dir) in [
        ("kubernetes", &rendered.kubernetes),
        ("cilium", &rendered.cilium),
        ("cluster-network-policy", &rendered.cluster_network_policy),
    ] {
        cli(binary, input, |command| {
            command
                .arg("generate")
                .args(&input.args)
                .args(["--flavor", flavor, "--output-dir"])
                .arg(dir);
        })
        .with_context(|| format!("generate --flavor {flavor}"))?;
    }
    cli(binary, input, |command| {
        command
            .arg("verify")
            .args(&input.args)
            .arg("--policies")
            .arg(&rendered.kubernetes)
            .arg("--write-case")
            .arg(&rendered.case);
        for file in &input.model {
            command.arg("--pods").arg(file);
        }
    })
    .context("verify")?;
    Ok(rendered)
}

/// Runs the CLI in the input's directory with the arguments `arguments` adds; an error holds
/// what it printed.
fn cli(binary: &Path, input: &Input, arguments: impl FnOnce(&mut Command)) -> Result<()> {
    let mut command = Command::new(binary);
    command.current_dir(&input.dir);
    arguments(&mut command);
    let output = command
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "{}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_files_are_the_words_that_are_no_options_or_values() {
        let args: Vec<String> =
            "a.yaml b.yaml --cluster cluster.yaml --hosts h.yaml --proxy-url http://p:1"
                .split(' ')
                .map(str::to_owned)
                .collect();
        assert_eq!(resource_files(&args).unwrap(), ["a.yaml", "b.yaml"]);
        let unknown: Vec<String> = vec!["a.yaml".into(), "--new-flag".into()];
        assert!(resource_files(&unknown).is_err());
    }
}
