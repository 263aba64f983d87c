//! `cargo xtask dist [--profile PROFILE] [--target TRIPLE]`: builds the CLI (profile `release`
//! unless named) and writes its release archive, laid out as [`xtask::archive`] says, into
//! `dist/` of cargo's target directory (`CARGO_TARGET_DIR` and the cargo configuration
//! honoured), with a `.sha256` file beside it.
//!
//! The target directory and the CLI's version come from `cargo metadata`, the binary's path from
//! the build's own messages (see the `cargo` module): nothing assumes `target/release`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xtask::archive::{self, NAME, Release};

use crate::cargo::CLI_PACKAGE as PACKAGE;

/// Builds the binary and writes the archive.
pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let (profile, target) = options(args)?;
    let crate::cargo::Metadata {
        target_dir,
        cli_version: version,
    } = crate::cargo::metadata(root)?;
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

/// Builds the binary; its path, as cargo reports it.
fn build(root: &Path, profile: &str, target: Option<&str>) -> Result<PathBuf> {
    let mut args = vec![
        "build",
        "--package",
        PACKAGE,
        "--bin",
        NAME,
        "--profile",
        profile,
    ];
    if let Some(target) = target {
        args.extend(["--target", target]);
    }
    crate::cargo::build_cli(root, &args)
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
