//! `completions` and the hidden `man`: shell completion scripts and man pages, from the clap
//! definition.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use dynakube_netpol::output;

use crate::{Cli, exit};

/// `script` with the words `hidden` left out of its candidate lists (`opts="…"`).
fn without_hidden(script: &str, hidden: &[String]) -> String {
    let mut out = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        match line.trim_start().strip_prefix("opts=\"").and_then(|rest| {
            rest.trim_end()
                .strip_suffix('"')
                .map(|words| (words, &line[line.trim_end().len()..]))
        }) {
            Some((words, end)) => {
                let kept: Vec<&str> = words
                    .split(' ')
                    .filter(|w| !hidden.iter().any(|h| h == w))
                    .collect();
                out.push_str(&line[..indent]);
                out.push_str(&format!("opts=\"{}\"{end}", kept.join(" ")));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `completions SHELL`: the script clap_complete writes, repaired for bash.
pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "dynakube-netpol", &mut script);
    let mut script = String::from_utf8(script).context("the completion script")?;
    if shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 names the case labels of a hyphenated binary's subcommands
        // differently from the variable it matches them against (`dynakube__subcmd__netpol__…`
        // against `dynakube__netpol__…`), so no option of a subcommand would complete; the
        // test of bash completion catches it.
        script = script.replace("dynakube__subcmd__netpol", "dynakube__netpol");
        // It also offers hidden subcommands (the kustomize plugin's entry, the man page
        // writer), which --help leaves out.
        let hidden: Vec<String> = command
            .get_subcommands()
            .filter(|s| s.is_hide_set())
            .map(|s| s.get_name().to_owned())
            .collect();
        script = without_hidden(&script, &hidden);
    }
    exit::write(script)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the man page of `command` and of each visible subcommand, at every level, into `dir`
/// (`dynakube-netpol-plugins-install.1` for `plugins install`).
pub(crate) fn write_man_pages(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_man_page(
        command.version(env!("CARGO_PKG_VERSION")),
        "dynakube-netpol",
        dir,
    )
}

/// Writes the man page of `command` as `name` into `dir`, then those of its subcommands.
fn write_man_page(command: clap::Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        // clap's own `help` subcommand exists once the command is built, not here.
        let sub = sub.clone().version(env!("CARGO_PKG_VERSION"));
        let sub_name = format!("{name}-{}", sub.get_name());
        write_man_page(sub, &sub_name, dir)?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command.name(name.to_owned()))
        .render(&mut page)
        .context("cannot render the man page")?;
    let page = String::from_utf8(page).context("the man page")?;
    Ok(output::write_file(&dir.join(format!("{name}.1")), &page)?)
}
