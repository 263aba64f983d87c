//! How a run ends: the exit statuses of every subcommand, named once (the table of docs/cli.md
//! lists them), and standard output written through one place.
//!
//! Decisions on standard output: a reader that stops reading (`generate | head -1`) ends the
//! output, not the run: nothing more is written, no message is printed, and the exit status is
//! the run's own (0 for `generate`, as ripgrep and other Rust tools exit; `verify` still exits
//! 1 when a flow is denied, so that a pipeline with `pipefail` does not pass a failed check). A
//! closed standard output (`>&-`) or one that fails (`>/dev/full`) is an error, exit 2: the
//! policies would be written nowhere.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Success; for `--check`, `verify` and `audit` also: nothing found; for `explain`: the
/// connection is allowed; for `diff`: both sets allow the same connections.
pub const SUCCESS: u8 = 0;
/// A check that ran found what it checks for: `--check` a stale directory or lock, `verify` a
/// denied flow or a `--fail-on` finding, `audit` a pod that needs attention, `zone-plan --apply`
/// a request that failed, the KRM function a result of severity error, `explain` a connection
/// denied (or left undefined), `diff` a change (with `--fail-on widened`, a connection newly
/// allowed).
pub const FAILED: u8 = 1;
/// Invalid input or options (clap's usage errors too), a failed read or write, or DNS that
/// did not answer: nothing is written then.
pub const INVALID: u8 = 2;

/// The exit code of `status`.
pub fn code(status: u8) -> ExitCode {
    ExitCode::from(status)
}

/// Set when standard output was closed when the run started.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once the reader of standard output has gone away.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// Notes whether standard output was closed when the run started. Before `main`, the Rust
/// runtime opens `/dev/null` in place of a closed standard stream (so that no file opened
/// later takes its number), for reading and writing; a shell or a parent process that sends
/// standard output to `/dev/null` opens it for writing only. So standard output on
/// `/dev/null` open for both means it was closed (or opened with `1<>/dev/null`, which no one
/// does to keep the output). Call first.
pub fn note_closed_stdout() {
    #[cfg(unix)]
    {
        use rustix::fs::{FileType, OFlags, fcntl_getfl, fstat, stat};
        let stdout = std::io::stdout();
        let both = fcntl_getfl(&stdout)
            .is_ok_and(|flags| flags.intersection(OFlags::RWMODE) == OFlags::RDWR);
        let null = match (fstat(&stdout), stat("/dev/null")) {
            (Ok(out), Ok(null)) => {
                FileType::from_raw_mode(out.st_mode) == FileType::CharacterDevice
                    && out.st_rdev == null.st_rdev
            }
            _ => false,
        };
        CLOSED.store(both && null, Ordering::Relaxed);
    }
}

/// Writes `bytes` to standard output and flushes it: an error when standard output is closed
/// or fails; nothing (and no error) once its reader has gone away.
pub fn write(bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        anyhow::bail!("cannot write to standard output: it is closed");
    }
    if READER_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(bytes.as_ref())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            READER_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => anyhow::bail!(
            "cannot write to standard output: {}",
            without_error_number(&e.to_string())
        ),
    }
}

/// Whether the reader of standard output has gone away (nothing more reaches it).
pub fn reader_gone() -> bool {
    READER_GONE.load(Ordering::Relaxed)
}

/// The system's explanation without the error number Rust appends ("No space left on device",
/// not "... (os error 28)").
fn without_error_number(reason: &str) -> &str {
    reason
        .rfind(" (os error ")
        .map_or(reason, |end| &reason[..end])
}

