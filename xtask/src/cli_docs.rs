//! `cargo xtask cli-docs [--check]`: the shell completions and man pages of the CLI, generated
//! from its clap definition (the binary's `completions` and `man` subcommands) into
//! `crates/dynakube-netpol-cli/share/`, where packagers, the release archive and the README find
//! them, each marked as generated ([`crate::generated`]). The CLI's test
//! `completions_and_man_pages_are_fresh` checks them through [`changes`] with its own build.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::generated::{self, Change, Syntax};

/// Where the generated files live, from the workspace root.
pub const SHARE_DIR: &str = "crates/dynakube-netpol-cli/share";

/// The command that writes them.
pub const COMMAND: &str = "cargo xtask cli-docs";

/// A completion script: the shell, its file under `share/completions/`, where an installation
/// prefix keeps it (the release archive's path), and how it is marked.
pub struct Completion {
    /// The shell, as `dynakube-netpol completions` names it.
    pub shell: &'static str,
    /// The file under `share/completions/`.
    pub file: &'static str,
    /// Its path under an installation prefix.
    pub installed: &'static str,
    /// Where its mark goes.
    syntax: Syntax,
}

/// Every completion script.
pub const COMPLETIONS: [Completion; 4] = [
    Completion {
        shell: "bash",
        file: "dynakube-netpol.bash",
        installed: "share/bash-completion/completions/dynakube-netpol",
        syntax: Syntax::Hash,
    },
    Completion {
        shell: "zsh",
        file: "_dynakube-netpol",
        installed: "share/zsh/site-functions/_dynakube-netpol",
        syntax: Syntax::Zsh,
    },
    Completion {
        shell: "fish",
        file: "dynakube-netpol.fish",
        installed: "share/fish/vendor_completions.d/dynakube-netpol.fish",
        syntax: Syntax::Hash,
    },
    Completion {
        shell: "powershell",
        file: "_dynakube-netpol.ps1",
        installed: "share/powershell/_dynakube-netpol.ps1",
        syntax: Syntax::Hash,
    },
];

/// The changes that make `share/` under `root` what the CLI `binary` generates: a file for
/// each completion script and man page, and the removal of any other file there. The man pages
/// are written into `scratch` first (emptied).
pub fn changes(root: &Path, binary: &Path, scratch: &Path) -> Result<Vec<Change>> {
    let mut fresh = Vec::new();
    for completion in &COMPLETIONS {
        let output = Command::new(binary)
            .args(["completions", completion.shell])
            .output()
            .with_context(|| format!("running {}", binary.display()))?;
        if !output.status.success() {
            bail!("`dynakube-netpol completions {}` failed", completion.shell);
        }
        let script = String::from_utf8(output.stdout).context("a completion script")?;
        fresh.push((
            format!("completions/{}", completion.file),
            generated::mark(completion.syntax, COMMAND, &script),
        ));
    }
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch)?;
    let status = Command::new(binary).arg("man").arg(scratch).status()?;
    if !status.success() {
        bail!("`dynakube-netpol man` failed");
    }
    for page in sorted_names(scratch)? {
        let text = std::fs::read_to_string(scratch.join(&page))
            .with_context(|| format!("reading the man page {page}"))?;
        let marked = generated::mark(Syntax::Roff, COMMAND, &text);
        fresh.push((format!("man/{page}"), marked));
    }
    let mut changes = Vec::new();
    for sub in ["completions", "man"] {
        for name in sorted_names(&root.join(SHARE_DIR).join(sub)).unwrap_or_default() {
            let file = format!("{sub}/{name}");
            if !fresh.iter().any(|(generated, _)| *generated == file) {
                changes.push(Change::removal(root, format!("{SHARE_DIR}/{file}")));
            }
        }
    }
    for (file, text) in fresh {
        changes.extend(Change::of(root, format!("{SHARE_DIR}/{file}"), text));
    }
    Ok(changes)
}

/// The names of the files in `dir`, sorted.
fn sorted_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}
