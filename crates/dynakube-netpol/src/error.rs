//! The one error type of the library: every failure names where it happened and why.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::Error;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::resources::Inputs;
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   activeGate: {capabilities: [routing], replicas: many}
//! ";
//! let error = parse_into(&mut Inputs::default(), "dk.yaml", yaml, &ParseOptions::default())
//!     .unwrap_err();
//! let Error::Invalid { location, .. } = &error else { panic!("{error}") };
//! assert_eq!(location.field, "spec.activeGate.replicas");
//! assert_eq!(location.document, Some(1));
//! // The message names file, document and field.
//! assert!(error.to_string().starts_with("dk.yaml, document 1, field `spec.activeGate.replicas`: "));
//! ```

use std::fmt;

use crate::advice::{Neutral, Remedy, Setting, Words};

/// Where in the input a problem was found: file, document and field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it (`-` for standard input).
    pub file: String,
    /// The 1-based index of the YAML document in the file, if the file holds documents.
    pub document: Option<usize>,
    /// The dotted path of the field, such as `spec.oneAgent.cloudNativeFullStack.codeModulesImage`;
    /// empty when the problem concerns the whole document.
    pub field: String,
}

impl Location {
    /// A location in document `document` (1-based) of `file`, at `field`.
    pub fn new(file: impl Into<String>, document: Option<usize>, field: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            document,
            field: field.into(),
        }
    }

    /// The same document, at another field.
    pub(crate) fn at(&self, field: impl Into<String>) -> Self {
        Location {
            field: field.into(),
            ..self.clone()
        }
    }

    /// The same document, at `field` below this location's field (an item of a list, say).
    pub(crate) fn join(&self, field: &str) -> Self {
        match (self.field.is_empty(), field.is_empty()) {
            (true, _) => self.at(field),
            (false, true) => self.clone(),
            (false, false) => self.at(format!("{}.{field}", self.field)),
        }
    }

    /// The file and document without a field, as a short name for messages: `file#2`.
    pub(crate) fn origin(&self) -> String {
        let file = crate::values::escape(&self.file);
        let mut out = match self.document {
            Some(document) => format!("{file}#{document}"),
            None => file.into_owned(),
        };
        if !self.field.is_empty() {
            out.push_str(&format!(" {}", crate::values::escape(&self.field)));
        }
        out
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::values::escape(&self.file))?;
        if let Some(document) = self.document {
            write!(f, ", document {document}")?;
        }
        if !self.field.is_empty() {
            write!(f, ", field `{}`", crate::values::escape(&self.field))?;
        }
        Ok(())
    }
}

/// A message of this library or another one, safe to print: no credentials, one line.
fn clean(text: &str) -> String {
    crate::values::escape(&crate::values::redact_words(text)).into_owned()
}

/// A path or list of paths, safe to print on one line.
fn line(text: &str) -> String {
    crate::values::escape(text).into_owned()
}

/// Everything that can go wrong between reading the inputs and writing policies.
///
/// The messages are one line, with input text escaped and credentials redacted. What would fix
/// a problem is data (`Error::remedies`); the message words it neutrally
/// (`Neutral`), and a front end words it in its own terms with
/// [`Error::to_string_in`]: a flag on the command line, a field of a NetworkPolicyGenerator's
/// spec in kustomize and KRM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input could not be read.
    Read {
        /// The file as the user named it.
        file: String,
        /// The operating system's explanation.
        reason: String,
    },
    /// An input is not YAML, or not the shape its kind requires.
    Invalid {
        /// Where the problem is.
        location: Location,
        /// What is wrong, in words.
        reason: String,
        /// What would fix it besides changing the input, if anything.
        remedies: Vec<Remedy>,
    },
    /// A value given for a setting is not one it takes, or names what the inputs do not
    /// hold: a connection `explain` is asked about, say.
    Setting {
        /// The setting.
        setting: Setting,
        /// What is wrong, in words (the value escaped).
        reason: String,
    },
    /// The inputs hold no DynaKube and no EdgeConnect.
    NothingToDo {
        /// The files that were read, comma separated.
        files: String,
    },
    /// Host names that the flavor needs addresses for (its policies name them by address).
    UnresolvedHosts {
        /// The host names, sorted.
        hosts: Vec<String>,
    },
    /// Hosts that DNS did not resolve (NXDOMAIN, SERVFAIL, timeout, empty answer).
    Dns {
        /// `host: reason`, sorted by host.
        failures: Vec<String>,
    },
    /// No DNS resolver could be set up: the system's configuration is unreadable, or the
    /// resolver's runtime did not start.
    Resolver {
        /// What failed.
        reason: String,
    },
    /// Hosts the lock does not hold, when resolving is not allowed.
    NotLocked {
        /// The lock file as the user named it.
        lock: String,
        /// The host names, sorted.
        hosts: Vec<String>,
    },
    /// Addresses a host cannot have (see [`crate::guard`]), wherever they came from: the
    /// hosts file, the lock file, DNS or an IP address in the resources.
    SpecialAddresses {
        /// `host: address is range (from source, row)`, in the order found.
        addresses: Vec<String>,
    },
    /// An output directory is not what the inputs generate.
    Stale {
        /// The output directory.
        dir: String,
        /// How many files differ, are missing or are left over.
        count: usize,
        /// The command line that writes the directory afresh, when the caller knows it.
        refresh: Option<String>,
    },
    /// Writing an output failed.
    Write {
        /// The file or directory.
        path: String,
        /// The operating system's explanation.
        reason: String,
    },
}

