//! Reports in the formats CI systems read: SARIF 2.1.0 (GitHub code scanning and other SARIF
//! viewers), JUnit XML (the test report viewers of Jenkins, GitLab, Azure DevOps and others)
//! and Markdown (a pull-request comment).
//!
//! `verify`, `audit` and `generate --check` each turn their report into the shape the formats
//! share: the rules, one per kind of finding; the findings (SARIF's results); and the checks
//! (JUnit's test cases, in suites). One writer per format renders that shape; Markdown is each
//! report's own, since their tables differ, through one escaping of names. Each report has one
//! `render` method that takes a [`Format`].
//!
//! What these formats say follows the exit status: a finding is of level `error` and a check
//! fails exactly when it fails the run (exit 1); findings the run reports without failing are
//! warnings (or notes), and their checks pass with the finding as their output. Fingerprints
//! depend only on what a finding is about (rule, row, endpoints, policy and rule, pods, owner,
//! file name), never on paths, order or time, so that a code-scanning alert stays one alert
//! across runs. Rendering cannot fail: every value from an input is first made one safe line
//! by [`crate::values::Shown`], where the text report does so, then escaped for the format:
//! JSON by serde, XML entities, Markdown code spans and table cells.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::audit::audit;
//! use dynakube_netpol::ci::Format;
//! use dynakube_netpol::source::Limits;
//!
//! let pods = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\n  \
//!     annotations: {oneagent.dynatrace.com/injected: \"false\", \
//!     oneagent.dynatrace.com/reason: DynaKubeStatusNotReady}\n";
//! let report = audit(&[("pods.yaml".into(), pods.into())], &[], &Limits::default())?;
//! let sarif: serde_json::Value = serde_json::from_str(&report.render(Format::Sarif))?;
//! let result = &sarif["runs"][0]["results"][0];
//! assert_eq!(result["ruleId"], "skipped-injection-transient");
//! assert_eq!(result["level"], "error");
//! let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
//! assert_eq!(uri, "pods.yaml");
//! let junit = report.render(Format::Junit);
//! assert!(junit.contains("<failure type=\"skipped-injection-transient\""));
//! assert!(report.render(Format::Markdown).contains("| transient | pod `shop/web` |"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod sarif;
pub(crate) mod verify;

/// How a check's report is written: `verify`'s ([`crate::verify::Report::render`]), `audit`'s
/// ([`crate::audit::Audit::render`]) and `generate --check`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// For people: the report as a terminal shows it.
    Text,
    /// JSON for tools, every finding with all its details.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, for the test report viewers of CI systems.
    Junit,
    /// GitHub Flavored Markdown, for a pull-request comment.
    Markdown,
}

/// A kind of finding: SARIF's rule.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The stable identifier, in kebab case (`denied-flow`).
    pub(crate) id: &'static str,
    /// Its name in SARIF's style (`DeniedFlow`).
    pub(crate) name: &'static str,
    /// One line.
    pub(crate) short: &'static str,
    /// What the finding means.
    pub(crate) full: &'static str,
    /// What to do about it.
    pub(crate) help: &'static str,
    /// Its level when nothing asks for another.
    pub(crate) level: Level,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// It fails the run.
    Error,
    /// Reported, not failing the run.
    Warning,
    /// For information.
    Note,
}

impl Level {
    /// SARIF's word.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }

    /// `error` when `fails`, else `otherwise`.
    pub(crate) fn failing(fails: bool, otherwise: Level) -> Level {
        if fails { Level::Error } else { otherwise }
    }
}

/// What a finding is about when no file holds it, or inside the file: a policy rule, a flow, a
/// workload, a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logical {
    /// The short name.
    pub(crate) name: String,
    /// The name with its context (`dynatrace/policy spec.ingress[2]`).
    pub(crate) qualified: String,
    /// SARIF's kind of logical location (`resource`, `object`).
    pub(crate) kind: &'static str,
}

