//! DNS names and patterns of `toFQDNs` and of DNS rules (`matchName`, `matchPattern`).
//!
//! Documentation: `Documentation/security/policy/layer3.rst`, section "DNS based":
//!
//! - `matchName` selects the names equal to it. Cilium compares names lowercase and as fully
//!   qualified names (`pkg/fqdn/matchpattern`: names are lowered and given their trailing dot),
//!   so case and a trailing dot do not matter.
//! - `matchPattern`: "`*` within a domain allows 0 or more valid DNS characters, except for the
//!   `.` separator. `*.cilium.io` will match `sub.cilium.io` but not `cilium.io` or
//!   `sub.sub.cilium.io`. `part*ial.com` will match `partial.com` and `part-extra-ial.com`";
//!   "`*` alone matches all names". The valid DNS characters are letters, digits, `-` and `_`
//!   (the schema's pattern for names).
//! - "`**.` is a special prefix ... to wildcard all cascaded subdomains in the prefix":
//!   `**.cilium.io` matches `app.cilium.io` and `test.app.cilium.io` but not `cilium.io`. This
//!   came with Cilium 1.19 (pull request 43420); before, `**` was two `*` and matched within
//!   one label like `*`. [`Patterns::double_star`] chooses. Decision: the default is 1.19's
//!   reading, although the schema the policies are read against is v1.16.5's: nobody writes
//!   `**.` but for what 1.19 makes of it, and reading it so reports, of a cluster of an earlier
//!   release, more names allowed rather than fewer.

use crate::error::{Error, Location};

/// How patterns are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Patterns {
    /// Whether a leading `**.` matches one or more labels (Cilium 1.19 and later).
    pub(crate) double_star: bool,
}

impl Default for Patterns {
    /// Cilium 1.19's reading (see the module's notes).
    fn default() -> Self {
        Patterns { double_star: true }
    }
}

/// A compiled `matchName` or `matchPattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fqdn {
    /// `matchName`: this name, lowercase, without trailing dot.
    Name(String),
    /// `matchPattern`, lowercase, without trailing dot.
    Pattern(String),
}

impl Fqdn {
    /// Compiles the item of `toFQDNs` or of DNS rules found at `location`: exactly one of
    /// `matchName` and `matchPattern` (the schema's `oneOf`), each of the schema's pattern
    /// (`^([-a-zA-Z0-9_]+[.]?)+$`, with `*` for patterns).
    pub(crate) fn compile(
        name: Option<&str>,
        pattern: Option<&str>,
        location: &Location,
    ) -> Result<Self, Error> {
        match (name, pattern) {
            (Some(name), None) => {
                check(name, false, &location.join("matchName"))?;
                Ok(Fqdn::Name(normal(name)))
            }
            (None, Some(pattern)) => {
                check(pattern, true, &location.join("matchPattern"))?;
                Ok(Fqdn::Pattern(normal(pattern)))
            }
            _ => Err(Error::invalid(
                location.clone(),
                "needs exactly one of matchName and matchPattern",
            )),
        }
    }

    /// Whether the name `name` (as looked up) is selected.
    pub(crate) fn matches(&self, name: &str, patterns: Patterns) -> bool {
        let name = normal(name);
        match self {
            Fqdn::Name(wanted) => *wanted == name,
            Fqdn::Pattern(pattern) if pattern == "*" => !name.is_empty(),
            Fqdn::Pattern(pattern) => match pattern.strip_prefix("**.") {
                Some(rest) if patterns.double_star => name
                    .match_indices('.')
                    .any(|(at, _)| at > 0 && glob(rest.as_bytes(), &name.as_bytes()[at + 1..])),
                _ => glob(pattern.as_bytes(), name.as_bytes()),
            },
        }
    }
}

/// `text` lowercase, without one trailing dot.
fn normal(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    lower.strip_suffix('.').map(str::to_string).unwrap_or(lower)
}

/// Whether `text` has the schema's pattern: labels of letters, digits, `-` and `_` (and `*` in
/// a pattern), each followed by at most one dot.
fn check(text: &str, pattern: bool, location: &Location) -> Result<(), Error> {
    let allowed =
        |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (pattern && b == b'*');
    let bytes = text.as_bytes();
    let valid = !bytes.is_empty()
        && bytes[0] != b'.'
        && !text.contains("..")
        && bytes.iter().all(|&b| b == b'.' || allowed(b));
    if valid {
        Ok(())
    } else {
        let what = if pattern {
            "a DNS pattern"
        } else {
            "a DNS name"
        };
        Err(Error::invalid(
            location.clone(),
            format!(
                "`{text}` is not {what} (labels of letters, digits, `-` and `_`{}, separated by single dots)",
                if pattern { " or `*`" } else { "" }
            ),
        ))
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any run of DNS characters within a
/// label.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => {
            let mut end = 0;
            loop {
                if glob(rest, &name[end..]) {
                    return true;
                }
                match name.get(end) {
                    Some(&b) if b != b'.' => end += 1,
                    _ => return false,
                }
            }
        }
        Some((&c, rest)) => name.first() == Some(&c) && glob(rest, &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Fqdn {
        Fqdn::compile(None, Some(text), &Location::new("t", None, "p")).unwrap()
    }

    #[test]
    fn names_match_exactly_without_case_or_trailing_dot() {
        let name = Fqdn::compile(
            Some("Api.Example.com."),
            None,
            &Location::new("t", None, ""),
        )
        .unwrap();
        assert!(name.matches("api.example.com", Patterns::default()));
        assert!(name.matches("API.EXAMPLE.COM.", Patterns::default()));
        assert!(!name.matches("x.api.example.com", Patterns::default()));
    }

    /// The examples of the "DNS based" section of layer3.rst.
    #[test]
    fn a_star_stays_within_one_label() {
        let sub = pattern("*.cilium.io");
        let one = Patterns::default();
        assert!(sub.matches("sub.cilium.io", one));
        assert!(!sub.matches("cilium.io", one));
        assert!(!sub.matches("sub.sub.cilium.io", one));
        let partial = pattern("part*ial.com");
        assert!(partial.matches("partial.com", one));
        assert!(partial.matches("part-extra-ial.com", one));
        assert!(!partial.matches("part.x.ial.com", one));
        assert!(pattern("*").matches("anything.at.all", one));
    }

    #[test]
    fn a_leading_double_star_reaches_every_subdomain_from_1_19() {
        let cascade = pattern("**.cilium.io");
        let new = Patterns::default();
        assert!(cascade.matches("app.cilium.io", new));
        assert!(cascade.matches("test.app.cilium.io", new));
        assert!(!cascade.matches("cilium.io", new));
        // Before 1.19, `**` is two stars within one label.
        let old = Patterns { double_star: false };
        assert!(cascade.matches("app.cilium.io", old));
        assert!(!cascade.matches("test.app.cilium.io", old));
    }

    #[test]
    fn the_schema_pattern_is_checked() {
        let location = Location::new("t", None, "spec.egress[0].toFQDNs[0]");
        for bad in ["", ".example.com", "a..b", "exa mple.com", "ex/ample"] {
            assert!(Fqdn::compile(Some(bad), None, &location).is_err(), "{bad}");
        }
        let error = Fqdn::compile(Some("a"), Some("b"), &location).unwrap_err();
        assert!(error.to_string().contains("exactly one"), "{error}");
        assert!(Fqdn::compile(None, Some("a*b.c"), &location).is_ok());
        assert!(Fqdn::compile(Some("a*b.c"), None, &location).is_err());
    }
}
