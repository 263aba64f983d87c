//! JUnit XML as the Ant and Jenkins schema has it (`testsuites`, `testsuite` with `name`,
//! `tests`, `failures`, `errors` and `skipped`, `testcase` with `name` and `classname`,
//! `failure`, `skipped`, `system-out`): one suite per kind of check, one test case per check.
//! No times and no timestamps: the report of the same inputs is the same bytes.
//!
//! Every text goes through [`text`] or [`attribute`]: XML's five special characters become
//! entities, and the characters XML 1.0 cannot hold at all (C0 controls but tab, line feed and
//! carriage return; U+FFFE and U+FFFF) become Rust-style escapes, so that any input gives a
//! well-formed document.

use std::fmt::Write as _;

use super::{Ci, Outcome, Suite};

/// Whether XML 1.0 can hold `c` (its production `Char`).
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `value` as element content.
pub(crate) fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if allowed(c) => out.push(c),
            c => out.extend(c.escape_debug()),
        }
    }
    out
}

/// `value` as an attribute's value between double quotes; line breaks and tabs as character
/// references, which an attribute's value would otherwise turn into spaces.
pub(crate) fn attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push_str(&text(&c.to_string())),
        }
    }
    out
}

/// How many checks of `suite` failed and were skipped.
fn counts(suite: &Suite) -> (usize, usize) {
    let failed = (suite.checks.iter())
        .filter(|c| matches!(c.outcome, Outcome::Failed { .. }))
        .count();
    let skipped = (suite.checks.iter())
        .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    (failed, skipped)
}

/// `ci` as a JUnit XML report.
pub(crate) fn render(ci: &Ci) -> String {
    let tests: usize = ci.suites.iter().map(|s| s.checks.len()).sum();
    let failures: usize = ci.suites.iter().map(|s| counts(s).0).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"dynakube-netpol {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        attribute(ci.subcommand)
    );
    for suite in &ci.suites {
        write_suite(&mut out, ci.subcommand, suite);
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_suite(out: &mut String, subcommand: &str, suite: &Suite) {
    let (failed, skipped) = counts(suite);
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\">",
        attribute(suite.name),
        suite.checks.len()
    );
    let classname = attribute(&format!(
        "dynakube-netpol.{}.{}",
        super::slug(subcommand),
        super::slug(suite.name)
    ));
    for check in &suite.checks {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{classname}\"",
            attribute(&check.name)
        );
        if check.outcome == Outcome::Passed && check.output.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        match &check.outcome {
            Outcome::Passed => {}
            Outcome::Failed {
                kind,
                message,
                details,
            } => {
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    attribute(kind),
                    attribute(message),
                    text(details)
                );
            }
            Outcome::Skipped(reason) => {
                let _ = writeln!(out, "      <skipped message=\"{}\"/>", attribute(reason));
            }
        }
        if !check.output.is_empty() {
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                text(&check.output)
            );
        }
        out.push_str("    </testcase>\n");
    }
    if !suite.output.is_empty() {
        let _ = writeln!(out, "    <system-out>{}</system-out>", text(&suite.output));
    }
    out.push_str("  </testsuite>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_cannot_leave_its_text_or_attribute() {
        let hostile = "a\"b'c<d>&e]]>f\u{1}g\u{fffe}h\ni\tj";
        assert_eq!(
            text(hostile),
            "a\"b'c&lt;d&gt;&amp;e]]&gt;f\\u{1}g\\u{fffe}h\ni\tj"
        );
        assert_eq!(
            attribute(hostile),
            "a&quot;b&apos;c&lt;d&gt;&amp;e]]&gt;f\\u{1}g\\u{fffe}h&#10;i&#9;j"
        );
        assert_eq!(text("ü 🚀"), "ü 🚀");
    }
}
