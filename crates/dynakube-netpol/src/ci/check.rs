//! `generate --check`'s report in the CI formats: a finding per file that differs, of the
//! rule of its change; a check per file compared.

use std::fmt::Write as _;
use std::path::Path;

use super::markdown::{block, code, head, row};
use super::{Check, Ci, Finding, Format, Level, Logical, Outcome, Rule, Suite};
use crate::output::{Change, Checked, Difference};
use crate::values::escape;

/// What every rule of the check asks.
const REFRESH: &str = "Run the same `dynakube-netpol generate` command without `--check`, review the change and commit it.";

const STALE: Rule = Rule {
    id: "stale-file",
    name: "StaleFile",
    short: "A generated file differs from what the inputs generate",
    full: "A file of the output directory holds other policies than the inputs generate now: the DynaKube, the cluster profile, the hosts or the lock file changed since it was written, or it was edited by hand.",
    help: REFRESH,
    level: Level::Error,
};

const MISSING: Rule = Rule {
    id: "missing-file",
    name: "MissingFile",
    short: "A file the inputs generate is missing",
    full: "The inputs generate a policy (or the kustomization) that the output directory does not hold.",
    help: REFRESH,
    level: Level::Error,
};

const LEFT_OVER: Rule = Rule {
    id: "left-over-file",
    name: "LeftOverFile",
    short: "A file this tool wrote that the inputs no longer generate",
    full: "The output directory holds a policy this tool wrote before (its kustomization lists it and it carries the generated mark) that the inputs no longer generate; `generate` removes it.",
    help: REFRESH,
    level: Level::Error,
};

const NOT_A_FILE: Rule = Rule {
    id: "not-a-file",
    name: "NotAFile",
    short: "Something that is not a regular file holds a generated file's name",
    full: "A symbolic link, a directory or another special file has the name of a file the inputs generate; `generate` refuses to replace it.",
    help: "Move it out of the output directory, then run `dynakube-netpol generate` again.",
    level: Level::Error,
};

/// Every rule of `generate --check`.
static RULES: [Rule; 4] = [STALE, MISSING, LEFT_OVER, NOT_A_FILE];

/// The rule and words of a change.
fn rule(change: Change) -> (&'static Rule, &'static str) {
    match change {
        Change::Changed => (&STALE, "differs from what the inputs generate"),
        Change::Missing => (&MISSING, "is missing: the inputs generate it"),
        Change::LeftOver => (&LEFT_OVER, "is left over: the inputs no longer generate it"),
        Change::NotAFile => (&NOT_A_FILE, "is not a regular file"),
    }
}

/// The words of a change in a table.
fn word(change: Change) -> &'static str {
    match change {
        Change::Changed => "changed",
        Change::Missing => "missing",
        Change::LeftOver => "left over",
        Change::NotAFile => "not a file",
    }
}

/// A diff with every line made safe ([`escape`]).
fn safe(diff: &str) -> String {
    (diff.lines())
        .map(|line| escape(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Checked {
    /// The check in `format`.
    ///
    /// - [`Format::Text`]: the unified diffs of the files that differ, one after the other
    ///   (nothing when the directory is fresh).
    /// - [`Format::Json`]: the directory, every file compared, and how each file that differs
    ///   differs, with its diff.
    /// - [`Format::Sarif`]: a result of level `error` per file that differs, pointing at it.
    /// - [`Format::Junit`]: a test case per file compared, failed with its diff when it
    ///   differs.
    /// - [`Format::Markdown`]: a summary line with the command that refreshes, a table of the
    ///   files that differ and their diffs in a collapsed block.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.to_text(),
            Format::Json => self.to_json(),
            Format::Sarif => super::sarif::render(&self.ci()),
            Format::Junit => super::junit::render(&self.ci()),
            Format::Markdown => self.to_markdown(),
        }
    }

    fn ci(&self) -> Ci {
        let findings = (self.differences.iter())
            .map(|difference| {
                let (rule, words) = rule(difference.change);
                let path = Path::new(&self.dir).join(&difference.file);
                Finding {
                    rule,
                    level: Level::Error,
                    message: format!("{} {words}.", escape(&path.display().to_string())),
                    file: Some(path.display().to_string()),
                    logical: Logical {
                        name: escape(&difference.file).into_owned(),
                        qualified: escape(&path.display().to_string()).into_owned(),
                        kind: "resource",
                    },
                    identity: difference.file.clone(),
                }
            })
            .collect();
        let checks = (self.files.iter())
            .map(|file| match self.difference(file) {
                None => Check::passed(escape(file).into_owned(), String::new()),
                Some(difference) => {
                    let (rule, words) = rule(difference.change);
                    Check {
                        name: escape(file).into_owned(),
                        outcome: Outcome::Failed {
                            kind: rule.id,
                            message: format!("{} {words}", escape(file)),
                            details: safe(&difference.diff),
                        },
                        output: String::new(),
                    }
                }
            })
            .collect();
        Ci {
            subcommand: "generate --check",
            rules: &RULES,
            findings,
            suites: vec![Suite {
                name: "files",
                checks,
                output: String::new(),
            }],
        }
    }

    fn difference(&self, file: &str) -> Option<&Difference> {
        self.differences.iter().find(|d| d.file == file)
    }

    /// The check as Markdown for a pull-request comment: a summary line, a table of the files
    /// that differ, and their diffs in a collapsed block.
    fn to_markdown(&self) -> String {
        let dir = code(&self.dir);
        let count = self.files.len();
        if self.differences.is_empty() {
            return format!(
                "### ✅ dynakube-netpol generate --check: {dir} is fresh ({count} files)\n"
            );
        }
        let mut out = format!(
            "### ❌ dynakube-netpol generate --check: {dir} is stale ({} of {count} files)\n\n{}\n\n",
            self.differences.len(),
            REFRESH
        );
        out.push_str(&head(&["File", "Change"]));
        for difference in &self.differences {
            out.push_str(&row(&[
                code(&difference.file),
                word(difference.change).into(),
            ]));
        }
        let _ = write!(
            out,
            "\n<details><summary>The diffs</summary>\n\n{}\n</details>\n",
            block("diff", &self.to_text())
        );
        out
    }
}
