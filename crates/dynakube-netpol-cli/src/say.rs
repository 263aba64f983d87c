//! What the command line says besides its output: notes and warnings on standard error as
//! `--quiet` and `--verbose` ask, and the report formats subcommands share.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::ValueEnum;
use dynakube_netpol::matrix::Note;

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

/// How much goes to standard error besides errors: 0 quiet, 1 notes and warnings, 2 verbose.
static VERBOSITY: AtomicU8 = AtomicU8::new(1);

pub(crate) fn set_verbosity(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => 0,
        (false, true) => 2,
        (false, false) => 1,
    };
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// Prints the notes on standard error in the command line's words, unless --quiet.
pub(crate) fn print_notes<'a>(notes: impl IntoIterator<Item = &'a Note>) {
    print_notes_in(notes, &crate::words::Flags);
}

/// Prints the notes on standard error in `words`, unless --quiet.
pub(crate) fn print_notes_in<'a>(
    notes: impl IntoIterator<Item = &'a Note>,
    words: &dyn dynakube_netpol::advice::Words,
) {
    if VERBOSITY.load(Ordering::Relaxed) == 0 {
        return;
    }
    // anstream strips the colour for a non-terminal or with NO_COLOR.
    let mut stderr = anstream::stderr().lock();
    for note in notes {
        let _ = writeln!(stderr, "{}", style::note(note, words));
    }
    let _ = stderr.flush();
}

/// Says that another run holds the write lock `held`, and that this run waits for it (unless
/// --quiet).
pub(crate) fn waiting(held: &Path) {
    if VERBOSITY.load(Ordering::Relaxed) > 0 {
        eprintln!(
            "waiting for another dynakube-netpol run to finish writing (it holds {})",
            held.display()
        );
    }
}

/// Prints a line of progress on standard error with --verbose.
pub(crate) fn verbose(line: impl FnOnce() -> String) {
    if VERBOSITY.load(Ordering::Relaxed) >= 2 {
        eprintln!("{}", line());
    }
}