/// `print!` and `println!`, which some places still use, panic when standard output fails.
/// This hook ends such a run as [`write`] would have: quietly with 0 when the reader went
/// away, else with the error and [`INVALID`]. Other panics are left to the default hook.
pub fn on_print_failure() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if let Some(reason) = message.strip_prefix("failed printing to stdout: ") {
            if reason.starts_with("Broken pipe") {
                std::process::exit(i32::from(SUCCESS));
            }
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to standard output: {}",
                without_error_number(reason)
            );
            std::process::exit(i32::from(INVALID));
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The statuses of each subcommand (as the table of docs/cli.md names it, and by its words on
    /// the command line).
    const BY_SUBCOMMAND: [(&str, &str, &[u8]); 14] = [
        ("`generate`", "generate", &[SUCCESS, FAILED, INVALID]),
        ("`verify`", "verify", &[SUCCESS, FAILED, INVALID]),
        ("`explain`", "explain", &[SUCCESS, FAILED, INVALID]),
        ("`diff`", "diff", &[SUCCESS, FAILED, INVALID]),
        ("`profile`", "profile", &[SUCCESS, INVALID]),
        ("`audit`", "audit", &[SUCCESS, FAILED, INVALID]),
        ("`zone-plan`", "zone-plan", &[SUCCESS, FAILED, INVALID]),
        ("`lock`", "lock", &[SUCCESS, FAILED, INVALID]),
        ("`matrix`", "matrix", &[SUCCESS, INVALID]),
        (
            "`helm-post-render`",
            "helm-post-render",
            &[SUCCESS, INVALID],
        ),
        ("`krm`", "krm", &[SUCCESS, FAILED, INVALID]),
        (
            "kustomize transformer (`NetworkPolicyGenerator`)",
            "kustomize-transformer",
            &[SUCCESS, INVALID],
        ),
        ("`completions`", "completions", &[SUCCESS, INVALID]),
        ("`plugins install`", "plugins install", &[SUCCESS, INVALID]),
    ];

    /// Every subcommand that runs (not one that only holds others), by its words.
    fn leaves(command: &clap::Command, words: &str) -> Vec<String> {
        if command.get_subcommands().count() == 0 {
            return vec![words.trim_start().to_owned()];
        }
        command
            .get_subcommands()
            .flat_map(|sub| leaves(sub, &format!("{words} {}", sub.get_name())))
            .collect()
    }

    /// The single-digit numbers of `text`, as statuses.
    fn statuses(text: &str) -> Vec<u8> {
        let mut found: Vec<u8> = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| n.len() == 1)
            .filter_map(|n| n.parse().ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    #[test]
    fn help_texts_and_the_documented_table_agree() {
        let readme = include_str!("../../../docs/cli.md");
        let table = &readme[readme
            .find("| Subcommand | 0 | 1 | 2 |")
            .expect("the table")..];
        let command = crate::Cli::command();
        for (row, name, expected) in BY_SUBCOMMAND {
            let line = table
                .lines()
                .find(|l| l.starts_with(&format!("| {row} |")))
                .unwrap_or_else(|| panic!("no row for {row}"));
            let cells: Vec<&str> = line.split(" | ").skip(1).collect();
            let listed: Vec<u8> = (0..3u8)
                .filter(|i| {
                    cells
                        .get(usize::from(*i))
                        .is_some_and(|c| !c.starts_with('—'))
                })
                .collect();
            assert_eq!(listed, expected, "docs/cli.md row {row}");

            let sub = name
                .split(' ')
                .try_fold(&command, |command, word| command.find_subcommand(word))
                .unwrap_or_else(|| panic!("no subcommand {name}"));
            let help = sub.get_long_about().expect("a long help").to_string();
            let paragraph = help
                .split("\n\n")
                .find(|p| p.starts_with("Exit status:"))
                .unwrap_or_else(|| panic!("{name}: no exit status in its help"));
            assert_eq!(statuses(paragraph), expected, "{name}: {paragraph}");
        }
        let documented: Vec<&str> = BY_SUBCOMMAND.iter().map(|(_, name, _)| *name).collect();
        for sub in leaves(&command, "").into_iter().filter(|s| s != "man") {
            assert!(
                documented.contains(&sub.as_str()),
                "{sub} has no row in the table of docs/cli.md"
            );
        }
    }
}
