//! `cargo xtask bench-verify`: `verify` and `explain` of the release CLI on the largest cluster
//! Kubernetes supports (5,000 nodes, 150,000 pods) with 10,000 NetworkPolicies, 1,000
//! ClusterNetworkPolicies and 1,000 Cilium policies, as a user runs them: the files of
//! `dynakube_netpol::synthetic::large_cluster`, written once into `bench-verify/` of the target
//! directory, read from `kubectl get -o json` dumps (and `-o yaml`, for the record).
//!
//! Each run is measured in a process of its own (`cargo xtask measure`, which runs one
//! command and reads its resource usage with `getrusage(RUSAGE_CHILDREN)`), so that the figures
//! are the command's alone: wall time, CPU time (user and system) and peak resident memory.
//! The machine may be shared, so CPU time and memory are the figures to compare; wall time is
//! the best of the runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dynakube_netpol::synthetic::{Size, large_cluster};

use crate::cargo;

/// What one run of a command used.
#[derive(Debug, Clone, Copy)]
struct Usage {
    /// Wall time, in seconds.
    wall: f64,
    /// User CPU time, in seconds.
    user: f64,
    /// System CPU time, in seconds.
    system: f64,
    /// Peak resident memory, in KiB.
    peak_kib: u64,
}

/// The options of the job.
struct Options {
    runs: usize,
    size: Size,
    nodes: usize,
    yaml: bool,
    verify: bool,
}

/// The largest cluster Kubernetes supports, with 10,000 NetworkPolicies (and so 1,000
/// ClusterNetworkPolicies and 1,000 Cilium policies), in 2,000 namespaces.
const LARGEST: (Size, usize) = (
    Size {
        namespaces: 2_000,
        pods: 150_000,
        policies: 10_000,
    },
    5_000,
);

impl Options {
    fn parse(args: &[&str]) -> Result<Options> {
        let mut options = Options {
            runs: 5,
            size: LARGEST.0,
            nodes: LARGEST.1,
            yaml: true,
            verify: true,
        };
        let mut args = args.iter();
        while let Some(&arg) = args.next() {
            if arg == "--no-yaml" {
                options.yaml = false;
                continue;
            }
            if arg == "--no-verify" {
                options.verify = false;
                continue;
            }
            let value: usize = args
                .next()
                .with_context(|| format!("{arg} needs a number"))?
                .parse()
                .with_context(|| format!("{arg} needs a number"))?;
            let size = &mut options.size;
            match arg {
                "--runs" => options.runs = value.max(1),
                "--nodes" => options.nodes = value,
                "--namespaces" => size.namespaces = value,
                "--pods" => size.pods = value,
                "--policies" => size.policies = value,
                other => bail!("bench-verify: unknown option {other}"),
            }
        }
        Ok(options)
    }
}

/// Builds the release CLI, writes the generated cluster unless it is there, and measures
/// `verify` and `explain` on it.
pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let options = Options::parse(args)?;
    let binary = cargo::build_cli(
        root,
        &["build", "--release", "--package", cargo::CLI_PACKAGE],
    )?;
    let size = &options.size;
    let dir = cargo::metadata(root)?
        .target_dir
        .join("bench-verify")
        .join(format!(
            "{}-nodes-{}-pods-{}-namespaces-{}-policies",
            options.nodes, size.pods, size.namespaces, size.policies,
        ));
    write_inputs(&dir, *size, options.nodes)?;
    let bytes = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
    println!(
        "inputs in {}: cluster.json {} MB, policies.json {} MB",
        dir.display(),
        bytes("cluster.json") / 1_000_000,
        bytes("policies.json") / 1_000_000
    );
    println!(
        "| step | wall (best of {}) | CPU user + system (median) | peak RSS (largest) |",
        options.runs
    );
    println!("| --- | ---: | ---: | ---: |");
    let mut formats = Vec::new();
    if options.verify {
        formats.push("json");
        if options.yaml {
            formats.push("yaml");
        }
    }
    for format in formats {
        let runs = if format == "json" { options.runs } else { 1 };
        let args = verify_args(&dir, format);
        report(
            &format!("verify, -o {format} dumps"),
            &measure_runs(&binary, &args, runs, &[])?,
        );
    }
    explain(&binary, &dir, options.runs)
}