impl Error {
    /// An [`Error::Invalid`] at `location`.
    pub fn invalid(location: Location, reason: impl Into<String>) -> Self {
        Error::Invalid {
            location,
            reason: reason.into(),
            remedies: Vec::new(),
        }
    }

    /// An [`Error::Invalid`] at `location`, with what would fix it besides the input.
    pub fn invalid_unless(
        location: Location,
        reason: impl Into<String>,
        remedies: Vec<Remedy>,
    ) -> Self {
        Error::Invalid {
            location,
            reason: reason.into(),
            remedies,
        }
    }

    /// What would fix the problem besides changing the input (the settings and values that
    /// would), in the order worth trying.
    pub(crate) fn remedies(&self) -> Vec<Remedy> {
        match self {
            Error::Invalid { remedies, .. } => remedies.clone(),
            Error::UnresolvedHosts { .. } => vec![
                Remedy::Set {
                    setting: Setting::Hosts,
                    value: Some("FILE"),
                    when: "with their addresses",
                },
                Remedy::Set {
                    setting: Setting::Lock,
                    value: Some("FILE"),
                    when: "to resolve them with DNS into a lock file",
                },
                Remedy::Set {
                    setting: Setting::FqdnFallback,
                    value: Some("public-internet"),
                    when: "to allow their ports to every public address",
                },
            ],
            Error::Dns { .. } => vec![
                Remedy::Do("fix their names or DNS"),
                Remedy::Set {
                    setting: Setting::Hosts,
                    value: Some("FILE"),
                    when: "with their addresses",
                },
                Remedy::set_when(
                    Setting::AllowUnresolved,
                    "to leave their flows without a rule",
                ),
            ],
            Error::NotLocked { .. } => vec![
                Remedy::Unset {
                    setting: Setting::Offline,
                    when: "to resolve and add them",
                },
                Remedy::Set {
                    setting: Setting::Hosts,
                    value: Some("FILE"),
                    when: "with their addresses",
                },
            ],
            Error::SpecialAddresses { .. } => vec![
                Remedy::Set {
                    setting: Setting::InternalHost,
                    value: Some("HOST"),
                    when: "for a host whose address is right (a private link, an internal mirror, an Environment ActiveGate)",
                },
                Remedy::set(Setting::AllowSpecialAddresses),
            ],
            Error::Stale {
                refresh: Some(command),
                ..
            } => vec![Remedy::Run {
                command: line(command),
                when: "to write it afresh",
            }],
            _ => Vec::new(),
        }
    }

