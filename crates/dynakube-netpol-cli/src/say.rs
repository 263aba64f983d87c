//! What the command line says besides its output: notes and warnings on standard error as
//! `--quiet` (`-q` warnings and errors, `-qq` errors) and `--verbose` ask, the closing summary
//! of `generate`, and the report formats subcommands share.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::ValueEnum;
use dynakube_netpol::matrix::{Level, Note};

use crate::{Cli, style};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A table for people.
    Text,
    /// JSON for tools.
    Json,
}

/// The formats of a check's report (`verify`, `audit`, `generate --check`): [`Format`]'s, and
/// those CI systems read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// For people.
    Text,
    /// JSON for tools.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, for the test reports of CI systems.
    Junit,
    /// Markdown, for a pull-request comment.
    Markdown,
}

impl ReportFormat {
    /// The library's format.
    pub(crate) fn format(self) -> dynakube_netpol::ci::Format {
        use dynakube_netpol::ci::Format;
        match self {
            ReportFormat::Text => Format::Text,
            ReportFormat::Json => Format::Json,
            ReportFormat::Sarif => Format::Sarif,
            ReportFormat::Junit => Format::Junit,
            ReportFormat::Markdown => Format::Markdown,
        }
    }
}

/// How much goes to standard error besides errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verbosity {
    /// `-qq`: errors only.
    Errors,
    /// `-q`: warnings too.
    Warnings,
    /// The default: notes and the closing summary too.
    Notes,
    /// `-v`: what was read and skipped too.
    Verbose,
}

/// The [`Verbosity`] of this run, as its number.
static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Notes as u8);

fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Errors,
        1 => Verbosity::Warnings,
        2 => Verbosity::Notes,
        _ => Verbosity::Verbose,
    }
}

pub(crate) fn set_verbosity(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (0, true) => Verbosity::Verbose,
        (0, false) => Verbosity::Notes,
        (1, _) => Verbosity::Warnings,
        _ => Verbosity::Errors,
    };
    VERBOSITY.store(level as u8, Ordering::Relaxed);
}

/// Whether notes of `level` go to standard error.
fn shown(level: Level) -> bool {
    match level {
        Level::Warning => verbosity() >= Verbosity::Warnings,
        Level::Info => verbosity() >= Verbosity::Notes,
    }
}

/// Prints the notes on standard error in the command line's words, as `--quiet` asks.
pub(crate) fn print_notes<'a>(notes: impl IntoIterator<Item = &'a Note>) {
    print_notes_in(notes, &crate::words::Flags);
}

/// Prints the notes on standard error in `words`: warnings unless `-qq`, notes unless `-q`.
pub(crate) fn print_notes_in<'a>(
    notes: impl IntoIterator<Item = &'a Note>,
    words: &dyn dynakube_netpol::advice::Words,
) {
    // anstream strips the colour for a non-terminal or with NO_COLOR.
    let mut stderr = anstream::stderr().lock();
    for note in notes.into_iter().filter(|n| shown(n.level)) {
        let _ = writeln!(stderr, "{}", style::note(note, words));
    }
    let _ = stderr.flush();
}

/// The closing line of a run that wrote policies: what was written, then how many warnings
/// and notes were said (and how many were left out for acknowledged rows); not with
/// `--quiet`.
pub(crate) fn summary(written: &str, notes: &[Note], acknowledged: usize) {
    if verbosity() < Verbosity::Notes {
        return;
    }
    let count = |level| notes.iter().filter(|n| n.level == level).count();
    let mut line = format!(
        "{written}; {}, {}",
        counted(count(Level::Warning), "warning", "warnings"),
        counted(count(Level::Info), "note", "notes")
    );
    if acknowledged > 0 {
        line.push_str(&format!(
            " ({} on acknowledged rows left out)",
            counted(acknowledged, "note", "notes")
        ));
    }
    eprintln!("{line}");
}

/// `count` things, `one` or `many`: `1 warning`, `2 warnings`, `0 notes`.
pub(crate) fn counted(count: usize, one: &str, many: &str) -> String {
    match count {
        1 => format!("1 {one}"),
        _ => format!("{count} {many}"),
    }
}

/// Says that another run holds the write lock `held`, and that this run waits for it (unless
/// --quiet).
pub(crate) fn waiting(held: &Path) {
    if verbosity() >= Verbosity::Notes {
        eprintln!(
            "waiting for another dynakube-netpol run to finish writing (it holds {})",
            held.display()
        );
    }
}

/// Prints a line of progress on standard error with --verbose.
pub(crate) fn verbose(line: impl FnOnce() -> String) {
    if verbosity() >= Verbosity::Verbose {
        eprintln!("{}", line());
    }
}
