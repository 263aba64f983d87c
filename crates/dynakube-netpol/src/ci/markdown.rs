//! Markdown as GitHub renders it (GitHub Flavored Markdown), for a pull-request comment: what
//! an input holds is shown as code ([`code`]) or as literal text ([`text`]), never as markup,
//! and never breaks a table row or a code block.
//!
//! Code spans, not backslashes, carry names: inside a code span nothing is markup, and GitHub
//! links no `@mention` or `#123` there, which an escaped `\@` would not prevent.

use std::fmt::Write as _;

use crate::values::escape;

/// The characters that start markup inside a line of GitHub Markdown: emphasis, code, links
/// and images, HTML and entities, table cells, strikethrough, headings and references, maths.
const MARKUP: &[char] = &[
    '\\', '`', '*', '_', '[', ']', '<', '>', '!', '&', '|', '~', '#', '$', '@',
];

/// `value` as a code span that fits in a table cell: one line ([`escape`]), fenced with more
/// backticks than it holds in a row, `|` escaped for the table (GitHub removes the backslash
/// inside code in a table cell).
pub(crate) fn code(value: &str) -> String {
    let line = escape(value).replace('|', "\\|");
    if line.is_empty() {
        return "` `".into();
    }
    let longest = longest_run(&line, '`');
    let fence = "`".repeat(longest + 1);
    if line.starts_with('`') || line.ends_with('`') || line.starts_with(' ') {
        format!("{fence} {line} {fence}")
    } else {
        format!("{fence}{line}{fence}")
    }
}

/// `value` as literal text on one line: every character that could start markup escaped with
/// a backslash.
pub(crate) fn text(value: &str) -> String {
    let line = escape(value);
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if MARKUP.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A table row of `cells`, which are already Markdown of one line.
pub(crate) fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

/// The table head: `titles` and the line under them.
pub(crate) fn head(titles: &[&str]) -> String {
    let line: Vec<&str> = titles.iter().map(|_| "---").collect();
    format!("| {} |\n| {} |\n", titles.join(" | "), line.join(" | "))
}

/// `lines` as a fenced code block with `info` (`diff`): each line made safe by [`escape`] (a
/// tab reads `\t`), the fence longer than any run of backticks inside.
pub(crate) fn block(info: &str, lines: &str) -> String {
    let body: Vec<String> = lines.lines().map(|l| escape(l).into_owned()).collect();
    let longest = body.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let mut out = format!("{fence}{info}\n");
    for line in &body {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{fence}");
    out
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for found in text.chars() {
        run = if found == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_code_that_keeps_the_table() {
        assert_eq!(code("dynatrace/ag-0"), "`dynatrace/ag-0`");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x``y"), "```x``y```");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("line\nbreak"), "`line\\nbreak`");
        assert_eq!(code(""), "` `");
    }

    #[test]
    fn text_cannot_start_markup() {
        assert_eq!(
            text("@team <b>*x*</b> [a](b) | #1 `c` $y$ \u{202e}"),
            r"\@team \<b\>\*x\*\</b\> \[a\](b) \| \#1 \`c\` \$y\$ \\u{202e}"
        );
    }

    #[test]
    fn a_block_outlasts_its_backticks() {
        assert_eq!(block("diff", "+a\n-```b"), "````diff\n+a\n-```b\n````\n");
        assert_eq!(block("", "x\ty"), "```\nx\\ty\n```\n");
    }
}