    /// The message, with its remedies in `words`.
    pub fn to_string_in(&self, words: &dyn Words) -> String {
        let problem = match self {
            Error::Read { file, reason } => {
                format!("{}: cannot read: {}", line(file), clean(reason))
            }
            Error::Invalid {
                location, reason, ..
            } => format!("{location}: {}", clean(reason)),
            Error::Setting { setting, reason } => {
                format!("{}: {}", words.setting(*setting), clean(reason))
            }
            Error::NothingToDo { files } => {
                format!("no DynaKube or EdgeConnect in the inputs ({})", line(files))
            }
            Error::UnresolvedHosts { hosts } => format!(
                "these hosts need IP addresses, by which the policies name them: {}",
                hosts.join(", ")
            ),
            Error::Dns { failures } => format!(
                "DNS did not resolve these hosts, so nothing was written: {}",
                failures.join("; ")
            ),
            Error::Resolver { reason } => {
                format!("cannot set up DNS resolution: {}", clean(reason))
            }
            Error::NotLocked { lock, hosts } => format!(
                "{} has no addresses for these hosts, and resolving them is not allowed: {}",
                line(lock),
                hosts.join(", ")
            ),
            Error::SpecialAddresses { addresses } => format!(
                "refusing addresses these hosts cannot have: {}; a poisoned DNS answer, an edited lock or hosts file, or a DynaKube's status must not open egress into the node, the cloud's metadata service, the cluster or a private network",
                line(&addresses.join("; "))
            ),
            Error::Stale { dir, count, .. } => format!(
                "{} is stale: {count} file(s) differ from what the inputs generate",
                line(dir)
            ),
            Error::Write { path, reason } => {
                format!("{}: cannot write: {}", line(path), clean(reason))
            }
        };
        match words.remedies(&self.remedies()) {
            remedies if remedies.is_empty() => problem,
            remedies => format!("{problem}; {remedies}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_in(&Neutral))
    }
}

/// An [`Error::Invalid`] for a deserialization error at a field path (below the field of
/// `location`, if any), without the path that the YAML library repeats in its own message.
pub(crate) fn field_error<E: fmt::Display>(
    location: &Location,
    error: serde_path_to_error::Error<E>,
) -> Error {
    let path = error.path().to_string();
    let field = if path == "." { String::new() } else { path };
    let message = error.into_inner().to_string();
    let message = message
        .strip_prefix(&format!("{field}: "))
        .map(str::to_string)
        .unwrap_or(message);
    let message = suggested(&plain_types(&message));
    let full = match (location.field.is_empty(), field.is_empty()) {
        (true, _) => field,
        (false, true) => location.field.clone(),
        (false, false) => format!("{}.{field}", location.field),
    };
    Error::invalid(location.at(full), message)
}

/// serde's message on an unknown field or variant with the nearest name it expects as a
/// suggestion, as the resource readers give one, in place of the list of every name; the list
/// stays when no name is near.
fn suggested(message: &str) -> String {
    for what in ["unknown field", "unknown variant"] {
        let Some(rest) = message
            .strip_prefix(what)
            .and_then(|r| r.strip_prefix(" `"))
        else {
            continue;
        };
        let Some((name, expected)) = rest.split_once("`, expected ") else {
            continue;
        };
        let names = expected.split('`').skip(1).step_by(2);
        if let Some(near) = crate::input::nearest(name, names) {
            return format!("{what} `{name}`; did you mean `{near}`?");
        }
    }
    message.to_owned()
}

/// A deserialization message with the words of YAML for the Rust types it names: "expected
/// an integer" for `expected i32`, "an object" for `struct ClusterProfile`, "a list" for
/// "a sequence".
pub(crate) fn plain_types(message: &str) -> String {
    // Signed types: a range nobody meets in a manifest. Unsigned: a range a port or count
    // may overflow, so it is said.
    const INTEGERS: [(&str, &str); 10] = [
        ("i8", "an integer"),
        ("i16", "an integer"),
        ("i32", "an integer"),
        ("i64", "an integer"),
        ("isize", "an integer"),
        ("u8", "an integer from 0 to 255"),
        ("u16", "an integer from 0 to 65535"),
        ("u32", "an integer from 0 to 4294967295"),
        ("u64", "an integer of 0 or more"),
        ("usize", "an integer of 0 or more"),
    ];
    let Some((head, expected)) = message.split_once("expected ") else {
        return message.to_owned();
    };
    let word_end = expected.find([',', ' ']).unwrap_or(expected.len());
    let (word, rest) = expected.split_at(word_end);
    let plain = if let Some((_, integer)) = INTEGERS.iter().find(|(rust, _)| *rust == word) {
        format!("{integer}{rest}")
    } else if word == "struct" {
        // `struct Name`, and whatever follows the name.
        let name = rest.trim_start();
        let name_end = name.find([',', ' ']).unwrap_or(name.len());
        format!("an object{}", &name[name_end..])
    } else if let Some(rest) = expected.strip_prefix("a sequence") {
        format!("a list{rest}")
    } else {
        expected.to_owned()
    };
    format!("{head}expected {plain}")
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::plain_types;

    #[test]
    fn deserialization_messages_name_yaml_types() {
        for (raw, plain) in [
            (
                "invalid type: string \"one\", expected i32",
                "invalid type: string \"one\", expected an integer",
            ),
            (
                "invalid value: integer `-1`, expected u16",
                "invalid value: integer `-1`, expected an integer from 0 to 65535",
            ),
            (
                "invalid type: integer `5`, expected struct ClusterProfile",
                "invalid type: integer `5`, expected an object",
            ),
            (
                "invalid type: string \"x\", expected a sequence",
                "invalid type: string \"x\", expected a list",
            ),
            (
                "invalid type: map, expected a string",
                "invalid type: map, expected a string",
            ),
            ("missing field `name`", "missing field `name`"),
        ] {
            assert_eq!(plain_types(raw), plain);
        }
    }
}
