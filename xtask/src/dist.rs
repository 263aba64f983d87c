//! `cargo xtask dist [--profile PROFILE] [--target TRIPLE]`: builds the CLI (profile `release`
//! unless named) and writes its release archive, laid out as [`xtask::archive`] says, into
//! `dist/` of cargo's target directory (`CARGO_TARGET_DIR` and the cargo configuration
//! honoured), with a `.sha256` file beside it.
//!
//! The target directory and the CLI's version come from `cargo metadata`, the binary's path from
//! the build's own messages (`--message-format json`): nothing assumes `target/release`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use xtask::archive::{self, NAME, Release};

/// The package of the binary.
const PACKAGE: &str = "dynakube-netpol-cli";

/// Builds the binary and writes the archive.
pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let (profile, target) = options(args)?;
    let (target_dir, version) = metadata(root)?;
    let binary = build(root, &profile, target.as_deref())?;
    let target = match target {
        Some(target) => target,
        None => built_for(&target_dir, &binary)?,
    };
    let release = Release {
        root,
        binary: &binary,
        version: &version,
        target: &target,
        profile: &profile,
    };
    let archive = archive::write(&release, &target_dir.join("dist"))?;
    let size = std::fs::metadata(&archive)?.len();
    println!(
        "wrote {} ({:.1} MB) and its .sha256",
        archive.display(),
        size as f64 / 1e6
    );
    Ok(())
}

/// The profile (default `release`) and target of `--profile P` and `--target T`.
fn options(args: &[&str]) -> Result<(String, Option<String>)> {
    let (mut profile, mut target) = ("release".to_owned(), None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let slot = match *arg {
            "--profile" => &mut profile,
            "--target" => target.insert(String::new()),
            _ => bail!("usage: cargo xtask dist [--profile PROFILE] [--target TRIPLE]"),
        };
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        (*value).clone_into(slot);
    }
    Ok((profile, target))
}

/// Cargo's target directory and the CLI's version.
fn metadata(root: &Path) -> Result<(PathBuf, String)> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        bail!("cargo metadata failed");
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata printed no JSON")?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .context("cargo metadata names no target directory")?;
    let version = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == PACKAGE)
        .and_then(|package| package["version"].as_str())
        .with_context(|| format!("cargo metadata lists no {PACKAGE}"))?;
    Ok((PathBuf::from(target_dir), version.to_owned()))
}

/// Builds the binary; its path, as cargo reports it.
fn build(root: &Path, profile: &str, target: Option<&str>) -> Result<PathBuf> {
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["build", "--locked", "--package", PACKAGE, "--bin", NAME])
        .args(["--profile", profile])
        .args(["--message-format", "json-render-diagnostics"]);
    if let Some(target) = target {
        command.args(["--target", target]);
    }
    let output = command
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        bail!("building the CLI failed");
    }
    executable(&String::from_utf8_lossy(&output.stdout))
        .context("cargo reported no executable of the CLI")
}

/// The executable of the binary `dynakube-netpol` among cargo's JSON messages.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == NAME
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bin"))
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
}

/// The target `binary` was built for: the directory under `target_dir` that cargo names after
/// it (`<target-dir>/<triple>/<profile>/…`), else the host.
fn built_for(target_dir: &Path, binary: &Path) -> Result<String> {
    let relative = binary.strip_prefix(target_dir).with_context(|| {
        format!(
            "{} is not under the target directory {}",
            binary.display(),
            target_dir.display()
        )
    })?;
    let parts: Vec<_> = relative.components().collect();
    match parts.as_slice() {
        [triple, _profile, _binary] => Ok(triple.as_os_str().to_string_lossy().into_owned()),
        _ => archive::host_target(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_comes_from_the_binarys_artifact_message() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"dynakube-netpol","kind":["lib"]},"executable":null}
{"reason":"build-finished","success":true}
{"reason":"compiler-artifact","target":{"name":"dynakube-netpol","kind":["bin"]},"executable":"/t/x/release/dynakube-netpol"}"#;
        assert_eq!(
            executable(messages),
            Some(PathBuf::from("/t/x/release/dynakube-netpol"))
        );
        assert_eq!(executable(r#"{"reason":"build-finished"}"#), None);
    }

    #[test]
    fn a_cross_build_is_named_by_its_directory() {
        let target = built_for(
            Path::new("/t"),
            Path::new("/t/aarch64-unknown-linux-musl/release/dynakube-netpol"),
        )
        .unwrap();
        assert_eq!(target, "aarch64-unknown-linux-musl");
        assert!(built_for(Path::new("/t"), Path::new("/elsewhere/dynakube-netpol")).is_err());
    }

    #[test]
    fn options_take_a_profile_and_a_target() {
        assert_eq!(options(&[]).unwrap(), ("release".to_owned(), None));
        assert_eq!(
            options(&["--target", "x", "--profile", "dev"]).unwrap(),
            ("dev".to_owned(), Some("x".to_owned()))
        );
        assert!(options(&["--profile"]).is_err());
        assert!(options(&["--release", "x"]).is_err());
    }
}