/// `explain` of each question of `explain.txt`: read whole (no cache directory), then with
/// the items found by their bytes (a cache directory, no index kept); then, on a copy of the
/// dump laid out otherwise (`cluster.other-layout.json`), the first question keeping an index
/// of the inputs (in `explain-index/`), and every question answered from the index.
fn explain(binary: &Path, dir: &Path, runs: usize) -> Result<()> {
    let queries = std::fs::read_to_string(dir.join("explain.txt"))?;
    let mut questions = Vec::new();
    for line in queries.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let [from, to, port] = words[..] else {
            bail!("explain.txt: `{line}` is not FROM TO PORT");
        };
        questions.push((
            format!("{from} -> {to} {port}"),
            explain_args(dir, "cluster.json", [from, to, port]),
            explain_args(dir, OTHER_LAYOUT, [from, to, port]),
        ));
    }
    let index = dir.join("explain-index");
    let _ = std::fs::remove_dir_all(&index);
    let whole = [("DYNAKUBE_NETPOL_CACHE_DIR", String::new())];
    let kept = [("DYNAKUBE_NETPOL_CACHE_DIR", index.display().to_string())];
    for (question, args, _) in &questions {
        report(
            &format!("explain {question}, inputs read whole"),
            &measure_runs(binary, args, runs, &whole)?,
        );
    }
    for (question, args, _) in &questions {
        report(
            &format!("explain {question}, items found by their bytes"),
            &measure_runs(binary, args, runs, &kept)?,
        );
    }
    if std::fs::read_dir(&index).map_or(0, Iterator::count) != 0 {
        bail!("explain kept an index of a dump laid out as kubectl prints it");
    }
    write_other_layout(dir)?;
    let (question, _, args) = &questions[0];
    report(
        &format!("explain {question}, dump laid out otherwise, read whole, index kept"),
        &measure_runs(binary, args, 1, &kept)?,
    );
    if std::fs::read_dir(&index).map_or(0, Iterator::count) != 1 {
        // A small dump (under 8 MiB).
        println!("explain kept no index in {}", index.display());
        return Ok(());
    }
    for (question, _, args) in &questions {
        report(
            &format!("explain {question}, dump laid out otherwise, from the index"),
            &measure_runs(binary, args, runs, &kept)?,
        );
    }
    Ok(())
}

/// The dump as a JSON text laid out otherwise than kubectl prints it: its first member on the
/// line of its opening brace.
const OTHER_LAYOUT: &str = "cluster.other-layout.json";

/// Writes [`OTHER_LAYOUT`] into `dir`, unless it is there.
fn write_other_layout(dir: &Path) -> Result<()> {
    let path = dir.join(OTHER_LAYOUT);
    if path.is_file() {
        return Ok(());
    }
    let text = std::fs::read(dir.join("cluster.json"))?;
    let Some(rest) = text.strip_prefix(b"{\n") else {
        bail!("cluster.json does not begin with a line of its own");
    };
    let first = rest.iter().position(|&b| b != b' ').unwrap_or(0);
    let mut other = Vec::with_capacity(text.len());
    other.push(b'{');
    other.extend_from_slice(&rest[first..]);
    let temporary = dir.join(format!("{OTHER_LAYOUT}.tmp"));
    std::fs::write(&temporary, other)?;
    std::fs::rename(&temporary, &path)?;
    // As after writing the inputs: an index is kept only of files older than two seconds.
    std::thread::sleep(std::time::Duration::from_secs(3));
    Ok(())
}

