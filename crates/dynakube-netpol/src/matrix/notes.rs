//! Remarks on the matrix and the policies: what they assume, cannot express, or had to widen.

use std::collections::BTreeSet;
use std::fmt;

use super::{Flow, RowId};
use crate::advice::{Cause, Neutral, Setting, Words};

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Something the reviewer should know.
    Info,
    /// Something that makes the policies broader or weaker than the matrix; fix the input.
    Warning,
}

/// A remark on the generated policies, printed on stderr and in the output header.
///
/// Notes sort by level, then by their rows in the table's order, then by text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    /// How much it matters.
    pub level: Level,
    /// The reference rows it concerns.
    pub refs: BTreeSet<RowId>,
    /// The remark, one sentence or two.
    pub text: String,
    /// What caused it, when something did: a resource's field, a field of the cluster
    /// profile, or a setting.
    pub cause: Option<Cause>,
}

impl Note {
    /// A note about `refs`.
    pub fn new(level: Level, refs: &[RowId], text: impl Into<String>) -> Self {
        Note {
            level,
            refs: refs.iter().copied().collect(),
            text: text.into(),
            cause: None,
        }
    }

    /// The same note, caused by a resource's field (`DynaKube dynatrace/dk spec.kspm`), or
    /// by a field of the cluster profile when `field` starts with `cluster profile `.
    pub(crate) fn at(self, field: impl Into<String>) -> Self {
        let field = field.into();
        let cause = match field.strip_prefix(PROFILE) {
            Some(path) => Cause::Profile(path.to_owned()),
            None => Cause::Resource(field),
        };
        Note {
            cause: Some(cause),
            ..self
        }
    }

    /// The same note, caused by a setting.
    pub(crate) fn by(self, setting: Setting) -> Self {
        Note {
            cause: Some(Cause::Setting(setting)),
            ..self
        }
    }

    /// The note in `words`: `warning (E2) [--fqdn-fallback]: text`.
    pub fn to_string_in(&self, words: &dyn Words) -> String {
        let level = match self.level {
            Level::Info => "note",
            Level::Warning => "warning",
        };
        let mut out = level.to_string();
        if !self.refs.is_empty() {
            out.push_str(&format!(" ({})", super::rows::joined(&self.refs)));
        }
        if let Some(cause) = &self.cause {
            out.push_str(&format!(
                " [{}]",
                crate::values::escape(&words.cause(cause))
            ));
        }
        out.push_str(&format!(": {}", crate::values::escape(&self.text)));
        out
    }

    /// An informational note about one flow: it concerns the flow's reference rows.
    pub(crate) fn on_flow(flow: &Flow, text: impl Into<String>) -> Self {
        Note {
            level: Level::Info,
            refs: flow.refs.clone(),
            text: text.into(),
            cause: None,
        }
    }
}

/// How a cause in the cluster profile is given to [`Note::at`].
const PROFILE: &str = "cluster profile ";

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_in(&Neutral))
    }
}
