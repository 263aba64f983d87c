//! Colour on standard error: the level words of errors, warnings and notes, as clap colours
//! its own messages. Everything printed through [`anstream`] loses its colour when standard
//! error is no terminal, or when `NO_COLOR` is set (and gains it with `CLICOLOR_FORCE`).

use anstyle::{AnsiColor, Style};
use dynakube_netpol::advice::Words;
use dynakube_netpol::matrix::{Level, Note};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTE: Style = AnsiColor::Cyan.on_default().bold();

/// `error`, styled.
pub fn error() -> String {
    format!("{ERROR}error{ERROR:#}")
}

/// A note in `words`, its level and rows styled.
pub fn note(note: &Note, words: &dyn Words) -> String {
    let text = note.to_string_in(words);
    let style = match note.level {
        Level::Warning => WARNING,
        Level::Info => NOTE,
    };
    match text.split_once(": ") {
        Some((head, rest)) => format!("{style}{head}{style:#}: {rest}"),
        None => text,
    }
}
