//! What the jobs ask cargo: the target directory and a package's version (`cargo metadata`), and
//! the CLI a build made, as the build's own messages name it (`--message-format json`). No job
//! assumes `target/debug` or `target/release`: `CARGO_TARGET_DIR`, cargo's configuration,
//! profiles and `--target` are honoured, and a stale binary is never picked up.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The CLI's package.
pub const CLI_PACKAGE: &str = "dynakube-netpol-cli";

/// What `cargo metadata` says of the workspace.
pub struct Metadata {
    /// Cargo's target directory.
    pub target_dir: PathBuf,
    /// The CLI's version.
    pub cli_version: String,
}

/// `cargo metadata` of the workspace at `root`.
pub fn metadata(root: &Path) -> Result<Metadata> {
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
    let cli_version = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == CLI_PACKAGE)
        .and_then(|package| package["version"].as_str())
        .with_context(|| format!("cargo metadata lists no {CLI_PACKAGE}"))?;
    Ok(Metadata {
        target_dir: PathBuf::from(target_dir),
        cli_version: cli_version.to_owned(),
    })
}

/// Runs the cargo command `args` (such as `build --package dynakube-netpol-cli`, or `test
/// --workspace --no-run`) and returns the CLI binary it built, as cargo's build messages name it.
pub fn build_cli(root: &Path, args: &[&str]) -> Result<PathBuf> {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .args(["--locked", "--message-format", "json-render-diagnostics"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    executable(&String::from_utf8_lossy(&output.stdout))
        .with_context(|| format!("cargo {} built no dynakube-netpol binary", args.join(" ")))
}

/// The executable of the binary `dynakube-netpol` among cargo's JSON messages: the binary
/// itself, not the test harness of its unit tests.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == xtask::archive::NAME
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bin"))
                && message["profile"]["test"] != true
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_comes_from_the_binarys_artifact_message() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"dynakube-netpol","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"dynakube-netpol","kind":["bin"]},"profile":{"test":true},"executable":"/t/x/debug/deps/dynakube_netpol-0a1b"}
{"reason":"build-finished","success":true}
{"reason":"compiler-artifact","target":{"name":"dynakube-netpol","kind":["bin"]},"profile":{"test":false},"executable":"/t/x/release/dynakube-netpol"}"#;
        assert_eq!(
            executable(messages),
            Some(PathBuf::from("/t/x/release/dynakube-netpol"))
        );
        assert_eq!(executable(r#"{"reason":"build-finished"}"#), None);
    }
}