/// Writes the generated files into `dir`, unless they are there (a file `complete` is written
/// last).
fn write_inputs(dir: &Path, size: Size, nodes: usize) -> Result<()> {
    let stamp = dir.join("complete");
    if stamp.is_file() {
        return Ok(());
    }
    println!("==> writing the generated cluster into {}", dir.display());
    let started = Instant::now();
    std::fs::create_dir_all(dir)?;
    for (name, text) in large_cluster(size, nodes, 1) {
        std::fs::write(dir.join(name), text)?;
    }
    std::fs::write(&stamp, format!("{size:?}, {nodes} nodes\n"))?;
    println!("==> written in {:.1} s", started.elapsed().as_secs_f64());
    // `explain` keeps no index of a file modified in the last two seconds (it may still be
    // changing); the runs that keep one must not find the files that new.
    std::thread::sleep(std::time::Duration::from_secs(3));
    Ok(())
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn verify_args(dir: &Path, format: &str) -> Vec<String> {
    let mut args: Vec<String> = vec!["verify".into(), path(dir, "dynakube.yaml")];
    for (option, file) in [
        ("--cluster", "cluster-profile.yaml".to_string()),
        ("--hosts", "hosts.yaml".into()),
        ("--policies", format!("policies.{format}")),
        ("--pods", format!("cluster.{format}")),
    ] {
        args.extend([option.to_string(), path(dir, &file)]);
    }
    args.extend(["--network-plugin", "cilium"].map(String::from));
    args
}

fn explain_args(dir: &Path, dump: &str, [from, to, port]: [&str; 3]) -> Vec<String> {
    let mut args: Vec<String> = vec!["explain".into()];
    args.extend(["--policies".into(), path(dir, "policies.json")]);
    args.extend(["--pods".into(), path(dir, dump)]);
    for (option, value) in [("--from", from), ("--to", to), ("--port", port)] {
        args.extend([option.to_string(), value.to_string()]);
    }
    args.extend(["--network-plugin", "cilium"].map(String::from));
    args
}

/// Runs `binary args` `runs` times, each in a measuring process of its own, with the
/// environment variables `env`.
fn measure_runs(
    binary: &Path,
    args: &[String],
    runs: usize,
    env: &[(&str, String)],
) -> Result<Vec<Usage>> {
    let xtask = std::env::current_exe()?;
    (0..runs)
        .map(|_| {
            let output = Command::new(&xtask)
                .envs(env.iter().map(|(name, value)| (name, value)))
                .arg("measure")
                .arg(binary)
                .args(args)
                .stderr(Stdio::inherit())
                .output()?;
            if !output.status.success() {
                bail!("{} {} failed", binary.display(), args.join(" "));
            }
            parse_usage(&String::from_utf8_lossy(&output.stdout))
        })
        .collect()
}

/// Prints a row of the table: the best wall time, the median CPU time, the largest peak.
fn report(step: &str, runs: &[Usage]) {
    let wall = runs.iter().map(|u| u.wall).fold(f64::INFINITY, f64::min);
    let mut cpu: Vec<f64> = runs.iter().map(|u| u.user + u.system).collect();
    cpu.sort_by(f64::total_cmp);
    let median = cpu[cpu.len() / 2];
    let (user, system) = runs
        .iter()
        .find(|u| u.user + u.system == median)
        .map_or((0.0, 0.0), |u| (u.user, u.system));
    let peak = runs.iter().map(|u| u.peak_kib).max().unwrap_or(0);
    println!(
        "| {step} | {} | {} ({} + {}) | {} MB |",
        seconds(wall),
        seconds(median),
        seconds(user),
        seconds(system),
        peak * 1024 / 1_000_000
    );
}

/// `0.84 s`, or `73 ms` below a second.
fn seconds(value: f64) -> String {
    if value < 1.0 {
        format!("{:.0} ms", value * 1000.0)
    } else {
        format!("{value:.2} s")
    }
}

/// Reads what `measure` printed: `wall user system peak_kib`.
fn parse_usage(text: &str) -> Result<Usage> {
    let numbers: Vec<f64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("measure printed `{text}`"))?;
    let [wall, user, system, peak] = numbers[..] else {
        bail!("measure printed `{text}`");
    };
    Ok(Usage {
        wall,
        user,
        system,
        peak_kib: peak as u64,
    })
}

/// `cargo xtask measure COMMAND [ARG...]`: runs the command with its standard output
/// discarded, and prints its wall time, user and system CPU time (seconds) and peak resident
/// memory (KiB). Exit statuses 0 and 1 (a verification that fails, a connection denied) are
/// runs; any other fails.
pub fn measure(command: &[&str]) -> Result<()> {
    let [program, args @ ..] = command else {
        bail!("usage: cargo xtask measure COMMAND [ARG...]");
    };
    // A run that goes astray must not take the shared machine's memory: 8 GiB of address space.
    let limit = 8 << 30;
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, limit, limit)?;
    let started = Instant::now();
    let status = Command::new(PathBuf::from(program))
        .args(args)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    let wall = started.elapsed().as_secs_f64();
    if !matches!(status.code(), Some(0 | 1)) {
        bail!("{program} {}: {status}", args.join(" "));
    }
    // This process has no other child: the usage of its children is the command's.
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?;
    let time = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    println!(
        "{wall:.4} {:.4} {:.4} {}",
        time(usage.user_time()),
        time(usage.system_time()),
        usage.max_rss()
    );
    Ok(())
}