/// One finding: SARIF's result.
#[derive(Debug)]
pub(crate) struct Finding {
    /// Its kind.
    pub(crate) rule: &'static Rule,
    /// Its level in this run.
    pub(crate) level: Level,
    /// What was found, the first sentence a title; input values escaped.
    pub(crate) message: String,
    /// The file that holds it, as given on the command line.
    pub(crate) file: Option<String>,
    /// What it is about.
    pub(crate) logical: Logical,
    /// What it is about, as the words its fingerprint is made of.
    pub(crate) identity: String,
}

/// The outcome of a check: JUnit's test case result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing failed.
    Passed,
    /// It fails the run: the rule's id, a one-line message, and the details.
    Failed {
        /// The rule's id.
        kind: &'static str,
        /// One line.
        message: String,
        /// More lines.
        details: String,
    },
    /// It could not be checked, for the reason given.
    Skipped(String),
}

/// One check: JUnit's test case.
#[derive(Debug)]
pub(crate) struct Check {
    /// Its name, unique in its suite.
    pub(crate) name: String,
    /// Its outcome.
    pub(crate) outcome: Outcome,
    /// What it found besides the outcome (JUnit's system-out); may be empty.
    pub(crate) output: String,
}

impl Check {
    /// A check that passed, with `output`.
    pub(crate) fn passed(name: String, output: String) -> Check {
        Check {
            name,
            outcome: Outcome::Passed,
            output,
        }
    }
}

/// Checks of one kind: JUnit's test suite.
#[derive(Debug)]
pub(crate) struct Suite {
    /// Its name (`flows`).
    pub(crate) name: &'static str,
    /// Its checks; never empty (a suite without findings holds one check that says so).
    pub(crate) checks: Vec<Check>,
    /// What the suite found besides its checks (JUnit's system-out); may be empty.
    pub(crate) output: String,
}

/// A report in the shape the CI formats share.
#[derive(Debug)]
pub(crate) struct Ci {
    /// The subcommand that made it (`verify`, `audit`, `generate --check`).
    pub(crate) subcommand: &'static str,
    /// Every rule of the subcommand, found or not.
    pub(crate) rules: &'static [Rule],
    /// The findings.
    pub(crate) findings: Vec<Finding>,
    /// The checks.
    pub(crate) suites: Vec<Suite>,
}

/// The SHA-256 of `words`, as the first 32 hexadecimal digits.
pub(crate) fn digest(words: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(words.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `path` as a URI reference, as SARIF's `artifactLocation.uri` wants it: a relative path stays
/// relative (without a leading `./`), an absolute one becomes a `file:` URI; every character
/// but letters, digits, `-._~` and the `/` between segments is percent-encoded.
pub(crate) fn uri(path: &str) -> String {
    let mut relative = path;
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest.trim_start_matches('/');
    }
    let encoded: String = relative
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// `words` as one identifier: lowercase letters and digits, runs of anything else one `-`
/// (`generate --check` is `generate-check`).
pub(crate) fn slug(words: &str) -> String {
    words
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// `items` joined with commas: at most ten, and how many more `what`.
pub(crate) fn some(items: &[String], what: &str) -> String {
    const SHOWN: usize = 10;
    let mut shown: Vec<String> = items.iter().take(SHOWN).cloned().collect();
    if items.len() > SHOWN {
        shown.push(format!("and {} more {what}", items.len() - SHOWN));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("policies/a.yaml"), "policies/a.yaml");
        assert_eq!(uri("./policies//a.yaml"), "policies//a.yaml");
        assert_eq!(
            uri("/srv/x y/ä#1.yaml"),
            "file:///srv/x%20y/%C3%A4%231.yaml"
        );
        // A colon in the first segment would read as a scheme; `%` as an escape.
        assert_eq!(uri("c:50%.yaml"), "c%3A50%25.yaml");
        assert_eq!(uri("-"), "-");
    }

    #[test]
    fn slugs_join_words_with_dashes() {
        assert_eq!(slug("generate --check"), "generate-check");
        assert_eq!(slug("beyond the matrix"), "beyond-the-matrix");
    }

    #[test]
    fn digests_are_stable_and_short() {
        assert_eq!(digest("a"), "ca978112ca1bbdcafac231b39a23dc4d");
        assert_ne!(digest("a"), digest("b"));
    }
}
