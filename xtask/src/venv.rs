//! The verifier's Python environment: `target/verifier-venv`, made from
//! `xtask/verifier/requirements.txt` (every package pinned by version and SHA-256) and made anew
//! whenever that file changes.
//!
//! `python3 -m venv` makes it (or the interpreter `DYNAKUBE_NETPOL_PYTHON` names), then its pip
//! installs the pinned files with `--require-hashes --no-deps` and without a download cache, so
//! that nothing is written outside the target directory. A stamp file holding the SHA-256 of the
//! requirements is written last: an environment without a matching stamp is incomplete or stale,
//! and is removed and made again.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The requirements file, from the workspace root.
pub const REQUIREMENTS: &str = "xtask/verifier/requirements.txt";
/// The environment's directory name under the target directory.
const NAME: &str = "verifier-venv";
/// The stamp file inside the environment.
const STAMP: &str = "requirements.sha256";

/// The environment's Python, made or remade first unless it is up to date.
pub fn ensure(root: &Path, target: &Path) -> Result<PathBuf> {
    let requirements = std::fs::read(root.join(REQUIREMENTS))
        .with_context(|| format!("reading {REQUIREMENTS}"))?;
    let digest: String = Sha256::digest(&requirements)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = target.join(NAME);
    let python = dir.join("bin/python");
    let stamp = std::fs::read_to_string(dir.join(STAMP)).unwrap_or_default();
    if python.is_file() && stamp.trim() == digest {
        return Ok(python);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let interpreter =
        std::env::var_os("DYNAKUBE_NETPOL_PYTHON").unwrap_or_else(|| "python3".into());
    run(
        Command::new(&interpreter).args(["-m", "venv"]).arg(&dir),
        "making the verifier's Python environment (is Python 3 with venv installed?)",
    )?;
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args([
                "--no-input",
                "--no-cache-dir",
                "--require-hashes",
                "--no-deps",
            ])
            .arg("--requirement")
            .arg(root.join(REQUIREMENTS)),
        "installing the verifier's packages",
    )?;
    std::fs::write(dir.join(STAMP), format!("{digest}\n"))?;
    Ok(python)
}

/// Runs `command`; a failure says what was being done.
fn run(command: &mut Command, doing: &str) -> Result<()> {
    let status = command.status().with_context(|| doing.to_owned())?;
    if !status.success() {
        bail!("{doing} failed ({status})");
    }
    Ok(())
}
