//! `cargo xtask cli-docs [--check]`: the shell completions and man pages of the CLI, generated
//! from its clap definition (the binary's `completions` and `man` subcommands) into
//! `crates/dynakube-netpol-cli/share/`, where packagers and the README find them. A test of the
//! CLI crate checks they are fresh.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where the generated files live, from the workspace root.
pub const SHARE_DIR: &str = "crates/dynakube-netpol-cli/share";

/// Each shell and the file name its completion script is installed under.
pub const COMPLETIONS: [(&str, &str); 4] = [
    ("bash", "dynakube-netpol.bash"),
    ("zsh", "_dynakube-netpol"),
    ("fish", "dynakube-netpol.fish"),
    ("powershell", "_dynakube-netpol.ps1"),
];

/// Generates every file into a fresh directory and writes it over `share/` (or, with `check`,
/// fails naming the stale files).
pub fn run(root: &Path, check: bool) -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--locked", "-p", "dynakube-netpol-cli"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("building the CLI failed");
    }
    let binary = root.join("target/debug/dynakube-netpol");
    let fresh = root.join("target/cli-docs");
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(fresh.join("completions"))?;
    for (shell, file) in COMPLETIONS {
        let output = Command::new(&binary)
            .args(["completions", shell])
            .output()?;
        if !output.status.success() {
            bail!("`dynakube-netpol completions {shell}` failed");
        }
        std::fs::write(fresh.join("completions").join(file), output.stdout)?;
    }
    let status = Command::new(&binary)
        .arg("man")
        .arg(fresh.join("man"))
        .status()?;
    if !status.success() {
        bail!("`dynakube-netpol man` failed");
    }
    let share = root.join(SHARE_DIR);
    let mut stale = Vec::new();
    for sub in ["completions", "man"] {
        for entry in std::fs::read_dir(fresh.join(sub))? {
            let name = entry?.file_name();
            let new = std::fs::read(fresh.join(sub).join(&name))?;
            let target = share.join(sub).join(&name);
            if std::fs::read(&target).ok().as_ref() != Some(&new) {
                stale.push(target.strip_prefix(root)?.display().to_string());
                if !check {
                    std::fs::create_dir_all(share.join(sub))?;
                    std::fs::write(&target, new)
                        .with_context(|| format!("writing {}", target.display()))?;
                }
            }
        }
    }
    match (stale.is_empty(), check) {
        (true, _) => Ok(()),
        (false, true) => bail!("stale: {}; run `cargo xtask cli-docs`", stale.join(", ")),
        (false, false) => {
            println!("updated {}", stale.join(", "));
            Ok(())
        }
    }
}
