//! Completion for the kubectl plugin. kubectl (1.26 and later) completes `kubectl
//! dynakube-netpol …` by running `kubectl_complete-dynakube_netpol` with the words typed after
//! the plugin's name, the last one being the word to complete (empty after a space), and reads
//! the answer in Cobra's format: one candidate per line, optionally `\t` and a description,
//! then `:` and a directive (0: the shell may also complete file names; 4: it may not).
//!
//! The candidates come from the clap definition the shell scripts of `completions` come
//! from, so the two cannot disagree on a subcommand or option.

use clap::builder::{Arg, Command};

/// The file name under which the binary answers kubectl's completion requests.
pub const NAME: &str = "kubectl_complete-dynakube_netpol";

/// Cobra's directive: the shell completes file names as well.
const FILES: u8 = 0;
/// Cobra's directive: the candidates only.
const NO_FILES: u8 = 4;

/// What to offer for the last of `words` (the words after the plugin's name), in Cobra's
/// format.
pub fn answer(mut command: Command, words: &[String]) -> String {
    command.build();
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", &[][..]),
    };
    let (command, pending) = walk(&command, before);
    let (candidates, directive) = match pending {
        Some(arg) => values(arg, ""),
        None => offer(command, current),
    };
    let mut out = String::new();
    for (candidate, description) in candidates {
        out.push_str(&candidate);
        if !description.is_empty() {
            out.push('\t');
            out.push_str(&description);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

/// The subcommand the words lead to, and the option whose value is the next word, if any.
fn walk<'a>(root: &'a Command, words: &[String]) -> (&'a Command, Option<&'a Arg>) {
    let mut command = root;
    let mut pending = None;
    let mut positional_seen = false;
    for word in words {
        if pending.take().is_some() {
            continue;
        }
        if let Some(flag) = word.strip_prefix("--") {
            if !flag.contains('=') {
                pending = command
                    .get_arguments()
                    .find(|a| a.get_long() == Some(flag))
                    .filter(|a| takes_value(a));
            }
        } else if let Some(short) = word.strip_prefix('-').filter(|s| s.chars().count() == 1) {
            pending = command
                .get_arguments()
                .find(|a| a.get_short().map(String::from).as_deref() == Some(short))
                .filter(|a| takes_value(a));
        } else if !positional_seen {
            if let Some(sub) = command.find_subcommand(word) {
                command = sub;
            } else {
                // A positional value: later words name no subcommand.
                positional_seen = true;
            }
        }
    }
    (command, pending)
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// The candidates for `current` in `command`: options, a value after `--option=`,
/// subcommands, or positional values.
fn offer(command: &Command, current: &str) -> (Vec<(String, String)>, u8) {
    if let Some((flag, value)) = current
        .strip_prefix("--")
        .and_then(|rest| rest.split_once('='))
    {
        let Some(arg) = command.get_arguments().find(|a| a.get_long() == Some(flag)) else {
            return (Vec::new(), NO_FILES);
        };
        let (values, directive) = values(arg, value);
        let prefixed = values
            .into_iter()
            .map(|(v, d)| (format!("--{flag}={v}"), d))
            .collect();
        return (prefixed, directive);
    }
    if current.starts_with('-') {
        let options = command
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_positional())
            .flat_map(|a| {
                let help = first_line(a.get_help());
                let long = a.get_long().map(|l| (format!("--{l}"), help.clone()));
                let short = a.get_short().map(|s| (format!("-{s}"), help.clone()));
                long.into_iter().chain(short)
            })
            .filter(|(name, _)| name.starts_with(current))
            .collect();
        return (options, NO_FILES);
    }
    let subcommands: Vec<(String, String)> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| (s.get_name().to_owned(), first_line(s.get_about())))
        .filter(|(name, _)| name.starts_with(current))
        .collect();
    if command.has_subcommands() {
        return (subcommands, NO_FILES);
    }
    match command.get_positionals().next() {
        Some(arg) => values(arg, current),
        None => (Vec::new(), NO_FILES),
    }
}

/// The values of `arg` starting with `prefix`: its possible values, else file names.
fn values(arg: &Arg, prefix: &str) -> (Vec<(String, String)>, u8) {
    let possible = arg.get_possible_values();
    if possible.is_empty() {
        return (Vec::new(), FILES);
    }
    let values = possible
        .iter()
        .filter(|v| !v.is_hide_set() && v.get_name().starts_with(prefix))
        .map(|v| (v.get_name().to_owned(), first_line(v.get_help())))
        .collect();
    (values, NO_FILES)
}

/// The first line of a help text, for a one-line description.
fn first_line(help: Option<&clap::builder::StyledStr>) -> String {
    help.map(|h| h.to_string().lines().next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(words: &[&str]) -> String {
        use clap::CommandFactory;
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        answer(crate::Cli::command(), &words)
    }

    #[test]
    fn subcommands_options_and_values() {
        let out = complete(&["ge"]);
        assert!(
            out.starts_with("generate\tGenerate network policies"),
            "{out}"
        );
        assert!(out.ends_with(":4\n"), "{out}");
        assert!(!out.contains("kustomize-transformer"), "hidden: {out}");

        let out = complete(&["generate", "--fl"]);
        assert_eq!(
            out.lines().next().unwrap().split('\t').next(),
            Some("--flavor")
        );
        let out = complete(&["generate", "-"]);
        assert!(out.contains("\n--quiet\t"), "global options too: {out}");

        let out = complete(&["generate", "--flavor", ""]);
        let names: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
        let flavors = dynakube_netpol::Flavor::ALL.iter().map(|f| f.as_str());
        assert!(names.iter().copied().eq(flavors.chain([":4"])), "{out}");
        let out = complete(&["generate", "--flavor=ci"]);
        assert!(out.starts_with("--flavor=cilium"), "{out}");
        assert!(out.ends_with(":4\n"), "{out}");

        assert_eq!(complete(&["generate", "--cluster", ""]), ":0\n", "files");
        assert_eq!(complete(&["generate", "dk.yaml", "--hosts", "h"]), ":0\n");
        assert_eq!(complete(&["generate", ""]), ":0\n", "input files");
        let out = complete(&["completions", "f"]);
        assert!(out.starts_with("fish"), "{out}");
    }
}
